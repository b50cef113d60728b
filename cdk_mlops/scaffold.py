"""``cdk-mlops new <folder>``: a new ML project repository that builds on cdk-mlops.

It writes, in a folder that must not exist yet (or be empty):

- ``<package>/``: the team's own code, a copy of ``pipeline_code`` under the package's name
  (the contract: ``processing/preprocess``, ``training/train``, ``evaluation/evaluate``,
  ``etl/glue_job``, ``inference/handler``, ``schemas/``); its modules import each other
  relatively, so it runs under its own name;
- ``app.py``: the chosen level's stack on that code (``code_dir``), every cdk-nag pack on;
- ``cdk.json``: the app command and the feature flags cdk-mlops is tested with;
- ``tests/``: the stack synthesizes with every pack, and the team's code trains and evaluates
  a model on generated data;
- ``Makefile``: ``make synth`` (cdk synth, then cfn-lint and checkov when installed) and
  ``make test`` (pytest), on the project's ``.venv`` and ``node_modules`` (created when
  missing, or given with ``PYTHON=`` and ``CDK=``);
- ``requirements.txt``, ``package.json`` (the pinned CDK CLI), ``.github/workflows/ci.yml``,
  ``.gitignore`` and a README.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

from cdk_mlops.assets import PIPELINE_CODE_DIR

ROOT = Path(__file__).resolve().parent.parent
_PROJECT = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
LEVEL_STACKS = {2: "RepeatableStack", 3: "ReliableStack", 4: "ScalableStack"}
EXIT_USAGE = 2


class ScaffoldError(ValueError):
    """A bad ``cdk-mlops new`` argument; the message names it and the fix."""


def _cdk_cli_version() -> str:
    package = (
        json.loads((ROOT / "package.json").read_text()) if (ROOT / "package.json").is_file() else {}
    )
    deps = {**package.get("devDependencies", {}), **package.get("dependencies", {})}
    return str(deps.get("aws-cdk", "^2"))


def _feature_flags() -> dict[str, object]:
    path = ROOT / "cdk.json"
    context: dict[str, object] = json.loads(path.read_text())["context"] if path.is_file() else {}
    return context


APP = '''#!/usr/bin/env python3
"""{project}: cdk-mlops level {level} on the team's own code ({package}/)."""

from pathlib import Path

import aws_cdk as cdk

from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.levels import RepeatableSettings
from cdk_mlops.stacks import {stack}

CODE = Path(__file__).resolve().parent / "{package}"


def build_app(app: cdk.App | None = None) -> cdk.App:
    app = app or cdk.App()
    add_compliance_checks(app)
    {stack}(
        app,
        "{stack_id}",
        repeatable=RepeatableSettings(
            code_dir=CODE,
            schema="{schema}",
            intended_use="{intended_use}",
        ),
        tags={{"project": "{project}", "owner": "{owner}", "cost-centre": "{cost_centre}",
              "data-classification": "confidential"}},
    )
    return app


if __name__ == "__main__":
    build_app().synth()
'''

TEST_APP = '''"""The stack synthesizes with every cdk-nag pack and ships this project's code."""

import json

from aws_cdk.assertions import Template

import aws_cdk as cdk
from app import build_app


def test_the_stack_synthesizes_with_every_pack(tmp_path):
    app = build_app(cdk.App(outdir=str(tmp_path)))
    assembly = app.synth()  # raises on any unacknowledged cdk-nag finding
    (stack,) = assembly.stacks
    template = Template.from_json(stack.template)
    template.resource_count_is("AWS::SageMaker::Pipeline", 1)
    definition = json.dumps(stack.template)
    assert "{package}.processing.preprocess" in definition  # our code runs, not pipeline_code
'''

TEST_CODE = '''"""The team's code trains, evaluates and gates a model on generated data."""

import json

from {package}.data.generate import main as generate
from {package}.evaluation.evaluate import main as evaluate
from {package}.processing.preprocess import main as preprocess
from {package}.training.train import main as train


def test_the_code_trains_and_evaluates(tmp_path):
    data = tmp_path / "data.csv"
    assert generate(["--schema", "{schema}", "--rows", "600", "--bad-fraction", "0",
                     "--output", str(data)]) == 0
    splits = tmp_path / "splits"
    assert preprocess(["--input", str(data), "--output-dir", str(splits),
                       "--schema", "{schema}"]) == 0
    model = tmp_path / "model"
    assert train(["--train", str(splits / "train"), "--validation", str(splits / "validation"),
                  "--model-dir", str(model), "--schema", "{schema}"]) == 0
    out = tmp_path / "evaluation"
    assert evaluate(["--model", str(model), "--test", str(splits / "test"),
                     "--output-dir", str(out)]) == 0
    report = json.loads((out / "evaluation.json").read_text())
    assert report["binary_classification_metrics"]["auc"]["value"] > 0.5
'''

MAKEFILE = """# make synth: cdk synth (every cdk-nag pack), then cfn-lint and checkov on cdk.out.
# make test: the project's tests. Both create .venv and node_modules when missing; give
# PYTHON= and CDK= to use ones you have.
VENV := .venv
PYTHON ?= $(VENV)/bin/python
CDK ?= node_modules/.bin/cdk
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true

.PHONY: synth test deps

deps:
\t@test -x $(PYTHON) || (python3 -m venv $(VENV) && $(VENV)/bin/pip install -q -r requirements.txt)
\t@test -x $(CDK) || npm install --no-audit --no-fund

synth: deps
\t$(CDK) synth --no-notices --quiet --app "$(PYTHON) app.py"
\t$(PYTHON) -m cdk_mlops.checks cdk.out $$(command -v checkov >/dev/null || echo --no-checkov)

test: deps
\t$(PYTHON) -m pytest -q tests
"""

CI = """name: ci
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with: {python-version: "3.11"}
      - uses: actions/setup-node@v4
        with: {node-version: "22"}
      - run: make synth
      - run: make test
"""

README = """# {project}

An ML project on [cdk-mlops](https://pypi.org/project/cdk-mlops/) level {level}, created with
`cdk-mlops new`.

- `{package}/`: our code. It keeps `pipeline_code`'s layout (the contract the pipeline runs:
  `processing/preprocess`, `training/train`, `evaluation/evaluate`, `etl/glue_job`,
  `inference/handler`, `schemas/`); change the model, the features and the schema here. Its
  modules import each other relatively, so it runs under its own name.
- `app.py`: the `{stack}` on that code, every cdk-nag pack on.

```bash
make synth   # cdk synth with every cdk-nag pack, then cfn-lint (and checkov when installed)
make test    # the stack synthesizes; our code trains and evaluates a model on generated data
npx cdk deploy {stack_id}   # with AWS credentials
```
"""


def new_project(
    folder: str | Path,
    *,
    level: int = 2,
    schema: str = "churn",
    package: str | None = None,
    owner: str = "ml-team",
    cost_centre: str = "ml-platform",
    intended_use: str = "Describe what the model is for",
    requirement: str | None = None,
) -> Path:
    """Write a new project into ``folder`` and return it; see the module docstring."""
    target = Path(folder)
    if target.exists() and any(target.iterdir()):
        raise ScaffoldError(
            f"folder {str(target)!r} is not empty; give a new folder (cdk-mlops new my-project)"
        )
    project = target.name
    if not _PROJECT.match(project):
        raise ScaffoldError(
            f"project name {project!r} is not allowed; use lowercase letters, digits and '-', "
            "starting with a letter (e.g. fraud-detection)"
        )
    if level not in LEVEL_STACKS:
        raise ScaffoldError(f"level {level!r} is not allowed; use one of {sorted(LEVEL_STACKS)}")
    package = package or project.replace("-", "_") + "_ml"
    if not re.fullmatch(r"[a-z][a-z0-9_]*", package) or package == "pipeline_code":
        raise ScaffoldError(
            f"package name {package!r} is not allowed; a lowercase Python identifier other "
            "than pipeline_code (e.g. fraud_ml)"
        )
    schemas = sorted(p.stem for p in (PIPELINE_CODE_DIR / "schemas").glob("*.json"))
    if schema not in schemas:
        raise ScaffoldError(f"schema {schema!r} is not allowed; use one of {schemas}")
    if not re.fullmatch(r"[\w\s.:/=+\-@]{1,256}", intended_use):
        raise ScaffoldError(
            f"intended use {intended_use!r} is not allowed: 1 to 256 letters, digits, spaces "
            "and _.:/=+-@ (no commas)"
        )

    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        PIPELINE_CODE_DIR, target / package, ignore=shutil.ignore_patterns("__pycache__")
    )
    values = {
        "project": project, "package": package, "level": level, "schema": schema,
        "stack": LEVEL_STACKS[level], "stack_id": f"{project.title().replace('-', '')}Level{level}",
        "owner": owner, "cost_centre": cost_centre, "intended_use": intended_use,
    }  # fmt: skip
    files = {
        "app.py": APP.format(**values),
        "tests/__init__.py": "",
        "tests/conftest.py": "import sys\nfrom pathlib import Path\n\n"
        "sys.path.insert(0, str(Path(__file__).resolve().parent.parent))\n",
        "tests/test_app.py": TEST_APP.format(**values),
        "tests/test_code.py": TEST_CODE.format(**values),
        "Makefile": MAKEFILE,
        "cdk.json": json.dumps({"app": "python3 app.py", "context": _feature_flags()}, indent=2)
        + "\n",
        "package.json": json.dumps(
            {"name": project, "private": True, "devDependencies": {"aws-cdk": _cdk_cli_version()}},
            indent=2,
        )
        + "\n",
        "requirements.txt": (requirement or "cdk-mlops[ml,checks]") + "\npytest\n",
        ".github/workflows/ci.yml": CI,
        ".gitignore": "cdk.out/\n.venv/\nnode_modules/\n__pycache__/\n",
        "README.md": README.format(**values),
    }
    for name, text in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target


def add_new_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "folder", type=Path, help="the new project's folder (its name is the project's)"
    )
    parser.add_argument("--level", type=int, default=2, choices=sorted(LEVEL_STACKS),
                        help="maturity level of the stack (default: 2)")  # fmt: skip
    parser.add_argument("--schema", default="churn", help="built-in schema to start from")
    parser.add_argument("--package", help="the code package's name (default: <project>_ml)")
    parser.add_argument("--owner", default="ml-team", help="the owner tag")
    parser.add_argument("--cost-centre", default="ml-platform", help="the cost-centre tag")
    parser.add_argument("--intended-use", default="Describe what the model is for",
                        help="recorded on every model version")  # fmt: skip
    parser.add_argument(
        "--requirement", help="pip requirement of cdk-mlops (default: cdk-mlops[ml,checks])"
    )


def new_command(args: argparse.Namespace) -> int:
    try:
        path = new_project(
            args.folder, level=args.level, schema=args.schema, package=args.package,
            owner=args.owner, cost_centre=args.cost_centre, intended_use=args.intended_use,
            requirement=args.requirement,
        )  # fmt: skip
    except ScaffoldError as error:
        print(f"cdk-mlops new: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(f"created {path}: cd {path} && make synth && make test")
    return 0
