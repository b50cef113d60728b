"""Conditions of a ConditionStep: comparisons, membership, negation and disjunction."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from cdk_mlops.pipelines._checks import _frozen_tuple
from cdk_mlops.pipelines.errors import PipelineDefinitionError
from cdk_mlops.pipelines.expressions import Value, render, value_type_of


class Condition(abc.ABC):
    """A condition of a ConditionStep."""

    @abc.abstractmethod
    def to_request(self) -> dict[str, Any]:
        """The condition's JSON form."""


_NUMERIC = {"Integer", "Float"}


@dataclass(frozen=True, kw_only=True)
class _BinaryCondition(Condition):
    TYPE: ClassVar[str] = ""
    ORDERED: ClassVar[bool] = True
    left: Value
    right: Value

    def __post_init__(self) -> None:
        kind = type(self).__name__
        lt = value_type_of(self.left)
        rt = value_type_of(self.right)
        render(self.left, f"{kind}.left")
        render(self.right, f"{kind}.right")
        if self.ORDERED and "Boolean" in (lt, rt):
            raise PipelineDefinitionError(
                f"{kind}: booleans cannot be ordered; use ConditionEquals"
            )
        if lt is not None and rt is not None:
            compatible = lt == rt or (lt in _NUMERIC and rt in _NUMERIC)
            if not compatible:
                raise PipelineDefinitionError(
                    f"{kind}: cannot compare {lt} ({self.left!r}) with {rt} ({self.right!r})"
                )

    def to_request(self) -> dict[str, Any]:
        """``{"Type": ..., "LeftValue": ..., "RightValue": ...}``."""
        return {
            "Type": self.TYPE,
            "LeftValue": render(self.left, f"{self.TYPE}.left"),
            "RightValue": render(self.right, f"{self.TYPE}.right"),
        }


@dataclass(frozen=True, kw_only=True)
class ConditionEquals(_BinaryCondition):
    """``left == right``."""

    TYPE: ClassVar[str] = "Equals"
    ORDERED: ClassVar[bool] = False


@dataclass(frozen=True, kw_only=True)
class ConditionGreaterThan(_BinaryCondition):
    """``left > right``."""

    TYPE: ClassVar[str] = "GreaterThan"


@dataclass(frozen=True, kw_only=True)
class ConditionGreaterThanOrEqualTo(_BinaryCondition):
    """``left >= right``."""

    TYPE: ClassVar[str] = "GreaterThanOrEqualTo"


@dataclass(frozen=True, kw_only=True)
class ConditionLessThan(_BinaryCondition):
    """``left < right``."""

    TYPE: ClassVar[str] = "LessThan"


@dataclass(frozen=True, kw_only=True)
class ConditionLessThanOrEqualTo(_BinaryCondition):
    """``left <= right``."""

    TYPE: ClassVar[str] = "LessThanOrEqualTo"


@dataclass(frozen=True, kw_only=True)
class ConditionIn(Condition):
    """``value in values``."""

    value: Value
    values: Sequence[Value]

    def __post_init__(self) -> None:
        _frozen_tuple(self, "values")
        if not self.values:
            raise PipelineDefinitionError("ConditionIn: values must not be empty")
        render(self.value, "ConditionIn.value")
        for i, v in enumerate(self.values):
            render(v, f"ConditionIn.values[{i}]")

    def to_request(self) -> dict[str, Any]:
        """``{"Type": "In", "QueryValue": ..., "Values": [...]}`` (the SDK's form)."""
        return {
            "Type": "In",
            "QueryValue": render(self.value, "ConditionIn.value"),
            "Values": [render(v, "ConditionIn.values") for v in self.values],
        }


@dataclass(frozen=True, kw_only=True)
class ConditionNot(Condition):
    """The negation of a condition."""

    expression: Condition

    def __post_init__(self) -> None:
        if not isinstance(self.expression, Condition):
            raise PipelineDefinitionError("ConditionNot.expression must be a Condition")

    def to_request(self) -> dict[str, Any]:
        """``{"Type": "Not", "Expression": ...}``."""
        return {"Type": "Not", "Expression": self.expression.to_request()}


@dataclass(frozen=True, kw_only=True)
class ConditionOr(Condition):
    """True when any of ``conditions`` is."""

    conditions: Sequence[Condition]

    def __post_init__(self) -> None:
        _frozen_tuple(self, "conditions")
        if not self.conditions or not all(isinstance(c, Condition) for c in self.conditions):
            raise PipelineDefinitionError("ConditionOr.conditions must be a non-empty list")

    def to_request(self) -> dict[str, Any]:
        """``{"Type": "Or", "Conditions": [...]}``."""
        return {"Type": "Or", "Conditions": [c.to_request() for c in self.conditions]}
