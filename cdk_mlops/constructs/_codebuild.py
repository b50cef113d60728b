"""CodeBuild projects built our way (KMS, encrypted log group kept a year, unprivileged, standard 7.0).

Shared by the constructs that run builds; ``BasicCi`` still has its own copy (follow-up: use this).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_mlops.compliance import (
    acknowledge,
    acknowledge_inline_policy,
    checkov_skip,
    resource_finding,
)
from cdk_mlops.constructs._sagemaker import log_group_arn
from cdk_mlops.constructs.interfaces import JobNetwork


def pipeline_project(
    scope: Construct,
    project_id: str,
    *,
    description: str,
    commands: Sequence[str],
    encryption_key: kms.IKey,
    logs_key: kms.IKey,
    job_network: JobNetwork | None = None,
    timeout: cdk.Duration | None = None,
    artifacts: Mapping[str, Any] | None = None,
    environment_variables: Mapping[str, str] | None = None,
) -> codebuild.PipelineProject:
    """A CodePipeline-sourced project: KMS-encrypted output, a KMS-encrypted log group kept a year
    (retained: logs are audit evidence), privileged mode off, ``aws/codebuild/standard:7.0`` with
    Python 3.11, and (with ``job_network``) network interfaces in the job subnets."""
    log_group = logs.LogGroup(
        scope,
        f"{project_id}Logs",
        encryption_key=logs_key,
        retention=logs.RetentionDays.ONE_YEAR,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    spec: dict[str, Any] = {
        "version": "0.2",
        "phases": {
            "install": {"runtime-versions": {"python": "3.11"}},
            "build": {"commands": list(commands)},
        },
    }
    if environment_variables:
        spec["env"] = {"variables": dict(environment_variables)}
    if artifacts:
        spec["artifacts"] = dict(artifacts)
    project = codebuild.PipelineProject(
        scope,
        project_id,
        description=description,
        encryption_key=encryption_key,
        environment=codebuild.BuildEnvironment(
            build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
            compute_type=codebuild.ComputeType.SMALL,
            privileged=False,
        ),
        timeout=timeout or cdk.Duration.minutes(60),
        logging=codebuild.LoggingOptions(
            cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=log_group)
        ),
        vpc=job_network.vpc if job_network else None,
        subnet_selection=job_network.subnets if job_network else None,
        security_groups=list(job_network.security_groups) if job_network else None,
        build_spec=codebuild.BuildSpec.from_object(spec),
    )
    vpc_policy = project.node.try_find_child("PolicyDocument")
    if job_network is not None and vpc_policy is not None:
        checkov_skip(
            vpc_policy,
            "CKV_AWS_111",
            "CodeBuild in a VPC needs ec2:CreateNetworkInterface, DeleteNetworkInterface and the "
            "Describe calls on '*' (they take no resource ARN the project could know); "
            "CreateNetworkInterfacePermission is scoped to the job subnets by CDK.",
        )
    return project


def project_log_and_report_findings(scope: Construct, project: codebuild.Project) -> list[str]:
    """IAM5 findings of the log-group and report-group ARNs CDK grants a project's own role."""
    stack = cdk.Stack.of(scope)
    return [
        resource_finding(scope, log_group_arn(stack, f"/aws/codebuild/{project.project_name}:*")),
        resource_finding(
            scope,
            stack.format_arn(
                service="codebuild",
                resource="report-group",
                resource_name=f"{project.project_name}-*",
            ),
        ),
    ]


def acknowledge_project(project: codebuild.Project, findings: Sequence[str], reason: str) -> None:
    """Acknowledge the findings of one project's role policy and its CODEPIPELINE source."""
    assert project.role is not None
    policy = project.role.node.find_child("DefaultPolicy")
    acknowledge_inline_policy(policy, f"CodeBuild {project.node.id}")
    if findings:
        acknowledge(policy, findings, reason)
    acknowledge(
        project,
        [
            "HIPAA.Security-CodeBuildProjectSourceRepoUrl",
            "PCI.DSS.321-CodeBuildProjectSourceRepoUrl",
        ],
        "The build takes its source from CodePipeline artifacts (source type CODEPIPELINE): there is no "
        "repository URL that could carry credentials.",
    )
