"""Encrypted SNS topics that AWS notifiers (Budgets, CloudWatch alarms, EventBridge) can publish to."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

NOTIFIER_SERVICES: tuple[str, ...] = (
    "budgets.amazonaws.com",
    "cloudwatch.amazonaws.com",
    "events.amazonaws.com",
)


def allow_notifiers(key: kms.Key) -> None:
    """Let Budgets, CloudWatch and EventBridge of this account encrypt messages with ``key``."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowAwsNotifiersOfThisAccount",
            principals=[iam.ServicePrincipal(s) for s in NOTIFIER_SERVICES],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
        )
    )


def encrypted_topic(
    scope: Construct, topic_id: str, *, key: kms.IKey | None, display_name: str
) -> sns.Topic:
    """A TLS-only topic encrypted with ``key``, or with a new rotated key that admits the notifiers.

    A key you pass must admit the notifiers that publish to the topic
    (``EncryptionKeys.notifications_key`` does); the data key does not, on purpose.
    """
    if key is None:
        new_key = kms.Key(
            scope,
            f"{topic_id}Key",
            description=f"cdk-mlops {display_name}",
            enable_key_rotation=True,
        )
        allow_notifiers(new_key)
        key = new_key
    return sns.Topic(scope, topic_id, master_key=key, enforce_ssl=True, display_name=display_name)
