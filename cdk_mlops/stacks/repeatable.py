"""Level 2 (Repeatable): automated ingestion, a standard training pipeline, versioning, CI."""

from __future__ import annotations

from typing import Unpack

import aws_cdk as cdk
from constructs import Construct

from cdk_mlops.levels import InitialLevel, InitialSettings, RepeatableLevel, RepeatableSettings
from cdk_mlops.stacks._props import StackProps
from cdk_mlops.stacks.compose import compose_level


class RepeatableStack(cdk.Stack):
    """Maturity level 2 in a stack of its own: :class:`InitialLevel` (id ``Initial``) plus
    :class:`RepeatableLevel` (id ``Repeatable``) on its foundation.

    The level 1 resources have the same construct paths, and so the same logical ids, as in
    :class:`InitialStack`.

    :param initial: level 1's settings. Default: :class:`InitialSettings` defaults.
    :param repeatable: level 2's settings. Default: :class:`RepeatableSettings` defaults.

    The stack props are :class:`~cdk_mlops.stacks._props.StackProps`: ``env``, ``stack_name``,
    ``description``, ``tags``, ``synthesizer``, ``termination_protection``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        initial: InitialSettings | None = None,
        repeatable: RepeatableSettings | None = None,
        **stack_props: Unpack[StackProps],
    ) -> None:
        stack_props.setdefault(
            "description",
            (
                "cdk-mlops level 2 (Repeatable): level 1 + Glue ETL, SageMaker pipeline, registry, CI"
            ),
        )
        super().__init__(scope, construct_id, **stack_props)
        composed = compose_level(self, 2, initial=initial, repeatable=repeatable)
        assert composed.repeatable is not None
        self.initial: InitialLevel = composed.initial
        self.repeatable: RepeatableLevel = composed.repeatable
