"""Maturity level 3 (Reliable) as a construct: safe deployment, monitoring, drift retraining,
dashboard, audit trail."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_mlops.constructs import (
    AuditTrail,
    DeploymentPipeline,
    DriftRetraining,
    IEtlMetrics,
    IModelRegistry,
    ITrainingPipeline,
    MlopsDashboard,
    ModelMonitoring,
    MonitoringFrequency,
    PipelineCode,
    ProductionVariant,
    SageMakerEndpointMetrics,
)
from cdk_mlops.levels.foundation import Foundation
from pipeline_code.deployment.samples import schema_sample_text
from pipeline_code.schema import Schema

if TYPE_CHECKING:
    # cdk_mlops.stacks imports the levels: the settings class is loaded when first needed
    from cdk_mlops.stacks.endpoint import EndpointStageSettings


def _staging() -> EndpointStageSettings:
    from cdk_mlops.stacks.endpoint import EndpointStageSettings

    return EndpointStageSettings.staging()


def _prod() -> EndpointStageSettings:
    from cdk_mlops.stacks.endpoint import EndpointStageSettings

    return EndpointStageSettings.prod()


@dataclass(frozen=True, kw_only=True)
class ReliableSettings:
    """What level 3 lets you choose.

    :param staging: the staging endpoint. Default: one ``ml.m5.large``, all at once
        (``EndpointStageSettings.staging(serverless=True)`` costs nothing at idle).
    :param prod: the production endpoint. Default: two ``ml.m5.large``, canary of one instance,
        10-minute bake, rollback on the endpoint's alarms.
    :param smoke_test_sample: CSV feature rows (no header) that the smoke and latency tests send
        to staging. Default: five rows made from the schema (each numeric feature at the edges
        and the middle of its range, each category in turn).
    :param p99_latency_ms: the latency test's threshold for one-row requests. Default 200.
    :param require_manual_approval: a person approves each production deployment. Default True.
    :param endpoint_name_prefix: endpoints are ``<prefix>-staging`` and ``<prefix>-prod``.
        Default: the stack name and ``Deployment`` (unique per account and region).
    :param audit_trail: a CloudTrail trail with data events for the data lake buckets and the
        registry's management events, in an encrypted, retained bucket. Turn it off in accounts
        that an organization trail already covers. Default True.
    :param audit_retention: how long the trail bucket keeps logs. Default 365 days.
    :param monitoring: monitor the production endpoint's captured traffic (``ModelMonitoring``,
        portable backend): hourly job, metrics, drift alarm. Default True.
    :param monitoring_frequency: hourly (default) or daily windows.
    :param monitoring_instance_type: of the monitoring job. Default ``ml.m5.xlarge``.
    :param drift_evaluation_periods: consecutive drifted windows before the drift alarm fires.
        Default 2.
    :param create_processing_log_group: create ``/aws/sagemaker/ProcessingJobs`` for the
        monitoring metric filters. Only for an account and region that never ran a SageMaker
        processing job (the group then does not exist and the filters cannot be created);
        where it exists, creating it fails. Default False.
    :param drift_retraining: a drift alarm starts the training pipeline, guarded
        (``DriftRetraining``). Needs ``monitoring``. Default True.
    :param retraining_cooldown: minimum time between two drift-triggered starts. Default 6 hours.
    :param retraining_max_per_day: at most this many drift-triggered starts per UTC day.
        Default 2.
    """

    staging: EndpointStageSettings = field(default_factory=_staging)
    prod: EndpointStageSettings = field(default_factory=_prod)
    smoke_test_sample: Path | str | None = None
    p99_latency_ms: float = 200
    require_manual_approval: bool = True
    endpoint_name_prefix: str | None = None
    audit_trail: bool = True
    audit_retention: cdk.Duration = field(default_factory=lambda: cdk.Duration.days(365))
    monitoring: bool = True
    monitoring_frequency: MonitoringFrequency = MonitoringFrequency.HOURLY
    monitoring_instance_type: str = "ml.m5.xlarge"
    drift_evaluation_periods: int = 2
    create_processing_log_group: bool = False
    drift_retraining: bool = True
    retraining_cooldown: cdk.Duration = field(default_factory=lambda: cdk.Duration.hours(6))
    retraining_max_per_day: int = 2


class ReliableLevel(Construct):
    """Maturity level 3: an approved model version reaches production safely and is watched.

    The registry's approval event starts the deployment pipeline: staging endpoint, smoke and
    latency tests, verification that the endpoint serves the new configuration (SageMaker can
    roll a blue/green update back on an alarm and still report InService), a manual approval,
    then production with canary traffic shifting and alarm rollback. The endpoint stacks are
    deployed by the pipeline, so synthesizing this level needs no approved model. The
    production endpoint's captured traffic is monitored every hour against the baseline of the
    deployed model version (``ModelMonitoring``); its drift alarm starts the training pipeline,
    guarded by a cooldown and a daily cap (``DriftRetraining``). A dashboard
    shows the endpoints, the training and deployment pipelines, the ETL and the MLOps KPIs
    computed from events; an optional CloudTrail trail records data access and registry actions.

    :param foundation: keys, buckets and job network (``InitialLevel.foundation`` or your own);
        the job network must reach the services in ``DEPLOYMENT_INTERFACE_ENDPOINTS``.
    :param registry: the model package group whose approvals deploy.
    :param training_pipeline: shown on the dashboard (executions, success rate).
    :param alarm_topic: approvals to give, failed verifications and failed executions.
    :param code: the code package whose ``schemas/<schema>.json`` describes the features (and
        that the deployment builds run). Default: this library's ``pipeline_code``.
    :param schema: schema name under the code's ``schemas/``. Default ``churn``.
    :param etl: the ETL job shown on the dashboard. Default none.
    :param access_log_bucket: where the audit trail bucket's server access logs go (the data
        lake's log bucket: ``InitialLevel.data_lake.access_logs_bucket``). Default: none, and
        the trail bucket's missing access logs are reported by cdk-nag.
    :param settings: see :class:`ReliableSettings`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        foundation: Foundation,
        registry: IModelRegistry,
        training_pipeline: ITrainingPipeline,
        alarm_topic: sns.ITopic,
        code: PipelineCode | None = None,
        schema: str = "churn",
        etl: IEtlMetrics | None = None,
        access_log_bucket: s3.IBucket | None = None,
        settings: ReliableSettings | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        s = settings or ReliableSettings()
        self.settings = s
        code = code or PipelineCode(self, "PipelineCode")
        sample = s.smoke_test_sample or _schema_sample(code.code_dir / "schemas" / f"{schema}.json")
        self.deployment = DeploymentPipeline(
            self,
            "Deployment",
            registry=registry,
            job_network=foundation.job_network,
            artifacts_bucket=foundation.artifacts_bucket,
            encryption_key=foundation.data_key,
            logs_key=foundation.logs_key,
            capture_bucket=foundation.monitoring_bucket,
            alarm_topic=alarm_topic,
            staging=s.staging,
            prod=s.prod,
            smoke_test_sample=sample,
            endpoint_name_prefix=s.endpoint_name_prefix,
            p99_latency_ms=s.p99_latency_ms,
            require_manual_approval=s.require_manual_approval,
            code=code,
        )
        #: The production endpoint's metrics (it exists once the pipeline has deployed it).
        self.prod_endpoint = SageMakerEndpointMetrics(self.deployment.prod_endpoint_name)
        # the endpoint stack serves one production variant with the default name
        variant = ProductionVariant().name
        self.monitoring: ModelMonitoring | None = None
        self.drift_retraining: DriftRetraining | None = None
        if s.drift_retraining and not s.monitoring:
            raise ValueError(
                "ReliableSettings: drift_retraining=True is not allowed with monitoring=False "
                "(the drift alarm comes from the monitor). Turn monitoring on or set "
                "drift_retraining=False."
            )
        if s.monitoring:
            self.monitoring = ModelMonitoring(
                self,
                "Monitoring",
                endpoint_name=self.deployment.prod_endpoint_name,
                variant_name=variant,
                capture_bucket=foundation.monitoring_bucket,
                # the training pipeline writes its baselines there (DriftCheckBaselines)
                baseline_bucket=foundation.artifacts_bucket,
                job_network=foundation.job_network,
                encryption_key=foundation.data_key,
                logs_key=foundation.logs_key,
                code=code,
                schema=schema,
                frequency=s.monitoring_frequency,
                instance_type=s.monitoring_instance_type,
                drift_evaluation_periods=s.drift_evaluation_periods,
                alarm_topic=alarm_topic,
                create_processing_log_group=s.create_processing_log_group,
            )
            if s.drift_retraining:
                self.drift_retraining = DriftRetraining(
                    self,
                    "DriftRetraining",
                    drift_alarm=self.monitoring.drift_alarm,
                    training_pipeline=training_pipeline,
                    alarm_topic=alarm_topic,
                    logs_key=foundation.logs_key,
                    cooldown=s.retraining_cooldown,
                    max_per_day=s.retraining_max_per_day,
                    # the retrained model must be at least as good as production's
                    champion_endpoint_name=self.deployment.prod_endpoint_name,
                    champion_variant_name=variant,
                )
        monitoring = self.monitoring
        self.dashboard = MlopsDashboard(
            self,
            "Dashboard",
            training_pipeline=training_pipeline,
            etl=etl,
            endpoints=[(self.prod_endpoint, [variant])],
            deployment_pipeline=self.deployment.pipeline,
            drift_metrics=monitoring.drift_metrics if monitoring else (),
            quality_metrics=(
                [monitoring.metric_model_quality(m) for m in ("auc", "accuracy", "f1")]
                if monitoring
                else ()
            ),
            retraining_metrics=(
                [
                    self.drift_retraining.metric_executions_started(),
                    self.drift_retraining.metric_failed(),
                ]
                if self.drift_retraining
                else ()
            ),
            encryption_key=foundation.logs_key,
        )
        self.audit_trail: AuditTrail | None = None
        if s.audit_trail:
            # its own key (the construct's default): audit evidence apart from the data
            self.audit_trail = AuditTrail(
                self,
                "AuditTrail",
                buckets=[
                    foundation.raw_bucket,
                    foundation.curated_bucket,
                    foundation.artifacts_bucket,
                    foundation.monitoring_bucket,
                ],
                retention=s.audit_retention,
                access_log_bucket=access_log_bucket,
            )


def _schema_sample(schema_file: Path) -> Path:
    """The default smoke-test rows for ``schema_file``, in a file named by their content hash."""
    text = schema_sample_text(Schema.from_file(schema_file))
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / "cdk-mlops-smoke-samples" / f"{digest}.csv"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{digest}.partial")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)  # atomic: parallel synths never read half a file
    return path
