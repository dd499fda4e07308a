"""The ALB side of a canary release: the listener's weights and the canary target group's numbers in
CloudWatch. Terraform owns the listener and both groups and ignores the weights; their ARNs and CloudWatch
dimensions are the environment's ``[terraform_outputs]``."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from manifests_py.config import TerraformOutputs
from tools.deploy import DeployError, say, sh
from tools.deploy.canary import Window

# CloudWatch publishes the load balancer's minutes one to three minutes late; past this, judge what is there.
SETTLE_TIMEOUT_SECONDS = 240
_METRICS = (
    ("requests", "RequestCount", "Sum"),
    ("errors", "HTTPCode_Target_5XX_Count", "Sum"),
    # A canary that crashes or refuses connections answers nothing: the load balancer answers 502/503 for
    # it, counted per target group only as connection errors.
    ("connection_errors", "TargetConnectionErrorCount", "Sum"),
    ("p99", "TargetResponseTime", "p99"),
)


class _Series(NamedTuple):
    values: list[float]
    timestamps: list[datetime]


@dataclass
class WeightedListener:
    """The HTTPS listener weighing the stable and the canary target group, and the canary group's request
    count, 5xx count and p99 response time since the window opened. CloudWatch publishes by the minute, a
    minute or two late: the window starts at the minute it opened in."""

    outputs: TerraformOutputs  # a binding exposure's: the model requires the listener and both groups
    start: datetime = field(default_factory=lambda: datetime.now(UTC))
    _awaited: datetime | None = field(default=None, init=False)  # the minute a step's end waits for
    _settle_by: float = field(default=0.0, init=False)

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
        self._awaited = None

    def settled(self) -> bool:
        """Whether CloudWatch has published the minute before the step's time ran out (it does one to three
        minutes late), or waiting for it has lasted SETTLE_TIMEOUT_SECONDS. The load balancer's own request
        count tells: the stable's traffic keeps it published when the canary group's has no datapoint."""
        if self._awaited is None:  # the step's time has just run out
            self._awaited = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
            self._settle_by = time.monotonic() + SETTLE_TIMEOUT_SECONDS
        if self._awaited < self.start:
            return True  # the window has no full minute to wait for
        latest = self._latest_minute()
        if latest is not None and latest >= self._awaited:
            return True
        if time.monotonic() > self._settle_by:
            say(f"no load balancer data for {self._awaited:%H:%M} UTC in CloudWatch yet: judging what it has")
            return True
        return False

    def _latest_minute(self) -> datetime | None:
        query = [self._query("minutes", "RequestCount", "Sum", period=60, group=False)]
        return max(self._metric_data(query, datetime.now(UTC))["minutes"].timestamps, default=None)

    def read(self) -> Window:
        end = datetime.now(UTC)
        period = 60 * max(1, math.ceil((end - self.start).total_seconds() / 60))
        results = self._metric_data([self._query(*metric, period=period) for metric in _METRICS], end)
        p99 = results["p99"].values
        return Window(
            requests=round(sum(results["requests"].values)),
            errors=round(sum(results["errors"].values) + sum(results["connection_errors"].values)),
            p99_ms=max(p99) * 1000 if p99 else None,
        )

    def _query(self, key: str, name: str, stat: str, *, period: int, group: bool = True) -> dict[str, object]:
        """A query of the canary group's metric (``group``), or of the whole load balancer's."""
        dimensions = [{"Name": "LoadBalancer", "Value": self.outputs.alb_arn_suffix}]
        if group:
            dimensions.insert(
                0, {"Name": "TargetGroup", "Value": self.outputs.canary_target_group_arn_suffix}
            )
        metric = {"Namespace": "AWS/ApplicationELB", "MetricName": name, "Dimensions": dimensions}
        return {"Id": key, "MetricStat": {"Metric": metric, "Period": period, "Stat": stat}}

    def _metric_data(self, queries: list[dict[str, object]], end: datetime) -> dict[str, _Series]:
        """Each query's series by its Id, from ``open_window`` to ``end``."""
        window = ["--start-time", self.start.isoformat(), "--end-time", end.isoformat()]
        queried = ["--metric-data-queries", json.dumps(queries)]
        read = self._aws("cloudwatch", "get-metric-data", *window, *queried, what="reading CloudWatch")
        try:
            series = {
                result["Id"]: _Series(
                    [float(value) for value in result["Values"]],
                    [datetime.fromisoformat(stamp) for stamp in result["Timestamps"]],
                )
                for result in json.loads(read)["MetricDataResults"]
            }
            return {str(query["Id"]): series[str(query["Id"])] for query in queries}
        except (ValueError, KeyError, TypeError) as error:
            msg = f"unexpected get-metric-data answer ({error!r}): {read[:300]}"
            raise DeployError(msg) from error
