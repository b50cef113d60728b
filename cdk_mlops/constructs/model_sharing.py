"""Cross-account model promotion: the registry's account shares model versions and their
artifacts with staging and production accounts, whose endpoint role reads exactly those.

Four links must all hold, or the endpoint in the consumer account fails to create its model
(usually with an opaque ``AccessDenied`` while SageMaker downloads the model data):

1. the model package group's resource policy admits the consumer account
   (``ModelRegistry(cross_account_ids=...)``);
2. the artifacts bucket's policy lets the consumer's model-reader roles get the model objects
   (:class:`ModelSharing`);
3. the artifacts key's policy lets those roles decrypt, through S3 only, for that bucket only
   (:class:`ModelSharing`);
4. the consumer's role allows the same objects and the same key, and nothing else of the
   source account (:class:`SharedModelReader`).

The consumer roles are recognized by their IAM path, :data:`MODEL_READER_PATH` (the source
names no role: names are the consumer's to choose, and IAM paths cannot be set by a workload
under the library's permissions boundary). Names the consumer must know (bucket, key alias,
group) are derived from the source stack's name, account and region
(:meth:`SharedModelSource.for_stack`), so both sides synthesize with no lookup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_mlops.compliance import (
    acknowledge,
    acknowledge_inline_policy,
    grant_policies,
    resource_finding,
)
from cdk_mlops.constructs._util import is_token, prop_error, scoped_name

#: The IAM path of the roles a consumer account reads shared models with.
MODEL_READER_PATH = "/cdk-mlops/model-readers/"
#: The model artifacts the training pipeline writes (its default ``output_prefix``): the
#: training job's ``model.tar.gz`` of each execution, and nothing else under the prefix.
DEFAULT_MODEL_KEYS = "training-pipeline/*/Train/*/output/model.tar.gz"

_ACCOUNT = re.compile(r"^\d{12}$")
_KEYS = re.compile(r"^[A-Za-z0-9!_.*'()/-]+$")


def shared_artifacts_bucket_name(stack_name: str, account: str, region: str) -> str:
    """The artifacts bucket's name in a stack that shares models: unique per account and region
    (bucket names are global), derivable in the consumer's stack."""
    return scoped_name(stack_name, f"artifacts-{account}-{region}", max_length=63, lowercase=True)


@dataclass(frozen=True, kw_only=True)
class SharedModelSource:
    """Where shared models live: the source account's names, as a consumer must write them.

    Build it with :meth:`for_stack` from the source stack's name, account and region (the
    library's default names), or give the names of your own resources.
    """

    account: str
    region: str
    artifacts_bucket_name: str
    key_alias: str
    model_package_group_name: str
    model_keys: str = DEFAULT_MODEL_KEYS

    @classmethod
    def for_stack(
        cls, stack_name: str, *, account: str, region: str, model_keys: str = DEFAULT_MODEL_KEYS
    ) -> SharedModelSource:
        """The names a level 2+ stack of this library gives them when it shares models."""
        return cls(
            account=account,
            region=region,
            artifacts_bucket_name=shared_artifacts_bucket_name(stack_name, account, region),
            key_alias=f"alias/{scoped_name(stack_name, '', max_length=200)}/data",
            model_package_group_name=scoped_name(stack_name, "models", max_length=63),
            model_keys=model_keys,
        )

    def model_package_group_arn(self, partition: str = "aws") -> str:
        return (
            f"arn:{partition}:sagemaker:{self.region}:{self.account}:model-package-group/"
            f"{self.model_package_group_name}"
        )


def _check_accounts(construct: Construct, prop: str, accounts: Sequence[str]) -> list[str]:
    if isinstance(accounts, str) or not accounts:
        raise prop_error(construct, prop, accounts,
                         'Give a non-empty list of 12-digit account ids, e.g. ["222222222222"].')  # fmt: skip
    own = cdk.Stack.of(construct).account
    for account in accounts:
        if not (isinstance(account, str) and _ACCOUNT.match(account)):
            raise prop_error(construct, prop, account,
                             'Give 12-digit account ids as strings, e.g. "222222222222".')  # fmt: skip
        if not is_token(own) and account == own:
            raise prop_error(construct, prop, account,
                             "That is this stack's own account; list only the other accounts.")  # fmt: skip
    if len(set(accounts)) != len(accounts):
        raise prop_error(construct, prop, list(accounts), "List each account once.")
    return list(accounts)


def _check_keys(construct: Construct, model_keys: str) -> None:
    if not (isinstance(model_keys, str) and _KEYS.match(model_keys)) or model_keys.startswith("/"):
        raise prop_error(construct, "model_keys", model_keys,
                         "Give an S3 key pattern without a leading '/', e.g. "
                         f"{DEFAULT_MODEL_KEYS!r}.")  # fmt: skip


def reader_role_pattern(account: str, partition: str = cdk.Aws.PARTITION) -> str:
    """The ARNs of the model-reader roles of ``account`` (any name under the reader path)."""
    return f"arn:{partition}:iam::{account}:role{MODEL_READER_PATH}*"


class ModelSharing(Construct):
    """Source side: let consumer accounts' model-reader roles read and decrypt the models.

    Adds to the artifacts bucket's policy a grant of ``s3:GetObject`` on ``model_keys`` only, and
    to the key's policy a grant of ``kms:Decrypt`` through S3 in this region, for this bucket's
    encryption context only; both for principals of the consumer accounts whose ARN is under
    :data:`MODEL_READER_PATH`. Share the model package group too
    (``ModelRegistry(cross_account_ids=...)``; ``RepeatableSettings.model_consumer_accounts``
    does both).

    :param artifacts_bucket: the bucket the models are in: created in this app (its policy
        changes) with a fixed ``bucket_name`` (the consumers name it).
    :param encryption_key: the bucket's KMS key, also created in this app.
    :param consumer_accounts: the staging/production accounts.
    :param model_keys: S3 key pattern of the shared objects. Default
        :data:`DEFAULT_MODEL_KEYS`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        artifacts_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        consumer_accounts: Sequence[str],
        model_keys: str = DEFAULT_MODEL_KEYS,
    ) -> None:
        super().__init__(scope, construct_id)
        self.consumer_accounts = _check_accounts(self, "consumer_accounts", consumer_accounts)
        _check_keys(self, model_keys)
        self.model_keys = model_keys
        principals = [iam.AccountPrincipal(a) for a in self.consumer_accounts]
        readers = [reader_role_pattern(a) for a in self.consumer_accounts]
        added = artifacts_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="SharedModelsReadByConsumerAccounts",
                principals=principals,
                actions=["s3:GetObject"],
                resources=[artifacts_bucket.arn_for_objects(model_keys)],
                conditions={"ArnLike": {"aws:PrincipalArn": readers}},
            )
        )
        if not added.statement_added:
            raise prop_error(self, "artifacts_bucket", artifacts_bucket.node.path,
                             "The bucket is imported, so its policy cannot change here; pass a "
                             "bucket this app creates, or add the statement in its own stack.")  # fmt: skip
        region = cdk.Stack.of(self).region
        # The key encrypts the bucket, so its policy cannot reference the bucket (a circular
        # dependency): name it literally. A bucket with a generated name cannot be shared anyway
        # (the consumers must name it).
        name = getattr(artifacts_bucket, "_physical_name", None)  # the literal bucket_name
        if not isinstance(name, str) or is_token(name):
            raise prop_error(self, "artifacts_bucket", artifacts_bucket.node.path,
                             "Give the bucket a fixed bucket_name (consumer accounts must name "
                             "it; shared_artifacts_bucket_name() derives one), e.g. through "
                             "InitialSettings.artifacts_bucket_name.")  # fmt: skip
        bucket_arn = f"arn:{cdk.Aws.PARTITION}:s3:::{name}"
        key_added = encryption_key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="SharedModelsDecryptByConsumerAccounts",
                principals=principals,
                actions=["kms:Decrypt"],
                resources=["*"],
                conditions={
                    "ArnLike": {"aws:PrincipalArn": readers},
                    "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                    "StringLike": {
                        "kms:EncryptionContext:aws:s3:arn": [
                            bucket_arn,  # with S3 bucket keys
                            f"{bucket_arn}/{model_keys}",  # without
                        ]
                    },
                },
            )
        )
        if not key_added.statement_added:
            raise prop_error(self, "encryption_key", encryption_key.node.path,
                             "The key is imported, so its policy cannot change here; pass a key "
                             "this app creates, or add the statement in its own stack.")  # fmt: skip


class SharedModelReader(Construct):
    """Consumer side: the execution role of endpoints that serve models shared by another account.

    The role is under :data:`MODEL_READER_PATH` (the source admits that path), trusted by
    SageMaker for this account only, and may read the shared model objects, decrypt them with the
    source's key through S3, pull images and write its endpoint logs and metrics; nothing else of
    the source account. Pass ``role.role_arn`` as the endpoint stack's ``ExecutionRoleArn``.

    :param source: where the shared models live (:meth:`SharedModelSource.for_stack`).

    Attributes: ``role``, ``role_arn``, ``source``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, source: SharedModelSource) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        if not (_ACCOUNT.match(source.account) and source.region):
            raise prop_error(self, "source", source,
                             "Name the source account (12 digits) and region.")  # fmt: skip
        if not is_token(stack.account) and stack.account == source.account:
            raise prop_error(self, "source.account", source.account,
                             "The source is this account; use endpoint_execution_role for "
                             "models of this account.")  # fmt: skip
        _check_keys(self, source.model_keys)
        self.source = source
        partition = stack.partition
        objects = f"arn:{partition}:s3:::{source.artifacts_bucket_name}/{source.model_keys}"
        keys = f"arn:{partition}:kms:{source.region}:{source.account}:key/*"
        self.role = iam.Role(
            self,
            "Role",
            path=MODEL_READER_PATH,
            assumed_by=iam.ServicePrincipal(
                "sagemaker.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
            description=f"Endpoint models shared by {source.account} (cdk-mlops)",
        )
        self.role_arn = self.role.role_arn
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadSharedModels",
                actions=["s3:GetObject"],
                resources=[objects],
                conditions={"StringEquals": {"s3:ResourceAccount": source.account}},
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="DecryptSharedModels",
                actions=["kms:Decrypt"],
                resources=[keys],
                conditions={
                    "StringEquals": {"kms:ViaService": f"s3.{source.region}.amazonaws.com"},
                    "ForAnyValue:StringEquals": {"kms:ResourceAliases": [source.key_alias]},
                },
            )
        )
        ecr_arn, logs_arn = add_endpoint_runtime_permissions(self.role)
        for policy in grant_policies(self.role):
            acknowledge_inline_policy(policy, "shared-model endpoint execution")
            acknowledge(
                policy,
                [
                    resource_finding(policy, objects),
                    resource_finding(policy, keys),
                    "AwsSolutions-IAM5[Resource::*]",
                    resource_finding(policy, ecr_arn),
                    resource_finding(policy, logs_arn),
                ],
                "The shared model objects are one key pattern of the source bucket (owner "
                "checked by s3:ResourceAccount); the key is the one with the source's data alias, "
                "through S3 only; ecr:GetAuthorizationToken and cloudwatch:PutMetricData "
                "(namespace-conditioned) take no resource; endpoint log groups are named after "
                "endpoints created later.",
            )


def add_endpoint_runtime_permissions(role: iam.Role) -> tuple[str, str]:
    """What every endpoint execution role needs besides its model: pull images, write its logs
    and metrics. Returns the ECR and log-group ARN patterns (for acknowledgments)."""
    stack = cdk.Stack.of(role)
    ecr_arn = stack.format_arn(service="ecr", resource="repository", resource_name="*")
    logs_arn = stack.format_arn(
        service="logs", resource="log-group", resource_name="/aws/sagemaker/Endpoints/*",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )  # fmt: skip
    role.add_to_policy(iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]))
    role.add_to_policy(
        iam.PolicyStatement(
            actions=[
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchCheckLayerAvailability",
            ],
            resources=[ecr_arn],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[logs_arn],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"], resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}},
        )
    )  # fmt: skip
    return ecr_arn, logs_arn
