"""run-local's quality gate on the lower confidence bound (issue 8, item 4): the flags, and
evaluation.json and report.html saying which value and bound were compared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline_code.cli import EXIT_GATE_FAILED, build_parser, main


def test_gate_bound_flags_default_to_the_point_gate() -> None:
    args = build_parser().parse_args(["run-local", "--output", "x"])
    assert (args.gate_bound, args.confidence_level) == ("point", 0.95)
    args = build_parser().parse_args(
        ["run-local", "--output", "x", "--gate-bound", "lower", "--confidence-level", "0.9"]
    )
    assert (args.gate_bound, args.confidence_level) == ("lower", 0.9)


@pytest.mark.slow
def test_run_local_gates_on_the_lower_bound_and_records_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(
        [
            "run-local",
            "--output",
            str(tmp_path),
            "--rows",
            "1500",
            "--traffic-rows",
            "200",
            "--skip-spark",
            "--gate-bound",
            "lower",
            "--confidence-level",
            "0.9",
            "--threshold",
            "0.99",
        ]
    )
    assert rc == EXIT_GATE_FAILED
    assert "auc lower 90% confidence bound" in capsys.readouterr().err
    summary = json.loads((tmp_path / "summary.json").read_text())
    gate = summary["quality_gate"]
    assert (gate["bound"], gate["confidence_level"], gate["passed"]) == ("lower", 0.9, False)
    evaluation = json.loads((tmp_path / "evaluation" / "evaluation.json").read_text())
    recorded = evaluation["quality_gate"]
    assert recorded["bound"] == "lower" and recorded["compared_value"] == gate["value"]
    assert recorded["compared_value"] < recorded["point_value"]
    assert evaluation["confidence_bounds"]["confidence_level"] == 0.9
    page = (tmp_path / "evaluation" / "report.html").read_text()
    assert "compared the lower 0.9000 one-sided confidence bound of auc" in page
