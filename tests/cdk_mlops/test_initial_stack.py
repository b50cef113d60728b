"""Level 1 (Initial): composition, cheap-at-idle defaults, props passed through."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Match, Template

from cdk_mlops.constructs import DEFAULT_INTERFACE_ENDPOINTS
from cdk_mlops.levels import InitialSettings
from cdk_mlops.stacks import InitialStack
from tests.cdk_mlops.helpers import new_app


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.from_stack(InitialStack(new_app(), "L1"))


def test_composes_keys_lake_network_studio_and_budget(template: Template) -> None:
    template.resource_count_is("AWS::KMS::Key", 3)
    template.resource_count_is("AWS::S3::Bucket", 5)
    template.resource_count_is("AWS::EC2::VPC", 1)
    template.resource_count_is("AWS::SageMaker::Domain", 1)
    template.resource_count_is("AWS::SageMaker::UserProfile", 1)
    template.resource_count_is("AWS::Budgets::Budget", 1)


def test_nothing_billed_per_hour_but_the_endpoints(template: Template) -> None:
    for billed in (
        "AWS::EC2::NatGateway",
        "AWS::EC2::InternetGateway",
        "AWS::SageMaker::Endpoint",
        "AWS::SageMaker::NotebookInstance",
        "AWS::EC2::Instance",
    ):
        template.resource_count_is(billed, 0)
    interface = template.find_resources(
        "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}
    )
    assert len(interface) == len(DEFAULT_INTERFACE_ENDPOINTS)


def test_budget_defaults_to_100_usd(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Budgets::Budget",
        {"Budget": Match.object_like({"BudgetLimit": {"Amount": 100, "Unit": "USD"}})},
    )


def test_props_reach_the_constructs() -> None:
    stack = InitialStack(
        new_app(),
        "Custom",
        initial=InitialSettings(
            monthly_budget_usd=25,
            interface_endpoints=[
                ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
                ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
            ],
            max_azs=1,
            idle_timeout=cdk.Duration.hours(2),
        ),
        env=cdk.Environment(account="111111111111", region="eu-west-1"),
    )
    t = Template.from_stack(stack)
    t.resource_count_is("AWS::EC2::Subnet", 1)
    assert (
        len(
            t.find_resources(
                "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}
            )
        )
        == 2
    )
    t.has_resource_properties(
        "AWS::Budgets::Budget",
        {"Budget": Match.object_like({"BudgetLimit": {"Amount": 25, "Unit": "USD"}})},
    )
    t.has_resource_properties(
        "AWS::SageMaker::Domain",
        {
            "DefaultUserSettings": Match.object_like(
                {
                    "JupyterLabAppSettings": {
                        "AppLifecycleManagement": {
                            "IdleSettings": Match.object_like({"IdleTimeoutInMinutes": 120})
                        }
                    }
                }
            )
        },
    )


def test_fails_when_the_budget_is_zero() -> None:
    with pytest.raises(ValueError, match=r"monthly_limit_usd=0 .*above 0"):
        InitialStack(new_app(), "Broke", initial=InitialSettings(monthly_budget_usd=0))


def test_fails_when_endpoints_leave_studio_without_the_sagemaker_api() -> None:
    with pytest.raises(ValueError, match=r"network.interface_endpoints.*sagemaker.api"):
        InitialStack(
            new_app(),
            "NoApi",
            initial=InitialSettings(interface_endpoints=[ec2.InterfaceVpcEndpointAwsService.STS]),
        )
