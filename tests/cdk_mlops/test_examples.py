"""The README's composition example synthesizes with every compliance pack and no findings."""

from __future__ import annotations

from pathlib import Path

from aws_cdk.assertions import Template

from cdk_mlops.compliance import add_compliance_checks
from examples.compose_level1 import AnalyticsPlatformStack
from tests.cdk_mlops.helpers import new_app


def test_compose_level1_example_is_compliant(tmp_path: Path) -> None:
    app = new_app(outdir=str(tmp_path))
    add_compliance_checks(app)
    stack = AnalyticsPlatformStack(app, "AnalyticsPlatform")
    app.synth()  # raises on any unacknowledged cdk-nag finding
    t = Template.from_stack(stack)
    t.resource_count_is("AWS::SageMaker::Domain", 0)
    t.resource_count_is("AWS::EC2::Subnet", 1)
    t.resource_count_is("AWS::SNS::Subscription", 1)
