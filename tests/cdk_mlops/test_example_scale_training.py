"""The scale-training example: both stacks synthesize in two regions with every compliance pack
and pass cfn-lint; the distributed one trains on the region's XGBoost image."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from cdk_mlops.checks import cfn_lint, stack_templates
from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.pipelines.images import xgboost_image_uri_for_region
from examples.scale_training import add_stacks
from tests.cdk_mlops.helpers import new_app


@pytest.fixture(scope="module", params=["us-east-1", "eu-west-1"])
def synthesized(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, dict[str, Path]]:
    region = str(request.param)
    outdir = tmp_path_factory.mktemp(f"scale-{region}")
    app = new_app(outdir=str(outdir))
    add_compliance_checks(app)
    add_stacks(app, cdk.Environment(account="111111111111", region=region))
    app.synth()  # raises on an unacknowledged nag finding
    return region, stack_templates(outdir)


def _definition(template: Path) -> Any:
    resources = json.loads(template.read_text())["Resources"]
    (pipeline,) = [r for r in resources.values() if r["Type"] == "AWS::SageMaker::Pipeline"]
    body = pipeline["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"]
    return body


def test_both_stacks_pass_cfn_lint(synthesized: tuple[str, dict[str, Path]]) -> None:
    region, templates = synthesized
    assert set(templates) == {"ChurnDistributed", "ChurnTuned"}
    for template in templates.values():
        assert cfn_lint(template, (region,)) == []


def test_the_distributed_stack_trains_on_the_regions_xgboost_image(
    synthesized: tuple[str, dict[str, Path]],
) -> None:
    region, templates = synthesized
    text = json.dumps(_definition(templates["ChurnDistributed"]))
    account = xgboost_image_uri_for_region(region).split(".", 1)[0]
    assert "/sagemaker-xgboost:3.0-5" in text
    assert "EncodeForXGBoost" in text and "PackageXGBoost" in text
    # the region's registry account, through the stack's mapping
    assert account in templates["ChurnDistributed"].read_text()


def test_the_tuned_stack_may_create_tuning_jobs(synthesized: tuple[str, dict[str, Path]]) -> None:
    _, templates = synthesized
    text = templates["ChurnTuned"].read_text()
    assert "sagemaker:CreateHyperParameterTuningJob" in text
    assert '\\"Type\\":\\"Tuning\\"' in text  # the definition (a JSON string)
