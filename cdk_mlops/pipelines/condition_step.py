"""A step that runs one branch of steps or the other, depending on conditions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from cdk_mlops.pipelines._checks import _frozen_tuple
from cdk_mlops.pipelines.base_step import Step
from cdk_mlops.pipelines.conditions import Condition
from cdk_mlops.pipelines.errors import PipelineDefinitionError


@dataclass(frozen=True, kw_only=True)
class ConditionStep(Step):
    """Runs ``if_steps`` when all ``conditions`` hold, else ``else_steps``.

    The branch steps are nested in this step's definition, not listed at the top level.
    """

    STEP_TYPE: ClassVar[str] = "Condition"
    conditions: Sequence[Condition]
    if_steps: Sequence[Step] = ()
    else_steps: Sequence[Step] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        for attr in ("conditions", "if_steps", "else_steps"):
            _frozen_tuple(self, attr)
        if not self.conditions:
            raise PipelineDefinitionError(f"step {self.name}: at least one condition is needed")
        for c in self.conditions:
            if not isinstance(c, Condition):
                raise PipelineDefinitionError(f"step {self.name}: {c!r} is not a Condition")
        if not self.if_steps and not self.else_steps:
            raise PipelineDefinitionError(
                f"step {self.name}: give if_steps and/or else_steps, otherwise the condition "
                f"has no effect"
            )
        for s in (*self.if_steps, *self.else_steps):
            if not isinstance(s, Step):
                raise PipelineDefinitionError(f"step {self.name}: {s!r} in a branch is not a Step")

    def arguments(self) -> dict[str, Any]:
        """``Conditions``, ``IfSteps`` and ``ElseSteps``."""
        return {
            "Conditions": [c.to_request() for c in self.conditions],
            "IfSteps": [s.to_request() for s in self.if_steps],
            "ElseSteps": [s.to_request() for s in self.else_steps],
        }

    def child_steps(self) -> tuple[Step, ...]:
        """The steps of both branches."""
        return (*self.if_steps, *self.else_steps)
