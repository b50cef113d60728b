"""Serving matches numeric category codes by value, as the ETL does: 2, 2.0 and "2" (item 7)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline_code.inference import handler as h
from pipeline_code.inference import parsing
from pipeline_code.schema import Schema

from .conftest_serving import write_model_artifact

SURVEY = {
    "name": "survey",
    "id_column": "respondent",
    "target": {"name": "satisfied", "positive": 1, "negative": 0},
    "features": [
        {"name": "answer", "type": "categorical", "categories": [1, 2, 3]},
        {"name": "score", "type": "categorical", "categories": [0.5, "1.5", "n/a"]},
        {"name": "hours", "type": "float", "min": 0, "max": 100},
    ],
}


@pytest.fixture(scope="module")
def survey_model(tmp_path_factory: pytest.TempPathFactory) -> h.LoadedModel:
    model_dir = write_model_artifact(
        Schema.from_dict(SURVEY), tmp_path_factory.mktemp("survey"), rows=200
    )
    return h.model_fn(model_dir)


def _predict(body: str, content_type: str, model: h.LoadedModel) -> list[float]:
    out = h.output_fn(h.predict_fn(h.input_fn(body, content_type), model), None)
    return [p["probability"] for p in json.loads(out[0])["predictions"]]


@pytest.mark.parametrize("answer", [2, 2.0, "2", "2.0", " 2 ", "+2", "2e0"])
def test_a_numeric_code_is_accepted_however_json_writes_it(
    survey_model: h.LoadedModel, answer: object
) -> None:
    expected = _predict(
        json.dumps({"answer": "2", "score": "1.5", "hours": 3}), h.JSON_CONTENT_TYPE, survey_model
    )
    got = _predict(
        json.dumps({"answer": answer, "score": 1.50, "hours": 3}), h.JSON_CONTENT_TYPE, survey_model
    )
    assert got == expected


@pytest.mark.parametrize("pandas_parser", [False, True])
def test_a_numeric_code_is_accepted_however_csv_writes_it(
    survey_model: h.LoadedModel, pandas_parser: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parsing, "_PANDAS_CSV_MIN_LINES", 0 if pandas_parser else 10**9)
    plain = _predict("2,0.5,3\n1,1.5,4\n", h.CSV_CONTENT_TYPE, survey_model)
    spelled = _predict("2.0,.5,3\n1.00,1.50,4\n", h.CSV_CONTENT_TYPE, survey_model)
    assert spelled == plain
    frame = h.frame_from_input(h.input_fn("2.0,0.50,3\n", h.CSV_CONTENT_TYPE), survey_model)  # type: ignore[arg-type]
    # the model sees the schema's spelling of the category
    assert frame.loc[0, "answer"] == "2" and frame.loc[0, "score"] == "0.5"


def test_text_categories_and_unknown_codes_are_still_checked(survey_model: h.LoadedModel) -> None:
    assert np.isfinite(
        _predict('{"answer": 3, "score": "n/a", "hours": 1}', h.JSON_CONTENT_TYPE, survey_model)
    ).all()
    for answer in (4, "4.0", 2.5, "two", True):
        body = json.dumps({"answer": answer, "score": 0.5, "hours": 1})
        with pytest.raises(h.BadRequestError) as info:
            _predict(body, h.JSON_CONTENT_TYPE, survey_model)
        message = info.value.message
        assert message.startswith("instances[0]: answer")
        assert repr(answer) in message and "['1', '2', '3']" in message
