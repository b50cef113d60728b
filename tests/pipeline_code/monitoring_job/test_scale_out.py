"""One shard and several shards give the same numbers on the same capture."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline_code.monitoring import job, scale_out
from pipeline_code.monitoring import job_contract as jc
from pipeline_code.monitoring.stats import DEFAULT_SKETCH_SIZE
from pipeline_code.schema import Schema


@pytest.fixture(scope="module")
def runs(
    window: dict[str, Path],
    baseline_dir: Path,
    churn_schema: Schema,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[int, job.JobResult]:
    out = {}
    for shards in (1, 2, 3):
        cfg = job.JobConfig(
            capture_dir=window["capture"],
            baseline_dir=baseline_dir,
            output_dir=tmp_path_factory.mktemp(f"shards{shards}"),
            schema=churn_schema,
            ground_truth_dir=window["ground_truth"],
        )
        out[shards] = job.run_job(cfg, shards=shards)
    return out


@pytest.mark.parametrize("shards", [2, 3])
def test_counts_and_distances_are_exact(runs: dict[int, job.JobResult], shards: int) -> None:
    one, many = runs[1], runs[shards]
    assert (many.records, many.events, many.files) == (one.records, one.events, one.files)
    assert many.ground_truth == one.ground_truth
    assert many.violations == one.violations
    s1, sn = one.statistics, many.statistics
    for f1, fn in zip(
        s1[jc.MONITOR_DATA_QUALITY]["features"],
        sn[jc.MONITOR_DATA_QUALITY]["features"],
        strict=True,
    ):
        if "string_statistics" in f1:
            assert fn == f1  # category counts
            continue
        n1, nn = f1["numerical_statistics"], fn["numerical_statistics"]
        assert nn["common"] == n1["common"]
        assert (nn["min"], nn["max"]) == (n1["min"], n1["max"])
        assert nn["mean"] == pytest.approx(n1["mean"], rel=1e-12)
        assert nn["std_dev"] == pytest.approx(n1["std_dev"], rel=1e-9)
    for monitor in (jc.MONITOR_MODEL_QUALITY, jc.MONITOR_BIAS_DRIFT):
        assert sn[monitor] == s1[monitor], monitor
    lines1 = [json.loads(x) for x in one.metric_lines]
    linesn = [json.loads(x) for x in many.metric_lines]
    for a, b in zip(lines1, linesn, strict=True):
        # drift distances come from merged exact counts: equal, not just close
        assert a["cdk_mlops_metric"] == b["cdk_mlops_metric"]
        assert b["value"] == pytest.approx(a["value"], rel=1e-12, abs=1e-15), a


@pytest.mark.parametrize("shards", [2, 3])
def test_quantiles_are_within_the_sketch_tolerance(
    runs: dict[int, job.JobResult], window: dict[str, Path], churn_schema: Schema, shards: int
) -> None:
    files = sorted(window["capture"].rglob("*.jsonl"))
    frame = scale_out.read_window(
        files, window["capture"], churn_schema.feature_names
    ).capture.frame
    tolerance = 2.0 / (DEFAULT_SKETCH_SIZE - 1)
    stats = runs[shards].statistics[jc.MONITOR_DATA_QUALITY]["features"]
    checked = 0
    for f in stats:
        if "numerical_statistics" not in f:
            continue
        x = np.sort(pd.to_numeric(frame[f["name"]], errors="coerce").dropna().to_numpy())
        q = np.asarray(f["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"][0])
        probs = np.linspace(0, 1, q.size)
        below = np.searchsorted(x, q, side="left") / x.size  # F(q-)
        at = np.searchsorted(x, q, side="right") / x.size  # F(q)
        assert np.all(below - tolerance <= probs) and np.all(probs <= at + tolerance), f["name"]
        checked += 1
    assert checked == len(churn_schema.numeric_features)


def test_merge_weights_each_shard_by_its_count() -> None:
    a = scale_out.quantile_summary(np.arange(1000.0), 101)
    b = scale_out.quantile_summary(np.arange(1000.0, 1100.0), 101)
    q, n = scale_out.merge_quantile_summaries([a, b], 101)
    assert n == 1100
    assert q[50] == pytest.approx(550, abs=1100 * 2 / 100)
    assert (q[0], q[-1]) == (0.0, 1099.0)


def test_shard_files_partition_the_files(tmp_path: Path) -> None:
    files = [tmp_path / f"{i:02d}.jsonl" for i in range(7)]
    parts = [scale_out.shard_files(files, (i, 3)) for i in range(3)]
    assert sorted(p for part in parts for p in part) == sorted(files)
    assert [len(p) for p in parts] == [3, 2, 2]


def test_shard_from_resource_config(tmp_path: Path) -> None:
    path = tmp_path / "resourceconfig.json"
    path.write_text(json.dumps({"current_host": "algo-2", "hosts": ["algo-1", "algo-2", "algo-3"]}))
    assert scale_out.shard_from_resource_config(path) == (1, 3)
    with pytest.raises(ValueError, match="--shard auto needs SageMaker's"):
        scale_out.shard_from_resource_config(tmp_path / "absent.json")


@pytest.mark.parametrize("text", ["1", "2/2", "-1/2", "a/b", "0/0"])
def test_fails_when_the_shard_is_not_i_of_n(text: str) -> None:
    with pytest.raises(ValueError, match=r"--shard .* (is not 'i/n'|needs 0 <= i < n)"):
        scale_out.parse_shard(text)


def test_fails_when_partials_miss_a_shard(
    window: dict[str, Path], baseline_dir: Path, churn_schema: Schema, tmp_path: Path
) -> None:
    cfg = job.JobConfig(
        capture_dir=window["capture"],
        baseline_dir=baseline_dir,
        output_dir=tmp_path,
        schema=churn_schema,
        monitors=(jc.MONITOR_DATA_QUALITY,),
        shard=(0, 2),
    )
    scale_out.write_partial(job.compute_partial(cfg, (0, 2)), tmp_path / "p", "a")
    with pytest.raises(ValueError, match=r"do not cover shards 0..1 once each \(missing \[1\]"):
        scale_out.read_partials(tmp_path / "p")
    other = job.JobConfig(
        capture_dir=window["capture"],
        baseline_dir=baseline_dir,
        output_dir=tmp_path,
        schema=churn_schema,
        shard=(1, 2),
    )
    scale_out.write_partial(job.compute_partial(other, (1, 2)), tmp_path / "p", "b")
    with pytest.raises(ValueError, match="come from different runs"):
        scale_out.read_partials(tmp_path / "p")
    with pytest.raises(FileNotFoundError, match=r"no \*\.partial\.json files under"):
        scale_out.read_partials(tmp_path / "empty")
