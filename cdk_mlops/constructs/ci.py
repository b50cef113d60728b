"""Basic CI for maturity level 2: test the project, then run the SageMaker training pipeline."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from cdk_mlops.compliance import (
    KMS_GRANT_FINDINGS,
    S3_READ_GRANT_FINDINGS,
    S3_WRITE_GRANT_FINDINGS,
    acknowledge,
    acknowledge_inline_policy,
    resource_finding,
)
from cdk_mlops.constructs._sagemaker import log_group_arn
from cdk_mlops.constructs._util import check_prop, is_token, prop_error
from cdk_mlops.constructs.interfaces import ITrainingPipeline

_PIPELINE_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}")
_CONNECTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection/.+$"
)


@dataclass(frozen=True, kw_only=True)
class CiSource:
    """Where CI takes the project from: an S3 object (default) or a CodeConnections repository.

    Use :meth:`s3_object` or :meth:`connection`. (CodeCommit is closed to new customers.)
    """

    bucket: s3.IBucket | None = None
    object_key: str | None = None
    connection_arn: str | None = None
    repository: str | None = None
    branch: str = "main"

    @staticmethod
    def s3_object(bucket: s3.IBucket, object_key: str = "ci/source.zip") -> CiSource:
        """A zip of the project uploaded to ``bucket`` (versioned): each new version runs CI."""
        return CiSource(bucket=bucket, object_key=object_key)

    @staticmethod
    def connection(connection_arn: str, repository: str, branch: str = "main") -> CiSource:
        """A GitHub, GitLab or Bitbucket repository ``owner/name`` through an existing connection."""
        return CiSource(connection_arn=connection_arn, repository=repository, branch=branch)


class BasicCi(Construct):
    """A CodePipeline: source -> ``Test`` (CodeBuild runs ``test_commands``) -> ``RunPipeline``
    (CodeBuild starts the SageMaker pipeline and waits for it).

    Secure defaults: artifacts in the given encrypted bucket; both CodeBuild projects encrypt
    with ``encryption_key``, log to KMS-encrypted log groups kept a year, run unprivileged and
    have separate roles: only ``RunPipeline`` may start (and describe) the SageMaker pipeline,
    and the test project has no SageMaker permission at all.

    :param source: default ``CiSource.s3_object(artifact_bucket, "ci/source.zip")``.
    :param artifact_bucket: versioned, KMS-encrypted bucket for pipeline artifacts (the data
        lake's artifacts bucket is a good choice).
    :param encryption_key: key of the build outputs. CodePipeline encrypts artifacts with the
        artifact bucket's own key (the data lake's buckets have one).
    :param logs_key: key of the build log groups.
    :param training_pipeline: the pipeline ``RunPipeline`` starts: a :class:`TrainingPipeline`
        or ``TrainingPipeline.from_pipeline_name(...)``; its ``grant_start`` gives the build role
        exactly that pipeline.
    :param test_commands: default ``["make test"]``.
    :param wait_for_pipeline: poll the execution until it ends (default True) so CI fails when
        the ML pipeline fails.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        artifact_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        logs_key: kms.IKey,
        training_pipeline: ITrainingPipeline,
        source: CiSource | None = None,
        test_commands: Sequence[str] = ("make test",),
        wait_for_pipeline: bool = True,
        build_timeout: cdk.Duration | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        sagemaker_pipeline_name = training_pipeline.pipeline_name
        src = source or CiSource.s3_object(artifact_bucket)
        if src.connection_arn is not None:
            if not is_token(src.connection_arn) and not _CONNECTION_ARN.fullmatch(
                src.connection_arn
            ):
                raise prop_error(
                    self,
                    "source.connection_arn",
                    src.connection_arn,
                    "Give the ARN of a CodeConnections connection, arn:aws:codeconnections:<region>:<account>:connection/<id>.",
                )
            if not src.repository or src.repository.count("/") != 1:
                raise prop_error(
                    self,
                    "source.repository",
                    src.repository,
                    "Give the repository as 'owner/name'.",
                )
        elif src.bucket is None or not src.object_key:
            raise prop_error(
                self,
                "source",
                src,
                "Use CiSource.s3_object(bucket, key) or CiSource.connection(...).",
            )
        check_prop(
            self,
            "training_pipeline.pipeline_name",
            sagemaker_pipeline_name,
            _PIPELINE_NAME.fullmatch,
            "Give the SageMaker pipeline's name: letters, digits and hyphens (TrainingPipeline.pipeline_name).",
        )
        if not test_commands:
            raise prop_error(
                self,
                "test_commands",
                list(test_commands),
                "Give at least one command, e.g. 'make test'.",
            )

        source_output = codepipeline.Artifact("Source")
        if src.connection_arn is not None:
            owner, repo = str(src.repository).split("/")
            source_action: codepipeline.IAction = actions.CodeStarConnectionsSourceAction(
                action_name="Source",
                connection_arn=src.connection_arn,
                owner=owner,
                repo=repo,
                branch=src.branch,
                output=source_output,
            )
        else:
            assert src.bucket is not None and src.object_key is not None
            source_action = actions.S3SourceAction(
                action_name="Source",
                bucket=src.bucket,
                bucket_key=src.object_key,
                output=source_output,
                # CDK's EVENTS trigger needs a CloudTrail trail; the rule below uses S3's own events.
                trigger=actions.S3Trigger.NONE,
            )

        def project(
            pid: str, commands: Sequence[str], description: str
        ) -> codebuild.PipelineProject:
            log_group = logs.LogGroup(
                self,
                f"{pid}Logs",
                encryption_key=logs_key,
                retention=logs.RetentionDays.ONE_YEAR,
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            proj = codebuild.PipelineProject(
                self,
                pid,
                description=description,
                encryption_key=encryption_key,
                environment=codebuild.BuildEnvironment(
                    build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                    compute_type=codebuild.ComputeType.MEDIUM,
                    privileged=False,
                ),
                timeout=build_timeout or cdk.Duration.minutes(90),
                logging=codebuild.LoggingOptions(
                    cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group)
                ),
                build_spec=codebuild.BuildSpec.from_object(
                    {
                        "version": "0.2",
                        "phases": {
                            "install": {
                                "runtime-versions": {
                                    "python": "3.11",
                                    "nodejs": "20",
                                    "java": "corretto17",
                                }
                            },
                            "build": {"commands": list(commands)},
                        },
                    }
                ),
            )
            return proj

        self.test_project = project("Test", test_commands, "Runs the project's tests")
        run_commands = [
            f"ARN=$(aws sagemaker start-pipeline-execution --pipeline-name {shlex.quote(sagemaker_pipeline_name)} "
            "--pipeline-execution-display-name ci-$CODEBUILD_BUILD_NUMBER "
            "--query PipelineExecutionArn --output text)",
            "echo started $ARN",
        ]
        if wait_for_pipeline:
            run_commands += [
                "while true; do S=$(aws sagemaker describe-pipeline-execution --pipeline-execution-arn $ARN "
                "--query PipelineExecutionStatus --output text); echo $S; "
                "case $S in Succeeded) exit 0;; Failed|Stopped) exit 1;; esac; sleep 60; done",
            ]
        self.run_project = project(
            "RunPipeline", run_commands, f"Starts SageMaker pipeline {sagemaker_pipeline_name}"
        )
        self._executions_arn = f"{training_pipeline.pipeline_arn}/execution/*"
        assert self.run_project.role is not None
        training_pipeline.grant_start(self.run_project.role)

        self.pipeline = codepipeline.Pipeline(
            self,
            "Resource",
            pipeline_type=codepipeline.PipelineType.V2,
            artifact_bucket=artifact_bucket,
            restart_execution_on_update=False,
            stages=[
                codepipeline.StageProps(stage_name="Source", actions=[source_action]),
                codepipeline.StageProps(
                    stage_name="Test",
                    actions=[
                        actions.CodeBuildAction(
                            action_name="Test", project=self.test_project, input=source_output
                        )
                    ],
                ),
                codepipeline.StageProps(
                    stage_name="RunPipeline",
                    actions=[
                        actions.CodeBuildAction(
                            action_name="RunPipeline", project=self.run_project, input=source_output
                        )
                    ],
                ),
            ],
        )
        # CDK adds DependsOn on the role that the RoleArn GetAtt already implies (cfn-lint W3005).
        cast(cdk.CfnResource, self.pipeline.node.default_child).add_metadata(
            "cfn-lint", {"config": {"ignore_checks": ["W3005"]}}
        )
        if src.bucket is not None:
            # Needs EventBridge notifications on the bucket (DataLake turns them on for every zone).
            self.source_rule: events.Rule | None = events.Rule(
                self,
                "SourceChanged",
                description="Runs CI when a new version of the source object is uploaded",
                event_pattern=events.EventPattern(
                    source=["aws.s3"],
                    detail_type=["Object Created"],
                    detail={
                        "bucket": {"name": [src.bucket.bucket_name]},
                        "object": {"key": [src.object_key]},
                    },
                ),
                targets=[targets.CodePipeline(self.pipeline)],
            )
        else:
            self.source_rule = None
        self._acknowledge(artifact_bucket)

    def _acknowledge(self, artifact_bucket: s3.IBucket) -> None:
        stack = cdk.Stack.of(self)
        artifacts = [
            *S3_READ_GRANT_FINDINGS,
            *KMS_GRANT_FINDINGS,
            resource_finding(self, artifact_bucket.arn_for_objects("*")),
        ]
        for role in (
            self.pipeline.role,
            *(
                a.node.find_child("CodePipelineActionRole")
                for a in _source_action_nodes(self.pipeline)
            ),
        ):
            policy = role.node.find_child("DefaultPolicy")
            acknowledge_inline_policy(policy, f"CodePipeline {role.node.id}")
            acknowledge(
                policy,
                [*artifacts, *S3_WRITE_GRANT_FINDINGS],
                "CodePipeline reads and writes its own artifacts (objects of the artifact bucket, encrypted with its "
                "key); the wildcards are CDK's artifact grant actions.",
            )
        events_role = self.pipeline.node.try_find_child("EventsRole")
        if events_role is not None:
            acknowledge_inline_policy(
                events_role.node.find_child("DefaultPolicy"), "EventBridge to CodePipeline"
            )
        for proj in (self.test_project, self.run_project):
            assert proj.role is not None
            policy = proj.role.node.find_child("DefaultPolicy")
            # The log group and report group ARNs CDK's Project grants to its own role.
            findings = [
                *artifacts,
                resource_finding(
                    self, log_group_arn(stack, f"/aws/codebuild/{proj.project_name}:*")
                ),
                resource_finding(
                    self,
                    stack.format_arn(
                        service="codebuild",
                        resource="report-group",
                        resource_name=f"{proj.project_name}-*",
                    ),
                ),
            ]
            if proj is self.run_project:
                findings.append(resource_finding(self, self._executions_arn))
            acknowledge_inline_policy(policy, f"CodeBuild {proj.node.id}")
            acknowledge(
                policy,
                findings,
                f"The {proj.node.id} build reads the source artifact, writes its own log streams and test reports "
                "(CDK scopes both to this project) and, for RunPipeline, describes executions of one pipeline.",
            )
            acknowledge(
                proj,
                [
                    "HIPAA.Security-CodeBuildProjectSourceRepoUrl",
                    "PCI.DSS.321-CodeBuildProjectSourceRepoUrl",
                ],
                "The build takes its source from CodePipeline artifacts (source type CODEPIPELINE): there is no "
                "repository URL that could carry credentials.",
            )

    @property
    def pipeline_name(self) -> str:
        return self.pipeline.pipeline_name


def _source_action_nodes(pipeline: codepipeline.Pipeline) -> list[IConstruct]:
    """Action scopes that own a CodePipelineActionRole (the source action's role)."""
    return [
        c
        for c in pipeline.node.find_all()
        if c.node.try_find_child("CodePipelineActionRole") is not None
    ]
