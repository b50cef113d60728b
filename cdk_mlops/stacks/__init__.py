"""One stack per maturity level, each composed only from public constructs."""

from cdk_mlops.stacks.catalog import (
    CatalogStack,
    InitialProduct,
    LevelProduct,
    ReliableProduct,
    RepeatableProduct,
    ScalableProduct,
)
from cdk_mlops.stacks.compose import ComposedLevel, compose_level
from cdk_mlops.stacks.consumer import ModelConsumerStack
from cdk_mlops.stacks.endpoint import (
    ENDPOINT_PARAMETERS,
    PLACEHOLDER_MODEL_PACKAGE_ARN,
    EndpointStack,
    EndpointStageSettings,
)
from cdk_mlops.stacks.initial import InitialStack
from cdk_mlops.stacks.reliable import ReliableStack
from cdk_mlops.stacks.repeatable import RepeatableStack
from cdk_mlops.stacks.scalable import ScalableSettings, ScalableStack

__all__ = [
    "ENDPOINT_PARAMETERS",
    "PLACEHOLDER_MODEL_PACKAGE_ARN",
    "CatalogStack",
    "ComposedLevel",
    "EndpointStack",
    "EndpointStageSettings",
    "InitialProduct",
    "InitialStack",
    "LevelProduct",
    "ModelConsumerStack",
    "ReliableProduct",
    "ReliableStack",
    "RepeatableProduct",
    "RepeatableStack",
    "ScalableProduct",
    "ScalableSettings",
    "ScalableStack",
    "compose_level",
]
