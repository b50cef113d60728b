"""Pipeline expressions, parameters and conditions, evaluated as SageMaker evaluates them."""

from __future__ import annotations

from typing import Any

import pytest

from cdk_mlops.executor import ExecutorError
from cdk_mlops.executor.expressions import (
    Context,
    Parameter,
    evaluate_condition,
    parameter_values,
    parse_parameters,
    parse_path,
)

EVALUATION = {"binary_classification_metrics": {"auc": {"value": 0.81}}, "list": [{"x": 1}]}


def _ctx(**parameters: Any) -> Context:
    ctx = Context(
        parameters={"Threshold": 0.75, "Name": "n", **parameters},
        execution={"PipelineExecutionId": "e1"},
        properties={
            "Pre": {
                "ProcessingOutputConfig": {
                    "Outputs": [
                        {"OutputName": "train", "S3Output": {"S3Uri": "s3://b/train"}},
                        {"OutputName": "test", "S3Output": {"S3Uri": "s3://b/test"}},
                    ]
                }
            },
            "Eval": {},
        },
    )
    ctx.property_file = lambda step, name: (EVALUATION, "evaluation.json")
    return ctx


def _json_get(path: str) -> dict[str, Any]:
    return {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Eval.PropertyFiles.Report"},
            "Path": path,
        }
    }


def test_parse_path() -> None:
    assert parse_path("A.B['c'][0].D") == ["A", "B", "c", 0, "D"]
    with pytest.raises(ValueError, match="cannot read"):
        parse_path("A..B")


def test_get_join_and_json_get() -> None:
    ctx = _ctx()
    value = {
        "Std:Join": {
            "On": "/",
            "Values": [
                {"Get": "Steps.Pre.ProcessingOutputConfig.Outputs['test'].S3Output.S3Uri"},
                {"Get": "Execution.PipelineExecutionId"},
                {"Get": "Parameters.Threshold"},
                True,
            ],
        }
    }
    assert ctx.evaluate(value, step="S", where="F") == "s3://b/test/e1/0.75/true"
    assert (
        ctx.evaluate(_json_get("binary_classification_metrics.auc.value"), step="S", where="F")
        == 0.81
    )
    assert ctx.evaluate(_json_get("list[0].x"), step="S", where="F") == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Get": "Parameters.Nope"}, "no parameter 'Nope'"),
        ({"Get": "Execution.Nope"}, "unknown execution variable"),
        ({"Get": "Steps.Later.Foo"}, "step 'Later' has not run before this one"),
        ({"Get": "Steps.Pre.PropertyFiles.X"}, "read through Std:JsonGet, not Get"),
        ({"Get": "Steps.Pre.ProcessingOutputConfig.Outputs[5]"}, r"no element \[5\]"),
        ({"Get": "Other.X"}, "expected Parameters"),
        ({"Std:Join": {"On": "/", "Values": [{"a": 1}]}}, "is not a primitive"),
        ({"Std:Join": "x"}, "needs On and Values"),
        ({"Std:JsonGet": {"S3Uri": "s3://b/k", "Path": "a"}}, "the S3Uri form is not supported"),
        (_json_get("list[3].x"), r"no element \[3\] under list"),
        ({"Std:Upper": {}}, "unknown function Std:Upper"),
    ],
)
def test_fails_naming_step_and_field(value: Any, message: str) -> None:
    with pytest.raises(ExecutorError, match=message) as caught:
        _ctx().evaluate({"Env": {"X": value}}, step="Step1", where="Arguments")
    assert str(caught.value).startswith("step Step1, field Arguments.Env.X: ")


def test_parameters_defaults_overrides_and_types() -> None:
    declared = parse_parameters(
        {
            "Parameters": [
                {"Name": "S", "Type": "String", "DefaultValue": "a", "EnumValues": ["a", "b"]},
                {"Name": "I", "Type": "Integer", "DefaultValue": 3},
                {"Name": "F", "Type": "Float", "DefaultValue": 0.5},
                {"Name": "B", "Type": "Boolean", "DefaultValue": False},
            ]
        }
    )
    assert parameter_values(declared, {}) == {"S": "a", "I": 3, "F": 0.5, "B": False}
    assert parameter_values(declared, {"S": "b", "I": "7", "F": "1", "B": "true"}) == {
        "S": "b",
        "I": 7,
        "F": 1.0,
        "B": True,
    }


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"S": "c"}, r"parameter S \(String, --parameter\): 'c' is not one of the allowed values"),
        ({"I": "1.5"}, r"parameter I \(Integer, --parameter\): '1.5' is not a valid Integer"),
        ({"F": "nan"}, r"parameter F \(Float, --parameter\): 'nan' is not a valid Float"),
        ({"B": "yes"}, r"parameter B \(Boolean, --parameter\): 'yes' is not a valid Boolean"),
        ({"Z": "1"}, r"--parameter Z: not a parameter of this pipeline"),
    ],
)
def test_fails_on_bad_parameter_values(overrides: dict[str, str], message: str) -> None:
    declared = {
        "S": Parameter("S", "String", "a", ("a", "b")),
        "I": Parameter("I", "Integer", 1),
        "F": Parameter("F", "Float", 0.5),
        "B": Parameter("B", "Boolean", True),
    }
    with pytest.raises(ExecutorError, match=message):
        parameter_values(declared, overrides)


def test_fails_on_a_parameter_without_default_or_with_an_unknown_type() -> None:
    with pytest.raises(ExecutorError, match="parameter X has no DefaultValue; pass --parameter X="):
        parameter_values({"X": Parameter("X", "String")}, {})
    with pytest.raises(ExecutorError, match=r"Parameters\[0\] \(X\): type 'Text' is not one of"):
        parse_parameters({"Parameters": [{"Name": "X", "Type": "Text"}]})


def _cond(kind: str, left: Any, right: Any) -> dict[str, Any]:
    return {"Type": kind, "LeftValue": left, "RightValue": right}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (
            _cond(
                "GreaterThanOrEqualTo",
                _json_get("binary_classification_metrics.auc.value"),
                {"Get": "Parameters.Threshold"},
            ),
            True,
        ),
        (_cond("GreaterThan", 0.75, {"Get": "Parameters.Threshold"}), False),
        (_cond("LessThan", 1, 2), True),
        (_cond("LessThanOrEqualTo", 2, 2), True),
        (_cond("Equals", {"Get": "Parameters.Name"}, "n"), True),
        ({"Type": "In", "QueryValue": "n", "Values": ["a", {"Get": "Parameters.Name"}]}, True),
        ({"Type": "Not", "Expression": _cond("Equals", 1, 1)}, False),
        ({"Type": "Or", "Conditions": [_cond("Equals", 1, 2), _cond("Equals", 2, 2)]}, True),
    ],
)
def test_conditions(condition: dict[str, Any], expected: bool) -> None:
    assert evaluate_condition(condition, _ctx(), step="Gate", where="Conditions[0]") is expected


def test_fails_on_conditions_it_cannot_compare() -> None:
    with pytest.raises(
        ExecutorError,
        match=r"^step Gate, field Conditions\[0\]: GreaterThanOrEqualTo compares 'NaN' \(str\) with 0.75",
    ):
        evaluate_condition(
            _cond("GreaterThanOrEqualTo", "NaN", {"Get": "Parameters.Threshold"}),
            _ctx(),
            step="Gate",
            where="Conditions[0]",
        )
    with pytest.raises(ExecutorError, match="condition type 'Between' is not one of"):
        evaluate_condition({"Type": "Between"}, _ctx(), step="Gate", where="Conditions[0]")
