"""A Glue 5.0 PySpark ETL job from ``pipeline_code``: raw CSV to typed, partitioned Parquet."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
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
    grant_policies,
    resource_finding,
)
from cdk_mlops.constructs._notifications import TopicTarget, encrypted_topic
from cdk_mlops.constructs._sagemaker import log_group_arn
from cdk_mlops.constructs._util import (
    check_prop,
    is_launch_scoped,
    is_token,
    prop_error,
    stack_scoped_name,
)
from cdk_mlops.constructs.pipeline_code import PipelineCode, grant_asset_read
from pipeline_code.schema import SCHEMA_DIR, Schema

_PREFIX = re.compile(r"^[a-z0-9][a-z0-9_\-/]*/$")
_GLUE_NAME = re.compile(r"^[a-z0-9_]{1,255}$")
INGEST_PARTITION = "ingest_date"


def _glue_type(schema: Schema, column: str) -> glue.Type:
    if column == schema.target.name:
        return glue.Schema.INTEGER
    if column in (schema.id_column, schema.timestamp_column):
        return glue.Schema.STRING
    return glue.Schema.DOUBLE if schema.column(column).is_numeric else glue.Schema.STRING


class GlueEtl(Construct):
    """The ETL of maturity level 2: a scheduled Glue 5.0 PySpark job, a catalog table, an alarm.

    The job runs ``pipeline_code.etl.glue_job`` (the same transform the tests run on local
    Spark): it reads CSV under ``raw_prefix`` of the raw zone, enforces the dataset schema, writes
    clean rows as Parquet partitioned by ``ingest_date`` under ``curated_prefix`` of the curated
    zone and every bad row, with its reason, under ``quarantine_prefix``. rows in = rows out +
    rows quarantined.

    Secure defaults: a Glue security configuration encrypting S3 output and job bookmarks with
    ``encryption_key`` and CloudWatch logs with ``logs_key``; a job role that reads only the raw
    prefix and writes only the curated and quarantine prefixes; a catalog table (Parquet,
    partition projection on ``ingest_date``, so no crawler is needed); an EventBridge rule on
    FAILED, TIMEOUT and ERROR runs feeding a CloudWatch alarm that notifies ``alarm_topic``.

    :param raw_bucket: where raw CSV is read (``DataLake.raw_bucket``, or any ``s3.IBucket``).
    :param curated_bucket: where clean Parquet and quarantined rows are written
        (``DataLake.curated_bucket``); its default encryption should be ``encryption_key``.
    :param encryption_key: KMS key for job output and bookmarks (the data lake's key).
    :param logs_key: KMS key for the job's CloudWatch logs; its policy must admit CloudWatch Logs.
    :param alarm_topic: SNS topic notified when a run fails; its key must admit CloudWatch and
        EventBridge. Default: a new topic with its own key that does.
    :param schema_file: the dataset contract. Default: ``pipeline_code/schemas/churn.json``.
    :param code: the code assets. Default: a new :class:`PipelineCode` of ``pipeline_code``.
    :param raw_prefix / curated_prefix / quarantine_prefix: key prefixes, ending in ``/``.
        Defaults ``<dataset>/``, ``<dataset>/``, ``quarantine/<dataset>/``.
    :param database_name: Glue database (unique per account and region). Default
        ``<stack name>_mlops`` in lower case. The database holds only table definitions (the
        data is in S3), so it is deleted with the stack.
    :param worker_type: default G.1X. :param number_of_workers: default 2 (2 to 299).
    :param max_quarantine_fraction: the share of rows a run may quarantine before it fails
        (naming the top reasons with examples and fixes) instead of writing a biased clean set.
        Default 0.05.
    :param schedule: a Glue cron expression, or ``None`` for on-demand runs only. Default daily
        at 02:00 UTC, ``cron(0 2 * * ? *)``.
    :param timeout: default 60 minutes. :param max_retries: default 0.
    :param role: the job's execution role, e.g. one your platform provisions
        (``iam.Role.from_role_arn(..., mutable=True)``); it must trust ``glue.amazonaws.com``.
        Default: a new least-privilege role. Either way the construct grants what the job needs.
    :param log_retention: of the job's two log groups (``<log_group_prefix>/output`` and
        ``/error``, Glue 5.0's ``--custom-logGroup-prefix``). Default one year. The groups are
        deleted with the stack (their names are fixed; kept, they would block a redeploy).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        raw_bucket: s3.IBucket,
        curated_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        logs_key: kms.IKey,
        alarm_topic: sns.ITopic | None = None,
        schema_file: Path | str | None = None,
        code: PipelineCode | None = None,
        raw_prefix: str | None = None,
        curated_prefix: str | None = None,
        quarantine_prefix: str | None = None,
        database_name: str | None = None,
        worker_type: glue.WorkerType = glue.WorkerType.G_1X,
        number_of_workers: int = 2,
        max_quarantine_fraction: float = 0.05,
        schedule: str | None = "cron(0 2 * * ? *)",
        timeout: cdk.Duration | None = None,
        max_retries: int = 0,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        role: iam.IRole | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        schema_path = Path(schema_file) if schema_file is not None else SCHEMA_DIR / "churn.json"
        try:
            self.schema = Schema.from_file(schema_path)
        except ValueError as exc:
            raise prop_error(
                self, "schema_file", str(schema_path), f"Fix the schema: {exc}"
            ) from None
        dataset = self.schema.name.lower()
        self.raw_prefix = raw_prefix or f"{dataset}/"
        self.curated_prefix = curated_prefix or f"{dataset}/"
        self.quarantine_prefix = quarantine_prefix or f"quarantine/{dataset}/"
        for name, value in (
            ("raw_prefix", self.raw_prefix),
            ("curated_prefix", self.curated_prefix),
            ("quarantine_prefix", self.quarantine_prefix),
        ):
            check_prop(
                self,
                name,
                value,
                _PREFIX.fullmatch,
                "Use lower-case key prefixes ending in '/', e.g. 'churn/'.",
            )
        check_prop(
            self,
            "quarantine_prefix",
            self.quarantine_prefix,
            lambda q: is_token(self.curated_prefix) or not q.startswith(self.curated_prefix),
            f"It lies inside curated_prefix {self.curated_prefix!r}, so bad rows would land in the curated "
            "table; use a prefix outside it, e.g. 'quarantine/<dataset>/'.",
        )
        if database_name is None:
            database_name = stack_scoped_name(
                self, "mlops", max_length=255, separator="_", lowercase=True
            )
        check_prop(
            self,
            "database_name",
            database_name,
            _GLUE_NAME.fullmatch,
            "Glue names are lower-case letters, digits and '_'.",
        )
        check_prop(
            self,
            "number_of_workers",
            number_of_workers,
            lambda n: 2 <= n <= 299,
            "Glue Spark jobs take 2 to 299 workers.",
        )
        check_prop(self, "max_retries", max_retries, lambda n: 0 <= n <= 10, "Use 0 to 10 retries.")
        check_prop(
            self,
            "max_quarantine_fraction",
            max_quarantine_fraction,
            lambda f: not isinstance(f, bool) and isinstance(f, (int, float)) and 0 <= f <= 1,
            "Give the share of rows a run may quarantine, between 0 and 1 (e.g. 0.05).",
        )
        check_prop(
            self,
            "schedule",
            schedule,
            lambda c: c is None or (c.startswith("cron(") and c.endswith(")")),
            "Give a Glue cron expression like 'cron(0 2 * * ? *)' or None.",
        )

        self.code = code or PipelineCode(self, "Code")
        entry = self.code.code_dir / "etl" / "glue_job.py"
        if not entry.is_file():
            raise prop_error(
                self,
                "code",
                str(self.code.code_dir),
                "The code package has no etl/glue_job.py (the Glue entry script); start from pipeline_code's.",
            )
        schema_asset = s3_assets.Asset(self, "Schema", path=str(schema_path))
        # Our own asset + Code.from_bucket: Code.from_asset would grant the whole asset bucket.
        # The script is a shim that imports <package>.etl.glue_job from --extra-py-files (Glue
        # runs the script file itself, so the package's own module cannot be it).
        script = s3_assets.Asset(self, "Script", path=str(self.code.glue_entry_path))
        self.security_configuration = glue.SecurityConfiguration(
            self,
            "SecurityConfiguration",
            s3_encryption=glue.S3Encryption.kms(encryption_key),
            cloud_watch_encryption=glue.CloudWatchEncryption.kms(logs_key),
            job_bookmarks_encryption=glue.JobBookmarksEncryption.client_side_kms(encryption_key),
            # CDK names it after the construct path, fixed per template: a template launched
            # twice in one account and region (a Service Catalog product) needs a launch name.
            security_configuration_name=(
                stack_scoped_name(self, "etl", max_length=255) if is_launch_scoped(self) else None
            ),
        )

        self.raw_bucket = raw_bucket
        self.curated_bucket = curated_bucket
        self.role: iam.IRole = role or iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("glue.amazonaws.com"),
            description=f"Glue ETL of {dataset}: raw -> curated",
        )
        raw_bucket.grant_read(self.role, f"{self.raw_prefix}*")
        curated_bucket.grant_read_write(self.role, f"{self.curated_prefix}*")
        curated_bucket.grant_read_write(self.role, f"{self.quarantine_prefix}*")
        self.code.grant_read(self.role)
        grant_asset_read(schema_asset, self.role)
        grant_asset_read(script, self.role)
        encryption_key.grant_encrypt_decrypt(self.role)
        logs_key.grant_encrypt_decrypt(self.role)

        self.database = glue.Database(self, "Database", database_name=database_name)
        # Neither holds data; retained with a fixed name they would block the next deploy.
        self.database.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
        self.security_configuration.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
        columns = [
            glue.Column(name=c, type=_glue_type(self.schema, c)) for c in self.schema.all_columns
        ]
        self.table = self._table(dataset, columns)

        stack = cdk.Stack.of(self)
        catalog_arns = [
            stack.format_arn(service="glue", resource="catalog"),
            self.database.database_arn,
            self.table.table_arn,
        ]
        policy = iam.Policy(self, "CatalogAndLogs", roles=[self.role])
        policy.add_statements(
            iam.PolicyStatement(
                actions=[
                    "glue:GetDatabase",
                    "glue:GetTable",
                    "glue:GetPartition",
                    "glue:GetPartitions",
                    "glue:BatchCreatePartition",
                    "glue:CreatePartition",
                    "glue:UpdatePartition",
                ],
                resources=catalog_arns,
            ),
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:AssociateKmsKey",
                ],
                resources=[log_group_arn(stack, "/aws-glue/*")],
            ),
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": "Glue"}},
            ),
        )

        # Glue 5.0 writes driver/executor output and errors to `<prefix>/output` and
        # `<prefix>/error` (`--custom-logGroup-prefix`); the Glue 4.0 continuous-logging
        # arguments are ignored. Both groups exist before the first run, encrypted and with a
        # retention, so Glue never creates unencrypted ones that live forever.
        self.log_group_prefix = "/aws-glue/jobs/" + stack_scoped_name(self, "etl", max_length=200)
        self.log_groups = {
            kind: logs.LogGroup(
                self,
                f"{kind.capitalize()}Logs",
                log_group_name=f"{self.log_group_prefix}/{kind}",
                encryption_key=logs_key,
                retention=log_retention,
                # Named groups: retained, they would make the next deploy fail (AlreadyExists).
                removal_policy=cdk.RemovalPolicy.DESTROY,
            )
            for kind in ("output", "error")
        }
        self.job = glue.PySparkEtlJob(
            self,
            "Job",
            role=self.role,
            script=glue.Code.from_bucket(script.bucket, script.s3_object_key),
            extra_python_files=[
                glue.Code.from_bucket(self.code.zip_asset.bucket, self.code.zip_asset.s3_object_key)
            ],
            glue_version=glue.GlueVersion.V5_0,
            worker_configuration=glue.WorkerConfiguration(
                worker_type=worker_type, number_of_workers=number_of_workers
            ),
            security_configuration=self.security_configuration,
            timeout=timeout or cdk.Duration.minutes(60),
            max_retries=max_retries,
            max_concurrent_runs=1,
            continuous_logging=glue.ContinuousLoggingProps(enabled=False),
            enable_metrics=True,
            description=f"cdk-mlops ETL of {dataset} (code {self.code.code_version})",
            default_arguments={
                "--input_path": raw_bucket.s3_url_for_object(self.raw_prefix),
                "--output_path": curated_bucket.s3_url_for_object(self.curated_prefix),
                "--quarantine_path": curated_bucket.s3_url_for_object(self.quarantine_prefix),
                "--schema_path": schema_asset.s3_object_url,
                "--code_version": self.code.code_version,
                "--job-bookmark-option": "job-bookmark-disable",
                "--custom-logGroup-prefix": self.log_group_prefix,
                "--max_quarantine_fraction": str(max_quarantine_fraction),
            },
        )
        if schedule is not None:
            self.trigger: glue.CfnTrigger | None = glue.CfnTrigger(
                self,
                "Schedule",
                type="SCHEDULED",
                schedule=schedule,
                start_on_creation=True,
                actions=[glue.CfnTrigger.ActionProperty(job_name=self.job.job_name)],
                description=f"Runs the {dataset} ETL on {schedule}",
            )
        else:
            self.trigger = None

        self.alarm_topic = alarm_topic or encrypted_topic(
            self, "AlarmTopic", key=None, display_name="Glue ETL failures"
        )
        self.failure_rule = events.Rule(
            self,
            "FailedRuns",
            description=f"{dataset} ETL runs that failed, timed out or errored",
            event_pattern=events.EventPattern(
                source=["aws.glue"],
                detail_type=["Glue Job State Change"],
                detail={"jobName": [self.job.job_name], "state": ["FAILED", "TIMEOUT", "ERROR"]},
            ),
        )
        self.failure_rule.add_target(TopicTarget(self.alarm_topic))
        self.failure_alarm = self.metric_unsuccessful_runs().create_alarm(
            self,
            "FailedRunsAlarm",
            alarm_description=(
                f"The {dataset} Glue ETL failed, timed out or errored: open the run in the Glue console, "
                f"read {self.log_group_prefix}/error, and check the quarantine output for rejected rows."
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.failure_alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))

        self._acknowledge(policy)

    # ------------------------------------------------------------------ metrics
    def metric(
        self, metric_name: str, metric_type: glue.MetricType = glue.MetricType.COUNT, **options: Any
    ) -> cloudwatch.Metric:
        """A Glue job metric of this job (``glue.driver.*``, ``glue.ALL.*``: namespace ``Glue``)."""
        return self.job.metric(metric_name, metric_type, **options)

    def metric_unsuccessful_runs(self, **options: Any) -> cloudwatch.Metric:
        """Runs that ended FAILED, TIMEOUT or ERROR (sum over 5 minutes): what the alarm watches.

        Counted by this construct's EventBridge rule (``AWS/Events`` ``TriggeredRules``), since
        Glue publishes no per-run outcome metric.
        """
        return cloudwatch.Metric(
            namespace="AWS/Events",
            metric_name="TriggeredRules",
            dimensions_map={"RuleName": self.failure_rule.rule_name},
            **{"statistic": "Sum", "period": cdk.Duration.minutes(5), **options},
        )

    def metric_failed_runs(self, **options: Any) -> cloudwatch.Metric:
        """Runs that ended FAILED (CDK's rule-based Glue job metric)."""
        return self.job.metric_failure(**options)

    def metric_timed_out_runs(self, **options: Any) -> cloudwatch.Metric:
        """Runs that ended TIMEOUT."""
        return self.job.metric_timeout(**options)

    def metric_succeeded_runs(self, **options: Any) -> cloudwatch.Metric:
        """Runs that ended SUCCEEDED."""
        return self.job.metric_success(**options)

    def _table(self, dataset: str, columns: list[glue.Column]) -> glue.S3Table:
        return glue.S3Table(
            self,
            "CuratedTable",
            database=self.database,
            table_name=f"{dataset}_curated",
            # The curated bucket already encrypts with the data lake key (bucket default).
            storage=glue.S3TableStorage.from_bucket(self.curated_bucket),
            s3_prefix=self.curated_prefix,
            columns=columns,
            partition_keys=[glue.Column(name=INGEST_PARTITION, type=glue.Schema.STRING)],
            # The job writes ingest_date=YYYY-MM-DD folders without registering partitions;
            # projection lets Athena and Spark find them with no crawler.
            partition_projection={
                INGEST_PARTITION: glue.PartitionProjectionConfiguration.date(
                    min="2020-01-01", max="NOW", format="yyyy-MM-dd"
                )
            },
            data_format=glue.DataFormat.PARQUET,
            description=f"Clean {dataset} rows written by the Glue ETL",
        )

    def _acknowledge(self, policy: iam.Policy) -> None:
        acknowledge_inline_policy(policy, "Glue ETL")
        findings = [
            *S3_READ_GRANT_FINDINGS,
            *S3_WRITE_GRANT_FINDINGS,
            *KMS_GRANT_FINDINGS,
            *(
                resource_finding(self, bucket.arn_for_objects(f"{prefix}*"))
                for bucket, prefix in (
                    (self.raw_bucket, self.raw_prefix),
                    (self.curated_bucket, self.curated_prefix),
                    (self.curated_bucket, self.quarantine_prefix),
                )
            ),
        ]
        for grants in grant_policies(self.role):
            acknowledge_inline_policy(grants, "Glue ETL")
            acknowledge(
                grants,
                findings,
                "The ETL reads every object under its raw prefix and rewrites the partitions under its curated "
                "and quarantine prefixes; the wildcards are CDK grant actions limited to those prefixes and keys.",
            )
        acknowledge(
            policy,
            [
                "AwsSolutions-IAM5[Resource::*]",
                resource_finding(self, log_group_arn(cdk.Stack.of(self), "/aws-glue/*")),
            ],
            "Glue writes its logs to /aws-glue/* groups it names per run, and PutMetricData has no resource-level "
            "permission (limited to the Glue namespace by condition).",
        )
