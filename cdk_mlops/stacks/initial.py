"""Level 1 (Initial): a secure place for notebooks and manual work."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from cdk_mlops.constructs import CostGuard, DataLake, EncryptionKeys, Network, StudioEnvironment


class InitialStack(cdk.Stack):
    """Maturity level 1: keys, an encrypted data lake, a private network, Studio and a budget.

    Idle cost is dominated by the interface endpoints (about USD 7.30 a month each per AZ) and the
    KMS keys (USD 1 a month each); see the README's itemized estimate.

    :param monthly_budget_usd: the budget alarm's monthly limit. Default 100.
    :param alert_emails: who gets budget alerts. Default none (subscribe to the topic later).
    :param interface_endpoints: interface endpoints of the VPC. Default the network's defaults.
    :param max_azs: AZs of the VPC. Default 2.
    :param idle_timeout: Studio idle shutdown. Default 60 minutes.
    :param removal_policy: for the data lake and keys. Default RETAIN.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        monthly_budget_usd: float = 100,
        alert_emails: Sequence[str] = (),
        interface_endpoints: Sequence[ec2.InterfaceVpcEndpointAwsService] | None = None,
        max_azs: int = 2,
        idle_timeout: cdk.Duration | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        **stack_props: Any,
    ) -> None:
        stack_props.setdefault(
            "description", "cdk-mlops level 1 (Initial): data lake, private network, Studio, budget"
        )
        super().__init__(scope, construct_id, **stack_props)
        self.keys = EncryptionKeys(self, "Keys", removal_policy=removal_policy)
        self.data_lake = DataLake(
            self, "DataLake", encryption_key=self.keys.data_key, removal_policy=removal_policy
        )
        self.network = Network(
            self,
            "Network",
            max_azs=max_azs,
            interface_endpoints=interface_endpoints,
            flow_logs_key=self.keys.logs_key,
        )
        self.studio = StudioEnvironment(
            self,
            "Studio",
            network=self.network,
            data_lake=self.data_lake,
            encryption_key=self.keys.data_key,
            idle_timeout=idle_timeout,
        )
        self.cost_guard = CostGuard(
            self,
            "CostGuard",
            monthly_limit_usd=monthly_budget_usd,
            alert_emails=alert_emails,
            encryption_key=self.keys.notifications_key,
        )
