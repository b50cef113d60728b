"""``cdk-mlops lineage`` through the console script: help, exit statuses, no ``ml`` extra needed,
and the registry the local executor (``run-pipeline``) writes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, cast

import pytest

from cdk_mlops import cli
from pipeline_code.registry.local import LocalModelRegistry

from .test_cli import subparsers, without_ml

GROUP = "customer-churn"


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    data = tmp_path / "train.csv"
    data.write_text("id,x\n1,2\n")
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"model")
    evaluation = tmp_path / "evaluation.json"
    evaluation.write_text(json.dumps({"binary_classification_metrics": {"auc": {"value": 0.8}}}))
    root = tmp_path / "registry"
    LocalModelRegistry(root).register(GROUP, model, evaluation=evaluation, data_paths=[data])
    return root


def test_help_is_plain_text() -> None:
    parser = subparsers(cli.build_parser())["lineage"]
    text = parser.format_help()
    assert "``" not in text and ":mod:" not in text and ":func:" not in text
    assert "Exit status: 0 printed, 1 an unreadable record, 2 no such registry" in " ".join(
        text.split()
    )


def test_prints_text_and_json(registry: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["lineage", str(registry), GROUP, "latest"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("customer-churn version 1 (PendingManualApproval, created ")
    assert "unchanged" in out and "train.csv" in out and "auc 0.8000" in out
    assert cli.main(["lineage", str(registry), GROUP, "1", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert [Path(f["path"]).name for f in info["data"]["files"]] == ["train.csv"]


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["nowhere", GROUP, "1"], 2, "registry '.*nowhere' does not exist; give the folder"),
        ([None, "fraud", "1"], 2, "group 'fraud' has no versions"),
        ([None, GROUP, "4"], 2, "customer-churn/4 does not exist; known versions: \\[1\\]"),
        ([None, GROUP, "one"], 2, "version 'one' is not a number; give one of \\[1\\], or latest"),
        ([None, "Bad_Group", "1"], 2, "group name 'Bad_Group' is invalid"),
        ([None, GROUP, "1", "broken"], 1, "model-package.json is not valid JSON"),
    ],
)
def test_fails_with_one_line_naming_the_input(
    registry: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str | None],
    status: int,
    message: str,
) -> None:
    if argv[3:] == ["broken"]:
        (registry / GROUP / "version-1" / "model-package.json").write_text("{")
    root = str(tmp_path / argv[0]) if argv[0] else str(registry)
    assert cli.main(["lineage", root, *cast(list[str], argv[1:3])]) == status
    err = capsys.readouterr().err
    assert err.startswith("cdk-mlops lineage: ") and err.count("\n") == 1
    assert re.search(message, err), err


def test_fails_when_an_argument_is_missing(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["lineage", "registry", GROUP])
    assert exit_.value.code == 2
    assert "the following arguments are required: version" in capsys.readouterr().err


def test_works_without_the_ml_extra(registry: Path) -> None:
    assert without_ml("lineage", "--help").returncode == 0
    result = without_ml("lineage", str(registry), GROUP, "1")
    assert result.returncode == 0, result.stderr
    assert "customer-churn version 1" in result.stdout


class _FakeS3:
    """What ``register_model`` reads: object bytes by URI."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def read(self, uri: str, *, step: str, field: str) -> bytes:
        return self.objects[uri]


def test_reads_the_registry_the_local_executor_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # run-pipeline's RegisterModel step: no files, the pipeline's code and data versions
    from cdk_mlops.executor.runner import register_model

    evaluation = {"binary_classification_metrics": {"auc": {"value": 0.9}}}
    s3 = _FakeS3(
        {
            "s3://artifacts/model.tar.gz": b"model",
            "s3://artifacts/evaluation.json": json.dumps(evaluation).encode(),
        }
    )
    args: dict[str, Any] = {
        "ModelPackageGroupName": GROUP,
        "InferenceSpecification": {
            "Containers": [
                {"Image": "sklearn:1.9-0", "ModelDataUrl": "s3://artifacts/model.tar.gz"}
            ]
        },
        "ModelMetrics": {
            "ModelQuality": {
                "Statistics": {
                    "ContentType": "application/json",
                    "S3Uri": "s3://artifacts/evaluation.json",
                }
            }
        },
        "CustomerMetadataProperties": {
            "code_version": "c0de",
            "data_version": "da7a",
            "training_data": "s3://curated/train",
        },
        "MetadataProperties": {"CommitId": "c0de"},
    }
    root = tmp_path / "registry"
    register_model("RegisterModel", args, s3=cast(Any, s3), registry_root=root)
    assert cli.main(["lineage", str(root), GROUP, "latest"]) == 0
    out = capsys.readouterr().out
    for line in (
        "    (no per-file record: the pipeline recorded the data below)",
        "  code_version: c0de",
        "  commit_id: c0de",
        "  data_version: da7a",
        "  training_data: s3://curated/train",
        "  model_data_url: s3://artifacts/model.tar.gz",
    ):
        assert line in out.splitlines(), out
    assert "auc 0.9000" in out
