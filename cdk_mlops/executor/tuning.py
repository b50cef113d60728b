"""A hyperparameter tuning job (``CreateHyperParameterTuningJob``) as local training jobs.

Each of the ``MaxNumberOfTrainingJobs`` training jobs is the ``TrainingJobDefinition`` with
``StaticHyperParameters`` plus values drawn from ``ParameterRanges``, run one after the other
by :func:`~cdk_mlops.executor.jobs.run_training` in ``<work>/jobs/<step>/<NNN>``. Its objective
is the last value the objective metric's regex finds in its log. The describe response is what
the pipeline reads from a tuning step: ``BestTrainingJob`` and ``TrainingJobSummaries`` (best
first), so ``Steps.<step>.TrainingJobSummaries[0].TrainingJobName`` names the best job and its
``model.tar.gz`` is at ``<S3OutputPath>/<that name>/output/model.tar.gz``.

What differs from SageMaker, on purpose:
- ``Bayesian`` and ``Random`` both draw at random here (seeded by ``RandomSeed``, else 0, so a
  run is reproducible); SageMaker's Bayesian search picks later values from earlier results.
  ``Grid`` runs every combination of the categorical values; ``Hyperband`` draws at random and
  runs every job to the end. ``Auto`` scaling is linear.
- Jobs run one at a time (``MaxParallelTrainingJobs`` is ignored) and early stopping never
  stops one.
- A job that fails or prints no objective is kept as failed, as SageMaker does; the step fails
  only when no job has an objective value.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cdk_mlops.executor.errors import ExecutorError, StepFailed
from cdk_mlops.executor.jobs import JobResult, JobSettings, run_training
from cdk_mlops.executor.s3 import LocalS3

#: Members of a training job definition that are not members of a training job request.
_TUNING_ONLY = frozenset(
    {
        "DefinitionName",
        "TuningObjective",
        "HyperParameterRanges",
        "StaticHyperParameters",
        "HyperParameterTuningResourceConfig",  # a training job's ResourceConfig, below
    }
)
#: Grid searches beyond this many combinations are refused (they would run for hours here).
MAX_LOCAL_JOBS = 100


def _float(value: Any, step: str, field: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ExecutorError(f"{value!r} is not a number", step=step, field=field) from None
    if not math.isfinite(number):
        raise ExecutorError(f"{value!r} is not a finite number", step=step, field=field)
    return number


def _draw(spec: Mapping[str, Any], rng: random.Random, integer: bool, step: str, field: str) -> str:
    low = _float(spec.get("MinValue"), step, f"{field}.MinValue")
    high = _float(spec.get("MaxValue"), step, f"{field}.MaxValue")
    if not low <= high:
        raise ExecutorError(
            f"MinValue {low:g} is above MaxValue {high:g}", step=step, field=f"{field}.MinValue"
        )
    scaling = spec.get("ScalingType", "Auto")
    if scaling == "Logarithmic":
        if low <= 0:
            raise ExecutorError(
                "Logarithmic scaling needs MinValue > 0", step=step, field=f"{field}.ScalingType"
            )
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
    elif scaling == "ReverseLogarithmic":
        if not 0 <= low < high < 1:
            raise ExecutorError(
                "ReverseLogarithmic scaling needs 0 <= MinValue < MaxValue < 1",
                step=step,
                field=f"{field}.ScalingType",
            )
        value = 1 - math.exp(rng.uniform(math.log(1 - high), math.log(1 - low)))
    elif scaling in ("Auto", "Linear"):
        value = rng.uniform(low, high)
    else:
        raise ExecutorError(
            f"ScalingType {scaling!r} is not Auto, Linear, Logarithmic or ReverseLogarithmic",
            step=step,
            field=f"{field}.ScalingType",
        )
    if integer:
        return str(min(int(high), max(int(low), round(value))))
    return repr(min(high, max(low, value)))


def candidates(config: Mapping[str, Any], *, step: str) -> list[dict[str, str]]:
    """The hyperparameters of each training job the tuning job runs here."""
    ranges = config.get("ParameterRanges") or {}
    strategy = config.get("Strategy")
    if strategy not in ("Bayesian", "Random", "Hyperband", "Grid"):
        raise ExecutorError(
            f"Strategy {strategy!r} is not Bayesian, Random, Hyperband or Grid",
            step=step,
            field="Arguments.HyperParameterTuningJobConfig.Strategy",
        )
    where = "Arguments.HyperParameterTuningJobConfig.ParameterRanges"
    categorical = [
        (str(r["Name"]), [str(v) for v in r.get("Values") or []])
        for r in ranges.get("CategoricalParameterRanges") or []
    ]
    numeric = [
        (r, kind == "IntegerParameterRanges", f"{where}.{kind}[{i}]")
        for kind in ("IntegerParameterRanges", "ContinuousParameterRanges")
        for i, r in enumerate(ranges.get(kind) or [])
    ]
    if not categorical and not numeric:
        raise ExecutorError("no parameter ranges to search", step=step, field=where)
    if strategy == "Grid":
        if numeric:
            raise ExecutorError(
                "the Grid strategy searches categorical ranges only", step=step, field=where
            )
        combos = list(itertools.product(*(values for _, values in categorical)))
        if len(combos) > MAX_LOCAL_JOBS:
            raise ExecutorError(
                f"the grid has {len(combos)} combinations; the executor runs at most "
                f"{MAX_LOCAL_JOBS}",
                step=step,
                field=where,
            )
        return [dict(zip([n for n, _ in categorical], combo, strict=True)) for combo in combos]
    limits = config.get("ResourceLimits") or {}
    count = limits.get("MaxNumberOfTrainingJobs")
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_LOCAL_JOBS:
        raise ExecutorError(
            f"MaxNumberOfTrainingJobs {count!r}: the executor runs 1 to {MAX_LOCAL_JOBS} jobs",
            step=step,
            field="Arguments.HyperParameterTuningJobConfig.ResourceLimits.MaxNumberOfTrainingJobs",
        )
    seed = config.get("RandomSeed")
    rng = random.Random(seed if isinstance(seed, int) else 0)
    out: list[dict[str, str]] = []
    for _ in range(count):
        hps = {name: rng.choice(values) for name, values in categorical}
        for spec, integer, field in numeric:
            hps[str(spec.get("Name"))] = _draw(spec, rng, integer, step, field)
        out.append(hps)
    return out


def _objective(
    config: Mapping[str, Any], definition: Mapping[str, Any], step: str
) -> tuple[str, bool]:
    objective = config.get("HyperParameterTuningJobObjective") or {}
    metric, kind = objective.get("MetricName"), objective.get("Type")
    field = "Arguments.HyperParameterTuningJobConfig.HyperParameterTuningJobObjective"
    if kind not in ("Maximize", "Minimize"):
        raise ExecutorError(f"Type {kind!r} is not Maximize or Minimize", step=step, field=field)
    defined = [
        m.get("Name")
        for m in (definition.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []
    ]
    if metric not in defined:
        raise ExecutorError(
            f"MetricName {metric!r} has no metric definition (definitions: {defined}); "
            "SageMaker could not read it from the training log",
            step=step,
            field=f"{field}.MetricName",
        )
    return str(metric), kind == "Maximize"


def run_tuning(
    step: str,
    args: Mapping[str, Any],
    *,
    s3: LocalS3,
    settings: JobSettings,
    execution_id: str,
    say: Callable[[str], None] | None = None,
) -> JobResult:
    """Run one ``CreateHyperParameterTuningJob`` request (expressions already evaluated)."""
    started = time.perf_counter()
    config = args.get("HyperParameterTuningJobConfig") or {}
    definition = args.get("TrainingJobDefinition")
    if not isinstance(definition, dict):
        raise ExecutorError(
            "only TrainingJobDefinition is supported (not TrainingJobDefinitions)",
            step=step,
            field="Arguments.TrainingJobDefinition",
        )
    metric, maximize = _objective(config, definition, step)
    jobs = candidates(config, step=step)
    name = f"{execution_id}-{step}"[:32].rstrip("-")
    static = dict(definition.get("StaticHyperParameters") or {})
    request = {k: v for k, v in definition.items() if k not in _TUNING_ONLY}
    tuning_resources = definition.get("HyperParameterTuningResourceConfig")
    if isinstance(tuning_resources, dict):
        if tuning_resources.get("InstanceConfigs"):
            raise ExecutorError(
                "InstanceConfigs (instance fallbacks) are not supported; give InstanceType",
                step=step,
                field="Arguments.TrainingJobDefinition.HyperParameterTuningResourceConfig",
            )
        request["ResourceConfig"] = {
            k: v for k, v in tuning_resources.items() if k != "AllocationStrategy"
        }
    folder = Path(settings.work_dir) / "jobs" / step
    if folder.exists():
        shutil.rmtree(folder)  # no job folders of an earlier, larger search
    summaries: list[dict[str, Any]] = []
    for i, tuned in enumerate(jobs, start=1):
        suffix = hashlib.sha256(f"{name}-{i}".encode()).hexdigest()[:8]
        job_name = f"{name}-{i:03d}-{suffix}"
        summary: dict[str, Any] = {
            "TrainingJobName": job_name,
            "TrainingJobArn": (
                f"arn:aws:sagemaker:{settings.region}:{settings.account}:training-job/{job_name}"
            ),
            "TunedHyperParameters": tuned,
        }
        try:
            result = run_training(
                step,
                {**request, "HyperParameters": {**static, **tuned}},
                s3=s3,
                settings=settings,
                execution_id=execution_id,
                job_name=job_name,
                job_folder=f"{step}/{i:03d}",
            )
        except StepFailed as exc:
            summary.update(
                TrainingJobStatus="Failed", ObjectiveStatus="Failed", FailureReason=str(exc)
            )
        else:
            values = {m["MetricName"]: m["Value"] for m in result.describe["FinalMetricDataList"]}
            summary["TrainingJobStatus"] = "Completed"
            if metric in values:
                summary["ObjectiveStatus"] = "Succeeded"
                summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
                    "MetricName": metric,
                    "Value": values[metric],
                }
            else:
                summary["ObjectiveStatus"] = "Failed"
                summary["FailureReason"] = f"the log {result.log} has no {metric} value"
        summaries.append(summary)
        if say is not None:
            value = (summary.get("FinalHyperParameterTuningJobObjectiveMetric") or {}).get("Value")
            shown = f"{metric}={value:.4f}" if value is not None else summary["ObjectiveStatus"]
            say(f"  {step} job {i}/{len(jobs)}: {shown}  {tuned}")
    scored = [s for s in summaries if s["ObjectiveStatus"] == "Succeeded"]
    if not scored:
        reasons = "; ".join(str(s.get("FailureReason", ""))[:300] for s in summaries[:3])
        raise StepFailed(
            f"none of the {len(summaries)} training jobs reported {metric}: {reasons}",
            step=step,
            field="Arguments.TrainingJobDefinition",
        )

    def score(summary: Mapping[str, Any]) -> float:
        value = float(summary["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])
        return -value if maximize else value

    # Best first, as ListTrainingJobsForHyperParameterTuningJob(SortBy=FinalObjectiveMetricValue)
    # lists them; jobs without an objective come last.
    ranked = sorted(scored, key=score) + [s for s in summaries if s not in scored]
    arn = (
        f"arn:aws:sagemaker:{settings.region}:{settings.account}:hyper-parameter-tuning-job/{name}"
    )
    describe = {
        **args,
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobArn": arn,
        "HyperParameterTuningJobStatus": "Completed",
        "BestTrainingJob": ranked[0],
        "TrainingJobSummaries": ranked,
        "TrainingJobStatusCounters": {
            "Completed": sum(s["TrainingJobStatus"] == "Completed" for s in summaries),
            "Failed": sum(s["TrainingJobStatus"] == "Failed" for s in summaries),
        },
        "ObjectiveStatusCounters": {
            "Succeeded": len(scored),
            "Failed": len(summaries) - len(scored),
        },
    }
    return JobResult(describe, folder, time.perf_counter() - started, folder / "001" / "job.log")


def model_uri(describe: Mapping[str, Any], summary: Mapping[str, Any]) -> str:
    """Where a tuning job's training job (a summary) put its ``model.tar.gz``."""
    output = str(
        ((describe.get("TrainingJobDefinition") or {}).get("OutputDataConfig") or {}).get(
            "S3OutputPath", ""
        )
    ).rstrip("/")
    return f"{output}/{summary['TrainingJobName']}/output/model.tar.gz"


__all__: Sequence[str] = ("candidates", "model_uri", "run_tuning")
