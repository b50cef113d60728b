"""The deploy-your-own-model example synthesizes with every compliance pack and no findings."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk.assertions import Template

from cdk_mlops.checks import cfn_lint, stack_templates
from cdk_mlops.compliance import add_compliance_checks
from examples.deploy_own_model import MODEL_PACKAGE_ARN, ChurnEndpointStack
from tests.cdk_mlops.helpers import new_app


def test_deploy_own_model_example(tmp_path: Path) -> None:
    app = new_app(outdir=str(tmp_path))
    add_compliance_checks(app)
    env = cdk.Environment(account="111111111111", region="eu-west-1")
    stack = ChurnEndpointStack(app, "Churn", env=env)
    app.synth()  # raises on any unacknowledged cdk-nag finding
    t = Template.from_stack(stack).to_json()
    (model,) = [r for r in t["Resources"].values() if r["Type"] == "AWS::SageMaker::Model"]
    assert model["Properties"]["Containers"] == [{"ModelPackageName": MODEL_PACKAGE_ARN}]
    assert model["Properties"]["VpcConfig"]["SecurityGroupIds"] == ["sg-0123456789abcdef0"]
    (template,) = stack_templates(tmp_path).values()
    assert cfn_lint(template, ("eu-west-1",)) == []
