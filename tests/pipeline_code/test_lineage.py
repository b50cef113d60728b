"""``cdk-mlops lineage``: a version's model, code and data, and whether each is unchanged."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline_code.registry.lineage import (
    EXIT_ERROR,
    EXIT_USAGE,
    LineageError,
    LineageRecordError,
    add_lineage_arguments,
    lineage,
    lineage_command,
    render,
)
from pipeline_code.registry.local import PIPELINE_CODE_DIR, LocalModelRegistry, code_sha256

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
        "path": str(PIPELINE_CODE_DIR),
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


def _package_file(registry: Path, version: int) -> Path:
    return registry / GROUP / f"version-{version}" / "model-package.json"


def _edit(registry: Path, version: int, **changes: object) -> None:
    path = _package_file(registry, version)
    package = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            package.pop(key, None)
        else:
            package[key] = value
    path.write_text(json.dumps(package))


@pytest.mark.parametrize(
    ("version", "damage", "message"),
    [
        ("latest", lambda r: _package_file(r, 2).write_text("{not json"), "version-2/model-package.json is not valid JSON"),
        ("2", lambda r: _package_file(r, 2).write_text("[1, 2]"), "holds a JSON list, not an object"),
        ("2", lambda r: _edit(r, 2, ModelApprovalStatus=None), "lacks ModelApprovalStatus"),
        ("2", lambda r: _edit(r, 2, DataLineage={"a": 1}), "DataLineage is a dict, not a list"),
        ("2", lambda r: _edit(r, 2, DataLineage=[{"path": "x"}]), r"DataLineage\[0\] is \{'path': 'x'\}"),
        ("2", lambda r: (r / GROUP / "version-2" / "evaluation.json").write_text("nope"), "version-2/evaluation.json is not valid JSON"),
        # the parent named by retrained_from is read too, and named when it is broken
        ("2", lambda r: _package_file(r, 1).write_text("{"), "version-1/model-package.json is not valid JSON"),
    ],
)  # fmt: skip
def test_fails_when_a_record_is_malformed_naming_the_file_and_the_fix(
    registry: Path,
    capsys: pytest.CaptureFixture[str],
    version: str,
    damage: Callable[[Path], object],
    message: str,
) -> None:
    damage(registry)
    with pytest.raises(LineageRecordError, match=message) as caught:
        lineage(registry, GROUP, version)
    assert "register the version again" in str(caught.value)
    assert _run([str(registry), GROUP, version]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("cdk-mlops lineage: ") and err.count("\n") == 1


def test_a_broken_version_does_not_hide_the_others(registry: Path) -> None:
    _package_file(registry, 2).write_text("{")
    assert lineage(registry, GROUP, 1)["version"] == 1


def test_the_version_may_be_given_as_its_folder_name(registry: Path) -> None:
    assert lineage(registry, GROUP, "version-1")["version"] == 1
    with pytest.raises(LineageError, match="customer-churn/0 does not exist"):
        lineage(registry, GROUP, "0")


def test_an_empty_registry_lists_no_groups(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        LineageError, match=r"group 'customer-churn' has no versions .* groups: \[\]"
    ):
        lineage(tmp_path / "empty", GROUP, "latest")


def test_a_missing_model_is_reported(registry: Path) -> None:
    (registry / GROUP / "version-1" / "model.tar.gz").unlink()
    info = lineage(registry, GROUP, 1)
    assert info["model"]["state"] == "missing"
    assert "missing" in render(info).splitlines()[1]


def test_the_chain_follows_every_parent_and_stops_at_a_cycle_or_a_missing_one(
    registry: Path, tmp_path: Path
) -> None:
    model, evaluation = tmp_path / "model.tar.gz", _evaluation(tmp_path / "e3.json", 0.9)
    LocalModelRegistry(registry).register(
        GROUP, model, evaluation=evaluation, metadata={"retrained_from": 2}
    )
    assert lineage(registry, GROUP, 3)["retrained_from"] == [2, 1]
    assert "retrained from version 2 <- version 1" in render(lineage(registry, GROUP, 3))
    _edit(registry, 1, CustomerMetadataProperties={"retrained_from": "3"})  # a cycle
    assert lineage(registry, GROUP, 3)["retrained_from"] == [2, 1]
    _edit(registry, 1, CustomerMetadataProperties={"retrained_from": "7"})  # not here
    info = lineage(registry, GROUP, 3)
    assert (info["retrained_from"], info["retrained_from_missing"]) == ([2, 1, 7], 7)
    assert "version 7 (not in this registry)" in render(info)


def test_code_is_compared_with_the_folder_it_was_recorded_from(
    registry: Path, tmp_path: Path
) -> None:
    # a team's renamed copy of pipeline_code: its own folder, not the installed package
    code = tmp_path / "team_code"
    code.mkdir()
    (code / "train.py").write_text("print(1)\n")
    recorded = code_sha256(code)
    package = json.loads(_package_file(registry, 1).read_text())
    package["CodeLineage"] = {"path": str(code), "sha256": recorded}
    package["CustomerMetadataProperties"]["code_sha256"] = recorded
    _package_file(registry, 1).write_text(json.dumps(package))
    info = lineage(registry, GROUP, 1)
    assert (info["code"]["path"], info["code"]["state"]) == (str(code), "unchanged")
    (code / "train.py").write_text("print(2)\n")
    info = lineage(registry, GROUP, 1)
    assert info["code"]["state"] == "changed"
    assert f"changed    {code}  (now {code_sha256(code)[:16]})" in render(info)
    # the folder is gone: compared with the installed pipeline_code instead
    (code / "train.py").unlink()
    code.rmdir()
    assert lineage(registry, GROUP, 1)["code"]["path"] == str(PIPELINE_CODE_DIR)


def test_registration_records_the_code_folder(registry: Path) -> None:
    package = json.loads(_package_file(registry, 1).read_text())
    assert package["CodeLineage"] == {"path": str(PIPELINE_CODE_DIR), "sha256": code_sha256()}
    assert package["CustomerMetadataProperties"]["code_sha256"] == code_sha256()


def test_an_old_record_without_lineage_says_what_is_not_recorded(registry: Path) -> None:
    _edit(registry, 1, DataLineage=None, CodeLineage=None, CustomerMetadataProperties={})
    info = lineage(registry, GROUP, 1)
    assert info["code"]["state"] == "not recorded"
    assert info["model"]["state"] == "not recorded"
    assert info["data"] == {"sha256": "", "files": []}
    assert "    (no per-file record)" in render(info).splitlines()


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
