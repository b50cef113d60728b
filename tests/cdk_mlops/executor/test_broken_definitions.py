"""Broken wirings of the Level 2 definition fail with a message naming the step and the field.

The definition is the one ``RepeatableStack`` synthesizes, mutated the way a wrong change to the
construct would break it. Most are refused before any job runs; the ones only a run can reveal
(a JSON path evaluate does not write, a job that fails) run the pipeline up to that point.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from cdk_mlops.executor import ExecutorError, run_pipeline
from tests.cdk_mlops.executor.conftest import generate_csv, step_of


def run(template: Path, definition: dict[str, Any], tmp_path: Path, **kwargs: Any) -> Any:
    return run_pipeline(template, work_dir=tmp_path / "work", definition=definition, **kwargs)


def test_fails_when_training_reads_an_output_preprocess_does_not_have(
    level2_template: Path, definition: dict[str, Any], tmp_path: Path
) -> None:
    source = step_of(definition, "Train")["Arguments"]["InputDataConfig"][0]["DataSource"]
    source["S3DataSource"]["S3Uri"] = {
        "Get": "Steps.Preprocess.ProcessingOutputConfig.Outputs['training'].S3Output.S3Uri"
    }
    with pytest.raises(ExecutorError) as caught:
        run(level2_template, definition, tmp_path)
    message = str(caught.value)
    assert message.startswith(
        "step Train, field Arguments.InputDataConfig[0].DataSource.S3DataSource.S3Uri: "
    )
    assert "no element named 'training'" in message
    assert "['train', 'validation', 'test']" in message
    assert not (tmp_path / "work" / "jobs").exists()  # refused before any job ran


def test_fails_when_a_step_reads_a_step_that_does_not_exist(
    level2_template: Path, definition: dict[str, Any], tmp_path: Path
) -> None:
    inputs = step_of(definition, "Evaluate")["Arguments"]["ProcessingInputs"]
    model = next(i for i in inputs if i["InputName"] == "model")
    model["S3Input"]["S3Uri"] = {"Get": "Steps.Training.ModelArtifacts.S3ModelArtifacts"}
    with pytest.raises(
        ExecutorError,
        match=re.escape("step Evaluate, field Arguments.ProcessingInputs[1].S3Input.S3Uri: ")
        + ".*no step 'Training'",
    ):
        run(level2_template, definition, tmp_path)


def test_fails_when_a_property_path_is_not_what_the_step_has(
    level2_template: Path, definition: dict[str, Any], tmp_path: Path
) -> None:
    container = step_of(definition, "Register")["Arguments"]["InferenceSpecification"][
        "Containers"
    ][0]
    container["ModelDataUrl"] = {"Get": "Steps.Train.ModelArtifacts.S3Uri"}
    with pytest.raises(ExecutorError) as caught:
        run(level2_template, definition, tmp_path)
    assert str(caught.value).startswith(
        "step Register, field Arguments.InferenceSpecification.Containers[0].ModelDataUrl: "
    )
    assert "no 'S3Uri' under ModelArtifacts; there: ['S3ModelArtifacts']" in str(caught.value)


def test_fails_when_a_hyperparameter_is_not_a_string(
    level2_template: Path, definition: dict[str, Any], tmp_path: Path
) -> None:
    step_of(definition, "Train")["Arguments"]["HyperParameters"] = {
        "model_type": '"hgb"',
        "max_iter": 150,
    }
    with pytest.raises(ExecutorError) as caught:
        run(level2_template, definition, tmp_path)
    assert str(caught.value).startswith(
        "step Train, field HyperParameters.max_iter: value 150 (int)"
    )
    assert "map of strings" in str(caught.value)


def test_fails_when_a_processing_step_has_no_code_input(
    level2_template: Path, definition: dict[str, Any], tmp_path: Path
) -> None:
    args = step_of(definition, "Evaluate")["Arguments"]
    args["ProcessingInputs"] = [i for i in args["ProcessingInputs"] if i["InputName"] != "code"]
    with pytest.raises(ExecutorError) as caught:
        run(level2_template, definition, tmp_path)
    message = str(caught.value)
    assert message.startswith("step Evaluate, field AppSpecification.ContainerEntrypoint[3]: ")
    assert "/opt/ml/processing/input/code" in message
    assert "no ProcessingInputs entry" in message


def test_fails_when_training_has_no_code_channel(
    level2_template: Path, definition: dict[str, Any], tmp_path: Path
) -> None:
    args = step_of(definition, "Train")["Arguments"]
    args["InputDataConfig"] = [c for c in args["InputDataConfig"] if c["ChannelName"] != "code"]
    with pytest.raises(ExecutorError) as caught:
        run(level2_template, definition, tmp_path)
    assert str(caught.value).startswith(
        "step Train, field AlgorithmSpecification.ContainerEntrypoint[3]: "
        "/opt/ml/input/data/code is the folder of channel 'code'"
    )


def test_fails_when_a_property_file_is_not_declared(
    level2_template: Path, definition: dict[str, Any], tmp_path: Path
) -> None:
    condition = step_of(definition, "CheckQuality")["Arguments"]["Conditions"][0]
    condition["LeftValue"]["Std:JsonGet"]["PropertyFile"] = {
        "Get": "Steps.Evaluate.PropertyFiles.Evaluation"
    }
    with pytest.raises(ExecutorError) as caught:
        run(level2_template, definition, tmp_path)
    assert str(caught.value).startswith(
        "step CheckQuality, field Arguments.Conditions[0].LeftValue.Std:JsonGet.PropertyFile: "
    )
    assert "declares no property file 'Evaluation' (it declares ['EvaluationReport'])" in str(
        caught.value
    )


def test_fails_when_a_property_file_names_an_output_the_step_lacks(
    level2_template: Path, definition: dict[str, Any], tmp_path: Path
) -> None:
    step_of(definition, "Evaluate")["PropertyFiles"][0]["OutputName"] = "metrics"
    with pytest.raises(
        ExecutorError,
        match=re.escape("step Evaluate, field PropertyFiles[0].OutputName: ")
        + ".*output 'metrics'.*\\['evaluation'\\]",
    ):
        run(level2_template, definition, tmp_path)


def test_fails_on_a_step_type_it_does_not_run(
    level2_template: Path, definition: dict[str, Any], tmp_path: Path
) -> None:
    definition["Steps"].append({"Name": "Deploy", "Type": "Lambda", "Arguments": {}})
    with pytest.raises(
        ExecutorError, match=r"^step Deploy, field Type: step type 'Lambda' is not supported"
    ):
        run(level2_template, definition, tmp_path)


def test_fails_on_an_unknown_function(
    level2_template: Path, definition: dict[str, Any], tmp_path: Path
) -> None:
    step_of(definition, "DataVersion")["Arguments"]["Environment"]["X"] = {
        "Std:Concat": {"Values": ["a"]}
    }
    data = generate_csv(tmp_path / "d.csv", rows=200)
    with pytest.raises(
        ExecutorError,
        match=r"^step DataVersion, field Arguments.Environment.X: unknown function Std:Concat",
    ):
        run(level2_template, definition, tmp_path, data=data)


def test_fails_on_a_parameter_the_pipeline_does_not_have(
    level2_template: Path, definition: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(ExecutorError, match=r"--parameter Threshold: not a parameter"):
        run(level2_template, definition, tmp_path, parameters={"Threshold": "0.5"})


def test_fails_on_a_parameter_value_outside_its_enum(
    level2_template: Path, definition: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(
        ExecutorError,
        match=r"parameter ModelApprovalStatus \(String, --parameter\): 'Maybe' is not one of",
    ):
        run(level2_template, definition, tmp_path, parameters={"ModelApprovalStatus": "Maybe"})


def test_a_failing_job_fails_the_execution_with_its_log(
    level2_template: Path, definition: dict[str, Any], tmp_path: Path
) -> None:
    app = step_of(definition, "DataVersion")["Arguments"]["AppSpecification"]
    app["ContainerArguments"] = ["nope" if a == "churn" else a for a in app["ContainerArguments"]]
    data = generate_csv(tmp_path / "d.csv", rows=200)
    result = run(level2_template, definition, tmp_path, data=data)
    assert result.status == "Failed"
    assert result.failed_step == "DataVersion"
    assert not result.reached_fail_step
    assert str(result.failure_reason).startswith(
        "step DataVersion, field AppSpecification.ContainerEntrypoint: the job exited with status 1"
    )
    assert "schema 'nope'" in str(result.failure_reason)  # the job's own message, from its log
    assert [s.status for s in result.steps][:2] == ["Failed", "NotStarted"]


def test_fails_without_data_under_the_input_prefix(
    level2_template: Path, definition: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(
        ExecutorError,
        match=r"^step DataVersion, field ProcessingInputs\[1\].S3Input.S3Uri: no S3 objects under "
        r"s3://mlopslevel2-initialdatalakecurated",
    ):
        run(level2_template, definition, tmp_path)


@pytest.mark.slow
def test_fails_when_the_gate_reads_a_path_evaluate_does_not_write(
    level2_template: Path, definition: dict[str, Any], tmp_path: Path
) -> None:
    condition = step_of(definition, "CheckQuality")["Arguments"]["Conditions"][0]
    condition["LeftValue"]["Std:JsonGet"]["Path"] = "binary_classification_metrics.roc_auc.value"
    data = generate_csv(tmp_path / "d.csv")
    with pytest.raises(ExecutorError) as caught:
        run(level2_template, definition, tmp_path, data=data)
    message = str(caught.value)
    assert message.startswith("step CheckQuality, field Arguments.Conditions[0].LeftValue: ")
    assert "'binary_classification_metrics.roc_auc.value' is not in property file " in message
    assert "EvaluationReport (evaluation.json of step Evaluate)" in message
    assert "no 'roc_auc' under binary_classification_metrics" in message
