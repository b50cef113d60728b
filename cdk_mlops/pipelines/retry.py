"""Retry policies of a step: which failures to retry, how often and for how long."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from cdk_mlops.pipelines._checks import _check_int_range, _frozen_tuple
from cdk_mlops.pipelines.errors import PipelineDefinitionError


class StepExceptionType(enum.StrEnum):
    """Failures of the pipeline service itself that a step may retry."""

    SERVICE_FAULT = "Step.SERVICE_FAULT"
    THROTTLING = "Step.THROTTLING"


class SageMakerJobExceptionType(enum.StrEnum):
    """Failures of a SageMaker job that a job step may retry."""

    INTERNAL_ERROR = "SageMaker.JOB_INTERNAL_ERROR"
    CAPACITY_ERROR = "SageMaker.CAPACITY_ERROR"
    RESOURCE_LIMIT = "SageMaker.RESOURCE_LIMIT"


_MAX_ATTEMPTS = 20
_MAX_EXPIRE_AFTER_MIN = 14400


@dataclass(frozen=True, kw_only=True)
class _RetryPolicy:
    EXCEPTION_ENUM: ClassVar[type[enum.StrEnum]]
    exception_types: Sequence[enum.StrEnum]
    interval_seconds: int = 1
    backoff_rate: float = 2.0
    max_attempts: int | None = None
    expire_after_min: int | None = None

    def __post_init__(self) -> None:
        kind = type(self).__name__
        _frozen_tuple(self, "exception_types")
        if not self.exception_types:
            raise PipelineDefinitionError(f"{kind}: exception_types must not be empty")
        allowed = [e.value for e in self.EXCEPTION_ENUM]
        for e in self.exception_types:
            if e not in allowed:
                raise PipelineDefinitionError(
                    f"{kind}: exception type {e!r} is not one of {allowed}"
                )
        if (self.max_attempts is None) == (self.expire_after_min is None):
            raise PipelineDefinitionError(
                f"{kind}: give exactly one of max_attempts and expire_after_min"
            )
        if self.max_attempts is not None:
            _check_int_range(self.max_attempts, 1, _MAX_ATTEMPTS, f"{kind}.max_attempts")
        if self.expire_after_min is not None:
            _check_int_range(
                self.expire_after_min, 0, _MAX_EXPIRE_AFTER_MIN, f"{kind}.expire_after_min"
            )
        _check_int_range(self.interval_seconds, 0, None, f"{kind}.interval_seconds")
        if isinstance(self.backoff_rate, bool) or not isinstance(self.backoff_rate, int | float):
            raise PipelineDefinitionError(f"{kind}.backoff_rate must be a number")
        if self.backoff_rate < 0:
            raise PipelineDefinitionError(f"{kind}.backoff_rate must be >= 0")
        object.__setattr__(self, "backoff_rate", float(self.backoff_rate))

    def to_request(self) -> dict[str, Any]:
        """The entry in a step's ``RetryPolicies`` (the SDK's format)."""
        out: dict[str, Any] = {
            "BackoffRate": self.backoff_rate,
            "IntervalSeconds": self.interval_seconds,
        }
        if self.max_attempts is not None:
            out["MaxAttempts"] = self.max_attempts
        if self.expire_after_min is not None:
            out["ExpireAfterMin"] = self.expire_after_min
        out["ExceptionType"] = [str(e) for e in self.exception_types]
        return out


@dataclass(frozen=True, kw_only=True)
class StepRetryPolicy(_RetryPolicy):
    """Retry a step on pipeline service faults or throttling."""

    EXCEPTION_ENUM: ClassVar[type[enum.StrEnum]] = StepExceptionType
    exception_types: Sequence[enum.StrEnum] = (
        StepExceptionType.SERVICE_FAULT,
        StepExceptionType.THROTTLING,
    )


@dataclass(frozen=True, kw_only=True)
class SageMakerJobStepRetryPolicy(_RetryPolicy):
    """Retry a job step on SageMaker job errors (capacity, internal errors, limits)."""

    EXCEPTION_ENUM: ClassVar[type[enum.StrEnum]] = SageMakerJobExceptionType
    exception_types: Sequence[enum.StrEnum] = (
        SageMakerJobExceptionType.INTERNAL_ERROR,
        SageMakerJobExceptionType.CAPACITY_ERROR,
        SageMakerJobExceptionType.RESOURCE_LIMIT,
    )


RetryPolicy = StepRetryPolicy | SageMakerJobStepRetryPolicy
