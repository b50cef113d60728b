"""A user deploying their own model package with ``ModelEndpoint`` in their own stack.

Their VPC (imported), their KMS key and their capture bucket; canary deployment with rollback
alarms that notify their topic.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_mlops.constructs.interfaces import JobNetwork
from cdk_mlops.constructs.model_endpoint import (
    DataCaptureConfig,
    EndpointModel,
    ModelEndpoint,
    ProductionVariant,
    TrafficRouting,
)

MODEL_PACKAGE_ARN = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3"


class ChurnEndpointStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        vpc = ec2.Vpc.from_vpc_attributes(
            self, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["eu-west-1a", "eu-west-1b"],
            private_subnet_ids=["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        )  # fmt: skip
        sg = ec2.SecurityGroup.from_security_group_id(self, "Sg", "sg-0123456789abcdef0")
        key = kms.Key.from_key_arn(
            self,
            "Key",
            "arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555",
        )
        artifacts = s3.Bucket.from_bucket_name(self, "Artifacts", "my-model-artifacts")
        capture = s3.Bucket.from_bucket_name(self, "Capture", "my-capture-bucket")
        topic = sns.Topic.from_topic_arn(
            self, "Alerts", "arn:aws:sns:eu-west-1:111111111111:alerts"
        )
        self.endpoint = ModelEndpoint(
            self, "Churn",
            model=EndpointModel.from_model_package(MODEL_PACKAGE_ARN),
            network=JobNetwork(
                vpc=vpc, subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                security_groups=[sg],
            ),
            encryption_key=key,
            artifacts_bucket=artifacts,
            variants=[ProductionVariant(initial_instance_count=2, max_capacity=4)],
            traffic_routing=TrafficRouting.canary(instances=1, wait=cdk.Duration.minutes(10)),
            data_capture=DataCaptureConfig(bucket=capture, sampling_percentage=20),
            latency_threshold_ms=200,
            alarm_topic=topic,
        )  # fmt: skip
