"""Per-environment configuration (``manifests_py/environments/<name>.toml``), read once and validated.

Every problem is reported with its file and dotted field name, and synthesis stops before anything is
written. Values under ``[terraform_outputs]`` are named exactly like the outputs of ``infra/`` so they can
be filled from ``terraform output``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from manifests_py._fields import Fields
from manifests_py.image import (
    ImageReference,
    ImageReferenceError,
    validate_digest,
    validate_repository,
    validate_tag,
)
from manifests_py.service_card import REPO_ROOT

__all__ = [
    "APP_SETTING_VARIABLES",
    "ENVIRONMENTS_DIR",
    "ConfigError",
    "EnvironmentConfig",
    "ExposureKind",
    "ResourcesConfig",
    "ScaleConfig",
    "SecretKeyRef",
    "ServerConfig",
    "known_environments",
    "load_environment",
    "project_version",
]

ENVIRONMENTS_DIR = Path(__file__).resolve().parent / "environments"
PYPROJECT = REPO_ROOT / "pyproject.toml"

# The service's own settings that a deployment may set, by config field (see api/settings.py).
# PREDICTOR_PORT, _DRAIN_SECONDS and _KEEP_ALIVE_SECONDS come from the service card, PREDICTOR_HOST from
# the image; the app refuses any other PREDICTOR_ variable at start-up.
APP_SETTING_VARIABLES = {
    "model_path": "PREDICTOR_MODEL_PATH",
    "max_batch_size": "PREDICTOR_MAX_BATCH_SIZE",
    "max_body_bytes": "PREDICTOR_MAX_BODY_BYTES",
    "log_requests": "PREDICTOR_LOG_REQUESTS",
    "metrics_enabled": "PREDICTOR_METRICS_ENABLED",
}
_APP_PREFIX = "PREDICTOR_"

_ACCOUNT = re.compile(r"^[0-9]{12}$")
_REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]$")
_CPU = re.compile(r"^(?:[1-9][0-9]*m|[0-9]+(?:\.[0-9]{1,3})?)$")
_MEMORY = re.compile(r"^[1-9][0-9]*(?:Mi|Gi)$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_K8S_NAME = re.compile(r"^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
_MEBIBYTES = {"Mi": 1, "Gi": 1024}


class ConfigError(ValueError):
    """Configuration that must not be synthesized; ``problems`` lists each one as ``file: field: reason``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class ExposureKind(StrEnum):
    TARGET_GROUP_BINDING = "target-group-binding"
    INGRESS = "ingress"
    NONE = "none"


@dataclass(frozen=True, kw_only=True)
class ScaleConfig:
    min: int
    max: int
    cpu_target_percent: int
    concurrency_target: int | None
    container_concurrency: int


@dataclass(frozen=True, kw_only=True)
class ResourcesConfig:
    cpu_request_millicores: int
    cpu_limit_millicores: int
    memory_request_mebibytes: int
    memory_limit_mebibytes: int


@dataclass(frozen=True, kw_only=True)
class ServerConfig:
    model_path: str | None = None
    max_batch_size: int | None = None
    max_body_bytes: int | None = None
    log_requests: bool | None = None
    metrics_enabled: bool | None = None


@dataclass(frozen=True, kw_only=True)
class SecretKeyRef:
    secret: str
    key: str


@dataclass(frozen=True, kw_only=True)
class EnvironmentConfig:
    name: str
    source: Path
    account_id: str
    region: str
    image: ImageReference
    target_group_arn: str | None
    certificate_arn: str | None
    app_role_arn: str
    exposure: ExposureKind
    scale: ScaleConfig
    resources: ResourcesConfig
    server: ServerConfig
    secrets: dict[str, SecretKeyRef]


def project_version(pyproject: Path = PYPROJECT) -> str:
    """The release the committed manifests point at: ``[project].version``, the default image tag."""
    try:
        version = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as error:
        msg = f"{pyproject}: cannot read [project].version ({error})"
        raise ConfigError([msg]) from error
    if not isinstance(version, str):
        msg = f"{pyproject}: [project].version: expected a string"
        raise ConfigError([msg])
    try:
        return validate_tag(version, field=f"{pyproject}: [project].version")
    except ImageReferenceError as error:
        raise ConfigError([str(error)]) from error


def known_environments(directory: Path = ENVIRONMENTS_DIR) -> list[str]:
    return sorted(path.stem for path in directory.glob("*.toml"))


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _millicores(quantity: str) -> int:
    return int(quantity[:-1]) if quantity.endswith("m") else round(float(quantity) * 1000)


def _mebibytes(quantity: str) -> int:
    return int(quantity[:-2]) * _MEBIBYTES[quantity[-2:]]


def _arn_patterns(partition: str, region: str, account: str) -> dict[str, tuple[re.Pattern[str], str]]:
    p, r, a = (re.escape(part) for part in (partition, region, account))
    return {
        "target_group_arn": (
            re.compile(
                rf"^arn:{p}:elasticloadbalancing:{r}:{a}:targetgroup/[A-Za-z0-9-]{{1,32}}/[0-9a-f]{{16}}$"
            ),
            (
                f"a target group ARN in {region}, account {account} "
                f"(arn:{partition}:elasticloadbalancing:{region}:{account}:targetgroup/NAME/ID)"
            ),
        ),
        "certificate_arn": (
            re.compile(
                rf"^arn:{p}:acm:{r}:{a}:certificate/[0-9a-f]{{8}}(?:-[0-9a-f]{{4}}){{3}}-[0-9a-f]{{12}}$"
            ),
            (
                f"an ACM certificate ARN in {region}, account {account} "
                f"(arn:{partition}:acm:{region}:{account}:certificate/UUID)"
            ),
        ),
        "app_role_arn": (
            re.compile(rf"^arn:{p}:iam::{a}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{{1,64}}$"),
            f"an IAM role ARN in account {account} (arn:{partition}:iam::{account}:role/NAME)",
        ),
    }


def _read_image(fields: Fields, outputs: Fields, default_tag: str) -> tuple[str, str | None, str | None]:
    checks = (
        (outputs, "ecr_repository_url", validate_repository, outputs.text("ecr_repository_url")),
        (fields, "tag", validate_tag, fields.optional_text("tag")),
        (fields, "digest", validate_digest, fields.optional_text("digest")),
    )
    values: dict[str, str | None] = {}
    for owner, key, check, value in checks:
        values[key] = value
        if value:
            try:
                check(value, field=owner.name(key))
            except ImageReferenceError as error:
                owner.report(str(error))
    tag = values["tag"]
    return values["ecr_repository_url"] or "", (tag if tag is not None else default_tag), values["digest"]


def _read_scale(fields: Fields) -> ScaleConfig:
    scale = ScaleConfig(
        min=fields.integer("min", minimum=0, maximum=1000),
        max=fields.integer("max", minimum=1, maximum=1000),
        cpu_target_percent=fields.integer("cpu_target_percent", minimum=1, maximum=100),
        concurrency_target=fields.optional_integer("concurrency_target", minimum=1, maximum=10_000),
        container_concurrency=fields.optional_integer("container_concurrency", minimum=0, maximum=10_000)
        or 0,
    )
    if fields.has("min") and fields.has("max") and scale.min > scale.max:
        fields.problem("min", f"{scale.min} is greater than {fields.name('max')} ({scale.max})")
    if (
        scale.concurrency_target
        and scale.container_concurrency
        and (scale.concurrency_target > scale.container_concurrency)
    ):
        fields.problem(
            "concurrency_target",
            f"{scale.concurrency_target} exceeds {fields.name('container_concurrency')} "
            f"({scale.container_concurrency}): the target could never be reached",
        )
    return scale


def _read_resources(fields: Fields) -> ResourcesConfig:
    cpu_hint, memory_hint = "a CPU quantity such as 250m or 1", "a memory quantity such as 256Mi or 1Gi"
    cpu = {key: fields.text(key, pattern=_CPU, hint=cpu_hint) for key in ("cpu_request", "cpu_limit")}
    memory = {
        key: fields.text(key, pattern=_MEMORY, hint=memory_hint) for key in ("memory_request", "memory_limit")
    }
    resources = ResourcesConfig(
        cpu_request_millicores=_millicores(cpu["cpu_request"]) if cpu["cpu_request"] else 0,
        cpu_limit_millicores=_millicores(cpu["cpu_limit"]) if cpu["cpu_limit"] else 0,
        memory_request_mebibytes=_mebibytes(memory["memory_request"]) if memory["memory_request"] else 0,
        memory_limit_mebibytes=_mebibytes(memory["memory_limit"]) if memory["memory_limit"] else 0,
    )
    if cpu["cpu_request"] and resources.cpu_request_millicores == 0:
        fields.problem("cpu_request", "must be above zero")
    if all(cpu.values()) and resources.cpu_request_millicores > resources.cpu_limit_millicores:
        fields.problem(
            "cpu_request", f"{cpu['cpu_request']} exceeds {fields.name('cpu_limit')} ({cpu['cpu_limit']})"
        )
    if all(memory.values()) and resources.memory_request_mebibytes > resources.memory_limit_mebibytes:
        fields.problem(
            "memory_request",
            f"{memory['memory_request']} exceeds {fields.name('memory_limit')} ({memory['memory_limit']})",
        )
    return resources


def _read_server(fields: Fields) -> ServerConfig:
    return ServerConfig(
        model_path=fields.optional_text("model_path", pattern=re.compile(r"^/.+$"), hint="an absolute path"),
        max_batch_size=fields.optional_integer("max_batch_size", minimum=1),
        max_body_bytes=fields.optional_integer("max_body_bytes", minimum=1),
        log_requests=fields.optional_boolean("log_requests"),
        metrics_enabled=fields.optional_boolean("metrics_enabled"),
    )


def _read_secrets(fields: Fields) -> dict[str, SecretKeyRef]:
    secrets: dict[str, SecretKeyRef] = {}
    for variable in fields.field_names():
        entry = fields.table(variable)
        if not _ENV_NAME.fullmatch(variable):
            fields.problem(variable, "not an environment variable name (A-Z, 0-9, _)")
        elif variable.startswith(_APP_PREFIX):
            fields.problem(variable, f"{_APP_PREFIX}* variables are the service's own settings, not secrets")
        secrets[variable] = SecretKeyRef(
            secret=entry.text("secret", pattern=_K8S_NAME, hint="a Secret name"),
            key=entry.text("key", pattern=_SECRET_KEY, hint="a Secret key"),
        )
        entry.close()
    return secrets


def _read_exposure(fields: Fields) -> ExposureKind:
    kinds = ", ".join(kind.value for kind in ExposureKind)
    kind = fields.text("kind")
    if kind and kind not in {k.value for k in ExposureKind}:
        fields.problem("kind", f"{kind!r} is not one of {kinds}")
        return ExposureKind.NONE
    return ExposureKind(kind) if kind else ExposureKind.NONE


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

    problems: list[str] = []
    root = Fields(document, path="", problems=problems)
    outputs = root.table("terraform_outputs")
    account = outputs.text("account_id", pattern=_ACCOUNT, hint="a 12-digit AWS account ID")
    region = outputs.text("region", pattern=_REGION, hint="an AWS region such as eu-west-1")
    image_fields = root.table("image", required=False)
    repository, tag, digest = _read_image(image_fields, outputs, default_tag or project_version())
    exposure_fields = root.table("exposure")
    exposure = _read_exposure(exposure_fields)

    # Which exposure needs which Terraform output; the role is always needed.
    needed_by: dict[str, ExposureKind | None] = {
        "app_role_arn": None,
        "target_group_arn": ExposureKind.TARGET_GROUP_BINDING,
        "certificate_arn": ExposureKind.INGRESS,
    }
    patterns = _arn_patterns(_partition(region), region, account) if account and region else {}
    arns: dict[str, str | None] = {}
    for key, exposure_needing in needed_by.items():
        if not outputs.has(key):
            outputs.text(key, required=False)
            if exposure_needing is None:
                outputs.problem(key, "missing")
            elif exposure_needing is exposure:
                outputs.problem(key, f"missing (needed for exposure.kind = {exposure.value!r})")
            arns[key] = None
            continue
        pattern, hint = patterns.get(key, (None, ""))
        arns[key] = outputs.text(key, pattern=pattern, hint=hint) or None

    scale_fields = root.table("scale")
    scale = _read_scale(scale_fields)
    resources_fields = root.table("resources")
    resources = _read_resources(resources_fields)
    server_fields = root.table("server", required=False)
    server = _read_server(server_fields)
    secrets_fields = root.table("secrets", required=False)
    secrets = _read_secrets(secrets_fields)
    for fields in (
        outputs,
        image_fields,
        exposure_fields,
        scale_fields,
        resources_fields,
        server_fields,
        root,
    ):
        fields.close()

    if problems:
        raise ConfigError([f"{source}: {problem}" for problem in problems])
    return EnvironmentConfig(
        name=name,
        source=source,
        account_id=account,
        region=region,
        image=ImageReference(repository=repository, tag=tag, digest=digest),
        target_group_arn=arns["target_group_arn"],
        certificate_arn=arns["certificate_arn"],
        app_role_arn=arns["app_role_arn"] or "",
        exposure=exposure,
        scale=scale,
        resources=resources,
        server=server,
        secrets=secrets,
    )
