"""Maturity level 2 (Repeatable) as a construct: ETL, training pipeline, registry, CI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import aws_glue as glue
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_mlops.constructs import (
    AlertsTopic,
    ApprovalMode,
    BasicCi,
    CiSource,
    GlueEtl,
    ModelRegistry,
    ModelSharing,
    PipelineCode,
    TrainingPipeline,
)
from cdk_mlops.levels.foundation import Foundation
from cdk_mlops.pipelines.tuning import TuningSettings
from cdk_mlops.pipelines.xgboost import XGBoostSettings


@dataclass(frozen=True, kw_only=True)
class RepeatableSettings:
    """What level 2 lets you choose.

    :param code_dir: your own code package instead of ``pipeline_code``.
    :param schema: dataset schema name under the code's ``schemas/``. Default ``churn``.
    :param model_package_group_name: default ``<stack name>-models`` (unique per account and
        region; retained when the stack is deleted).
    :param approval_mode: default MANUAL.
    :param quality_threshold: default of the pipeline's ``MetricThreshold`` (AUC). Default 0.75.
    :param ci_source: default: ``ci/source.zip`` in the artifacts zone.
    :param etl_schedule: Glue cron, or ``None`` for on-demand. Default daily 02:00 UTC.
    :param max_quarantine_fraction: the ETL's quarantine budget. Default 0.05.
    :param alerts_topic: where ETL failures and registry changes go. Default: a new
        :class:`AlertsTopic` encrypted with the foundation's notifications key.
    :param model_consumer_accounts: staging/production accounts that serve this registry's
        models: the group's policy, the artifacts bucket's and the data key's admit their
        model-reader roles (``ModelSharing``; the consumer side is ``SharedModelReader``). The
        level stacks then give the artifacts bucket a fixed name
        (``shared_artifacts_bucket_name``) and need a concrete ``env``. Default none.
    :param intended_use: what the model is for, recorded on every model version (the model
        card's intended use). Default: not recorded.
    :param etl_worker_type: the Glue job's workers. Default G.1X (see the GlueEtl page's sizing).
    :param etl_workers: how many (2 to 299). Default 2.
    :param tuning: a hyperparameter search in place of the pipeline's single training job
        (:class:`~cdk_mlops.pipelines.tuning.TuningSettings`). Default: none.
    :param xgboost: SageMaker's XGBoost on several instances instead of the scikit-learn
        training job (:class:`~cdk_mlops.pipelines.xgboost.XGBoostSettings`). Default: none.
    """

    code_dir: Path | str | None = None
    schema: str = "churn"
    model_package_group_name: str | None = None
    approval_mode: ApprovalMode = ApprovalMode.MANUAL
    quality_threshold: float = 0.75
    ci_source: CiSource | None = None
    etl_schedule: str | None = "cron(0 2 * * ? *)"
    max_quarantine_fraction: float = 0.05
    alerts_topic: sns.ITopic | None = None
    model_consumer_accounts: Sequence[str] = ()
    intended_use: str | None = None
    etl_worker_type: glue.WorkerType = glue.WorkerType.G_1X
    etl_workers: int = 2
    tuning: TuningSettings | None = None
    xgboost: XGBoostSettings | None = None


class RepeatableLevel(Construct):
    """Maturity level 2: automated ingestion, a standard training pipeline, versioning, CI.

    Raw CSV under ``<dataset>/`` of the raw zone is cleaned nightly by the Glue job into the
    curated zone (bad rows quarantined); the SageMaker pipeline trains, evaluates, gates and
    registers a model version that waits for manual approval; CI tests the project and runs the
    pipeline on every new source upload. All of it ships the same ``pipeline_code`` asset, whose
    hash is recorded on each model version.

    :param foundation: keys, buckets and job network: ``InitialLevel.foundation``, or your own.
    :param settings: see :class:`RepeatableSettings`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        foundation: Foundation,
        settings: RepeatableSettings | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        s = settings or RepeatableSettings()
        self.settings = s
        self.code = PipelineCode(self, "PipelineCode", code_dir=s.code_dir)
        if s.alerts_topic is None:
            self.alerts: AlertsTopic | None = AlertsTopic(
                self, "Alerts", encryption_key=foundation.notifications_key
            )
            alerts_topic: sns.ITopic = self.alerts.topic
        else:
            self.alerts = None
            alerts_topic = s.alerts_topic
        self.alerts_topic = alerts_topic
        self.etl = GlueEtl(
            self,
            "Etl",
            raw_bucket=foundation.raw_bucket,
            curated_bucket=foundation.curated_bucket,
            encryption_key=foundation.data_key,
            logs_key=foundation.logs_key,
            alarm_topic=alerts_topic,
            code=self.code,
            schema_file=self.code.code_dir / "schemas" / f"{s.schema}.json",
            schedule=s.etl_schedule,
            max_quarantine_fraction=s.max_quarantine_fraction,
            worker_type=s.etl_worker_type,
            number_of_workers=s.etl_workers,
        )
        self.registry = ModelRegistry(
            self,
            "Registry",
            model_package_group_name=s.model_package_group_name,
            encryption_key=foundation.notifications_key,
            approval_mode=s.approval_mode,
            notification_topic=alerts_topic,
            cross_account_ids=s.model_consumer_accounts,
        )
        #: Cross-account grants on the artifacts bucket and data key; None when not shared.
        self.model_sharing = (
            ModelSharing(
                self,
                "ModelSharing",
                artifacts_bucket=foundation.artifacts_bucket,
                encryption_key=foundation.data_key,
                consumer_accounts=s.model_consumer_accounts,
            )
            if s.model_consumer_accounts
            else None
        )
        self.training = TrainingPipeline(
            self,
            "Training",
            job_network=foundation.job_network,
            input_bucket=foundation.curated_bucket,
            artifacts_bucket=foundation.artifacts_bucket,
            encryption_key=foundation.data_key,
            registry=self.registry,
            code=self.code,
            schema=s.schema,
            input_prefix=self.etl.curated_prefix,
            threshold=s.quality_threshold,
            intended_use=s.intended_use,
            tuning=s.tuning,
            xgboost=s.xgboost,
        )
        self.ci = BasicCi(
            self,
            "Ci",
            artifact_bucket=foundation.artifacts_bucket,
            encryption_key=foundation.data_key,
            logs_key=foundation.logs_key,
            training_pipeline=self.training,
            source=s.ci_source,
        )
