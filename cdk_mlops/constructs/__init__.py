"""Reusable constructs, one module per concern."""

from cdk_mlops.constructs.alerts import AlertsTopic
from cdk_mlops.constructs.ci import BasicCi, CiSource
from cdk_mlops.constructs.cost_guard import CostGuard
from cdk_mlops.constructs.data_lake import DataLake, Zone
from cdk_mlops.constructs.encryption import EncryptionKeys
from cdk_mlops.constructs.glue_etl import GlueEtl
from cdk_mlops.constructs.interfaces import IModelRegistry, ITrainingPipeline, JobNetwork
from cdk_mlops.constructs.model_registry import ApprovalMode, ModelRegistry, ModelRegistryBase
from cdk_mlops.constructs.network import (
    DEFAULT_INTERFACE_ENDPOINTS,
    STUDIO_REQUIRED_ENDPOINTS,
    Network,
    availability_zones_context,
)
from cdk_mlops.constructs.pipeline_code import PipelineCode
from cdk_mlops.constructs.studio import DataScientistRole, StudioEnvironment
from cdk_mlops.constructs.training_pipeline import TrainingPipeline, TrainingPipelineBase
from cdk_mlops.constructs.vpc_hardening import VpcHardening, close_default_security_group

__all__ = [
    "DEFAULT_INTERFACE_ENDPOINTS",
    "STUDIO_REQUIRED_ENDPOINTS",
    "AlertsTopic",
    "ApprovalMode",
    "BasicCi",
    "CiSource",
    "CostGuard",
    "DataLake",
    "DataScientistRole",
    "EncryptionKeys",
    "GlueEtl",
    "IModelRegistry",
    "ITrainingPipeline",
    "JobNetwork",
    "ModelRegistry",
    "ModelRegistryBase",
    "Network",
    "PipelineCode",
    "StudioEnvironment",
    "TrainingPipeline",
    "TrainingPipelineBase",
    "VpcHardening",
    "Zone",
    "availability_zones_context",
    "close_default_security_group",
]
