"""The training pipeline's contract with the code it runs: step and parameter names, the
container paths, the bootstrap entry point and each step's ``pipeline_code`` module and
arguments (:data:`DEFAULT_COMMANDS`). :mod:`cdk_mlops.pipelines.training` builds the pipeline on
it and re-exports every name, so both import paths work."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdk_mlops.pipelines.errors import PipelineDefinitionError

# Step names (stable: they appear in execution history and in IAM/EventBridge filters).
DATA_VERSION = "DataVersion"
PREPROCESS = "Preprocess"
TRAIN = "Train"
EVALUATE = "Evaluate"
BASELINE = "Baseline"
CHECK_QUALITY = "CheckQuality"
REGISTER = "Register"
QUALITY_GATE_FAILED = "QualityGateFailed"

# Parameter names.
INPUT_DATA_URI = "InputDataUri"
PROCESSING_INSTANCE_TYPE = "ProcessingInstanceType"
TRAINING_INSTANCE_TYPE = "TrainingInstanceType"
METRIC_THRESHOLD = "MetricThreshold"
MODEL_APPROVAL_STATUS = "ModelApprovalStatus"
#: S3 URI of the production model's ``model.tar.gz`` (drift retraining passes it); the default
#: is a marker object that means "no champion".
CHAMPION_MODEL_URI = "ChampionModelUri"
#: Where Evaluate finds the champion, and what the gate reads in ``evaluation.json``.
CHAMPION_LOCAL_PATH = "/opt/ml/processing/input/champion"
CHAMPION_PASSED = "champion_challenger.passed"

EVALUATION_REPORT = "EvaluationReport"
EVALUATION_FILE = "evaluation.json"
DATA_VERSION_REPORT = "DataVersionReport"
DATA_VERSION_FILE = "data_version.json"
#: Environment variable of every cached step (part of its cache key) and of the training job.
DATA_VERSION_ENV = "DATA_VERSION"

#: Where the registered model's serving code is: ``code/`` of ``model.tar.gz``, which the
#: training job writes (as the SageMaker SDK's repack does for framework models), so a model
#: package needs no object outside the artifacts zone.
MODEL_CODE_DIR = "/opt/ml/model/code"
#: Environment of the registered model's container for the SageMaker scikit-learn image.
SKLEARN_SERVING_ENVIRONMENT: Mapping[str, str] = {
    "SAGEMAKER_PROGRAM": "inference.py",
    "SAGEMAKER_SUBMIT_DIRECTORY": MODEL_CODE_DIR,
    "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
}

PROCESSING_CODE_DIR = "/opt/ml/processing/input/code"
TRAINING_CODE_DIR = "/opt/ml/input/data/code"

# Runs `python3 -m <module> <args>` with the code input on sys.path; unpacks .zip/.tar.gz
# bundles (CDK directory assets are zips) to a temporary folder first. Kept under SageMaker's
# limit of 256 characters per entrypoint entry.
BOOTSTRAP = (
    "import glob,runpy,shutil,sys,tempfile;d,m=sys.argv[1:3];t=tempfile.mkdtemp();"
    "[shutil.unpack_archive(a,t) for a in glob.glob(d+'/*.zip')+glob.glob(d+'/*.tar.gz')];"
    "sys.path[:0]=[t,d];sys.argv=[m,*sys.argv[3:]];runpy.run_module(m,run_name='__main__')"
)


def module_entrypoint(code_dir: str, module: str) -> list[str]:
    """The container entrypoint running ``module`` from the code in ``code_dir``."""
    return ["python3", "-c", BOOTSTRAP, code_dir, module]


@dataclass(frozen=True, kw_only=True)
class StepCommand:
    """The ``pipeline_code`` module a step runs and its command-line arguments."""

    module: str
    arguments: Sequence[str] = ()

    def __post_init__(self) -> None:
        if not self.module or not all(part.isidentifier() for part in self.module.split(".")):
            raise PipelineDefinitionError(
                f"StepCommand.module {self.module!r} must be a dotted Python module name"
            )
        object.__setattr__(self, "arguments", tuple(self.arguments))


P = "/opt/ml/processing"

# The pipeline_code entry points and their arguments; {schema} is replaced by the `schema`
# setting. Local paths match the step inputs/outputs below.
DEFAULT_COMMANDS: Mapping[str, StepCommand] = {
    DATA_VERSION: StepCommand(
        module="pipeline_code.processing.data_version",
        arguments=(
            "--input", f"{P}/input/data",
            "--schema", "{schema}",
            "--output-dir", f"{P}/output/version",
        ),
    ),
    # Also reads DATA_VERSION (set below) and fails when the data changed since DataVersion.
    PREPROCESS: StepCommand(
        module="pipeline_code.processing.preprocess",
        arguments=(
            "--input", f"{P}/input/data",
            "--schema", "{schema}",
            "--output-dir", f"{P}/output",
        ),
    ),
    # Reads SM_CHANNEL_* / SM_MODEL_DIR / DATA_VERSION (set below) and hyperparameters.json;
    # writes the serving code to SM_MODEL_DIR/code.
    TRAIN: StepCommand(module="pipeline_code.training.train"),
    EVALUATE: StepCommand(
        module="pipeline_code.evaluation.evaluate",
        arguments=(
            # The folder holding the training step's model.tar.gz.
            "--model", f"{P}/input/model",
            "--test", f"{P}/input/test",
            "--output-dir", f"{P}/output/evaluation",
        ),
    ),
    BASELINE: StepCommand(
        module="pipeline_code.monitoring.baseline",
        arguments=(
            "--input", f"{P}/input/baseline",
            # Preprocess writes the schema next to each split.
            "--schema", f"{P}/input/baseline/schema.json",
            "--output-dir", f"{P}/output/baseline",
        ),
    ),
}  # fmt: skip
