"""--shard auto on SageMaker, and a window without traffic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline_code.monitoring import job
from pipeline_code.monitoring import job_contract as jc
from pipeline_code.monitoring import metric_lines as ml


def test_shard_auto_names_the_partial_after_the_host(
    window: dict[str, Path],
    baseline_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "resourceconfig.json"
    config.write_text(json.dumps({"current_host": "algo-2", "hosts": ["algo-1", "algo-2"]}))
    monkeypatch.setattr(jc, "RESOURCE_CONFIG_PATH", str(config))
    args = ["--capture-dir", str(window["capture"]), "--baseline-dir", str(baseline_dir),
            "--output-dir", str(tmp_path / "out"), "--mode", "partial", "--shard", "auto",
            "--monitors", "data-quality"]  # fmt: skip
    assert job.main(args) == 0
    written = sorted(p.name for p in (tmp_path / "out" / jc.PARTIALS_SUBDIR).iterdir())
    assert written == ["shard-0001-of-0002.hashes.npy", "shard-0001-of-0002.partial.json"]
    # SageMaker already gave this instance its files: auto reads all of them
    doc = json.loads((tmp_path / "out" / "partials" / written[1]).read_text())
    assert doc["records"] == 3000 and doc["shard"] == [1, 2]
    assert "partial state of 3000 records" in capsys.readouterr().out


def test_a_window_without_traffic_writes_empty_reports(
    baseline_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "capture").mkdir()
    args = ["--capture-dir", str(tmp_path / "capture"), "--baseline-dir", str(baseline_dir),
            "--output-dir", str(tmp_path / "out")]  # fmt: skip
    assert job.main(args) == 0
    values = {d[ml.MARKER]: d["value"] for d in ml.parse_metric_lines(capsys.readouterr().out)}
    assert values[ml.RECORDS_METRIC] == 0.0 and values[ml.GROUND_TRUTH_MATCHED_METRIC] == 0.0
    assert "auc" not in values  # undefined metrics are absent, never NaN
    for monitor in jc.MONITORS:
        doc = json.loads((tmp_path / "out" / monitor / "constraint_violations.json").read_text())
        assert doc == {"violations": []}
