"""The ``cdk-mlops`` command (cdk_mlops.cli): help without extras, one-line missing-extra errors.

Runs where the ``ml`` extra is missing are simulated here by blocking its modules in a child
interpreter (``sys.modules[name] = None`` makes both ``import`` and ``find_spec`` fail);
test_cli_install.py does the same with a real install into a new virtual environment.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from cdk_mlops import cli

ROOT = Path(__file__).resolve().parents[2]
ML_MODULES = ("numpy", "pandas", "sklearn", "pyarrow", "joblib", "threadpoolctl", "scipy")
WITHOUT_ML = (
    "import sys\n"
    f"for name in {ML_MODULES!r}:\n"
    "    sys.modules[name] = None\n"
    "from cdk_mlops.cli import main\n"
    "raise SystemExit(main(sys.argv[1:]))\n"
)
MISSING_ML = (
    "needs the 'ml' extra (missing: numpy, pandas, sklearn, pyarrow, joblib, threadpoolctl): "
    "pip install 'cdk-mlops[ml]'"
)


def without_ml(*args: str) -> subprocess.CompletedProcess[str]:
    """``cdk-mlops ARGS`` in a child interpreter that cannot import the ``ml`` extra."""
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_ML, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subcommand parsers by name."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(actions) == 1
    return dict(actions[0].choices)


def test_console_script_is_the_library_cli() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"] == {"cdk-mlops": "cdk_mlops.cli:main"}


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["run-local", "--help"],
        ["generate", "--help"],
        ["serve", "--help"],
        ["infer-schema", "--help"],
        ["run-pipeline", "--help"],
        ["deploy-local", "--help"],
    ],
)
def test_help_and_version_work_without_the_ml_extra(args: list[str]) -> None:
    result = without_ml(*args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    if args == ["--version"]:
        assert result.stdout == f"cdk-mlops {metadata.version('cdk-mlops')}\n"
    else:
        assert result.stdout.startswith("usage: cdk-mlops")


@pytest.mark.parametrize("command", ["run-local", "generate", "serve", "deploy-local"])
def test_an_ml_subcommand_without_the_extra_says_how_to_install_it_in_one_line(
    command: str,
) -> None:
    args = {
        "run-local": [command],
        "generate": [command, "--output", "x.csv"],
        "serve": [command, "--model", "model.tar.gz"],
        "deploy-local": [command, "--registry", "registry"],
    }[command]
    result = without_ml(*args)
    assert result.returncode == 2
    assert result.stderr == f"cdk-mlops {command} {MISSING_ML}\n"
    assert result.stdout == ""


def test_run_pipeline_without_its_extra_names_the_executor_extra(tmp_path: Path) -> None:
    result = without_ml("run-pipeline", str(tmp_path / "MlopsLevel2.template.json"))
    assert result.returncode == 2
    assert result.stderr.startswith("cdk-mlops run-pipeline needs the 'executor' extra (missing: ")
    assert result.stderr.endswith("pip install 'cdk-mlops[executor]'\n")
    assert result.stderr.count("\n") == 1


def test_each_extra_named_by_the_cli_exists_in_pyproject() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extras = pyproject["project"]["optional-dependencies"]
    named = {c.extra.name for c in cli.subcommands() if c.extra is not None}
    assert named == {"ml", "checks", "executor"}
    assert named <= set(extras)
    # the executor extra brings the ml extra (its jobs run pipeline_code) and the xgboost one
    # (it emulates SageMaker's XGBoost algorithm)
    (own,) = [d for d in extras["executor"] if d.startswith("cdk-mlops[")]
    assert set(own.removeprefix("cdk-mlops[").removesuffix("]").split(",")) == {"ml", "xgboost"}


def test_a_module_missing_while_running_is_reported_the_same_way(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(args: argparse.Namespace) -> int:
        raise ModuleNotFoundError("No module named 'pandas'", name="pandas")

    command = cli.Subcommand(
        name="fake",
        help="h",
        description="d",
        add_arguments=lambda parser: None,
        run=run,
        extra=cli.ML_EXTRA,
    )
    monkeypatch.setattr(cli, "subcommands", lambda: (command,))
    assert cli.main(["fake"]) == 2
    assert capsys.readouterr().err == (
        "cdk-mlops fake needs the 'ml' extra (missing: pandas): pip install 'cdk-mlops[ml]'\n"
    )


def test_subcommands_delegate_to_pipeline_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "loans.csv"
    args = ["generate", "--schema", "loan_default", "--rows", "30", "--output", str(out)]
    assert cli.main(args) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 31
    # run-local checks its arguments before any work: exit 1 with the message
    assert cli.main(["run-local", "--rows", "0", "--output", str(tmp_path / "run")]) == 1
    assert "--rows must be at least 1, got 0" in capsys.readouterr().err


def test_generate_help_has_a_description_and_marks_output_required() -> None:
    generate = subparsers(cli.build_parser())["generate"]
    assert generate.description
    assert "write a synthetic data set as CSV" in generate.description
    usage = generate.format_usage()
    assert "--output OUTPUT" in usage
    assert "[--output" not in usage
    with pytest.raises(SystemExit) as exit_info:
        generate.parse_args([])
    assert exit_info.value.code == 2


def test_help_texts_are_plain_text() -> None:
    parser = cli.build_parser()
    texts = [parser.format_help()]
    texts += [child.format_help() for child in subparsers(parser).values()]
    for text in texts:
        assert "``" not in text
        assert not re.search(r":(func|class|mod|data):", text)


def test_generate_takes_the_arguments_of_the_standalone_generator() -> None:
    # python -m pipeline_code.data.generate has its own parser (its module imports numpy);
    # cdk-mlops generate must offer the same options with the same defaults and help.
    from pipeline_code.data import generate as gen

    def options(parser: argparse.ArgumentParser) -> list[tuple[object, ...]]:
        return [
            (tuple(a.option_strings), a.default, a.type, a.help, a.required)
            for a in parser._actions
            if not isinstance(a, argparse._HelpAction)
        ]

    ours = subparsers(cli.build_parser())["generate"]
    assert options(ours) == options(gen.build_parser())


def test_infer_schema_runs_without_the_ml_extra(tmp_path: Path) -> None:
    """Standard library only: a schema can be drafted before the ml extra is installed."""
    data = tmp_path / "data.csv"
    rows = "".join(
        f"{i},{20 + i % 40},{'north' if i % 3 else 'south'},{i % 2}\n" for i in range(30)
    )
    data.write_text("id,age,region,churned\n" + rows, encoding="utf-8")
    out = tmp_path / "schema.json"
    result = without_ml("infer-schema", str(data), "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert "wrote a DRAFT schema" in result.stderr and "review:" in result.stderr
    draft = json.loads(out.read_text(encoding="utf-8"))
    assert draft["description"].startswith("INFERRED by cdk-mlops infer-schema")
    assert (draft["id_column"], draft["target"]["name"]) == ("id", "churned")
    assert [f["type"] for f in draft["features"]] == ["integer", "categorical"]


def test_infer_schema_errors_are_one_line_with_status_1(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    result = without_ml("infer-schema", str(empty))
    assert result.returncode == 1
    assert result.stderr == (
        f"cdk-mlops infer-schema: {str(empty)!r} is empty (no header row, no data); infer-schema "
        "needs a CSV with a header row naming the columns and data rows\n"
    )


def test_serve_reports_a_path_that_is_not_a_model_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_archive = tmp_path / "model.joblib"
    not_archive.write_bytes(b"not a tar file")
    assert cli.main(["serve", "--model", str(not_archive), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cannot load the model: ") and err.count("\n") == 1
    assert "is not a tar archive" in err and "Traceback" not in err


def test_serve_and_infer_schema_are_listed() -> None:
    names = [c.name for c in cli.subcommands()]
    assert {"serve", "infer-schema", "run-pipeline", "deploy-local"} <= set(names)
    serve = subparsers(cli.build_parser())["serve"]
    assert "--model PATH" in serve.format_usage() and "[--model" not in serve.format_usage()
