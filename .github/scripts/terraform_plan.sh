#!/usr/bin/env bash
# The read-only terraform plan of infra/ for a pull request, run with the plan role's credentials:
# init against the real state backend (lock file honoured, read-only), validate, plan without taking the
# state lock (the role may not write, not even the lock), and export the plan as JSON for
# terraform-compliance and the summary.
#
# Usage: terraform_plan.sh OUT_DIR
# Environment: TF_BACKEND_HCL (the backend.hcl contents: bucket, key, region, kms_key_id) and TF_VARS
# (the terraform.tfvars contents), both from repository variables.
# Writes OUT_DIR/plan.txt (human), OUT_DIR/plan.json (terraform show -json) and OUT_DIR/tfplan.
set -euo pipefail

out=${1:?usage: terraform_plan.sh OUT_DIR}
missing=0
for variable in TF_BACKEND_HCL TF_VARS; do
  if [[ -z ${!variable:-} ]]; then
    echo "error: the repository variable $variable is not set (README: Wiring a fork to an AWS account)" >&2
    missing=1
  fi
done
if ! command -v terraform >/dev/null; then
  echo "error: terraform is not on PATH" >&2
  missing=1
fi
((missing == 0)) || exit 2

mkdir -p "$out"
out=$(cd "$out" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -f "$out/plan.json" "$out/plan.txt" "$out/tfplan"
printf '%s\n' "$TF_BACKEND_HCL" >"$out/backend.hcl"
printf '%s\n' "$TF_VARS" >"$out/ci.auto.tfvars"

infra=(terraform "-chdir=${root}/infra")
"${infra[@]}" init -input=false -no-color -lockfile=readonly -backend-config="$out/backend.hcl"
"${infra[@]}" validate -no-color
"${infra[@]}" plan -input=false -no-color -lock=false -var-file="$out/ci.auto.tfvars" -out="$out/tfplan" >"$out/plan.txt"
cat "$out/plan.txt"
# Written beside and renamed, so a failed export never leaves a truncated plan.json behind.
"${infra[@]}" show -json "$out/tfplan" >"$out/plan.json.partial"
mv "$out/plan.json.partial" "$out/plan.json"
echo "plan written to $out/plan.json"
