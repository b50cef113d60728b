"""A step that stops the execution as failed, with an error message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from cdk_mlops.pipelines._checks import _check_type
from cdk_mlops.pipelines.base_step import Step
from cdk_mlops.pipelines.expressions import Value, render


@dataclass(frozen=True, kw_only=True)
class FailStep(Step):
    """Stops the execution as failed with ``error_message`` (a string or a Join)."""

    STEP_TYPE: ClassVar[str] = "Fail"
    error_message: Value = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_type(self.error_message, {"String"}, f"step {self.name}: error_message")

    def arguments(self) -> dict[str, Any]:
        """``{"ErrorMessage": ...}``."""
        return {"ErrorMessage": render(self.error_message, f"step {self.name}: error_message")}
