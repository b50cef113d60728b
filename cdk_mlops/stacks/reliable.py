"""Level 3 (Reliable): level 2 plus safe deployment to staging and production endpoints."""

from __future__ import annotations

from typing import Unpack

import aws_cdk as cdk
from constructs import Construct

from cdk_mlops.levels import (
    InitialLevel,
    InitialSettings,
    ReliableLevel,
    ReliableSettings,
    RepeatableLevel,
    RepeatableSettings,
)
from cdk_mlops.stacks._props import StackProps
from cdk_mlops.stacks.compose import compose_level, level3_interface_endpoints

__all__ = ["ReliableStack", "level3_interface_endpoints"]


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
        composed = compose_level(self, 3, initial=initial, repeatable=repeatable, reliable=reliable)
        assert composed.repeatable is not None and composed.reliable is not None
        self.initial: InitialLevel = composed.initial
        self.repeatable: RepeatableLevel = composed.repeatable
        self.reliable: ReliableLevel = composed.reliable
