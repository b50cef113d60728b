"""The distributed training backend: SageMaker's XGBoost algorithm on several instances.

With ``TrainingPipelineSettings.xgboost`` set, the pipeline trains for data that outgrows one
machine:

- ``EncodeForXGBoost`` (processing, XGBoost image): fits the training code's preprocessing on
  the train split and writes train and validation as headerless, label-first CSV in
  ``instance_count * shards_per_instance`` files each (``pipeline_code.processing.
  xgboost_input``).
- ``Train`` (training, XGBoost image, algorithm mode): ``instance_count`` instances, both
  channels ``ShardedByS3Key`` (each instance reads its own files; the instances build each tree
  together).
- ``PackageXGBoost`` (processing, XGBoost image): the booster behind the same preprocessing, as
  this workload's ``model.tar.gz`` (``pipeline_code.training.xgboost_package``), so Evaluate,
  Register, serving and monitoring treat it like the scikit-learn model.

Evaluate and the registered model use the XGBoost image too: scoring needs ``xgboost``, and the
pickle is read by the library versions that wrote it. Preprocess, DataVersion and Baseline stay
on the scikit-learn image.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cdk_mlops.pipelines.cache import CacheConfig
from cdk_mlops.pipelines.contract import DATA_VERSION_ENV, TRAIN, P, StepCommand
from cdk_mlops.pipelines.errors import PipelineDefinitionError
from cdk_mlops.pipelines.expressions import ExecutionVariables, Join, JsonGet, Value
from cdk_mlops.pipelines.images import DEFAULT_XGBOOST_VERSION, XGBOOST_VERSIONS
from cdk_mlops.pipelines.network import NetworkConfig
from cdk_mlops.pipelines.processing_step import ProcessingInput, ProcessingOutput, ProcessingStep
from cdk_mlops.pipelines.training_step import MetricDefinition, TrainingChannel, TrainingStep

if TYPE_CHECKING:
    from cdk_mlops.pipelines.training import TrainingPipelineSettings

ENCODE = "EncodeForXGBoost"
PACKAGE = "PackageXGBoost"
ENCODE_MODULE = "processing.xgboost_input"
PACKAGE_MODULE = "training.xgboost_package"
#: Container-read hyperparameters, and the booster parameters this backend accepts.
CONTAINER_HYPERPARAMETERS = frozenset({"num_round", "early_stopping_rounds"})
BOOSTER_HYPERPARAMETERS = frozenset(
    {
        "objective", "eval_metric", "eta", "max_depth", "min_child_weight", "subsample",
        "colsample_bytree", "colsample_bylevel", "colsample_bynode", "gamma", "lambda", "alpha",
        "max_delta_step", "scale_pos_weight", "tree_method", "max_bin", "seed", "grow_policy",
        "max_leaves", "num_parallel_tree", "base_score",
    }
)  # fmt: skip
DEFAULT_HYPERPARAMETERS: Mapping[str, str | int | float] = {
    "objective": "binary:logistic",
    "eval_metric": "auc",
    "num_round": 300,
    "early_stopping_rounds": 20,
    "eta": 0.1,
    "max_depth": 6,
    "min_child_weight": 1,
    "subsample": 0.8,
    "tree_method": "hist",
    "seed": 0,
}
_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
#: The evaluation lines the algorithm prints (``[12]#011train-auc:0.91#011validation-auc:0.87``),
#: as the SageMaker SDK defines them for the built-in XGBoost.
METRIC_DEFINITIONS: tuple[MetricDefinition, ...] = tuple(
    MetricDefinition(name=f"{split}:{metric}", regex=rf".*\[[0-9]+\].*#011{split}-{metric}:{_NUMBER}.*")
    for split in ("validation", "train")
    for metric in ("auc", "logloss")
)  # fmt: skip
_INSTANCE_LIMIT = 100


@dataclass(frozen=True, kw_only=True)
class XGBoostSettings:
    """Train with SageMaker's XGBoost algorithm on ``instance_count`` instances.

    :param instance_count: training instances (1 to 100). Default 2. Each gets
        ``shards_per_instance`` files of each split.
    :param shards_per_instance: files per instance and split. Default 2.
    :param version: the XGBoost image version. Default ``3.0-5``.
    :param hyperparameters: merged over ``DEFAULT_HYPERPARAMETERS`` (binary logistic, AUC,
        up to 300 rounds with early stopping on the validation split, ``hist`` trees).
    """

    instance_count: int = 2
    shards_per_instance: int = 2
    version: str = DEFAULT_XGBOOST_VERSION
    hyperparameters: Mapping[str, str | int | float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, value, low, high in (
            ("instance_count", self.instance_count, 1, _INSTANCE_LIMIT),
            ("shards_per_instance", self.shards_per_instance, 1, 10),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise PipelineDefinitionError(
                    f"XGBoostSettings.{name} {value!r} must be an integer from {low} to {high}"
                )
        if self.version not in XGBOOST_VERSIONS:
            raise PipelineDefinitionError(
                f"XGBoostSettings.version {self.version!r} is not one of {list(XGBOOST_VERSIONS)}"
            )
        allowed = BOOSTER_HYPERPARAMETERS | CONTAINER_HYPERPARAMETERS
        unknown = sorted(set(self.hyperparameters) - allowed)
        if unknown:
            raise PipelineDefinitionError(
                f"XGBoostSettings.hyperparameters {unknown} are not hyperparameters of the XGBoost "
                f"algorithm this backend passes on; allowed: {sorted(allowed)}"
            )
        merged = self.merged_hyperparameters()
        if merged["objective"] != "binary:logistic":
            raise PipelineDefinitionError(
                f"XGBoostSettings.hyperparameters objective {merged['objective']!r}: the workload "
                "scores probabilities of the positive class; use binary:logistic"
            )
        for key in ("num_round", "max_depth"):
            if not re.fullmatch(r"[1-9][0-9]*", str(merged[key])):
                raise PipelineDefinitionError(
                    f"XGBoostSettings.hyperparameters {key} {merged[key]!r} must be a positive "
                    "integer"
                )

    @property
    def shards(self) -> int:
        """Files per split."""
        return self.instance_count * self.shards_per_instance

    def merged_hyperparameters(self) -> dict[str, str | int | float]:
        return {**DEFAULT_HYPERPARAMETERS, **self.hyperparameters}


def check_xgboost(s: TrainingPipelineSettings) -> None:
    """What the XGBoost backend needs from the rest of the training pipeline's settings."""
    if not isinstance(s.xgboost, XGBoostSettings):
        raise PipelineDefinitionError(f"xgboost {s.xgboost!r} must be an XGBoostSettings")
    if s.tuning is not None:
        raise PipelineDefinitionError(
            "tuning and xgboost are both set: the Tune step searches the scikit-learn model's "
            "hyperparameters; choose one"
        )
    if not s.xgboost_image_uri:
        raise PipelineDefinitionError(
            "xgboost needs xgboost_image_uri, the SageMaker XGBoost image "
            "(cdk_mlops.pipelines.images.xgboost_image_uri(scope))"
        )
    if s.hyperparameters:
        raise PipelineDefinitionError(
            f"hyperparameters {sorted(s.hyperparameters)} are the scikit-learn model's; with "
            "xgboost, pass XGBoostSettings(hyperparameters=...)"
        )


def xgboost_steps(
    s: TrainingPipelineSettings,
    *,
    processing: Any,
    preprocess: ProcessingStep,
    output_uri: Any,
    base: str,
    training_type: Value,
    network: NetworkConfig,
    retries: Sequence[Any],
    cache: CacheConfig | None,
    data_version: JsonGet,
) -> tuple[TrainingStep, ProcessingStep, ProcessingStep]:
    """EncodeForXGBoost -> Train (SageMaker's XGBoost, several instances) -> PackageXGBoost,
    for the training-pipeline builder (``processing`` and ``output_uri`` are its helpers)."""
    x = s.xgboost
    assert x is not None and s.xgboost_image_uri is not None
    image = s.xgboost_image_uri
    package_name = s.commands[TRAIN].module.split(".", 1)[0]
    encode_args = (
        "--train", f"{P}/input/train",
        "--validation", f"{P}/input/validation",
        "--shards", str(x.shards),
        "--output-dir", f"{P}/output",
    )  # fmt: skip
    # Preprocess's train and validation splits: what Encode shards and Package scores.
    splits = [
        ProcessingInput(
            input_name=split, source=preprocess.output_uri(split), destination=f"{P}/input/{split}"
        )
        for split in ("train", "validation")
    ]
    encode = processing(
        ENCODE,
        inputs=splits,
        outputs=[
            ProcessingOutput(
                output_name=name,
                source=f"{P}/output/{name}",
                destination=output_uri(ENCODE, name),
            )
            for name in ("train", "validation", "encoder")
        ],
        description=f"Encode train and validation for XGBoost in {x.shards} shards each",
        data_version=data_version,
        image=image,
        command=StepCommand(module=f"{package_name}.{ENCODE_MODULE}", arguments=encode_args),
    )
    hyperparameters = {k: str(v) for k, v in x.merged_hyperparameters().items()}
    train = TrainingStep(
        name=TRAIN,
        description=f"SageMaker's XGBoost on {x.instance_count} instances, data sharded by S3 key",
        role_arn=s.role_arn,
        image_uri=image,
        instance_type=training_type,
        instance_count=x.instance_count,
        output_path=Join(on="/", values=(base, ExecutionVariables.PIPELINE_EXECUTION_ID, TRAIN)),
        volume_kms_key_id=s.kms_key_id,
        output_kms_key_id=s.kms_key_id,
        hyperparameters=hyperparameters,
        metric_definitions=METRIC_DEFINITIONS,
        inputs=tuple(
            TrainingChannel(
                channel_name=split,
                s3_uri=encode.output_uri(split),
                content_type="text/csv",
                s3_data_distribution_type="ShardedByS3Key",
            )
            for split in ("train", "validation")
        ),
        # The algorithm ignores them; they key the step cache on the code and the data.
        environment={"CODE_VERSION": s.code_version, DATA_VERSION_ENV: data_version},
        network=network,
        retry_policies=retries,
        cache_config=cache,
    )
    package_args = (
        "--model", f"{P}/input/model",
        "--encoder", f"{P}/input/encoder",
        "--train", f"{P}/input/train",
        "--validation", f"{P}/input/validation",
        "--output-dir", f"{P}/output/model",
        "--hyperparameters", json.dumps(hyperparameters, sort_keys=True),
    )  # fmt: skip
    package = processing(
        PACKAGE,
        inputs=[
            ProcessingInput(
                input_name="model", source=train.model_artifacts(), destination=f"{P}/input/model"
            ),
            ProcessingInput(
                input_name="encoder",
                source=encode.output_uri("encoder"),
                destination=f"{P}/input/encoder",
            ),
            *splits,
        ],
        outputs=[
            ProcessingOutput(
                output_name="model",
                source=f"{P}/output/model",
                destination=output_uri(PACKAGE, "model"),
            )
        ],
        description="The booster behind the same preprocessing, as the workload's model.tar.gz",
        data_version=data_version,
        image=image,
        command=StepCommand(module=f"{package_name}.{PACKAGE_MODULE}", arguments=package_args),
    )
    return train, package, encode
