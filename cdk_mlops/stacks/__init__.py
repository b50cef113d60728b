"""One stack per maturity level, each composed only from public constructs."""

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
    "EndpointStack",
    "EndpointStageSettings",
    "InitialStack",
    "ModelConsumerStack",
    "ReliableStack",
    "RepeatableStack",
    "ScalableSettings",
    "ScalableStack",
]
