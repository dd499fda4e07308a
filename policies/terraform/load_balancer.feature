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
