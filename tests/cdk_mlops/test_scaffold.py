"""``cdk-mlops new``: a new project whose own ``make synth`` and ``make test`` pass as created.

The project's Makefile is run with this repository's environments (``PYTHON=``, ``CDK=``): the
scaffold is under test here, not pip (tests/cdk_mlops/test_user_project.py installs the library
into a new environment).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from cdk_mlops.cli import main as cli_main
from cdk_mlops.scaffold import ScaffoldError, new_project
from tests.cdk_mlops.helpers import ROOT

PYTHON = ROOT / ".venv" / "bin" / "python"
CDK = ROOT / "node_modules" / ".bin" / "cdk"


def _make(project: Path, target: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    env["PYTHONPATH"] = ""  # the project's own code, not this repository's
    return subprocess.run(
        ["make", target, f"PYTHON={PYTHON}", f"CDK={CDK}"],
        cwd=project, env=env, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not CDK.exists():
        pytest.fail(f"{CDK} is not installed; run 'make deps'")
    folder = tmp_path_factory.mktemp("projects") / "fraud-detection"
    assert cli_main(["new", str(folder), "--intended-use", "Fraud risk of card payments"]) == 0
    return folder


def test_the_project_has_its_own_code_app_tests_and_ci(project: Path) -> None:
    for name in ("app.py", "cdk.json", "Makefile", "requirements.txt", "package.json",
                 ".github/workflows/ci.yml", "README.md", "tests/test_app.py",
                 "tests/test_code.py", "fraud_detection_ml/training/train.py"):  # fmt: skip
        assert (project / name).is_file(), name
    app = (project / "app.py").read_text()
    assert "RepeatableStack" in app and 'intended_use="Fraud risk of card payments"' in app
    flags = json.loads((project / "cdk.json").read_text())["context"]
    assert flags == json.loads((ROOT / "cdk.json").read_text())["context"]


def test_make_synth_and_make_test_pass_as_created(project: Path) -> None:
    started = time.perf_counter()
    synth = _make(project, "synth")
    assert synth.returncode == 0, synth.stdout + synth.stderr
    assert "FraudDetectionLevel2" in synth.stdout and " ok" in synth.stdout
    template = json.loads((project / "cdk.out" / "FraudDetectionLevel2.template.json").read_text())
    assert "fraud_detection_ml.processing.preprocess" in json.dumps(template)
    test = _make(project, "test")
    assert test.returncode == 0, test.stdout + test.stderr
    assert "2 passed" in test.stdout
    print(f"make synth + make test: {time.perf_counter() - started:.1f} s")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"level": 1}, "level 1 is not allowed"),
        ({"package": "pipeline_code"}, "package name 'pipeline_code' is not allowed"),
        ({"package": "Fraud-ML"}, "package name 'Fraud-ML' is not allowed"),
        ({"schema": "loans"}, "schema 'loans' is not allowed; use one of"),
        ({"intended_use": "fraud, for payments"}, "no commas"),
    ],
)
def test_bad_arguments_are_refused(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ScaffoldError, match=message):
        new_project(tmp_path / "good-name", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "good-name").exists()


def test_a_bad_name_or_a_used_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ScaffoldError, match="project name 'Bad_Name' is not allowed"):
        new_project(tmp_path / "Bad_Name")
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine")
    assert cli_main(["new", str(used)]) == 2
    assert "is not empty" in capsys.readouterr().err
