#!/usr/bin/env bash
# Does this pull request need the terraform plan job? It does when it changes the infrastructure, the
# terraform-compliance features or the plan tooling, and comes from this repository: GitHub gives pull
# requests from forks no OIDC token (and the plan role trusts this repository's pull requests only).
#
# Environment: BASE_SHA, HEAD_SHA (the pull request's commits), HEAD_REPOSITORY (OWNER/REPO it comes
# from), GITHUB_REPOSITORY, GITHUB_OUTPUT. Writes plan=true or plan=false to GITHUB_OUTPUT.
set -euo pipefail

for variable in BASE_SHA HEAD_SHA HEAD_REPOSITORY GITHUB_REPOSITORY GITHUB_OUTPUT; do
  if [[ -z ${!variable:-} ]]; then
    echo "error: $variable is not set" >&2
    exit 2
  fi
done

watched=(infra policies/terraform .github/workflows/ci.yml .github/scripts/terraform_plan.sh tools/deploy/plan_summary.py tools/common.py)
# Three dots: what the pull request changed since it branched, not what main gained meanwhile.
changed=$(git diff --name-only "${BASE_SHA}...${HEAD_SHA}" -- "${watched[@]}")

if [[ -z $changed ]]; then
  plan=false
  echo "No change to ${watched[*]}: no terraform plan needed."
elif [[ $HEAD_REPOSITORY != "$GITHUB_REPOSITORY" ]]; then
  plan=false
  echo "::warning title=Terraform plan skipped::This pull request from ${HEAD_REPOSITORY} changes the infrastructure, but GitHub gives pull requests from forks no OIDC token, so the read-only plan role cannot be assumed. A maintainer must review the plan from a branch of ${GITHUB_REPOSITORY} before merging."
else
  plan=true
  echo "Infrastructure changed, the plan job runs:"
  echo "$changed"
fi
echo "plan=${plan}" >>"$GITHUB_OUTPUT"
