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

.PHONY: synth test container-test container-test-1.4-2 container-test-xgboost lint typecheck deps deps-synth run-local bench clean

SDK_VENV := .venv-sdk
# pipeline_code's tests also run in environments that reproduce a SageMaker scikit-learn image:
# its Python (the "# python: X.Y" line of the requirements file) and its library versions.
# .venv-container: the library's default image, 1.9-0 (make test); .venv-container-1.4-2: the
# older 1.4-2 image, still offered (make container-test-1.4-2, not part of make test).
CONTAINER_VENV := .venv-container
CONTAINER_VENV_1_4_2 := .venv-container-1.4-2
# .venv-container-xgboost: the XGBoost 3.0-5 image, where the distributed backend's model is
# packaged, evaluated and served (make container-test-xgboost, part of make test).
CONTAINER_VENV_XGBOOST := .venv-container-xgboost
# An interpreter to use instead of searching PATH and pyenv (must be the image's X.Y).
CONTAINER_PYTHON ?=

# What `make synth` (the main job) needs: the project, the CDK CLI, checkov. Nothing else.
deps-synth: $(VENV)/.installed node_modules/.installed $(CHECKOV_VENV)/.installed
# Everything, for `make test`: also the SageMaker SDK oracle and the container environment.
deps: deps-synth $(SDK_VENV)/.installed $(CONTAINER_VENV)/.installed $(CONTAINER_VENV_XGBOOST)/.installed

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

# The X.Y on the "# python: X.Y" line of requirements file $(1).
requirements_python = $(shell sed -n 's/^# python: *//p' $(1))
# The first interpreter that really is Python $(1): python$(1) on PATH, then pyenv's builds.
find_python = $(shell for p in python$(1) $$(ls -d "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/$(1).*/bin/python$(1) 2>/dev/null | sort -rV); do \
	"$$p" -c 'import sys; sys.exit(sys.version_info[:2] != ($(subst .,$(comma),$(1))))' 2>/dev/null && { command -v "$$p"; break; }; done)
comma := ,
# $(call container_venv,DIR,REQUIREMENTS): (re)create DIR on the image's Python, install the
# image's libraries and test tools from REQUIREMENTS, then the project without dependencies
# (--ignore-requires-python: the library needs 3.11, pipeline_code alone also runs on 3.10).
define container_venv
	@want='$(call requirements_python,$(2))'; py='$(or $(CONTAINER_PYTHON),$(call find_python,$(call requirements_python,$(2))))'; \
	if [ -z "$$want" ]; then echo "$(2) has no '# python: X.Y' line" >&2; exit 1; fi; \
	if [ -z "$$py" ]; then echo "$(1) needs Python $$want (the image's interpreter), found none on PATH or under pyenv: install it (e.g. pyenv install $$want) or pass CONTAINER_PYTHON=/path/to/python$$want" >&2; exit 1; fi; \
	if ! $(1)/bin/python -c "import sys; sys.exit(sys.version_info[:2] != ($(subst .,$(comma),$(call requirements_python,$(2)))))" 2>/dev/null; then \
		echo "creating $(1) with $$py"; rm -rf $(1) && "$$py" -m venv $(1); fi
	$(1)/bin/python -m pip install -q --upgrade pip
	$(1)/bin/python -m pip install -q -r $(2)
	$(1)/bin/python -m pip install -q --no-deps --ignore-requires-python -e .
	touch $(1)/.installed
endef

$(CONTAINER_VENV)/.installed: requirements/container-sklearn-1.9-0.txt pyproject.toml
	$(call container_venv,$(CONTAINER_VENV),$<)

$(CONTAINER_VENV_1_4_2)/.installed: requirements/container-sklearn-1.4-2.txt pyproject.toml
	$(call container_venv,$(CONTAINER_VENV_1_4_2),$<)

$(CONTAINER_VENV_XGBOOST)/.installed: requirements/container-xgboost-3.0-5.txt pyproject.toml
	$(call container_venv,$(CONTAINER_VENV_XGBOOST),$<)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## The main job: synthesize every stack in app.py with cdk-nag (4 packs), then cfn-lint and checkov.
synth: deps-synth
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
	$(VENV)/bin/mypy --python-version 3.12 pipeline_code

## The whole suite: lint, types, unit and integration tests, compliance gates.
test: deps lint typecheck
	$(PY) -m pytest -n 2 --dist loadfile -q
	$(MAKE) --no-print-directory container-test
	$(MAKE) --no-print-directory container-test-xgboost

CONTAINER_PYTEST := -m pytest tests/pipeline_code tests/integration -q -n 2 --dist loadfile -p no:cacheprovider -W error::FutureWarning

## pipeline_code's unit and end-to-end tests on the default image's Python and libraries
## (scikit-learn 1.9-0: Python 3.12; no Spark there).
container-test: $(CONTAINER_VENV)/.installed
	$(CONTAINER_VENV)/bin/python $(CONTAINER_PYTEST)

## The same on the older 1.4-2 image's Python 3.10 and libraries (not part of make test).
container-test-1.4-2: $(CONTAINER_VENV_1_4_2)/.installed
	$(CONTAINER_VENV_1_4_2)/bin/python $(CONTAINER_PYTEST)

## pipeline_code's tests on the XGBoost 3.0-5 image's Python 3.10 and libraries: the distributed
## backend's encode, package, evaluate and serving run there.
container-test-xgboost: $(CONTAINER_VENV_XGBOOST)/.installed
	$(CONTAINER_VENV_XGBOOST)/bin/python $(CONTAINER_PYTEST)

run-local: $(VENV)/.installed
	$(VENV)/bin/cdk-mlops run-local

## Benchmarks print numbers side by side (drift also builds .venv-evidently on first use).
bench: deps-synth
	$(PY) benchmarks/bench_synth.py
	$(PY) benchmarks/bench_inference.py
	$(PY) benchmarks/bench_drift.py
	$(PY) benchmarks/bench_run_local.py

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
