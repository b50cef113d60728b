"""Level 2 (Repeatable): automated ingestion, a standard training pipeline, versioning, CI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from constructs import Construct

from cdk_mlops.constructs import (
    ApprovalMode,
    BasicCi,
    CiSource,
    GlueEtl,
    ModelRegistry,
    PipelineCode,
    TrainingPipeline,
)
from cdk_mlops.constructs._notifications import encrypted_topic
from cdk_mlops.stacks.initial import InitialStack


class RepeatableStack(InitialStack):
    """Maturity level 2 = level 1 plus the Glue ETL, the training pipeline, the registry and CI.

    Raw CSV under ``<dataset>/`` of the raw zone is cleaned nightly by the Glue job into the
    curated zone (bad rows quarantined); the SageMaker pipeline trains, evaluates, gates and
    registers a model version that waits for manual approval; CI tests the project and runs the
    pipeline on every new source upload. All of it ships the same ``pipeline_code`` asset, whose
    hash is recorded on each model version.

    Takes every :class:`InitialStack` prop, plus:

    :param code_dir: your own code package instead of ``pipeline_code``.
    :param schema: dataset schema name under the code's ``schemas/``. Default ``churn``.
    :param model_package_group_name: default ``<stack name>-models`` (unique per account and
        region; retained when the stack is deleted).
    :param approval_mode: default MANUAL.
    :param quality_threshold: default of the pipeline's ``MetricThreshold`` (AUC). Default 0.75.
    :param ci_source: default: ``ci/source.zip`` in the artifacts zone.
    :param etl_schedule: Glue cron, or ``None`` for on-demand. Default daily 02:00 UTC.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code_dir: Path | str | None = None,
        schema: str = "churn",
        model_package_group_name: str | None = None,
        approval_mode: ApprovalMode = ApprovalMode.MANUAL,
        quality_threshold: float = 0.75,
        ci_source: CiSource | None = None,
        etl_schedule: str | None = "cron(0 2 * * ? *)",
        **initial_props: Any,
    ) -> None:
        initial_props.setdefault(
            "description",
            "cdk-mlops level 2 (Repeatable): level 1 + Glue ETL, SageMaker pipeline, registry, CI",
        )
        super().__init__(scope, construct_id, **initial_props)
        self.code = PipelineCode(self, "PipelineCode", code_dir=code_dir)
        self.alerts = encrypted_topic(
            self, "Alerts", key=self.keys.notifications_key, display_name="MLOps alerts"
        )
        self.etl = GlueEtl(
            self,
            "Etl",
            data_lake=self.data_lake,
            encryption_key=self.keys.data_key,
            logs_key=self.keys.logs_key,
            alarm_topic=self.alerts,
            code=self.code,
            schema_file=self.code.code_dir / "schemas" / f"{schema}.json",
            schedule=etl_schedule,
        )
        self.registry = ModelRegistry(
            self,
            "Registry",
            model_package_group_name=model_package_group_name,
            encryption_key=self.keys.notifications_key,
            approval_mode=approval_mode,
            notification_topic=self.alerts,
        )
        self.training = TrainingPipeline(
            self,
            "Training",
            network=self.network,
            data_lake=self.data_lake,
            encryption_key=self.keys.data_key,
            registry=self.registry,
            code=self.code,
            schema=schema,
            input_prefix=self.etl.curated_prefix,
            threshold=quality_threshold,
        )
        self.ci = BasicCi(
            self,
            "Ci",
            artifact_bucket=self.data_lake.artifacts_bucket,
            encryption_key=self.keys.data_key,
            logs_key=self.keys.logs_key,
            sagemaker_pipeline_name=self.training.pipeline_name,
            source=ci_source,
        )
