"""A private VPC for ML work: isolated subnets, no NAT by default, endpoints, encrypted flow logs."""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_mlops.constructs._util import check_prop, is_token, prop_error
from cdk_mlops.constructs.interfaces import JobNetwork
from cdk_mlops.constructs.vpc_hardening import close_default_security_group, encrypted_flow_logs

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
    ``interface_endpoints`` behind a security group that admits HTTPS from inside the VPC only,
    the default security group closed, and flow logs of all traffic to a KMS-encrypted
    CloudWatch log group kept for a year.

    ``workload_security_group`` is for SageMaker jobs, Studio apps and Glue connections: it admits
    traffic from itself only (Studio's EFS mount, distributed training) and sends HTTPS out, which
    in isolated subnets reaches only the endpoints and the S3 gateway.

    :param vpc: use this VPC instead of creating one. Endpoints are then created only when
        ``interface_endpoints`` is passed explicitly (the VPC may already have them).
    :param max_azs: AZs for a new VPC, picked from the region's zones. Default 2. In a stack
        with a concrete ``env`` the zones are looked up (AWS credentials, or a
        ``cdk.context.json`` entry); ``availability_zones`` avoids that.
    :param availability_zones: the zones of a new VPC, e.g. ``["eu-west-1a", "eu-west-1b"]``
        (1 to 6, in the stack's region), instead of ``max_azs``: synthesis then needs no AWS
        call even in a stack with a named account. Default: ``max_azs`` zones of the region.
    :param ip_addresses: CIDR of a new VPC. Default ``10.40.0.0/16``.
    :param nat_gateways: NAT gateways for a new VPC. Default 0 (isolated subnets only); more
        adds public and private-with-egress subnets, and costs money every hour.
    :param interface_endpoints: interface endpoints to create. Default
        ``DEFAULT_INTERFACE_ENDPOINTS``.
    :param endpoint_peers: who else may reach the interface endpoints over HTTPS, e.g. the
        security group of your own instances (``ec2.Peer.security_group_id(...)`` or an
        ``ec2.SecurityGroup``) or a literal CIDR (``ec2.Peer.ipv4("10.1.0.0/16")``). The
        endpoints always admit the VPC's CIDR when it is known at synth time (a VPC this
        construct creates, ``Vpc.from_lookup``, a literal ``vpc_cidr_block``); when the CIDR is
        a token (another stack's VPC, a CIDR from an SSM parameter) or not given they admit
        ``workload_security_group`` instead, plus these peers. With private DNS the endpoints
        answer for the whole VPC, so list here whatever else in it calls these services.
        Default none.
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
        availability_zones: Sequence[str] | None = None,
        ip_addresses: str = "10.40.0.0/16",
        nat_gateways: int = 0,
        interface_endpoints: Sequence[ec2.InterfaceVpcEndpointAwsService] | None = None,
        endpoint_peers: Sequence[ec2.IPeer] = (),
        flow_logs_key: kms.IKey | None = None,
        flow_logs_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        super().__init__(scope, construct_id)
        if not 1 <= max_azs <= 6:
            raise prop_error("Network", "max_azs", max_azs, "Use 1 to 6 AZs (2 is the default).")
        zones = None if availability_zones is None else list(availability_zones)
        if zones is not None:
            self._check_availability_zones(zones, max_azs)
            max_azs = len(zones)
        if nat_gateways < 0 or nat_gateways > max_azs:
            raise prop_error(
                "Network",
                "nat_gateways",
                nat_gateways,
                f"Use 0 (the default, no internet egress) up to max_azs={max_azs}.",
            )
        if vpc is not None and (
            nat_gateways or ip_addresses != "10.40.0.0/16" or max_azs != 2 or zones is not None
        ):
            raise prop_error(
                "Network",
                "vpc",
                vpc.node.path,
                "max_azs, availability_zones, ip_addresses and nat_gateways shape a new VPC; "
                "drop them when passing vpc=",
            )
        peers = list(endpoint_peers)
        for peer in peers:
            self._check_endpoint_peer(peer)
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
        #: The flow log group of a VPC this construct created; None for your own VPC.
        self.flow_logs_group: logs.LogGroup | None = None
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
                # Explicit zones need no lookup; max_azs alone looks them up for a named account.
                max_azs=None if zones else max_azs,
                availability_zones=zones,
                nat_gateways=nat_gateways,
                subnet_configuration=subnets,
                enable_dns_hostnames=True,
                enable_dns_support=True,
                restrict_default_security_group=True,
                gateway_endpoints={
                    "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
                },
            )
            self.flow_logs_group = encrypted_flow_logs(
                self, new_vpc, key=flow_logs_key, retention=flow_logs_retention
            )
            close_default_security_group(new_vpc)
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
            # cdk-nag's ingress rules cannot evaluate a CIDR token (they throw), so a VPC whose
            # CIDR is unknown at synth time admits the workload security group instead.
            cidr = ip_addresses if self.created_vpc else _cidr_of(vpc)
            if cidr is None or is_token(cidr):
                self.endpoint_security_group.add_ingress_rule(
                    self.workload_security_group, ec2.Port.tcp(443), "HTTPS from ML workloads"
                )
            else:
                self.endpoint_security_group.add_ingress_rule(
                    ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), "HTTPS from the VPC"
                )
            for peer in peers:
                self.endpoint_security_group.add_ingress_rule(
                    peer, ec2.Port.tcp(443), "HTTPS from a peer given in endpoint_peers"
                )
            for service in endpoints:
                self.interface_endpoints[service.short_name] = self._interface_endpoint(
                    vpc, service, self.endpoint_security_group
                )

    def _interface_endpoint(
        self,
        vpc: ec2.IVpc,
        service: ec2.InterfaceVpcEndpointAwsService,
        security_group: ec2.ISecurityGroup,
    ) -> ec2.InterfaceVpcEndpoint:
        endpoint_id = _endpoint_id(service.short_name)
        if self.created_vpc:
            return vpc.add_interface_endpoint(
                endpoint_id,
                service=service,
                subnets=self.subnet_selection,
                security_groups=[security_group],
                private_dns_enabled=True,
                open=False,
            )
        # Under this construct, so a VPC from another stack stays untouched (its stack would
        # otherwise hold endpoints that reference this stack's security group: a cycle).
        return ec2.InterfaceVpcEndpoint(
            self,
            endpoint_id,
            vpc=vpc,
            service=service,
            subnets=self.subnet_selection,
            security_groups=[security_group],
            private_dns_enabled=True,
            open=False,
        )

    def _check_availability_zones(self, zones: list[str], max_azs: int) -> None:
        fix = (
            'Pass 1 to 6 distinct zones of the stack\'s region, e.g. ["eu-west-1a", "eu-west-1b"].'
        )
        check_prop(self, "availability_zones", zones, 1 <= len(zones) <= 6, fix)
        check_prop(self, "availability_zones", zones, len(set(zones)) == len(zones), fix)
        check_prop(
            self,
            "max_azs",
            max_azs,
            max_azs == 2,
            "availability_zones sets the number of zones; drop max_azs.",
        )
        region = cdk.Stack.of(self).region
        for zone in zones:
            check_prop(
                self,
                "availability_zones",
                zones,
                is_token(zone)
                or (
                    bool(re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d+[a-z](-[a-z0-9]+)?", zone))
                    and (is_token(region) or zone.startswith(region))
                ),
                f"{zone!r} is not a zone of the stack's region "
                f"({'any' if is_token(region) else region}). {fix}",
            )

    def _check_endpoint_peer(self, peer: ec2.IPeer) -> None:
        rule = peer.to_ingress_rule_config()
        cidr = rule.cidr_ip or rule.cidr_ipv6
        if cidr is None:
            return
        if is_token(cidr):
            # A token as the value would be skipped by check_prop: name it as resolved instead.
            raise prop_error(
                self,
                "endpoint_peers",
                f"a peer with CIDR {cdk.Stack.of(self).resolve(cidr)}",
                "cdk-nag cannot check a CIDR that is a token (its rules fail on it); pass the "
                "clients' security group, or the CIDR as a literal string.",
            )
        check_prop(
            self,
            "endpoint_peers",
            cidr,
            cidr not in ("0.0.0.0/0", "::/0"),
            "The endpoints serve this VPC: admit its clients' security group or CIDR, not "
            "the whole internet.",
        )

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


def availability_zones_context(
    *, account: str, region: str, zones: Sequence[str]
) -> dict[str, list[str]]:
    """The context entry that answers CDK's availability-zone lookup for one account and region.

    A stack with a concrete ``env`` asks CDK for the account's zones (``Vpc`` does, with
    ``max_azs`` or with explicit ``availability_zones``, which it checks against that list); the
    CDK CLI answers from ``cdk.context.json`` or calls AWS. Commit the entry to
    ``cdk.context.json`` (``json.dumps`` of this), or pass it as ``cdk.App(context=...)``, and
    synthesis needs no AWS credentials::

        availability_zones_context(
            account="111111111111", region="eu-west-1", zones=["eu-west-1a", "eu-west-1b"]
        )
        # {"availability-zones:account=111111111111:region=eu-west-1": ["eu-west-1a", "eu-west-1b"]}

    :param zones: the zones of the region the account may use (``aws ec2
        describe-availability-zones``), or the ones your VPCs should use.
    """
    for name, value, pattern in (
        ("account", account, r"\d{12}"),
        ("region", region, r"[a-z]{2}(-[a-z]+)+-\d+"),
    ):
        if is_token(value) or not re.fullmatch(pattern, value):
            raise prop_error(
                "availability_zones_context",
                name,
                value,
                "Pass the literal 12-digit account and region of the stack's env, "
                'e.g. account="111111111111", region="eu-west-1".',
            )
    bad = [z for z in zones if not (isinstance(z, str) and z.startswith(region) and z != region)]
    if not zones or bad:
        raise prop_error(
            "availability_zones_context",
            "zones",
            list(zones),
            f'Pass one or more zones of {region}, e.g. ["{region}a", "{region}b"].',
        )
    return {f"availability-zones:account={account}:region={region}": list(zones)}


def _cidr_of(vpc: ec2.IVpc) -> str | None:
    """The VPC's CIDR, or None when an imported VPC was given none (reading it then throws)."""
    try:
        return vpc.vpc_cidr_block
    except RuntimeError as exc:
        if "CannotPerformOperationVpcCidr" in str(exc):
            return None
        raise


def _endpoint_id(short_name: str) -> str:
    return (
        "".join(part.capitalize() for part in short_name.replace("-", ".").split(".")) + "Endpoint"
    )
