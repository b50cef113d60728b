"""The base of all steps, and of the steps that run a SageMaker job (retries, caching)."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from cdk_mlops.pipelines._checks import _frozen_tuple
from cdk_mlops.pipelines.cache import CacheConfig
from cdk_mlops.pipelines.errors import PipelineDefinitionError
from cdk_mlops.pipelines.expressions import Property, check_name
from cdk_mlops.pipelines.retry import RetryPolicy, SageMakerJobStepRetryPolicy, StepRetryPolicy


@dataclass(frozen=True, kw_only=True)
class Step(abc.ABC):
    """Base of all steps: name, display name, description and explicit dependencies."""

    STEP_TYPE: ClassVar[str] = ""
    name: str
    display_name: str | None = None
    description: str | None = None
    depends_on: Sequence[str | Step] = ()

    def __post_init__(self) -> None:
        check_name("step", self.name)
        if self.display_name is not None:
            check_name(f"step {self.name}: display", self.display_name)
        if self.description is not None and (
            not isinstance(self.description, str) or len(self.description) > 3072
        ):
            raise PipelineDefinitionError(
                f"step {self.name}: description must be a string of at most 3072 characters"
            )
        _frozen_tuple(self, "depends_on")
        names: list[str] = []
        for dep in self.depends_on:
            dep_name = dep.name if isinstance(dep, Step) else dep
            if not isinstance(dep_name, str):
                raise PipelineDefinitionError(
                    f"step {self.name}: depends_on entries must be steps or step names, got {dep!r}"
                )
            check_name(f"step {self.name}: depends_on", dep_name)
            if dep_name in names:
                raise PipelineDefinitionError(f"step {self.name}: depends on {dep_name} twice")
            names.append(dep_name)
        object.__setattr__(self, "depends_on", tuple(names))

    @property
    def depends_on_names(self) -> tuple[str, ...]:
        """Names of the steps this one explicitly waits for."""
        return tuple(str(d) for d in self.depends_on)

    @abc.abstractmethod
    def arguments(self) -> dict[str, Any]:
        """The step's ``Arguments`` object."""

    def extra_fields(self) -> dict[str, Any]:
        """Step-level fields besides Name/Type/Arguments/DependsOn (retries, caching, ...)."""
        return {}

    def child_steps(self) -> tuple[Step, ...]:
        """Steps nested in this one (the branches of a condition)."""
        return ()

    def to_request(self) -> dict[str, Any]:
        """The step's entry in the definition's ``Steps`` list."""
        out: dict[str, Any] = {"Name": self.name, "Type": self.STEP_TYPE}
        if self.display_name is not None:
            out["DisplayName"] = self.display_name
        if self.description is not None:
            out["Description"] = self.description
        out["Arguments"] = self.arguments()
        out.update(self.extra_fields())
        if self.depends_on:
            out["DependsOn"] = list(self.depends_on_names)
        return out

    @property
    def properties(self) -> Property:
        """The step's run-time properties, checked against SageMaker's API model."""
        raise PipelineDefinitionError(
            f"step {self.name}: {self.STEP_TYPE} steps have no properties to reference"
        )


@dataclass(frozen=True, kw_only=True)
class _JobStep(Step):
    """A step that runs a SageMaker job: retry policies and caching apply."""

    retry_policies: Sequence[RetryPolicy] = ()
    cache_config: CacheConfig | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _frozen_tuple(self, "retry_policies")
        for policy in self.retry_policies:
            if not isinstance(policy, StepRetryPolicy | SageMakerJobStepRetryPolicy):
                raise PipelineDefinitionError(
                    f"step {self.name}: retry policy {policy!r} is not a StepRetryPolicy or "
                    f"SageMakerJobStepRetryPolicy"
                )
        if self.cache_config is not None and not isinstance(self.cache_config, CacheConfig):
            raise PipelineDefinitionError(f"step {self.name}: cache_config must be a CacheConfig")

    def extra_fields(self) -> dict[str, Any]:
        """``RetryPolicies`` and ``CacheConfig``."""
        out: dict[str, Any] = {}
        if self.retry_policies:
            out["RetryPolicies"] = [p.to_request() for p in self.retry_policies]
        if self.cache_config is not None:
            out["CacheConfig"] = self.cache_config.to_request()
        return out

    @property
    def properties(self) -> Property:
        """The step's run-time properties (the job's Describe response)."""
        return Property(step_name=self.name, step_type=self.STEP_TYPE)
