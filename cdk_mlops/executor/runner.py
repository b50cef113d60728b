"""Run a synthesized SageMaker pipeline definition on this machine, step by step.

Before anything runs, the whole definition is checked: step types, parameter overrides,
every ``Get Steps.<step>.<property>`` against what that step will have (its request plus what
its job adds, e.g. ``ModelArtifacts.S3ModelArtifacts``), every property file a ``Std:JsonGet``
names, and the container paths a job reads against the inputs it has. Then the steps run in
dependency order (``DependsOn``, the properties they read, condition branches), one at a time.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from cdk_mlops.executor.errors import ExecutorError, PipelineFailed, StepFailed
from cdk_mlops.executor.expressions import (
    EXECUTION_VARIABLES,
    Context,
    evaluate_condition,
    navigate,
    parameter_values,
    parse_parameters,
    parse_path,
    references,
    step_references,
)
from cdk_mlops.executor.jobs import (
    JobSettings,
    check_processing_paths,
    check_training,
    run_processing,
    run_training,
)
from cdk_mlops.executor.s3 import LocalS3, parse_s3_uri
from cdk_mlops.executor.template import DEFAULT_ACCOUNT, DEFAULT_REGION, SynthesizedTemplate
from cdk_mlops.executor.tuning import model_uri as tuning_model_uri
from cdk_mlops.executor.tuning import run_tuning

SUPPORTED_STEP_TYPES = ("Processing", "Training", "Tuning", "Condition", "Fail", "RegisterModel")
DEFINITION_VERSION = "2020-12-01"
#: The pipeline parameter the curated training data is seeded under (``--data`` / ``--curated``).
DATA_PARAMETER = "InputDataUri"
REGISTRY_DIR = "registry"
SUMMARY_FILE = "summary.json"

_TRAINING_JOB_SUMMARY: Mapping[str, Any] = {
    "TrainingJobName": "",
    "TrainingJobArn": "",
    "TrainingJobStatus": "",
    "ObjectiveStatus": "",
    "TunedHyperParameters": {},
    "FinalHyperParameterTuningJobObjectiveMetric": {"MetricName": "", "Value": 0.0},
}
# What a step's describe response has beyond its request (for ``Get Steps.<step>...``).
_ADDED_PROPERTIES: Mapping[str, Mapping[str, Any]] = {
    "Processing": {
        "ProcessingJobName": "",
        "ProcessingJobArn": "",
        "ProcessingJobStatus": "",
        "ExitMessage": "",
    },
    "Training": {
        "TrainingJobName": "",
        "TrainingJobArn": "",
        "TrainingJobStatus": "",
        "SecondaryStatus": "",
        "ModelArtifacts": {"S3ModelArtifacts": ""},
    },
    "Tuning": {
        "HyperParameterTuningJobName": "",
        "HyperParameterTuningJobArn": "",
        "HyperParameterTuningJobStatus": "",
        "BestTrainingJob": _TRAINING_JOB_SUMMARY,
        "TrainingJobSummaries": [_TRAINING_JOB_SUMMARY],
    },
    "RegisterModel": {"ModelPackageArn": ""},
    "Condition": {"Outcome": ""},
    "Fail": {},
}


@dataclass
class StepRun:
    """One row of the execution's step list (as ``ListPipelineExecutionSteps`` shows it)."""

    name: str
    type: str
    status: str = "NotStarted"  # Executing, Succeeded, Failed, NotExecuted
    seconds: float = 0.0
    detail: str = ""
    #: Lineage of a job's inputs: input or channel name -> ``<step>.<output>`` of this
    #: execution that wrote it (``<step>.ModelArtifacts`` for a model), else its S3 URI.
    inputs: dict[str, str] = field(default_factory=dict)


@dataclass
class RunResult:
    """What an execution did."""

    pipeline_name: str
    execution_id: str
    status: str  # Succeeded or Failed
    steps: list[StepRun]
    parameters: dict[str, Any]
    work_dir: Path
    failure_reason: str | None = None
    failed_step: str | None = None
    #: True when a Fail step ended the execution (a decision of the pipeline, not an error).
    reached_fail_step: bool = False
    model_package: dict[str, Any] | None = None
    evaluation: dict[str, Any] | None = None
    seconds: float = 0.0

    def to_json(self) -> str:
        data = asdict(self)
        data["work_dir"] = str(self.work_dir)
        return json.dumps(data, indent=2, default=str) + "\n"

    def table(self) -> str:
        header = ("step", "type", "status", "time", "details")
        rows = [
            (s.name, s.type, s.status, f"{s.seconds:.1f}s" if s.seconds else "-", s.detail)
            for s in self.steps
        ]
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header[:4])]

        def fmt(row: Sequence[str]) -> str:
            return (
                "  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
            )

        lines = [fmt(header), fmt([*("-" * w for w in widths), "-------"])]
        lines += [fmt(r) for r in rows]
        lines.append(f"execution {self.execution_id}: {self.status} in {self.seconds:.1f}s")
        return "\n".join(lines)


# ------------------------------------------------------------------------ the step graph
@dataclass
class _Step:
    name: str
    type: str
    raw: dict[str, Any]
    deps: set[str] = field(default_factory=set)
    branch_of: tuple[str, bool] | None = None  # (condition step, outcome that runs it)


def _flatten(definition: Mapping[str, Any]) -> dict[str, _Step]:
    steps: dict[str, _Step] = {}

    def add(raw: Any, where: str, branch_of: tuple[str, bool] | None) -> None:
        if not isinstance(raw, dict) or "Name" not in raw or "Type" not in raw:
            raise ExecutorError(f"{where}: a step needs a Name and a Type")
        name, kind = str(raw["Name"]), str(raw["Type"])
        if name in steps:
            raise ExecutorError("two steps have this name", step=name, field="Name")
        if kind not in SUPPORTED_STEP_TYPES:
            raise ExecutorError(
                f"step type {kind!r} is not supported (supported: {list(SUPPORTED_STEP_TYPES)}); "
                "the executor refuses it rather than skip it",
                step=name,
                field="Type",
            )
        steps[name] = _Step(name, kind, raw, branch_of=branch_of)
        if kind == "Condition":
            args = raw.get("Arguments") or {}
            for outcome, key in ((True, "IfSteps"), (False, "ElseSteps")):
                for i, sub in enumerate(args.get(key) or []):
                    add(sub, f"step {name}, field Arguments.{key}[{i}]", (name, outcome))

    for i, raw in enumerate(definition.get("Steps") or []):
        add(raw, f"Steps[{i}]", None)
    if not steps:
        raise ExecutorError("the definition has no Steps")
    return steps


def _own_arguments(step: _Step) -> dict[str, Any]:
    """The arguments whose expressions the step itself evaluates (not its branches')."""
    args = dict(step.raw.get("Arguments") or {})
    if step.type == "Condition":
        args.pop("IfSteps", None)
        args.pop("ElseSteps", None)
    return args


def _shape(step: _Step) -> dict[str, Any]:
    return {**_own_arguments(step), **_ADDED_PROPERTIES[step.type]}


def _check_static(steps: Mapping[str, _Step], parameters: Mapping[str, Any]) -> list[str]:
    """Refuse what would fail (or be skipped) before any job runs; returns the run order."""
    for step in steps.values():
        args = _own_arguments(step)
        for dep in step.raw.get("DependsOn") or []:
            if dep not in steps:
                raise ExecutorError(
                    f"DependsOn names {dep!r}, which is not a step ({sorted(steps)})",
                    step=step.name,
                    field="DependsOn",
                )
            step.deps.add(dep)
        if step.branch_of:
            step.deps.add(step.branch_of[0])
        for path, where in references(args):
            where = f"Arguments.{where}"
            head, _, rest = path.partition(".")
            if head == "Parameters":
                if rest not in parameters:
                    raise ExecutorError(
                        f"Get {path}: no parameter {rest!r}; parameters: {sorted(parameters)}",
                        step=step.name,
                        field=where,
                    )
            elif head == "Execution":
                if rest not in EXECUTION_VARIABLES:
                    raise ExecutorError(
                        f"Get {path}: unknown execution variable; known: {list(EXECUTION_VARIABLES)}",
                        step=step.name,
                        field=where,
                    )
            elif head == "Steps":
                _check_step_reference(steps, step, path, where)
            else:
                raise ExecutorError(
                    f"Get {path}: expected Parameters.<name>, Execution.<variable> or "
                    "Steps.<step>.<property>",
                    step=step.name,
                    field=where,
                )
        for source in step_references(args):
            step.deps.add(source)
        if step.type == "Processing":
            check_processing_paths(step.name, args)
            _check_property_files(step)
        if step.type == "Training":
            check_training(step.name, args)
    return _order(steps)


def _check_step_reference(steps: Mapping[str, _Step], step: _Step, path: str, where: str) -> None:
    parts = path.split(".", 2)
    if len(parts) < 3 or parts[1] not in steps:
        raise ExecutorError(
            f"Get {path}: no step {parts[1] if len(parts) > 1 else ''!r} in the pipeline "
            f"({sorted(steps)})",
            step=step.name,
            field=where,
        )
    source, prop = steps[parts[1]], parts[2]
    if source.name == step.name:
        raise ExecutorError(
            f"Get {path}: a step cannot read its own properties", step=step.name, field=where
        )
    if prop.startswith("PropertyFiles."):
        name = prop.split(".", 1)[1]
        declared = [p.get("PropertyFileName") for p in source.raw.get("PropertyFiles") or []]
        if name not in declared:
            raise ExecutorError(
                f"Get {path}: step {source.name} declares no property file {name!r} "
                f"(it declares {declared})",
                step=step.name,
                field=where,
            )
        return
    try:
        navigate(_shape(source), parse_path(prop))
    except (KeyError, ValueError) as exc:
        raise ExecutorError(
            f"Get {path}: step {source.name} ({source.type}) has no such property ({exc.args[0]})",
            step=step.name,
            field=where,
        ) from None


def _check_property_files(step: _Step) -> None:
    outputs = [
        o.get("OutputName")
        for o in ((step.raw.get("Arguments") or {}).get("ProcessingOutputConfig") or {}).get(
            "Outputs"
        )
        or []
    ]
    for i, pf in enumerate(step.raw.get("PropertyFiles") or []):
        if pf.get("OutputName") not in outputs:
            raise ExecutorError(
                f"property file {pf.get('PropertyFileName')!r} is read from output "
                f"{pf.get('OutputName')!r}, which the step does not have (outputs: {outputs})",
                step=step.name,
                field=f"PropertyFiles[{i}].OutputName",
            )


def _order(steps: Mapping[str, _Step]) -> list[str]:
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, chain: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            raise ExecutorError(
                f"steps depend on each other in a cycle: {' -> '.join([*chain, name])}"
            )
        state[name] = "visiting"
        for dep in sorted(steps[name].deps, key=list(steps).index):
            visit(dep, [*chain, name])
        state[name] = "done"
        order.append(name)

    for name in steps:
        visit(name, [])
    return order


# ------------------------------------------------------------------------ data
def seed_curated_data(
    s3: LocalS3,
    uri: str,
    *,
    data: Path | None,
    curated: Path | None,
    schema: str,
    scratch: Path,
) -> str:
    """Put the curated Parquet the Glue ETL would write under ``uri``.

    ``data``: a raw CSV, curated here with the pandas ETL (the same rules as the Glue job);
    ``curated``: a folder the ETL already wrote. Returns a one-line description.
    """
    field = f"--parameter {DATA_PARAMETER}"
    if data is not None:
        from pipeline_code.data.tables import resolve_schema
        from pipeline_code.etl.pandas_transform import run_etl_pandas

        if not data.is_file():
            raise ExecutorError(f"--data {str(data)!r} does not exist; pass a CSV file")
        curated = scratch / "curated"
        etl = run_etl_pandas(data, curated, scratch / "quarantine", resolve_schema(schema))
        detail = f"ETL (pandas): {etl.rows_in} rows in, {etl.rows_clean} clean, {etl.rows_quarantined} quarantined"
    elif curated is not None:
        if not curated.is_dir():
            raise ExecutorError(f"--curated {str(curated)!r} is not a folder")
        detail = f"curated data from {curated}"
    else:
        return "no data seeded"
    parse_s3_uri(uri, field=field)
    count = s3.upload_dir(curated, uri, step="(seed)", field=field)
    if count == 0:
        raise ExecutorError(f"{curated} holds no files to seed {uri} with")
    return f"{detail}; {count} files to {uri}"


# ------------------------------------------------------------------------ run
def run_pipeline(
    template: str | Path,
    *,
    work_dir: str | Path,
    data: str | Path | None = None,
    curated: str | Path | None = None,
    schema: str = "churn",
    parameters: Mapping[str, str] | None = None,
    pipeline: str | None = None,
    python: str = sys.executable,
    threads: int | None = 1,
    account: str = DEFAULT_ACCOUNT,
    region: str = DEFAULT_REGION,
    definition: Mapping[str, Any] | None = None,
    progress: IO[str] | None = None,
    objects: Mapping[str, str | Path] | None = None,
) -> RunResult:
    """Run the pipeline of ``template`` (``cdk.out/<stack>.template.json``).

    ``definition`` replaces the template's parsed definition (tests use it to break one).
    ``objects`` (``s3://bucket/key`` -> local file) are put into S3 before the run, e.g. a
    production model for ``ChampionModelUri``; a missing file is an error.
    Raises :class:`ExecutorError` for what it refuses before running; a failed step or a Fail
    step ends the execution with status ``Failed`` (``failure_reason`` says why). The local
    model registry is ``<work_dir>/registry``.
    """
    started = time.perf_counter()
    stream = progress if progress is not None else sys.stderr
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    tpl = SynthesizedTemplate.load(template, account=account, region=region)
    resource = tpl.pipeline(pipeline)
    body = dict(definition) if definition is not None else resource.definition
    if body.get("Version", DEFINITION_VERSION) != DEFINITION_VERSION:
        raise ExecutorError(
            f"definition Version {body.get('Version')!r}: the executor knows {DEFINITION_VERSION}"
        )
    declared = parse_parameters(body)
    values = parameter_values(declared, parameters or {})
    steps = _flatten(body)
    _check_static(steps, values)
    execution_id = uuid.uuid4().hex[:12]
    arn = f"arn:aws:sagemaker:{region}:{account}:pipeline/{resource.name.lower()}"
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    ctx = Context(
        parameters=values,
        execution={
            "PipelineExecutionId": execution_id,
            "PipelineExecutionArn": f"{arn}/execution/{execution_id}",
            "PipelineName": resource.name,
            "PipelineArn": arn,
            "StartDateTime": now,
            "CurrentDateTime": now,
        },
    )
    runs = {name: StepRun(name, s.type) for name, s in steps.items()}
    result = RunResult(
        pipeline_name=resource.name,
        execution_id=execution_id,
        status="Executing",
        steps=list(runs.values()),
        parameters=values,
        work_dir=work,
    )
    settings = JobSettings(
        work_dir=work, python=python, threads=threads, account=account, region=region
    )

    def say(text: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f}s] {text}", file=stream, flush=True)

    with LocalS3(region) as s3, tempfile.TemporaryDirectory(prefix="cdk-mlops-exec-") as tmp:
        published = s3.seed(tpl)
        say(f"{resource.name}: S3 (moto) seeded with {len(published)} asset objects")
        for uri, source in (objects or {}).items():
            src = Path(source)
            if not src.is_file():
                raise ExecutorError(f"object {uri}: {str(src)!r} is not a file")
            bucket, _ = parse_s3_uri(uri, field="objects")
            s3.create_bucket(bucket)
            s3.upload_file(src, uri, step="(set-up)", field="objects")
            say(f"put {src} at {uri}")
        if data is not None or curated is not None:
            if DATA_PARAMETER not in values:
                raise ExecutorError(
                    f"the pipeline has no {DATA_PARAMETER} parameter to seed the data under"
                )
            say(
                seed_curated_data(
                    s3,
                    str(values[DATA_PARAMETER]),
                    data=Path(data) if data is not None else None,
                    curated=Path(curated) if curated is not None else None,
                    schema=schema,
                    scratch=Path(tmp),
                )
            )
        property_files: dict[tuple[str, str], tuple[Any, str]] = {}

        def load_property_file(source: str, name: str) -> tuple[Any, str]:
            key = (source, name)
            if key not in property_files:
                spec = next(
                    p
                    for p in steps[source].raw.get("PropertyFiles") or []
                    if p.get("PropertyFileName") == name
                )
                output = navigate(
                    ctx.properties[source],
                    ["ProcessingOutputConfig", "Outputs", spec["OutputName"]],
                )
                uri = f"{str(output['S3Output']['S3Uri']).rstrip('/')}/{spec['FilePath']}"
                raw = s3.read(uri, step=source, field=f"PropertyFiles ({name})")
                try:
                    property_files[key] = (json.loads(raw), spec["FilePath"])
                except json.JSONDecodeError as exc:
                    raise ExecutorError(
                        f"property file {name} ({uri}) is not JSON ({exc})",
                        step=source,
                        field="PropertyFiles",
                    ) from None
            return property_files[key]

        ctx.property_file = load_property_file
        taken: dict[str, bool] = {}
        try:
            for name in _order(steps):
                step, run = steps[name], runs[name]
                if step.branch_of and taken.get(step.branch_of[0]) != step.branch_of[1]:
                    run.status, run.detail = (
                        "NotExecuted",
                        f"branch of {step.branch_of[0]} not taken",
                    )
                    continue
                if any(runs[d].status == "NotExecuted" for d in step.deps):
                    run.status, run.detail = "NotExecuted", "an upstream step did not run"
                    continue
                run.status = "Executing"
                say(f"{name} ({step.type}) ...")
                t0 = time.perf_counter()
                try:
                    package = _run_step(
                        step, run, ctx, s3, settings, execution_id, taken, work, say
                    )
                except BaseException:
                    run.status, run.seconds = "Failed", time.perf_counter() - t0
                    raise
                run.status, run.seconds = "Succeeded", time.perf_counter() - t0
                if package is not None:
                    result.model_package = package
                say(f"{name} ok in {run.seconds:.1f}s  {run.detail}")
            result.status = "Succeeded"
        except PipelineFailed as exc:
            runs[exc.step].detail = exc.error_message
            result.status, result.failure_reason, result.failed_step = (
                "Failed",
                exc.error_message,
                exc.step,
            )
            result.reached_fail_step = True
        except StepFailed as exc:
            runs[exc.step or ""].detail = "job failed"
            result.status, result.failure_reason, result.failed_step = "Failed", str(exc), exc.step
        evaluation = _evaluation_of(steps, ctx, s3)
        result.evaluation = evaluation
    result.seconds = time.perf_counter() - started
    (work / SUMMARY_FILE).write_text(result.to_json(), encoding="utf-8")
    return result


def _run_step(
    step: _Step,
    run: StepRun,
    ctx: Context,
    s3: LocalS3,
    settings: JobSettings,
    execution_id: str,
    taken: dict[str, bool],
    work: Path,
    say: Callable[[str], None] | None = None,
) -> dict[str, Any] | None:
    """Run one step; returns the registered package for a RegisterModel step."""
    name = step.name
    if step.type == "Condition":
        conditions = (step.raw.get("Arguments") or {}).get("Conditions") or []
        outcome = all(
            evaluate_condition(c, ctx, step=name, where=f"Arguments.Conditions[{i}]")
            for i, c in enumerate(conditions)
        )
        taken[name] = outcome
        ctx.properties[name] = {"Outcome": outcome}
        run.detail = f"outcome {str(outcome).lower()}"
        return None
    if step.type == "Fail":
        message = ctx.evaluate(
            (step.raw.get("Arguments") or {}).get("ErrorMessage", ""),
            step=name,
            where="Arguments.ErrorMessage",
        )
        ctx.properties[name] = {}
        raise PipelineFailed(name, str(message))
    args = ctx.evaluate(step.raw.get("Arguments") or {}, step=name, where="Arguments")
    if step.type == "Processing":
        run.inputs = _lineage(
            {
                str(i.get("InputName")): (i.get("S3Input") or {}).get("S3Uri")
                for i in args.get("ProcessingInputs") or []
            },
            ctx,
        )
        job = run_processing(name, args, s3=s3, settings=settings, execution_id=execution_id)
        ctx.properties[name] = job.describe
        run.detail = f"job folder {job.job_dir}"
        return None
    elif step.type == "Training":
        run.inputs = _lineage(_channels(args), ctx)
        job = run_training(name, args, s3=s3, settings=settings, execution_id=execution_id)
        ctx.properties[name] = job.describe
        run.detail = job.describe["ModelArtifacts"]["S3ModelArtifacts"]
        return None
    elif step.type == "Tuning":
        run.inputs = _lineage(_channels(args.get("TrainingJobDefinition") or {}), ctx)
        job = run_tuning(name, args, s3=s3, settings=settings, execution_id=execution_id, say=say)
        ctx.properties[name] = job.describe
        best = job.describe["BestTrainingJob"]
        run.detail = (
            f"best of {len(job.describe['TrainingJobSummaries'])}: {best['TrainingJobName']} "
            f"{best['FinalHyperParameterTuningJobObjectiveMetric']['MetricName']}="
            f"{best['FinalHyperParameterTuningJobObjectiveMetric']['Value']:.4f}"
        )
        return None
    # RegisterModel
    package = register_model(name, args, s3=s3, registry_root=work / REGISTRY_DIR)
    ctx.properties[name] = {"ModelPackageArn": package["ModelPackageArn"]}
    run.detail = f"{package['ModelPackageGroupName']} version {package['ModelPackageVersion']}"
    return package


def _channels(request: Mapping[str, Any]) -> dict[str, Any]:
    """Channel name -> S3 URI of a training job request (or a tuning job's definition)."""
    return {
        str(c.get("ChannelName")): ((c.get("DataSource") or {}).get("S3DataSource") or {}).get(
            "S3Uri"
        )
        for c in request.get("InputDataConfig") or []
    }


def _lineage(inputs: Mapping[str, Any], ctx: Context) -> dict[str, str]:
    """Which output of this execution each input reads (by S3 location)."""
    produced: list[tuple[str, str]] = []
    for step, describe in ctx.properties.items():
        for output in (describe.get("ProcessingOutputConfig") or {}).get("Outputs") or []:
            uri = (output.get("S3Output") or {}).get("S3Uri")
            if isinstance(uri, str):
                produced.append((uri.rstrip("/"), f"{step}.{output.get('OutputName')}"))
        model = (describe.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
        if isinstance(model, str):
            produced.append((model, f"{step}.ModelArtifacts"))
        for i, summary in enumerate(describe.get("TrainingJobSummaries") or []):
            # the tuning step's best model (summaries are best first), or another of its jobs
            label = "BestTrainingJob" if i == 0 else summary["TrainingJobName"]
            produced.append((tuning_model_uri(describe, summary), f"{step}.{label}"))
    out: dict[str, str] = {}
    for name, uri in inputs.items():
        text = str(uri)
        out[name] = next(
            (
                label
                for prefix, label in produced
                if text == prefix or text.startswith(prefix + "/")
            ),
            text,
        )
    return out


def register_model(
    step: str, args: Mapping[str, Any], *, s3: LocalS3, registry_root: Path
) -> dict[str, Any]:
    """A ``CreateModelPackage`` request into the local registry: the model and the metrics the
    definition points at must exist; the package records the image, the model data URL and
    the metric URIs it gave, and ``request.json`` keeps the whole resolved request."""
    from pipeline_code.registry.local import LocalModelRegistry

    group = args.get("ModelPackageGroupName")
    if not isinstance(group, str) or not group:
        raise ExecutorError("required", step=step, field="Arguments.ModelPackageGroupName")
    containers = (args.get("InferenceSpecification") or {}).get("Containers") or []
    if len(containers) != 1:
        raise ExecutorError(
            f"{len(containers)} containers: the local registry holds one model per package",
            step=step,
            field="Arguments.InferenceSpecification.Containers",
        )
    container = containers[0]
    base = "Arguments.InferenceSpecification.Containers[0]"
    image = container.get("Image")
    if not isinstance(image, str) or not image:
        raise ExecutorError("required", step=step, field=f"{base}.Image")
    model_url = container.get("ModelDataUrl")
    metrics_uri = (
        ((args.get("ModelMetrics") or {}).get("ModelQuality") or {}).get("Statistics") or {}
    ).get("S3Uri")
    if not metrics_uri:
        raise ExecutorError(
            "the local registry records the evaluation: give the model quality statistics",
            step=step,
            field="Arguments.ModelMetrics.ModelQuality.Statistics.S3Uri",
        )
    with tempfile.TemporaryDirectory(prefix="cdk-mlops-register-") as tmp:
        folder = Path(tmp)
        tarball = folder / "model.tar.gz"
        tarball.write_bytes(s3.read(str(model_url), step=step, field=f"{base}.ModelDataUrl"))
        evaluation = folder / "evaluation.json"
        evaluation.write_bytes(
            s3.read(
                str(metrics_uri),
                step=step,
                field="Arguments.ModelMetrics.ModelQuality.Statistics.S3Uri",
            )
        )
        # Every other metrics or baseline file the package points at must exist too.
        baseline: dict[str, Path] = {}
        for section in ("ModelMetrics", "DriftCheckBaselines"):
            for kind, group_ in (args.get(section) or {}).items():
                for part, source in (group_ or {}).items():
                    if not isinstance(source, dict) or "S3Uri" not in source:
                        continue
                    field = f"Arguments.{section}.{kind}.{part}.S3Uri"
                    content = s3.read(str(source["S3Uri"]), step=step, field=field)
                    if source.get("ContentType") == "application/json":
                        try:
                            json.loads(content)
                        except json.JSONDecodeError:
                            raise ExecutorError(
                                f"{source['S3Uri']} is not JSON", step=step, field=field
                            ) from None
                    if section == "DriftCheckBaselines" and kind == "ModelDataQuality":
                        target = folder / "baseline" / f"{part.lower()}.json"
                        target.parent.mkdir(exist_ok=True)
                        target.write_bytes(content)
                        baseline[part] = target
        metadata = {
            **{k: str(v) for k, v in (args.get("CustomerMetadataProperties") or {}).items()},
            "image": image,
            "model_data_url": str(model_url),
            "model_quality_statistics": str(metrics_uri),
        }
        commit = (args.get("MetadataProperties") or {}).get("CommitId")
        if commit:
            metadata["commit_id"] = str(commit)
        registry = LocalModelRegistry(registry_root)
        try:
            package = registry.register(
                group,
                tarball,
                evaluation=evaluation,
                approval_status=str(args.get("ModelApprovalStatus", "PendingManualApproval")),
                description=str(args.get("ModelPackageDescription", "")),
                metadata=metadata,
            )
        except ValueError as exc:
            raise ExecutorError(str(exc), step=step, field="Arguments") from None
        if {"Statistics", "Constraints"} <= set(baseline):
            package = registry.attach_baseline(group, package.version, folder / "baseline")
    (package.path / "request.json").write_text(
        json.dumps(args, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return {**package.description, "path": str(package.path)}


def _evaluation_of(steps: Mapping[str, _Step], ctx: Context, s3: LocalS3) -> dict[str, Any] | None:
    """The first property file named like an evaluation report that a finished step wrote."""
    for step in steps.values():
        if step.name not in ctx.properties or step.type != "Processing":
            continue
        for pf in step.raw.get("PropertyFiles") or []:
            if str(pf.get("FilePath", "")).endswith("evaluation.json") and ctx.property_file:
                try:
                    document, _ = ctx.property_file(step.name, pf["PropertyFileName"])
                except ExecutorError:
                    return None
                return document if isinstance(document, dict) else None
    return None
