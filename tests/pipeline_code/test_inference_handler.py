"""The SageMaker inference handler: model_fn, input_fn, predict_fn, output_fn."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest

from pipeline_code.inference import handler as h
from pipeline_code.inference import model as inference_model
from pipeline_code.inference import parsing
from pipeline_code.schema import Schema

from .conftest_serving import *  # noqa: F403 - the serving fixtures
from .conftest_serving import synthetic_features

ROOT = Path(__file__).resolve().parents[2]


def _csv(df: pd.DataFrame, header: bool = False) -> bytes:
    return df.to_csv(header=header, index=False).encode("utf-8")


def _run(
    body: object, content_type: str | None, model: h.LoadedModel, accept: str | None = None
) -> Any:
    return h.output_fn(h.predict_fn(h.input_fn(body, content_type), model), accept)


def _client_error(
    body: object, content_type: str | None, model: h.LoadedModel
) -> h.InferenceClientError:
    with pytest.raises(h.InferenceClientError) as info:
        _run(body, content_type, model)
    return info.value


@pytest.fixture(scope="module")
def rows(churn_schema: Schema) -> pd.DataFrame:
    return synthetic_features(churn_schema, 20, seed=7)


# ------------------------------------------------------------------------------- model_fn
def test_model_fn_loads_the_artifact(loaded_model: h.LoadedModel, churn_schema: Schema) -> None:
    assert loaded_model.schema == churn_schema
    assert loaded_model.metadata["training_rows"] == 400
    assert loaded_model.decision_threshold == 0.5
    assert [str(c) for c in loaded_model.pipeline.classes_][loaded_model.positive_index] == "1"


def test_model_fn_names_the_missing_file(tmp_path: Path) -> None:
    (tmp_path / "schema.json").write_text("{}")
    with pytest.raises(h.ModelLoadError, match=r"no model\.joblib.*schema\.json"):
        h.model_fn(tmp_path)


def test_model_fn_rejects_a_bad_schema(tmp_path: Path, model_artifact: Path) -> None:
    (tmp_path / "model.joblib").write_bytes(
        (model_artifact / "model" / "model.joblib").read_bytes()
    )
    (tmp_path / "schema.json").write_text('{"name": "x"}')
    with pytest.raises(h.ModelLoadError, match=r"schema\.json"):
        h.model_fn(tmp_path)


def test_model_fn_rejects_bad_metadata(tmp_path: Path, model_artifact: Path) -> None:
    for name in ("model.joblib", "schema.json"):
        (tmp_path / name).write_bytes((model_artifact / "model" / name).read_bytes())
    (tmp_path / "metadata.json").write_text("{not json")
    with pytest.raises(h.ModelLoadError, match=r"metadata\.json is not valid JSON"):
        h.model_fn(tmp_path)


def test_model_without_predict_proba_is_refused(tmp_path: Path, churn_schema: Schema) -> None:
    joblib.dump({"not": "a model"}, tmp_path / "model.joblib")
    (tmp_path / "schema.json").write_text(churn_schema.to_json())
    with pytest.raises(h.ModelLoadError, match="without predict_proba"):
        h.model_fn(tmp_path)


def test_model_fitted_on_other_columns_is_refused(loaded_model: h.LoadedModel) -> None:
    other = Schema.from_dict(
        {
            "name": "other",
            "id_column": "id",
            "target": {"name": "y", "positive": 1, "negative": 0},
            "features": [{"name": "a", "type": "float"}],
        }
    )
    with pytest.raises(h.ModelLoadError, match="fitted on columns"):
        h.LoadedModel.from_parts(loaded_model.pipeline, other)


def test_decision_threshold_out_of_range_is_refused(loaded_model: h.LoadedModel) -> None:
    with pytest.raises(h.ModelLoadError, match="decision_threshold"):
        h.LoadedModel.from_parts(
            loaded_model.pipeline, loaded_model.schema, {"decision_threshold": 2}
        )


# ------------------------------------------------------------------------ happy paths
def test_csv_predictions_match_the_bare_model(
    loaded_model: h.LoadedModel, rows: pd.DataFrame
) -> None:
    pred = h.predict_fn(h.input_fn(_csv(rows), "text/csv"), loaded_model)
    assert isinstance(pred, h.Prediction)
    expected = loaded_model.pipeline.predict_proba(rows)[:, 1]
    np.testing.assert_allclose(pred.probabilities, expected)
    np.testing.assert_array_equal(pred.labels, (expected >= 0.5).astype(int))


def test_json_default_output(loaded_model: h.LoadedModel, rows: pd.DataFrame) -> None:
    body, content_type = _run(_csv(rows), "text/csv; charset=utf-8", loaded_model)
    assert content_type == "application/json"
    preds = json.loads(body)["predictions"]
    assert len(preds) == len(rows)
    assert all(0.0 <= p["probability"] <= 1.0 and p["predicted_label"] in (0, 1) for p in preds)


def test_csv_output(loaded_model: h.LoadedModel, rows: pd.DataFrame) -> None:
    body, content_type = _run(_csv(rows), "text/csv", loaded_model, accept="text/csv")
    assert content_type == "text/csv"
    lines = body.strip().split("\n")
    assert len(lines) == len(rows)
    prob, label = lines[0].split(",")
    assert 0.0 <= float(prob) <= 1.0 and label in ("0", "1")


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json; charset=utf-8", "application/json"),
        ("text/html, text/csv;q=0.9", "text/csv"),
        ("text/*", "text/csv"),
    ],
)
def test_accept_negotiation(
    loaded_model: h.LoadedModel, rows: pd.DataFrame, accept: str | None, expected: str
) -> None:
    assert _run(_csv(rows.head(2)), "text/csv", loaded_model, accept)[1] == expected


def test_unsupported_accept_is_406(loaded_model: h.LoadedModel, rows: pd.DataFrame) -> None:
    pred = h.predict_fn(h.input_fn(_csv(rows.head(1)), "text/csv"), loaded_model)
    with pytest.raises(h.InferenceClientError) as info:
        h.output_fn(pred, "image/png")
    assert info.value.status_code == 406 and "image/png" in info.value.message


def test_csv_header_in_schema_order_and_permuted(
    loaded_model: h.LoadedModel, rows: pd.DataFrame
) -> None:
    plain = h.predict_fn(h.input_fn(_csv(rows), "text/csv"), loaded_model)
    with_header = h.predict_fn(h.input_fn(_csv(rows, header=True), "text/csv"), loaded_model)
    permuted = rows[list(reversed(rows.columns))]
    reordered = h.predict_fn(h.input_fn(_csv(permuted, header=True), "text/csv"), loaded_model)
    assert isinstance(plain, h.Prediction) and isinstance(with_header, h.Prediction)
    assert isinstance(reordered, h.Prediction)
    np.testing.assert_allclose(with_header.probabilities, plain.probabilities)
    np.testing.assert_allclose(reordered.probabilities, plain.probabilities)


def test_json_forms_agree(loaded_model: h.LoadedModel, rows: pd.DataFrame) -> None:
    records = json.loads(rows.head(3).to_json(orient="records"))
    lists = [[r[n] for n in rows.columns] for r in records]
    bodies = [
        {"instances": records},
        records,
        {"instances": lists},
        lists,
        {"instances": [{"features": v} for v in lists]},
    ]
    results = [
        h.predict_fn(h.input_fn(json.dumps(b), "application/json"), loaded_model) for b in bodies
    ]
    single = h.predict_fn(
        h.input_fn(json.dumps(records[0]).encode(), "application/json"), loaded_model
    )
    assert isinstance(single, h.Prediction)
    for r in results:
        assert isinstance(r, h.Prediction)
        np.testing.assert_allclose(r.probabilities, results[0].probabilities)  # type: ignore[union-attr]
    np.testing.assert_allclose(single.probabilities, results[0].probabilities[:1])  # type: ignore[union-attr]


def test_lenient_forms_of_values(loaded_model: h.LoadedModel, rows: pd.DataFrame) -> None:
    rec = json.loads(rows.head(1).to_json(orient="records"))[0]
    exact = h.predict_fn(h.input_fn(json.dumps([rec]), "application/json"), loaded_model)
    loose = dict(
        rec,
        region=f"  {rec['region']} ",
        paperless_billing=rec["paperless_billing"] == "true",
        tenure_months=str(int(rec["tenure_months"])),
    )
    lenient = h.predict_fn(h.input_fn(json.dumps([loose]), "application/json"), loaded_model)
    assert isinstance(exact, h.Prediction) and isinstance(lenient, h.Prediction)
    np.testing.assert_allclose(lenient.probabilities, exact.probabilities)


def test_nullable_feature_may_be_empty_null_or_absent(
    loaded_model: h.LoadedModel, rows: pd.DataFrame
) -> None:
    df = rows.head(3).copy()
    df["total_charges"] = np.nan
    csv_pred = h.predict_fn(h.input_fn(_csv(df), "text/csv"), loaded_model)
    recs = json.loads(df.to_json(orient="records"))  # null total_charges
    absent = [{k: v for k, v in r.items() if k != "total_charges"} for r in recs]
    null_pred = h.predict_fn(h.input_fn(json.dumps(recs), "application/json"), loaded_model)
    absent_pred = h.predict_fn(h.input_fn(json.dumps(absent), "application/json"), loaded_model)
    for p in (csv_pred, null_pred, absent_pred):
        assert isinstance(p, h.Prediction) and np.isfinite(p.probabilities).all()
    np.testing.assert_allclose(null_pred.probabilities, csv_pred.probabilities)  # type: ignore[union-attr]
    np.testing.assert_allclose(absent_pred.probabilities, csv_pred.probabilities)  # type: ignore[union-attr]


def test_predict_fn_accepts_a_dataframe(loaded_model: h.LoadedModel, rows: pd.DataFrame) -> None:
    pred = h.predict_fn(rows, loaded_model)
    assert isinstance(pred, h.Prediction)
    np.testing.assert_allclose(pred.probabilities, loaded_model.pipeline.predict_proba(rows)[:, 1])
    with pytest.raises(h.BadRequestError, match="missing features"):
        h.predict_fn(rows.drop(columns=["region"]), loaded_model)


def test_trailing_newlines_and_crlf_are_fine(
    loaded_model: h.LoadedModel, rows: pd.DataFrame
) -> None:
    body = _csv(rows.head(2)).decode().replace("\n", "\r\n") + "\r\n\n"
    pred = h.predict_fn(h.input_fn(body, "text/csv"), loaded_model)
    assert isinstance(pred, h.Prediction) and pred.probabilities.shape == (2,)


# ------------------------------------------------------------------------ client errors
@pytest.mark.parametrize(
    ("content_type", "status", "needle"),
    [
        ("application/x-npy", 415, "not supported"),
        (None, 415, "not supported"),
        ("text/csv; charset=latin-1", 415, "charset"),
    ],
)
def test_content_type_errors(
    loaded_model: h.LoadedModel, content_type: str | None, status: int, needle: str
) -> None:
    err = _client_error(b"1,2", content_type, loaded_model)
    assert err.status_code == status and needle in err.message


def _bad_csv_line(rows: pd.DataFrame, column: str, value: str) -> bytes:
    df = rows.head(3).astype(object).copy()
    df.loc[df.index[1], column] = value
    return _csv(df)


@pytest.mark.parametrize(
    ("column", "value", "needle"),
    [
        ("contract_type", "weekly", "contract_type='weekly' is not a known category"),
        ("tenure_months", "abc", "tenure_months='abc' is not a number"),
        ("tenure_months", "500", "out of range; send a whole number between 0 and 120"),
        ("tenure_months", "3.5", "is not a whole number"),
        ("monthly_charges", "", "monthly_charges is missing"),
        ("monthly_charges", "nan", "monthly_charges is missing"),
        ("monthly_charges", "inf", "out of range"),
        ("monthly_charges", "-1", "out of range"),
        ("region", "", "region is missing but is not nullable"),
        ("paperless_billing", "maybe", "paperless_billing='maybe' is not a known category"),
    ],
)
def test_bad_values_name_line_column_and_fix(
    loaded_model: h.LoadedModel, rows: pd.DataFrame, column: str, value: str, needle: str
) -> None:
    err = _client_error(_bad_csv_line(rows, column, value), "text/csv", loaded_model)
    assert err.status_code == 400
    assert "line 2" in err.message and needle in err.message


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"", "empty"),
        (b"  \n ", "empty"),
        (b"\xff\xfe\x00", "not valid UTF-8"),
        (b"1,2,3\n", "expected 11 values"),
        (b"a\x00b", "NUL"),
    ],
)
def test_bad_csv_bodies(loaded_model: h.LoadedModel, body: bytes, needle: str) -> None:
    err = _client_error(body, "text/csv", loaded_model)
    assert err.status_code == 400 and needle in err.message


def test_blank_line_inside_the_body_is_refused(
    loaded_model: h.LoadedModel, rows: pd.DataFrame
) -> None:
    lines = _csv(rows.head(2)).decode().splitlines()
    err = _client_error("\n".join([lines[0], "", lines[1]]), "text/csv", loaded_model)
    assert "line 2 is empty" in err.message


def test_wrong_column_count_names_the_row(loaded_model: h.LoadedModel, rows: pd.DataFrame) -> None:
    lines = _csv(rows.head(3)).decode().splitlines()
    lines[2] += ",extra"
    err = _client_error("\n".join(lines), "text/csv", loaded_model)
    assert "line 3: expected 11 values" in err.message and "got 12" in err.message


def test_bad_header_is_named(loaded_model: h.LoadedModel, rows: pd.DataFrame) -> None:
    body = _csv(rows.head(2).rename(columns={"region": "area"}), header=True)
    err = _client_error(body, "text/csv", loaded_model)
    assert "missing ['region']" in err.message and "unknown ['area']" in err.message


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("{not json", "not valid JSON"),
        ("[[[[" * 5000, "nested too deeply"),
        ("42", "got a int"),
        ('{"instances": 3}', "'instances' must be a list"),
        ('{"instances": [], "x": 1}', "unexpected top-level JSON keys"),
        ('{"instances": []}', "no instances"),
        ("[1, 2]", "instances[0] must be an object"),
        ('[{"a": 1}, [1]]', "instances[1] is a list"),
        ('[{"tenure_months": 1}]', "missing features"),
        ("[[1, 2]]", "expected 11 values"),
    ],
)
def test_bad_json_bodies(loaded_model: h.LoadedModel, body: str, needle: str) -> None:
    err = _client_error(body, "application/json", loaded_model)
    assert err.status_code == 400 and needle in err.message


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("tenure_months", True, "tenure_months=True is not a number"),
        ("tenure_months", [1], "is not a number"),
        ("tenure_months", 10**400, "out of range"),
        ("region", {"a": 1}, "region must be one of"),
        ("region", 5, "is not a known category"),
        ("paperless_billing", 1, "paperless_billing must be one of"),
        ("extra_field", 1, "unknown features ['extra_field']"),
    ],
)
def test_bad_json_values(
    loaded_model: h.LoadedModel, rows: pd.DataFrame, field: str, value: object, needle: str
) -> None:
    recs = json.loads(rows.head(2).to_json(orient="records"))
    recs[1][field] = value
    err = _client_error(json.dumps({"instances": recs}), "application/json", loaded_model)
    assert err.status_code == 400 and needle in err.message
    if field != "extra_field":
        assert "instances[1]" in err.message


def test_payload_and_row_limits_come_from_the_environment(
    loaded_model: h.LoadedModel, rows: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = _csv(rows)
    monkeypatch.setenv(h.ENV_MAX_PAYLOAD_BYTES, "100")
    err = _client_error(body, "text/csv", loaded_model)
    assert err.status_code == 413 and "more than the limit of 100 bytes" in err.message
    err = _client_error(body.decode(), "text/csv", loaded_model)  # text bodies are measured too
    assert err.status_code == 413
    monkeypatch.delenv(h.ENV_MAX_PAYLOAD_BYTES)
    monkeypatch.setenv(h.ENV_MAX_ROWS, "5")
    err = _client_error(body, "text/csv", loaded_model)
    assert err.status_code == 413 and "20 rows" in err.message and h.ENV_MAX_ROWS in err.message
    monkeypatch.setenv(h.ENV_MAX_ROWS, "zero")
    with pytest.raises(ValueError, match="not an integer"):
        h.ServingLimits.from_env()


def test_body_of_the_wrong_python_type(loaded_model: h.LoadedModel) -> None:
    err = _client_error(12345, "text/csv", loaded_model)
    assert "must be bytes or text" in err.message


def test_error_object_carries_status_and_json(loaded_model: h.LoadedModel) -> None:
    err = h.PayloadTooLargeError("too big")
    assert (err.status_code, err.message, str(err)) == (413, "too big", "too big")
    assert json.loads(err.to_json()) == {
        "error": "PayloadTooLargeError",
        "message": "too big",
        "status": 413,
    }
    assert h.UnsupportedMediaTypeError("x").status_code == 415
    assert h.BadRequestError("x").status_code == 400


# ------------------------------------------------------------- container integration
def test_deferred_errors_become_flask_responses(
    loaded_model: h.LoadedModel, rows: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the single-model Flask server, errors travel to output_fn, which returns a response."""

    class FakeResponse:
        def __init__(self, response: str, status: int, mimetype: str) -> None:
            self.response, self.status, self.mimetype = response, status, mimetype

    worker = types.SimpleNamespace(Response=FakeResponse)
    framework = types.ModuleType("sagemaker_containers.beta.framework")
    framework.worker = worker  # type: ignore[attr-defined]
    monkeypatch.setitem(
        sys.modules, "sagemaker_containers", types.ModuleType("sagemaker_containers")
    )
    monkeypatch.setitem(
        sys.modules, "sagemaker_containers.beta", types.ModuleType("sagemaker_containers.beta")
    )
    monkeypatch.setitem(sys.modules, "sagemaker_containers.beta.framework", framework)
    monkeypatch.setattr(h, "DEFER_CLIENT_ERRORS", True)

    rejected = h.input_fn(b"", "text/csv")
    assert isinstance(rejected, h.RejectedRequest)
    response = h.output_fn(h.predict_fn(rejected, loaded_model), "application/json")
    assert isinstance(response, FakeResponse) and response.status == 400
    assert json.loads(response.response)["message"].startswith("the request body is empty")

    bad_value = h.predict_fn(
        h.input_fn(_bad_csv_line(rows, "region", "mars"), "text/csv"), loaded_model
    )
    assert isinstance(bad_value, h.RejectedRequest) and bad_value.error.status_code == 400

    good = h.predict_fn(h.input_fn(_csv(rows.head(1)), "text/csv"), loaded_model)
    assert isinstance(good, h.Prediction)
    not_acceptable = h.output_fn(good, "image/png")
    assert isinstance(not_acceptable, FakeResponse) and not_acceptable.status == 406


def test_detection_of_the_flask_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        sys.modules, "sagemaker_containers", types.ModuleType("sagemaker_containers")
    )
    monkeypatch.setattr(h.importlib.util, "find_spec", lambda name: object())
    monkeypatch.delenv("SAGEMAKER_MULTI_MODEL", raising=False)
    assert h._under_flask_worker() is True
    monkeypatch.setenv("SAGEMAKER_MULTI_MODEL", "true")
    assert h._under_flask_worker() is False


def test_error_subclasses_the_toolkit_error_when_installed(tmp_path: Path) -> None:
    """With sagemaker_inference importable, the toolkit's transformer maps our errors to 4xx."""
    pkg = tmp_path / "sagemaker_inference"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    # the toolkit's class hierarchy and constructor signature, as in its errors.py
    (pkg / "errors.py").write_text(
        "class BaseInferenceToolkitError(Exception):\n"
        "    def __init__(self, status_code, message, phrase):\n"
        "        self.status_code, self.message, self.phrase = status_code, message, phrase\n"
        "        super().__init__(status_code, message, phrase)\n"
        "class GenericInferenceToolkitError(BaseInferenceToolkitError):\n"
        "    def __init__(self, status_code, message=None, phrase=None):\n"
        "        message = message or 'Invalid Request'\n"
        "        super().__init__(status_code, message, phrase or message)\n"
    )
    code = (
        "from sagemaker_inference.errors import BaseInferenceToolkitError\n"
        "from pipeline_code.inference.handler import BadRequestError\n"
        "e = BadRequestError('bad row')\n"
        "assert isinstance(e, BaseInferenceToolkitError)\n"
        "print(e.status_code, e.message, e.phrase)\n"
    )
    env = {"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "400 bad row bad row"


@pytest.fixture
def pandas_csv(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send even small plain CSV bodies through pandas' C parser (normally from 200 lines on)."""
    monkeypatch.setattr(parsing, "_PANDAS_CSV_MIN_LINES", 0)


@pytest.mark.usefixtures("pandas_csv")
def test_plain_and_quoted_csv_paths_agree(loaded_model: h.LoadedModel, rows: pd.DataFrame) -> None:
    """Unquoted rectangular CSV goes through pandas' C parser, anything else through csv; same answers."""
    plain = _csv(rows)
    quoted = plain.decode().replace("north", '"north"').replace("south", '"south"').encode()
    parsed_plain, parsed_quoted = h.input_fn(plain, "text/csv"), h.input_fn(quoted, "text/csv")
    assert isinstance(parsed_plain, h.ParsedInput) and isinstance(parsed_quoted, h.ParsedInput)
    assert parsed_plain.frame is not None and parsed_quoted.frame is None
    a, b = h.predict_fn(parsed_plain, loaded_model), h.predict_fn(parsed_quoted, loaded_model)
    assert isinstance(a, h.Prediction) and isinstance(b, h.Prediction)
    np.testing.assert_array_equal(a.probabilities, b.probabilities)


@pytest.mark.usefixtures("pandas_csv")
@pytest.mark.parametrize("quote", [False, True])
def test_both_csv_paths_refuse_the_same_bad_values(
    loaded_model: h.LoadedModel, rows: pd.DataFrame, quote: bool
) -> None:
    body = _bad_csv_line(rows, "paperless_billing", "1").decode()
    if quote:
        for region in ("north", "south", "east", "west"):
            body = body.replace(region, f'"{region}"')
    parsed = h.input_fn(body, "text/csv")
    assert isinstance(parsed, h.ParsedInput) and (parsed.frame is None) == quote
    err = _client_error(body, "text/csv", loaded_model)
    expected = (
        "line 2: paperless_billing='1' is not a known category; send one of ['false', 'true']"
    )
    assert expected in err.message


def test_large_plain_csv_uses_the_pandas_parser(
    loaded_model: h.LoadedModel, churn_schema: Schema
) -> None:
    big = synthetic_features(churn_schema, 300, seed=8)
    parsed = h.input_fn(_csv(big), "text/csv")
    assert (
        isinstance(parsed, h.ParsedInput) and parsed.frame is not None and parsed.row_count == 300
    )
    small = h.input_fn(_csv(big.head(5)), "text/csv")
    assert isinstance(small, h.ParsedInput) and small.frame is None


@pytest.mark.usefixtures("pandas_csv")
@pytest.mark.parametrize(
    ("column", "value", "needle"),
    [
        ("contract_type", "weekly", "line 2: contract_type='weekly' is not a known category"),
        ("tenure_months", "abc", "line 2: tenure_months='abc' is not a number"),
        ("tenure_months", "500", "line 2: tenure_months=500.0 is out of range"),
        ("tenure_months", "3.5", "is not a whole number"),
        ("monthly_charges", "", "line 2: monthly_charges is missing"),
        ("monthly_charges", "inf", "out of range"),
        ("region", "", "line 2: region is missing but is not nullable"),
    ],
)
def test_pandas_csv_path_messages(
    loaded_model: h.LoadedModel, rows: pd.DataFrame, column: str, value: str, needle: str
) -> None:
    body = _bad_csv_line(rows, column, value)
    parsed = h.input_fn(body, "text/csv")
    assert isinstance(parsed, h.ParsedInput) and parsed.frame is not None
    err = _client_error(body, "text/csv", loaded_model)
    assert err.status_code == 400 and needle in err.message


@pytest.mark.usefixtures("pandas_csv")
def test_pandas_csv_path_header_and_width(loaded_model: h.LoadedModel, rows: pd.DataFrame) -> None:
    permuted = rows[list(reversed(rows.columns))]
    with_header = h.predict_fn(h.input_fn(_csv(permuted, header=True), "text/csv"), loaded_model)
    plain = h.predict_fn(h.input_fn(_csv(rows), "text/csv"), loaded_model)
    assert isinstance(with_header, h.Prediction) and isinstance(plain, h.Prediction)
    np.testing.assert_allclose(with_header.probabilities, plain.probabilities)
    err = _client_error(b"1,2,3\n4,5,6\n", "text/csv", loaded_model)
    assert "line 1, line 2: expected 11 values" in err.message and "got 3" in err.message
    only_header = ",".join(rows.columns).encode()
    assert "header line but no rows" in _client_error(only_header, "text/csv", loaded_model).message


def test_frame_without_the_pandas_3_block_api(
    loaded_model: h.LoadedModel, rows: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pandas 2.x has no create_dataframe_from_blocks: the dict-and-copy fallback gives the same frame."""
    parsed = h.input_fn(_csv(rows), "text/csv")
    assert isinstance(parsed, h.ParsedInput)
    fast = h.frame_from_input(parsed, loaded_model)
    monkeypatch.setattr(inference_model, "_create_frame_from_blocks", None)
    slow = h.frame_from_input(parsed, loaded_model)
    pd.testing.assert_frame_equal(fast, slow)
    assert list(fast.columns) == loaded_model.schema.feature_names
    assert fast._mgr.nblocks == slow._mgr.nblocks == 2  # one float block, one object block
    assert set(map(str, fast.dtypes)) == {"float64", "object"}
