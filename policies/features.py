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

# Generated feature -> its template beside this module; {readiness} is the card's readiness path and
# {tls_policies} the allowlist of policies/allowlists.toml.
TEMPLATES = {"load_balancer.feature": Path(__file__).with_name("load_balancer.feature.template")}


def render(card_path: Path) -> dict[str, str]:
    """File name -> content, from the service card at card_path."""
    facts = {"readiness": load_service_card(card_path).paths.readiness}
    facts["tls_policies"] = "|".join(ALLOWED["tls_policies"])
    return {name: path.read_text(encoding="utf-8").format(**facts) for name, path in TEMPLATES.items()}


def stale(card_path: Path) -> list[str]:
    """The generated features that differ from a fresh rendering (missing ones included)."""
    return [
        name
        for name, text in render(card_path).items()
        if not (FEATURES_DIR / name).is_file() or (FEATURES_DIR / name).read_text(encoding="utf-8") != text
    ]


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args(argv)
    for name, text in render(SERVICE_CARD_PATH).items():
        write_atomic(FEATURES_DIR / name, text)
        sys.stdout.write(f"wrote policies/terraform/{name}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
