"""The cdk-mlops command line: generate, run-local (pandas ETL here; Spark in tests/integration)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from pipeline_code.cli import EXIT_GATE_FAILED, STEPS, Progress, main


def _run(tmp_path: Path, *extra: str) -> int:
    return main(
        [
            "run-local",
            "--output",
            str(tmp_path),
            "--rows",
            "3000",
            "--traffic-rows",
            "600",
            "--skip-spark",
            *extra,
        ]
    )


def test_generate_subcommand_writes_csv(tmp_path: Path) -> None:
    out = tmp_path / "loans.csv"
    assert (
        main(
            [
                "generate",
                "--schema",
                "loan_default",
                "--rows",
                "40",
                "--seed",
                "3",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    assert len(pd.read_csv(out)) == 40


def test_generate_subcommand_needs_an_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--rows", "5"]) == 2
    assert "--output is required" in capsys.readouterr().err


def test_generate_subcommand_reports_bad_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--bad-fraction", "0.9", "--output", str(tmp_path / "x.csv")]) == 1
    assert "bad_fraction must be between 0 and 0.5" in capsys.readouterr().err


@pytest.mark.slow
def test_run_local_writes_every_artifact_and_versions_the_registry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the level-2 chain (test_loop.py covers level 3's loop)
    assert _run(tmp_path, "--traffic-drift", "0", "--level", "2") == 0
    out = capsys.readouterr()
    for name in STEPS:
        assert name in out.out  # the summary table
    assert "[10/10] drift check ok" in out.err  # the progress lines
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["drift"]["violations"] == 0  # undrifted traffic raises no alarm
    etl = summary["etl"]
    assert etl["engine"] == "pandas"
    assert etl["rows_in"] == 3000 == etl["rows_clean"] + etl["rows_quarantined"]
    assert etl["rows_quarantined"] == 60  # the default 2 % bad rows, all caught
    assert [p.name for p in (tmp_path / "curated").iterdir()] == [
        f"ingest_date={etl['ingest_date']}"
    ]
    assert (tmp_path / "training" / "output" / "model.tar.gz").is_file()
    assert summary["metrics"]["auc"] > 0.7
    version = tmp_path / "registry" / "customer-churn" / "version-1"
    for name in (
        "model.tar.gz",
        "evaluation.json",
        "report.html",
        "model-package.json",
        "baseline/statistics.json",
        "baseline/constraints.json",
    ):
        assert (version / name).is_file(), name
    assert list((tmp_path / "capture").rglob("*.jsonl"))
    assert (tmp_path / "monitoring" / "drift" / "constraint_violations.json").is_file()

    # A second run with drifted traffic: a new version, and the drift check fires.
    assert _run(tmp_path, "--level", "2") == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["model_package"]["version"] == 2
    assert summary["drift"]["violations"] > 0
    assert "monthly_charges" in summary["drift"]["drifted_features"]
    violations = json.loads(
        (tmp_path / "monitoring" / "drift" / "constraint_violations.json").read_text()
    )
    assert any(
        v["constraint_check_type"] == "baseline_drift_check" for v in violations["violations"]
    )


@pytest.mark.slow
def test_run_local_stops_at_a_failed_quality_gate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(tmp_path, "--threshold", "0.999") == EXIT_GATE_FAILED
    captured = capsys.readouterr()
    err = captured.err
    assert "model NOT registered" in err and "required >= 0.999" in err
    # Said once, not "FAILED: quality gate FAILED: ...".
    assert "FAILED: quality gate FAILED" not in captured.out + err
    assert not (tmp_path / "registry").exists()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["quality_gate"]["passed"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "x.csv"], "--data needs --schema"),
        (["--data", "/no/such.csv", "--schema", "churn"], "'/no/such.csv' does not exist"),
        (["--rows", "0"], "--rows must be at least 1"),
        (["--schema", "/no/schema.json"], "does not exist"),
        (["--metric", "roc"], "--metric 'roc' is not a metric of evaluation.json: use one of"),
        (["--model-type", "forest"], "model_type is 'forest'"),
    ],
)
def test_run_local_reports_bad_arguments_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    rows = [] if "--rows" in args else ["--rows", "400"]
    assert (
        main(
            [
                "run-local",
                "--output",
                str(tmp_path),
                "--skip-spark",
                "--traffic-rows",
                "20",
                *rows,
                *args,
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_progress_table_lists_every_step() -> None:
    stream = io.StringIO()
    progress = Progress(stream=stream)
    progress.skip("generate", "using data.csv")
    with progress.step("etl") as rec:
        rec.detail = "10 in"
    table = progress.table()
    assert "generate      skipped" in table and "etl" in table and "10 in" in table
    assert "[1/10] generate skipped" in stream.getvalue()
    assert "[2/10] etl ok" in stream.getvalue()
    with pytest.raises(RuntimeError), progress.step("preprocess"):
        raise RuntimeError("boom")
    assert "error" in progress.table() and "RuntimeError: boom" in progress.table()


def test_an_unknown_metric_is_refused_before_any_work(tmp_path: Path) -> None:
    # It used to be rejected only after the ETL and training had run.
    assert main(["run-local", "--output", str(tmp_path), "--metric", "rmse"]) == 1
    assert list(tmp_path.iterdir()) == []


def test_run_local_help_lists_the_gate_metrics(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run-local", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "auc, true_positive_rate" in out and "confidence_bounds.auc.lower" in out
