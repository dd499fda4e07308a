"""`terraform plan` of the whole root configuration against a moto server, saved as plan JSON.

    python infra/scripts/offline_plan.py [--out build/infra/plan.json]

1. start moto on loopback over HTTPS (aws_emulator.py);
2. plan infra/bootstrap (saved as --bootstrap-out) and create the state bucket it names, with a KMS
   key, in the emulator;
3. init the root with its real S3 backend pointed at that bucket (endpoints and path-style addressing
   live in a generated file under build/, never in the configuration), native lock file included;
4. plan with infra/terraform.tfvars.example and write `terraform show -json` of the saved plan to
   --out, through a temporary file, so a failed run never leaves a partial plan behind.
"""
# ruff: noqa: INP001, T201 -- a script directory (not a package) of command-line tools that print

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aws_emulator
import tfenv

ROOT = tfenv.INFRA_DIR
BOOTSTRAP = tfenv.INFRA_DIR / "bootstrap"
WORKDIRS = tfenv.BUILD_DIR / "offline-plan"
DEFAULT_OUT = tfenv.BUILD_DIR / "plan.json"
DEFAULT_BOOTSTRAP_OUT = tfenv.BUILD_DIR / "bootstrap-plan.json"


class PlanFailedError(RuntimeError):
    """A step of the offline plan failed; the message names it and carries Terraform's output."""


# A plan here takes seconds; a step that runs for ten minutes is hung (a provider waiting on an API).
TERRAFORM_STEP_TIMEOUT_SECONDS = 600


def terraform(args: list[str], cwd: Path, env: dict[str, str], step: str) -> str:
    command = [tfenv.terraform_binary(), *args]
    try:
        result = subprocess.run(  # noqa: S603
            command,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=TERRAFORM_STEP_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as error:
        msg = f"{step}: terraform {args[0]} did not finish within {TERRAFORM_STEP_TIMEOUT_SECONDS} s"
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
    import boto3  # noqa: PLC0415 -- moto's dependency, only needed with the emulator

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
    msg = f"{config_dir.relative_to(tfenv.REPO_ROOT)}/terraform.tfvars.example has no {name}"
    raise PlanFailedError(msg)


def write_atomic(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as handle:
        json.dump(document, handle, indent=1, sort_keys=True)
    Path(handle.name).replace(path)


def offline_plan(out: Path, bootstrap_out: Path) -> dict[str, Any]:
    """Plan both configurations against a fresh emulator; the scratch directory is this run's own
    (two runs in one checkout do not share an emulator or a backend) and is kept only on failure."""
    WORKDIRS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="run-", dir=WORKDIRS))
    try:
        with aws_emulator.running(workdir) as aws:
            env = tfenv.terraform_env(extra=aws.env())
            bootstrap_env = {**env, "TF_DATA_DIR": str(workdir / "bootstrap" / ".terraform")}
            bootstrap_plan = plan_config(BOOTSTRAP, bootstrap_env, ["-backend=false"], "bootstrap", workdir)
            region = tfvar(BOOTSTRAP, "region")
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
                ROOT, root_env, ["-reconfigure", f"-backend-config={backend}"], "root", workdir
            )
    except (PlanFailedError, aws_emulator.EmulatorError) as error:
        msg = f"{error}\n(emulator log and working files kept in {workdir})"
        raise type(error)(msg) from error
    write_atomic(bootstrap_out, bootstrap_plan)
    write_atomic(out, plan)
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
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        plan = offline_plan(args.out.resolve(), args.bootstrap_out.resolve())
    except (tfenv.TerraformEnvError, aws_emulator.EmulatorError, PlanFailedError) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    changes = plan["resource_changes"]
    print(f"planned {len(changes)} resource changes in {time.monotonic() - started:.0f}s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
