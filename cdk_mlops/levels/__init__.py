"""Each maturity level as a construct you can place in a stack of your own.

Levels compose: ``RepeatableLevel`` takes the :class:`Foundation` that ``InitialLevel`` exposes
(or one built from your own VPC, buckets and keys). The stacks in :mod:`cdk_mlops.stacks` are
thin holders of these constructs.
"""

from cdk_mlops.levels.foundation import Foundation
from cdk_mlops.levels.initial import InitialLevel, InitialSettings
from cdk_mlops.levels.reliable import ReliableLevel, ReliableSettings
from cdk_mlops.levels.repeatable import RepeatableLevel, RepeatableSettings

__all__ = [
    "Foundation",
    "InitialLevel",
    "InitialSettings",
    "ReliableLevel",
    "ReliableSettings",
    "RepeatableLevel",
    "RepeatableSettings",
]
