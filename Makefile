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
BUILD := build
# The service card (api/service.json) is the one source of the port; HOST stays loopback by default.
HOST ?= 127.0.0.1
PORT ?= $(shell $(PYTHON) -c 'import json; print(json.load(open("api/service.json"))["port"])')

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

$(RUN_VENV)/.synced: $(UV) pyproject.toml uv.lock
	UV_PROJECT_ENVIRONMENT=$(RUN_VENV) $(UV) sync --frozen --no-default-groups --quiet
	@touch $@

$(VENV)/.all: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-groups --quiet
	@touch $@

.PHONY: bootstrap
bootstrap: $(VENV)/.all $(RUN_VENV)/.synced ## Install the pinned uv, the dev environment and the runtime one

# ---------------------------------------------------------------- service
.PHONY: run
run: $(RUN_VENV)/.synced ## Serve the API in the foreground on HOST:PORT (default 127.0.0.1:8000), production settings
	PREDICTOR_HOST=$(HOST) PREDICTOR_PORT=$(PORT) exec $(RUN_VENV)/bin/python -m api

.PHONY: bench
bench: $(VENV)/.all $(RUN_VENV)/.synced ## Benchmark the service against floor and FastAPI baselines with wrk (writes build/bench.json)
	$(PY) -m tests.load.bench --output $(BUILD)/bench.json

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

# ---------------------------------------------------------------- manifests (issue 4)
# IMAGE deploys that image reference instead of the configured one (CI: the pushed REPO@sha256:...);
# ENVIRONMENT synthesizes only that environment's folders (IMAGE must be in its repository).
IMAGE ?=
ENVIRONMENT ?=
SYNTH_CHECK_DIR := $(BUILD)/synth-check

.PHONY: synth
synth: $(VENV)/.all ## Synthesize dist/ from manifests_py (validated; IMAGE=REPO@sha256:... ENVIRONMENT=prod for a deploy)
	$(PY) -m manifests_py --out dist $(if $(ENVIRONMENT),--environment '$(ENVIRONMENT)') $(if $(IMAGE),--image '$(IMAGE)')

.PHONY: synth-check
synth-check: $(VENV)/.all ## Fail if dist/ is not exactly what `make synth` writes (drift)
	rm -rf $(SYNTH_CHECK_DIR)
	$(PY) -m manifests_py --quiet --out $(SYNTH_CHECK_DIR)/dist
	@diff -ru dist $(SYNTH_CHECK_DIR)/dist || { echo "dist/ is stale: run 'make synth' and commit dist/" >&2; exit 1; }
	@echo "dist/ matches a fresh synthesis"

# ---------------------------------------------------------------- image (issue 3)

# ---------------------------------------------------------------- infra (issue 5)

# ---------------------------------------------------------------- policy (issue 6)

# ---------------------------------------------------------------- pipeline (issue 7)

# ---------------------------------------------------------------- proofs (issue 8)

# ---------------------------------------------------------------- capacity (issue 9)

# ---------------------------------------------------------------- tests
.PHONY: test
test: $(VENV)/.all ## Run every test that can run on this machine (unit, HTTP, system)
	$(PY) -m pytest

.PHONY: clean
clean: ## Remove build output and caches (keeps .tools and .venv)
	rm -rf $(BUILD) .pytest_cache .mypy_cache .ruff_cache
