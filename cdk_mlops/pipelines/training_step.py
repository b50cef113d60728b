"""A SageMaker training job step, its input channels and metric definitions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cdk_mlops.pipelines._checks import (
    _check_choice,
    _check_command,
    _check_environment,
    _check_instance_type,
    _check_int_range,
    _check_s3_uri,
    _check_type,
    _frozen_map,
    _frozen_tuple,
    _render_env,
)
from cdk_mlops.pipelines.base_step import _JobStep
from cdk_mlops.pipelines.errors import PipelineDefinitionError
from cdk_mlops.pipelines.expressions import Expression, Property, Value, render, value_type_of
from cdk_mlops.pipelines.network import NetworkConfig

_CHANNEL_NAME = re.compile(r"^[A-Za-z0-9.\-_]{1,64}$")


@dataclass(frozen=True, kw_only=True)
class TrainingChannel:
    """An S3 input channel of a training job (``/opt/ml/input/data/<channel_name>``)."""

    channel_name: str
    s3_uri: Value
    content_type: str | None = None
    s3_data_type: str = "S3Prefix"
    s3_data_distribution_type: str = "FullyReplicated"
    input_mode: str | None = None
    compression_type: str | None = None

    def __post_init__(self) -> None:
        where = f"TrainingChannel {self.channel_name!r}"
        if not isinstance(self.channel_name, str) or not _CHANNEL_NAME.match(self.channel_name):
            raise PipelineDefinitionError(
                f"{where}: channel names are 1 to 64 characters from A-Z a-z 0-9 . - _"
            )
        _check_s3_uri(self.s3_uri, f"{where}.s3_uri")
        _check_choice(
            self.s3_data_type,
            ("S3Prefix", "ManifestFile", "AugmentedManifestFile", "Converse"),
            f"{where}.s3_data_type",
        )
        _check_choice(
            self.s3_data_distribution_type,
            ("FullyReplicated", "ShardedByS3Key"),
            f"{where}.s3_data_distribution_type",
        )
        if self.input_mode is not None:
            _check_choice(self.input_mode, ("File", "Pipe", "FastFile"), f"{where}.input_mode")
        if self.compression_type is not None:
            _check_choice(self.compression_type, ("None", "Gzip"), f"{where}.compression_type")

    def to_request(self) -> dict[str, Any]:
        """An ``InputDataConfig`` entry."""
        out: dict[str, Any] = {
            "ChannelName": self.channel_name,
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": self.s3_data_type,
                    "S3Uri": render(self.s3_uri, f"channel {self.channel_name}"),
                    "S3DataDistributionType": self.s3_data_distribution_type,
                }
            },
        }
        if self.content_type is not None:
            out["ContentType"] = self.content_type
        if self.input_mode is not None:
            out["InputMode"] = self.input_mode
        if self.compression_type is not None:
            out["CompressionType"] = self.compression_type
        return out


@dataclass(frozen=True, kw_only=True)
class MetricDefinition:
    """A metric scraped from the training job's logs by ``regex``."""

    name: str
    regex: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not 1 <= len(self.name) <= 255:
            raise PipelineDefinitionError("MetricDefinition.name must be 1 to 255 characters")
        if not isinstance(self.regex, str) or not 1 <= len(self.regex) <= 500:
            raise PipelineDefinitionError("MetricDefinition.regex must be 1 to 500 characters")
        try:
            re.compile(self.regex)
        except re.error as exc:
            raise PipelineDefinitionError(
                f"MetricDefinition {self.name}: regex {self.regex!r} is invalid: {exc}"
            ) from exc


def _hyperparameter(value: Value, where: str) -> Any:
    """Hyperparameters are a string map: literals become strings, typed expressions a Join."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Expression) and value_type_of(value) not in ("String", None):
        return value.to_string().to_request()
    return render(value, where)


@dataclass(frozen=True, kw_only=True)
class _TrainingJobStep(_JobStep):
    """What a training step and a tuning step's training job definition share."""

    role_arn: Value
    image_uri: Value
    instance_type: Value
    output_path: Value
    instance_count: Value = 1
    volume_size_in_gb: Value = 30
    volume_kms_key_id: Value | None = None
    output_kms_key_id: Value | None = None
    training_input_mode: str = "File"
    metric_definitions: Sequence[MetricDefinition] = ()
    inputs: Sequence[TrainingChannel] = ()
    environment: Mapping[str, Value] = field(default_factory=dict)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    max_runtime_in_seconds: Value = 86400

    def __post_init__(self) -> None:
        super().__post_init__()
        w = f"step {self.name}"
        for attr in ("metric_definitions", "inputs"):
            _frozen_tuple(self, attr)
        _frozen_map(self, "environment")
        _check_type(self.role_arn, {"String"}, f"{w}: role_arn")
        _check_type(self.image_uri, {"String"}, f"{w}: image_uri")
        _check_s3_uri(self.output_path, f"{w}: output_path")
        _check_instance_type(self.instance_type, f"{w}: instance_type")
        _check_int_range(self.instance_count, 1, None, f"{w}: instance_count")
        _check_int_range(self.volume_size_in_gb, 1, None, f"{w}: volume_size_in_gb")
        _check_int_range(self.max_runtime_in_seconds, 1, None, f"{w}: max_runtime_in_seconds")
        for attr in ("volume_kms_key_id", "output_kms_key_id"):
            if getattr(self, attr) is not None:
                _check_type(getattr(self, attr), {"String"}, f"{w}: {attr}")
        _check_choice(
            self.training_input_mode, ("File", "Pipe", "FastFile"), f"{w}: training_input_mode"
        )
        _check_environment(self.environment, f"{w}: environment", 512)
        if len(self.metric_definitions) > 40:
            raise PipelineDefinitionError(f"{w}: at most 40 metric definitions")
        metric_names = [m.name for m in self.metric_definitions]
        if len(set(metric_names)) != len(metric_names):
            raise PipelineDefinitionError(f"{w}: duplicate metric definition names {metric_names}")
        if not 1 <= len(self.inputs) <= 20:
            raise PipelineDefinitionError(f"{w}: 1 to 20 input channels, got {len(self.inputs)}")
        channels = [c.channel_name for c in self.inputs]
        if len(set(channels)) != len(channels):
            raise PipelineDefinitionError(f"{w}: duplicate channel names {channels}")
        if not isinstance(self.network, NetworkConfig):
            raise PipelineDefinitionError(f"{w}: network must be a NetworkConfig")

    def _check_hyperparameters(self, values: Mapping[str, Value], what: str) -> None:
        w = f"step {self.name}"
        if len(values) > 100:
            raise PipelineDefinitionError(f"{w}: at most 100 {what}")
        for key, val in values.items():
            if not isinstance(key, str) or not 1 <= len(key) <= 256:
                raise PipelineDefinitionError(f"{w}: hyperparameter name {key!r} is invalid")
            render(val, f"{w}: hyperparameter {key}")
            if isinstance(val, str) and len(val) > 2500:
                raise PipelineDefinitionError(f"{w}: hyperparameter {key} is over 2500 characters")

    def _render_hyperparameters(self, values: Mapping[str, Value]) -> dict[str, Any]:
        return {
            k: _hyperparameter(v, f"step {self.name}: hyperparameter {k}")
            for k, v in values.items()
        }

    def _algorithm(self) -> dict[str, Any]:
        """``AlgorithmSpecification`` without the entry point (a tuning job has none)."""
        algo: dict[str, Any] = {
            "TrainingInputMode": self.training_input_mode,
            "TrainingImage": render(self.image_uri, f"step {self.name}: image_uri"),
        }
        if self.metric_definitions:
            algo["MetricDefinitions"] = [
                {"Name": m.name, "Regex": m.regex} for m in self.metric_definitions
            ]
        return algo

    def _job(self) -> dict[str, Any]:
        """The request members of a training job besides its algorithm and hyperparameters."""
        w = f"step {self.name}"
        output: dict[str, Any] = {"S3OutputPath": render(self.output_path, f"{w}: output_path")}
        if self.output_kms_key_id is not None:
            output["KmsKeyId"] = render(self.output_kms_key_id, f"{w}: output_kms_key_id")
        resources: dict[str, Any] = {
            "VolumeSizeInGB": render(self.volume_size_in_gb, f"{w}: volume_size_in_gb"),
            "InstanceCount": render(self.instance_count, f"{w}: instance_count"),
            "InstanceType": render(self.instance_type, f"{w}: instance_type"),
        }
        if self.volume_kms_key_id is not None:
            resources["VolumeKmsKeyId"] = render(self.volume_kms_key_id, f"{w}: volume_kms_key_id")
        args: dict[str, Any] = {
            "OutputDataConfig": output,
            "StoppingCondition": {
                "MaxRuntimeInSeconds": render(self.max_runtime_in_seconds, f"{w}: max_runtime")
            },
            "ResourceConfig": resources,
            "RoleArn": render(self.role_arn, f"{w}: role_arn"),
            "InputDataConfig": [c.to_request() for c in self.inputs],
        }
        if self.environment:
            args["Environment"] = _render_env(self.environment, f"{w}: environment")
        if self.network.vpc is not None:
            args["VpcConfig"] = self.network.vpc.to_request()
        args["EnableNetworkIsolation"] = self.network.enable_network_isolation
        args["EnableInterContainerTrafficEncryption"] = (
            self.network.enable_inter_container_traffic_encryption
        )
        return args


@dataclass(frozen=True, kw_only=True)
class TrainingStep(_TrainingJobStep):
    """A SageMaker training job (``CreateTrainingJob`` arguments)."""

    STEP_TYPE: ClassVar[str] = "Training"
    entrypoint: Sequence[Value] = ()
    container_arguments: Sequence[Value] = ()
    hyperparameters: Mapping[str, Value] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        w = f"step {self.name}"
        for attr in ("entrypoint", "container_arguments"):
            _frozen_tuple(self, attr)
        _frozen_map(self, "hyperparameters")
        _check_command(self.entrypoint, f"{w}: entrypoint")
        _check_command(self.container_arguments, f"{w}: container_arguments")
        self._check_hyperparameters(self.hyperparameters, "hyperparameters")

    def arguments(self) -> dict[str, Any]:
        """``CreateTrainingJob`` request without ``TrainingJobName``."""
        w = f"step {self.name}"
        algo = self._algorithm()
        if self.entrypoint:
            algo["ContainerEntrypoint"] = [render(v, f"{w}: entrypoint") for v in self.entrypoint]
        if self.container_arguments:
            algo["ContainerArguments"] = [
                render(v, f"{w}: container_arguments") for v in self.container_arguments
            ]
        args: dict[str, Any] = {"AlgorithmSpecification": algo, **self._job()}
        if self.hyperparameters:
            args["HyperParameters"] = self._render_hyperparameters(self.hyperparameters)
        return args

    def model_artifacts(self) -> Property:
        """S3 URI of the trained ``model.tar.gz`` (``ModelArtifacts.S3ModelArtifacts``)."""
        return self.properties.ModelArtifacts.S3ModelArtifacts

    def final_metric(self, metric_name: str) -> Property:
        """Final value of a metric named in ``metric_definitions``."""
        names = [m.name for m in self.metric_definitions]
        if metric_name not in names:
            raise PipelineDefinitionError(
                f"step {self.name} defines no metric {metric_name!r}; metrics: {names}"
            )
        return self.properties.FinalMetricDataList[metric_name].Value
