#!/usr/bin/env python3
"""The CDK app: the maturity levels and the environment you name, every compliance pack on.

npx cdk synth                              # every level, built-in defaults, env-agnostic
npx cdk deploy -c level=3 -c env=prod      # one level, one environment (cdk_mlops.environments)
npx cdk deploy MlopsCatalog -c catalog=true -c catalog-principals=<role arn>  # project templates
"""

from __future__ import annotations

import aws_cdk as cdk

from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.environments import catalog_selection, delivery_selection, selected
from cdk_mlops.stacks import ScalableSettings
from cdk_mlops.stacks.catalog import CatalogStack
from cdk_mlops.stacks.delivery import DeliveryStack
from cdk_mlops.stacks.factory import level_stack


def build_app(app: cdk.App | None = None) -> cdk.App:
    """Add the selected maturity-level stacks (``-c level``, default all) for the selected
    environment (``-c env``, default ``default``) to ``app`` (a new App by default), with
    compliance checks; with ``-c catalog=true`` also the Service Catalog portfolio of those
    levels (``MlopsCatalog``); with ``-c delivery=<level>``, the delivery pipeline of that level
    instead."""
    app = app or cdk.App()
    add_compliance_checks(app)
    delivery = delivery_selection(app.node)
    if delivery is not None:
        level, tooling, environments = delivery
        DeliveryStack(
            app, "MlopsDelivery", level=level, environments=environments,
            env=tooling.stack_env() or cdk.Environment(), tags=dict(tooling.tags),
        )  # fmt: skip
        return app
    config, levels = selected(app.node)
    for level in levels:
        level_stack(app, config, level)
    principals = catalog_selection(app.node)
    if principals is not None:
        CatalogStack(
            app, "MlopsCatalog", levels=levels, principal_arns=principals,
            initial=config.initial_settings(), repeatable=config.repeatable_settings(),
            reliable=config.reliable_settings(), scalable=ScalableSettings(tags=dict(config.tags)),
            env=config.stack_env() or cdk.Environment(), tags=dict(config.tags),
        )  # fmt: skip
    return app


if __name__ == "__main__":
    build_app().synth()
