"""The monitoring job's container contract: entry point, flags and SageMaker Processing paths.

Pure data (no pandas, no numpy, no aws_cdk) so that the CDK construct that schedules the job
can import it at synth time. :mod:`pipeline_code.monitoring.job` reads its defaults from here.

One run of the job (``--mode all``, the default) reads the capture of one window, computes every
monitor and writes ``<output>/<monitor>/statistics.json`` and ``constraint_violations.json`` plus
the metric lines on stdout. Scaled out, the same container runs twice:

1. ``--mode partial`` on N instances: the capture input uses ``ShardedByS3Key`` so each instance
   downloads a subset of the files; each writes one mergeable partial state to
   ``<output>/partials/<host>.json`` (``--shard auto`` reads the host from
   ``/opt/ml/config/resourceconfig.json``; file names differ per host, so the instances can
   share one S3 output prefix).
2. ``--mode merge`` on one instance, with the partials folder as input: merges them and writes
   the same outputs and metric lines as ``--mode all`` would.
"""

from __future__ import annotations

#: ``python3 -m`` this module.
MODULE = "pipeline_code.monitoring.job"
#: ContainerEntrypoint of the processing job (the code is on PYTHONPATH / the working directory).
ENTRYPOINT: tuple[str, ...] = ("python3", "-m", MODULE)

MONITOR_DATA_QUALITY = "data-quality"
MONITOR_PREDICTION_DRIFT = "prediction-drift"
MONITOR_MODEL_QUALITY = "model-quality"
MONITOR_BIAS_DRIFT = "bias-drift"
#: Every monitor, in output order; ``--monitors`` takes a comma-separated subset.
MONITORS: tuple[str, ...] = (
    MONITOR_DATA_QUALITY,
    MONITOR_PREDICTION_DRIFT,
    MONITOR_MODEL_QUALITY,
    MONITOR_BIAS_DRIFT,
)

MODE_ALL = "all"
MODE_PARTIAL = "partial"
MODE_MERGE = "merge"
MODES: tuple[str, ...] = (MODE_ALL, MODE_PARTIAL, MODE_MERGE)

PROCESSING_ROOT = "/opt/ml/processing"
#: ProcessingInput "endpoint": the window's capture files (S3DataDistributionType ShardedByS3Key
#: when the job runs on several instances; FullyReplicated otherwise). Same path as Model Monitor.
CAPTURE_LOCAL_PATH = "/opt/ml/processing/input/endpoint"
#: ProcessingInput "baseline": statistics.json, constraints.json, schema.json and (optional)
#: prediction_statistics.json / prediction_constraints.json (FullyReplicated).
BASELINE_LOCAL_PATH = "/opt/ml/processing/baseline"
#: ProcessingInput "groundtruth": ground-truth JSON Lines (FullyReplicated; optional input, the
#: model-quality and bias-drift monitors report "no ground truth" when it is empty or absent).
GROUND_TRUTH_LOCAL_PATH = "/opt/ml/processing/groundtruth"
#: ProcessingInput "partials" of the merge job (the partial job's output prefix + "/partials").
PARTIALS_LOCAL_PATH = "/opt/ml/processing/input/partials"
#: ProcessingInput "code": where the construct puts pipeline_code (the job's working directory).
CODE_LOCAL_PATH = "/opt/ml/processing/input/code"
#: Environment of the processing job: ``python3 -m`` finds pipeline_code in the code input.
ENVIRONMENT: dict[str, str] = {"PYTHONPATH": "/opt/ml/processing/input/code"}
#: ProcessingOutput "monitoring": <monitor>/statistics.json, <monitor>/constraint_violations.json.
OUTPUT_LOCAL_PATH = "/opt/ml/processing/output"
#: Sub-folder of the output holding the partial states in ``--mode partial``.
PARTIALS_SUBDIR = "partials"
#: SageMaker writes the cluster description here on every processing instance.
RESOURCE_CONFIG_PATH = "/opt/ml/config/resourceconfig.json"

INPUT_CAPTURE = "endpoint"
INPUT_BASELINE = "baseline"
INPUT_GROUND_TRUTH = "groundtruth"
INPUT_PARTIALS = "partials"
INPUT_CODE = "code"
OUTPUT_NAME = "monitoring"

#: ProcessingInput name -> LocalPath.
INPUT_LOCAL_PATHS: dict[str, str] = {
    INPUT_CAPTURE: CAPTURE_LOCAL_PATH,
    INPUT_BASELINE: BASELINE_LOCAL_PATH,
    INPUT_GROUND_TRUTH: GROUND_TRUTH_LOCAL_PATH,
    INPUT_PARTIALS: PARTIALS_LOCAL_PATH,
    INPUT_CODE: CODE_LOCAL_PATH,
}
#: ProcessingOutput name -> LocalPath.
OUTPUT_LOCAL_PATHS: dict[str, str] = {OUTPUT_NAME: OUTPUT_LOCAL_PATH}
#: Inputs whose S3 data is split across instances when the job scales out.
SHARDED_INPUTS: tuple[str, ...] = (INPUT_CAPTURE,)

# Flags (all optional; paths default to the LocalPaths above).
FLAG_CAPTURE_DIR = "--capture-dir"
FLAG_BASELINE_DIR = "--baseline-dir"
FLAG_GROUND_TRUTH_DIR = "--ground-truth-dir"
FLAG_PARTIALS_DIR = "--partials-dir"
FLAG_OUTPUT_DIR = "--output-dir"
#: schema JSON; default <baseline-dir>/schema.json
FLAG_SCHEMA = "--schema"
#: comma-separated subset of MONITORS; default all four
FLAG_MONITORS = "--monitors"
FLAG_ENDPOINT_NAME = "--endpoint-name"
FLAG_SCHEDULE_NAME = "--schedule-name"
#: ISO 8601 UTC instants (e.g. 2026-01-01T10:00:00Z); capture events whose
#: eventMetadata.inferenceTime is outside [start, end) are skipped and counted. Default: no filter
#: (the S3 input prefix already selects the window).
FLAG_WINDOW_START = "--window-start"
FLAG_WINDOW_END = "--window-end"
#: "i/n": read only every n-th capture file starting at i (0-based; local scale-out and tests);
#: "auto": on SageMaker, where ShardedByS3Key already gave this instance its files: read them all
#: and name the partial after the host (algo-(i+1) of n, from resourceconfig.json).
#: Default: no sharding.
FLAG_SHARD = "--shard"
#: all | partial | merge (see the module docstring)
FLAG_MODE = "--mode"
#: data-quality drift threshold (minimum L-infinity distance); default 0.1
FLAG_THRESHOLD = "--threshold"
#: decision threshold on the positive-class score for the predicted label; default 0.5
FLAG_DECISION_THRESHOLD = "--decision-threshold"

#: Environment variables Model Monitor passes to bring-your-own containers; the job reads them
#: as defaults so the same image works under a MonitoringSchedule (backend=MANAGED).
ENV_DATASET_SOURCE = "dataset_source"
ENV_OUTPUT_PATH = "output_path"
ENV_ENDPOINT_NAME = "endpoint_name"
ENV_SCHEDULE_NAME = "monitoring_schedule_name"


def container_arguments(
    *,
    endpoint_name: str,
    schedule_name: str,
    monitors: tuple[str, ...] = MONITORS,
    mode: str = MODE_ALL,
    shard: str | None = None,
) -> list[str]:
    """The ContainerArguments for one job; paths stay at their LocalPath defaults."""
    unknown = [m for m in monitors if m not in MONITORS]
    if unknown or not monitors:
        raise ValueError(f"monitors {list(monitors)!r} must be a non-empty subset of {MONITORS}")
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} must be one of {MODES}")
    args = [
        FLAG_ENDPOINT_NAME,
        endpoint_name,
        FLAG_SCHEDULE_NAME,
        schedule_name,
        FLAG_MONITORS,
        ",".join(monitors),
        FLAG_MODE,
        mode,
    ]
    if mode == MODE_MERGE:
        args += [FLAG_PARTIALS_DIR, PARTIALS_LOCAL_PATH]
    if shard is not None:
        args += [FLAG_SHARD, shard]
    elif mode == MODE_PARTIAL:
        args += [FLAG_SHARD, "auto"]
    return args
