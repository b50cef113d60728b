"""examples/compose_level1.py with the team's own VPC (issue 15, item 7): no VPC created."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ssm as ssm
from aws_cdk.assertions import Template

from cdk_mlops.compliance import add_compliance_checks
from examples.compose_level1 import AnalyticsPlatformStack
from tests.cdk_mlops.helpers import new_app


def test_compose_level1_with_an_existing_vpc_adds_only_endpoints(tmp_path: Path) -> None:
    app = new_app(outdir=str(tmp_path))
    add_compliance_checks(app)
    scope = cdk.Stack(app, "Imports")
    vpc = ec2.Vpc.from_vpc_attributes(
        scope,
        "TeamVpc",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        isolated_subnet_ids=["subnet-0aaaaaaaa", "subnet-0bbbbbbbb"],
        isolated_subnet_route_table_ids=["rtb-0aaaaaaaa", "rtb-0bbbbbbbb"],
        # A token CIDR, as from a parameter the network team publishes.
        vpc_cidr_block=ssm.StringParameter.value_for_string_parameter(scope, "/network/cidr"),
    )
    stack = AnalyticsPlatformStack(app, "AnalyticsPlatform", vpc=vpc)
    app.synth()  # raises on any unacknowledged cdk-nag finding
    t = Template.from_stack(stack)
    for cfn_type in ("AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::FlowLog"):
        t.resource_count_is(cfn_type, 0)
    t.resource_count_is("AWS::EC2::VPCEndpoint", 2)
    t.has_resource_properties("AWS::EC2::VPCEndpoint", {"VpcId": "vpc-0123456789abcdef0"})
