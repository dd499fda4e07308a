"""The deploy script's inputs: flags or environment variables, all validated before anything runs."""

from __future__ import annotations

import argparse
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from manifests_py.config import ConfigError, known_environments, load_environment

__all__ = [
    "DEFAULT_ROLLOUT_TIMEOUT_SECONDS",
    "PHASES_BY_COMMAND",
    "InputError",
    "Inputs",
    "Target",
    "resolve_inputs",
]

DEFAULT_ROLLOUT_TIMEOUT_SECONDS = 600
_ROLLOUT_TIMEOUT_RANGE = (30, 3600)

TOOLS_BY_PHASE: dict[str, tuple[str, ...]] = {
    "publish": ("aws", "docker", "make"),
    "scan": ("aws",),
    "release": ("aws", "kubectl", "curl"),
}

PHASES_BY_COMMAND: dict[str, tuple[str, ...]] = {
    "validate": ("publish", "scan", "release"),
    "publish": ("publish",),
    "scan": ("scan",),
    "release": ("release",),
    "all": ("publish", "scan", "release"),
}

_COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")

_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")

# The repository's syntax is the manifests models' to check; this is only where an ECR one lives.
_ECR_REPOSITORY_URL = re.compile(
    r"^(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
)

_ROLE_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov)?:iam::(?P<account>[0-9]{12}):role/[\w+=,.@/-]{1,512}$")


class InputError(Exception):
    """Inputs that must not be deployed; ``problems`` names each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True, kw_only=True)
class Target:
    """Where the image goes, from the environment's configuration (manifests_py/environments/NAME.toml)."""

    environment: str
    repository_url: str
    region: str
    account_id: str
    # The cluster the manifests were synthesized for (Karpenter's discovery tags, the node role); None
    # when the environment has no [node_pool].
    cluster_name: str | None = None

    @property
    def registry(self) -> str:
        return self.repository_url.split("/", 1)[0]

    @property
    def repository_name(self) -> str:
        return self.repository_url.split("/", 1)[1]


@dataclass(frozen=True, kw_only=True)
class Inputs:
    command: str
    target: Target
    image_tag: str
    cluster_name: str | None
    smoke_url: str | None
    rollout_timeout: int


def _value(flag: str | None, environ: Mapping[str, str], variable: str) -> str | None:
    value = flag if flag is not None else environ.get(variable)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _read_environment(environment: str) -> Target:
    """The one place the deploy reads the environment's configuration, through the manifests models."""
    config = load_environment(environment)
    return Target(
        environment=config.name,
        repository_url=config.image.repository,
        region=config.region,
        account_id=config.account_id,
        cluster_name=config.node_pool.cluster_name if config.node_pool else None,
    )


def _load_target(environment: str, problems: list[str]) -> Target | None:
    """The environment's target, if its configuration is valid and its repository is in its own ECR."""
    try:
        target = _read_environment(environment)
    except ConfigError as error:
        problems.extend(error.problems)
        return None
    match = _ECR_REPOSITORY_URL.match(target.repository_url)
    if match is None:
        problems.append(f"environment {environment}: {target.repository_url!r} is not an ECR repository URL")
        return None
    if (match["region"], match["account"]) != (target.region, target.account_id):
        problems.append(
            f"environment {environment}: {target.repository_url} is not in account {target.account_id}, "
            f"region {target.region}: the outputs are from different applies"
        )
        return None
    return target


def _smoke_url(value: str, problems: list[str]) -> str | None:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        problems.append(f"smoke URL (--smoke-url / SMOKE_BASE_URL): {value!r} is not an https:// URL")
        return None
    if parts.query or parts.fragment or parts.username or parts.password:
        problems.append(
            f"smoke URL (--smoke-url / SMOKE_BASE_URL): {value!r} must be scheme, host and path only"
        )
        return None
    return value.rstrip("/")


def _rollout_timeout(value: str | None, problems: list[str]) -> int:
    if value is None:
        return DEFAULT_ROLLOUT_TIMEOUT_SECONDS
    low, high = _ROLLOUT_TIMEOUT_RANGE
    if not value.isdigit() or not low <= int(value) <= high:
        problems.append(
            f"rollout timeout (--rollout-timeout / ROLLOUT_TIMEOUT_SECONDS): {value!r} is not "
            f"a whole number of seconds between {low} and {high}"
        )
        return DEFAULT_ROLLOUT_TIMEOUT_SECONDS
    return int(value)


def _environment_target(
    args: argparse.Namespace, environ: Mapping[str, str], problems: list[str]
) -> Target | None:
    environment = _value(args.environment, environ, "DEPLOY_ENVIRONMENT")
    if environment is None:
        problems.append("environment (--environment / DEPLOY_ENVIRONMENT): missing, e.g. prod")
        return None
    known = known_environments()
    if environment not in known:
        where = "environment (--environment / DEPLOY_ENVIRONMENT)"
        problems.append(f"{where}: {environment!r} is not one of {', '.join(known)}")
        return None
    target = _load_target(environment, problems)
    region = _value(None, environ, "AWS_REGION")
    if target is not None and region is not None and region != target.region:
        problems.append(
            f"AWS_REGION is {region} but environment {target.environment} is in {target.region}: "
            "one of them is stale"
        )
    return target


def _image_tag(args: argparse.Namespace, environ: Mapping[str, str], problems: list[str]) -> str | None:
    image_tag = _value(args.image_tag, environ, "IMAGE_TAG")
    if image_tag is None:
        problems.append("image tag (--image-tag / IMAGE_TAG): missing; the full commit SHA")
        return None
    if not _COMMIT_SHA.fullmatch(image_tag):
        problems.append(
            f"image tag (--image-tag / IMAGE_TAG): {image_tag!r} is not a full 40-character commit SHA"
        )
        return None
    return image_tag


def _cluster_name(args: argparse.Namespace, environ: Mapping[str, str], problems: list[str]) -> str | None:
    cluster_name = _value(args.cluster_name, environ, "EKS_CLUSTER_NAME")
    if cluster_name is None:
        problems.append("cluster name (--cluster-name / EKS_CLUSTER_NAME): missing")
        return None
    if not _CLUSTER_NAME.fullmatch(cluster_name):
        problems.append(
            f"cluster name (--cluster-name / EKS_CLUSTER_NAME): {cluster_name!r} is not an EKS cluster name"
        )
        return None
    return cluster_name


def _check_role(role_arn: str, target: Target | None, problems: list[str]) -> None:
    role = _ROLE_ARN.fullmatch(role_arn)
    if not role_arn:
        problems.append("deploy role (--role-arn / AWS_DEPLOY_ROLE_ARN): missing")
    elif role is None:
        problems.append(f"deploy role (AWS_DEPLOY_ROLE_ARN): {role_arn!r} is not an IAM role ARN")
    elif target is not None and role["account"] != target.account_id:
        problems.append(
            f"deploy role (AWS_DEPLOY_ROLE_ARN): {role_arn} is not in account {target.account_id} "
            f"of environment {target.environment}"
        )


def _check_tools(phases: Sequence[str], environ: Mapping[str, str], problems: list[str]) -> None:
    needed_by: dict[str, list[str]] = {}
    for phase in phases:
        for tool in TOOLS_BY_PHASE[phase]:
            needed_by.setdefault(tool, []).append(phase)
    problems.extend(
        f"{tool}: not found on PATH (needed by {', '.join(users)})"
        for tool, users in needed_by.items()
        if shutil.which(tool, path=environ.get("PATH")) is None
    )


def resolve_inputs(args: argparse.Namespace, environ: Mapping[str, str]) -> Inputs:
    """Every input of the command's phases, validated together; InputError lists all problems."""
    phases = PHASES_BY_COMMAND[args.command]
    problems: list[str] = []
    target = _environment_target(args, environ, problems)
    image_tag = _image_tag(args, environ, problems)
    cluster_name = smoke_url = None
    if "release" in phases:
        cluster_name = _cluster_name(args, environ, problems)
        if (
            target is not None
            and None not in (cluster_name, target.cluster_name)
            and cluster_name != target.cluster_name
        ):
            problems.append(
                f"cluster name (--cluster-name / EKS_CLUSTER_NAME) is {cluster_name} but environment "
                f"{target.environment}'s manifests were synthesized for {target.cluster_name} "
                "([terraform_outputs].cluster_name): one of them is stale"
            )
        raw_url = _value(args.smoke_url, environ, "SMOKE_BASE_URL")
        if raw_url is None:
            problems.append(
                "smoke URL (--smoke-url / SMOKE_BASE_URL): missing, e.g. https://predictor.example.com"
            )
        else:
            smoke_url = _smoke_url(raw_url, problems)
    rollout_timeout = _rollout_timeout(
        _value(args.rollout_timeout, environ, "ROLLOUT_TIMEOUT_SECONDS"), problems
    )
    if args.role_arn is not None:
        _check_role(args.role_arn.strip(), target, problems)
    _check_tools(phases, environ, problems)
    if problems or target is None or image_tag is None:
        raise InputError(list(dict.fromkeys(problems)))
    return Inputs(
        command=args.command,
        target=target,
        image_tag=image_tag,
        cluster_name=cluster_name,
        smoke_url=smoke_url,
        rollout_timeout=rollout_timeout,
    )
