#!/usr/bin/env python3
"""The CDK app: one stack per maturity level, every compliance pack on, environment-agnostic."""

from __future__ import annotations

import aws_cdk as cdk

from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.stacks import InitialStack, RepeatableStack


def build_app(app: cdk.App | None = None) -> cdk.App:
    """Add every maturity-level stack to ``app`` (a new App by default) with compliance checks."""
    app = app or cdk.App()
    add_compliance_checks(app)
    InitialStack(app, "MlopsLevel1")
    RepeatableStack(app, "MlopsLevel2")
    return app


if __name__ == "__main__":
    build_app().synth()
