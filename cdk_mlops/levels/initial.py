"""Maturity level 1 (Initial) as a construct: keys, data lake, private network, Studio, budget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from cdk_mlops.constructs import CostGuard, DataLake, EncryptionKeys, Network, StudioEnvironment
from cdk_mlops.levels.foundation import Foundation


@dataclass(frozen=True, kw_only=True)
class InitialSettings:
    """What level 1 lets you choose; every field has a secure, cheap-at-idle default.

    :param monthly_budget_usd: the budget alarm's monthly limit. Default 100.
    :param alert_emails: who gets budget alerts. Default none (subscribe to the topic later).
    :param vpc: your own VPC instead of a new one (the network then creates interface
        endpoints only when ``interface_endpoints`` is given). Default: a new VPC.
    :param interface_endpoints: interface endpoints of the VPC. Default the network's defaults.
    :param max_azs: AZs of a new VPC. Default 2.
    :param availability_zones: the zones of a new VPC instead of ``max_azs``, so a stack with a
        named account synthesizes without an AWS lookup. Default: looked up.
    :param idle_timeout: Studio idle shutdown. Default 60 minutes.
    :param removal_policy: for the data lake and keys. Default RETAIN.
    """

    monthly_budget_usd: float = 100
    alert_emails: Sequence[str] = ()
    vpc: ec2.IVpc | None = None
    interface_endpoints: Sequence[ec2.InterfaceVpcEndpointAwsService] | None = None
    max_azs: int = 2
    availability_zones: Sequence[str] | None = None
    idle_timeout: cdk.Duration | None = None
    removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN


class InitialLevel(Construct):
    """Maturity level 1: a secure place for notebooks and manual work.

    Three KMS keys, an encrypted four-zone data lake, a private VPC with endpoints and encrypted
    flow logs, a VPC-only Studio domain with idle shutdown and a least-privilege data-scientist
    role, and a monthly budget alarm. Place it in any stack; :attr:`foundation` is what the
    higher levels build on.
    """

    def __init__(
        self, scope: Construct, construct_id: str, settings: InitialSettings | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        s = settings or InitialSettings()
        self.settings = s
        self.keys = EncryptionKeys(self, "Keys", removal_policy=s.removal_policy)
        self.data_lake = DataLake(
            self, "DataLake", encryption_key=self.keys.data_key, removal_policy=s.removal_policy
        )
        self.network = Network(
            self,
            "Network",
            vpc=s.vpc,
            max_azs=s.max_azs,
            availability_zones=s.availability_zones,
            interface_endpoints=s.interface_endpoints,
            flow_logs_key=self.keys.logs_key,
        )
        self.studio = StudioEnvironment(
            self,
            "Studio",
            job_network=self.network.job_network,
            encryption_key=self.keys.data_key,
            read_buckets=[
                self.data_lake.raw_bucket,
                self.data_lake.curated_bucket,
                self.data_lake.monitoring_bucket,
            ],
            read_write_buckets=[self.data_lake.artifacts_bucket],
            idle_timeout=s.idle_timeout,
        )
        self.cost_guard = CostGuard(
            self,
            "CostGuard",
            monthly_limit_usd=s.monthly_budget_usd,
            alert_emails=s.alert_emails,
            encryption_key=self.keys.notifications_key,
        )

    @property
    def foundation(self) -> Foundation:
        """The keys, buckets and job network, for the levels above."""
        return Foundation(
            data_key=self.keys.data_key,
            logs_key=self.keys.logs_key,
            notifications_key=self.keys.notifications_key,
            raw_bucket=self.data_lake.raw_bucket,
            curated_bucket=self.data_lake.curated_bucket,
            artifacts_bucket=self.data_lake.artifacts_bucket,
            monitoring_bucket=self.data_lake.monitoring_bucket,
            job_network=self.network.job_network,
        )
