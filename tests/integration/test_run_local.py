"""End to end: ``cdk-mlops run-local`` with Spark, for churn and for a second schema (that one
also with the pandas ETL, which is what runs where pyspark is missing, as in .venv-container).

The second data set (loan defaults: string labels "yes"/"no", other columns, other sensitive
attributes) goes through the very same command as a user CSV plus its schema file: no code
knows about it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pipeline_code.cli import main
from pipeline_code.schema import SCHEMA_DIR

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.slow


def _check_run(
    out: Path, group: str, rows: int, sensitive: set[str], engine: str = "spark"
) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    etl = summary["etl"]
    assert etl["engine"] == engine
    assert etl["rows_in"] == rows == etl["rows_clean"] + etl["rows_quarantined"]
    assert etl["rows_quarantined"] > 0  # the injected bad rows
    assert summary["quality_gate"]["passed"] is True

    evaluation = json.loads((out / "evaluation" / "evaluation.json").read_text())
    metrics = evaluation["binary_classification_metrics"]
    for name in ("accuracy", "precision", "recall", "f1", "auc"):
        assert isinstance(metrics[name]["value"], float), name
    assert set(metrics["confusion_matrix"]) == {"0", "1"}
    assert set(evaluation["bias_metrics"]) == sensitive

    version = out / "registry" / group / "version-1"
    package = json.loads((version / "model-package.json").read_text())
    # Level 3's loop (the default) approves version 1 before it serves it.
    assert package["ModelApprovalStatus"] == "Approved"
    assert package["DriftCheckBaselines"]["ModelDataQuality"]["Statistics"]["S3Uri"].endswith(
        "statistics.json"
    )
    assert len(package["CustomerMetadataProperties"]["data_sha256"]) == 64

    violations = json.loads(
        (out / "monitoring" / "drift" / "constraint_violations.json").read_text()
    )
    drift = [
        v for v in violations["violations"] if v["constraint_check_type"] == "baseline_drift_check"
    ]
    assert drift, "drifted traffic must raise baseline drift violations"
    assert summary["traffic"]["requests_rejected"] == 0

    level3 = summary["level3"]
    assert level3["drift_alarm"] is True
    assert level3["retraining"]["decision"] == "started"
    if level3["new_version"] is not None:  # the challenger may lose to the champion; both are fine
        new = json.loads((Path(level3["new_version"]["path"]) / "model-package.json").read_text())
        assert new["ModelApprovalStatus"] == "PendingManualApproval"
    return summary


def test_churn_end_to_end_with_spark(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(
        [
            "run-local",
            "--output",
            str(tmp_path),
            "--rows",
            "3000",
            "--traffic-rows",
            "600",
            "--seed",
            "2",
        ]
    )
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    _check_run(tmp_path, "customer-churn", 3000, {"gender", "senior_citizen"})
    assert "total" in captured.out


def _run_second_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> None:
    """``run-local`` on a generated loan-default CSV plus its schema file, into ``tmp_path/run``."""
    csv = tmp_path / "input" / "loans.csv"
    assert (
        main(
            [
                "generate",
                "--schema",
                "loan_default",
                "--rows",
                "3000",
                "--bad-fraction",
                "0.03",
                "--seed",
                "5",
                "--output",
                str(csv),
            ]
        )
        == 0
    )
    schema_file = SCHEMA_DIR / "loan_default.json"
    out = tmp_path / "run"
    rc = main(
        [
            "run-local",
            "--output",
            str(out),
            "--data",
            str(csv),
            "--schema",
            str(schema_file),
            "--traffic-rows",
            "600",
            "--metric",
            "f1",
            "--threshold",
            "0.2",
            *extra,
        ]
    )
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    assert summary["raw_data"] == str(csv)
    assert re.search(r"^\d+\s+generate\s+skipped", captured.out, re.MULTILINE), captured.out


def test_second_schema_runs_through_the_same_command(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run_second_schema(tmp_path, capsys)
    _check_run(tmp_path / "run", "loan-default", 3000, {"age_group", "sex"})


def test_second_schema_runs_with_the_pandas_etl(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same run without Spark: what the container test environment (no pyspark) can run."""
    _run_second_schema(tmp_path, capsys, "--skip-spark")
    _check_run(tmp_path / "run", "loan-default", 3000, {"age_group", "sex"}, engine="pandas")
