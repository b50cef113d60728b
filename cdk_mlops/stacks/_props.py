"""The stack props every level stack takes: typed, so a typo fails the type check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

import aws_cdk as cdk


class StackProps(TypedDict, total=False):
    """The ``cdk.Stack`` props our level stacks pass through.

    ``env``: account and region (omit for an environment-agnostic template); ``stack_name``
    (default: the construct id); ``description`` (default: the level's summary); ``tags``
    (applied to every resource); ``synthesizer``; ``termination_protection`` (default False).
    """

    env: cdk.Environment
    stack_name: str
    description: str
    tags: Mapping[str, str]
    synthesizer: cdk.IStackSynthesizer
    termination_protection: bool
