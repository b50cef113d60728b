"""CloudFormation values of a synthesized template, resolved as one deployment would see them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cdk_mlops.executor import ExecutorError, SynthesizedTemplate
from cdk_mlops.executor.s3 import LocalS3
from tests.cdk_mlops.executor.conftest import step_of


def _write(tmp_path: Path, body: dict[str, Any], name: str = "Stack") -> Path:
    path = tmp_path / f"{name}.template.json"
    path.write_text(json.dumps(body))
    return path


def _pipeline(body: Any) -> dict[str, Any]:
    return {
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket"},
            "Named": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "my-bucket"}},
            "Pipe": {
                "Type": "AWS::SageMaker::Pipeline",
                "Properties": {
                    "PipelineName": "p",
                    "PipelineDefinition": {"PipelineDefinitionBody": body},
                },
            },
        }
    }


def test_level2_definition_resolves_to_the_seeded_buckets_and_assets(
    level2_template: Path, level2_definition: dict[str, Any]
) -> None:
    template = SynthesizedTemplate.load(level2_template)
    buckets = template.bucket_names()
    curated = buckets["InitialDataLakeCurated4F9EA2D6"]
    assert curated.startswith("mlopslevel2-initialdatalakecurated4f9ea2d6-")
    assert len(curated) <= 63
    default = next(p for p in level2_definition["Parameters"] if p["Name"] == "InputDataUri")
    assert default["DefaultValue"] == f"s3://{curated}/customer_churn/"
    # The code input is the Zip asset, where the asset manifest publishes it.
    code = step_of(level2_definition, "Preprocess")["Arguments"]["ProcessingInputs"][0]
    published = {
        f"s3://{bucket}/{key}"
        for asset in template.file_assets()
        for bucket, key in asset.destinations
    }
    assert code["S3Input"]["S3Uri"] in published
    assert code["S3Input"]["S3Uri"].startswith("s3://cdk-hnb659fds-assets-123456789012-us-east-1/")


def test_the_image_follows_the_region(level2_template: Path) -> None:
    def image(region: str) -> str:
        definition = SynthesizedTemplate.load(level2_template, region=region).pipeline().definition
        return str(
            step_of(definition, "Train")["Arguments"]["AlgorithmSpecification"]["TrainingImage"]
        )

    assert image("us-east-1") == (
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
    )
    assert image("eu-west-1") == (
        "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
    )


def test_seeding_publishes_every_asset(level2_template: Path) -> None:
    template = SynthesizedTemplate.load(level2_template)
    with LocalS3(template.region) as s3:
        published = s3.seed(template)
        for uri, source in published.items():
            bucket, key = uri[5:].split("/", 1)
            head = s3.client.head_object(Bucket=bucket, Key=key)
            if Path(source).is_file():
                assert head["ContentLength"] == Path(source).stat().st_size
        listed = {b["Name"] for b in s3.client.list_buckets()["Buckets"]}
    assert set(template.bucket_names().values()) <= listed
    assert len(published) == len(template.file_assets())


def test_ref_sub_join_and_pseudo_parameters(tmp_path: Path) -> None:
    body = {
        "Fn::Join": [
            "",
            [
                '{"Version":"2020-12-01","Steps":[],"Metadata":{"a":"s3://',
                {"Ref": "Bucket"},
                '","b":"',
                {"Fn::Sub": "${Named}/${AWS::Region}/${AWS::AccountId}/${!Literal}"},
                '","c":"',
                {"Fn::GetAtt": ["Named", "Arn"]},
                '","d":"',
                {"Fn::Select": [1, ["x", {"Ref": "AWS::Partition"}]]},
                '"}}',
            ],
        ]
    }
    template = SynthesizedTemplate.load(
        _write(tmp_path, _pipeline(body)), account="111122223333", region="eu-west-1"
    )
    meta = template.pipeline().definition["Metadata"]
    assert meta["a"] == f"s3://{template.bucket_names()['Bucket']}"
    assert meta["b"] == "my-bucket/eu-west-1/111122223333/${Literal}"
    assert meta["c"] == "arn:aws:s3:::my-bucket"
    assert meta["d"] == "aws"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ({"Fn::If": ["C", "a", "b"]}, "the executor does not resolve Fn::If"),
        ({"Fn::ImportValue": "Out"}, "the executor does not resolve Fn::ImportValue"),
        ({"Ref": "Nowhere"}, "'Nowhere' is neither a resource, a parameter nor a pseudo parameter"),
        (
            {"Ref": "AWS::NotificationARNs"},
            "pseudo parameter AWS::NotificationARNs is not supported",
        ),
    ],
)
def test_fails_on_values_it_cannot_resolve(tmp_path: Path, token: Any, message: str) -> None:
    body = {"Fn::Join": ["", ['{"Steps":[],"Metadata":{"a":"', token, '"}}']]}
    template = SynthesizedTemplate.load(_write(tmp_path, _pipeline(body)))
    with pytest.raises(ExecutorError, match=message) as caught:
        template.pipeline()
    assert str(caught.value).startswith("Pipe.Properties.PipelineDefinition.PipelineDefinitionBody")


def test_fails_on_a_definition_in_s3(tmp_path: Path) -> None:
    body = _pipeline("{}")
    body["Resources"]["Pipe"]["Properties"]["PipelineDefinition"] = {
        "PipelineDefinitionS3Location": {"Bucket": "b", "Key": "k"}
    }
    with pytest.raises(ExecutorError, match="only PipelineDefinitionBody is supported"):
        SynthesizedTemplate.load(_write(tmp_path, body)).pipeline()


def test_fails_on_a_template_parameter_read_from_ssm(tmp_path: Path) -> None:
    body = _pipeline({"Fn::Join": ["", ['{"Steps":[],"Metadata":{"a":"', {"Ref": "P"}, '"}}']]})
    body["Parameters"] = {"P": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/x"}}
    with pytest.raises(ExecutorError, match="template parameter P is read from SSM"):
        SynthesizedTemplate.load(_write(tmp_path, body)).pipeline()
    template = SynthesizedTemplate.load(_write(tmp_path, body), parameters={"P": "given"})
    assert template.pipeline().definition["Metadata"]["a"] == "given"


def test_fails_without_a_template_or_a_pipeline(tmp_path: Path) -> None:
    with pytest.raises(ExecutorError, match="does not exist; run 'cdk synth'"):
        SynthesizedTemplate.load(tmp_path / "Missing.template.json")
    empty = _write(tmp_path, {"Resources": {"B": {"Type": "AWS::S3::Bucket"}}})
    with pytest.raises(ExecutorError, match="has no AWS::SageMaker::Pipeline resource"):
        SynthesizedTemplate.load(empty).pipeline()


def test_fails_when_the_pipeline_name_is_ambiguous_or_unknown(tmp_path: Path) -> None:
    body = _pipeline('{"Steps":[]}')
    body["Resources"]["Other"] = {**body["Resources"]["Pipe"]}
    template = SynthesizedTemplate.load(_write(tmp_path, body))
    with pytest.raises(ExecutorError, match=r"has 2 pipelines .*choose one with --pipeline"):
        template.pipeline()
    assert template.pipeline("Other").logical_id == "Other"
    with pytest.raises(ExecutorError, match="no pipeline 'x'"):
        template.pipeline("x")


def test_fails_when_an_asset_was_not_staged(tmp_path: Path) -> None:
    path = _write(tmp_path, _pipeline('{"Steps":[]}'))
    (tmp_path / "Stack.assets.json").write_text(
        json.dumps(
            {
                "files": {
                    "abc": {
                        "source": {"path": "asset.abc.zip", "packaging": "file"},
                        "destinations": {
                            "d": {"bucketName": "assets-${AWS::Region}", "objectKey": "abc.zip"}
                        },
                    }
                }
            }
        )
    )
    template = SynthesizedTemplate.load(path)
    assert template.file_assets()[0].destinations == (("assets-us-east-1", "abc.zip"),)
    with LocalS3("us-east-1") as s3, pytest.raises(ExecutorError, match="asset staging on"):
        s3.seed(template)
