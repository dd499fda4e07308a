"""Synthesis end to end: config -> construct -> objects -> strict validation -> staged files -> dist/.

Nothing reaches the output directory unless every step succeeded; a failure leaves it untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cdk8s

from manifests_py._pod import MANAGED_BY
from manifests_py.config import (
    ENVIRONMENTS_DIR,
    ConfigError,
    EnvironmentConfig,
    load_environment,
    project_version,
)
from manifests_py.deployer_access import add_deployer_access
from manifests_py.image import ImageReference, ImageReferenceError, parse_image_reference
from manifests_py.karpenter import KarpenterNodePool
from manifests_py.knative_like import KnativeLikeService
from manifests_py.output import publish, staging_directory, write_folder
from manifests_py.portability import PortabilityWarning
from manifests_py.renderings import RENDERINGS, Layer, Rendering, node_pool, service_props
from manifests_py.service_card import REPO_ROOT, ServiceCard, ServiceCardError, load_service_card
from manifests_py.validation import CrdSchemaMissingError, kubernetes_versions, validate_objects

__all__ = ["RenderedFolder", "SynthesisError", "render", "select_renderings", "synthesize"]


class SynthesisError(ValueError):
    """Synthesis refused to write; ``problems`` says why, one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, kw_only=True)
class RenderedFolder:
    rendering: Rendering
    config: EnvironmentConfig
    objects: list[dict[str, Any]]
    warnings: tuple[PortabilityWarning, ...]

    @property
    def header(self) -> str:
        source = (
            self.config.source.relative_to(REPO_ROOT)
            if self.config.source.is_relative_to(REPO_ROOT)
            else self.config.source
        )
        if self.rendering.layer is Layer.CLUSTER:
            what = (
                "Synthesized by manifests_py: node capacity (Karpenter) and the deploy role's RBAC "
                f"from {source}.\n"
                f"A cluster admin applies it (kubectl apply -f dist/{self.rendering.folder}/), "
                "not the service's deploy.\n"
            )
        else:
            what = f"Synthesized by manifests_py for target {self.rendering.target.value} from {source}.\n"
        return f"{what}Do not edit: change the config or the construct, then run `make synth`."


def select_renderings(environments: Sequence[str] | None) -> tuple[Rendering, ...]:
    if not environments:
        return RENDERINGS
    known = {r.environment for r in RENDERINGS}
    unknown = sorted(set(environments) - known)
    if unknown:
        msg = f"environment {', '.join(unknown)}: not rendered (known: {', '.join(sorted(known))})"
        raise SynthesisError([msg])
    return tuple(r for r in RENDERINGS if r.environment in environments)


def _override(image: str | None, config: EnvironmentConfig) -> ImageReference | None:
    if image is None:
        return None
    reference = parse_image_reference(image, field="IMAGE")
    if reference.repository != config.image.repository:
        msg = (
            f"IMAGE: repository {reference.repository!r} is not environment {config.name}'s "
            f"{config.image.repository!r} ({config.source.name}: terraform_outputs.ecr_repository_url); "
            "synthesize that environment alone (ENVIRONMENT=...)"
        )
        raise ImageReferenceError(msg)
    return reference


def render(
    renderings: Sequence[Rendering],
    *,
    card: ServiceCard,
    configs: dict[str, EnvironmentConfig],
    image: str | None = None,
) -> list[RenderedFolder]:
    app = cdk8s.App()
    rendered = []
    for rendering in renderings:
        config = configs[rendering.environment]
        chart = cdk8s.Chart(app, rendering.folder, disable_resource_name_hashes=True)
        warnings: tuple[PortabilityWarning, ...] = ()
        if rendering.layer is Layer.CLUSTER:
            labels = {"app.kubernetes.io/part-of": card.name, "app.kubernetes.io/managed-by": MANAGED_BY}
            # The same cost-allocation tags infra/ puts on everything it creates.
            tags = {"Service": card.name, "Environment": config.name}
            KarpenterNodePool(chart, card.name, pool=node_pool(card, config), labels=labels, tags=tags)
            # The deployer's Role is derived from what the deploy applies: the service of this environment.
            service = cdk8s.Chart(cdk8s.App(), "applied", disable_resource_name_hashes=True)
            KnativeLikeService(service, card.name, props=service_props(card, config, target=rendering.target))
            add_deployer_access(chart, card=card, labels=labels, applied=service.to_json())
        else:
            props = service_props(card, config, target=rendering.target, image=_override(image, config))
            warnings = KnativeLikeService(chart, card.name, props=props).warnings
        rendered.append(
            RenderedFolder(
                rendering=rendering, config=config, objects=list(chart.to_json()), warnings=warnings
            )
        )
    return rendered


def _load_configs(names: Iterable[str], default_tag: str, directory: Path) -> dict[str, EnvironmentConfig]:
    """Every environment's config, or one ConfigError listing every problem in all of them."""
    configs: dict[str, EnvironmentConfig] = {}
    problems: list[str] = []
    for name in names:
        try:
            configs[name] = load_environment(name, directory=directory, default_tag=default_tag)
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    return configs


def synthesize(
    out_dir: Path,
    *,
    environments: Sequence[str] | None = None,
    image: str | None = None,
    environments_dir: Path = ENVIRONMENTS_DIR,
) -> list[RenderedFolder]:
    """Render, validate and publish; raises SynthesisError (dist/ untouched) on any problem."""
    renderings = select_renderings(environments)
    try:
        card = load_service_card()
        names = dict.fromkeys(r.environment for r in renderings)
        configs = _load_configs(names, project_version(), environments_dir)
        rendered = render(renderings, card=card, configs=configs, image=image)
        versions = kubernetes_versions()
        problems = [p for folder in rendered for p in validate_objects(folder.objects, versions=versions)]
    except (ConfigError, ServiceCardError, ImageReferenceError, CrdSchemaMissingError) as error:
        raise SynthesisError(getattr(error, "problems", None) or [str(error)]) from error
    if problems:
        raise SynthesisError([f"invalid object {problem}" for problem in problems])
    with staging_directory(out_dir) as staging:
        for folder in rendered:
            write_folder(staging / folder.rendering.folder, folder.objects, header=folder.header)
        publish(staging, out_dir, [r.folder for r in renderings], whole=renderings == RENDERINGS)
    return rendered
