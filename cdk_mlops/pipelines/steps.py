"""Typed pipeline steps: Processing, Training, Condition, Fail and RegisterModel.

Each step renders to the JSON SageMaker Pipelines expects (the same shape the SageMaker Python
SDK writes). Job steps' ``Arguments`` are the SageMaker API request (``CreateProcessingJob``,
``CreateTrainingJob``, ``CreateModelPackage``) without the job name, which the pipeline sets at
run time. Arguments are checked when the step is constructed; cross-step references are checked
by :class:`~cdk_mlops.pipelines.pipeline.Pipeline`.

Secure defaults: jobs get network isolation and inter-container traffic encryption unless told
otherwise (``NetworkConfig``); KMS keys and a VPC are opt-in here because the caller owns them
(the training-pipeline builder always sets them).
"""

from __future__ import annotations

import abc
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

from cdk_mlops.pipelines.errors import PipelineDefinitionError
from cdk_mlops.pipelines.expressions import (
    Expression,
    JsonGet,
    Parameter,
    ParameterString,
    Property,
    PropertyFile,
    Value,
    check_name,
    render,
    value_type_of,
)

_TOKEN = re.compile(r"\$\{Token\[[^\]]+\]\}")
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$")
_ENV_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_CHANNEL_NAME = re.compile(r"^[A-Za-z0-9.\-_]{1,64}$")
_ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")
_CUSTOMER_METADATA = re.compile(r"^[\w\s.:/=+\-@]*$")
_PROCESSING_ROOT = "/opt/ml/processing/"


def has_token(value: object) -> bool:
    """True if ``value`` is a string holding a CDK token (resolved at deploy time)."""
    return isinstance(value, str) and bool(_TOKEN.search(value))


def _frozen_tuple(obj: object, attr: str) -> None:
    value = getattr(obj, attr)
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise PipelineDefinitionError(
            f"{type(obj).__name__}.{attr} must be a list or tuple, got {value!r}"
        )
    object.__setattr__(obj, attr, tuple(value))


def _frozen_map(obj: object, attr: str) -> None:
    value = getattr(obj, attr)
    if not isinstance(value, Mapping):
        raise PipelineDefinitionError(
            f"{type(obj).__name__}.{attr} must be a mapping, got {value!r}"
        )
    # Sorted so that the definition does not depend on the caller's dict order.
    object.__setattr__(obj, attr, MappingProxyType({k: value[k] for k in sorted(value)}))


def _check_type(value: Value, expected: set[str], where: str) -> None:
    """Raise when a literal or a typed expression does not have one of the expected types."""
    render(value, where)
    actual = value_type_of(value)
    if actual is None:  # e.g. JsonGet: only known at run time
        return
    if actual not in expected:
        raise PipelineDefinitionError(
            f"{where}: expected {' or '.join(sorted(expected))}, got {actual} ({value!r})"
        )


def _check_choice(value: object, choices: Sequence[str], where: str) -> None:
    if value not in choices:
        raise PipelineDefinitionError(f"{where}: {value!r} is not one of {list(choices)}")


def _check_int_range(value: Value, low: int, high: int | None, where: str) -> None:
    _check_type(value, {"Integer"}, where)
    if isinstance(value, int) and not (low <= value and (high is None or value <= high)):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise PipelineDefinitionError(f"{where}: {value} is out of range ({bound})")


def _check_instance_type(value: Value, where: str) -> None:
    _check_type(value, {"String"}, where)
    candidates: list[object] = []
    if isinstance(value, str) and not has_token(value):
        candidates = [value]
    elif isinstance(value, ParameterString):
        candidates = [value.default_value, *(value.enum_values or ())]
    for candidate in candidates:
        if candidate is not None and not _INSTANCE_TYPE.match(str(candidate)):
            raise PipelineDefinitionError(
                f"{where}: {candidate!r} is not a SageMaker instance type; they look like "
                f"'ml.m5.xlarge'"
            )


def _check_s3_uri(value: Value, where: str) -> None:
    _check_type(value, {"String"}, where)
    if isinstance(value, str) and not has_token(value) and not value.startswith("s3://"):
        raise PipelineDefinitionError(f"{where}: {value!r} is not an S3 URI (s3://bucket/key)")


def _check_environment(env: Mapping[str, Value], where: str, max_len: int) -> None:
    if len(env) > 100:
        raise PipelineDefinitionError(f"{where}: at most 100 variables, got {len(env)}")
    for key, val in env.items():
        if not isinstance(key, str) or not _ENV_KEY.match(key) or len(key) > max_len:
            raise PipelineDefinitionError(
                f"{where}: variable name {key!r} must match [a-zA-Z_][a-zA-Z0-9_]* "
                f"(at most {max_len} characters)"
            )
        _check_type(val, {"String"}, f"{where}[{key}]")


def _render_env(env: Mapping[str, Value], where: str) -> dict[str, Any]:
    return {k: render(v, f"{where}[{k}]") for k, v in env.items()}


# ----------------------------------------------------------------------- shared job settings


@dataclass(frozen=True, kw_only=True)
class VpcConfig:
    """Subnets and security groups a job runs in (ids or CDK tokens)."""

    subnet_ids: Sequence[str]
    security_group_ids: Sequence[str]

    def __post_init__(self) -> None:
        _frozen_tuple(self, "subnet_ids")
        _frozen_tuple(self, "security_group_ids")
        if not 1 <= len(self.subnet_ids) <= 16:
            raise PipelineDefinitionError(
                f"VpcConfig.subnet_ids: 1 to 16 subnets, got {len(self.subnet_ids)}"
            )
        if not 1 <= len(self.security_group_ids) <= 5:
            raise PipelineDefinitionError(
                f"VpcConfig.security_group_ids: 1 to 5 groups, got {len(self.security_group_ids)}"
            )
        for v in (*self.subnet_ids, *self.security_group_ids):
            if not isinstance(v, str) or not v:
                raise PipelineDefinitionError(
                    f"VpcConfig: ids must be non-empty strings, got {v!r}"
                )

    def to_request(self) -> dict[str, Any]:
        """``VpcConfig`` as in the SageMaker API."""
        return {
            "SecurityGroupIds": list(self.security_group_ids),
            "Subnets": list(self.subnet_ids),
        }


@dataclass(frozen=True, kw_only=True)
class NetworkConfig:
    """Network settings of a job. Isolation and traffic encryption are on by default."""

    vpc: VpcConfig | None = None
    enable_network_isolation: bool = True
    enable_inter_container_traffic_encryption: bool = True

    def __post_init__(self) -> None:
        for attr in ("enable_network_isolation", "enable_inter_container_traffic_encryption"):
            if not isinstance(getattr(self, attr), bool):
                raise PipelineDefinitionError(f"NetworkConfig.{attr} must be a bool")


@dataclass(frozen=True, kw_only=True)
class CacheConfig:
    """Step caching: reuse a previous successful run with the same arguments.

    ``expire_after`` is an ISO 8601 duration such as ``P30D`` or ``PT12H``.
    """

    enabled: bool = True
    expire_after: str | None = None

    def __post_init__(self) -> None:
        if self.expire_after is not None and not _ISO_DURATION.match(self.expire_after):
            raise PipelineDefinitionError(
                f"CacheConfig.expire_after {self.expire_after!r} is not an ISO 8601 duration "
                f"(e.g. 'P30D', 'PT12H')"
            )

    def to_request(self) -> dict[str, Any]:
        """``{"Enabled": ..., "ExpireAfter": ...}``."""
        out: dict[str, Any] = {"Enabled": self.enabled}
        if self.expire_after is not None:
            out["ExpireAfter"] = self.expire_after
        return out


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


# ---------------------------------------------------------------------------------- base step


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


# --------------------------------------------------------------------------------- processing


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


def _check_command(values: Sequence[Value], where: str) -> None:
    if len(values) > 100:
        raise PipelineDefinitionError(f"{where}: at most 100 entries, got {len(values)}")
    for i, v in enumerate(values):
        _check_type(v, {"String"}, f"{where}[{i}]")
        if isinstance(v, str) and not has_token(v) and len(v) > 256:
            raise PipelineDefinitionError(
                f"{where}[{i}]: SageMaker limits each entry to 256 characters, got {len(v)}"
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


# ----------------------------------------------------------------------------------- training


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
class TrainingStep(_JobStep):
    """A SageMaker training job (``CreateTrainingJob`` arguments)."""

    STEP_TYPE: ClassVar[str] = "Training"
    role_arn: Value
    image_uri: Value
    instance_type: Value
    output_path: Value
    instance_count: Value = 1
    volume_size_in_gb: Value = 30
    volume_kms_key_id: Value | None = None
    output_kms_key_id: Value | None = None
    training_input_mode: str = "File"
    entrypoint: Sequence[Value] = ()
    container_arguments: Sequence[Value] = ()
    metric_definitions: Sequence[MetricDefinition] = ()
    hyperparameters: Mapping[str, Value] = field(default_factory=dict)
    inputs: Sequence[TrainingChannel] = ()
    environment: Mapping[str, Value] = field(default_factory=dict)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    max_runtime_in_seconds: Value = 86400

    def __post_init__(self) -> None:
        super().__post_init__()
        w = f"step {self.name}"
        for attr in ("entrypoint", "container_arguments", "metric_definitions", "inputs"):
            _frozen_tuple(self, attr)
        _frozen_map(self, "hyperparameters")
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
        _check_command(self.entrypoint, f"{w}: entrypoint")
        _check_command(self.container_arguments, f"{w}: container_arguments")
        _check_environment(self.environment, f"{w}: environment", 512)
        if len(self.hyperparameters) > 100:
            raise PipelineDefinitionError(f"{w}: at most 100 hyperparameters")
        for key, val in self.hyperparameters.items():
            if not isinstance(key, str) or not 1 <= len(key) <= 256:
                raise PipelineDefinitionError(f"{w}: hyperparameter name {key!r} is invalid")
            render(val, f"{w}: hyperparameter {key}")
            if isinstance(val, str) and len(val) > 2500:
                raise PipelineDefinitionError(f"{w}: hyperparameter {key} is over 2500 characters")
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

    def arguments(self) -> dict[str, Any]:
        """``CreateTrainingJob`` request without ``TrainingJobName``."""
        w = f"step {self.name}"
        algo: dict[str, Any] = {
            "TrainingInputMode": self.training_input_mode,
            "TrainingImage": render(self.image_uri, f"{w}: image_uri"),
        }
        if self.metric_definitions:
            algo["MetricDefinitions"] = [
                {"Name": m.name, "Regex": m.regex} for m in self.metric_definitions
            ]
        if self.entrypoint:
            algo["ContainerEntrypoint"] = [render(v, f"{w}: entrypoint") for v in self.entrypoint]
        if self.container_arguments:
            algo["ContainerArguments"] = [
                render(v, f"{w}: container_arguments") for v in self.container_arguments
            ]
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
            "AlgorithmSpecification": algo,
            "OutputDataConfig": output,
            "StoppingCondition": {
                "MaxRuntimeInSeconds": render(self.max_runtime_in_seconds, f"{w}: max_runtime")
            },
            "ResourceConfig": resources,
            "RoleArn": render(self.role_arn, f"{w}: role_arn"),
            "InputDataConfig": [c.to_request() for c in self.inputs],
        }
        if self.hyperparameters:
            args["HyperParameters"] = {
                k: _hyperparameter(v, f"{w}: hyperparameter {k}")
                for k, v in self.hyperparameters.items()
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


# ---------------------------------------------------------------------------------- condition


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


# ----------------------------------------------------------------------------- register model


@dataclass(frozen=True, kw_only=True)
class MetricsSource:
    """A metrics/constraints file in S3 for the model registry (``MetricsSource``)."""

    s3_uri: Value
    content_type: str = "application/json"
    content_digest: str | None = None

    def __post_init__(self) -> None:
        _check_s3_uri(self.s3_uri, "MetricsSource.s3_uri")
        if not isinstance(self.content_type, str) or not self.content_type:
            raise PipelineDefinitionError("MetricsSource.content_type must be a non-empty string")

    def to_request(self) -> dict[str, Any]:
        """``{"ContentType": ..., "S3Uri": ...}``."""
        out: dict[str, Any] = {"ContentType": self.content_type}
        if self.content_digest is not None:
            out["ContentDigest"] = self.content_digest
        out["S3Uri"] = render(self.s3_uri, "MetricsSource.s3_uri")
        return out


@dataclass(frozen=True, kw_only=True)
class FileSource:
    """A configuration file in S3 (``FileSource``; content type optional)."""

    s3_uri: Value
    content_type: str | None = None
    content_digest: str | None = None

    def __post_init__(self) -> None:
        _check_s3_uri(self.s3_uri, "FileSource.s3_uri")

    def to_request(self) -> dict[str, Any]:
        """``{"S3Uri": ...}`` plus the optional fields."""
        out: dict[str, Any] = {}
        if self.content_type is not None:
            out["ContentType"] = self.content_type
        if self.content_digest is not None:
            out["ContentDigest"] = self.content_digest
        out["S3Uri"] = render(self.s3_uri, "FileSource.s3_uri")
        return out


def _group(pairs: Sequence[tuple[str, MetricsSource | FileSource | None]]) -> dict[str, Any]:
    return {key: src.to_request() for key, src in pairs if src is not None}


@dataclass(frozen=True, kw_only=True)
class ModelMetrics:
    """Metrics recorded on a model package (``ModelMetrics``)."""

    model_quality_statistics: MetricsSource | None = None
    model_quality_constraints: MetricsSource | None = None
    model_data_quality_statistics: MetricsSource | None = None
    model_data_quality_constraints: MetricsSource | None = None
    bias_report: MetricsSource | None = None
    bias_pre_training_report: MetricsSource | None = None
    bias_post_training_report: MetricsSource | None = None
    explainability_report: MetricsSource | None = None

    def to_request(self) -> dict[str, Any]:
        """Only the groups that have at least one source."""
        groups = {
            "ModelQuality": _group(
                [
                    ("Statistics", self.model_quality_statistics),
                    ("Constraints", self.model_quality_constraints),
                ]
            ),
            "ModelDataQuality": _group(
                [
                    ("Statistics", self.model_data_quality_statistics),
                    ("Constraints", self.model_data_quality_constraints),
                ]
            ),
            "Bias": _group(
                [
                    ("Report", self.bias_report),
                    ("PreTrainingReport", self.bias_pre_training_report),
                    ("PostTrainingReport", self.bias_post_training_report),
                ]
            ),
            "Explainability": _group([("Report", self.explainability_report)]),
        }
        return {k: v for k, v in groups.items() if v}


@dataclass(frozen=True, kw_only=True)
class DriftCheckBaselines:
    """Baselines later drift checks compare against (``DriftCheckBaselines``)."""

    model_data_quality_statistics: MetricsSource | None = None
    model_data_quality_constraints: MetricsSource | None = None
    model_quality_statistics: MetricsSource | None = None
    model_quality_constraints: MetricsSource | None = None
    bias_config_file: FileSource | None = None
    bias_pre_training_constraints: MetricsSource | None = None
    bias_post_training_constraints: MetricsSource | None = None
    explainability_constraints: MetricsSource | None = None
    explainability_config_file: FileSource | None = None

    def to_request(self) -> dict[str, Any]:
        """Only the groups that have at least one source."""
        groups = {
            "Bias": _group(
                [
                    ("ConfigFile", self.bias_config_file),
                    ("PreTrainingConstraints", self.bias_pre_training_constraints),
                    ("PostTrainingConstraints", self.bias_post_training_constraints),
                ]
            ),
            "Explainability": _group(
                [
                    ("Constraints", self.explainability_constraints),
                    ("ConfigFile", self.explainability_config_file),
                ]
            ),
            "ModelQuality": _group(
                [
                    ("Statistics", self.model_quality_statistics),
                    ("Constraints", self.model_quality_constraints),
                ]
            ),
            "ModelDataQuality": _group(
                [
                    ("Statistics", self.model_data_quality_statistics),
                    ("Constraints", self.model_data_quality_constraints),
                ]
            ),
        }
        return {k: v for k, v in groups.items() if v}


@dataclass(frozen=True, kw_only=True)
class MetadataProperties:
    """Provenance recorded on a model package (``MetadataProperties``)."""

    commit_id: Value | None = None
    repository: Value | None = None
    generated_by: Value | None = None
    project_id: Value | None = None

    def to_request(self) -> dict[str, Any]:
        """Only the fields that are set."""
        out: dict[str, Any] = {}
        for key, val in (
            ("CommitId", self.commit_id),
            ("Repository", self.repository),
            ("GeneratedBy", self.generated_by),
            ("ProjectId", self.project_id),
        ):
            if val is not None:
                _check_type(val, {"String"}, f"MetadataProperties.{key}")
                out[key] = render(val, f"MetadataProperties.{key}")
        return out


@dataclass(frozen=True, kw_only=True)
class ModelContainer:
    """An inference container of a model package: image, model data, environment."""

    image: Value
    model_data_url: Value | None = None
    environment: Mapping[str, Value] = field(default_factory=dict)
    framework: str | None = None
    framework_version: str | None = None

    def __post_init__(self) -> None:
        _frozen_map(self, "environment")
        _check_type(self.image, {"String"}, "ModelContainer.image")
        if self.model_data_url is not None:
            _check_s3_uri(self.model_data_url, "ModelContainer.model_data_url")
        _check_environment(self.environment, "ModelContainer.environment", 1024)

    def to_request(self) -> dict[str, Any]:
        """A ``InferenceSpecification.Containers`` entry."""
        out: dict[str, Any] = {"Image": render(self.image, "ModelContainer.image")}
        if self.environment:
            out["Environment"] = _render_env(self.environment, "ModelContainer.environment")
        if self.model_data_url is not None:
            out["ModelDataUrl"] = render(self.model_data_url, "ModelContainer.model_data_url")
        if self.framework is not None:
            out["Framework"] = self.framework
        if self.framework_version is not None:
            out["FrameworkVersion"] = self.framework_version
        return out


_APPROVAL = ("Approved", "Rejected", "PendingManualApproval")


@dataclass(frozen=True, kw_only=True)
class RegisterModelStep(Step):
    """Registers a model package version (``CreateModelPackage`` arguments).

    Emitted like the SDK's ``RegisterModel`` step collection: step type ``RegisterModel``.
    """

    STEP_TYPE: ClassVar[str] = "RegisterModel"
    model_package_group_name: Value
    containers: Sequence[ModelContainer]
    content_types: Sequence[str] = ("text/csv",)
    response_types: Sequence[str] = ("text/csv",)
    inference_instances: Sequence[str] | None = None
    transform_instances: Sequence[str] | None = None
    approval_status: Value = "PendingManualApproval"
    model_metrics: ModelMetrics | None = None
    drift_check_baselines: DriftCheckBaselines | None = None
    customer_metadata_properties: Mapping[str, Value] = field(default_factory=dict)
    metadata_properties: MetadataProperties | None = None
    model_package_description: str | None = None
    retry_policies: Sequence[StepRetryPolicy] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        w = f"step {self.name}"
        for attr in ("containers", "content_types", "response_types", "retry_policies"):
            _frozen_tuple(self, attr)
        for attr in ("inference_instances", "transform_instances"):
            if getattr(self, attr) is not None:
                _frozen_tuple(self, attr)
                for i, it in enumerate(getattr(self, attr)):
                    _check_instance_type(it, f"{w}: {attr}[{i}]")
        _frozen_map(self, "customer_metadata_properties")
        _check_type(self.model_package_group_name, {"String"}, f"{w}: model_package_group_name")
        if not 1 <= len(self.containers) <= 15:
            raise PipelineDefinitionError(f"{w}: 1 to 15 containers, got {len(self.containers)}")
        for c in self.containers:
            if not isinstance(c, ModelContainer):
                raise PipelineDefinitionError(f"{w}: containers entries must be ModelContainer")
        _check_type(self.approval_status, {"String"}, f"{w}: approval_status")
        statuses: list[object] = []
        if isinstance(self.approval_status, str) and not has_token(self.approval_status):
            statuses = [self.approval_status]
        elif isinstance(self.approval_status, ParameterString):
            statuses = [
                self.approval_status.default_value,
                *(self.approval_status.enum_values or ()),
            ]
        for status in statuses:
            if status is not None and status not in _APPROVAL:
                raise PipelineDefinitionError(
                    f"{w}: approval status {status!r} is not one of {list(_APPROVAL)}"
                )
        meta = self.customer_metadata_properties
        if len(meta) > 50:
            raise PipelineDefinitionError(f"{w}: at most 50 customer metadata properties")
        for key, val in meta.items():
            if (
                not isinstance(key, str)
                or not 1 <= len(key) <= 128
                or not _CUSTOMER_METADATA.match(key)
            ):
                raise PipelineDefinitionError(
                    f"{w}: customer metadata key {key!r} must be 1 to 128 letters, digits, "
                    f"spaces or _.:/=+-@"
                )
            _check_type(val, {"String"}, f"{w}: customer metadata {key}")
            if (
                isinstance(val, str)
                and not has_token(val)
                and (not 1 <= len(val) <= 256 or not _CUSTOMER_METADATA.match(val))
            ):
                raise PipelineDefinitionError(
                    f"{w}: customer metadata {key}={val!r} must be 1 to 256 letters, digits, "
                    f"spaces or _.:/=+-@"
                )
        if (
            self.model_package_description is not None
            and len(self.model_package_description) > 1024
        ):
            raise PipelineDefinitionError(f"{w}: model_package_description over 1024 characters")
        for policy in self.retry_policies:
            if not isinstance(policy, StepRetryPolicy):
                raise PipelineDefinitionError(
                    f"{w}: a RegisterModel step runs no job; only StepRetryPolicy applies"
                )

    def arguments(self) -> dict[str, Any]:
        """``CreateModelPackage`` request (the SDK's field order)."""
        w = f"step {self.name}"
        args: dict[str, Any] = {
            "ModelPackageGroupName": render(
                self.model_package_group_name, f"{w}: model_package_group_name"
            )
        }
        if self.model_metrics is not None and self.model_metrics.to_request():
            args["ModelMetrics"] = self.model_metrics.to_request()
        if self.drift_check_baselines is not None and self.drift_check_baselines.to_request():
            args["DriftCheckBaselines"] = self.drift_check_baselines.to_request()
        if self.customer_metadata_properties:
            args["CustomerMetadataProperties"] = {
                k: render(v, f"{w}: customer metadata {k}")
                for k, v in self.customer_metadata_properties.items()
            }
        spec: dict[str, Any] = {
            "Containers": [c.to_request() for c in self.containers],
            "SupportedContentTypes": list(self.content_types),
            "SupportedResponseMIMETypes": list(self.response_types),
        }
        if self.inference_instances is not None:
            spec["SupportedRealtimeInferenceInstanceTypes"] = list(self.inference_instances)
        if self.transform_instances is not None:
            spec["SupportedTransformInstanceTypes"] = list(self.transform_instances)
        args["InferenceSpecification"] = spec
        args["ModelApprovalStatus"] = render(self.approval_status, f"{w}: approval_status")
        if self.metadata_properties is not None and self.metadata_properties.to_request():
            args["MetadataProperties"] = self.metadata_properties.to_request()
        if self.model_package_description is not None:
            args["ModelPackageDescription"] = self.model_package_description
        return args

    def extra_fields(self) -> dict[str, Any]:
        """``RetryPolicies``."""
        if self.retry_policies:
            return {"RetryPolicies": [p.to_request() for p in self.retry_policies]}
        return {}

    @property
    def properties(self) -> Property:
        """The registered package (``DescribeModelPackage`` response), e.g. ``ModelPackageArn``."""
        return Property(step_name=self.name, step_type=self.STEP_TYPE)


__all__ = [
    "CacheConfig",
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
    "DriftCheckBaselines",
    "FailStep",
    "FileSource",
    "MetadataProperties",
    "MetricDefinition",
    "MetricsSource",
    "ModelContainer",
    "ModelMetrics",
    "NetworkConfig",
    "Parameter",
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
    "VpcConfig",
    "has_token",
]
