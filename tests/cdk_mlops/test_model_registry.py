"""ModelRegistry: group, optional cross-account policy, notifications, approval mode, grants."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from cdk_mlops.constructs import ApprovalMode, ModelRegistry
from tests.cdk_mlops.construct_fixtures import (
    TemplateView,
    as_list,
    fresh_stack,
    role_statements,
)
from tests.cdk_mlops.helpers import new_app
from tests.cdk_mlops.level2_fixtures import ref_of, rendered

ACCOUNTS = ("111111111111", "222222222222")


def _arn(resource: str) -> dict[str, Any]:
    """A sagemaker ARN of this stack's partition, region and account, as CDK renders it."""
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":sagemaker:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":{resource}",
            ],
        ]
    }


GROUP_ARN = _arn("model-package-group/churn-models")
PACKAGES_ARN = _arn("model-package/churn-models/*")


@dataclass
class Built(TemplateView):
    template: Template
    default: ModelRegistry
    shared: ModelRegistry
    given: ModelRegistry
    topic: sns.Topic

    def statements(self, role: str) -> list[dict[str, Any]]:
        return role_statements(self.template, self.lid("AWS::IAM::Role", role))


@pytest.fixture(scope="module")
def built() -> Built:
    stack = cdk.Stack(new_app(), "Registry")
    default = ModelRegistry(stack, "Churn", model_package_group_name="churn-models")
    default.on_state_change("OnApproved", statuses=["Approved"])
    shared = ModelRegistry(
        stack,
        "Shared",
        model_package_group_name="shared-models",
        encryption_key=kms.Key(stack, "NotificationsKey"),
        approval_mode=ApprovalMode.AUTOMATIC,
        cross_account_ids=ACCOUNTS,
        description="Models the deployment accounts read",
    )
    topic = sns.Topic(stack, "Ops", master_key=kms.Key(stack, "OpsKey"))
    given = ModelRegistry(
        stack, "Given", model_package_group_name="given", notification_topic=topic
    )
    for name, grant in (
        ("Reader", default.grant_read),
        ("Registrar", default.grant_register),
        ("Approver", default.grant_approve),
    ):
        grant(iam.Role(stack, name, assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")))
    return Built(Template.from_stack(stack), default, shared, given, topic)


# ------------------------------------------------------------------------------------- group


def test_group_is_named_described_and_retained(built: Built) -> None:
    lid = built.lid("AWS::SageMaker::ModelPackageGroup", "Churn")
    resource = built.resources[lid]
    assert resource["Properties"] == {
        "ModelPackageGroupName": "churn-models",
        "ModelPackageGroupDescription": "Models trained by the cdk-mlops training pipeline",
    }
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert built.default.group.node.id == "Resource"


def test_no_resource_policy_without_cross_account_ids(built: Built) -> None:
    group = built.props("AWS::SageMaker::ModelPackageGroup", "Churn")
    assert "ModelPackageGroupPolicy" not in group


def test_cross_account_policy_lets_the_accounts_read_and_use_versions(built: Built) -> None:
    group = built.props("AWS::SageMaker::ModelPackageGroup", "Shared")
    assert group["ModelPackageGroupDescription"] == "Models the deployment accounts read"
    statements = {s["Sid"]: s for s in group["ModelPackageGroupPolicy"]["Statement"]}
    assert set(statements) == {"CrossAccountReadApproved", "CrossAccountUseVersions"}
    principals = [
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::{a}:root"]]} for a in ACCOUNTS
    ]
    for st in statements.values():
        assert st["Effect"] == "Allow"
        assert st["Principal"] == {"AWS": principals}
    read, use = statements["CrossAccountReadApproved"], statements["CrossAccountUseVersions"]
    assert read["Action"] == ["sagemaker:DescribeModelPackageGroup"]
    assert read["Resource"] == _arn("model-package-group/shared-models")
    assert set(use["Action"]) == {
        "sagemaker:DescribeModelPackage",
        "sagemaker:ListModelPackages",
        "sagemaker:CreateModel",
    }
    assert use["Resource"] == _arn("model-package/shared-models/*")
    # Nothing that changes the registry crosses the account boundary.
    granted = {a for st in statements.values() for a in as_list(st["Action"])}
    assert not {a for a in granted if a.startswith(("sagemaker:Update", "sagemaker:Delete"))}
    assert "sagemaker:CreateModelPackage" not in granted


def test_arn_attributes_name_the_group_and_its_versions(built: Built) -> None:
    resolve = cdk.Stack.of(built.default).resolve
    assert resolve(built.default.model_package_group_arn) == GROUP_ARN
    assert resolve(built.default.model_packages_arn) == PACKAGES_ARN


# -------------------------------------------------------------------------------- approval


def test_approval_defaults_to_manual(built: Built) -> None:
    assert built.default.approval_mode is ApprovalMode.MANUAL
    assert built.default.default_approval_status == "PendingManualApproval"


def test_automatic_approval_approves_at_registration(built: Built) -> None:
    assert built.shared.default_approval_status == "Approved"


# --------------------------------------------------------------------------- notifications


def test_state_change_rule_of_this_group_notifies_the_topic(built: Built) -> None:
    rule = built.props("AWS::Events::Rule", "ChurnStateChange")
    assert rule["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": ["churn-models"]},
    }
    assert [t["Arn"] for t in rule["Targets"]] == [
        ref_of(built.lid("AWS::SNS::Topic", "ChurnNotifications"))
    ]


def test_on_state_change_can_filter_approval_statuses(built: Built) -> None:
    rule = built.props("AWS::Events::Rule", "ChurnOnApproved")
    assert rule["EventPattern"]["detail"] == {
        "ModelPackageGroupName": ["churn-models"],
        "ModelApprovalStatus": ["Approved"],
    }
    assert "Targets" not in rule


def test_topic_is_tls_only_and_admits_eventbridge(built: Built) -> None:
    topic = built.lid("AWS::SNS::Topic", "ChurnNotifications")
    built.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [ref_of(topic)],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ),
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Action": "sns:Publish",
                            }
                        ),
                    ]
                )
            },
        },
    )


def test_a_given_key_encrypts_the_topic(built: Built) -> None:
    topic = built.props("AWS::SNS::Topic", "SharedNotifications")
    assert topic["KmsMasterKeyId"] == {
        "Fn::GetAtt": [built.lid("AWS::KMS::Key", "NotificationsKey"), "Arn"]
    }


def test_topic_is_encrypted_by_default(built: Built) -> None:
    topic = built.props("AWS::SNS::Topic", "ChurnNotifications")
    assert "KmsMasterKeyId" in topic


def test_a_given_topic_is_used_and_none_is_created(built: Built) -> None:
    assert built.given.topic is built.topic
    rule = built.props("AWS::Events::Rule", "GivenStateChange")
    assert [t["Arn"] for t in rule["Targets"]] == [ref_of(built.lid("AWS::SNS::Topic", "Ops"))]
    assert not [
        lid for lid in built.template.find_resources("AWS::SNS::Topic") if lid.startswith("Given")
    ]


# ---------------------------------------------------------------------------------- grants


@pytest.mark.parametrize(
    ("role", "actions"),
    [
        (
            "Reader",
            {
                "sagemaker:DescribeModelPackageGroup",
                "sagemaker:DescribeModelPackage",
                "sagemaker:ListModelPackages",
            },
        ),
        (
            "Registrar",
            {
                "sagemaker:CreateModelPackage",
                "sagemaker:DescribeModelPackageGroup",
                "sagemaker:DescribeModelPackage",
                "sagemaker:ListModelPackages",
                "sagemaker:AddTags",
            },
        ),
        (
            "Approver",
            {
                "sagemaker:UpdateModelPackage",
                "sagemaker:DescribeModelPackage",
                "sagemaker:ListModelPackages",
            },
        ),
    ],
)
def test_grants_give_exactly_their_actions_on_this_group(
    built: Built, role: str, actions: set[str]
) -> None:
    (statement,) = built.statements(role)
    assert statement["Effect"] == "Allow"
    assert set(as_list(statement["Action"])) == actions
    assert as_list(statement["Resource"]) == [GROUP_ARN, PACKAGES_ARN]


def test_only_the_approver_may_change_approval(built: Built) -> None:
    for role in ("Reader", "Registrar"):
        granted = {a for s in built.statements(role) for a in as_list(s["Action"])}
        assert "sagemaker:UpdateModelPackage" not in granted
    reader = {a for s in built.statements("Reader") for a in as_list(s["Action"])}
    assert "sagemaker:CreateModelPackage" not in reader


# ---------------------------------------------------------------------------- failing cases


@pytest.mark.parametrize("name", ["churn_models", "-churn", "churn-", "a" * 64, "", "churn models"])
def test_fails_when_the_group_name_is_invalid(name: str) -> None:
    with pytest.raises(
        ValueError,
        match=r"ModelRegistry at Test/Registry: model_package_group_name=.* 1 to 63 letters, digits",
    ):
        ModelRegistry(fresh_stack(), "Registry", model_package_group_name=name)


def test_accepts_63_character_names_and_tokens() -> None:
    stack = fresh_stack()
    ModelRegistry(stack, "Long", model_package_group_name="a" * 63)
    ModelRegistry(stack, "Token", model_package_group_name=cdk.Aws.STACK_NAME)
    registry = ModelRegistry(
        stack, "Accounts", model_package_group_name="x", cross_account_ids=[cdk.Aws.ACCOUNT_ID]
    )
    assert "iam::" in rendered(stack.resolve(registry.group.model_package_group_policy))


@pytest.mark.parametrize("account", ["12345", "abcdefghijkl", "1234567890123", " 111111111111"])
def test_fails_when_a_cross_account_id_is_not_12_digits(account: str) -> None:
    with pytest.raises(ValueError, match=r"cross_account_ids=.* 12-digit AWS account ids"):
        ModelRegistry(
            fresh_stack(),
            "Registry",
            model_package_group_name="churn",
            cross_account_ids=["111111111111", account],
        )


def test_fails_when_approval_mode_is_a_string() -> None:
    with pytest.raises(ValueError, match=r"approval_mode='Approved' .* ApprovalMode.MANUAL"):
        ModelRegistry(
            fresh_stack(),
            "Registry",
            model_package_group_name="churn",
            approval_mode="Approved",  # type: ignore[arg-type]
        )
