"""Customer-managed KMS keys for the platform, one per purpose, rotated yearly."""

from __future__ import annotations

import re

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from constructs import Construct

from cdk_mlops.constructs._util import check_prop, prop_error, stack_scoped_name
from cdk_mlops.constructs.key_policies import allow_cloudwatch_logs, allow_notifiers

#: allow_cloudwatch_logs is re-exported from here, where it was first published.
__all__ = ["EncryptionKeys", "allow_cloudwatch_logs"]

_ALIAS_PREFIX = re.compile(r"alias/[a-zA-Z0-9/_-]+")


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
        ``alias/<stack name>`` (two stacks in one account never collide). May be a token (a
        ``CfnParameter``); KMS checks the resolved name.
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
        # A token (a CfnParameter, an imported value) is checked by KMS when it is resolved.
        check_prop(
            self,
            "alias_prefix",
            alias_prefix,
            _valid_alias_prefix,
            "Start it with 'alias/', use letters, digits, '/', '_' and '-', and not 'alias/aws/' "
            "(reserved for AWS managed keys), e.g. 'alias/mlops'.",
        )
        rotation = rotation_period or cdk.Duration.days(365)
        _check_whole_days(
            self,
            "rotation_period",
            rotation,
            90,
            2560,
            "KMS rotates keys every 90 to 2560 whole days; choose a period in that range.",
        )
        window = pending_window or cdk.Duration.days(30)
        _check_whole_days(
            self,
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


def _valid_alias_prefix(prefix: str) -> bool:
    reserved = prefix.lower() == "alias/aws" or prefix.lower().startswith("alias/aws/")
    return not reserved and bool(_ALIAS_PREFIX.fullmatch(prefix))


def _check_whole_days(
    keys: EncryptionKeys, prop: str, duration: cdk.Duration, low: int, high: int, fix: str
) -> None:
    if duration.is_unresolved():
        # Not skipped: kms.Key itself compares the period with its range at synth time, so a
        # token can never pass; say so instead of showing the token's encoded number.
        raise prop_error(
            keys,
            prop,
            duration.to_human_string(),
            "kms.Key checks this period when the app is synthesized, so it cannot come from a "
            "parameter or an imported value; give a literal cdk.Duration.days(...).",
        )
    days = float(duration.to_days(integral=False))
    if not (days.is_integer() and low <= days <= high):
        raise prop_error(keys, prop, f"{days:g} days", fix)
