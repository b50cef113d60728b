"""Reusable constructs, one module per concern."""

from cdk_mlops.constructs.alerts import AlertsTopic
from cdk_mlops.constructs.audit_trail import MAX_DATA_EVENT_BUCKETS, AuditTrail
from cdk_mlops.constructs.ci import BasicCi, CiSource
from cdk_mlops.constructs.cost_guard import CostGuard
from cdk_mlops.constructs.data_lake import DataLake, Zone
from cdk_mlops.constructs.deployment_pipeline import (
    DEPLOYMENT_GATEWAY_ENDPOINTS,
    DEPLOYMENT_INTERFACE_ENDPOINTS,
    DeploymentPipeline,
)
from cdk_mlops.constructs.drift_retraining import DriftRetraining
from cdk_mlops.constructs.encryption import EncryptionKeys
from cdk_mlops.constructs.glue_etl import GlueEtl
from cdk_mlops.constructs.interfaces import IModelRegistry, ITrainingPipeline, JobNetwork
from cdk_mlops.constructs.model_endpoint import (
    DATA_CAPTURE_PREFIX,
    DataCaptureConfig,
    EndpointModel,
    EndpointNetwork,
    ModelEndpoint,
    ProductionVariant,
    RollingUpdate,
    ServerlessConfig,
    ShadowVariant,
    TrafficRouting,
    endpoint_execution_role,
)
from cdk_mlops.constructs.model_monitoring import (
    GROUND_TRUTH_PREFIX,
    MONITORING_PREFIX,
    ModelMonitoring,
    MonitoringBackend,
    MonitoringFrequency,
)
from cdk_mlops.constructs.model_registry import ApprovalMode, ModelRegistry, ModelRegistryBase
from cdk_mlops.constructs.model_sharing import (
    DEFAULT_MODEL_KEYS,
    MODEL_READER_PATH,
    ModelSharing,
    SharedModelReader,
    SharedModelSource,
    shared_artifacts_bucket_name,
)
from cdk_mlops.constructs.network import (
    DEFAULT_INTERFACE_ENDPOINTS,
    STUDIO_REQUIRED_ENDPOINTS,
    Network,
    availability_zones_context,
)
from cdk_mlops.constructs.observability import (
    KPI_NAMESPACE,
    IEndpointMetrics,
    IEtlMetrics,
    MlopsDashboard,
    SageMakerEndpointMetrics,
)
from cdk_mlops.constructs.pipeline_code import PipelineCode
from cdk_mlops.constructs.studio import DataScientistRole, StudioEnvironment
from cdk_mlops.constructs.training_pipeline import TrainingPipeline, TrainingPipelineBase
from cdk_mlops.constructs.vpc_hardening import VpcHardening, close_default_security_group

__all__ = [
    "DATA_CAPTURE_PREFIX",
    "DEFAULT_INTERFACE_ENDPOINTS",
    "DEFAULT_MODEL_KEYS",
    "DEPLOYMENT_GATEWAY_ENDPOINTS",
    "DEPLOYMENT_INTERFACE_ENDPOINTS",
    "GROUND_TRUTH_PREFIX",
    "KPI_NAMESPACE",
    "MAX_DATA_EVENT_BUCKETS",
    "MODEL_READER_PATH",
    "MONITORING_PREFIX",
    "STUDIO_REQUIRED_ENDPOINTS",
    "AlertsTopic",
    "ApprovalMode",
    "AuditTrail",
    "BasicCi",
    "CiSource",
    "CostGuard",
    "DataCaptureConfig",
    "DataLake",
    "DataScientistRole",
    "DeploymentPipeline",
    "DriftRetraining",
    "EncryptionKeys",
    "EndpointModel",
    "EndpointNetwork",
    "GlueEtl",
    "IEndpointMetrics",
    "IEtlMetrics",
    "IModelRegistry",
    "ITrainingPipeline",
    "JobNetwork",
    "MlopsDashboard",
    "ModelEndpoint",
    "ModelMonitoring",
    "ModelRegistry",
    "ModelRegistryBase",
    "ModelSharing",
    "MonitoringBackend",
    "MonitoringFrequency",
    "Network",
    "PipelineCode",
    "ProductionVariant",
    "RollingUpdate",
    "SageMakerEndpointMetrics",
    "ServerlessConfig",
    "ShadowVariant",
    "SharedModelReader",
    "SharedModelSource",
    "StudioEnvironment",
    "TrafficRouting",
    "TrainingPipeline",
    "TrainingPipelineBase",
    "VpcHardening",
    "Zone",
    "availability_zones_context",
    "close_default_security_group",
    "endpoint_execution_role",
    "shared_artifacts_bucket_name",
]
