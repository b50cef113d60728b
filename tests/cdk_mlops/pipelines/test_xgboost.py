"""The distributed XGBoost backend in the training pipeline: its steps, requests and checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cdk_mlops.executor.xgboost_algorithm import BOOSTER_PARAMETERS
from cdk_mlops.pipelines import Pipeline, PipelineDefinitionError
from cdk_mlops.pipelines import training as t
from cdk_mlops.pipelines.images import (
    SKLEARN_REGISTRY_ACCOUNTS,
    XGBOOST_REPOSITORY,
    xgboost_image_uri_for_region,
)
from cdk_mlops.pipelines.tuning import TuningSettings
from cdk_mlops.pipelines.xgboost import (
    BOOSTER_HYPERPARAMETERS,
    ENCODE,
    PACKAGE,
    XGBoostSettings,
)
from tests.cdk_mlops.pipelines.example import literal_pipeline
from tests.cdk_mlops.pipelines.validators import iter_steps, validate_definition_requests

ROOT = Path(__file__).resolve().parents[3]
IMAGE = xgboost_image_uri_for_region("us-east-1")


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return literal_pipeline(xgboost=XGBoostSettings(instance_count=3), xgboost_image_uri=IMAGE)


@pytest.fixture(scope="module")
def steps(pipeline: Pipeline) -> dict[str, dict[str, Any]]:
    return {s["Name"]: s for s in iter_steps(pipeline.to_definition()["Steps"])}


def test_encode_train_package_then_the_usual_steps(pipeline: Pipeline) -> None:
    names = [s.name for s in pipeline.steps]
    assert names == [t.DATA_VERSION, t.PREPROCESS, ENCODE, t.TRAIN, PACKAGE, t.EVALUATE,
                     t.BASELINE, t.CHECK_QUALITY]  # fmt: skip


def test_train_is_the_xgboost_algorithm_on_several_instances_with_sharded_channels(
    steps: dict[str, dict[str, Any]],
) -> None:
    args = steps[t.TRAIN]["Arguments"]
    assert args["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert "ContainerEntrypoint" not in args["AlgorithmSpecification"]
    assert args["ResourceConfig"]["InstanceCount"] == 3
    channels = {c["ChannelName"]: c for c in args["InputDataConfig"]}
    assert set(channels) == {"train", "validation"}
    for name, channel in channels.items():
        assert channel["ContentType"] == "text/csv"
        source = channel["DataSource"]["S3DataSource"]
        assert source["S3DataDistributionType"] == "ShardedByS3Key"
        assert source["S3Uri"] == {
            "Get": f"Steps.{ENCODE}.ProcessingOutputConfig.Outputs['{name}'].S3Output.S3Uri"
        }
    hps = args["HyperParameters"]
    assert all(isinstance(v, str) for v in hps.values())
    assert hps["objective"] == "binary:logistic" and hps["eval_metric"] == "auc"
    assert args["EnableNetworkIsolation"] is True
    assert "DATA_VERSION" in args["Environment"]  # keys the step cache on the data
    metrics = {m["Name"] for m in args["AlgorithmSpecification"]["MetricDefinitions"]}
    assert "validation:auc" in metrics


def test_encode_writes_a_shard_per_instance_and_split(steps: dict[str, dict[str, Any]]) -> None:
    args = steps[ENCODE]["Arguments"]
    assert args["AppSpecification"]["ImageUri"] == IMAGE
    container = args["AppSpecification"]["ContainerArguments"]
    assert container[container.index("--shards") + 1] == "6"  # 3 instances x 2
    assert (
        "pipeline_code.processing.xgboost_input" in args["AppSpecification"]["ContainerEntrypoint"]
    )


def test_the_packaged_model_is_evaluated_and_registered_on_the_xgboost_image(
    steps: dict[str, dict[str, Any]],
) -> None:
    model = {
        "Std:Join": {
            "On": "/",
            "Values": [
                {"Get": f"Steps.{PACKAGE}.ProcessingOutputConfig.Outputs['model'].S3Output.S3Uri"},
                "model.tar.gz",
            ],
        }
    }
    evaluate = steps[t.EVALUATE]["Arguments"]
    assert evaluate["AppSpecification"]["ImageUri"] == IMAGE
    inputs = {i["InputName"]: i for i in evaluate["ProcessingInputs"]}
    assert inputs["model"]["S3Input"]["S3Uri"] == model
    container = steps[t.REGISTER]["Arguments"]["InferenceSpecification"]["Containers"][0]
    assert container["Image"] == IMAGE and container["ModelDataUrl"] == model
    package = steps[PACKAGE]["Arguments"]
    assert package["AppSpecification"]["ImageUri"] == IMAGE
    # Baseline needs no model: it stays on the scikit-learn image
    assert "scikit-learn" in steps[t.BASELINE]["Arguments"]["AppSpecification"]["ImageUri"]


def test_every_request_is_valid_for_the_api(pipeline: Pipeline) -> None:
    errors = validate_definition_requests(pipeline.to_definition())
    assert all(e == [] for e in errors.values()), errors


def test_the_executor_emulates_every_booster_parameter_the_backend_accepts() -> None:
    assert BOOSTER_HYPERPARAMETERS <= BOOSTER_PARAMETERS


BAD: list[tuple[str, Callable[[], Any], str]] = [
    ("with tuning", lambda: literal_pipeline(
        xgboost=XGBoostSettings(), xgboost_image_uri=IMAGE, tuning=TuningSettings(),
        sourcedir_uri="s3://b/a.gz"), "tuning and xgboost are both set"),
    ("no image", lambda: literal_pipeline(xgboost=XGBoostSettings()), "needs xgboost_image_uri"),
    ("sklearn hyperparameters", lambda: literal_pipeline(
        xgboost=XGBoostSettings(), xgboost_image_uri=IMAGE, hyperparameters={"max_iter": 5}),
     r"hyperparameters \['max_iter'\] are the scikit-learn model's"),
    ("instances", lambda: XGBoostSettings(instance_count=0),
     "instance_count 0 must be an integer from 1 to 100"),
    ("shards", lambda: XGBoostSettings(shards_per_instance=11),
     "shards_per_instance 11 must be an integer from 1 to 10"),
    ("version", lambda: XGBoostSettings(version="1.0-1"), "version '1.0-1' is not one of"),
    ("unknown hyperparameter", lambda: XGBoostSettings(hyperparameters={"learning_rate": 0.1}),
     r"\['learning_rate'\] are not hyperparameters of the XGBoost algorithm"),
    ("objective", lambda: XGBoostSettings(hyperparameters={"objective": "reg:squarederror"}),
     "use binary:logistic"),
    ("rounds", lambda: XGBoostSettings(hyperparameters={"num_round": "ten"}),
     "num_round 'ten' must be a positive integer"),
]  # fmt: skip


@pytest.mark.parametrize(("build", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_xgboost_settings_fail_with_a_clear_message(
    build: Callable[[], Any], message: str
) -> None:
    with pytest.raises(PipelineDefinitionError, match=message):
        build()


@pytest.mark.skipif(
    not list((ROOT / ".venv-sdk").glob("lib/python3*/site-packages/sagemaker")),
    reason="SageMaker SDK oracle environment missing",
)
def test_the_xgboost_image_comes_from_the_registry_accounts_the_sdk_lists() -> None:
    """The mapping the stacks use for the scikit-learn image resolves the XGBoost one too."""
    sdk = next((ROOT / ".venv-sdk").glob("lib/python3*/site-packages/sagemaker"))
    table = json.loads((sdk / "image_uri_config" / "xgboost.json").read_text())
    for scope in ("training", "inference"):
        version = table[scope]["versions"]["3.0-5"]
        assert version["repository"] == XGBOOST_REPOSITORY
        registries = version["registries"]
        assert {r: registries[r] for r in SKLEARN_REGISTRY_ACCOUNTS} == dict(
            SKLEARN_REGISTRY_ACCOUNTS
        )
