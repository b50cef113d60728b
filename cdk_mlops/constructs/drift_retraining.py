"""Drift-triggered retraining: a drift alarm starts the training pipeline, guarded.

A CloudWatch drift alarm going to ALARM -> an EventBridge rule -> a Step Functions state machine
(JSONata, AWS SDK service integrations, no Lambda) that lists the pipeline's executions, decides
with the rules of :mod:`pipeline_code.retraining.guard` (no start while one is Executing or
Stopping, a cooldown since the newest start, at most ``max_per_day`` starts per UTC day), starts
the pipeline or not, and publishes the decision to ``alarm_topic``. Each decision is also in the
execution history (the ``Decide`` state's assigned variables and the published message).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cdk_mlops.compliance import (
    acknowledge,
    acknowledge_inline_policy,
    grant_policies,
    resource_finding,
)
from cdk_mlops.constructs._deployed_model import (
    deployed_package_states,
    describe_deployed_package_statement,
    describe_findings,
)
from cdk_mlops.constructs._util import check_prop, prop_error
from cdk_mlops.constructs.interfaces import ITrainingPipeline

#: Upper bound of ``max_per_day`` (one start every 30 minutes).
MAX_PER_DAY_LIMIT: Final = 48
#: ``PipelineExecutionStatus`` values that block a start (as ``guard.ACTIVE_STATUSES``).
ACTIVE_STATUSES: Final = ("Executing", "Stopping")
#: Decision reasons (as ``guard.REASONS``).
REASONS: Final = ("started", "executing", "cooldown", "daily-cap")
#: The training pipeline's parameter that takes the production model (``ChampionModelUri``).
CHAMPION_PARAMETER: Final = "ChampionModelUri"
#: How many recent executions the guard reads (ListPipelineExecutions' maximum page).
LIST_PAGE_SIZE: Final = 100


def guard_definition(
    *,
    pipeline_name: str,
    topic_arn: str,
    cooldown_seconds: int,
    max_per_day: int,
    source: str,
    champion_endpoint: str | None = None,
    champion_variant: str = "AllTraffic",
) -> dict[str, Any]:
    """The state machine's Amazon States Language definition (JSONata).

    With ``champion_endpoint``, a start first looks up the model package that endpoint serves
    and passes its ``ModelDataUrl`` as the pipeline's ``ChampionModelUri`` (champion/challenger);
    without a deployed package (first model, lookup error) it starts without one.
    """
    decide = (
        "{% $count($executions[PipelineExecutionStatus in "
        + json.dumps(list(ACTIVE_STATUSES))
        + "]) > 0 ? 'executing' : ($newest >= 0 and $nowMs - $newest < "
        + f"{cooldown_seconds * 1000}) ? 'cooldown' : $today >= {max_per_day} ? 'daily-cap' : "
        + "'started' %}"
    )
    message = (
        "{% $string({'decision': $reason, 'started': $reason = 'started', 'pipeline': "
        f"'{pipeline_name}', 'executions_today': $today, 'cooldown_seconds': {cooldown_seconds}, "
        f"'max_per_day': {max_per_day}, 'source': '{source}', 'trigger': $trigger, "
        "'pipeline_execution_arn': $executionArn, 'champion_model': $championUri}) %}"
    )
    publish_args = {
        "TopicArn": topic_arn,
        "Subject": "{% 'cdk-mlops drift retraining: ' & $reason %}",
        "Message": message,
    }
    sdk_retry = [
        {
            "ErrorEquals": ["SageMaker.ThrottlingException", "States.Timeout"],
            "IntervalSeconds": 2,
            "MaxAttempts": 3,
            "BackoffRate": 2,
        }
    ]
    states: dict[str, Any] = {}
    if champion_endpoint:
        url = "$states.result.InferenceSpecification.Containers[0].ModelDataUrl"
        states.update(
            deployed_package_states(
                endpoint_name=champion_endpoint,
                variant_name=champion_variant,
                assign={"championUri": f"{{% {url} ? {url} : '' %}}"},
                next_state="StartPipeline",
                missing_state="NoChampion",
                catch_state="NoChampion",
                prefix="Champion",
            )
        )
        states["NoChampion"] = {
            "Type": "Pass",
            "Comment": "No deployed model package to compare with: retrain without a champion.",
            "Assign": {"championUri": ""},
            "Next": "StartPipeline",
        }
    return {
        "Comment": "Guarded drift retraining: executing / cooldown / daily cap, then start.",
        "QueryLanguage": "JSONata",
        "StartAt": "ListExecutions",
        "States": {
            "ListExecutions": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:listPipelineExecutions",
                "Arguments": {
                    "PipelineName": pipeline_name,
                    "SortBy": "CreationTime",
                    "SortOrder": "Descending",
                    "MaxResults": LIST_PAGE_SIZE,
                },
                "Retry": sdk_retry,
                "Assign": {
                    "executions": "{% $states.result.PipelineExecutionSummaries ? "
                    "$states.result.PipelineExecutionSummaries : [] %}",
                    "trigger": "{% $states.input.detail.alarmName ? "
                    "$states.input.detail.alarmName : 'manual' %}",
                    "executionArn": "",
                    "championUri": "",
                },
                "Next": "Measure",
            },
            "Measure": {
                "Type": "Pass",
                "Assign": {
                    "nowMs": "{% $toMillis($states.context.Execution.StartTime) %}",
                    # -1 without executions: an expression must not be undefined in Step
                    # Functions ($max([]) is), or the first run ever fails
                    "newest": "{% $count($executions) > 0 ? "
                    "$max($executions.$toMillis(StartTime)) : -1 %}",
                    "today": "{% $count($executions[$toMillis(StartTime) >= "
                    "$toMillis($substring($states.context.Execution.StartTime, 0, 10) "
                    "& 'T00:00:00.000Z')]) %}",
                },
                "Next": "Decide",
            },
            "Decide": {"Type": "Pass", "Assign": {"reason": decide}, "Next": "Start?"},
            "Start?": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Condition": "{% $reason = 'started' %}",
                        "Next": "ChampionDescribeEndpoint"
                        if champion_endpoint
                        else "StartPipeline",
                    }
                ],
                "Default": "PublishDecision",
            },
            "StartPipeline": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:startPipelineExecution",
                "Arguments": {
                    "PipelineName": pipeline_name,
                    "PipelineExecutionDescription": "{% 'Drift retraining after ' & $trigger %}",
                    # required by the API (botocore fills it in; an SDK integration may not):
                    # one token per guard execution, so a retried call starts one execution
                    "ClientRequestToken": "{% $hash($states.context.Execution.Id, 'SHA-256') %}",
                    "PipelineParameters": "{% $championUri != '' ? [{'Name': '"
                    + CHAMPION_PARAMETER
                    + "', 'Value': $championUri}] : [] %}",
                },
                "Retry": sdk_retry,
                "Assign": {"executionArn": "{% $states.result.PipelineExecutionArn %}"},
                "Catch": [
                    {
                        "ErrorEquals": ["States.ALL"],
                        "Assign": {"reason": "start-failed"},
                        "Next": "PublishFailure",
                    }
                ],
                "Next": "PublishDecision",
            },
            "PublishDecision": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Arguments": publish_args,
                "Output": "{% {'decision': $reason, 'pipeline_execution_arn': $executionArn} %}",
                "End": True,
            },
            "PublishFailure": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Arguments": publish_args,
                "Next": "StartFailed",
            },
            "StartFailed": {
                "Type": "Fail",
                "Error": "RetrainingStartFailed",
                "Cause": "StartPipelineExecution failed; see the previous state's error",
            },
            **states,
        },
    }


class DriftRetraining(Construct):
    """Start ``training_pipeline`` when a drift alarm fires, at most as often as the guard allows.

    :param drift_alarm: the alarm (or alarms) whose change to ALARM triggers a retraining.
    :param training_pipeline: the pipeline to start (``TrainingPipeline`` or an import).
    :param alarm_topic: KMS-encrypted topic that receives every decision.
    :param logs_key: KMS key of the state machine's log group; it must admit CloudWatch Logs
        (``key_policies.allow_cloudwatch_logs``).
    :param cooldown: minimum time between two starts. Default: 6 hours. Whole seconds, >= 0.
    :param max_per_day: at most this many starts per UTC day, 1..48. Default: 2.
    :param log_retention: of the state machine's log group. Default: one year.
    :param champion_endpoint_name: the production endpoint: each start passes the model data of
        the model package it serves as ``ChampionModelUri``, so the retrained model is compared
        with production on the same test data (``TrainingPipeline(champion_challenger=True)``).
        No deployed package yet: the start has no champion. Default: none.
    :param champion_variant_name: the endpoint's production variant. Default ``AllTraffic``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        drift_alarm: cloudwatch.IAlarm | Sequence[cloudwatch.IAlarm],
        training_pipeline: ITrainingPipeline,
        alarm_topic: sns.ITopic,
        logs_key: kms.IKey,
        cooldown: cdk.Duration | None = None,
        max_per_day: int = 2,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        champion_endpoint_name: str | None = None,
        champion_variant_name: str = "AllTraffic",
    ) -> None:
        super().__init__(scope, construct_id)
        alarms = [drift_alarm] if not isinstance(drift_alarm, Sequence) else list(drift_alarm)
        if not alarms:
            raise prop_error(self, "drift_alarm", [], "Pass at least one drift alarm.")
        cooldown = cooldown if cooldown is not None else cdk.Duration.hours(6)
        if cooldown.is_unresolved():
            raise prop_error(self, "cooldown", cooldown, "Pass a concrete cdk.Duration.")
        seconds = cooldown.to_seconds()
        check_prop(
            self,
            "cooldown",
            cooldown.to_human_string(),
            seconds <= 7 * 24 * 3600,
            "Use at most 7 days (cdk.Duration.days(7)); longer cooldowns hide drift for weeks.",
        )
        if champion_endpoint_name is not None:
            check_prop(
                self,
                "champion_endpoint_name",
                champion_endpoint_name,
                lambda v: (
                    0 < len(v) <= 63 and v[0].isalnum() and all(c.isalnum() or c == "-" for c in v)
                ),
                "Use the production endpoint's name (1 to 63 letters, digits and hyphens).",
            )
        check_prop(
            self,
            "max_per_day",
            max_per_day,
            isinstance(max_per_day, int)
            and not isinstance(max_per_day, bool)
            and 1 <= max_per_day <= MAX_PER_DAY_LIMIT,
            f"Use an integer between 1 and {MAX_PER_DAY_LIMIT}.",
        )
        self.cooldown_seconds: int = int(seconds)
        self.max_per_day: int = max_per_day
        self.alarms: list[cloudwatch.IAlarm] = alarms
        stack = cdk.Stack.of(self)

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            encryption_key=logs_key,
            retention=log_retention,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "states.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
            description="Drift retraining guard: list and start one training pipeline, publish",
        )
        self.definition = guard_definition(
            pipeline_name=training_pipeline.pipeline_name,
            topic_arn=alarm_topic.topic_arn,
            cooldown_seconds=self.cooldown_seconds,
            max_per_day=max_per_day,
            source=self.node.path,
            champion_endpoint=champion_endpoint_name,
            champion_variant=champion_variant_name,
        )
        self.champion_endpoint_name = champion_endpoint_name
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_string(stack.to_json_string(self.definition)),
            role=self.role,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False
            ),
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["sagemaker:ListPipelineExecutions"],
                resources=[training_pipeline.pipeline_arn],
            )
        )
        training_pipeline.grant_start(self.role)
        if champion_endpoint_name:
            self.role.add_to_principal_policy(
                describe_deployed_package_statement(stack, champion_endpoint_name)
            )
        alarm_topic.grant_publish(self.role)
        # CDK makes the machine depend on the role and its policy; the role is already a GetAtt
        # dependency (cfn-lint W3005), the policy must exist before the first execution.
        machine = self.state_machine.node.default_child
        assert isinstance(machine, sfn.CfnStateMachine)
        machine.add_override(
            "DependsOn",
            [
                stack.get_logical_id(p.node.default_child)  # type: ignore[arg-type]
                for p in grant_policies(self.role)
            ],
        )

        self.rule = events.Rule(
            self,
            "OnDriftAlarm",
            description="A drift alarm went to ALARM: run the retraining guard",
            event_pattern=events.EventPattern(
                source=["aws.cloudwatch"],
                detail_type=["CloudWatch Alarm State Change"],
                resources=[a.alarm_arn for a in alarms],
                detail={"state": {"value": ["ALARM"]}},
            ),
        )
        self.events_role = iam.Role(
            self,
            "EventsRole",
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
        )
        self.state_machine.grant_start_execution(self.events_role)
        self.rule.add_target(targets.SfnStateMachine(self.state_machine, role=self.events_role))
        for role, owner in (
            (self.role, "drift retraining state machine"),
            (self.events_role, "drift retraining event rule"),
        ):
            for policy in grant_policies(role):
                acknowledge_inline_policy(policy, owner)
        acknowledge(
            self.role,
            [
                resource_finding(self, f"{training_pipeline.pipeline_arn}/execution/*"),
                "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            ],
            "grant_start of this one pipeline covers its executions (their ids are not known in "
            "advance); the topic's KMS grant is GenerateDataKey* on the topic's key only, needed "
            "to publish to an encrypted topic.",
        )
        if champion_endpoint_name:
            acknowledge(
                self.role,
                describe_findings(stack),
                "Read-only Describe calls to find the model package the production endpoint "
                "serves: its endpoint config, model and package change with every deployment.",
            )
        acknowledge(
            self.role,
            [
                "AwsSolutions-IAM5[Resource::*]",
            ],
            "X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* and CloudWatch Logs "
            "delivery APIs have no resource-level permissions (Step Functions tracing and "
            "logging need them on *).",
        )

    def metric_executions_started(self, **options: Any) -> cloudwatch.Metric:
        """Guard executions started (each alarm event)."""
        return self.state_machine.metric_started(**options)

    def metric_failed(self, **options: Any) -> cloudwatch.Metric:
        """Guard executions that failed (e.g. StartPipelineExecution refused)."""
        return self.state_machine.metric_failed(**options)
