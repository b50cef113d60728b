#!/usr/bin/env python3
"""The CDK app: one stack per maturity level, every compliance pack on, environment-agnostic."""

from __future__ import annotations

import aws_cdk as cdk

from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.stacks import EndpointStack, InitialStack, ReliableStack, RepeatableStack


def build_app(app: cdk.App | None = None) -> cdk.App:
    """Add every maturity-level stack to ``app`` (a new App by default) with compliance checks."""
    app = app or cdk.App()
    add_compliance_checks(app)
    InitialStack(app, "MlopsLevel1")
    RepeatableStack(app, "MlopsLevel2")
    ReliableStack(app, "MlopsLevel3")
    # The endpoint template the level 3 deployment pipeline deploys with its parameters (here the
    # placeholder model package), synthesized so the same gates check it. Deploy MlopsLevel3 by
    # name; this one is the pipeline's to deploy.
    EndpointStack(app, "MlopsLevel3Endpoint")
    return app


if __name__ == "__main__":
    build_app().synth()
