"""SageMaker data-capture files: the writer, the reader and their round trip."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline_code.compat import UTC
from pipeline_code.monitoring.capture import read_capture_files, write_capture_files
from pipeline_code.schema import Schema

from .conftest_serving import *  # noqa: F403 - the serving fixtures
from .conftest_serving import synthetic_features

START = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def records(churn_schema: Schema) -> pd.DataFrame:
    return synthetic_features(churn_schema, 240, seed=31)


def _normalised(df: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Typed like the ETL output, whatever form the values travelled in."""
    out = pd.DataFrame(index=df.index)
    for spec in schema.features:
        col = df[spec.name]
        if spec.is_numeric:
            out[spec.name] = pd.to_numeric(col.replace("", np.nan)).astype(float)
        else:
            out[spec.name] = col.astype(str)
    return out.reset_index(drop=True)


@pytest.mark.parametrize(
    ("content_type", "base64_encode"),
    [
        ("text/csv", False),
        ("application/json", False),
        ("text/csv", True),
        ("application/json", True),
    ],
)
def test_round_trip(
    tmp_path: Path,
    records: pd.DataFrame,
    churn_schema: Schema,
    content_type: str,
    base64_encode: bool,
) -> None:
    probs = np.linspace(0, 1, len(records))
    files = write_capture_files(
        records,
        probs,
        tmp_path,
        content_type=content_type,
        start_time=START,
        rows_per_request=7,
        base64_encode=base64_encode,
    )
    data = read_capture_files(tmp_path, churn_schema.feature_names)
    assert data.bad_records == [] and data.files == len(files)
    assert data.events == -(-len(records) // 7)  # one event per request of 7 rows
    pd.testing.assert_frame_equal(
        _normalised(data.frame, churn_schema),
        _normalised(records, churn_schema),
        check_exact=False,
        rtol=1e-12,
    )


def test_layout_and_event_format(tmp_path: Path, records: pd.DataFrame) -> None:
    files = write_capture_files(
        records,
        np.full(len(records), 0.7),
        tmp_path,
        endpoint_name="churn-ep",
        variant_name="v1",
        start_time=START,
        interval_seconds=60.0,
    )
    # 240 one-row requests a minute apart from 22:30 span 22:xx, 23:xx, 00:xx, 01:xx, 02:xx (next day)
    hours = [f.parent.relative_to(tmp_path).as_posix() for f in files]
    assert hours == [
        "churn-ep/v1/2026/03/01/22",
        "churn-ep/v1/2026/03/01/23",
        "churn-ep/v1/2026/03/02/00",
        "churn-ep/v1/2026/03/02/01",
        "churn-ep/v1/2026/03/02/02",
    ]
    assert all(f.suffix == ".jsonl" for f in files)
    first = json.loads(files[0].read_text().splitlines()[0])
    assert first["eventVersion"] == "0"
    assert first["eventMetadata"]["inferenceTime"] == "2026-03-01T22:30:00Z"
    assert len(first["eventMetadata"]["eventId"]) == 36
    inp, out = first["captureData"]["endpointInput"], first["captureData"]["endpointOutput"]
    assert inp == {
        "observedContentType": "text/csv",
        "mode": "INPUT",
        "data": inp["data"],
        "encoding": "CSV",
    }
    assert inp["data"].count(",") == 10 and "\n" not in inp["data"]
    assert out["mode"] == "OUTPUT" and out["data"] == "0.7,1\n" and out["encoding"] == "CSV"
    total = sum(len(f.read_text().splitlines()) for f in files)
    assert total == len(records)


def test_json_and_base64_events(tmp_path: Path, records: pd.DataFrame) -> None:
    files = write_capture_files(
        records.head(2),
        [0.2, 0.9],
        tmp_path,
        content_type="application/json",
        start_time=START,
        rows_per_request=2,
        base64_encode=True,
    )
    event = json.loads(files[0].read_text())
    inp = event["captureData"]["endpointInput"]
    assert inp["encoding"] == "BASE64" and inp["observedContentType"] == "application/json"
    payload = json.loads(base64.b64decode(inp["data"]))
    assert len(payload["instances"]) == 2 and set(payload["instances"][0]) == set(records.columns)
    out = json.loads(base64.b64decode(event["captureData"]["endpointOutput"]["data"]))
    assert [p["predicted_label"] for p in out["predictions"]] == [0, 1]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"predictions": [0.5]}, "one positive-class probability per row"),
        ({"content_type": "application/x-npy"}, "not supported for capture"),
        ({"rows_per_request": 0}, "rows_per_request"),
        ({"interval_seconds": -1.0}, "interval_seconds"),
    ],
)
def test_writer_refuses_bad_arguments(
    tmp_path: Path, records: pd.DataFrame, kwargs: dict, match: str
) -> None:
    args = {"predictions": np.zeros(len(records)), **kwargs}
    with pytest.raises(ValueError, match=match):
        write_capture_files(records, output_dir=tmp_path, **args)


def _event(data: str, content_type: str = "text/csv", encoding: str = "CSV") -> str:
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": content_type,
                    "mode": "INPUT",
                    "data": data,
                    "encoding": encoding,
                }
            },
            "eventMetadata": {"eventId": "x", "inferenceTime": "2026-01-01T00:00:00Z"},
            "eventVersion": "0",
        }
    )


def test_reader_quarantines_every_bad_line_with_a_reason(
    tmp_path: Path, records: pd.DataFrame, churn_schema: Schema
) -> None:
    good = records.head(2).to_csv(header=False, index=False).strip()
    header = ",".join(churn_schema.feature_names)
    lines = [
        _event(good),  # 2 good rows
        _event(header + "\n" + good.split("\n")[0]),  # header skipped, 1 good row
        "{not json",
        json.dumps({"captureData": {}}),
        _event("!!!", encoding="BASE64"),
        _event("x", encoding="AVRO"),
        _event("1,2", content_type="application/x-npy"),
        _event("1,2,3"),  # too few fields
        _event(good.split("\n")[0] + ",extra"),  # too many fields
        _event('{"instances": [1, [1, 2]]}', "application/json", "JSON"),
        _event("{broken", "application/json", "JSON"),
        "",
    ]
    d = tmp_path / "ep" / "AllTraffic" / "2026" / "01" / "01" / "00"
    d.mkdir(parents=True)
    (d / "a.jsonl").write_text("\n".join(lines) + "\n")
    data = read_capture_files(tmp_path, churn_schema.feature_names)
    assert len(data.frame) == 3
    assert data.events == 11  # blank lines are not events
    reasons = [b.reason for b in data.bad_records]
    assert len(reasons) == 10
    for needle in (
        "not valid JSON",
        "not a capture event",
        "BASE64 payload cannot be decoded",
        "unknown capture encoding 'AVRO'",
        "is not analysed",
        "CSV record has 3 fields, expected 11",
        "CSV record has 12 fields",
        "JSON record must be an object or a list, got int",
        "JSON record has 2 values, expected 11",
        "JSON payload is not valid JSON",
    ):
        assert any(needle in r for r in reasons), needle
    assert (data.short_rows, data.long_rows) == (2, 1)
    first = data.bad_records[0]
    assert first.source.endswith("a.jsonl") and first.line == 3 and first.excerpt == "{not json"


def test_reader_counts_missing_and_extra_json_keys(
    tmp_path: Path, records: pd.DataFrame, churn_schema: Schema
) -> None:
    recs = json.loads(records.head(3).to_json(orient="records"))
    del recs[0]["region"]
    recs[1]["customer_id"] = 7
    (tmp_path / "c.jsonl").write_text(
        _event(json.dumps({"instances": recs}), "application/json", "JSON") + "\n"
    )
    data = read_capture_files(tmp_path, churn_schema.feature_names)
    assert len(data.frame) == 3 and data.bad_records == []
    assert data.missing_keys == {"region": 1} and data.extra_keys == {"customer_id": 1}
    assert data.frame["region"].isna().sum() == 1


def test_reader_needs_an_existing_folder(tmp_path: Path, churn_schema: Schema) -> None:
    with pytest.raises(FileNotFoundError, match="capture folder"):
        read_capture_files(tmp_path / "nope", churn_schema.feature_names)


def test_main_scores_records_through_the_handler(
    tmp_path: Path, model_artifact: Path, records: pd.DataFrame, churn_schema: Schema
) -> None:
    from pipeline_code.monitoring.capture import main

    src = records.head(30).copy()
    src.insert(0, "customer_id", range(30))  # extra columns are fine
    src.to_parquet(tmp_path / "records.parquet")
    rc = main(
        [
            "--records",
            str(tmp_path / "records.parquet"),
            "--model-dir",
            str(model_artifact),
            "--output-dir",
            str(tmp_path / "cap"),
            "--rows-per-request",
            "10",
        ]
    )
    assert rc == 0
    data = read_capture_files(tmp_path / "cap", churn_schema.feature_names)
    assert len(data.frame) == 30 and data.events == 3 and data.bad_records == []
    first = json.loads(next((tmp_path / "cap").rglob("*.jsonl")).read_text().splitlines()[0])
    probs = [
        float(line.split(",")[0]) for line in first["captureData"]["endpointOutput"]["data"].split()
    ]
    assert len(probs) == 10 and all(0 <= p <= 1 for p in probs)

    src.drop(columns=["region"]).to_parquet(tmp_path / "bad.parquet")
    rc = main(
        [
            "--records",
            str(tmp_path / "bad.parquet"),
            "--model-dir",
            str(model_artifact),
            "--output-dir",
            str(tmp_path / "cap2"),
        ]
    )
    assert rc == 2
