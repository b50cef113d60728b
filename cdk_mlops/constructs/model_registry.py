"""A SageMaker Model Registry group with approval notifications and grants."""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_mlops.constructs._notifications import TopicTarget, encrypted_topic
from cdk_mlops.constructs._util import check_prop, stack_scoped_name

_GROUP_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_ACCOUNT = re.compile(r"^\d{12}$")


class ApprovalMode(enum.Enum):
    """How new model versions enter the registry."""

    MANUAL = "PendingManualApproval"
    """A person approves each version (maturity level 2)."""
    AUTOMATIC = "Approved"
    """Versions that pass the pipeline's quality gate are approved at registration."""


class ModelRegistryBase(Construct):
    """What every model package group offers, created here or imported: rules and grants."""

    model_package_group_name: str
    model_package_group_arn: str
    model_packages_arn: str
    approval_mode: ApprovalMode

    @property
    def default_approval_status(self) -> str:
        """The ``ModelApprovalStatus`` new versions get (``PendingManualApproval`` by default)."""
        return self.approval_mode.value

    def on_state_change(
        self,
        rule_id: str,
        *,
        target: events.IRuleTarget | None = None,
        statuses: Sequence[str] = (),
    ) -> events.Rule:
        """An EventBridge rule on model package state changes of this group (optionally only
        these ``ModelApprovalStatus`` values, e.g. ``["Approved"]``)."""
        detail: dict[str, object] = {"ModelPackageGroupName": [self.model_package_group_name]}
        if statuses:
            detail["ModelApprovalStatus"] = list(statuses)
        rule = events.Rule(
            self,
            rule_id,
            description=f"Model package state changes of {self.model_package_group_name}",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Model Package State Change"],
                detail=detail,
            ),
        )
        if target is not None:
            rule.add_target(target)
        return rule

    # ------------------------------------------------------------------ grants
    def grant(self, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
        """``actions`` on the group and every version of it."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(actions),
            resource_arns=[self.model_package_group_arn, self.model_packages_arn],
        )

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Describe and list the group and its versions."""
        return self.grant(
            grantee,
            "sagemaker:DescribeModelPackageGroup",
            "sagemaker:DescribeModelPackage",
            "sagemaker:ListModelPackages",
        )

    def grant_register(self, grantee: iam.IGrantable) -> iam.Grant:
        """Register new versions (what a training pipeline's role needs)."""
        return self.grant(
            grantee,
            "sagemaker:CreateModelPackage",
            "sagemaker:DescribeModelPackageGroup",
            "sagemaker:DescribeModelPackage",
            "sagemaker:ListModelPackages",
            "sagemaker:AddTags",
        )

    def grant_approve(self, grantee: iam.IGrantable) -> iam.Grant:
        """Approve or reject versions (an approver's or a promotion job's role)."""
        return self.grant(
            grantee,
            "sagemaker:UpdateModelPackage",
            "sagemaker:DescribeModelPackage",
            "sagemaker:ListModelPackages",
        )


class ModelRegistry(ModelRegistryBase):
    """A model package group: versions, approval, notifications, optional cross-account reads.

    Secure defaults: manual approval (``approval_mode``), an EventBridge rule on every model
    package state change of this group (registration, approval, rejection) notifying a
    KMS-encrypted, TLS-only SNS topic, and a resource policy only when ``cross_account_ids`` is
    given (those accounts may describe, list and create models from approved versions: what a
    deployment account needs).

    :param model_package_group_name: 1 to 63 letters, digits and hyphens, unique per account and
        region. Default ``<stack name>-models``. The group is retained when the stack is
        deleted (its versions and approvals are the registry's record): delete it, or reuse it
        under another stack, before deploying a stack that creates the same name again.
    :param encryption_key: KMS key of the notification topic; its policy must admit
        events.amazonaws.com (``EncryptionKeys.notifications_key`` does). Default: a new key that does.
    :param approval_mode: default MANUAL.
    :param cross_account_ids: accounts allowed to read the group. Default none.
    :param notification_topic: use this topic instead of creating one.
    :param description: of the group.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model_package_group_name: str | None = None,
        encryption_key: kms.IKey | None = None,
        approval_mode: ApprovalMode = ApprovalMode.MANUAL,
        cross_account_ids: Sequence[str] = (),
        notification_topic: sns.ITopic | None = None,
        description: str = "Models trained by the cdk-mlops training pipeline",
    ) -> None:
        super().__init__(scope, construct_id)
        if model_package_group_name is None:
            model_package_group_name = stack_scoped_name(self, "models", max_length=63)
        check_prop(
            self,
            "model_package_group_name",
            model_package_group_name,
            _GROUP_NAME.fullmatch,
            "Use 1 to 63 letters, digits and hyphens, starting with a letter or digit, e.g. 'churn-models'.",
        )
        for account in cross_account_ids:
            check_prop(
                self,
                "cross_account_ids",
                account,
                _ACCOUNT.fullmatch,
                "Give 12-digit AWS account ids, e.g. '123456789012'.",
            )
        check_prop(
            self,
            "approval_mode",
            approval_mode,
            isinstance(approval_mode, ApprovalMode),
            "Use ApprovalMode.MANUAL or ApprovalMode.AUTOMATIC.",
        )
        self.model_package_group_name = model_package_group_name
        self.approval_mode = approval_mode
        stack = cdk.Stack.of(self)
        self.model_package_group_arn = stack.format_arn(
            service="sagemaker",
            resource="model-package-group",
            resource_name=model_package_group_name,
        )
        self.model_packages_arn = stack.format_arn(
            service="sagemaker",
            resource="model-package",
            resource_name=f"{model_package_group_name}/*",
        )

        policy = None
        if cross_account_ids:
            policy = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "CrossAccountReadApproved",
                        "Effect": "Allow",
                        "Principal": {
                            "AWS": [
                                f"arn:{cdk.Aws.PARTITION}:iam::{a}:root" for a in cross_account_ids
                            ]
                        },
                        "Action": ["sagemaker:DescribeModelPackageGroup"],
                        "Resource": self.model_package_group_arn,
                    },
                    {
                        "Sid": "CrossAccountUseVersions",
                        "Effect": "Allow",
                        "Principal": {
                            "AWS": [
                                f"arn:{cdk.Aws.PARTITION}:iam::{a}:root" for a in cross_account_ids
                            ]
                        },
                        "Action": [
                            "sagemaker:DescribeModelPackage",
                            "sagemaker:ListModelPackages",
                            "sagemaker:CreateModel",
                        ],
                        "Resource": self.model_packages_arn,
                    },
                ],
            }
        self.group = sagemaker.CfnModelPackageGroup(
            self,
            "Resource",
            model_package_group_name=model_package_group_name,
            model_package_group_description=description,
            model_package_group_policy=policy,
        )
        self.group.apply_removal_policy(cdk.RemovalPolicy.RETAIN)

        self.topic = notification_topic or encrypted_topic(
            self, "Notifications", key=encryption_key, display_name="Model registry"
        )
        self.state_change_rule = self.on_state_change("StateChange", target=TopicTarget(self.topic))

    @classmethod
    def from_group_name(
        cls,
        scope: Construct,
        construct_id: str,
        model_package_group_name: str,
        *,
        approval_mode: ApprovalMode = ApprovalMode.MANUAL,
    ) -> ModelRegistryBase:
        """An existing group of ``scope``'s account and region (e.g. from another stack)."""
        return cls.from_group_attributes(
            scope,
            construct_id,
            model_package_group_name=model_package_group_name,
            approval_mode=approval_mode,
        )

    @classmethod
    def from_group_attributes(
        cls,
        scope: Construct,
        construct_id: str,
        *,
        model_package_group_name: str,
        account: str | None = None,
        region: str | None = None,
        approval_mode: ApprovalMode = ApprovalMode.MANUAL,
    ) -> ModelRegistryBase:
        """An existing group, in another account or region when ``account``/``region`` are given
        (a shared registry: its group policy must admit this account, see ``cross_account_ids``).
        ``approval_mode`` is the status versions registered from here get."""
        return _ImportedModelRegistry(
            scope,
            construct_id,
            model_package_group_name=model_package_group_name,
            account=account,
            region=region,
            approval_mode=approval_mode,
        )


class _ImportedModelRegistry(ModelRegistryBase):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model_package_group_name: str,
        account: str | None,
        region: str | None,
        approval_mode: ApprovalMode,
    ) -> None:
        super().__init__(scope, construct_id)
        check_prop(
            self,
            "model_package_group_name",
            model_package_group_name,
            _GROUP_NAME.fullmatch,
            "Give the name of an existing group (1 to 63 letters, digits and hyphens).",
        )
        if account is not None:
            check_prop(self, "account", account, _ACCOUNT.fullmatch, "Give a 12-digit account id.")
        self.model_package_group_name = model_package_group_name
        self.approval_mode = approval_mode
        stack = cdk.Stack.of(self)
        self.model_package_group_arn = stack.format_arn(
            service="sagemaker",
            resource="model-package-group",
            resource_name=model_package_group_name,
            account=account,
            region=region,
        )
        self.model_packages_arn = stack.format_arn(
            service="sagemaker",
            resource="model-package",
            resource_name=f"{model_package_group_name}/*",
            account=account,
            region=region,
        )
