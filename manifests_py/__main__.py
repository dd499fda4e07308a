"""Run the cdk8s app: ``python -m manifests_py [--out DIR] [--environment NAME] [--image REF]``."""

import os
import sys

from manifests_py._node_runtime import silence_jsii_node_banners

# cdk8s starts its Node.js runtime when first imported; its environment must be settled before that.
silence_jsii_node_banners(os.environ)

from manifests_py.cli import main  # noqa: E402 - must follow the environment fix above

sys.exit(main())
