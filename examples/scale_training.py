"""Level 2 for data that outgrows one machine, or a model worth a search: the same stack with
SageMaker's XGBoost on four instances (the data sharded by S3 key), or with a hyperparameter
tuning step in place of the single training job.

Run it: ``npx cdk synth --app "python -m examples.scale_training"`` (no AWS account needed).
Run either pipeline on this machine after ``cdk synth``:
``cdk-mlops run-pipeline cdk.out/ChurnDistributed.template.json --data churn.csv``.
"""

from __future__ import annotations

import aws_cdk as cdk

from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.levels import RepeatableSettings
from cdk_mlops.pipelines.tuning import TuningSettings
from cdk_mlops.pipelines.xgboost import XGBoostSettings
from cdk_mlops.stacks import RepeatableStack


def add_stacks(app: cdk.App, env: cdk.Environment | None = None) -> list[RepeatableStack]:
    """``ChurnDistributed`` (XGBoost on 4 instances) and ``ChurnTuned`` (12 candidates)."""
    distributed = RepeatableStack(
        app,
        "ChurnDistributed",
        env=env,
        repeatable=RepeatableSettings(
            xgboost=XGBoostSettings(
                instance_count=4, hyperparameters={"max_depth": 8, "num_round": 500}
            ),
            intended_use="Churn risk of monthly customers for retention offers",
        ),
    )
    tuned = RepeatableStack(
        app,
        "ChurnTuned",
        env=env,
        repeatable=RepeatableSettings(
            tuning=TuningSettings(max_jobs=12, max_parallel_jobs=3, random_seed=42),
        ),
    )
    return [distributed, tuned]


if __name__ == "__main__":
    app = cdk.App()
    add_compliance_checks(app)
    add_stacks(app)
    app.synth()
