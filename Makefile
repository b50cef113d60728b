# Two commands on a fresh machine: `make synth` (the main job) and `make test`.
# Each creates what it needs (virtual environments, node modules) when missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
CHECKOV_VENV := .venv-checkov
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: synth test lint typecheck unit deps run-local bench clean

SDK_VENV := .venv-sdk

deps: $(VENV)/.installed node_modules/.installed $(CHECKOV_VENV)/.installed $(SDK_VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements/constraints.txt -e '.[dev]'
	touch $@

# checkov pins boto3/urllib3 versions that clash with ours: it lives in its own environment.
$(CHECKOV_VENV)/.installed: requirements/checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install -q -r requirements/checkov.txt
	touch $@

# The SageMaker SDK is only a test oracle (an equivalent SDK-built pipeline must have our step
# structure); it is large and pins its own versions, so it lives apart too.
$(SDK_VENV)/.installed: tests/oracle/requirements-sdk.txt
	test -x $(SDK_VENV)/bin/python || $(PYTHON) -m venv $(SDK_VENV)
	$(SDK_VENV)/bin/python -m pip install -q -r tests/oracle/requirements-sdk.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## The main job: synthesize every stack in app.py with cdk-nag (4 packs), then cfn-lint and checkov.
synth: deps
	rm -rf cdk.out
	@TIMEFORMAT='cdk synth with cdk-nag (AwsSolutions, HIPAA Security, NIST 800-53 r5, PCI DSS 3.2.1): %R s'; \
	time $(CDK) synth --no-notices --no-validation --quiet
	$(PY) -m cdk_mlops.checks cdk.out --checkov $(CHECKOV_VENV)/bin/checkov

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy cdk_mlops pipeline_code

## The whole suite: lint, types, unit and integration tests, compliance gates.
test: deps lint typecheck
	$(PY) -m pytest -n 2 --dist loadfile -q

run-local: $(VENV)/.installed
	$(VENV)/bin/cdk-mlops run-local

bench: deps
	$(PY) benchmarks/bench_synth.py

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
