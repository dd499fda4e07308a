"""`terraform plan` of the whole root configuration against a moto server, saved as plan JSON.

    python -m tools.infra.offline_plan [--out build/infra/plan.json] [--infra DIR]

1. start moto on loopback over HTTPS (aws_emulator.py);
2. plan infra/bootstrap (saved as --bootstrap-out) and create the state bucket it names, with a KMS
   key, in the emulator;
3. init the root with its real S3 backend pointed at that bucket (endpoints and path-style addressing
   live in a generated file under build/, never in the configuration), native lock file included;
4. plan with infra/terraform.tfvars.example and write `terraform show -json` of the saved plan to
   --out, through a temporary file, so a failed run never leaves a partial plan behind.
"""
# ruff: noqa: T201 -- a command-line tool: printing is its output

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tools.common import CommandError, run, write_json
from tools.infra import aws_emulator, tfenv

WORKDIRS = tfenv.BUILD_DIR / "offline-plan"
DEFAULT_OUT = tfenv.BUILD_DIR / "plan.json"
DEFAULT_BOOTSTRAP_OUT = tfenv.BUILD_DIR / "bootstrap-plan.json"


class PlanFailedError(RuntimeError):
    """A step of the offline plan failed; the message names it and carries Terraform's output."""


# A plan here takes seconds; a step that runs for ten minutes is hung (a provider waiting on an API).
TERRAFORM_STEP_TIMEOUT_SECONDS = 600


def terraform(args: list[str], cwd: Path, env: dict[str, str], step: str) -> str:
    try:
        result = run(
            [tfenv.terraform_binary(), *args], cwd=cwd, env=env, timeout=TERRAFORM_STEP_TIMEOUT_SECONDS
        )
    except CommandError as error:
        msg = f"{step}: {error}"
        raise PlanFailedError(msg) from error
    if result.returncode != 0:
        msg = f"{step}: terraform {args[0]} failed ({result.returncode})\n{result.stdout}{result.stderr}"
        raise PlanFailedError(msg)
    return result.stdout


def plan_config(
    config_dir: Path, env: dict[str, str], init_args: list[str], step: str, workdir: Path
) -> dict[str, Any]:
    """init + plan + show -json of one root configuration with its terraform.tfvars.example."""
    plan_file = workdir / f"{step}.tfplan"
    terraform(["init", "-lockfile=readonly", "-no-color", *init_args], config_dir, env, f"{step} init")
    terraform(
        ["plan", "-no-color", "-var-file=terraform.tfvars.example", f"-out={plan_file}"],
        config_dir,
        env,
        f"{step} plan",
    )
    plan: dict[str, Any] = json.loads(
        terraform(["show", "-json", str(plan_file)], config_dir, env, f"{step} show")
    )
    if not plan.get("resource_changes"):
        msg = f"{step} plan: the plan JSON has no resource_changes"
        raise PlanFailedError(msg)
    return plan


def planned_output(plan: dict[str, Any], name: str) -> str:
    try:
        value = plan["planned_values"]["outputs"][name]["value"]
    except KeyError:
        value = None
    if not isinstance(value, str):
        msg = f"bootstrap plan: output {name} is not known at plan time"
        raise PlanFailedError(msg)
    return value


def create_state_bucket(aws: aws_emulator.Emulator, bucket: str, region: str) -> str:
    """Stand in for an applied bootstrap: the bucket (versioned) and its KMS key, in the emulator.

    Applying infra/bootstrap itself into moto works, but costs a minute of the provider's propagation
    waits, and moto then evaluates the bucket policy's conditional Deny (aws:SecureTransport) as an
    unconditional one, locking the backend out. The bootstrap is planned above instead.
    """
    import boto3  # type: ignore[import-untyped]  # noqa: PLC0415 -- moto's dependency, only needed with the emulator

    session = boto3.session.Session(
        aws_access_key_id=aws.env()["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=aws.env()["AWS_SECRET_ACCESS_KEY"],
        region_name=region,
    )
    options = {"endpoint_url": aws.endpoint, "verify": str(aws.ca_bundle)}
    s3 = session.client("s3", **options)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    key_arn: str = session.client("kms", **options).create_key(Description=f"state of {bucket}")[
        "KeyMetadata"
    ]["Arn"]
    return key_arn


def backend_config(settings: dict[str, str], endpoint: str, workdir: Path) -> Path:
    """The environment-specific half of the partial S3 backend (settings), pointed at the emulator."""
    path = workdir / "backend.hcl"
    lines = [f"{name} = {json.dumps(value)}" for name, value in settings.items()]
    lines += [
        "use_path_style = true",
        f"endpoints = {{ s3 = {json.dumps(endpoint)}, sts = {json.dumps(endpoint)} }}",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def tfvar(config_dir: Path, name: str) -> str:
    for line in (config_dir / "terraform.tfvars.example").read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == name:
            return value.strip().strip('"')
    msg = f"{config_dir}/terraform.tfvars.example has no {name}"
    raise PlanFailedError(msg)


def offline_plan(out: Path, bootstrap_out: Path, infra: Path = tfenv.INFRA_DIR) -> dict[str, Any]:
    """Plan ``infra`` and ``infra``/bootstrap against a fresh emulator; the scratch directory is this run's
    own (two runs in one checkout do not share an emulator or a backend) and is kept only on failure."""
    bootstrap = infra / "bootstrap"
    WORKDIRS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="run-", dir=WORKDIRS))
    try:
        with aws_emulator.running(workdir) as aws:
            env = tfenv.terraform_env(extra=aws.env())
            bootstrap_env = {**env, "TF_DATA_DIR": str(workdir / "bootstrap" / ".terraform")}
            bootstrap_plan = plan_config(bootstrap, bootstrap_env, ["-backend=false"], "bootstrap", workdir)
            region = tfvar(bootstrap, "region")
            bucket = planned_output(bootstrap_plan, "state_bucket")
            settings = {
                "bucket": bucket,
                "key": planned_output(bootstrap_plan, "state_key"),
                "region": region,
                "kms_key_id": create_state_bucket(aws, bucket, region),
            }
            backend = backend_config(settings, aws.endpoint, workdir)
            root_env = {**env, "TF_DATA_DIR": str(workdir / "root" / ".terraform")}
            plan = plan_config(
                infra, root_env, ["-reconfigure", f"-backend-config={backend}"], "root", workdir
            )
    except (PlanFailedError, aws_emulator.EmulatorError) as error:
        msg = f"{error}\n(emulator log and working files kept in {workdir})"
        raise type(error)(msg) from error
    write_json(bootstrap_out, bootstrap_plan)
    write_json(out, plan)
    shutil.rmtree(workdir, ignore_errors=True)
    return plan


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"root plan JSON (default {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--bootstrap-out",
        type=Path,
        default=DEFAULT_BOOTSTRAP_OUT,
        help=f"bootstrap plan JSON (default {DEFAULT_BOOTSTRAP_OUT})",
    )
    parser.add_argument(
        "--infra", type=Path, default=tfenv.INFRA_DIR, help="the root configuration (default: infra/)"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        plan = offline_plan(args.out.resolve(), args.bootstrap_out.resolve(), args.infra.resolve())
    except (tfenv.TerraformEnvError, aws_emulator.EmulatorError, PlanFailedError) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    changes = plan["resource_changes"]
    print(f"planned {len(changes)} resource changes in {time.monotonic() - started:.0f}s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
