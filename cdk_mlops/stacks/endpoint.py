"""``EndpointStack``: one template per stage serving any model package version via CFN parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_mlops.constructs.model_endpoint import (
    DataCaptureConfig,
    EndpointModel,
    EndpointNetwork,
    ModelEndpoint,
    ProductionVariant,
    ServerlessConfig,
    TrafficRouting,
)

#: Logical ids of the stack's CloudFormation parameters (the level-3 pipeline overrides them).
ENDPOINT_PARAMETERS = (
    "ModelPackageArn", "EndpointName", "ExecutionRoleArn", "SubnetIds", "SecurityGroupIds",
    "DataKeyArn", "CaptureBucketName", "AlarmTopicArn",
)  # fmt: skip
#: Matches SageMaker's model package ARN pattern, so `cdk synth` needs no approved model.
PLACEHOLDER_MODEL_PACKAGE_ARN = (
    "arn:aws:sagemaker:us-east-1:111111111111:model-package/placeholder-model-group/1"
)


@dataclass(frozen=True, kw_only=True)
class EndpointStageSettings:
    """Per-stage settings; defaults are staging: 1 x ml.m5.large, ALL_AT_ONCE."""

    stage: str = "staging"
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    traffic_routing: TrafficRouting = field(default_factory=TrafficRouting.all_at_once)
    serverless: ServerlessConfig | None = None
    latency_threshold_ms: float = 1000.0
    sampling_percentage: int = 100
    max_capacity: int | None = None

    @classmethod
    def prod(cls) -> EndpointStageSettings:
        """2 x ml.m5.large, canary 1 instance, 10-minute bake."""
        return cls(
            stage="prod", instance_count=2,
            traffic_routing=TrafficRouting.canary(instances=1, wait=cdk.Duration.seconds(600)),
        )  # fmt: skip

    @classmethod
    def staging(cls, *, serverless: bool = False) -> EndpointStageSettings:
        return cls(stage="staging", serverless=ServerlessConfig() if serverless else None)


class EndpointStack(cdk.Stack):
    """A model endpoint whose account-specific inputs are CloudFormation parameters."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: EndpointStageSettings | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        settings = settings or EndpointStageSettings()
        p = {
            "ModelPackageArn": cdk.CfnParameter(self, "ModelPackageArn", type="String",
                default=PLACEHOLDER_MODEL_PACKAGE_ARN, description="Model package version to serve"),
            "EndpointName": cdk.CfnParameter(self, "EndpointName", type="String",
                default=f"cdk-mlops-{settings.stage}", description="Endpoint name"),
            "ExecutionRoleArn": cdk.CfnParameter(self, "ExecutionRoleArn", type="String",
                description="Execution role of the model"),
            "SubnetIds": cdk.CfnParameter(self, "SubnetIds", type="List<AWS::EC2::Subnet::Id>"),
            "SecurityGroupIds": cdk.CfnParameter(self, "SecurityGroupIds", type="List<AWS::EC2::SecurityGroup::Id>"),
            "DataKeyArn": cdk.CfnParameter(self, "DataKeyArn", type="String"),
            "CaptureBucketName": cdk.CfnParameter(self, "CaptureBucketName", type="String"),
            "AlarmTopicArn": cdk.CfnParameter(self, "AlarmTopicArn", type="String"),
        }  # fmt: skip
        variant = ProductionVariant(
            instance_type=settings.instance_type, initial_instance_count=settings.instance_count,
            serverless=settings.serverless, max_capacity=settings.max_capacity,
        )  # fmt: skip
        self.endpoint = ModelEndpoint(
            self, "ModelEndpoint",
            model=EndpointModel.from_model_package(p["ModelPackageArn"].value_as_string),
            network=EndpointNetwork(
                subnet_ids=p["SubnetIds"].value_as_list, security_group_ids=p["SecurityGroupIds"].value_as_list
            ),
            encryption_key=kms.Key.from_key_arn(self, "DataKey", p["DataKeyArn"].value_as_string),
            role=iam.Role.from_role_arn(self, "ExecutionRole", p["ExecutionRoleArn"].value_as_string, mutable=False),
            variants=[variant],
            traffic_routing=settings.traffic_routing if settings.serverless is None else None,
            data_capture=DataCaptureConfig(
                bucket_name=p["CaptureBucketName"].value_as_string,
                sampling_percentage=settings.sampling_percentage,
            ),
            latency_threshold_ms=settings.latency_threshold_ms,
            alarm_topic=sns.Topic.from_topic_arn(self, "AlarmTopic", p["AlarmTopicArn"].value_as_string),
            endpoint_name=p["EndpointName"].value_as_string,
        )  # fmt: skip
        outputs = {
            "EndpointName": self.endpoint.endpoint_name,
            "EndpointConfigName": self.endpoint.endpoint_config_name,
            "ModelPackageArn": p["ModelPackageArn"].value_as_string,
        }
        for name, value in outputs.items():
            # Parameters and outputs share construct ids; the output keeps the contract's logical id.
            out = cdk.CfnOutput(self, f"{name}Output", value=value)
            out.override_logical_id(name)
