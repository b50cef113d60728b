"""The level-2 SageMaker Pipeline: preprocess, train, evaluate, baseline, quality gate, register."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from cdk_mlops.compliance import (
    KMS_GRANT_FINDINGS,
    S3_READ_GRANT_FINDINGS,
    S3_WRITE_GRANT_FINDINGS,
    acknowledge,
    acknowledge_inline_policy,
    grant_policies,
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
from cdk_mlops.constructs._util import check_prop, is_token, prop_error, stack_scoped_name
from cdk_mlops.constructs.interfaces import IModelRegistry, JobNetwork
from cdk_mlops.constructs.pipeline_code import PipelineCode, grant_asset_read
from cdk_mlops.pipelines.images import (
    DEFAULT_SKLEARN_VERSION,
    sklearn_image_uri,
    xgboost_image_uri,
)
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
from cdk_mlops.pipelines.tuning import TuningSettings
from cdk_mlops.pipelines.xgboost import XGBoostSettings

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


#: CloudWatch namespace of SageMaker Pipelines' execution and step metrics.
PIPELINE_METRICS_NAMESPACE = "AWS/Sagemaker/ModelBuildingPipeline"


class TrainingPipelineBase(Construct):
    """What every SageMaker pipeline offers, created here or imported: grants and metrics."""

    pipeline_name: str
    _account: str | None = None
    _region: str | None = None

    @property
    def pipeline_arn(self) -> str:
        """The pipeline's ARN (SageMaker keeps pipeline names lower case in ARNs)."""
        name = self.pipeline_name if is_token(self.pipeline_name) else self.pipeline_name.lower()
        return cdk.Stack.of(self).format_arn(
            service="sagemaker",
            resource="pipeline",
            resource_name=name,
            account=self._account,
            region=self._region,
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

    # ------------------------------------------------------------------ metrics
    def metric(self, metric_name: str, **options: Any) -> cloudwatch.Metric:
        """A metric of this pipeline in ``AWS/Sagemaker/ModelBuildingPipeline`` (dimension
        ``PipelineName``); statistic Sum over 5 minutes unless ``options`` say otherwise."""
        return cloudwatch.Metric(
            namespace=PIPELINE_METRICS_NAMESPACE,
            metric_name=metric_name,
            dimensions_map={"PipelineName": self.pipeline_name},
            **{"statistic": "Sum", "period": cdk.Duration.minutes(5), **options},
        )

    def metric_executions_started(self, **options: Any) -> cloudwatch.Metric:
        """Executions started (sum)."""
        return self.metric("ExecutionStarted", **options)

    def metric_executions_succeeded(self, **options: Any) -> cloudwatch.Metric:
        """Executions that succeeded (sum)."""
        return self.metric("ExecutionSucceeded", **options)

    def metric_executions_failed(self, **options: Any) -> cloudwatch.Metric:
        """Executions that failed (sum)."""
        return self.metric("ExecutionFailed", **options)

    def metric_execution_duration(self, **options: Any) -> cloudwatch.Metric:
        """Execution duration in milliseconds (average)."""
        return self.metric("ExecutionDuration", **{"statistic": "Average", **options})


class TrainingPipeline(TrainingPipelineBase):
    """A SageMaker Pipeline built with our typed builder and shipped with ``pipeline_code``.

    Steps: ``DataVersion`` (never cached: a content fingerprint of the curated data, part of
    every cached step's cache key) -> ``Preprocess`` (latest record per id, split by id) ->
    ``Train`` (scikit-learn; the serving code goes into ``model.tar.gz``) -> ``Evaluate``
    (``evaluation.json`` with quality and bias metrics) and ``Baseline`` (Model Monitor
    statistics and constraints) -> ``CheckQuality`` (``metric`` >= the ``MetricThreshold``
    parameter) -> ``Register`` a model package (metrics, drift baselines, the code and data
    versions recorded on it) or ``QualityGateFailed``.

    Secure defaults every job gets (cdk-nag cannot see inside a pipeline definition; the tests
    assert them on the definition): ``job_network``'s subnets and security groups,
    ``encryption_key`` on volumes and outputs, network isolation, inter-container traffic
    encryption. The pipeline role may start jobs only with VPC and KMS settings, network
    isolation and inter-container encryption (IAM conditions), reads only ``input_prefix`` of the
    curated zone and the code, writes only ``output_prefix`` of the artifacts zone, and registers
    only into ``registry``.

    :param job_network: where every job runs (``Network.job_network`` or your own
        :class:`JobNetwork`).
    :param input_bucket: the curated zone the training data is read from (its
        ``input_prefix``).
    :param artifacts_bucket: where step outputs and models are written (its ``output_prefix``).
    :param encryption_key: KMS key of job volumes and outputs.
    :param registry: the model package group versions are registered in: a
        :class:`ModelRegistry` or ``ModelRegistry.from_group_name(...)``.
    :param role: the pipeline's and its jobs' execution role (it must trust
        ``sagemaker.amazonaws.com``). Default: a new least-privilege role. Either way the
        construct grants what the jobs need.
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
    :param champion_challenger: Evaluate also scores the model given in the ``ChampionModelUri``
        parameter (the production model; drift retraining passes it) on the same test data,
        and the gate registers the new model only if it is at least as good. Without the
        parameter (the default marker object) nothing changes. Default True.
    :param champion_margin: how much worse than the champion (in the gate metric) the new
        model may be, 0 to 1. Default 0.
    :param intended_use: what the model is for (1 to 256 characters), recorded on every model
        version with the gate metric's value, the code and data versions and the reports: the
        model card's content. Default: not recorded.
    :param tuning: a hyperparameter search (``Tune``) in place of the single training job; the
        best job by the validation metric feeds Evaluate and Register (see
        :class:`~cdk_mlops.pipelines.tuning.TuningSettings`). Default: none, one training job.
    :param xgboost: train with SageMaker's XGBoost algorithm on several instances, the data
        sharded by S3 key (:class:`~cdk_mlops.pipelines.xgboost.XGBoostSettings`); Evaluate and
        the registered model then use the XGBoost image. Not with ``tuning``. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        job_network: JobNetwork,
        input_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        registry: IModelRegistry,
        role: iam.IRole | None = None,
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
        champion_challenger: bool = True,
        champion_margin: float = 0.0,
        intended_use: str | None = None,
        tuning: TuningSettings | None = None,
        xgboost: XGBoostSettings | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        #: The hyperparameter search in place of the training job, if any.
        self.tuning = tuning
        if xgboost is not None and not isinstance(xgboost, XGBoostSettings):
            raise prop_error(
                self,
                "xgboost",
                repr(xgboost),
                "Pass cdk_mlops.pipelines.xgboost.XGBoostSettings(...) or None.",
            )
        if xgboost is not None and tuning is not None:
            raise prop_error(
                self,
                "tuning",
                "set together with xgboost",
                "The Tune step searches the scikit-learn model; choose tuning or xgboost.",
            )
        #: The distributed XGBoost backend's settings, if it trains.
        self.xgboost = xgboost
        if tuning is not None and not isinstance(tuning, TuningSettings):
            raise prop_error(
                self,
                "tuning",
                repr(tuning),
                "Pass cdk_mlops.pipelines.tuning.TuningSettings(...) or None.",
            )
        if intended_use is not None:
            check_prop(
                self,
                "intended_use",
                intended_use,
                isinstance(intended_use, str)
                and bool(intended_use.strip())
                and re.fullmatch(r"[\w\s.:/=+\-@]{1,256}", intended_use) is not None,
                "Describe the model's use in 1 to 256 letters, digits, spaces and _.:/=+-@ (a "
                "model package metadata value: no commas), e.g. 'Churn risk of monthly "
                "customers for retention offers'.",
            )
        check_prop(
            self,
            "champion_margin",
            champion_margin,
            isinstance(champion_margin, (int, float)) and 0 <= champion_margin < 1,
            "Use a number from 0 (at least as good as production) to below 1.",
        )
        if pipeline_name is None:
            # Unique per account and region: two stacks with a pipeline must not collide.
            pipeline_name = stack_scoped_name(self, "training", max_length=256)
        check_prop(
            self,
            "code_dir",
            str(code_dir),
            code is None or code_dir is None,
            "Pass either code= or code_dir=, not both.",
        )
        check_prop(
            self,
            "pipeline_name",
            pipeline_name,
            _PIPELINE_NAME.fullmatch,
            "Use letters, digits and hyphens (1 to 256).",
        )
        for name, value, allowed in (
            ("processing_instance_type", processing_instance_type, PROCESSING_INSTANCE_TYPES),
            ("training_instance_type", training_instance_type, TRAINING_INSTANCE_TYPES),
        ):
            if is_token(value):
                # The default of a pipeline parameter whose allowed values are vetted types.
                raise prop_error(
                    self,
                    name,
                    value,
                    "Give a literal instance type: it is the default of a pipeline parameter whose "
                    "allowed values are checked here. To choose per run, pass the parameter "
                    "(ProcessingInstanceType/TrainingInstanceType) when starting an execution.",
                )
            check_prop(
                self,
                name,
                value,
                _INSTANCE.fullmatch,
                "Use a SageMaker instance type such as 'ml.m5.large'.",
            )
            # Every job sets a volume KMS key, which instance types with NVMe storage refuse.
            problem = instance_type_problem(value, allowed)
            check_prop(self, name, value, not problem, f"{problem}.")
        for name, value in (("input_prefix", input_prefix), ("output_prefix", output_prefix)):
            check_prop(
                self,
                name,
                value,
                _PREFIX.fullmatch,
                "Use a key prefix ending in '/', e.g. 'churn/'.",
            )
        check_prop(
            self,
            "threshold",
            threshold,
            lambda t: not isinstance(t, bool) and isinstance(t, (int, float)) and math.isfinite(t),
            "Give a finite number, e.g. 0.75 for AUC.",
        )
        check_prop(
            self,
            "threshold",
            threshold,
            not metric.startswith("binary_classification_metrics.") or 0 <= threshold <= 1,
            f"{metric} lies between 0 and 1; choose a threshold in that range.",
        )

        self.code = code or PipelineCode(self, "Code", code_dir=code_dir)
        schema_file = self.code.code_dir / "schemas" / f"{schema}.json"
        if not schema_file.is_file():
            raise prop_error(
                self,
                "schema",
                schema,
                f"No {schema_file.name} under {self.code.code_dir / 'schemas'}; name a schema shipped with the code.",
            )
        self.pipeline_name = pipeline_name
        stack = cdk.Stack.of(self)

        self.input_bucket = input_bucket
        self.artifacts_bucket = artifacts_bucket
        self.role: iam.IRole = role or iam.Role(
            self,
            "Role",
            assumed_by=sagemaker_principal(stack),
            description=f"SageMaker pipeline {pipeline_name} and its jobs",
        )
        input_bucket.grant_read(self.role, f"{input_prefix}*")
        artifacts_bucket.grant_read_write(self.role, f"{output_prefix}*")
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
            *vpc_job_network_statements(stack, job_network),
            *job_logs_and_metrics(stack),
        )
        if tuning is not None:
            # The tuning job creates its training jobs itself, with the role it is passed.
            tuning_jobs = [sagemaker_arn(stack, "hyper-parameter-tuning-job")]
            policy.add_statements(
                create_jobs_in_vpc(
                    ["sagemaker:CreateHyperParameterTuningJob"],
                    tuning_jobs,
                    require_isolation=True,
                    sid="TuningOnlyInVpcWithKms",
                ),
                iam.PolicyStatement(
                    sid="ManageTuningJobs",
                    actions=[
                        "sagemaker:DescribeHyperParameterTuningJob",
                        "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
                        "sagemaker:StopHyperParameterTuningJob",
                        "sagemaker:AddTags",
                    ],
                    resources=tuning_jobs,
                ),
            )

        #: The default of ``ChampionModelUri``: a marker object meaning "no champion".
        self.no_champion_asset: s3_assets.Asset | None = None
        if champion_challenger:
            self.no_champion_asset = s3_assets.Asset(
                self, "NoChampion", path=str(Path(__file__).parent.parent / "no_champion.json")
            )
            grant_asset_read(self.no_champion_asset, self.role)
        self.definition: Pipeline = build_training_pipeline(
            role_arn=self.role.role_arn,
            image_uri=sklearn_image_uri(self, framework_version=sklearn_version),
            code_uri=self.code.zip_s3_uri,
            bucket=artifacts_bucket.bucket_name,
            prefix=output_prefix.rstrip("/"),
            input_data_uri=input_bucket.s3_url_for_object(input_prefix),
            schema=schema,
            model_package_group_name=registry.model_package_group_name,
            code_version=self.code.code_version,
            kms_key_id=encryption_key.key_arn,
            subnet_ids=job_network.subnet_ids,
            security_group_ids=job_network.security_group_ids,
            processing_instance_type=processing_instance_type,
            training_instance_type=training_instance_type,
            metric=metric,
            threshold=float(threshold),
            hyperparameters=dict(hyperparameters or {}),
            approval_status=registry.default_approval_status,
            cache_expire_after=cache_expire_after,
            commands=_commands_for(self.code.package_name),
            no_champion_uri=self.no_champion_asset.s3_object_url
            if self.no_champion_asset
            else None,
            champion_margin=float(champion_margin),
            intended_use=intended_use,
            tuning=tuning,
            sourcedir_uri=self.code.sourcedir_channel_uri if tuning is not None else None,
            xgboost=xgboost,
            xgboost_image_uri=(
                xgboost_image_uri(self, version=xgboost.version) if xgboost is not None else None
            ),
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
        self._acknowledge(policy, registry, input_prefix, output_prefix)

    @classmethod
    def from_pipeline_name(
        cls, scope: Construct, construct_id: str, pipeline_name: str
    ) -> TrainingPipelineBase:
        """An existing pipeline of ``scope``'s account and region (e.g. from another stack)."""
        return cls.from_pipeline_attributes(scope, construct_id, pipeline_name=pipeline_name)

    @classmethod
    def from_pipeline_attributes(
        cls,
        scope: Construct,
        construct_id: str,
        *,
        pipeline_name: str,
        account: str | None = None,
        region: str | None = None,
    ) -> TrainingPipelineBase:
        """An existing pipeline, in another account or region when ``account``/``region`` are
        given (starting it from there also needs the pipeline account's trust)."""
        return _ImportedTrainingPipeline(
            scope, construct_id, pipeline_name=pipeline_name, account=account, region=region
        )

    def _acknowledge(
        self, policy: iam.Policy, registry: IModelRegistry, input_prefix: str, output_prefix: str
    ) -> None:
        acknowledge_inline_policy(policy, "training pipeline")
        findings = [
            *S3_READ_GRANT_FINDINGS,
            *S3_WRITE_GRANT_FINDINGS,
            *KMS_GRANT_FINDINGS,
            resource_finding(self, self.input_bucket.arn_for_objects(f"{input_prefix}*")),
            resource_finding(self, self.artifacts_bucket.arn_for_objects(f"{output_prefix}*")),
            resource_finding(self, registry.model_packages_arn),
        ]
        for grants in grant_policies(self.role):
            acknowledge_inline_policy(grants, "training pipeline")
            acknowledge(
                grants,
                findings,
                "Pipeline jobs read the training data under the input prefix, write outputs under the output "
                "prefix and register versions of one model package group; the wildcards are CDK grant actions "
                "on those.",
            )
        stack = cdk.Stack.of(self)
        acknowledge(
            policy,
            [
                *(
                    resource_finding(self, r)
                    for r in (
                        sagemaker_arn(stack, "processing-job"),
                        sagemaker_arn(stack, "training-job"),
                        *(
                            [sagemaker_arn(stack, "hyper-parameter-tuning-job")]
                            if self.tuning is not None
                            else []
                        ),
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


class _ImportedTrainingPipeline(TrainingPipelineBase):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pipeline_name: str,
        account: str | None,
        region: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        check_prop(
            self,
            "pipeline_name",
            pipeline_name,
            _PIPELINE_NAME.fullmatch,
            "Give the name of an existing pipeline (letters, digits and hyphens).",
        )
        self.pipeline_name = pipeline_name
        self._account = account
        self._region = region
