"""Level 3 (Reliable): level 2 plus safe deployment to staging and production endpoints."""

from __future__ import annotations

from dataclasses import replace
from typing import Unpack

import aws_cdk as cdk
from constructs import Construct

from cdk_mlops.constructs import DEFAULT_INTERFACE_ENDPOINTS, DEPLOYMENT_INTERFACE_ENDPOINTS
from cdk_mlops.levels import (
    InitialLevel,
    InitialSettings,
    ReliableLevel,
    ReliableSettings,
    RepeatableLevel,
    RepeatableSettings,
)
from cdk_mlops.stacks._props import StackProps, sharing_initial


def level3_interface_endpoints(initial: InitialSettings) -> InitialSettings:
    """``initial`` with the interface endpoints the deployment builds need, unless it names its
    own VPC or its own endpoint list (then the deployment pipeline checks or warns)."""
    if initial.vpc is not None or initial.interface_endpoints is not None:
        return initial
    by_name = {
        e.short_name: e for e in (*DEFAULT_INTERFACE_ENDPOINTS, *DEPLOYMENT_INTERFACE_ENDPOINTS)
    }
    return replace(initial, interface_endpoints=list(by_name.values()))


class ReliableStack(cdk.Stack):
    """Maturity level 3 in a stack of its own: :class:`InitialLevel` (id ``Initial``),
    :class:`RepeatableLevel` (id ``Repeatable``) and :class:`ReliableLevel` (id ``Reliable``).

    The level 1 and 2 resources have the same construct paths, and so the same logical ids, as
    in :class:`RepeatableStack`. A new VPC also gets the interface endpoints the deployment
    builds need (``DEPLOYMENT_INTERFACE_ENDPOINTS``: SNS and CloudWatch monitoring on top of
    level 1's). The staging and production endpoints are separate stacks that the deployment
    pipeline deploys once a model version is approved; this stack needs no approved model.

    :param initial: level 1's settings. Default: :class:`InitialSettings` defaults.
    :param repeatable: level 2's settings. Default: :class:`RepeatableSettings` defaults.
    :param reliable: level 3's settings. Default: :class:`ReliableSettings` defaults.

    The stack props are :class:`~cdk_mlops.stacks._props.StackProps`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        initial: InitialSettings | None = None,
        repeatable: RepeatableSettings | None = None,
        reliable: ReliableSettings | None = None,
        **stack_props: Unpack[StackProps],
    ) -> None:
        stack_props.setdefault(
            "description",
            "cdk-mlops level 3 (Reliable): level 2 + deployment pipeline to staging and prod "
            "endpoints, dashboard, audit trail",
        )
        super().__init__(scope, construct_id, **stack_props)
        self.initial = InitialLevel(
            self,
            "Initial",
            level3_interface_endpoints(
                sharing_initial(self, initial, repeatable) or InitialSettings()
            ),
        )
        self.repeatable = RepeatableLevel(
            self, "Repeatable", foundation=self.initial.foundation, settings=repeatable
        )
        level2 = self.repeatable
        self.reliable = ReliableLevel(
            self,
            "Reliable",
            foundation=self.initial.foundation,
            registry=level2.registry,
            training_pipeline=level2.training,
            alarm_topic=level2.alerts_topic,
            code=level2.code,
            schema=level2.settings.schema,
            etl=level2.etl,
            access_log_bucket=self.initial.data_lake.access_logs_bucket,
            settings=reliable,
        )
