"""The Knative-like service construct: describe the service once, synthesize it for ``eks`` or ``knative``.

What a release needs from it is exported here: on EKS the ``stable`` and ``canary`` tracks (the ``track``
pod label) and the canary's object name; on Knative the revision name and the ``traffic`` split.
"""

from __future__ import annotations

from constructs import Construct

from manifests_py._eks import canary_name, render_eks
from manifests_py._knative import render_knative, revision_name, traffic_split
from manifests_py.portability import PortabilityWarning
from manifests_py.props import CANARY, STABLE, TRACK_LABEL, ServiceProps, Target

__all__ = [
    "CANARY",
    "STABLE",
    "TRACK_LABEL",
    "KnativeLikeService",
    "canary_name",
    "revision_name",
    "traffic_split",
]


class KnativeLikeService(Construct):
    """Every Kubernetes object the service needs on ``props.target``.

    ``warnings`` lists the settings the target cannot honour; callers report them at synth time.
    """

    def __init__(self, scope: Construct, id_: str, *, props: ServiceProps) -> None:
        super().__init__(scope, id_)
        self.props = props
        renderer = render_eks if props.target is Target.EKS else render_knative
        self.warnings: tuple[PortabilityWarning, ...] = tuple(renderer(self, props))
