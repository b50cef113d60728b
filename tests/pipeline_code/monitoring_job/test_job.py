"""The monitoring job end to end: outputs, metric lines, ground truth, bad records, CLI."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from pipeline_code.monitoring import job
from pipeline_code.monitoring import job_contract as jc
from pipeline_code.monitoring import metric_lines as ml
from pipeline_code.monitoring.drift import run_drift_check
from pipeline_code.monitoring.ground_truth import join_labels, read_ground_truth
from pipeline_code.monitoring.scale_out import read_window
from pipeline_code.schema import Schema

from ..conftest_serving import synthetic_features
from .conftest import START, make_capture, make_ground_truth


def _cfg(window: dict[str, Path], baseline_dir: Path, out: Path, schema: Schema) -> job.JobConfig:
    return job.JobConfig(
        capture_dir=window["capture"],
        baseline_dir=baseline_dir,
        output_dir=out,
        schema=schema,
        ground_truth_dir=window["ground_truth"],
        endpoint_name="churn-prod",
        schedule_name="churn-prod-hourly",
    )


def _values(lines: list[str]) -> dict[tuple[str, str | None, str | None], float]:
    out = {}
    for line in lines:
        d = json.loads(line)
        out[(d[ml.MARKER], d.get("monitor"), d.get("facet"))] = d["value"]
    return out


@pytest.fixture(scope="module")
def result(
    window: dict[str, Path],
    baseline_dir: Path,
    churn_schema: Schema,
    tmp_path_factory: pytest.TempPathFactory,
) -> job.JobResult:
    return job.run_job(_cfg(window, baseline_dir, tmp_path_factory.mktemp("out"), churn_schema))


def test_writes_model_monitor_files_per_monitor(
    result: job.JobResult, window: dict[str, Path], baseline_dir: Path, churn_schema: Schema
) -> None:
    assert result.records == 3000 and result.bad_records == 0 and result.files == 4
    assert set(result.statistics) == set(jc.MONITORS)
    for monitor in jc.MONITORS:
        assert result.violations[monitor] == [], monitor
    dq = result.statistics[jc.MONITOR_DATA_QUALITY]
    assert dq["dataset"]["item_count"] == 3000
    assert [f["name"] for f in dq["features"]] == churn_schema.feature_names


def test_data_quality_equals_the_drift_check(
    result: job.JobResult,
    window: dict[str, Path],
    baseline_dir: Path,
    churn_schema: Schema,
    tmp_path: Path,
) -> None:
    report = run_drift_check(window["capture"], baseline_dir, churn_schema, tmp_path)
    values = _values(result.metric_lines)
    for name, value in report.metrics.items():
        if name.startswith(ml.DRIFT_PREFIX) or name.startswith(ml.NON_NULL_PREFIX):
            assert values[(name, None, None)] == pytest.approx(value, abs=1e-12), name


def test_model_quality_joins_ground_truth_by_event_id(
    result: job.JobResult, window: dict[str, Path], churn_schema: Schema
) -> None:
    gt = read_ground_truth(window["ground_truth"], churn_schema)
    files = sorted(window["capture"].rglob("*.jsonl"))
    w = read_window(files, window["capture"], churn_schema.feature_names)
    joined = join_labels(w.event_ids, w.record_index, gt)
    assert result.ground_truth == {"matched": joined.matched, "unlabeled": joined.unlabeled}
    assert 0 < joined.unlabeled < joined.matched
    stats = result.statistics[jc.MONITOR_MODEL_QUALITY]
    mask = joined.labels >= 0
    y, s = joined.labels[mask], w.scores[mask]
    expected_auc = roc_auc_score(y, s)
    got = stats["binary_classification_metrics"]["auc"]["value"]
    assert got == pytest.approx(expected_auc, abs=2e-3)  # scores binned at 1e-4
    cm = stats["binary_classification_metrics"]["confusion_matrix"]
    pred = (s >= 0.5).astype(int)
    assert cm["1"]["1"] == int(((y == 1) & (pred == 1)).sum())
    assert cm["0"]["1"] == int(((y == 0) & (pred == 1)).sum())
    values = _values(result.metric_lines)
    assert values[("auc", None, None)] == got
    assert values[(ml.GROUND_TRUTH_UNLABELED_METRIC, None, None)] == joined.unlabeled


def test_bias_drift_reports_each_sensitive_attribute(result: job.JobResult) -> None:
    stats = result.statistics[jc.MONITOR_BIAS_DRIFT]
    assert set(stats["bias_metrics"]) == {"gender", "senior_citizen"}
    groups = stats["bias_metrics"]["gender"]["groups"]
    assert set(groups) == {"female", "male", "nonbinary"}
    assert sum(g["count"] for g in groups.values()) == result.ground_truth["matched"]
    values = _values(result.metric_lines)
    assert ("bias_metric_DI", None, "gender") in values


def test_every_metric_line_has_a_definition(result: job.JobResult, churn_schema: Schema) -> None:
    defs = {(d.name, d.namespace): d for d in ml.metric_definitions(churn_schema.feature_names)}
    for line in result.metric_lines:
        doc = json.loads(line)
        d = defs[(doc[ml.MARKER], doc["namespace"])]
        for selector in d.dimensions.values():
            assert selector.removeprefix("$.") in doc, (line, selector)
        assert isinstance(doc["value"], float)
        assert doc["endpoint"] == "churn-prod" and doc["schedule"] == "churn-prod-hourly"
    emitted = {json.loads(line)[ml.MARKER] for line in result.metric_lines}
    assert emitted == {d.name for d in defs.values()}


def test_drifted_traffic_raises_violations_and_metrics(
    baseline_dir: Path, churn_schema: Schema, tmp_path: Path
) -> None:
    df = synthetic_features(churn_schema, 2000, seed=7)
    df["support_calls"] = np.minimum(df["support_calls"] + 8, 50)
    make_capture(tmp_path / "cap", df)
    cfg = job.JobConfig(
        capture_dir=tmp_path / "cap",
        baseline_dir=baseline_dir,
        output_dir=tmp_path / "out",
        schema=churn_schema,
        monitors=(jc.MONITOR_DATA_QUALITY, jc.MONITOR_PREDICTION_DRIFT),
    )
    r = job.run_job(cfg)
    drifted = {v["feature_name"] for v in r.violations[jc.MONITOR_DATA_QUALITY]}
    assert "support_calls" in drifted
    assert [v["feature_name"] for v in r.violations[jc.MONITOR_PREDICTION_DRIFT]] == [
        "prediction_score"
    ]
    values = _values(r.metric_lines)
    assert values[(ml.VIOLATIONS_METRIC, jc.MONITOR_PREDICTION_DRIFT, None)] == 1.0
    assert not (tmp_path / "out" / jc.MONITOR_MODEL_QUALITY).exists()


def test_bad_capture_and_ground_truth_records_are_reported(
    baseline_dir: Path, churn_schema: Schema, tmp_path: Path
) -> None:
    files = make_capture(tmp_path / "cap", synthetic_features(churn_schema, 50, seed=3))
    make_ground_truth(tmp_path / "cap", tmp_path / "gt", share=1.0)
    with files[0].open("a") as fh:
        fh.write("not json\n")
        event = json.loads(files[0].read_text().splitlines()[0])
        event["captureData"]["endpointOutput"]["data"] = "0.5,1\n"  # 1 score for 5 records
        event["eventMetadata"]["eventId"] = "short-output"
        fh.write(json.dumps(event) + "\n")
    gt_file = next((tmp_path / "gt").rglob("*.jsonl"))
    with gt_file.open("a") as fh:
        first = json.loads(files[0].read_text().splitlines()[0])["eventMetadata"]["eventId"]
        # a bad label for an event of the window is reported (and does not replace the good one)
        bad_line = {"groundTruthData": {"data": "maybe"}, "eventMetadata": {"eventId": first}}
        fh.write(json.dumps(bad_line) + "\n")
        # labels of events outside the window are not even parsed
        fh.write('{"groundTruthData": {"data": "maybe"}, "eventMetadata": {"eventId": "x"}}\n')
    cfg = replace(
        job.JobConfig(
            capture_dir=tmp_path / "cap",
            baseline_dir=baseline_dir,
            output_dir=tmp_path / "out",
            schema=churn_schema,
        ),
        ground_truth_dir=tmp_path / "gt",
    )
    r = job.run_job(cfg)
    bad = [json.loads(x) for x in (tmp_path / "out" / "bad_records.jsonl").read_text().splitlines()]
    reasons = " | ".join(b["reason"] for b in bad)
    assert "line is not valid JSON" in reasons
    assert "endpointOutput has 1 predictions for 5 input records" in reasons
    assert "label 'maybe' is neither the positive nor the negative value" in reasons
    assert r.bad_records == len(bad) == 3
    assert _values(r.metric_lines)[(ml.BAD_RECORDS_METRIC, None, None)] == 3.0
    # the records of the short-output event count for data quality, not for model quality
    assert r.records == 55
    assert r.ground_truth["matched"] == 50


def test_window_skips_and_counts_events_outside(
    window: dict[str, Path], baseline_dir: Path, churn_schema: Schema, tmp_path: Path
) -> None:
    from datetime import timedelta

    cfg = replace(
        _cfg(window, baseline_dir, tmp_path, churn_schema),
        window_start=START + timedelta(hours=1),
        window_end=START + timedelta(hours=2),
    )
    r = job.run_job(cfg)
    assert r.records == 180 * 5  # one event per 20 s
    assert r.out_of_window == 600 - 180


def test_cli_all_and_partial_then_merge_print_the_same_metric_lines(
    window: dict[str, Path], baseline_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = [
        jc.FLAG_CAPTURE_DIR, str(window["capture"]),
        jc.FLAG_BASELINE_DIR, str(baseline_dir),
        jc.FLAG_GROUND_TRUTH_DIR, str(window["ground_truth"]),
        jc.FLAG_ENDPOINT_NAME, "churn-prod",
        jc.FLAG_SCHEDULE_NAME, "hourly",
    ]  # fmt: skip
    assert job.main([*common, jc.FLAG_OUTPUT_DIR, str(tmp_path / "all")]) == 0
    all_lines = ml.parse_metric_lines(capsys.readouterr().out)
    for i in range(2):
        args = [*common, jc.FLAG_OUTPUT_DIR, str(tmp_path / "map"), jc.FLAG_MODE, "partial"]
        assert job.main([*args, jc.FLAG_SHARD, f"{i}/2"]) == 0
    capsys.readouterr()
    merge = [*common, jc.FLAG_OUTPUT_DIR, str(tmp_path / "merged"), jc.FLAG_MODE, "merge"]
    assert job.main([*merge, jc.FLAG_PARTIALS_DIR, str(tmp_path / "map" / "partials")]) == 0
    merged_lines = ml.parse_metric_lines(capsys.readouterr().out)
    assert len(all_lines) == len(merged_lines) > 40
    for a, b in zip(all_lines, merged_lines, strict=True):
        assert a[ml.MARKER] == b[ml.MARKER]
        assert a["value"] == pytest.approx(b["value"], rel=1e-9, abs=1e-12), a[ml.MARKER]
    for monitor in jc.MONITORS:
        for name in ("statistics.json", "constraint_violations.json"):
            assert (tmp_path / "merged" / monitor / name).is_file()
