"""DataLake: four KMS-encrypted zones plus an access-log bucket, overrides, existing buckets, grants."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from cdk_mlops.constructs import DataLake, Zone
from tests.cdk_mlops.construct_fixtures import (
    allowed_actions_on,
    arn_of,
    fresh_stack,
    logical_id,
    role_statements,
)
from tests.cdk_mlops.helpers import new_app

ZONE_PREFIX = {z: f"Lake{z.name.capitalize()}" for z in Zone}
EXTERNAL_KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
READ_ACTIONS = {"s3:GetObject*", "s3:GetBucket*", "s3:List*"}


@dataclass
class Built:
    template: Template
    stack: cdk.Stack
    lake: DataLake
    grants: dict[str, list[iam.Grant]]

    def bucket_id(self, zone: Zone) -> str:
        return logical_id(self.template, "AWS::S3::Bucket", ZONE_PREFIX[zone])

    @property
    def logs_id(self) -> str:
        return logical_id(self.template, "AWS::S3::Bucket", "LakeAccessLogs")

    def bucket(self, lid: str) -> dict[str, Any]:
        resource: dict[str, Any] = self.template.to_json()["Resources"][lid]
        return resource

    def policy_of(self, bucket_lid: str) -> list[dict[str, Any]]:
        for policy in self.template.find_resources("AWS::S3::BucketPolicy").values():
            if policy["Properties"]["Bucket"] == {"Ref": bucket_lid}:
                statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"][
                    "Statement"
                ]
                return statements
        raise AssertionError(f"no bucket policy for {bucket_lid}")

    def role_id(self, prefix: str) -> str:
        return logical_id(self.template, "AWS::IAM::Role", prefix)


def _build(
    make_lake: Any, grants: dict[str, Any] | None = None, app: cdk.App | None = None
) -> Built:
    stack = cdk.Stack(app or new_app(), "Test")
    lake: DataLake = make_lake(stack)
    given: dict[str, list[iam.Grant]] = {}
    for name, grant in (grants or {}).items():
        role = iam.Role(stack, name, assumed_by=iam.ServicePrincipal("glue.amazonaws.com"))
        given[name] = grant(lake, role)
    return Built(Template.from_stack(stack), stack, lake, given)


def _lake_stack(overrides: dict[Zone, dict[str, Any]]) -> cdk.Stack:
    stack = cdk.Stack(new_app(), "Test")
    DataLake(stack, "Lake", bucket_overrides=overrides)
    return stack


@pytest.fixture(scope="module")
def default() -> Built:
    return _build(
        lambda stack: DataLake(stack, "Lake"),
        {
            "Reader": lambda lake, role: lake.grant_read(role, [Zone.CURATED]),
            "Writer": lambda lake, role: lake.grant_write(role, [Zone.ARTIFACTS], "models/*"),
            "Admin": lambda lake, role: lake.grant_read_write(role),
            "OneZoneReader": lambda lake, role: lake.grant_read(role, Zone.MONITORING),
            "OneZoneWriter": lambda lake, role: lake.grant_write(role, Zone.RAW, "incoming/*"),
        },
    )


@pytest.fixture(scope="module")
def custom() -> Built:
    def make(stack: cdk.Stack) -> DataLake:
        return DataLake(
            stack,
            "Lake",
            encryption_key=kms.Key(stack, "MyKey", enable_key_rotation=True),
            removal_policy=cdk.RemovalPolicy.DESTROY,
            noncurrent_version_expiration=cdk.Duration.days(30),
            raw_tiering=[
                s3.Transition(
                    storage_class=s3.StorageClass.GLACIER,
                    transition_after=cdk.Duration.days(180),
                )
            ],
            access_log_retention=cdk.Duration.days(30),
            bucket_overrides={
                Zone.CURATED: {"bucket_name": "acme-curated", "server_access_logs_prefix": "c/"},
                Zone.MONITORING: {"event_bridge_enabled": False, "bucket_key_enabled": False},
            },
        )

    return _build(make)


@pytest.fixture(scope="module")
def existing() -> Built:
    def make(stack: cdk.Stack) -> DataLake:
        raw = s3.Bucket.from_bucket_name(stack, "LandingBucket", "acme-raw-landing")
        monitoring = s3.Bucket.from_bucket_attributes(
            stack,
            "MonitoringBucket",
            bucket_name="acme-monitoring",
            encryption_key=kms.Key.from_key_arn(stack, "MonitoringKey", EXTERNAL_KEY_ARN),
        )
        return DataLake(
            stack, "Lake", existing_buckets={Zone.RAW: raw, Zone.MONITORING: monitoring}
        )

    return _build(make, {"Reader": lambda lake, role: lake.grant_read(role)})


@pytest.fixture(scope="module")
def no_tiering() -> Built:
    return _build(lambda stack: DataLake(stack, "Lake", raw_tiering=[]))


# ------------------------------------------------------------------ secure defaults


def test_creates_four_zone_buckets_an_access_log_bucket_and_a_key(default: Built) -> None:
    default.template.resource_count_is("AWS::S3::Bucket", 5)
    default.template.resource_count_is("AWS::S3::BucketPolicy", 5)
    default.template.resource_count_is("AWS::KMS::Key", 1)
    default.template.has_resource_properties(
        "AWS::KMS::Key", {"EnableKeyRotation": True, "Description": "cdk-mlops data lake"}
    )


@pytest.mark.parametrize("zone", list(Zone))
def test_zone_bucket_uses_sse_kms_with_the_lake_key_and_bucket_keys(
    default: Built, zone: Zone
) -> None:
    key_id = logical_id(default.template, "AWS::KMS::Key", "LakeKey")
    assert default.bucket(default.bucket_id(zone))["Properties"]["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {
                "BucketKeyEnabled": True,
                "ServerSideEncryptionByDefault": {
                    "KMSMasterKeyID": arn_of(key_id),
                    "SSEAlgorithm": "aws:kms",
                },
            }
        ]
    }


@pytest.mark.parametrize("zone", list(Zone))
def test_zone_bucket_is_versioned_private_and_acl_free(default: Built, zone: Zone) -> None:
    props = default.bucket(default.bucket_id(zone))["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert "AccessControl" not in props


@pytest.mark.parametrize("zone", list(Zone))
def test_zone_bucket_policy_denies_plain_http_and_tls_below_1_2(default: Built, zone: Zone) -> None:
    lid = default.bucket_id(zone)
    resources = [arn_of(lid), {"Fn::Join": ["", [arn_of(lid), "/*"]]}]
    statements = default.policy_of(lid)
    assert {
        "Action": "s3:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Resource": resources,
    } in statements
    assert {
        "Action": "s3:*",
        "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.2}},
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Resource": resources,
    } in statements
    assert not [s for s in statements if s["Effect"] == "Allow"], "zone policies only deny"


@pytest.mark.parametrize("zone", list(Zone))
def test_zone_bucket_logs_to_the_access_log_bucket_under_its_zone_prefix(
    default: Built, zone: Zone
) -> None:
    default.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LoggingConfiguration": {
                "DestinationBucketName": {"Ref": default.logs_id},
                "LogFilePrefix": f"{zone.value}/",
            }
        },
    )


@pytest.mark.parametrize("zone", list(Zone))
def test_access_log_bucket_lets_s3_log_delivery_write_only_each_zone_prefix(
    default: Built, zone: Zone
) -> None:
    assert {
        "Action": "s3:PutObject",
        "Condition": {
            "ArnLike": {"aws:SourceArn": arn_of(default.bucket_id(zone))},
            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        },
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Resource": {"Fn::Join": ["", [arn_of(default.logs_id), f"/{zone.value}/*"]]},
    } in default.policy_of(default.logs_id)


@pytest.mark.parametrize("zone", list(Zone))
def test_zone_bucket_expires_noncurrent_versions_and_aborts_stale_uploads(
    default: Built, zone: Zone
) -> None:
    rules = default.bucket(default.bucket_id(zone))["Properties"]["LifecycleConfiguration"]["Rules"]
    assert {
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        "Id": "expire-noncurrent-versions",
        "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
        "Status": "Enabled",
    } in rules


def test_raw_zone_tiers_to_standard_ia_then_glacier_instant_retrieval(default: Built) -> None:
    default.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LoggingConfiguration": Match.object_like({"LogFilePrefix": "raw/"}),
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        {
                            "Id": "tier-raw-data",
                            "Status": "Enabled",
                            "Transitions": [
                                {"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
                                {"StorageClass": "GLACIER_IR", "TransitionInDays": 90},
                            ],
                        }
                    ]
                )
            },
        },
    )


@pytest.mark.parametrize("zone", [Zone.CURATED, Zone.ARTIFACTS, Zone.MONITORING])
def test_only_the_raw_zone_is_tiered(default: Built, zone: Zone) -> None:
    rules = default.bucket(default.bucket_id(zone))["Properties"]["LifecycleConfiguration"]["Rules"]
    assert [r["Id"] for r in rules] == ["expire-noncurrent-versions"]


@pytest.mark.parametrize("zone", list(Zone))
def test_zone_sends_eventbridge_events(default: Built, zone: Zone) -> None:
    props = default.bucket(default.bucket_id(zone))["Properties"]
    assert props["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }


def test_eventbridge_needs_no_notifications_lambda(default: Built) -> None:
    # The bucket property, not the L2 switch that deploys a custom resource and a Lambda.
    default.template.resource_count_is("Custom::S3BucketNotifications", 0)
    default.template.resource_count_is("AWS::Lambda::Function", 0)


def test_access_log_bucket_sends_no_events(default: Built) -> None:
    default.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": Match.object_like(
                {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                    ]
                }
            ),
            "NotificationConfiguration": Match.absent(),
        },
    )


def test_every_bucket_and_the_key_are_retained(default: Built) -> None:
    for cfn_type, count in (("AWS::S3::Bucket", 5), ("AWS::KMS::Key", 1)):
        retained = default.template.find_resources(
            cfn_type, {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
        )
        assert len(retained) == count, cfn_type


def test_access_log_bucket_uses_sse_s3_because_log_delivery_cannot_write_sse_kms(
    default: Built,
) -> None:
    props = default.bucket(default.logs_id)["Properties"]
    assert props["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert "LoggingConfiguration" not in props
    assert "AccessControl" not in props


def test_access_log_bucket_expires_logs_after_a_year_and_denies_plain_http(default: Built) -> None:
    props = default.bucket(default.logs_id)["Properties"]
    assert props["LifecycleConfiguration"]["Rules"] == [
        {
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
            "ExpirationInDays": 365,
            "Id": "expire-access-logs",
            "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
            "Status": "Enabled",
        }
    ]
    denies = [s["Condition"] for s in default.policy_of(default.logs_id) if s["Effect"] == "Deny"]
    assert {"Bool": {"aws:SecureTransport": "false"}} in denies
    assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in denies


def test_access_log_bucket_documents_its_checkov_skip(default: Built) -> None:
    skips = default.bucket(default.logs_id)["Metadata"]["checkov"]["skip"]
    assert [s["id"] for s in skips] == ["CKV_AWS_18"]
    assert "logging it to itself would loop" in skips[0]["comment"]


def test_log_delivery_uses_a_bucket_policy_even_when_the_app_lacks_the_flag() -> None:
    flag: dict[str, Any] = {"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": False}
    app = new_app(**flag)
    built = _build(lambda stack: DataLake(stack, "Lake"), app=app)
    props = built.bucket(built.logs_id)["Properties"]
    assert "AccessControl" not in props
    principals = [s.get("Principal") for s in built.policy_of(built.logs_id)]
    assert principals.count({"Service": "logging.s3.amazonaws.com"}) == 4


# ------------------------------------------------------------------ attributes


def test_exposes_one_bucket_per_zone(default: Built) -> None:
    lake = default.lake
    assert lake.raw_bucket is lake.bucket(Zone.RAW)
    assert lake.curated_bucket is lake.bucket(Zone.CURATED)
    assert lake.artifacts_bucket is lake.bucket(Zone.ARTIFACTS)
    assert lake.monitoring_bucket is lake.bucket(Zone.MONITORING)
    assert set(lake.buckets) == set(Zone)
    assert len({b.node.path for b in lake.buckets.values()}) == 4
    assert isinstance(lake.encryption_key, kms.Key)


def test_buckets_mapping_is_a_copy(default: Built) -> None:
    mapping = dict(default.lake.buckets)
    mapping.pop(Zone.RAW)
    assert Zone.RAW in default.lake.buckets


# ------------------------------------------------------------------ grants


def test_grant_read_gives_object_reads_on_that_zone_and_decrypt_on_the_key(default: Built) -> None:
    statements = role_statements(default.template, default.role_id("Reader"))
    curated = default.bucket_id(Zone.CURATED)
    key_arn = arn_of(logical_id(default.template, "AWS::KMS::Key", "LakeKey"))
    objects = {"Fn::Join": ["", [arn_of(curated), "/*"]]}
    assert allowed_actions_on(statements, objects) >= READ_ACTIONS
    assert allowed_actions_on(statements, arn_of(curated)) >= READ_ACTIONS
    assert "kms:Decrypt" in allowed_actions_on(statements, key_arn)
    assert not allowed_actions_on(statements, key_arn) & {"kms:Encrypt", "kms:GenerateDataKey*"}
    assert not {a for a in allowed_actions_on(statements, objects) if "Put" in a or "Delete" in a}


def test_grant_read_covers_only_the_zones_asked_for(default: Built) -> None:
    statements = role_statements(default.template, default.role_id("Reader"))
    for zone in (Zone.RAW, Zone.ARTIFACTS, Zone.MONITORING):
        assert not allowed_actions_on(statements, arn_of(default.bucket_id(zone))), zone
    assert len(default.grants["Reader"]) == 1
    assert all(g.success for g in default.grants["Reader"])


def test_grant_write_limits_puts_to_the_key_pattern_and_can_encrypt(default: Built) -> None:
    statements = role_statements(default.template, default.role_id("Writer"))
    artifacts = default.bucket_id(Zone.ARTIFACTS)
    models = {"Fn::Join": ["", [arn_of(artifacts), "/models/*"]]}
    key_arn = arn_of(logical_id(default.template, "AWS::KMS::Key", "LakeKey"))
    assert "s3:PutObject" in allowed_actions_on(statements, models)
    assert "s3:GetObject*" not in allowed_actions_on(statements, models)
    assert not allowed_actions_on(statements, {"Fn::Join": ["", [arn_of(artifacts), "/*"]]})
    assert {"kms:Encrypt", "kms:GenerateDataKey*"} <= allowed_actions_on(statements, key_arn)


def test_grant_read_write_defaults_to_every_zone_but_not_the_access_logs(default: Built) -> None:
    statements = role_statements(default.template, default.role_id("Admin"))
    for zone in Zone:
        objects = {"Fn::Join": ["", [arn_of(default.bucket_id(zone)), "/*"]]}
        assert {"s3:GetObject*", "s3:PutObject", "s3:DeleteObject*"} <= allowed_actions_on(
            statements, objects
        ), zone
    assert not allowed_actions_on(statements, arn_of(default.logs_id))
    assert len(default.grants["Admin"]) == 4


def test_grant_read_accepts_a_single_zone(default: Built) -> None:
    statements = role_statements(default.template, default.role_id("OneZoneReader"))
    monitoring = default.bucket_id(Zone.MONITORING)
    objects = {"Fn::Join": ["", [arn_of(monitoring), "/*"]]}
    assert allowed_actions_on(statements, objects) >= READ_ACTIONS
    for zone in (Zone.RAW, Zone.CURATED, Zone.ARTIFACTS):
        assert not allowed_actions_on(statements, arn_of(default.bucket_id(zone))), zone
    assert len(default.grants["OneZoneReader"]) == 1


def test_grant_write_accepts_a_single_zone_and_a_key_pattern(default: Built) -> None:
    statements = role_statements(default.template, default.role_id("OneZoneWriter"))
    raw = default.bucket_id(Zone.RAW)
    incoming = {"Fn::Join": ["", [arn_of(raw), "/incoming/*"]]}
    assert "s3:PutObject" in allowed_actions_on(statements, incoming)
    for zone in (Zone.CURATED, Zone.ARTIFACTS, Zone.MONITORING):
        objects = {"Fn::Join": ["", [arn_of(default.bucket_id(zone)), "/*"]]}
        assert not allowed_actions_on(statements, objects), zone
    assert len(default.grants["OneZoneWriter"]) == 1


@pytest.mark.parametrize("zones", [["raw"], [Zone.RAW, "curated"], [None]])
def test_fails_when_grant_zones_are_not_zone_members(zones: list[Any]) -> None:
    stack = fresh_stack()
    lake = DataLake(stack, "Lake")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"))
    with pytest.raises(TypeError, match=r"zones must be Zone members, got .*Zone\.CURATED"):
        lake.grant_read(role, zones)


def test_fails_naming_the_whole_string_when_grant_zones_is_a_string() -> None:
    stack = fresh_stack()
    lake = DataLake(stack, "Lake")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"))
    with pytest.raises(TypeError, match=r"zones must be Zone members, got 'raw'"):
        lake.grant_read(role, "raw")  # type: ignore[arg-type]


# ------------------------------------------------------------------ options and overrides


def test_given_key_encrypts_every_zone_and_no_key_is_created(custom: Built) -> None:
    custom.template.resource_count_is("AWS::KMS::Key", 1)
    my_key = logical_id(custom.template, "AWS::KMS::Key", "MyKey")
    for zone in Zone:
        sse = custom.bucket(custom.bucket_id(zone))["Properties"]["BucketEncryption"]
        rule = sse["ServerSideEncryptionConfiguration"][0]
        assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == arn_of(my_key), zone


def test_removal_policy_destroy_applies_to_every_bucket(custom: Built) -> None:
    deleted = custom.template.find_resources("AWS::S3::Bucket", {"DeletionPolicy": "Delete"})
    assert len(deleted) == 5


def test_noncurrent_expiration_access_log_retention_and_raw_tiering_are_configurable(
    custom: Built,
) -> None:
    for zone in (Zone.RAW, Zone.ARTIFACTS):
        rules = custom.bucket(custom.bucket_id(zone))["Properties"]["LifecycleConfiguration"][
            "Rules"
        ]
        assert rules[0]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    raw_rules = custom.bucket(custom.bucket_id(Zone.RAW))["Properties"]["LifecycleConfiguration"]
    assert raw_rules["Rules"][1]["Transitions"] == [
        {"StorageClass": "GLACIER", "TransitionInDays": 180}
    ]
    logs_rules = custom.bucket(custom.logs_id)["Properties"]["LifecycleConfiguration"]["Rules"]
    assert logs_rules[0]["ExpirationInDays"] == 30


def test_bucket_overrides_merge_over_the_secure_defaults(custom: Built) -> None:
    custom.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": "acme-curated",
            "LoggingConfiguration": {
                "DestinationBucketName": {"Ref": custom.logs_id},
                "LogFilePrefix": "c/",
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    Match.object_like(
                        {
                            "BucketKeyEnabled": True,
                            "ServerSideEncryptionByDefault": Match.object_like(
                                {"SSEAlgorithm": "aws:kms"}
                            ),
                        }
                    )
                ]
            },
        },
    )
    # Other zones keep generated names.
    for zone in (Zone.RAW, Zone.ARTIFACTS, Zone.MONITORING):
        assert "BucketName" not in custom.bucket(custom.bucket_id(zone))["Properties"]


def test_override_of_one_zone_leaves_the_others_untouched(custom: Built) -> None:
    monitoring = custom.bucket(custom.bucket_id(Zone.MONITORING))["Properties"]
    rule = monitoring["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule.get("BucketKeyEnabled") in (None, False)
    raw = custom.bucket(custom.bucket_id(Zone.RAW))["Properties"]
    assert raw["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["BucketKeyEnabled"]


def test_event_bridge_override_switches_events_off_for_that_zone_only(custom: Built) -> None:
    monitoring = custom.bucket(custom.bucket_id(Zone.MONITORING))["Properties"]
    assert "NotificationConfiguration" not in monitoring
    for zone in (Zone.RAW, Zone.CURATED, Zone.ARTIFACTS):
        props = custom.bucket(custom.bucket_id(zone))["Properties"]
        assert props["NotificationConfiguration"] == {
            "EventBridgeConfiguration": {"EventBridgeEnabled": True}
        }, zone
    custom.template.resource_count_is("AWS::Lambda::Function", 0)


def test_empty_raw_tiering_means_no_tiering_rule(no_tiering: Built) -> None:
    rules = no_tiering.bucket(no_tiering.bucket_id(Zone.RAW))["Properties"][
        "LifecycleConfiguration"
    ]["Rules"]
    assert [r["Id"] for r in rules] == ["expire-noncurrent-versions"]


def test_overrides_accept_dsse_encryption() -> None:
    lake = DataLake(
        fresh_stack(),
        "Lake",
        bucket_overrides={Zone.ARTIFACTS: {"encryption": s3.BucketEncryption.DSSE}},
    )
    assert lake.artifacts_bucket.encryption_key is lake.encryption_key


# ------------------------------------------------------------------ existing buckets


def test_existing_buckets_are_used_instead_of_created(existing: Built) -> None:
    existing.template.resource_count_is("AWS::S3::Bucket", 3)
    assert existing.lake.raw_bucket.bucket_name == "acme-raw-landing"
    assert existing.lake.monitoring_bucket.bucket_name == "acme-monitoring"
    for zone in (Zone.CURATED, Zone.ARTIFACTS):
        existing.bucket_id(zone)


def test_existing_buckets_get_no_log_delivery_statements_or_events(existing: Built) -> None:
    statements = existing.policy_of(existing.logs_id)
    prefixes = [
        s["Resource"]["Fn::Join"][1][1]
        for s in statements
        if s.get("Principal") == {"Service": "logging.s3.amazonaws.com"}
    ]
    assert sorted(prefixes) == ["/artifacts/*", "/curated/*"]
    # Events are switched on only for the buckets the data lake created.
    with_events = existing.template.find_resources(
        "AWS::S3::Bucket", {"Properties": {"NotificationConfiguration": Match.any_value()}}
    )
    assert sorted(with_events) == sorted(
        [existing.bucket_id(Zone.CURATED), existing.bucket_id(Zone.ARTIFACTS)]
    )
    existing.template.resource_count_is("Custom::S3BucketNotifications", 0)


def test_grants_go_through_existing_buckets_and_their_keys(existing: Built) -> None:
    statements = role_statements(existing.template, existing.role_id("Reader"))
    for bucket in (existing.lake.raw_bucket, existing.lake.monitoring_bucket):
        objects = existing.stack.resolve(bucket.arn_for_objects("*"))
        assert "s3:GetObject*" in allowed_actions_on(statements, objects), bucket.bucket_name
    assert "kms:Decrypt" in allowed_actions_on(statements, EXTERNAL_KEY_ARN)
    lake_key = arn_of(logical_id(existing.template, "AWS::KMS::Key", "LakeKey"))
    assert "kms:Decrypt" in allowed_actions_on(statements, lake_key)
    assert len(existing.grants["Reader"]) == 4


# ------------------------------------------------------------------ validation


#: Every message names the construct and its path (stack "Test", construct "Lake").
_AT = r"^DataLake at Test/Lake: "


def test_token_bucket_names_and_tls_version_pass_construction() -> None:
    # An imported bucket and overrides from CfnParameters: S3 checks them at deploy time.
    stack = cdk.Stack(new_app(), "Test")
    raw_name = cdk.CfnParameter(stack, "RawName").value_as_string
    curated_name = cdk.CfnParameter(stack, "CuratedName").value_as_string
    tls = cdk.CfnParameter(stack, "MinTls", type="Number").value_as_number
    lake = DataLake(
        stack,
        "Lake",
        existing_buckets={Zone.RAW: s3.Bucket.from_bucket_name(stack, "Raw", raw_name)},
        bucket_overrides={Zone.CURATED: {"bucket_name": curated_name, "minimum_tls_version": tls}},
    )
    assert stack.resolve(lake.raw_bucket.bucket_name) == {"Ref": "RawName"}
    t = Template.from_stack(stack)
    t.has_resource_properties("AWS::S3::Bucket", {"BucketName": {"Ref": "CuratedName"}})
    t.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {
                                    "NumericLessThan": {"s3:TlsVersion": {"Ref": "MinTls"}}
                                },
                            }
                        )
                    ]
                )
            }
        },
    )


@pytest.mark.parametrize(
    "encryption",
    [
        s3.BucketEncryption.S3_MANAGED,
        s3.BucketEncryption.KMS_MANAGED,
        s3.BucketEncryption.UNENCRYPTED,
        s3.BucketEncryption.DSSE_MANAGED,
    ],
)
def test_fails_when_an_override_weakens_encryption(encryption: s3.BucketEncryption) -> None:
    pattern = (
        _AT
        + re.escape("bucket_overrides[RAW].encryption=")
        + f".*{encryption.name}.*customer-managed KMS key.*encryption_key="
    )
    with pytest.raises(ValueError, match=pattern):
        DataLake(fresh_stack(), "Lake", bucket_overrides={Zone.RAW: {"encryption": encryption}})


@pytest.mark.parametrize(
    ("prop", "value", "fix"),
    [
        ("enforce_ssl", False, "denies every request without TLS"),
        ("versioned", False, "Versioning protects"),
        ("public_read_access", True, "never public"),
        ("block_public_access", s3.BlockPublicAccess.BLOCK_ACLS, "block all public access"),
        ("object_ownership", s3.ObjectOwnership.OBJECT_WRITER, "grant access with IAM"),
    ],
)
def test_fails_when_an_override_switches_off_a_secure_default(
    prop: str, value: Any, fix: str
) -> None:
    pattern = _AT + re.escape(f"bucket_overrides[CURATED].{prop}=") + f".*{fix}"
    with pytest.raises(ValueError, match=pattern):
        DataLake(fresh_stack(), "Lake", bucket_overrides={Zone.CURATED: {prop: value}})


def test_fails_when_an_override_sends_access_logs_elsewhere() -> None:
    stack = fresh_stack()
    other = s3.Bucket.from_bucket_name(stack, "Other", "somewhere-else")
    pattern = (
        _AT
        + re.escape("bucket_overrides[RAW].server_access_logs_bucket=")
        + ".*always go to the data lake's log bucket"
    )
    with pytest.raises(ValueError, match=pattern):
        DataLake(stack, "Lake", bucket_overrides={Zone.RAW: {"server_access_logs_bucket": other}})


def test_fails_when_an_override_switches_off_access_logs() -> None:
    pattern = _AT + re.escape("bucket_overrides[RAW].server_access_logs_bucket=None is not allowed")
    with pytest.raises(ValueError, match=pattern):
        DataLake(
            fresh_stack(), "Lake", bucket_overrides={Zone.RAW: {"server_access_logs_bucket": None}}
        )


def test_fails_when_an_override_sets_the_encryption_key() -> None:
    stack = fresh_stack()
    key = kms.Key(stack, "Other", enable_key_rotation=True)
    pattern = (
        _AT
        + re.escape("bucket_overrides[ARTIFACTS].encryption_key=")
        + r".*DataLake\(encryption_key=\.\.\.\)"
    )
    with pytest.raises(ValueError, match=pattern):
        DataLake(stack, "Lake", bucket_overrides={Zone.ARTIFACTS: {"encryption_key": key}})


@pytest.mark.parametrize("tls", [1.0, 1.1, None, math.nan, math.inf, True])
def test_fails_when_an_override_lowers_the_minimum_tls_version(tls: float | None) -> None:
    pattern = _AT + re.escape(f"bucket_overrides[RAW].minimum_tls_version={tls!r} is not allowed")
    with pytest.raises(ValueError, match=pattern):
        DataLake(fresh_stack(), "Lake", bucket_overrides={Zone.RAW: {"minimum_tls_version": tls}})


@pytest.mark.parametrize("explicit", ["BLOCK_ALL", "all four flags"])
def test_overrides_may_repeat_block_all_public_access(explicit: str) -> None:
    value = (
        s3.BlockPublicAccess.BLOCK_ALL
        if explicit == "BLOCK_ALL"
        else s3.BlockPublicAccess(
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
    )
    t = Template.from_stack(_lake_stack({Zone.RAW: {"block_public_access": value}}))
    t.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LoggingConfiguration": Match.object_like({"LogFilePrefix": "raw/"}),
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
        },
    )


def test_fails_when_an_override_blocks_public_access_only_partly() -> None:
    partly = s3.BlockPublicAccess(
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=False,
    )
    pattern = (
        _AT + re.escape("bucket_overrides[RAW].block_public_access=") + ".*block all public access"
    )
    with pytest.raises(ValueError, match=pattern):
        DataLake(
            fresh_stack(), "Lake", bucket_overrides={Zone.RAW: {"block_public_access": partly}}
        )


def test_overrides_may_raise_the_minimum_tls_version() -> None:
    lake = DataLake(
        fresh_stack(), "Lake", bucket_overrides={Zone.RAW: {"minimum_tls_version": 1.3}}
    )
    assert lake.raw_bucket is not None


def test_fails_when_an_override_is_not_a_bucket_argument() -> None:
    pattern = (
        _AT + re.escape("bucket_overrides[CURATED]=['bucket_nmae']") + ".*not s3.Bucket arguments"
    )
    with pytest.raises(ValueError, match=pattern):
        DataLake(fresh_stack(), "Lake", bucket_overrides={Zone.CURATED: {"bucket_nmae": "x"}})


def test_fails_when_a_zone_is_both_existing_and_overridden() -> None:
    stack = fresh_stack()
    raw = s3.Bucket.from_bucket_name(stack, "Raw", "acme-raw")
    pattern = (
        _AT
        + re.escape("bucket_overrides[RAW]=['bucket_name']")
        + r".*existing_buckets\[RAW\] is also given"
    )
    with pytest.raises(ValueError, match=pattern):
        DataLake(
            stack,
            "Lake",
            existing_buckets={Zone.RAW: raw},
            bucket_overrides={Zone.RAW: {"bucket_name": "acme-raw-2"}},
        )


@pytest.mark.parametrize("where", ["existing_buckets", "bucket_overrides"])
def test_fails_when_a_zone_key_is_a_string(where: str) -> None:
    stack = fresh_stack()
    value: Any = (
        s3.Bucket.from_bucket_name(stack, "Raw", "acme-raw") if where == "existing_buckets" else {}
    )
    with pytest.raises(ValueError, match=_AT + r"zone key='raw'.*Use a Zone member: \['RAW'"):
        kwargs: dict[str, Any] = {where: {"raw": value}}
        DataLake(stack, "Lake", **kwargs)


def test_failing_validation_creates_no_buckets() -> None:
    stack = fresh_stack()
    with pytest.raises(ValueError):
        DataLake(stack, "Lake", bucket_overrides={Zone.RAW: {"versioned": False}})
    assert not [c for c in stack.node.find_all() if isinstance(c, s3.CfnBucket)]
    assert not [c for c in stack.node.find_all() if isinstance(c, kms.CfnKey)]


def test_zone_members_name_the_four_zones() -> None:
    assert [z.value for z in Zone] == ["raw", "curated", "artifacts", "monitoring"]
