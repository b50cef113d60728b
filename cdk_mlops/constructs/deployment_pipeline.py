"""DeploymentPipeline: an approved model version to a staging endpoint, tests, approval, production."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_mlops.compliance import (
    KMS_GRANT_FINDINGS,
    S3_READ_GRANT_FINDINGS,
    S3_WRITE_GRANT_FINDINGS,
    acknowledge,
    acknowledge_inline_policy,
    checkov_skip,
    resource_finding,
)
from cdk_mlops.constructs._codebuild import (
    acknowledge_project,
    pipeline_project,
    project_log_and_report_findings,
)
from cdk_mlops.constructs._deployment_templates import (
    PROD_TEMPLATE,
    SMOKE_SAMPLE,
    STAGING_TEMPLATE,
    build_templates_dir,
)
from cdk_mlops.constructs._notifications import TopicTarget
from cdk_mlops.constructs._sagemaker import sagemaker_arn, volume_key_grants
from cdk_mlops.constructs._util import check_prop, is_token, prop_error, stack_scoped_name
from cdk_mlops.constructs.interfaces import IModelRegistry, JobNetwork
from cdk_mlops.constructs.pipeline_code import PipelineCode
from pipeline_code.deployment.permissions import COMMAND_PERMISSIONS

if TYPE_CHECKING:
    from cdk_mlops.stacks.endpoint import EndpointStageSettings  # the stack imports constructs

#: Interface endpoints the builds need in an isolated VPC: the SageMaker API (resolve, verify),
#: the SageMaker runtime (smoke and latency tests), SNS (verify's alert), CloudWatch (verify reads
#: the rollback alarms), CloudWatch Logs (build logs) and STS. Artifacts come through the S3
#: gateway; SSE-KMS objects are decrypted by S3, so no KMS endpoint is needed.
DEPLOYMENT_INTERFACE_ENDPOINTS: tuple[ec2.InterfaceVpcEndpointAwsService, ...] = (
    ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
    ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
    ec2.InterfaceVpcEndpointAwsService.SNS,
    ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    ec2.InterfaceVpcEndpointAwsService.STS,
)
#: Gateway endpoints the builds need.
DEPLOYMENT_GATEWAY_ENDPOINTS: tuple[str, ...] = ("s3",)
#: The V2 pipeline variable of a manual start; ``newest`` deploys the newest approved version.
MODEL_PACKAGE_ARN_VARIABLE = "ModelPackageArn"
NEWEST = "newest"

_ENDPOINT_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
_STAGES = ("staging", "prod")
_MODULE = "python -m pipeline_code.deployment"


class DeploymentPipeline(Construct):
    """CodePipeline V2: ``Source`` (endpoint templates + deployment code) -> ``Resolve`` ->
    ``Staging`` (deploy, smoke + latency tests, verify) -> ``Approve`` -> ``Prod`` (deploy, verify).

    Started by the registry's approval event (the newest approved version is deployed) or by hand
    with the pipeline variable ``ModelPackageArn`` (an explicit version, also an older one: a
    rollback on purpose). ``resolve`` refuses a version older than production's otherwise.

    The endpoint templates are ``EndpointStack`` for ``staging`` and ``prod``, synthesized at
    construction in a private App and shipped with the smoke-test sample as one asset; the model
    package ARN and every account-specific value are CloudFormation parameters.

    :param registry: the model package group whose approvals deploy.
    :param job_network: where the builds run (the endpoints' subnets and security groups too).
    :param artifacts_bucket: versioned, KMS-encrypted bucket for the pipeline's artifacts.
    :param encryption_key: key of the build outputs and the endpoints' volumes and data capture
        (``DataKeyArn``).
    :param logs_key: key of the build log groups.
    :param capture_bucket: where the endpoints capture requests and responses.
    :param alarm_topic: told about approvals to give, failed verifications and failed executions.
    :param staging: ``EndpointStageSettings`` of the staging endpoint (``stage="staging"``).
    :param prod: ``EndpointStageSettings`` of the production endpoint (``stage="prod"``).
    :param execution_role: the models' execution role. Default: ``endpoint_execution_role(...)``.
    :param endpoint_name_prefix: endpoint names are ``<prefix>-staging`` and ``<prefix>-prod``.
        Default: the stack name and construct id (unique per account and region).
    :param smoke_test_sample: CSV rows (no header) sent by the smoke and latency tests.
    :param p99_latency_ms: latency test threshold for one-row requests (default 200).
    :param require_manual_approval: a person approves prod (default True).
    :param code: the deployment code. Default: this library's ``pipeline_code``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        registry: IModelRegistry,
        job_network: JobNetwork,
        artifacts_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        logs_key: kms.IKey,
        capture_bucket: s3.IBucket,
        alarm_topic: sns.ITopic,
        staging: EndpointStageSettings,
        prod: EndpointStageSettings,
        smoke_test_sample: Path | str,
        execution_role: iam.IRole | None = None,
        endpoint_name_prefix: str | None = None,
        p99_latency_ms: float = 200,
        require_manual_approval: bool = True,
        code: PipelineCode | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        for prop, settings, stage in (("staging", staging, "staging"), ("prod", prod, "prod")):
            check_prop(
                self,
                f"{prop}.stage",
                getattr(settings, "stage", None),
                getattr(settings, "stage", None) == stage,
                f"Pass EndpointStageSettings(stage={stage!r}, ...) as {prop}.",
            )
        prefix = endpoint_name_prefix or stack_scoped_name(self, construct_id, max_length=55)
        check_prop(
            self,
            "endpoint_name_prefix",
            prefix,
            lambda v: len(v) <= 55 and _ENDPOINT_NAME.fullmatch(v) is not None,
            "Use letters, digits and hyphens, at most 55 characters (endpoint names are "
            "'<prefix>-staging' and '<prefix>-prod', 63 characters at most).",
        )
        check_prop(
            self,
            "p99_latency_ms",
            p99_latency_ms,
            lambda v: 0 < v <= 60_000,
            "Give the p99 threshold in milliseconds, above 0 and at most 60000 (SageMaker's "
            "invocation timeout).",
        )
        sample = Path(smoke_test_sample)
        if not sample.is_file() or sample.stat().st_size == 0:
            raise prop_error(
                self,
                "smoke_test_sample",
                str(sample),
                "Give a non-empty CSV file of feature rows without header (read at synth).",
            )
        #: CloudFormation stack names of the endpoint stacks, by stage.
        self.stack_names = {
            stage: stack_scoped_name(self, f"{construct_id}-{stage}-endpoint", max_length=128)
            for stage in _STAGES
        }
        present = job_network.interface_endpoints
        missing = sorted(
            e.short_name for e in DEPLOYMENT_INTERFACE_ENDPOINTS if e.short_name not in present
        )
        if job_network.all_interface_endpoints_known:
            check_prop(
                self,
                "job_network.interface_endpoints",
                sorted(present),
                not missing,
                f"The deployment builds run in the VPC and need interface endpoints for {missing}; add "
                "them to the Network's interface_endpoints (see DEPLOYMENT_INTERFACE_ENDPOINTS).",
            )
        elif missing:
            cdk.Annotations.of(self).add_warning_v2(
                "cdk-mlops:DeploymentEndpoints",
                f"The deployment builds run in an existing VPC: make sure it reaches {missing} (interface "
                "endpoints or a NAT gateway), or resolve, the tests and verify time out.",
            )
        self.staging_endpoint_name = f"{prefix}-staging"
        self.prod_endpoint_name = f"{prefix}-prod"
        self.registry = registry
        self.alarm_topic = alarm_topic
        if execution_role is None:
            from cdk_mlops.constructs.model_endpoint import endpoint_execution_role

            execution_role = endpoint_execution_role(
                self,
                "ExecutionRole",
                artifacts_bucket=artifacts_bucket,
                encryption_key=encryption_key,
                registry=registry,
            )
        self.execution_role = execution_role
        self.code = code or PipelineCode(self, "Code")

        # -- Source: both objects are content-addressed CDK assets in the (versioned) asset bucket.
        templates = s3_assets.Asset(
            self,
            "Templates",
            path=str(build_templates_dir(staging, prod, sample)),
        )
        templates_out = codepipeline.Artifact("Templates")
        code_out = codepipeline.Artifact("Code")
        resolved_out = codepipeline.Artifact("Resolved")
        source_actions = [
            actions.S3SourceAction(
                action_name="Templates",
                bucket=templates.bucket,
                bucket_key=templates.s3_object_key,
                output=templates_out,
                trigger=actions.S3Trigger.NONE,
            ),
            actions.S3SourceAction(
                action_name="Code",
                bucket=self.code.zip_asset.bucket,
                bucket_key=self.code.zip_asset.s3_object_key,
                output=code_out,
                trigger=actions.S3Trigger.NONE,
            ),
        ]

        group_name = registry.model_package_group_name
        fill = {
            "partition": stack.partition,
            "region": stack.region,
            "account": stack.account,
            "group": "*" if is_token(group_name) else group_name.lower(),
            "topic": alarm_topic.topic_arn,
        }
        build: dict[str, Any] = {
            "encryption_key": encryption_key,
            "logs_key": logs_key,
            "job_network": job_network,
        }
        guard = (
            f'if [ "${{MODEL_PACKAGE_ARN:-}}" = "{NEWEST}" ]; then export MODEL_PACKAGE_ARN=""; fi'
        )
        self.resolve_project = pipeline_project(
            self,
            "Resolve",
            description="Resolves the model package version to deploy",
            commands=[
                guard,
                f"{_MODULE} resolve --on-duplicate succeed --output resolved.json "
                "--template-configuration template-configuration.json "
                f"--stage staging=$STAGING_ENDPOINT_NAME --stage prod=$PROD_ENDPOINT_NAME",
            ],
            environment_variables={
                "MODEL_PACKAGE_GROUP_NAME": group_name,
                "STAGING_ENDPOINT_NAME": self.staging_endpoint_name,
                "PROD_ENDPOINT_NAME": self.prod_endpoint_name,
                "ENDPOINT_NAME": self.staging_endpoint_name,
            },
            artifacts={"files": ["resolved.json", "template-configuration*.json"]},
            timeout=cdk.Duration.minutes(15),
            **build,
        )
        self._grant_command(self.resolve_project, "resolve", fill, [self.prod_endpoint_name])
        self.test_project = pipeline_project(
            self,
            "TestStaging",
            description="Smoke and latency tests against the staging endpoint",
            commands=[
                f"{_MODULE} smoke-test --sample-file $CODEBUILD_SRC_DIR_Templates/{SMOKE_SAMPLE}",
                f"{_MODULE} latency-test --sample-file $CODEBUILD_SRC_DIR_Templates/{SMOKE_SAMPLE}",
            ],
            environment_variables={
                "ENDPOINT_NAME": self.staging_endpoint_name,
                "P99_MS": f"{p99_latency_ms:g}",
            },
            timeout=cdk.Duration.minutes(30),
            **build,
        )
        self._grant_command(self.test_project, "smoke-test", fill, [self.staging_endpoint_name])
        self.verify_project = pipeline_project(
            self,
            "Verify",
            description="Verifies that an endpoint serves the version just deployed",
            commands=[
                f"{_MODULE} verify --resolved $CODEBUILD_SRC_DIR_Resolved/resolved.json",
            ],
            environment_variables={"ALERTS_TOPIC_ARN": alarm_topic.topic_arn},
            timeout=cdk.Duration.minutes(30),
            **build,
        )
        self._grant_command(
            self.verify_project,
            "verify",
            fill,
            [self.staging_endpoint_name, self.prod_endpoint_name],
        )
        assert self.verify_project.role is not None
        alarm_topic.grant_publish(self.verify_project.role)

        # SageMaker writes group names in lower case in ARNs; the registry's pattern may not.
        self._package_arns = sorted(
            {
                registry.model_packages_arn,
                "arn:{partition}:sagemaker:{region}:{account}:model-package/{group}/*".format(
                    **fill
                ),
            }
        )
        self.deploy_role = self._deploy_role(
            stack, registry, encryption_key, execution_role, capture_bucket
        )
        overrides = {
            "ExecutionRoleArn": execution_role.role_arn,
            "SubnetIds": cdk.Fn.join(",", job_network.subnet_ids),
            "SecurityGroupIds": cdk.Fn.join(",", job_network.security_group_ids),
            "DataKeyArn": encryption_key.key_arn,
            "CaptureBucketName": capture_bucket.bucket_name,
            "AlarmTopicArn": alarm_topic.topic_arn,
        }

        def deploy(
            stage: str, template: str, run_order: int
        ) -> actions.CloudFormationCreateUpdateStackAction:
            return actions.CloudFormationCreateUpdateStackAction(
                action_name="Deploy",
                run_order=run_order,
                stack_name=self.stack_names[stage],
                template_path=templates_out.at_path(template),
                template_configuration=resolved_out.at_path(f"template-configuration-{stage}.json"),
                parameter_overrides={
                    **overrides,
                    "EndpointName": getattr(self, f"{stage}_endpoint_name"),
                },
                extra_inputs=[resolved_out],
                admin_permissions=False,
                deployment_role=self.deploy_role,
                # A failed first create leaves ROLLBACK_COMPLETE, which blocks every later deploy;
                # staging may be replaced then, prod never is (a person looks first).
                replace_on_failure=stage == "staging",
                variables_namespace=f"{stage.capitalize()}Stack",
            )

        def verify(stage: str, run_order: int) -> actions.CodeBuildAction:
            return actions.CodeBuildAction(
                action_name="Verify",
                run_order=run_order,
                project=self.verify_project,
                input=code_out,
                extra_inputs=[resolved_out],
                environment_variables={
                    "ENDPOINT_NAME": codebuild.BuildEnvironmentVariable(
                        value=getattr(self, f"{stage}_endpoint_name")
                    ),
                    "STAGE": codebuild.BuildEnvironmentVariable(value=stage),
                    "EXPECTED_ENDPOINT_CONFIG_NAME": codebuild.BuildEnvironmentVariable(
                        value=f"#{{{stage.capitalize()}Stack.EndpointConfigName}}"
                    ),
                },
            )

        self.model_package_arn_variable = codepipeline.Variable(
            variable_name=MODEL_PACKAGE_ARN_VARIABLE,
            default_value=NEWEST,
            description=f"The version to deploy: a model package ARN (an older one rolls back on purpose) or '{NEWEST}'",
        )
        stages = [
            codepipeline.StageProps(stage_name="Source", actions=source_actions),
            codepipeline.StageProps(
                stage_name="Resolve",
                actions=[
                    actions.CodeBuildAction(
                        action_name="Resolve",
                        project=self.resolve_project,
                        input=code_out,
                        outputs=[resolved_out],
                        environment_variables={
                            "MODEL_PACKAGE_ARN": codebuild.BuildEnvironmentVariable(
                                value=self.model_package_arn_variable.reference()
                            )
                        },
                    )
                ],
            ),
            codepipeline.StageProps(
                stage_name="Staging",
                actions=[
                    deploy("staging", STAGING_TEMPLATE, 1),
                    actions.CodeBuildAction(
                        action_name="Test",
                        run_order=2,
                        project=self.test_project,
                        input=code_out,
                        extra_inputs=[templates_out],
                    ),
                    verify("staging", 3),
                ],
            ),
        ]
        if require_manual_approval:
            stages.append(
                codepipeline.StageProps(
                    stage_name="Approve",
                    actions=[
                        actions.ManualApprovalAction(
                            action_name="Approve",
                            notification_topic=alarm_topic,
                            additional_information=(
                                f"Staging endpoint {self.staging_endpoint_name} passed its tests; "
                                f"approve to deploy {self.prod_endpoint_name}."
                            ),
                        )
                    ],
                )
            )
        stages.append(
            codepipeline.StageProps(
                stage_name="Prod", actions=[deploy("prod", PROD_TEMPLATE, 1), verify("prod", 2)]
            )
        )
        self.pipeline = codepipeline.Pipeline(
            self,
            "Resource",
            pipeline_type=codepipeline.PipelineType.V2,
            artifact_bucket=artifacts_bucket,
            cross_account_keys=False,
            restart_execution_on_update=False,
            variables=[self.model_package_arn_variable],
            stages=stages,
        )
        cast(cdk.CfnResource, self.pipeline.node.default_child).add_metadata(
            "cfn-lint", {"config": {"ignore_checks": ["W3005"]}}
        )
        self.approval_rule = self._approval_trigger(stack, registry)
        self.failed_rule = events.Rule(
            self,
            "ExecutionFailed",
            description=f"Tells the alerts topic that deployment pipeline {construct_id} failed",
            event_pattern=events.EventPattern(
                source=["aws.codepipeline"],
                detail_type=["CodePipeline Pipeline Execution State Change"],
                detail={"pipeline": [self.pipeline.pipeline_name], "state": ["FAILED"]},
            ),
            targets=[TopicTarget(alarm_topic)],
        )
        self._acknowledge(stack, artifacts_bucket, fill)

    # -- wiring ---------------------------------------------------------------------------------

    def _grant_command(
        self,
        project: codebuild.PipelineProject,
        command: str,
        fill: dict[str, str],
        endpoints: list[str],
    ) -> None:
        """The actions ``pipeline_code.deployment.permissions`` lists for ``command``, on our
        endpoints (s3:GetObject is not needed: the sample comes as a pipeline artifact)."""
        assert project.role is not None
        by_action: dict[str, set[str]] = {}
        for need in COMMAND_PERMISSIONS[command]:
            if need.action.startswith(("s3:", "sns:")):
                continue  # sample from the artifact; SNS through grant_publish (with its key)
            for endpoint in endpoints:
                by_action.setdefault(need.action, set()).add(
                    need.resource.format(**fill, endpoint=endpoint)
                )
        for action, resources in sorted(by_action.items()):
            project.add_to_role_policy(
                iam.PolicyStatement(actions=[action], resources=sorted(resources))
            )

    def _deploy_role(
        self,
        stack: cdk.Stack,
        registry: IModelRegistry,
        key: kms.IKey,
        execution_role: iam.IRole,
        capture_bucket: s3.IBucket,
    ) -> iam.Role:
        """CloudFormation's role for the endpoint stacks: their resources and nothing else."""
        role = iam.Role(
            self,
            "DeployRole",
            description="CloudFormation deploys the staging and prod endpoint stacks",
            assumed_by=iam.ServicePrincipal("cloudformation.amazonaws.com").with_conditions(
                {"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
        )
        endpoints = [
            sagemaker_arn(stack, "endpoint", n)
            for n in (self.staging_endpoint_name, self.prod_endpoint_name)
        ]
        statements = [
            iam.PolicyStatement(
                sid="Endpoints",
                actions=[
                    "sagemaker:CreateEndpoint",
                    "sagemaker:UpdateEndpoint",
                    "sagemaker:DeleteEndpoint",
                    "sagemaker:DescribeEndpoint",
                    "sagemaker:AddTags",
                    "sagemaker:DeleteTags",
                    "sagemaker:ListTags",
                ],
                resources=endpoints,
            ),
            iam.PolicyStatement(
                sid="ConfigsAndModels",
                actions=[
                    "sagemaker:CreateEndpointConfig",
                    "sagemaker:DeleteEndpointConfig",
                    "sagemaker:DescribeEndpointConfig",
                    "sagemaker:CreateModel",
                    "sagemaker:DeleteModel",
                    "sagemaker:DescribeModel",
                    "sagemaker:AddTags",
                    "sagemaker:ListTags",
                ],
                # CloudFormation generates these names; the endpoint's ARNs are named above.
                resources=[
                    sagemaker_arn(stack, "endpoint-config", "*"),
                    sagemaker_arn(stack, "model", "*"),
                ],
            ),
            iam.PolicyStatement(
                sid="ModelPackages",
                actions=["sagemaker:DescribeModelPackage"],
                resources=self._package_arns,
            ),
            iam.PolicyStatement(
                sid="PassExecutionRole",
                actions=["iam:PassRole"],
                resources=[execution_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                sid="Alarms",
                actions=[
                    "cloudwatch:PutMetricAlarm",
                    "cloudwatch:DeleteAlarms",
                    "cloudwatch:DescribeAlarms",
                    "cloudwatch:TagResource",
                ],
                resources=[
                    stack.format_arn(
                        service="cloudwatch",
                        resource="alarm",
                        resource_name="*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            ),
            iam.PolicyStatement(
                sid="Autoscaling",
                actions=[
                    "application-autoscaling:RegisterScalableTarget",
                    "application-autoscaling:DeregisterScalableTarget",
                    "application-autoscaling:PutScalingPolicy",
                    "application-autoscaling:DeleteScalingPolicy",
                    "application-autoscaling:DescribeScalableTargets",
                    "application-autoscaling:DescribeScalingPolicies",
                    "application-autoscaling:DescribeScalingActivities",
                    "sagemaker:DescribeEndpoint",
                ],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="AutoscalingServiceLinkedRole",
                actions=["iam:CreateServiceLinkedRole"],
                resources=[self._autoscaling_slr_arn(stack)],
                conditions={
                    "StringEquals": {
                        "iam:AWSServiceName": "sagemaker.application-autoscaling.amazonaws.com"
                    }
                },
            ),
            iam.PolicyStatement(
                sid="DataKey",
                actions=["kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey"],
                resources=[key.key_arn],
            ),
            volume_key_grants(key, sid="DataKeyGrants"),
        ]
        for statement in statements:
            role.add_to_policy(statement)
        checkov_skip(
            role.node.find_child("DefaultPolicy"),
            "CKV_AWS_111",
            "Application Auto Scaling's scalable-target and scaling-policy calls take no resource ARN "
            "(statement Autoscaling); every other write is scoped to the two endpoints, their configs "
            "and models, the alarms and the autoscaling service-linked role.",
        )
        del capture_bucket  # the endpoint (its execution role) writes captures, not CloudFormation
        return role

    def _approval_trigger(self, stack: cdk.Stack, registry: IModelRegistry) -> events.Rule:
        rule_name = stack_scoped_name(self, f"{self.node.id}-approved", max_length=64)
        rule_arn = stack.format_arn(service="events", resource="rule", resource_name=rule_name)
        events_role = iam.Role(
            self,
            "TriggerRole",
            description="EventBridge starts the deployment pipeline on a model approval",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com").with_conditions(
                {
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnEquals": {"aws:SourceArn": rule_arn},
                }
            ),
        )
        return events.Rule(
            self,
            "Approved",
            rule_name=rule_name,
            description=f"Deploys approved versions of {registry.model_package_group_name}",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Model Package State Change"],
                detail={
                    "ModelPackageGroupName": [registry.model_package_group_name],
                    "ModelApprovalStatus": ["Approved"],
                },
            ),
            targets=[targets.CodePipeline(self.pipeline, event_role=events_role)],
        )

    def _acknowledge(
        self, stack: cdk.Stack, artifacts_bucket: s3.IBucket, fill: dict[str, str]
    ) -> None:
        artifacts = [
            *S3_READ_GRANT_FINDINGS,
            *KMS_GRANT_FINDINGS,
            resource_finding(self, artifacts_bucket.arn_for_objects("*")),
        ]
        artifacts_reason = (
            "CodePipeline reads and writes its own artifacts (objects of the artifact bucket, encrypted with "
            "its key); the wildcards are CDK's artifact grant actions."
        )
        pipeline_role_policy = self.pipeline.role.node.find_child("DefaultPolicy")
        acknowledge_inline_policy(pipeline_role_policy, "CodePipeline")
        acknowledge(pipeline_role_policy, [*artifacts, *S3_WRITE_GRANT_FINDINGS], artifacts_reason)
        for action_role in [
            c for c in self.pipeline.node.find_all() if c.node.id == "CodePipelineActionRole"
        ]:
            policy = action_role.node.find_child("DefaultPolicy")
            action = action_role.node.scope
            assert action is not None and action.node.scope is not None
            stage = action.node.scope.node.id
            acknowledge_inline_policy(policy, f"CodePipeline action {stage}/{action.node.id}")
            if stage == "Source":
                acknowledge(policy, [*artifacts, *S3_WRITE_GRANT_FINDINGS], artifacts_reason)
            elif action.node.id == "Approve" and self.alarm_topic.master_key is not None:
                acknowledge(
                    policy,
                    "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                    "The approval action publishes its notification to the encrypted alerts topic, "
                    "which needs data keys of the topic's key (CDK's Topic.grant_publish).",
                )
            elif action.node.id == "Deploy":
                stack_name = self.stack_names[stage.lower()]
                acknowledge(
                    policy,
                    [
                        *S3_READ_GRANT_FINDINGS,
                        resource_finding(self, artifacts_bucket.arn_for_objects("*")),
                        "AwsSolutions-IAM5[Action::cloudformation:DescribeStack*]",
                        "AwsSolutions-IAM5[Action::cloudformation:GetTemplate*]",
                        resource_finding(
                            self,
                            stack.format_arn(
                                service="cloudformation",
                                resource="stack",
                                resource_name=f"{stack_name}/*",
                            ),
                        ),
                    ],
                    f"The {stage} deploy action reads the template artifacts and manages one stack, "
                    f"{stack_name} (the trailing wildcard is the stack id CloudFormation appends).",
                )
        trigger_policy = self.node.find_child("TriggerRole").node.find_child("DefaultPolicy")
        acknowledge_inline_policy(trigger_policy, "EventBridge to CodePipeline")

        deploy_policy = self.deploy_role.node.find_child("DefaultPolicy")
        acknowledge_inline_policy(deploy_policy, "CloudFormation endpoint deployment")
        acknowledge(
            deploy_policy,
            [
                "AwsSolutions-IAM5[Resource::*]",
                resource_finding(
                    self,
                    stack.format_arn(
                        service="cloudwatch",
                        resource="alarm",
                        resource_name="*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    ),
                ),
                resource_finding(self, self._autoscaling_slr_arn(stack)),
                resource_finding(self, sagemaker_arn(stack, "endpoint-config", "*")),
                resource_finding(self, sagemaker_arn(stack, "model", "*")),
                *(resource_finding(self, arn) for arn in self._package_arns),
            ],
            "CloudFormation creates the endpoint stacks' models, endpoint configs and alarms under names it "
            "generates (so ARNs end in a wildcard); endpoints are named exactly. Application Auto Scaling's "
            "actions have no resource-level permissions; the service-linked role is SageMaker autoscaling's "
            "only; model packages are this registry group's versions.",
        )

        endpoint_reads = [
            resource_finding(self, sagemaker_arn(stack, "endpoint-config", "*")),
            resource_finding(self, sagemaker_arn(stack, "model", "*")),
        ]
        # CDK writes CodeBuild's VPC grant with pseudo parameters, also in a concrete environment.
        network_interfaces = resource_finding(
            self,
            f"arn:{cdk.Aws.PARTITION}:ec2:{cdk.Aws.REGION}:{cdk.Aws.ACCOUNT_ID}:network-interface/*",
        )
        per_project: list[tuple[codebuild.PipelineProject, list[str], str]] = [
            (
                self.resolve_project,
                [
                    *S3_WRITE_GRANT_FINDINGS,
                    *endpoint_reads,
                    "AwsSolutions-IAM5[Resource::*]",
                    resource_finding(
                        self,
                        "arn:{partition}:sagemaker:{region}:{account}:model-package/{group}/*".format(
                            **fill
                        ),
                    ),
                ],
                "Resolve lists model packages (no resource-level permission), describes this group's versions "
                "and reads the prod endpoint's config and models (names CloudFormation generates), and "
                "writes its output artifact.",
            ),
            (
                self.test_project,
                [],
                "The staging tests read their input artifacts and invoke the staging endpoint only.",
            ),
            (
                self.verify_project,
                [
                    *endpoint_reads,
                    resource_finding(
                        self,
                        stack.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name="*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        ),
                    ),
                ],
                "Verify reads the two endpoints' configs and models (names CloudFormation generates) and the "
                "states of the rollback alarms (named by the endpoint stack) for its alert.",
            ),
        ]
        for project, findings, reason in per_project:
            acknowledge_project(
                project,
                [
                    *artifacts,
                    *project_log_and_report_findings(self, project),
                    network_interfaces,
                    *findings,
                ],
                f"{reason} Build logs and reports are scoped by CDK to this project; the network interface "
                "wildcard is CodeBuild's VPC permission, conditioned on the job subnets.",
            )
            vpc_policy = project.node.find_child("PolicyDocument")
            acknowledge_inline_policy(vpc_policy, f"CodeBuild {project.node.id} VPC access")
            acknowledge(
                vpc_policy,
                "AwsSolutions-IAM5[Resource::*]",
                "CodeBuild in a VPC must describe subnets, security groups, DHCP options and network "
                "interfaces; those EC2 Describe actions have no resource-level permissions.",
            )

    @staticmethod
    def _autoscaling_slr_arn(stack: cdk.Stack) -> str:
        return stack.format_arn(
            service="iam",
            region="",
            resource="role",
            resource_name="aws-service-role/sagemaker.application-autoscaling.amazonaws.com/*",
        )

    # -- public API -----------------------------------------------------------------------------

    @property
    def pipeline_name(self) -> str:
        return self.pipeline.pipeline_name

    @property
    def pipeline_arn(self) -> str:
        return self.pipeline.pipeline_arn

    def grant_start(self, grantee: iam.IGrantable) -> iam.Grant:
        """Start executions (a manual deployment or a rollback with ``ModelPackageArn``)."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["codepipeline:StartPipelineExecution"],
            resource_arns=[self.pipeline.pipeline_arn],
        )

    def metric_failed_executions(self, **options: Any) -> cloudwatch.Metric:
        """Failed executions (each one matched by the ``ExecutionFailed`` rule), sum per 5 minutes."""
        return cloudwatch.Metric(
            namespace="AWS/Events",
            metric_name="TriggeredRules",
            dimensions_map={"RuleName": self.failed_rule.rule_name},
            statistic="Sum",
            **options,
        )

    def metric_approval_starts(self, **options: Any) -> cloudwatch.Metric:
        """Executions started by a model approval, sum per 5 minutes."""
        return cloudwatch.Metric(
            namespace="AWS/Events",
            metric_name="TriggeredRules",
            dimensions_map={"RuleName": self.approval_rule.rule_name},
            statistic="Sum",
            **options,
        )
