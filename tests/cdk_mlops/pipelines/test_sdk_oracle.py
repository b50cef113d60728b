"""Oracle: the same pipeline built by the SageMaker Python SDK (under moto) has the same structure.

The SDK lives in its own environment, /work/main/.venv-sdk, created from
tests/oracle/requirements-sdk.txt; these tests are skipped when it is missing:

    python3.11 -m venv .venv-sdk && .venv-sdk/bin/pip install -r tests/oracle/requirements-sdk.txt

tests/oracle/sdk_training_pipeline.py builds the SDK pipeline from the same literal inputs in a
subprocess of that environment; here its definition is compared with ours: steps, types, the
dependency edges (DependsOn, data references, branches), parameters and, step by step, the
arguments (a short list of SDK-only defaults aside).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cdk_mlops.pipelines import Pipeline
from cdk_mlops.pipelines.images import (
    NEWER_THAN_ORACLE_SDK,
    SDK_TRAINING_ONLY_VERSIONS,
    SKLEARN_FRAMEWORK_VERSIONS,
    SKLEARN_REGISTRY_ACCOUNTS,
)
from tests.cdk_mlops.pipelines.example import oracle_settings
from tests.cdk_mlops.pipelines.test_schema import unexplained, unused
from tests.cdk_mlops.pipelines.validators import (
    iter_steps,
    schema_errors,
    validate_definition_requests,
)

ROOT = Path(__file__).resolve().parents[3]
SDK_PYTHON = ROOT / ".venv-sdk" / "bin" / "python"
SCRIPT = ROOT / "tests" / "oracle" / "sdk_training_pipeline.py"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not SDK_PYTHON.exists(),
        reason=(
            "SageMaker SDK oracle environment missing: python3.11 -m venv .venv-sdk && "
            ".venv-sdk/bin/pip install -r tests/oracle/requirements-sdk.txt"
        ),
    ),
]

# The SDK's RegisterModel step collection names its step "<name>-RegisterModel".
SDK_SUFFIX = "-RegisterModel"
# Arguments the SDK always writes and we leave out (defaults, or empty groups).
SDK_ONLY_ARGUMENTS: dict[str, dict[str, Any]] = {
    "Training": {"ProfilerConfig": {"DisableProfiler": True}},
    "RegisterModel": {"SkipModelValidation": "None"},
}
SDK_EMPTY_METRIC_GROUPS: dict[str, dict[str, Any]] = {"Bias": {}, "Explainability": {}}


@pytest.fixture(scope="module")
def sdk(example_pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The SDK's definition of the same pipeline."""
    folder = tmp_path_factory.mktemp("oracle")
    settings = folder / "settings.json"
    out = folder / "sdk-definition.json"
    settings.write_text(json.dumps(oracle_settings(example_pipeline)))
    # No real credentials reach the SDK: the script sets dummy ones and runs under mock_aws.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        [str(SDK_PYTHON), str(SCRIPT), str(settings), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def normalize(definition: dict[str, Any]) -> dict[str, Any]:
    """Rename the SDK's register step to ours, recursively."""
    text = json.dumps(definition)
    text = re.sub(r'"([A-Za-z0-9_-]+)' + SDK_SUFFIX + '"', r'"\1"', text)
    text = re.sub(r"Steps\.([A-Za-z0-9_-]+)" + SDK_SUFFIX + r"\.", r"Steps.\1.", text)
    result: dict[str, Any] = json.loads(text)
    return result


def structure(definition: dict[str, Any]) -> dict[str, Any]:
    """Step names and types, and edges found by walking the JSON (independent of the builder)."""
    steps = iter_steps(definition["Steps"])
    edges: set[tuple[str, str, str]] = set()

    def refs(node: Any) -> set[str]:
        found: set[str] = set()
        if isinstance(node, dict):
            get = node.get("Get")
            if isinstance(get, str) and get.startswith("Steps."):
                found.add(get.split(".")[1])
            for key, value in node.items():
                if key not in ("IfSteps", "ElseSteps"):
                    found |= refs(value)
        elif isinstance(node, list):
            for item in node:
                found |= refs(item)
        return found

    for step in steps:
        for dep in step.get("DependsOn", []):
            edges.add((dep, step["Name"], "depends_on"))
        for source in refs(step["Arguments"]):
            edges.add((source, step["Name"], "data"))
        if step["Type"] == "Condition":
            for branch in ("IfSteps", "ElseSteps"):
                for child in step["Arguments"][branch]:
                    edges.add((step["Name"], child["Name"], "branch"))
    return {"steps": [(s["Name"], s["Type"]) for s in steps], "edges": edges}


def test_same_steps_types_and_edges(
    sdk: dict[str, Any], example_definition: dict[str, Any]
) -> None:
    ours = structure(example_definition)
    theirs = structure(normalize(sdk))
    assert ours["steps"] == theirs["steps"]
    assert ours["edges"] == theirs["edges"]
    assert len(ours["edges"]) == 17


def test_builder_edges_match_the_edges_in_the_json(
    example_pipeline: Pipeline, example_definition: dict[str, Any]
) -> None:
    built = {(e.source, e.target, e.kind) for e in example_pipeline.edges}
    assert built == structure(example_definition)["edges"]


def test_same_parameters_and_experiment_config(
    sdk: dict[str, Any], example_definition: dict[str, Any]
) -> None:
    assert sdk["Parameters"] == example_definition["Parameters"]
    assert sdk["PipelineExperimentConfig"] == example_definition["PipelineExperimentConfig"]
    assert sdk["Version"] == example_definition["Version"]


def test_same_arguments_step_by_step(
    sdk: dict[str, Any], example_definition: dict[str, Any]
) -> None:
    theirs = {s["Name"]: s for s in iter_steps(normalize(sdk)["Steps"])}
    compared = 0
    for ours in iter_steps(example_definition["Steps"]):
        other = json.loads(json.dumps(theirs[ours["Name"]]))
        args = other["Arguments"]
        for key, value in SDK_ONLY_ARGUMENTS.get(ours["Type"], {}).items():
            assert args.pop(key) == value, (ours["Name"], key)
        if ours["Type"] == "RegisterModel":
            for group, value in SDK_EMPTY_METRIC_GROUPS.items():
                if group not in ours["Arguments"]["ModelMetrics"]:
                    assert args["ModelMetrics"].pop(group) == value
        if ours["Type"] == "Condition":
            for branch in ("IfSteps", "ElseSteps"):
                args[branch] = [s["Name"] for s in args[branch]]
            mine = {**ours, "Arguments": dict(ours["Arguments"])}
            for branch in ("IfSteps", "ElseSteps"):
                mine["Arguments"][branch] = [s["Name"] for s in ours["Arguments"][branch]]
            assert mine == other
        else:
            assert ours == other, ours["Name"]
        compared += 1
    assert compared == 8


def test_sdk_definition_passes_our_request_validator(sdk: dict[str, Any]) -> None:
    result = validate_definition_requests(sdk)
    assert len(result) == 6
    assert result == {key: [] for key in result}


def test_sdk_definition_shows_the_same_schema_deviations(sdk: dict[str, Any]) -> None:
    errors = schema_errors(sdk)
    assert unexplained(errors) == []
    # The SDK's own output exhibits every deviation we list: they are the schema's, not ours.
    assert unused(errors) == []


def test_image_table_matches_the_installed_sdk() -> None:
    [config] = (ROOT / ".venv-sdk" / "lib").glob(
        "python3*/site-packages/sagemaker/image_uri_config/sklearn.json"
    )
    table = json.loads(config.read_text())
    for scope in ("training", "inference"):
        versions = table[scope]["versions"]
        for version in SKLEARN_FRAMEWORK_VERSIONS:
            if version in NEWER_THAN_ORACLE_SDK:
                # added after the pinned SDK; provenance in images.py
                assert version not in versions, (
                    f"{version} is now in the pinned SDK: drop it from NEWER_THAN_ORACLE_SDK"
                )
                continue
            if scope == "inference" and version in SDK_TRAINING_ONLY_VERSIONS:
                # the SDK has no inference entry for it (the image serves all the same)
                assert version not in versions, f"{version} is now in the SDK's inference scope"
                continue
            registries = versions[version]["registries"]
            assert versions[version]["repository"] == "sagemaker-scikit-learn"
            for region, account in SKLEARN_REGISTRY_ACCOUNTS.items():
                assert registries[region] == account, (scope, version, region)


def test_structure_comparison_canary(example_definition: dict[str, Any]) -> None:
    """The comparison above notices a dropped dependency or a renamed step."""
    broken = json.loads(json.dumps(example_definition))
    del broken["Steps"][5]["DependsOn"]
    assert structure(broken)["edges"] != structure(example_definition)["edges"]
    broken["Steps"][4]["Name"] = "Baseline2"
    assert structure(broken)["steps"] != structure(example_definition)["steps"]


def test_execution_variables_match_the_sdk() -> None:
    from cdk_mlops.pipelines import ExecutionVariable

    [source] = (ROOT / ".venv-sdk" / "lib").glob(
        "python3*/site-packages/sagemaker/workflow/execution_variables.py"
    )
    names = set(re.findall(r'= ExecutionVariable\("(\w+)"\)', source.read_text()))
    assert names == set(ExecutionVariable.KNOWN)
