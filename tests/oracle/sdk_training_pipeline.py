"""Oracle: the level-2 training pipeline built with the SageMaker Python SDK, offline under moto.

Runs in its own environment (.venv-sdk, see requirements-sdk.txt), never in the project venv:

    .venv-sdk/bin/python tests/oracle/sdk_training_pipeline.py SETTINGS.json OUT.json

SETTINGS.json holds the literal inputs the test also gives ``build_training_pipeline`` (role,
image, code URI, bucket, KMS key, subnets, instance types, metric, threshold, entrypoints, ...).
OUT.json receives the SDK's definition. The test compares its step structure with ours.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def build_definition(s: dict[str, Any]) -> str:
    """The SDK's pipeline definition JSON for settings ``s`` (call inside mock_aws)."""
    import boto3
    from sagemaker.drift_check_baselines import DriftCheckBaselines
    from sagemaker.estimator import Estimator
    from sagemaker.inputs import TrainingInput
    from sagemaker.metadata_properties import MetadataProperties
    from sagemaker.model import Model
    from sagemaker.model_metrics import MetricsSource, ModelMetrics
    from sagemaker.network import NetworkConfig
    from sagemaker.processing import ProcessingInput, ProcessingOutput, Processor
    from sagemaker.workflow.condition_step import ConditionStep
    from sagemaker.workflow.conditions import ConditionEquals, ConditionGreaterThanOrEqualTo
    from sagemaker.workflow.execution_variables import ExecutionVariables
    from sagemaker.workflow.fail_step import FailStep
    from sagemaker.workflow.functions import Join, JsonGet
    from sagemaker.workflow.model_step import ModelStep
    from sagemaker.workflow.parameters import ParameterFloat, ParameterString
    from sagemaker.workflow.pipeline import Pipeline
    from sagemaker.workflow.pipeline_context import PipelineSession
    from sagemaker.workflow.properties import PropertyFile
    from sagemaker.workflow.retry import (
        SageMakerJobExceptionTypeEnum,
        SageMakerJobStepRetryPolicy,
        StepExceptionTypeEnum,
        StepRetryPolicy,
    )
    from sagemaker.workflow.steps import ProcessingStep, TrainingStep

    region = os.environ["AWS_DEFAULT_REGION"]
    boto3.client("s3", region_name=region).create_bucket(Bucket=s["bucket"])
    session = PipelineSession(
        boto_session=boto3.Session(region_name=region), default_bucket=s["bucket"]
    )
    base = f"s3://{s['bucket']}/{s['prefix']}"
    P = "/opt/ml/processing"

    input_data = ParameterString(name="InputDataUri", default_value=f"{base}/input/")
    processing_type = ParameterString(
        name="ProcessingInstanceType",
        default_value=s["processing_instance_type"],
        enum_values=s["processing_instance_types"],
    )
    training_type = ParameterString(
        name="TrainingInstanceType",
        default_value=s["training_instance_type"],
        enum_values=s["training_instance_types"],
    )
    threshold = ParameterFloat(name="MetricThreshold", default_value=s["threshold"])
    approval = ParameterString(
        name="ModelApprovalStatus",
        default_value="PendingManualApproval",
        enum_values=["PendingManualApproval", "Approved", "Rejected"],
    )
    # champion/challenger (when the settings name the "no champion" marker object)
    champion = (
        ParameterString(name="ChampionModelUri", default_value=s["no_champion_uri"])
        if s.get("no_champion_uri")
        else None
    )

    def out_uri(step: str, output: str) -> Join:
        return Join(on="/", values=[base, ExecutionVariables.PIPELINE_EXECUTION_ID, step, output])

    retries = [
        StepRetryPolicy(
            exception_types=[StepExceptionTypeEnum.SERVICE_FAULT, StepExceptionTypeEnum.THROTTLING],
            max_attempts=5,
        ),
        SageMakerJobStepRetryPolicy(
            exception_types=[
                SageMakerJobExceptionTypeEnum.INTERNAL_ERROR,
                SageMakerJobExceptionTypeEnum.CAPACITY_ERROR,
                SageMakerJobExceptionTypeEnum.RESOURCE_LIMIT,
            ],
            max_attempts=3,
        ),
    ]
    network = NetworkConfig(
        enable_network_isolation=True,
        security_group_ids=s["security_group_ids"],
        subnets=s["subnet_ids"],
        encrypt_inter_container_traffic=True,
    )
    code = ProcessingInput(input_name="code", source=s["code_uri"], destination=f"{P}/input/code")
    data = ProcessingInput(input_name="data", source=input_data, destination=f"{P}/input/data")
    version_file = PropertyFile(
        name="DataVersionReport", output_name="version", path="data_version.json"
    )
    # What the cached steps carry in their cache key (environment DATA_VERSION).
    data_version = JsonGet(
        step_name="DataVersion", property_file=version_file, json_path="data_version"
    )

    def processor(step: str) -> Processor:
        env: dict[str, Any] = {"CODE_VERSION": s["code_version"]}
        if step != "DataVersion":
            env["DATA_VERSION"] = data_version
        return Processor(
            role=s["role_arn"],
            image_uri=s["image_uri"],
            instance_count=1,
            instance_type=processing_type,
            entrypoint=s["entrypoints"][step],
            volume_kms_key=s["kms_key_id"],
            output_kms_key=s["kms_key_id"],
            network_config=network,
            env=env,
            max_runtime_in_seconds=86400,
            sagemaker_session=session,
        )

    desc = s["descriptions"]
    version_step = ProcessingStep(
        name="DataVersion",
        description=desc["DataVersion"],
        step_args=processor("DataVersion").run(
            inputs=[code, data],
            outputs=[
                ProcessingOutput(
                    output_name="version",
                    source=f"{P}/output/version",
                    destination=out_uri("DataVersion", "version"),
                )
            ],
            arguments=s["arguments"]["DataVersion"],
        ),
        property_files=[version_file],
        retry_policies=retries,
    )
    preprocess = ProcessingStep(
        name="Preprocess",
        description=desc["Preprocess"],
        step_args=processor("Preprocess").run(
            inputs=[code, data],
            outputs=[
                ProcessingOutput(
                    output_name=split,
                    source=f"{P}/output/{split}",
                    destination=out_uri("Preprocess", split),
                )
                for split in ("train", "validation", "test")
            ],
            arguments=s["arguments"]["Preprocess"],
        ),
        retry_policies=retries,
    )
    estimator = Estimator(
        image_uri=s["image_uri"],
        role=s["role_arn"],
        instance_count=1,
        instance_type=training_type,
        volume_kms_key=s["kms_key_id"],
        output_kms_key=s["kms_key_id"],
        output_path=Join(on="/", values=[base, ExecutionVariables.PIPELINE_EXECUTION_ID, "Train"]),
        subnets=s["subnet_ids"],
        security_group_ids=s["security_group_ids"],
        encrypt_inter_container_traffic=True,
        enable_network_isolation=True,
        container_entry_point=s["entrypoints"]["Train"],
        environment={**s["training_environment"], "DATA_VERSION": data_version},
        disable_profiler=True,
        debugger_hook_config=False,
        sagemaker_session=session,
    )
    train = TrainingStep(
        name="Train",
        description=desc["Train"],
        step_args=estimator.fit(
            inputs={
                "train": TrainingInput(
                    s3_data=preprocess.properties.ProcessingOutputConfig.Outputs[
                        "train"
                    ].S3Output.S3Uri
                ),
                "validation": TrainingInput(
                    s3_data=preprocess.properties.ProcessingOutputConfig.Outputs[
                        "validation"
                    ].S3Output.S3Uri
                ),
                "code": TrainingInput(s3_data=s["code_uri"]),
            }
        ),
        retry_policies=retries,
    )
    evaluation = PropertyFile(
        name="EvaluationReport", output_name="evaluation", path="evaluation.json"
    )
    evaluate = ProcessingStep(
        name="Evaluate",
        description=desc["Evaluate"],
        step_args=processor("Evaluate").run(
            inputs=[
                code,
                ProcessingInput(
                    input_name="model",
                    source=train.properties.ModelArtifacts.S3ModelArtifacts,
                    destination=f"{P}/input/model",
                ),
                ProcessingInput(
                    input_name="test",
                    source=preprocess.properties.ProcessingOutputConfig.Outputs[
                        "test"
                    ].S3Output.S3Uri,
                    destination=f"{P}/input/test",
                ),
                *(
                    [
                        ProcessingInput(
                            input_name="champion",
                            source=champion,
                            destination=f"{P}/input/champion",
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
                    destination=out_uri("Evaluate", "evaluation"),
                )
            ],
            arguments=s["arguments"]["Evaluate"],
        ),
        property_files=[evaluation],
        retry_policies=retries,
    )
    baseline = ProcessingStep(
        name="Baseline",
        description=desc["Baseline"],
        step_args=processor("Baseline").run(
            inputs=[
                code,
                ProcessingInput(
                    input_name="baseline",
                    source=preprocess.properties.ProcessingOutputConfig.Outputs[
                        "train"
                    ].S3Output.S3Uri,
                    destination=f"{P}/input/baseline",
                ),
            ],
            outputs=[
                ProcessingOutput(
                    output_name="baseline",
                    source=f"{P}/output/baseline",
                    destination=out_uri("Baseline", "baseline"),
                )
            ],
            arguments=s["arguments"]["Baseline"],
        ),
        retry_policies=retries,
    )

    def in_output(step: ProcessingStep, output: str, file: str) -> Join:
        uri = step.properties.ProcessingOutputConfig.Outputs[output].S3Output.S3Uri
        return Join(on="/", values=[uri, file])

    stats = MetricsSource(
        s3_uri=in_output(baseline, "baseline", "statistics.json"), content_type="application/json"
    )
    constraints = MetricsSource(
        s3_uri=in_output(baseline, "baseline", "constraints.json"), content_type="application/json"
    )
    model = Model(
        image_uri=s["image_uri"],
        model_data=train.properties.ModelArtifacts.S3ModelArtifacts,
        env=s["inference_environment"] or None,
        role=s["role_arn"],
        sagemaker_session=session,
    )
    register = ModelStep(
        name="Register",
        description=desc["Register"],
        step_args=model.register(
            content_types=["text/csv", "application/json"],
            response_types=["text/csv", "application/json"],
            inference_instances=[s["processing_instance_type"]],
            transform_instances=[s["processing_instance_type"]],
            model_package_group_name=s["model_package_group_name"],
            approval_status=approval,
            model_metrics=ModelMetrics(
                model_statistics=MetricsSource(
                    s3_uri=in_output(evaluate, "evaluation", "evaluation.json"),
                    content_type="application/json",
                ),
                model_data_statistics=stats,
                model_data_constraints=constraints,
            ),
            drift_check_baselines=DriftCheckBaselines(
                model_data_statistics=stats, model_data_constraints=constraints
            ),
            customer_metadata_properties={
                "code_version": s["code_version"],
                "data_version": data_version,
                "training_data": preprocess.properties.ProcessingOutputConfig.Outputs[
                    "train"
                ].S3Output.S3Uri,
                "quality_metric": s["metric"],
                "quality_value": Join(
                    on="",
                    values=[
                        JsonGet(
                            step_name="Evaluate", property_file=evaluation, json_path=s["metric"]
                        )
                    ],
                ),
                **({"intended_use": s["intended_use"]} if s.get("intended_use") else {}),
            },
            metadata_properties=MetadataProperties(
                commit_id=s["code_version"], generated_by=ExecutionVariables.PIPELINE_EXECUTION_ARN
            ),
        ),
        retry_policies=[retries[0]],
    )
    failed = FailStep(
        name="QualityGateFailed",
        description=desc["QualityGateFailed"],
        error_message=Join(
            on=" ",
            values=[f"Quality gate failed: {s['metric']} is below", threshold]
            + (
                [
                    "or the champion/challenger check failed (champion_challenger.passed; "
                    "see evaluation.json)"
                ]
                if champion is not None
                else []
            ),
        ),
    )
    gate = ConditionStep(
        name="CheckQuality",
        description=desc["CheckQuality"],
        conditions=[
            ConditionGreaterThanOrEqualTo(
                left=JsonGet(step_name="Evaluate", property_file=evaluation, json_path=s["metric"]),
                right=threshold,
            ),
            *(
                [
                    ConditionEquals(
                        left=JsonGet(
                            step_name="Evaluate",
                            property_file=evaluation,
                            json_path="champion_challenger.passed",
                        ),
                        right=True,
                    )
                ]
                if champion is not None
                else []
            ),
        ],
        if_steps=[register],
        else_steps=[failed],
        depends_on=["Baseline"],
    )
    pipeline = Pipeline(
        name="training-oracle",
        parameters=[input_data, processing_type, training_type, threshold, approval]
        + ([champion] if champion is not None else []),
        steps=[version_step, preprocess, train, evaluate, baseline, gate],
        sagemaker_session=session,
    )
    definition: str = pipeline.definition()
    return definition


def run_offline(argv: list[str], build: Callable[[dict[str, Any]], str]) -> int:
    """``SETTINGS.json OUT.json``: build under moto with dummy credentials, write the result."""
    settings_path, out_path = argv
    settings = json.loads(Path(settings_path).read_text())
    # Dummy credentials and a region: moto intercepts every call, nothing reaches AWS.
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION=settings.get("region", "us-east-1"),
        SAGEMAKER_VALIDATE_ROLE="false",
        SAGEMAKER_SUPPRESS_V2_WARNING="1",
    )
    from moto import mock_aws

    with mock_aws():
        output = build(settings)
    Path(out_path).write_text(output)
    return 0


def main(argv: list[str]) -> int:
    """Read settings, build the SDK pipeline under moto, write its definition."""
    return run_offline(argv, build_definition)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
