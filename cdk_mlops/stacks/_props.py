"""The stack props every level stack takes: typed, so a typo fails the type check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, TypedDict

import aws_cdk as cdk

if TYPE_CHECKING:
    from cdk_mlops.levels import InitialSettings, RepeatableSettings


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


def sharing_initial(
    stack: cdk.Stack, initial: InitialSettings | None, repeatable: RepeatableSettings | None
) -> InitialSettings | None:
    """``initial`` with the artifacts bucket's fixed name when level 2 shares models with other
    accounts (they must name the bucket); unchanged otherwise."""
    from dataclasses import replace

    from cdk_mlops.constructs import shared_artifacts_bucket_name
    from cdk_mlops.levels import InitialSettings

    if repeatable is None or not repeatable.model_consumer_accounts:
        return initial
    initial = initial or InitialSettings()
    if initial.artifacts_bucket_name is not None:
        return initial
    if cdk.Token.is_unresolved(stack.account) or cdk.Token.is_unresolved(stack.region):
        raise ValueError(
            f"{type(stack).__name__} at {stack.node.path}: "
            f"repeatable.model_consumer_accounts={list(repeatable.model_consumer_accounts)!r} "
            "needs the stack's account and region: pass env=cdk.Environment(account=..., "
            "region=...) so the consumer accounts can name the artifacts bucket, or set "
            "initial.artifacts_bucket_name yourself."
        )
    return replace(
        initial,
        artifacts_bucket_name=shared_artifacts_bucket_name(
            stack.stack_name, stack.account, stack.region
        ),
    )
