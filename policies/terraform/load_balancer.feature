# Generated from api/service.json by `make policy-features` (python -m policies.features): do not edit.
# The readiness path below is the service card's; change the card, then regenerate.
#
# The ALB is the service's only door (ARCHITECTURE.md): clients speak TLS 1.3-capable HTTPS to it, plain
# HTTP only ever answers with a redirect to HTTPS, and the target group sends traffic only to pods whose
# readiness endpoint answers. The TLS policies are named one by one (policies/allowlists.toml): a name's
# prefix is not its meaning (ELBSecurityPolicy-TLS13-1-0-2021-06 also negotiates TLS 1.0).
Feature: HTTPS at the load balancer

  @noskip
  Scenario: HTTPS listeners negotiate with a TLS 1.3 policy
    Given I have aws_lb_listener defined
    When its protocol is HTTPS
    Then it must contain ssl_policy
    And its value must match the "^(ELBSecurityPolicy-TLS13-1-2-2021-06|ELBSecurityPolicy-TLS13-1-2-Res-2021-06|ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06|ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06|ELBSecurityPolicy-TLS13-1-3-2021-06|ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04|ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04|ELBSecurityPolicy-TLS13-1-2-Ext0-FIPS-2023-04|ELBSecurityPolicy-TLS13-1-2-Ext1-FIPS-2023-04|ELBSecurityPolicy-TLS13-1-2-Ext2-FIPS-2023-04|ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04|ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09|ELBSecurityPolicy-TLS13-1-2-FIPS-PQ-2025-09)$" regex

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
  Scenario: Target groups health-check the readiness path (/ready)
    Given I have aws_lb_target_group defined
    Then it must contain health_check
    And it must contain path
    And its value must be /ready

  @noskip
  Scenario: Target group health checks are enabled
    Given I have aws_lb_target_group defined
    Then it must contain health_check
    And it must contain enabled
    And its value must be true
