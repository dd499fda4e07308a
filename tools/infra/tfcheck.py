"""Static checks of every Terraform configuration: fmt, init, validate, and the module tests.

python -m tools.infra.tfcheck            # everything
python -m tools.infra.tfcheck --only eks # one module (or infra, infra/bootstrap)
"""
# ruff: noqa: T201 -- a command-line tool: printing is its output

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tools.common import REPO_ROOT
from tools.infra import tfenv
from tools.infra.tfenv import TerraformEnvError, terraform


@dataclass(frozen=True)
class ConfigResult:
    """What `validate` and (for modules with tests) `terraform test` said about one configuration."""

    name: str
    error: str | None
    test_summary: str | None


def has_tests(config_dir: Path) -> bool:
    return any((config_dir / "tests").glob("*.tftest.hcl"))


def check_config(config_dir: Path) -> ConfigResult:
    """init (root configurations against their committed lock file), validate, and the module's tests."""
    name = str(config_dir.relative_to(REPO_ROOT))
    # A TF_DATA_DIR of its own under build/, so the checks never touch a developer's .terraform.
    env = tfenv.terraform_env(tfenv.BUILD_DIR / "check" / name.replace("/", "__") / ".terraform")
    # The committed lock file is the truth: a provider that does not match it fails here.
    locked = ["-lockfile=readonly"] if name in tfenv.ROOT_CONFIGS else []
    try:
        terraform(["init", "-backend=false", "-no-color", *locked], config_dir, env, name)
        terraform(["validate", "-no-color"], config_dir, env, name)
        tested = terraform(["test", "-no-color"], config_dir, env, name) if has_tests(config_dir) else ""
    except TerraformEnvError as error:
        return ConfigResult(name, str(error), None)
    return ConfigResult(name, None, tested.strip().splitlines()[-1] if tested.strip() else None)


def check_configs(config_dirs: list[Path]) -> list[ConfigResult]:
    """Validate and test configurations concurrently (each terraform run is one busy core)."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return list(pool.map(check_config, config_dirs))


def main(argv: list[str] | None = None) -> int:
    dirs = {str(d.relative_to(REPO_ROOT)): d for d in tfenv.config_dirs()}
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=sorted({*dirs, *(d.name for d in dirs.values())}), metavar="NAME")
    args = parser.parse_args(argv)
    chosen = [d for name, d in dirs.items() if args.only in {None, name, d.name}]
    try:
        source = tfenv.provider_source()
        print(f"hashicorp/aws from {source.kind}: {source.detail}", flush=True)
        started = time.monotonic()
        terraform(["fmt", "-check", "-recursive", "-diff"], tfenv.INFRA_DIR, tfenv.terraform_env(), "infra")
        print("ok   terraform fmt -check -recursive infra", flush=True)
        results = check_configs(chosen)
    except TerraformEnvError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    for result in results:
        if result.error is not None:
            print(f"FAIL {result.name}\n{result.error}", flush=True)
            continue
        print(f"ok   init + validate  {result.name}", flush=True)
        if result.test_summary is not None:
            print(f"ok   terraform test   {result.name}: {result.test_summary}", flush=True)
    if failed := [r.name for r in results if r.error is not None]:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"infra checks passed in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
