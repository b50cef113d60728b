#!/usr/bin/env python3
"""The CDK app: the maturity levels and the environment you name, every compliance pack on.

npx cdk synth                              # every level, built-in defaults, env-agnostic
npx cdk deploy -c level=3 -c env=prod      # one level, one environment (cdk_mlops.environments)
"""

from __future__ import annotations

import aws_cdk as cdk

from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.environments import EnvironmentConfig, selected
from cdk_mlops.stacks import (
    EndpointStack,
    InitialStack,
    ReliableStack,
    RepeatableStack,
    ScalableStack,
)


def build_app(app: cdk.App | None = None) -> cdk.App:
    """Add the selected maturity-level stacks (``-c level``, default all) for the selected
    environment (``-c env``, default ``default``) to ``app`` (a new App by default), with
    compliance checks."""
    app = app or cdk.App()
    add_compliance_checks(app)
    config, levels = selected(app.node)
    for level in levels:
        add_level(app, config, level)
    return app


def add_level(app: cdk.App, config: EnvironmentConfig, level: int) -> cdk.Stack:
    """The stack of ``level`` for environment ``config``; level 3 also synthesizes the endpoint
    template its deployment pipeline deploys (named ``<level 3 stack>Endpoint``)."""
    stack = _level_stack(app, config, level)
    if config.removal_policy == "destroy":
        # the data lake and keys follow InitialSettings.removal_policy; the log groups too here
        cdk.RemovalPolicies.of(stack).destroy(apply_to_resource_types=["AWS::Logs::LogGroup"])
    return stack


def _level_stack(app: cdk.App, config: EnvironmentConfig, level: int) -> cdk.Stack:
    name = config.stack_name(level)
    props: dict = {"stack_name": name, "tags": dict(config.tags)}
    env = config.stack_env()
    if env is not None:
        props["env"] = env
    initial = config.initial_settings()
    if level == 1:
        return InitialStack(app, name, initial=initial, **props)
    if level == 2:
        return RepeatableStack(
            app, name, initial=initial, repeatable=config.repeatable_settings(), **props
        )
    reliable = config.reliable_settings()
    if level == 3:
        stack = ReliableStack(
            app,
            name,
            initial=initial,
            repeatable=config.repeatable_settings(),
            reliable=reliable,
            **props,
        )
        # The endpoint template the level 3 deployment pipeline deploys with its parameters (here
        # the placeholder model package), synthesized so the same gates check it. Deploy the
        # level 3 stack by name; this one is the pipeline's to deploy.
        endpoint_name = (
            f"MlopsLevel3Endpoint{'' if config.name == 'default' else '-' + config.name}"
        )
        EndpointStack(app, endpoint_name, **{**props, "stack_name": endpoint_name})
        return stack
    return ScalableStack(
        app,
        name,
        initial=initial,
        repeatable=config.repeatable_settings(),
        reliable=reliable,
        **props,
    )


if __name__ == "__main__":
    build_app().synth()
