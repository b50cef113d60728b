"""CloudTrail audit of the data lake buckets (object-level) and model registry (management) actions."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_mlops.compliance import acknowledge, acknowledge_inline_policy, checkov_skip
from cdk_mlops.constructs._util import check_prop, stack_scoped_name
from cdk_mlops.constructs.key_policies import allow_cloudwatch_logs

#: CloudTrail accepts at most 250 data resources across a trail's basic event selectors.
MAX_DATA_EVENT_BUCKETS = 250

REPLICATION_RULES = (
    "HIPAA.Security-S3BucketReplicationEnabled",
    "NIST.800.53.R5-S3BucketReplicationEnabled",
    "PCI.DSS.321-S3BucketReplicationEnabled",
)


class AuditTrail(Construct):
    """A single-region CloudTrail trail with log file validation, KMS and a retained bucket.

    :param buckets: data lake buckets whose object-level reads and writes are logged (S3 data
        events, billed per event).
    :param encryption_key: key for the trail files; CloudTrail is allowed to use it for this
        trail only. Default: a new rotated key.
    :param access_log_bucket: server access log bucket for the trail bucket. Default: none
        (acknowledged).
    :param retention: how long trail files are kept in S3. Default: 365 days.
    :param cloudwatch_logs_retention: if set, the trail also delivers to an encrypted log group
        kept this long. Default: 90 days (HIPAA/NIST/PCI ask for CloudWatch delivery).
    :param multi_region: record every region. Default: False (the level-3 stack is regional;
        use an organization trail for account-wide coverage).
    :param removal_policy: of the trail bucket. Default: RETAIN (audit evidence outlives stacks).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        buckets: Sequence[s3.IBucket] = (),
        encryption_key: kms.IKey | None = None,
        access_log_bucket: s3.IBucket | None = None,
        retention: cdk.Duration | None = None,
        cloudwatch_logs_retention: logs.RetentionDays | None = logs.RetentionDays.THREE_MONTHS,
        multi_region: bool = False,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        check_prop(
            self,
            "buckets",
            len(buckets),
            len(buckets) <= MAX_DATA_EVENT_BUCKETS,
            f"CloudTrail logs data events for at most {MAX_DATA_EVENT_BUCKETS} buckets per trail; "
            "split the buckets over several trails",
        )
        retention = retention or cdk.Duration.days(365)
        days = retention.to_days()
        check_prop(
            self, "retention", days, days > 0, "keep trail files at least 1 day (e.g. 365 days)"
        )
        stack = cdk.Stack.of(self)
        trail_name = stack_scoped_name(self, "audit", max_length=128)
        trail_arn = stack.format_arn(
            service="cloudtrail", resource="trail", resource_name=trail_name
        )
        if encryption_key is None:
            key = kms.Key(self, "Key", enable_key_rotation=True, description="CloudTrail audit")
            allow_cloudwatch_logs(key)
            encryption_key = key
        encryption_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudTrailEncryptsThisTrail",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["kms:GenerateDataKey*", "kms:DescribeKey"],
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceArn": trail_arn},
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": stack.format_arn(
                            service="cloudtrail", resource="trail", resource_name="*"
                        )
                    },
                },
            )
        )
        self.encryption_key = encryption_key
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=encryption_key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=access_log_bucket,
            server_access_logs_prefix="cloudtrail/" if access_log_bucket else None,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="Retention",
                    expiration=retention,
                    noncurrent_version_expiration=cdk.Duration.days(1),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                )
            ],
            removal_policy=removal_policy,
        )
        # CDK's Trail allows cloudtrail.amazonaws.com without aws:SourceArn; deny other trails.
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OnlyThisTrailWrites",
                effect=iam.Effect.DENY,
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects("*")],
                conditions={"StringNotEquals": {"aws:SourceArn": trail_arn}},
            )
        )
        self.log_group: logs.LogGroup | None = None
        if cloudwatch_logs_retention is not None:
            self.log_group = logs.LogGroup(
                self,
                "Logs",
                encryption_key=encryption_key,
                retention=cloudwatch_logs_retention,
                removal_policy=cdk.RemovalPolicy.DESTROY,
            )
        self.trail = cloudtrail.Trail(
            self,
            "Trail",
            trail_name=trail_name,
            bucket=self.bucket,
            encryption_key=encryption_key,
            enable_file_validation=True,
            include_global_service_events=multi_region,
            is_multi_region_trail=multi_region,
            management_events=cloudtrail.ReadWriteType.ALL,
            send_to_cloud_watch_logs=self.log_group is not None,
            cloud_watch_log_group=self.log_group,
        )
        if not multi_region:
            checkov_skip(
                self.trail,
                "CKV_AWS_67",
                "A single-region trail by design (multi_region=False): the level stack is regional; "
                "account-wide coverage comes from an organization trail or multi_region=True.",
            )
        if buckets:
            self.trail.add_s3_event_selector(
                [cloudtrail.S3EventSelector(bucket=b) for b in buckets],
                include_management_events=True,
                read_write_type=cloudtrail.ReadWriteType.ALL,
            )
        acknowledge(
            self.bucket.node.default_child,  # type: ignore[arg-type]
            REPLICATION_RULES,
            "The trail bucket holds CloudTrail files that are versioned, KMS-encrypted, validated "
            "by CloudTrail digest files and retained on stack deletion; cross-region copies are "
            "the job of an organization trail, which this construct defers to when one exists.",
        )
        logs_role = self.trail.node.try_find_child("LogsRole")
        if logs_role is not None:
            policy = logs_role.node.try_find_child("DefaultPolicy")
            if policy is not None:
                acknowledge_inline_policy(policy, "CloudTrail log delivery")
            # CDK adds DependsOn the role although CloudWatchLogsRoleArn already references it
            # (cfn-lint W3005); keep the bucket policy and role policy dependencies only.
            cfn_trail = self.trail.node.default_child
            assert isinstance(cfn_trail, cdk.CfnResource)
            keep = [self.bucket.policy, policy]
            cfn_trail.add_override(
                "DependsOn",
                [
                    stack.get_logical_id(c.node.default_child)  # type: ignore[arg-type]
                    for c in keep
                    if c is not None
                ],
            )
        self.trail_arn = self.trail.trail_arn
        self.trail_name = trail_name


__all__ = ["MAX_DATA_EVENT_BUCKETS", "AuditTrail"]
