"""A new user's first commands: ``pip install <checkout>`` (no extras), then ``cdk-mlops``.

The checkout's sources (pyproject.toml, README.md and the two packages, as they are in the
working tree) are copied to a temporary folder and installed with pip into a new virtual
environment (no ``--system-site-packages``), with the real runtime dependencies (aws-cdk-lib,
constructs, cdk-nag, botocore) at the versions of requirements/constraints.txt. pip resolves
them from the package index as a user's install does (its cache makes that quick);
``--no-compile`` skips byte-compiling aws-cdk-lib's modules, which is most of an install's time
here (about 50 s with, 20 to 30 s without, on 2 cores).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "cdk_mlops", "pipeline_code")

pytestmark = pytest.mark.slow


def _env() -> dict[str, str]:
    """This process's environment without anything that points into the project's venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="module")
def venv_bin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The bin folder of a new virtual environment holding ``pip install <checkout>``."""
    base = tmp_path_factory.mktemp("user")
    source = base / "checkout"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    venv = base / "venv"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=_env())
    install = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-compile",
            "-c",
            str(ROOT / "requirements" / "constraints.txt"),
            str(source),
        ],
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    print(f"new venv + pip install <checkout>: {time.perf_counter() - started:.1f} s")
    yield venv / "bin"
    shutil.rmtree(base, ignore_errors=True)


def run(venv_bin: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv_bin / args[0]), *args[1:]],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=venv_bin.parent,
        timeout=120,
        check=False,
    )


def test_the_install_has_the_runtime_dependencies_and_no_extras(venv_bin: Path) -> None:
    probe = (
        "import importlib.metadata as m, importlib.util as u\n"
        "print(m.version('aws-cdk-lib'), m.version('cdk-nag'), u.find_spec('numpy') is None)"
    )
    result = run(venv_bin, "python", "-c", probe)
    assert result.returncode == 0, result.stderr
    cdk, nag, no_numpy = result.stdout.split()
    assert cdk.startswith("2.") and nag.startswith("3.")
    assert no_numpy == "True"


@pytest.mark.parametrize(
    "args", [["--help"], ["--version"], ["run-local", "--help"], ["generate", "--help"]]
)
def test_help_and_version_exit_0(venv_bin: Path, args: list[str]) -> None:
    result = run(venv_bin, "cdk-mlops", *args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.startswith("cdk-mlops 0." if args == ["--version"] else "usage: cdk-mlops")


def test_run_local_without_the_ml_extra_says_how_to_install_it(venv_bin: Path) -> None:
    result = run(venv_bin, "cdk-mlops", "run-local")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("cdk-mlops run-local needs the 'ml' extra")
    assert result.stderr.endswith(": pip install 'cdk-mlops[ml]'\n")
