"""The build: what each make target installs, and packaging metadata setuptools takes as is."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Recipes that create the test-only environments (the SageMaker SDK oracle, the container env).
TEST_ONLY = (
    ".venv-sdk",
    "tests/oracle/requirements-sdk.txt",
    ".venv-container",
    "container-sklearn",
)
# What synth and its checks need: the project venv, the CDK CLI, checkov.
SYNTH_NEEDS = ("-e '.[dev]'", "npm ci", "requirements/checkov.txt")


def dry_run(target: str) -> str:
    """Every command ``make <target>`` would run on a fresh clone (``-B``: nothing is up to date),
    printed and not run (``-n``)."""
    return subprocess.run(
        # CONTAINER_PYTHON: the dry run must not depend on which interpreters this machine has.
        ["make", "-n", "-B", "--no-print-directory", target, "CONTAINER_PYTHON=python3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_make_synth_installs_only_what_synth_and_its_checks_need() -> None:
    synth = dry_run("synth")
    for needed in SYNTH_NEEDS:
        assert needed in synth, needed
    assert [name for name in TEST_ONLY if name in synth] == []
    assert "cdk synth" in synth
    assert "-m cdk_mlops.checks cdk.out --checkov .venv-checkov/bin/checkov" in synth
    # deps-synth is that set on its own; make test still installs everything.
    deps_synth = dry_run("deps-synth")
    assert [name for name in TEST_ONLY if name in deps_synth] == []
    test = dry_run("test")
    for needed in (*SYNTH_NEEDS, *TEST_ONLY):
        assert needed in test, needed


def test_license_is_an_spdx_string_that_the_build_backend_supports() -> None:
    # A TOML table (license = { text = ... }) makes setuptools >= 77 warn on every build and
    # will stop working; the SPDX string form needs setuptools >= 77 (PEP 639).
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["license"] == "Apache-2.0"
    setuptools = [r for r in pyproject["build-system"]["requires"] if r.startswith("setuptools")]
    assert setuptools == ["setuptools>=77"]
