"""A step that registers a model package version, and the package's inference containers."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cdk_mlops.pipelines._checks import (
    _check_environment,
    _check_instance_type,
    _check_s3_uri,
    _check_type,
    _frozen_map,
    _frozen_tuple,
    _render_env,
    has_token,
)
from cdk_mlops.pipelines.base_step import Step
from cdk_mlops.pipelines.errors import PipelineDefinitionError
from cdk_mlops.pipelines.expressions import ParameterString, Property, Value, render
from cdk_mlops.pipelines.model_metrics import DriftCheckBaselines, MetadataProperties, ModelMetrics
from cdk_mlops.pipelines.retry import StepRetryPolicy

_CUSTOMER_METADATA = re.compile(r"^[\w\s.:/=+\-@]*$")


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
