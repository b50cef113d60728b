"""The level-2 training pipeline: preprocess -> train -> evaluate -> baseline -> gate -> register.

``build_training_pipeline`` returns a validated :class:`Pipeline`:

1. ``Preprocess`` (processing) splits the curated data into train/validation/test.
2. ``Train`` (training) fits the model on train/validation.
3. ``Evaluate`` (processing) scores the test split and writes ``evaluation.json`` (a property file).
4. ``Baseline`` (processing, in parallel with 2-3) writes Model Monitor ``statistics.json`` /
   ``constraints.json`` of the training data.
5. ``CheckQuality`` (condition, after the baseline) compares ``metric`` in ``evaluation.json``
   with the ``MetricThreshold`` parameter;
6. if it passes, ``Register`` records a model package with the evaluation metrics, the drift-check
   baselines and the code version; otherwise ``QualityGateFailed`` fails the execution.

Every job runs in the given VPC subnets with network isolation, inter-container traffic
encryption and the KMS key on volumes and outputs. Code reaches the containers as an input (an
S3 object or prefix: a ``.zip`` or ``.tar.gz`` is unpacked) and runs as ``python3 -m <module>``
through a short bootstrap, so the same asset serves every step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdk_mlops.pipelines.errors import PipelineDefinitionError
from cdk_mlops.pipelines.expressions import (
    ExecutionVariables,
    Join,
    ParameterFloat,
    ParameterString,
    PropertyFile,
    Value,
)
from cdk_mlops.pipelines.pipeline import Pipeline, PipelineExperimentConfig
from cdk_mlops.pipelines.steps import (
    CacheConfig,
    ConditionGreaterThanOrEqualTo,
    ConditionStep,
    DriftCheckBaselines,
    FailStep,
    MetadataProperties,
    MetricsSource,
    ModelContainer,
    ModelMetrics,
    NetworkConfig,
    ProcessingInput,
    ProcessingOutput,
    ProcessingStep,
    RegisterModelStep,
    SageMakerJobStepRetryPolicy,
    StepRetryPolicy,
    TrainingChannel,
    TrainingStep,
    VpcConfig,
)

# Step names (stable: they appear in execution history and in IAM/EventBridge filters).
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

EVALUATION_REPORT = "EvaluationReport"
EVALUATION_FILE = "evaluation.json"

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
    PREPROCESS: StepCommand(
        module="pipeline_code.processing.preprocess",
        arguments=(
            "--input", f"{P}/input/data",
            "--schema", "{schema}",
            "--output-dir", f"{P}/output",
        ),
    ),
    # Reads SM_CHANNEL_* / SM_MODEL_DIR (set below) and hyperparameters.json.
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


@dataclass(frozen=True, kw_only=True)
class TrainingPipelineSettings:
    """Everything ``build_training_pipeline`` needs (strings may be CDK tokens)."""

    role_arn: str
    image_uri: str
    code_uri: str
    bucket: str
    model_package_group_name: str
    code_version: str
    kms_key_id: str
    subnet_ids: Sequence[str]
    security_group_ids: Sequence[str]
    prefix: str = "training-pipeline"
    input_data_uri: str | None = None
    schema: str = "churn"
    processing_instance_type: str = "ml.m5.large"
    training_instance_type: str = "ml.m5.large"
    metric: str = "binary_classification_metrics.auc.value"
    threshold: float = 0.75
    hyperparameters: Mapping[str, str | int | float | bool] = field(default_factory=dict)
    approval_status: str = "PendingManualApproval"
    enable_network_isolation: bool = True
    inference_environment: Mapping[str, str] | None = None
    bias_report_file: str | None = None
    commands: Mapping[str, StepCommand] = field(default_factory=lambda: dict(DEFAULT_COMMANDS))
    cache_expire_after: str | None = None
    max_attempts_on_capacity_errors: int = 3


def build_training_pipeline(
    *,
    role_arn: str,
    image_uri: str,
    code_uri: str,
    bucket: str,
    model_package_group_name: str,
    code_version: str,
    kms_key_id: str,
    subnet_ids: Sequence[str],
    security_group_ids: Sequence[str],
    prefix: str = "training-pipeline",
    input_data_uri: str | None = None,
    schema: str = "churn",
    processing_instance_type: str = "ml.m5.large",
    training_instance_type: str = "ml.m5.large",
    metric: str = "binary_classification_metrics.auc.value",
    threshold: float = 0.75,
    hyperparameters: Mapping[str, str | int | float | bool] | None = None,
    approval_status: str = "PendingManualApproval",
    enable_network_isolation: bool = True,
    inference_environment: Mapping[str, str] | None = None,
    bias_report_file: str | None = None,
    commands: Mapping[str, StepCommand] | None = None,
    cache_expire_after: str | None = None,
    max_attempts_on_capacity_errors: int = 3,
) -> Pipeline:
    """Build the level-2 training pipeline (see the module docstring).

    Args:
        role_arn: execution role of every job (a CDK token is fine).
        image_uri: scikit-learn container image (e.g. from ``images.sklearn_image_uri``).
        code_uri: S3 URI of the ``pipeline_code`` bundle (the asset; zip or tar.gz or prefix).
        bucket: bucket for step outputs, written under ``s3://bucket/prefix/<execution id>/``.
        model_package_group_name: model registry group the model is registered in.
        code_version: recorded on the model package (``code_version``; the asset hash).
        kms_key_id: KMS key for job volumes and outputs.
        subnet_ids / security_group_ids: VPC placement of every job.
        prefix: key prefix inside ``bucket``.
        input_data_uri: default of the ``InputDataUri`` parameter (curated data); defaults to
            ``s3://bucket/prefix/input/``.
        schema: dataset schema for preprocessing: a built-in name (``churn``) or a path inside
            the container; replaces ``{schema}`` in the commands' arguments.
        processing_instance_type / training_instance_type: defaults of the instance-type
            parameters.
        metric: JSON path in ``evaluation.json`` of the quality-gate metric.
        threshold: default of ``MetricThreshold``; the gate passes when metric >= threshold.
        hyperparameters: passed to the training job.
        approval_status: default of ``ModelApprovalStatus`` (manual approval at level 2).
        enable_network_isolation: off only if the code needs network access.
        inference_environment: environment recorded on the registered model's container (e.g.
            the scikit-learn serving container's ``SAGEMAKER_PROGRAM`` and
            ``SAGEMAKER_SUBMIT_DIRECTORY``); none by default: the serving set-up belongs to
            the deployment.
        bias_report_file: file in the evaluation output recorded as the Bias report, if any.
        commands: per-step module and arguments, by step name (defaults: ``DEFAULT_COMMANDS``).
        cache_expire_after: enables step caching with this ISO 8601 duration (e.g. ``P30D``).
        max_attempts_on_capacity_errors: retries of jobs on SageMaker capacity/internal errors.
    """
    settings = TrainingPipelineSettings(
        role_arn=role_arn,
        image_uri=image_uri,
        code_uri=code_uri,
        bucket=bucket,
        model_package_group_name=model_package_group_name,
        code_version=code_version,
        kms_key_id=kms_key_id,
        subnet_ids=tuple(subnet_ids),
        security_group_ids=tuple(security_group_ids),
        prefix=prefix,
        input_data_uri=input_data_uri,
        schema=schema,
        processing_instance_type=processing_instance_type,
        training_instance_type=training_instance_type,
        metric=metric,
        threshold=threshold,
        hyperparameters=dict(hyperparameters or {}),
        approval_status=approval_status,
        enable_network_isolation=enable_network_isolation,
        inference_environment=inference_environment,
        bias_report_file=bias_report_file,
        commands={**DEFAULT_COMMANDS, **(commands or {})},
        cache_expire_after=cache_expire_after,
        max_attempts_on_capacity_errors=max_attempts_on_capacity_errors,
    )
    return _build(settings)


def _build(s: TrainingPipelineSettings) -> Pipeline:
    unknown = set(s.commands) - {PREPROCESS, TRAIN, EVALUATE, BASELINE}
    if unknown:
        raise PipelineDefinitionError(
            f"commands given for unknown steps {sorted(unknown)}; steps with commands: "
            f"{[PREPROCESS, TRAIN, EVALUATE, BASELINE]}"
        )
    if not s.code_version:
        raise PipelineDefinitionError("code_version must be non-empty (e.g. the asset hash)")
    prefix = s.prefix.strip("/")
    base = f"s3://{s.bucket}/{prefix}" if prefix else f"s3://{s.bucket}"

    input_data = ParameterString(
        name=INPUT_DATA_URI, default_value=s.input_data_uri or f"{base}/input/"
    )
    processing_type = ParameterString(
        name=PROCESSING_INSTANCE_TYPE, default_value=s.processing_instance_type
    )
    training_type = ParameterString(
        name=TRAINING_INSTANCE_TYPE, default_value=s.training_instance_type
    )
    threshold = ParameterFloat(name=METRIC_THRESHOLD, default_value=s.threshold)
    approval = ParameterString(
        name=MODEL_APPROVAL_STATUS,
        default_value=s.approval_status,
        enum_values=("PendingManualApproval", "Approved", "Rejected"),
    )

    def output_uri(step: str, output: str) -> Join:
        return Join(on="/", values=(base, ExecutionVariables.PIPELINE_EXECUTION_ID, step, output))

    network = NetworkConfig(
        vpc=VpcConfig(subnet_ids=s.subnet_ids, security_group_ids=s.security_group_ids),
        enable_network_isolation=s.enable_network_isolation,
        enable_inter_container_traffic_encryption=True,
    )
    retries = (
        StepRetryPolicy(max_attempts=5),
        SageMakerJobStepRetryPolicy(max_attempts=s.max_attempts_on_capacity_errors),
    )
    cache = CacheConfig(expire_after=s.cache_expire_after) if s.cache_expire_after else None
    code_input = ProcessingInput(
        input_name="code", source=s.code_uri, destination=PROCESSING_CODE_DIR
    )

    def processing(
        name: str,
        inputs: Sequence[ProcessingInput],
        outputs: Sequence[ProcessingOutput],
        description: str,
        property_files: Sequence[PropertyFile] = (),
        depends_on: Sequence[str] = (),
    ) -> ProcessingStep:
        command = s.commands[name]
        arguments = [a.replace("{schema}", s.schema) for a in command.arguments]
        return ProcessingStep(
            name=name,
            description=description,
            role_arn=s.role_arn,
            image_uri=s.image_uri,
            instance_type=processing_type,
            volume_kms_key_id=s.kms_key_id,
            output_kms_key_id=s.kms_key_id,
            entrypoint=module_entrypoint(PROCESSING_CODE_DIR, command.module),
            container_arguments=arguments,
            inputs=(code_input, *inputs),
            outputs=outputs,
            environment={"CODE_VERSION": s.code_version},
            network=network,
            property_files=property_files,
            retry_policies=retries,
            cache_config=cache,
            depends_on=depends_on,
        )

    preprocess = processing(
        PREPROCESS,
        inputs=[
            ProcessingInput(input_name="data", source=input_data, destination=f"{P}/input/data")
        ],
        outputs=[
            ProcessingOutput(
                output_name=split,
                source=f"{P}/output/{split}",
                destination=output_uri(PREPROCESS, split),
            )
            for split in ("train", "validation", "test")
        ],
        description="Split the curated data into train, validation and test sets",
    )
    train_command = s.commands[TRAIN]
    train = TrainingStep(
        name=TRAIN,
        description="Fit the scikit-learn model",
        role_arn=s.role_arn,
        image_uri=s.image_uri,
        instance_type=training_type,
        output_path=Join(on="/", values=(base, ExecutionVariables.PIPELINE_EXECUTION_ID, TRAIN)),
        volume_kms_key_id=s.kms_key_id,
        output_kms_key_id=s.kms_key_id,
        entrypoint=module_entrypoint(TRAINING_CODE_DIR, train_command.module),
        container_arguments=[a.replace("{schema}", s.schema) for a in train_command.arguments],
        hyperparameters=s.hyperparameters,
        inputs=(
            TrainingChannel(
                channel_name="train",
                s3_uri=preprocess.output_uri("train"),
            ),
            TrainingChannel(
                channel_name="validation",
                s3_uri=preprocess.output_uri("validation"),
            ),
            TrainingChannel(channel_name="code", s3_uri=s.code_uri),
        ),
        # The training toolkit normally sets these; the bootstrap entrypoint bypasses it.
        environment={
            "CODE_VERSION": s.code_version,
            "SM_MODEL_DIR": "/opt/ml/model",
            "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data",
            "SM_CHANNEL_TRAIN": "/opt/ml/input/data/train",
            "SM_CHANNEL_VALIDATION": "/opt/ml/input/data/validation",
        },
        network=network,
        retry_policies=retries,
        cache_config=cache,
    )
    evaluation_file = PropertyFile(
        name=EVALUATION_REPORT, output_name="evaluation", path=EVALUATION_FILE
    )
    evaluate = processing(
        EVALUATE,
        inputs=[
            ProcessingInput(
                input_name="model", source=train.model_artifacts(), destination=f"{P}/input/model"
            ),
            ProcessingInput(
                input_name="test",
                source=preprocess.output_uri("test"),
                destination=f"{P}/input/test",
            ),
        ],
        outputs=[
            ProcessingOutput(
                output_name="evaluation",
                source=f"{P}/output/evaluation",
                destination=output_uri(EVALUATE, "evaluation"),
            )
        ],
        property_files=[evaluation_file],
        description="Score the test set: evaluation.json with quality and bias metrics",
    )
    baseline = processing(
        BASELINE,
        inputs=[
            ProcessingInput(
                input_name="baseline",
                source=preprocess.output_uri("train"),
                destination=f"{P}/input/baseline",
            )
        ],
        outputs=[
            ProcessingOutput(
                output_name="baseline",
                source=f"{P}/output/baseline",
                destination=output_uri(BASELINE, "baseline"),
            )
        ],
        # Needs only the training split, so it runs in parallel with Train and Evaluate.
        description="Data-quality baseline (statistics.json, constraints.json) of the training data",
    )

    def in_output(step: ProcessingStep, output: str, file: str) -> Join:
        return Join(on="/", values=(step.output_uri(output), file))

    baseline_statistics = MetricsSource(s3_uri=in_output(baseline, "baseline", "statistics.json"))
    baseline_constraints = MetricsSource(s3_uri=in_output(baseline, "baseline", "constraints.json"))
    model_metrics = ModelMetrics(
        model_quality_statistics=MetricsSource(
            s3_uri=in_output(evaluate, "evaluation", EVALUATION_FILE)
        ),
        model_data_quality_statistics=baseline_statistics,
        model_data_quality_constraints=baseline_constraints,
        bias_report=(
            MetricsSource(s3_uri=in_output(evaluate, "evaluation", s.bias_report_file))
            if s.bias_report_file
            else None
        ),
    )
    environment: Mapping[str, Value] = dict(s.inference_environment or {})
    register = RegisterModelStep(
        name=REGISTER,
        description="Register the model version with its metrics, baselines and code version",
        model_package_group_name=s.model_package_group_name,
        containers=[
            ModelContainer(
                image=s.image_uri,
                model_data_url=train.model_artifacts(),
                environment=environment,
            )
        ],
        content_types=("text/csv", "application/json"),
        response_types=("text/csv", "application/json"),
        inference_instances=(s.processing_instance_type,),
        transform_instances=(s.processing_instance_type,),
        approval_status=approval,
        model_metrics=model_metrics,
        drift_check_baselines=DriftCheckBaselines(
            model_data_quality_statistics=baseline_statistics,
            model_data_quality_constraints=baseline_constraints,
        ),
        customer_metadata_properties={
            "code_version": s.code_version,
            "training_data": preprocess.output_uri("train"),
        },
        metadata_properties=MetadataProperties(
            commit_id=s.code_version,
            generated_by=ExecutionVariables.PIPELINE_EXECUTION_ARN,
        ),
        retry_policies=(StepRetryPolicy(max_attempts=5),),
    )
    failed = FailStep(
        name=QUALITY_GATE_FAILED,
        description="The model did not reach the quality threshold",
        error_message=Join(on=" ", values=(f"Quality gate failed: {s.metric} is below", threshold)),
    )
    gate = ConditionStep(
        name=CHECK_QUALITY,
        description=f"Register the model only if {s.metric} >= {METRIC_THRESHOLD}",
        conditions=[
            ConditionGreaterThanOrEqualTo(
                left=evaluate.json_get(EVALUATION_REPORT, s.metric), right=threshold
            )
        ],
        if_steps=[register],
        else_steps=[failed],
        # Register only once the drift baseline exists (its files go on the model package).
        depends_on=[BASELINE],
    )
    return Pipeline(
        parameters=(input_data, processing_type, training_type, threshold, approval),
        steps=(preprocess, train, evaluate, baseline, gate),
        experiment_config=PipelineExperimentConfig(),
    )
