"""Plans the policy gates judge, made by really planning Terraform against the AWS emulator on loopback:
the root's by `tools.infra.offline_plan` on the judged root's infra/ (what `make infra-plan` runs), so a
copy of the repository is planned exactly as the repository is; a configuration on its own (a module
with example inputs, a test fixture) here, in a scratch copy, so nothing is written into the source tree.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from policies.model import GateError
from policies.workspace import Root
from tools.common import REPO_ROOT, CommandError, run, tail
from tools.infra import aws_emulator, tfenv

PLAN_TIMEOUT_SECONDS = 600
REGION = "eu-west-1"


def plan_root(root: Root, out: Path) -> dict[str, Any]:
    """`tools.infra.offline_plan` of the judged root's infra/; the plan JSON is written to `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    # The provider mirror is found once (tfenv searches the disk) and handed to every plan of this run.
    try:
        mirror = tfenv.provider_source().mirror
    except tfenv.TerraformEnvError as error:
        raise GateError(str(error)) from error
    env = (
        {tfenv.MIRROR_ENV: str(mirror)} if mirror is not None and not os.environ.get(tfenv.MIRROR_ENV) else {}
    )
    command = [
        sys.executable,
        "-m",
        "tools.infra.offline_plan",
        "--infra",
        str(root.infra),
        "--out",
        str(out),
        "--bootstrap-out",
        str(out.with_name("bootstrap-plan.json")),
    ]
    what = f"terraform plan of {root.relative(root.infra)}"
    try:
        result = run(command, timeout=PLAN_TIMEOUT_SECONDS, cwd=REPO_ROOT, env=env)
    except CommandError as error:
        msg = f"{what}: {error}"
        raise GateError(msg) from error
    if result.returncode != 0:
        msg = f"{what} failed ({result.returncode}):\n{tail(result.stdout + result.stderr, 40)}"
        raise GateError(msg)
    return load_plan(out)


def load_plan(path: Path) -> dict[str, Any]:
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        msg = f"plan {path} does not exist"
        raise GateError(msg) from error
    except (OSError, ValueError) as error:
        msg = f"plan {path} is not readable JSON: {error}"
        raise GateError(msg) from error
    if not isinstance(plan, dict) or "format_version" not in plan or "planned_values" not in plan:
        msg = f"{path} is not a plan's JSON (`terraform show -json PLANFILE`)"
        raise GateError(msg)
    return plan


def plan_configs(configs: list[tuple[Path, dict[str, Any]]], workdir: Path) -> list[dict[str, Any]]:
    """Plan each (configuration directory, input variables) in a scratch copy against one emulator.

    A configuration without a provider block (a module) gets the default provider, in REGION."""
    workdir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="plan-", dir=workdir.resolve()))
    plans: list[dict[str, Any]] = []
    try:
        with aws_emulator.running(scratch / "emulator", lifetime_seconds=600) as aws:
            for index, (config, variables) in enumerate(configs):
                copy = scratch / f"config-{index}"
                shutil.copytree(config, copy, ignore=shutil.ignore_patterns(".terraform", "tests", "*.md"))
                (copy / "policy-inputs.auto.tfvars.json").write_text(json.dumps(variables), encoding="utf-8")
                env = tfenv.terraform_env(
                    data_dir=copy / ".terraform",
                    extra={**aws.env(), "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION},
                )
                lock = ["-lockfile=readonly"] if (copy / ".terraform.lock.hcl").is_file() else []
                step = f"plan of {config}"
                tfenv.terraform(["init", "-no-color", "-backend=false", *lock], copy, env, step)
                tfenv.terraform(["plan", "-no-color", "-out=policy.tfplan"], copy, env, step)
                plans.append(json.loads(tfenv.terraform(["show", "-json", "policy.tfplan"], copy, env, step)))
    except (tfenv.TerraformEnvError, aws_emulator.EmulatorError) as error:
        raise GateError(str(error)) from error
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return plans
