"""EncryptionKeys: three rotated, aliased customer-managed keys with service-scoped key policies."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from cdk_mlops.constructs import EncryptionKeys
from cdk_mlops.constructs.encryption import allow_cloudwatch_logs
from tests.cdk_mlops.construct_fixtures import arn_of, fresh_stack, logical_id
from tests.cdk_mlops.helpers import template_of

KEY_PURPOSES = ("Data", "Logs", "Notifications")


def _join(*parts: Any) -> dict[str, Any]:
    return {"Fn::Join": ["", list(parts)]}


def _service_host(service: str) -> dict[str, Any]:
    """``<service>.<region>.<url suffix>`` as CDK renders it for an environment-agnostic stack."""
    return _join(f"{service}.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"})


def _key_policy_statement(template: Template, purpose: str, sid: str) -> dict[str, Any]:
    lid = logical_id(template, "AWS::KMS::Key", f"Keys{purpose}")
    statements = template.to_json()["Resources"][lid]["Properties"]["KeyPolicy"]["Statement"]
    matches = [s for s in statements if s.get("Sid") == sid]
    assert len(matches) == 1, statements
    result: dict[str, Any] = matches[0]
    return result


@pytest.fixture(scope="module")
def default() -> tuple[Template, EncryptionKeys]:
    return template_of(lambda stack: EncryptionKeys(stack, "Keys"))


@pytest.fixture(scope="module")
def template(default: tuple[Template, EncryptionKeys]) -> Template:
    return default[0]


@pytest.fixture(scope="module")
def custom() -> Template:
    t, _ = template_of(
        lambda stack: EncryptionKeys(
            stack,
            "Keys",
            alias_prefix="alias/acme-ml",
            removal_policy=cdk.RemovalPolicy.DESTROY,
            pending_window=cdk.Duration.days(7),
            rotation_period=cdk.Duration.days(90),
        )
    )
    return t


# ------------------------------------------------------------------ secure defaults


def test_creates_three_keys_and_three_aliases(template: Template) -> None:
    template.resource_count_is("AWS::KMS::Key", 3)
    template.resource_count_is("AWS::KMS::Alias", 3)


@pytest.mark.parametrize("purpose", KEY_PURPOSES)
def test_every_key_rotates_yearly_and_waits_30_days_before_deletion(
    template: Template, purpose: str
) -> None:
    lid = logical_id(template, "AWS::KMS::Key", f"Keys{purpose}")
    resource = template.to_json()["Resources"][lid]
    assert resource["Properties"]["EnableKeyRotation"] is True
    assert resource["Properties"]["RotationPeriodInDays"] == 365
    assert resource["Properties"]["PendingWindowInDays"] == 30


@pytest.mark.parametrize("purpose", KEY_PURPOSES)
def test_every_key_is_retained_when_the_stack_is_deleted(template: Template, purpose: str) -> None:
    lid = logical_id(template, "AWS::KMS::Key", f"Keys{purpose}")
    resource = template.to_json()["Resources"][lid]
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"


@pytest.mark.parametrize(
    ("purpose", "description"),
    [
        ("Data", "cdk-mlops data lake, SageMaker and Glue key"),
        ("Logs", "cdk-mlops CloudWatch Logs key"),
        ("Notifications", "cdk-mlops SNS notifications key"),
    ],
)
def test_every_key_describes_its_purpose(
    template: Template, purpose: str, description: str
) -> None:
    lid = logical_id(template, "AWS::KMS::Key", f"Keys{purpose}")
    assert template.to_json()["Resources"][lid]["Properties"]["Description"] == description


@pytest.mark.parametrize("purpose", KEY_PURPOSES)
def test_default_alias_points_at_its_key(template: Template, purpose: str) -> None:
    key_lid = logical_id(template, "AWS::KMS::Key", f"Keys{purpose}")
    template.has_resource_properties(
        "AWS::KMS::Alias",
        # Derived from the stack name: aliases are unique per account and region.
        {"AliasName": f"alias/Test/{purpose.lower()}", "TargetKeyId": arn_of(key_lid)},
    )


def test_keys_keep_the_account_root_statement_so_they_stay_manageable(template: Template) -> None:
    # Without it a key can lock out its own account; CDK adds it and the construct must keep it.
    for purpose in KEY_PURPOSES:
        lid = logical_id(template, "AWS::KMS::Key", f"Keys{purpose}")
        statements = template.to_json()["Resources"][lid]["Properties"]["KeyPolicy"]["Statement"]
        assert any(s["Action"] == "kms:*" and "Condition" not in s for s in statements), purpose


def test_data_key_policy_names_no_service_principal(template: Template) -> None:
    # Only CDK's account-administration statement: who may use the data key is decided by IAM
    # grants (DataLake.grant_*, Key.grant_*), never by a service principal in the key policy.
    lid = logical_id(template, "AWS::KMS::Key", "KeysData")
    statements = template.to_json()["Resources"][lid]["Properties"]["KeyPolicy"]["Statement"]
    assert len(statements) == 1
    assert statements[0]["Principal"] == {
        "AWS": _join(
            "arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"
        )
    }


def test_logs_key_lets_cloudwatch_logs_use_it_for_log_groups_of_this_account_only(
    template: Template,
) -> None:
    statement = _key_policy_statement(template, "Logs", "AllowCloudWatchLogsOfThisAccount")
    assert statement["Principal"] == {"Service": _service_host("logs")}
    assert "kms:CreateGrant" not in statement["Action"]
    assert set(statement["Action"]) >= {"kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"}
    assert statement["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": _join(
                "arn:",
                {"Ref": "AWS::Partition"},
                ":logs:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":log-group:*",
            )
        }
    }


def test_notifications_key_lets_budgets_and_alarms_of_this_account_publish(
    template: Template,
) -> None:
    # EventBridge is granted per topic by the rule targets (TopicTarget): KMS does not get
    # aws:SourceAccount for its deliveries, so it has no place in this conditioned statement.
    statement = _key_policy_statement(template, "Notifications", "AllowAwsNotifiersOfThisAccount")
    assert sorted(statement["Principal"]["Service"]) == [
        "budgets.amazonaws.com",
        "cloudwatch.amazonaws.com",
    ]
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }


def test_service_statements_stay_on_their_own_key(template: Template) -> None:
    # A service allowed on one key must not appear on the others (separate blast radius).
    sids = {
        purpose: {
            s.get("Sid")
            for s in template.to_json()["Resources"][
                logical_id(template, "AWS::KMS::Key", f"Keys{purpose}")
            ]["Properties"]["KeyPolicy"]["Statement"]
        }
        - {None}
        for purpose in KEY_PURPOSES
    }
    assert sids == {
        "Data": set(),
        "Logs": {"AllowCloudWatchLogsOfThisAccount"},
        "Notifications": {"AllowAwsNotifiersOfThisAccount"},
    }


def test_allow_cloudwatch_logs_adds_the_logs_statement_to_any_key() -> None:
    # The same statement the logs key gets; Network uses it for its own flow-logs key.
    def build(stack: cdk.Stack) -> kms.Key:
        key = kms.Key(stack, "Other")
        allow_cloudwatch_logs(key)
        return key

    t, _ = template_of(build)
    lid = logical_id(t, "AWS::KMS::Key", "Other")
    statements = t.to_json()["Resources"][lid]["Properties"]["KeyPolicy"]["Statement"]
    [statement] = [s for s in statements if s.get("Sid") == "AllowCloudWatchLogsOfThisAccount"]
    assert statement["Principal"] == {"Service": _service_host("logs")}
    assert statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == _join(
        "arn:",
        {"Ref": "AWS::Partition"},
        ":logs:",
        {"Ref": "AWS::Region"},
        ":",
        {"Ref": "AWS::AccountId"},
        ":log-group:*",
    )


def test_exposes_the_three_keys_as_distinct_attributes(
    default: tuple[Template, EncryptionKeys],
) -> None:
    _, keys = default
    built = [keys.data_key, keys.logs_key, keys.notifications_key]
    assert all(isinstance(k, kms.Key) for k in built)
    assert len({k.node.path for k in built}) == 3


# ------------------------------------------------------------------ options


def test_alias_prefix_is_used_for_every_alias(custom: Template) -> None:
    for purpose in KEY_PURPOSES:
        custom.has_resource_properties(
            "AWS::KMS::Alias", {"AliasName": f"alias/acme-ml/{purpose.lower()}"}
        )
    custom.resource_count_is("AWS::KMS::Alias", 3)


def test_rotation_period_and_pending_window_are_passed_to_every_key(custom: Template) -> None:
    keys = custom.find_resources(
        "AWS::KMS::Key", {"Properties": {"RotationPeriodInDays": 90, "PendingWindowInDays": 7}}
    )
    assert len(keys) == 3


def test_removal_policy_destroy_deletes_the_keys(custom: Template) -> None:
    keys = custom.find_resources("AWS::KMS::Key", {"DeletionPolicy": "Delete"})
    assert len(keys) == 3


@pytest.mark.parametrize(
    "period", [cdk.Duration.days(90), cdk.Duration.days(2560), cdk.Duration.hours(90 * 24)]
)
def test_rotation_period_accepts_whole_days_in_the_kms_range(period: cdk.Duration) -> None:
    keys = EncryptionKeys(fresh_stack(), "Keys", rotation_period=period)
    assert keys.data_key.node.default_child is not None


@pytest.mark.parametrize("days", [7, 30])
def test_pending_window_accepts_the_kms_range(days: int) -> None:
    keys = EncryptionKeys(fresh_stack(), "Keys", pending_window=cdk.Duration.days(days))
    assert keys.logs_key.node.default_child is not None


@pytest.mark.parametrize("prefix", ["alias/awsome-ml", "alias/aws-ml", "alias/my/aws"])
def test_alias_prefix_may_start_with_the_letters_aws(prefix: str) -> None:
    # Only 'alias/aws/' is reserved by KMS.
    t, _ = template_of(lambda stack: EncryptionKeys(stack, "Keys", alias_prefix=prefix))
    t.has_resource_properties("AWS::KMS::Alias", {"AliasName": f"{prefix}/data"})


# ------------------------------------------------------------------ validation

#: Every message names the construct and its path (stack "Test", construct "Keys").
_AT = r"^EncryptionKeys at Test/Keys: "


def test_alias_prefix_may_come_from_a_parameter() -> None:
    # KMS checks the resolved name at deploy time; synth must not reject the token.
    def build(stack: cdk.Stack) -> None:
        prefix = cdk.CfnParameter(stack, "AliasPrefix").value_as_string
        EncryptionKeys(stack, "Keys", alias_prefix=prefix)

    t, _ = template_of(build)
    t.has_resource_properties(
        "AWS::KMS::Alias", {"AliasName": {"Fn::Join": ["", [{"Ref": "AliasPrefix"}, "/data"]]}}
    )


@pytest.mark.parametrize("prop", ["rotation_period", "pending_window"])
def test_fails_clearly_when_a_period_comes_from_a_parameter(prop: str) -> None:
    # kms.Key compares the period with its range at synth time, so a token can never pass.
    stack = fresh_stack()
    days = cdk.CfnParameter(stack, "Days", type="Number").value_as_number
    kwargs: dict[str, Any] = {prop: cdk.Duration.days(days)}
    with pytest.raises(ValueError, match=_AT + rf"{prop}='<token> days'.*literal"):
        EncryptionKeys(stack, "Keys", **kwargs)


@pytest.mark.parametrize("prefix", ["mlops", "mlops/alias", "Alias/mlops", "aliases/mlops"])
def test_fails_when_alias_prefix_does_not_start_with_alias(prefix: str) -> None:
    with pytest.raises(ValueError, match=_AT + rf"alias_prefix='{prefix}'.*Start it with 'alias/'"):
        EncryptionKeys(fresh_stack(), "Keys", alias_prefix=prefix)


@pytest.mark.parametrize("prefix", ["alias/aws/", "alias/aws/mlops"])
def test_fails_when_alias_prefix_is_reserved_for_aws_managed_keys(prefix: str) -> None:
    with pytest.raises(
        ValueError, match=_AT + rf"alias_prefix='{prefix}'.*reserved for AWS managed keys"
    ):
        EncryptionKeys(fresh_stack(), "Keys", alias_prefix=prefix)


def test_fails_when_alias_prefix_is_bare_alias() -> None:
    # 'alias/' alone would give aliases like 'alias//data'.
    with pytest.raises(ValueError, match=_AT + r"alias_prefix='alias/'.*e\.g\. 'alias/mlops'"):
        EncryptionKeys(fresh_stack(), "Keys", alias_prefix="alias/")


@pytest.mark.parametrize("prefix", ["alias/aws", "alias/AWS/mlops"])
def test_fails_when_alias_prefix_makes_aliases_under_alias_aws(prefix: str) -> None:
    with pytest.raises(
        ValueError, match=_AT + rf"alias_prefix='{prefix}'.*reserved for AWS managed keys"
    ):
        EncryptionKeys(fresh_stack(), "Keys", alias_prefix=prefix)


def test_fails_when_alias_prefix_has_characters_kms_rejects() -> None:
    with pytest.raises(ValueError, match=_AT + r"alias_prefix='alias/my ml'"):
        EncryptionKeys(fresh_stack(), "Keys", alias_prefix="alias/my ml")


@pytest.mark.parametrize("days", [30, 89, 2561])
def test_fails_when_rotation_period_is_outside_90_to_2560_days(days: int) -> None:
    with pytest.raises(
        ValueError, match=_AT + rf"rotation_period='{days} days'.*every 90 to 2560 whole days"
    ):
        EncryptionKeys(fresh_stack(), "Keys", rotation_period=cdk.Duration.days(days))


def test_fails_when_rotation_period_is_not_a_whole_number_of_days() -> None:
    # 2201 hours = 91.7 days: inside the range, but KMS takes whole days only.
    with pytest.raises(ValueError, match=_AT + r"rotation_period='91\.7083 days'.*whole days"):
        EncryptionKeys(fresh_stack(), "Keys", rotation_period=cdk.Duration.hours(2201))


@pytest.mark.parametrize("days", [0, 3, 6, 31, 365])
def test_fails_when_pending_window_is_outside_7_to_30_days(days: int) -> None:
    with pytest.raises(
        ValueError,
        match=_AT + rf"pending_window='{days} days' is not allowed\. KMS waits 7 to 30 whole days",
    ):
        EncryptionKeys(fresh_stack(), "Keys", pending_window=cdk.Duration.days(days))


def test_fails_when_pending_window_is_not_a_whole_number_of_days() -> None:
    with pytest.raises(ValueError, match=_AT + r"pending_window='7\.04167 days'.*whole days"):
        EncryptionKeys(fresh_stack(), "Keys", pending_window=cdk.Duration.hours(7 * 24 + 1))
