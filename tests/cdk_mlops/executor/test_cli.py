"""``cdk-mlops run-pipeline`` / ``python -m cdk_mlops.executor``: arguments and exit statuses."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from cdk_mlops.executor.cli import (
    EXIT_ERROR,
    EXIT_USAGE,
    add_run_pipeline_arguments,
    main,
    run_pipeline_command,
)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_run_pipeline_arguments(parser)
    return parser.parse_args(list(argv))


def test_arguments_and_defaults() -> None:
    args = _args("t.json", "--data", "d.csv", "--parameter", "A=1", "--parameter", "B=x=y")
    assert args.template == "t.json"
    assert args.parameter == ["A=1", "B=x=y"]
    assert (args.schema, args.work_dir, args.threads, args.python) == (
        "churn",
        "cdk-mlops-pipeline",
        1,
        None,
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--parameter", "NoValue"], "--parameter 'NoValue': use NAME=VALUE"),
        (["--data", "a.csv", "--curated", "c"], "pass --data or --curated, not both"),
        (["--python", "/no/such/python"], "--python '/no/such/python' does not exist"),
        (["--threads", "-1"], "--threads must be 0 or more"),
        (["--object", "model.tar.gz"], "--object 'model.tar.gz': use S3URI=FILE"),
        (["--object", "bucket/k=m.tar.gz"], "--object 'bucket/k=m.tar.gz': use S3URI=FILE"),
        (
            ["--object", "s3://b/k=/no/such/file"],
            "--object 's3://b/k=/no/such/file': '/no/such/file' is not a file",
        ),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_pipeline_command(_args("t.json", *argv)) == EXIT_USAGE
    assert f"cdk-mlops run-pipeline: error: {message}" in capsys.readouterr().err


def test_a_refused_template_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main([str(tmp_path / "Nope.template.json"), "--work-dir", str(tmp_path / "w")])
    assert status == EXIT_ERROR
    assert "does not exist; run 'cdk synth'" in capsys.readouterr().err


def test_python_m_works() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "cdk_mlops.executor", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "cdk-mlops run-pipeline" in out
    assert "--parameter NAME=VALUE" in out
