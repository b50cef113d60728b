"""DriftRetraining: alarm -> rule -> guarded JSONata state machine; props; compliance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from cdk_mlops.checks import cfn_lint, stack_templates
from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.constructs._notifications import encrypted_topic
from cdk_mlops.constructs.drift_retraining import DriftRetraining
from cdk_mlops.constructs.key_policies import allow_cloudwatch_logs
from cdk_mlops.constructs.training_pipeline import TrainingPipeline
from pipeline_code.retraining import guard
from tests.cdk_mlops.helpers import new_app


def build(stack: cdk.Stack, **overrides: Any) -> DriftRetraining:
    key = kms.Key(stack, "LogsKey", enable_key_rotation=True)
    allow_cloudwatch_logs(key)
    alarm = cloudwatch.Alarm(
        stack,
        "Drift",
        metric=cloudwatch.Metric(namespace="cdk-mlops/monitoring", metric_name="drift_violations"),
        threshold=1,
        evaluation_periods=1,
    )
    topic = encrypted_topic(stack, "Topic", key=None, display_name="alerts")
    alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
    props: dict[str, Any] = {
        "drift_alarm": alarm,
        "training_pipeline": TrainingPipeline.from_pipeline_name(stack, "Pipeline", "churn-train"),
        "alarm_topic": topic,
        "logs_key": key,
        **overrides,
    }
    return DriftRetraining(stack, "Retrain", **props)


@pytest.fixture(scope="module")
def synth() -> tuple[Template, DriftRetraining, dict[str, Any]]:
    app = new_app()
    stack = cdk.Stack(app, "Test")
    built = build(stack, cooldown=cdk.Duration.hours(3), max_per_day=4)
    template = Template.from_stack(stack)
    (machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
    return template, built, dict(machine)


def _definition(machine: dict[str, Any]) -> str:
    body = machine["Properties"]["DefinitionString"]
    if isinstance(body, dict):
        return "".join(p if isinstance(p, str) else json.dumps(p) for p in body["Fn::Join"][1])
    return str(body)


def test_definition_constants_match_props(
    synth: tuple[Template, DriftRetraining, dict[str, Any]],
) -> None:
    _, built, machine = synth
    text = _definition(machine)
    assert built.cooldown_seconds == 3 * 3600
    assert built.max_per_day == 4
    assert f"$nowMs - $newest < {3 * 3600 * 1000})" in text
    assert "$today >= 4 ?" in text
    assert '"QueryLanguage":"JSONata"' in text
    for status in guard.ACTIVE_STATUSES:
        assert status in text


def test_reasons_and_statuses_match_the_python_guard() -> None:
    from cdk_mlops.constructs import drift_retraining as mod

    assert set(mod.ACTIVE_STATUSES) == set(guard.ACTIVE_STATUSES)
    assert mod.REASONS == guard.REASONS
    assert mod.MAX_PER_DAY_LIMIT == guard.MAX_PER_DAY_LIMIT


def test_rule_matches_the_alarm_going_to_alarm(
    synth: tuple[Template, DriftRetraining, dict[str, Any]],
) -> None:
    template, _, _ = synth
    (rule,) = template.find_resources("AWS::Events::Rule").values()
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["CloudWatch Alarm State Change"]
    assert pattern["detail"] == {"state": {"value": ["ALARM"]}}
    assert len(pattern["resources"]) == 1
    (target,) = rule["Properties"]["Targets"]
    assert "RoleArn" in target


def test_state_machine_logging_tracing(
    synth: tuple[Template, DriftRetraining, dict[str, Any]],
) -> None:
    template, _, machine = synth
    props = machine["Properties"]
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False
    (group,) = template.find_resources("AWS::Logs::LogGroup").values()
    assert "KmsKeyId" in group["Properties"]


def test_roles_have_source_account_and_least_privilege(
    synth: tuple[Template, DriftRetraining, dict[str, Any]],
) -> None:
    template, _, _ = synth
    roles = template.find_resources("AWS::IAM::Role")
    services = set()
    for role in roles.values():
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        services.add(statement["Principal"]["Service"])
        assert "aws:SourceAccount" in statement["Condition"]["StringEquals"]
    assert services == {"states.amazonaws.com", "events.amazonaws.com"}
    text = json.dumps(template.find_resources("AWS::IAM::Policy"))
    for action in (
        "sagemaker:ListPipelineExecutions",
        "sagemaker:StartPipelineExecution",
        "sns:Publish",
        "states:StartExecution",
    ):
        assert action in text
    assert "sagemaker:*" not in text
    assert '"Action": "*"' not in text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"max_per_day": 0}, r"max_per_day=0 is not allowed\. Use an integer between 1 and 48"),
        ({"max_per_day": 49}, r"max_per_day=49 is not allowed"),
        ({"max_per_day": True}, r"max_per_day=True is not allowed"),
        (
            {"cooldown": cdk.Duration.days(8)},
            r"cooldown='8 days' is not allowed\. Use at most 7 days",
        ),
        ({"drift_alarm": []}, r"drift_alarm=\[\] is not allowed\. Pass at least one"),
    ],
)
def test_prop_validation(overrides: dict[str, Any], message: str) -> None:
    app = new_app()
    with pytest.raises(ValueError, match=message):
        build(cdk.Stack(app, "Bad"), **overrides)


def test_zero_cooldown_is_allowed() -> None:
    app = new_app()
    assert build(cdk.Stack(app, "Zero"), cooldown=cdk.Duration.seconds(0)).cooldown_seconds == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    "env",
    [
        None,
        cdk.Environment(account="111111111111", region="eu-west-1"),
        cdk.Environment(account="222222222222", region="us-east-1"),
    ],
    ids=["agnostic", "eu-west-1", "us-east-1"],
)
def test_compliance_packs_and_cfn_lint(tmp_path: Path, env: cdk.Environment | None) -> None:
    app = new_app(outdir=str(tmp_path))
    add_compliance_checks(app)
    stack = cdk.Stack(app, "Level3", env=env)
    build(stack)
    app.synth()
    (template,) = stack_templates(tmp_path).values()
    region = env.region if env is not None and env.region else "eu-west-1"
    assert cfn_lint(template, (region,)) == []
