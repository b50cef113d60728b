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

from cdk_mlops.constructs.key_policies import allow_eventbridge_to_topics, allow_notifiers


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
        if self.topic.master_key is not None:
            allow_eventbridge_to_topics(self.topic.master_key)
        return events.RuleTargetConfig(arn=self.topic.topic_arn)
