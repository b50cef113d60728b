"""The synthesized Level 2 pipeline runs end to end through the executor (moto S3, local jobs).

What a wrong wiring in the construct would break is checked on the outcome: the registered
model package points at the model the training job wrote and at the metrics evaluate wrote,
the gate compared the number evaluate wrote, the baseline is attached.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from cdk_mlops.executor import run_pipeline
from tests.cdk_mlops.executor.conftest import generate_csv, synthesize_level2

pytestmark = pytest.mark.slow


def _data_files(work: Path, step: str, folder: str) -> list[str]:
    """The data files a job found in a container folder (``opt/ml/<folder>``)."""
    root = work / "jobs" / step / "opt" / "ml" / folder
    return sorted(p.name for p in root.iterdir() if p.suffix in (".csv", ".parquet"))


def _check_succeeded(result: Any, group: str) -> dict[str, Any]:
    assert result.status == "Succeeded", result.failure_reason
    statuses = {s.name: s.status for s in result.steps}
    assert statuses == {
        "DataVersion": "Succeeded",
        "Preprocess": "Succeeded",
        "Train": "Succeeded",
        "Evaluate": "Succeeded",
        "Baseline": "Succeeded",
        "CheckQuality": "Succeeded",
        "Register": "Succeeded",
        "QualityGateFailed": "NotExecuted",
    }
    package = result.model_package
    assert package is not None
    assert package["ModelPackageGroupName"] == group
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    return dict(package)


def test_level2_runs_on_churn_data(level2_template: Path, tmp_path: Path) -> None:
    data = generate_csv(tmp_path / "churn.csv")
    work = tmp_path / "work"
    result = run_pipeline(level2_template, work_dir=work, data=data)
    package = _check_succeeded(result, "MlopsLevel2-models")
    folder = Path(package["path"])
    request = json.loads((folder / "request.json").read_text())
    metadata = package["CustomerMetadataProperties"]

    # The package points at the model the Train job wrote (S3 URI recorded) ...
    container = request["InferenceSpecification"]["Containers"][0]
    execution = result.execution_id
    assert container["ModelDataUrl"].endswith(
        f"/training-pipeline/{execution}/Train/pipelines-{execution}-Train-training/output/model.tar.gz"
    )
    assert metadata["model_data_url"] == container["ModelDataUrl"]
    assert container["Image"] == (
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.9-0-cpu-py3"
    )
    assert metadata["image"] == container["Image"]
    assert container["Environment"]["SAGEMAKER_REGION"] == "us-east-1"
    with tarfile.open(folder / "model.tar.gz") as tar:
        names = set(tar.getnames())
    assert {"model.joblib", "schema.json", "metadata.json", "code/inference.py"} <= names

    # ... and at the metrics Evaluate wrote; the gate compared that number with the threshold.
    evaluation = json.loads((folder / "evaluation.json").read_text())
    assert evaluation == result.evaluation
    auc = evaluation["binary_classification_metrics"]["auc"]["value"]
    assert auc >= 0.75
    assert metadata["model_quality_statistics"].endswith(
        f"/{execution}/Evaluate/evaluation/evaluation.json"
    )
    # The model card's numbers on the version: the gate metric and its value (Join of JsonGet)
    assert metadata["quality_metric"] == "binary_classification_metrics.auc.value"
    assert float(metadata["quality_value"]) == auc
    # The data version DataVersion computed travelled through JsonGet to every consumer.
    data_version = json.loads(
        (
            work
            / "jobs"
            / "DataVersion"
            / "opt"
            / "ml"
            / "processing"
            / "output"
            / "version"
            / "data_version.json"
        ).read_text()
    )["data_version"]
    assert metadata["data_version"] == data_version
    model_metadata = json.loads(
        (work / "jobs" / "Train" / "opt" / "ml" / "model" / "metadata.json").read_text()
    )
    assert model_metadata["data_version"] == data_version
    assert model_metadata["code_version"] == metadata["code_version"]
    # Drift baselines of the Baseline step are attached.
    assert (folder / "baseline" / "statistics.json").is_file()
    assert (folder / "baseline" / "constraints.json").is_file()
    # Lineage: which output of this execution each job read.
    inputs = {s.name: s.inputs for s in result.steps}
    code = inputs["Train"]["code"]
    assert code.startswith("s3://cdk-hnb659fds-assets-123456789012-us-east-1/")
    assert inputs["Train"] == {
        "train": "Preprocess.train",
        "validation": "Preprocess.validation",
        "code": code,
    }
    assert inputs["Evaluate"] == {
        "code": code,
        "model": "Train.ModelArtifacts",
        "test": "Preprocess.test",
        # the ChampionModelUri default: the "no champion" marker asset
        "champion": result.parameters["ChampionModelUri"],
    }
    assert str(result.parameters["ChampionModelUri"]).endswith(".json")
    # no champion: passes, recorded
    assert evaluation["champion_challenger"]["passed"] is True
    assert evaluation["champion_challenger"]["champion"] is None
    assert inputs["Baseline"] == {"code": code, "baseline": "Preprocess.train"}
    assert (
        inputs["Preprocess"]["data"]
        == inputs["DataVersion"]["data"]
        == result.parameters["InputDataUri"]
    )
    # Each job got the split its input is named after (Preprocess names its files by split), so
    # a wiring that feeds a job another valid output (train <- test) fails here.
    assert _data_files(work, "Train", "input/data/train") == ["train.csv"]
    assert _data_files(work, "Train", "input/data/validation") == ["validation.csv"]
    assert _data_files(work, "Evaluate", "processing/input/test") == ["test.csv"]
    assert _data_files(work, "Baseline", "processing/input/baseline") == ["train.csv"]
    summary = json.loads((work / "summary.json").read_text())
    assert summary["status"] == "Succeeded"


def test_level2_fails_at_the_gate_with_a_threshold_it_cannot_reach(
    level2_template: Path, tmp_path: Path
) -> None:
    data = generate_csv(tmp_path / "churn.csv", rows=600)
    result = run_pipeline(
        level2_template,
        work_dir=tmp_path / "work",
        data=data,
        parameters={"MetricThreshold": "1.0", "ModelApprovalStatus": "Approved"},
    )
    assert result.status == "Failed"
    assert result.reached_fail_step
    assert result.failed_step == "QualityGateFailed"
    assert result.failure_reason == (
        "Quality gate failed: binary_classification_metrics.auc.value is below 1.0 or the "
        "champion/challenger check failed (champion_challenger.passed; see evaluation.json)"
    )
    statuses = {s.name: s.status for s in result.steps}
    assert statuses["Register"] == "NotExecuted"
    assert statuses["CheckQuality"] == "Succeeded"
    assert result.model_package is None
    assert not (tmp_path / "work" / "registry").exists()


def test_level2_runs_on_the_loan_default_schema(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    template = synthesize_level2(tmp_path_factory.mktemp("loan-cdk.out"), schema="loan_default")
    data = generate_csv(tmp_path / "loans.csv", schema="loan_default")
    # Loan default is harder to predict than churn: 2,000 rows give an AUC near 0.7, so this
    # execution gates at 0.6 (the threshold is a parameter of each execution).
    result = run_pipeline(
        template,
        work_dir=tmp_path / "work",
        data=data,
        schema="loan_default",
        parameters={"MetricThreshold": "0.6"},
    )
    package = _check_succeeded(result, "MlopsLevel2-models")
    evaluation = json.loads((Path(package["path"]) / "evaluation.json").read_text())
    assert evaluation["binary_classification_metrics"]["auc"]["value"] >= 0.6
    assert result.parameters["MetricThreshold"] == 0.6
    train_args = json.loads(
        (
            tmp_path
            / "work"
            / "jobs"
            / "DataVersion"
            / "opt"
            / "ml"
            / "config"
            / "processingjobconfig.json"
        ).read_text()
    )["AppSpecification"]["ContainerArguments"]
    assert train_args[train_args.index("--schema") + 1] == "loan_default"


def _shuffled_labels(src: Path, dst: Path) -> Path:
    import pandas as pd

    frame = pd.read_csv(src)
    frame["churned"] = frame["churned"].sample(frac=1.0, random_state=3).to_numpy()
    frame.to_csv(dst, index=False)
    return dst


def test_retraining_with_a_champion_registers_only_a_model_at_least_as_good(
    level2_template: Path, tmp_path: Path
) -> None:
    """The champion's model.tar.gz goes in as ``ChampionModelUri`` (what drift retraining
    passes); Evaluate scores it on the same test split and the gate refuses a worse model."""
    data = generate_csv(tmp_path / "churn.csv")
    first = run_pipeline(level2_template, work_dir=tmp_path / "first", data=data)
    champion_package = _check_succeeded(first, "MlopsLevel2-models")
    champion_model = Path(champion_package["path"]) / "model.tar.gz"
    champion_uri = "s3://production-models/churn/v1/model.tar.gz"

    # a challenger trained on labels that carry no signal: above a zero threshold, below the
    # champion on the same test data
    worse = run_pipeline(
        level2_template,
        work_dir=tmp_path / "worse",
        data=_shuffled_labels(data, tmp_path / "shuffled.csv"),
        parameters={"MetricThreshold": "0.0", "ChampionModelUri": champion_uri},
        objects={champion_uri: champion_model},
    )
    assert worse.status == "Failed" and worse.failed_step == "QualityGateFailed"
    assert worse.model_package is None
    record = worse.evaluation["champion_challenger"]
    assert record["passed"] is False and record["champion"] > record["challenger"]
    inputs = {s.name: s.inputs for s in worse.steps}
    assert inputs["Evaluate"]["champion"] == champion_uri

    # the same data again: as good as the champion, registered with both figures recorded
    again = run_pipeline(
        level2_template,
        work_dir=tmp_path / "again",
        data=data,
        parameters={"ChampionModelUri": champion_uri},
        objects={champion_uri: champion_model},
    )
    package = _check_succeeded(again, "MlopsLevel2-models")
    recorded = json.loads((Path(package["path"]) / "evaluation.json").read_text())
    record = recorded["champion_challenger"]
    assert record["passed"] is True
    assert record["champion"] == pytest.approx(record["challenger"], abs=1e-9)
