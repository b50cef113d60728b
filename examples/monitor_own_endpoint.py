"""A user attaching ``ModelMonitoring`` to an endpoint of their own, in their own stack.

The endpoint ``churn-prod`` was deployed elsewhere and captures to their bucket; their VPC,
KMS keys, baseline bucket and alerts topic are imported. The monitor runs hourly, checks the
window's traffic against a fixed baseline folder, alarms on drift, and they add their own alarm
on the live AUC (once labels are uploaded to ``ground-truth/churn-prod/<yyyy/mm/dd/hh>/``).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_mlops.constructs import JobNetwork, ModelMonitoring

ENDPOINT_NAME = "churn-prod"
BASELINE_FOLDER = "baselines/churn/v7"


class ChurnMonitoringStack(cdk.Stack):
    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        vpc = ec2.Vpc.from_vpc_attributes(
            self, "Vpc", vpc_id="vpc-0123456789abcdef0", availability_zones=["eu-west-1a", "eu-west-1b"],
            isolated_subnet_ids=["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        )  # fmt: skip
        sg = ec2.SecurityGroup.from_security_group_id(self, "Sg", "sg-0123456789abcdef0")
        data_key = kms.Key.from_key_arn(
            self, "DataKey",
            "arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555",
        )  # fmt: skip
        # the logs key's policy must admit CloudWatch Logs (the state machine's log group)
        logs_key = kms.Key.from_key_arn(
            self, "LogsKey",
            "arn:aws:kms:eu-west-1:111111111111:key/66666666-7777-8888-9999-000000000000",
        )  # fmt: skip
        topic = sns.Topic.from_topic_arn(
            self, "Alerts", "arn:aws:sns:eu-west-1:111111111111:alerts"
        )
        self.monitoring = ModelMonitoring(
            self, "Monitoring",
            endpoint_name=ENDPOINT_NAME,
            capture_bucket=s3.Bucket.from_bucket_name(self, "Capture", "my-capture-bucket"),
            baseline_bucket=s3.Bucket.from_bucket_name(self, "Baselines", "my-model-artifacts"),
            baseline_key_prefix=BASELINE_FOLDER,
            job_network=JobNetwork(
                vpc=vpc, subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
                security_groups=[sg],
            ),
            encryption_key=data_key,
            logs_key=logs_key,
            alarm_topic=topic,
            drift_evaluation_periods=3,
        )  # fmt: skip
        # Their own alarm on a metric the job publishes (Model Monitor's name and namespace).
        self.auc_alarm = self.monitoring.metric_model_quality("auc").create_alarm(
            self, "LiveAucLow",
            threshold=0.7, evaluation_periods=3,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description="Live AUC of churn-prod below 0.7 for 3 hours: check labels and "
            "drift, then retrain.",
        )  # fmt: skip
        self.auc_alarm.add_alarm_action(cw_actions.SnsAction(topic))


if __name__ == "__main__":
    app = cdk.App()
    ChurnMonitoringStack(
        app, "ChurnMonitoring", env=cdk.Environment(account="111111111111", region="eu-west-1")
    )
    app.synth()
