"""Model monitoring of an endpoint's data capture: the portable backend of Model Monitor.

AWS closed SageMaker Model Monitor and Clarify to new customers, so the default backend is ours:

    EventBridge Scheduler (hourly or daily)
      -> Step Functions state machine (JSONata, AWS SDK integrations, no Lambda):
           window = the previous UTC hour (or day) of the run's scheduled time
           s3:ListObjectsV2 data-capture/<endpoint>/<variant>/<yyyy/mm/dd[/hh]>/ -> nothing: done
           baseline = the folder the deployed model package records in DriftCheckBaselines
                      (DescribeEndpoint -> DescribeEndpointConfig -> DescribeModel ->
                      DescribeModelPackage), or a fixed ``baseline_key_prefix``
           sagemaker:createProcessingJob.sync: ``pipeline_code.monitoring.job`` over the window
           (in the VPC, network-isolated, KMS on volume and output); with ``instance_count`` > 1
           a partial job on N instances (capture ``ShardedByS3Key``) and a merge job
      -> s3://<output bucket>/monitoring/<endpoint>/<window>/<monitor>/statistics.json,
         constraint_violations.json (where Model Monitor writes them)
      -> the job's metric lines on /aws/sagemaker/ProcessingJobs -> one CloudWatch Logs metric
         filter per metric, with Model Monitor's namespaces, names and dimensions
         (decision 0006) -> the drift alarm (and your alarms, via ``metric_*``).

``backend=MonitoringBackend.MANAGED`` emits an ``AWS::SageMaker::DataQualityJobDefinition`` with
the Model Monitor analyzer image and an ``AWS::SageMaker::MonitoringSchedule`` instead, for
accounts that still have Model Monitor; it publishes the same ``feature_baseline_drift_<f>``
metrics, and the drift alarm is a composite of one alarm per feature (Model Monitor publishes
no violation count).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from typing import Any, Final

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct, IConstruct, IValidation

from cdk_mlops.compliance import (
    acknowledge,
    acknowledge_inline_policy,
    grant_policies,
    resource_finding,
)
from cdk_mlops.constructs._deployed_model import (
    deployed_package_states,
    describe_deployed_package_statement,
    describe_findings,
)
from cdk_mlops.constructs._sagemaker import (
    create_jobs_in_vpc,
    job_logs_and_metrics,
    sagemaker_arn,
    sagemaker_principal,
    volume_key_grants,
    vpc_job_network_statements,
)
from cdk_mlops.constructs._util import check_prop, prop_error, stack_scoped_name
from cdk_mlops.constructs.interfaces import JobNetwork
from cdk_mlops.constructs.model_endpoint import DATA_CAPTURE_PREFIX
from cdk_mlops.constructs.pipeline_code import PipelineCode
from cdk_mlops.pipelines.images import sklearn_image_uri
from cdk_mlops.pipelines.training import (
    PROCESSING_INSTANCE_TYPES,
    instance_type_problem,
    module_entrypoint,
)
from pipeline_code.monitoring import job_contract as jc
from pipeline_code.monitoring import metric_lines as ml
from pipeline_code.schema import Schema, SchemaError

#: Where the job's outputs go: ``s3://<output bucket>/monitoring/<endpoint>/<window>/``.
MONITORING_PREFIX: Final = "monitoring"
#: Where users upload ground truth: ``s3://<capture bucket>/ground-truth/<endpoint>/<window>/``
#: (JSON Lines, Model Monitor's ground-truth record format, keyed by the capture's event id).
GROUND_TRUTH_PREFIX: Final = "ground-truth"
#: The production variant name SageMaker and ``ProductionVariant`` use by default.
DEFAULT_VARIANT: Final = "AllTraffic"
#: MANAGED model quality: the endpoint's CSV response is ``probability,label`` per row.
MANAGED_PROBABILITY_ATTRIBUTE: Final = "0"
MANAGED_INFERENCE_ATTRIBUTE: Final = "1"
#: Longest processing job name SageMaker accepts.
MAX_JOB_NAME: Final = 63
#: What a run adds to the name prefix: "-p" (partial/merge) + "-yyyymmddhh" + "-" + 8 hex.
JOB_NAME_SUFFIX: Final = 22
#: Longest name prefix.
MAX_NAME_PREFIX: Final = MAX_JOB_NAME - JOB_NAME_SUFFIX
#: Step Functions' EventBridge rule for ``.sync`` processing jobs.
SYNC_RULE: Final = "StepFunctionsGetEventsForSageMakerProcessingJobsRule"


class MonitoringBackend(enum.Enum):
    """Which service runs the monitor."""

    #: Our job on SageMaker Processing, scheduled by EventBridge Scheduler (the default).
    PORTABLE = "portable"
    #: SageMaker Model Monitor (``MonitoringSchedule``); only for accounts that still have it.
    MANAGED = "managed"


class MonitoringFrequency(enum.Enum):
    """How often the monitor runs, and so the length of the window it reads."""

    HOURLY = "hourly"
    DAILY = "daily"

    @property
    def millis(self) -> int:
        return 3_600_000 if self is MonitoringFrequency.HOURLY else 86_400_000

    @property
    def folder_picture(self) -> str:
        """XPath picture of the capture folder of a window (SageMaker's yyyy/mm/dd/hh layout)."""
        if self is MonitoringFrequency.HOURLY:
            return "[Y0001]/[M01]/[D01]/[H01]"
        return "[Y0001]/[M01]/[D01]"

    @property
    def period(self) -> cdk.Duration:
        return cdk.Duration.millis(self.millis)


# Model Monitor analyzer image (sagemaker-model-monitor-analyzer, untagged) registry accounts, from
# the SageMaker Python SDK's sagemaker-core/src/sagemaker/core/image_uri_config/model-monitor.json
# at 7e7b6f18c26a460be2faec8a66953e6f710cef84 (commercial aws partition only).
MODEL_MONITOR_ACCOUNTS: Final[dict[str, str]] = {
    "af-south-1": "875698925577",
    "ap-east-1": "001633400207",
    "ap-northeast-1": "574779866223",
    "ap-northeast-2": "709848358524",
    "ap-northeast-3": "990339680094",
    "ap-south-1": "126357580389",
    "ap-southeast-1": "245545462676",
    "ap-southeast-2": "563025443158",
    "ap-southeast-3": "669540362728",
    "ca-central-1": "536280801234",
    "eu-central-1": "048819808253",
    "eu-central-2": "590183933784",
    "eu-north-1": "895015795356",
    "eu-south-1": "933208885752",
    "eu-south-2": "437450045455",
    "eu-west-1": "468650794304",
    "eu-west-2": "749857270468",
    "eu-west-3": "680080141114",
    "il-central-1": "843974653677",
    "me-central-1": "588750061953",
    "me-south-1": "607024016150",
    "sa-east-1": "539772159869",
    "us-east-1": "156813124566",
    "us-east-2": "777275614652",
    "us-west-1": "890145073186",
    "us-west-2": "159807026194",
}
MODEL_MONITOR_IMAGE_TAG: Final = "sagemaker-model-monitor-analyzer"


def _bucket_objects(bucket: s3.IBucket, prefix: str) -> str:
    return bucket.arn_for_objects(f"{prefix}/*")


def jsonata_literal(value: Any) -> str:
    """``value`` as JSONata source: a ``"{% expr %}"`` string becomes ``expr`` (inside a JSONata
    expression a nested ``{% %}`` would stay a literal string), everything else JSON."""
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{json.dumps(k)}: {jsonata_literal(v)}" for k, v in value.items())
            + "}"
        )
    if isinstance(value, list):
        return "[" + ", ".join(jsonata_literal(v) for v in value) + "]"
    if isinstance(value, str) and value.startswith("{% ") and value.endswith(" %}"):
        return "(" + value[3:-3] + ")"
    return json.dumps(value)


class ModelMonitoring(Construct):
    """Watch one endpoint's captured traffic: scheduled monitoring job, metrics and drift alarm.

    :param endpoint_name: the endpoint to monitor (it may not exist yet: a run finds no capture
        and ends without starting a job, at no cost).
    :param capture_bucket: the bucket the endpoint captures to (``data-capture/<endpoint>/``) and
        where ground truth is uploaded (``ground-truth/<endpoint>/<yyyy/mm/dd/hh>/``).
    :param baseline_bucket: the bucket that holds the baselines (the training pipeline's output
        bucket). The job reads it.
    :param job_network: VPC, subnets and security groups of the job. It runs network-isolated
        (no NAT and no interface endpoint needed), but SageMaker moves its S3 inputs and outputs
        through the VPC: the subnets need an S3 gateway endpoint and the security group HTTPS
        egress to it (our ``Network`` has both).
    :param encryption_key: key of the capture, the baselines, the job's volume and its outputs.
    :param logs_key: key of the state machine's log group (it must admit CloudWatch Logs).
    :param code: the code package with ``pipeline_code.monitoring.job``. Default: this library's.
    :param schema: schema name under the code's ``schemas/``: the features that get a metric.
    :param variant_name: the production variant whose capture is read. Default ``AllTraffic``.
    :param baseline_key_prefix: a fixed baseline folder in ``baseline_bucket`` (with
        ``statistics.json``, ``constraints.json``, ``schema.json``). Default: at each run, the
        folder the deployed model package records in ``DriftCheckBaselines``, so a new model
        version is monitored against its own baseline. Required for ``MANAGED``.
    :param output_bucket: where the results go. Default: ``capture_bucket``.
    :param monitors: a subset of ``data-quality``, ``prediction-drift``, ``model-quality``,
        ``bias-drift``. Default all four (the last two report "no ground truth" until labels
        are uploaded).
    :param frequency: hourly (default) or daily; the window is the previous UTC hour or day.
    :param instance_type: of the job. Default ``ml.m5.xlarge``.
    :param instance_count: > 1 runs a partial job on that many instances (capture sharded by S3
        key) and a merge job. Default 1.
    :param volume_size_gb: of each job instance. Default 30.
    :param max_runtime: of each job. Default 1 hour.
    :param drift_threshold: data-quality distance above which a feature drifts. Default 0.1.
    :param drift_evaluation_periods: consecutive windows with drift before the alarm fires.
        Default 2 (one drifted hour is often noise).
    :param alarm_topic: the drift and failure alarms and failed runs go here. Default none.
    :param image_uri: the job's image. Default: the scikit-learn image of the training pipeline.
    :param backend: ``PORTABLE`` (default) or ``MANAGED``.
    :param create_processing_log_group: create ``/aws/sagemaker/ProcessingJobs`` (retained,
        KMS-encrypted with ``logs_key``) in an account and region that never ran a processing
        job; the metric filters need it to exist. Default False (decision 0006).
    :param log_retention: of the state machine's log group (and the created processing group).
    :param name_prefix: prefix of job and schedule names. Default: the stack name and this
        construct's id.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        capture_bucket: s3.IBucket,
        baseline_bucket: s3.IBucket,
        job_network: JobNetwork,
        encryption_key: kms.IKey,
        logs_key: kms.IKey,
        code: PipelineCode | None = None,
        schema: str = "churn",
        variant_name: str = DEFAULT_VARIANT,
        baseline_key_prefix: str | None = None,
        output_bucket: s3.IBucket | None = None,
        monitors: Sequence[str] = jc.MONITORS,
        frequency: MonitoringFrequency = MonitoringFrequency.HOURLY,
        instance_type: str = "ml.m5.xlarge",
        instance_count: int = 1,
        volume_size_gb: int = 30,
        max_runtime: cdk.Duration | None = None,
        drift_threshold: float = 0.1,
        drift_evaluation_periods: int = 2,
        alarm_topic: sns.ITopic | None = None,
        image_uri: str | None = None,
        backend: MonitoringBackend = MonitoringBackend.PORTABLE,
        create_processing_log_group: bool = False,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        name_prefix: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.backend = backend
        self.frequency = frequency
        self.endpoint_name = endpoint_name
        self.variant_name = variant_name
        self.monitors: tuple[str, ...] = tuple(monitors)
        self.capture_bucket = capture_bucket
        self.output_bucket = output_bucket or capture_bucket
        self._validate(
            endpoint_name=endpoint_name,
            variant_name=variant_name,
            baseline_key_prefix=baseline_key_prefix,
            instance_type=instance_type,
            instance_count=instance_count,
            volume_size_gb=volume_size_gb,
            drift_threshold=drift_threshold,
            drift_evaluation_periods=drift_evaluation_periods,
        )
        max_runtime = max_runtime or cdk.Duration.hours(1)
        check_prop(
            self,
            "max_runtime",
            max_runtime.to_human_string(),
            not max_runtime.is_unresolved() and 60 <= max_runtime.to_seconds() <= 5 * 24 * 3600,
            "Use between 1 minute and 5 days (SageMaker's MaxRuntimeInSeconds range).",
        )
        code = code or PipelineCode(self, "PipelineCode")
        self.schema = self._load_schema(code, schema)
        self.name_prefix = name_prefix or stack_scoped_name(
            self, construct_id, max_length=MAX_NAME_PREFIX, lowercase=True
        )
        check_prop(
            self,
            "name_prefix",
            self.name_prefix,
            lambda v: (
                0 < len(v) <= MAX_NAME_PREFIX
                and v[0].isalnum()
                and all(c.isalnum() or c == "-" for c in v)
            ),
            f"Use 1 to {MAX_NAME_PREFIX} letters, digits and hyphens, starting with a letter "
            f"or digit (a job name adds up to {JOB_NAME_SUFFIX} characters of window and id).",
        )
        self.schedule_name = f"{self.name_prefix}-{frequency.value}"
        #: Model Monitor runs model quality as its own schedule (MANAGED); its metrics carry
        #: that schedule's name. The portable job publishes every monitor under one schedule.
        self.quality_schedule_name = (
            f"{self.schedule_name}-model-quality"
            if backend is MonitoringBackend.MANAGED
            else self.schedule_name
        )
        #: Every metric the job emits for these features and monitors (decision 0006).
        try:
            self.metric_definitions = ml.metric_definitions(
                self.schema.feature_names,
                monitors=self.monitors,
                has_sensitive_attributes=bool(self.schema.sensitive_names),
            )
        except ValueError as err:
            raise prop_error(self, "schema", schema, str(err)) from err
        self.alarm_topic = alarm_topic
        self.capture_prefix = f"{DATA_CAPTURE_PREFIX}/{endpoint_name}/{variant_name}"
        self.ground_truth_prefix = f"{GROUND_TRUTH_PREFIX}/{endpoint_name}"
        self.output_prefix = f"{MONITORING_PREFIX}/{endpoint_name}"

        self.job_role = iam.Role(
            self,
            "JobRole",
            assumed_by=sagemaker_principal(stack),
            description=f"Monitoring job of endpoint {endpoint_name}: read capture, write results",
        )
        self._grant_job(
            code, baseline_bucket, baseline_key_prefix, job_network, encryption_key, stack
        )

        self.state_machine: sfn.StateMachine | None = None
        self.schedule: scheduler.CfnSchedule | None = None
        self.metric_filters: list[logs.CfnMetricFilter] = []
        self.processing_log_group: logs.LogGroup | None = None
        if backend is MonitoringBackend.PORTABLE:
            self._portable(
                code=code,
                baseline_bucket=baseline_bucket,
                baseline_key_prefix=baseline_key_prefix,
                job_network=job_network,
                encryption_key=encryption_key,
                logs_key=logs_key,
                instance_type=instance_type,
                instance_count=instance_count,
                volume_size_gb=volume_size_gb,
                max_runtime=max_runtime,
                drift_threshold=drift_threshold,
                image_uri=image_uri or sklearn_image_uri(self),
                log_retention=log_retention,
                create_log_group=create_processing_log_group,
            )
            self.drift_alarm: cloudwatch.IAlarm = self._violations_alarm(drift_evaluation_periods)
        else:
            assert baseline_key_prefix is not None  # checked in _validate
            self._managed(
                baseline_bucket=baseline_bucket,
                baseline_key_prefix=baseline_key_prefix,
                job_network=job_network,
                encryption_key=encryption_key,
                instance_type=instance_type,
                instance_count=instance_count,
                volume_size_gb=volume_size_gb,
                max_runtime=max_runtime,
            )
            self.drift_alarm = self._feature_alarms(drift_threshold, drift_evaluation_periods)

    # ------------------------------------------------------------------ validation and schema

    def _validate(
        self,
        *,
        endpoint_name: str,
        variant_name: str,
        baseline_key_prefix: str | None,
        instance_type: str,
        instance_count: int,
        volume_size_gb: int,
        drift_threshold: float,
        drift_evaluation_periods: int,
    ) -> None:
        def sm_name(v: str) -> bool:
            return 0 < len(v) <= 63 and v[0].isalnum() and all(c.isalnum() or c == "-" for c in v)

        check_prop(
            self,
            "endpoint_name",
            endpoint_name,
            sm_name,
            "Use 1 to 63 letters, digits and hyphens, starting with a letter or digit "
            "(SageMaker's endpoint name rule).",
        )
        check_prop(
            self,
            "variant_name",
            variant_name,
            sm_name,
            "Use the production variant's name (1 to 63 letters, digits and hyphens).",
        )
        unknown = [m for m in self.monitors if m not in jc.MONITORS]
        check_prop(
            self,
            "monitors",
            list(self.monitors),
            bool(self.monitors) and not unknown and len(set(self.monitors)) == len(self.monitors),
            f"Use a non-empty subset of {list(jc.MONITORS)} without repeats.",
        )
        if baseline_key_prefix is not None:
            check_prop(
                self,
                "baseline_key_prefix",
                baseline_key_prefix,
                lambda v: bool(v.strip("/")) and not v.startswith("s3://"),
                "Pass the folder's key inside baseline_bucket, e.g. 'baselines/churn-v3' "
                "(not an s3:// URI).",
            )
        elif self.backend is MonitoringBackend.MANAGED:
            raise prop_error(
                self,
                "baseline_key_prefix",
                None,
                "The MANAGED backend takes a fixed baseline (DataQualityJobDefinition has no "
                "lookup): pass the folder with statistics.json and constraints.json.",
            )
        if self.backend is MonitoringBackend.MANAGED and jc.MONITOR_DATA_QUALITY not in (
            self.monitors
        ):
            raise prop_error(
                self,
                "monitors",
                list(self.monitors),
                "The MANAGED backend runs Model Monitor's data-quality monitor; include "
                "'data-quality' or use the PORTABLE backend.",
            )
        problem = instance_type_problem(instance_type, PROCESSING_INSTANCE_TYPES)
        check_prop(self, "instance_type", instance_type, problem is None, problem or "")
        check_prop(
            self,
            "instance_count",
            instance_count,
            isinstance(instance_count, int) and not isinstance(instance_count, bool)
            and 1 <= instance_count <= 100,
            "Use an integer from 1 to 100 (> 1 shards the capture across instances).",
        )  # fmt: skip
        check_prop(
            self,
            "volume_size_gb",
            volume_size_gb,
            isinstance(volume_size_gb, int) and 1 <= volume_size_gb <= 16384,
            "Use an integer number of GB from 1 to 16384.",
        )
        check_prop(
            self,
            "drift_threshold",
            drift_threshold,
            isinstance(drift_threshold, (int, float)) and 0 < drift_threshold < 1,
            "Use a distance between 0 and 1 (exclusive), e.g. 0.1.",
        )
        window_hours = self.frequency.millis // 3_600_000
        check_prop(
            self,
            "drift_evaluation_periods",
            drift_evaluation_periods,
            isinstance(drift_evaluation_periods, int)
            and 1 <= drift_evaluation_periods * window_hours <= 24 * 7
            and drift_evaluation_periods >= 1,
            "Use at least 1, and at most 7 days of windows (CloudWatch evaluates alarms with "
            "periods of an hour or more over at most 7 days).",
        )

    def _load_schema(self, code: PipelineCode, schema: str) -> Schema:
        path = code.code_dir / "schemas" / f"{schema}.json"
        if not path.is_file():
            raise prop_error(
                self,
                "schema",
                schema,
                f"{path} does not exist; pass a schema name under the code's schemas/ folder.",
            )
        try:
            return Schema.from_file(path)
        except SchemaError as err:
            raise prop_error(
                self, "schema", schema, f"{path} is not a valid schema: {err}"
            ) from err

    # ------------------------------------------------------------------ job role

    def _grant_job(
        self,
        code: PipelineCode,
        baseline_bucket: s3.IBucket,
        baseline_key_prefix: str | None,
        job_network: JobNetwork,
        encryption_key: kms.IKey,
        stack: cdk.Stack,
    ) -> None:
        role = self.job_role
        code.grant_read(role)
        self.capture_bucket.grant_read(role, f"{self.capture_prefix}/*")
        self.capture_bucket.grant_read(role, f"{self.ground_truth_prefix}/*")
        baseline_objects = f"{baseline_key_prefix.strip('/')}/*" if baseline_key_prefix else "*"
        baseline_bucket.grant_read(role, baseline_objects)
        self.output_bucket.grant_put(role, f"{self.output_prefix}/*")
        self.output_bucket.grant_read(role, f"{self.output_prefix}/*")  # the merge job's input
        encryption_key.grant_encrypt_decrypt(role)
        for statement in (
            *vpc_job_network_statements(stack, job_network),
            *job_logs_and_metrics(stack),
        ):
            role.add_to_principal_policy(statement)
        for policy in grant_policies(role):
            acknowledge_inline_policy(policy, "monitoring job role")
        findings = [
            resource_finding(self, _bucket_objects(self.capture_bucket, self.capture_prefix)),
            resource_finding(self, _bucket_objects(self.capture_bucket, self.ground_truth_prefix)),
            resource_finding(self, _bucket_objects(self.output_bucket, self.output_prefix)),
            resource_finding(self, baseline_bucket.arn_for_objects(baseline_objects)),
            "AwsSolutions-IAM5[Action::s3:GetObject*]",
            "AwsSolutions-IAM5[Action::s3:GetBucket*]",
            "AwsSolutions-IAM5[Action::s3:List*]",
            "AwsSolutions-IAM5[Action::s3:Abort*]",
            "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "AwsSolutions-IAM5[Resource::*]",
            resource_finding(self, stack.format_arn(service="ec2", resource="network-interface",
                                                    resource_name="*")),
            resource_finding(self, stack.format_arn(
                service="logs", resource="log-group", resource_name="/aws/sagemaker/*",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME)),
        ]  # fmt: skip
        for bundle in (code.zip_asset, code.sourcedir_asset):
            findings.append(resource_finding(self, bundle.bucket.arn_for_objects("*")))
        acknowledge(
            role,
            sorted(set(findings)),
            "Prefix-scoped grants: the window's capture and ground-truth folders are only known "
            "at run time; the baseline folder is the one the deployed model package records "
            "(any key of the baseline bucket unless baseline_key_prefix fixes it); S3/KMS "
            "grant helpers use the action wildcards; SageMaker names the job's network "
            "interfaces and log streams at run time; EC2 Describe* and PutMetricData (limited "
            "to SageMaker namespaces) have no resource-level permissions.",
        )

    # ------------------------------------------------------------------ portable backend

    def _processing_request(
        self,
        *,
        mode: str,
        code: PipelineCode,
        job_network: JobNetwork,
        encryption_key: kms.IKey,
        instance_type: str,
        instance_count: int,
        volume_size_gb: int,
        max_runtime: cdk.Duration,
        drift_threshold: float,
        image_uri: str,
        job_name: str,
    ) -> dict[str, Any]:
        """The CreateProcessingJob request of one job, with JSONata expressions for the window."""
        output_uri = "{% $outputUri %}"
        args = [
            *jc.container_arguments(
                endpoint_name=self.endpoint_name,
                schedule_name=self.schedule_name,
                monitors=self.monitors,
                mode=mode,
            ),
            jc.FLAG_THRESHOLD,
            repr(float(drift_threshold)),
            jc.FLAG_WINDOW_START,
            "{% $windowStart %}",
            jc.FLAG_WINDOW_END,
            "{% $windowEnd %}",
        ]

        def s3_input(name: str, uri: str, distribution: str = "FullyReplicated") -> dict[str, Any]:
            return {
                "InputName": name,
                "S3Input": {
                    "S3Uri": uri,
                    "LocalPath": jc.INPUT_LOCAL_PATHS[name],
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": distribution,
                },
            }

        code_input = s3_input(jc.INPUT_CODE, code.zip_s3_uri)
        if mode == jc.MODE_MERGE:
            inputs_expr: Any = [
                code_input,
                s3_input(jc.INPUT_BASELINE, "{% $baselineUri %}"),
                s3_input(jc.INPUT_PARTIALS, "{% $outputUri & '/" + jc.PARTIALS_SUBDIR + "' %}"),
            ]
        else:
            sharded = "ShardedByS3Key" if mode == jc.MODE_PARTIAL else "FullyReplicated"
            base = [
                code_input,
                s3_input(jc.INPUT_CAPTURE, "{% $captureUri %}", sharded),
                s3_input(jc.INPUT_BASELINE, "{% $baselineUri %}"),
            ]
            ground_truth = s3_input(jc.INPUT_GROUND_TRUTH, "{% $groundTruthUri %}")
            # JSONata: the ground-truth input only when the window has labels (SageMaker fails
            # a job whose S3 input prefix is empty).
            inputs_expr = (
                "{% $append("
                + jsonata_literal(base)
                + ", $groundTruthCount > 0 ? ["
                + jsonata_literal(ground_truth)
                + "] : []) %}"
            )
        return {
            "ProcessingJobName": job_name,
            "RoleArn": self.job_role.role_arn,
            "AppSpecification": {
                "ImageUri": image_uri,
                "ContainerEntrypoint": module_entrypoint(jc.CODE_LOCAL_PATH, jc.MODULE),
                "ContainerArguments": args,
            },
            "Environment": {"CODE_VERSION": code.code_version},
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceCount": instance_count if mode == jc.MODE_PARTIAL else 1,
                    "InstanceType": instance_type,
                    "VolumeSizeInGB": volume_size_gb,
                    "VolumeKmsKeyId": encryption_key.key_arn,
                }
            },
            "ProcessingInputs": inputs_expr,
            "ProcessingOutputConfig": {
                "KmsKeyId": encryption_key.key_arn,
                "Outputs": [
                    {
                        "OutputName": jc.OUTPUT_NAME,
                        "S3Output": {
                            "S3Uri": output_uri,
                            "LocalPath": jc.OUTPUT_LOCAL_PATH,
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ],
            },
            "NetworkConfig": {
                "EnableNetworkIsolation": True,
                "EnableInterContainerTrafficEncryption": True,
                "VpcConfig": {
                    "Subnets": job_network.subnet_ids,
                    "SecurityGroupIds": job_network.security_group_ids,
                },
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": int(max_runtime.to_seconds())},
            "Tags": [
                {"Key": "cdk-mlops:endpoint", "Value": self.endpoint_name},
                {"Key": "cdk-mlops:monitoring-schedule", "Value": self.schedule_name},
            ],
        }

    def definition(
        self,
        *,
        jobs: Sequence[tuple[str, dict[str, Any]]],
        baseline_uri: str | None,
        topic_arn: str | None,
    ) -> dict[str, Any]:
        """The state machine (JSONata). ``jobs``: (state name, CreateProcessingJob request)."""
        period = self.frequency.millis
        capture_bucket = self.capture_bucket.bucket_name
        output_bucket = self.output_bucket.bucket_name
        stamp = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01]Z"
        window: dict[str, str] = {
            "scheduled": "{% $toMillis($states.input.scheduledTime ? $states.input.scheduledTime"
            " : $states.context.Execution.StartTime) %}",
        }
        window_from_scheduled = {
            "startMs": f"{{% $floor($scheduled / {period}) * {period} - {period} %}}",
        }
        derived = {
            "windowStart": f"{{% $fromMillis($startMs, '{stamp}') %}}",
            "windowEnd": f"{{% $fromMillis($startMs + {period}, '{stamp}') %}}",
            "folder": f"{{% $fromMillis($startMs, '{self.frequency.folder_picture}') %}}",
            "jobSuffix": "{% $fromMillis($startMs, '[Y0001][M01][D01][H01]') & '-' & "
            "$substring($uuid(), 0, 8) %}",
        }
        uris = {
            "captureKey": "{% '" + self.capture_prefix + "/' & $folder & '/' %}",
            "groundTruthKey": "{% '" + self.ground_truth_prefix + "/' & $folder & '/' %}",
            "captureUri": "{% 's3://" + capture_bucket + "/" + self.capture_prefix
            + "/' & $folder & '/' %}",
            "groundTruthUri": "{% 's3://" + capture_bucket + "/" + self.ground_truth_prefix
            + "/' & $folder & '/' %}",
            "outputUri": "{% 's3://" + output_bucket + "/" + self.output_prefix
            + "/' & $folder %}",
        }  # fmt: skip
        states: dict[str, Any] = {
            "Window": {
                "Type": "Pass",
                "Comment": "The window: the previous UTC hour or day of the scheduled time.",
                "Assign": window,
                "Next": "WindowStart",
            },
            "WindowStart": {"Type": "Pass", "Assign": window_from_scheduled, "Next": "WindowNames"},
            "WindowNames": {"Type": "Pass", "Assign": derived, "Next": "WindowUris"},
            "WindowUris": {"Type": "Pass", "Assign": uris, "Next": "ListCapture"},
            "ListCapture": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:listObjectsV2",
                "Arguments": {
                    "Bucket": capture_bucket,
                    "Prefix": "{% $captureKey %}",
                    "MaxKeys": 1,
                },
                "Assign": {"captureCount": "{% $states.result.KeyCount %}"},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "RunFailed"}],
                "Next": "HasCapture?",
            },
            "HasCapture?": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $captureCount > 0 %}", "Next": "ListGroundTruth"}],
                "Default": "NoCapture",
            },
            "NoCapture": {
                "Type": "Succeed",
                "Comment": "No traffic in the window: no job, no cost.",
                "Output": "{% {'decision': 'no-capture', 'window_start': $windowStart} %}",
            },
            "ListGroundTruth": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:listObjectsV2",
                "Arguments": {
                    "Bucket": capture_bucket,
                    "Prefix": "{% $groundTruthKey %}",
                    "MaxKeys": 1,
                },
                "Assign": {"groundTruthCount": "{% $states.result.KeyCount %}"},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "RunFailed"}],
                "Next": "Baseline" if baseline_uri is not None else "DescribeEndpoint",
            },
        }
        first_job = jobs[0][0]
        if baseline_uri is not None:
            states["Baseline"] = {
                "Type": "Pass",
                "Assign": {"baselineUri": baseline_uri},
                "Next": first_job,
            }
        else:
            states.update(self._baseline_lookup(first_job))
        for i, (name, request) in enumerate(jobs):
            states[name] = {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createProcessingJob.sync",
                "Arguments": {
                    **request,
                    "ProcessingJobName": "{% '"
                    + request["ProcessingJobName"]
                    + "-' & $jobSuffix %}",
                },
                "Retry": [
                    {
                        "ErrorEquals": ["SageMaker.AmazonSageMakerException"],
                        "IntervalSeconds": 60,
                        "MaxAttempts": 2,
                        "BackoffRate": 2,
                    }
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "RunFailed"}],
                "Next": jobs[i + 1][0] if i + 1 < len(jobs) else "Done",
            }
        states["Done"] = {
            "Type": "Succeed",
            "Output": "{% {'decision': 'monitored', 'window_start': $windowStart, "
            "'output': $outputUri, 'baseline': $baselineUri, "
            "'ground_truth': $groundTruthCount > 0} %}",
        }
        failure = {
            "Type": "Fail",
            "Error": "MonitoringRunFailed",
            "Cause": "See the previous state's output: NoBaseline, or the failed "
            "listing, lookup or processing job's error.",
        }
        if topic_arn is not None:
            states["RunFailed"] = {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Arguments": {
                    "TopicArn": topic_arn,
                    "Subject": "cdk-mlops monitoring run failed",
                    "Message": "{% $string({'endpoint': '" + self.endpoint_name + "', "
                    "'window_start': $windowStart, 'error': $states.input}) %}",
                },
                "Next": "Failed",
            }
            states["Failed"] = failure
        else:
            states["RunFailed"] = failure
        return {
            "Comment": f"Monitoring of {self.endpoint_name}: window, capture check, baseline, job.",
            "QueryLanguage": "JSONata",
            "StartAt": "Window",
            "States": states,
        }

    def _baseline_lookup(self, next_state: str) -> dict[str, Any]:
        """DescribeEndpoint -> config -> model -> model package: its data-quality baseline."""
        statistics = "$states.result.DriftCheckBaselines.ModelDataQuality.Statistics.S3Uri"
        return {
            **deployed_package_states(
                endpoint_name=self.endpoint_name,
                variant_name=self.variant_name,
                assign={"statisticsUri": f"{{% {statistics} ? {statistics} : '' %}}"},
                next_state="HasBaseline?",
                missing_state="NoBaseline",
                catch_state="RunFailed",
            ),
            "HasBaseline?": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $statisticsUri != '' %}", "Next": "BaselineFolder"}],
                "Default": "NoBaseline",
            },
            "NoBaseline": {
                "Type": "Pass",
                "Comment": "Reported like any failed run (topic, then Fail).",
                "Output": {
                    "Error": "NoBaseline",
                    "Cause": "The endpoint does not serve a model package with "
                    "DriftCheckBaselines.ModelDataQuality (or no variant named "
                    f"{self.variant_name}); register it with a baseline, pass "
                    "baseline_key_prefix, or fix variant_name.",
                },
                "Next": "RunFailed",
            },
            "BaselineFolder": {
                "Type": "Pass",
                "Comment": "statistics.json's folder: constraints.json and schema.json are beside it.",
                "Assign": {
                    "baselineUri": "{% $join($split($statisticsUri, '/')"
                    "[[0..($count($split($statisticsUri, '/')) - 2)]], '/') %}"
                },
                "Next": next_state,
            },
        }

    def _portable(
        self,
        *,
        code: PipelineCode,
        baseline_bucket: s3.IBucket,
        baseline_key_prefix: str | None,
        job_network: JobNetwork,
        encryption_key: kms.IKey,
        logs_key: kms.IKey,
        instance_type: str,
        instance_count: int,
        volume_size_gb: int,
        max_runtime: cdk.Duration,
        drift_threshold: float,
        image_uri: str,
        log_retention: logs.RetentionDays,
        create_log_group: bool,
    ) -> None:
        stack = cdk.Stack.of(self)
        common: dict[str, Any] = {
            "code": code,
            "job_network": job_network,
            "encryption_key": encryption_key,
            "instance_type": instance_type,
            "instance_count": instance_count,
            "volume_size_gb": volume_size_gb,
            "max_runtime": max_runtime,
            "drift_threshold": drift_threshold,
            "image_uri": image_uri,
        }
        if instance_count == 1:
            jobs = [
                ("Monitor", self._processing_request(mode=jc.MODE_ALL, job_name=self.name_prefix,
                                                     **common)),
            ]  # fmt: skip
        else:
            jobs = [
                ("MonitorShards", self._processing_request(
                    mode=jc.MODE_PARTIAL, job_name=f"{self.name_prefix}-p", **common)),
                ("MergeShards", self._processing_request(
                    mode=jc.MODE_MERGE, job_name=f"{self.name_prefix}-m", **common)),
            ]  # fmt: skip
        baseline_uri = (
            f"s3://{baseline_bucket.bucket_name}/{baseline_key_prefix.strip('/')}"
            if baseline_key_prefix
            else None
        )
        self.state_definition = self.definition(
            jobs=jobs,
            baseline_uri=baseline_uri,
            topic_arn=self.alarm_topic.topic_arn if self.alarm_topic else None,
        )
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            encryption_key=logs_key,
            retention=log_retention,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "states.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
            description=f"Monitoring runs of endpoint {self.endpoint_name}",
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_string(
                stack.to_json_string(self.state_definition)
            ),
            role=self.role,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False
            ),
        )
        self._grant_state_machine(baseline_key_prefix is None, encryption_key, stack)
        self._schedule(stack)
        self._metric_filters(logs_key, log_retention, create_log_group)

    def _grant_state_machine(
        self, lookup: bool, encryption_key: kms.IKey, stack: cdk.Stack
    ) -> None:
        role = self.role
        jobs_arn = sagemaker_arn(stack, "processing-job", f"{self.name_prefix}-*")
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ListWindow",
                actions=["s3:ListBucket"],
                resources=[self.capture_bucket.bucket_arn],
                conditions={
                    "StringLike": {
                        "s3:prefix": [f"{self.capture_prefix}/*", f"{self.ground_truth_prefix}/*"]
                    }
                },
            )
        )
        role.add_to_principal_policy(
            create_jobs_in_vpc(
                ["sagemaker:CreateProcessingJob"], [jobs_arn], require_isolation=True
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="WatchJobs",
                actions=[
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:StopProcessingJob",
                    "sagemaker:AddTags",
                ],
                resources=[jobs_arn],
            )
        )
        # Step Functions' policy for SageMaker .sync jobs also lists tags, on "*"
        role.add_to_principal_policy(
            iam.PolicyStatement(sid="SyncListTags", actions=["sagemaker:ListTags"], resources=["*"])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="SyncRule",
                actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
                resources=[stack.format_arn(service="events", resource="rule",
                                            resource_name=SYNC_RULE)],
            )
        )  # fmt: skip
        role.add_to_principal_policy(volume_key_grants(encryption_key))
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PassJobRole",
                actions=["iam:PassRole"],
                resources=[self.job_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            )
        )
        if lookup:
            role.add_to_principal_policy(
                describe_deployed_package_statement(stack, self.endpoint_name)
            )
        if self.alarm_topic is not None:
            self.alarm_topic.grant_publish(role)
        machine = self.state_machine
        assert machine is not None
        cfn_machine = machine.node.default_child
        assert isinstance(cfn_machine, sfn.CfnStateMachine)
        cfn_machine.add_override(
            "DependsOn",
            [stack.get_logical_id(p.node.default_child) for p in grant_policies(role)],  # type: ignore[arg-type]
        )
        for policy in grant_policies(role):
            acknowledge_inline_policy(policy, "monitoring state machine")
        acknowledge(
            role,
            sorted(
                {
                    resource_finding(self, jobs_arn),
                    "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
                    "AwsSolutions-IAM5[Resource::*]",
                    *(describe_findings(stack) if lookup else []),
                }
            ),
            "Job names carry the window and a random id, so jobs are granted by this "
            "construct's name prefix; the deployed endpoint config, model and model package "
            "change with every deployment (read-only Describe calls); publishing to the "
            "encrypted topic needs GenerateDataKey* on its key; X-Ray and CloudWatch Logs "
            "delivery APIs have no resource-level permissions.",
        )

    def _schedule(self, stack: cdk.Stack) -> None:
        machine = self.state_machine
        assert machine is not None
        self.scheduler_role = iam.Role(
            self,
            "SchedulerRole",
            # aws:SourceArn = the schedule group, as EventBridge Scheduler's confused-deputy
            # guidance recommends (the schedule is in the default group)
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": stack.account,
                        "aws:SourceArn": stack.format_arn(
                            service="scheduler",
                            resource="schedule-group",
                            resource_name="default",
                        ),
                    }
                },
            ),
            description=f"Starts the monitoring runs of endpoint {self.endpoint_name}",
        )
        machine.grant_start_execution(self.scheduler_role)
        for policy in grant_policies(self.scheduler_role):
            acknowledge_inline_policy(policy, "monitoring scheduler role")
        # A quarter past the hour (or 00:15 UTC): the capture of the window is complete by then
        # (SageMaker writes capture files within minutes).
        expression = (
            "cron(15 * * * ? *)"
            if self.frequency is MonitoringFrequency.HOURLY
            else "cron(15 0 * * ? *)"
        )
        # No customer key (KmsKeyArn): the schedule holds only the target ARN and a fixed input
        # template; an AWS owned key encrypts it.
        self.schedule = scheduler.CfnSchedule(
            self,
            "Schedule",
            description=f"{self.frequency.value} monitoring of endpoint {self.endpoint_name}",
            schedule_expression=expression,
            schedule_expression_timezone="UTC",
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            state="ENABLED",
            target=scheduler.CfnSchedule.TargetProperty(
                arn=machine.state_machine_arn,
                role_arn=self.scheduler_role.role_arn,
                input=json.dumps({"scheduledTime": "<aws.scheduler.scheduled-time>"}),
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_event_age_in_seconds=3600, maximum_retry_attempts=3
                ),
            ),
        )

    def _metric_filters(
        self, logs_key: kms.IKey, retention: logs.RetentionDays, create: bool
    ) -> None:
        group_name = ml.PROCESSING_LOG_GROUP
        if create:
            self.processing_log_group = logs.LogGroup(
                self,
                "ProcessingJobsLogGroup",
                log_group_name=group_name,
                encryption_key=logs_key,
                retention=retention,
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
        for i, d in enumerate(ml.metric_filters(self.metric_definitions)):
            f = logs.CfnMetricFilter(
                self,
                f"Metric{i}",
                log_group_name=group_name,
                filter_name=f"{self.name_prefix}-{d.name}"[:512],
                filter_pattern=d.filter_pattern_for(self.endpoint_name),
                metric_transformations=[
                    logs.CfnMetricFilter.MetricTransformationProperty(
                        metric_name=d.name,
                        metric_namespace=d.namespace,
                        metric_value="$.value",
                        dimensions=[
                            logs.CfnMetricFilter.DimensionProperty(key=k, value=v)
                            for k, v in d.dimensions.items()
                        ],
                    )
                ],
            )
            if self.processing_log_group is not None:
                f.node.add_dependency(self.processing_log_group)
            self.metric_filters.append(f)
        self.node.add_validation(_FilterBudget(self))

    # ------------------------------------------------------------------ managed backend

    def _managed(
        self,
        *,
        baseline_bucket: s3.IBucket,
        baseline_key_prefix: str,
        job_network: JobNetwork,
        encryption_key: kms.IKey,
        instance_type: str,
        instance_count: int,
        volume_size_gb: int,
        max_runtime: cdk.Duration,
    ) -> None:
        stack = cdk.Stack.of(self)
        mapping = cdk.CfnMapping(
            self,
            "AnalyzerImageAccounts",
            mapping={r: {"account": a} for r, a in MODEL_MONITOR_ACCOUNTS.items()},
        )
        account = mapping.find_in_map(cdk.Aws.REGION, "account")
        image = f"{account}.dkr.ecr.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}/{MODEL_MONITOR_IMAGE_TAG}"
        baseline = f"s3://{baseline_bucket.bucket_name}/{baseline_key_prefix.strip('/')}"
        self.job_definition = sagemaker.CfnDataQualityJobDefinition(
            self,
            "JobDefinition",
            data_quality_app_specification=sagemaker.CfnDataQualityJobDefinition.DataQualityAppSpecificationProperty(
                image_uri=image,
                environment={"publish_cloudwatch_metrics": "Enabled"},
            ),
            data_quality_baseline_config=sagemaker.CfnDataQualityJobDefinition.DataQualityBaselineConfigProperty(
                constraints_resource=sagemaker.CfnDataQualityJobDefinition.ConstraintsResourceProperty(
                    s3_uri=f"{baseline}/constraints.json"
                ),
                statistics_resource=sagemaker.CfnDataQualityJobDefinition.StatisticsResourceProperty(
                    s3_uri=f"{baseline}/statistics.json"
                ),
            ),
            data_quality_job_input=sagemaker.CfnDataQualityJobDefinition.DataQualityJobInputProperty(
                endpoint_input=sagemaker.CfnDataQualityJobDefinition.EndpointInputProperty(
                    endpoint_name=self.endpoint_name,
                    local_path=jc.CAPTURE_LOCAL_PATH,
                    s3_data_distribution_type="FullyReplicated",
                    s3_input_mode="File",
                )
            ),
            data_quality_job_output_config=sagemaker.CfnDataQualityJobDefinition.MonitoringOutputConfigProperty(
                kms_key_id=encryption_key.key_arn,
                monitoring_outputs=[
                    sagemaker.CfnDataQualityJobDefinition.MonitoringOutputProperty(
                        s3_output=sagemaker.CfnDataQualityJobDefinition.S3OutputProperty(
                            local_path=jc.OUTPUT_LOCAL_PATH,
                            s3_uri=f"s3://{self.output_bucket.bucket_name}/{self.output_prefix}",
                            s3_upload_mode="EndOfJob",
                        )
                    )
                ],
            ),
            job_resources=sagemaker.CfnDataQualityJobDefinition.MonitoringResourcesProperty(
                cluster_config=sagemaker.CfnDataQualityJobDefinition.ClusterConfigProperty(
                    instance_count=instance_count,
                    instance_type=instance_type,
                    volume_size_in_gb=volume_size_gb,
                    volume_kms_key_id=encryption_key.key_arn,
                )
            ),
            network_config=sagemaker.CfnDataQualityJobDefinition.NetworkConfigProperty(
                enable_network_isolation=True,
                enable_inter_container_traffic_encryption=True,
                vpc_config=sagemaker.CfnDataQualityJobDefinition.VpcConfigProperty(
                    subnets=job_network.subnet_ids,
                    security_group_ids=job_network.security_group_ids,
                ),
            ),
            role_arn=self.job_role.role_arn,
            stopping_condition=sagemaker.CfnDataQualityJobDefinition.StoppingConditionProperty(
                # Model Monitor: at most an hour for hourly schedules, a day for daily ones
                max_runtime_in_seconds=min(
                    int(max_runtime.to_seconds()), self.frequency.millis // 1000
                )
            ),
        )  # fmt: skip
        # The role and its policy must exist before SageMaker validates the definition.
        for policy in grant_policies(self.job_role):
            self.job_definition.node.add_dependency(policy)
        expression = (
            "cron(0 * ? * * *)"
            if self.frequency is MonitoringFrequency.HOURLY
            else "cron(0 0 ? * * *)"
        )
        self.monitoring_schedule = sagemaker.CfnMonitoringSchedule(
            self,
            "MonitoringSchedule",
            monitoring_schedule_name=self.schedule_name,
            endpoint_name=self.endpoint_name,
            monitoring_schedule_config=sagemaker.CfnMonitoringSchedule.MonitoringScheduleConfigProperty(
                # every property of the definition is create-only: CloudFormation replaces it on
                # any change, which a fixed name would block; the generated name is in the ARN
                monitoring_job_definition_name=cdk.Fn.select(
                    1, cdk.Fn.split("/", self.job_definition.attr_job_definition_arn)
                ),
                monitoring_type="DataQuality",
                schedule_config=sagemaker.CfnMonitoringSchedule.ScheduleConfigProperty(
                    schedule_expression=expression
                ),
            ),
        )  # fmt: skip
        self.model_quality_job_definition: sagemaker.CfnModelQualityJobDefinition | None = None
        self.model_quality_schedule: sagemaker.CfnMonitoringSchedule | None = None
        if jc.MONITOR_MODEL_QUALITY in self.monitors:
            self._managed_model_quality(
                image=image,
                job_network=job_network,
                encryption_key=encryption_key,
                instance_type=instance_type,
                volume_size_gb=volume_size_gb,
                max_runtime=max_runtime,
                expression=expression,
            )
        del stack

    def _managed_model_quality(
        self,
        *,
        image: str,
        job_network: JobNetwork,
        encryption_key: kms.IKey,
        instance_type: str,
        volume_size_gb: int,
        max_runtime: cdk.Duration,
        expression: str,
    ) -> None:
        """Model Monitor's model-quality job: the window's capture merged with the ground truth
        under ``ground-truth/<endpoint>/`` by event id (binary classification).

        The endpoint's CSV response is ``probability,label`` per row (our inference handler),
        so the probability is column 0 and the label column 1 (``MANAGED_PROBABILITY_ATTRIBUTE``
        / ``MANAGED_INFERENCE_ATTRIBUTE``); responses in another format need other attributes.
        """
        M = sagemaker.CfnModelQualityJobDefinition
        window = "PT1H" if self.frequency is MonitoringFrequency.HOURLY else "P1D"
        self.model_quality_job_definition = M(
            self,
            "ModelQualityJobDefinition",
            model_quality_app_specification=M.ModelQualityAppSpecificationProperty(
                image_uri=image,
                problem_type="BinaryClassification",
                environment={"publish_cloudwatch_metrics": "Enabled"},
            ),
            model_quality_job_input=M.ModelQualityJobInputProperty(
                endpoint_input=M.EndpointInputProperty(
                    endpoint_name=self.endpoint_name,
                    local_path=jc.CAPTURE_LOCAL_PATH,
                    probability_attribute=MANAGED_PROBABILITY_ATTRIBUTE,
                    inference_attribute=MANAGED_INFERENCE_ATTRIBUTE,
                    probability_threshold_attribute=0.5,
                    s3_data_distribution_type="FullyReplicated",
                    s3_input_mode="File",
                    # the previous window, as the portable backend reads it
                    start_time_offset=f"-{window}",
                    end_time_offset="-PT0H",
                ),
                ground_truth_s3_input=M.MonitoringGroundTruthS3InputProperty(
                    s3_uri=f"s3://{self.capture_bucket.bucket_name}/{self.ground_truth_prefix}"
                ),
            ),
            model_quality_job_output_config=M.MonitoringOutputConfigProperty(
                kms_key_id=encryption_key.key_arn,
                monitoring_outputs=[
                    M.MonitoringOutputProperty(
                        s3_output=M.S3OutputProperty(
                            local_path=jc.OUTPUT_LOCAL_PATH,
                            s3_uri=f"s3://{self.output_bucket.bucket_name}/{self.output_prefix}/model-quality",
                            s3_upload_mode="EndOfJob",
                        )
                    )
                ],
            ),
            job_resources=M.MonitoringResourcesProperty(
                cluster_config=M.ClusterConfigProperty(
                    instance_count=1,
                    instance_type=instance_type,
                    volume_size_in_gb=volume_size_gb,
                    volume_kms_key_id=encryption_key.key_arn,
                )
            ),
            network_config=M.NetworkConfigProperty(
                enable_network_isolation=True,
                enable_inter_container_traffic_encryption=True,
                vpc_config=M.VpcConfigProperty(
                    subnets=job_network.subnet_ids,
                    security_group_ids=job_network.security_group_ids,
                ),
            ),
            role_arn=self.job_role.role_arn,
            stopping_condition=M.StoppingConditionProperty(
                max_runtime_in_seconds=min(
                    int(max_runtime.to_seconds()), self.frequency.millis // 1000
                )
            ),
        )  # fmt: skip
        for policy in grant_policies(self.job_role):
            self.model_quality_job_definition.node.add_dependency(policy)
        self.model_quality_schedule = sagemaker.CfnMonitoringSchedule(
            self,
            "ModelQualitySchedule",
            monitoring_schedule_name=self.quality_schedule_name,
            endpoint_name=self.endpoint_name,
            monitoring_schedule_config=sagemaker.CfnMonitoringSchedule.MonitoringScheduleConfigProperty(
                monitoring_job_definition_name=cdk.Fn.select(
                    1,
                    cdk.Fn.split("/", self.model_quality_job_definition.attr_job_definition_arn),
                ),
                monitoring_type="ModelQuality",
                schedule_config=sagemaker.CfnMonitoringSchedule.ScheduleConfigProperty(
                    schedule_expression=expression
                ),
            ),
        )  # fmt: skip

    # ------------------------------------------------------------------ metrics and alarms

    def _metric(
        self,
        name: str,
        namespace: str,
        extra: dict[str, str] | None = None,
        statistic: str = "Maximum",
        **options: Any,
    ) -> cloudwatch.Metric:
        dims = {
            ml.ENDPOINT_DIMENSION: self.endpoint_name,
            ml.SCHEDULE_DIMENSION: self.schedule_name,
            **(extra or {}),
        }
        return cloudwatch.Metric(
            namespace=namespace,
            metric_name=name,
            dimensions_map=dims,
            statistic=statistic,
            period=self.frequency.period,
            **options,
        )

    def metric_feature_drift(self, feature: str, **options: Any) -> cloudwatch.Metric:
        """``feature_baseline_drift_<feature>``: distance of the feature to its baseline."""
        if feature not in self.schema.feature_names:
            raise prop_error(self, "feature", feature, f"Use one of {self.schema.feature_names}.")
        return self._metric(ml.DRIFT_PREFIX + feature, ml.DATA_NAMESPACE, **options)

    def metric_drift_violations(
        self, monitor: str = jc.MONITOR_DATA_QUALITY, **options: Any
    ) -> cloudwatch.Metric:
        """Violations a monitor found in a window (PORTABLE only; Model Monitor has no such
        metric)."""
        if monitor not in self.monitors:
            raise prop_error(self, "monitor", monitor, f"Use one of {list(self.monitors)}.")
        return self._metric(
            ml.VIOLATIONS_METRIC, ml.OWN_NAMESPACE, {ml.MONITOR_DIMENSION: monitor}, **options
        )

    def metric_prediction_drift(self, **options: Any) -> cloudwatch.Metric:
        """Distance of the score distribution to the baseline's."""
        return self._metric(ml.PREDICTION_DRIFT_METRIC, ml.DATA_NAMESPACE, **options)

    def metric_model_quality(self, name: str = "auc", **options: Any) -> cloudwatch.Metric:
        """A binary-classification metric on labelled traffic (``auc``, ``accuracy``, ...)."""
        if name not in ml.MODEL_QUALITY_METRICS:
            raise prop_error(self, "name", name, f"Use one of {list(ml.MODEL_QUALITY_METRICS)}.")
        return self._metric(
            name,
            ml.MODEL_NAMESPACE,
            {ml.SCHEDULE_DIMENSION: self.quality_schedule_name},
            **options,
        )

    def metric_bias(self, name: str, facet: str, **options: Any) -> cloudwatch.Metric:
        """A bias metric (``bias_metric_DPPL``, ``_DI``, ``_RD``) for one sensitive attribute."""
        if name not in ml.BIAS_METRICS:
            raise prop_error(self, "name", name, f"Use one of {list(ml.BIAS_METRICS)}.")
        return self._metric(name, ml.BIAS_NAMESPACE, {ml.FACET_DIMENSION: facet}, **options)

    def metric_runs_failed(self, **options: Any) -> cloudwatch.Metric:
        """Monitoring runs that failed (PORTABLE: state machine executions)."""
        if self.state_machine is None:
            raise prop_error(self, "backend", self.backend.value, "Use the PORTABLE backend.")
        return self.state_machine.metric_failed(**options)

    def _add_action(self, alarm: cloudwatch.IAlarm) -> None:
        if self.alarm_topic is not None and isinstance(
            alarm, (cloudwatch.Alarm, cloudwatch.CompositeAlarm)
        ):
            alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))

    def _violations_alarm(self, periods: int) -> cloudwatch.Alarm:
        window = "hour" if self.frequency is MonitoringFrequency.HOURLY else "day"
        alarm = self.metric_drift_violations().create_alarm(
            self,
            "DriftAlarm",
            threshold=1,
            evaluation_periods=periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=(
                f"Data drift on endpoint {self.endpoint_name}: at least one feature moved past "
                f"its baseline in {periods} consecutive {window}(s). What to do: open "
                f"s3://<output bucket>/{self.output_prefix}/<window>/data-quality/"
                "constraint_violations.json to see which features; if the change is real, "
                "retrain (drift retraining does this when wired) and approve the new version; "
                "if it is an upstream bug, fix the producer."
            ),
        )
        self._add_action(alarm)
        if self.state_machine is not None:
            failed = self.metric_runs_failed(period=self.frequency.period).create_alarm(
                self,
                "RunsFailedAlarm",
                threshold=1,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=(
                    f"A monitoring run of {self.endpoint_name} failed: drift goes unnoticed "
                    "until fixed. What to do: read the failed execution (or its message on the "
                    "alerts topic): 'NoBaseline' means the deployed model has no drift "
                    "baseline (or the endpoint serves no variant_name); a processing job's own error "
                    "is in /aws/sagemaker/ProcessingJobs."
                ),
            )
            self._add_action(failed)
            self.runs_failed_alarm = failed
        return alarm

    def _feature_alarms(self, threshold: float, periods: int) -> cloudwatch.CompositeAlarm:
        rules = []
        for f in self.schema.feature_names:
            a = self.metric_feature_drift(f).create_alarm(
                self,
                f"Drift-{f}",
                threshold=threshold,
                evaluation_periods=periods,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"{f} drifted past {threshold} on {self.endpoint_name}.",
            )
            rules.append(cloudwatch.AlarmRule.from_alarm(a, cloudwatch.AlarmState.ALARM))
            acknowledge(
                a,
                [
                    "HIPAA.Security-CloudWatchAlarmAction",
                    "NIST.800.53.R5-CloudWatchAlarmAction",
                    "PCI.DSS.321-CloudWatchAlarmAction",
                ],
                "A per-feature input of the composite drift alarm, which carries the action "
                "(one notification per drift event instead of one per feature).",
            )
        alarm = cloudwatch.CompositeAlarm(
            self,
            "DriftAlarm",
            alarm_rule=cloudwatch.AlarmRule.any_of(*rules),
            alarm_description=(
                f"Data drift on endpoint {self.endpoint_name} (Model Monitor): a feature moved "
                "past its baseline. What to do: read the schedule's constraint_violations.json; "
                "retrain if the change is real."
            ),
        )
        self._add_action(alarm)
        return alarm

    @property
    def drift_metrics(self) -> list[cloudwatch.IMetric]:
        """Every feature's drift metric (for a dashboard)."""
        return [self.metric_feature_drift(f) for f in self.schema.feature_names]


@jsii.implements(IValidation)
class _FilterBudget:
    """Synth-time check: this stack's monitors fit the log group's 100 metric filters."""

    def __init__(self, owner: ModelMonitoring) -> None:
        self._owner = owner

    def validate(self) -> list[str]:
        stack = cdk.Stack.of(self._owner)
        total = sum(len(m.metric_filters) for m in _monitors(stack))
        if total > ml.MAX_FILTERS_PER_LOG_GROUP:
            return [
                f"ModelMonitoring: the stack's monitors need {total} metric filters on "
                f"{ml.PROCESSING_LOG_GROUP}, more than the {ml.MAX_FILTERS_PER_LOG_GROUP} a log "
                "group allows (and other users of the group count too). Monitor fewer "
                "features or monitors per endpoint, or fewer endpoints per account and region."
            ]
        return []


def _monitors(root: IConstruct) -> list[ModelMonitoring]:
    return [c for c in root.node.find_all() if isinstance(c, ModelMonitoring)]
