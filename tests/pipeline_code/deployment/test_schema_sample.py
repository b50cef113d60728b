"""Smoke-test rows made from a schema alone: every row is valid for the inference handler."""

from __future__ import annotations

import pytest

from pipeline_code.deployment.samples import parse_sample_rows, schema_sample_text
from pipeline_code.inference import handler as h
from pipeline_code.schema import Schema

from ..conftest_serving import *  # noqa: F403 - the serving fixtures


@pytest.mark.parametrize("name", ["churn", "loan_default"])
def test_rows_reach_each_range_edge_and_category(name: str) -> None:
    schema = Schema.builtin(name)
    text = schema_sample_text(schema, rows=12)
    rows = [r.text.split(",") for r in parse_sample_rows(text)]
    assert len(rows) == 12 and {len(r) for r in rows} == {len(schema.features)}
    for j, spec in enumerate(schema.features):
        column = [r[j] for r in rows]
        if spec.is_numeric:
            values = [float(v) for v in column]
            if spec.min is not None:
                assert min(values) == spec.min
            if spec.max is not None and spec.type != "integer":
                assert max(values) == spec.max
        else:
            assert set(column) == set(spec.allowed_categories)
    assert schema_sample_text(schema, rows=12) == text  # deterministic: the asset hash is stable


def test_the_handler_accepts_every_row(loaded_model: h.LoadedModel) -> None:
    text = schema_sample_text(Schema.builtin("churn"))
    parsed = h.input_fn(text, "text/csv")
    prediction = h.predict_fn(parsed, loaded_model)
    assert isinstance(prediction, h.Prediction), prediction
    assert len(prediction.labels) == len(parse_sample_rows(text)) == 5


def test_fields_with_commas_or_quotes_are_quoted() -> None:
    schema = Schema.from_dict(
        {
            "name": "odd",
            "id_column": "id",
            "timestamp_column": "ts",
            "target": {"name": "y", "positive": 1, "negative": 0},
            "features": [
                {"name": "plan", "type": "categorical", "categories": ["a,b", 'say "hi"']},
                {"name": "n", "type": "integer", "min": 1},
            ],
        }
    )
    assert schema_sample_text(schema, rows=2) == '"a,b",1\n"say ""hi""",101\n'


def test_fails_when_no_rows_are_asked_for() -> None:
    with pytest.raises(ValueError, match="rows must be at least 1, got 0"):
        schema_sample_text(Schema.builtin("churn"), rows=0)
