"""Benchmark: ``cdk-mlops run-local`` on the default data set size, per step, Spark vs pandas ETL.

Run::

    .venv/bin/python benchmarks/bench_run_local.py                 # 20,000 rows, both ETL engines
    .venv/bin/python benchmarks/bench_run_local.py --rows 100000 --engines spark

Each engine runs in its own child process (a cold start, as a user gets from the command
line), so their memory numbers do not mix. Printed side by side: wall time of every step and
the total, and peak memory measured two ways:

- ``peak tree RSS``: the child and all its descendants (the Spark JVM is a child of Python),
  sampled from /proc every 0.1 s (Linux only);
- ``python ru_maxrss``: ``resource.getrusage(RUSAGE_SELF)`` inside the child: the Python
  process alone (the JVM is left out; it is still running when the child measures).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _tree_rss_bytes(root: int) -> int:
    """Sum of VmRSS of ``root`` and its descendants (0 where /proc is unavailable)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status", encoding="utf-8") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            continue
    return total


def _child(engine: str, rows: int, result_file: Path) -> None:
    """Run the chain once in this process and write per-step times as JSON."""
    sys.path.insert(0, str(REPO))
    from pipeline_code.cli import Progress, RunLocalConfig, run_local

    progress = Progress()
    with tempfile.TemporaryDirectory(prefix="bench-run-local-") as tmp:
        t0 = time.perf_counter()
        run_local(
            RunLocalConfig(output=Path(tmp), rows=rows, skip_spark=engine == "pandas"), progress
        )
        total = time.perf_counter() - t0
    if engine == "spark":
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        if active is not None:
            active.stop()
    steps = {r.name: r.seconds for r in progress.records}
    # ru_maxrss is in KiB on Linux.
    self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result_file.write_text(
        json.dumps({"steps": steps, "total": total, "self_mb": self_mb}), encoding="utf-8"
    )


def _measure(engine: str, rows: int) -> dict[str, float | dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        result_file = Path(tmp) / "result.json"
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                engine,
                "--rows",
                str(rows),
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
                peak = max(peak, _tree_rss_bytes(proc.pid))
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _out, err = proc.communicate()
        done.set()
        sampler.join()
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"{engine} run failed (exit {proc.returncode}):\n{err[-3000:]}")
        result = json.loads(result_file.read_text(encoding="utf-8"))
    return {
        "steps": result["steps"],
        "total": result["total"],
        "process_wall": wall,
        "peak_tree_rss_mb": peak / 2**20,
        "python_ru_maxrss_mb": result["self_mb"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--engines", default="spark,pandas", help="comma-separated: spark, pandas")
    parser.add_argument("--child", choices=("spark", "pandas"), help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.rows, Path(args.result))
        return 0
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    results = {}
    for engine in engines:
        print(f"running {engine} ({args.rows} rows) ...", file=sys.stderr, flush=True)
        results[engine] = _measure(engine, args.rows)

    print(
        f"\nrun-local, {args.rows} rows, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    header = f"{'step':<14}" + "".join(f"{e + ' ETL':>14}" for e in engines)
    print(header)
    print("-" * len(header))
    step_names = list(results[engines[0]]["steps"])  # type: ignore[arg-type]
    for name in step_names:
        print(f"{name:<14}" + "".join(f"{results[e]['steps'][name]:>13.2f}s" for e in engines))  # type: ignore[index]
    print("-" * len(header))
    rows_out = [
        ("total (chain)", "total", "{:>13.2f}s"),
        ("process wall", "process_wall", "{:>13.2f}s"),
        ("peak tree RSS", "peak_tree_rss_mb", "{:>11.0f} MB"),
        ("python maxrss", "python_ru_maxrss_mb", "{:>11.0f} MB"),
    ]
    for label, key, fmt in rows_out:
        print(f"{label:<14}" + "".join(fmt.format(results[e][key]) for e in engines))
    if len(engines) == 2:
        a, b = (float(results[e]["total"]) for e in engines)  # type: ignore[arg-type]
        print(f"\n{engines[0]} / {engines[1]} total time: {a / b:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
