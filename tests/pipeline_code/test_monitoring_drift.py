"""The drift check: capture files against the baseline, Model Monitor's checks and outputs."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pandas as pd
import pytest
from moto import mock_aws

from pipeline_code.compat import UTC
from pipeline_code.monitoring import drift as D
from pipeline_code.monitoring import formats
from pipeline_code.monitoring.baseline import build_baseline, run_baseline
from pipeline_code.monitoring.capture import write_capture_files
from pipeline_code.schema import Schema

from .conftest_serving import *  # noqa: F403 - the serving fixtures
from .conftest_serving import synthetic_features

START = datetime(2026, 5, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def baseline_dir(tmp_path_factory: pytest.TempPathFactory, churn_schema: Schema) -> Path:
    out = tmp_path_factory.mktemp("baseline")
    run_baseline(synthetic_features(churn_schema, 8000, seed=41), churn_schema, out)
    return out


def _capture(tmp: Path, df: pd.DataFrame, **kwargs: Any) -> Path:
    write_capture_files(
        df, np.full(len(df), 0.4), tmp, start_time=START, rows_per_request=5, **kwargs
    )
    return tmp


def _check(
    tmp: Path, capture: Path, baseline_dir: Path, schema: Schema, **kwargs: Any
) -> D.DriftReport:
    return D.run_drift_check(capture, baseline_dir, schema, tmp / "out", **kwargs)


def test_same_distribution_has_no_violations(
    tmp_path: Path, baseline_dir: Path, churn_schema: Schema
) -> None:
    current = synthetic_features(churn_schema, 4000, seed=42)  # same generator, new sample
    report = _check(tmp_path, _capture(tmp_path / "cap", current), baseline_dir, churn_schema)
    assert report.violations == [] and report.drifted_features == []
    assert report.item_count == 4000 and report.bad_record_count == 0
    assert all(f.distance is not None and f.distance < 0.05 for f in report.features)


def test_identical_data_is_within_sketch_resolution(tmp_path: Path, churn_schema: Schema) -> None:
    df = synthetic_features(churn_schema, 3000, seed=43)
    run_baseline(df, churn_schema, tmp_path / "base")
    report = _check(
        tmp_path,
        _capture(tmp_path / "cap", df, content_type="application/json"),
        tmp_path / "base",
        churn_schema,
    )
    assert report.violations == []
    # numeric: the baseline keeps 1025 quantiles, so the CDFs differ by up to about 1/1024 + 1/n
    numeric = [f.distance or 0.0 for f in report.features if f.inferred_type != "String"]
    assert max(numeric) <= 1 / 1024 + 2 / 3000
    categorical = [f.distance for f in report.features if f.inferred_type == "String"]
    assert categorical == [0.0] * 5  # category counts are exact
    assert max(f.psi or 0.0 for f in report.features) < 1e-3


def test_shifted_features_and_only_those_are_flagged(
    tmp_path: Path, baseline_dir: Path, churn_schema: Schema
) -> None:
    current = synthetic_features(churn_schema, 4000, seed=44)
    current["monthly_charges"] = np.clip(current["monthly_charges"] * 1.5 + 20, 0, 300)
    current["support_calls"] = np.minimum(current["support_calls"] + 4, 50)
    current["contract_type"] = np.where(
        np.arange(4000) % 3 == 0, current["contract_type"], "month-to-month"
    )
    report = _check(tmp_path, _capture(tmp_path / "cap", current), baseline_dir, churn_schema)
    assert sorted(report.drifted_features) == ["contract_type", "monthly_charges", "support_calls"]
    drift = report.violations_of(formats.BASELINE_DRIFT_CHECK)
    assert sorted(v["feature_name"] for v in drift) == sorted(report.drifted_features)
    assert all("exceeds threshold: 0.1" in v["description"] for v in drift)
    assert len(report.violations) == len(drift)  # nothing else fires

    out = tmp_path / "out"
    violations = json.loads((out / formats.VIOLATIONS_FILE).read_text())["violations"]
    assert violations == report.violations
    assert set(violations[0]) == {"feature_name", "constraint_check_type", "description"}
    metrics = json.loads((out / formats.METRICS_FILE).read_text())
    assert metrics["namespace"] == "aws/sagemaker/Endpoints/data-metrics"
    assert metrics["metrics"]["feature_baseline_drift_monthly_charges"] > 0.1
    assert metrics["metrics"]["feature_baseline_drift_region"] < 0.1
    assert {f"feature_baseline_drift_{n}" for n in churn_schema.feature_names} <= set(
        metrics["metrics"]
    )
    current_stats = json.loads((out / formats.STATISTICS_FILE).read_text())
    assert current_stats["dataset"]["item_count"] == 4000
    assert [f["name"] for f in current_stats["features"]] == churn_schema.feature_names


def test_data_type_completeness_and_domain_checks(
    tmp_path: Path, baseline_dir: Path, churn_schema: Schema
) -> None:
    current = synthetic_features(churn_schema, 1000, seed=45).astype(object)
    current.loc[current.index[:200], "tenure_months"] = "unknown"  # 20 % text in an integer column
    current.loc[current.index[200:300], "late_payments"] = (
        2.5  # 10 % fractions: at the threshold, not above
    )
    current.loc[current.index[:300], "data_usage_gb"] = np.nan  # 30 % missing, baseline 100 %
    current.loc[current.index[:150], "region"] = "atlantis"  # 15 % outside the domain
    report = _check(tmp_path, _capture(tmp_path / "cap", current), baseline_dir, churn_schema)
    by_check = {(v["constraint_check_type"], v["feature_name"]) for v in report.violations}
    assert (formats.DATA_TYPE_CHECK, "tenure_months") in by_check
    assert (formats.DATA_TYPE_CHECK, "late_payments") not in by_check
    assert (formats.COMPLETENESS_CHECK, "data_usage_gb") in by_check
    assert (formats.CATEGORICAL_VALUES_CHECK, "region") in by_check
    feat = {f.name: f for f in report.features}
    assert feat["tenure_months"].type_mismatch_fraction == pytest.approx(0.2)
    assert feat["data_usage_gb"].completeness == pytest.approx(0.7)
    assert feat["region"].unknown_fraction == pytest.approx(0.15)
    text = next(v["description"] for v in report.violations if v["feature_name"] == "data_usage_gb")
    assert "70.00%" in text


def test_column_checks_and_bad_lines(
    tmp_path: Path, baseline_dir: Path, churn_schema: Schema
) -> None:
    good = synthetic_features(churn_schema, 100, seed=46)
    recs = json.loads(good.to_json(orient="records"))
    for r in recs[:10]:
        del r["region"]
    for r in recs[:5]:
        r["customer_id"] = 1
    cap = tmp_path / "cap" / "ep" / "AllTraffic" / "2026" / "05" / "01" / "00"
    cap.mkdir(parents=True)
    event = {
        "captureData": {
            "endpointInput": {
                "observedContentType": "application/json",
                "mode": "INPUT",
                "data": json.dumps(recs),
                "encoding": "JSON",
            }
        },
        "eventMetadata": {"eventId": "1", "inferenceTime": "2026-05-01T00:00:00Z"},
        "eventVersion": "0",
    }
    short = dict(
        event,
        captureData={
            "endpointInput": {"observedContentType": "text/csv", "data": "1,2,3", "encoding": "CSV"}
        },
    )
    (cap / "x.jsonl").write_text(
        "\n".join([json.dumps(event), "garbage", json.dumps(short)]) + "\n"
    )
    report = _check(tmp_path, tmp_path / "cap", baseline_dir, churn_schema)
    assert report.item_count == 100 and report.bad_record_count == 2
    checks = {(v["constraint_check_type"], v["feature_name"]) for v in report.violations}
    assert (formats.MISSING_COLUMN_CHECK, "region") in checks
    assert (formats.EXTRA_COLUMN_CHECK, "customer_id") in checks
    assert (formats.MISSING_COLUMN_CHECK, "*") in checks  # the CSV row with 3 of 11 fields
    quarantined = [
        json.loads(line)
        for line in (tmp_path / "out" / formats.BAD_RECORDS_FILE).read_text().splitlines()
    ]
    assert [q["line"] for q in quarantined] == [2, 3]
    assert "not valid JSON" in quarantined[0]["reason"] and "3 fields" in quarantined[1]["reason"]


def test_robust_method_ignores_small_sample_noise(churn_schema: Schema) -> None:
    base = synthetic_features(churn_schema, 5000, seed=47)
    stats, cons = build_baseline(base, churn_schema)
    # 40 rows: a distance just above 0.1 is within what 40 rows vary by chance
    small = synthetic_features(churn_schema, 40, seed=48)
    simple = json.loads(json.dumps(cons))
    simple["monitoring_config"]["distribution_constraints"]["comparison_method"] = "Simple"
    robust = D.compute_drift(small, stats, cons, threshold=0.1)
    plain = D.compute_drift(small, stats, simple, threshold=0.1)
    over = [f.name for f in plain.features if f.distance is not None and f.distance > 0.1]
    assert over, "the sample should have some distance above 0.1 by chance"
    assert sorted(f.name for f in plain.features if f.drifted) == sorted(over)
    assert [f.name for f in robust.features if f.drifted] == []


def test_threshold_and_methods_are_validated(churn_schema: Schema) -> None:
    stats, cons = build_baseline(synthetic_features(churn_schema, 100, seed=49), churn_schema)
    df = synthetic_features(churn_schema, 10, seed=50)
    with pytest.raises(ValueError, match="between 0 and 1"):
        D.compute_drift(df, stats, cons, threshold=1.5)
    chi = json.loads(json.dumps(cons))
    chi["monitoring_config"]["distribution_constraints"]["categorical_drift_method"] = "ChiSquared"
    with pytest.raises(ValueError, match="'LInfinity' only"):
        D.compute_drift(df, stats, chi)
    with pytest.raises(ValueError, match="not a Model Monitor statistics document"):
        D.compute_drift(df, {"x": 1}, cons)


def test_reads_a_multi_level_kll_sketch(churn_schema: Schema) -> None:
    """A statistics.json written by Model Monitor has several KLL levels: it is read with weights."""
    base = synthetic_features(churn_schema, 4000, seed=51)
    stats, cons = build_baseline(base, churn_schema)
    feat = next(f for f in stats["features"] if f["name"] == "monthly_charges")
    data = feat["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"][0]
    # level 0 keeps every other point once, level 1 the others with weight 2: the same CDF shape
    feat["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"] = [
        data[::2],
        data[1::2][::2],
    ]
    result = D.compute_drift(synthetic_features(churn_schema, 4000, seed=52), stats, cons)
    drift = next(f for f in result.features if f.name == "monthly_charges")
    assert drift.distance is not None and drift.distance < 0.05


def test_schema_must_match_the_baseline(tmp_path: Path, baseline_dir: Path) -> None:
    other = Schema.from_dict(
        {
            "name": "o",
            "id_column": "id",
            "target": {"name": "y", "positive": 1, "negative": 0},
            "features": [{"name": "a", "type": "float"}],
        }
    )
    with pytest.raises(ValueError, match="regenerate the baseline"):
        D.run_drift_check(tmp_path, baseline_dir, other, tmp_path / "out")


def test_no_capture_files_is_an_empty_report(
    tmp_path: Path, baseline_dir: Path, churn_schema: Schema
) -> None:
    (tmp_path / "cap").mkdir()
    report = _check(tmp_path, tmp_path / "cap", baseline_dir, churn_schema)
    assert report.item_count == 0 and report.violations == [] and report.capture_files == 0
    assert (
        json.loads((tmp_path / "out" / formats.STATISTICS_FILE).read_text())["dataset"][
            "item_count"
        ]
        == 0
    )


def test_cloudwatch_metrics_with_moto(
    tmp_path: Path, baseline_dir: Path, churn_schema: Schema, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    current = synthetic_features(churn_schema, 500, seed=53)
    report = _check(tmp_path, _capture(tmp_path / "cap", current), baseline_dir, churn_schema)
    with mock_aws():
        cw = boto3.client("cloudwatch", region_name="us-east-1")
        sent = D.emit_cloudwatch_metrics(
            report, endpoint_name="churn-ep", schedule_name="hourly", cloudwatch_client=cw
        )
        assert sent == len(report.metrics) > 20  # more than one PutMetricData batch
        listed = cw.list_metrics(Namespace=formats.METRIC_NAMESPACE)["Metrics"]
        names = {m["MetricName"] for m in listed}
        assert (
            "feature_baseline_drift_monthly_charges" in names and "feature_non_null_region" in names
        )
        dims = {(d["Name"], d["Value"]) for d in listed[0]["Dimensions"]}
        assert dims == {("Endpoint", "churn-ep"), ("MonitoringSchedule", "hourly")}


def test_main_entry_point(
    tmp_path: Path, baseline_dir: Path, churn_schema: Schema, capsys: pytest.CaptureFixture[str]
) -> None:
    current = synthetic_features(churn_schema, 300, seed=54)
    current["support_calls"] = np.minimum(current["support_calls"] + 10, 50)
    cap = _capture(tmp_path / "cap", current)
    rc = D.main(
        [
            "--capture-dir",
            str(cap),
            "--baseline-dir",
            str(baseline_dir),
            "--output-dir",
            str(tmp_path / "o"),
        ]
    )
    assert rc == 0  # violations are a result, not a failure
    out = capsys.readouterr().out
    assert "baseline_drift_check: support_calls" in out
    assert (tmp_path / "o" / formats.VIOLATIONS_FILE).exists()
    rc = D.main(
        [
            "--capture-dir",
            str(cap),
            "--baseline-dir",
            str(tmp_path / "none"),
            "--output-dir",
            str(tmp_path / "o2"),
        ]
    )
    assert rc == 2 and "does not exist" in capsys.readouterr().err


def test_main_reads_model_monitor_environment(
    tmp_path: Path, baseline_dir: Path, churn_schema: Schema, monkeypatch: pytest.MonkeyPatch
) -> None:
    cap = _capture(tmp_path / "cap", synthetic_features(churn_schema, 50, seed=55))
    monkeypatch.setenv("dataset_source", str(cap))
    monkeypatch.setenv("output_path", str(tmp_path / "env-out"))
    assert D.main(["--baseline-dir", str(baseline_dir)]) == 0
    assert (tmp_path / "env-out" / formats.VIOLATIONS_FILE).exists()
