"""The deploy script's inputs: flags or environment variables, all validated before anything runs."""

from __future__ import annotations

import argparse
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
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


class _Reader:
    """Each input from its flag, else its environment variable; every problem collected, none raised."""

    def __init__(self, args: argparse.Namespace, environ: Mapping[str, str]) -> None:
        self.args, self.environ, self.problems = args, environ, list[str]()

    def get(
        self,
        label: str,
        flag: str,
        variable: str,
        wrong: Callable[[str], str | None],
        missing: str | None = "",
    ) -> str | None:
        """The value, if it is set and ``wrong`` (what is wrong with it, or None) has nothing to say.

        ``missing`` completes the problem reported when it is unset; None: the input is optional."""
        given = getattr(self.args, flag.removeprefix("--").replace("-", "_"))
        value = (given if given is not None else self.environ.get(variable, "")).strip() or None
        where = f"{label} ({flag} / {variable})"
        if value is None:
            if missing is not None:
                self.problems.append(f"{where}: missing{missing}")
            return None
        problem = wrong(value)
        if problem:
            self.problems.append(f"{where}: {value!r} {problem}")
            return None
        return value


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


def _smoke_url_problem(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        return "is not an https:// URL"
    if parts.query or parts.fragment or parts.username or parts.password:
        return "must be scheme, host and path only"
    return None


def _rollout_timeout_problem(value: str) -> str | None:
    low, high = _ROLLOUT_TIMEOUT_RANGE
    if value.isdigit() and low <= int(value) <= high:
        return None
    return f"is not a whole number of seconds between {low} and {high}"


def _environment_target(inputs: _Reader) -> Target | None:
    known = known_environments()
    environment = inputs.get(
        "environment",
        "--environment",
        "DEPLOY_ENVIRONMENT",
        lambda name: None if name in known else f"is not one of {', '.join(known)}",
        ", e.g. prod",
    )
    target = _load_target(environment, inputs.problems) if environment else None
    region = inputs.environ.get("AWS_REGION", "").strip()
    if target is not None and region and region != target.region:
        inputs.problems.append(
            f"AWS_REGION is {region} but environment {target.environment} is in {target.region}: "
            "one of them is stale"
        )
    return target


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
    inputs = _Reader(args, environ)
    problems = inputs.problems
    target = _environment_target(inputs)
    image_tag = inputs.get(
        "image tag",
        "--image-tag",
        "IMAGE_TAG",
        lambda tag: None if _COMMIT_SHA.fullmatch(tag) else "is not a full 40-character commit SHA",
        "; the full commit SHA",
    )
    cluster_name = smoke_url = None
    if "release" in phases:
        cluster_name = inputs.get(
            "cluster name",
            "--cluster-name",
            "EKS_CLUSTER_NAME",
            lambda name: None if _CLUSTER_NAME.fullmatch(name) else "is not an EKS cluster name",
        )
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
        smoke_url = inputs.get(
            "smoke URL",
            "--smoke-url",
            "SMOKE_BASE_URL",
            _smoke_url_problem,
            ", e.g. https://predictor.example.com",
        )
    rollout_timeout = inputs.get(
        "rollout timeout", "--rollout-timeout", "ROLLOUT_TIMEOUT_SECONDS", _rollout_timeout_problem, None
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
        smoke_url=smoke_url.rstrip("/") if smoke_url else None,
        rollout_timeout=int(rollout_timeout or DEFAULT_ROLLOUT_TIMEOUT_SECONDS),
    )
