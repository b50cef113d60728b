"""``cdk-mlops lineage``: a version's model, code and data, and whether each is unchanged."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from pipeline_code.registry.lineage import (
    EXIT_ERROR,
    EXIT_USAGE,
    LineageError,
    add_lineage_arguments,
    lineage,
    lineage_command,
    render,
)
from pipeline_code.registry.local import LocalModelRegistry, code_sha256

GROUP = "customer-churn"


def _evaluation(path: Path, auc: float) -> Path:
    path.write_text(json.dumps({"binary_classification_metrics": {"auc": {"value": auc}}}))
    return path


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    """Version 1 from two data files (one in a folder), version 2 retrained from it."""
    data = tmp_path / "data"
    (data / "day1").mkdir(parents=True)
    (data / "day1" / "part-0.csv").write_text("id,x\n1,2\n")
    (data / "day1" / "_SUCCESS").write_text("")  # a Spark marker: not data
    (data / "day2.csv").write_text("id,x\n3,4\n")
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"model")
    root = tmp_path / "registry"
    reg = LocalModelRegistry(root)
    reg.register(
        GROUP, model, evaluation=_evaluation(tmp_path / "e1.json", 0.8),
        data_paths=[data / "day1"],
    )  # fmt: skip
    reg.register(
        GROUP, model, evaluation=_evaluation(tmp_path / "e2.json", 0.85),
        data_paths=[data / "day1", data / "day2.csv"], metadata={"retrained_from": 1},
    )  # fmt: skip
    return root


def test_a_fresh_version_is_unchanged_everywhere(registry: Path) -> None:
    info = lineage(registry, GROUP, "latest")
    assert info["version"] == 2
    assert info["model"]["state"] == "unchanged"
    assert info["code"] == {
        "sha256": code_sha256(),
        "current_sha256": code_sha256(),
        "state": "unchanged",
    }
    files = info["data"]["files"]
    assert [Path(f["path"]).name for f in files] == ["part-0.csv", "day2.csv"]
    assert {f["state"] for f in files} == {"unchanged"}
    assert files[0]["bytes"] == len("id,x\n1,2\n")
    assert info["metrics"] == {"auc": 0.85}
    assert info["retrained_from"] == [1]
    text = render(info)
    assert "retrained from version 1" in text and "auc 0.8500" in text


def test_changed_and_missing_data_are_reported(registry: Path) -> None:
    first = Path(lineage(registry, GROUP, 2)["data"]["files"][0]["path"])
    first.write_text("id,x\n1,999\n")
    Path(lineage(registry, GROUP, 2)["data"]["files"][1]["path"]).unlink()
    states = [f["state"] for f in lineage(registry, GROUP, 2)["data"]["files"]]
    assert states == ["changed", "missing"]
    assert "changed" in render(lineage(registry, GROUP, 1))


def test_a_replaced_model_is_reported(registry: Path) -> None:
    (registry / GROUP / "version-1" / "model.tar.gz").write_bytes(b"other")
    assert lineage(registry, GROUP, 1)["model"]["state"] == "changed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nowhere", GROUP, "1"), "registry .*nowhere.* does not exist"),
        ((None, "fraud", "1"), "group 'fraud' has no versions .* groups: \\['customer-churn'\\]"),
        ((None, GROUP, "9"), "customer-churn/9 does not exist; known versions: \\[1, 2\\]"),
        ((None, GROUP, "first"), "version 'first' is not a number"),
        ((None, "bad_name!", "1"), "group name 'bad_name!' is invalid"),
    ],
)
def test_bad_arguments_name_the_input_and_the_fix(
    registry: Path, tmp_path: Path, args: tuple[str | None, str, str], message: str
) -> None:
    root = registry if args[0] is None else tmp_path / args[0]
    with pytest.raises(LineageError, match=message):
        lineage(root, args[1], args[2])


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    add_lineage_arguments(parser)
    return lineage_command(parser.parse_args(argv))


def test_the_command_prints_text_or_json_and_exits_2_on_bad_input(
    registry: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run([str(registry), GROUP, "1"]) == 0
    assert "customer-churn version 1" in capsys.readouterr().out
    assert _run([str(registry), GROUP, "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["retrained_from"] == [1]
    assert _run([str(registry), GROUP, "3"]) == EXIT_USAGE
    assert "known versions: [1, 2]" in capsys.readouterr().err


def test_an_unreadable_record_exits_1(registry: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (registry / GROUP / "version-2" / "model-package.json").write_text("{not json")
    assert _run([str(registry), GROUP, "2"]) == EXIT_ERROR
    assert "cannot read" in capsys.readouterr().err


def test_a_pipeline_version_shows_what_the_pipeline_recorded(tmp_path: Path) -> None:
    # run-pipeline registers no files: the data version and training split location instead
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"m")
    root = tmp_path / "registry"
    LocalModelRegistry(root).register(
        GROUP, model, evaluation=_evaluation(tmp_path / "e.json", 0.9),
        metadata={"data_version": "abc123", "training_data": "s3://b/train", "quality_value": "0.9"},
    )  # fmt: skip
    info = lineage(root, GROUP, 1)
    assert info["data"]["files"] == []
    assert info["recorded"] == {
        "data_version": "abc123",
        "training_data": "s3://b/train",
        "quality_value": "0.9",
    }
    assert "data_version: abc123" in render(info)
