"""CostGuard: a monthly budget alerting a KMS-encrypted SNS topic that only Budgets may publish to."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from cdk_mlops.constructs import CostGuard, EncryptionKeys
from tests.cdk_mlops.construct_fixtures import arn_of, as_list, fresh_stack, logical_id
from tests.cdk_mlops.helpers import ROOT, new_app

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
    # Construct id "TopicKey" (encrypted_topic): renaming it would replace the key.
    assert key_id.startswith("CostTopicKey"), key_id
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
    assert statement["Sid"] == "AllowAwsNotifiersOfThisAccount"
    # The shared notifier statement: Budgets and CloudWatch alarms, nothing else.
    assert sorted(statement["Principal"]["Service"]) == [
        "budgets.amazonaws.com",
        "cloudwatch.amazonaws.com",
    ]
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


def test_monthly_limit_token_is_not_validated_at_synth_time() -> None:
    # A CfnParameter number is encoded as a huge negative float; validation must skip it.
    stack = cdk.Stack(new_app(), "Test")
    limit = cdk.CfnParameter(stack, "Limit", type="Number").value_as_number
    guard = CostGuard(stack, "Cost", monthly_limit_usd=limit)
    budget = next(iter(Template.from_stack(stack).find_resources("AWS::Budgets::Budget").values()))
    assert budget["Properties"]["Budget"]["BudgetLimit"] == {
        "Amount": {"Ref": "Limit"},
        "Unit": "USD",
    }
    assert stack.resolve(guard.monthly_limit_usd) == {"Ref": "Limit"}


def test_threshold_tokens_are_not_validated_at_synth_time() -> None:
    # Percentages from CfnParameters: Budgets checks the resolved numbers at deploy time.
    stack = cdk.Stack(new_app(), "Test")
    actual = cdk.CfnParameter(stack, "Actual", type="Number").value_as_number
    forecast = cdk.CfnParameter(stack, "Forecast", type="Number").value_as_number
    CostGuard(
        stack, "Cost", actual_thresholds_percent=(actual,), forecast_threshold_percent=forecast
    )
    budget = next(iter(Template.from_stack(stack).find_resources("AWS::Budgets::Budget").values()))
    thresholds = [
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"])
        for n in budget["Properties"]["NotificationsWithSubscribers"]
    ]
    assert thresholds == [("ACTUAL", {"Ref": "Actual"}), ("FORECASTED", {"Ref": "Forecast"})]


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize("limit", [0, -5, -0.01, True, "100", None])
def test_fails_when_the_monthly_limit_is_not_a_positive_number(limit: Any) -> None:
    pattern = (
        r"^CostGuard at Test/Cost: "
        + re.escape(f"monthly_limit_usd={limit!r} is not allowed")
        + ".*number above 0"
    )
    with pytest.raises(ValueError, match=pattern):
        CostGuard(fresh_stack(), "Cost", monthly_limit_usd=limit)


def _notified(guard: CostGuard) -> list[tuple[str, float]]:
    """(type, threshold) of each budget notification, without synthesizing the stack."""
    resolved = cdk.Stack.of(guard).resolve(guard.budget.notifications_with_subscribers)
    return [
        (n["notification"]["notificationType"], n["notification"]["threshold"]) for n in resolved
    ]


def _threshold_error(prop: str, value: Any) -> str:
    return (
        r"CostGuard at [\w/]+: "
        + re.escape(f"{prop}={value!r} is not allowed")
        + ".*above 0 and at most 1000, e.g. 80"
    )


_NON_FINITE_PROBE = """
import math
import aws_cdk as cdk
from cdk_mlops.constructs import CostGuard
for limit in (math.nan, math.inf, -math.inf):
    try:
        CostGuard(cdk.Stack(cdk.App(), "Test"), "Cost", monthly_limit_usd=limit)
        print("accepted", limit)
    except ValueError as err:
        print(err)
print("kernel alive:", cdk.Stack(cdk.App(), "After").node.id)
"""


@pytest.mark.slow
def test_fails_when_the_monthly_limit_is_not_finite_without_killing_jsii() -> None:
    # In a child process: the bug kills the jsii kernel, which would break every later test here.
    done = subprocess.run(
        [sys.executable, "-c", _NON_FINITE_PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = done.stdout.splitlines()
    for limit in ("nan", "inf", "-inf"):
        message = f"CostGuard at Test/Cost: monthly_limit_usd={limit} is not allowed."
        assert any(line.startswith(message) for line in lines), done.stdout
    assert "kernel alive: After" in lines, done.stdout
    assert done.returncode == 0


@pytest.mark.parametrize("threshold", [0, -10, 1001, math.nan, math.inf, "80", None, True])
def test_fails_when_an_actual_threshold_is_not_a_percentage_in_range(threshold: Any) -> None:
    with pytest.raises(ValueError, match=_threshold_error("actual_thresholds_percent", threshold)):
        CostGuard(fresh_stack(), "Cost", actual_thresholds_percent=(80, threshold))


@pytest.mark.parametrize("threshold", [0, 1000.5, -math.inf, "100", False])
def test_fails_when_the_forecast_threshold_is_not_a_percentage_in_range(threshold: Any) -> None:
    with pytest.raises(ValueError, match=_threshold_error("forecast_threshold_percent", threshold)):
        CostGuard(fresh_stack(), "Cost", forecast_threshold_percent=threshold)


@pytest.mark.parametrize("threshold", [1000, 0.5, 150.5])
def test_thresholds_up_to_1000_percent_are_accepted(threshold: float) -> None:
    guard = CostGuard(
        fresh_stack(),
        "Cost",
        actual_thresholds_percent=(threshold,),
        forecast_threshold_percent=threshold,
    )
    assert _notified(guard) == [("ACTUAL", threshold), ("FORECASTED", threshold)]


@pytest.mark.parametrize(
    ("kwargs", "prop"),
    [
        ({"actual_thresholds_percent": (80, 0)}, "actual_thresholds_percent"),
        ({"forecast_threshold_percent": 0}, "forecast_threshold_percent"),
    ],
)
def test_fails_naming_the_threshold_prop(kwargs: dict[str, Any], prop: str) -> None:
    with pytest.raises(ValueError, match=rf"^CostGuard at Test/Cost: {prop}="):
        CostGuard(fresh_stack(), "Cost", **kwargs)


@pytest.mark.parametrize(
    ("thresholds", "shown"), [((80, 80), [80, 80]), ((50, 100, 50.0), [50, 100, 50.0])]
)
def test_fails_when_actual_thresholds_repeat(
    thresholds: tuple[float, ...], shown: list[float]
) -> None:
    # Budgets rejects two identical notifications; say so before deploy.
    pattern = (
        re.escape(f"actual_thresholds_percent={shown!r} is not allowed")
        + ".*Each threshold may appear once"
    )
    with pytest.raises(ValueError, match=pattern):
        CostGuard(fresh_stack(), "Cost", actual_thresholds_percent=thresholds)


def test_the_same_percentage_may_be_actual_and_forecast() -> None:
    # An ACTUAL and a FORECASTED notification at 100 % are different notifications.
    guard = CostGuard(
        fresh_stack(), "Cost", actual_thresholds_percent=(100,), forecast_threshold_percent=100
    )
    assert _notified(guard) == [("ACTUAL", 100), ("FORECASTED", 100)]


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


@pytest.mark.parametrize(
    ("emails", "repeated"),
    [
        (["a@example.com", "a@example.com"], ["a@example.com"]),
        (
            ["b@example.com", "a@example.com", "b@example.com", "a@example.com"],
            ["a@example.com", "b@example.com"],
        ),
    ],
)
def test_fails_when_alert_emails_repeat(emails: list[str], repeated: list[str]) -> None:
    pattern = re.escape(f"alert_emails={repeated!r} is not allowed") + ".*Give each address once"
    with pytest.raises(ValueError, match=pattern):
        CostGuard(fresh_stack(), "Cost", alert_emails=emails)


def test_fails_clearly_when_alert_emails_is_a_single_string() -> None:
    with pytest.raises(ValueError, match=re.escape("alert_emails='ml-platform@example.com'")):
        CostGuard(fresh_stack(), "Cost", alert_emails="ml-platform@example.com")


def test_fails_clearly_when_actual_thresholds_percent_is_a_bare_number() -> None:
    with pytest.raises(ValueError, match=r"actual_thresholds_percent=80 is not allowed"):
        CostGuard(fresh_stack(), "Cost", actual_thresholds_percent=80)  # type: ignore[arg-type]
