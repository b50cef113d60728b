"""Build a SageMaker Pipeline definition with the typed builder, no SDK and no AWS account.

    python examples/pipeline_definition.py > definition.json

A two-step pipeline: a processing job writes ``report.json``; a condition reads a value from it
and either registers the model the processing job produced or fails with a message. Tested in
tests/cdk_mlops/pipelines/test_example_script.py.
"""

from __future__ import annotations

import sys

from cdk_mlops.pipelines import (
    ConditionGreaterThanOrEqualTo,
    ConditionStep,
    FailStep,
    Join,
    ModelContainer,
    ParameterFloat,
    ParameterString,
    Pipeline,
    ProcessingInput,
    ProcessingOutput,
    ProcessingStep,
    PropertyFile,
    RegisterModelStep,
    SageMakerJobStepRetryPolicy,
    VpcConfig,
    sklearn_image_uri_for_region,
)
from cdk_mlops.pipelines.steps import NetworkConfig

ROLE = "arn:aws:iam::123456789012:role/pipeline"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def build() -> Pipeline:
    """The example pipeline (validated when constructed)."""
    image = sklearn_image_uri_for_region("eu-west-1")  # in a CDK stack: sklearn_image_uri(self)
    data = ParameterString(name="InputData", default_value="s3://my-bucket/data/")
    min_score = ParameterFloat(name="MinScore", default_value=0.8)
    report = PropertyFile(name="Report", output_name="report", path="report.json")
    fit = ProcessingStep(
        name="FitAndScore",
        role_arn=ROLE,
        image_uri=image,
        instance_type="ml.m5.large",
        entrypoint=["python3", "/opt/ml/processing/input/code/fit.py"],
        inputs=[
            ProcessingInput(input_name="data", source=data, destination="/opt/ml/processing/data"),
            ProcessingInput(
                input_name="code",
                source="s3://my-bucket/code/",
                destination="/opt/ml/processing/input/code",
            ),
        ],
        outputs=[
            ProcessingOutput(
                output_name="model",
                source="/opt/ml/processing/model",
                destination="s3://my-bucket/model/",
            ),
            ProcessingOutput(
                output_name="report",
                source="/opt/ml/processing/report",
                destination="s3://my-bucket/report/",
            ),
        ],
        property_files=[report],
        volume_kms_key_id=KEY,
        output_kms_key_id=KEY,
        network=NetworkConfig(vpc=VpcConfig(subnet_ids=["subnet-1"], security_group_ids=["sg-1"])),
        retry_policies=[SageMakerJobStepRetryPolicy(max_attempts=2)],
    )
    register = RegisterModelStep(
        name="Register",
        model_package_group_name="my-models",
        containers=[
            ModelContainer(
                image=image,
                # A typo such as fit.properties.ProcessingOutputConfig.Output raises here.
                model_data_url=Join(on="/", values=[fit.output_uri("model"), "model.tar.gz"]),
            )
        ],
        customer_metadata_properties={"code_version": "v1"},
    )
    gate = ConditionStep(
        name="ScoreHighEnough",
        conditions=[
            ConditionGreaterThanOrEqualTo(left=fit.json_get("Report", "score"), right=min_score)
        ],
        if_steps=[register],
        else_steps=[
            FailStep(name="TooLow", error_message=Join(on=" ", values=["below", min_score]))
        ],
    )
    return Pipeline(parameters=[data, min_score], steps=[fit, gate])


def main() -> int:
    """Print the definition JSON."""
    sys.stdout.write(build().to_json(indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
