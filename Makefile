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

.PHONY: synth test container-test lint typecheck deps run-local bench clean

SDK_VENV := .venv-sdk
CONTAINER_VENV := .venv-container

deps: $(VENV)/.installed node_modules/.installed $(CHECKOV_VENV)/.installed $(SDK_VENV)/.installed $(CONTAINER_VENV)/.installed

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

# pipeline_code must also run on the library versions of the older SageMaker scikit-learn
# 1.4-2 image (numpy 2.1, scikit-learn 1.4.2, pandas 2.2): a second environment pinned to them.
$(CONTAINER_VENV)/.installed: requirements/container-sklearn-1.4-2.txt pyproject.toml
	test -x $(CONTAINER_VENV)/bin/python || $(PYTHON) -m venv $(CONTAINER_VENV)
	$(CONTAINER_VENV)/bin/python -m pip install -q --upgrade pip
	$(CONTAINER_VENV)/bin/python -m pip install -q -r requirements/container-sklearn-1.4-2.txt
	$(CONTAINER_VENV)/bin/python -m pip install -q --no-deps -e .
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
	$(VENV)/bin/mypy --python-version 3.10 pipeline_code

## The whole suite: lint, types, unit and integration tests, compliance gates.
test: deps lint typecheck
	$(PY) -m pytest -n 2 --dist loadfile -q
	$(MAKE) --no-print-directory container-test

## pipeline_code's unit and end-to-end tests on the 1.4-2 image's library versions (no Spark there).
container-test: $(CONTAINER_VENV)/.installed
	$(CONTAINER_VENV)/bin/python -m pytest tests/pipeline_code tests/integration -q -n 2 --dist loadfile -p no:cacheprovider -W error::FutureWarning

run-local: $(VENV)/.installed
	$(VENV)/bin/cdk-mlops run-local

## Benchmarks print numbers side by side (drift also builds .venv-evidently on first use).
bench: deps
	$(PY) benchmarks/bench_synth.py
	$(PY) benchmarks/bench_inference.py
	$(PY) benchmarks/bench_drift.py
	$(PY) benchmarks/bench_run_local.py

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
