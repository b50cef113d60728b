"""Benchmark: the executor running the synthesized Level 2 pipeline vs ``cdk-mlops run-local``.

Run::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_executor.py               # 20,000 rows
    PYTHONPATH=. .venv/bin/python benchmarks/bench_executor.py --rows 5000 --keep /tmp/bx

The parent synthesizes ``RepeatableStack`` (Level 2) once, as the executor tests do
(``tests/cdk_mlops/executor/conftest.py::synthesize_level2``; its time is printed apart and
counted on neither side), and generates one churn CSV (``seed=0, bad_fraction=0.01``). Both
sides then start from that same CSV, each in its own child process (a cold start, as a user gets
from the command line):

- ``executor``: ``run_pipeline(template, work_dir=..., data=csv)``. Its set-up (counted in its
  total, shown as two ``(set-up: ...)`` rows) starts moto's S3, publishes the stack's assets, and
  curates the CSV with the pandas ETL (the Glue job's rules) into ``InputDataUri`` (timed by
  wrapping ``runner.seed_curated_data`` in the child); then the pipeline's steps run
  as local subprocesses under the SageMaker container contracts: DataVersion (a fingerprint of
  the curated data; run-local has no such step), Preprocess, Train, Evaluate, Baseline,
  CheckQuality (condition) and Register (the local registry). Every job is a fresh Python
  process that unpacks the code asset and copies its inputs from and outputs to moto.
- ``run-local``: ``run_local(RunLocalConfig(data=csv, skip_spark=True, level=2))`` in one
  process: pandas ETL, preprocess, train, evaluate, quality gate, register, baseline, and two
  steps the pipeline does not have (simulated traffic and the drift check). ``common work``
  below is its total without those two.

Both use seed 0 for the split, the model (HistGradientBoosting, 1 thread) and the evaluation,
so the evaluation metrics are expected to agree exactly; the benchmark prints whether they do.

Printed: wall time, peak tree RSS (the child and all its descendants, sampled from /proc every
0.1 s, Linux only: the executor's jobs are subprocesses), the child's ``ru_maxrss`` (the child
process alone), the executor / run-local ratios, per-step times of each side and the evaluation
metrics side by side. Exit status 1 when a run fails or the metrics disagree.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SIDES = ("executor", "run-local")
#: run-local steps the Level 2 pipeline has no counterpart for.
RUN_LOCAL_EXTRA_STEPS = ("traffic", "drift check")
#: The AUC difference under which the two sides are said to agree.
AUC_TOLERANCE = 1e-9


def _load_tree_rss() -> Callable[[int], int]:
    """``_tree_rss_bytes`` of ``benchmarks/bench_run_local.py`` (the same sampler)."""
    spec = importlib.util.spec_from_file_location(
        "bench_run_local", Path(__file__).resolve().parent / "bench_run_local.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sampler: Callable[[int], int] = module._tree_rss_bytes
    return sampler


def _metrics(evaluation: dict[str, Any] | None) -> dict[str, float]:
    """The scalar values of ``binary_classification_metrics`` (``"NaN"`` becomes nan)."""
    out: dict[str, float] = {}
    for name, entry in ((evaluation or {}).get("binary_classification_metrics") or {}).items():
        if isinstance(entry, dict) and "value" in entry:
            try:
                out[name] = float(entry["value"])
            except (TypeError, ValueError):
                continue
    return out


def _child_executor(template: Path, csv: Path, work: Path) -> dict[str, Any]:
    from cdk_mlops.executor import run_pipeline, runner

    # Time the ETL of the set-up apart: wrap the function run_pipeline calls to seed the data.
    seeding: list[float] = []
    seed_curated_data = runner.seed_curated_data

    def timed_seed(*args: Any, **kwargs: Any) -> str:
        t0 = time.perf_counter()
        try:
            return seed_curated_data(*args, **kwargs)
        finally:
            seeding.append(time.perf_counter() - t0)

    runner.seed_curated_data = timed_seed
    t0 = time.perf_counter()
    result = run_pipeline(template, work_dir=work, data=csv)
    total = time.perf_counter() - t0
    if result.status != "Succeeded":
        raise SystemExit(
            f"executor: execution {result.status} at {result.failed_step}: {result.failure_reason}"
        )
    steps = {s.name: s.seconds for s in result.steps if s.status == "Succeeded"}
    # Before the first step: moto and the stack's assets, then the pandas ETL of the CSV
    # (and its upload to InputDataUri).
    etl = sum(seeding)
    steps = {
        "(set-up: moto, assets)": result.seconds - sum(steps.values()) - etl,
        "(set-up: ETL + upload)": etl,
        **steps,
    }
    return {
        "steps": steps,
        "total": total,
        "common": total,
        "metrics": _metrics(result.evaluation),
        "test_rows": _test_rows(work / "jobs" / "Preprocess"),
    }


def _child_run_local(csv: Path, work: Path) -> dict[str, Any]:
    from pipeline_code.cli import Progress, RunLocalConfig, run_local

    options: dict[str, Any] = {"output": work, "data": csv, "schema": "churn", "skip_spark": True}
    if "level" in {f.name for f in dataclasses.fields(RunLocalConfig)}:
        options["level"] = 2  # the Level 3 loop has no counterpart in the Level 2 pipeline
    progress = Progress()
    t0 = time.perf_counter()
    summary = run_local(RunLocalConfig(**options), progress)
    total = time.perf_counter() - t0
    steps = {r.name: r.seconds for r in progress.records if r.status == "ok"}
    evaluation = json.loads(Path(summary["evaluation"]).read_text(encoding="utf-8"))
    return {
        "steps": steps,
        "total": total,
        "common": total - sum(steps.get(name, 0.0) for name in RUN_LOCAL_EXTRA_STEPS),
        "metrics": _metrics(evaluation),
        "test_rows": summary["splits"].get("test"),
    }


def _test_rows(job: Path) -> int | None:
    """Rows of the test split the Preprocess job wrote (from its output folder)."""
    folder = job / "opt" / "ml" / "processing" / "output" / "test"
    if not folder.is_dir():
        return None
    try:
        from pipeline_code.data.tables import read_table, resolve_schema

        return len(read_table(folder, resolve_schema("churn")))
    except Exception:
        return None


def _child(side: str, template: Path, csv: Path, result_file: Path) -> None:
    """Run one side once in this process and write its times and metrics as JSON."""
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix=f"bench-{side}-") as tmp:
        work = Path(tmp) / "work"
        if side == "executor":
            result = _child_executor(template, csv, work)
        else:
            result = _child_run_local(csv, work)
    # ru_maxrss is in KiB on Linux.
    result["self_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result_file.write_text(json.dumps(result), encoding="utf-8")


def _measure(
    side: str, template: Path, csv: Path, tree_rss: Callable[[int], int]
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        result_file = Path(tmp) / "result.json"
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                side,
                "--template",
                str(template),
                "--data",
                str(csv),
                "--result",
                str(result_file),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, tree_rss(proc.pid))
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _out, err = proc.communicate()
        done.set()
        sampler.join()
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"{side} run failed (exit {proc.returncode}):\n{err[-3000:]}")
        result: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
    result["process_wall"] = wall
    result["peak_tree_rss_mb"] = peak / 2**20
    result["python_ru_maxrss_mb"] = result["self_mb"]
    return result


def _prepare(rows: int, folder: Path) -> tuple[Path, Path, float, float]:
    """Synthesize the Level 2 template and generate the CSV; paths and their seconds."""
    sys.path.insert(0, str(REPO))
    from tests.cdk_mlops.executor.conftest import generate_csv, synthesize_level2

    t0 = time.perf_counter()
    template = synthesize_level2(folder / "cdk.out")
    synth = time.perf_counter() - t0
    t0 = time.perf_counter()
    csv = generate_csv(folder / "churn.csv", rows=rows)
    generate = time.perf_counter() - t0
    return template, csv, synth, generate


def _report(results: dict[str, dict[str, Any]], rows: int, synth: float, generate: float) -> bool:
    """Print the comparison; True when the evaluation metrics agree."""
    ex, rl = results["executor"], results["run-local"]
    print(
        f"\nexecutor vs run-local (pandas ETL, level 2), churn, {rows} rows, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"(parent, not counted: synth of MlopsLevel2 {synth:.2f}s, CSV generation {generate:.2f}s)"
    )
    header = f"{'':<22}{'executor':>14}{'run-local':>14}{'ratio ex/rl':>14}"
    print(header)
    print("-" * len(header))
    lines = [
        ("total (in child)", "total", "{:>13.2f}s"),
        ("common work", "common", "{:>13.2f}s"),
        ("process wall", "process_wall", "{:>13.2f}s"),
        ("peak tree RSS", "peak_tree_rss_mb", "{:>11.0f} MB"),
        ("python maxrss", "python_ru_maxrss_mb", "{:>11.0f} MB"),
    ]
    for label, key, fmt in lines:
        a, b = float(ex[key]), float(rl[key])
        ratio = f"{a / b:>13.2f}x" if b else f"{'-':>14}"
        print(f"{label:<22}{fmt.format(a)}{fmt.format(b)}{ratio}")
    print(
        "common work: run-local without "
        + " and ".join(RUN_LOCAL_EXTRA_STEPS)
        + " (no counterpart in the pipeline); the executor's whole run"
    )

    for side in SIDES:
        print(f"\n{side} steps")
        for name, seconds in results[side]["steps"].items():
            print(f"  {name:<28}{seconds:>8.2f}s")
        print(f"  {'total':<28}{float(results[side]['total']):>8.2f}s")

    print("\nevaluation (binary_classification_metrics, test split)")
    print(f"  {'test rows':<20}{ex['test_rows']!s:>20}{rl['test_rows']!s:>20}")
    names = [n for n in ex["metrics"] if n in rl["metrics"]]
    print(f"  {'metric':<20}{'executor':>20}{'run-local':>20}{'difference':>14}")
    worst = 0.0
    for name in names:
        a, b = float(ex["metrics"][name]), float(rl["metrics"][name])
        diff = 0.0 if (math.isnan(a) and math.isnan(b)) else abs(a - b)
        worst = max(worst, diff) if not math.isnan(diff) else math.inf
        print(f"  {name:<20}{a:>20.12f}{b:>20.12f}{diff:>14.2e}")
    only = sorted(set(ex["metrics"]) ^ set(rl["metrics"]))
    if only:
        print(f"  (in one side only: {', '.join(only)})")
    if "auc" not in names:
        print("\nmetrics DISAGREE: no AUC on both sides")
        return False
    auc_diff = abs(float(ex["metrics"]["auc"]) - float(rl["metrics"]["auc"]))
    agree = auc_diff < AUC_TOLERANCE and worst < AUC_TOLERANCE
    verdict = "agree" if agree else "DISAGREE"
    print(
        f"\nmetrics {verdict}: AUC difference {auc_diff:.2e}, largest difference over "
        f"{len(names)} common metrics {worst:.2e} (tolerance {AUC_TOLERANCE:g})"
    )
    return agree


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument(
        "--keep", default=None, help="folder for the template and CSV (default: a temporary one)"
    )
    parser.add_argument("--child", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--template", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, Path(args.template), Path(args.data), Path(args.result))
        return 0
    tree_rss = _load_tree_rss()
    with tempfile.TemporaryDirectory(prefix="bench-executor-") as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"synthesizing Level 2 and generating {args.rows} rows ...", file=sys.stderr)
        template, csv, synth, generate = _prepare(args.rows, folder)
        results: dict[str, dict[str, Any]] = {}
        for side in SIDES:
            print(f"running {side} ({args.rows} rows) ...", file=sys.stderr, flush=True)
            results[side] = _measure(side, template, csv, tree_rss)
    return 0 if _report(results, args.rows, synth, generate) else 1


if __name__ == "__main__":
    raise SystemExit(main())
