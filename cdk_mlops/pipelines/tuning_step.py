"""A SageMaker hyperparameter tuning step (``CreateHyperParameterTuningJob`` arguments).

The tuning job runs training jobs with hyperparameters drawn from ``parameter_ranges`` and keeps
the one with the best objective metric, scraped from each job's log by the metric definitions.
Its properties are ``DescribeHyperParameterTuningJob`` (``BestTrainingJob``) and
``ListTrainingJobsForHyperParameterTuningJob`` (``TrainingJobSummaries``, best first), as in the
SageMaker SDK's ``TuningStep``; :meth:`TuningStep.top_model_artifacts` is the best job's
``model.tar.gz``.

A tuning job's algorithm specification has no container entry point: the image's own entry
point runs (for the SageMaker framework images, the training toolkit in script mode, with the
``sagemaker_program`` and ``sagemaker_submit_directory`` hyperparameters).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeAlias

from cdk_mlops.pipelines._checks import _check_choice, _frozen_map, _frozen_tuple
from cdk_mlops.pipelines.errors import PipelineDefinitionError
from cdk_mlops.pipelines.expressions import Join, Value, render
from cdk_mlops.pipelines.training_step import _TrainingJobStep

STRATEGIES = ("Bayesian", "Random", "Hyperband", "Grid")
SCALING_TYPES = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")
#: SageMaker's limit of hyperparameters searched in one tuning job.
MAX_TUNED_PARAMETERS = 30
_NAME = re.compile(r"^[a-zA-Z0-9_.:-]{1,256}$")


def _check_name(name: object, where: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise PipelineDefinitionError(
            f"{where}: hyperparameter name {name!r} must be 1 to 256 characters from "
            "a-z A-Z 0-9 _ . : -"
        )


def _number(value: object, where: str, kind: type) -> float:
    if isinstance(value, bool) or not isinstance(value, kind | int):
        raise PipelineDefinitionError(
            f"{where}: {value!r} is not a{'n integer' if kind is int else ' number'}"
        )
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        raise PipelineDefinitionError(f"{where}: {value!r} is not a finite number")
    return number


def _check_bounds(
    name: str, low: float, high: float, scaling: str, where: str, *, integer: bool
) -> None:
    _check_choice(scaling, SCALING_TYPES, f"{where}.scaling_type")
    if not low < high:
        raise PipelineDefinitionError(
            f"{where}: min_value {low:g} must be below max_value {high:g} (a range with one "
            f"value is a static hyperparameter: pass {name} in static_hyperparameters)"
        )
    if scaling == "Logarithmic" and low <= 0:
        raise PipelineDefinitionError(
            f"{where}: Logarithmic scaling needs min_value > 0, got {low:g}; use Linear or a "
            "positive minimum"
        )
    if scaling == "ReverseLogarithmic":
        if integer:
            raise PipelineDefinitionError(
                f"{where}: ReverseLogarithmic scaling is for continuous ranges only"
            )
        if not 0 <= low < high < 1:
            raise PipelineDefinitionError(
                f"{where}: ReverseLogarithmic scaling needs 0 <= min_value < max_value < 1, got "
                f"[{low:g}, {high:g}]"
            )


@dataclass(frozen=True, kw_only=True)
class _NumericRange:
    """A numeric hyperparameter searched in ``[min_value, max_value]``."""

    INTEGER: ClassVar[bool] = False
    name: str
    min_value: float
    max_value: float
    scaling_type: str = "Auto"

    def __post_init__(self) -> None:
        where = f"{type(self).__name__} {self.name!r}"
        _check_name(self.name, where)
        kind = int if self.INTEGER else float
        low = _number(self.min_value, f"{where}.min_value", kind)
        high = _number(self.max_value, f"{where}.max_value", kind)
        _check_bounds(self.name, low, high, self.scaling_type, where, integer=self.INTEGER)

    def _format(self, value: float) -> str:
        return str(value) if self.INTEGER else repr(float(value))

    def to_request(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "MinValue": self._format(self.min_value),
            "MaxValue": self._format(self.max_value),
            "ScalingType": self.scaling_type,
        }


@dataclass(frozen=True, kw_only=True)
class IntegerParameterRange(_NumericRange):
    """An integer hyperparameter searched in ``[min_value, max_value]``."""

    INTEGER: ClassVar[bool] = True
    min_value: int
    max_value: int


@dataclass(frozen=True, kw_only=True)
class ContinuousParameterRange(_NumericRange):
    """A real-valued hyperparameter searched in ``[min_value, max_value]``."""


@dataclass(frozen=True, kw_only=True)
class CategoricalParameterRange:
    """A hyperparameter that takes one of ``values`` (strings, as SageMaker passes them)."""

    name: str
    values: Sequence[str]

    def __post_init__(self) -> None:
        where = f"CategoricalParameterRange {self.name!r}"
        _check_name(self.name, where)
        _frozen_tuple(self, "values")
        if not 1 <= len(self.values) <= 30:
            raise PipelineDefinitionError(f"{where}: 1 to 30 values, got {len(self.values)}")
        for value in self.values:
            if not isinstance(value, str) or not 1 <= len(value) <= 256:
                raise PipelineDefinitionError(
                    f"{where}: value {value!r} must be a string of 1 to 256 characters "
                    "(write numbers as strings, e.g. '0.1')"
                )
        if len(set(self.values)) != len(self.values):
            raise PipelineDefinitionError(f"{where}: duplicate values {list(self.values)}")

    def to_request(self) -> dict[str, Any]:
        return {"Name": self.name, "Values": list(self.values)}


ParameterRange: TypeAlias = (
    IntegerParameterRange | ContinuousParameterRange | CategoricalParameterRange
)
_RANGE_KEYS: Mapping[type, str] = {
    IntegerParameterRange: "IntegerParameterRanges",
    ContinuousParameterRange: "ContinuousParameterRanges",
    CategoricalParameterRange: "CategoricalParameterRanges",
}


@dataclass(frozen=True, kw_only=True)
class TuningStep(_TrainingJobStep):
    """A SageMaker hyperparameter tuning job (``CreateHyperParameterTuningJob`` arguments).

    :param objective_metric: the metric to optimize; one of ``metric_definitions``.
    :param objective_type: ``Maximize`` or ``Minimize``.
    :param parameter_ranges: the hyperparameters searched (at most 30).
    :param static_hyperparameters: the hyperparameters every training job gets.
    :param strategy: ``Bayesian`` (default), ``Random``, ``Hyperband`` or ``Grid``.
    :param max_jobs: training jobs in all (``MaxNumberOfTrainingJobs``; not with ``Grid``).
    :param max_parallel_jobs: training jobs at a time.
    :param early_stopping: stop jobs that are unlikely to beat the best so far (``Auto``); not
        with ``Hyperband``, which stops jobs itself, or ``Grid``.
    :param random_seed: makes the hyperparameters a tuning job draws reproducible.
    """

    STEP_TYPE: ClassVar[str] = "Tuning"
    objective_metric: str
    objective_type: str = "Maximize"
    parameter_ranges: Sequence[ParameterRange] = ()
    static_hyperparameters: Mapping[str, Value] = field(default_factory=dict)
    strategy: str = "Bayesian"
    max_jobs: int | None = 10
    max_parallel_jobs: int = 2
    early_stopping: bool = True
    random_seed: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        w = f"step {self.name}"
        _frozen_tuple(self, "parameter_ranges")
        _frozen_map(self, "static_hyperparameters")
        self._check_hyperparameters(self.static_hyperparameters, "static hyperparameters")
        _check_choice(self.objective_type, ("Maximize", "Minimize"), f"{w}: objective_type")
        _check_choice(self.strategy, STRATEGIES, f"{w}: strategy")
        metrics = [m.name for m in self.metric_definitions]
        if self.objective_metric not in metrics:
            raise PipelineDefinitionError(
                f"{w}: objective_metric {self.objective_metric!r} is not one of the metric "
                f"definitions {metrics}; add a MetricDefinition whose regex finds it in the "
                "training log"
            )
        if not self.parameter_ranges:
            raise PipelineDefinitionError(
                f"{w}: parameter_ranges is empty; a tuning job needs at least one range"
            )
        names: list[str] = []
        for r in self.parameter_ranges:
            if not isinstance(r, tuple(_RANGE_KEYS)):
                raise PipelineDefinitionError(
                    f"{w}: {r!r} is not an Integer-, Continuous- or CategoricalParameterRange"
                )
            names.append(r.name)
        if len(names) > MAX_TUNED_PARAMETERS:
            raise PipelineDefinitionError(
                f"{w}: {len(names)} tuned hyperparameters; SageMaker allows at most "
                f"{MAX_TUNED_PARAMETERS}"
            )
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise PipelineDefinitionError(f"{w}: hyperparameters {twice} have two ranges")
        both = sorted(set(names) & set(self.static_hyperparameters))
        if both:
            raise PipelineDefinitionError(
                f"{w}: {both} are both tuned and static; drop them from static_hyperparameters"
            )
        if self.strategy == "Grid":
            if any(not isinstance(r, CategoricalParameterRange) for r in self.parameter_ranges):
                raise PipelineDefinitionError(
                    f"{w}: the Grid strategy searches categorical ranges only; write the values "
                    "as a CategoricalParameterRange or use Bayesian or Random"
                )
            if self.max_jobs is not None:
                raise PipelineDefinitionError(
                    f"{w}: the Grid strategy runs every combination; set max_jobs=None"
                )
        elif (
            isinstance(self.max_jobs, bool)
            or not isinstance(self.max_jobs, int)
            or not 1 <= self.max_jobs <= 500
        ):
            raise PipelineDefinitionError(
                f"{w}: max_jobs {self.max_jobs!r} must be an integer from 1 to 500 (the default "
                "account quota); e.g. 10 for a small search"
            )
        limit = self.max_jobs if self.max_jobs is not None else 100
        if (
            isinstance(self.max_parallel_jobs, bool)
            or not isinstance(self.max_parallel_jobs, int)
            or not 1 <= self.max_parallel_jobs <= min(limit, 100)
        ):
            raise PipelineDefinitionError(
                f"{w}: max_parallel_jobs {self.max_parallel_jobs!r} must be an integer from 1 to "
                f"{min(limit, 100)} (at most max_jobs); Bayesian search learns from finished "
                "jobs, so fewer at a time gives better results"
            )
        if self.early_stopping and self.strategy in ("Hyperband", "Grid"):
            raise PipelineDefinitionError(
                f"{w}: early_stopping must be False with the {self.strategy} strategy "
                + (
                    "(Hyperband stops jobs itself)"
                    if self.strategy == "Hyperband"
                    else "(SageMaker supports it with Bayesian and Random)"
                )
            )
        if self.random_seed is not None and (
            isinstance(self.random_seed, bool) or not isinstance(self.random_seed, int)
        ):
            raise PipelineDefinitionError(f"{w}: random_seed {self.random_seed!r} is not an int")

    def arguments(self) -> dict[str, Any]:
        """``CreateHyperParameterTuningJob`` request without ``HyperParameterTuningJobName``."""
        ranges: dict[str, list[dict[str, Any]]] = {key: [] for key in _RANGE_KEYS.values()}
        for r in self.parameter_ranges:
            ranges[_RANGE_KEYS[type(r)]].append(r.to_request())
        limits: dict[str, Any] = {"MaxParallelTrainingJobs": self.max_parallel_jobs}
        if self.max_jobs is not None:
            limits["MaxNumberOfTrainingJobs"] = self.max_jobs
        config: dict[str, Any] = {
            "Strategy": self.strategy,
            "HyperParameterTuningJobObjective": {
                "Type": self.objective_type,
                "MetricName": self.objective_metric,
            },
            "ResourceLimits": limits,
            "ParameterRanges": {k: v for k, v in ranges.items() if v},
            "TrainingJobEarlyStoppingType": "Auto" if self.early_stopping else "Off",
        }
        if self.random_seed is not None:
            config["RandomSeed"] = self.random_seed
        definition: dict[str, Any] = {"AlgorithmSpecification": self._algorithm(), **self._job()}
        # The tuning job's own spelling of the resources (as the SDK writes it; it also allows
        # instance fallbacks), instead of a training job's ResourceConfig.
        definition["HyperParameterTuningResourceConfig"] = definition.pop("ResourceConfig")
        if self.static_hyperparameters:
            definition["StaticHyperParameters"] = self._render_hyperparameters(
                self.static_hyperparameters
            )
        return {"HyperParameterTuningJobConfig": config, "TrainingJobDefinition": definition}

    def top_model_artifacts(self, top_k: int = 0) -> Join:
        """S3 URI of the ``model.tar.gz`` of the ``top_k``-th best training job (0: the best).

        A tuning job's training jobs write to ``<output_path>/<training job name>/output/``.
        """
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not 0 <= top_k <= 49:
            raise PipelineDefinitionError(
                f"step {self.name}: top_k {top_k!r} must be 0 to 49 (the tuning job lists its "
                "50 best training jobs)"
            )
        path = self.output_path
        # One flat Std:Join, as the SDK's get_top_model_s3_uri writes it.
        parts: tuple[Value, ...] = (
            tuple(path.values)
            if isinstance(path, Join) and path.on == "/"
            else (path.rstrip("/") if isinstance(path, str) else path,)
        )
        render(path, f"step {self.name}: output_path")
        return Join(
            on="/",
            values=(
                *parts,
                self.properties.TrainingJobSummaries[top_k].TrainingJobName,
                "output/model.tar.gz",
            ),
        )
