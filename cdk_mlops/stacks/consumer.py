"""A staging or production account's side of cross-account model promotion."""

from __future__ import annotations

from typing import Unpack

import aws_cdk as cdk
from constructs import Construct

from cdk_mlops.constructs import SharedModelReader, SharedModelSource
from cdk_mlops.stacks._props import StackProps


class ModelConsumerStack(cdk.Stack):
    """The role a staging or production account's endpoints serve shared models with.

    Deploy it in each account listed in the source's ``model_consumer_accounts``; pass its
    ``ExecutionRoleArn`` output to that account's endpoint stack (``EndpointStack`` parameter
    ``ExecutionRoleArn``).

    :param source: where the models live, e.g.
        ``SharedModelSource.for_stack("MlopsLevel3", account="111111111111", region="eu-west-1")``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source: SharedModelSource,
        **stack_props: Unpack[StackProps],
    ) -> None:
        stack_props.setdefault(
            "description",
            f"cdk-mlops: serve models shared by account {source.account} ({source.region})",
        )
        super().__init__(scope, construct_id, **stack_props)
        self.reader = SharedModelReader(self, "SharedModels", source=source)
        cdk.CfnOutput(
            self,
            "ExecutionRoleArn",
            value=self.reader.role_arn,
            description="ExecutionRoleArn of this account's endpoint stacks (shared models)",
        )
