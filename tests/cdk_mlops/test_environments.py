"""Every stack and example synthesizes for a named account and region, not only env-agnostic.

With a concrete ``env=`` the account and region in ARNs are literals, so cdk-nag's finding ids
change (``...:sagemaker:eu-west-1:111111111111:training-job/*`` instead of
``...:<AWS::Region>:<AWS::AccountId>:...``): acknowledgments must be built from the same values
as the policies. One app per environment holds every stack and example; ``app.synth()`` raises
on any unacknowledged finding of the four packs.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from cdk_mlops.assets import PIPELINE_CODE_DIR
from cdk_mlops.checks import cfn_lint, stack_templates
from cdk_mlops.compliance import add_compliance_checks, nag_text, resource_finding
from cdk_mlops.environments import PROFILE_TAGS
from cdk_mlops.stacks import (
    EndpointStack,
    InitialStack,
    ReliableStack,
    RepeatableStack,
    ScalableStack,
)
from examples.compose_level1 import AnalyticsPlatformStack
from examples.compose_training_pipeline import FraudTrainingStack
from tests.cdk_mlops.helpers import new_app

#: Two accounts, two regions (one outside us-east-1). The library supports the commercial
#: partition only (the scikit-learn image table has no China or GovCloud registries).
ENVIRONMENTS = (("111111111111", "eu-west-1"), ("222222222222", "us-east-1"))


@pytest.fixture(scope="module", params=ENVIRONMENTS, ids=lambda e: e[1])
def synthesized(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str]:
    account, region = request.param
    out = tmp_path_factory.mktemp(f"cdk.out-{region}")
    code = tmp_path_factory.mktemp("user-code") / "fraud_ml"
    shutil.copytree(PIPELINE_CODE_DIR, code, ignore=shutil.ignore_patterns("__pycache__"))
    app = new_app(outdir=str(out))
    add_compliance_checks(app)
    env = cdk.Environment(account=account, region=region)
    InitialStack(app, "MlopsLevel1", env=env)
    RepeatableStack(app, "MlopsLevel2", env=env)
    ReliableStack(app, "MlopsLevel3", env=env)
    EndpointStack(app, "MlopsLevel3Endpoint", env=env)
    ScalableStack(app, "MlopsLevel4", env=env, tags=PROFILE_TAGS)
    AnalyticsPlatformStack(app, "AnalyticsPlatform", env=env)
    FraudTrainingStack(app, "FraudTraining", code_dir=code, schema="churn", env=env)
    app.synth()  # raises on any unacknowledged cdk-nag finding
    return out, region


def test_every_stack_synthesizes_with_no_unacknowledged_finding(
    synthesized: tuple[Path, str],
) -> None:
    assert set(stack_templates(synthesized[0])) == {
        "MlopsLevel1",
        "MlopsLevel2",
        "MlopsLevel3",
        "MlopsLevel3Endpoint",
        "MlopsLevel4",
        "AnalyticsPlatform",
        "FraudTraining",
    }


def test_templates_name_the_environment_and_pass_cfn_lint(synthesized: tuple[Path, str]) -> None:
    assembly, region = synthesized
    for stack, template in stack_templates(assembly).items():
        if stack != "MlopsLevel3Endpoint":  # takes every account-specific value as a parameter
            assert region in template.read_text(), stack
        assert cfn_lint(template, (region,)) == [], stack


# cdk-nag's flattening of intrinsics (its flattenCfnReference), which acknowledgments must match.
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "plain"),
        ({"Ref": "AWS::Region"}, "<AWS::Region>"),
        ({"Fn::GetAtt": ["Bucket83908E77", "Arn"]}, "<Bucket83908E77.Arn>"),
        (
            {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::b/*"]]},
            "arn:<AWS::Partition>:s3:::b/*",
        ),
        ({"Fn::Sub": "arn:${AWS::Partition}:logs:*"}, "arn:<AWS::Partition>:logs:*"),
        ({"Fn::ImportValue": "Shared-VpcId"}, "Shared-VpcId"),
        ({"Fn::Select": [0, ["a"]]}, '{"Fn::Select":[0,["a"]]}'),
    ],
)
def test_nag_text_flattens_intrinsics_as_cdk_nag_does(value: Any, expected: str) -> None:
    stack = cdk.Stack(new_app(), "S")
    assert nag_text(stack, value) == expected


def test_resource_findings_follow_the_stack_environment() -> None:
    app = new_app()
    agnostic = cdk.Stack(app, "Agnostic")
    named = cdk.Stack(app, "Named", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    for stack, expected in (
        (agnostic, "arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:training-job/*"),
        (named, "arn:aws:sagemaker:eu-west-1:111111111111:training-job/*"),
    ):
        arn = stack.format_arn(service="sagemaker", resource="training-job", resource_name="*")
        assert resource_finding(stack, arn) == f"AwsSolutions-IAM5[Resource::{expected}]"


@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-west-1"])
def test_fails_at_synth_in_a_partition_without_the_scikit_learn_images(region: str) -> None:
    # China and GovCloud have their own image registries, which the table does not list: the
    # stack fails here, naming the region, not with a missing mapping key at deploy time.
    env = cdk.Environment(account="111111111111", region=region)
    with pytest.raises(
        Exception, match=rf"no SageMaker scikit-learn image registry known for region '{region}'"
    ):
        RepeatableStack(new_app(), "Level2", env=env)
