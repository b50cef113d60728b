"""ModelEndpoint: resources, deployment config, alarms, autoscaling and validation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Annotations, Match, Template

from cdk_mlops.checks import cfn_lint, stack_templates
from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.constructs.model_endpoint import (
    DataCaptureConfig,
    EndpointModel,
    EndpointNetwork,
    ModelEndpoint,
    ProductionVariant,
    ServerlessConfig,
    ShadowVariant,
    TrafficRouting,
)
from cdk_mlops.stacks.endpoint import EndpointStack, EndpointStageSettings
from tests.cdk_mlops.helpers import new_app

ARN = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/group/1"
NET = EndpointNetwork(
    subnet_ids=["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    security_group_ids=["sg-0123456789abcdef0"],
)


def build(stack: cdk.Stack, **overrides: Any) -> ModelEndpoint:
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    props: dict[str, Any] = {
        "model": EndpointModel.from_model_package(ARN),
        "network": NET,
        "encryption_key": key,
        "artifacts_bucket": s3.Bucket.from_bucket_name(stack, "Artifacts", "artifacts"),
        "variants": [ProductionVariant(initial_instance_count=2, max_capacity=4)],
        "traffic_routing": TrafficRouting.canary(instances=1),
        "data_capture": DataCaptureConfig(bucket_name="capture", sampling_percentage=50),
        **overrides,
    }
    return ModelEndpoint(stack, "Endpoint", **props)


@pytest.fixture(scope="module")
def built() -> tuple[dict[str, Any], ModelEndpoint]:
    app = new_app()
    stack = cdk.Stack(app, "Test")
    endpoint = build(stack)
    return dict(Template.from_stack(stack).to_json()), endpoint


def of_type(t: dict[str, Any], cfn_type: str) -> list[dict[str, Any]]:
    return [r for r in t["Resources"].values() if r["Type"] == cfn_type]


def test_model_isolated_in_vpc(built: tuple[dict[str, Any], ModelEndpoint]) -> None:
    (model,) = of_type(built[0], "AWS::SageMaker::Model")
    assert model["Properties"]["EnableNetworkIsolation"] is True
    assert model["Properties"]["Containers"] == [{"ModelPackageName": ARN}]
    assert model["Properties"]["VpcConfig"]["Subnets"] == NET.subnet_ids
    assert "ModelName" not in model["Properties"]


def test_config_capture_and_key(built: tuple[dict[str, Any], ModelEndpoint]) -> None:
    (config,) = of_type(built[0], "AWS::SageMaker::EndpointConfig")
    props = config["Properties"]
    assert "EndpointConfigName" not in props and "KmsKeyId" in props
    assert props["DataCaptureConfig"]["DestinationS3Uri"] == "s3://capture/data-capture"
    assert props["DataCaptureConfig"]["InitialSamplingPercentage"] == 50


def test_alarms_rollback_and_scaling(built: tuple[dict[str, Any], ModelEndpoint]) -> None:
    t, endpoint = built
    (ep,) = of_type(t, "AWS::SageMaker::Endpoint")
    alarms = ep["Properties"]["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    assert len(alarms) == 3 == len(endpoint.alarms)
    latency = [
        a
        for a in of_type(t, "AWS::CloudWatch::Alarm")
        if a["Properties"]["MetricName"] == "ModelLatency"
    ]
    assert latency[0]["Properties"]["Threshold"] == 1_000_000  # microseconds
    (target,) = of_type(t, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["Properties"]["MaxCapacity"] == 4
    assert "Fn::GetAtt" in str(target["Properties"]["ResourceId"])  # waits for the endpoint


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"traffic_routing": TrafficRouting.canary(instances=2)}, "at most 50 %"),
        ({"variants": [ProductionVariant(initial_weight=0)]}, "weight above 0"),
        ({"variants": [], "shadow_variant": ShadowVariant()}, "shadow variant needs"),
        ({"variants": [ProductionVariant(instance_type="m5.large")]}, "ml.m5.large"),
        (
            {"variants": [ProductionVariant(serverless=ServerlessConfig(memory_size_in_mb=1000))]},
            "1024..6144",
        ),
        (
            {"variants": [ProductionVariant(serverless=ServerlessConfig(max_concurrency=0))]},
            "1..200",
        ),
        ({"data_capture": DataCaptureConfig(bucket_name="b", sampling_percentage=101)}, "0..100"),
        ({"variants": [ProductionVariant(), ProductionVariant()]}, "distinct name"),
        ({"variants": [ProductionVariant(name="bad_name")]}, "letters, digits and hyphens"),
        ({"variants": [ProductionVariant(name=f"v{i}") for i in range(11)]}, "at most 10"),
        ({"variants": [ProductionVariant(min_capacity=3, max_capacity=2)]}, "min_capacity"),
        ({"latency_threshold_ms": 0}, "positive number"),
        (
            {
                "traffic_routing": TrafficRouting.linear(percent=10, wait=cdk.Duration.minutes(5)),
                "maximum_execution_timeout": cdk.Duration.minutes(30),
            },
            "linear steps",
        ),
    ],
)
def test_validation(overrides: dict[str, Any], message: str) -> None:
    app = new_app()
    with pytest.raises(ValueError, match=message):
        build(cdk.Stack(app, "Bad"), **overrides)


@pytest.mark.slow
@pytest.mark.parametrize(
    "env",
    [None, cdk.Environment(account="111111111111", region="eu-west-1"),
     cdk.Environment(account="222222222222", region="us-east-1")],
    ids=["agnostic", "eu-west-1", "us-east-1"],
)  # fmt: skip
@pytest.mark.parametrize("kind", ["construct", "stack"])
def test_compliance_packs_and_cfn_lint(
    tmp_path: Path, env: cdk.Environment | None, kind: str
) -> None:
    app = new_app(outdir=str(tmp_path))
    add_compliance_checks(app)
    if kind == "stack":
        EndpointStack(app, "Endpoint", env=env, settings=EndpointStageSettings.prod())
    else:
        stack = cdk.Stack(app, "Own", env=env)
        topic = sns.Topic.from_topic_arn(
            stack, "Alerts", "arn:aws:sns:eu-west-1:111111111111:alerts"
        )
        build(stack, alarm_topic=topic)
    app.synth()
    (template,) = stack_templates(tmp_path).values()
    region = env.region if env is not None and env.region else "eu-west-1"
    assert cfn_lint(template, (region,)) == []


def _alarm(stack: cdk.Stack, name: str) -> cloudwatch.IAlarm:
    return cloudwatch.Alarm.from_alarm_name(stack, name, name)


def _variants(n: int) -> list[ProductionVariant]:
    return [ProductionVariant(name=f"v{i}", initial_instance_count=2) for i in range(n)]


@pytest.mark.parametrize(("variants", "extra"), [(4, 0), (3, 2)])
def test_fails_when_the_rollback_alarms_exceed_sagemakers_ten(variants: int, extra: int) -> None:
    stack = cdk.Stack(new_app(), "Bad")
    with pytest.raises(
        ValueError, match=r"extra_rollback_alarms.*at most 10 alarms.*has (9|12) of"
    ):
        build(
            stack,
            variants=_variants(variants),
            extra_rollback_alarms=[_alarm(stack, f"extra-{i}") for i in range(extra)],
        )


def test_every_alarm_up_to_ten_rolls_back() -> None:
    stack = cdk.Stack(new_app(), "Ten")
    build(stack, variants=_variants(3), extra_rollback_alarms=[_alarm(stack, "extra")])
    (endpoint,) = of_type(Template.from_stack(stack).to_json(), "AWS::SageMaker::Endpoint")
    alarms = endpoint["Properties"]["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
    assert len(alarms) == 10 and {"AlarmName": "extra"} in alarms


def test_an_nvme_instance_type_is_told_it_gets_no_volume_key() -> None:
    stack = cdk.Stack(new_app(), "Nvme")
    build(
        stack, variants=[ProductionVariant(instance_type="ml.m5d.large", initial_instance_count=2)]
    )
    (config,) = of_type(Template.from_stack(stack).to_json(), "AWS::SageMaker::EndpointConfig")
    assert "KmsKeyId" not in config["Properties"]
    assert config["Properties"]["DataCaptureConfig"]["KmsKeyId"]
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("NVMe"))
    assert len(warnings) == 1
