"""The definition against AWS's published pipeline-definition JSON schema, per step type.

The schema (data/sagemaker-pipeline-definition.schema.json, from shared/schemas, April 2025) is stale:
the SageMaker SDK's own output fails it. ``KNOWN_DEVIATIONS`` lists each place where the schema
disagrees with what the SDK writes and the service accepts; every error must be one of them, and
every listed deviation must still occur (so the list stays true as the schema or builder change).
tests/cdk_mlops/pipelines/test_sdk_oracle.py checks the SDK's own definition against the same
list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from tests.cdk_mlops.pipelines.validators import SchemaError, schema_errors


def _unexpected(message: str) -> set[str]:
    """Names in "Additional properties are not allowed ('A', 'B' were unexpected)"."""
    inner = re.search(r"\((.*) (?:was|were) unexpected\)", message)
    return set(re.findall(r"'([^']+)'", inner.group(1))) if inner else set()


@dataclass(frozen=True)
class Deviation:
    """One known disagreement between the stale schema and the SDK/service."""

    scope: str
    path: str  # regex on the dotted error path
    keyword: str
    reason: str
    extra_names: frozenset[str] = frozenset()  # for additionalProperties
    message: str = ""  # regex on the message, for the other keywords

    def matches(self, error: SchemaError) -> bool:
        if error.scope != self.scope or error.keyword != self.keyword:
            return False
        if not re.fullmatch(self.path, error.path):
            return False
        if self.keyword == "additionalProperties":
            return _unexpected(error.message) <= self.extra_names
        return re.search(self.message, error.message) is not None


JOIN = r"^\{'Std:Join'"
RETRY = r"RetryPolicies\.\d+\.ExceptionType"
RETRY_REASON = "the SDK writes ExceptionType as a list of strings; the schema wants one string"

KNOWN_DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        "Pipeline", "", "additionalProperties", "no PipelineExperimentConfig at the top level",
        extra_names=frozenset({"PipelineExperimentConfig", "MlflowConfig"}),
    ),
    Deviation(
        "Pipeline", r"Parameters\.\d+", "oneOf",
        "StringParameter lacks EnumValues (ParameterString(enum_values=...))",
        message="EnumValues",
    ),
    *(
        Deviation(scope, RETRY, keyword, RETRY_REASON, message=r"^\[")
        for scope in ("Processing", "Training", "RegisterModel")
        for keyword in ("type", "enum")
    ),
    Deviation(
        "Processing", r"Arguments\.Environment\.\w+", "oneOf",
        "Environment values are only a string or Get, not Std:JsonGet (the SDK writes a JsonGet "
        "given in Processor(env=...) as it is)",
        message="Std:JsonGet",
    ),
    Deviation(
        "Processing", "", "additionalProperties", "ProcessingStep has no PropertyFiles",
        extra_names=frozenset({"PropertyFiles"}),
    ),
    Deviation(
        "Processing", r"Arguments\.(ProcessingInputs|ProcessingOutputConfig\.Outputs)\.\d+",
        "additionalProperties", "inputs/outputs lack AppManaged (the SDK always writes it)",
        extra_names=frozenset({"AppManaged"}),
    ),
    Deviation(
        "Training", r"Arguments\.AlgorithmSpecification", "additionalProperties",
        "AlgorithmSpecification lacks ContainerEntrypoint/ContainerArguments (API of 2023)",
        extra_names=frozenset({"ContainerEntrypoint", "ContainerArguments"}),
    ),
    Deviation(
        "Training", r"Arguments", "additionalProperties",
        "training Arguments lack Environment (and ProfilerConfig, which the SDK writes)",
        extra_names=frozenset({"Environment", "ProfilerConfig"}),
    ),
    *(
        Deviation(
            scope, r"Arguments\..*", "oneOf",
            "StringArgumentValue allows Get but not Std:Join (S3 URIs, messages, ...)",
            message=JOIN,
        )
        for scope in ("Processing", "Training", "RegisterModel", "Fail")
    ),
    Deviation(
        "Condition", r"Arguments\.Conditions\.\d+", "oneOf",
        "condition operands allow Get but not Std:JsonGet (the SDK's JsonGet on a property file)",
        message="Std:JsonGet",
    ),
    Deviation(
        "RegisterModel", r"Arguments", "additionalProperties",
        "CreateModelPackage members missing from the schema",
        extra_names=frozenset(
            {
                "CustomerMetadataProperties",
                "DriftCheckBaselines",
                "MetadataProperties",
                "ModelApprovalStatus",
                "SkipModelValidation",
            }
        ),
    ),
    Deviation(
        "RegisterModel", r"Arguments\.InferenceSpecification\.Containers\.\d+",
        "additionalProperties", "model containers lack Environment",
        extra_names=frozenset({"Environment"}),
    ),
)  # fmt: skip


def unexplained(errors: list[SchemaError]) -> list[SchemaError]:
    """Errors no known deviation explains."""
    return [e for e in errors if not any(d.matches(e) for d in KNOWN_DEVIATIONS)]


def unused(errors: list[SchemaError]) -> list[Deviation]:
    """Known deviations no error exhibits."""
    return [d for d in KNOWN_DEVIATIONS if not any(d.matches(e) for e in errors)]


@pytest.fixture(scope="module")
def errors(example_definition: dict[str, Any]) -> list[SchemaError]:
    """Schema errors of the example definition."""
    return schema_errors(example_definition)


def test_every_schema_error_is_a_known_deviation(errors: list[SchemaError]) -> None:
    assert unexplained(errors) == []


def test_every_known_deviation_still_occurs(errors: list[SchemaError]) -> None:
    # If one disappears, the schema or the builder changed: update the list.
    assert unused(errors) == []


@pytest.mark.parametrize(
    "step_type", ["Processing", "Training", "Condition", "RegisterModel", "Fail"]
)
def test_each_step_type_was_checked(errors: list[SchemaError], step_type: str) -> None:
    assert any(e.scope == step_type for e in errors)


def test_a_definition_without_the_deviating_features_passes_cleanly() -> None:
    """Plain steps (no Join, no JsonGet, no property files, no retries) pass the schema as is."""
    from cdk_mlops.pipelines import (
        ConditionEquals,
        ConditionStep,
        FailStep,
        ParameterString,
        Pipeline,
    )
    from tests.cdk_mlops.pipelines.example import processing

    plain = Pipeline(
        parameters=[ParameterString(name="Mode", default_value="a")],
        steps=[
            processing(),
            ConditionStep(
                name="Gate",
                conditions=[ConditionEquals(left=ParameterString(name="Mode"), right="a")],
                else_steps=[FailStep(name="Stop", error_message="mode is not a")],
            ),
        ],
    )
    found = schema_errors(plain.to_definition())
    # Only AppManaged remains: the SDK writes it on every processing input and output.
    assert {(e.scope, e.keyword) for e in found} == {("Processing", "additionalProperties")}
    assert unexplained(found) == []


def test_schema_canary_catches_a_real_mistake(example_definition: dict[str, Any]) -> None:
    import copy

    broken = copy.deepcopy(example_definition)
    broken["Steps"][2]["Arguments"]["ResourceConfig"]["InstanceCount"] = "one"
    bad = unexplained(schema_errors(broken))
    assert any(e.scope == "Training" and "InstanceCount" in e.path for e in bad), bad
