"""The Container Insights log groups and outage alarms, read from the offline plan.

Each check is a function of the plan; every test also runs it on a copy of the plan broken in the one
way the check exists to catch, so a check that cannot fail fails here.
"""

from __future__ import annotations

import pytest

from tests.support import sides

pytestmark = [pytest.mark.slow, pytest.mark.system]

ALARMS = "module.observability.aws_cloudwatch_metric_alarm"
CONTAINER_INSIGHTS_LOGS = ("application", "dataplane", "host", "performance")


def _set_after(plan: dict, address: str, **values: object) -> None:
    sides.after(plan, address).update(values)


# ---------------------------------------------------------------- add-ons
# Which add-ons dist/ needs (and the VPC CNI's enforcement) is a contract: tests/contracts/.


def check_container_insights_waits_for_its_log_groups(plan: dict) -> None:
    addon = sides.resource_config(plan, "eks", "aws_eks_addon.cloudwatch_observability")
    assert "var.container_insights_log_group_arns" in addon.get("depends_on", []), (
        "the CloudWatch add-on must wait for the log groups"
    )
    wired = sides.wired(plan, "eks", "container_insights_log_group_arns")
    assert "module.observability.container_insights_log_group_arns" in wired, (
        "the add-on must wait for the observability module's log groups"
    )


def test_the_cloudwatch_add_on_waits_for_the_encrypted_log_groups(plans):
    check_container_insights_waits_for_its_log_groups(plans["root"])


def test_the_wait_check_fails_without_the_dependency(plans):
    def drop(plan):
        sides.resource_config(plan, "eks", "aws_eks_addon.cloudwatch_observability")["depends_on"] = []

    with pytest.raises(AssertionError):
        check_container_insights_waits_for_its_log_groups(sides.broken(plans["root"], drop))


# ---------------------------------------------------------------- alarms


def check_outage_alarms(plan: dict) -> None:
    min_replicas = plan["variables"]["min_replicas"]["value"]
    objective = plan["variables"]["latency_objective_p99_seconds"]["value"]
    expected = {
        "healthy_hosts_low": ("HealthyHostCount", "LessThanThreshold", min_replicas, "breaching"),
        "elb_5xx": ("HTTPCode_ELB_5XX_Count", "GreaterThanThreshold", None, "notBreaching"),
        "p99_latency": ("TargetResponseTime", "GreaterThanThreshold", objective, "notBreaching"),
    }
    dimensions = {
        "healthy_hosts_low": "local.target_dimensions",
        "elb_5xx": "local.load_balancer_dimensions",
        "p99_latency": "local.target_dimensions",
    }
    for name, (metric, comparison, threshold, missing) in expected.items():
        change = sides.change(plan, f"{ALARMS}.{name}")
        after = change["after"]
        assert after["namespace"] == "AWS/ApplicationELB", name
        assert after["metric_name"] == metric, name
        assert after["comparison_operator"] == comparison, name
        if threshold is not None:
            assert after["threshold"] == threshold, f"{name}: {after['threshold']} != {threshold}"
        assert after["treat_missing_data"] == missing, name
        # Dimensions and the topic are ARNs known only after apply: the plan shows where they come from.
        assert change["after_unknown"].get("dimensions") is True, f"{name} has no load balancer dimensions"
        assert change["after_unknown"].get("alarm_actions") is True, f"{name} notifies nothing"
        expressions = sides.resource_config(plan, "observability", f"aws_cloudwatch_metric_alarm.{name}")[
            "expressions"
        ]
        assert dimensions[name] in sides.references(expressions["dimensions"]), name
        assert "local.actions" in sides.references(expressions["alarm_actions"]), name
    assert sides.change(plan, f"{ALARMS}.p99_latency")["after"]["extended_statistic"] == "p99"
    call = sides.module_call(plan, "observability")["expressions"]
    assert "var.min_replicas" in sides.references(call["min_healthy_targets"])
    topic = sides.resource_config(plan, "observability", "aws_sns_topic.alarms")
    assert topic["address"] == "aws_sns_topic.alarms"


def test_outage_alarms_watch_the_load_balancer_and_notify_the_topic(plans):
    check_outage_alarms(plans["root"])


@pytest.mark.parametrize(
    "break_it",
    [
        lambda p: _set_after(p, f"{ALARMS}.healthy_hosts_low", treat_missing_data="notBreaching"),
        lambda p: _set_after(p, f"{ALARMS}.healthy_hosts_low", threshold=0),
        lambda p: _set_after(p, f"{ALARMS}.elb_5xx", metric_name="HTTPCode_Target_5XX_Count"),
        lambda p: _set_after(p, f"{ALARMS}.p99_latency", extended_statistic=None),
        lambda p: sides.change(p, f"{ALARMS}.elb_5xx")["after_unknown"].pop("alarm_actions"),
    ],
    ids=["missing-data-ok", "threshold-zero", "target-5xx", "not-p99", "no-action"],
)
def test_the_alarm_check_fails_on_a_broken_plan(plans, break_it):
    with pytest.raises(AssertionError):
        check_outage_alarms(sides.broken(plans["root"], break_it))


def check_container_insights_log_groups(plan: dict) -> None:
    cluster = sides.change(plan, "module.eks.aws_eks_cluster.this")["after"]["name"]
    for log in CONTAINER_INSIGHTS_LOGS:
        group = f'module.observability.aws_cloudwatch_log_group.container_insights["{log}"]'
        change = sides.change(plan, group)
        assert change["after"]["name"] == f"/aws/containerinsights/{cluster}/{log}"
        assert (
            change["after"]["retention_in_days"]
            == plan["variables"]["container_insights_log_retention_days"]["value"]
        )
        assert change["after"]["retention_in_days"] > 0, f"{log} is kept forever"
        assert change["after_unknown"].get("kms_key_id") is True, f"{log} is not KMS-encrypted"
    expressions = sides.resource_config(plan, "observability", "aws_cloudwatch_log_group.container_insights")[
        "expressions"
    ]
    assert "module.logs_key.arn" in sides.references(expressions["kms_key_id"])


def test_container_insights_log_groups_are_encrypted_with_a_retention(plans):
    check_container_insights_log_groups(plans["root"])


@pytest.mark.parametrize(
    "break_it",
    [
        lambda p: _set_after(
            p, 'module.observability.aws_cloudwatch_log_group.container_insights["host"]', retention_in_days=0
        ),
        lambda p: sides.change(
            p, 'module.observability.aws_cloudwatch_log_group.container_insights["performance"]'
        )["after_unknown"].pop("kms_key_id"),
    ],
    ids=["kept-forever", "unencrypted"],
)
def test_the_log_group_check_fails_on_a_broken_plan(plans, break_it):
    with pytest.raises(AssertionError):
        check_container_insights_log_groups(sides.broken(plans["root"], break_it))
