"""Step property paths are checked against botocore's Describe* response shapes."""

from __future__ import annotations

import pytest

from cdk_mlops.pipelines import (
    ConditionEquals,
    ConditionStep,
    FailStep,
    ModelContainer,
    PipelineDefinitionError,
    RegisterModelStep,
)
from cdk_mlops.pipelines._service_model import resolve
from tests.cdk_mlops.pipelines.example import IMAGE, processing, training


def test_processing_output_uri_path_matches_the_sdk_form() -> None:
    prep = processing()
    uri = prep.properties.ProcessingOutputConfig.Outputs["out"].S3Output.S3Uri
    assert uri.to_request() == {
        "Get": "Steps.Prep.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"
    }
    assert uri.value_type == "String"
    assert prep.output_uri("out") == uri


def test_training_properties_and_types() -> None:
    fit = training()
    assert fit.model_artifacts().to_request() == {
        "Get": "Steps.Fit.ModelArtifacts.S3ModelArtifacts"
    }
    assert fit.properties.TrainingTimeInSeconds.value_type == "Integer"
    assert fit.properties.FinalMetricDataList[0].Value.value_type == "Float"
    assert fit.properties.HyperParameters["depth"].to_request() == {
        "Get": "Steps.Fit.HyperParameters['depth']"
    }


def test_register_model_properties() -> None:
    reg = RegisterModelStep(
        name="Reg", model_package_group_name="g", containers=[ModelContainer(image=IMAGE)]
    )
    assert reg.properties.ModelPackageArn.to_request() == {"Get": "Steps.Reg.ModelPackageArn"}


def test_fails_on_a_typo_in_a_property_path() -> None:
    prep = processing()
    with pytest.raises(
        PipelineDefinitionError, match="has no field 'Output'; did you mean Outputs"
    ):
        _ = prep.properties.ProcessingOutputConfig.Output
    with pytest.raises(PipelineDefinitionError, match=r"no field 'ModelArtifact'.*ModelArtifacts"):
        _ = training().properties.ModelArtifact


def test_fails_when_indexing_a_structure_or_dotting_into_a_list() -> None:
    prep = processing()
    with pytest.raises(PipelineDefinitionError, match="cannot be indexed"):
        _ = prep.properties.ProcessingOutputConfig["x"]
    with pytest.raises(PipelineDefinitionError, match=r"index it with \[\.\.\.\] instead"):
        _ = prep.properties.ProcessingOutputConfig.Outputs.S3Output


def test_fails_on_a_map_key_that_is_not_a_string() -> None:
    with pytest.raises(PipelineDefinitionError, match="map key must be a string"):
        _ = training().properties.HyperParameters[0]


def test_fails_on_properties_of_steps_that_have_none() -> None:
    failing = FailStep(name="Stop", error_message="x")
    with pytest.raises(PipelineDefinitionError, match="Fail steps have no properties"):
        _ = failing.properties
    gate = ConditionStep(
        name="Gate", conditions=[ConditionEquals(left=1, right=1)], else_steps=[failing]
    )
    with pytest.raises(PipelineDefinitionError, match="Condition steps have no properties"):
        _ = gate.properties


def test_property_objects_are_immutable() -> None:
    prop = training().model_artifacts()
    with pytest.raises(AttributeError):
        prop.anything = 1


@pytest.mark.parametrize(
    ("step_type", "path", "value_type"),
    [
        ("Processing", "ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri", "String"),
        ("Processing", "ProcessingInputs[0].S3Input.S3Uri", "String"),
        ("Processing", "ProcessingResources.ClusterConfig.InstanceCount", "Integer"),
        ("Training", "ModelArtifacts.S3ModelArtifacts", "String"),
        ("Training", "FinalMetricDataList['validation:auc'].Value", "Float"),
        ("RegisterModel", "ModelPackageArn", "String"),
        ("RegisterModel", "ModelPackageVersion", "Integer"),
    ],
)
def test_resolve_accepts_real_paths(step_type: str, path: str, value_type: str) -> None:
    assert resolve(step_type, path).value_type == value_type


@pytest.mark.parametrize(
    ("step_type", "path", "message"),
    [
        (
            "Processing",
            "ProcessingOutputConfig.Output['train'].S3Output.S3Uri",
            "no field 'Output'",
        ),
        ("Training", "ModelArtifacts.S3ModelArtifact", "no field 'S3ModelArtifact'"),
        ("Training", "ModelArtifacts..S3ModelArtifacts", "malformed"),
        ("RegisterModel", "ModelPackageArn.Foo", "is a string"),
        ("Condition", "Outcome", "have no properties"),
    ],
)
def test_resolve_rejects_wrong_paths(step_type: str, path: str, message: str) -> None:
    with pytest.raises(PipelineDefinitionError, match=message):
        resolve(step_type, path)
