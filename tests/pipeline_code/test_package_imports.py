"""``pipeline_code`` works under another name: a team's copy (``fraud_ml``) must run in a
container where only the copy is shipped, so no module may import ``pipeline_code`` by name."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "pipeline_code"


def test_no_module_imports_the_package_by_its_name() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            if any(n == "pipeline_code" or n.startswith("pipeline_code.") for n in names):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert offenders == []


def test_a_renamed_copy_imports_and_runs_without_pipeline_code(tmp_path: Path) -> None:
    shutil.copytree(PACKAGE, tmp_path / "fraud_ml", ignore=shutil.ignore_patterns("__pycache__"))
    modules = sorted(
        ".".join(p.relative_to(tmp_path).with_suffix("").parts).removesuffix(".__init__")
        for p in (tmp_path / "fraud_ml").rglob("*.py")
    )
    script = textwrap.dedent(
        f"""
        import importlib, sys
        sys.modules["pipeline_code"] = None  # not installed in the container
        skipped = []
        for name in {modules!r}:
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as error:
                if (error.name or "").split(".")[0] == "pipeline_code":
                    raise
                skipped.append((name, error.name))  # pyspark, awsglue: not in every image
        print("skipped", skipped)
        from fraud_ml.data.generate import main
        sys.exit(main(["--rows", "50", "--output", {str(tmp_path / "d.csv")!r}]))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "d.csv").read_text().count("\n") == 51
