"""The deploy script's inputs: flags or environment variables, all validated before anything runs."""

from __future__ import annotations

import argparse
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast, get_args
from urllib.parse import urlsplit

from pydantic import AfterValidator

from manifests_py._model import shaped
from manifests_py.config import (
    ClusterName,
    ConfigError,
    TerraformOutputs,
    known_environments,
    load_environment,
)
from manifests_py.props import Traffic

DEFAULT_ROLLOUT_TIMEOUT_SECONDS = 600
_ROLLOUT_TIMEOUT_RANGE = (30, 3600)

TOOLS_BY_PHASE: dict[str, tuple[str, ...]] = {
    "publish": ("aws", "docker", "make"),
    "scan": ("aws",),
    "release": ("aws", "kubectl", "curl"),
    "abort": ("aws", "kubectl"),
}
PHASES_BY_COMMAND: dict[str, tuple[str, ...]] = {
    "validate": ("publish", "scan", "release"),
    "publish": ("publish",),
    "scan": ("scan",),
    "release": ("release",),
    "all": ("publish", "scan", "release"),
    "abort": ("abort",),
}


def _shape(validator: AfterValidator) -> Callable[[str], object]:
    """A manifests-model shape check: ValueError("'value' is not <what it must be>")."""
    return cast("Callable[[str], object]", validator.func)


_commit_sha = _shape(shaped(r"[0-9a-f]{40}", "a full 40-character commit SHA"))
# The manifests models' own check (the name the environment was synthesized for has passed it too).
_cluster_name = _shape(get_args(ClusterName)[1])
# The repository's syntax is the manifests models' to check; this is only where an ECR one lives.
_ECR_REPOSITORY_URL = re.compile(
    r"(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
)
_ROLE_ARN = re.compile(r"arn:aws(?:-cn|-us-gov)?:iam::(?P<account>[0-9]{12}):role/[\w+=,.@/-]{1,512}")


class InputError(ConfigError):
    """Inputs that must not be deployed; ``problems`` names each one."""


@dataclass(frozen=True, kw_only=True)
class Target:
    """Where the image goes, from the environment's configuration (manifests_py/environments/NAME.toml)."""

    environment: str
    repository_url: str
    region: str
    account_id: str
    # The cluster the manifests were synthesized for; None when the environment has no [node_pool].
    cluster_name: str | None = None
    traffic: Traffic | None = None  # the canary's steps and limits
    # infra/'s outputs, with the listener and target groups a canary release weighs (checked by the model).
    outputs: TerraformOutputs | None = None

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
    cluster_name: str = ""  # release only
    smoke_url: str = ""  # release only
    rollout_timeout: int


def _read_environment(environment: str) -> Target:
    """The one place the deploy reads the environment's configuration, through the manifests models."""
    config = load_environment(environment)
    return Target(
        environment=config.name,
        repository_url=config.image.repository,
        region=config.terraform_outputs.region,
        account_id=config.terraform_outputs.account_id,
        cluster_name=config.node_pool.cluster_name if config.node_pool else None,
        traffic=config.traffic,
        outputs=config.terraform_outputs,
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
    elif (match["region"], match["account"]) != (target.region, target.account_id):
        problems.append(
            f"environment {environment}: {target.repository_url} is not in account {target.account_id}, "
            f"region {target.region}: the outputs are from different applies"
        )
    else:
        return target
    return None


def _environment(name: str) -> None:
    if name not in (known := known_environments()):
        msg = f"{name!r} is not one of {', '.join(known)}"
        raise ValueError(msg)


def _smoke_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        msg = f"{value!r} is not an https:// URL"
        raise ValueError(msg)
    if parts.query or parts.fragment or parts.username or parts.password:
        msg = f"{value!r} must be scheme, host and path only"
        raise ValueError(msg)


def _rollout_timeout(value: str) -> None:
    low, high = _ROLLOUT_TIMEOUT_RANGE
    if not (value.isdigit() and low <= int(value) <= high):
        msg = f"{value!r} is not a whole number of seconds between {low} and {high}"
        raise ValueError(msg)


def resolve_inputs(args: argparse.Namespace, environ: Mapping[str, str]) -> Inputs:
    """Every input of the command's phases, validated together; InputError lists all problems."""
    phases = PHASES_BY_COMMAND[args.command]
    problems: list[str] = []

    def get(name: str, variable: str, check: Callable[[str], object], missing: str | None = "") -> str | None:
        """Flag ``name``, else ``variable``, if ``check`` accepts it; ``missing`` None: it is optional."""
        given = getattr(args, name)
        value = (given if given is not None else environ.get(variable, "")).strip() or None
        where = f"{name.replace('_', ' ')} (--{name.replace('_', '-')} / {variable})"
        if value is None:
            if missing is not None:
                problems.append(f"{where}: missing{missing}")
            return None
        try:
            check(value)
        except ValueError as error:
            problems.append(f"{where}: {error}")
            return None
        return value

    environment = get("environment", "DEPLOY_ENVIRONMENT", _environment, ", e.g. prod")
    target = _load_target(environment, problems) if environment else None
    _check_region(environ.get("AWS_REGION", "").strip(), target, problems)
    aborting = phases == ("abort",)
    image_tag = get("image_tag", "IMAGE_TAG", _commit_sha, None if aborting else "; the full commit SHA")
    cluster_name = smoke_url = None
    if "release" in phases or aborting:
        cluster_name = get("cluster_name", "EKS_CLUSTER_NAME", _cluster_name)
        _check_cluster(cluster_name, target, problems)
    if aborting and target is not None and (target.outputs is None or not target.outputs.https_listener_arn):
        problems.append(
            f"environment {target.environment} has no weighted listener "
            "([terraform_outputs].https_listener_arn): there is no canary to abort"
        )
    if "release" in phases:
        smoke_url = get("smoke_url", "SMOKE_BASE_URL", _smoke_url, ", e.g. https://predictor.example.com")
    rollout_timeout = get("rollout_timeout", "ROLLOUT_TIMEOUT_SECONDS", _rollout_timeout, None)
    if args.role_arn is not None:
        _check_role(args.role_arn.strip(), target, problems)
    problems += _missing_tools(phases, environ.get("PATH"))
    if problems or target is None or (image_tag is None and not aborting):
        raise InputError(list(dict.fromkeys(problems)))
    return Inputs(
        command=args.command,
        target=target,
        image_tag=image_tag or "",
        cluster_name=cluster_name or "",
        smoke_url=(smoke_url or "").rstrip("/"),
        rollout_timeout=int(rollout_timeout or DEFAULT_ROLLOUT_TIMEOUT_SECONDS),
    )


def _check_region(region: str, target: Target | None, problems: list[str]) -> None:
    if target is not None and region and region != target.region:
        problems.append(
            f"AWS_REGION is {region} but environment {target.environment} is in {target.region}: "
            "one of them is stale"
        )


def _check_cluster(cluster_name: str | None, target: Target | None, problems: list[str]) -> None:
    synthesized_for = target.cluster_name if target else None
    if target is not None and None not in (cluster_name, synthesized_for) and cluster_name != synthesized_for:
        problems.append(
            f"cluster name (--cluster-name / EKS_CLUSTER_NAME) is {cluster_name} but environment "
            f"{target.environment}'s manifests were synthesized for {synthesized_for} "
            "([terraform_outputs].cluster_name): one of them is stale"
        )


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


def _missing_tools(phases: tuple[str, ...], path: str | None) -> list[str]:
    needed_by: dict[str, list[str]] = {}
    for phase in phases:
        for tool in TOOLS_BY_PHASE[phase]:
            needed_by.setdefault(tool, []).append(phase)
    return [
        f"{tool}: not found on PATH (needed by {', '.join(users)})"
        for tool, users in needed_by.items()
        if shutil.which(tool, path=path) is None
    ]
