"""An encrypted S3 data lake: raw, curated, artifacts and monitoring zones plus access logs."""

from __future__ import annotations

import enum
import inspect
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_mlops.compliance import acknowledge, checkov_skip
from cdk_mlops.constructs._util import check_prop, prop_error


class Zone(enum.Enum):
    """The zones of the data lake, one bucket each."""

    RAW = "raw"
    """Data as it arrives; tiered to cheaper storage as it ages."""
    CURATED = "curated"
    """Typed, deduplicated Parquet written by the ETL, plus the quarantine of bad rows."""
    ARTIFACTS = "artifacts"
    """Models, pipeline outputs, evaluation reports and baselines."""
    MONITORING = "monitoring"
    """Endpoint data capture and monitoring reports."""


_BUCKET_KWARGS = frozenset(inspect.signature(s3.Bucket.__init__).parameters) - {
    "self",
    "scope",
    "id",
}
#: Overrides that would switch off a secure default, with the fix to show the user.
_FORBIDDEN: dict[str, tuple[Any, str]] = {
    "enforce_ssl": (True, "The data lake denies every request without TLS; remove the override."),
    "versioned": (True, "Versioning protects against overwrites and deletes; remove the override."),
    "public_read_access": (False, "Data lake buckets are never public; remove the override."),
    "block_public_access": (
        s3.BlockPublicAccess.BLOCK_ALL,
        "Data lake buckets block all public access; remove the override.",
    ),
    "object_ownership": (
        s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        "ACLs stay disabled (bucket owner enforced); grant access with IAM instead.",
    ),
}
#: Overrides that are never allowed, whatever the value.
_NEVER = {
    "server_access_logs_bucket": "Access logs always go to the data lake's log bucket; remove the override.",
    "encryption_key": "Pass your key as DataLake(encryption_key=...) so every zone and grant uses it.",
}


def _same(value: Any, required: Any) -> bool:
    """Equality that also compares BlockPublicAccess settings by value, not identity."""
    if isinstance(value, s3.BlockPublicAccess) and isinstance(required, s3.BlockPublicAccess):
        fields = (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        )
        return all(getattr(value, f) == getattr(required, f) for f in fields)
    return bool(value == required)


class DataLake(Construct):
    """Four KMS-encrypted, versioned, TLS-only buckets and a server-access-log bucket.

    Secure defaults (each bucket): SSE-KMS with ``encryption_key`` and S3 Bucket Keys, versioning,
    TLS 1.2+ only, all public access blocked, ACLs disabled (bucket owner enforced), server access
    logs, noncurrent versions expire after ``noncurrent_version_expiration``, incomplete multipart
    uploads aborted after 7 days, RETAIN on stack deletion. The raw zone moves to Standard-IA and
    then Glacier Instant Retrieval as it ages (``raw_tiering``). Every zone emits EventBridge
    events (free until a rule matches) so ingestion, CI and monitoring can react to new objects.

    The access-log bucket uses SSE-S3 because S3 log delivery cannot write SSE-KMS objects.

    :param encryption_key: the KMS key for every zone. Default: a new key with rotation.
    :param existing_buckets: use these buckets for some zones instead of creating them. The
        construct cannot check their settings; it grants through them as usual.
    :param bucket_overrides: ``s3.Bucket`` keyword arguments merged over the secure defaults for a
        zone, e.g. ``{Zone.RAW: {"bucket_name": "acme-raw"}}``. Overrides that switch off a
        secure default (encryption, TLS, versioning, public access, ACLs) are rejected.
        Values that are tokens (a ``CfnParameter`` bucket name or TLS version) pass; S3 checks
        them when they are resolved.
    :param removal_policy: default RETAIN.
    :param noncurrent_version_expiration: default 90 days.
    :param raw_tiering: storage class transitions for the raw zone. Default Standard-IA after
        30 days and Glacier Instant Retrieval after 90 days; pass ``[]`` for none.
    :param access_log_retention: how long server access logs are kept. Default 365 days.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        encryption_key: kms.IKey | None = None,
        existing_buckets: Mapping[Zone, s3.IBucket] | None = None,
        bucket_overrides: Mapping[Zone, Mapping[str, Any]] | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        noncurrent_version_expiration: cdk.Duration | None = None,
        raw_tiering: Sequence[s3.Transition] | None = None,
        access_log_retention: cdk.Duration | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # Log delivery by bucket policy (not ACL) is what lets ACLs stay disabled; set it here so
        # the construct is correct in apps whose cdk.json lacks the flag.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        existing = dict(existing_buckets or {})
        overrides = {z: dict(o) for z, o in (bucket_overrides or {}).items()}
        self._validate(existing, overrides)

        self.encryption_key: kms.IKey = encryption_key or kms.Key(
            self,
            "Key",
            description="cdk-mlops data lake",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        noncurrent = noncurrent_version_expiration or cdk.Duration.days(90)
        tiering = (
            list(raw_tiering)
            if raw_tiering is not None
            else [
                s3.Transition(
                    storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                    transition_after=cdk.Duration.days(30),
                ),
                s3.Transition(
                    storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                    transition_after=cdk.Duration.days(90),
                ),
            ]
        )

        self.access_logs_bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=removal_policy,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=access_log_retention or cdk.Duration.days(365),
                    noncurrent_version_expiration=cdk.Duration.days(30),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
        )
        acknowledge(
            self.access_logs_bucket,
            [
                "AwsSolutions-S1",
                "HIPAA.Security-S3BucketLoggingEnabled",
                "NIST.800.53.R5-S3BucketLoggingEnabled",
                "PCI.DSS.321-S3BucketLoggingEnabled",
            ],
            "This is the server-access-log bucket itself; logging it to itself would loop.",
        )
        checkov_skip(
            self.access_logs_bucket,
            "CKV_AWS_18",
            "This is the server-access-log bucket itself; logging it to itself would loop.",
        )
        acknowledge(
            self.access_logs_bucket,
            [
                "HIPAA.Security-S3BucketReplicationEnabled",
                "NIST.800.53.R5-S3BucketReplicationEnabled",
                "PCI.DSS.321-S3BucketReplicationEnabled",
            ],
            "Server access logs are an audit trail kept in the region they describe; replicating them is "
            "left to the account's log archive, if it has one.",
        )
        acknowledge(
            self.access_logs_bucket,
            [
                "HIPAA.Security-S3DefaultEncryptionKMS",
                "NIST.800.53.R5-S3DefaultEncryptionKMS",
                "PCI.DSS.321-S3DefaultEncryptionKMS",
            ],
            "S3 server access log delivery only writes to SSE-S3 buckets; SSE-KMS would drop the logs.",
        )

        self._buckets: dict[Zone, s3.IBucket] = {}
        for zone in Zone:
            if zone in existing:
                self._buckets[zone] = existing[zone]
                continue
            rules = [
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=noncurrent,
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ]
            if zone is Zone.RAW and tiering:
                rules.append(s3.LifecycleRule(id="tier-raw-data", transitions=tiering))
            props: dict[str, Any] = {
                "encryption": s3.BucketEncryption.KMS,
                "encryption_key": self.encryption_key,
                "bucket_key_enabled": True,
                "enforce_ssl": True,
                "minimum_tls_version": 1.2,
                "versioned": True,
                "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
                "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
                "server_access_logs_bucket": self.access_logs_bucket,
                "server_access_logs_prefix": f"{zone.value}/",
                "removal_policy": removal_policy,
                "lifecycle_rules": rules,
            }
            props.update(overrides.get(zone, {}))
            bucket = s3.Bucket(self, zone.name.capitalize(), **props)
            if "event_bridge_enabled" not in overrides.get(zone, {}):
                # The L2 switch deploys a notifications Lambda; the bucket property needs none.
                cfn = bucket.node.default_child
                assert isinstance(cfn, s3.CfnBucket)
                cfn.add_property_override(
                    "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
                )
            acknowledge(
                bucket,
                [
                    "HIPAA.Security-S3BucketReplicationEnabled",
                    "NIST.800.53.R5-S3BucketReplicationEnabled",
                    "PCI.DSS.321-S3BucketReplicationEnabled",
                ],
                f"The {zone.value} zone is versioned and retained in one region; cross-region replication "
                "is a disaster-recovery and cost decision left to the account owner.",
            )
            self._buckets[zone] = bucket

    # ------------------------------------------------------------------ attributes
    @property
    def raw_bucket(self) -> s3.IBucket:
        return self._buckets[Zone.RAW]

    @property
    def curated_bucket(self) -> s3.IBucket:
        return self._buckets[Zone.CURATED]

    @property
    def artifacts_bucket(self) -> s3.IBucket:
        return self._buckets[Zone.ARTIFACTS]

    @property
    def monitoring_bucket(self) -> s3.IBucket:
        return self._buckets[Zone.MONITORING]

    def bucket(self, zone: Zone) -> s3.IBucket:
        """The bucket of one zone."""
        return self._buckets[zone]

    @property
    def buckets(self) -> Mapping[Zone, s3.IBucket]:
        return dict(self._buckets)

    # ------------------------------------------------------------------ grants
    def grant_read(
        self,
        grantee: iam.IGrantable,
        zones: Iterable[Zone] | Zone | None = None,
        objects_key_pattern: str = "*",
    ) -> list[iam.Grant]:
        """Read (and decrypt) objects of ``zones`` (default: all zones) under ``objects_key_pattern``."""
        return [
            self._buckets[z].grant_read(grantee, objects_key_pattern) for z in self._zones(zones)
        ]

    def grant_read_write(
        self,
        grantee: iam.IGrantable,
        zones: Iterable[Zone] | Zone | None = None,
        objects_key_pattern: str = "*",
    ) -> list[iam.Grant]:
        """Read, write and delete objects of ``zones`` (default: all zones) under ``objects_key_pattern``."""
        return [
            self._buckets[z].grant_read_write(grantee, objects_key_pattern)
            for z in self._zones(zones)
        ]

    def grant_write(
        self,
        grantee: iam.IGrantable,
        zones: Iterable[Zone] | Zone | None = None,
        objects_key_pattern: str = "*",
    ) -> list[iam.Grant]:
        """Write (and encrypt) objects of ``zones`` (default: all zones) under ``objects_key_pattern``."""
        return [
            self._buckets[z].grant_write(grantee, objects_key_pattern) for z in self._zones(zones)
        ]

    def _zones(self, zones: Iterable[Zone] | Zone | None) -> list[Zone]:
        if isinstance(zones, str):
            raise TypeError(
                f"DataLake grant: zones must be Zone members, got {zones!r}; pass e.g. Zone.RAW or [Zone.RAW]"
            )
        chosen = (
            list(Zone) if zones is None else [zones] if isinstance(zones, Zone) else list(zones)
        )
        for z in chosen:
            if not isinstance(z, Zone):
                raise TypeError(
                    f"DataLake grant: zones must be Zone members, got {z!r}; use e.g. Zone.CURATED"
                )
        return chosen

    def _validate(
        self, existing: dict[Zone, s3.IBucket], overrides: dict[Zone, dict[str, Any]]
    ) -> None:
        for zone in (*existing, *overrides):
            if not isinstance(zone, Zone):
                raise prop_error(
                    self, "zone key", zone, f"Use a Zone member: {[z.name for z in Zone]}."
                )
        for zone in existing.keys() & overrides.keys():
            raise prop_error(
                self,
                f"bucket_overrides[{zone.name}]",
                sorted(overrides[zone]),
                f"existing_buckets[{zone.name}] is also given; configure an existing bucket where it is defined, "
                "or drop it and let the data lake create the bucket with your overrides.",
            )
        for zone, props in overrides.items():
            unknown = sorted(set(props) - _BUCKET_KWARGS)
            if unknown:
                raise prop_error(
                    self,
                    f"bucket_overrides[{zone.name}]",
                    unknown,
                    "These are not s3.Bucket arguments.",
                )
            enc = props.get("encryption")
            if enc is not None and enc not in (s3.BucketEncryption.KMS, s3.BucketEncryption.DSSE):
                raise prop_error(
                    self,
                    f"bucket_overrides[{zone.name}].encryption",
                    enc,
                    "The data lake encrypts every zone with a customer-managed KMS key; remove the override, "
                    "or pass your own key as encryption_key=.",
                )
            for key, fix in _NEVER.items():
                if key in props:
                    raise prop_error(self, f"bucket_overrides[{zone.name}].{key}", props[key], fix)
            for key, (required, fix) in _FORBIDDEN.items():
                if key in props and not _same(props[key], required):
                    raise prop_error(self, f"bucket_overrides[{zone.name}].{key}", props[key], fix)
            if "minimum_tls_version" in props:
                # A token (a CfnParameter) lands in the bucket policy's condition and is resolved
                # at deploy time. NaN and infinity are refused: jsii cannot carry them.
                check_prop(
                    self,
                    f"bucket_overrides[{zone.name}].minimum_tls_version",
                    props["minimum_tls_version"],
                    _tls_at_least_1_2,
                    "The data lake denies TLS below 1.2; use 1.2 or 1.3, or remove the override.",
                )


def _tls_at_least_1_2(tls: object) -> bool:
    return (
        isinstance(tls, (int, float))
        and not isinstance(tls, bool)
        and math.isfinite(tls)
        and tls >= 1.2
    )
