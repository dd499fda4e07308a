"""Static checks of every Terraform configuration: fmt, init, validate, and the module tests.

    python -m tools.infra.tfcheck            # everything
    python -m tools.infra.tfcheck --only eks # one module (or infra, infra/bootstrap)

Exits non-zero on the first failing step and says which configuration and which command failed.
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

from tools.common import REPO_ROOT, CommandError, run
from tools.infra import tfenv

# A check here takes seconds to a minute; one that runs for ten is hung (a provider waiting on a lock).
_STEP_TIMEOUT_SECONDS = 600


class CheckFailedError(RuntimeError):
    """A terraform command failed; the message names the configuration and the command."""


def terraform(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    try:
        result = run([tfenv.terraform_binary(), *args], cwd=cwd, env=env, timeout=_STEP_TIMEOUT_SECONDS)
    except CommandError as error:
        raise CheckFailedError(str(error)) from error
    if result.returncode != 0:
        where = cwd.relative_to(REPO_ROOT)
        output = result.stdout + result.stderr
        msg = f"{where}: terraform {' '.join(args)} failed ({result.returncode})\n{output}"
        raise CheckFailedError(msg)
    return result.stdout


def fmt_check() -> None:
    terraform(["fmt", "-check", "-recursive", "-diff"], tfenv.INFRA_DIR, tfenv.terraform_env())


def init(config_dir: Path, env: dict[str, str]) -> None:
    args = ["init", "-backend=false", "-no-color"]
    if tfenv.is_root_config(config_dir):
        # The committed lock file is the truth: a provider that does not match it fails here.
        args.append("-lockfile=readonly")
    terraform(args, config_dir, env)


def validate(config_dir: Path) -> None:
    """init (against the committed lock file for root configurations) and validate."""
    env = tfenv.terraform_env(tfenv.data_dir_for(config_dir))
    init(config_dir, env)
    terraform(["validate", "-no-color"], config_dir, env)


def has_tests(config_dir: Path) -> bool:
    return any((config_dir / "tests").glob("*.tftest.hcl"))


def test(config_dir: Path) -> str:
    """terraform test in a working directory `validate` already initialised."""
    env = tfenv.terraform_env(tfenv.data_dir_for(config_dir))
    return terraform(["test", "-no-color"], config_dir, env)


@dataclass(frozen=True)
class ConfigResult:
    """What `validate` and (for modules with tests) `terraform test` said about one configuration."""

    config_dir: Path
    error: str | None
    test_summary: str | None

    @property
    def name(self) -> str:
        return str(self.config_dir.relative_to(REPO_ROOT))


def check_config(config_dir: Path) -> ConfigResult:
    try:
        validate(config_dir)
        summary = test(config_dir).strip().splitlines()[-1] if has_tests(config_dir) else None
    except CheckFailedError as error:
        return ConfigResult(config_dir, str(error), None)
    return ConfigResult(config_dir, None, summary)


def check_configs(config_dirs: list[Path], workers: int | None = None) -> list[ConfigResult]:
    """Validate and test configurations concurrently (each terraform run is one busy core)."""
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        return list(pool.map(check_config, config_dirs))


def select(only: str | None) -> list[Path]:
    dirs = tfenv.config_dirs()
    if only is None:
        return dirs
    chosen = [d for d in dirs if only in {d.name, str(d.relative_to(REPO_ROOT))}]
    if not chosen:
        names = ", ".join(str(d.relative_to(REPO_ROOT)) for d in dirs)
        msg = f"--only {only}: no such configuration (one of: {names})"
        raise CheckFailedError(msg)
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", help="one configuration: a module name, infra or infra/bootstrap")
    args = parser.parse_args(argv)
    try:
        source = tfenv.provider_source()
        print(f"hashicorp/aws from {source.kind}: {source.detail}", flush=True)
        started = time.monotonic()
        fmt_check()
        print("ok   terraform fmt -check -recursive infra", flush=True)
        results = check_configs(select(args.only))
        for result in results:
            if result.error is not None:
                print(f"FAIL {result.name}\n{result.error}", flush=True)
                continue
            print(f"ok   init + validate  {result.name}", flush=True)
            if result.test_summary is not None:
                print(f"ok   terraform test   {result.name}: {result.test_summary}", flush=True)
        failed = [r.name for r in results if r.error is not None]
        if failed:
            print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
            return 1
        print(f"infra checks passed in {time.monotonic() - started:.0f}s")
    except (tfenv.TerraformEnvError, CheckFailedError) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
