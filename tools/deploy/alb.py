"""The ALB side of a canary release: the listener's weights and the canary target group's numbers in
CloudWatch. Terraform owns the listener and both groups and ignores the weights; their ARNs and CloudWatch
dimensions are the environment's ``[terraform_outputs]``."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from manifests_py.config import TerraformOutputs
from tools.deploy import DeployError, say, sh
from tools.deploy.canary import Window

_METRICS = (
    ("requests", "RequestCount", "Sum"),
    ("errors", "HTTPCode_Target_5XX_Count", "Sum"),
    ("p99", "TargetResponseTime", "p99"),
)


@dataclass
class WeightedListener:
    """The HTTPS listener weighing the stable and the canary target group, and the canary group's request
    count, 5xx count and p99 response time since the window opened. CloudWatch publishes by the minute, a
    minute or two late: the window starts at the minute it opened in."""

    outputs: TerraformOutputs  # a binding exposure's: the model requires the listener and both groups
    start: datetime = field(default_factory=lambda: datetime.now(UTC))

    def _aws(self, *arguments: str, what: str) -> str:
        region = ["--region", self.outputs.region, "--output", "json"]
        return sh(["aws", *arguments, *region], what=what, timeout=60).stdout

    def shift(self, canary_percent: int) -> None:
        groups = [
            {"TargetGroupArn": self.outputs.target_group_arn, "Weight": 100 - canary_percent},
            {"TargetGroupArn": self.outputs.canary_target_group_arn, "Weight": canary_percent},
        ]
        actions = json.dumps([{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}])
        weights = f"stable {100 - canary_percent} / canary {canary_percent}"
        listener = f"--listener-arn={self.outputs.https_listener_arn}"
        self._aws(
            "elbv2", "modify-listener", listener, "--default-actions", actions, what=f"weights {weights}"
        )
        say(f"listener weights: {weights}")

    def open_window(self) -> None:
        self.start = datetime.now(UTC).replace(second=0, microsecond=0)

    def read(self) -> Window:
        end = datetime.now(UTC)
        period = 60 * max(1, math.ceil((end - self.start).total_seconds() / 60))
        dimensions = [
            {"Name": "TargetGroup", "Value": self.outputs.canary_target_group_arn_suffix},
            {"Name": "LoadBalancer", "Value": self.outputs.alb_arn_suffix},
        ]
        metric = {"Namespace": "AWS/ApplicationELB", "Dimensions": dimensions}
        stats = [
            {
                "Id": key,
                "MetricStat": {"Metric": {**metric, "MetricName": name}, "Period": period, "Stat": stat},
            }
            for key, name, stat in _METRICS
        ]
        queries = ["--metric-data-queries", json.dumps(stats)]
        window = ["--start-time", self.start.isoformat(), "--end-time", end.isoformat()]
        read = self._aws("cloudwatch", "get-metric-data", *window, *queries, what="reading CloudWatch")
        try:
            values = {result["Id"]: result["Values"] for result in json.loads(read)["MetricDataResults"]}
            p99 = values["p99"]
            return Window(
                requests=round(sum(values["requests"])),
                errors=round(sum(values["errors"])),
                p99_ms=max(p99) * 1000 if p99 else None,
            )
        except (ValueError, KeyError, TypeError) as error:
            msg = f"unexpected get-metric-data answer ({error!r}): {read[:300]}"
            raise DeployError(msg) from error
