"""How the provider source is resolved: explicit mirror, user CLI config, discovery, registry."""

from __future__ import annotations

import re
import shutil

import pytest

from tools.infra import tfenv

# These change the process's environment and tfenv's module state, which Terraform runs in the background
# read: they run alone.
pytestmark = pytest.mark.alone


@pytest.fixture(autouse=True)
def _fresh_resolution(monkeypatch, tmp_path):
    tfenv.provider_source.cache_clear()
    monkeypatch.setattr(tfenv, "BUILD_DIR", tmp_path / "build")
    monkeypatch.delenv(tfenv.MIRROR_ENV, raising=False)
    monkeypatch.delenv(tfenv.CLI_CONFIG_ENV, raising=False)
    yield
    tfenv.provider_source.cache_clear()
    # A fake mirror left in the temporary directory would be found by the next run's discovery.
    shutil.rmtree(tmp_path, ignore_errors=True)


def _fake_mirror(root):
    binary = root / tfenv.AWS_PROVIDER / "5.100.0" / "linux_amd64" / "terraform-provider-aws_v5.100.0_x5"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    return root


def test_an_explicit_mirror_gets_a_generated_cli_config(monkeypatch, tmp_path):
    mirror = _fake_mirror(tmp_path / "mirror")
    monkeypatch.setenv(tfenv.MIRROR_ENV, str(mirror))
    source = tfenv.provider_source()
    assert source.kind == "mirror"
    assert source.mirror == mirror
    # What the config says, whatever its layout: hashicorp/aws from the mirror, everything else direct.
    config = " ".join(source.cli_config.read_text().split())
    provider = re.escape(f'"{tfenv.AWS_PROVIDER}"')
    assert re.search(
        rf'filesystem_mirror {{ path = "{re.escape(str(mirror))}" include = \[ ?{provider} ?\] }}', config
    )
    assert re.search(rf"direct {{ exclude = \[ ?{provider} ?\] }}", config)
    assert tfenv.terraform_env()[tfenv.CLI_CONFIG_ENV] == str(source.cli_config)


def test_an_empty_or_non_executable_binary_is_no_mirror(tmp_path):
    mirror = _fake_mirror(tmp_path / "mirror")
    (binary,) = (mirror / tfenv.AWS_PROVIDER).glob("*/*/terraform-provider-aws*")
    binary.chmod(0o644)
    assert not tfenv.is_mirror(mirror)


def test_a_mirror_variable_pointing_at_no_mirror_is_an_error_naming_the_expected_layout(
    monkeypatch, tmp_path
):
    monkeypatch.setenv(tfenv.MIRROR_ENV, str(tmp_path))
    with pytest.raises(
        tfenv.TerraformEnvError,
        match=r"is not a provider mirror: expected .*registry\.terraform\.io/hashicorp/aws",
    ):
        tfenv.provider_source()


def test_an_existing_user_cli_config_is_used_as_it_is(monkeypatch, tmp_path):
    config = tmp_path / "terraformrc"
    config.write_text("# mine\n")
    monkeypatch.setenv(tfenv.CLI_CONFIG_ENV, str(config))
    monkeypatch.setattr(tfenv, "search_mirror", lambda: pytest.fail("must not search when a config exists"))
    source = tfenv.provider_source()
    assert (source.kind, source.cli_config) == ("cli-config", config)


def test_a_missing_user_cli_config_falls_through_to_discovery(monkeypatch, tmp_path):
    monkeypatch.setenv(tfenv.CLI_CONFIG_ENV, str(tmp_path / "absent"))
    mirror = _fake_mirror(tmp_path / "found")
    monkeypatch.setattr(tfenv, "search_mirror", lambda: mirror)
    source = tfenv.provider_source()
    assert (source.kind, source.mirror) == ("mirror", mirror)


def test_without_any_mirror_the_registry_is_used_with_a_plugin_cache(monkeypatch, tmp_path):
    monkeypatch.setenv(tfenv.CLI_CONFIG_ENV, str(tmp_path / "absent"))
    monkeypatch.setattr(tfenv, "search_mirror", lambda: None)
    env = tfenv.terraform_env(data_dir=tmp_path / "data")
    assert tfenv.provider_source().kind == "registry"
    assert not env[tfenv.CLI_CONFIG_ENV], "a CLI config path that does not exist must not be passed on"
    assert env["TF_PLUGIN_CACHE_DIR"] == str(tmp_path / "build" / "plugin-cache")
    assert env["TF_DATA_DIR"] == str(tmp_path / "data")


def test_missing_terraform_is_an_error_that_says_how_to_get_it(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(tfenv.TerraformEnvError, match="terraform is not on PATH"):
        tfenv.terraform_binary()


def test_the_mirror_command_prints_the_mirror_or_fails(monkeypatch, tmp_path, capsys):
    mirror = _fake_mirror(tmp_path / "mirror")
    monkeypatch.setenv(tfenv.MIRROR_ENV, str(mirror))
    assert tfenv.main(["mirror"]) == 0
    assert capsys.readouterr().out.strip() == str(mirror)
    tfenv.provider_source.cache_clear()
    monkeypatch.delenv(tfenv.MIRROR_ENV)
    monkeypatch.setattr(tfenv, "search_mirror", lambda: None)
    assert tfenv.main(["mirror"]) == 1
