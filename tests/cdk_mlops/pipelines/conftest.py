"""Shared fixtures: the example pipeline with literal inputs and with CDK tokens."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cdk_mlops.pipelines import Pipeline, build_training_pipeline
from tests.cdk_mlops.pipelines.example import LITERAL_SETTINGS, literal_pipeline

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def example_pipeline() -> Pipeline:
    """The realistic training pipeline with literal inputs."""
    return literal_pipeline()


@pytest.fixture(scope="session")
def example_definition(example_pipeline: Pipeline) -> dict[str, Any]:
    """Its definition."""
    return example_pipeline.to_definition()


@dataclass
class TokenSetup:
    """A stack whose role, key, VPC, code asset and image feed the pipeline as CDK tokens."""

    stack: Any
    pipeline: Pipeline
    template: dict[str, Any]
    body: Any


@pytest.fixture(scope="session")
def token_setup() -> TokenSetup:
    """The pipeline built from real constructs' tokens, synthesized into a template."""
    return build_token_setup()


def build_token_setup() -> TokenSetup:
    """Build the pipeline from real constructs' tokens and synthesize it into a template."""
    import aws_cdk as cdk
    from aws_cdk import aws_ec2 as ec2
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_s3_assets as s3_assets
    from aws_cdk import aws_sagemaker as sagemaker

    from cdk_mlops.pipelines.images import sklearn_image_uri
    from tests.cdk_mlops.helpers import new_app

    app = new_app()
    stack = cdk.Stack(app, "PipelineTokens")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="jobs", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        ],
    )
    group = ec2.SecurityGroup(stack, "Jobs", vpc=vpc)
    code = s3_assets.Asset(stack, "Code", path=str(ROOT / "pipeline_code"))
    bucket = cdk.Fn.import_value("ArtifactBucketName")
    pipeline = build_training_pipeline(
        **{
            **LITERAL_SETTINGS,
            "role_arn": role.role_arn,
            "image_uri": sklearn_image_uri(stack),
            "code_uri": code.s3_object_url,
            "bucket": bucket,
            "kms_key_id": key.key_arn,
            "subnet_ids": vpc.select_subnets(
                subnet_type=ec2.SubnetType.PRIVATE_ISOLATED
            ).subnet_ids,
            "security_group_ids": [group.security_group_id],
            "code_version": code.asset_hash,
        }
    )
    sagemaker.CfnPipeline(
        stack,
        "Pipeline",
        pipeline_name="training",
        role_arn=role.role_arn,
        pipeline_definition={"PipelineDefinitionBody": pipeline.to_json_string(stack)},
    )
    template = app.synth().get_stack_by_name(stack.stack_name).template
    body = template["Resources"]
    [resource] = [r for r in body.values() if r["Type"] == "AWS::SageMaker::Pipeline"]
    return TokenSetup(
        stack=stack,
        pipeline=pipeline,
        template=template,
        body=resource["Properties"]["PipelineDefinition"]["PipelineDefinitionBody"],
    )
