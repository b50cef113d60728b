"""Drift check benchmark: ours vs evidently's DataDriftPreset vs a bare numpy floor.

One run, one table. Data: ``--rows`` (default 1,000,000) rows x 20 numeric columns for the
baseline and the current window, deterministic (seeded), mixed distributions (normal,
lognormal, uniform, exponential, Poisson counts), 5 columns shifted in the current window.
The frames are written once to Parquet; evidently reads the same files in its own virtual
environment (evidently 0.7 needs pandas < 3), in a subprocess, and only its ``Report.run`` is
timed. Data loading is excluded from every timing.

Rows of the table:

* ours, baseline prebuilt: ``compute_drift`` (current statistics, L-infinity, PSI, all checks)
  against a baseline whose sketch was built before the clock starts;
* ours, including the baseline build: ``build_baseline`` + ``compute_drift``;
* numpy floor: per column, sort both samples once and compute the exact two-sample KS distance;
* evidently: ``Report([DataDriftPreset()]).run(current, reference)``.

Run::

    .venv/bin/python benchmarks/bench_drift.py            # creates .venv-evidently if missing
    .venv/bin/python benchmarks/bench_drift.py --rows 100000 --no-evidently
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline_code.monitoring.baseline import build_baseline  # noqa: E402
from pipeline_code.monitoring.drift import compute_drift  # noqa: E402
from pipeline_code.schema import Schema  # noqa: E402

EVIDENTLY_VENV = ROOT / ".venv-evidently"
EVIDENTLY_REQUIREMENTS = ROOT / "benchmarks" / "requirements-evidently.txt"
N_COLUMNS = 20
SHIFTED = (1, 4, 9, 13, 17)


def make_frames(rows: int) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Deterministic baseline/current frames; returns also the names of the integer columns."""
    cols: dict[str, list[np.ndarray]] = {"ref": [], "cur": []}
    names, integer = [], []
    for j in range(N_COLUMNS):
        name = f"x{j:02d}"
        names.append(name)
        kind = j % 5
        for which, seed in (("ref", 1000 + j), ("cur", 2000 + j)):
            rng = np.random.default_rng(seed)
            shift = which == "cur" and j in SHIFTED
            if kind == 0:
                x = rng.normal(0.5 if shift else 0.0, 1.0, rows)
            elif kind == 1:
                x = rng.lognormal(0.3 if shift else 0.0, 1.0, rows)
            elif kind == 2:
                x = rng.uniform(0.0, 1.3 if shift else 1.0, rows)
            elif kind == 3:
                x = rng.exponential(1.5 if shift else 1.0, rows)
            else:
                x = rng.poisson(4.0 if shift else 3.0, rows).astype(np.float64)
            cols[which].append(x)
        if kind == 4:
            integer.append(name)
    ref = pd.DataFrame(dict(zip(names, cols["ref"], strict=True)))
    cur = pd.DataFrame(dict(zip(names, cols["cur"], strict=True)))
    return ref, cur, integer


def bench_schema(names: list[str], integer: list[str]) -> Schema:
    return Schema.from_dict(
        {
            "name": "bench_drift",
            "id_column": "row_id",
            "target": {"name": "label", "positive": 1, "negative": 0},
            "features": [
                {"name": n, "type": "integer" if n in integer else "float"} for n in names
            ],
        }
    )


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall time over ``repeats`` runs, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def numpy_floor(ref: pd.DataFrame, cur: pd.DataFrame) -> dict[str, float]:
    """Sort each sample once, exact two-sample KS distance per column."""
    out = {}
    for c in ref.columns:
        a = np.sort(ref[c].to_numpy())
        b = np.sort(cur[c].to_numpy())
        z = np.concatenate((a, b))
        d = np.abs(
            np.searchsorted(a, z, side="right") / a.size
            - np.searchsorted(b, z, side="right") / b.size
        )
        out[c] = float(d.max())
    return out


EVIDENTLY_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset
    ref = pd.read_parquet(sys.argv[1]); cur = pd.read_parquet(sys.argv[2])
    definition = DataDefinition(numerical_columns=list(ref.columns))
    ref_ds = Dataset.from_pandas(ref, data_definition=definition)
    cur_ds = Dataset.from_pandas(cur, data_definition=definition)
    t0 = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(current_data=cur_ds, reference_data=ref_ds)
    elapsed = time.perf_counter() - t0
    drifted = []
    for m in snapshot.dict()["metrics"]:
        cfg = m.get("config", {})
        if cfg.get("type", "").endswith("ValueDrift"):
            if float(m["value"]) >= float(cfg.get("threshold", 0.1)):
                drifted.append(cfg["column"])
    import evidently
    print(json.dumps({"seconds": elapsed, "drifted": sorted(drifted), "version": evidently.__version__}))
    """
)


def ensure_evidently_venv() -> Path | None:
    python = EVIDENTLY_VENV / "bin" / "python"
    if python.exists():
        return python
    print(f"creating {EVIDENTLY_VENV} from {EVIDENTLY_REQUIREMENTS} ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(EVIDENTLY_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(EVIDENTLY_REQUIREMENTS)],
            check=True,
            timeout=1200,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        print(f"evidently could not be installed: {exc}")
        return None
    return python


def run_evidently(python: Path, ref_path: Path, cur_path: Path, timeout: float) -> dict[str, Any]:
    script = ref_path.parent / "evidently_run.py"
    script.write_text(EVIDENTLY_SCRIPT, encoding="utf-8")
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [str(python), str(script), str(ref_path), str(cur_path)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"timeout": True, "seconds": time.perf_counter() - t0}
    if proc.returncode != 0:
        return {
            "error": proc.stderr.strip().splitlines()[-1]
            if proc.stderr.strip()
            else f"exit {proc.returncode}"
        }
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of our code and the floor (median)"
    )
    parser.add_argument("--no-evidently", action="store_true")
    parser.add_argument(
        "--evidently-timeout", type=float, default=1800.0, help="seconds; reported as a lower bound"
    )
    args = parser.parse_args(argv)

    print(
        f"data: {args.rows:,} rows x {N_COLUMNS} numeric columns, baseline and current; shifted columns "
        f"{[f'x{j:02d}' for j in SHIFTED]}",
        flush=True,
    )
    ref, cur, integer = make_frames(args.rows)
    names = list(ref.columns)
    schema = bench_schema(names, integer)

    with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
        ref_path, cur_path = Path(tmp) / "reference.parquet", Path(tmp) / "current.parquet"
        ref.to_parquet(ref_path)
        cur.to_parquet(cur_path)

        t_base, (stats, cons) = timed(lambda: build_baseline(ref, schema), args.repeats)
        t_ours, result = timed(lambda: compute_drift(cur, stats, cons), args.repeats)
        t_full, _ = timed(lambda: compute_drift(cur, *build_baseline(ref, schema)), args.repeats)
        t_floor, ks = timed(lambda: numpy_floor(ref, cur), args.repeats)

        ours = {f.name: f for f in result.features}
        max_err = max(abs((ours[c].distance or 0.0) - ks[c]) for c in names)
        ours_drifted = sorted(f.name for f in result.features if f.drifted)
        ks_drifted = sorted(c for c in names if ks[c] > 0.1)

        ev: dict[str, Any] = {"skipped": True}
        if not args.no_evidently:
            python = ensure_evidently_venv()
            if python is None:
                ev = {"error": "evidently could not be installed"}
            else:
                print(f"running evidently (timeout {args.evidently_timeout:.0f} s) ...", flush=True)
                ev = run_evidently(python, ref_path, cur_path, args.evidently_timeout)

    print()
    print(f"{'method':<52}{'seconds':>10}{'time / ours':>18}")
    print("-" * 80)
    print(f"{'ours: drift check (baseline sketch prebuilt)':<52}{t_ours:>10.3f}{'1.0':>18}")
    print(f"{'ours: baseline build + drift check':<52}{t_full:>10.3f}{t_full / t_ours:>18.2f}")
    print(f"{'  (of which baseline build alone)':<52}{t_base:>10.3f}")
    print(
        f"{'numpy floor: sort once + exact 2-sample KS per column':<52}{t_floor:>10.3f}{t_floor / t_ours:>18.2f}"
    )
    if "seconds" in ev and not ev.get("timeout"):
        label = f"evidently {ev.get('version', '')} DataDriftPreset"
        print(f"{label:<52}{ev['seconds']:>10.3f}{ev['seconds'] / t_ours:>18.1f}")
    elif ev.get("timeout"):
        print(
            f"{'evidently DataDriftPreset (timed out: lower bound)':<52}{'>' + format(ev['seconds'], '.1f'):>10}"
            f"{'>' + format(ev['seconds'] / t_ours, '.1f'):>18}"
        )
    elif ev.get("skipped"):
        print(f"{'evidently DataDriftPreset':<52}{'skipped (--no-evidently)':>28}")
    else:
        print(f"{'evidently DataDriftPreset':<52}  not run: {ev.get('error')}")
    print("-" * 80)
    print(
        f"ours / floor: prebuilt {t_ours / t_floor:.2f}x, including baseline build {t_full / t_floor:.2f}x "
        f"(goal: within 2x) -> {'PASS' if t_full / t_floor <= 2.0 else 'FAIL'}"
    )
    if "seconds" in ev:
        speedup = ev["seconds"] / t_ours
        bound = " (lower bound)" if ev.get("timeout") else ""
        print(
            f"evidently / ours (prebuilt): {speedup:.1f}x{bound}; including baseline build "
            f"{ev['seconds'] / t_full:.1f}x (goal: at least 50x) -> {'PASS' if speedup >= 50 else 'FAIL'}"
        )
    print(
        f"accuracy: max |our L-infinity - exact KS| over columns = {max_err:.5f} "
        f"(sketch of {len(stats['features'][0]['numerical_statistics']['distribution']['kll']['sketch']['data'][0])} quantiles)"
    )
    print(
        f"drifted columns: ours {ours_drifted}; exact KS > 0.1 {ks_drifted}"
        + (f"; evidently {ev['drifted']}" if "drifted" in ev else "")
    )
    print(f"machine: {os.cpu_count()} cores, numpy {np.__version__}, pandas {pd.__version__}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
