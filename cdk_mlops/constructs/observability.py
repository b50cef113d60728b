"""The level-3 dashboard: endpoint, pipeline, ETL, drift and retraining widgets plus MLOps KPIs.

KPIs are computed from events, not typed in by hand: an EventBridge rule copies SageMaker pipeline
execution, model package and CodePipeline execution events into an encrypted log group, and
metric filters on that group publish counts to the ``cdk-mlops/kpi`` namespace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk.interfaces import aws_events as interfaces_events
from constructs import Construct

from cdk_mlops.constructs._util import check_prop, stack_scoped_name
from cdk_mlops.constructs.interfaces import ITrainingPipeline
from cdk_mlops.constructs.key_policies import allow_cloudwatch_logs

#: Namespace of the metrics the KPI metric filters publish.
KPI_NAMESPACE = "cdk-mlops/kpi"

#: Logs Insights query over the KPI event log group: hours from model registration to approval.
LEAD_TIME_QUERY = "\n".join(
    [
        "fields @timestamp, detail.ModelPackageArn as package, detail.CreationTime as created",
        '| filter `detail-type` = "SageMaker Model Package State Change"',
        '    and detail.ModelApprovalStatus = "Approved"',
        "| stats min(@timestamp) as approved_at by package, created",
        "| sort approved_at desc",
    ]
)

#: Logs Insights query: deployment pipeline executions that succeeded, by month.
DEPLOYMENTS_QUERY = "\n".join(
    [
        "fields @timestamp",
        '| filter `detail-type` = "CodePipeline Pipeline Execution State Change"',
        '    and detail.state = "SUCCEEDED"',
        "| stats count(*) as deployments by datefloor(@timestamp, 30d)",
    ]
)


@runtime_checkable
class IEndpointMetrics(Protocol):
    """Anything that serves a SageMaker endpoint and exposes per-variant metrics."""

    @property
    def endpoint_name(self) -> str: ...

    def metric_invocations(self, variant: str) -> cloudwatch.IMetric: ...

    def metric_invocation_5xx_errors(self, variant: str) -> cloudwatch.IMetric: ...

    def metric_model_latency(self, variant: str, statistic: str) -> cloudwatch.IMetric: ...


@runtime_checkable
class IEtlMetrics(Protocol):
    """An ETL job with run outcome metrics (``GlueEtl``)."""

    def metric_succeeded_runs(self, **options: Any) -> cloudwatch.Metric: ...

    def metric_unsuccessful_runs(self, **options: Any) -> cloudwatch.Metric: ...


class SageMakerEndpointMetrics:
    """:class:`IEndpointMetrics` for an endpoint known by name (``AWS/SageMaker`` metrics)."""

    def __init__(self, endpoint_name: str) -> None:
        self._name = endpoint_name

    @property
    def endpoint_name(self) -> str:
        return self._name

    def _metric(self, name: str, variant: str, statistic: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="AWS/SageMaker",
            metric_name=name,
            dimensions_map={"EndpointName": self._name, "VariantName": variant},
            statistic=statistic,
            period=cdk.Duration.minutes(5),
        )

    def metric_invocations(self, variant: str) -> cloudwatch.IMetric:
        return self._metric("Invocations", variant, "Sum")

    def metric_invocation_5xx_errors(self, variant: str) -> cloudwatch.IMetric:
        return self._metric("Invocation5XXErrors", variant, "Sum")

    def metric_model_latency(self, variant: str, statistic: str) -> cloudwatch.IMetric:
        return self._metric("ModelLatency", variant, statistic)


@jsii.implements(events.IRuleTarget)
class _LogGroupTarget:
    """EventBridge -> log group target without CDK's custom-resource Lambda for the policy."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._group = log_group

    def bind(
        self, rule: interfaces_events.IRuleRef, id: str | None = None
    ) -> events.RuleTargetConfig:
        # The target is the group ARN without the ":*" suffix (what EventBridge expects).
        return events.RuleTargetConfig(
            arn=cdk.Stack.of(self._group).format_arn(
                service="logs",
                resource="log-group",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                resource_name=self._group.log_group_name,
            )
        )


class MlopsDashboard(Construct):
    """One CloudWatch dashboard per stack, with KPI metrics derived from events.

    :param training_pipeline: pipeline whose executions (started/succeeded/failed) are shown and
        counted for the pipeline success rate KPI.
    :param etl: Glue job whose succeeded/unsuccessful runs are shown.
    :param endpoints: ``(endpoint, variant names)`` pairs; invocations, 5XX errors, latency p50/p99
        and availability per variant.
    :param deployment_pipeline: CodePipeline whose successful executions count as deployments.
    :param drift_metrics: drift metrics (e.g. ``ModelMonitoring.metric_feature_drift``).
    :param quality_metrics: model quality metrics (``auc``, ``accuracy``...).
    :param retraining_metrics: retraining decisions (started, skipped).
    :param encryption_key: key of the KPI event log group (its policy must allow CloudWatch Logs,
        see ``key_policies.allow_cloudwatch_logs``). Default: a new rotated key.
    :param event_retention: retention of the KPI event log group. Default: one year.
    :param dashboard_name: default: ``<stack name>-mlops``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        training_pipeline: ITrainingPipeline | None = None,
        etl: IEtlMetrics | None = None,
        endpoints: Sequence[tuple[IEndpointMetrics, Sequence[str]]] = (),
        deployment_pipeline: codepipeline.IPipeline | None = None,
        drift_metrics: Sequence[cloudwatch.IMetric] = (),
        quality_metrics: Sequence[cloudwatch.IMetric] = (),
        retraining_metrics: Sequence[cloudwatch.IMetric] = (),
        encryption_key: kms.IKey | None = None,
        event_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        dashboard_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        for endpoint, variants in endpoints:
            check_prop(
                self,
                "endpoints",
                list(variants),
                len(variants) > 0,
                f"give at least one variant name for endpoint {endpoint.endpoint_name}",
            )
        if dashboard_name is not None:
            check_prop(
                self,
                "dashboard_name",
                dashboard_name,
                lambda n: 1 <= len(n) <= 255 and all(c.isalnum() or c in "-_" for c in n),
                "use 1-255 letters, digits, '-' or '_'",
            )
        if encryption_key is None:
            key = kms.Key(self, "EventsKey", enable_key_rotation=True, description="KPI event log")
            allow_cloudwatch_logs(key)
            encryption_key = key
        self.event_log_group = logs.LogGroup(
            self,
            "KpiEvents",
            encryption_key=encryption_key,
            retention=event_retention,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self._event_rules(training_pipeline, deployment_pipeline)
        self._metric_filters(training_pipeline, deployment_pipeline)

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name
            or stack_scoped_name(self, "mlops", max_length=255, separator="-"),
            default_interval=cdk.Duration.days(7),
        )
        self._kpi_widgets(training_pipeline, deployment_pipeline, endpoints)
        for endpoint, variants in endpoints:
            self._endpoint_widgets(endpoint, variants)
        if training_pipeline is not None:
            self._add(
                "Training pipeline executions",
                [
                    training_pipeline.metric("ExecutionStarted", statistic="Sum"),
                    training_pipeline.metric("ExecutionSucceeded", statistic="Sum"),
                    training_pipeline.metric("ExecutionFailed", statistic="Sum"),
                ],
            )
        if etl is not None:
            self._add(
                "Glue job runs",
                [etl.metric_succeeded_runs(), etl.metric_unsuccessful_runs()],
            )
        if drift_metrics:
            self._add("Drift", list(drift_metrics))
        if quality_metrics:
            self._add("Model quality", list(quality_metrics))
        if retraining_metrics:
            self._add("Retraining decisions", list(retraining_metrics))

    # ------------------------------------------------------------------ KPI metrics
    def metric_kpi(self, metric_name: str, **options: Any) -> cloudwatch.Metric:
        """A metric of :data:`KPI_NAMESPACE` published by this construct's metric filters."""
        return cloudwatch.Metric(
            namespace=KPI_NAMESPACE,
            metric_name=metric_name,
            **{"statistic": "Sum", "period": cdk.Duration.days(1), **options},
        )

    def metric_deployments(self, **options: Any) -> cloudwatch.Metric:
        """Successful deployment pipeline executions."""
        return self.metric_kpi("Deployments", **options)

    def metric_model_approvals(self, **options: Any) -> cloudwatch.Metric:
        """Model package versions that reached Approved."""
        return self.metric_kpi("ModelApprovals", **options)

    def metric_pipeline_success_rate(self) -> cloudwatch.MathExpression:
        """Percent of training pipeline executions that succeeded (succeeded / finished)."""
        return cloudwatch.MathExpression(
            expression="100 * ok / FILL(ok + failed, 0)",
            using_metrics={
                "ok": self.metric_kpi("PipelineExecutionsSucceeded"),
                "failed": self.metric_kpi("PipelineExecutionsFailed"),
            },
            label="Pipeline success rate (%)",
            period=cdk.Duration.days(1),
        )

    # ------------------------------------------------------------------ internals
    def _event_rules(
        self,
        training_pipeline: ITrainingPipeline | None,
        deployment_pipeline: codepipeline.IPipeline | None,
    ) -> None:
        group_arn = self.event_log_group.log_group_arn
        logs.CfnResourcePolicy(
            self,
            "EventsPolicy",
            policy_name=stack_scoped_name(self, "kpi-events", max_length=255),
            policy_document=cdk.Stack.of(self).to_json_string(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {
                                "Service": ["events.amazonaws.com", "delivery.logs.amazonaws.com"]
                            },
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": group_arn,
                        }
                    ],
                }
            ),
        )
        target = _LogGroupTarget(self.event_log_group)
        if training_pipeline is not None:
            events.Rule(
                self,
                "PipelineEvents",
                description="Copies training pipeline execution events into the KPI log group",
                event_pattern=events.EventPattern(
                    source=["aws.sagemaker"],
                    detail_type=["SageMaker Model Building Pipeline Execution Status Change"],
                    detail={"pipelineArn": [training_pipeline.pipeline_arn]},
                ),
                targets=[target],
            )
        events.Rule(
            self,
            "ModelPackageEvents",
            description="Copies model package state changes into the KPI log group",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Model Package State Change"],
            ),
            targets=[target],
        )
        if deployment_pipeline is not None:
            events.Rule(
                self,
                "DeploymentEvents",
                description="Copies deployment pipeline executions into the KPI log group",
                event_pattern=events.EventPattern(
                    source=["aws.codepipeline"],
                    detail_type=["CodePipeline Pipeline Execution State Change"],
                    detail={"pipeline": [deployment_pipeline.pipeline_name]},
                ),
                targets=[target],
            )

    def _metric_filters(
        self,
        training_pipeline: ITrainingPipeline | None,
        deployment_pipeline: codepipeline.IPipeline | None,
    ) -> None:
        filters: dict[str, str] = {
            "ModelApprovals": '{ ($.detail-type = "SageMaker Model Package State Change") '
            '&& ($.detail.ModelApprovalStatus = "Approved") }',
        }
        if training_pipeline is not None:
            for status, name in (("Succeeded", "Succeeded"), ("Failed", "Failed")):
                filters[f"PipelineExecutions{name}"] = (
                    '{ ($.detail-type = "SageMaker Model Building Pipeline Execution Status Change")'
                    f' && ($.detail.currentPipelineExecutionStatus = "{status}") }}'
                )
        if deployment_pipeline is not None:
            filters["Deployments"] = (
                '{ ($.detail-type = "CodePipeline Pipeline Execution State Change") '
                '&& ($.detail.state = "SUCCEEDED") }'
            )
        for metric_name, pattern in filters.items():
            logs.MetricFilter(
                self,
                f"{metric_name}Filter",
                log_group=self.event_log_group,
                filter_pattern=logs.FilterPattern.literal(pattern),
                metric_namespace=KPI_NAMESPACE,
                metric_name=metric_name,
                metric_value="1",
                default_value=0,
                dimensions=None,
            )

    def _kpi_widgets(
        self,
        training_pipeline: ITrainingPipeline | None,
        deployment_pipeline: codepipeline.IPipeline | None,
        endpoints: Sequence[tuple[IEndpointMetrics, Sequence[str]]],
    ) -> None:
        month = cdk.Duration.days(30)
        if deployment_pipeline is not None:
            self.dashboard.add_widgets(
                cloudwatch.SingleValueWidget(
                    title="Deployments (last 30 days)",
                    metrics=[self.metric_deployments(period=month)],
                    period=month,
                    width=6,
                )
            )
        self.dashboard.add_widgets(
            cloudwatch.SingleValueWidget(
                title="Model approvals (last 30 days)",
                metrics=[self.metric_model_approvals(period=month)],
                period=month,
                width=6,
            )
        )
        if training_pipeline is not None:
            self.dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title="Training pipeline success rate (%)",
                    left=[self.metric_pipeline_success_rate()],
                    width=12,
                )
            )
        availability = [
            cloudwatch.MathExpression(
                expression=f"100 * (1 - FILL(e{n}, 0) / IF(FILL(i{n}, 0) > 0, i{n}, 1))",
                using_metrics={
                    f"e{n}": endpoint.metric_invocation_5xx_errors(variant),
                    f"i{n}": endpoint.metric_invocations(variant),
                },
                label=f"{endpoint.endpoint_name}/{variant} availability (%)",
                period=cdk.Duration.minutes(5),
            )
            for n, (endpoint, variant) in enumerate(
                (e, v) for e, variants in endpoints for v in variants
            )
        ]
        if availability:
            self._add("Endpoint availability (% of requests without 5XX)", availability)
        self.dashboard.add_widgets(
            cloudwatch.LogQueryWidget(
                title="Lead time: registration to approval (per model package)",
                log_group_names=[self.event_log_group.log_group_name],
                query_string=LEAD_TIME_QUERY,
                width=24,
            )
        )

    def _endpoint_widgets(self, endpoint: IEndpointMetrics, variants: Sequence[str]) -> None:
        self._add(
            "Invocations and 5XX errors",
            [m for v in variants for m in (endpoint.metric_invocations(v),)],
            right=[endpoint.metric_invocation_5xx_errors(v) for v in variants],
        )
        self._add(
            "Model latency p50 / p99 (microseconds)",
            [endpoint.metric_model_latency(v, s) for v in variants for s in ("p50", "p99")],
        )

    def _add(
        self,
        title: str,
        left: Sequence[cloudwatch.IMetric],
        right: Sequence[cloudwatch.IMetric] = (),
    ) -> None:
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title=title, left=list(left), right=list(right), width=12)
        )


__all__ = [
    "DEPLOYMENTS_QUERY",
    "KPI_NAMESPACE",
    "LEAD_TIME_QUERY",
    "IEndpointMetrics",
    "IEtlMetrics",
    "MlopsDashboard",
    "SageMakerEndpointMetrics",
]
