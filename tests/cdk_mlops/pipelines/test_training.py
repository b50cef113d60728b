"""The level-2 training pipeline: security of every job, tokens in a stack, the code bootstrap."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from cdk_mlops.pipelines import PipelineDefinitionError, StepCommand
from cdk_mlops.pipelines import training as t
from tests.cdk_mlops.pipelines.conftest import TokenSetup, build_token_setup
from tests.cdk_mlops.pipelines.example import LITERAL_SETTINGS, literal_pipeline
from tests.cdk_mlops.pipelines.validators import iter_steps

KMS = LITERAL_SETTINGS["kms_key_id"]


def jobs(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """Processing and training steps, branches included."""
    return [s for s in iter_steps(definition["Steps"]) if s["Type"] in ("Processing", "Training")]


def test_every_job_uses_the_vpc_kms_isolation_and_encryption(
    example_definition: dict[str, Any],
) -> None:
    found = jobs(example_definition)
    assert [s["Name"] for s in found] == [
        "DataVersion",
        "Preprocess",
        "Train",
        "Evaluate",
        "Baseline",
    ]
    vpc = {"SecurityGroupIds": ["sg-0a"], "Subnets": ["subnet-0a", "subnet-0b"]}
    for step in found:
        args = step["Arguments"]
        if step["Type"] == "Processing":
            network = args["NetworkConfig"]
            assert network == {
                "EnableNetworkIsolation": True,
                "EnableInterContainerTrafficEncryption": True,
                "VpcConfig": vpc,
            }, step["Name"]
            assert args["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == KMS
            assert args["ProcessingOutputConfig"]["KmsKeyId"] == KMS
        else:
            assert args["VpcConfig"] == vpc
            assert args["EnableNetworkIsolation"] is True
            assert args["EnableInterContainerTrafficEncryption"] is True
            assert args["ResourceConfig"]["VolumeKmsKeyId"] == KMS
            assert args["OutputDataConfig"]["KmsKeyId"] == KMS
        assert step["RetryPolicies"], step["Name"]


def test_outputs_are_per_execution_under_the_bucket_prefix(
    example_definition: dict[str, Any],
) -> None:
    outputs = example_definition["Steps"][1]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    assert outputs[0]["S3Output"]["S3Uri"] == {
        "Std:Join": {
            "On": "/",
            "Values": [
                "s3://example-bucket/training-pipeline",
                {"Get": "Execution.PipelineExecutionId"},
                "Preprocess",
                "train",
            ],
        }
    }


def test_commands_use_the_workload_entry_points(example_definition: dict[str, Any]) -> None:
    steps = {s["Name"]: s for s in iter_steps(example_definition["Steps"])}
    pre = steps["Preprocess"]["Arguments"]["AppSpecification"]
    assert pre["ContainerEntrypoint"] == [
        "python3",
        "-c",
        t.BOOTSTRAP,
        "/opt/ml/processing/input/code",
        "pipeline_code.processing.preprocess",
    ]
    assert pre["ContainerArguments"][pre["ContainerArguments"].index("--schema") + 1] == "churn"
    train = steps["Train"]["Arguments"]
    assert train["AlgorithmSpecification"]["ContainerEntrypoint"][-1] == (
        "pipeline_code.training.train"
    )
    assert {c["ChannelName"] for c in train["InputDataConfig"]} == {"train", "validation", "code"}
    assert train["Environment"]["SM_MODEL_DIR"] == "/opt/ml/model"
    assert train["Environment"]["CODE_VERSION"] == "0123abcd"


def test_props_swap_instance_types_metric_threshold_and_commands() -> None:
    pipeline = literal_pipeline(
        processing_instance_type="ml.c5.xlarge",
        training_instance_type="ml.m5.2xlarge",
        metric="binary_classification_metrics.f1.value",
        threshold=0.6,
        hyperparameters={"max_depth": 4},
        commands={t.TRAIN: StepCommand(module="my_code.fit", arguments=["--fast"])},
        cache_expire_after="P7D",
        bias_report_file="bias.json",
    )
    definition = pipeline.to_definition()
    defaults = {p["Name"]: p.get("DefaultValue") for p in definition["Parameters"]}
    assert defaults["ProcessingInstanceType"] == "ml.c5.xlarge"
    assert defaults["TrainingInstanceType"] == "ml.m5.2xlarge"
    assert defaults["MetricThreshold"] == 0.6
    steps = {s["Name"]: s for s in iter_steps(definition["Steps"])}
    train = steps["Train"]
    assert train["Arguments"]["HyperParameters"] == {"max_depth": "4"}
    assert train["Arguments"]["AlgorithmSpecification"]["ContainerEntrypoint"][-1] == "my_code.fit"
    assert train["Arguments"]["AlgorithmSpecification"]["ContainerArguments"] == ["--fast"]
    assert train["CacheConfig"] == {"Enabled": True, "ExpireAfter": "P7D"}
    condition = steps["CheckQuality"]["Arguments"]["Conditions"][0]
    assert condition["LeftValue"]["Std:JsonGet"]["Path"] == "binary_classification_metrics.f1.value"
    bias = steps["Register"]["Arguments"]["ModelMetrics"]["Bias"]["Report"]["S3Uri"]
    assert bias["Std:Join"]["Values"][1] == "bias.json"


def test_registered_container_has_no_environment_unless_given() -> None:
    pipeline = literal_pipeline(inference_environment=None)
    container = pipeline.step(t.REGISTER).to_request()["Arguments"]["InferenceSpecification"]
    assert "Environment" not in container["Containers"][0]
    given = literal_pipeline().step(t.REGISTER).to_request()["Arguments"]
    assert given["InferenceSpecification"]["Containers"][0]["Environment"] == {
        "SAGEMAKER_PROGRAM": "handler.py",
        "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
    }


def test_fails_on_commands_for_unknown_steps_or_bad_modules() -> None:
    with pytest.raises(PipelineDefinitionError, match=r"unknown steps \['Deploy'\]"):
        literal_pipeline(commands={"Deploy": StepCommand(module="x")})
    with pytest.raises(PipelineDefinitionError, match="dotted Python module name"):
        StepCommand(module="not a module")
    with pytest.raises(PipelineDefinitionError, match="code_version"):
        literal_pipeline(code_version="")
    with pytest.raises(PipelineDefinitionError, match="not a SageMaker instance type"):
        literal_pipeline(training_instance_type="m5.large")


# ------------------------------------------------------------------------------- CDK tokens


def test_tokens_resolve_into_the_synthesized_definition(token_setup: TokenSetup) -> None:
    body = token_setup.body
    assert "Fn::Join" in body
    pieces = body["Fn::Join"][1]
    text = "".join(p for p in pieces if isinstance(p, str))
    refs = [p for p in pieces if isinstance(p, dict)]
    # Role ARN, KMS key ARN, subnets, group, bucket import and the image mapping are references.
    kinds = {next(iter(r)) for r in refs}
    assert {"Fn::GetAtt", "Ref", "Fn::ImportValue", "Fn::FindInMap"} <= kinds
    assert "${Token[" not in text
    assert '"Version":"2020-12-01"' in text


def test_the_synthesized_definition_is_valid_json_once_resolved(token_setup: TokenSetup) -> None:
    pieces = token_setup.body["Fn::Join"][1]
    # Stand-in values as CloudFormation would substitute them (no quotes inside).
    resolved = "".join(p if isinstance(p, str) else "resolved" for p in pieces)
    definition = json.loads(resolved)
    assert [s["Name"] for s in definition["Steps"]][-1] == "CheckQuality"


def test_code_version_is_the_asset_hash(token_setup: TokenSetup) -> None:
    register = token_setup.pipeline.step(t.REGISTER).to_request()
    metadata = register["Arguments"]["CustomerMetadataProperties"]
    assert len(metadata["code_version"]) == 64  # sha256 of pipeline_code
    assert metadata["code_version"] in json.dumps(token_setup.body)


def test_two_synths_give_identical_templates(token_setup: TokenSetup) -> None:
    again = build_token_setup()
    # Token ids in the unresolved JSON are process-global counters; the template is what counts.
    assert json.dumps(again.template, sort_keys=True) == json.dumps(
        token_setup.template, sort_keys=True
    )


# ---------------------------------------------------------------------- the code bootstrap


def run_bootstrap(code_dir: Path, module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the entrypoint the containers run, with this interpreter standing in for python3."""
    return subprocess.run(
        [sys.executable, "-c", t.BOOTSTRAP, str(code_dir), module, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a zip (like a CDK directory asset) of a tiny package."""
    folder = tmp_path_factory.mktemp("code")
    with zipfile.ZipFile(folder / "0123abcd.zip", "w") as zf:
        zf.writestr("mypkg/__init__.py", "")
        zf.writestr(
            "mypkg/job.py",
            "import json, sys\n"
            "def main(argv):\n"
            "    print(json.dumps({'argv': argv, 'name': __name__}))\n"
            "    return 3 if '--fail' in argv else 0\n"
            "if __name__ == '__main__':\n"
            "    sys.exit(main(sys.argv[1:]))\n",
        )
    return folder


def test_bootstrap_runs_a_module_from_a_zipped_bundle(bundle: Path) -> None:
    done = run_bootstrap(bundle, "mypkg.job", "--input", "/x")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"argv": ["--input", "/x"], "name": "__main__"}


def test_bootstrap_passes_the_exit_code_through(bundle: Path) -> None:
    assert run_bootstrap(bundle, "mypkg.job", "--fail").returncode == 3


def test_bootstrap_fails_clearly_on_a_missing_module(bundle: Path) -> None:
    done = run_bootstrap(bundle, "mypkg.nothing")
    assert done.returncode != 0
    assert "No module named mypkg.nothing" in done.stderr


def test_bootstrap_fits_sagemakers_entrypoint_limit() -> None:
    assert len(t.BOOTSTRAP) <= 256


@pytest.mark.slow
def test_default_commands_use_flags_the_workload_modules_accept() -> None:
    """Each flag we pass appears in the real module's --help (catches drift between the two)."""
    import os

    root = Path(__file__).resolve().parents[3]
    script = (
        "import contextlib,io,json,runpy,sys\n"
        "out={}\n"
        "for m in sys.argv[1:]:\n"
        "    buf=io.StringIO(); sys.argv=[m,'--help']\n"
        "    with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):\n"
        "        runpy.run_module(m, run_name='__main__')\n"
        "    out[m]=buf.getvalue()\n"
        "print(json.dumps(out))\n"
    )
    modules = [c.module for c in t.DEFAULT_COMMANDS.values()]
    done = subprocess.run(
        [sys.executable, "-c", script, *modules],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    helps = json.loads(done.stdout.strip().splitlines()[-1])
    for command in t.DEFAULT_COMMANDS.values():
        flags = [a for a in command.arguments if a.startswith("--")]
        for flag in flags:
            assert flag in helps[command.module], (command.module, flag)


# ------------------------------------------------- data version and caching (issue 7, item 1)


def test_the_step_reading_live_data_is_never_cached() -> None:
    definition = literal_pipeline(cache_expire_after="P30D").to_definition()
    steps = {s["Name"]: s for s in iter_steps(definition["Steps"])}
    version = steps[t.DATA_VERSION]
    assert "CacheConfig" not in version
    [data] = [i for i in version["Arguments"]["ProcessingInputs"] if i["InputName"] == "data"]
    assert data["S3Input"]["S3Uri"] == {"Get": "Parameters.InputDataUri"}
    assert version["PropertyFiles"] == [
        {
            "PropertyFileName": "DataVersionReport",
            "OutputName": "version",
            "FilePath": "data_version.json",
        }
    ]
    # Preprocess reads the same live prefix, and is cached only because it carries the version.
    [pre_data] = [
        i for i in steps[t.PREPROCESS]["Arguments"]["ProcessingInputs"] if i["InputName"] == "data"
    ]
    assert pre_data == data


def test_every_cached_step_carries_the_data_version_in_its_cache_key() -> None:
    definition = literal_pipeline(cache_expire_after="P30D").to_definition()
    steps = {s["Name"]: s for s in iter_steps(definition["Steps"])}
    version = {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.DataVersion.PropertyFiles.DataVersionReport"},
            "Path": "data_version",
        }
    }
    cached = [name for name, step in steps.items() if "CacheConfig" in step]
    assert cached == [t.PREPROCESS, t.TRAIN, t.EVALUATE, t.BASELINE]
    for name in cached:
        # Environment is part of the cache key of processing and training steps.
        assert steps[name]["Arguments"]["Environment"]["DATA_VERSION"] == version, name
    register = steps[t.REGISTER]["Arguments"]["CustomerMetadataProperties"]
    assert register["data_version"] == version


def test_every_output_including_the_data_version_is_under_the_execution_id() -> None:
    """Concurrent executions (and a run after a cache hit) never write to the same place."""
    definition = literal_pipeline(cache_expire_after="P30D").to_definition()
    execution = {"Get": "Execution.PipelineExecutionId"}
    assert t.DATA_VERSION in [s["Name"] for s in jobs(definition)]
    for step in jobs(definition):
        args = step["Arguments"]
        if step["Type"] == "Processing":
            uris = [o["S3Output"]["S3Uri"] for o in args["ProcessingOutputConfig"]["Outputs"]]
        else:
            uris = [args["OutputDataConfig"]["S3OutputPath"]]
        for uri in uris:
            assert execution in uri["Std:Join"]["Values"], step["Name"]


# ------------------------------------------- instance types with local storage (item 7)

NVME_TYPES = [
    "ml.m5d.large",
    "ml.c5d.xlarge",
    "ml.r5d.large",
    "ml.g4dn.xlarge",
    "ml.g5.xlarge",
    "ml.g6.xlarge",
    "ml.p3dn.24xlarge",
    "ml.p4d.24xlarge",
    "ml.p5.48xlarge",
    "ml.trn1.2xlarge",
    "ml.p6-b200.48xlarge",
]


def test_instance_type_parameters_allow_only_vetted_ebs_types() -> None:
    parameters = {p["Name"]: p for p in literal_pipeline().to_definition()["Parameters"]}
    processing = parameters["ProcessingInstanceType"]["EnumValues"]
    training = parameters["TrainingInstanceType"]["EnumValues"]
    assert processing == training == list(t.PARAMETER_INSTANCE_TYPES)
    assert set(processing) <= set(t.PROCESSING_INSTANCE_TYPES)
    assert set(training) <= set(t.TRAINING_INSTANCE_TYPES)
    for value in NVME_TYPES:
        assert t.has_instance_storage(value), value
    for value in {*t.PROCESSING_INSTANCE_TYPES, *t.TRAINING_INSTANCE_TYPES}:
        assert not t.has_instance_storage(value), value


def test_a_vetted_default_outside_the_common_types_is_allowed_too() -> None:
    definition = literal_pipeline(training_instance_type="ml.c6i.8xlarge").to_definition()
    parameters = {p["Name"]: p for p in definition["Parameters"]}
    allowed = parameters["TrainingInstanceType"]["EnumValues"]
    assert allowed == [*t.PARAMETER_INSTANCE_TYPES, "ml.c6i.8xlarge"]
    assert len(allowed) <= 16  # longer enum lists were reported to fail pipeline creation


def test_vetted_instance_types_are_sagemaker_instance_types() -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    for shape, vetted in (
        ("ProcessingInstanceType", t.PROCESSING_INSTANCE_TYPES),
        ("TrainingInstanceType", t.TRAINING_INSTANCE_TYPES),
    ):
        known = set(model.shape_for(shape).enum)
        assert set(vetted) <= known, sorted(set(vetted) - known)
        assert len(set(vetted)) == len(vetted)


@pytest.mark.parametrize("value", NVME_TYPES[:6])
@pytest.mark.parametrize("prop", ["processing_instance_type", "training_instance_type"])
def test_fails_when_an_instance_type_has_local_nvme_storage(prop: str, value: str) -> None:
    with pytest.raises(
        PipelineDefinitionError,
        match=rf"{prop} '{value}': .*NVMe.*refuses the VolumeKmsKeyId.*ml\.m5\.large",
    ):
        literal_pipeline(**{prop: value})


def test_fails_when_an_instance_type_is_not_vetted() -> None:
    with pytest.raises(PipelineDefinitionError, match=r"'ml.inf2.xlarge': .* not in the vetted"):
        literal_pipeline(training_instance_type="ml.inf2.xlarge")


def test_the_model_card_content_is_recorded_on_the_version() -> None:
    register = literal_pipeline().step(t.REGISTER).to_request()
    metadata = register["Arguments"]["CustomerMetadataProperties"]
    assert metadata["intended_use"] == "Churn risk of monthly customers for retention offers"
    assert metadata["quality_metric"] == "binary_classification_metrics.auc.value"
    assert metadata["quality_value"] == {
        "Std:Join": {
            "On": "",
            "Values": [
                {
                    "Std:JsonGet": {
                        "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"},
                        "Path": "binary_classification_metrics.auc.value",
                    }
                }
            ],
        }
    }
    assert "intended_use" not in json.dumps(
        literal_pipeline(intended_use=None).step(t.REGISTER).to_request()
    )


@pytest.mark.parametrize("bad", ["", "   ", "x" * 257])
def test_fails_on_an_intended_use_that_cannot_be_recorded(bad: str) -> None:
    with pytest.raises(PipelineDefinitionError, match=r"intended_use .* must be 1 to 256"):
        literal_pipeline(intended_use=bad)
