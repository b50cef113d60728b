"""Oracle: a tuning step built with the SageMaker Python SDK, offline under moto.

Runs in its own environment (.venv-sdk, see requirements-sdk.txt), never in the project venv:

    .venv-sdk/bin/python tests/oracle/sdk_tuning_step.py SETTINGS.json OUT.json

SETTINGS.json holds the literal inputs the test also gives ``TuningStep`` (image, role, KMS key,
subnets, channels, static hyperparameters, ranges, metric definitions, limits). OUT.json
receives the SDK's step (``Name``, ``Type``, ``Arguments``). The test compares the arguments
with ours.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from sdk_training_pipeline import run_offline  # this folder is on sys.path (a script)


def build_step(s: dict[str, Any]) -> dict[str, Any]:
    """The SDK's tuning step for settings ``s`` (call inside mock_aws)."""
    import boto3
    from sagemaker.estimator import Estimator
    from sagemaker.inputs import TrainingInput
    from sagemaker.tuner import (
        CategoricalParameter,
        ContinuousParameter,
        HyperparameterTuner,
        IntegerParameter,
    )
    from sagemaker.workflow.pipeline import Pipeline
    from sagemaker.workflow.pipeline_context import PipelineSession
    from sagemaker.workflow.steps import TuningStep

    region = os.environ["AWS_DEFAULT_REGION"]
    boto3.client("s3", region_name=region).create_bucket(Bucket=s["bucket"])
    session = PipelineSession(
        boto_session=boto3.Session(region_name=region), default_bucket=s["bucket"]
    )
    estimator = Estimator(
        image_uri=s["image_uri"],
        role=s["role_arn"],
        instance_count=1,
        instance_type=s["instance_type"],
        volume_size=30,
        max_run=86400,
        volume_kms_key=s["kms_key_id"],
        output_kms_key=s["kms_key_id"],
        output_path=s["output_path"],
        subnets=s["subnet_ids"],
        security_group_ids=s["security_group_ids"],
        encrypt_inter_container_traffic=True,
        enable_network_isolation=True,
        hyperparameters=s["static_hyperparameters"],
        environment=s["environment"],
        disable_profiler=True,
        debugger_hook_config=False,
        sagemaker_session=session,
    )
    kinds = {
        "integer": IntegerParameter,
        "continuous": ContinuousParameter,
    }
    ranges: dict[str, Any] = {}
    for r in s["ranges"]:
        if r["kind"] == "categorical":
            ranges[r["name"]] = CategoricalParameter(r["values"])
        else:
            ranges[r["name"]] = kinds[r["kind"]](r["min"], r["max"], scaling_type=r["scaling"])
    tuner = HyperparameterTuner(
        estimator,
        objective_metric_name=s["objective_metric"],
        hyperparameter_ranges=ranges,
        metric_definitions=s["metric_definitions"],
        strategy=s["strategy"],
        objective_type=s["objective_type"],
        max_jobs=s["max_jobs"],
        max_parallel_jobs=s["max_parallel_jobs"],
        early_stopping_type="Auto",
        random_seed=s["random_seed"],
    )
    inputs = {
        name: TrainingInput(s3_data=uri, distribution="FullyReplicated", s3_data_type="S3Prefix")
        for name, uri in s["channels"].items()
    }
    step = TuningStep(name="Tune", step_args=tuner.fit(inputs=inputs))
    pipeline = Pipeline(name="tuning-oracle", steps=[step], sagemaker_session=session)
    definition = json.loads(pipeline.definition())
    result: dict[str, Any] = definition["Steps"][0]
    return result


def main(argv: list[str]) -> int:
    """Read settings, build the SDK step under moto, write it."""
    return run_offline(argv, lambda s: json.dumps(build_step(s), indent=2, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
