"""One stack per maturity level, each composed only from public constructs."""

from cdk_mlops.stacks.initial import InitialStack
from cdk_mlops.stacks.repeatable import RepeatableStack

__all__ = ["InitialStack", "RepeatableStack"]
