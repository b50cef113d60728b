"""Benchmark: the Level 2 pipeline's three ways to train, run by the executor on the same data.

Run::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_training_backends.py            # 20,000 rows
    PYTHONPATH=. .venv/bin/python benchmarks/bench_training_backends.py --rows 5000 --jobs 6

The parent synthesizes ``RepeatableStack`` three times (as the executor tests do; the synth time
is counted on no side): the default (one scikit-learn training job), ``tuning=TuningSettings(
max_jobs=--jobs, random_seed=0)`` (a Tune step) and ``xgboost=XGBoostSettings(instance_count=2)``
(EncodeForXGBoost, SageMaker's XGBoost emulated in one process, PackageXGBoost). It generates
one churn CSV (``seed=0, bad_fraction=0.01``); each side then runs ``run_pipeline`` on it in its
own child process, one after the other in one run (the machines are noisy: compare the ratios).

Printed per side: the execution's wall time, the training steps' time (Train; Tune; Encode +
Train + Package), the test split's AUC and its lower confidence bound from the registered
evaluation, and each side's time over the default's. Exit status 1 when a run fails.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TRAINING_STEPS = {
    "default": ("Train",),
    "tuned": ("Tune",),
    "xgboost": ("EncodeForXGBoost", "Train", "PackageXGBoost"),
}

_CHILD = """
import json, sys, time
from cdk_mlops.executor import run_pipeline
template, csv, work, out = sys.argv[1:5]
started = time.perf_counter()
result = run_pipeline(template, work_dir=work, data=csv)
seconds = time.perf_counter() - started
auc = (result.evaluation or {}).get("binary_classification_metrics", {}).get("auc", {})
bounds = (result.evaluation or {}).get("confidence_bounds", {}).get("auc", {})
json.dump({
    "status": result.status, "failure": result.failure_reason, "seconds": seconds,
    "steps": {s.name: s.seconds for s in result.steps}, "auc": auc.get("value"),
    "auc_lower": bounds.get("lower"),
}, open(out, "w"))
"""


def _synthesize(outdir: Path, jobs: int) -> dict[str, Path]:
    from cdk_mlops.pipelines.tuning import TuningSettings
    from cdk_mlops.pipelines.xgboost import XGBoostSettings
    from tests.cdk_mlops.executor.conftest import synthesize_level2

    return {
        "default": synthesize_level2(outdir / "default"),
        "tuned": synthesize_level2(
            outdir / "tuned",
            tuning=TuningSettings(max_jobs=jobs, max_parallel_jobs=1, random_seed=0),
        ),
        "xgboost": synthesize_level2(outdir / "xgboost", xgboost=XGBoostSettings(instance_count=2)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, default=4, help="tuning jobs (default 4)")
    args = parser.parse_args(argv)
    from tests.cdk_mlops.executor.conftest import generate_csv

    with tempfile.TemporaryDirectory(prefix="bench-backends-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        templates = _synthesize(root / "cdk", args.jobs)
        print(f"synthesized 3 stacks in {time.perf_counter() - t0:.1f} s (counted on no side)")
        csv = generate_csv(root / "churn.csv", rows=args.rows)
        results: dict[str, dict[str, Any]] = {}
        for side, template in templates.items():
            out = root / f"{side}.json"
            done = subprocess.run(
                [sys.executable, "-c", _CHILD, str(template), str(csv), str(root / side), str(out)],
                cwd=REPO, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode != 0 or not out.exists():
                print(f"{side}: the child failed:\n{done.stderr[-2000:]}", file=sys.stderr)
                return 1
            results[side] = json.loads(out.read_text())
            if results[side]["status"] != "Succeeded":
                print(f"{side}: {results[side]['failure']}", file=sys.stderr)
                return 1
    base = results["default"]["seconds"]
    print(f"\n{args.rows} rows, Level 2 pipeline through the executor; tuning: {args.jobs} jobs")
    header = ("side", "total s", "training steps s", "vs default", "test AUC", "AUC lower bound")
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for side, r in results.items():
        training = sum(r["steps"].get(step, 0.0) for step in TRAINING_STEPS[side])
        lower = f"{r['auc_lower']:.4f}" if r["auc_lower"] is not None else "-"
        print(
            f"{side} | {r['seconds']:.2f} | {training:.2f} | {r['seconds'] / base:.2f}x | "
            f"{r['auc']:.4f} | {lower}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
