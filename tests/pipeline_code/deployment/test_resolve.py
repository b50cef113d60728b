"""resolve: which version to deploy, refused versions, duplicates, and the files it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline_code.deployment.cli import main
from pipeline_code.deployment.endpoint import PackageRef
from pipeline_code.deployment.errors import EXIT_FAILED, EXIT_NOTHING_TO_DO, EXIT_OK, EXIT_USAGE
from pipeline_code.deployment.resolve import DEPLOY, NothingToDoResolved, decide

from .aws_fixtures import ACCOUNT, GROUP, REGION, aws, register, sagemaker, serve

__all__ = ["aws"]

PROD = "churn-prod"


def run(tmp_path: Path, *flags: str) -> int:
    return main(
        [
            "resolve",
            "--output",
            str(tmp_path / "resolved.json"),
            "--template-configuration",
            str(tmp_path / "template-configuration.json"),
            *flags,
        ]
    )


def resolved(tmp_path: Path) -> dict[str, object]:
    return json.loads((tmp_path / "resolved.json").read_text())


@pytest.mark.usefixtures("aws")
def test_first_deployment_takes_the_newest_approved_version_and_writes_every_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arns = register(["Approved", "Approved", "PendingManualApproval"])
    status = run(
        tmp_path,
        "--model-package-group", GROUP,
        "--prod-endpoint-name", PROD,
        "--endpoint-name", "churn-staging",
        "--stage", "staging=churn-staging",
        "--stage", "prod=churn-prod",
        "--parameter", "CaptureBucketName=capture",
        "--env-file", str(tmp_path / "resolved.env"),
    )  # fmt: skip
    assert status == EXIT_OK
    doc = resolved(tmp_path)
    assert doc["ModelPackageArn"] == arns[1]
    assert doc["ModelPackageVersion"] == 2
    assert doc["Decision"] == DEPLOY
    assert doc["ProdModelPackageArn"] is None
    assert "first deployment" in str(doc["Reason"])
    config = json.loads((tmp_path / "template-configuration.json").read_text())
    assert config == {
        "Parameters": {
            "CaptureBucketName": "capture",
            "EndpointName": "churn-staging",
            "ModelPackageArn": arns[1],
        }
    }
    prod = json.loads((tmp_path / "template-configuration-prod.json").read_text())
    assert prod["Parameters"]["EndpointName"] == "churn-prod"
    assert prod["Parameters"]["ModelPackageArn"] == arns[1]
    env = (tmp_path / "resolved.env").read_text()
    assert "export DEPLOY_DECISION=deploy\n" in env
    assert "export MODEL_PACKAGE_VERSION=2\n" in env
    assert "deploy:" in capsys.readouterr().out


@pytest.mark.usefixtures("aws")
def test_a_newer_version_than_production_is_deployed(tmp_path: Path) -> None:
    arns = register(["Approved", "Approved"])
    serve(PROD, arns[0])
    assert run(tmp_path, "--model-package-group", GROUP, "--prod-endpoint-name", PROD) == EXIT_OK
    doc = resolved(tmp_path)
    assert (doc["ModelPackageVersion"], doc["Decision"]) == (2, DEPLOY)
    assert doc["ProdModelPackageVersion"] == 1
    assert "newer than churn version 1" in str(doc["Reason"])


@pytest.mark.usefixtures("aws")
def test_a_duplicate_approval_event_is_nothing_to_do_with_status_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arns = register(["Approved", "Approved"])
    flags = (
        "--event-model-package-arn",
        arns[1],
        "--model-package-group",
        GROUP,
        "--prod-endpoint-name",
        PROD,
    )
    assert run(tmp_path, *flags) == EXIT_OK  # the first event deploys version 2 ...
    serve(PROD, arns[1])  # ... which production then serves
    capsys.readouterr()
    assert run(tmp_path, *flags) == EXIT_NOTHING_TO_DO  # the same event again
    err = capsys.readouterr().err.strip()
    assert err.startswith(
        "resolve: nothing to do: endpoint churn-prod already serves churn version 2"
    )
    assert len(err.splitlines()) == 1
    assert resolved(tmp_path)["Decision"] == "nothing-to-do"  # still written for the artifacts


@pytest.mark.usefixtures("aws")
def test_on_duplicate_succeed_exits_0_and_exports_the_decision(tmp_path: Path) -> None:
    arns = register(["Approved"])
    serve(PROD, arns[0])
    env_file = tmp_path / "resolved.env"
    status = run(
        tmp_path, "--model-package-group", GROUP, "--prod-endpoint-name", PROD,
        "--on-duplicate", "succeed", "--env-file", str(env_file),
    )  # fmt: skip
    assert status == EXIT_OK
    assert "export DEPLOY_DECISION=nothing-to-do\n" in env_file.read_text()


@pytest.mark.usefixtures("aws")
def test_fails_when_an_older_version_is_approved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arns = register(["Approved", "Approved"])
    serve(PROD, arns[1])
    status = run(tmp_path, "--event-model-package-arn", arns[0], "--prod-endpoint-name", PROD)
    assert status == EXIT_FAILED
    err = capsys.readouterr().err
    assert "refused: churn version 1 is older than churn version 2" in err
    assert f"MODEL_PACKAGE_ARN={arns[0]}" in err
    assert not (tmp_path / "resolved.json").exists()


@pytest.mark.usefixtures("aws")
def test_fails_when_the_newest_approved_version_is_older_than_production(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arns = register(["Approved", "Approved", "Approved"])
    serve(PROD, arns[2])
    sagemaker().update_model_package(ModelPackageArn=arns[2], ModelApprovalStatus="Rejected")
    assert (
        run(tmp_path, "--model-package-group", GROUP, "--prod-endpoint-name", PROD) == EXIT_FAILED
    )
    assert "churn version 2 is older than churn version 3" in capsys.readouterr().err


@pytest.mark.usefixtures("aws")
def test_an_explicit_older_version_is_a_rollback_on_purpose(tmp_path: Path) -> None:
    arns = register(["Approved", "Approved"])
    serve(PROD, arns[1])
    assert run(tmp_path, "--model-package-arn", arns[0], "--prod-endpoint-name", PROD) == EXIT_OK
    doc = resolved(tmp_path)
    assert (doc["Decision"], doc["Explicit"], doc["ModelPackageVersion"]) == ("rollback", True, 1)


@pytest.mark.usefixtures("aws")
def test_fails_when_the_registry_has_no_approved_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register(["PendingManualApproval", "Rejected"])
    assert run(tmp_path, "--model-package-group", GROUP) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "model package group 'churn' has no Approved version" in err
    assert "update-model-package" in err


@pytest.mark.usefixtures("aws")
def test_fails_when_the_explicit_version_is_not_approved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arns = register(["Approved", "PendingManualApproval"])
    assert run(tmp_path, "--model-package-arn", arns[1]) == EXIT_FAILED
    assert "churn version 2 is PendingManualApproval, not Approved" in capsys.readouterr().err


@pytest.mark.usefixtures("aws")
def test_fails_when_the_event_names_another_group(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = register(["Approved"], group="fraud")
    assert (
        run(tmp_path, "--model-package-group", GROUP, "--event-model-package-arn", other[0])
        == EXIT_FAILED
    )
    assert "is not in model package group 'churn'" in capsys.readouterr().err


@pytest.mark.usefixtures("aws")
def test_fails_when_the_explicit_arn_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/churn/9"
    assert run(tmp_path, "--model-package-arn", missing) == EXIT_FAILED
    assert f"--model-package-arn '{missing}'" in capsys.readouterr().err


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ((), "nothing to resolve: pass --model-package-group"),
        (
            ("--model-package-group", GROUP, "--parameter", "no-equals"),
            "--parameter 'no-equals' is not Key=Value",
        ),
        (
            ("--model-package-group", GROUP, "--parameter", "Bad-Key=1"),
            "--parameter 'Bad-Key=1' is not Key=Value",
        ),
        (
            ("--model-package-group", GROUP, "--parameter", "ModelPackageArn=x"),
            "ModelPackageArn is what resolve decides",
        ),
        (
            ("--model-package-group", GROUP, "--parameter", "A=1", "--parameter", "A=2"),
            "--parameter A is given twice",
        ),
        (
            ("--model-package-group", GROUP, "--stage", "staging"),
            "--stage 'staging' is not STAGE=ENDPOINT_NAME",
        ),
        (
            ("--model-package-group", GROUP, "--stage", "a=x", "--stage", "a=y"),
            "--stage a is given twice",
        ),
    ],
)
def test_fails_on_bad_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: tuple[str, ...], message: str
) -> None:
    register(["Approved"])
    assert run(tmp_path, *flags) == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_fails_on_an_unknown_on_duplicate_choice(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["resolve", "--on-duplicate", "ignore"])
    assert exit_info.value.code == EXIT_USAGE
    assert "invalid choice: 'ignore'" in capsys.readouterr().err


def test_environment_variables_give_the_defaults(
    aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arns = register(["Approved", "Approved"])
    monkeypatch.setenv("MODEL_PACKAGE_GROUP_NAME", GROUP)
    monkeypatch.setenv("MODEL_PACKAGE_ARN", "")  # CodePipeline's empty default: not explicit
    assert run(tmp_path) == EXIT_OK
    assert resolved(tmp_path)["ModelPackageArn"] == arns[1]


def _ref(group: str, version: int) -> PackageRef:
    return PackageRef(
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{group}/{version}", group, version
    )


def test_decide_compares_with_the_newest_of_several_production_variants() -> None:
    with pytest.raises(Exception, match="churn version 3 is older than churn version 4"):
        decide(_ref("churn", 3), [_ref("churn", 2), _ref("churn", 4)], explicit=False)
    assert (
        decide(_ref("churn", 5), [_ref("churn", 2), _ref("churn", 4)], explicit=False).decision
        == DEPLOY
    )


def test_decide_treats_arns_case_insensitively_as_sagemaker_lowercases_names() -> None:
    upper = PackageRef(_ref("churn", 2).arn.replace("churn", "Churn"), "Churn", 2)
    with pytest.raises(NothingToDoResolved):
        decide(upper, [_ref("churn", 2)], explicit=False)


def test_decide_refuses_another_group_unless_explicit() -> None:
    with pytest.raises(Exception, match="another model package group"):
        decide(_ref("churn-v2", 1), [_ref("churn", 7)], explicit=False)
    assert decide(_ref("churn-v2", 1), [_ref("churn", 7)], explicit=True).decision == DEPLOY
