"""One stack per maturity level, each composed only from public constructs."""

from cdk_mlops.stacks.initial import InitialStack

__all__ = ["InitialStack"]
