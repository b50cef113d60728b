"""SageMaker's built-in XGBoost algorithm (algorithm mode), as a local job.

What the executor runs for a training job on a ``sagemaker-xgboost`` image with neither a
container entry point nor ``sagemaker_program``: the image's own training, for the part of its
contract this library uses. ``text/csv`` channels (headerless, the label in the first column)
``train`` and, if given, ``validation``; hyperparameters from ``hyperparameters.json`` (strings;
``num_round`` required; the booster parameters passed to ``xgboost.train``); the evaluation
lines the image prints (``[3]#011train-auc:0.91#011validation-auc:0.87``), which metric
definitions match; the booster saved to ``/opt/ml/model/xgboost-model``.

One process trains on every file of every channel. With several instances and
``ShardedByS3Key`` SageMaker gives each instance its own files and the instances build each
tree together (Rabit allreduce of the gradient histograms), which is the same model up to the
histogram sketch; a shard distribution that leaves an instance without data only shows there.

    python -m cdk_mlops.executor.xgboost_algorithm   # in a job folder (SAGEMAKER_BASE_DIR)
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

#: Hyperparameters the container reads itself, not booster parameters.
_CONTAINER_ONLY = frozenset(
    {"num_round", "early_stopping_rounds", "csv_weights", "save_model_on_termination", "_kfold"}
)
#: Booster parameters this emulation accepts (the ones the algorithm documents for trees).
BOOSTER_PARAMETERS = frozenset(
    {
        "objective", "eval_metric", "eta", "max_depth", "min_child_weight", "subsample",
        "colsample_bytree", "colsample_bylevel", "colsample_bynode", "gamma", "lambda", "alpha",
        "max_delta_step", "scale_pos_weight", "tree_method", "max_bin", "seed", "booster",
        "grow_policy", "max_leaves", "num_parallel_tree", "base_score", "verbosity", "nthread",
    }
)  # fmt: skip


class AlgorithmError(Exception):
    """What the real container would refuse, in its terms."""


def _read_csv_channel(folder: Path) -> tuple[Any, Any]:
    import numpy as np

    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise AlgorithmError(f"No data in channel path {folder}")
    parts = []
    for path in files:
        data = np.loadtxt(path, delimiter=",", ndmin=2)
        if data.shape[1] < 2:
            raise AlgorithmError(f"{path.name}: a CSV row needs the label and at least a feature")
        parts.append(data)
    matrix = np.vstack(parts)
    return matrix[:, 1:], matrix[:, 0]


def _params(raw: dict[str, str]) -> tuple[dict[str, Any], int, int | None]:
    unknown = sorted(set(raw) - BOOSTER_PARAMETERS - _CONTAINER_ONLY)
    if unknown:
        raise AlgorithmError(f"Hyperparameter(s) {unknown} not supported (by this emulation)")
    if "num_round" not in raw:
        raise AlgorithmError("Missing required hyperparameter: num_round")
    rounds = int(raw["num_round"])
    stop = int(raw["early_stopping_rounds"]) if "early_stopping_rounds" in raw else None
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _CONTAINER_ONLY:
            continue
        if key == "eval_metric":
            params[key] = value.split(",")
            continue
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params, rounds, stop


def main() -> int:
    import xgboost

    base = Path(os.environ.get("SAGEMAKER_BASE_DIR", "/opt/ml"))
    config = base / "input" / "config"
    failure = base / "output" / "failure"
    try:
        raw = json.loads((config / "hyperparameters.json").read_text(encoding="utf-8"))
        data_config = json.loads((config / "inputdataconfig.json").read_text(encoding="utf-8"))
        for name, channel in data_config.items():
            content = str(channel.get("ContentType", "")).split(";")[0].strip()
            if content not in ("text/csv", "csv"):
                raise AlgorithmError(
                    f"channel {name}: content type {content or '(none)'!r}; this emulation reads "
                    "text/csv only"
                )
        if "train" not in data_config:
            raise AlgorithmError("Channel 'train' is required")
        params, rounds, stop = _params({k: str(v) for k, v in raw.items()})
        x, y = _read_csv_channel(base / "input" / "data" / "train")
        dtrain = xgboost.DMatrix(x, label=y)
        evals = [(dtrain, "train")]
        if "validation" in data_config:
            xv, yv = _read_csv_channel(base / "input" / "data" / "validation")
            evals.append((xgboost.DMatrix(xv, label=yv), "validation"))
        if x.shape[0] == 0:
            raise AlgorithmError("No data in the train channel")
    except (AlgorithmError, ValueError, OSError) as exc:
        failure.parent.mkdir(parents=True, exist_ok=True)
        failure.write_text(f"AlgorithmError: {exc}\n", encoding="utf-8")
        print(f"AlgorithmError: {exc}", file=sys.stderr)
        return 1

    class _Log(xgboost.callback.TrainingCallback):
        """The container's evaluation lines: ``[i]#011<data>-<metric>:<value>...``."""

        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            cells = [
                f"{data}-{metric}:{values[-1]:.5f}"
                for data, metrics in evals_log.items()
                for metric, values in metrics.items()
            ]
            print(f"[{epoch}]#011" + "#011".join(cells), flush=True)
            return False

    booster = xgboost.train(
        params,
        dtrain,
        num_boost_round=rounds,
        evals=evals,
        early_stopping_rounds=stop,
        callbacks=[_Log()],
        verbose_eval=False,
    )
    model = base / "model"
    model.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(model / "xgboost-model"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
