"""Metric methods in aws-cdk-lib's shape, alarms built from them, and props given as tokens.

Also: the level refactor kept every resource of MlopsLevel1/MlopsLevel2 (types and counts as
before it, recorded in ``data/level_resource_counts.json``).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from cdk_mlops.checks import cfn_lint, stack_templates
from cdk_mlops.constructs import (
    DataLake,
    GlueEtl,
    ModelRegistry,
    Network,
    StudioEnvironment,
    TrainingPipeline,
)
from tests.cdk_mlops.helpers import new_app

BEFORE = Path(__file__).parent / "data" / "level_resource_counts.json"


def test_the_level_stacks_keep_their_resources(assembly: Path) -> None:
    before = json.loads(BEFORE.read_text())
    for stack, template in stack_templates(assembly).items():
        resources = json.loads(template.read_text())["Resources"]
        counts = dict(sorted(Counter(r["Type"] for r in resources.values()).items()))
        assert counts == before[stack], stack


class _Built:
    """A Glue ETL and a training pipeline in ``stack`` (a new one by default)."""

    def __init__(self, stack: cdk.Stack | None = None) -> None:
        self.stack = stack or cdk.Stack(new_app(), "Metrics")
        key = kms.Key(self.stack, "Key", enable_key_rotation=True)
        lake = DataLake(self.stack, "Lake", encryption_key=key)
        network = Network(self.stack, "Network", interface_endpoints=[])
        self.etl = GlueEtl(
            self.stack,
            "Etl",
            raw_bucket=lake.raw_bucket,
            curated_bucket=lake.curated_bucket,
            encryption_key=key,
            logs_key=key,
        )
        self.training = TrainingPipeline(
            self.stack,
            "Training",
            job_network=network.job_network,
            input_bucket=lake.curated_bucket,
            artifacts_bucket=lake.artifacts_bucket,
            encryption_key=key,
            registry=ModelRegistry(self.stack, "Registry"),
        )
        self.imported = TrainingPipeline.from_pipeline_name(self.stack, "Other", "other-training")

    def resolve(self, value: Any) -> Any:
        return self.stack.resolve(value)


@pytest.fixture(scope="module")
def built() -> _Built:
    return _Built()


PIPELINE_METRICS = [
    ("metric_executions_started", "ExecutionStarted", "Sum"),
    ("metric_executions_succeeded", "ExecutionSucceeded", "Sum"),
    ("metric_executions_failed", "ExecutionFailed", "Sum"),
    ("metric_execution_duration", "ExecutionDuration", "Average"),
]


@pytest.mark.parametrize(("method", "name", "statistic"), PIPELINE_METRICS)
def test_training_pipeline_metrics(built: _Built, method: str, name: str, statistic: str) -> None:
    for pipeline, pipeline_name in (
        (built.training, built.training.pipeline_name),
        (built.imported, "other-training"),
    ):
        metric: cloudwatch.Metric = getattr(pipeline, method)()
        assert metric.namespace == "AWS/Sagemaker/ModelBuildingPipeline"
        assert metric.metric_name == name
        assert metric.statistic == statistic
        assert built.resolve(metric.dimensions) == {"PipelineName": pipeline_name}
        assert metric.period.to_seconds() == 300
    custom = built.training.metric_executions_failed(period=cdk.Duration.hours(1), statistic="Max")
    assert (custom.period.to_seconds(), custom.statistic) == (3600, "Maximum")


def test_glue_etl_unsuccessful_runs_count_its_failure_rule(built: _Built) -> None:
    metric = built.etl.metric_unsuccessful_runs()
    assert (metric.namespace, metric.metric_name, metric.statistic) == (
        "AWS/Events",
        "TriggeredRules",
        "Sum",
    )
    assert built.resolve(metric.dimensions) == {
        "RuleName": built.resolve(built.etl.failure_rule.rule_name)
    }


@pytest.mark.parametrize(
    "method", ["metric_failed_runs", "metric_timed_out_runs", "metric_succeeded_runs"]
)
def test_glue_etl_run_outcome_metrics(built: _Built, method: str) -> None:
    metric = getattr(built.etl, method)()
    assert (metric.namespace, metric.metric_name, metric.statistic) == (
        "AWS/Events",
        "TriggeredRules",
        "Sum",
    )
    assert set(built.resolve(metric.dimensions)) == {"RuleName"}


def test_glue_etl_job_metric(built: _Built) -> None:
    metric = built.etl.metric("glue.driver.aggregate.numFailedTasks")
    assert metric.namespace == "Glue"
    dims = built.resolve(metric.dimensions)
    assert dims["JobName"] == built.resolve(built.etl.job.job_name)
    assert dims["Type"] == "count"


def test_alarms_built_from_every_metric_pass_cfn_lint(tmp_path: Path) -> None:
    app = new_app(outdir=str(tmp_path))
    b = _Built(cdk.Stack(app, "Alarms"))
    metrics = [getattr(b.training, m)() for m, _, _ in PIPELINE_METRICS] + [
        b.etl.metric_failed_runs(),
        b.etl.metric_timed_out_runs(),
        b.etl.metric_succeeded_runs(),
        b.etl.metric("glue.driver.aggregate.numFailedTasks"),
    ]
    for i, metric in enumerate(metrics):
        metric.create_alarm(b.stack, f"Alarm{i}", threshold=1, evaluation_periods=1)
    app.synth()
    template = tmp_path / "Alarms.template.json"
    Template.from_stack(b.stack).resource_count_is("AWS::CloudWatch::Alarm", len(metrics) + 1)
    assert cfn_lint(template, ("us-east-1",)) == []


def test_token_props_pass_construction_where_the_deployed_value_may_be_valid() -> None:
    stack = cdk.Stack(new_app(), "Tokens")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    lake = DataLake(stack, "Lake", encryption_key=key)
    network = Network(stack, "Network")

    def text(name: str) -> str:
        return cdk.CfnParameter(stack, name, type="String").value_as_string

    def number(name: str) -> float:
        return cdk.CfnParameter(stack, name, type="Number").value_as_number

    GlueEtl(
        stack,
        "Etl",
        raw_bucket=lake.raw_bucket,
        curated_bucket=lake.curated_bucket,
        encryption_key=key,
        logs_key=key,
        database_name=text("Database"),
        number_of_workers=int(number("Workers")),
        max_retries=int(number("Retries")),
    )
    registry = ModelRegistry(stack, "Registry", model_package_group_name=text("Group"))
    TrainingPipeline(
        stack,
        "Training",
        job_network=network.job_network,
        input_bucket=lake.curated_bucket,
        artifacts_bucket=lake.artifacts_bucket,
        encryption_key=key,
        registry=registry,
        pipeline_name=text("PipelineName"),
        threshold=number("Threshold"),
    )
    StudioEnvironment(
        stack,
        "Studio",
        job_network=network.job_network,
        encryption_key=key,
        domain_name=text("Domain"),
    )
    TrainingPipeline.from_pipeline_name(stack, "Imported", text("OtherPipeline"))
    ModelRegistry.from_group_name(stack, "OtherGroup", text("OtherGroupName"))


@pytest.mark.parametrize("prop", ["processing_instance_type", "training_instance_type"])
def test_fails_when_an_instance_type_is_a_token(prop: str) -> None:
    # It becomes the default of a pipeline parameter with vetted allowed values: checked here.
    stack = cdk.Stack(new_app(), "TokenTypes")
    key = kms.Key(stack, "Key")
    lake = DataLake(stack, "Lake", encryption_key=key)
    value = cdk.CfnParameter(stack, "Type", type="String").value_as_string
    with pytest.raises(ValueError, match=rf"TrainingPipeline at TokenTypes/T: {prop}=.*literal"):
        TrainingPipeline(
            stack,
            "T",
            job_network=Network(stack, "Net", interface_endpoints=[]).job_network,
            input_bucket=lake.curated_bucket,
            artifacts_bucket=lake.artifacts_bucket,
            encryption_key=key,
            registry=ModelRegistry(stack, "Registry"),
            **{prop: value},
        )


def test_messages_name_the_construct_path() -> None:
    stack = cdk.Stack(new_app(), "Paths")
    with pytest.raises(ValueError, match=r"^ModelRegistry at Paths/Team/Registry: "):
        ModelRegistry(cdk.Stack(stack, "Team"), "Registry", model_package_group_name="a_b")
