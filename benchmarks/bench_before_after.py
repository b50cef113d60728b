"""`make synth` and `make test` work of two revisions, side by side in one run.

    .venv/bin/python benchmarks/bench_before_after.py BEFORE_REV [--rounds 1] [--skip-tests]

Checks BEFORE_REV out into a temporary git worktree and runs, in it and in this tree, what the
two make targets run after set-up: `cdk synth` (with cdk-nag) + `python -m cdk_mlops.checks`
(cfn-lint, checkov), and `pytest -n 2 --dist loadfile`. Both use this tree's virtual
environments and node modules (PYTHONPATH points each run at its own sources), so install time
is left out on purpose: it is the same for both. Prints wall times and ratios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")
CDK = str(ROOT / "node_modules" / ".bin" / "cdk")
CHECKOV = str(ROOT / ".venv-checkov" / "bin" / "checkov")


def timed(cmd: list[str], cwd: Path) -> tuple[float, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(cwd),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [""]
    if proc.returncode not in (0, 1):  # pytest 1 = failures: still report the time
        print(
            f"  {' '.join(cmd[:3])} in {cwd} exited {proc.returncode}: {tail[0]}", file=sys.stderr
        )
    return elapsed, tail[0]


def synth(tree: Path) -> float:
    out = tree / "cdk.out"
    shutil.rmtree(out, ignore_errors=True)
    t1, _ = timed(
        [CDK, "synth", "--app", f"{PY} app.py", "--no-notices", "--no-validation", "--quiet"], tree
    )
    t2, _ = timed([PY, "-m", "cdk_mlops.checks", "cdk.out", "--checkov", CHECKOV], tree)
    return t1 + t2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("before")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--skip-tests", action="store_true")
    args = parser.parse_args()
    wt = Path(tempfile.mkdtemp(prefix="bench-before-")) / "tree"
    shared = ROOT.parent / "shared"
    if shared.is_dir():  # older revisions read ../shared, as CI lays it out
        (wt.parent / "shared").symlink_to(shared)
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(wt), args.before],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    try:
        rows: dict[str, dict[str, list[float]]] = {
            "before": {"synth": [], "test": []},
            "after": {"synth": [], "test": []},
        }
        notes: dict[str, str] = {}
        for _ in range(args.rounds):
            for label, tree in (("before", wt), ("after", ROOT)):
                rows[label]["synth"].append(synth(tree))
                if not args.skip_tests:
                    t, tail = timed(
                        [
                            PY,
                            "-m",
                            "pytest",
                            "-n",
                            "2",
                            "--dist",
                            "loadfile",
                            "-q",
                            "-p",
                            "no:cacheprovider",
                        ],
                        tree,
                    )
                    rows[label]["test"].append(t)
                    notes[label] = tail
        print(f"before = {args.before}, after = working tree; {args.rounds} round(s), interleaved")
        print(f"{'':8} {'synth + checks (s)':>20} {'pytest -n 2 (s)':>16}  pytest summary")
        for label in ("before", "after"):
            s = min(rows[label]["synth"])
            t = min(rows[label]["test"]) if rows[label]["test"] else float("nan")
            print(f"{label:8} {s:>20.1f} {t:>16.1f}  {notes.get(label, '')}")
        s_ratio = min(rows["after"]["synth"]) / min(rows["before"]["synth"])
        print(f"{'ratio':8} {s_ratio:>19.2f}x", end="")
        if not args.skip_tests:
            print(f" {min(rows['after']['test']) / min(rows['before']['test']):>15.2f}x")
        else:
            print()
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(wt)],
            cwd=ROOT,
            check=False,
            capture_output=True,
        )


if __name__ == "__main__":
    main()
