"""``cdk-mlops check`` (and ``python -m cdk_mlops.checks``): every exit status and message.

0 clean, 1 findings, 2 usage problems with one line on stderr and no traceback. The assemblies
are written by hand (a manifest and a template), so no synth is needed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cdk_mlops import checks, cli
from tests.cdk_mlops.helpers import ROOT

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
#: A template no cfn-lint or checkov rule objects to.
CLEAN = {"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}
#: An invalid versioning status: a cfn-lint error.
LINT_ERROR = {
    "Resources": {
        "B": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"VersioningConfiguration": {"Status": "Sometimes"}},
        }
    }
}
#: A valid bucket without encryption settings, logging or versioning: checkov findings only.
CHECKOV_FINDINGS = {"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}


def assembly(folder: Path, **stacks: Any) -> Path:
    """A cloud assembly with one template per stack, as ``cdk synth`` lays it out."""
    folder.mkdir(parents=True, exist_ok=True)
    artifacts = {}
    for name, template in stacks.items():
        (folder / f"{name}.template.json").write_text(json.dumps(template))
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "properties": {"templateFile": f"{name}.template.json"},
        }
    (folder / "manifest.json").write_text(json.dumps({"version": "48.0.0", "artifacts": artifacts}))
    return folder


@pytest.fixture(scope="module")
def checkov_exe() -> str:
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed at {CHECKOV}; run 'make deps' (it has its own venv)")
    return str(CHECKOV)


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = cli.main(["check", *args])
    out, err = capsys.readouterr()
    return status, out, err


def one_line(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


# ------------------------------------------------------------------ 0 and 1


def test_clean_assembly_exits_0_with_checkov(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], checkov_exe: str
) -> None:
    status, out, err = check(capsys, str(assembly(tmp_path, Clean=CLEAN)), "--checkov", checkov_exe)
    assert (status, err) == (0, "")
    [row] = [line for line in out.splitlines() if line.startswith("Clean ")]
    assert row.split()[-2:] == ["0/0", "ok"]


def test_checkov_is_found_on_path(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    checkov_exe: str,
) -> None:
    monkeypatch.setenv("PATH", f"{Path(checkov_exe).parent}{os.pathsep}{os.environ['PATH']}")
    status, out, _ = check(capsys, str(assembly(tmp_path, Bucket=CHECKOV_FINDINGS)))
    assert status == 1
    assert "  checkov Bucket: CKV_AWS_18 " in out


def test_cfn_lint_findings_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = assembly(tmp_path, Clean=CLEAN, Broken=LINT_ERROR)
    status, out, err = check(capsys, str(folder), "--no-checkov")
    assert (status, err) == (1, "")
    assert "  cfn-lint Broken: E3030 " in out
    assert "cfn-lint Clean" not in out
    assert "checkov: not run (--no-checkov)" in out


def test_no_checkov_runs_cfn_lint_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = check(capsys, str(assembly(tmp_path, Bucket=CHECKOV_FINDINGS)), "--no-checkov")
    assert status == 0
    [row] = [line for line in out.splitlines() if line.startswith("Bucket ")]
    assert "not run" in row


def test_python_m_checks_keeps_the_makefile_form(tmp_path: Path, checkov_exe: str) -> None:
    # make synth: $(PY) -m cdk_mlops.checks cdk.out --checkov $(CHECKOV_VENV)/bin/checkov
    folder = assembly(tmp_path / "cdk.out", Clean=CLEAN)
    result = subprocess.run(
        [sys.executable, "-m", "cdk_mlops.checks", "cdk.out", "--checkov", checkov_exe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert folder.is_dir()
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert result.stdout.startswith("stack ")


# ------------------------------------------------------------------ 2: usage problems


def test_missing_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing"
    status, out, err = check(capsys, str(missing), "--no-checkov")
    assert (status, out) == (2, "")
    assert one_line(err) == (
        f"cdk-mlops check: assembly folder {str(missing)!r} does not exist; run 'cdk synth' "
        "first (it writes cdk.out) or pass the folder it wrote\n"
    )


def test_folder_that_is_not_an_assembly_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = check(capsys, str(tmp_path), "--no-checkov")
    assert status == 2
    assert "is not a cloud assembly (no manifest.json)" in one_line(err)


def test_assembly_without_templates_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = check(capsys, str(assembly(tmp_path)), "--no-checkov")
    assert status == 2
    assert "holds no stack templates" in one_line(err)


def test_unreadable_manifest_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "manifest.json").write_text("{not json")
    status, _, err = check(capsys, str(tmp_path), "--no-checkov")
    assert status == 2
    assert "manifest.json' cannot be read" in one_line(err)


def test_checkov_missing_from_path_exits_2_with_the_install_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    status, _, err = check(capsys, str(assembly(tmp_path / "out", Clean=CLEAN)))
    assert status == 2
    assert one_line(err) == (
        "cdk-mlops check: checkov is not on PATH. Install it: python -m venv .venv-checkov && "
        ".venv-checkov/bin/pip install checkov, then pass --checkov .venv-checkov/bin/checkov; "
        "or run with --no-checkov\n"
    )


@pytest.mark.parametrize("path", ["/no/such/checkov", "no-such-checkov-on-path"])
def test_checkov_path_that_does_not_exist_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str
) -> None:
    status, _, err = check(capsys, str(assembly(tmp_path, Clean=CLEAN)), "--checkov", path)
    assert status == 2
    assert one_line(err).startswith(f"cdk-mlops check: --checkov {path!r}: no such executable.")
    assert "pip install checkov" in err and "--no-checkov" in err


def test_empty_checkov_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = check(capsys, str(assembly(tmp_path, Clean=CLEAN)), "--checkov", "")
    assert status == 2
    assert "names no executable; pass --no-checkov" in one_line(err)


def test_checkov_and_no_checkov_together_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["check", "cdk.out", "--checkov", "x", "--no-checkov"])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_checkov_that_fails_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "checkov"
    broken.write_text("#!/bin/sh\necho 'checkov: something broke' >&2\nexit 3\n")
    broken.chmod(0o755)
    status, _, err = check(
        capsys, str(assembly(tmp_path / "out", Clean=CLEAN)), "--checkov", str(broken)
    )
    assert status == 2
    assert one_line(err) == (
        "cdk-mlops check: checkov failed on Clean.template.json (exit 3): "
        "checkov: something broke\n"
    )


WITHOUT_CFN_LINT = (
    "import sys\n"
    "sys.modules['cfnlint'] = None\n"
    "from {module} import main\n"
    "raise SystemExit(main(sys.argv[1:]))\n"
)


@pytest.mark.parametrize(
    ("module", "args", "message"),
    [
        (
            "cdk_mlops.cli",
            ["check"],
            "cdk-mlops check needs the 'checks' extra (missing: cfnlint): "
            "pip install 'cdk-mlops[checks]'\n",
        ),
        (
            "cdk_mlops.checks",
            [],
            "python -m cdk_mlops.checks: cfn-lint is not installed: "
            "pip install 'cdk-mlops[checks]'\n",
        ),
    ],
)
def test_missing_cfn_lint_exits_2_with_the_install_command(
    tmp_path: Path, module: str, args: list[str], message: str
) -> None:
    folder = assembly(tmp_path, Clean=CLEAN)
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_CFN_LINT.format(module=module), *args, str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (2, "", message)


def test_check_is_listed_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "check " in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["check", "--help"])
    out = capsys.readouterr().out
    assert "--no-checkov" in out and "--checkov PATH" in out


def test_module_documents_the_exit_statuses() -> None:
    assert (checks.EXIT_CLEAN, checks.EXIT_FINDINGS, checks.EXIT_USAGE) == (0, 1, 2)


def test_checkov_without_a_json_report_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = tmp_path / "checkov"
    odd.write_text("#!/bin/sh\necho 'not json'\nexit 0\n")
    odd.chmod(0o755)
    status, _, err = check(
        capsys, str(assembly(tmp_path / "out", Clean=CLEAN)), "--checkov", str(odd)
    )
    assert status == 2
    assert one_line(err) == (
        "cdk-mlops check: checkov printed no JSON report (exit 0): 'not json\\n'\n"
    )
