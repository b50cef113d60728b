"""Encrypted SNS topics that AWS notifiers (Budgets, CloudWatch alarms, EventBridge) can publish to."""

from __future__ import annotations

import aws_cdk as cdk
import jsii
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.interfaces import aws_events as interfaces_events
from constructs import Construct

#: Services that publish to our topics for this account and send ``aws:SourceAccount`` to KMS.
#: EventBridge does not (see :class:`TopicTarget`, which grants it per topic).
NOTIFIER_SERVICES: tuple[str, ...] = (
    "budgets.amazonaws.com",
    "cloudwatch.amazonaws.com",
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


@jsii.implements(events.IRuleTarget)
class TopicTarget:
    """An EventBridge rule target that publishes to ``topic``, for that one rule only.

    ``aws_events_targets.SnsTopic`` lets ``events.amazonaws.com`` publish to the topic, and use
    its key, with no condition: a rule of any account could then publish. This target lets only
    the rule that binds it publish (``aws:SourceArn`` on the topic policy), and lets EventBridge
    use the key only for topics of this account and region (the ``aws:sns:topicArn``
    encryption context SNS sends).
    """

    def __init__(self, topic: sns.ITopic) -> None:
        self.topic = topic

    def bind(
        self, rule: interfaces_events.IRuleRef, id: str | None = None
    ) -> events.RuleTargetConfig:
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"EventBridgeRule{cdk.Names.node_unique_id(rule.node)}"[:100],
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"ArnEquals": {"aws:SourceArn": rule.rule_ref.rule_arn}},
            )
        )
        key = self.topic.master_key
        if key is not None:
            # SNS calls KMS for the publisher with the topic ARN as encryption context; the
            # aws:Source* keys are not in that request for EventBridge deliveries, so a
            # SourceAccount condition here would drop every alert silently. (Topics of this
            # account and region, not this topic's ARN: the key and topic would form a cycle.)
            topics = cdk.Stack.of(key).format_arn(service="sns", resource="*")
            key.grant(
                iam.ServicePrincipal("events.amazonaws.com").with_conditions(
                    {"ArnLike": {"kms:EncryptionContext:aws:sns:topicArn": topics}}
                ),
                "kms:Decrypt",
                "kms:GenerateDataKey*",
            )
        return events.RuleTargetConfig(arn=self.topic.topic_arn)
