"""MlopsDashboard: widgets from typed sources, KPI events and metric filters, compliance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk.assertions import Template

from cdk_mlops.checks import cfn_lint, stack_templates
from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.constructs.observability import (
    KPI_NAMESPACE,
    LEAD_TIME_QUERY,
    MlopsDashboard,
    SageMakerEndpointMetrics,
)
from cdk_mlops.constructs.training_pipeline import TrainingPipeline
from tests.cdk_mlops.helpers import new_app


class FakeEtl:
    """Stands in for GlueEtl's run-outcome metrics."""

    def metric_succeeded_runs(self, **options: Any) -> cloudwatch.Metric:
        return cloudwatch.Metric(namespace="Glue", metric_name="EtlSucceeded", **options)

    def metric_unsuccessful_runs(self, **options: Any) -> cloudwatch.Metric:
        return cloudwatch.Metric(namespace="AWS/Events", metric_name="EtlFailed", **options)


def build(stack: cdk.Stack, **overrides: Any) -> MlopsDashboard:
    props: dict[str, Any] = {
        "training_pipeline": TrainingPipeline.from_pipeline_name(stack, "Pipeline", "churn-train"),
        "etl": FakeEtl(),
        "endpoints": [(SageMakerEndpointMetrics("churn-prod"), ["blue", "green"])],
        "deployment_pipeline": codepipeline.Pipeline.from_pipeline_arn(
            stack, "Deploy", "arn:aws:codepipeline:eu-west-1:111111111111:churn-deploy"
        ),
        "drift_metrics": [
            cloudwatch.Metric(
                namespace="aws/sagemaker/Endpoints/data-metrics",
                metric_name="feature_baseline_drift_age",
            )
        ],
        "quality_metrics": [
            cloudwatch.Metric(namespace="aws/sagemaker/Endpoints/model-metrics", metric_name="auc")
        ],
        "retraining_metrics": [
            cloudwatch.Metric(namespace="cdk-mlops/retraining", metric_name="Started")
        ],
        **overrides,
    }
    return MlopsDashboard(stack, "Dashboard", **props)


@pytest.fixture(scope="module")
def synth() -> tuple[Template, dict[str, Any]]:
    app = new_app()
    stack = cdk.Stack(app, "Level3")
    build(stack)
    template = Template.from_stack(stack)
    (dashboard,) = template.find_resources("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    text = "".join(p if isinstance(p, str) else json.dumps(p) for p in body["Fn::Join"][1])
    return template, {"name": dashboard["Properties"]["DashboardName"], "body": text}


def test_dashboard_is_named_after_the_stack(synth: tuple[Template, dict[str, Any]]) -> None:
    assert synth[1]["name"] == "Level3-mlops"


@pytest.mark.parametrize(
    "needle",
    [
        "Invocation5XXErrors",
        '"p99"',
        '"p50"',
        "churn-prod",
        "green",
        "ExecutionFailed",
        "EtlFailed",
        "feature_baseline_drift_age",
        "auc",
        "Retraining decisions",
        "Deployments",
        "ModelApprovals",
        "availability",
        "Pipeline success rate",
    ],
)
def test_dashboard_shows(synth: tuple[Template, dict[str, Any]], needle: str) -> None:
    assert needle in synth[1]["body"]


def test_lead_time_query_runs_over_the_event_log_group(
    synth: tuple[Template, dict[str, Any]],
) -> None:
    body = synth[1]["body"]
    assert "SageMaker Model Package State Change" in body
    assert json.dumps(LEAD_TIME_QUERY)[1:20] in body


def test_events_reach_the_encrypted_log_group_through_a_scoped_resource_policy(
    synth: tuple[Template, dict[str, Any]],
) -> None:
    template, _ = synth
    (group,) = template.find_resources("AWS::Logs::LogGroup").values()
    assert "KmsKeyId" in group["Properties"]
    rules = template.find_resources("AWS::Events::Rule")
    types = sorted(
        json.dumps(r["Properties"]["EventPattern"]["detail-type"]) for r in rules.values()
    )
    assert len(types) == 3
    assert any("Pipeline Execution State Change" in t for t in types)
    template.resource_count_is("AWS::Lambda::Function", 0)
    (policy,) = template.find_resources("AWS::Logs::ResourcePolicy").values()
    assert "events.amazonaws.com" in json.dumps(policy["Properties"]["PolicyDocument"])


def test_metric_filters_publish_kpis(synth: tuple[Template, dict[str, Any]]) -> None:
    template, _ = synth
    filters = template.find_resources("AWS::Logs::MetricFilter").values()
    names = sorted(f["Properties"]["MetricTransformations"][0]["MetricName"] for f in filters)
    assert names == [
        "Deployments",
        "ModelApprovals",
        "PipelineExecutionsFailed",
        "PipelineExecutionsSucceeded",
    ]
    assert {f["Properties"]["MetricTransformations"][0]["MetricNamespace"] for f in filters} == {
        KPI_NAMESPACE
    }


def test_only_what_is_passed_is_shown() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Minimal")
    build(
        stack,
        training_pipeline=None,
        etl=None,
        endpoints=[],
        deployment_pipeline=None,
        drift_metrics=[],
        quality_metrics=[],
        retraining_metrics=[],
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Events::Rule", 1)
    template.resource_count_is("AWS::Logs::MetricFilter", 1)
    body = json.dumps(template.find_resources("AWS::CloudWatch::Dashboard"))
    assert "Invocation5XXErrors" not in body and "Glue job runs" not in body


def test_fails_when_an_endpoint_has_no_variant() -> None:
    stack = cdk.Stack(new_app(), "Bad")
    with pytest.raises(ValueError, match=r"endpoints=\[\] is not allowed\. give at least one"):
        build(stack, endpoints=[(SageMakerEndpointMetrics("x"), [])])


def test_fails_on_a_bad_dashboard_name() -> None:
    stack = cdk.Stack(new_app(), "Bad")
    with pytest.raises(ValueError, match=r"dashboard_name='a b' is not allowed\. use 1-255"):
        build(stack, dashboard_name="a b")


@pytest.mark.slow
@pytest.mark.parametrize(
    "env",
    [
        None,
        cdk.Environment(account="111111111111", region="eu-west-1"),
        cdk.Environment(account="111111111111", region="us-east-1"),
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
