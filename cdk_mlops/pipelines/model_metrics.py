"""What a model package records: metrics, drift-check baselines and provenance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdk_mlops.pipelines._checks import _check_s3_uri, _check_type
from cdk_mlops.pipelines.errors import PipelineDefinitionError
from cdk_mlops.pipelines.expressions import Value, render


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
