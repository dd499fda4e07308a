"""The deploy reads each environment through the manifests models, and checks only what deploying adds."""

from __future__ import annotations

import argparse

import pytest

from manifests_py.config import ConfigError
from tools.deploy import inputs

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _resolve(**environ: str) -> inputs.Inputs:
    args = argparse.Namespace(
        command="scan",
        environment=None,
        image_tag=None,
        cluster_name=None,
        smoke_url=None,
        rollout_timeout=None,
        role_arn=None,
    )
    return inputs.resolve_inputs(
        args, {"DEPLOY_ENVIRONMENT": "prod", "IMAGE_TAG": COMMIT, "PATH": "", **environ}
    )


def test_every_problem_of_an_invalid_environment_reaches_the_caller(monkeypatch):
    def broken(name):
        raise ConfigError([f"{name}.toml: terraform_outputs.region: missing", f"{name}.toml: scale.max: 0"])

    monkeypatch.setattr(inputs, "load_environment", broken)
    with pytest.raises(inputs.InputError) as refused:
        _resolve()
    assert "prod.toml: terraform_outputs.region: missing" in refused.value.problems
    assert "prod.toml: scale.max: 0" in refused.value.problems


def test_a_repository_outside_the_environments_account_and_region_is_refused(monkeypatch):
    target = inputs.Target(
        environment="prod",
        repository_url="111122223333.dkr.ecr.eu-west-1.amazonaws.com/predictor",
        region="eu-west-1",
        account_id="444455556666",
    )
    monkeypatch.setattr(inputs, "_read_environment", lambda _name: target)
    with pytest.raises(inputs.InputError, match="different applies"):
        _resolve()
    monkeypatch.setattr(
        inputs,
        "_read_environment",
        lambda _name: inputs.Target(**{**vars(target), "repository_url": "ghcr.io/x/y"}),
    )
    with pytest.raises(inputs.InputError, match="is not an ECR repository URL"):
        _resolve()


def test_the_committed_environments_resolve_to_their_ecr_repository():
    target = inputs._read_environment("prod")  # noqa: SLF001 -- the one reader of the configuration
    assert target.repository_url.startswith(f"{target.account_id}.dkr.ecr.{target.region}.")
    assert target.registry == target.repository_url.split("/")[0]
    assert target.repository_name
    assert target.cluster_name
