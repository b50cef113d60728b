"""AuditTrail: trail settings, bucket security, validation, compliance packs and cfn-lint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from cdk_mlops.checks import cfn_lint, stack_templates
from cdk_mlops.compliance import acknowledge, add_compliance_checks
from cdk_mlops.constructs.audit_trail import MAX_DATA_EVENT_BUCKETS, AuditTrail
from tests.cdk_mlops.helpers import new_app


def build(stack: cdk.Stack, **overrides: Any) -> AuditTrail:
    logs_bucket = s3.Bucket(
        stack,
        "AccessLogs",
        bucket_name="access-logs-bucket",
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        versioned=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
    )
    acknowledge(
        logs_bucket,
        [
            f"{pack}-{rule}"
            for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
            for rule in ("S3BucketReplicationEnabled", "S3DefaultEncryptionKMS")
        ]
        + ["AwsSolutions-S1"],
        "Test stand-in for the level's access log bucket (DataLake's), which is checked there.",
    )
    data = s3.Bucket.from_bucket_name(stack, "Data", "data-lake-bucket")
    props: dict[str, Any] = {"buckets": [data], "access_log_bucket": logs_bucket, **overrides}
    return AuditTrail(stack, "Audit", **props)


@pytest.fixture(scope="module")
def synth() -> tuple[Template, AuditTrail]:
    app = new_app()
    stack = cdk.Stack(app, "Level3")
    built = build(stack)
    return Template.from_stack(stack), built


def test_trail_validates_files_encrypts_and_is_named_after_the_stack(
    synth: tuple[Template, AuditTrail],
) -> None:
    template, built = synth
    template.has_resource_properties(
        "AWS::CloudTrail::Trail",
        {
            "TrailName": "Level3-audit",
            "EnableLogFileValidation": True,
            "IsMultiRegionTrail": False,
            "KMSKeyId": Match.any_value(),
            "CloudWatchLogsLogGroupArn": Match.any_value(),
        },
    )
    assert built.trail_name == "Level3-audit"


def test_data_events_cover_the_buckets_objects(synth: tuple[Template, AuditTrail]) -> None:
    template, _ = synth
    (trail,) = template.find_resources("AWS::CloudTrail::Trail").values()
    selectors = trail["Properties"]["EventSelectors"]
    (selector,) = [s for s in selectors if s.get("DataResources")]
    assert selector["ReadWriteType"] == "All"
    # Model registry actions (sagemaker:CreateModelPackage...) are management events.
    assert any(s.get("IncludeManagementEvents") for s in selectors)
    (resource,) = selector["DataResources"]
    assert resource["Type"] == "AWS::S3::Object"
    assert "data-lake-bucket/" in str(resource["Values"])


def test_bucket_is_kms_encrypted_ssl_only_logged_and_retained(
    synth: tuple[Template, AuditTrail],
) -> None:
    template, _ = synth
    (bucket,) = [
        r
        for r in template.find_resources("AWS::S3::Bucket").values()
        if "LifecycleConfiguration" in r["Properties"]
    ]
    props = bucket["Properties"]
    (logical_id,) = [
        k
        for k, r in template.find_resources("AWS::S3::Bucket").items()
        if r["Properties"].get("BucketName") == "access-logs-bucket"
    ]
    assert bucket["DeletionPolicy"] == "Retain"
    enc = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert enc["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logical_id}
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 365
    policy = str(template.find_resources("AWS::S3::BucketPolicy"))
    assert "aws:SecureTransport" in policy and "cloudtrail.amazonaws.com" in policy


def test_key_lets_cloudtrail_encrypt_only_for_this_trail(
    synth: tuple[Template, AuditTrail],
) -> None:
    template, _ = synth
    (key,) = template.find_resources("AWS::KMS::Key").values()
    (stmt,) = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Sid") == "CloudTrailEncryptsThisTrail"
    ]
    assert "aws:SourceArn" in stmt["Condition"]["StringEquals"]
    assert "Level3-audit" in str(stmt["Condition"]["StringEquals"]["aws:SourceArn"])


def test_cloudwatch_delivery_can_be_turned_off() -> None:
    app = new_app()
    stack = cdk.Stack(app, "NoLogs")
    build(stack, cloudwatch_logs_retention=None)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Logs::LogGroup", 0)
    (trail,) = template.find_resources("AWS::CloudTrail::Trail").values()
    assert "CloudWatchLogsLogGroupArn" not in trail["Properties"]


def test_fails_when_retention_is_not_positive() -> None:
    stack = cdk.Stack(new_app(), "Bad")
    with pytest.raises(ValueError, match=r"retention=0 is not allowed\. keep trail files"):
        build(stack, retention=cdk.Duration.days(0))


def test_fails_with_more_buckets_than_cloudtrail_accepts() -> None:
    stack = cdk.Stack(new_app(), "Bad")
    too_many = [
        s3.Bucket.from_bucket_name(stack, f"B{i}", f"bucket-{i}")
        for i in range(MAX_DATA_EVENT_BUCKETS + 1)
    ]
    with pytest.raises(ValueError, match=r"buckets=251 is not allowed\. CloudTrail logs data"):
        AuditTrail(stack, "Audit", buckets=too_many)


@pytest.mark.slow
@pytest.mark.parametrize(
    "env",
    [
        None,
        cdk.Environment(account="111111111111", region="eu-west-1"),
        cdk.Environment(account="111111111111", region="us-east-1"),
    ],
    ids=["agnostic", "eu-west-1", "us-east-1"],
)
def test_compliance_packs_and_cfn_lint(tmp_path: Path, env: cdk.Environment | None) -> None:
    app = new_app(outdir=str(tmp_path))
    add_compliance_checks(app)
    stack = cdk.Stack(app, "Level3", env=env)
    build(stack)
    app.synth()
    (template,) = stack_templates(tmp_path).values()
    region = env.region if env is not None and env.region else "eu-west-1"
    assert cfn_lint(template, (region,)) == []


def test_trail_waits_for_the_bucket_policy_and_the_delivery_role_policy(
    synth: tuple[Template, AuditTrail],
) -> None:
    template, _ = synth
    (trail,) = template.find_resources("AWS::CloudTrail::Trail").values()
    depends = trail["DependsOn"]
    assert len(depends) == 2
    assert any(d.startswith("AuditBucketPolicy") for d in depends)
    assert any(d.startswith("AuditTrailLogsRoleDefaultPolicy") for d in depends)


def test_bucket_denies_writes_from_other_trails(synth: tuple[Template, AuditTrail]) -> None:
    template, _ = synth
    policies = template.find_resources("AWS::S3::BucketPolicy")
    (deny,) = [
        st
        for p in policies.values()
        for st in p["Properties"]["PolicyDocument"]["Statement"]
        if st.get("Sid") == "OnlyThisTrailWrites"
    ]
    assert deny["Effect"] == "Deny"
    assert "Level3-audit" in json.dumps(deny["Condition"]["StringNotEquals"]["aws:SourceArn"])
