"""The builder's output shape, determinism, and every construction-time validation."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from cdk_mlops.pipelines import (
    CacheConfig,
    ConditionEquals,
    ConditionGreaterThan,
    ConditionGreaterThanOrEqualTo,
    ConditionIn,
    ConditionLessThan,
    ConditionLessThanOrEqualTo,
    ConditionNot,
    ConditionOr,
    ConditionStep,
    ExecutionVariable,
    ExecutionVariables,
    Join,
    JsonGet,
    MetricDefinition,
    ModelContainer,
    NetworkConfig,
    ParameterBoolean,
    ParameterFloat,
    ParameterInteger,
    ParameterString,
    Pipeline,
    PipelineDefinitionError,
    PipelineExperimentConfig,
    ProcessingInput,
    ProcessingOutput,
    PropertyFile,
    RegisterModelStep,
    SageMakerJobExceptionType,
    SageMakerJobStepRetryPolicy,
    StepExceptionType,
    StepRetryPolicy,
    VpcConfig,
)
from tests.cdk_mlops.pipelines.example import (
    IMAGE,
    P,
    fail,
    literal_pipeline,
    processing,
    training,
)


@pytest.fixture(scope="module")
def example() -> Pipeline:
    """The realistic training pipeline."""
    return literal_pipeline()


@pytest.fixture(scope="module")
def definition(example: Pipeline) -> dict[str, Any]:
    """Its definition."""
    return example.to_definition()


# --------------------------------------------------------------------------- output shape


def test_definition_top_level_has_version_metadata_parameters_and_steps(
    definition: dict[str, Any],
) -> None:
    assert definition["Version"] == "2020-12-01"
    assert definition["Metadata"] == {}
    assert [p["Name"] for p in definition["Parameters"]] == [
        "InputDataUri",
        "ProcessingInstanceType",
        "TrainingInstanceType",
        "MetricThreshold",
        "ModelApprovalStatus",
        "ChampionModelUri",
    ]
    assert definition["PipelineExperimentConfig"] == {
        "ExperimentName": {"Get": "Execution.PipelineName"},
        "TrialName": {"Get": "Execution.PipelineExecutionId"},
    }
    assert [(s["Name"], s["Type"]) for s in definition["Steps"]] == [
        ("DataVersion", "Processing"),
        ("Preprocess", "Processing"),
        ("Train", "Training"),
        ("Evaluate", "Processing"),
        ("Baseline", "Processing"),
        ("CheckQuality", "Condition"),
    ]


def test_condition_nests_register_and_fail_with_jsonget_on_the_evaluation_file(
    definition: dict[str, Any],
) -> None:
    gate = definition["Steps"][5]
    assert gate["DependsOn"] == ["Baseline"]
    assert gate["Arguments"]["Conditions"] == [
        {
            "Type": "GreaterThanOrEqualTo",
            "LeftValue": {
                "Std:JsonGet": {
                    "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"},
                    "Path": "binary_classification_metrics.auc.value",
                }
            },
            "RightValue": {"Get": "Parameters.MetricThreshold"},
        },
        {
            "Type": "Equals",
            "LeftValue": {
                "Std:JsonGet": {
                    "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"},
                    "Path": "champion_challenger.passed",
                }
            },
            "RightValue": True,
        },
    ]
    [register] = gate["Arguments"]["IfSteps"]
    [failed] = gate["Arguments"]["ElseSteps"]
    assert (register["Name"], register["Type"]) == ("Register", "RegisterModel")
    assert (failed["Name"], failed["Type"]) == ("QualityGateFailed", "Fail")
    assert failed["Arguments"]["ErrorMessage"]["Std:Join"]["Values"][1] == {
        "Get": "Parameters.MetricThreshold"
    }


def test_register_records_metrics_baselines_and_code_version(definition: dict[str, Any]) -> None:
    args = definition["Steps"][5]["Arguments"]["IfSteps"][0]["Arguments"]
    evaluation_uri = {
        "Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"
    }
    baseline_uri = {
        "Get": "Steps.Baseline.ProcessingOutputConfig.Outputs['baseline'].S3Output.S3Uri"
    }
    assert args["ModelMetrics"]["ModelQuality"]["Statistics"] == {
        "ContentType": "application/json",
        "S3Uri": {"Std:Join": {"On": "/", "Values": [evaluation_uri, "evaluation.json"]}},
    }
    drift = args["DriftCheckBaselines"]["ModelDataQuality"]
    assert drift["Statistics"]["S3Uri"]["Std:Join"]["Values"] == [baseline_uri, "statistics.json"]
    assert drift["Constraints"]["S3Uri"]["Std:Join"]["Values"] == [baseline_uri, "constraints.json"]
    assert args["CustomerMetadataProperties"]["code_version"] == "0123abcd"
    assert args["MetadataProperties"] == {
        "CommitId": "0123abcd",
        "GeneratedBy": {"Get": "Execution.PipelineExecutionArn"},
    }
    container = args["InferenceSpecification"]["Containers"][0]
    assert container["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert args["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}


def test_edges_cover_data_references_depends_on_and_branches(example: Pipeline) -> None:
    edges = {(e.source, e.target, e.kind) for e in example.edges}
    assert edges == {
        ("Preprocess", "Train", "data"),
        ("Preprocess", "Evaluate", "data"),
        ("Train", "Evaluate", "data"),
        ("Preprocess", "Baseline", "data"),
        ("Baseline", "CheckQuality", "depends_on"),
        ("Evaluate", "CheckQuality", "data"),
        ("CheckQuality", "Register", "branch"),
        ("CheckQuality", "QualityGateFailed", "branch"),
        ("Evaluate", "Register", "data"),
        ("Baseline", "Register", "data"),
        ("Train", "Register", "data"),
        ("Preprocess", "Register", "data"),
        # DATA_VERSION of the cached steps and data_version on the model package
        ("DataVersion", "Preprocess", "data"),
        ("DataVersion", "Train", "data"),
        ("DataVersion", "Evaluate", "data"),
        ("DataVersion", "Baseline", "data"),
        ("DataVersion", "Register", "data"),
    }


def test_retry_policies_and_cache_config_render_like_the_sdk() -> None:
    step = processing(
        retry_policies=[
            StepRetryPolicy(exception_types=[StepExceptionType.THROTTLING], max_attempts=3),
            SageMakerJobStepRetryPolicy(
                exception_types=[SageMakerJobExceptionType.CAPACITY_ERROR], expire_after_min=60
            ),
        ],
        cache_config=CacheConfig(expire_after="P30D"),
    ).to_request()
    assert step["RetryPolicies"] == [
        {
            "BackoffRate": 2.0,
            "IntervalSeconds": 1,
            "MaxAttempts": 3,
            "ExceptionType": ["Step.THROTTLING"],
        },
        {
            "BackoffRate": 2.0,
            "IntervalSeconds": 1,
            "ExpireAfterMin": 60,
            "ExceptionType": ["SageMaker.CAPACITY_ERROR"],
        },
    ]
    assert step["CacheConfig"] == {"Enabled": True, "ExpireAfter": "P30D"}


def test_parameters_render_types_defaults_and_enums() -> None:
    params = [
        ParameterString(name="S", default_value="a", enum_values=["a", "b"]),
        ParameterInteger(name="I", default_value=2),
        ParameterFloat(name="F", default_value=1),
        ParameterBoolean(name="B", default_value=False),
        ParameterString(name="NoDefault"),
    ]
    assert [p.to_definition() for p in params] == [
        {"Name": "S", "Type": "String", "DefaultValue": "a", "EnumValues": ["a", "b"]},
        {"Name": "I", "Type": "Integer", "DefaultValue": 2},
        {"Name": "F", "Type": "Float", "DefaultValue": 1.0},
        {"Name": "B", "Type": "Boolean", "DefaultValue": False},
        {"Name": "NoDefault", "Type": "String"},
    ]


def test_conditions_render_in_sdk_form() -> None:
    x = ParameterInteger(name="X", default_value=1)
    rendered = [
        c.to_request()
        for c in (
            ConditionEquals(left=x, right=1),
            ConditionGreaterThan(left=x, right=1),
            ConditionLessThan(left=x, right=1.5),
            ConditionLessThanOrEqualTo(left=x, right=1),
            ConditionIn(value=x, values=[1, 2]),
            ConditionNot(expression=ConditionEquals(left=x, right=3)),
            ConditionOr(conditions=[ConditionEquals(left=x, right=3)]),
        )
    ]
    get = {"Get": "Parameters.X"}
    assert [r["Type"] for r in rendered] == [
        "Equals",
        "GreaterThan",
        "LessThan",
        "LessThanOrEqualTo",
        "In",
        "Not",
        "Or",
    ]
    assert rendered[4] == {"Type": "In", "QueryValue": get, "Values": [1, 2]}
    assert rendered[5]["Expression"] == {"Type": "Equals", "LeftValue": get, "RightValue": 3}


def test_hyperparameters_become_strings_and_typed_parameters_a_join() -> None:
    depth = ParameterInteger(name="Depth", default_value=3)
    args = training(hyperparameters={"n": 5, "rate": 0.1, "flag": True, "s": "x", "d": depth})
    rendered = args.arguments()["HyperParameters"]
    assert rendered == {
        "d": {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.Depth"}]}},
        "flag": "true",
        "n": "5",
        "rate": "0.1",
        "s": "x",
    }


def test_secure_network_defaults_are_on() -> None:
    args = processing().arguments()["NetworkConfig"]
    assert args == {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True}
    targs = training().arguments()
    assert targs["EnableNetworkIsolation"] is True
    assert targs["EnableInterContainerTrafficEncryption"] is True


# ---------------------------------------------------------------------------- determinism


def test_same_input_gives_byte_identical_json() -> None:
    assert literal_pipeline().to_json() == literal_pipeline().to_json()
    assert literal_pipeline().to_json(indent=2) == literal_pipeline().to_json(indent=2)


def test_json_does_not_depend_on_mapping_order() -> None:
    a = training(environment={"A": "1", "B": "2"}, hyperparameters={"x": 1, "y": 2})
    b = training(environment={"B": "2", "A": "1"}, hyperparameters={"y": 2, "x": 1})
    assert json.dumps(a.to_request()) == json.dumps(b.to_request())


def test_json_is_sorted_and_round_trips(example: Pipeline) -> None:
    text = example.to_json()
    assert json.loads(text) == example.to_definition()
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))


def test_builder_objects_are_frozen(example: Pipeline) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        example.steps[0].name = "Other"  # type: ignore[misc]
    env = {"A": "1"}
    step = processing(environment=env)
    env["A"] = "changed"
    assert step.arguments()["Environment"] == {"A": "1"}


# ------------------------------------------------------------------ failing cases: pipeline


def test_fails_when_step_names_repeat() -> None:
    with pytest.raises(PipelineDefinitionError, match="duplicate step name 'Prep'"):
        Pipeline(steps=[processing(), processing()])


def test_fails_when_a_branch_step_repeats_a_top_level_name() -> None:
    gate = ConditionStep(
        name="Gate",
        conditions=[ConditionEquals(left=1, right=1)],
        if_steps=[processing()],
    )
    with pytest.raises(
        PipelineDefinitionError, match=r"duplicate step name 'Prep'.*branch of Gate"
    ):
        Pipeline(steps=[gate, processing()])


def test_fails_when_depends_on_names_an_unknown_step() -> None:
    with pytest.raises(PipelineDefinitionError, match="depends on unknown step 'Nope'"):
        Pipeline(steps=[processing(depends_on=["Nope"])])


def test_fails_when_a_parameter_is_not_declared() -> None:
    step = processing(instance_type=ParameterString(name="Type", default_value="ml.m5.large"))
    with pytest.raises(PipelineDefinitionError, match=r"parameter 'Type'.*not in the pipeline"):
        Pipeline(steps=[step])


def test_fails_when_a_parameter_is_declared_twice() -> None:
    with pytest.raises(PipelineDefinitionError, match="declared twice"):
        Pipeline(
            steps=[processing()],
            parameters=[ParameterString(name="A"), ParameterInteger(name="A")],
        )


def test_fails_when_a_step_reads_a_step_that_is_not_in_the_pipeline() -> None:
    prep = processing()
    fit = training(data=prep.output_uri("out"))
    with pytest.raises(PipelineDefinitionError, match="references unknown step 'Prep'"):
        Pipeline(steps=[fit])


def test_fails_when_jsonget_names_an_unknown_property_file() -> None:
    prep = processing()
    gate = ConditionStep(
        name="Gate",
        conditions=[
            ConditionGreaterThanOrEqualTo(
                left=JsonGet(step_name="Prep", property_file="Missing", json_path="a.b"), right=1
            )
        ],
        else_steps=[fail()],
    )
    with pytest.raises(PipelineDefinitionError, match="property file 'Missing' of step Prep"):
        Pipeline(steps=[prep, gate])


def test_fails_when_a_path_names_an_unknown_processing_output() -> None:
    prep = processing()
    bad = prep.properties.ProcessingOutputConfig.Outputs["typo"].S3Output.S3Uri
    with pytest.raises(PipelineDefinitionError, match=r"output 'typo' of step Prep.*\['out'\]"):
        Pipeline(steps=[prep, training(data=bad)])


def test_fails_when_a_path_names_an_undefined_training_metric() -> None:
    fit = training(metric_definitions=[MetricDefinition(name="auc", regex="auc=(.*)")])
    gate = ConditionStep(
        name="Gate",
        conditions=[
            ConditionGreaterThan(left=fit.properties.FinalMetricDataList["f1"].Value, right=0.5)
        ],
        else_steps=[fail()],
    )
    with pytest.raises(PipelineDefinitionError, match="metric 'f1' of step Fit"):
        Pipeline(steps=[fit, gate])
    assert fit.final_metric("auc").to_request() == {
        "Get": "Steps.Fit.FinalMetricDataList['auc'].Value"
    }


def test_fails_on_a_dependency_cycle_and_names_it() -> None:
    a = processing("A", depends_on=["B"])
    b = processing("B", depends_on=["A"])
    with pytest.raises(PipelineDefinitionError, match="dependency cycle: A -> B -> A"):
        Pipeline(steps=[a, b])


def test_fails_on_a_cycle_through_data_references() -> None:
    fit = training(data="s3://b/x", depends_on=["Prep"])
    prep = processing(
        inputs=[ProcessingInput(input_name="m", source=fit.model_artifacts(), destination=f"{P}/m")]
    )
    with pytest.raises(PipelineDefinitionError, match="dependency cycle"):
        Pipeline(steps=[prep, fit])


def test_fails_on_a_self_dependency() -> None:
    with pytest.raises(PipelineDefinitionError, match="dependency cycle: Prep -> Prep"):
        Pipeline(steps=[processing(depends_on=["Prep"])])


def test_fails_when_the_pipeline_has_no_steps() -> None:
    with pytest.raises(PipelineDefinitionError, match="at least one step"):
        Pipeline(steps=[])


def test_fails_when_a_referenced_property_is_not_a_scalar() -> None:
    prep = processing()
    with pytest.raises(PipelineDefinitionError, match="structure, not a value"):
        training(data=prep.properties.ProcessingOutputConfig)


def test_fails_on_an_unknown_execution_variable() -> None:
    with pytest.raises(PipelineDefinitionError, match="unknown execution variable 'RunId'"):
        ExecutionVariable(name="RunId")


def test_experiment_config_may_use_declared_parameters_only() -> None:
    config = PipelineExperimentConfig(experiment_name=ParameterString(name="Exp"))
    with pytest.raises(PipelineDefinitionError, match="parameter 'Exp'"):
        Pipeline(steps=[processing()], experiment_config=config)
    ok = Pipeline(
        steps=[processing()],
        parameters=[ParameterString(name="Exp", default_value="e")],
        experiment_config=config,
    )
    assert ok.to_definition()["PipelineExperimentConfig"]["ExperimentName"] == {
        "Get": "Parameters.Exp"
    }


# --------------------------------------------------------------------- failing cases: steps


@pytest.mark.parametrize(
    "name",
    ["", "has space", "a" * 65, "dots.are.rejected", "üml"],
)
def test_fails_on_names_sagemaker_rejects(name: str) -> None:
    with pytest.raises(PipelineDefinitionError, match=r"name .* is invalid"):
        processing(name)
    with pytest.raises(PipelineDefinitionError, match=r"name .* is invalid"):
        ParameterString(name=name)
    with pytest.raises(PipelineDefinitionError, match=r"name .* is invalid"):
        PropertyFile(name=name, output_name="out", path="x.json")


def test_fails_on_a_display_name_sagemaker_rejects() -> None:
    with pytest.raises(PipelineDefinitionError, match="display name"):
        processing(display_name="Has spaces")


@pytest.mark.parametrize("instance_type", ["m5.large", "ml.m5", "ML.M5.LARGE", "ml.m5.large "])
def test_fails_on_instance_types_not_like_ml_family_size(instance_type: str) -> None:
    with pytest.raises(PipelineDefinitionError, match="not a SageMaker instance type"):
        processing(instance_type=instance_type)
    with pytest.raises(PipelineDefinitionError, match="not a SageMaker instance type"):
        training(instance_type=instance_type)
    with pytest.raises(PipelineDefinitionError, match="not a SageMaker instance type"):
        processing(instance_type=ParameterString(name="T", default_value=instance_type))


def test_fails_when_an_integer_field_gets_a_string_parameter() -> None:
    with pytest.raises(PipelineDefinitionError, match="instance_count: expected Integer"):
        processing(instance_count=ParameterString(name="N", default_value="1"))


def test_fails_when_instance_count_is_out_of_range() -> None:
    with pytest.raises(PipelineDefinitionError, match="out of range"):
        processing(instance_count=0)


def test_fails_when_processing_paths_are_outside_opt_ml_processing() -> None:
    with pytest.raises(PipelineDefinitionError, match="below /opt/ml/processing/"):
        ProcessingInput(input_name="x", source="s3://b/x", destination="/tmp/x")
    with pytest.raises(PipelineDefinitionError, match="below /opt/ml/processing/"):
        ProcessingOutput(output_name="x", source="/opt/ml/processing", destination="s3://b/x")


def test_fails_when_an_s3_uri_is_not_s3() -> None:
    with pytest.raises(PipelineDefinitionError, match="not an S3 URI"):
        ProcessingInput(input_name="x", source="https://example.com/x", destination=f"{P}/x")


def test_fails_on_duplicate_input_names_or_local_paths() -> None:
    same_name = [
        ProcessingInput(input_name="a", source="s3://b/1", destination=f"{P}/1"),
        ProcessingInput(input_name="a", source="s3://b/2", destination=f"{P}/2"),
    ]
    with pytest.raises(PipelineDefinitionError, match="duplicate input name 'a'"):
        processing(inputs=same_name)
    same_path = [
        ProcessingInput(input_name="a", source="s3://b/1", destination=f"{P}/1"),
        ProcessingInput(input_name="b", source="s3://b/2", destination=f"{P}/1"),
    ]
    with pytest.raises(PipelineDefinitionError, match="local path"):
        processing(inputs=same_path)


def test_fails_when_a_property_file_reads_a_missing_output() -> None:
    with pytest.raises(PipelineDefinitionError, match="reads output 'eval'"):
        processing(property_files=[PropertyFile(name="R", output_name="eval", path="e.json")])


def test_output_uri_and_json_get_check_names() -> None:
    prep = processing(property_files=[PropertyFile(name="R", output_name="out", path="r.json")])
    with pytest.raises(PipelineDefinitionError, match="no output 'missing'"):
        prep.output_uri("missing")
    with pytest.raises(PipelineDefinitionError, match="no property file 'Nope'"):
        prep.json_get("Nope", "a.b")
    assert prep.json_get("R", "a.b").to_request()["Std:JsonGet"]["Path"] == "a.b"


def test_fails_on_bad_environment_names() -> None:
    with pytest.raises(PipelineDefinitionError, match="variable name '1BAD'"):
        processing(environment={"1BAD": "x"})


def test_fails_on_an_entrypoint_entry_over_256_characters() -> None:
    with pytest.raises(PipelineDefinitionError, match="256 characters"):
        processing(entrypoint=["python3", "-c", "x" * 257])


def test_fails_on_bad_retry_policies() -> None:
    with pytest.raises(PipelineDefinitionError, match="exactly one of max_attempts"):
        StepRetryPolicy()
    with pytest.raises(PipelineDefinitionError, match="exactly one of max_attempts"):
        StepRetryPolicy(max_attempts=2, expire_after_min=5)
    with pytest.raises(PipelineDefinitionError, match="out of range"):
        StepRetryPolicy(max_attempts=21)
    with pytest.raises(PipelineDefinitionError, match="not one of"):
        StepRetryPolicy(
            max_attempts=2,
            exception_types=[SageMakerJobExceptionType.CAPACITY_ERROR],
        )
    with pytest.raises(PipelineDefinitionError, match="only StepRetryPolicy"):
        RegisterModelStep(
            name="Reg",
            model_package_group_name="g",
            containers=[ModelContainer(image=IMAGE)],
            retry_policies=[SageMakerJobStepRetryPolicy(max_attempts=2)],  # type: ignore[list-item]
        )


def test_fails_on_a_cache_duration_that_is_not_iso_8601() -> None:
    with pytest.raises(PipelineDefinitionError, match="ISO 8601"):
        CacheConfig(expire_after="30d")


def test_fails_on_incomparable_condition_operands() -> None:
    with pytest.raises(PipelineDefinitionError, match="cannot compare String"):
        ConditionGreaterThan(left=ParameterString(name="S"), right=1)
    with pytest.raises(PipelineDefinitionError, match="booleans cannot be ordered"):
        ConditionLessThan(left=ParameterBoolean(name="B"), right=True)


def test_fails_on_a_condition_without_branches_or_conditions() -> None:
    with pytest.raises(PipelineDefinitionError, match="if_steps and/or else_steps"):
        ConditionStep(name="Gate", conditions=[ConditionEquals(left=1, right=1)])
    with pytest.raises(PipelineDefinitionError, match="at least one condition"):
        ConditionStep(name="Gate", conditions=[], else_steps=[fail()])


def test_fails_on_parameter_defaults_of_the_wrong_type() -> None:
    with pytest.raises(PipelineDefinitionError, match="must be an int"):
        ParameterInteger(name="I", default_value=True)
    with pytest.raises(PipelineDefinitionError, match="finite number"):
        ParameterFloat(name="F", default_value=float("nan"))
    with pytest.raises(PipelineDefinitionError, match="not one of enum_values"):
        ParameterString(name="S", default_value="c", enum_values=["a", "b"])


def test_fails_on_register_model_arguments_sagemaker_rejects() -> None:
    container = ModelContainer(image=IMAGE)
    with pytest.raises(PipelineDefinitionError, match="approval status 'Maybe'"):
        RegisterModelStep(
            name="Reg",
            model_package_group_name="g",
            containers=[container],
            approval_status="Maybe",
        )
    with pytest.raises(PipelineDefinitionError, match="customer metadata key"):
        RegisterModelStep(
            name="Reg",
            model_package_group_name="g",
            containers=[container],
            customer_metadata_properties={"bad#key": "v"},
        )
    with pytest.raises(PipelineDefinitionError, match="1 to 15 containers"):
        RegisterModelStep(name="Reg", model_package_group_name="g", containers=[])


def test_fails_on_vpc_config_limits() -> None:
    with pytest.raises(PipelineDefinitionError, match="1 to 16 subnets"):
        VpcConfig(subnet_ids=[], security_group_ids=["sg-1"])
    with pytest.raises(PipelineDefinitionError, match="1 to 5 groups"):
        VpcConfig(subnet_ids=["s"], security_group_ids=[f"sg-{i}" for i in range(6)])
    with pytest.raises(PipelineDefinitionError, match="must be a bool"):
        NetworkConfig(enable_network_isolation="yes")  # type: ignore[arg-type]


def test_fails_on_a_value_that_is_not_a_literal_or_expression() -> None:
    with pytest.raises(
        PipelineDefinitionError, match="neither a literal nor a pipeline expression"
    ):
        Join(on="/", values=[object()])  # type: ignore[list-item]
    with pytest.raises(PipelineDefinitionError, match="json_path"):
        JsonGet(step_name="A", property_file="F", json_path="not a path")


def test_execution_variables_render_as_gets() -> None:
    assert ExecutionVariables.PIPELINE_EXECUTION_ID.to_request() == {
        "Get": "Execution.PipelineExecutionId"
    }
    assert Join(on="-", values=["a", ExecutionVariables.START_DATETIME]).value_type == "String"


def test_importing_the_builder_loads_neither_cdk_nor_botocore_nor_the_sdk() -> None:
    import subprocess
    import sys

    code = (
        "import sys, cdk_mlops.pipelines;"
        "print(sorted(m for m in ('aws_cdk', 'botocore', 'sagemaker') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
