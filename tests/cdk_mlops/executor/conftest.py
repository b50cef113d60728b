"""Level 2 templates synthesized with real asset staging (the executor publishes the staged
assets to moto), once per test worker, and small data sets for end-to-end runs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from cdk_mlops.executor.template import SynthesizedTemplate
from tests.cdk_mlops.helpers import FEATURE_FLAGS

#: Rows of the end-to-end data sets: enough for a stable AUC, small enough for a quick run.
E2E_ROWS = 2000


def synthesize_level2(outdir: Path, **settings: Any) -> Path:
    """``RepeatableStack`` written to ``outdir`` with its assets staged; the template path."""
    from cdk_mlops.levels import RepeatableSettings
    from cdk_mlops.stacks import RepeatableStack

    app = cdk.App(
        context={**FEATURE_FLAGS, "aws:cdk:bundling-stacks": []},
        outdir=str(outdir),
        builtin_cloud_formation_validation=False,
    )
    RepeatableStack(app, "MlopsLevel2", repeatable=RepeatableSettings(**settings))
    app.synth()
    return outdir / "MlopsLevel2.template.json"


@pytest.fixture(scope="session")
def level2_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize_level2(tmp_path_factory.mktemp("level2-cdk.out"))


@pytest.fixture(scope="session")
def level2_definition(level2_template: Path) -> dict[str, Any]:
    return SynthesizedTemplate.load(level2_template).pipeline().definition


@pytest.fixture
def definition(level2_definition: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of the Level 2 definition, for a test to break."""
    return copy.deepcopy(level2_definition)


def step_of(definition: dict[str, Any], name: str) -> dict[str, Any]:
    """The step ``name`` of ``definition`` itself (condition branches included), to mutate."""
    pending = list(definition["Steps"])
    while pending:
        step = pending.pop(0)
        if step["Name"] == name:
            return step
        args = step.get("Arguments", {})
        pending += args.get("IfSteps", []) + args.get("ElseSteps", [])
    raise AssertionError(f"no step {name}")


def generate_csv(path: Path, schema: str = "churn", rows: int = E2E_ROWS) -> Path:
    from pipeline_code.data import generate as gen
    from pipeline_code.data.tables import resolve_schema

    data = gen.generate(resolve_schema(schema), rows, seed=0, bad_fraction=0.01)
    return Path(data.to_csv(path))


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
