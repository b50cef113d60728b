"""CostGuard: a monthly budget alerting a KMS-encrypted SNS topic that only Budgets may publish to."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from cdk_mlops.constructs import CostGuard, EncryptionKeys
from tests.cdk_mlops.construct_fixtures import arn_of, as_list, fresh_stack, logical_id
from tests.cdk_mlops.helpers import new_app

THIS_ACCOUNT = {"Ref": "AWS::AccountId"}


@dataclass
class Built:
    template: Template
    stack: cdk.Stack
    guard: CostGuard

    @property
    def topic_id(self) -> str:
        return logical_id(self.template, "AWS::SNS::Topic", "CostTopic")

    @property
    def budget(self) -> dict[str, Any]:
        budgets = self.template.find_resources("AWS::Budgets::Budget")
        assert len(budgets) == 1
        return dict(next(iter(budgets.values())))

    @property
    def topic_statements(self) -> list[dict[str, Any]]:
        policy = logical_id(self.template, "AWS::SNS::TopicPolicy", "CostTopicPolicy")
        resource = self.template.to_json()["Resources"][policy]["Properties"]
        assert resource["Topics"] == [{"Ref": self.topic_id}]
        statements: list[dict[str, Any]] = resource["PolicyDocument"]["Statement"]
        return statements


def _build(make: Any) -> Built:
    stack = cdk.Stack(new_app(), "Test")
    guard: CostGuard = make(stack)
    return Built(Template.from_stack(stack), stack, guard)


def _notification(kind: str, threshold: float, topic_id: str) -> dict[str, Any]:
    return {
        "Notification": {
            "ComparisonOperator": "GREATER_THAN",
            "NotificationType": kind,
            "Threshold": threshold,
            "ThresholdType": "PERCENTAGE",
        },
        "Subscribers": [{"Address": {"Ref": topic_id}, "SubscriptionType": "SNS"}],
    }


@pytest.fixture(scope="module")
def default() -> Built:
    return _build(lambda stack: CostGuard(stack, "Cost"))


@pytest.fixture(scope="module")
def custom() -> Built:
    def make(stack: cdk.Stack) -> CostGuard:
        keys = EncryptionKeys(stack, "Keys")
        return CostGuard(
            stack,
            "Cost",
            monthly_limit_usd=250.5,
            actual_thresholds_percent=(50, 90),
            forecast_threshold_percent=None,
            alert_emails=["ml-platform@example.com", "on-call@example.org"],
            encryption_key=keys.notifications_key,
            budget_name="ml-monthly",
        )

    return _build(make)


@pytest.fixture(scope="module")
def forecast_only() -> Built:
    return _build(
        lambda stack: CostGuard(
            stack, "Cost", actual_thresholds_percent=(), forecast_threshold_percent=120
        )
    )


# ------------------------------------------------------------------ the budget


def test_budget_is_a_monthly_usd_cost_budget_of_100_by_default(default: Built) -> None:
    default.template.resource_count_is("AWS::Budgets::Budget", 1)
    default.template.has_resource_properties(
        "AWS::Budgets::Budget",
        {
            "Budget": {
                "BudgetLimit": {"Amount": 100, "Unit": "USD"},
                "BudgetType": "COST",
                "TimeUnit": "MONTHLY",
                "BudgetName": Match.absent(),
            }
        },
    )


def test_budget_alerts_the_topic_at_80_and_100_percent_actual_and_100_forecast(
    default: Built,
) -> None:
    assert default.budget["Properties"]["NotificationsWithSubscribers"] == [
        _notification("ACTUAL", 80, default.topic_id),
        _notification("ACTUAL", 100, default.topic_id),
        _notification("FORECASTED", 100, default.topic_id),
    ]


def test_budget_waits_for_the_topic_policy(default: Built) -> None:
    # Budgets checks it may publish when the budget is created.
    policy = logical_id(default.template, "AWS::SNS::TopicPolicy", "CostTopicPolicy")
    assert policy in default.budget["DependsOn"]


def test_exposes_budget_topic_and_limit(default: Built) -> None:
    assert isinstance(default.guard.topic, sns.Topic)
    assert default.guard.monthly_limit_usd == 100.0
    assert isinstance(default.guard.monthly_limit_usd, float)
    assert default.stack.resolve(default.guard.budget.ref) == {
        "Ref": logical_id(default.template, "AWS::Budgets::Budget", "Cost")
    }


# ------------------------------------------------------------------ the topic and its key


def _topic_key(built: Built) -> tuple[str, dict[str, Any]]:
    """The KMS key of the topic, followed through the topic's KmsMasterKeyId."""
    topic = built.template.to_json()["Resources"][built.topic_id]["Properties"]
    key_id: str = topic["KmsMasterKeyId"]["Fn::GetAtt"][0]
    resource: dict[str, Any] = built.template.to_json()["Resources"][key_id]
    assert resource["Type"] == "AWS::KMS::Key"
    return key_id, resource


def test_topic_is_encrypted_with_its_own_rotated_key(default: Built) -> None:
    default.template.resource_count_is("AWS::KMS::Key", 1)
    key_id, key = _topic_key(default)
    assert key_id.startswith("Cost"), "the key belongs to the construct"
    assert key["Properties"]["EnableKeyRotation"] is True
    default.template.has_resource_properties(
        "AWS::SNS::Topic", {"KmsMasterKeyId": arn_of(key_id), "DisplayName": "Budget alerts"}
    )
    default.template.has_resource_properties(
        "AWS::KMS::Key", {"Description": Match.string_like_regexp("[Bb]udget alerts")}
    )


def test_default_key_lets_budgets_of_this_account_encrypt_messages(default: Built) -> None:
    _, key = _topic_key(default)
    for_budgets = [
        st
        for st in key["Properties"]["KeyPolicy"]["Statement"]
        if st["Effect"] == "Allow"
        and "budgets.amazonaws.com" in as_list(st.get("Principal", {}).get("Service"))
    ]
    assert len(for_budgets) == 1
    statement = for_budgets[0]
    assert sorted(as_list(statement["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": THIS_ACCOUNT}}
    assert statement["Resource"] == "*"


def test_topic_policy_lets_only_budgets_of_this_account_publish(default: Built) -> None:
    allows = [s for s in default.topic_statements if s["Effect"] == "Allow"]
    assert allows == [
        {
            "Action": "sns:Publish",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": THIS_ACCOUNT},
                "ArnLike": {
                    "aws:SourceArn": {
                        "Fn::Join": [
                            "",
                            ["arn:", {"Ref": "AWS::Partition"}, ":budgets::", THIS_ACCOUNT, ":*"],
                        ]
                    }
                },
            },
            "Effect": "Allow",
            "Principal": {"Service": "budgets.amazonaws.com"},
            "Resource": {"Ref": default.topic_id},
            "Sid": "AllowBudgetsOfThisAccount",
        }
    ]


def test_topic_policy_denies_publishing_without_tls(default: Built) -> None:
    assert {
        "Action": "sns:Publish",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": "*",
        "Resource": {"Ref": default.topic_id},
        "Sid": "AllowPublishThroughSSLOnly",
    } in default.topic_statements


def test_no_subscriptions_without_alert_emails(default: Built) -> None:
    default.template.resource_count_is("AWS::SNS::Subscription", 0)


# ------------------------------------------------------------------ options


def test_custom_limit_thresholds_and_name(custom: Built) -> None:
    budget = custom.budget["Properties"]
    assert budget["Budget"]["BudgetLimit"] == {"Amount": 250.5, "Unit": "USD"}
    assert budget["Budget"]["BudgetName"] == "ml-monthly"
    assert budget["NotificationsWithSubscribers"] == [
        _notification("ACTUAL", 50, custom.topic_id),
        _notification("ACTUAL", 90, custom.topic_id),
    ]
    assert custom.guard.monthly_limit_usd == 250.5


@pytest.mark.parametrize("email", ["ml-platform@example.com", "on-call@example.org"])
def test_each_alert_email_is_subscribed(custom: Built, email: str) -> None:
    custom.template.has_resource_properties(
        "AWS::SNS::Subscription",
        {"Endpoint": email, "Protocol": "email", "TopicArn": {"Ref": custom.topic_id}},
    )


def test_given_key_encrypts_the_topic_and_no_key_is_created(custom: Built) -> None:
    custom.template.resource_count_is("AWS::KMS::Key", 3)  # EncryptionKeys' three, none of ours
    key = logical_id(custom.template, "AWS::KMS::Key", "KeysNotifications")
    custom.template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": arn_of(key)})
    assert not [
        lid for lid in custom.template.find_resources("AWS::KMS::Key") if lid.startswith("Cost")
    ]


def test_forecast_alone_is_enough(forecast_only: Built) -> None:
    assert forecast_only.budget["Properties"]["NotificationsWithSubscribers"] == [
        _notification("FORECASTED", 120, forecast_only.topic_id)
    ]


def test_alert_email_tokens_are_not_validated_at_synth_time() -> None:
    stack = fresh_stack()
    email = cdk.CfnParameter(stack, "AlertEmail").value_as_string
    guard = CostGuard(stack, "Cost", alert_emails=[email])
    subscriptions = [c for c in guard.topic.node.find_all() if isinstance(c, sns.CfnSubscription)]
    assert len(subscriptions) == 1


@pytest.mark.xfail(
    reason="cost_guard.py:49-59 checks monthly_limit_usd without skipping tokens; a "
    "CfnParameter number is encoded as about -1.9e289 and rejected as 'not above 0' "
    "(use is_token(...) as for alert_emails)",
    strict=True,
)
def test_monthly_limit_token_is_not_validated_at_synth_time() -> None:
    stack = fresh_stack()
    limit = cdk.CfnParameter(stack, "Limit", type="Number").value_as_number
    guard = CostGuard(stack, "Cost", monthly_limit_usd=limit)
    assert guard.budget is not None


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize("limit", [0, -5, -0.01, math.nan, math.inf, True, "100", None])
def test_fails_when_the_monthly_limit_is_not_a_positive_number(limit: Any) -> None:
    pattern = re.escape(f"monthly_limit_usd={limit!r} is not allowed") + ".*number above 0"
    with pytest.raises(ValueError, match=pattern):
        CostGuard(fresh_stack(), "Cost", monthly_limit_usd=limit)


@pytest.mark.parametrize("threshold", [0, -10, 1001, math.nan])
def test_fails_when_an_actual_threshold_is_out_of_range(threshold: float) -> None:
    pattern = rf"threshold.*percent.*={re.escape(repr(threshold))} is not allowed.*above 0 and at most 1000"
    with pytest.raises(ValueError, match=pattern):
        CostGuard(fresh_stack(), "Cost", actual_thresholds_percent=(80, threshold))


@pytest.mark.parametrize("threshold", [0, 1000.5])
def test_fails_when_the_forecast_threshold_is_out_of_range(threshold: float) -> None:
    pattern = rf"threshold.*percent.*={re.escape(repr(threshold))} is not allowed.*above 0 and at most 1000"
    with pytest.raises(ValueError, match=pattern):
        CostGuard(fresh_stack(), "Cost", forecast_threshold_percent=threshold)


@pytest.mark.xfail(
    reason="cost_guard.py:64-71 reports a bad threshold as 'threshold percent=...', which is "
    "not a prop; the message should name actual_thresholds_percent or forecast_threshold_percent",
    strict=True,
)
@pytest.mark.parametrize(
    ("kwargs", "prop"),
    [
        ({"actual_thresholds_percent": (80, 0)}, "actual_thresholds_percent"),
        ({"forecast_threshold_percent": 0}, "forecast_threshold_percent"),
    ],
)
def test_fails_naming_the_threshold_prop(kwargs: dict[str, Any], prop: str) -> None:
    with pytest.raises(ValueError, match=prop):
        CostGuard(fresh_stack(), "Cost", **kwargs)


def test_fails_when_there_is_no_threshold_at_all() -> None:
    pattern = re.escape("actual_thresholds_percent=[] is not allowed") + ".*at least one alert"
    with pytest.raises(ValueError, match=pattern):
        CostGuard(
            fresh_stack(), "Cost", actual_thresholds_percent=(), forecast_threshold_percent=None
        )


@pytest.mark.parametrize(
    "email", ["not-an-email", "ml@localhost", "ml platform@example.com", "@example.com", ""]
)
def test_fails_when_an_alert_email_is_malformed(email: str) -> None:
    pattern = (
        re.escape(f"alert_emails={email!r} is not allowed") + ".*like 'ml-platform@example.com'"
    )
    with pytest.raises(ValueError, match=pattern):
        CostGuard(fresh_stack(), "Cost", alert_emails=["ok@example.com", email])


@pytest.mark.xfail(
    reason="cost_guard.py:79-86 does not reject a repeated e-mail; SNS then fails inside jsii "
    "with 'SubscriptionAlreadyExistsUnder' (a RuntimeError naming neither the prop nor the fix)",
    strict=True,
)
def test_fails_when_alert_emails_repeat() -> None:
    with pytest.raises(ValueError, match=r"alert_emails"):
        try:
            CostGuard(fresh_stack(), "Cost", alert_emails=["a@example.com", "a@example.com"])
        except RuntimeError as err:
            # Keep jsii's message but not its traceback (slow for pytest to format).
            raise AssertionError(f"RuntimeError instead of ValueError: {err}") from None
