"""The ALB side of a canary release: the listener's weights (the router) and each target group's numbers in
CloudWatch (the analysis's metrics). Terraform owns the listener and both groups and ignores the weights."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tools.deploy import DeployError, say, sh
from tools.deploy.canary import Window


@dataclass(frozen=True)
class WeightedTargets:
    """The HTTPS listener and the two target groups it forwards to (Terraform outputs)."""

    listener_arn: str
    stable_target_group_arn: str
    canary_target_group_arn: str

    @property
    def load_balancer_dimension(self) -> str:
        """CloudWatch's LoadBalancer dimension: app/NAME/ID, from listener/app/NAME/ID/LISTENER-ID."""
        return self.listener_arn.split(":listener/", 1)[1].rsplit("/", 1)[0]

    @property
    def canary_dimension(self) -> str:
        """CloudWatch's TargetGroup dimension: targetgroup/NAME/ID."""
        return self.canary_target_group_arn.rsplit(":", 1)[1]


@dataclass
class ListenerWeights:
    targets: WeightedTargets
    region: str

    def shift(self, canary_percent: int) -> None:
        groups = [
            {"TargetGroupArn": self.targets.stable_target_group_arn, "Weight": 100 - canary_percent},
            {"TargetGroupArn": self.targets.canary_target_group_arn, "Weight": canary_percent},
        ]
        actions = [{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]
        what = f"setting the listener's weights to stable {100 - canary_percent} / canary {canary_percent}"
        command = ["aws", "elbv2", "modify-listener", "--region", self.region]
        command += ["--listener-arn", self.targets.listener_arn, "--default-actions", json.dumps(actions)]
        sh([*command, "--output", "json"], what=what, timeout=60)
        say(f"listener weights: stable {100 - canary_percent}, canary {canary_percent}")


_METRICS = (("requests", "RequestCount", "Sum"), ("errors", "HTTPCode_Target_5XX_Count", "Sum"))


@dataclass
class TargetGroupMetrics:
    """The canary target group's request count, 5xx count and p99 response time since the window opened.
    CloudWatch publishes by the minute, a minute or two late: the window starts at the minute it opened in."""

    targets: WeightedTargets
    region: str
    start: datetime = field(default_factory=lambda: datetime.now(UTC))

    def open_window(self) -> None:
        self.start = datetime.now(UTC).replace(second=0, microsecond=0)

    def read(self) -> Window:
        end = datetime.now(UTC)
        period = 60 * max(1, math.ceil((end - self.start).total_seconds() / 60))
        dimensions = [
            {"Name": "TargetGroup", "Value": self.targets.canary_dimension},
            {"Name": "LoadBalancer", "Value": self.targets.load_balancer_dimension},
        ]
        metrics = [*_METRICS, ("p99", "TargetResponseTime", "p99")]
        queries = [
            {
                "Id": key,
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/ApplicationELB",
                        "MetricName": name,
                        "Dimensions": dimensions,
                    },
                    "Period": period,
                    "Stat": stat,
                },
            }
            for key, name, stat in metrics
        ]
        command = ["aws", "cloudwatch", "get-metric-data", "--region", self.region, "--output", "json"]
        command += ["--start-time", self.start.isoformat(), "--end-time", end.isoformat()]
        read = sh(
            [*command, "--metric-data-queries", json.dumps(queries)], what="reading CloudWatch", timeout=60
        )
        try:
            values = {
                result["Id"]: result["Values"] for result in json.loads(read.stdout)["MetricDataResults"]
            }
            p99 = values["p99"]
            return Window(
                requests=round(sum(values["requests"])),
                errors=round(sum(values["errors"])),
                p99_ms=max(p99) * 1000 if p99 else None,
            )
        except (ValueError, KeyError, TypeError) as error:
            msg = f"unexpected get-metric-data answer ({error!r}): {read.stdout[:300]}"
            raise DeployError(msg) from error
