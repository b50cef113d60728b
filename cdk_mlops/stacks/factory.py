"""The stacks of one maturity level for one environment (used by app.py and by the delivery
pipeline's stages)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from cdk_mlops.environments import LEVELS, EnvironmentConfig
from cdk_mlops.stacks.endpoint import EndpointStack
from cdk_mlops.stacks.initial import InitialStack
from cdk_mlops.stacks.reliable import ReliableStack
from cdk_mlops.stacks.repeatable import RepeatableStack
from cdk_mlops.stacks.scalable import ScalableStack


def level_stack(
    scope: Construct, config: EnvironmentConfig, level: int, *, construct_id: str | None = None
) -> cdk.Stack:
    """The stack of ``level`` for environment ``config`` in ``scope`` (an App or a Stage).

    Named ``config.stack_name(level)``; level 3 also adds the endpoint template its deployment
    pipeline deploys (``MlopsLevel3Endpoint[-<env>]``), so the same gates check it. With the
    ``destroy`` removal policy the log groups go with the stack too.
    """
    if level not in LEVELS:
        raise ValueError(f"level_stack: level={level!r} is not allowed. Use one of {LEVELS}.")
    name = config.stack_name(level)
    props: dict[str, Any] = {"stack_name": name, "tags": dict(config.tags)}
    env = config.stack_env()
    if env is not None:
        props["env"] = env
    cid = construct_id or name
    initial = config.initial_settings()
    stack: cdk.Stack
    if level == 1:
        stack = InitialStack(scope, cid, initial=initial, **props)
    elif level == 2:
        stack = RepeatableStack(
            scope, cid, initial=initial, repeatable=config.repeatable_settings(), **props
        )
    else:
        repeatable, reliable = config.repeatable_settings(), config.reliable_settings()
        if level == 3:
            stack = ReliableStack(
                scope, cid, initial=initial, repeatable=repeatable, reliable=reliable, **props
            )
            # The endpoint template the level 3 deployment pipeline deploys with its parameters
            # (here the placeholder model package). Deploy the level 3 stack by name; this one
            # is the pipeline's to deploy.
            endpoint = "MlopsLevel3Endpoint" + (
                "" if config.name == "default" else f"-{config.name}"
            )
            EndpointStack(
                scope, endpoint if construct_id is None else f"{cid}Endpoint",
                **{**props, "stack_name": endpoint},
            )  # fmt: skip
        else:
            stack = ScalableStack(
                scope, cid, initial=initial, repeatable=repeatable, reliable=reliable, **props
            )
    if config.removal_policy == "destroy":
        # the data lake and keys follow InitialSettings.removal_policy; the log groups too here
        cdk.RemovalPolicies.of(stack).destroy(apply_to_resource_types=["AWS::Logs::LogGroup"])
    return stack
