"""The level-2 training pipeline: data version -> preprocess -> train -> evaluate -> baseline ->
gate -> register.

``build_training_pipeline`` returns a validated :class:`Pipeline`:

0. ``DataVersion`` (processing, never cached) fingerprints the curated data the execution starts
   on (latest record per id; ``data_version.json``, a property file).
1. ``Preprocess`` (processing) keeps the latest record per id and splits by id into
   train/validation/test.
2. ``Train`` (training) fits the model on train/validation and puts the serving code into the
   model (``model.tar.gz`` holds ``code/inference.py``).
3. ``Evaluate`` (processing) scores the test split and writes ``evaluation.json`` (a property file).
4. ``Baseline`` (processing, in parallel with 2-3) writes Model Monitor ``statistics.json`` /
   ``constraints.json`` of the training data.
5. ``CheckQuality`` (condition, after the baseline) compares ``metric`` in ``evaluation.json``
   with the ``MetricThreshold`` parameter;
6. if it passes, ``Register`` records a model package with the evaluation metrics, the drift-check
   baselines, the code version and the data version; otherwise ``QualityGateFailed`` fails the
   execution.

Step caching (``cache_expire_after``) applies to steps 1-4. SageMaker's cache key is a step's
resolved arguments (for processing: app specification, environment, inputs), never the content
behind an S3 URI, so a cached ``Preprocess`` reading a fixed prefix would reuse the first
execution's splits for the whole expiry period. Every cached step therefore carries
``DATA_VERSION`` (from ``DataVersion``, via ``Std:JsonGet``) in its environment: a cache hit
implies the same data; new data runs them again. Outputs go under the execution id, so
concurrent executions never write to the same place.

Every job runs in the given VPC subnets with network isolation, inter-container traffic
encryption and the KMS key on volumes and outputs, on an instance type from a vetted list of
CPU types with EBS storage only (types with local NVMe storage refuse a volume KMS key). Code
reaches the containers as an input (an S3 object or prefix: a ``.zip`` or ``.tar.gz`` is
unpacked) and runs as ``python3 -m <module>`` through a short bootstrap, so the same asset
serves every step.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdk_mlops.pipelines.contract import (
    BASELINE as BASELINE,
)
from cdk_mlops.pipelines.contract import (
    BOOTSTRAP as BOOTSTRAP,
)
from cdk_mlops.pipelines.contract import (
    CHAMPION_LOCAL_PATH as CHAMPION_LOCAL_PATH,
)
from cdk_mlops.pipelines.contract import (
    CHAMPION_MODEL_URI as CHAMPION_MODEL_URI,
)
from cdk_mlops.pipelines.contract import (
    CHAMPION_PASSED as CHAMPION_PASSED,
)
from cdk_mlops.pipelines.contract import (
    CHECK_QUALITY as CHECK_QUALITY,
)
from cdk_mlops.pipelines.contract import (
    DATA_VERSION as DATA_VERSION,
)
from cdk_mlops.pipelines.contract import (
    DATA_VERSION_ENV as DATA_VERSION_ENV,
)
from cdk_mlops.pipelines.contract import (
    DATA_VERSION_FILE as DATA_VERSION_FILE,
)
from cdk_mlops.pipelines.contract import (
    DATA_VERSION_REPORT as DATA_VERSION_REPORT,
)
from cdk_mlops.pipelines.contract import (
    DEFAULT_COMMANDS as DEFAULT_COMMANDS,
)
from cdk_mlops.pipelines.contract import (
    EVALUATE as EVALUATE,
)
from cdk_mlops.pipelines.contract import (
    EVALUATION_FILE as EVALUATION_FILE,
)
from cdk_mlops.pipelines.contract import (
    EVALUATION_REPORT as EVALUATION_REPORT,
)
from cdk_mlops.pipelines.contract import (
    INPUT_DATA_URI as INPUT_DATA_URI,
)
from cdk_mlops.pipelines.contract import (
    METRIC_THRESHOLD as METRIC_THRESHOLD,
)
from cdk_mlops.pipelines.contract import (
    MODEL_APPROVAL_STATUS as MODEL_APPROVAL_STATUS,
)
from cdk_mlops.pipelines.contract import (
    MODEL_CODE_DIR as MODEL_CODE_DIR,
)
from cdk_mlops.pipelines.contract import (
    PREPROCESS as PREPROCESS,
)
from cdk_mlops.pipelines.contract import (
    PROCESSING_CODE_DIR as PROCESSING_CODE_DIR,
)
from cdk_mlops.pipelines.contract import (
    PROCESSING_INSTANCE_TYPE as PROCESSING_INSTANCE_TYPE,
)
from cdk_mlops.pipelines.contract import (
    QUALITY_GATE_FAILED as QUALITY_GATE_FAILED,
)
from cdk_mlops.pipelines.contract import (
    REGISTER as REGISTER,
)
from cdk_mlops.pipelines.contract import (
    SKLEARN_SERVING_ENVIRONMENT as SKLEARN_SERVING_ENVIRONMENT,
)
from cdk_mlops.pipelines.contract import (
    TRAIN as TRAIN,
)
from cdk_mlops.pipelines.contract import (
    TRAINING_CODE_DIR as TRAINING_CODE_DIR,
)
from cdk_mlops.pipelines.contract import (
    TRAINING_INSTANCE_TYPE as TRAINING_INSTANCE_TYPE,
)
from cdk_mlops.pipelines.contract import (
    P as P,
)
from cdk_mlops.pipelines.contract import (
    StepCommand as StepCommand,
)
from cdk_mlops.pipelines.contract import (
    module_entrypoint as module_entrypoint,
)
from cdk_mlops.pipelines.errors import PipelineDefinitionError
from cdk_mlops.pipelines.expressions import (
    ExecutionVariables,
    Join,
    JsonGet,
    ParameterFloat,
    ParameterString,
    PropertyFile,
    Value,
)

# The instance-type tables live in their own module; they are imported from here too.
from cdk_mlops.pipelines.instance_types import (
    _INSTANCE_TYPE,
    PROCESSING_INSTANCE_TYPES,
    TRAINING_INSTANCE_TYPES,
    instance_type_problem,
    parameter_instance_types,
)
from cdk_mlops.pipelines.instance_types import PARAMETER_INSTANCE_TYPES as PARAMETER_INSTANCE_TYPES
from cdk_mlops.pipelines.instance_types import has_instance_storage as has_instance_storage
from cdk_mlops.pipelines.pipeline import Pipeline, PipelineExperimentConfig
from cdk_mlops.pipelines.steps import (
    CacheConfig,
    Condition,
    ConditionEquals,
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
    TuningStep,
    VpcConfig,
)
from cdk_mlops.pipelines.tuning import (
    TRAIN_MODULE_ENV,
    TRAIN_PROGRAM,
    TRAINING_METRIC_DEFINITIONS,
    TUNE,
    TuningSettings,
    check_tuning,
)
from cdk_mlops.pipelines.xgboost import XGBoostSettings, check_xgboost, xgboost_steps


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
    no_champion_uri: str | None = None
    champion_margin: float = 0.0
    intended_use: str | None = None
    tuning: TuningSettings | None = None
    sourcedir_uri: str | None = None
    xgboost: XGBoostSettings | None = None
    xgboost_image_uri: str | None = None


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
    no_champion_uri: str | None = None,
    champion_margin: float = 0.0,
    intended_use: str | None = None,
    tuning: TuningSettings | None = None,
    sourcedir_uri: str | None = None,
    xgboost: XGBoostSettings | None = None,
    xgboost_image_uri: str | None = None,
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
            parameters; each must be in ``PROCESSING_INSTANCE_TYPES`` /
            ``TRAINING_INSTANCE_TYPES``; the parameters allow ``PARAMETER_INSTANCE_TYPES``
            and the default.
        metric: JSON path in ``evaluation.json`` of the quality-gate metric;
            ``confidence_bounds.auc.lower`` gates on AUC's one-sided lower confidence bound
            (value - z * bootstrap std. dev., level 0.95 unless the Evaluate command passes
            ``--confidence-level``) instead of its point value.
        threshold: default of ``MetricThreshold``; the gate passes when metric >= threshold.
        hyperparameters: passed to the training job.
        approval_status: default of ``ModelApprovalStatus`` (manual approval at level 2).
        enable_network_isolation: off only if the code needs network access.
        inference_environment: environment recorded on the registered model's container (e.g.
            ``SKLEARN_SERVING_ENVIRONMENT``: ``SAGEMAKER_PROGRAM=inference.py`` from
            ``SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code``, the code the training job puts
            into the model); none by default: the serving set-up belongs to the deployment.
        bias_report_file: file in the evaluation output recorded as the Bias report, if any.
        commands: per-step module and arguments, by step name (defaults: ``DEFAULT_COMMANDS``).
        cache_expire_after: enables step caching with this ISO 8601 duration (e.g. ``P30D``)
            for every step but ``DataVersion``; the cached steps' cache keys include the data
            version.
        max_attempts_on_capacity_errors: retries of jobs on SageMaker capacity/internal errors.
        no_champion_uri: enables champion/challenger: the S3 URI of a marker object (no
            ``.tar.gz``) that is the default of the ``ChampionModelUri`` parameter. Evaluate
            gets the parameter's object as input ``champion`` and the arguments
            ``--champion-model``/``--champion-metric``/``--champion-margin``, and the gate also
            requires ``champion_challenger.passed`` in ``evaluation.json``. A custom Evaluate
            command must accept those arguments and write that field.
        champion_margin: how much worse than the champion the challenger may be (0 to 1).
        intended_use: what the model is for, recorded on every model version (the model card's
            intended use, next to the gate metric's value, the code and data versions and the
            evaluation, bias and data-quality reports); 1 to 256 characters.
        tuning: replaces Train with a hyperparameter tuning step, ``Tune``, whose best
            training job feeds Evaluate and Register (``cdk_mlops.pipelines.tuning``).
        sourcedir_uri: S3 URI of the source-dir bundle (``sourcedir.tar.gz``, whose
            ``train.py`` runs the training module), its object name literal
            (``PipelineCode.sourcedir_channel_uri``); required with ``tuning``.
        xgboost: trains with SageMaker's XGBoost algorithm on several instances, the data sharded
            by S3 key (``cdk_mlops.pipelines.xgboost``); not with ``tuning``.
        xgboost_image_uri: the XGBoost image (``images.xgboost_image_uri``); required with
            ``xgboost``.
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
        no_champion_uri=no_champion_uri,
        champion_margin=champion_margin,
        intended_use=intended_use,
        tuning=tuning,
        sourcedir_uri=sourcedir_uri,
        xgboost=xgboost,
        xgboost_image_uri=xgboost_image_uri,
    )
    return _build(settings)


def _build(s: TrainingPipelineSettings) -> Pipeline:
    with_commands = [DATA_VERSION, PREPROCESS, TRAIN, EVALUATE, BASELINE]
    unknown = set(s.commands) - set(with_commands)
    if unknown:
        raise PipelineDefinitionError(
            f"commands given for unknown steps {sorted(unknown)}; steps with commands: "
            f"{with_commands}"
        )
    if not s.code_version:
        raise PipelineDefinitionError("code_version must be non-empty (e.g. the asset hash)")
    if s.intended_use is not None and not (
        isinstance(s.intended_use, str) and 1 <= len(s.intended_use.strip()) <= 256
    ):
        raise PipelineDefinitionError(
            f"intended_use {s.intended_use!r} must be 1 to 256 characters (a model package's "
            "metadata value), e.g. 'Churn risk of monthly customers for retention offers'"
        )
    if s.tuning is not None:
        check_tuning(s)
    if s.xgboost is not None:
        check_xgboost(s)
    if not 0.0 <= s.champion_margin < 1.0:
        raise PipelineDefinitionError(
            f"champion_margin {s.champion_margin!r} must be in [0, 1): e.g. 0.01 lets a "
            "retrained model be up to 0.01 worse than production"
        )
    for name, value, allowed in (
        ("processing_instance_type", s.processing_instance_type, PROCESSING_INSTANCE_TYPES),
        ("training_instance_type", s.training_instance_type, TRAINING_INSTANCE_TYPES),
    ):
        if not _INSTANCE_TYPE.match(value):
            raise PipelineDefinitionError(
                f"{name} {value!r} is not a SageMaker instance type; they look like 'ml.m5.xlarge'"
            )
        problem = instance_type_problem(value, allowed)
        if problem:
            raise PipelineDefinitionError(f"{name} {value!r}: {problem}")
    prefix = s.prefix.strip("/")
    base = f"s3://{s.bucket}/{prefix}" if prefix else f"s3://{s.bucket}"

    input_data = ParameterString(
        name=INPUT_DATA_URI, default_value=s.input_data_uri or f"{base}/input/"
    )
    processing_type = ParameterString(
        name=PROCESSING_INSTANCE_TYPE,
        default_value=s.processing_instance_type,
        enum_values=parameter_instance_types(s.processing_instance_type),
    )
    training_type = ParameterString(
        name=TRAINING_INSTANCE_TYPE,
        default_value=s.training_instance_type,
        enum_values=parameter_instance_types(s.training_instance_type),
    )
    threshold = ParameterFloat(name=METRIC_THRESHOLD, default_value=s.threshold)
    champion = (
        ParameterString(name=CHAMPION_MODEL_URI, default_value=s.no_champion_uri)
        if s.no_champion_uri is not None
        else None
    )
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
        data_version: JsonGet | None = None,
        extra_arguments: Sequence[str] = (),
        image: Value | None = None,
        command: StepCommand | None = None,
    ) -> ProcessingStep:
        command = command or s.commands[name]
        arguments = [a.replace("{schema}", s.schema) for a in command.arguments]
        arguments += list(extra_arguments)
        environment: dict[str, Value] = {"CODE_VERSION": s.code_version}
        if data_version is not None:
            environment[DATA_VERSION_ENV] = data_version
        return ProcessingStep(
            name=name,
            description=description,
            role_arn=s.role_arn,
            image_uri=image if image is not None else s.image_uri,
            instance_type=processing_type,
            volume_kms_key_id=s.kms_key_id,
            output_kms_key_id=s.kms_key_id,
            entrypoint=module_entrypoint(PROCESSING_CODE_DIR, command.module),
            container_arguments=arguments,
            inputs=(code_input, *inputs),
            outputs=outputs,
            environment=environment,
            network=network,
            property_files=property_files,
            retry_policies=retries,
            # The step that fingerprints the live data must run every time.
            cache_config=cache if data_version is not None else None,
            depends_on=depends_on,
        )

    data_input = ProcessingInput(
        input_name="data", source=input_data, destination=f"{P}/input/data"
    )
    version_file = PropertyFile(
        name=DATA_VERSION_REPORT, output_name="version", path=DATA_VERSION_FILE
    )
    data_version_step = processing(
        DATA_VERSION,
        inputs=[data_input],
        outputs=[
            ProcessingOutput(
                output_name="version",
                source=f"{P}/output/version",
                destination=output_uri(DATA_VERSION, "version"),
            )
        ],
        property_files=[version_file],
        description="Fingerprint the curated data this execution trains on (never cached)",
    )
    data_version = data_version_step.json_get(DATA_VERSION_REPORT, "data_version")

    preprocess = processing(
        PREPROCESS,
        inputs=[data_input],
        outputs=[
            ProcessingOutput(
                output_name=split,
                source=f"{P}/output/{split}",
                destination=output_uri(PREPROCESS, split),
            )
            for split in ("train", "validation", "test")
        ],
        description="Latest record per id, split by id into train, validation and test sets",
        data_version=data_version,
    )
    train_command = s.commands[TRAIN]
    channels = (
        TrainingChannel(channel_name="train", s3_uri=preprocess.output_uri("train")),
        TrainingChannel(channel_name="validation", s3_uri=preprocess.output_uri("validation")),
    )
    train: TrainingStep | TuningStep
    model_data: Value
    model_image: Value = s.image_uri
    extra_steps: list[ProcessingStep] = []
    if s.xgboost is not None:
        model_image = str(s.xgboost_image_uri)
        train, package_step, encode_step = xgboost_steps(
            s,
            processing=processing,
            preprocess=preprocess,
            output_uri=output_uri,
            base=base,
            training_type=training_type,
            network=network,
            retries=retries,
            cache=cache,
            data_version=data_version,
        )
        extra_steps = [encode_step, package_step]
        model_data = Join(on="/", values=(package_step.output_uri("model"), "model.tar.gz"))
    elif s.tuning is None:
        train = TrainingStep(
            name=TRAIN,
            description="Fit the scikit-learn model",
            role_arn=s.role_arn,
            image_uri=s.image_uri,
            instance_type=training_type,
            output_path=Join(
                on="/", values=(base, ExecutionVariables.PIPELINE_EXECUTION_ID, TRAIN)
            ),
            volume_kms_key_id=s.kms_key_id,
            output_kms_key_id=s.kms_key_id,
            entrypoint=module_entrypoint(TRAINING_CODE_DIR, train_command.module),
            container_arguments=[a.replace("{schema}", s.schema) for a in train_command.arguments],
            hyperparameters=s.hyperparameters,
            inputs=(*channels, TrainingChannel(channel_name="code", s3_uri=s.code_uri)),
            # The training toolkit normally sets these; the bootstrap entrypoint bypasses it.
            environment={
                "CODE_VERSION": s.code_version,
                DATA_VERSION_ENV: data_version,
                "SM_MODEL_DIR": "/opt/ml/model",
                "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data",
                "SM_CHANNEL_TRAIN": "/opt/ml/input/data/train",
                "SM_CHANNEL_VALIDATION": "/opt/ml/input/data/validation",
            },
            network=network,
            retry_policies=retries,
            cache_config=cache,
        )
        model_data = train.model_artifacts()
    else:
        t = s.tuning
        sourcedir = str(s.sourcedir_uri)
        train = TuningStep(
            name=TUNE,
            description=f"Search {len(t.parameter_ranges)} hyperparameters in up to "
            f"{t.max_jobs} training jobs ({t.strategy}); the best by {t.objective_metric} "
            "goes on",
            role_arn=s.role_arn,
            image_uri=s.image_uri,
            instance_type=training_type,
            output_path=Join(on="/", values=(base, ExecutionVariables.PIPELINE_EXECUTION_ID, TUNE)),
            volume_kms_key_id=s.kms_key_id,
            output_kms_key_id=s.kms_key_id,
            metric_definitions=TRAINING_METRIC_DEFINITIONS,
            objective_metric=t.objective_metric,
            objective_type=t.objective_type,
            parameter_ranges=t.parameter_ranges,
            # Script mode of the image's training toolkit (JSON-encoded, as the SDK writes
            # them): the source dir comes in the code channel, since an isolated job has no
            # network to fetch it.
            static_hyperparameters={
                **s.hyperparameters,
                "sagemaker_program": json.dumps(TRAIN_PROGRAM),
                "sagemaker_submit_directory": json.dumps(
                    f"{TRAINING_CODE_DIR}/{sourcedir.rsplit('/', 1)[-1]}"
                ),
            },
            strategy=t.strategy,
            max_jobs=t.max_jobs,
            max_parallel_jobs=t.max_parallel_jobs,
            early_stopping=t.early_stopping,
            random_seed=t.random_seed,
            inputs=(*channels, TrainingChannel(channel_name="code", s3_uri=sourcedir)),
            environment={
                "CODE_VERSION": s.code_version,
                DATA_VERSION_ENV: data_version,
                TRAIN_MODULE_ENV: train_command.module,
            },
            network=network,
            retry_policies=retries,
            cache_config=cache,
        )
        model_data = train.top_model_artifacts(0)
    evaluation_file = PropertyFile(
        name=EVALUATION_REPORT, output_name="evaluation", path=EVALUATION_FILE
    )
    evaluate = processing(
        EVALUATE,
        inputs=[
            ProcessingInput(input_name="model", source=model_data, destination=f"{P}/input/model"),
            ProcessingInput(
                input_name="test",
                source=preprocess.output_uri("test"),
                destination=f"{P}/input/test",
            ),
            *(
                [
                    ProcessingInput(
                        input_name="champion", source=champion, destination=CHAMPION_LOCAL_PATH
                    )
                ]
                if champion is not None
                else []
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
        description="Score the test set: evaluation.json with quality and bias metrics"
        + (", and the champion on the same data" if champion is not None else ""),
        data_version=data_version,
        image=model_image,
        extra_arguments=(
            [
                "--champion-model",
                CHAMPION_LOCAL_PATH,
                "--champion-metric",
                s.metric,
                "--champion-margin",
                repr(float(s.champion_margin)),
            ]
            if champion is not None
            else []
        ),
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
        data_version=data_version,
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
                image=model_image,
                model_data_url=model_data,
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
        # The model card's content, recorded on the version: what it is for, how good it is on
        # the test split (the full evaluation, bias and data-quality reports are its metrics),
        # and exactly what it was trained on, with which code.
        customer_metadata_properties={
            "code_version": s.code_version,
            "data_version": data_version,
            "training_data": preprocess.output_uri("train"),
            "quality_metric": s.metric,
            "quality_value": Join(on="", values=(evaluate.json_get(EVALUATION_REPORT, s.metric),)),
            **({"intended_use": s.intended_use} if s.intended_use is not None else {}),
        },
        metadata_properties=MetadataProperties(
            commit_id=s.code_version,
            generated_by=ExecutionVariables.PIPELINE_EXECUTION_ARN,
        ),
        retry_policies=(StepRetryPolicy(max_attempts=5),),
    )
    conditions: list[Condition] = [
        ConditionGreaterThanOrEqualTo(
            left=evaluate.json_get(EVALUATION_REPORT, s.metric), right=threshold
        )
    ]
    if champion is not None:
        conditions.append(
            ConditionEquals(left=evaluate.json_get(EVALUATION_REPORT, CHAMPION_PASSED), right=True)
        )
    failed = FailStep(
        name=QUALITY_GATE_FAILED,
        description="The model did not reach the quality threshold"
        + (" or is worse than the champion" if champion is not None else ""),
        error_message=Join(
            on=" ",
            values=(
                f"Quality gate failed: {s.metric} is below",
                threshold,
                *(
                    [
                        f"or the champion/challenger check failed ({CHAMPION_PASSED}; see "
                        "evaluation.json)"
                    ]
                    if champion is not None
                    else []
                ),
            ),
        ),
    )
    gate = ConditionStep(
        name=CHECK_QUALITY,
        description=f"Register the model only if {s.metric} >= {METRIC_THRESHOLD}"
        + (" and it is at least as good as the champion" if champion is not None else ""),
        conditions=conditions,
        if_steps=[register],
        else_steps=[failed],
        # Register only once the drift baseline exists (its files go on the model package).
        depends_on=[BASELINE],
    )
    return Pipeline(
        parameters=(
            input_data,
            processing_type,
            training_type,
            threshold,
            approval,
            *([champion] if champion is not None else []),
        ),
        steps=(
            data_version_step,
            preprocess,
            *extra_steps[:1],
            train,
            *extra_steps[1:],
            evaluate,
            baseline,
            gate,
        ),
        experiment_config=PipelineExperimentConfig(),
    )
