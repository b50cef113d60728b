"""Every job step's Arguments satisfy the SageMaker API request shape in botocore's model."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cdk_mlops.pipelines import (
    ConditionLessThan,
    ConditionStep,
    DriftCheckBaselines,
    ExecutionVariables,
    FailStep,
    FileSource,
    Join,
    MetadataProperties,
    MetricDefinition,
    MetricsSource,
    ModelContainer,
    ModelMetrics,
    NetworkConfig,
    ParameterBoolean,
    ParameterInteger,
    ParameterString,
    Pipeline,
    ProcessingInput,
    ProcessingOutput,
    PropertyFile,
    RegisterModelStep,
    VpcConfig,
)
from tests.cdk_mlops.pipelines.conftest import TokenSetup
from tests.cdk_mlops.pipelines.example import IMAGE, P, processing, training
from tests.cdk_mlops.pipelines.validators import (
    PATTERNS,
    Placeholder,
    substitute,
    validate_definition_requests,
    validate_request,
)


def kitchen_sink() -> Pipeline:
    """Every optional argument of the three job step types, with parameters and properties."""
    count = ParameterInteger(name="Count", default_value=1)
    kind = ParameterString(name="Kind", default_value="ml.m5.large")
    isolate = ParameterBoolean(name="Isolate", default_value=True)
    vpc = VpcConfig(subnet_ids=["subnet-1"], security_group_ids=["sg-1"])
    prep = processing(
        instance_type=kind,
        instance_count=count,
        volume_size_in_gb=50,
        volume_kms_key_id="alias/jobs",
        output_kms_key_id="arn:aws:kms:eu-west-1:123456789012:key/abc",
        entrypoint=["python3", "-m", "prep"],
        container_arguments=["--date", ExecutionVariables.START_DATETIME],
        environment={"MODE": "full", "RUN": ExecutionVariables.PIPELINE_EXECUTION_ID},
        network=NetworkConfig(vpc=vpc),
        max_runtime_in_seconds=3600,
        property_files=[PropertyFile(name="Report", output_name="out", path="report.json")],
        inputs=[
            ProcessingInput(
                input_name="in",
                source="s3://b/in",
                destination=f"{P}/in",
                s3_data_distribution_type="ShardedByS3Key",
                s3_compression_type="Gzip",
            )
        ],
        outputs=[
            ProcessingOutput(
                output_name="out",
                source=f"{P}/out",
                destination=Join(
                    on="/", values=["s3://b/out", ExecutionVariables.PIPELINE_EXECUTION_ID]
                ),
                s3_upload_mode="Continuous",
            )
        ],
    )
    fit = training(
        data=prep.output_uri("out"),
        instance_count=count,
        volume_kms_key_id="alias/jobs",
        output_kms_key_id="alias/jobs",
        metric_definitions=[MetricDefinition(name="validation:auc", regex="auc=([0-9.]+)")],
        hyperparameters={"depth": count, "rate": 0.1, "isolate": isolate, "name": "x"},
        environment={"A": "1"},
        entrypoint=["python3", "-m", "train"],
        container_arguments=["--fast"],
        network=NetworkConfig(vpc=vpc, enable_network_isolation=False),
        max_runtime_in_seconds=7200,
    )
    source = MetricsSource(s3_uri=prep.output_uri("out"), content_digest="sha256:" + "0" * 64)
    register = RegisterModelStep(
        name="Reg",
        model_package_group_name="group",
        containers=[
            ModelContainer(
                image=IMAGE,
                model_data_url=fit.model_artifacts(),
                environment={"SAGEMAKER_PROGRAM": "inference.py"},
                framework="SKLEARN",
                framework_version="1.2",
            )
        ],
        inference_instances=["ml.m5.large"],
        transform_instances=["ml.m5.large"],
        approval_status="Approved",
        model_metrics=ModelMetrics(
            model_quality_statistics=source,
            model_quality_constraints=source,
            model_data_quality_statistics=source,
            model_data_quality_constraints=source,
            bias_report=source,
            bias_pre_training_report=source,
            bias_post_training_report=source,
            explainability_report=source,
        ),
        drift_check_baselines=DriftCheckBaselines(
            model_data_quality_statistics=source,
            model_data_quality_constraints=source,
            model_quality_statistics=source,
            model_quality_constraints=source,
            bias_config_file=FileSource(s3_uri="s3://b/bias.json", content_type="application/json"),
            bias_pre_training_constraints=source,
            bias_post_training_constraints=source,
            explainability_constraints=source,
            explainability_config_file=FileSource(s3_uri="s3://b/shap.json"),
        ),
        customer_metadata_properties={
            "code_version": "abc",
            "run": ExecutionVariables.PIPELINE_EXECUTION_ID,
        },
        metadata_properties=MetadataProperties(
            commit_id="abc",
            repository="https://example.com/repo",
            generated_by="ci",
            project_id="p-1",
        ),
        model_package_description="A model",
    )
    gate = ConditionStep(
        name="Gate",
        conditions=[ConditionLessThan(left=prep.json_get("Report", "a.b"), right=1)],
        if_steps=[register],
        else_steps=[FailStep(name="Stop", error_message="no")],
    )
    return Pipeline(parameters=[count, kind, isolate], steps=[prep, fit, gate])


def test_the_example_pipeline_passes_the_request_shapes(example_definition: dict[str, Any]) -> None:
    result = validate_definition_requests(example_definition)
    assert set(result) == {"DataVersion", "Preprocess", "Train", "Evaluate", "Baseline", "Register"}
    assert result == {key: [] for key in result}


def test_every_optional_argument_passes_the_request_shapes() -> None:
    result = validate_definition_requests(kitchen_sink().to_definition())
    assert set(result) == {"Prep", "Fit", "Reg"}
    assert result == {key: [] for key in result}


def test_the_cdk_token_pipeline_passes_the_request_shapes(token_setup: TokenSetup) -> None:
    definition = token_setup.pipeline.to_definition()
    substituted = substitute(
        definition["Steps"][0]["Arguments"],
        parameters={"ProcessingInstanceType": "String", "InputDataUri": "String"},
        step_types={},
    )
    assert substituted["RoleArn"] == Placeholder("String", "CDK token")
    result = validate_definition_requests(definition)
    assert result == {key: [] for key in result}


def test_all_patterns_used_were_checked(example_definition: dict[str, Any]) -> None:
    validate_definition_requests(kitchen_sink().to_definition())
    validate_definition_requests(example_definition)
    # Patterns neither `regex` nor `re` compiles are skipped; none occur in these pipelines.
    assert PATTERNS.unsupported == set()


# ----------------------------------------------------------------- canaries: the validator bites


STEP_TYPES = {
    "Train": "Training",
    "Evaluate": "Processing",
    "Baseline": "Processing",
    "Preprocess": "Processing",
}


@pytest.fixture()
def processing_args(example_definition: dict[str, Any]) -> dict[str, Any]:
    """A copy of the Preprocess arguments to break."""
    return copy.deepcopy(example_definition["Steps"][0]["Arguments"])


def errors_of(
    args: dict[str, Any], operation: str = "CreateProcessingJob", **params: str
) -> list[str]:
    """Validator errors after substituting placeholders."""
    parameters = {"ProcessingInstanceType": "String", "InputDataUri": "String", **params}
    skip = frozenset({"ProcessingJobName", "TrainingJobName"})
    return validate_request(
        substitute(args, parameters=parameters, step_types=STEP_TYPES),
        operation,
        skip_required=skip,
    )


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda a: a.update(Bogus=1), "unknown member 'Bogus'"),
        (lambda a: a.pop("RoleArn"), "missing required member 'RoleArn'"),
        (
            lambda a: a["ProcessingResources"]["ClusterConfig"].update(InstanceCount="1"),
            "expected Integer",
        ),
        (
            lambda a: a["ProcessingResources"]["ClusterConfig"].update(InstanceType="ml.m5.huge"),
            "not in enum ProcessingInstanceType",
        ),
        (lambda a: a.update(RoleArn="arn:aws:iam::123:role/x"), "does not match"),
        (
            lambda a: a["ProcessingOutputConfig"].update(KmsKeyId="key with spaces"),
            "does not match",
        ),
        (
            lambda a: a["ProcessingResources"]["ClusterConfig"].update(VolumeSizeInGB=0),
            "below minimum 1",
        ),
        (
            lambda a: a["StoppingCondition"].update(MaxRuntimeInSeconds=777601),
            "above maximum 777600",
        ),
        (lambda a: a["NetworkConfig"].update(EnableNetworkIsolation="true"), "expected a boolean"),
        (lambda a: a["NetworkConfig"]["VpcConfig"].update(Subnets=[]), "fewer than 1 items"),
        (lambda a: a["Environment"].update({"1BAD": "x"}), "does not match"),
        (
            lambda a: a["AppSpecification"]["ContainerEntrypoint"].append("x" * 257),
            "longer than 256",
        ),
        (
            lambda a: a["ProcessingResources"]["ClusterConfig"].update(
                InstanceCount={"Get": "Parameters.ProcessingInstanceType"}
            ),
            "Parameters.ProcessingInstanceType is a String, expected Integer",
        ),
        (
            lambda a: a["ProcessingInputs"][0]["S3Input"].update(
                S3Uri={"Get": "Steps.Train.TrainingTimeInSeconds"}
            ),
            "Steps.Train.TrainingTimeInSeconds is a Integer, expected String",
        ),
        (lambda a: a.update(ProcessingInputs={"not": "a list"}), "expected a list"),
    ],
)
def test_validator_canary_fails_on_wrong_processing_arguments(
    processing_args: dict[str, Any], mutate: Any, expected: str
) -> None:
    assert errors_of(processing_args) == []
    mutate(processing_args)
    errors = errors_of(processing_args)
    assert any(expected in e for e in errors), errors


def test_validator_canary_fails_on_wrong_training_and_model_package_arguments(
    example_definition: dict[str, Any],
) -> None:
    train = copy.deepcopy(example_definition["Steps"][2]["Arguments"])
    params = {"TrainingInstanceType": "String"}
    assert errors_of(train, "CreateTrainingJob", **params) == []
    train["InputDataConfig"][0]["ChannelName"] = "bad name!"
    train["HyperParameters"] = {"x": 1}
    errors = errors_of(train, "CreateTrainingJob", **params)
    assert any("ChannelName" in e and "does not match" in e for e in errors), errors
    assert any("HyperParameters['x']: expected a string" in e for e in errors), errors

    register = copy.deepcopy(example_definition["Steps"][5]["Arguments"]["IfSteps"][0]["Arguments"])
    params = {"ModelApprovalStatus": "String"}
    steps = STEP_TYPES
    ok = validate_request(
        substitute(register, parameters=params, step_types=steps), "CreateModelPackage"
    )
    assert ok == []
    register["ModelApprovalStatus"] = "Maybe"
    del register["ModelMetrics"]["ModelQuality"]["Statistics"]["ContentType"]
    errors = validate_request(
        substitute(register, parameters=params, step_types=steps), "CreateModelPackage"
    )
    assert any("'Maybe' not in enum ModelApprovalStatus" in e for e in errors), errors
    assert any("missing required member 'ContentType'" in e for e in errors), errors


def test_validator_canary_fails_on_a_property_path_botocore_does_not_know() -> None:
    with pytest.raises(AssertionError, match="no member 'Output'"):
        substitute(
            {"Get": "Steps.Prep.ProcessingOutputConfig.Output['x'].S3Output.S3Uri"},
            parameters={},
            step_types={"Prep": "Processing"},
        )
