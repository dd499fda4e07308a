"""`make infra-plan`: plan infra/bootstrap, then infra/ on its real S3 backend, against moto on loopback.

Writes `terraform show -json` of each plan of the root configuration atomically (--out, --bootstrap-out);
the plan gate of `make policy` calls offline_plan() on the root it judges. How, and what moto cannot do,
is in infra/README.md ("The plan against moto").
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

from tools.common import write_json
from tools.infra import aws_emulator, tfenv
from tools.infra.tfenv import TerraformEnvError, terraform


def plan_config(
    config_dir: Path, env: dict[str, str], init_args: list[str], step: str, workdir: Path
) -> dict[str, Any]:
    """init + plan + show -json of one root configuration with its terraform.tfvars.example."""
    env = {**env, "TF_DATA_DIR": str(workdir / step / ".terraform")}
    plan_file = workdir / f"{step}.tfplan"
    terraform(["init", "-lockfile=readonly", "-no-color", *init_args], config_dir, env, f"{step} init")
    plan = ["plan", "-no-color", "-var-file=terraform.tfvars.example", f"-out={plan_file}"]
    # Without a backend the lock is a file beside the configuration, which two plans of one checkout (a
    # test session's and `make policy`'s) would both take; a configuration never applied has no state.
    plan += ["-lock=false"] if "-backend=false" in init_args else []
    terraform(plan, config_dir, env, f"{step} plan")
    shown: dict[str, Any] = json.loads(
        terraform(["show", "-json", str(plan_file)], config_dir, env, f"{step} show")
    )
    if not shown.get("resource_changes"):
        msg = f"{step} plan: the plan JSON has no resource_changes"
        raise TerraformEnvError(msg)
    return shown


def planned_output(plan: dict[str, Any], name: str) -> str:
    value = plan.get("planned_values", {}).get("outputs", {}).get(name, {}).get("value")
    if not isinstance(value, str):
        msg = f"bootstrap plan: output {name} is not known at plan time"
        raise TerraformEnvError(msg)
    return value


def create_state_bucket(aws: aws_emulator.Emulator, bucket: str, region: str) -> str:
    """Stand in for an applied bootstrap: the bucket (versioned) and its KMS key, in the emulator.

    Applying infra/bootstrap itself into moto works, but costs a minute of the provider's propagation
    waits, and moto then evaluates the bucket policy's conditional Deny (aws:SecureTransport) as an
    unconditional one, locking the backend out. The bootstrap is planned above instead.
    """
    import boto3  # type: ignore[import-untyped]  # noqa: PLC0415 -- moto's dependency, only needed with the emulator

    env = aws.env()
    key_id, secret = env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    session = boto3.session.Session(
        aws_access_key_id=key_id, aws_secret_access_key=secret, region_name=region
    )
    options = {"endpoint_url": aws.endpoint, "verify": str(aws.ca_bundle)}
    s3 = session.client("s3", **options)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    key = session.client("kms", **options).create_key(Description=f"state of {bucket}")
    return str(key["KeyMetadata"]["Arn"])


def offline_plan(out: Path, bootstrap_out: Path, infra: Path = tfenv.INFRA_DIR) -> dict[str, Any]:
    """Plan ``infra`` and ``infra``/bootstrap against a fresh emulator; the scratch directory is this run's
    own (two runs in one checkout do not share an emulator or a backend) and is kept only on failure."""
    (tfenv.BUILD_DIR / "offline-plan").mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="run-", dir=tfenv.BUILD_DIR / "offline-plan"))
    try:
        with aws_emulator.running(workdir) as aws:
            env = tfenv.terraform_env(extra=aws.env())
            bootstrap_plan = plan_config(infra / "bootstrap", env, ["-backend=false"], "bootstrap", workdir)
            region = bootstrap_plan["variables"]["region"]["value"]  # as terraform read the tfvars
            bucket = planned_output(bootstrap_plan, "state_bucket")
            # The environment-specific half of the partial S3 backend, pointed at the emulator.
            backend = {
                "bucket": bucket,
                "key": planned_output(bootstrap_plan, "state_key"),
                "region": region,
                "kms_key_id": create_state_bucket(aws, bucket, region),
                "use_path_style": True,
            }
            lines = [f"{name} = {json.dumps(value)}" for name, value in backend.items()]
            endpoint = json.dumps(aws.endpoint)
            lines.append(f"endpoints = {{ s3 = {endpoint}, sts = {endpoint} }}")
            (workdir / "backend.hcl").write_text("\n".join(lines) + "\n")
            init = ["-reconfigure", f"-backend-config={workdir / 'backend.hcl'}"]
            plan = plan_config(infra, env, init, "root", workdir)
    except (TerraformEnvError, aws_emulator.EmulatorError) as error:
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
    parser.add_argument("--out", type=Path, default=tfenv.BUILD_DIR / "plan.json", help="root plan JSON")
    default_bootstrap = tfenv.BUILD_DIR / "bootstrap-plan.json"
    parser.add_argument("--bootstrap-out", type=Path, default=default_bootstrap, help="bootstrap plan JSON")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        plan = offline_plan(args.out.resolve(), args.bootstrap_out.resolve())
    except (TerraformEnvError, aws_emulator.EmulatorError) as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    changes = plan["resource_changes"]
    print(f"planned {len(changes)} resource changes in {time.monotonic() - started:.0f}s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
