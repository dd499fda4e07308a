"""terraform-compliance features that hold a fact of the service card, generated from it.

terraform-compliance cannot read api/service.json, and the readiness path must not be retyped into a
feature. So load_balancer.feature is rendered from the card here and committed (the CI plan job runs the
committed features as they are); the terraform-compliance gate fails when the committed file differs
from a fresh rendering, the way `make synth-check` treats dist/ (that gate is the one check).

    python -m policies.features  # rewrite the generated features (make policy-features)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from api.service_card import SERVICE_CARD_PATH, load_service_card
from policies.plan_meaning import ALLOWED
from policies.workspace import FEATURES_DIR
from tools.common import write_atomic

GENERATED = FEATURES_DIR / "load_balancer.feature"
# Its template, beside this module: {readiness} is the card's readiness path and {tls_policies} the
# allowlist of policies/allowlists.toml.
TEMPLATE = Path(__file__).with_name("load_balancer.feature.template")


def render(card_path: Path) -> str:
    """The generated feature, from the service card at card_path."""
    readiness = load_service_card(card_path).paths.readiness
    return TEMPLATE.read_text(encoding="utf-8").format(
        readiness=readiness, tls_policies="|".join(ALLOWED["tls_policies"])
    )


def stale(card_path: Path) -> bool:
    """The committed feature differs from a fresh rendering (or is missing)."""
    return not GENERATED.is_file() or GENERATED.read_text(encoding="utf-8") != render(card_path)


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args(argv)
    write_atomic(GENERATED, render(SERVICE_CARD_PATH))
    sys.stdout.write(f"wrote policies/terraform/{GENERATED.name}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
