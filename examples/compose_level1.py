"""Compose cdk-mlops constructs in your own stack (tested in tests/cdk_mlops/test_examples.py).

A team that wants the data lake, keys, a small private network and a budget, but no Studio.
Run as is, it creates a one-AZ VPC; a team that already has a VPC passes it as ``vpc=`` and
gets only the interface endpoints (and the workload security group) in it:

    cdk synth --app "python examples/compose_level1.py"
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_mlops.compliance import (
    S3_READ_GRANT_FINDINGS,
    acknowledge,
    acknowledge_inline_policy,
    add_compliance_checks,
    bucket_objects_finding,
)
from cdk_mlops.constructs import CostGuard, DataLake, EncryptionKeys, Network, Zone


class AnalyticsPlatformStack(cdk.Stack):
    """Keys, a data lake with a named raw bucket, a network and a USD 50 budget.

    :param vpc: your VPC (from another stack, ``Vpc.from_lookup`` or ``from_vpc_attributes``);
        Network adds two interface endpoints to it. Default: a new one-AZ VPC.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc | None = None, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        keys = EncryptionKeys(self, "Keys", alias_prefix="alias/analytics")
        lake = DataLake(
            self,
            "Lake",
            encryption_key=keys.data_key,
            # Keep raw data in Standard longer than the default before tiering.
            raw_tiering=[
                cdk.aws_s3.Transition(
                    storage_class=cdk.aws_s3.StorageClass.INFREQUENT_ACCESS,
                    transition_after=cdk.Duration.days(60),
                )
            ],
        )
        endpoints = [
            ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
            ec2.InterfaceVpcEndpointAwsService.STS,
        ]
        if vpc is None:
            Network(
                self,
                "Network",
                max_azs=1,  # one AZ halves the endpoint bill; fine for a sandbox
                interface_endpoints=endpoints,
                flow_logs_key=keys.logs_key,
            )
        else:
            # Your VPC keeps its own flow logs and default security group (VpcHardening
            # brings a VPC you create to the same bar); Network adds only the endpoints.
            Network(self, "Network", vpc=vpc, interface_endpoints=endpoints)
        CostGuard(
            self,
            "Budget",
            monthly_limit_usd=50,
            alert_emails=["ml-platform@example.com"],
            encryption_key=keys.notifications_key,
        )

        # Your own role, granted through the data lake.
        reader = iam.Role(
            self, "ReportingRole", assumed_by=iam.ServicePrincipal("glue.amazonaws.com")
        )
        lake.grant_read(reader, [Zone.CURATED], objects_key_pattern="reports/*")
        # cdk-nag flags the grant's wildcards: acknowledge them on this role's policy, saying why.
        policy = reader.node.find_child("DefaultPolicy")
        acknowledge_inline_policy(policy, "reporting")
        acknowledge(
            policy,
            [*S3_READ_GRANT_FINDINGS, bucket_objects_finding(lake.curated_bucket, "reports/*")],
            "The reporting job reads every report under curated/reports/ and nothing else.",
        )
        self.reader = reader


def main() -> cdk.App:
    app = cdk.App()
    add_compliance_checks(app)
    AnalyticsPlatformStack(app, "AnalyticsPlatform")
    return app


if __name__ == "__main__":
    main().synth()
