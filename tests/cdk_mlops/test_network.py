"""Network: isolated VPC, no NAT, S3 gateway and interface endpoints, encrypted flow logs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template

from cdk_mlops.constructs import (
    DEFAULT_INTERFACE_ENDPOINTS,
    STUDIO_REQUIRED_ENDPOINTS,
    Network,
    availability_zones_context,
)
from tests.cdk_mlops.construct_fixtures import arn_of, fresh_stack, logical_id
from tests.cdk_mlops.helpers import new_app

ISOLATED_IDS = ["subnet-0aaa", "subnet-0bbb"]


@dataclass
class Built:
    template: Template
    stack: cdk.Stack
    net: Network

    def resources(self, cfn_type: str) -> dict[str, Any]:
        return dict(self.template.find_resources(cfn_type))

    def sg(self, description_start: str) -> tuple[str, dict[str, Any]]:
        found = {
            lid: r["Properties"]
            for lid, r in self.resources("AWS::EC2::SecurityGroup").items()
            if r["Properties"]["GroupDescription"].startswith(description_start)
        }
        assert len(found) == 1, found
        return next(iter(found.items()))


def _build(make: Any) -> Built:
    stack = cdk.Stack(new_app(), "Test")
    net: Network = make(stack)
    return Built(Template.from_stack(stack), stack, net)


def _existing_vpc(stack: cdk.Stack) -> ec2.IVpc:
    return ec2.Vpc.from_vpc_attributes(
        stack,
        "Existing",
        vpc_id="vpc-0123",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        isolated_subnet_ids=ISOLATED_IDS,
        vpc_cidr_block="10.1.0.0/16",
    )


@pytest.fixture(scope="module")
def default() -> Built:
    return _build(lambda stack: Network(stack, "Net"))


@pytest.fixture(scope="module")
def custom() -> Built:
    return _build(
        lambda stack: Network(
            stack,
            "Net",
            max_azs=1,
            ip_addresses="10.0.0.0/16",
            interface_endpoints=[
                *STUDIO_REQUIRED_ENDPOINTS,
                ec2.InterfaceVpcEndpointAwsService.ECR,
                ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
            ],
            flow_logs_key=kms.Key(stack, "LogsKey", enable_key_rotation=True),
            flow_logs_retention=logs.RetentionDays.ONE_MONTH,
        )
    )


@pytest.fixture(scope="module")
def nat() -> Built:
    return _build(lambda stack: Network(stack, "Net", nat_gateways=1))


@pytest.fixture(scope="module")
def existing() -> Built:
    return _build(lambda stack: Network(stack, "Net", vpc=_existing_vpc(stack)))


@pytest.fixture(scope="module")
def existing_with_endpoints() -> Built:
    return _build(
        lambda stack: Network(
            stack,
            "Net",
            vpc=_existing_vpc(stack),
            interface_endpoints=[ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API],
        )
    )


def _service_name(suffix: str) -> dict[str, Any]:
    return {"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, f".{suffix}"]]}


# ------------------------------------------------------------------ default VPC


def test_vpc_uses_the_default_cidr_and_dns(default: Built) -> None:
    default.template.resource_count_is("AWS::EC2::VPC", 1)
    default.template.has_resource_properties(
        "AWS::EC2::VPC",
        {"CidrBlock": "10.40.0.0/16", "EnableDnsHostnames": True, "EnableDnsSupport": True},
    )


def test_has_no_nat_gateway_and_no_internet_gateway(default: Built) -> None:
    for cfn_type in (
        "AWS::EC2::NatGateway",
        "AWS::EC2::InternetGateway",
        "AWS::EC2::EIP",
        "AWS::EC2::Route",
    ):
        default.template.resource_count_is(cfn_type, 0)


def test_has_only_isolated_subnets_in_two_azs(default: Built) -> None:
    subnets = default.resources("AWS::EC2::Subnet")
    assert len(subnets) == 2
    for subnet in subnets.values():
        props = subnet["Properties"]
        assert props["MapPublicIpOnLaunch"] is False
        assert {"Key": "aws-cdk:subnet-type", "Value": "Isolated"} in props["Tags"]
    assert sorted(s["Properties"]["CidrBlock"] for s in subnets.values()) == [
        "10.40.0.0/22",
        "10.40.4.0/22",
    ]


def test_has_a_free_s3_gateway_endpoint_on_every_route_table(default: Built) -> None:
    tables = sorted(default.resources("AWS::EC2::RouteTable"))
    default.template.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "VpcEndpointType": "Gateway",
            "ServiceName": _service_name("s3"),
            "RouteTableIds": [{"Ref": t} for t in tables],
        },
    )


def test_creates_the_default_interface_endpoints(default: Built) -> None:
    interface = {
        lid: r["Properties"]
        for lid, r in default.resources("AWS::EC2::VPCEndpoint").items()
        if r["Properties"]["VpcEndpointType"] == "Interface"
    }
    names = sorted(p["ServiceName"]["Fn::Join"][1][2] for p in interface.values())
    assert names == [".logs", ".sagemaker.api", ".sagemaker.runtime", ".sts"]
    assert [e.short_name for e in DEFAULT_INTERFACE_ENDPOINTS] == [
        "sagemaker.api",
        "sagemaker.runtime",
        "sts",
        "logs",
    ]


@pytest.mark.parametrize("suffix", ["sagemaker.api", "sagemaker.runtime", "sts", "logs"])
def test_interface_endpoint_is_private_dns_in_isolated_subnets_behind_the_endpoint_sg(
    default: Built, suffix: str
) -> None:
    sg_id, _ = default.sg("Interface endpoints")
    subnets = sorted(default.resources("AWS::EC2::Subnet"))
    default.template.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "ServiceName": _service_name(suffix),
            "VpcEndpointType": "Interface",
            "PrivateDnsEnabled": True,
            "SecurityGroupIds": [{"Fn::GetAtt": [sg_id, "GroupId"]}],
            "SubnetIds": [{"Ref": s} for s in subnets],
        },
    )


def test_endpoint_sg_admits_only_https_from_the_vpc_cidr(default: Built) -> None:
    sg_id, props = default.sg("Interface endpoints")
    assert props["SecurityGroupIngress"] == [
        {
            "CidrIp": "10.40.0.0/16",
            "Description": "HTTPS from the VPC",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    # No extra rules as separate resources, and no egress (CDK's "disallow all" placeholder).
    for cfn_type in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
        for rule in default.resources(cfn_type).values():
            assert rule["Properties"]["GroupId"] != {"Fn::GetAtt": [sg_id, "GroupId"]}
    assert [(r["CidrIp"], r["Description"]) for r in props["SecurityGroupEgress"]] == [
        ("255.255.255.255/32", "Disallow all traffic")
    ]


def test_workload_sg_admits_only_itself_and_sends_only_https_out(default: Built) -> None:
    sg_id, props = default.sg("SageMaker jobs, Studio apps and Glue")
    own = {"Fn::GetAtt": [sg_id, "GroupId"]}
    assert "SecurityGroupIngress" not in props
    assert props["SecurityGroupEgress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTPS to AWS APIs via endpoints and the S3 gateway",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
    default.template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {
            "GroupId": own,
            "SourceSecurityGroupId": own,
            "IpProtocol": "tcp",
            "FromPort": 0,
            "ToPort": 65535,
        },
    )
    default.template.has_resource_properties(
        "AWS::EC2::SecurityGroupEgress",
        {"GroupId": own, "DestinationSecurityGroupId": own, "FromPort": 0, "ToPort": 65535},
    )
    ingress_sources = [
        r["Properties"].get("SourceSecurityGroupId", r["Properties"].get("CidrIp"))
        for r in default.resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == own
    ]
    assert ingress_sources == [own]


def test_default_security_group_is_stripped_of_its_rules(default: Built) -> None:
    vpc_id = logical_id(default.template, "AWS::EC2::VPC", "NetVpc")
    default.template.has_resource_properties(
        "Custom::VpcRestrictDefaultSG",
        {"DefaultSecurityGroupId": {"Fn::GetAtt": [vpc_id, "DefaultSecurityGroup"]}},
    )


def test_flow_logs_capture_all_traffic_to_cloudwatch_logs(default: Built) -> None:
    group = logical_id(default.template, "AWS::Logs::LogGroup", "NetFlowLogs")
    vpc_id = logical_id(default.template, "AWS::EC2::VPC", "NetVpc")
    default.template.has_resource_properties(
        "AWS::EC2::FlowLog",
        {
            "ResourceId": {"Ref": vpc_id},
            "ResourceType": "VPC",
            "TrafficType": "ALL",
            "LogDestinationType": "cloud-watch-logs",
            "LogGroupName": {"Ref": group},
        },
    )


def test_flow_log_group_is_kms_encrypted_kept_a_year_and_retained(default: Built) -> None:
    key = logical_id(default.template, "AWS::KMS::Key", "NetFlowLogsKey")
    default.template.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {"KmsKeyId": arn_of(key), "RetentionInDays": 365},
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )
    default.template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_flow_log_role_may_write_only_to_its_log_group(default: Built) -> None:
    group = logical_id(default.template, "AWS::Logs::LogGroup", "NetFlowLogs")
    default.template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": Match.array_with(["logs:PutLogEvents"]),
                        "Effect": "Allow",
                        "Resource": arn_of(group),
                    }
                ]
            }
        },
    )


def test_default_flow_logs_key_lets_cloudwatch_logs_use_it(default: Built) -> None:
    # Without this statement CreateLogGroup with KmsKeyId fails on deploy.
    key = logical_id(default.template, "AWS::KMS::Key", "NetFlowLogsKey")
    statements = default.template.to_json()["Resources"][key]["Properties"]["KeyPolicy"][
        "Statement"
    ]
    for_logs = [s for s in statements if s.get("Sid") == "AllowCloudWatchLogsOfThisAccount"]
    assert len(for_logs) == 1, statements
    [statement] = for_logs
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {
        "Service": {
            "Fn::Join": ["", ["logs.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"}]]
        }
    }
    assert {"kms:Encrypt*", "kms:GenerateDataKey*", "kms:Decrypt*"} <= set(statement["Action"])
    assert "kms:CreateGrant" not in statement["Action"]
    # Only log groups of this account and region, not any use of the key by the service.
    assert statement["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":logs:",
                        {"Ref": "AWS::Region"},
                        ":",
                        {"Ref": "AWS::AccountId"},
                        ":log-group:*",
                    ],
                ]
            }
        }
    }
    # Besides it only CDK's account-administration statement.
    assert [s.get("Sid") for s in statements if s is not statement] == [None]


def test_exposes_what_it_built(default: Built) -> None:
    net = default.net
    assert net.created_vpc is True
    assert isinstance(net.vpc, ec2.Vpc)
    assert isinstance(net.endpoint_security_group, ec2.SecurityGroup)
    assert isinstance(net.workload_security_group, ec2.SecurityGroup)
    assert isinstance(net.flow_logs_group, logs.LogGroup)
    assert sorted(net.interface_endpoints) == sorted(
        e.short_name for e in DEFAULT_INTERFACE_ENDPOINTS
    )
    assert net.has_interface_endpoint(ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API)
    assert not net.has_interface_endpoint(ec2.InterfaceVpcEndpointAwsService.ECR)
    assert net.subnet_selection.subnet_type == ec2.SubnetType.PRIVATE_ISOLATED
    resolved = default.stack.resolve(net.subnet_ids)
    assert resolved == [{"Ref": s} for s in sorted(default.resources("AWS::EC2::Subnet"))]


# ------------------------------------------------------------------ options


def test_custom_cidr_azs_endpoints_key_and_retention(custom: Built) -> None:
    custom.template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.0.0.0/16"})
    custom.template.resource_count_is("AWS::EC2::Subnet", 1)
    _, props = custom.sg("Interface endpoints")
    assert [r["CidrIp"] for r in props["SecurityGroupIngress"]] == ["10.0.0.0/16"]
    interface = [
        r["Properties"]["ServiceName"]["Fn::Join"][1][2]
        for r in custom.resources("AWS::EC2::VPCEndpoint").values()
        if r["Properties"]["VpcEndpointType"] == "Interface"
    ]
    assert sorted(interface) == [".ecr.api", ".ecr.dkr", ".sagemaker.api", ".sagemaker.runtime"]
    custom.template.resource_count_is("AWS::KMS::Key", 1)
    key = logical_id(custom.template, "AWS::KMS::Key", "LogsKey")
    custom.template.has_resource_properties(
        "AWS::Logs::LogGroup", {"KmsKeyId": arn_of(key), "RetentionInDays": 30}
    )
    assert custom.net.has_interface_endpoint(ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER)


def test_endpoint_ids_are_stable_names_of_the_service(custom: Built) -> None:
    # Construct ids are API: renaming them would replace the endpoints on the next deploy.
    ids = {e.node.id for e in custom.net.interface_endpoints.values()}
    assert ids == {
        "SagemakerApiEndpoint",
        "SagemakerRuntimeEndpoint",
        "EcrApiEndpoint",
        "EcrDkrEndpoint",
    }


def test_nat_gateways_add_public_and_private_subnets(nat: Built) -> None:
    nat.template.resource_count_is("AWS::EC2::NatGateway", 1)
    subnet_types = sorted(
        next(t["Value"] for t in s["Properties"]["Tags"] if t["Key"] == "aws-cdk:subnet-type")
        for s in nat.resources("AWS::EC2::Subnet").values()
    )
    assert subnet_types == ["Private", "Private", "Public", "Public"]
    public = nat.template.find_resources(
        "AWS::EC2::Subnet",
        {
            "Properties": {
                "Tags": Match.array_with([{"Key": "aws-cdk:subnet-type", "Value": "Public"}])
            }
        },
    )
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in public.values())


def test_with_nat_workloads_and_endpoints_use_the_private_subnets(nat: Built) -> None:
    private = sorted(
        nat.template.find_resources(
            "AWS::EC2::Subnet",
            {
                "Properties": {
                    "Tags": Match.array_with([{"Key": "aws-cdk:subnet-type", "Value": "Private"}])
                }
            },
        )
    )
    assert nat.net.subnet_selection.subnet_type == ec2.SubnetType.PRIVATE_WITH_EGRESS
    assert nat.stack.resolve(nat.net.subnet_ids) == [{"Ref": s} for s in private]
    nat.template.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {"ServiceName": _service_name("sts"), "SubnetIds": [{"Ref": s} for s in private]},
    )


# ------------------------------------------------------------------ existing VPC


def test_existing_vpc_gets_no_vpc_endpoints_flow_logs_or_keys(existing: Built) -> None:
    for cfn_type in (
        "AWS::EC2::VPC",
        "AWS::EC2::Subnet",
        "AWS::EC2::VPCEndpoint",
        "AWS::EC2::FlowLog",
        "AWS::Logs::LogGroup",
        "AWS::KMS::Key",
        "AWS::EC2::NatGateway",
    ):
        existing.template.resource_count_is(cfn_type, 0)
    assert existing.net.created_vpc is False
    assert existing.net.endpoint_security_group is None
    assert existing.net.flow_logs_group is None
    assert existing.net.interface_endpoints == {}


def test_existing_vpc_still_gets_the_workload_sg(existing: Built) -> None:
    existing.template.resource_count_is("AWS::EC2::SecurityGroup", 1)
    existing.template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "VpcId": "vpc-0123",
            "GroupDescription": Match.string_like_regexp(r"^SageMaker jobs, Studio apps and Glue"),
        },
    )


def test_existing_vpc_workloads_use_its_isolated_subnets(existing: Built) -> None:
    assert existing.stack.resolve(existing.net.subnet_ids) == ISOLATED_IDS


def test_existing_vpc_gets_endpoints_only_when_asked(existing_with_endpoints: Built) -> None:
    built = existing_with_endpoints
    built.template.resource_count_is("AWS::EC2::VPCEndpoint", 1)
    sg_id, props = built.sg("Interface endpoints")
    built.template.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "ServiceName": _service_name("sagemaker.api"),
            "VpcId": "vpc-0123",
            "SubnetIds": ISOLATED_IDS,
            "SecurityGroupIds": [{"Fn::GetAtt": [sg_id, "GroupId"]}],
        },
    )
    # The existing VPC's CIDR, not the default of a new VPC.
    assert [r["CidrIp"] for r in props["SecurityGroupIngress"]] == ["10.1.0.0/16"]


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize("azs", [0, -1, 7])
def test_fails_when_max_azs_is_outside_1_to_6(azs: int) -> None:
    with pytest.raises(
        ValueError, match=rf"Network: max_azs={azs} is not allowed\. Use 1 to 6 AZs"
    ):
        Network(fresh_stack(), "Net", max_azs=azs)


@pytest.mark.parametrize(("nat", "azs"), [(-1, 2), (3, 2), (2, 1)])
def test_fails_when_nat_gateways_is_negative_or_exceeds_max_azs(nat: int, azs: int) -> None:
    with pytest.raises(
        ValueError, match=rf"nat_gateways={nat} is not allowed\. Use 0 .* up to max_azs={azs}"
    ):
        Network(fresh_stack(), "Net", nat_gateways=nat, max_azs=azs)


def test_fails_when_interface_endpoints_repeat() -> None:
    api = ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API
    pattern = re.escape("interface_endpoints=['sagemaker.api']") + ".*remove the duplicates"
    with pytest.raises(ValueError, match=pattern):
        Network(
            fresh_stack(),
            "Net",
            interface_endpoints=[api, ec2.InterfaceVpcEndpointAwsService.STS, api],
        )


@pytest.mark.parametrize(
    "shape",
    [{"max_azs": 3}, {"nat_gateways": 1}, {"ip_addresses": "10.9.0.0/16"}],
)
def test_fails_when_an_existing_vpc_is_given_new_vpc_settings(shape: dict[str, Any]) -> None:
    stack = fresh_stack()
    vpc = _existing_vpc(stack)
    with pytest.raises(ValueError, match=r"vpc='Test/Existing'.*drop them when passing vpc="):
        Network(stack, "Net", vpc=vpc, **shape)


def test_empty_interface_endpoints_means_none() -> None:
    net = Network(fresh_stack(), "Net", interface_endpoints=[])
    assert net.interface_endpoints == {}
    assert net.endpoint_security_group is None


# ------------------------------------------------------------------ a user's VPC, any CIDR
# Issue 15: an existing VPC whose CIDR is a token (another stack's VPC, a CIDR from SSM) broke
# cdk-nag's ingress rules; the endpoints now admit the workload security group instead.

ACCOUNT_ENV = cdk.Environment(account="111111111111", region="eu-west-1")
TWO_ENDPOINTS = [
    ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
    ec2.InterfaceVpcEndpointAwsService.STS,
]
LOOKUP_KEY = (
    "vpc-provider:account=111111111111:filter.vpc-id=vpc-0abc0abc0abc0abc0:region=eu-west-1:"
    "returnAsymmetricSubnets=true"
)
LOOKUP_VALUE = {
    "vpcId": "vpc-0abc0abc0abc0abc0",
    "vpcCidrBlock": "10.7.0.0/16",
    "availabilityZones": [],
    "subnetGroups": [
        {
            "name": "Isolated",
            "type": "Isolated",
            "subnets": [
                {
                    "subnetId": f"subnet-0{az}{az}{az}{az}{az}{az}{az}{az}",
                    "cidr": f"10.7.{i}.0/24",
                    "availabilityZone": f"eu-west-1{az}",
                    "routeTableId": f"rtb-0{az * 8}",
                }
                for i, az in enumerate("ab")
            ],
        }
    ],
}


def _token_cidr_vpc(stack: cdk.Stack) -> ec2.IVpc:
    """A VPC imported by id whose CIDR comes from an SSM parameter (a token at synth time)."""
    from aws_cdk import aws_ssm as ssm

    return ec2.Vpc.from_vpc_attributes(
        stack,
        "Imported",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        isolated_subnet_ids=ISOLATED_IDS,
        isolated_subnet_route_table_ids=["rtb-0aaaaaaaa", "rtb-0bbbbbbbb"],
        vpc_cidr_block=ssm.StringParameter.value_for_string_parameter(stack, "/network/cidr"),
    )


def _violations(outdir: str) -> list[tuple[str, str]]:
    import json
    from pathlib import Path

    report = Path(outdir) / "validation-report.json"
    if not report.exists():
        return []
    return [
        (v["ruleName"], c["constructPath"])
        for p in json.loads(report.read_text())["pluginReports"]
        for v in p["violations"]
        for c in v["violatingConstructs"]
        if not v["ruleName"].startswith("Annotation::")
    ]


@dataclass
class UserApp:
    outdir: str
    templates: dict[str, Template]
    nets: dict[str, Network]


@pytest.fixture(scope="module")
def user_app(tmp_path_factory: pytest.TempPathFactory) -> UserApp:
    """One app with every cdk-nag pack: a VPC of the user's own in one stack, hardened with
    VpcHardening, and Networks with endpoints on a VPC from that stack, on a token CIDR and on
    Vpc.from_lookup (its context supplied, so no AWS call)."""
    from cdk_mlops.compliance import add_compliance_checks
    from cdk_mlops.constructs import VpcHardening

    outdir = str(tmp_path_factory.mktemp("user-vpc"))
    app = new_app(outdir=outdir, **{LOOKUP_KEY: LOOKUP_VALUE})
    add_compliance_checks(app)
    shared = cdk.Stack(app, "SharedNetwork", env=ACCOUNT_ENV)
    vpc = ec2.Vpc(
        shared,
        "Vpc",
        ip_addresses=ec2.IpAddresses.cidr("10.9.0.0/16"),
        availability_zones=["eu-west-1a", "eu-west-1b"],
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
        restrict_default_security_group=True,
    )
    VpcHardening(shared, "VpcHardening", vpc=vpc)
    nets: dict[str, Network] = {}
    other = cdk.Stack(app, "OtherStackVpc", env=ACCOUNT_ENV)
    nets["other"] = Network(other, "Net", vpc=vpc, interface_endpoints=TWO_ENDPOINTS)
    token = cdk.Stack(app, "TokenCidr", env=ACCOUNT_ENV)
    nets["token"] = Network(
        token, "Net", vpc=_token_cidr_vpc(token), interface_endpoints=TWO_ENDPOINTS
    )
    looked = cdk.Stack(app, "Lookup", env=ACCOUNT_ENV)
    nets["lookup"] = Network(
        looked,
        "Net",
        vpc=ec2.Vpc.from_lookup(looked, "Vpc", vpc_id="vpc-0abc0abc0abc0abc0"),
        interface_endpoints=TWO_ENDPOINTS,
    )
    app.synth()  # raises on any unacknowledged finding
    stacks = {"shared": shared, "other": other, "token": token, "lookup": looked}
    return UserApp(outdir, {k: Template.from_stack(s) for k, s in stacks.items()}, nets)


def test_user_vpcs_with_endpoints_pass_every_nag_pack(user_app: UserApp) -> None:
    assert _violations(user_app.outdir) == []


@pytest.mark.parametrize("case", ["other", "token"])
def test_endpoints_on_a_vpc_with_a_token_cidr_admit_the_workload_sg(
    user_app: UserApp, case: str
) -> None:
    template = user_app.templates[case]
    net = user_app.nets[case]
    stack = cdk.Stack.of(net)
    endpoint_sg = stack.resolve(net.endpoint_security_group.security_group_id)  # type: ignore[union-attr]
    workload_sg = stack.resolve(net.workload_security_group.security_group_id)
    sg_props = template.to_json()["Resources"][endpoint_sg["Fn::GetAtt"][0]]["Properties"]
    assert "SecurityGroupIngress" not in sg_props  # no CIDR rule built from the token
    rules = [
        r["Properties"]
        for r in template.find_resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == endpoint_sg
    ]
    assert rules == [
        {
            "Description": "HTTPS from ML workloads",
            "FromPort": 443,
            "GroupId": endpoint_sg,
            "IpProtocol": "tcp",
            "SourceSecurityGroupId": workload_sg,
            "ToPort": 443,
        }
    ]
    template.resource_count_is("AWS::EC2::VPCEndpoint", 2)


def test_a_vpc_from_another_stack_is_referenced_across_stacks(user_app: UserApp) -> None:
    endpoint = next(
        iter(user_app.templates["other"].find_resources("AWS::EC2::VPCEndpoint").values())
    )
    # A weak reference to the other stack's output (cdk.json: defaultCrossStackReferences).
    assert endpoint["Properties"]["VpcId"]["Fn::GetStackOutput"]["StackName"] == "SharedNetwork"


def test_endpoints_on_a_looked_up_vpc_admit_its_cidr(user_app: UserApp) -> None:
    template = user_app.templates["lookup"]
    found = template.find_resources(
        "AWS::EC2::SecurityGroup",
        {"Properties": {"GroupDescription": Match.string_like_regexp("^Interface endpoints")}},
    )
    [props] = [r["Properties"] for r in found.values()]
    assert [(r["CidrIp"], r["FromPort"]) for r in props["SecurityGroupIngress"]] == [
        ("10.7.0.0/16", 443)
    ]
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {"VpcId": "vpc-0abc0abc0abc0abc0", "SubnetIds": ["subnet-0aaaaaaaa", "subnet-0bbbbbbbb"]},
    )


def test_hardened_user_vpc_has_a_closed_default_sg_and_encrypted_flow_logs(
    user_app: UserApp,
) -> None:
    template = user_app.templates["shared"]
    template.resource_count_is("Custom::VpcRestrictDefaultSG", 1)
    template.has_resource_properties(
        "AWS::EC2::FlowLog", {"TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"}
    )
    template.has_resource(
        "AWS::Logs::LogGroup",
        {"Properties": {"RetentionInDays": 365, "KmsKeyId": Match.any_value()}},
    )
    handler = next(
        r
        for lid, r in template.to_json()["Resources"].items()
        if lid.startswith("CustomVpcRestrictDefaultSGCustomResourceProviderHandler")
    )
    assert handler["Metadata"]["cfn-lint"] == {"config": {"ignore_checks": ["W3005"]}}
    assert [s["id"] for s in handler["Metadata"]["checkov"]["skip"]] == [
        "CKV_AWS_115",
        "CKV_AWS_116",
        "CKV_AWS_117",
        "CKV_AWS_173",
    ]


def test_user_vpc_stacks_pass_cfn_lint_and_checkov(user_app: UserApp) -> None:
    from pathlib import Path

    from cdk_mlops.checks import cfn_lint, checkov, stack_templates
    from tests.cdk_mlops.helpers import ROOT

    exe = ROOT / ".venv-checkov" / "bin" / "checkov"
    if not exe.exists():
        pytest.fail(f"checkov is not installed at {exe}; run 'make deps' (it has its own venv)")
    templates = stack_templates(Path(user_app.outdir))
    assert set(templates) == {"SharedNetwork", "OtherStackVpc", "TokenCidr", "Lookup"}
    lint = {s: cfn_lint(t) for s, t in templates.items()}
    # The SSM parameter of the token CIDR is no longer used by anything (W2001): a user who
    # passed the CIDR only for Network can drop it (test_endpoints_need_no_cidr).
    assert [line.split()[0] for line in lint.pop("TokenCidr")] == ["W2001"]
    assert lint == {s: [] for s in lint}
    failed = {t.name: f for t, (f, _) in checkov(list(templates.values()), str(exe)).items()}
    assert failed == {t.name: [] for t in templates.values()}


# ------------------------------------------------------------------ endpoint_peers


def test_endpoint_peers_are_admitted_besides_the_vpc() -> None:
    def make(stack: cdk.Stack) -> Network:
        vpc = _existing_vpc(stack)
        clients = ec2.SecurityGroup(stack, "Clients", vpc=vpc)
        return Network(
            stack,
            "Net",
            vpc=vpc,
            interface_endpoints=TWO_ENDPOINTS,
            endpoint_peers=[clients, ec2.Peer.ipv4("192.168.0.0/24")],
        )

    built = _build(make)
    sg_id, props = built.sg("Interface endpoints")
    assert [r["CidrIp"] for r in props["SecurityGroupIngress"]] == [
        "10.1.0.0/16",
        "192.168.0.0/24",
    ]
    clients = logical_id(built.template, "AWS::EC2::SecurityGroup", "Clients")
    built.template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {
            "GroupId": {"Fn::GetAtt": [sg_id, "GroupId"]},
            "SourceSecurityGroupId": {"Fn::GetAtt": [clients, "GroupId"]},
            "FromPort": 443,
            "ToPort": 443,
        },
    )


def test_fails_when_an_endpoint_peer_has_a_token_cidr() -> None:
    stack = fresh_stack()
    vpc = _token_cidr_vpc(stack)
    with pytest.raises(
        ValueError,
        match=r"Network at Test/Net: endpoint_peers=.a peer with CIDR \{'Ref': .*cdk-nag cannot "
        r"check a CIDR that is a token.*the CIDR as a literal string",
    ):
        Network(
            stack,
            "Net",
            vpc=vpc,
            interface_endpoints=TWO_ENDPOINTS,
            endpoint_peers=[ec2.Peer.ipv4(vpc.vpc_cidr_block)],
        )


@pytest.mark.parametrize("peer", [ec2.Peer.any_ipv4(), ec2.Peer.any_ipv6()])
def test_fails_when_an_endpoint_peer_is_the_internet(peer: ec2.IPeer) -> None:
    with pytest.raises(
        ValueError,
        match=r"endpoint_peers='(0\.0\.0\.0/0|::/0)' is not allowed.*not the whole internet",
    ):
        Network(fresh_stack(), "Net", endpoint_peers=[peer])


# ------------------------------------------------------------------ availability zones


def _missing_context(app: cdk.App) -> list[str]:
    import json
    from pathlib import Path

    manifest = json.loads((Path(app.synth().directory) / "manifest.json").read_text())
    return [m["key"] for m in manifest.get("missing", [])]


EU_WEST_1_ZONES: dict[str, Any] = availability_zones_context(
    account="111111111111", region="eu-west-1", zones=["eu-west-1a", "eu-west-1b", "eu-west-1c"]
)


def test_availability_zones_context_is_the_entry_cdk_looks_up() -> None:
    # The key CDK reports as missing (see the next test) is the one the helper writes.
    assert EU_WEST_1_ZONES == {
        "availability-zones:account=111111111111:region=eu-west-1": [
            "eu-west-1a",
            "eu-west-1b",
            "eu-west-1c",
        ]
    }


def test_a_named_account_needs_the_az_lookup_without_the_context_entry() -> None:
    # Also with explicit zones: aws-cdk-lib checks them against the account's list. The CLI
    # would call AWS to fill this in; a cdk.context.json entry answers it offline.
    for zones in (None, ["eu-west-1a"]):
        app = new_app()
        Network(cdk.Stack(app, "Named", env=ACCOUNT_ENV), "Net", availability_zones=zones)
        assert _missing_context(app) == list(EU_WEST_1_ZONES)


def test_explicit_zones_with_the_context_entry_need_no_lookup() -> None:
    app = new_app(**EU_WEST_1_ZONES)
    stack = cdk.Stack(app, "Named", env=ACCOUNT_ENV)
    Network(stack, "Net", availability_zones=["eu-west-1a", "eu-west-1c"])
    assert _missing_context(app) == []
    subnets = Template.from_stack(stack).find_resources("AWS::EC2::Subnet")
    assert sorted(s["Properties"]["AvailabilityZone"] for s in subnets.values()) == [
        "eu-west-1a",
        "eu-west-1c",
    ]


def test_level_1_takes_explicit_zones() -> None:
    from cdk_mlops.levels import InitialLevel, InitialSettings

    app = new_app(**EU_WEST_1_ZONES)
    stack = cdk.Stack(app, "Named", env=ACCOUNT_ENV)
    InitialLevel(stack, "Level1", InitialSettings(availability_zones=["eu-west-1b"]))
    assert _missing_context(app) == []
    Template.from_stack(stack).has_resource_properties(
        "AWS::EC2::Subnet", {"AvailabilityZone": "eu-west-1b"}
    )


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"account": "1234"}, r"account='1234' is not allowed\. Pass the literal 12-digit account"),
        ({"region": "Ireland"}, r"region='Ireland' is not allowed"),
        ({"zones": []}, r"zones=\[\] is not allowed\. Pass one or more zones of eu-west-1"),
        ({"zones": ["us-east-1a"]}, r"zones=\['us-east-1a'\] is not allowed"),
    ],
)
def test_fails_when_availability_zones_context_gets_a_bad_value(
    kwargs: dict[str, Any], pattern: str
) -> None:
    args: dict[str, Any] = {
        "account": "111111111111",
        "region": "eu-west-1",
        "zones": ["eu-west-1a"],
        **kwargs,
    }
    with pytest.raises(ValueError, match=rf"^availability_zones_context: {pattern}"):
        availability_zones_context(**args)


@pytest.mark.parametrize(
    ("zones", "detail"),
    [
        ([], r"availability_zones=\[\] is not allowed"),
        ([f"eu-west-1{c}" for c in "abcdefg"], r"availability_zones=\[.*\] is not allowed"),
        (["eu-west-1a", "eu-west-1a"], r"availability_zones=\['eu-west-1a', 'eu-west-1a'\]"),
        (["us-east-1a"], r"'us-east-1a' is not a zone of the stack's region \(eu-west-1\)"),
        (["1a"], r"'1a' is not a zone of the stack's region"),
    ],
)
def test_fails_when_availability_zones_are_not_1_to_6_distinct_zones_of_the_region(
    zones: list[str], detail: str
) -> None:
    stack = cdk.Stack(new_app(), "Named", env=ACCOUNT_ENV)
    with pytest.raises(ValueError, match=rf"Network at Named/Net: .*{detail}.*distinct zones"):
        Network(stack, "Net", availability_zones=zones)


def test_fails_when_availability_zones_and_max_azs_are_both_given() -> None:
    with pytest.raises(ValueError, match=r"max_azs=3 is not allowed\. availability_zones sets"):
        Network(fresh_stack(), "Net", availability_zones=["eu-west-1a"], max_azs=3)


def test_fails_when_an_existing_vpc_is_given_zones() -> None:
    stack = fresh_stack()
    with pytest.raises(ValueError, match=r"vpc='Test/Existing'.*availability_zones"):
        Network(stack, "Net", vpc=_existing_vpc(stack), availability_zones=["eu-west-1a"])


# ------------------------------------------------------------------ hardening helpers


def test_fails_to_close_the_default_sg_of_an_imported_vpc() -> None:
    from cdk_mlops.constructs import close_default_security_group

    stack = fresh_stack()
    with pytest.raises(
        ValueError,
        match=r"close_default_security_group: vpc='Test/Existing' is not allowed\. The VPC is "
        r"imported.*in the app that creates it",
    ):
        close_default_security_group(_existing_vpc(stack))


def test_fails_to_close_the_default_sg_of_a_vpc_that_keeps_its_rules() -> None:
    from cdk_mlops.constructs import VpcHardening

    stack = fresh_stack()
    vpc = ec2.Vpc(stack, "Vpc", restrict_default_security_group=False)
    with pytest.raises(
        ValueError,
        match=r"vpc='Test/Vpc' is not allowed\. Its default security group keeps its rules.*"
        r"restrict_default_security_group=True",
    ):
        VpcHardening(stack, "Hardening", vpc=vpc)


def test_vpc_hardening_without_flow_logs_adds_none() -> None:
    from cdk_mlops.constructs import VpcHardening

    stack = fresh_stack()
    vpc = ec2.Vpc(stack, "Vpc", restrict_default_security_group=True, nat_gateways=0)
    hardening = VpcHardening(stack, "Hardening", vpc=vpc, flow_logs=False)
    assert hardening.flow_logs_group is None
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::EC2::FlowLog", 0)
    template.resource_count_is("Custom::VpcRestrictDefaultSG", 1)


def test_fails_when_vpc_hardening_gets_a_key_without_flow_logs() -> None:
    from cdk_mlops.constructs import VpcHardening

    stack = fresh_stack()
    vpc = ec2.Vpc(stack, "Vpc", restrict_default_security_group=True, nat_gateways=0)
    key = kms.Key(stack, "Key")
    with pytest.raises(
        ValueError, match=r"VpcHardening at Test/Hardening: flow_logs_key='Test/Key'.*drop one"
    ):
        VpcHardening(stack, "Hardening", vpc=vpc, flow_logs=False, flow_logs_key=key)


def test_endpoints_need_no_cidr() -> None:
    def make(stack: cdk.Stack) -> Network:
        vpc = ec2.Vpc.from_vpc_attributes(
            stack,
            "NoCidr",
            vpc_id="vpc-0123",
            availability_zones=["eu-west-1a", "eu-west-1b"],
            isolated_subnet_ids=ISOLATED_IDS,
        )
        return Network(stack, "Net", vpc=vpc, interface_endpoints=TWO_ENDPOINTS)

    built = _build(make)
    _, props = built.sg("Interface endpoints")
    assert "SecurityGroupIngress" not in props
    built.template.has_resource_properties(
        "AWS::EC2::SecurityGroupIngress",
        {"Description": "HTTPS from ML workloads", "FromPort": 443, "ToPort": 443},
    )
