"""Reusable constructs, one module per concern."""

from cdk_mlops.constructs.cost_guard import CostGuard
from cdk_mlops.constructs.data_lake import DataLake, Zone
from cdk_mlops.constructs.encryption import EncryptionKeys
from cdk_mlops.constructs.network import (
    DEFAULT_INTERFACE_ENDPOINTS,
    STUDIO_REQUIRED_ENDPOINTS,
    Network,
)
from cdk_mlops.constructs.studio import DataScientistRole, StudioEnvironment

__all__ = [
    "DEFAULT_INTERFACE_ENDPOINTS",
    "STUDIO_REQUIRED_ENDPOINTS",
    "CostGuard",
    "DataLake",
    "DataScientistRole",
    "EncryptionKeys",
    "Network",
    "StudioEnvironment",
    "Zone",
]
