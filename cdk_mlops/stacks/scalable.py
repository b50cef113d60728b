"""Level 4 (Scalable), so far: level 3 under the organization's guardrails."""

from __future__ import annotations

from typing import Unpack

from constructs import Construct

from cdk_mlops.levels import InitialSettings, ReliableSettings, RepeatableSettings
from cdk_mlops.stacks._props import StackProps
from cdk_mlops.stacks.compose import ScalableSettings, govern
from cdk_mlops.stacks.reliable import ReliableStack

__all__ = ["ScalableSettings", "ScalableStack"]


class ScalableStack(ReliableStack):
    """Maturity level 4 (so far): :class:`ReliableStack` with a permissions boundary on every
    role and mandatory tags on every resource (``Governance``, id ``Governance``).

    Level 1-3 resources keep their logical ids (the same construct paths as ``MlopsLevel3``);
    each role gains a ``PermissionsBoundary``. Synthesis fails, naming the resource, when a
    mandatory tag is missing: give them with the stack's ``tags=`` (CloudFormation propagates
    stack tags to the resources) or ``ScalableSettings(tags=...)``.

    :param scalable: level 4's settings. Default: :class:`ScalableSettings` defaults.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        initial: InitialSettings | None = None,
        repeatable: RepeatableSettings | None = None,
        reliable: ReliableSettings | None = None,
        scalable: ScalableSettings | None = None,
        **stack_props: Unpack[StackProps],
    ) -> None:
        stack_props.setdefault(
            "description",
            "cdk-mlops level 4 (Scalable): level 3 with a permissions boundary on every role and "
            "mandatory tags on every resource",
        )
        super().__init__(
            scope,
            construct_id,
            initial=initial,
            repeatable=repeatable,
            reliable=reliable,
            **stack_props,
        )
        self.governance = govern(self, scalable)
