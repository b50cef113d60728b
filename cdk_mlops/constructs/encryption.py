"""Customer-managed KMS keys for the platform, one per purpose, rotated yearly."""

from __future__ import annotations

import re

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from cdk_mlops.constructs._notifications import allow_notifiers
from cdk_mlops.constructs._util import prop_error, stack_scoped_name

_ALIAS_PREFIX = re.compile(r"alias/[a-zA-Z0-9/_-]+")
_KEY_ACTIONS = [
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
]


class EncryptionKeys(Construct):
    """Three customer-managed KMS keys with rotation and aliases; only the logs and notifications
    keys name service principals (each scoped to this account).

    - ``data_key``: S3 data lake objects, SageMaker volumes and outputs, Glue job data. Its policy
      is CDK's default (the account administers it, IAM grants decide who uses it): principals
      get it only through ``grant_*`` (``DataLake.grant_read`` and friends grant it too).
    - ``logs_key``: CloudWatch Logs groups of this account (VPC flow logs, Glue, SageMaker, Lambda).
    - ``notifications_key``: SNS topics, publishable by AWS Budgets, CloudWatch alarms and
      EventBridge of this account only.

    Separate keys keep blast radius small: a principal that can read logs cannot decrypt data.
    A key costs about USD 1 a month.

    :param alias_prefix: alias prefix; keys get ``<prefix>/data``, ``<prefix>/logs`` and
        ``<prefix>/notifications``. Aliases are unique per account and region. Default
        ``alias/<stack name>`` (two stacks in one account never collide).
    :param removal_policy: what happens to the keys when the stack is deleted. Default RETAIN
        (deleting a key destroys every object encrypted with it).
    :param pending_window: waiting period before a scheduled deletion. Default 30 days (7 to 30).
    :param rotation_period: automatic rotation period. Default 365 days (range 90 to 2560).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alias_prefix: str | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        pending_window: cdk.Duration | None = None,
        rotation_period: cdk.Duration | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if alias_prefix is None:
            alias_prefix = "alias/" + stack_scoped_name(self, "", max_length=200)
        reserved = alias_prefix.lower() == "alias/aws" or alias_prefix.lower().startswith(
            "alias/aws/"
        )
        if reserved or not _ALIAS_PREFIX.fullmatch(alias_prefix):
            raise prop_error(
                "EncryptionKeys",
                "alias_prefix",
                alias_prefix,
                "Start it with 'alias/', use letters, digits, '/', '_' and '-', and not 'alias/aws/' "
                "(reserved for AWS managed keys), e.g. 'alias/mlops'.",
            )
        rotation = rotation_period or cdk.Duration.days(365)
        _check_whole_days(
            "rotation_period",
            rotation,
            90,
            2560,
            "KMS rotates keys every 90 to 2560 whole days; choose a period in that range.",
        )
        window = pending_window or cdk.Duration.days(30)
        _check_whole_days(
            "pending_window",
            window,
            7,
            30,
            "KMS waits 7 to 30 whole days before deleting a key; choose a window in that range.",
        )

        def make(kid: str, purpose: str) -> kms.Key:
            return kms.Key(
                self,
                kid,
                description=f"cdk-mlops {purpose} key",
                alias=f"{alias_prefix}/{kid.lower()}",
                enable_key_rotation=True,
                rotation_period=rotation,
                pending_window=window,
                removal_policy=removal_policy,
            )

        self.data_key = make("Data", "data lake, SageMaker and Glue")
        self.logs_key = make("Logs", "CloudWatch Logs")
        self.notifications_key = make("Notifications", "SNS notifications")

        allow_cloudwatch_logs(self.logs_key)
        allow_notifiers(self.notifications_key)


def _check_whole_days(prop: str, duration: cdk.Duration, low: int, high: int, fix: str) -> None:
    days = float(duration.to_days(integral=False))
    if not (days.is_integer() and low <= days <= high):
        raise prop_error("EncryptionKeys", prop, f"{days:g} days", fix)


def allow_cloudwatch_logs(key: kms.Key) -> None:
    """Let CloudWatch Logs of this account and region encrypt log groups of this account with ``key``."""
    stack = cdk.Stack.of(key)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsOfThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}")],
            actions=_KEY_ACTIONS,
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )
