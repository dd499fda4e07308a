"""terraform-compliance features that hold a fact of the service card, generated from it.

terraform-compliance cannot read api/service.json, and the readiness path must not be retyped into a
feature. So load_balancer.feature is rendered from the card here and committed (the CI plan job runs the
committed features as they are); the terraform-compliance gate fails when the committed file differs
from a fresh rendering, the way `make synth-check` treats dist/.

    python -m policies.features          # rewrite the generated features
    python -m policies.features --check  # exit 1 when one is stale
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from api.service_card import load_service_card
from policies.workspace import FEATURES_DIR, REPO_ROOT

GENERATED = ("load_balancer.feature",)
_TEMPLATE = """\
# Generated from api/service.json by `make policy-features` (python -m policies.features): do not edit.
# The readiness path below is the service card's; change the card, then regenerate.
#
# The ALB is the service's only door (ARCHITECTURE.md): clients speak TLS 1.3-capable HTTPS to it, plain
# HTTP only ever answers with a redirect to HTTPS, and the target group sends traffic only to pods whose
# readiness endpoint answers.
Feature: HTTPS at the load balancer

  @noskip
  Scenario: HTTPS listeners negotiate with a TLS 1.3 policy
    Given I have aws_lb_listener defined
    When its protocol is HTTPS
    Then it must contain ssl_policy
    And its value must match the "^ELBSecurityPolicy-TLS13-" regex

  Scenario: Plain-HTTP listeners have no action but a redirect
    Given I have aws_lb_listener defined
    When its protocol is not HTTPS
    Then it must contain default_action
    And it must contain type
    And its value must be redirect

  Scenario: Plain-HTTP listeners redirect to HTTPS
    Given I have aws_lb_listener defined
    When its protocol is not HTTPS
    Then it must contain default_action
    When its type is redirect
    Then it must contain redirect
    And it must contain protocol
    And its value must be HTTPS

  @noskip
  Scenario: Target groups health-check the readiness path ({readiness})
    Given I have aws_lb_target_group defined
    Then it must contain health_check
    And it must contain path
    And its value must be {readiness}

  @noskip
  Scenario: Target group health checks are enabled
    Given I have aws_lb_target_group defined
    Then it must contain health_check
    And it must contain enabled
    And its value must be true
"""


def render(card_path: Path) -> dict[str, str]:
    """File name -> content, from the service card at card_path."""
    card = load_service_card(card_path)
    return {"load_balancer.feature": _TEMPLATE.format(readiness=card.paths.readiness)}


def stale(card_path: Path, features_dir: Path = FEATURES_DIR) -> list[str]:
    """The generated features that differ from a fresh rendering (missing ones included)."""
    return [
        name
        for name, text in render(card_path).items()
        if not (features_dir / name).is_file() or (features_dir / name).read_text(encoding="utf-8") != text
    ]


def write(card_path: Path, features_dir: Path = FEATURES_DIR) -> list[str]:
    written = []
    for name, text in render(card_path).items():
        target = features_dir / name
        with tempfile.NamedTemporaryFile(
            "w", dir=features_dir, delete=False, suffix=".tmp", encoding="utf-8"
        ) as out:
            out.write(text)
        Path(out.name).replace(target)
        written.append(name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a generated feature is stale")
    args = parser.parse_args(argv)
    card = REPO_ROOT / "api" / "service.json"
    if args.check:
        names = stale(card)
        for name in names:
            sys.stderr.write(f"policies/terraform/{name} is stale: run `make policy-features`\n")
        return 1 if names else 0
    for name in write(card):
        sys.stdout.write(f"wrote policies/terraform/{name}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
