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

from api.settings import ENV_PREFIX, Settings
from manifests_py._fields import Fields
from manifests_py.image import (
    ImageReference,
    ImageReferenceError,
    validate_digest,
    validate_repository,
    validate_tag,
)
from manifests_py.node_pool_props import (
    ALLOWED_INSTANCE_CATEGORIES,
    AMI_ALIAS,
    BUDGET_DURATION,
    BUDGET_NODES,
    CRON,
    DURATION,
    Architecture,
    CapacityType,
    ConsolidationPolicy,
    DisruptionReason,
)
from manifests_py.service_card import REPO_ROOT

__all__ = [
    "APP_SETTING_VARIABLES",
    "ENVIRONMENTS_DIR",
    "BudgetConfig",
    "ConfigError",
    "EnvironmentConfig",
    "ExposureKind",
    "NodePoolConfig",
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
    field: f"{ENV_PREFIX}{field.upper()}"
    for field in ("model_path", "max_batch_size", "max_body_bytes", "log_requests", "metrics_enabled")
    if field in Settings.__struct_fields__
}
_APP_PREFIX = ENV_PREFIX

_ACCOUNT = re.compile(r"^[0-9]{12}$")
_REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]$")
_CPU = re.compile(r"^(?:[1-9][0-9]*m|[0-9]+(?:\.[0-9]{1,3})?)$")
_MEMORY = re.compile(r"^[1-9][0-9]*(?:Mi|Gi)$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_K8S_NAME = re.compile(r"^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
_MEBIBYTES = {"Mi": 1, "Gi": 1024}
# EKS cluster names and IAM role names, as AWS accepts them.
_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_INSTANCE_FAMILY = re.compile(r"^[a-z]+[0-9][a-z0-9-]*$")


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
    # None: derived from the committed capacity measurement (manifests_py/capacity.json).
    cpu_target_percent: int | None
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
class BudgetConfig:
    nodes: str
    reasons: tuple[str, ...]
    schedule: str | None
    duration: str | None


@dataclass(frozen=True, kw_only=True)
class NodePoolConfig:
    """``[node_pool]``: the cluster's Karpenter capacity; unset optional fields keep the props' defaults."""

    cluster_name: str
    node_role_name: str
    zones: tuple[str, ...]
    cpu_limit_millicores: int
    memory_limit_mebibytes: int
    instance_categories: tuple[str, ...] | None = None
    instance_families: tuple[str, ...] | None = None
    instance_generation_min: int | None = None
    instance_cpu_max: int | None = None
    capacity_types: tuple[str, ...] | None = None
    architectures: tuple[str, ...] | None = None
    consolidation_policy: str | None = None
    consolidate_after: str | None = None
    expire_after: str | None = None
    termination_grace_period: str | None = None
    ami_alias: str | None = None
    root_volume_gibibytes: int | None = None
    budgets: tuple[BudgetConfig, ...] | None = None


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
    # None when the environment has no [node_pool] (its cluster's capacity is managed elsewhere).
    node_pool: NodePoolConfig | None = None


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
        cpu_target_percent=fields.optional_integer("cpu_target_percent", minimum=1, maximum=100),
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


def _read_budgets(fields: Fields) -> tuple[BudgetConfig, ...] | None:
    entries = fields.table_list("disruption_budgets")
    if entries is None:
        return None
    if not entries:
        fields.problem("disruption_budgets", "empty: with no budget Karpenter may disrupt every node at once")
    budgets = []
    for entry in entries:
        reasons = entry.text_list(
            "reasons", required=False, choices=tuple(reason.value for reason in DisruptionReason)
        )
        budget = BudgetConfig(
            nodes=entry.text(
                "nodes", pattern=BUDGET_NODES, hint="a node count or percentage such as 1 or 10%"
            ),
            reasons=reasons or (),
            schedule=entry.optional_text("schedule", pattern=CRON, hint="a cron expression"),
            duration=entry.optional_text(
                "duration", pattern=BUDGET_DURATION, hint="hours and minutes such as 8h or 1h30m"
            ),
        )
        if entry.has("schedule") != entry.has("duration"):
            entry.problem("schedule", "schedule and duration go together: set both or neither")
        entry.close()
        budgets.append(budget)
    return tuple(budgets)


def _durations(fields: Fields, *keys: str) -> dict[str, str | None]:
    hint = "a duration such as 30s, 5m, 720h or 1h30m (never 'Never')"
    return {key: fields.optional_text(key, pattern=DURATION, hint=hint) for key in keys}


def _read_node_pool(fields: Fields, outputs: Fields, region: str) -> NodePoolConfig:
    needed = "missing (needed for [node_pool])"
    names = {}
    for key, pattern, hint in (
        ("cluster_name", _CLUSTER_NAME, "an EKS cluster name"),
        ("karpenter_node_role_name", _ROLE_NAME, "an IAM role name (not an ARN)"),
    ):
        if outputs.has(key):
            names[key] = outputs.text(key, pattern=pattern, hint=hint)
        else:
            outputs.problem(key, needed)
            names[key] = ""
    zone = re.compile(rf"^{re.escape(region)}[a-z]$") if region else None
    cpu = fields.text("cpu_limit", pattern=_CPU, hint="a CPU quantity such as 32 or 64000m")
    memory = fields.text("memory_limit", pattern=_MEMORY, hint="a memory quantity such as 128Gi")
    policies = tuple(policy.value for policy in ConsolidationPolicy)
    policy = fields.optional_text("consolidation_policy")
    if policy is not None and policy and policy not in policies:
        fields.problem("consolidation_policy", f"{policy!r} is not one of {', '.join(policies)}")
    categories = tuple(ALLOWED_INSTANCE_CATEGORIES)
    config = NodePoolConfig(
        cluster_name=names["cluster_name"],
        node_role_name=names["karpenter_node_role_name"],
        zones=fields.text_list("zones", pattern=zone, hint=f"a zone of {region} such as {region}a") or (),
        cpu_limit_millicores=_millicores(cpu) if cpu else 0,
        memory_limit_mebibytes=_mebibytes(memory) if memory else 0,
        instance_categories=fields.text_list("instance_categories", required=False, choices=categories),
        instance_families=fields.text_list(
            "instance_families",
            required=False,
            pattern=_INSTANCE_FAMILY,
            hint="an instance family such as c7i",
        ),
        instance_generation_min=fields.optional_integer("instance_generation_min", minimum=1, maximum=99),
        instance_cpu_max=fields.optional_integer("instance_cpu_max", minimum=1, maximum=1024),
        capacity_types=fields.text_list(
            "capacity_types", required=False, choices=tuple(kind.value for kind in CapacityType)
        ),
        architectures=fields.text_list(
            "architectures", required=False, choices=tuple(arch.value for arch in Architecture)
        ),
        consolidation_policy=policy,
        ami_alias=fields.optional_text(
            "ami_alias", pattern=AMI_ALIAS, hint="al2023@latest or al2023@vYYYYMMDD"
        ),
        root_volume_gibibytes=fields.optional_integer("root_volume_gibibytes", minimum=20, maximum=1000),
        budgets=_read_budgets(fields),
        **_durations(fields, "consolidate_after", "expire_after", "termination_grace_period"),
    )
    if cpu and config.cpu_limit_millicores == 0:
        fields.problem("cpu_limit", "must be above zero")
    fields.close()
    return config


def _read_optional_node_pool(root: Fields, outputs: Fields, region: str) -> NodePoolConfig | None:
    if root.has("node_pool"):
        return _read_node_pool(root.table("node_pool"), outputs, region)
    # Without [node_pool] these outputs are unused, but a malformed value must still be refused.
    outputs.optional_text("cluster_name", pattern=_CLUSTER_NAME, hint="an EKS cluster name")
    outputs.optional_text("karpenter_node_role_name", pattern=_ROLE_NAME, hint="an IAM role name")
    return None


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
    node_pool = _read_optional_node_pool(root, outputs, region)
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
        node_pool=node_pool,
    )
