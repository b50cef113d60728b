"""Every KMS key-policy statement the library adds for an AWS service, in one place.

Each admits one service for this account (and region) only, by the condition that service
really sends to KMS: CloudWatch Logs the log group's ARN as encryption context, Budgets and
CloudWatch alarms ``aws:SourceAccount``, EventBridge (publishing to an encrypted topic) the
topic's ARN as encryption context.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

_LOGS_KEY_ACTIONS = [
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
]

#: Services that publish to our topics for this account and send ``aws:SourceAccount`` to KMS.
#: EventBridge does not (see :func:`allow_eventbridge_to_topics`).
NOTIFIER_SERVICES: tuple[str, ...] = (
    "budgets.amazonaws.com",
    "cloudwatch.amazonaws.com",
)


def allow_cloudwatch_logs(key: kms.Key) -> None:
    """Let CloudWatch Logs of this account and region encrypt log groups of this account with ``key``."""
    stack = cdk.Stack.of(key)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsOfThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{cdk.Aws.REGION}.{cdk.Aws.URL_SUFFIX}")],
            actions=_LOGS_KEY_ACTIONS,
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


def allow_notifiers(key: kms.Key) -> None:
    """Let Budgets and CloudWatch alarms of this account encrypt messages with ``key``."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowAwsNotifiersOfThisAccount",
            principals=[iam.ServicePrincipal(s) for s in NOTIFIER_SERVICES],
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
        )
    )


def allow_eventbridge_to_topics(key: kms.IKey) -> None:
    """Let EventBridge encrypt messages with ``key`` for SNS topics of this account and region.

    SNS calls KMS for the publisher with the topic ARN as encryption context; the aws:Source*
    keys are not in that request for EventBridge deliveries, so a SourceAccount condition would
    drop every alert silently. (Topics of this account and region rather than one topic's ARN:
    a key and the topic it encrypts would reference each other.)
    """
    topics = cdk.Stack.of(key).format_arn(service="sns", resource="*")
    key.grant(
        iam.ServicePrincipal("events.amazonaws.com").with_conditions(
            {"ArnLike": {"kms:EncryptionContext:aws:sns:topicArn": topics}}
        ),
        "kms:Decrypt",
        "kms:GenerateDataKey*",
    )
