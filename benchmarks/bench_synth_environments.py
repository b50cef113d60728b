"""Synth time of every level for three environments against the empty-app floor, one run.

    .venv/bin/python benchmarks/bench_synth_environments.py [--rounds 2]

Interleaved rounds of ``cdk synth`` (the CLI, as a user runs it):
- ``empty``: an app with one empty stack (node + jsii + CLI: the floor);
- ``default``: app.py as ``make synth`` runs it (levels 1 to 4, the built-in defaults);
- ``3 envs``: levels 1 to 4 for ``dev``, ``staging`` and ``prod`` in one app (15 stacks: each
  level, and level 3's endpoint template), every nag pack on, through the same
  ``level_stack`` as app.py;
- ``no nag``: the same 15 stacks without the cdk-nag packs (what the packs cost).
Prints the medians, the ratios to the floor and the time per stack above the floor.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_synth import EMPTY_APP, PY, synth  # noqa: E402

ENVS_APP = (
    "import sys\n"
    f"sys.path.insert(0, {str(ROOT)!r})\n"
    "import aws_cdk as cdk\n"
    "from cdk_mlops.compliance import add_compliance_checks\n"
    "from cdk_mlops.environments import LEVELS, PROFILES\n"
    "from cdk_mlops.stacks.factory import level_stack\n"
    "app = cdk.App()\n"
    "add_compliance_checks(app)\n"
    "for env in ('dev', 'staging', 'prod'):\n"
    "    for level in LEVELS:\n"
    "        level_stack(app, PROFILES[env], level)\n"
    "app.synth()\n"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-synth-envs-"))
    (tmp / "empty_app.py").write_text(EMPTY_APP)
    (tmp / "envs_app.py").write_text(ENVS_APP)
    (tmp / "envs_nonag_app.py").write_text(ENVS_APP.replace("add_compliance_checks(app)\n", ""))
    apps = {
        "empty": f"{PY} {tmp / 'empty_app.py'}",
        "default": f"{PY} app.py",
        "3 envs": f"{PY} {tmp / 'envs_app.py'}",
        "no nag": f"{PY} {tmp / 'envs_nonag_app.py'}",
    }
    times: dict[str, list[float]] = {key: [] for key in apps}
    for _ in range(args.rounds):
        for key, cmd in apps.items():
            times[key].append(synth(cmd, tmp / f"{key.replace(' ', '_')}.out"))
    stacks = {
        key: len(list((tmp / f"{key.replace(' ', '_')}.out").glob("*.template.json")))
        for key in apps
    }
    floor = statistics.median(times["empty"])
    print(f"cdk synth, median of {args.rounds} interleaved rounds")
    print(f"{'app':10} {'stacks':>6} {'seconds':>8} {'x floor':>8} {'s/stack above floor':>20}")
    for key in apps:
        median = statistics.median(times[key])
        per_stack = (median - floor) / stacks[key] if key != "empty" else 0.0
        print(f"{key:10} {stacks[key]:>6} {median:>8.2f} {median / floor:>8.2f} {per_stack:>20.2f}")


if __name__ == "__main__":
    main()
