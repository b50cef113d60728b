"""The Tune step: a hyperparameter tuning job in place of Train, its request and its checks."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cdk_mlops.pipelines import (
    CategoricalParameterRange,
    ContinuousParameterRange,
    IntegerParameterRange,
    MetricDefinition,
    Pipeline,
    PipelineDefinitionError,
    StepCommand,
    TrainingChannel,
    TuningStep,
)
from cdk_mlops.pipelines import training as t
from cdk_mlops.pipelines.tuning import (
    DEFAULT_PARAMETER_RANGES,
    TRAIN_MODULE_ENV,
    TUNE,
    TuningSettings,
)
from tests.cdk_mlops.pipelines.example import literal_pipeline
from tests.cdk_mlops.pipelines.test_schema import KNOWN_DEVIATIONS, Deviation
from tests.cdk_mlops.pipelines.validators import (
    iter_steps,
    schema_errors,
    validate_definition_requests,
)

ROOT = Path(__file__).resolve().parents[3]
SOURCEDIR = "s3://example-bucket/assets/0123abcd.gz"
TOP_MODEL = {
    "Std:Join": {
        "On": "/",
        "Values": [
            "s3://example-bucket/training-pipeline",
            {"Get": "Execution.PipelineExecutionId"},
            "Tune",
            {"Get": "Steps.Tune.TrainingJobSummaries[0].TrainingJobName"},
            "output/model.tar.gz",
        ],
    }
}
# Where the stale published schema lags the API for a tuning step (as for training steps).
TUNING_DEVIATIONS: tuple[Deviation, ...] = (
    *(
        Deviation(
            "Tuning", r"RetryPolicies\.\d+\.ExceptionType", keyword,
            "the SDK writes ExceptionType as a list of strings", message=r"^\[",
        )
        for keyword in ("type", "enum")
    ),
    Deviation(
        "Tuning", r"Arguments\..*", "oneOf",
        "StringArgumentValue allows Get but not Std:Join", message=r"^\{'Std:Join'",
    ),
    Deviation(
        "Tuning", r"Arguments\.TrainingJobDefinition", "additionalProperties",
        "the training job definition lacks Environment (API of 2023) and "
        "HyperParameterTuningResourceConfig, which the SDK writes instead of ResourceConfig",
        extra_names=frozenset({"Environment", "HyperParameterTuningResourceConfig"}),
    ),
    Deviation(
        "Tuning", r"Arguments\.TrainingJobDefinition", "required",
        "the schema requires ResourceConfig; the API takes it or HyperParameterTuningResourceConfig",
        message="'ResourceConfig' is a required property",
    ),
    Deviation(
        "Tuning", r"Arguments\.HyperParameterTuningJobConfig", "additionalProperties",
        "the tuning job config lacks RandomSeed (API of 2023; botocore has it)",
        extra_names=frozenset({"RandomSeed"}),
    ),
)  # fmt: skip


@pytest.fixture(scope="module")
def tuned() -> Pipeline:
    return literal_pipeline(tuning=TuningSettings(random_seed=7), sourcedir_uri=SOURCEDIR)


@pytest.fixture(scope="module")
def steps(tuned: Pipeline) -> dict[str, dict[str, Any]]:
    return {s["Name"]: s for s in iter_steps(tuned.to_definition()["Steps"])}


def test_tune_replaces_train_and_its_best_model_feeds_evaluate_and_register(
    steps: dict[str, dict[str, Any]],
) -> None:
    assert t.TRAIN not in steps
    assert steps[TUNE]["Type"] == "Tuning"
    evaluate = {i["InputName"]: i for i in steps[t.EVALUATE]["Arguments"]["ProcessingInputs"]}
    assert evaluate["model"]["S3Input"]["S3Uri"] == TOP_MODEL
    container = steps[t.REGISTER]["Arguments"]["InferenceSpecification"]["Containers"][0]
    assert container["ModelDataUrl"] == TOP_MODEL


def test_tuning_request_is_valid_for_the_api(tuned: Pipeline) -> None:
    errors = validate_definition_requests(tuned.to_definition())
    assert errors[TUNE] == []
    assert all(e == [] for e in errors.values()), errors


def test_schema_errors_are_only_the_known_deviations(tuned: Pipeline) -> None:
    errors = schema_errors(tuned.to_definition())
    known = (*KNOWN_DEVIATIONS, *TUNING_DEVIATIONS)
    assert [e for e in errors if not any(d.matches(e) for d in known)] == []
    assert [d for d in TUNING_DEVIATIONS if not any(d.matches(e) for e in errors)] == []


def test_tuning_job_runs_the_training_module_in_script_mode(
    steps: dict[str, dict[str, Any]],
) -> None:
    args = steps[TUNE]["Arguments"]
    definition = args["TrainingJobDefinition"]
    assert "ContainerEntrypoint" not in definition["AlgorithmSpecification"]
    static = definition["StaticHyperParameters"]
    assert json.loads(static["sagemaker_program"]) == "train.py"
    # the code channel holds the source dir: a network-isolated job cannot download it
    assert json.loads(static["sagemaker_submit_directory"]) == "/opt/ml/input/data/code/0123abcd.gz"
    channels = {c["ChannelName"]: c for c in definition["InputDataConfig"]}
    assert channels["code"]["DataSource"]["S3DataSource"]["S3Uri"] == SOURCEDIR
    assert set(channels) == {"train", "validation", "code"}
    assert definition["Environment"][TRAIN_MODULE_ENV] == "pipeline_code.training.train"
    assert definition["EnableNetworkIsolation"] is True
    assert definition["VpcConfig"]["Subnets"] == ["subnet-0a", "subnet-0b"]
    config = args["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Bayesian"
    assert config["TrainingJobEarlyStoppingType"] == "Auto"
    assert config["RandomSeed"] == 7
    assert config["HyperParameterTuningJobObjective"] == {
        "Type": "Maximize",
        "MetricName": "validation:auc",
    }
    assert config["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 10, "MaxParallelTrainingJobs": 2}
    tuned_names = {r["Name"] for rs in config["ParameterRanges"].values() for r in rs}
    assert tuned_names == {r.name for r in DEFAULT_PARAMETER_RANGES}


def test_the_objective_regex_matches_what_train_prints() -> None:
    """train prints ``validation:auc=0.812345;`` (pipeline_code.training.train.main)."""
    import re

    from cdk_mlops.pipelines.tuning import TRAINING_METRIC_DEFINITIONS

    regex = next(m.regex for m in TRAINING_METRIC_DEFINITIONS if m.name == "validation:auc")
    line = "train:auc=0.901234;\nvalidation:auc=0.812345;\n"
    assert re.findall(regex, line) == ["0.812345"]


def test_the_default_pipeline_has_no_tuning_step() -> None:
    names = [s.name for s in literal_pipeline().all_steps()]
    assert t.TRAIN in names and TUNE not in names


def _step(**overrides: Any) -> TuningStep:
    base: dict[str, Any] = {
        "name": "Tune",
        "role_arn": "arn:aws:iam::123456789012:role/r",
        "image_uri": "image",
        "instance_type": "ml.m5.large",
        "output_path": "s3://b/p/",
        "inputs": [TrainingChannel(channel_name="train", s3_uri="s3://b/train")],
        "metric_definitions": [MetricDefinition(name="validation:auc", regex="auc=([0-9.]+)")],
        "objective_metric": "validation:auc",
        "parameter_ranges": [IntegerParameterRange(name="max_iter", min_value=10, max_value=50)],
    }
    return TuningStep(**{**base, **overrides})


def test_top_model_of_a_literal_output_path_has_one_slash() -> None:
    uri = _step().top_model_artifacts(3).to_request()["Std:Join"]["Values"]
    assert uri[0] == "s3://b/p"
    assert uri[1] == {"Get": "Steps.Tune.TrainingJobSummaries[3].TrainingJobName"}


def test_properties_come_from_both_responses() -> None:
    step = _step()
    assert step.properties.BestTrainingJob.TrainingJobName.to_request() == {
        "Get": "Steps.Tune.BestTrainingJob.TrainingJobName"
    }
    with pytest.raises(PipelineDefinitionError, match="no field 'ModelArtifacts'"):
        _ = step.properties.ModelArtifacts


BAD: list[tuple[str, Callable[[], Any], str]] = [
    ("objective not defined", lambda: _step(objective_metric="validation:f1"),
     "objective_metric 'validation:f1' is not one of the metric definitions"),
    ("no ranges", lambda: _step(parameter_ranges=[]), "parameter_ranges is empty"),
    ("range twice", lambda: _step(parameter_ranges=[
        IntegerParameterRange(name="a", min_value=1, max_value=2),
        ContinuousParameterRange(name="a", min_value=0.1, max_value=0.2)]),
     r"hyperparameters \['a'\] have two ranges"),
    ("tuned and static", lambda: _step(static_hyperparameters={"max_iter": 5}),
     r"\['max_iter'\] are both tuned and static"),
    ("bad strategy", lambda: _step(strategy="Genetic"), "strategy: 'Genetic' is not one of"),
    ("grid numeric", lambda: _step(strategy="Grid", max_jobs=None, early_stopping=False),
     "Grid strategy searches categorical ranges only"),
    ("grid max jobs", lambda: _step(strategy="Grid", early_stopping=False, parameter_ranges=[
        CategoricalParameterRange(name="model_type", values=["hgb", "logreg"])]),
     "set max_jobs=None"),
    ("hyperband early stopping", lambda: _step(strategy="Hyperband"),
     "early_stopping must be False with the Hyperband strategy"),
    ("max jobs 0", lambda: _step(max_jobs=0), "max_jobs 0 must be an integer from 1 to 500"),
    ("parallel above max", lambda: _step(max_jobs=2, max_parallel_jobs=3),
     "max_parallel_jobs 3 must be an integer from 1 to 2"),
    ("seed not int", lambda: _step(random_seed="7"), "random_seed '7' is not an int"),
    ("top_k", lambda: _step().top_model_artifacts(50), "top_k 50 must be 0 to 49"),
    ("min not below max", lambda: IntegerParameterRange(name="n", min_value=5, max_value=5),
     "min_value 5 must be below max_value 5"),
    ("log of zero", lambda: ContinuousParameterRange(
        name="lr", min_value=0.0, max_value=0.3, scaling_type="Logarithmic"),
     "Logarithmic scaling needs min_value > 0"),
    ("reverse log integer", lambda: IntegerParameterRange(
        name="n", min_value=1, max_value=9, scaling_type="ReverseLogarithmic"),
     "ReverseLogarithmic scaling is for continuous ranges only"),
    ("reverse log above one", lambda: ContinuousParameterRange(
        name="m", min_value=0.5, max_value=1.0, scaling_type="ReverseLogarithmic"),
     "needs 0 <= min_value < max_value < 1"),
    ("scaling name", lambda: ContinuousParameterRange(
        name="m", min_value=0.1, max_value=0.5, scaling_type="Log"),
     "scaling_type: 'Log' is not one of"),
    ("integer bound float", lambda: IntegerParameterRange(name="n", min_value=1.5, max_value=9),
     "min_value: 1.5 is not an integer"),
    ("bad name", lambda: IntegerParameterRange(name="max iter", min_value=1, max_value=9),
     "hyperparameter name 'max iter' must be"),
    ("categorical number", lambda: CategoricalParameterRange(name="c", values=[1, 2]),
     "value 1 must be a string"),
    ("categorical empty", lambda: CategoricalParameterRange(name="c", values=[]),
     "1 to 30 values, got 0"),
    ("settings objective", lambda: TuningSettings(objective_metric="test:auc"),
     "objective_metric 'test:auc' is not a metric the training code prints"),
    ("settings strategy", lambda: TuningSettings(strategy="bayesian"),
     "strategy 'bayesian' is not one of"),
    ("pipeline without source dir", lambda: literal_pipeline(tuning=TuningSettings()),
     "sourcedir_uri None: tuning needs the S3 URI of the source-dir bundle"),
    ("pipeline with a zip", lambda: literal_pipeline(
        tuning=TuningSettings(), sourcedir_uri="s3://b/code.zip"),
     "a gzipped tar"),
    ("train command arguments", lambda: literal_pipeline(
        tuning=TuningSettings(), sourcedir_uri=SOURCEDIR,
        commands={t.TRAIN: StepCommand(module="pipeline_code.training.train",
                                       arguments=["--x", "1"])}),
     r"commands\['Train'\] has arguments"),
    ("hyperparameter also tuned", lambda: literal_pipeline(
        tuning=TuningSettings(), sourcedir_uri=SOURCEDIR, hyperparameters={"max_iter": 100}),
     r"hyperparameters \['max_iter'\] are also tuned"),
]  # fmt: skip


@pytest.mark.parametrize(("build", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_tuning_settings_fail_with_a_clear_message(
    build: Callable[[], Any], message: str
) -> None:
    with pytest.raises(PipelineDefinitionError, match=message):
        build()


def test_grid_and_random_requests() -> None:
    grid = _step(
        strategy="Grid",
        max_jobs=None,
        early_stopping=False,
        parameter_ranges=[CategoricalParameterRange(name="model_type", values=["hgb", "logreg"])],
    ).arguments()["HyperParameterTuningJobConfig"]
    assert grid["ResourceLimits"] == {"MaxParallelTrainingJobs": 2}
    assert grid["TrainingJobEarlyStoppingType"] == "Off"
    assert grid["ParameterRanges"] == {
        "CategoricalParameterRanges": [{"Name": "model_type", "Values": ["hgb", "logreg"]}]
    }
    minimize = _step(objective_type="Minimize", strategy="Random").arguments()
    objective = minimize["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
    assert objective["Type"] == "Minimize"


# ----------------------------------------------------------------------------- SDK oracle

SDK_PYTHON = ROOT / ".venv-sdk" / "bin" / "python"
SDK_SCRIPT = ROOT / "tests" / "oracle" / "sdk_tuning_step.py"
ORACLE: dict[str, Any] = {
    "bucket": "example-bucket",
    "image_uri": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3",
    "role_arn": "arn:aws:iam::123456789012:role/training-pipeline",
    "instance_type": "ml.m5.xlarge",
    "kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "output_path": "s3://example-bucket/training-pipeline/Tune",
    "subnet_ids": ["subnet-0a", "subnet-0b"],
    "security_group_ids": ["sg-0a"],
    "static_hyperparameters": {
        "sagemaker_program": '"train.py"',
        "sagemaker_submit_directory": '"/opt/ml/input/data/code/0123abcd.gz"',
    },
    "environment": {"CODE_VERSION": "0123abcd", TRAIN_MODULE_ENV: "pipeline_code.training.train"},
    "channels": {
        "train": "s3://example-bucket/p/train",
        "validation": "s3://example-bucket/p/validation",
        "code": SOURCEDIR,
    },
    "ranges": [
        {"kind": "continuous", "name": "learning_rate", "min": 0.02, "max": 0.3,
         "scaling": "Logarithmic"},
        {"kind": "integer", "name": "max_iter", "min": 50, "max": 400, "scaling": "Linear"},
        {"kind": "categorical", "name": "model_type", "values": ["hgb", "logistic"]},
    ],
    "metric_definitions": [{"Name": "validation:auc", "Regex": "validation:auc=([-+0-9.eE]+);"}],
    "objective_metric": "validation:auc",
    "objective_type": "Maximize",
    "strategy": "Bayesian",
    "max_jobs": 10,
    "max_parallel_jobs": 2,
    "random_seed": 7,
}  # fmt: skip


def _ours_for_oracle() -> TuningStep:
    o = ORACLE
    ranges: list[Any] = []
    for r in o["ranges"]:
        if r["kind"] == "categorical":
            ranges.append(CategoricalParameterRange(name=r["name"], values=r["values"]))
        elif r["kind"] == "integer":
            ranges.append(
                IntegerParameterRange(
                    name=r["name"],
                    min_value=r["min"],
                    max_value=r["max"],
                    scaling_type=r["scaling"],
                )
            )
        else:
            ranges.append(
                ContinuousParameterRange(
                    name=r["name"],
                    min_value=r["min"],
                    max_value=r["max"],
                    scaling_type=r["scaling"],
                )
            )
    from cdk_mlops.pipelines import NetworkConfig, VpcConfig

    return TuningStep(
        name="Tune",
        role_arn=o["role_arn"],
        image_uri=o["image_uri"],
        instance_type=o["instance_type"],
        output_path=o["output_path"],
        volume_kms_key_id=o["kms_key_id"],
        output_kms_key_id=o["kms_key_id"],
        metric_definitions=[
            MetricDefinition(name=m["Name"], regex=m["Regex"]) for m in o["metric_definitions"]
        ],
        objective_metric=o["objective_metric"],
        objective_type=o["objective_type"],
        parameter_ranges=ranges,
        static_hyperparameters=o["static_hyperparameters"],
        strategy=o["strategy"],
        max_jobs=o["max_jobs"],
        max_parallel_jobs=o["max_parallel_jobs"],
        random_seed=o["random_seed"],
        inputs=[TrainingChannel(channel_name=k, s3_uri=v) for k, v in o["channels"].items()],
        environment=o["environment"],
        network=NetworkConfig(
            vpc=VpcConfig(subnet_ids=o["subnet_ids"], security_group_ids=o["security_group_ids"]),
            enable_network_isolation=True,
            enable_inter_container_traffic_encryption=True,
        ),
    )


@pytest.mark.slow
@pytest.mark.skipif(not SDK_PYTHON.exists(), reason="SageMaker SDK oracle environment missing")
def test_the_sdk_builds_the_same_tuning_request(tmp_path: Path) -> None:
    settings, out = tmp_path / "settings.json", tmp_path / "sdk-step.json"
    settings.write_text(json.dumps(ORACLE))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        [str(SDK_PYTHON), str(SDK_SCRIPT), str(settings), str(out)],
        capture_output=True, text=True, timeout=300, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    sdk = json.loads(out.read_text())
    assert sdk["Type"] == "Tuning"
    theirs = sdk["Arguments"]
    ours = json.loads(json.dumps(_ours_for_oracle().arguments()))
    # the whole request, ranges as strings, HyperParameterTuningResourceConfig included
    assert ours["HyperParameterTuningJobConfig"] == theirs["HyperParameterTuningJobConfig"]
    assert ours["TrainingJobDefinition"] == theirs["TrainingJobDefinition"]
