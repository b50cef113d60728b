"""The schema format: numeric sensitive attributes with bins, numeric category codes, the docs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pipeline_code import schema as schema_module
from pipeline_code.etl import reasons
from pipeline_code.evaluation.bias import MISSING_GROUP, bias_metrics
from pipeline_code.schema import ColumnSpec, Schema, SchemaError, parse_number

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "schema.md"


def _schema(**sensitive: Any) -> dict[str, Any]:
    return {
        "name": "survey",
        "id_column": "respondent",
        "target": {"name": "satisfied", "positive": 1, "negative": 0},
        "features": [{"name": "answer", "type": "categorical", "categories": [1, 2, 3]}],
        "sensitive_attributes": [{"name": "age", "type": "integer", **sensitive}],
    }


def test_a_numeric_sensitive_attribute_with_bins_is_valid_and_round_trips() -> None:
    schema = Schema.from_dict(_schema(min=18, max=99, bins=[30, 45, 65]))
    age = schema.column("age")
    assert age.bins == (30.0, 45.0, 65.0)
    assert age.bin_labels == ("< 30", "[30, 45)", "[45, 65)", ">= 65")
    assert [age.bin_label(v) for v in (18, 29.9, 30, 44, 45, 65, 99)] == [
        "< 30",
        "< 30",
        "[30, 45)",
        "[30, 45)",
        "[45, 65)",
        ">= 65",
        ">= 65",
    ]
    raw = json.loads(schema.to_json())
    assert raw["sensitive_attributes"][0]["bins"] == [30, 45, 65]
    assert Schema.from_dict(raw) == schema
    fractional = ColumnSpec(name="score", type="float", bins=(0.5, 2.25))
    assert fractional.bin_labels == ("< 0.5", "[0.5, 2.25)", ">= 2.25")


@pytest.mark.parametrize(
    ("sensitive", "feature_bins", "message"),
    [
        ({}, None, "has type 'integer' but no 'bins'; bias metrics need groups"),
        ({"bins": []}, None, "'bins' must be a non-empty list of increasing numbers"),
        ({"bins": "18,30"}, None, "'bins' must be a non-empty list"),
        (
            {"bins": [18, "30"]},
            None,
            "'bins' must hold finite numbers such as [18, 30, 45, 65], got '30'",
        ),
        ({"bins": [18, True]}, None, "'bins' must hold finite numbers"),
        ({"bins": [30, 18]}, None, "strictly increasing, but 30 is followed by 18"),
        ({"bins": [18, 18]}, None, "strictly increasing, but 18 is followed by 18"),
        ({"bins": [18]}, [1, 2], "'bins' only group sensitive attributes"),
    ],
)
def test_bad_bins_are_explained(
    sensitive: dict[str, Any], feature_bins: list[int] | None, message: str
) -> None:
    raw = _schema(**sensitive)
    if feature_bins is not None:
        raw["features"].append({"name": "income", "type": "float", "bins": feature_bins})
    with pytest.raises(SchemaError) as info:
        Schema.from_dict(raw, source="survey.json")
    assert message in str(info.value)
    assert str(info.value).startswith("survey.json")


def test_bins_on_a_categorical_column_are_refused() -> None:
    raw = _schema(bins=[30])
    raw["sensitive_attributes"].append(
        {"name": "sex", "type": "categorical", "categories": ["f", "m"], "bins": [1]}
    )
    with pytest.raises(SchemaError, match=r"\(sex\): 'bins' cut numbers into groups"):
        Schema.from_dict(raw)


def test_bias_metrics_group_a_binned_attribute_by_its_bands() -> None:
    schema = Schema.from_dict(_schema(bins=[30, 45, 65]))
    rng = np.random.default_rng(0)
    age = rng.integers(18, 90, 400).astype(float)
    age[:7] = np.nan
    y = (rng.random(400) < 0.4).astype(int)
    pred = np.where(age >= 65, 1, y)
    df = pd.DataFrame({"age": age, "answer": "1"})
    out = bias_metrics(df, y, pred, schema)["age"]
    assert list(out["groups"]) == ["< 30", "[30, 45)", "[45, 65)", ">= 65", MISSING_GROUP]
    counts = {g: v["count"] for g, v in out["groups"].items()}
    known = age[~np.isnan(age)]
    assert counts["< 30"] == int((known < 30).sum())
    assert counts[">= 65"] == int((known >= 65).sum())
    assert counts[MISSING_GROUP] == 7
    assert out["groups"][">= 65"]["selection_rate"] == 1.0
    assert out["demographic_parity_difference"] > 0.4


def test_categorical_attributes_are_grouped_as_before() -> None:
    raw = _schema()
    raw["sensitive_attributes"] = [{"name": "sex", "type": "categorical", "categories": ["f", "m"]}]
    schema = Schema.from_dict(raw)
    df = pd.DataFrame({"sex": ["m", "f", None, "f"] * 5})
    out = bias_metrics(df, np.zeros(20), np.zeros(20), schema)["sex"]
    assert list(out["groups"]) == ["(missing)", "f", "m"]


def test_numeric_codes_match_by_value_with_the_etl_grammar() -> None:
    # one number grammar for the ETL and serving
    assert reasons.NUMBER_PATTERN is schema_module.NUMBER_PATTERN
    spec = ColumnSpec(name="answer", type="categorical", categories=("1", "2.5", "x", "1,000.5"))
    assert spec.numeric_codes == {1.0: "1", 2.5: "2.5", 1000.5: "1,000.5"}
    assert ColumnSpec(name="b", type="boolean").numeric_codes == {}
    assert [parse_number(v) for v in ("2", " 2.0 ", "+2e0", "1,001.5", "1,001", "inf", "NaN")] == [
        2.0,
        2.0,
        2.0,
        1001.5,
        None,
        None,
        None,
    ]


def test_the_schema_page_documents_every_field_and_rule() -> None:
    text = DOC.read_text(encoding="utf-8")
    for word in (
        "id_column",
        "target",
        "positive",
        "negative",
        "timestamp_column",
        "features",
        "sensitive_attributes",
        "description",
        "nullable",
        "categories",
        "bins",
        "min",
        "max",
        "inclusive",
        "case-sensitive",
        "infer-schema",
        "invalid_type",
        "out_of_range",
        "unknown_category",
    ):
        assert word in text, word
    example = re.search(r"```json\n(.*?)```", text, re.DOTALL)
    assert example is not None
    Schema.from_dict(json.loads(example.group(1)))  # the example is a valid schema
