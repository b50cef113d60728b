"""The local model registry: versions, approval, hashes, baselines."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from pipeline_code.registry.local import (
    DEFAULT_APPROVAL,
    LocalModelRegistry,
    RegistryError,
    code_sha256,
    hash_paths,
)


@pytest.fixture
def artifacts(tmp_path: Path) -> dict[str, Path]:
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"model-bytes")
    evaluation = tmp_path / "evaluation.json"
    evaluation.write_text(json.dumps({"binary_classification_metrics": {"auc": {"value": 0.8}}}))
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    baseline = tmp_path / "baseline"
    baseline.mkdir()
    (baseline / "statistics.json").write_text("{}")
    (baseline / "constraints.json").write_text("{}")
    return {"model": model, "evaluation": evaluation, "data": data, "baseline": baseline}


def test_versions_count_up_from_one_and_start_pending(
    tmp_path: Path, artifacts: dict[str, Path]
) -> None:
    reg = LocalModelRegistry(tmp_path / "registry")
    first = reg.register(
        "churn",
        artifacts["model"],
        evaluation=artifacts["evaluation"],
        data_paths=[artifacts["data"]],
    )
    second = reg.register("churn", artifacts["model"], evaluation=artifacts["evaluation"])
    assert (first.version, second.version) == (1, 2)
    assert first.approval_status == DEFAULT_APPROVAL == "PendingManualApproval"
    assert first.path == tmp_path / "registry" / "churn" / "version-1"
    assert (first.path / "model.tar.gz").read_bytes() == b"model-bytes"
    desc = json.loads((first.path / "model-package.json").read_text())
    assert desc["ModelPackageGroupName"] == "churn" and desc["ModelPackageVersion"] == 1
    props = desc["CustomerMetadataProperties"]
    assert props["code_sha256"] == code_sha256() and len(props["code_sha256"]) == 64
    assert props["data_sha256"] == hash_paths([artifacts["data"]])
    assert desc["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"].endswith("evaluation.json")
    assert [p.version for p in reg.list_versions("churn")] == [1, 2]


def test_data_hash_changes_with_the_data(artifacts: dict[str, Path]) -> None:
    before = hash_paths([artifacts["data"]])
    artifacts["data"].write_text("a,b\n1,3\n")
    assert hash_paths([artifacts["data"]]) != before


def test_code_hash_is_stable_and_ignores_caches() -> None:
    assert code_sha256() == code_sha256()


def test_approval_updates_and_latest_approved(tmp_path: Path, artifacts: dict[str, Path]) -> None:
    reg = LocalModelRegistry(tmp_path)
    for _ in range(3):
        reg.register("churn", artifacts["model"], evaluation=artifacts["evaluation"])
    reg.update_approval("churn", 2, "Approved", comment="looks good")
    reg.update_approval("churn", 3, "Rejected")
    latest = reg.latest("churn", status="Approved")
    assert latest is not None and latest.version == 2
    assert [h["ModelApprovalStatus"] for h in latest.description["ApprovalHistory"]] == [
        "PendingManualApproval",
        "Approved",
    ]
    newest = reg.latest("churn")
    assert newest is not None and newest.version == 3
    assert reg.latest("other") is None


def test_attach_baseline_sets_drift_check_baselines(
    tmp_path: Path, artifacts: dict[str, Path]
) -> None:
    reg = LocalModelRegistry(tmp_path)
    pkg = reg.register("churn", artifacts["model"], evaluation=artifacts["evaluation"])
    updated = reg.attach_baseline("churn", pkg.version, artifacts["baseline"])
    assert (pkg.path / "baseline" / "constraints.json").is_file()
    uri = updated.description["DriftCheckBaselines"]["ModelDataQuality"]["Constraints"]["S3Uri"]
    assert uri == str(pkg.path / "baseline" / "constraints.json")
    assert reg.get("churn", 1).description["ModelMetrics"]["ModelDataQuality"]


def test_concurrent_registrations_get_distinct_versions(
    tmp_path: Path, artifacts: dict[str, Path]
) -> None:
    reg = LocalModelRegistry(tmp_path)
    versions: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        pkg = reg.register("churn", artifacts["model"], evaluation=artifacts["evaluation"])
        with lock:
            versions.append(pkg.version)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(versions) == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("name", ["", "-churn", "churn_model", "a" * 64, "churn model"])
def test_fails_on_invalid_group_names(
    tmp_path: Path, artifacts: dict[str, Path], name: str
) -> None:
    with pytest.raises(RegistryError, match="group name"):
        LocalModelRegistry(tmp_path).register(
            name, artifacts["model"], evaluation=artifacts["evaluation"]
        )


def test_fails_on_bad_status_missing_version_and_missing_files(
    tmp_path: Path, artifacts: dict[str, Path]
) -> None:
    reg = LocalModelRegistry(tmp_path)
    with pytest.raises(RegistryError, match="approval status 'approved' is invalid"):
        reg.register(
            "churn",
            artifacts["model"],
            evaluation=artifacts["evaluation"],
            approval_status="approved",
        )
    with pytest.raises(FileNotFoundError, match="model_tarball"):
        reg.register("churn", tmp_path / "none.tar.gz", evaluation=artifacts["evaluation"])
    reg.register("churn", artifacts["model"], evaluation=artifacts["evaluation"])
    with pytest.raises(RegistryError, match=r"churn/7 does not exist; known versions: \[1\]"):
        reg.get("churn", 7)
    with pytest.raises(RegistryError, match="Approved"):
        reg.update_approval("churn", 1, "OK")
    with pytest.raises(FileNotFoundError, match="baseline files"):
        reg.attach_baseline("churn", 1, tmp_path / "nothing")
    with pytest.raises(FileNotFoundError, match="cannot hash"):
        hash_paths([tmp_path / "ghost"])


def test_data_hash_ignores_spark_markers_but_not_data(tmp_path: Path) -> None:
    folder = tmp_path / "curated" / "ingest_date=2024-01-01"
    folder.mkdir(parents=True)
    (folder / "part-0.parquet").write_bytes(b"rows")
    before = hash_paths([tmp_path / "curated"])
    (tmp_path / "curated" / "_SUCCESS").write_text("")
    (folder / ".part-0.parquet.crc").write_bytes(b"crc")
    assert hash_paths([tmp_path / "curated"]) == before
    (folder / "_private.py").write_text("x = 1\n")  # a module, not a marker
    assert hash_paths([tmp_path / "curated"]) != before


def test_concurrent_writers_of_one_json_file_do_not_collide(tmp_path: Path) -> None:
    # Six writers racing on one new file: with a shared temporary name, os.replace failed for
    # most of them (seen as a flaky concurrent-registration test); each writer has its own now.
    from pipeline_code.registry.local import _write_json

    for trial in range(20):
        target = tmp_path / f"t{trial}" / "group.json"
        target.parent.mkdir()
        errors: list[BaseException] = []

        def write(n: int, target: Path = target, errors: list[BaseException] = errors) -> None:
            try:
                _write_json(target, {"writer": n})
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert json.loads(target.read_text())["writer"] in range(6)
        assert sorted(p.name for p in target.parent.iterdir()) == ["group.json"]
