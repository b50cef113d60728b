"""deploy-local end to end: the local registry, the local server, a small trained model."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from pipeline_code.deployment.cli import main
from pipeline_code.deployment.endpoint import PackageRef
from pipeline_code.deployment.errors import EXIT_FAILED, EXIT_NOTHING_TO_DO, EXIT_OK, EXIT_USAGE
from pipeline_code.deployment.invoke import HttpInvoker
from pipeline_code.deployment.local import (
    STATE_FILE,
    add_deploy_local_arguments,
    deploy_local_command,
    generated_sample,
    verify_local,
)
from pipeline_code.deployment.verify import check_view
from pipeline_code.inference.handler import model_fn
from pipeline_code.inference.server import ModelServer, start_in_thread
from pipeline_code.registry.local import LocalModelRegistry
from pipeline_code.schema import Schema

from ..conftest_serving import *  # noqa: F403 - the serving fixtures
from ..conftest_serving import write_model_artifact

GROUP = "churn"
FAST = [
    "--requests",
    "10",
    "--batch-rows",
    "20",
    "--warmup",
    "1",
    "--sample-rows",
    "20",
    "--p99-ms",
    "5000",
]


def register(
    registry: LocalModelRegistry, model_artifact: Path, tmp_path: Path, status: str
) -> int:
    evaluation = tmp_path / "evaluation.json"
    evaluation.write_text(json.dumps({"binary_classification_metrics": {"auc": {"value": 0.8}}}))
    return registry.register(
        GROUP, model_artifact / "model.tar.gz", evaluation=evaluation, approval_status=status
    ).version


def deploy(root: Path, *flags: str) -> int:
    return main(["deploy-local", "--registry", str(root), *FAST, *flags])


def state(root: Path) -> dict[str, Any]:
    return json.loads((root / GROUP / STATE_FILE).read_text())


def test_deploy_local_rehearses_the_pipeline(
    model_artifact: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "registry"
    registry = LocalModelRegistry(root)
    register(registry, model_artifact, tmp_path, "PendingManualApproval")

    # nothing approved yet
    assert deploy(root) == EXIT_FAILED
    err = capsys.readouterr().err
    assert (
        "deploy-local: model package group 'churn' has no Approved version (versions ['1: PendingManualApproval'])"
        in err
    )

    # the reviewer approves version 1: first deployment
    assert deploy(root, "--approve", "1") == EXIT_OK
    out = capsys.readouterr().out
    for step in ("[0/6] approve", "[1/6] resolve: deploy: first deployment", "[2/6] serve: churn version 1 on http://127.0.0.1:",
                 "[3/6] smoke test: smoke test passed: 20 rows", "[4/6] latency test: latency test passed",
                 "[5/6] verify: verified: endpoint local is InService on config local-churn-v1 serving churn version 1",
                 "[6/6] record: churn version 1 is the local production"):  # fmt: skip
        assert step in out, out
    assert "rows/request" in out  # the latency table
    assert state(root)["ModelPackageVersion"] == 1

    # the same approval again: nothing to do
    assert deploy(root) == EXIT_NOTHING_TO_DO
    assert "nothing to do: endpoint local already serves churn version 1" in capsys.readouterr().err

    # a newer approved version is deployed
    register(registry, model_artifact, tmp_path, "Approved")
    assert deploy(root) == EXIT_OK
    assert "newer than churn version 1" in capsys.readouterr().out
    assert state(root)["ModelPackageVersion"] == 2

    # version 2 is withdrawn: the newest approved (1) is older than production and refused
    registry.update_approval(GROUP, 2, "Rejected")
    assert deploy(root) == EXIT_FAILED
    assert "refused: churn version 1 is older than churn version 2" in capsys.readouterr().err

    # unless the start names it: a rollback on purpose
    assert deploy(root, "--model-package-version", "1") == EXIT_OK
    assert "rollback on purpose" in capsys.readouterr().out
    record = state(root)
    assert (record["ModelPackageVersion"], record["Decision"]) == (1, "rollback")
    assert [h["ModelPackageVersion"] for h in record["History"]] == [1, 2, 1]


def test_cdk_mlops_can_wire_the_command(
    model_artifact: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser(prog="cdk-mlops deploy-local")
    add_deploy_local_arguments(parser)
    root = tmp_path / "registry"
    register(LocalModelRegistry(root), model_artifact, tmp_path, "Approved")
    sample = tmp_path / "sample.csv"
    sample.write_text(
        "\n".join(r.text for r in generated_sample(Schema.builtin("churn"), 12)) + "\n"
    )
    args = parser.parse_args(["--registry", str(root), "--sample-file", str(sample), *FAST])
    assert deploy_local_command(args) == EXIT_OK
    assert "smoke test passed: 12 rows" in capsys.readouterr().out


def test_fails_when_the_registered_model_changed(
    model_artifact: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "registry"
    registry = LocalModelRegistry(root)
    version = register(registry, model_artifact, tmp_path, "Approved")
    tarball = registry.get(GROUP, version).model_tarball
    shutil.copy(tarball, tmp_path / "copy.tar.gz")
    tarball.write_bytes(tarball.read_bytes() + b"\0")
    assert deploy(root) == EXIT_FAILED
    assert "changed since it was registered (model_sha256 differs)" in capsys.readouterr().err
    assert not (root / GROUP / STATE_FILE).exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--group", "bad_name"), "model package group name 'bad_name' is invalid"),
        (
            ("--approve", "9"),
            "--approve 9: model package churn/9 does not exist; known versions: [1]",
        ),
        (
            ("--model-package-version", "9"),
            "--model-package-version 9: model package churn/9 does not exist",
        ),
        (
            ("--model-package-version", "1"),
            "refused: churn version 1 is PendingManualApproval, not Approved",
        ),
    ],
)
def test_fails_on_bad_flags(
    flags: tuple[str, ...],
    message: str,
    model_artifact: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "registry"
    register(LocalModelRegistry(root), model_artifact, tmp_path, "PendingManualApproval")
    assert deploy(root, *flags) != EXIT_OK
    assert message in capsys.readouterr().err


def test_fails_on_a_registry_without_groups(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert deploy(tmp_path) == EXIT_USAGE
    assert "has no model package group; run cdk-mlops run-local first" in capsys.readouterr().err


def test_fails_on_a_damaged_state_file(
    model_artifact: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "registry"
    register(LocalModelRegistry(root), model_artifact, tmp_path, "Approved")
    (root / GROUP / STATE_FILE).write_text("{}")
    assert deploy(root) == EXIT_USAGE
    assert "is damaged" in capsys.readouterr().err


def test_verify_local_sees_a_server_that_serves_another_model(
    model_artifact: Path, tmp_path: Path, churn_schema: Schema
) -> None:
    other_dir = write_model_artifact(churn_schema, tmp_path / "other", seed=1, rows=200)
    server = ModelServer(0, model_fn(other_dir), quiet=True)  # serves another model than resolved
    thread = start_in_thread(server)
    try:
        resolved = PackageRef("local://churn/1", GROUP, 1)
        view = verify_local(
            HttpInvoker(server.url),
            model_artifact / "model",
            generated_sample(churn_schema, 10),
            resolved,
            GROUP,
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert view.failure_reason == "the server's predictions differ from the resolved version's"
    outcome = check_view(view, "local", resolved.arn)
    assert not outcome.ok
    assert (
        "did not happen: endpoint local is InService on config local-churn-v1 serving no model package"
        in outcome.message
    )
