"""GlueEtl: Glue 5.0 job, security configuration, catalog table, schedule, failure alarm, scoped role."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_glue as glue
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from cdk_mlops.constructs import DataLake, GlueEtl, PipelineCode
from tests.cdk_mlops.construct_fixtures import (
    TemplateView,
    arn_of,
    as_list,
    role_statements,
)
from tests.cdk_mlops.helpers import new_app
from tests.cdk_mlops.level2_fixtures import (
    all_actions,
    bucket_grants,
    ref_of,
    rendered,
    statements_allowing,
)

READ = {"s3:GetObject*", "s3:GetBucket*", "s3:List*"}
ZONES = ("Raw", "Curated", "Artifacts", "Monitoring", "AccessLogs")
WRITE = {"s3:PutObject", "s3:DeleteObject*", "s3:Abort*"}

#: A second dataset contract: no timestamp column, every feature type, a mixed-case name.
LOANS_SCHEMA = {
    "name": "LoanBook",
    "id_column": "loan_id",
    "target": {"name": "defaulted", "positive": "yes", "negative": "no"},
    "features": [
        {"name": "amount", "type": "float", "min": 0, "max": 100000},
        {"name": "term_months", "type": "integer", "min": 1, "max": 120},
        {"name": "grade", "type": "categorical", "categories": ["a", "b"]},
        {"name": "has_cosigner", "type": "boolean"},
    ],
    "sensitive_attributes": [{"name": "sex", "type": "categorical", "categories": ["f", "m"]}],
}
LOANS_COLUMNS = [
    {"Name": "loan_id", "Type": "string"},
    {"Name": "amount", "Type": "double"},
    {"Name": "term_months", "Type": "double"},
    {"Name": "grade", "Type": "string"},
    {"Name": "has_cosigner", "Type": "string"},
    {"Name": "sex", "Type": "string"},
    {"Name": "defaulted", "Type": "int"},
]
CHURN_COLUMNS = [
    ("customer_id", "string"),
    ("snapshot_date", "string"),
    ("tenure_months", "double"),
    ("monthly_charges", "double"),
    ("total_charges", "double"),
    ("support_calls", "double"),
    ("data_usage_gb", "double"),
    ("late_payments", "double"),
    ("contract_type", "string"),
    ("payment_method", "string"),
    ("internet_service", "string"),
    ("region", "string"),
    ("paperless_billing", "string"),
    ("gender", "string"),
    ("senior_citizen", "string"),
    ("churned", "int"),
]


@dataclass
class Built(TemplateView):
    template: Template
    default: GlueEtl
    custom: GlueEtl
    topic: sns.Topic

    def job(self, prefix: str) -> dict[str, Any]:
        return self.props("AWS::Glue::Job", prefix)

    def bucket(self, zone: str) -> str:
        return self.lid("AWS::S3::Bucket", f"Lake{zone}")

    def statements(self, prefix: str) -> list[dict[str, Any]]:
        return role_statements(self.template, self.lid("AWS::IAM::Role", f"{prefix}Role"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    schema_file = tmp_path_factory.mktemp("schemas") / "loans.json"
    schema_file.write_text(json.dumps(LOANS_SCHEMA))
    stack = cdk.Stack(new_app(), "Etl")
    data_key = kms.Key(stack, "DataKey", enable_key_rotation=True)
    logs_key = kms.Key(stack, "LogsKey", enable_key_rotation=True)
    lake = DataLake(stack, "Lake", encryption_key=data_key)
    default = GlueEtl(
        stack,
        "Etl",
        raw_bucket=lake.raw_bucket,
        curated_bucket=lake.curated_bucket,
        encryption_key=data_key,
        logs_key=logs_key,
    )
    topic = sns.Topic(stack, "OpsTopic", master_key=kms.Key(stack, "OpsKey"))
    custom = GlueEtl(
        stack,
        "Custom",
        raw_bucket=lake.raw_bucket,
        curated_bucket=lake.curated_bucket,
        encryption_key=data_key,
        logs_key=logs_key,
        alarm_topic=topic,
        schema_file=schema_file,
        code=default.code,
        raw_prefix="incoming/loans/",
        curated_prefix="clean/loans/",
        quarantine_prefix="bad/loans/",
        database_name="analytics",
        worker_type=glue.WorkerType.G_2X,
        number_of_workers=10,
        schedule=None,
        timeout=cdk.Duration.hours(2),
        max_retries=2,
    )
    return Built(Template.from_stack(stack), default, custom, topic)


# ----------------------------------------------------------------------------------- the job


def test_job_is_glue_5_pyspark_with_the_etl_script_and_the_code_zip(built: Built) -> None:
    job = built.job("Etl")
    assert job["GlueVersion"] == "5.0"
    assert job["Command"]["Name"] == "glueetl" and job["Command"]["PythonVersion"] == "3"
    assert rendered(job["Command"]["ScriptLocation"]).endswith('.py"]]}')
    zip_key = built.default.code.zip_asset.s3_object_key
    assert rendered(job["DefaultArguments"]["--extra-py-files"]).endswith(f'/{zip_key}"]]}}')
    assert job["Role"] == arn_of(built.lid("AWS::IAM::Role", "EtlRole"))


def test_job_defaults_worker_timeout_retries_and_one_run_at_a_time(built: Built) -> None:
    job = built.job("Etl")
    assert (job["WorkerType"], job["NumberOfWorkers"]) == ("G.1X", 2)
    assert (job["Timeout"], job["MaxRetries"]) == (60, 0)
    assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 1}


def test_job_arguments_point_at_the_zones_prefixes_schema_and_code_version(built: Built) -> None:
    args = built.job("Etl")["DefaultArguments"]
    raw, curated = built.bucket("Raw"), built.bucket("Curated")

    def s3(bucket: str, key: str) -> dict[str, Any]:
        return {"Fn::Join": ["", ["s3://", ref_of(bucket), key]]}

    assert args["--input_path"] == s3(raw, "/customer_churn/")
    assert args["--output_path"] == s3(curated, "/customer_churn/")
    assert args["--quarantine_path"] == s3(curated, "/quarantine/customer_churn/")
    assert rendered(args["--schema_path"]).endswith('.json"}')
    assert args["--code_version"] == built.default.code.code_version
    assert args["--job-bookmark-option"] == "job-bookmark-disable"
    assert built.default.code.code_version in built.job("Etl")["Description"]


def test_job_logs_the_glue_5_way_to_encrypted_groups_kept_a_year(built: Built) -> None:
    # Glue 5.0 ignores the 4.0 continuous-logging arguments and writes to <prefix>/output and
    # <prefix>/error; both groups must exist first, encrypted and with a retention.
    args = built.job("Etl")["DefaultArguments"]
    assert not [a for a in args if "continuous" in a]
    prefix = args["--custom-logGroup-prefix"]
    assert prefix == "/aws-glue/jobs/Etl-etl"  # derived from the stack name, unique per stack
    assert built.default.log_group_prefix == prefix
    for kind in ("Output", "Error"):
        group = built.resources[built.lid("AWS::Logs::LogGroup", f"Etl{kind}Logs")]
        assert group["Properties"] == {
            "LogGroupName": f"{prefix}/{kind.lower()}",
            "KmsKeyId": arn_of(built.lid("AWS::KMS::Key", "LogsKey")),
            "RetentionInDays": 365,
        }
        # Named, so not retained: a kept group would make the next deploy fail.
        assert group["DeletionPolicy"] == "Delete"
    assert "--enable-metrics" in args


def test_security_configuration_encrypts_s3_logs_and_bookmarks_with_kms(built: Built) -> None:
    job = built.job("Etl")
    sc_lid = built.lid("AWS::Glue::SecurityConfiguration", "EtlSecurityConfiguration")
    assert job["SecurityConfiguration"] == ref_of(sc_lid)
    data, logs = (
        arn_of(built.lid("AWS::KMS::Key", "DataKey")),
        arn_of(built.lid("AWS::KMS::Key", "LogsKey")),
    )
    assert built.resources[sc_lid]["Properties"]["EncryptionConfiguration"] == {
        "S3Encryptions": [{"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": data}],
        "CloudWatchEncryption": {"CloudWatchEncryptionMode": "SSE-KMS", "KmsKeyArn": logs},
        "JobBookmarksEncryption": {"JobBookmarksEncryptionMode": "CSE-KMS", "KmsKeyArn": data},
    }


def test_custom_worker_timeout_retries_and_prefixes_reach_the_job(built: Built) -> None:
    job = built.job("Custom")
    assert (job["WorkerType"], job["NumberOfWorkers"]) == ("G.2X", 10)
    assert (job["Timeout"], job["MaxRetries"]) == (120, 2)
    args = job["DefaultArguments"]
    assert rendered(args["--input_path"]).endswith('"/incoming/loans/"]]}')
    assert rendered(args["--output_path"]).endswith('"/clean/loans/"]]}')
    assert rendered(args["--quarantine_path"]).endswith('"/bad/loans/"]]}')
    assert "loanbook" in job["Description"]


def test_a_shared_code_asset_is_not_uploaded_twice(built: Built) -> None:
    assert built.custom.code is built.default.code
    assert (
        built.job("Custom")["DefaultArguments"]["--extra-py-files"]
        == built.job("Etl")["DefaultArguments"]["--extra-py-files"]
    )
    assert built.custom.node.try_find_child("Code") is None


# ------------------------------------------------------------------------------- the catalog


def test_database_and_parquet_table_partitioned_by_ingest_date(built: Built) -> None:
    db = built.lid("AWS::Glue::Database", "EtlDatabase")
    # Unique per stack (Glue database names are per account and region); not retained.
    assert built.resources[db]["Properties"]["DatabaseInput"] == {"Name": "etl_mlops"}
    assert built.resources[db]["DeletionPolicy"] == "Delete"
    table = built.props("AWS::Glue::Table", "EtlCuratedTable")
    assert table["DatabaseName"] == ref_of(db)
    inp = table["TableInput"]
    assert inp["Name"] == "customer_churn_curated"
    assert inp["Parameters"]["classification"] == "parquet"
    assert inp["PartitionKeys"] == [{"Name": "ingest_date", "Type": "string"}]
    sd = inp["StorageDescriptor"]
    assert sd["Location"] == {
        "Fn::Join": ["", ["s3://", ref_of(built.bucket("Curated")), "/customer_churn/"]]
    }
    assert sd["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")


def test_table_columns_follow_the_schema(built: Built) -> None:
    sd = built.props("AWS::Glue::Table", "EtlCuratedTable")["TableInput"]["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in sd["Columns"]] == CHURN_COLUMNS
    assert [c.name for c in built.default.table.columns] == built.default.schema.all_columns


def test_table_of_a_custom_schema_lives_in_its_database_and_prefix(built: Built) -> None:
    db = built.lid("AWS::Glue::Database", "CustomDatabase")
    assert built.resources[db]["Properties"]["DatabaseInput"] == {"Name": "analytics"}
    inp = built.props("AWS::Glue::Table", "CustomCuratedTable")["TableInput"]
    assert inp["Name"] == "loanbook_curated"
    assert inp["StorageDescriptor"]["Columns"] == LOANS_COLUMNS
    assert rendered(inp["StorageDescriptor"]["Location"]).endswith('"/clean/loans/"]]}')


def test_table_projects_the_ingest_date_partitions(built: Built) -> None:
    params = built.props("AWS::Glue::Table", "EtlCuratedTable")["TableInput"]["Parameters"]
    assert params.get("projection.enabled") == "true"
    assert params.get("projection.ingest_date.type") == "date"
    assert params.get("projection.ingest_date.format") == "yyyy-MM-dd"


# ------------------------------------------------------------------------- schedule and alarm


def test_schedule_trigger_starts_the_job_daily(built: Built) -> None:
    trigger = built.props("AWS::Glue::Trigger", "EtlSchedule")
    assert trigger["Type"] == "SCHEDULED"
    assert trigger["Schedule"] == "cron(0 2 * * ? *)"
    assert trigger["StartOnCreation"] is True
    assert trigger["Actions"] == [{"JobName": ref_of(built.lid("AWS::Glue::Job", "EtlJob"))}]


def test_no_trigger_when_schedule_is_none(built: Built) -> None:
    assert built.custom.trigger is None
    assert not [
        lid
        for lid in built.template.find_resources("AWS::Glue::Trigger")
        if lid.startswith("Custom")
    ]


def test_failed_runs_rule_matches_this_job_and_notifies_the_topic(built: Built) -> None:
    rule = built.props("AWS::Events::Rule", "EtlFailedRuns")
    assert rule["EventPattern"] == {
        "source": ["aws.glue"],
        "detail-type": ["Glue Job State Change"],
        "detail": {
            "jobName": [ref_of(built.lid("AWS::Glue::Job", "EtlJob"))],
            "state": ["FAILED", "TIMEOUT", "ERROR"],
        },
    }
    assert [t["Arn"] for t in rule["Targets"]] == [
        ref_of(built.lid("AWS::SNS::Topic", "EtlAlarmTopic"))
    ]


def test_alarm_fires_on_one_failed_run_and_notifies_the_topic(built: Built) -> None:
    built.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/Events",
            "MetricName": "TriggeredRules",
            "Dimensions": [
                {
                    "Name": "RuleName",
                    "Value": ref_of(built.lid("AWS::Events::Rule", "EtlFailedRuns")),
                }
            ],
            "Statistic": "Sum",
            "Period": 300,
            "Threshold": 1,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [ref_of(built.lid("AWS::SNS::Topic", "EtlAlarmTopic"))],
        },
    )


def test_a_given_alarm_topic_is_used_and_no_topic_is_created(built: Built) -> None:
    ops = ref_of(built.lid("AWS::SNS::Topic", "OpsTopic"))
    assert built.custom.alarm_topic is built.topic
    assert [t["Arn"] for t in built.props("AWS::Events::Rule", "CustomFailedRuns")["Targets"]] == [
        ops
    ]
    assert built.props("AWS::CloudWatch::Alarm", "CustomFailedRunsAlarm")["AlarmActions"] == [ops]
    assert not [
        lid for lid in built.template.find_resources("AWS::SNS::Topic") if lid.startswith("Custom")
    ]


def test_default_alarm_topic_is_encrypted_and_tls_only(built: Built) -> None:
    topic = built.lid("AWS::SNS::Topic", "EtlAlarmTopic")
    assert "KmsMasterKeyId" in built.resources[topic]["Properties"]
    built.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [ref_of(topic)],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_default_alarm_topic_key_admits_cloudwatch_and_eventbridge(built: Built) -> None:
    topic = built.props("AWS::SNS::Topic", "EtlAlarmTopic")
    key_lid = topic["KmsMasterKeyId"]["Fn::GetAtt"][0]
    assert key_lid != built.lid("AWS::KMS::Key", "DataKey"), "the data key must stay service-free"
    services: set[str] = set()
    for st in built.resources[key_lid]["Properties"]["KeyPolicy"]["Statement"]:
        if "kms:GenerateDataKey*" in as_list(st["Action"]):
            services.update(as_list(st["Principal"].get("Service", [])))
    assert {"cloudwatch.amazonaws.com", "events.amazonaws.com"} <= services


# ------------------------------------------------------------------------------------ the role


def test_role_is_for_glue_only(built: Built) -> None:
    role = built.resources[built.lid("AWS::IAM::Role", "EtlRole")]["Properties"]
    principals = [s["Principal"] for s in role["AssumeRolePolicyDocument"]["Statement"]]
    assert principals == [{"Service": "glue.amazonaws.com"}]
    assert "ManagedPolicyArns" not in role


def test_role_reads_only_the_raw_prefix_and_writes_only_curated_and_quarantine(
    built: Built,
) -> None:
    lake = {built.bucket(z) for z in ZONES}
    grants = bucket_grants(built.statements("Etl"), lake)
    raw, curated = built.bucket("Raw"), built.bucket("Curated")
    assert set(grants) == {
        (raw, None),
        (raw, "customer_churn/*"),
        (curated, None),
        (curated, "customer_churn/*"),
        (curated, "quarantine/customer_churn/*"),
    }
    assert grants[(raw, "customer_churn/*")] == READ
    assert grants[(curated, "customer_churn/*")] >= WRITE
    assert grants[(curated, "quarantine/customer_churn/*")] >= WRITE
    assert not WRITE & grants[(raw, None)]


def test_custom_prefixes_scope_the_role(built: Built) -> None:
    lake = {built.bucket(z) for z in ZONES}
    patterns = {p for (_, p) in bucket_grants(built.statements("Custom"), lake) if p}
    assert patterns == {"incoming/loans/*", "clean/loans/*", "bad/loans/*"}


def test_role_reads_its_code_schema_and_script_objects_only(built: Built) -> None:
    statements = built.statements("Etl")
    asset_resources = [
        rendered(r)
        for s in statements
        for r in as_list(s["Resource"])
        if "cdk-hnb659fds-assets" in rendered(r)
    ]
    keys = {
        r.rsplit("/", 1)[-1].rstrip('"]}') for r in asset_resources if "/" in r.split("assets-")[-1]
    }
    code = built.default.code
    assert {code.zip_asset.s3_object_key, code.sourcedir_asset.s3_object_key} <= keys
    assert {k.rsplit(".", 1)[-1] for k in keys} == {"zip", "gz", "json", "py"}
    assert not [r for r in asset_resources if r.rstrip('"]}').endswith("/*")]


def test_role_uses_both_keys_and_the_catalog_of_its_table(built: Built) -> None:
    statements = built.statements("Etl")
    for key in ("DataKey", "LogsKey"):
        assert {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"} <= {
            a
            for s in statements
            if arn_of(built.lid("AWS::KMS::Key", key)) in as_list(s["Resource"])
            for a in as_list(s["Action"])
        }
    (catalog,) = statements_allowing(statements, "glue:GetTable")
    assert "glue:BatchCreatePartition" in catalog["Action"]
    resources = rendered(catalog["Resource"])
    assert ":catalog" in resources and ":database/" in resources and ":table/" in resources
    assert '"*"' not in resources


def test_role_writes_glue_logs_and_metrics_only(built: Built) -> None:
    statements = built.statements("Etl")
    (log_statement,) = statements_allowing(statements, "logs:PutLogEvents")
    for res in as_list(log_statement["Resource"]):
        assert rendered(res).endswith(':log-group:/aws-glue/*"]]}'), res
    (metrics,) = statements_allowing(statements, "cloudwatch:PutMetricData")
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Glue"}}
    assert not [a for a in all_actions(statements) if a.endswith(":*") or a == "*"]


# ---------------------------------------------------------------------------- failing cases

_ids = itertools.count()


@pytest.fixture(scope="module")
def lake_stack() -> tuple[cdk.Stack, DataLake, kms.Key]:
    """One unsynthesized stack for the failing cases (each builds under a new id)."""
    stack = cdk.Stack(new_app(), "Failing")
    key = kms.Key(stack, "Key")
    return stack, DataLake(stack, "Lake", encryption_key=key), key


def _etl(lake_stack: tuple[cdk.Stack, DataLake, kms.Key], **props: Any) -> GlueEtl:
    stack, lake, key = lake_stack
    return GlueEtl(
        stack,
        f"Etl{next(_ids)}",
        raw_bucket=lake.raw_bucket,
        curated_bucket=lake.curated_bucket,
        encryption_key=key,
        logs_key=key,
        **props,
    )


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("raw_prefix", "churn"),
        ("raw_prefix", "/churn/"),
        ("curated_prefix", "Churn/"),
        ("quarantine_prefix", "bad prefix/"),
    ],
)
def test_fails_when_a_prefix_is_malformed(lake_stack: Any, prop: str, value: str) -> None:
    with pytest.raises(ValueError, match=rf"GlueEtl at [\w/]+: {prop}='{value}' .* ending in '/'"):
        _etl(lake_stack, **{prop: value})


def test_fails_when_quarantine_lies_inside_curated(lake_stack: Any) -> None:
    with pytest.raises(ValueError, match=r"quarantine_prefix='churn/bad/'.*inside curated_prefix"):
        _etl(lake_stack, curated_prefix="churn/", quarantine_prefix="churn/bad/")


@pytest.mark.parametrize("name", ["My-DB", "", "db name"])
def test_fails_when_database_name_is_not_a_glue_name(lake_stack: Any, name: str) -> None:
    with pytest.raises(ValueError, match=r"database_name=.*lower-case letters, digits and '_'"):
        _etl(lake_stack, database_name=name)


@pytest.mark.parametrize("workers", [1, 300])
def test_fails_when_number_of_workers_is_out_of_range(lake_stack: Any, workers: int) -> None:
    with pytest.raises(ValueError, match=rf"number_of_workers={workers} .* 2 to 299"):
        _etl(lake_stack, number_of_workers=workers)


@pytest.mark.parametrize("retries", [-1, 11])
def test_fails_when_max_retries_is_out_of_range(lake_stack: Any, retries: int) -> None:
    with pytest.raises(ValueError, match=rf"max_retries={retries} .* 0 to 10"):
        _etl(lake_stack, max_retries=retries)


@pytest.mark.parametrize("schedule", ["rate(1 day)", "0 2 * * ? *"])
def test_fails_when_schedule_is_not_a_cron_expression(lake_stack: Any, schedule: str) -> None:
    with pytest.raises(ValueError, match=r"schedule=.*cron\(0 2 \* \* \? \*\)"):
        _etl(lake_stack, schedule=schedule)


def test_fails_when_the_schema_file_does_not_exist(lake_stack: Any, tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(
        ValueError, match=r"GlueEtl at [\w/]+: schema_file=.*missing.json.*does not exist"
    ):
        _etl(lake_stack, schema_file=missing)


def test_fails_when_the_schema_is_invalid(lake_stack: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**LOANS_SCHEMA, "colour": "red"}))
    with pytest.raises(
        ValueError, match=r"GlueEtl at [\w/]+: schema_file=.*Fix the schema.*unknown keys"
    ):
        _etl(lake_stack, schema_file=bad)


def test_fails_when_the_code_has_no_glue_job_script(lake_stack: Any, tmp_path: Path) -> None:
    pkg = tmp_path / "my_code"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    stack = lake_stack[0]
    with pytest.raises(ValueError, match=r"GlueEtl at [\w/]+: code=.*etl/glue_job.py"):
        _etl(lake_stack, code=PipelineCode(stack, f"Code{next(_ids)}", code_dir=pkg))


def test_the_quarantine_budget_reaches_the_job(built: Built) -> None:
    # The ETL fails past this share of quarantined rows instead of writing a biased clean set.
    assert built.job("Etl")["DefaultArguments"]["--max_quarantine_fraction"] == "0.05"


@pytest.mark.parametrize("fraction", [-0.1, 1.5, True])
def test_fails_when_the_quarantine_budget_is_not_a_fraction(lake_stack: Any, fraction: Any) -> None:
    with pytest.raises(ValueError, match=r"max_quarantine_fraction=.*between 0 and 1"):
        _etl(lake_stack, max_quarantine_fraction=fraction)
