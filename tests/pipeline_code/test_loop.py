"""run-local's Level 3 loop: monitor -> drift alarm -> guarded retraining -> champion/challenger.

Each scenario runs the real chain on a small data set (pandas ETL), through the same code the
AWS jobs run (monitoring job, guard, evaluate with a champion).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline_code.cli import LEVEL3_STEPS, RunLocalConfig, run_local

pytestmark = pytest.mark.slow


def _run(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    cfg = RunLocalConfig(
        output=tmp_path, rows=3000, skip_spark=True, traffic_rows=1500, **overrides
    )
    summary: dict[str, Any] = run_local(cfg)
    return summary


def test_drift_retrains_and_registers_a_challenger_at_least_as_good(tmp_path: Path) -> None:
    summary = _run(tmp_path)
    loop = summary["level3"]
    # the next day's traffic is drifted: the monitor sees it, with labels joined
    monitoring = loop["monitoring"]
    assert monitoring["violations"]["data-quality"] > 0
    assert monitoring["ground_truth"]["matched"] == monitoring["records"]
    out = Path(monitoring["output"])
    for monitor in ("data-quality", "prediction-drift", "model-quality", "bias-drift"):
        assert (out / monitor / "statistics.json").is_file(), monitor
    assert 0.5 < monitoring["live_auc"] <= 1.0
    assert monitoring["metric_lines"] > 0
    # alarm -> guard (a day after the first training: no cooldown, first start of the day)
    assert loop["drift_alarm"] is True
    assert loop["retraining"]["decision"] == "started"
    # champion/challenger on the same test split, both figures in version 2's evaluation
    record = loop["champion_challenger"]
    assert record["passed"] is True and record["challenger"] >= record["champion"]
    assert loop["new_version"]["version"] == 2
    assert loop["new_version"]["approval_status"] == "PendingManualApproval"
    v2 = Path(loop["new_version"]["path"])
    evaluation = json.loads((v2 / "evaluation.json").read_text())
    assert evaluation["champion_challenger"]["champion"] == record["champion"]
    assert (v2 / "baseline" / "statistics.json").is_file()
    v1 = json.loads(
        (tmp_path / "registry" / "customer-churn" / "version-1" / "model-package.json").read_text()
    )
    assert v1["ModelApprovalStatus"] == "Approved"
    # lineage: version 2 was trained on both days, version 1 on the first
    v2_files = [
        r["path"] for r in json.loads((v2 / "model-package.json").read_text())["DataLineage"]
    ]
    v1_files = [r["path"] for r in v1["DataLineage"]]
    assert len(v1_files) == 1 and v2_files[:-1] == v1_files and v2_files[-1] != v1_files[0]


def test_undrifted_day_raises_no_alarm_and_starts_nothing(tmp_path: Path) -> None:
    loop = _run(tmp_path, traffic_drift=0.0)["level3"]
    assert loop["monitoring"]["violations"]["data-quality"] == 0
    assert loop["drift_alarm"] is False
    assert loop["retraining"] == {"decision": "no-alarm"}
    assert not (tmp_path / "registry" / "customer-churn" / "version-2").exists()


def test_guard_cooldown_blocks_a_retraining(tmp_path: Path) -> None:
    # a cooldown longer than the day between the first training and the alarm
    loop = _run(tmp_path, retrain_cooldown_hours=48.0)["level3"]
    assert loop["drift_alarm"] is True
    assert loop["retraining"]["decision"] == "cooldown"
    assert "champion_challenger" not in loop


def test_level_2_stops_after_the_drift_check(tmp_path: Path) -> None:
    summary = _run(tmp_path, level=2)
    assert "level3" not in summary
    assert LEVEL3_STEPS[0] == "approve"
