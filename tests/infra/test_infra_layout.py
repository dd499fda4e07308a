"""Static properties of infra/: layout, documentation, pins, skips and single sources of truth."""

from __future__ import annotations

import re

import pytest

from tools.common import REPO_ROOT
from tools.infra import tfdocs, tfenv

CONFIG_DIRS = tfenv.config_dirs()
IDS = [str(d.relative_to(REPO_ROOT)) for d in CONFIG_DIRS]
_AWS_CONSTRAINT = re.compile(r'source  = "hashicorp/aws"\s+version = "([^"]+)"')


def _aws_constraint(config_dir):
    found = _AWS_CONSTRAINT.search((config_dir / "versions.tf").read_text())
    assert found, f"{config_dir.relative_to(REPO_ROOT)}/versions.tf does not constrain hashicorp/aws"
    return found.group(1)


def _satisfies(version, constraint):
    """Terraform's comma-separated >=, <, <=, >, = and != constraints on a dotted version."""

    def parts(text):
        return tuple(int(n) for n in text.split("."))

    def padded(a, b):
        width = max(len(a), len(b))
        return a + (0,) * (width - len(a)), b + (0,) * (width - len(b))

    compare = {
        ">=": lambda a, b: a >= b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        "<": lambda a, b: a < b,
        "!=": lambda a, b: a != b,
        "=": lambda a, b: a == b,
    }
    for clause in constraint.split(","):
        operator, bound = re.fullmatch(r"\s*(>=|<=|>|<|!=|=)?\s*([0-9.]+)\s*", clause).groups()
        if not compare[operator or "="](*padded(parts(version), parts(bound))):
            return False
    return True


def _terraform_sources(config_dir):
    return {p.name: p.read_text() for p in config_dir.glob("*.tf")}


@pytest.mark.parametrize("config_dir", CONFIG_DIRS, ids=IDS)
def test_each_configuration_has_the_standard_files(config_dir):
    missing = [
        f
        for f in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md")
        if not (config_dir / f).is_file()
    ]
    assert not missing, f"{config_dir.relative_to(REPO_ROOT)} lacks {missing}"


@pytest.mark.parametrize("config_dir", CONFIG_DIRS, ids=IDS)
def test_each_configuration_pins_the_aws_provider_range(config_dir):
    versions = (config_dir / "versions.tf").read_text()
    # One range for every configuration, bounded above so a major release is a decision, not a surprise.
    assert _aws_constraint(config_dir) == _aws_constraint(REPO_ROOT / "infra")
    assert re.search(r"<\s*[0-9]", _aws_constraint(config_dir)), "the provider range needs an upper bound"
    assert re.search(r'required_version = ">= 1\.(9|1[0-9])"', versions)


@pytest.mark.parametrize("config_dir", CONFIG_DIRS, ids=IDS)
def test_readme_tables_match_the_variables_and_outputs(config_dir):
    readme, current, wanted = tfdocs.updated_readme(config_dir)
    assert current == wanted, f"{readme.relative_to(REPO_ROOT)} is stale: run make infra-docs"


@pytest.mark.parametrize("config_dir", CONFIG_DIRS, ids=IDS)
def test_every_variable_and_output_is_described_and_typed(config_dir):
    blocks = tfdocs.blocks(config_dir)  # raises DocsError naming any undescribed or untyped block
    assert any(b.kind == "output" for b in blocks), "a configuration without outputs composes nothing"


def test_docs_generator_rejects_undescribed_or_untyped_variables(tmp_path):
    (tmp_path / "variables.tf").write_text('variable "x" {\n  type = string\n}\n')
    with pytest.raises(tfdocs.DocsError, match="variable x has no description"):
        tfdocs.blocks(tmp_path)
    (tmp_path / "variables.tf").write_text('variable "y" {\n  description = "why"\n}\n')
    with pytest.raises(tfdocs.DocsError, match="variable y has no type"):
        tfdocs.blocks(tmp_path)


def test_root_and_bootstrap_commit_the_same_lock_file_with_every_platform():
    root = (REPO_ROOT / "infra" / ".terraform.lock.hcl").read_text()
    bootstrap = (REPO_ROOT / "infra" / "bootstrap" / ".terraform.lock.hcl").read_text()
    assert root == bootstrap
    locked = re.search(r'provider "registry\.terraform\.io/hashicorp/aws" \{\s+version\s+= "([0-9.]+)"', root)
    assert locked, "the lock file does not lock hashicorp/aws"
    constraint = _aws_constraint(REPO_ROOT / "infra")
    assert _satisfies(locked.group(1), constraint), f"locked {locked.group(1)} is outside {constraint}"
    assert re.search(r'"h1:[A-Za-z0-9+/=]{44}"', root)
    # zh: hashes of the registry's platform zips (not only the h1: of the one platform the mirror serves),
    # so downloads verify on every developer's platform, whatever the version a bump brings.
    assert len(re.findall(r'"zh:[0-9a-f]{64}"', root)) > 1


def test_the_provider_range_check_reads_terraform_constraints():
    assert _satisfies("5.100.0", ">= 5.100, < 7.0")
    assert _satisfies("6.2.1", ">= 5.100, < 7.0")
    assert not _satisfies("7.0.0", ">= 5.100, < 7.0")
    assert not _satisfies("5.99.9", ">= 5.100, < 7.0")


def test_module_lock_files_are_not_committed():
    ignore = (REPO_ROOT / "infra" / ".gitignore").read_text()
    assert "/modules/**/.terraform.lock.hcl" in ignore


def test_every_checkov_skip_names_its_reason():
    skips = []
    for tf_file in (REPO_ROOT / "infra").rglob("*.tf"):
        skips += [
            (tf_file, line.strip()) for line in tf_file.read_text().splitlines() if "checkov:skip" in line
        ]
    assert skips, "expected the reasoned skips of infra/ (ALB log bucket SSE-S3, ...)"
    unexplained = [
        f"{f.relative_to(REPO_ROOT)}: {s}"
        for f, s in skips
        if not re.fullmatch(r"#checkov:skip=CKV2?_AWS_\d+:\S.{15,}", s)
    ]
    assert not unexplained, f"skips without a reason: {unexplained}"


def test_the_provider_block_carries_no_emulator_or_test_setting():
    providers = (REPO_ROOT / "infra" / "providers.tf").read_text()
    for forbidden in (
        "endpoint",
        "skip_",
        "s3_use_path_style",
        "access_key",
        "secret_key",
        "insecure",
        "127.0.0.1",
    ):
        assert forbidden not in providers, f"providers.tf must not carry {forbidden}"


def test_service_facts_are_read_from_the_service_card_not_retyped(service_card):
    facts = {
        str(service_card["port"]),
        f'"{service_card["paths"]["readiness"]}"',
        f'"{service_card["name"]}"',
        f'"{service_card["namespace"]}"',
        f'"{service_card["deployer_group"]}"',
        f'"{service_card["load_balancer"]["tls_policy"]}"',
    }
    infra = REPO_ROOT / "infra"
    sources = [p for p in infra.rglob("*.tf") if "tests" not in p.relative_to(infra).parts]
    retyped = [
        f"{p.relative_to(REPO_ROOT)}: {fact}"
        for p in sources
        for fact in facts
        if re.search(rf"(?<![\w.]){re.escape(fact)}(?![\w.])", p.read_text())
    ]
    assert not retyped, f"service facts retyped instead of read from api/service.json: {retyped}"
    assert (
        'jsondecode(file("${path.module}/../api/service.json"))'
        in (REPO_ROOT / "infra" / "main.tf").read_text()
    )


def test_no_machine_specific_provider_path_is_written_in_the_repository():
    source = tfenv.provider_source()
    if source.mirror is None:
        pytest.skip("no provider mirror on this machine, so there is no path that could have leaked")
    mirror = str(source.mirror)
    tracked = [
        *(REPO_ROOT / "infra").rglob("*"),
        *(REPO_ROOT / "tests" / "infra").rglob("*"),
        REPO_ROOT / "Makefile",
    ]
    leaked = [
        str(p.relative_to(REPO_ROOT))
        for p in tracked
        if p.is_file() and ".terraform" not in p.parts and mirror in p.read_text(errors="ignore")
    ]
    assert not leaked, f"{mirror} is written in {leaked}; take it from TF_PROVIDER_MIRROR or a CLI config"


def ignored_on_the_https_listener(listeners_tf: str) -> list[str]:
    """What the HTTPS listener's lifecycle tells Terraform to ignore (the plan JSON does not carry it)."""
    start = listeners_tf.index('resource "aws_lb_listener" "https"')
    block = listeners_tf[start : listeners_tf.index('\nresource "', start + 1)]
    found = re.search(r"^\s*ignore_changes\s*=\s*\[(.*)\]\s*$", block, re.MULTILINE)
    return [item.strip() for item in found.group(1).split(",")] if found else []


def test_the_release_moves_the_weights_and_terraform_ignores_only_them():
    listeners = (REPO_ROOT / "infra" / "modules" / "alb" / "listeners.tf").read_text()
    assert ignored_on_the_https_listener(listeners) == ["default_action[0].forward[0].target_group"]
    assert ignored_on_the_https_listener(listeners.replace("ignore_changes", "# ignore_changes")) == []
    wider = listeners.replace("[default_action[0].forward[0].target_group]", "[default_action]")
    assert ignored_on_the_https_listener(wider) != ["default_action[0].forward[0].target_group"]
