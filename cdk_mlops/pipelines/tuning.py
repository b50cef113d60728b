"""Hyperparameter tuning in the training pipeline: the ``Tune`` step's settings.

With ``TrainingPipelineSettings.tuning`` set, a :class:`~cdk_mlops.pipelines.tuning_step.
TuningStep` named ``Tune`` replaces ``Train``: SageMaker runs ``max_jobs`` training jobs of the
same code with hyperparameters from ``parameter_ranges`` and the best one, by the validation
metric that ``pipeline_code.training.train`` prints (``validation:auc=0.871234;``), feeds
Evaluate and Register. The quality gate still judges it on the test split, which tuning never
sees.

A tuning job runs the image's own entry point (the training toolkit, in script mode), not the
``python -m`` bootstrap of the other steps: the code channel carries the source-dir bundle
(``sourcedir.tar.gz``) whose ``train.py`` shim runs the training module
(``cdk_mlops.assets.TRAIN_SHIM``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cdk_mlops.pipelines._checks import has_token
from cdk_mlops.pipelines.contract import TRAIN
from cdk_mlops.pipelines.errors import PipelineDefinitionError
from cdk_mlops.pipelines.training_step import MetricDefinition
from cdk_mlops.pipelines.tuning_step import (
    STRATEGIES,
    ContinuousParameterRange,
    IntegerParameterRange,
    ParameterRange,
)
from pipeline_code.training.search_space import OBJECTIVE, SEARCH_SPACE

if TYPE_CHECKING:
    from cdk_mlops.pipelines.training import TrainingPipelineSettings

TUNE = "Tune"
#: The metrics ``pipeline_code.training.train`` prints for each split it scores.
TRAINING_METRICS = ("auc", "accuracy", "f1")
#: Metric definitions for what train prints: ``<split>:<metric>=<value>;`` on stderr.
TRAINING_METRIC_DEFINITIONS: tuple[MetricDefinition, ...] = tuple(
    MetricDefinition(name=f"{split}:{metric}", regex=rf"{split}:{metric}=([-+0-9.eE]+);")
    for split in ("validation", "train")
    for metric in TRAINING_METRICS
)
#: Environment variable the ``train.py`` shim reads: the training module to run.
TRAIN_MODULE_ENV = "CDK_MLOPS_TRAIN_MODULE"
#: What the scikit-learn training toolkit needs for script mode, and where the code channel
#: puts the source-dir bundle (a network-isolated job cannot download it itself).
TRAIN_PROGRAM = "train.py"


def _ranges() -> tuple[ParameterRange, ...]:
    out: list[ParameterRange] = []
    for name, (kind, low, high, scaling) in SEARCH_SPACE.items():
        if kind == "integer":
            out.append(
                IntegerParameterRange(
                    name=name, min_value=int(low), max_value=int(high), scaling_type=scaling
                )
            )
        else:
            out.append(
                ContinuousParameterRange(
                    name=name, min_value=low, max_value=high, scaling_type=scaling
                )
            )
    return tuple(out)


#: The training code's own search space (``pipeline_code.training.search_space``, which
#: ``run-local --tune`` searches too): learning rate, iterations, leaves, L2 regularization of
#: the gradient-boosting model.
DEFAULT_PARAMETER_RANGES: tuple[ParameterRange, ...] = _ranges()


@dataclass(frozen=True, kw_only=True)
class TuningSettings:
    """A hyperparameter search in place of the single training job.

    :param parameter_ranges: the hyperparameters searched. Default: learning rate, iterations,
        leaves and L2 regularization of the gradient-boosting model.
    :param objective_metric: one of ``TRAINING_METRIC_DEFINITIONS`` (``validation:auc``,
        ``validation:f1``, ``validation:accuracy``, or the ``train:`` ones, which overfit).
    :param objective_type: ``Maximize`` or ``Minimize``.
    :param strategy: ``Bayesian`` (default), ``Random``, ``Hyperband`` or ``Grid``.
    :param max_jobs: training jobs in all. Default 10: each is a training job billed by the
        second on the training instance type.
    :param max_parallel_jobs: at a time. Default 2 (Bayesian search learns from finished jobs).
    :param early_stopping: let SageMaker stop jobs that will not beat the best (Bayesian and
        Random only).
    :param random_seed: makes the drawn hyperparameters reproducible.
    """

    parameter_ranges: Sequence[ParameterRange] = field(
        default_factory=lambda: DEFAULT_PARAMETER_RANGES
    )
    objective_metric: str = OBJECTIVE
    objective_type: str = "Maximize"
    strategy: str = "Bayesian"
    max_jobs: int | None = 10
    max_parallel_jobs: int = 2
    early_stopping: bool = True
    random_seed: int | None = None

    def __post_init__(self) -> None:
        names = [m.name for m in TRAINING_METRIC_DEFINITIONS]
        if self.objective_metric not in names:
            raise PipelineDefinitionError(
                f"TuningSettings.objective_metric {self.objective_metric!r} is not a metric the "
                f"training code prints; use one of {names} (validation:auc by default)"
            )
        if self.strategy not in STRATEGIES:
            raise PipelineDefinitionError(
                f"TuningSettings.strategy {self.strategy!r} is not one of {list(STRATEGIES)}"
            )
        object.__setattr__(self, "parameter_ranges", tuple(self.parameter_ranges))


def check_tuning(s: TrainingPipelineSettings) -> None:
    """What a tuning step needs from the rest of the training pipeline's settings."""
    if not isinstance(s.tuning, TuningSettings):
        raise PipelineDefinitionError(f"tuning {s.tuning!r} must be a TuningSettings")
    uri = s.sourcedir_uri
    name = uri.rsplit("/", 1)[-1] if isinstance(uri, str) else ""
    if not uri or not name.endswith(".gz") or has_token(name):
        raise PipelineDefinitionError(
            f"sourcedir_uri {uri!r}: tuning needs the S3 URI of the source-dir bundle, a "
            "gzipped tar ('.tar.gz' or '.gz') whose object name is known at synth time "
            "(PipelineCode.sourcedir_channel_uri)"
        )
    if s.commands[TRAIN].arguments:
        raise PipelineDefinitionError(
            f"commands[{TRAIN!r}] has arguments {list(s.commands[TRAIN].arguments)}; a tuning "
            "job runs the training module with its hyperparameters as arguments only. Pass "
            "them as hyperparameters, or tuning=None"
        )
    tuned = {r.name for r in s.tuning.parameter_ranges}
    both = sorted(tuned & set(s.hyperparameters))
    if both:
        raise PipelineDefinitionError(
            f"hyperparameters {both} are also tuned (TuningSettings.parameter_ranges); drop "
            "them from hyperparameters"
        )
