"""Benchmark: the monitoring job on N captured records (default 1,000,000), all four monitors.

Prints, from one run on the same capture:

* the floor: reading the capture JSON Lines with pandas alone (``pd.read_json(lines=True)`` per
  file, the envelope only; the CSV payloads stay strings);
* the job, one process (``--mode all``): parse + data quality + prediction drift + model quality
  (half of the events labelled) + bias drift, wall time and peak memory;
* the scale-out path: the same job as 2 shards computed by 2 worker processes plus the merge
  (what two processing instances with ``ShardedByS3Key`` and a merge job do);

and the ratios. Every measurement runs in a fresh child process, so peak memory (max RSS) is
that measurement's own. The capture is written with
:func:`pipeline_code.monitoring.capture.write_capture_files` (one record per invocation, CSV in
and out, as SageMaker writes it), spread over a day (24 hourly files).

    python benchmarks/bench_monitoring_job.py [--records 1000000] [--workdir /tmp/bench-monitoring]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _generate(workdir: Path, records: int) -> None:
    import numpy as np

    from pipeline_code.compat import UTC
    from pipeline_code.monitoring.baseline import run_baseline
    from pipeline_code.monitoring.capture import write_capture_files
    from pipeline_code.monitoring.ground_truth import write_ground_truth_files
    from pipeline_code.monitoring.prediction_drift import write_prediction_baseline
    from pipeline_code.schema import Schema
    from tests.pipeline_code.conftest_serving import synthetic_features

    schema = Schema.builtin("churn")

    def scores(df: Any) -> Any:
        z = 0.15 * df["support_calls"].to_numpy(float) - 0.03 * df["tenure_months"].to_numpy(float)
        return np.round(1.0 / (1.0 + np.exp(-(z + 0.2))), 6)

    ref = synthetic_features(schema, 50_000, seed=1)
    run_baseline(ref, schema, workdir / "baseline")
    (workdir / "baseline" / "schema.json").write_text(schema.to_json())
    write_prediction_baseline(scores(ref), workdir / "baseline")
    df = synthetic_features(schema, records, seed=2)
    start = datetime(2026, 5, 1, tzinfo=UTC)
    write_capture_files(
        df,
        scores(df),
        workdir / "capture",
        start_time=start,
        interval_seconds=86_400 / records,
        endpoint_name="bench",
    )
    rng = np.random.default_rng(3)
    ids: list[str] = []
    labels: list[list[int]] = []
    sensitive: list[dict[str, object] | None] = []
    genders = np.array(["female", "male", "nonbinary"])
    for path in sorted((workdir / "capture").rglob("*.jsonl")):
        for line in path.read_text().splitlines():
            if rng.random() < 0.5:
                event = json.loads(line)
                p = float(event["captureData"]["endpointOutput"]["data"].split(",")[0])
                ids.append(event["eventMetadata"]["eventId"])
                labels.append([int(rng.random() < p)])
                sensitive.append({"gender": str(rng.choice(genders)), "senior_citizen": False})
    write_ground_truth_files(
        ids, labels, workdir / "ground-truth", endpoint_name="bench", time=start,
        sensitive=sensitive,
    )  # fmt: skip


def _measure(what: str, workdir: Path) -> None:
    """Run one measurement in this (fresh) process; print its JSON."""
    t0 = time.perf_counter()
    out: dict[str, object] = {"what": what}
    if what == "pandas":
        import pandas as pd

        frames = [
            pd.read_json(p, lines=True) for p in sorted((workdir / "capture").rglob("*.jsonl"))
        ]
        out["rows"] = int(sum(len(f) for f in frames))
    else:
        from pipeline_code.monitoring import job
        from pipeline_code.schema import Schema

        cfg = job.JobConfig(
            capture_dir=workdir / "capture",
            baseline_dir=workdir / "baseline",
            output_dir=workdir / f"out-{what}",
            schema=Schema.from_file(workdir / "baseline" / "schema.json"),
            ground_truth_dir=workdir / "ground-truth",
        )
        shards = 1 if what == "job" else 2
        r = job.run_job(cfg, shards=shards, workers=shards)
        out["rows"] = r.records
        out["labelled"] = r.ground_truth.get("matched")
        out["violations"] = {k: len(v) for k, v in r.violations.items()}
        out["metric_lines"] = len(r.metric_lines)
    out["wall_s"] = time.perf_counter() - t0
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out["peak_mb_main"] = self_rss
    out["peak_mb_worker"] = child_rss
    print(json.dumps(out))


def _child(what: str, workdir: Path) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--measure", what, "--workdir", str(workdir)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    result: dict[str, object] = json.loads(res.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-monitoring"))
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--keep", action="store_true", help="reuse an existing capture")
    args = parser.parse_args()
    if args.measure:
        _measure(args.measure, args.workdir)
        return
    if not (args.keep and (args.workdir / "capture").exists()):
        shutil.rmtree(args.workdir, ignore_errors=True)
        t0 = time.perf_counter()
        _generate(args.workdir, args.records)
        print(f"generated {args.records:,} captured records in {time.perf_counter() - t0:.1f} s")
    size = sum(p.stat().st_size for p in (args.workdir / "capture").rglob("*.jsonl"))
    files = len(list((args.workdir / "capture").rglob("*.jsonl")))
    print(f"capture: {files} files, {size / 1e6:.0f} MB")
    floor = _child("pandas", args.workdir)
    one = _child("job", args.workdir)
    two = _child("job2", args.workdir)
    for r in (floor, one, two):
        print(json.dumps(r))
    fw, ow, tw = (float(r["wall_s"]) for r in (floor, one, two))  # type: ignore[arg-type]
    fm, om = float(floor["peak_mb_main"]), float(one["peak_mb_main"])  # type: ignore[arg-type]
    tm = max(float(two["peak_mb_main"]), float(two["peak_mb_worker"]))  # type: ignore[arg-type]
    print(f"pandas read_json alone (floor): {fw:7.1f} s  peak {fm:7.0f} MB")
    print(f"job, 1 process, 4 monitors:     {ow:7.1f} s  peak {om:7.0f} MB")
    print(f"job, 2 shards x 2 workers:      {tw:7.1f} s  peak {tm:7.0f} MB (largest process)")
    print(f"ratio job / floor: time {ow / fw:.2f}x, memory {om / fm:.2f}x")
    print(f"scale-out: 2 workers take {tw / ow:.2f}x the time of 1 ({ow / tw:.2f}x speed-up)")


if __name__ == "__main__":
    main()
