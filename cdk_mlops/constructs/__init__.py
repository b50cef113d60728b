"""Reusable constructs, one module per concern."""

from cdk_mlops.constructs.ci import BasicCi, CiSource
from cdk_mlops.constructs.cost_guard import CostGuard
from cdk_mlops.constructs.data_lake import DataLake, Zone
from cdk_mlops.constructs.encryption import EncryptionKeys
from cdk_mlops.constructs.glue_etl import GlueEtl
from cdk_mlops.constructs.model_registry import ApprovalMode, ModelRegistry
from cdk_mlops.constructs.network import (
    DEFAULT_INTERFACE_ENDPOINTS,
    STUDIO_REQUIRED_ENDPOINTS,
    Network,
)
from cdk_mlops.constructs.pipeline_code import PipelineCode
from cdk_mlops.constructs.studio import DataScientistRole, StudioEnvironment
from cdk_mlops.constructs.training_pipeline import TrainingPipeline

__all__ = [
    "DEFAULT_INTERFACE_ENDPOINTS",
    "STUDIO_REQUIRED_ENDPOINTS",
    "ApprovalMode",
    "BasicCi",
    "CiSource",
    "CostGuard",
    "DataLake",
    "DataScientistRole",
    "EncryptionKeys",
    "GlueEtl",
    "ModelRegistry",
    "Network",
    "PipelineCode",
    "StudioEnvironment",
    "TrainingPipeline",
    "Zone",
]
