"""Put cdk-mlops on resources your platform already has: VPC, buckets, keys, roles, registry.

Tested in tests/cdk_mlops/test_bring_your_own.py (every gate clean, and the policies name
exactly these resources). Replace the ids and ARNs below with yours:

    cdk synth --app "python examples/bring_your_own.py"

Everything here is imported; the library creates only what it adds (the pipeline, the Glue job,
the data-scientist role, CI) and grants your roles what those need.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.constructs import (
    BasicCi,
    DataScientistRole,
    GlueEtl,
    JobNetwork,
    ModelRegistry,
    TrainingPipeline,
)

ACCOUNT, REGION = "111111111111", "eu-west-1"
ENV = cdk.Environment(account=ACCOUNT, region=REGION)
#: Your data key and logs key (the logs key's policy must admit CloudWatch Logs).
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
LOGS_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
#: Your data lake buckets (default encryption with KEY_ARN).
BUCKETS = {"raw": "acme-ml-raw", "curated": "acme-ml-curated", "artifacts": "acme-ml-artifacts"}
#: Private or isolated subnets with their route tables, and the security group jobs use.
SUBNETS = {"subnet-0aaa1111": "rtb-0aaa1111", "subnet-0bbb2222": "rtb-0bbb2222"}
SECURITY_GROUP = "sg-0ccc3333"
#: Your model package group and the roles your platform provisions.
GROUP = "acme-churn-models"
PIPELINE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/acme-ml-pipeline"  # trusts sagemaker.amazonaws.com
ETL_ROLE = f"arn:aws:iam::{ACCOUNT}:role/acme-etl"  # trusts glue.amazonaws.com


class PlatformStack(cdk.Stack):
    """The training pipeline, the Glue ETL and the data-scientist role on imported resources."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id, env=ENV)
        vpc = ec2.Vpc.from_vpc_attributes(
            self,
            "Vpc",
            vpc_id="vpc-0abc1234",
            availability_zones=[f"{REGION}a", f"{REGION}b"],
            isolated_subnet_ids=list(SUBNETS),
            isolated_subnet_route_table_ids=list(SUBNETS.values()),
            vpc_cidr_block="10.20.0.0/16",
        )
        network = JobNetwork(
            vpc=vpc,
            subnets=ec2.SubnetSelection(subnets=vpc.isolated_subnets),
            security_groups=[
                ec2.SecurityGroup.from_security_group_id(self, "Sg", SECURITY_GROUP, mutable=False)
            ],
        )
        raw, curated, artifacts = (
            s3.Bucket.from_bucket_name(self, zone.capitalize(), name)
            for zone, name in BUCKETS.items()
        )
        key = kms.Key.from_key_arn(self, "Key", KEY_ARN)
        logs_key = kms.Key.from_key_arn(self, "LogsKey", LOGS_KEY_ARN)
        self.training = TrainingPipeline(
            self,
            "Training",
            job_network=network,
            input_bucket=curated,
            artifacts_bucket=artifacts,
            encryption_key=key,
            registry=ModelRegistry.from_group_name(self, "Registry", GROUP),
            role=iam.Role.from_role_arn(self, "PipelineRole", PIPELINE_ROLE),
        )
        self.etl = GlueEtl(
            self,
            "Etl",
            raw_bucket=raw,
            curated_bucket=curated,
            encryption_key=key,
            logs_key=logs_key,
            role=iam.Role.from_role_arn(self, "EtlRole", ETL_ROLE),
        )
        self.data_scientists = DataScientistRole(
            self,
            "DataScientists",
            job_network=network,
            encryption_key=key,
            read_buckets=[raw, curated],
            read_write_buckets=[artifacts],
        )


class CiStack(cdk.Stack):
    """CI in another stack, for a pipeline it knows by name only."""

    def __init__(self, scope: Construct, construct_id: str, *, pipeline_name: str) -> None:
        super().__init__(scope, construct_id, env=ENV)
        key = kms.Key.from_key_arn(self, "CiKey", KEY_ARN)
        BasicCi(
            self,
            "Ci",
            artifact_bucket=s3.Bucket.from_bucket_attributes(
                self, "CiArtifacts", bucket_name="acme-ci-artifacts", encryption_key=key
            ),
            encryption_key=key,
            logs_key=kms.Key.from_key_arn(self, "LogsKey", LOGS_KEY_ARN),
            training_pipeline=TrainingPipeline.from_pipeline_name(self, "Pipeline", pipeline_name),
        )


def main() -> cdk.App:
    app = cdk.App()
    add_compliance_checks(app)
    platform = PlatformStack(app, "Platform")
    CiStack(app, "PlatformCi", pipeline_name=platform.training.pipeline_name)
    return app


if __name__ == "__main__":
    main().synth()
