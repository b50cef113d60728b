"""Level 1 (Initial): a secure place for notebooks and manual work."""

from __future__ import annotations

from typing import Unpack

import aws_cdk as cdk
from constructs import Construct

from cdk_mlops.levels import InitialLevel, InitialSettings
from cdk_mlops.stacks._props import StackProps
from cdk_mlops.stacks.compose import compose_level


class InitialStack(cdk.Stack):
    """Maturity level 1 in a stack of its own: one :class:`InitialLevel` (construct id
    ``Initial``).

    Idle cost is dominated by the interface endpoints (about USD 7.30 a month each per AZ) and the
    KMS keys (USD 1 a month each); see the README's itemized estimate.

    :param initial: level 1's settings. Default: :class:`InitialSettings` defaults.

    The stack props (``env``, ``stack_name``, ``description``, ``tags``, ``synthesizer``,
    ``termination_protection``) are :class:`~cdk_mlops.stacks._props.StackProps`: ``env``, ``stack_name``,
    ``description``, ``tags``, ``synthesizer``, ``termination_protection``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        initial: InitialSettings | None = None,
        **stack_props: Unpack[StackProps],
    ) -> None:
        stack_props.setdefault(
            "description",
            "cdk-mlops level 1 (Initial): data lake, private network, Studio, budget",
        )
        super().__init__(scope, construct_id, **stack_props)
        self.initial: InitialLevel = compose_level(self, 1, initial=initial).initial
