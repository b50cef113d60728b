"""Compose the training pipeline in your own stack, with your own code directory.

Tested in tests/cdk_mlops/test_examples.py. Your repository keeps its ML code in a package
with pipeline_code's layout (start from a copy of cdk-mlops' pipeline_code and change what you
need: the model in training/train.py, the metrics in evaluation/evaluate.py, your schema in
schemas/). The construct ships it as a hashed asset and records its version on every model.

    cdk synth --app "python examples/compose_training_pipeline.py path/to/your_ml_package"
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from constructs import Construct

from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.constructs import (
    STUDIO_REQUIRED_ENDPOINTS,
    DataLake,
    EncryptionKeys,
    ModelRegistry,
    Network,
    TrainingPipeline,
)


class FraudTrainingStack(cdk.Stack):
    """Only what training needs: keys, a data lake, a one-AZ network, a registry, the pipeline."""

    def __init__(
        self, scope: Construct, construct_id: str, *, code_dir: Path, schema: str, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        keys = EncryptionKeys(self, "Keys", alias_prefix="alias/fraud")
        lake = DataLake(self, "Lake", encryption_key=keys.data_key)
        # Jobs need no interface endpoint to reach S3 (gateway endpoint); keep the SageMaker API
        # ones for notebooks and drop STS/Logs to save money.
        network = Network(
            self,
            "Net",
            max_azs=1,
            interface_endpoints=STUDIO_REQUIRED_ENDPOINTS,
            flow_logs_key=keys.logs_key,
        )
        registry = ModelRegistry(
            self,
            "Registry",
            model_package_group_name="fraud-models",
            encryption_key=keys.notifications_key,
        )
        self.training = TrainingPipeline(
            self,
            "Training",
            pipeline_name="fraud-training",
            job_network=network.job_network,
            input_bucket=lake.curated_bucket,
            artifacts_bucket=lake.artifacts_bucket,
            encryption_key=keys.data_key,
            registry=registry,
            code_dir=code_dir,
            schema=schema,
            input_prefix="fraud/",
            metric="binary_classification_metrics.recall.value",
            threshold=0.6,
            training_instance_type="ml.m5.xlarge",
            hyperparameters={"model_type": "hgb", "max_iter": 300},
        )


def main(argv: list[str]) -> cdk.App:
    code_dir = (
        Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1] / "pipeline_code"
    )
    app = cdk.App()
    add_compliance_checks(app)
    FraudTrainingStack(app, "FraudTraining", code_dir=code_dir, schema="churn")
    return app


if __name__ == "__main__":
    main(sys.argv).synth()
