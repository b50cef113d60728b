"""One encrypted topic for every alert of a platform: failed ETL runs, registry changes, alarms."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from cdk_mlops.constructs._notifications import TopicTarget, encrypted_topic
from cdk_mlops.constructs._util import EMAIL, check_prop


class AlertsTopic(Construct):
    """A KMS-encrypted, TLS-only SNS topic that alarms and EventBridge rules publish to.

    Secure defaults: encrypted with ``encryption_key`` (or a new rotated key that admits
    CloudWatch alarms and Budgets of this account), publishing only over TLS, and EventBridge
    rules added through :meth:`rule_target` may publish for that rule only (``aws:SourceArn``).

    :param encryption_key: key of the topic; its policy must admit the notifiers that publish
        (``EncryptionKeys.notifications_key`` does). Default: a new key that does.
    :param display_name: default ``MLOps alerts``.
    :param emails: addresses subscribed at deploy time (each must confirm). Default none.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        encryption_key: kms.IKey | None = None,
        display_name: str = "MLOps alerts",
        emails: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        for email in emails:
            check_prop(self, "emails", email, EMAIL.fullmatch, "Give e-mail addresses.")
        self.topic: sns.Topic = encrypted_topic(
            self, "Resource", key=encryption_key, display_name=display_name
        )
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))

    @property
    def topic_arn(self) -> str:
        return self.topic.topic_arn

    def rule_target(self) -> events.IRuleTarget:
        """A target for an EventBridge rule: publishes the event, allowed for that rule only."""
        return TopicTarget(self.topic)

    def alarm_action(self) -> cloudwatch.IAlarmAction:
        """An alarm action that notifies this topic."""
        return cw_actions.SnsAction(self.topic)

    def grant_publish(self, grantee: iam.IGrantable) -> iam.Grant:
        """Publish to the topic (and use its key)."""
        return self.topic.grant_publish(grantee)
