"""The level-2 SageMaker Pipeline: preprocess, train, evaluate, baseline, quality gate, register."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from cdk_mlops.compliance import (
    KMS_GRANT_FINDINGS,
    S3_READ_GRANT_FINDINGS,
    S3_WRITE_GRANT_FINDINGS,
    acknowledge,
    acknowledge_inline_policy,
    bucket_objects_finding,
    resource_finding,
)
from cdk_mlops.constructs._sagemaker import (
    create_jobs_in_vpc,
    job_logs_and_metrics,
    log_group_arn,
    network_interfaces_arn,
    sagemaker_arn,
    sagemaker_principal,
    volume_key_grants,
    vpc_job_network_statements,
)
from cdk_mlops.constructs._util import prop_error, stack_scoped_name
from cdk_mlops.constructs.data_lake import DataLake
from cdk_mlops.constructs.model_registry import ModelRegistry
from cdk_mlops.constructs.network import Network
from cdk_mlops.constructs.pipeline_code import PipelineCode
from cdk_mlops.pipelines.images import DEFAULT_SKLEARN_VERSION, sklearn_image_uri
from cdk_mlops.pipelines.pipeline import Pipeline
from cdk_mlops.pipelines.training import (
    DEFAULT_COMMANDS,
    PROCESSING_INSTANCE_TYPES,
    SKLEARN_SERVING_ENVIRONMENT,
    TRAINING_INSTANCE_TYPES,
    StepCommand,
    build_training_pipeline,
    instance_type_problem,
)

_PIPELINE_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
_INSTANCE = re.compile(r"^ml\.[a-z0-9][a-z0-9-]*\.[a-z0-9]+$")
_PREFIX = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_\-/]*/$")


def _commands_for(package: str) -> dict[str, StepCommand]:
    """The default step commands, pointed at ``package`` when the code is not ``pipeline_code``."""
    return {
        step: StepCommand(
            module=f"{package}.{cmd.module.split('.', 1)[1]}", arguments=cmd.arguments
        )
        for step, cmd in DEFAULT_COMMANDS.items()
    }


class TrainingPipeline(Construct):
    """A SageMaker Pipeline built with our typed builder and shipped with ``pipeline_code``.

    Steps: ``Preprocess`` (split curated data) -> ``Train`` (scikit-learn) -> ``Evaluate``
    (``evaluation.json`` with quality and bias metrics) and ``Baseline`` (Model Monitor
    statistics and constraints) -> ``CheckQuality`` (``metric`` >= the ``MetricThreshold``
    parameter) -> ``Register`` a model package (metrics, drift baselines and the code version
    recorded on it) or ``QualityGateFailed``.

    Secure defaults every job gets (cdk-nag cannot see inside a pipeline definition; the tests
    assert them on the definition): the network's isolated subnets and workload security group,
    ``encryption_key`` on volumes and outputs, network isolation, inter-container traffic
    encryption. The pipeline role may start jobs only with VPC and KMS settings, network
    isolation and inter-container encryption (IAM conditions), reads only ``input_prefix`` of the
    curated zone and the code, writes only ``output_prefix`` of the artifacts zone, and registers
    only into ``registry``.

    :param code_dir: your own code package with the module layout of ``pipeline_code``
        (``processing.preprocess``, ``training.train``, ``evaluation.evaluate``,
        ``monitoring.baseline``, ``schemas/``); it may have another package name. Default: this
        library's ``pipeline_code``. Mutually exclusive with ``code``.
    :param pipeline_name: unique per account and region. Default ``<stack name>-training``.
    :param code: an existing :class:`PipelineCode` (e.g. shared with the Glue ETL).
    :param schema: the dataset schema the steps use: a name under ``<code>/schemas/``.
    :param input_prefix: curated-zone prefix of the training data (the Glue ETL's
        ``curated_prefix``). Default ``customer_churn/``.
    :param output_prefix: artifacts-zone prefix of step outputs. Default ``training-pipeline/``.
    :param metric: JSON path of the gate metric in ``evaluation.json``. Default AUC.
    :param threshold: default of ``MetricThreshold``. Default 0.75.
    :param processing_instance_type / training_instance_type: default ``ml.m5.large``.
    :param hyperparameters: passed to training.
    :param sklearn_version: SageMaker scikit-learn container version. Default ``1.9-0``
        (scikit-learn 1.9, the line ``pipeline_code`` is developed on); ``1.4-2`` also works.
    :param cache_expire_after: step caching (ISO 8601 duration) or ``None``. Default ``P30D``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: Network,
        data_lake: DataLake,
        encryption_key: kms.IKey,
        registry: ModelRegistry,
        pipeline_name: str | None = None,
        code: PipelineCode | None = None,
        code_dir: Path | str | None = None,
        schema: str = "churn",
        input_prefix: str = "customer_churn/",
        output_prefix: str = "training-pipeline/",
        metric: str = "binary_classification_metrics.auc.value",
        threshold: float = 0.75,
        processing_instance_type: str = "ml.m5.large",
        training_instance_type: str = "ml.m5.large",
        hyperparameters: Mapping[str, str | int | float | bool] | None = None,
        sklearn_version: str = DEFAULT_SKLEARN_VERSION,
        cache_expire_after: str | None = "P30D",
    ) -> None:
        super().__init__(scope, construct_id)
        if pipeline_name is None:
            # Unique per account and region: two stacks with a pipeline must not collide.
            pipeline_name = stack_scoped_name(self, "training", max_length=256)
        if code is not None and code_dir is not None:
            raise prop_error(
                "TrainingPipeline",
                "code_dir",
                str(code_dir),
                "Pass either code= or code_dir=, not both.",
            )
        if not _PIPELINE_NAME.fullmatch(pipeline_name):
            raise prop_error(
                "TrainingPipeline",
                "pipeline_name",
                pipeline_name,
                "Use letters, digits and hyphens (1 to 256).",
            )
        for name, value, allowed in (
            ("processing_instance_type", processing_instance_type, PROCESSING_INSTANCE_TYPES),
            ("training_instance_type", training_instance_type, TRAINING_INSTANCE_TYPES),
        ):
            if not _INSTANCE.fullmatch(value):
                raise prop_error(
                    "TrainingPipeline",
                    name,
                    value,
                    "Use a SageMaker instance type such as 'ml.m5.large'.",
                )
            # Every job sets a volume KMS key, which instance types with NVMe storage refuse.
            problem = instance_type_problem(value, allowed)
            if problem:
                raise prop_error("TrainingPipeline", name, value, f"{problem}.")
        for name, value in (("input_prefix", input_prefix), ("output_prefix", output_prefix)):
            if not _PREFIX.fullmatch(value):
                raise prop_error(
                    "TrainingPipeline",
                    name,
                    value,
                    "Use a key prefix ending in '/', e.g. 'churn/'.",
                )
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, (int, float))
            or not math.isfinite(threshold)
        ):
            raise prop_error(
                "TrainingPipeline",
                "threshold",
                threshold,
                "Give a finite number, e.g. 0.75 for AUC.",
            )
        if metric.startswith("binary_classification_metrics.") and not 0 <= threshold <= 1:
            raise prop_error(
                "TrainingPipeline",
                "threshold",
                threshold,
                f"{metric} lies between 0 and 1; choose a threshold in that range.",
            )

        self.code = code or PipelineCode(self, "Code", code_dir=code_dir)
        schema_file = self.code.code_dir / "schemas" / f"{schema}.json"
        if not schema_file.is_file():
            raise prop_error(
                "TrainingPipeline",
                "schema",
                schema,
                f"No {schema_file.name} under {self.code.code_dir / 'schemas'}; name a schema shipped with the code.",
            )
        self.pipeline_name = pipeline_name
        stack = cdk.Stack.of(self)

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=sagemaker_principal(stack),
            description=f"SageMaker pipeline {pipeline_name} and its jobs",
        )
        data_lake.curated_bucket.grant_read(self.role, f"{input_prefix}*")
        data_lake.artifacts_bucket.grant_read_write(self.role, f"{output_prefix}*")
        self.code.grant_read(self.role)
        encryption_key.grant_encrypt_decrypt(self.role)
        registry.grant_register(self.role)

        jobs = [sagemaker_arn(stack, "processing-job"), sagemaker_arn(stack, "training-job")]
        policy = iam.Policy(self, "Jobs", roles=[self.role])
        policy.add_statements(
            create_jobs_in_vpc(
                ["sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob"],
                jobs,
                require_isolation=True,
            ),
            iam.PolicyStatement(
                sid="ManageJobs",
                actions=[
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:StopProcessingJob",
                    "sagemaker:StopTrainingJob",
                    "sagemaker:AddTags",
                ],
                resources=jobs,
            ),
            iam.PolicyStatement(
                sid="PassOnlyThisRole",
                actions=["iam:PassRole"],
                resources=[self.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
            volume_key_grants(encryption_key, sid="VolumeGrants"),
            *vpc_job_network_statements(stack, network),
            *job_logs_and_metrics(stack),
        )

        self.definition: Pipeline = build_training_pipeline(
            role_arn=self.role.role_arn,
            image_uri=sklearn_image_uri(self, framework_version=sklearn_version),
            code_uri=self.code.zip_s3_uri,
            bucket=data_lake.artifacts_bucket.bucket_name,
            prefix=output_prefix.rstrip("/"),
            input_data_uri=data_lake.curated_bucket.s3_url_for_object(input_prefix),
            schema=schema,
            model_package_group_name=registry.model_package_group_name,
            code_version=self.code.code_version,
            kms_key_id=encryption_key.key_arn,
            subnet_ids=network.subnet_ids,
            security_group_ids=[network.workload_security_group.security_group_id],
            processing_instance_type=processing_instance_type,
            training_instance_type=training_instance_type,
            metric=metric,
            threshold=float(threshold),
            hyperparameters=dict(hyperparameters or {}),
            approval_status=registry.default_approval_status,
            cache_expire_after=cache_expire_after,
            commands=_commands_for(self.code.package_name),
            # The serving code is inside model.tar.gz (code/, written by the training job): the
            # model package needs no CDK asset, which `cdk gc` could delete.
            inference_environment={
                **SKLEARN_SERVING_ENVIRONMENT,
                "SAGEMAKER_REGION": cdk.Aws.REGION,
            },
        )
        self.pipeline = sagemaker.CfnPipeline(
            self,
            "Resource",
            pipeline_name=pipeline_name,
            pipeline_description=f"cdk-mlops training pipeline (code {self.code.code_version})",
            role_arn=self.role.role_arn,
            pipeline_definition={"PipelineDefinitionBody": self.definition.to_json_string(self)},
        )
        self.pipeline.node.add_dependency(policy)
        self._acknowledge(data_lake, policy, input_prefix, output_prefix)

    @property
    def pipeline_arn(self) -> str:
        return cdk.Stack.of(self).format_arn(
            service="sagemaker", resource="pipeline", resource_name=self.pipeline_name.lower()
        )

    def grant_start(self, grantee: iam.IGrantable) -> iam.Grant:
        """Start and follow executions of this pipeline."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "sagemaker:StartPipelineExecution",
                "sagemaker:DescribePipelineExecution",
                "sagemaker:ListPipelineExecutionSteps",
            ],
            resource_arns=[self.pipeline_arn, f"{self.pipeline_arn}/execution/*"],
        )

    def _acknowledge(
        self, data_lake: DataLake, policy: iam.Policy, input_prefix: str, output_prefix: str
    ) -> None:
        default_policy = self.role.node.find_child("DefaultPolicy")
        acknowledge_inline_policy(default_policy, "training pipeline")
        acknowledge_inline_policy(policy, "training pipeline")
        findings = [*S3_READ_GRANT_FINDINGS, *S3_WRITE_GRANT_FINDINGS, *KMS_GRANT_FINDINGS]
        for bucket, prefix in (
            (data_lake.curated_bucket, input_prefix),
            (data_lake.artifacts_bucket, output_prefix),
        ):
            if isinstance(bucket.node.default_child, cdk.CfnResource):
                findings.append(bucket_objects_finding(bucket, f"{prefix}*"))
        stack = cdk.Stack.of(self)
        findings.append(
            resource_finding(
                self, sagemaker_arn(stack, "model-package", f"{self.definition_group}/*")
            )
        )
        acknowledge(
            default_policy,
            findings,
            "Pipeline jobs read the training data under the input prefix, write outputs under the output prefix "
            "and register versions of one model package group; the wildcards are CDK grant actions on those.",
        )
        acknowledge(
            policy,
            [
                *(
                    resource_finding(self, r)
                    for r in (
                        sagemaker_arn(stack, "processing-job"),
                        sagemaker_arn(stack, "training-job"),
                        log_group_arn(stack, "/aws/sagemaker/*"),
                        network_interfaces_arn(stack),
                    )
                ),
                "AwsSolutions-IAM5[Resource::*]",
            ],
            "Pipeline jobs get generated names (so job ARNs need a wildcard, and creation requires VPC and KMS by "
            "condition); SageMaker names its log groups and the network interfaces of VPC jobs; EC2 Describe* "
            "and PutMetricData have no resource-level permissions.",
        )

    @property
    def definition_group(self) -> str:
        return str(
            self.definition.step("Register").to_request()["Arguments"]["ModelPackageGroupName"]
        )
