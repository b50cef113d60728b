"""Processing and training jobs as local processes with SageMaker's container contracts.

Each job gets a folder ``<work>/jobs/<step>/`` whose ``opt/ml`` stands in for the container's
``/opt/ml`` (nothing is written to ``/opt``): every string of the request that is a path under
``/opt/ml`` (local paths, ``ContainerEntrypoint``, ``ContainerArguments``, ``Environment``
values) is rewritten to it, and ``SAGEMAKER_BASE_DIR`` (the training toolkit's variable for the
same thing) points at it. The ``python3`` the entrypoint names is the interpreter the executor
was given (by default its own).

Processing (``CreateProcessingJob``): inputs downloaded from their S3 URIs to their local paths,
``ContainerEntrypoint`` + ``ContainerArguments`` run as written with ``Environment``, each
output's local path uploaded to its S3 URI, ``/opt/ml/config/processingjobconfig.json`` and
``resourceconfig.json`` written as SageMaker writes them.

Training (``CreateTrainingJob``): channels in ``/opt/ml/input/data/<channel>``,
``/opt/ml/input/config/{hyperparameters,inputdataconfig,resourceconfig}.json``,
``TRAINING_JOB_NAME`` / ``TRAINING_JOB_ARN``; with a ``ContainerEntrypoint`` that runs as
written (SageMaker then bypasses the image's training toolkit, so the ``SM_*`` variables are
only those the request sets). Without one, the scikit-learn image's toolkit is emulated:
``sagemaker_program`` from ``sagemaker_submit_directory`` (a ``.tar.gz`` in S3, or in a channel
as the SDK sets it up for a network-isolated job) extracted to ``/opt/ml/code`` and run as ``python <program> --<hyperparameter> <value> ...`` with the
toolkit's ``SM_*`` variables. ``/opt/ml/model`` is packed to
``<S3OutputPath>/<job name>/output/model.tar.gz``; the last value each ``MetricDefinitions``
regex finds in the log is the job's ``FinalMetricDataList``.

Tuning (``CreateHyperParameterTuningJob``): see :mod:`cdk_mlops.executor.tuning`.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cdk_mlops.executor.errors import ExecutorError, StepFailed
from cdk_mlops.executor.expressions import is_expression
from cdk_mlops.executor.s3 import LocalS3

CONTAINER_ROOT = "/opt/ml"
PROCESSING_ROOT = "/opt/ml/processing"
TRAINING_DATA_ROOT = "/opt/ml/input/data"
_OPT_ML = re.compile(r"(?<![\w./-])/opt/ml(?=/|$|[^\w.-])")
#: The host name SageMaker gives the only instance of a job.
CURRENT_HOST = "algo-1"
LOG_TAIL_LINES = 25


@dataclass(frozen=True)
class JobSettings:
    """How jobs run on this machine."""

    work_dir: Path
    python: str = sys.executable
    #: OMP_NUM_THREADS / OPENBLAS_NUM_THREADS of every job (None: the libraries decide).
    threads: int | None = None
    account: str = "123456789012"
    region: str = "us-east-1"


@dataclass(frozen=True)
class JobResult:
    """What a finished job left: its describe response (for ``Get Steps.<step>...``)."""

    describe: dict[str, Any]
    job_dir: Path
    seconds: float
    log: Path


class JobDir:
    """``<work>/jobs/<step>``: ``opt/ml`` in it stands in for the container's ``/opt/ml``."""

    def __init__(self, root: Path) -> None:
        if root.exists():
            shutil.rmtree(root)
        self.root = root
        self.opt_ml = root / "opt" / "ml"
        self.opt_ml.mkdir(parents=True)
        self.tmp = root / "tmp"
        self.tmp.mkdir()
        self.bin = root / "bin"
        self.bin.mkdir()

    def local(self, container_path: str) -> Path:
        """Where ``container_path`` (under /opt/ml) is on this machine."""
        return Path(self.rewrite(container_path))

    def rewrite(self, value: Any) -> Any:
        """``value`` with every ``/opt/ml`` path (in strings, lists, dict values) moved here."""
        if isinstance(value, str):
            return _OPT_ML.sub(lambda _: str(self.opt_ml), value)
        if isinstance(value, list):
            return [self.rewrite(v) for v in value]
        if isinstance(value, dict):
            return {k: self.rewrite(v) for k, v in value.items()}
        return value

    def python_shims(self, python: str) -> None:
        """``python3`` and ``python`` on the job's PATH run ``python`` (a venv keeps its
        packages, which a symlink to its interpreter would not)."""
        for name in ("python3", "python"):
            shim = self.bin / name
            shim.write_text(f'#!/bin/sh\nexec "{python}" "$@"\n', encoding="utf-8")
            shim.chmod(0o755)


def under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def container_paths(values: Sequence[Any]) -> list[str]:
    """Strings in ``values`` that are absolute paths under /opt/ml."""
    return [v for v in values if isinstance(v, str) and under(v, CONTAINER_ROOT)]


def _base_env(job: JobDir, settings: JobSettings, environment: Mapping[str, Any]) -> dict[str, str]:
    env = {
        "PATH": f"{job.bin}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(job.root),
        "TMPDIR": str(job.tmp),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_REGION": settings.region,
        "SAGEMAKER_BASE_DIR": str(job.opt_ml),
    }
    if settings.threads is not None:
        env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = str(settings.threads)
    for key, value in environment.items():
        env[str(key)] = str(job.rewrite(value))
    return env


def _run(
    argv: list[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log: Path,
    timeout: float | None,
    step: str,
    field: str,
    failure_file: Path | None = None,
) -> None:
    try:
        with log.open("w", encoding="utf-8") as out:
            proc = subprocess.run(
                argv,
                env=dict(env),
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
    except FileNotFoundError:
        raise ExecutorError(
            f"cannot start {argv[0]!r}: not found on the job's PATH", step=step, field=field
        ) from None
    except subprocess.TimeoutExpired:
        raise StepFailed(
            f"the job ran longer than MaxRuntimeInSeconds ({timeout:.0f} s); log: {log}",
            step=step,
            field="StoppingCondition.MaxRuntimeInSeconds",
        ) from None
    if proc.returncode != 0:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        reason = ""
        if failure_file is not None and failure_file.is_file():
            reason = failure_file.read_text(encoding="utf-8", errors="replace").splitlines()[0]
            reason = f"; failure reason: {reason}"
        tail = "\n".join(f"    {line}" for line in lines[-LOG_TAIL_LINES:])
        raise StepFailed(
            f"the job exited with status {proc.returncode}{reason}; log {log} ends:\n{tail}",
            step=step,
            field=field,
        )


def _timeout(args: Mapping[str, Any]) -> float | None:
    seconds = (args.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
    return float(seconds) if seconds else None


def _single_instance(count: Any, step: str, field: str) -> None:
    if count != 1:
        raise ExecutorError(
            f"InstanceCount {count!r}: the executor runs single-instance jobs only",
            step=step,
            field=field,
        )


def _job_name(kind: str, execution_id: str, step: str) -> str:
    return f"pipelines-{execution_id}-{step}-{kind}"[:63]


# ------------------------------------------------------------------------ processing
def check_processing_paths(step: str, args: Mapping[str, Any]) -> None:
    """Paths the container reads under /opt/ml/processing/input must come from an input.

    (A code folder with no input behind it would otherwise pass here: the local interpreter can
    import the package from this checkout, the container cannot.)
    """
    app = args.get("AppSpecification") or {}
    provided = [
        (i.get("S3Input") or {}).get("LocalPath", "") for i in args.get("ProcessingInputs") or []
    ]
    for name in ("ContainerEntrypoint", "ContainerArguments"):
        for index, value in enumerate(app.get(name) or []):
            if not isinstance(value, str) or not under(value, f"{PROCESSING_ROOT}/input"):
                continue
            if not any(p and (under(value, p) or under(p, value)) for p in provided):
                raise ExecutorError(
                    f"{value} is under /opt/ml/processing/input but no ProcessingInputs entry "
                    f"has it (or a folder of it) as LocalPath; inputs: {provided}",
                    step=step,
                    field=f"AppSpecification.{name}[{index}]",
                )


def run_processing(
    step: str,
    args: dict[str, Any],
    *,
    s3: LocalS3,
    settings: JobSettings,
    execution_id: str,
) -> JobResult:
    """Run one ``CreateProcessingJob`` request (expressions already evaluated)."""
    import time

    started = time.perf_counter()
    cluster = (args.get("ProcessingResources") or {}).get("ClusterConfig") or {}
    _single_instance(
        cluster.get("InstanceCount"), step, "ProcessingResources.ClusterConfig.InstanceCount"
    )
    app = args.get("AppSpecification") or {}
    entrypoint = app.get("ContainerEntrypoint")
    if not entrypoint:
        raise ExecutorError(
            "no ContainerEntrypoint: the image's own entrypoint is not emulated; give the "
            "command to run",
            step=step,
            field="AppSpecification.ContainerEntrypoint",
        )
    check_processing_paths(step, args)
    job = JobDir(settings.work_dir / "jobs" / step)
    job.python_shims(settings.python)
    name = _job_name("processing", execution_id, step)
    for i, item in enumerate(args.get("ProcessingInputs") or []):
        field = f"ProcessingInputs[{i}]"
        s3_input = item.get("S3Input")
        if s3_input is None:
            raise ExecutorError(
                "only S3Input inputs are supported (not DatasetDefinition)", step=step, field=field
            )
        local_path = s3_input.get("LocalPath", "")
        if not under(local_path, PROCESSING_ROOT):
            raise ExecutorError(
                f"LocalPath {local_path!r} must be under {PROCESSING_ROOT}",
                step=step,
                field=f"{field}.S3Input.LocalPath",
            )
        for key, allowed in (("S3InputMode", "File"), ("S3CompressionType", "None")):
            if s3_input.get(key, allowed) != allowed:
                raise ExecutorError(
                    f"{key} {s3_input[key]!r} is not supported (only {allowed})",
                    step=step,
                    field=f"{field}.S3Input.{key}",
                )
        s3.download_prefix(
            s3_input.get("S3Uri"),
            job.local(local_path),
            step=step,
            field=f"{field}.S3Input.S3Uri",
            data_type=s3_input.get("S3DataType", "S3Prefix"),
        )
    outputs = (args.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    for i, item in enumerate(outputs):
        s3_output = item.get("S3Output")
        if s3_output is None:
            raise ExecutorError(
                "only S3Output outputs are supported (not FeatureStoreOutput)",
                step=step,
                field=f"ProcessingOutputConfig.Outputs[{i}]",
            )
        local_path = s3_output.get("LocalPath", "")
        if not under(local_path, PROCESSING_ROOT):
            raise ExecutorError(
                f"LocalPath {local_path!r} must be under {PROCESSING_ROOT}",
                step=step,
                field=f"ProcessingOutputConfig.Outputs[{i}].S3Output.LocalPath",
            )
        # SageMaker creates the output folders before the container starts.
        job.local(local_path).mkdir(parents=True, exist_ok=True)
    config = job.opt_ml / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "processingjobconfig.json").write_text(
        json.dumps({**args, "ProcessingJobName": name}, indent=2), encoding="utf-8"
    )
    (config / "resourceconfig.json").write_text(
        json.dumps({"current_host": CURRENT_HOST, "hosts": [CURRENT_HOST]}), encoding="utf-8"
    )
    argv = [str(a) for a in job.rewrite([*entrypoint, *(app.get("ContainerArguments") or [])])]
    env = _base_env(job, settings, args.get("Environment") or {})
    log = job.root / "job.log"
    _run(
        argv,
        env=env,
        cwd=job.root,
        log=log,
        timeout=_timeout(args),
        step=step,
        field="AppSpecification.ContainerEntrypoint",
    )
    for i, item in enumerate(outputs):
        s3_output = item["S3Output"]
        s3.upload_dir(
            job.local(s3_output["LocalPath"]),
            s3_output.get("S3Uri"),
            step=step,
            field=f"ProcessingOutputConfig.Outputs[{i}].S3Output.S3Uri",
        )
    arn = f"arn:aws:sagemaker:{settings.region}:{settings.account}:processing-job/{name}"
    describe = {
        **args,
        "ProcessingJobName": name,
        "ProcessingJobArn": arn,
        "ProcessingJobStatus": "Completed",
        "ExitMessage": "",
    }
    return JobResult(describe, job.root, time.perf_counter() - started, log)


# ------------------------------------------------------------------------ training
def check_training(step: str, args: Mapping[str, Any]) -> None:
    """What SageMaker's CreateTrainingJob would refuse, and channels the container reads but
    the request does not provide."""
    hyperparameters = args.get("HyperParameters") or {}
    if not isinstance(hyperparameters, dict):
        raise ExecutorError("must be a map of strings", step=step, field="HyperParameters")
    for key, value in hyperparameters.items():
        # An expression (e.g. Std:Join of a parameter) is a string once evaluated.
        if not isinstance(value, str) and not is_expression(value):
            raise ExecutorError(
                f"value {value!r} ({type(value).__name__}) is not a string: CreateTrainingJob "
                'takes a map of strings (write numbers as "150", strings JSON-encoded as '
                'the SDK does, e.g. "\\"hgb\\"")',
                step=step,
                field=f"HyperParameters.{key}",
            )
    channels = [c.get("ChannelName") for c in args.get("InputDataConfig") or []]
    spec = args.get("AlgorithmSpecification") or {}
    strings: list[tuple[str, Any]] = [
        *(
            (f"AlgorithmSpecification.{k}[{i}]", v)
            for k in ("ContainerEntrypoint", "ContainerArguments")
            for i, v in enumerate(spec.get(k) or [])
        ),
        *((f"Environment.{k}", v) for k, v in (args.get("Environment") or {}).items()),
    ]
    for field, value in strings:
        if isinstance(value, str) and under(value, TRAINING_DATA_ROOT):
            channel = value[len(TRAINING_DATA_ROOT) + 1 :].split("/", 1)[0]
            if channel and channel not in channels:
                raise ExecutorError(
                    f"{value} is the folder of channel {channel!r}, which InputDataConfig does "
                    f"not have (channels: {channels})",
                    step=step,
                    field=field,
                )


def _decode_hyperparameter(value: str) -> Any:
    # What sagemaker_training.environment.read_hyperparameters does with each value.
    try:
        return json.loads(value)
    except ValueError:
        return value


def _arg_value(value: Any) -> str:
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def toolkit_environment(
    job: JobDir,
    *,
    hyperparameters: Mapping[str, Any],
    channels: Sequence[str],
    input_data_config: Mapping[str, Any],
    program: str,
    submit_directory: str,
    user_args: Sequence[str],
) -> dict[str, str]:
    """The ``SM_*`` variables the SageMaker training toolkit gives a script (its
    ``ENVIRONMENT_VARIABLES.md`` and ``environment.py``), paths in the job folder."""
    base = job.opt_ml
    resource = {
        "current_host": CURRENT_HOST,
        "hosts": [CURRENT_HOST],
        "network_interface_name": "eth0",
    }
    env = {
        "SM_HOSTS": json.dumps([CURRENT_HOST]),
        "SM_CURRENT_HOST": CURRENT_HOST,
        "SM_NETWORK_INTERFACE_NAME": "eth0",
        "SM_HPS": json.dumps(dict(hyperparameters), sort_keys=True),
        "SM_USER_ENTRY_POINT": program,
        "SM_FRAMEWORK_PARAMS": "{}",
        "SM_RESOURCE_CONFIG": json.dumps(resource),
        "SM_INPUT_DATA_CONFIG": json.dumps(dict(input_data_config), sort_keys=True),
        "SM_CHANNELS": json.dumps(sorted(channels)),
        "SM_MODULE_NAME": program.removesuffix(".py"),
        "SM_MODULE_DIR": submit_directory,
        "SM_LOG_LEVEL": "20",
        "SM_NUM_CPUS": str(os.cpu_count() or 1),
        "SM_NUM_GPUS": "0",
        "SM_INPUT_DIR": str(base / "input"),
        "SM_INPUT_CONFIG_DIR": str(base / "input" / "config"),
        "SM_OUTPUT_DIR": str(base / "output"),
        "SM_OUTPUT_DATA_DIR": str(base / "output" / "data"),
        "SM_OUTPUT_INTERMEDIATE_DIR": str(base / "output" / "intermediate"),
        "SM_MODEL_DIR": str(base / "model"),
        "SM_USER_ARGS": json.dumps(list(user_args)),
    }
    for name in channels:
        env[f"SM_CHANNEL_{name.upper()}"] = str(base / "input" / "data" / name)
    for key, value in hyperparameters.items():
        env[f"SM_HP_{key.upper()}"] = _arg_value(value)
    return env


def run_training(
    step: str,
    args: dict[str, Any],
    *,
    s3: LocalS3,
    settings: JobSettings,
    execution_id: str,
    job_name: str | None = None,
    job_folder: str | None = None,
) -> JobResult:
    """Run one ``CreateTrainingJob`` request (expressions already evaluated).

    ``job_name`` and ``job_folder`` (under ``<work>/jobs``) default to the step's; a tuning
    step gives each of its training jobs its own. The describe response has the final value
    of each metric definition found in the log (``FinalMetricDataList``).
    """
    import time

    started = time.perf_counter()
    check_training(step, args)
    spec = args.get("AlgorithmSpecification") or {}
    if "AlgorithmName" in spec:
        raise ExecutorError(
            "marketplace algorithms are not supported; give a TrainingImage",
            step=step,
            field="AlgorithmSpecification.AlgorithmName",
        )
    if spec.get("TrainingInputMode", "File") != "File":
        raise ExecutorError(
            f"TrainingInputMode {spec['TrainingInputMode']!r} is not supported (only File)",
            step=step,
            field="AlgorithmSpecification.TrainingInputMode",
        )
    algorithm = builtin_xgboost(spec, args.get("HyperParameters") or {})
    if not algorithm:
        _single_instance(
            (args.get("ResourceConfig") or {}).get("InstanceCount"),
            step,
            "ResourceConfig.InstanceCount",
        )
    job = JobDir(settings.work_dir / "jobs" / (job_folder or step))
    job.python_shims(settings.python)
    name = job_name or _job_name("training", execution_id, step)
    channels: list[str] = []
    input_data_config: dict[str, Any] = {}
    for i, channel in enumerate(args.get("InputDataConfig") or []):
        field = f"InputDataConfig[{i}]"
        source = (channel.get("DataSource") or {}).get("S3DataSource")
        if source is None:
            raise ExecutorError(
                "only S3DataSource channels are supported", step=step, field=f"{field}.DataSource"
            )
        if channel.get("CompressionType", "None") != "None":
            raise ExecutorError(
                "compressed channels are not supported", step=step, field=f"{field}.CompressionType"
            )
        if channel.get("InputMode", "File") != "File":
            raise ExecutorError(
                "only File input mode is supported", step=step, field=f"{field}.InputMode"
            )
        name_ = channel.get("ChannelName")
        channels.append(name_)
        input_data_config[name_] = {
            "TrainingInputMode": "File",
            "S3DistributionType": source.get("S3DataDistributionType", "FullyReplicated"),
            "RecordWrapperType": channel.get("RecordWrapperType", "None"),
        }
        if channel.get("ContentType"):
            input_data_config[name_]["ContentType"] = channel["ContentType"]
        s3.download_prefix(
            source.get("S3Uri"),
            job.opt_ml / "input" / "data" / name_,
            step=step,
            field=f"{field}.DataSource.S3DataSource.S3Uri",
            data_type=source.get("S3DataType", "S3Prefix"),
        )
    raw_hps: dict[str, str] = dict(args.get("HyperParameters") or {})
    config = job.opt_ml / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps(raw_hps), encoding="utf-8")
    (config / "inputdataconfig.json").write_text(json.dumps(input_data_config), encoding="utf-8")
    resource = {
        "current_host": CURRENT_HOST,
        "hosts": [CURRENT_HOST],
        "network_interface_name": "eth0",
    }
    (config / "resourceconfig.json").write_text(json.dumps(resource), encoding="utf-8")
    for folder in ("model", "output/data", "output/intermediate", "code"):
        (job.opt_ml / folder).mkdir(parents=True, exist_ok=True)
    arn = f"arn:aws:sagemaker:{settings.region}:{settings.account}:training-job/{name}"
    env = _base_env(job, settings, args.get("Environment") or {})
    env.update({"TRAINING_JOB_NAME": name, "TRAINING_JOB_ARN": arn})
    entrypoint = spec.get("ContainerEntrypoint")
    if algorithm:
        # The image's own training (algorithm mode): cdk_mlops.executor.xgboost_algorithm.
        argv = ["python", "-m", "cdk_mlops.executor.xgboost_algorithm"]
        cwd = job.root
        field = "AlgorithmSpecification.TrainingImage"
    elif entrypoint:
        argv = [str(a) for a in job.rewrite([*entrypoint, *(spec.get("ContainerArguments") or [])])]
        cwd = job.root
        field = "AlgorithmSpecification.ContainerEntrypoint"
    else:
        argv, toolkit_env = _toolkit_command(step, job, raw_hps, channels, input_data_config, s3)
        env = {**toolkit_env, **env}
        cwd = job.opt_ml / "code"
        field = "HyperParameters.sagemaker_program"
    log = job.root / "job.log"
    _run(
        argv,
        env=env,
        cwd=cwd,
        log=log,
        timeout=_timeout(args),
        step=step,
        field=field,
        failure_file=job.opt_ml / "output" / "failure",
    )
    output_path = str((args.get("OutputDataConfig") or {}).get("S3OutputPath", "")).rstrip("/")
    model_uri = f"{output_path}/{name}/output/model.tar.gz"
    archive = job.root / "model.tar.gz"
    _pack(job.opt_ml / "model", archive)
    s3.upload_file(archive, model_uri, step=step, field="OutputDataConfig.S3OutputPath")
    data_dir = job.opt_ml / "output" / "data"
    if any(data_dir.iterdir()):
        _pack(data_dir, job.root / "output.tar.gz")
        s3.upload_file(
            job.root / "output.tar.gz",
            f"{output_path}/{name}/output/output.tar.gz",
            step=step,
            field="OutputDataConfig.S3OutputPath",
        )
    describe = {
        **args,
        "TrainingJobName": name,
        "TrainingJobArn": arn,
        "TrainingJobStatus": "Completed",
        "SecondaryStatus": "Completed",
        "ModelArtifacts": {"S3ModelArtifacts": model_uri},
        "FinalMetricDataList": final_metrics(spec.get("MetricDefinitions") or [], log),
    }
    return JobResult(describe, job.root, time.perf_counter() - started, log)


def final_metrics(definitions: Sequence[Mapping[str, Any]], log: Path) -> list[dict[str, Any]]:
    """The last value each metric definition's regex finds in the job log, as SageMaker
    reports it (``FinalMetricDataList``); metrics never printed are absent."""
    text = log.read_text(encoding="utf-8", errors="replace")
    out: list[dict[str, Any]] = []
    for definition in definitions:
        matches = re.findall(str(definition.get("Regex")), text)
        for found in reversed(matches):
            raw = found[0] if isinstance(found, tuple) else found
            try:
                value = float(raw)
            except ValueError:
                continue
            if math.isfinite(value):
                out.append({"MetricName": definition.get("Name"), "Value": value})
                break
    return out


def builtin_xgboost(spec: Mapping[str, Any], hyperparameters: Mapping[str, Any]) -> bool:
    """True for SageMaker's XGBoost algorithm: its image, run in algorithm mode (no entry point,
    no ``sagemaker_program``). Several instances are then allowed: the emulation trains on
    every shard in one process."""
    image = str(spec.get("TrainingImage") or "")
    repository = image.rsplit("/", 1)[-1].split(":", 1)[0]
    return (
        repository == "sagemaker-xgboost"
        and not spec.get("ContainerEntrypoint")
        and "sagemaker_program" not in hyperparameters
    )


def _pack(folder: Path, archive: Path) -> None:
    """``folder``'s content at the archive root, as SageMaker packs /opt/ml/model."""
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False)


def _toolkit_command(
    step: str,
    job: JobDir,
    raw_hps: Mapping[str, str],
    channels: Sequence[str],
    input_data_config: Mapping[str, Any],
    s3: LocalS3,
) -> tuple[list[str], dict[str, str]]:
    """The scikit-learn image's default entrypoint (the training toolkit) for script mode."""
    decoded = {k: _decode_hyperparameter(v) for k, v in raw_hps.items()}
    program = decoded.get("sagemaker_program")
    submit = decoded.get("sagemaker_submit_directory")
    if not isinstance(program, str) or not program:
        raise ExecutorError(
            "there is no ContainerEntrypoint and no sagemaker_program hyperparameter: the "
            "image's training toolkit would have no script to run",
            step=step,
            field="HyperParameters.sagemaker_program",
        )
    field = "HyperParameters.sagemaker_submit_directory"
    code = job.opt_ml / "code"
    archive = job.root / "sourcedir.tar.gz"
    if isinstance(submit, str) and under(submit, TRAINING_DATA_ROOT):
        # A network-isolated job's source dir comes in a channel (as the SDK sets it up).
        local = job.local(submit)
        if not local.is_file():
            raise ExecutorError(
                f"sagemaker_submit_directory {submit!r} is not a file the job's channels "
                f"provide (channels: {list(channels)})",
                step=step,
                field=field,
            )
        archive.write_bytes(local.read_bytes())
    elif isinstance(submit, str) and submit.startswith("s3://"):
        archive.write_bytes(s3.read(submit, step=step, field=field))
    else:
        raise ExecutorError(
            f"sagemaker_submit_directory {submit!r} must be the S3 URI of the source archive "
            f"(sourcedir.tar.gz) or its path in a channel ({TRAINING_DATA_ROOT}/<channel>/...)",
            step=step,
            field=field,
        )
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(code, filter="data")
    except tarfile.TarError as exc:
        raise ExecutorError(
            f"{submit} is not a .tar.gz ({exc})",
            step=step,
            field="HyperParameters.sagemaker_submit_directory",
        ) from None
    if (code / "setup.py").exists():
        raise ExecutorError(
            "the source directory is a package (setup.py); the executor runs a script "
            "(sagemaker_program ending in .py)",
            step=step,
            field="HyperParameters.sagemaker_submit_directory",
        )
    if not (code / program).is_file():
        raise ExecutorError(
            f"{program!r} is not in {submit} (files: "
            f"{sorted(p.relative_to(code).as_posix() for p in code.rglob('*') if p.is_file())[:10]})",
            step=step,
            field="HyperParameters.sagemaker_program",
        )
    user_hps = {k: v for k, v in decoded.items() if not k.startswith("sagemaker_")}
    user_args = [x for k, v in user_hps.items() for x in (f"--{k}", _arg_value(v))]
    env = toolkit_environment(
        job,
        hyperparameters=user_hps,
        channels=channels,
        input_data_config=input_data_config,
        program=program,
        submit_directory=submit,
        user_args=user_args,
    )
    return ["python", program, *user_args], env
