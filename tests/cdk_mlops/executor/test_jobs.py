"""Jobs as local processes under SageMaker's container contracts (no pipeline around them)."""

from __future__ import annotations

import io
import json
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cdk_mlops.executor import ExecutorError, StepFailed
from cdk_mlops.executor.jobs import JobSettings, run_processing, run_training
from cdk_mlops.executor.s3 import LocalS3

# A script that records what it was given: argv, the SM_* / job environment, its folder.
RECORDER = """\
import json, os, sys
out = {"argv": sys.argv[1:], "cwd": os.getcwd(),
       "env": {k: v for k, v in os.environ.items()
               if k.startswith(("SM_", "TRAINING_JOB", "SAGEMAKER_", "CODE_"))}}
model_dir = os.environ.get("SM_MODEL_DIR") or sys.argv[sys.argv.index("--out") + 1]
os.makedirs(model_dir, exist_ok=True)
with open(os.path.join(model_dir, "seen.json"), "w") as f:
    json.dump(out, f)
"""


@pytest.fixture
def s3() -> Iterator[LocalS3]:
    with LocalS3("us-east-1") as local:
        local.create_bucket("bkt")
        local.client.put_object(Bucket="bkt", Key="data/train/part.csv", Body=b"a,b\n1,2\n")
        local.client.put_object(Bucket="bkt", Key="code/recorder.py", Body=RECORDER.encode())
        yield local


def _sourcedir(s3: LocalS3) -> str:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("train.py")
        info.size = len(RECORDER)
        tar.addfile(info, io.BytesIO(RECORDER.encode()))
    s3.client.put_object(Bucket="bkt", Key="code/sourcedir.tar.gz", Body=buf.getvalue())
    return "s3://bkt/code/sourcedir.tar.gz"


def _model(s3: LocalS3, uri: str) -> dict[str, Any]:
    bucket, key = uri[5:].split("/", 1)
    body = s3.client.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        member = tar.extractfile("seen.json")
        assert member is not None
        return dict(json.loads(member.read()))


def _training(**extra: Any) -> dict[str, Any]:
    return {
        "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bkt/data/train"}
                },
            }
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://bkt/out"},
        "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large"},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        **extra,
    }


def test_training_without_entrypoint_gets_the_toolkit_contract(s3: LocalS3, tmp_path: Path) -> None:
    args = _training(
        HyperParameters={
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": json.dumps(_sourcedir(s3)),
            "max_iter": "150",
            "model_type": '"hgb"',
        }
    )
    result = run_training(
        "Train", args, s3=s3, settings=JobSettings(work_dir=tmp_path), execution_id="e1"
    )
    uri = result.describe["ModelArtifacts"]["S3ModelArtifacts"]
    assert uri == "s3://bkt/out/pipelines-e1-Train-training/output/model.tar.gz"
    seen = _model(s3, uri)
    base = tmp_path / "jobs" / "Train" / "opt" / "ml"
    env = seen["env"]
    assert seen["argv"] == ["--max_iter", "150", "--model_type", "hgb"]
    assert seen["cwd"] == str(base / "code")
    assert env["SM_CHANNEL_TRAIN"] == str(base / "input" / "data" / "train")
    assert (base / "input" / "data" / "train" / "part.csv").read_text() == "a,b\n1,2\n"
    assert env["SM_MODEL_DIR"] == str(base / "model")
    assert env["SM_OUTPUT_DATA_DIR"] == str(base / "output" / "data")
    assert json.loads(env["SM_HPS"]) == {"max_iter": 150, "model_type": "hgb"}
    assert env["SM_HP_MAX_ITER"] == "150"
    assert env["SM_HP_MODEL_TYPE"] == "hgb"
    assert json.loads(env["SM_CHANNELS"]) == ["train"]
    assert env["SM_USER_ENTRY_POINT"] == "train.py"
    assert env["TRAINING_JOB_NAME"] == "pipelines-e1-Train-training"
    assert env["SAGEMAKER_BASE_DIR"] == str(base)
    # The platform's files, as the request gave them (hyperparameters stay strings).
    config = base / "input" / "config"
    assert json.loads((config / "hyperparameters.json").read_text())["max_iter"] == "150"
    assert (
        json.loads((config / "inputdataconfig.json").read_text())["train"]["TrainingInputMode"]
        == "File"
    )
    assert json.loads((config / "resourceconfig.json").read_text())["current_host"] == "algo-1"


def test_training_with_entrypoint_runs_it_as_written(s3: LocalS3, tmp_path: Path) -> None:
    args = _training(
        AlgorithmSpecification={
            "TrainingImage": "img",
            "ContainerEntrypoint": ["python3", "/opt/ml/input/data/code/recorder.py"],
            "ContainerArguments": ["--out", "/opt/ml/model"],
        },
        Environment={"CODE_VERSION": "abc", "SM_MODEL_DIR": "/opt/ml/model"},
    )
    args["InputDataConfig"].append(
        {
            "ChannelName": "code",
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bkt/code/recorder.py"}
            },
        }
    )
    result = run_training(
        "Fit", args, s3=s3, settings=JobSettings(work_dir=tmp_path), execution_id="e2"
    )
    seen = _model(s3, result.describe["ModelArtifacts"]["S3ModelArtifacts"])
    base = tmp_path / "jobs" / "Fit" / "opt" / "ml"
    assert seen["argv"] == ["--out", str(base / "model")]
    # The toolkit is bypassed: only the variables the request sets (paths moved to the job).
    assert seen["env"]["SM_MODEL_DIR"] == str(base / "model")
    assert "SM_CHANNEL_TRAIN" not in seen["env"]
    assert seen["env"]["CODE_VERSION"] == "abc"


@pytest.mark.parametrize(
    ("hyperparameters", "field", "message"),
    [
        (
            {},
            "HyperParameters.sagemaker_program",
            "no ContainerEntrypoint and no sagemaker_program",
        ),
        (
            {"sagemaker_program": '"train.py"', "sagemaker_submit_directory": '"/opt/ml/code"'},
            "HyperParameters.sagemaker_submit_directory",
            "must be the S3 URI of the source archive",
        ),
        (
            {
                "sagemaker_program": '"other.py"',
                "sagemaker_submit_directory": '"s3://bkt/code/sourcedir.tar.gz"',
            },
            "HyperParameters.sagemaker_program",
            "'other.py' is not in s3://bkt/code/sourcedir.tar.gz",
        ),
    ],
)
def test_training_fails_without_a_script_to_run(
    s3: LocalS3, tmp_path: Path, hyperparameters: dict[str, str], field: str, message: str
) -> None:
    _sourcedir(s3)
    with pytest.raises(ExecutorError, match=message) as caught:
        run_training(
            "Train",
            _training(HyperParameters=hyperparameters),
            s3=s3,
            settings=JobSettings(work_dir=tmp_path),
            execution_id="e",
        )
    assert str(caught.value).startswith(f"step Train, field {field}: ")


def _processing(entrypoint: list[str], arguments: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "AppSpecification": {
            "ImageUri": "img",
            "ContainerEntrypoint": entrypoint,
            "ContainerArguments": arguments,
        },
        "ProcessingInputs": [
            {
                "InputName": "data",
                "S3Input": {
                    "S3Uri": "s3://bkt/data/train",
                    "LocalPath": "/opt/ml/processing/input/data",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            }
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "copy",
                    "S3Output": {
                        "S3Uri": "s3://bkt/copied",
                        "LocalPath": "/opt/ml/processing/output/copy",
                    },
                }
            ]
        },
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large"}
        },
        **extra,
    }


COPY = (
    "import os,shutil,sys; shutil.copy(os.path.join(sys.argv[1],'part.csv'), sys.argv[2]); "
    "open(os.path.join(sys.argv[2],'env.txt'),'w').write(os.environ['OUT'])"
)


def test_processing_moves_inputs_runs_as_written_and_uploads_outputs(
    s3: LocalS3, tmp_path: Path
) -> None:
    args = _processing(
        ["python3", "-c", COPY],
        ["/opt/ml/processing/input/data", "/opt/ml/processing/output/copy"],
        Environment={"OUT": "/opt/ml/processing/output/copy"},
    )
    result = run_processing(
        "Copy", args, s3=s3, settings=JobSettings(work_dir=tmp_path), execution_id="e"
    )
    assert s3.client.get_object(Bucket="bkt", Key="copied/part.csv")["Body"].read() == b"a,b\n1,2\n"
    env = s3.client.get_object(Bucket="bkt", Key="copied/env.txt")["Body"].read().decode()
    assert env == str(tmp_path / "jobs" / "Copy" / "opt" / "ml" / "processing" / "output" / "copy")
    assert result.describe["ProcessingJobStatus"] == "Completed"
    config = tmp_path / "jobs" / "Copy" / "opt" / "ml" / "config" / "processingjobconfig.json"
    assert json.loads(config.read_text())["ProcessingJobName"] == "pipelines-e-Copy-processing"


def test_processing_job_that_fails_reports_its_log(s3: LocalS3, tmp_path: Path) -> None:
    args = _processing(["python3", "-c", "import sys; sys.exit('bad input: no rows')"], [])
    with pytest.raises(StepFailed) as caught:
        run_processing(
            "Copy", args, s3=s3, settings=JobSettings(work_dir=tmp_path), execution_id="e"
        )
    assert str(caught.value).startswith(
        "step Copy, field AppSpecification.ContainerEntrypoint: the job exited with status 1"
    )
    assert "bad input: no rows" in str(caught.value)


def test_jobs_run_with_the_given_interpreter(s3: LocalS3, tmp_path: Path) -> None:
    args = _processing(
        ["python3", "-c", "import sys,os; open(sys.argv[1]+'/exe','w').write(sys.executable)"],
        ["/opt/ml/processing/output/copy"],
    )
    run_processing(
        "Copy",
        args,
        s3=s3,
        settings=JobSettings(work_dir=tmp_path, python=sys.executable),
        execution_id="e",
    )
    assert (
        s3.client.get_object(Bucket="bkt", Key="copied/exe")["Body"].read().decode()
        == sys.executable
    )


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"ProcessingResources": {"ClusterConfig": {"InstanceCount": 2}}},
            "ProcessingResources.ClusterConfig.InstanceCount",
            "single-instance jobs only",
        ),
        (
            {"AppSpecification": {"ImageUri": "img"}},
            "AppSpecification.ContainerEntrypoint",
            "the image's own entrypoint is not emulated",
        ),
    ],
)
def test_processing_refuses_what_it_does_not_emulate(
    s3: LocalS3, tmp_path: Path, change: dict[str, Any], field: str, message: str
) -> None:
    args = {**_processing(["python3", "-c", "pass"], []), **change}
    with pytest.raises(ExecutorError, match=message) as caught:
        run_processing("P", args, s3=s3, settings=JobSettings(work_dir=tmp_path), execution_id="e")
    assert str(caught.value).startswith(f"step P, field {field}: ")


def test_processing_refuses_inputs_it_does_not_emulate(s3: LocalS3, tmp_path: Path) -> None:
    args = _processing(["python3", "-c", "pass"], [])
    args["ProcessingInputs"][0]["S3Input"]["S3InputMode"] = "Pipe"
    with pytest.raises(
        ExecutorError,
        match=r"^step P, field ProcessingInputs\[0\].S3Input.S3InputMode: S3InputMode 'Pipe' is not supported",
    ):
        run_processing("P", args, s3=s3, settings=JobSettings(work_dir=tmp_path), execution_id="e")
    args = _processing(["python3", "-c", "pass"], [])
    args["ProcessingInputs"][0]["S3Input"]["S3Uri"] = "s3://bkt/nothing/here"
    with pytest.raises(
        ExecutorError,
        match=r"^step P, field ProcessingInputs\[0\].S3Input.S3Uri: no S3 objects under s3://bkt/nothing/here",
    ):
        run_processing("P", args, s3=s3, settings=JobSettings(work_dir=tmp_path), execution_id="e")
