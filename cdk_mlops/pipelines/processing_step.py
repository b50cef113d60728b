"""A SageMaker Processing job step, its S3 inputs and outputs."""

from __future__ import annotations

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
from cdk_mlops.pipelines.expressions import JsonGet, Property, PropertyFile, Value, render
from cdk_mlops.pipelines.network import NetworkConfig

_PROCESSING_ROOT = "/opt/ml/processing/"


@dataclass(frozen=True, kw_only=True)
class ProcessingInput:
    """An S3 input copied to ``destination`` (a path under /opt/ml/processing/)."""

    input_name: str
    source: Value
    destination: str
    s3_data_type: str = "S3Prefix"
    s3_input_mode: str = "File"
    s3_data_distribution_type: str = "FullyReplicated"
    s3_compression_type: str = "None"

    def __post_init__(self) -> None:
        where = f"ProcessingInput {self.input_name!r}"
        if not isinstance(self.input_name, str) or not self.input_name:
            raise PipelineDefinitionError("ProcessingInput.input_name must be a non-empty string")
        _check_s3_uri(self.source, f"{where}.source")
        _check_processing_path(self.destination, f"{where}.destination")
        _check_choice(self.s3_data_type, ("S3Prefix", "ManifestFile"), f"{where}.s3_data_type")
        _check_choice(self.s3_input_mode, ("File", "Pipe"), f"{where}.s3_input_mode")
        _check_choice(
            self.s3_data_distribution_type,
            ("FullyReplicated", "ShardedByS3Key"),
            f"{where}.s3_data_distribution_type",
        )
        _check_choice(self.s3_compression_type, ("None", "Gzip"), f"{where}.s3_compression_type")

    def to_request(self) -> dict[str, Any]:
        """A ``ProcessingInputs`` entry (the SDK's field order)."""
        return {
            "InputName": self.input_name,
            "AppManaged": False,
            "S3Input": {
                "S3Uri": render(self.source, f"input {self.input_name}.source"),
                "LocalPath": self.destination,
                "S3DataType": self.s3_data_type,
                "S3InputMode": self.s3_input_mode,
                "S3DataDistributionType": self.s3_data_distribution_type,
                "S3CompressionType": self.s3_compression_type,
            },
        }


@dataclass(frozen=True, kw_only=True)
class ProcessingOutput:
    """A local folder (under /opt/ml/processing/) uploaded to ``destination`` in S3."""

    output_name: str
    source: str
    destination: Value
    s3_upload_mode: str = "EndOfJob"

    def __post_init__(self) -> None:
        where = f"ProcessingOutput {self.output_name!r}"
        if not isinstance(self.output_name, str) or not self.output_name:
            raise PipelineDefinitionError("ProcessingOutput.output_name must be a non-empty string")
        _check_processing_path(self.source, f"{where}.source")
        _check_s3_uri(self.destination, f"{where}.destination")
        _check_choice(self.s3_upload_mode, ("EndOfJob", "Continuous"), f"{where}.s3_upload_mode")

    def to_request(self) -> dict[str, Any]:
        """A ``ProcessingOutputConfig.Outputs`` entry."""
        return {
            "OutputName": self.output_name,
            "AppManaged": False,
            "S3Output": {
                "S3Uri": render(self.destination, f"output {self.output_name}.destination"),
                "LocalPath": self.source,
                "S3UploadMode": self.s3_upload_mode,
            },
        }


def _check_processing_path(path: object, where: str) -> None:
    if (
        not isinstance(path, str)
        or not path.startswith(_PROCESSING_ROOT)
        or len(path) > 256
        or path.rstrip("/") == _PROCESSING_ROOT.rstrip("/")
    ):
        raise PipelineDefinitionError(
            f"{where}: {path!r} must be a folder below {_PROCESSING_ROOT} (at most 256 characters)"
        )


@dataclass(frozen=True, kw_only=True)
class ProcessingStep(_JobStep):
    """A SageMaker Processing job (``CreateProcessingJob`` arguments)."""

    STEP_TYPE: ClassVar[str] = "Processing"
    role_arn: Value
    image_uri: Value
    instance_type: Value
    instance_count: Value = 1
    volume_size_in_gb: Value = 30
    volume_kms_key_id: Value | None = None
    entrypoint: Sequence[Value] = ()
    container_arguments: Sequence[Value] = ()
    inputs: Sequence[ProcessingInput] = ()
    outputs: Sequence[ProcessingOutput] = ()
    output_kms_key_id: Value | None = None
    environment: Mapping[str, Value] = field(default_factory=dict)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    max_runtime_in_seconds: Value = 86400
    property_files: Sequence[PropertyFile] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        w = f"step {self.name}"
        for attr in ("entrypoint", "container_arguments", "inputs", "outputs", "property_files"):
            _frozen_tuple(self, attr)
        _frozen_map(self, "environment")
        _check_type(self.role_arn, {"String"}, f"{w}: role_arn")
        _check_type(self.image_uri, {"String"}, f"{w}: image_uri")
        _check_instance_type(self.instance_type, f"{w}: instance_type")
        _check_int_range(self.instance_count, 1, 100, f"{w}: instance_count")
        _check_int_range(self.volume_size_in_gb, 1, 16384, f"{w}: volume_size_in_gb")
        _check_int_range(self.max_runtime_in_seconds, 1, 777600, f"{w}: max_runtime_in_seconds")
        for attr in ("volume_kms_key_id", "output_kms_key_id"):
            if getattr(self, attr) is not None:
                _check_type(getattr(self, attr), {"String"}, f"{w}: {attr}")
        _check_command(self.entrypoint, f"{w}: entrypoint")
        _check_command(self.container_arguments, f"{w}: container_arguments")
        _check_environment(self.environment, f"{w}: environment", 256)
        if not isinstance(self.network, NetworkConfig):
            raise PipelineDefinitionError(f"{w}: network must be a NetworkConfig")
        for kind, items, name_attr, path_attr in (
            ("input", self.inputs, "input_name", "destination"),
            ("output", self.outputs, "output_name", "source"),
        ):
            if len(items) > 10:
                raise PipelineDefinitionError(f"{w}: at most 10 {kind}s, got {len(items)}")
            seen_names: set[str] = set()
            seen_paths: set[str] = set()
            for item in items:
                name, path = getattr(item, name_attr), getattr(item, path_attr)
                if name in seen_names:
                    raise PipelineDefinitionError(f"{w}: duplicate {kind} name {name!r}")
                if path in seen_paths:
                    raise PipelineDefinitionError(f"{w}: two {kind}s use the local path {path!r}")
                seen_names.add(name)
                seen_paths.add(path)
        output_names = [o.output_name for o in self.outputs]
        file_names: set[str] = set()
        for pf in self.property_files:
            if not isinstance(pf, PropertyFile):
                raise PipelineDefinitionError(f"{w}: property_files entries must be PropertyFile")
            if pf.name in file_names:
                raise PipelineDefinitionError(f"{w}: duplicate property file {pf.name!r}")
            file_names.add(pf.name)
            if pf.output_name not in output_names:
                raise PipelineDefinitionError(
                    f"{w}: property file {pf.name!r} reads output {pf.output_name!r}, but the "
                    f"step's outputs are {output_names}"
                )

    def arguments(self) -> dict[str, Any]:
        """``CreateProcessingJob`` request without ``ProcessingJobName``."""
        w = f"step {self.name}"
        cluster: dict[str, Any] = {
            "InstanceType": render(self.instance_type, f"{w}: instance_type"),
            "InstanceCount": render(self.instance_count, f"{w}: instance_count"),
            "VolumeSizeInGB": render(self.volume_size_in_gb, f"{w}: volume_size_in_gb"),
        }
        if self.volume_kms_key_id is not None:
            cluster["VolumeKmsKeyId"] = render(self.volume_kms_key_id, f"{w}: volume_kms_key_id")
        app: dict[str, Any] = {"ImageUri": render(self.image_uri, f"{w}: image_uri")}
        if self.entrypoint:
            app["ContainerEntrypoint"] = [render(v, f"{w}: entrypoint") for v in self.entrypoint]
        if self.container_arguments:
            app["ContainerArguments"] = [
                render(v, f"{w}: container_arguments") for v in self.container_arguments
            ]
        args: dict[str, Any] = {
            "ProcessingResources": {"ClusterConfig": cluster},
            "AppSpecification": app,
            "RoleArn": render(self.role_arn, f"{w}: role_arn"),
        }
        if self.inputs:
            args["ProcessingInputs"] = [i.to_request() for i in self.inputs]
        if self.outputs:
            output_config: dict[str, Any] = {"Outputs": [o.to_request() for o in self.outputs]}
            if self.output_kms_key_id is not None:
                output_config["KmsKeyId"] = render(
                    self.output_kms_key_id, f"{w}: output_kms_key_id"
                )
            args["ProcessingOutputConfig"] = output_config
        if self.environment:
            args["Environment"] = _render_env(self.environment, f"{w}: environment")
        network: dict[str, Any] = {
            "EnableNetworkIsolation": self.network.enable_network_isolation,
            "EnableInterContainerTrafficEncryption": (
                self.network.enable_inter_container_traffic_encryption
            ),
        }
        if self.network.vpc is not None:
            network["VpcConfig"] = self.network.vpc.to_request()
        args["NetworkConfig"] = network
        args["StoppingCondition"] = {
            "MaxRuntimeInSeconds": render(self.max_runtime_in_seconds, f"{w}: max_runtime")
        }
        return args

    def extra_fields(self) -> dict[str, Any]:
        """Retries, caching and ``PropertyFiles``."""
        out = super().extra_fields()
        if self.property_files:
            out["PropertyFiles"] = [pf.to_definition() for pf in self.property_files]
        return out

    @property
    def output_names(self) -> tuple[str, ...]:
        """Names of the step's outputs."""
        return tuple(o.output_name for o in self.outputs)

    def output_uri(self, output_name: str) -> Property:
        """The S3 URI an output was uploaded to (``ProcessingOutputConfig.Outputs[name]``)."""
        if output_name not in self.output_names:
            raise PipelineDefinitionError(
                f"step {self.name} has no output {output_name!r}; outputs: {list(self.output_names)}"
            )
        outputs = self.properties.ProcessingOutputConfig.Outputs
        return outputs[output_name].S3Output.S3Uri

    def json_get(self, property_file: str | PropertyFile, json_path: str) -> JsonGet:
        """``Std:JsonGet`` on one of this step's property files."""
        file_name = property_file if isinstance(property_file, str) else property_file.name
        known = [pf.name for pf in self.property_files]
        if file_name not in known:
            raise PipelineDefinitionError(
                f"step {self.name} has no property file {file_name!r}; property files: {known}"
            )
        return JsonGet(step_name=self.name, property_file=file_name, json_path=json_path)
