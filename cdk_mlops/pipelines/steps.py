"""Typed pipeline steps: Processing, Training, Tuning, Condition, Fail and RegisterModel.

Each step renders to the JSON SageMaker Pipelines expects (the same shape the SageMaker Python
SDK writes). Job steps' ``Arguments`` are the SageMaker API request (``CreateProcessingJob``,
``CreateTrainingJob``, ``CreateHyperParameterTuningJob``, ``CreateModelPackage``) without the job name, which the pipeline sets at
run time. Arguments are checked when the step is constructed; cross-step references are checked
by :class:`~cdk_mlops.pipelines.pipeline.Pipeline`.

Secure defaults: jobs get network isolation and inter-container traffic encryption unless told
otherwise (``NetworkConfig``); KMS keys and a VPC are opt-in here because the caller owns them
(the training-pipeline builder always sets them).

This module gathers the public names of one module per concept, as the SageMaker SDK's
``workflow`` package does: ``base_step`` (``Step``), ``processing_step``, ``training_step``,
``tuning_step``, ``condition_step``, ``fail_step``, ``register_model_step``, ``conditions``, ``retry``,
``cache``, ``network`` and ``model_metrics``.
"""

from __future__ import annotations

from cdk_mlops.pipelines._checks import has_token
from cdk_mlops.pipelines.base_step import Step
from cdk_mlops.pipelines.cache import CacheConfig
from cdk_mlops.pipelines.condition_step import ConditionStep
from cdk_mlops.pipelines.conditions import (
    Condition,
    ConditionEquals,
    ConditionGreaterThan,
    ConditionGreaterThanOrEqualTo,
    ConditionIn,
    ConditionLessThan,
    ConditionLessThanOrEqualTo,
    ConditionNot,
    ConditionOr,
)
from cdk_mlops.pipelines.expressions import Parameter
from cdk_mlops.pipelines.fail_step import FailStep
from cdk_mlops.pipelines.model_metrics import (
    DriftCheckBaselines,
    FileSource,
    MetadataProperties,
    MetricsSource,
    ModelMetrics,
)
from cdk_mlops.pipelines.network import NetworkConfig, VpcConfig
from cdk_mlops.pipelines.processing_step import ProcessingInput, ProcessingOutput, ProcessingStep
from cdk_mlops.pipelines.register_model_step import ModelContainer, RegisterModelStep
from cdk_mlops.pipelines.retry import (
    RetryPolicy,
    SageMakerJobExceptionType,
    SageMakerJobStepRetryPolicy,
    StepExceptionType,
    StepRetryPolicy,
)
from cdk_mlops.pipelines.training_step import MetricDefinition, TrainingChannel, TrainingStep
from cdk_mlops.pipelines.tuning_step import (
    CategoricalParameterRange,
    ContinuousParameterRange,
    IntegerParameterRange,
    ParameterRange,
    TuningStep,
)

__all__ = [
    "CacheConfig",
    "CategoricalParameterRange",
    "Condition",
    "ConditionEquals",
    "ConditionGreaterThan",
    "ConditionGreaterThanOrEqualTo",
    "ConditionIn",
    "ConditionLessThan",
    "ConditionLessThanOrEqualTo",
    "ConditionNot",
    "ConditionOr",
    "ConditionStep",
    "ContinuousParameterRange",
    "DriftCheckBaselines",
    "FailStep",
    "FileSource",
    "IntegerParameterRange",
    "MetadataProperties",
    "MetricDefinition",
    "MetricsSource",
    "ModelContainer",
    "ModelMetrics",
    "NetworkConfig",
    "Parameter",
    "ParameterRange",
    "ProcessingInput",
    "ProcessingOutput",
    "ProcessingStep",
    "RegisterModelStep",
    "RetryPolicy",
    "SageMakerJobExceptionType",
    "SageMakerJobStepRetryPolicy",
    "Step",
    "StepExceptionType",
    "StepRetryPolicy",
    "TrainingChannel",
    "TrainingStep",
    "TuningStep",
    "VpcConfig",
    "has_token",
]
