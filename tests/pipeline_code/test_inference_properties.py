"""Property-based tests: random payloads get a clean client error or valid predictions, nothing else."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pipeline_code.inference import handler as h
from pipeline_code.inference import parsing
from pipeline_code.schema import Schema

from .conftest_serving import *  # noqa: F403 - the serving fixtures

SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: a failure is reproducible in CI
)

CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            "text/csv",
            "application/json",
            "text/csv; charset=utf-8",
            "application/json; charset=UTF-8",
            "TEXT/CSV",
            "text/csv; charset=latin-1",
            "application/x-npy",
            "application/jsonlines",
            "",
            "*/*",
        ]
    ),
    st.none(),
    st.text(max_size=30),
)
ACCEPTS = st.one_of(
    st.none(),
    st.sampled_from(["application/json", "text/csv", "*/*", "text/html", "text/csv, */*"]),
    st.text(max_size=20),
)


def _check(body: Any, content_type: str | None, accept: str | None, model: h.LoadedModel) -> None:
    """The handler chain either raises our 4xx error with a message, or answers correctly."""
    try:
        parsed = h.input_fn(body, content_type)
        prediction = h.predict_fn(parsed, model)
        out, out_type = h.output_fn(prediction, accept)
    except h.InferenceClientError as exc:
        assert 400 <= exc.status_code < 500
        assert exc.message and "Traceback" not in exc.message
        event(f"client error {exc.status_code}")
        return
    event("prediction")
    assert isinstance(prediction, h.Prediction)
    probs = prediction.probabilities
    assert probs.ndim == 1 and probs.size >= 1
    assert np.all((probs >= 0.0) & (probs <= 1.0))
    if out_type == "application/json":
        assert len(json.loads(out)["predictions"]) == probs.size
    else:
        assert out_type == "text/csv" and len(out.strip().split("\n")) == probs.size


def _value_for(spec: Any, clean: bool) -> st.SearchStrategy[Any]:
    """Valid values of a column, mixed with plausible garbage unless ``clean``."""
    garbage = st.one_of(
        st.text(max_size=8),
        st.sampled_from(
            ["", " ", "nan", "NaN", "inf", "-inf", "1e400", "null", "true", "０", "1_0", "0x10"]  # noqa: RUF001
        ),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(10**30), max_value=10**30),
    )
    if spec.is_numeric:
        lo = spec.min if spec.min is not None else -1e6
        hi = spec.max if spec.max is not None else 1e6
        valid = st.integers(int(lo), int(hi)) if spec.type == "integer" else st.floats(lo, hi)
    else:
        valid = st.sampled_from(list(spec.allowed_categories))
    return valid if clean else st.one_of(valid, valid, valid, garbage)


@st.composite
def csv_bodies(draw: st.DrawFn, schema: Schema) -> str:
    n_rows = draw(st.integers(min_value=0, max_value=6))
    clean = draw(st.booleans())  # about half the bodies hold only valid values
    lines = []
    for _ in range(n_rows):
        values = [draw(_value_for(spec, clean)) for spec in schema.features]
        if not clean and draw(st.integers(0, 4)) == 0:  # sometimes the wrong number of fields
            values = values[: draw(st.integers(0, len(values)))] + draw(
                st.lists(st.text(max_size=3), max_size=2)
            )
        lines.append(",".join(str(v) for v in values))
    if n_rows and draw(st.booleans()):
        lines.insert(0, ",".join(schema.feature_names))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n", "\n\n"]))


@st.composite
def json_bodies(draw: st.DrawFn, schema: Schema) -> str:
    n_rows = draw(st.integers(min_value=0, max_value=5))
    clean = draw(st.booleans())
    records: list[Any] = []
    for _ in range(n_rows):
        rec = {spec.name: draw(_value_for(spec, clean)) for spec in schema.features}
        if not clean and draw(st.integers(0, 4)) == 0:
            rec.pop(draw(st.sampled_from(schema.feature_names)))
        if not clean and draw(st.integers(0, 9)) == 0:
            rec["unexpected"] = 1
        if draw(st.integers(0, 9)) == 0:
            records.append(list(rec.values()))
        else:
            records.append(rec)
    shape = draw(st.sampled_from(["instances", "list", "single"]))
    doc: Any = {"instances": records} if shape == "instances" else records
    if shape == "single" and records:
        doc = records[0]
    return json.dumps(doc, allow_nan=True)


@SETTINGS
@given(body=st.binary(max_size=400), content_type=CONTENT_TYPES, accept=ACCEPTS)
def test_random_bytes(
    loaded_model: h.LoadedModel, body: bytes, content_type: str | None, accept: str | None
) -> None:
    _check(body, content_type, accept, loaded_model)


@pytest.fixture(params=["csv-module", "pandas"])
def csv_parser(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run the CSV property test through both CSV parsers of input_fn."""
    saved = parsing._PANDAS_CSV_MIN_LINES
    parsing._PANDAS_CSV_MIN_LINES = 0 if request.param == "pandas" else 10**9
    yield
    parsing._PANDAS_CSV_MIN_LINES = saved


@pytest.mark.usefixtures("csv_parser")
@SETTINGS
@given(
    data=st.data(),
    content_type=st.sampled_from(["text/csv", "text/csv; charset=utf-8"]),
    accept=ACCEPTS,
)
def test_random_csv(
    loaded_model: h.LoadedModel,
    churn_schema: Schema,
    data: st.DataObject,
    content_type: str,
    accept: str | None,
) -> None:
    body = data.draw(csv_bodies(churn_schema))
    _check(body.encode("utf-8"), content_type, accept, loaded_model)


@SETTINGS
@given(data=st.data(), accept=ACCEPTS)
def test_random_structured_json(
    loaded_model: h.LoadedModel, churn_schema: Schema, data: st.DataObject, accept: str | None
) -> None:
    body = data.draw(json_bodies(churn_schema))
    _check(body, "application/json", accept, loaded_model)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@SETTINGS
@given(doc=JSON_VALUES, content_type=st.sampled_from(["application/json", "text/csv"]))
def test_random_json_documents(loaded_model: h.LoadedModel, doc: Any, content_type: str) -> None:
    _check(json.dumps(doc), content_type, None, loaded_model)
