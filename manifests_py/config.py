"""Per-environment configuration (``manifests_py/environments/<name>.toml``), read once and validated.

The TOML tables are the construct props themselves (``[scale]`` is ``Autoscaling``, ``[resources]`` is
``Resources``, ``[node_pool]`` is ``NodePool``): pydantic validates the whole document in one pass and
reports every problem with its file and dotted field name; synthesis stops before anything is written.
Values under ``[terraform_outputs]`` are named exactly like the outputs of ``infra/`` so they can be
filled from ``terraform output``. The service's own settings (``[server]``) are judged by the service's
settings loader, never re-typed here.
"""

from __future__ import annotations

import json
import re
import tomllib
from enum import StrEnum
from ipaddress import IPv4Network
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import (
    Field,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from api.settings import ENV_PREFIX, Settings, SettingsError, load_settings
from manifests_py._model import Props, describe_errors, refuse, shaped
from manifests_py.image import Digest, ImageReference, Repository, Tag
from manifests_py.node_pool_props import NodePool
from manifests_py.props import Autoscaling, Resources, Traffic
from manifests_py.service_card import REPO_ROOT

__all__ = [
    "APP_SETTING_VARIABLES",
    "ENVIRONMENTS_DIR",
    "ConfigError",
    "EnvironmentConfig",
    "ExposureKind",
    "app_settings",
    "known_environments",
    "load_environment",
    "project_version",
]

ENVIRONMENTS_DIR = Path(__file__).resolve().parent / "environments"
PYPROJECT = REPO_ROOT / "pyproject.toml"

# The service's own settings that a deployment may set, by config field (see api/settings.py).
# PREDICTOR_PORT, _DRAIN_SECONDS and _KEEP_ALIVE_SECONDS come from the service card, PREDICTOR_HOST from
# the image; the app refuses any other PREDICTOR_ variable at start-up.
APP_SETTING_VARIABLES: dict[str, str] = {
    field: f"{ENV_PREFIX}{field.upper()}"
    for field in ("model_path", "max_batch_size", "max_body_bytes", "log_requests", "metrics_enabled")
    if field in Settings.__struct_fields__
}
_REGION = r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]"
# EKS cluster names and IAM role names, as AWS accepts them.
ClusterName = Annotated[str, shaped(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}", "an EKS cluster name")]
RoleName = Annotated[str, shaped(r"[\w+=,.@-]{1,64}", "an IAM role name (not an ARN)")]
Namespace = Annotated[str, shaped(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?", "a Kubernetes namespace")]


class ConfigError(ValueError):
    """Configuration that must not be synthesized; ``problems`` lists each one as ``file: field: reason``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class ExposureKind(StrEnum):
    TARGET_GROUP_BINDING = "target-group-binding"
    INGRESS = "ingress"
    NONE = "none"


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _arn_shape(field: str, partition: str, region: str, account: str) -> tuple[str, str]:
    p, r, a = (re.escape(part) for part in (partition, region, account))
    return {
        "target_group_arn": (
            rf"arn:{p}:elasticloadbalancing:{r}:{a}:targetgroup/[A-Za-z0-9-]{{1,32}}/[0-9a-f]{{16}}",
            (
                f"a target group ARN in {region}, account {account} "
                f"(arn:{partition}:elasticloadbalancing:{region}:{account}:targetgroup/NAME/ID)"
            ),
        ),
        "https_listener_arn": (
            rf"arn:{p}:elasticloadbalancing:{r}:{a}:listener/app/[A-Za-z0-9-]{{1,32}}(?:/[0-9a-f]{{16}}){{2}}",
            f"a load balancer listener ARN in {region}, account {account} (...:listener/app/NAME/ID/ID)",
        ),
        "certificate_arn": (
            rf"arn:{p}:acm:{r}:{a}:certificate/[0-9a-f]{{8}}(?:-[0-9a-f]{{4}}){{3}}-[0-9a-f]{{12}}",
            (
                f"an ACM certificate ARN in {region}, account {account} "
                f"(arn:{partition}:acm:{region}:{account}:certificate/UUID)"
            ),
        ),
    }[field.removeprefix("canary_")]


# Which Terraform output each exposure kind, or a [node_pool], needs. A binding needs the canary's group
# and the listener that weighs the two groups too: every release is a canary release.
_BINDING = ("exposure", ExposureKind.TARGET_GROUP_BINDING, "exposure.kind = 'target-group-binding'")
_NEEDED_BY = {
    "target_group_arn": _BINDING,
    "canary_target_group_arn": _BINDING,
    "https_listener_arn": _BINDING,
    "certificate_arn": ("exposure", ExposureKind.INGRESS, "exposure.kind = 'ingress'"),
    "cluster_name": ("node_pool", True, "[node_pool]"),
    "karpenter_node_role_name": ("node_pool", True, "[node_pool]"),
}


class TerraformOutputs(Props):
    """``[terraform_outputs]``: the outputs of ``infra/`` for this environment, under the same names."""

    account_id: Annotated[str, shaped(r"[0-9]{12}", "a 12-digit AWS account ID")]
    region: Annotated[str, shaped(_REGION, "an AWS region such as eu-west-1")]
    ecr_repository_url: Repository
    api_keys_secret_name: Annotated[
        str, shaped(r"[A-Za-z0-9/_+=.@-]{1,512}", "a Secrets Manager secret name")
    ]
    alb_subnet_cidrs: tuple[IPv4Network, ...] = Field(min_length=1)
    metrics_scraper_namespace: Namespace
    target_group_arn: str | None = Field(default=None, validate_default=True)
    canary_target_group_arn: str | None = Field(default=None, validate_default=True)
    https_listener_arn: str | None = Field(default=None, validate_default=True)
    certificate_arn: str | None = Field(default=None, validate_default=True)
    cluster_name: ClusterName | None = Field(default=None, validate_default=True)
    karpenter_node_role_name: RoleName | None = Field(default=None, validate_default=True)

    @field_validator(*_NEEDED_BY)
    @classmethod
    def _present_when_needed(cls, value: str | None, info: ValidationInfo) -> str | None:
        table, wanted, what = _NEEDED_BY[str(info.field_name)]
        if value is None and (info.context or {}).get(table) == wanted:
            msg = f"missing (needed for {what})"
            raise ValueError(msg)
        return value

    @field_validator("target_group_arn", "canary_target_group_arn", "https_listener_arn", "certificate_arn")
    @classmethod
    def _in_this_account(cls, value: str | None, info: ValidationInfo) -> str | None:
        account, region = info.data.get("account_id"), info.data.get("region")
        if value is None or not account or not region:
            return value
        pattern, hint = _arn_shape(str(info.field_name), _partition(region), region, account)
        if not re.fullmatch(pattern, value):
            msg = f"{value!r} is not {hint}"
            raise ValueError(msg)
        return value

    # The CloudWatch dimensions a release's analysis reads, named like the infra/ outputs that hold them.
    @property
    def alb_arn_suffix(self) -> str:
        return "/".join((self.https_listener_arn or "").split("/")[1:4])

    @property
    def canary_target_group_arn_suffix(self) -> str:
        return (self.canary_target_group_arn or "").rpartition(":")[2]

    @model_validator(mode="after")
    def _apart(self) -> Self:
        if self.canary_target_group_arn and self.canary_target_group_arn == self.target_group_arn:
            reason = "is target_group_arn: the canary needs a target group of its own to be weighted"
            raise refuse(reason=reason, field="canary_target_group_arn")
        return self


class ImageTable(Props):
    """``[image]``: unset, the tag is the project version; CI deploys with the pushed digest."""

    tag: Tag | None = None
    digest: Digest | None = None


class Exposure(Props):
    kind: ExposureKind


def app_settings(server: dict[str, Any]) -> dict[str, str]:
    """``[server]`` as the PREDICTOR_* variables the pod gets."""
    return {
        APP_SETTING_VARIABLES[field]: ("true" if value else "false")
        if isinstance(value, bool)
        else str(value)
        for field, value in server.items()
    }


class EnvironmentConfig(Props):
    terraform_outputs: TerraformOutputs
    image_table: ImageTable = Field(default_factory=ImageTable, alias="image")
    exposure: Exposure
    scale: Autoscaling
    resources: Resources
    traffic: Traffic
    # The service's own settings: checked by the service's settings loader (below), not re-typed here.
    server: dict[str, Any] = Field(default_factory=dict)
    # None when the environment has no [node_pool] (its cluster's capacity is managed elsewhere).
    node_pool: NodePool | None = None
    _name: str = PrivateAttr("")
    _source: Path = PrivateAttr(Path())
    _image: ImageReference | None = PrivateAttr(None)

    @field_validator("server")
    @classmethod
    def _accepted_by_the_service(cls, server: dict[str, Any]) -> dict[str, Any]:
        for field in server:
            if field not in APP_SETTING_VARIABLES:
                raise refuse(reason=f"unknown field (known: {', '.join(APP_SETTING_VARIABLES)})", field=field)
        model_path = server.get("model_path")
        if model_path is not None and not str(model_path).startswith("/"):
            raise refuse(reason=f"{model_path!r} is not an absolute path", field="model_path")
        # The model path names a file inside the image, which the loader cannot see from here.
        environment = app_settings({k: v for k, v in server.items() if k != "model_path"})
        try:
            load_settings(environment)
        except SettingsError as error:
            field = next(
                f for f, variable in APP_SETTING_VARIABLES.items() if str(error).startswith(variable)
            )
            raise refuse(reason=f"the service refuses {error}", field=field) from error
        return server

    @model_validator(mode="after")
    def _resolve(self, info: ValidationInfo) -> Self:
        context = info.context or {}
        self._name, self._source = context.get("name", ""), context.get("source", Path())
        tag = self.image_table.tag or context.get("default_tag")
        outputs = self.terraform_outputs
        self._image = ImageReference(
            repository=outputs.ecr_repository_url, tag=tag, digest=self.image_table.digest
        )
        if self.node_pool is not None:
            self.node_pool._cluster_name = outputs.cluster_name or ""  # noqa: SLF001 - set once, here
            self.node_pool._node_role_name = outputs.karpenter_node_role_name or ""  # noqa: SLF001 - idem
        return self

    @property
    def name(self) -> str:
        return self._name

    @property
    def source(self) -> Path:
        return self._source

    @property
    def image(self) -> ImageReference:
        assert self._image is not None  # noqa: S101 - set by the validator above
        return self._image


def project_version(pyproject: Path = PYPROJECT) -> str:
    """The release the committed manifests point at: ``[project].version``, the default image tag."""
    try:
        version = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
        return TypeAdapter(Tag).validate_python(version, strict=True)
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as error:
        msg = f"{pyproject}: cannot read [project].version ({error})"
        raise ConfigError([msg]) from error
    except ValidationError as error:
        raise ConfigError(
            [f"{pyproject}: [project].version{line}" for line in describe_errors(error)]
        ) from error


def known_environments(directory: Path = ENVIRONMENTS_DIR) -> list[str]:
    return sorted(path.stem for path in directory.glob("*.toml"))


def _context(document: dict[str, Any]) -> dict[str, Any]:
    """What one table's rules need from another: the region, the exposure kind, whether a pool is set."""
    outputs, exposure = document.get("terraform_outputs"), document.get("exposure")
    region = outputs.get("region") if isinstance(outputs, dict) else None
    return {
        "region": region if isinstance(region, str) and re.fullmatch(_REGION, region) else None,
        "exposure": exposure.get("kind") if isinstance(exposure, dict) else None,
        "node_pool": "node_pool" in document,
    }


def load_environment(
    name: str, *, directory: Path = ENVIRONMENTS_DIR, default_tag: str | None = None
) -> EnvironmentConfig:
    """Load and validate ``<directory>/<name>.toml``; raises ConfigError naming every bad field."""
    source = directory / f"{name}.toml"
    try:
        document = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        known = ", ".join(known_environments(directory)) or "none"
        msg = f"{source}: no such environment (known: {known})"
        raise ConfigError([msg]) from error
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        msg = f"{source}: {error}"
        raise ConfigError([msg]) from error
    context = {
        **_context(document),
        "name": name,
        "source": source,
        "default_tag": default_tag or project_version(),
    }
    try:
        # Through JSON, whose types are TOML's (a TOML date becomes text): strict JSON validation takes
        # enums and tuples from their JSON forms but never "3" for 3.
        return EnvironmentConfig.model_validate_json(json.dumps(document, default=str), context=context)
    except ValidationError as error:
        raise ConfigError([f"{source}: {line}" for line in describe_errors(error)]) from error
