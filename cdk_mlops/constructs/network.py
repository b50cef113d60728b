"""A private VPC for ML work: isolated subnets, no NAT by default, endpoints, encrypted flow logs."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_mlops.compliance import acknowledge_inline_policy, checkov_skip
from cdk_mlops.constructs._util import prop_error
from cdk_mlops.constructs.encryption import allow_cloudwatch_logs
from cdk_mlops.constructs.interfaces import JobNetwork

#: Interface endpoints SageMaker Studio needs in VPC-only mode (without them notebooks cannot
#: reach the SageMaker API or invoke endpoints). S3 always has a free gateway endpoint.
STUDIO_REQUIRED_ENDPOINTS: tuple[ec2.InterfaceVpcEndpointAwsService, ...] = (
    ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
    ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
)

#: The default interface endpoints: what Studio needs, plus STS (role sessions from notebooks
#: and jobs) and CloudWatch Logs (job and notebook logs). Each costs about USD 0.01 an hour per AZ.
DEFAULT_INTERFACE_ENDPOINTS: tuple[ec2.InterfaceVpcEndpointAwsService, ...] = (
    *STUDIO_REQUIRED_ENDPOINTS,
    ec2.InterfaceVpcEndpointAwsService.STS,
    ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
)


class Network(Construct):
    """A VPC with isolated subnets, endpoints and KMS-encrypted flow logs.

    Secure, cheap-at-idle defaults: two AZs of isolated subnets and no NAT gateway (traffic to AWS
    goes through endpoints), a free S3 gateway endpoint, the interface endpoints listed in
    ``interface_endpoints`` behind a security group that admits HTTPS from the VPC only, and
    flow logs of all traffic to a KMS-encrypted CloudWatch log group kept for a year.

    ``workload_security_group`` is for SageMaker jobs, Studio apps and Glue connections: it admits
    traffic from itself only (Studio's EFS mount, distributed training) and sends HTTPS out, which
    in isolated subnets reaches only the endpoints and the S3 gateway.

    :param vpc: use this VPC instead of creating one. Endpoints are then created only when
        ``interface_endpoints`` is passed explicitly (the VPC may already have them).
    :param max_azs: AZs for a new VPC. Default 2.
    :param ip_addresses: CIDR of a new VPC. Default ``10.40.0.0/16``.
    :param nat_gateways: NAT gateways for a new VPC. Default 0 (isolated subnets only); more
        adds public and private-with-egress subnets, and costs money every hour.
    :param interface_endpoints: interface endpoints to create. Default
        ``DEFAULT_INTERFACE_ENDPOINTS``.
    :param flow_logs_key: KMS key of the flow log group; its policy must admit CloudWatch Logs
        (``EncryptionKeys.logs_key`` or ``allow_cloudwatch_logs(key)``). Default: a new key that does.
    :param flow_logs_retention: default one year.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc | None = None,
        max_azs: int = 2,
        ip_addresses: str = "10.40.0.0/16",
        nat_gateways: int = 0,
        interface_endpoints: Sequence[ec2.InterfaceVpcEndpointAwsService] | None = None,
        flow_logs_key: kms.IKey | None = None,
        flow_logs_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        super().__init__(scope, construct_id)
        if not 1 <= max_azs <= 6:
            raise prop_error("Network", "max_azs", max_azs, "Use 1 to 6 AZs (2 is the default).")
        if nat_gateways < 0 or nat_gateways > max_azs:
            raise prop_error(
                "Network",
                "nat_gateways",
                nat_gateways,
                f"Use 0 (the default, no internet egress) up to max_azs={max_azs}.",
            )
        if vpc is not None and (nat_gateways or ip_addresses != "10.40.0.0/16" or max_azs != 2):
            raise prop_error(
                "Network",
                "vpc",
                vpc.node.path,
                "max_azs, ip_addresses and nat_gateways shape a new VPC; drop them when passing vpc=",
            )
        endpoints = (
            tuple(interface_endpoints)
            if interface_endpoints is not None
            else (() if vpc is not None else DEFAULT_INTERFACE_ENDPOINTS)
        )
        names = [e.short_name for e in endpoints]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise prop_error(
                "Network",
                "interface_endpoints",
                dupes,
                "Each endpoint may appear once; remove the duplicates.",
            )

        self.created_vpc = vpc is None
        if vpc is None:
            subnets = [
                ec2.SubnetConfiguration(
                    name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22
                )
            ]
            if nat_gateways:
                subnets = [
                    ec2.SubnetConfiguration(
                        name="Public",
                        subnet_type=ec2.SubnetType.PUBLIC,
                        cidr_mask=24,
                        map_public_ip_on_launch=False,
                    ),
                    ec2.SubnetConfiguration(
                        name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                    ),
                ]
            new_vpc = ec2.Vpc(
                self,
                "Vpc",
                ip_addresses=ec2.IpAddresses.cidr(ip_addresses),
                max_azs=max_azs,
                nat_gateways=nat_gateways,
                subnet_configuration=subnets,
                enable_dns_hostnames=True,
                enable_dns_support=True,
                restrict_default_security_group=True,
                gateway_endpoints={
                    "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
                },
            )
            self.flow_logs_group = logs.LogGroup(
                self,
                "FlowLogs",
                encryption_key=flow_logs_key or self._flow_logs_key(),
                retention=flow_logs_retention,
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            flow_log = new_vpc.add_flow_log(
                "FlowLog",
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_logs_group),
                traffic_type=ec2.FlowLogTrafficType.ALL,
            )
            acknowledge_inline_policy(
                flow_log.node.find_child("IAMRole").node.find_child("DefaultPolicy"),
                "VPC flow logs",
            )
            _mark_cdk_default_sg_provider(self)
            vpc = new_vpc
        self.vpc: ec2.IVpc = vpc
        self.subnet_selection = (
            ec2.SubnetSelection(
                subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                if nat_gateways
                else ec2.SubnetType.PRIVATE_ISOLATED
            )
            if self.created_vpc
            else ec2.SubnetSelection(subnets=vpc.private_subnets or vpc.isolated_subnets)
        )

        self.workload_security_group = ec2.SecurityGroup(
            self,
            "WorkloadSecurityGroup",
            vpc=vpc,
            description="SageMaker jobs, Studio apps and Glue: traffic among themselves, HTTPS out",
            allow_all_outbound=False,
        )
        self.workload_security_group.add_ingress_rule(
            self.workload_security_group,
            ec2.Port.all_tcp(),
            "Studio EFS, app-to-app and distributed training",
        )
        self.workload_security_group.add_egress_rule(
            self.workload_security_group,
            ec2.Port.all_tcp(),
            "Studio EFS, app-to-app and distributed training",
        )
        # Isolated subnets have no route out except the endpoints and the S3 gateway (whose
        # prefix list is region-specific and needs a lookup), so HTTPS to anywhere reaches AWS only.
        self.workload_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(),
            ec2.Port.tcp(443),
            "HTTPS to AWS APIs via endpoints and the S3 gateway",
        )

        self.endpoint_security_group: ec2.SecurityGroup | None = None
        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        if endpoints:
            self.endpoint_security_group = ec2.SecurityGroup(
                self,
                "EndpointSecurityGroup",
                vpc=vpc,
                description="Interface endpoints: HTTPS from the VPC only",
                allow_all_outbound=False,
            )
            # A literal CIDR for a VPC we created keeps the rule checkable by cdk-nag.
            cidr = ip_addresses if self.created_vpc else vpc.vpc_cidr_block
            self.endpoint_security_group.add_ingress_rule(
                ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), "HTTPS from the VPC"
            )
            for service in endpoints:
                self.interface_endpoints[service.short_name] = vpc.add_interface_endpoint(
                    _endpoint_id(service.short_name),
                    service=service,
                    subnets=self.subnet_selection,
                    security_groups=[self.endpoint_security_group],
                    private_dns_enabled=True,
                    open=False,
                )

    def _flow_logs_key(self) -> kms.Key:
        key = kms.Key(
            self, "FlowLogsKey", description="cdk-mlops flow logs", enable_key_rotation=True
        )
        allow_cloudwatch_logs(key)
        return key

    def has_interface_endpoint(self, service: ec2.InterfaceVpcEndpointAwsService) -> bool:
        """True when this construct created an interface endpoint for ``service``."""
        return service.short_name in self.interface_endpoints

    @property
    def subnet_ids(self) -> list[str]:
        """IDs of the subnets ML workloads run in."""
        return self.job_network.subnet_ids

    @property
    def job_network(self) -> JobNetwork:
        """The VPC, subnets and workload security group, for constructs that run jobs or Studio.

        Its ``interface_endpoints`` are those this construct created: the complete list for a
        VPC it created; an existing VPC may have endpoints of its own.
        """
        return JobNetwork(
            vpc=self.vpc,
            subnets=self.subnet_selection,
            security_groups=[self.workload_security_group],
            interface_endpoints=frozenset(self.interface_endpoints),
            all_interface_endpoints_known=self.created_vpc,
        )


def _endpoint_id(short_name: str) -> str:
    return (
        "".join(part.capitalize() for part in short_name.replace("-", ".").split(".")) + "Endpoint"
    )


def _mark_cdk_default_sg_provider(scope: Construct) -> None:
    """Document CDK's singleton provider that strips the default security group's rules.

    It is CDK's own code (a stack-level singleton), so the notes go on its resources here.
    """
    provider = cdk.Stack.of(scope).node.try_find_child(
        "Custom::VpcRestrictDefaultSGCustomResourceProvider"
    )
    if provider is None:
        return
    handler = provider.node.find_child("Handler")
    role = provider.node.find_child("Role")
    assert isinstance(handler, cdk.CfnResource) and isinstance(role, cdk.CfnResource)
    # cfn-lint W3005: CDK adds a DependsOn on the role that the handler's GetAtt already implies.
    handler.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
    for check_id, comment in (
        (
            "CKV_AWS_115",
            "CDK's one-shot deploy-time handler that removes the default security group's rules; it runs only during deployments and needs no reserved concurrency.",
        ),
        (
            "CKV_AWS_116",
            "Deploy-time CloudFormation handler: CloudFormation retries failures itself, so a dead-letter queue would stay empty.",
        ),
        (
            "CKV_AWS_117",
            "The handler calls the EC2 API while the VPC is built; isolated subnets have no EC2 endpoint, so it runs outside the VPC.",
        ),
        ("CKV_AWS_173", "The handler has no environment variables to encrypt."),
    ):
        checkov_skip(handler, check_id, comment)
