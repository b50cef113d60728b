"""A Level 2 pipeline with the distributed XGBoost backend, run by the executor: the shards,
SageMaker's XGBoost algorithm (emulated with xgboost 3.0.5), the packaged model evaluated and
registered."""

from __future__ import annotations

import copy
import json
import tarfile
from pathlib import Path

import pytest

from cdk_mlops.executor import run_pipeline
from cdk_mlops.executor.template import SynthesizedTemplate
from cdk_mlops.pipelines.xgboost import XGBoostSettings
from tests.cdk_mlops.executor.conftest import generate_csv, step_of, synthesize_level2

pytest.importorskip("xgboost", reason="the xgboost extra is not installed")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def xgb_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize_level2(
        tmp_path_factory.mktemp("xgb-cdk.out"),
        xgboost=XGBoostSettings(instance_count=2, hyperparameters={"num_round": 60}),
    )


def test_level2_with_xgboost_trains_packages_evaluates_and_registers(
    xgb_template: Path, tmp_path: Path
) -> None:
    data = generate_csv(tmp_path / "churn.csv")
    work = tmp_path / "work"
    result = run_pipeline(xgb_template, work_dir=work, data=data)
    assert result.status == "Succeeded", result.failure_reason
    runs = {s.name: s for s in result.steps}
    assert [s.name for s in result.steps if s.status == "Succeeded"][:5] == [
        "DataVersion", "Preprocess", "EncodeForXGBoost", "Train", "PackageXGBoost",
    ]  # fmt: skip
    # 2 instances x 2 shards per split, and the algorithm read all of them
    shards = work / "jobs" / "Train" / "opt" / "ml" / "input" / "data"
    assert len(list((shards / "train").glob("part-*.csv"))) == 4
    assert len(list((shards / "validation").glob("part-*.csv"))) == 4
    log = (work / "jobs" / "Train" / "job.log").read_text()
    assert "#011validation-auc:" in log
    assert runs["PackageXGBoost"].inputs["model"] == "Train.ModelArtifacts"
    assert runs["Evaluate"].inputs["model"] == "PackageXGBoost.model"
    package = result.model_package
    assert package is not None
    request = json.loads((Path(package["path"]) / "request.json").read_text())
    container = request["InferenceSpecification"]["Containers"][0]
    assert "/sagemaker-xgboost:3.0-5" in container["Image"]
    with tarfile.open(Path(package["path"]) / "model.tar.gz") as tar:
        names = set(tar.getnames())
        member = tar.extractfile("metadata.json")
        assert member is not None
        metadata = json.loads(member.read())
    assert {"model.joblib", "code/inference.py",
            "code/pipeline_code/training/xgboost_model.py"} <= names  # fmt: skip
    assert metadata["model_type"] == "xgboost"
    assert metadata["hyperparameters"]["num_round"] == "60"
    evaluation = result.evaluation
    assert evaluation is not None
    assert evaluation["binary_classification_metrics"]["auc"]["value"] >= 0.75


def test_an_unknown_algorithm_hyperparameter_fails_the_training_job(
    xgb_template: Path, tmp_path: Path
) -> None:
    definition = copy.deepcopy(SynthesizedTemplate.load(xgb_template).pipeline().definition)
    step_of(definition, "Train")["Arguments"]["HyperParameters"]["learning_rate"] = "0.1"
    data = generate_csv(tmp_path / "churn.csv", rows=600)
    result = run_pipeline(xgb_template, work_dir=tmp_path / "w", data=data, definition=definition)
    assert result.status == "Failed" and result.failed_step == "Train"
    assert "['learning_rate'] not supported" in str(result.failure_reason)
