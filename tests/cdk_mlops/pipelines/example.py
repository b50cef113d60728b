"""The realistic example pipeline the tests share, with literal and with CDK-token inputs."""

from __future__ import annotations

from typing import Any

from cdk_mlops.pipelines import (
    FailStep,
    Pipeline,
    ProcessingInput,
    ProcessingOutput,
    ProcessingStep,
    TrainingChannel,
    TrainingStep,
    build_training_pipeline,
)
from cdk_mlops.pipelines import training as t
from cdk_mlops.pipelines.images import sklearn_image_uri_for_region

# Literal inputs, shared with the SDK oracle (tests/oracle/sdk_training_pipeline.py).
LITERAL_SETTINGS: dict[str, Any] = {
    "role_arn": "arn:aws:iam::123456789012:role/training-pipeline",
    "image_uri": sklearn_image_uri_for_region("us-east-1"),
    "code_uri": "s3://example-bucket/assets/0123abcd.zip",
    "bucket": "example-bucket",
    "prefix": "training-pipeline",
    "kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "subnet_ids": ["subnet-0a", "subnet-0b"],
    "security_group_ids": ["sg-0a"],
    "processing_instance_type": "ml.m5.large",
    "training_instance_type": "ml.m5.xlarge",
    "metric": "binary_classification_metrics.auc.value",
    "threshold": 0.75,
    "model_package_group_name": "churn-models",
    "code_version": "0123abcd",
    "intended_use": "Churn risk of monthly customers for retention offers",
    # champion/challenger on, as TrainingPipeline builds it
    "no_champion_uri": "s3://example-bucket/assets/4567cdef.json",
    # What a deployment needs to serve the package with the scikit-learn container.
    "inference_environment": {
        "SAGEMAKER_PROGRAM": "handler.py",
        "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
    },
}


def literal_pipeline(**overrides: Any) -> Pipeline:
    """The training pipeline with literal inputs (overrides replace settings)."""
    return build_training_pipeline(**{**LITERAL_SETTINGS, **overrides})


def oracle_settings(pipeline: Pipeline) -> dict[str, Any]:
    """Everything the SDK script needs to build the same pipeline (taken from ours)."""
    settings = dict(LITERAL_SETTINGS)
    steps = {s.name: s.to_request() for s in pipeline.all_steps()}
    settings["entrypoints"] = {
        name: (
            steps[name]["Arguments"]["AppSpecification"]["ContainerEntrypoint"]
            if name != t.TRAIN
            else steps[name]["Arguments"]["AlgorithmSpecification"]["ContainerEntrypoint"]
        )
        for name in (t.DATA_VERSION, t.PREPROCESS, t.TRAIN, t.EVALUATE, t.BASELINE)
    }
    settings["arguments"] = {
        name: steps[name]["Arguments"]["AppSpecification"]["ContainerArguments"]
        for name in (t.DATA_VERSION, t.PREPROCESS, t.EVALUATE, t.BASELINE)
    }
    parameters = {p["Name"]: p for p in pipeline.to_definition()["Parameters"]}
    settings["processing_instance_types"] = parameters[t.PROCESSING_INSTANCE_TYPE]["EnumValues"]
    settings["training_instance_types"] = parameters[t.TRAINING_INSTANCE_TYPE]["EnumValues"]
    settings["training_environment"] = steps[t.TRAIN]["Arguments"]["Environment"]
    register = steps[t.REGISTER]["Arguments"]["InferenceSpecification"]["Containers"][0]
    settings["inference_environment"] = register.get("Environment", {})
    settings["descriptions"] = {name: step.get("Description") for name, step in steps.items()}
    return settings


# Small valid steps for focused tests.
ROLE = "arn:aws:iam::123456789012:role/r"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3"
P = "/opt/ml/processing"


def processing(name: str = "Prep", **kw: Any) -> ProcessingStep:
    """A small valid processing step."""
    args: dict[str, Any] = {
        "name": name,
        "role_arn": ROLE,
        "image_uri": IMAGE,
        "instance_type": "ml.m5.large",
        "inputs": [ProcessingInput(input_name="in", source="s3://b/in", destination=f"{P}/in")],
        "outputs": [
            ProcessingOutput(output_name="out", source=f"{P}/out", destination="s3://b/out")
        ],
    }
    args.update(kw)
    return ProcessingStep(**args)


def training(name: str = "Fit", data: Any = "s3://b/train", **kw: Any) -> TrainingStep:
    """A small valid training step."""
    args: dict[str, Any] = {
        "name": name,
        "role_arn": ROLE,
        "image_uri": IMAGE,
        "instance_type": "ml.m5.large",
        "output_path": "s3://b/model",
        "inputs": [TrainingChannel(channel_name="train", s3_uri=data)],
    }
    args.update(kw)
    return TrainingStep(**args)


def fail(name: str = "Stop", **kw: Any) -> FailStep:
    """A fail step."""
    return FailStep(name=name, error_message="stopped", **kw)
