"""Synth cost of the library against the jsii floor, measured side by side in one run.

    .venv/bin/python benchmarks/bench_synth.py [--rounds 3]

For each round, interleaved so machine noise hits both alike:
- ``empty``: ``cdk synth`` of an app with one empty stack (the floor: node + jsii + CLI),
- ``mlops``: ``cdk synth`` of app.py (every stack, cdk-nag with four packs),
- ``level2`` / ``level3``: an app with only ``MlopsLevel2`` / only ``MlopsLevel3`` (four packs),
then once: cfn-lint + checkov over the assembly. Prints medians and the ratios mlops/empty and
level3/level2 (synth time and template size), plus resources, template size and nag
acknowledgments per stack.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cdk_mlops.checks import check_assembly, format_table  # noqa: E402

CDK = str(ROOT / "node_modules" / ".bin" / "cdk")
PY = str(ROOT / ".venv" / "bin" / "python")
EMPTY_APP = "import aws_cdk as cdk\napp = cdk.App()\ncdk.Stack(app, 'Empty')\napp.synth()\n"
LEVEL_APP = (
    "import sys\n"
    f"sys.path.insert(0, {str(ROOT)!r})\n"
    "import aws_cdk as cdk\n"
    "from cdk_mlops.compliance import add_compliance_checks\n"
    "from cdk_mlops.stacks import {cls}\n"
    "app = cdk.App()\n"
    "add_compliance_checks(app)\n"
    "{cls}(app, '{name}')\n"
    "app.synth()\n"
)
LEVELS = {"level2": ("RepeatableStack", "MlopsLevel2"), "level3": ("ReliableStack", "MlopsLevel3")}


def synth(app_cmd: str, outdir: Path) -> float:
    env = {
        **os.environ,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    start = time.perf_counter()
    subprocess.run(
        [
            CDK,
            "synth",
            "--app",
            app_cmd,
            "--output",
            str(outdir),
            "--no-notices",
            "--no-validation",
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    empty_app = tmp / "empty_app.py"
    empty_app.write_text(EMPTY_APP)
    times: dict[str, list[float]] = {"empty": [], "mlops": [], "level2": [], "level3": []}
    for key, (cls, name) in LEVELS.items():
        (tmp / f"{key}_app.py").write_text(LEVEL_APP.format(cls=cls, name=name))
    for _ in range(args.rounds):
        times["empty"].append(synth(f"{PY} {empty_app}", tmp / "empty.out"))
        times["mlops"].append(synth(f"{PY} app.py", tmp / "mlops.out"))
        for key in LEVELS:
            times[key].append(synth(f"{PY} {tmp / f'{key}_app.py'}", tmp / f"{key}.out"))
    start = time.perf_counter()
    checkov = ROOT / ".venv-checkov" / "bin" / "checkov"
    reports = check_assembly(
        tmp / "mlops.out", checkov_executable=str(checkov) if checkov.exists() else None
    )
    checks = time.perf_counter() - start
    e, m = statistics.median(times["empty"]), statistics.median(times["mlops"])
    print(f"rounds: {args.rounds} (median of each, interleaved)")
    print(f"{'what':<44} {'seconds':>8}")
    print(f"{'cdk synth, empty app (jsii floor)':<44} {e:>8.2f}")
    print(f"{'cdk synth, app.py with 4 nag packs':<44} {m:>8.2f}")
    print(f"{'cfn-lint + checkov over the assembly':<44} {checks:>8.2f}")
    print(f"{'ratio app.py / empty':<44} {m / e:>8.2f}x")
    l2, l3 = statistics.median(times["level2"]), statistics.median(times["level3"])
    size2 = (tmp / "level2.out" / "MlopsLevel2.template.json").stat().st_size / 1024
    size3 = (tmp / "level3.out" / "MlopsLevel3.template.json").stat().st_size / 1024
    print(f"{'cdk synth, MlopsLevel2 alone':<44} {l2:>8.2f}")
    print(f"{'cdk synth, MlopsLevel3 alone':<44} {l3:>8.2f}")
    print(f"{'ratio MlopsLevel3 / MlopsLevel2, synth':<44} {l3 / l2:>8.2f}x")
    print(
        f"{'template KB, MlopsLevel2 vs MlopsLevel3':<44} {size2:>8.1f} vs {size3:.1f} "
        f"({size3 / size2:.2f}x)"
    )
    print()
    print(format_table(reports))
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
