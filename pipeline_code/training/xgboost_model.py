"""A trained XGBoost booster as a scikit-learn classifier, so the rest of the workload (evaluate,
the inference handler, champion/challenger, monitoring) serves it like any other model.

The SageMaker XGBoost algorithm writes ``xgboost-model`` (a booster trained on the encoded
features); :mod:`pipeline_code.training.xgboost_package` puts it behind the same preprocessing
the shards were encoded with, in a ``model.joblib`` pipeline. Scoring needs the ``xgboost``
package: it is in the SageMaker XGBoost image, which evaluates and serves these models, and in
the ``xgboost`` extra locally. The booster is pickled as its raw UBJSON bytes, not as a Python
object, so a pickle does not depend on xgboost's Python classes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class BoosterClassifier(ClassifierMixin, BaseEstimator):
    """``predict_proba`` of a binary-logistic booster (column 1: the positive class), as a
    fitted scikit-learn classifier (``classes_``, ``predict_proba``, ``predict``).
    """

    def __init__(self, booster_raw: bytes, *, num_features: int) -> None:
        if not booster_raw:
            raise ValueError("booster_raw is empty; pass the bytes of a trained booster")
        self.booster_raw = bytes(booster_raw)
        self.num_features = int(num_features)
        self.classes_ = np.array([0, 1])
        self._booster: Any = None

    @classmethod
    def from_file(cls, path: str, *, num_features: int) -> BoosterClassifier:
        """Load the ``xgboost-model`` file SageMaker's XGBoost algorithm writes."""
        import xgboost

        booster = xgboost.Booster()
        booster.load_model(path)
        found = booster.num_features()
        if found != num_features:
            raise ValueError(
                f"{path}: the booster was trained on {found} features but the encoder makes "
                f"{num_features}; the model and the encoded shards do not belong together"
            )
        return cls(bytes(booster.save_raw(raw_format="ubj")), num_features=num_features)

    def _get_booster(self) -> Any:
        if self._booster is None:
            import xgboost

            booster = xgboost.Booster()
            booster.load_model(bytearray(self.booster_raw))
            self._booster = booster
        return self._booster

    def predict_proba(self, x: Any) -> np.ndarray:
        import xgboost

        matrix = np.asarray(x, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[1] != self.num_features:
            raise ValueError(
                f"expected {self.num_features} encoded features per row, got shape {matrix.shape}"
            )
        positive = self._get_booster().predict(xgboost.DMatrix(matrix))
        positive = np.clip(np.asarray(positive, dtype=float), 0.0, 1.0)
        return np.column_stack([1.0 - positive, positive])

    def fit(self, x: Any, y: Any = None) -> BoosterClassifier:
        """Not trainable here: SageMaker's XGBoost algorithm trains the booster."""
        raise NotImplementedError(
            "BoosterClassifier wraps a booster trained by SageMaker's XGBoost algorithm; "
            "retrain with the pipeline, not with fit()"
        )

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def predict(self, x: Any) -> np.ndarray:
        return (self.predict_proba(x)[:, 1] >= 0.5).astype(int)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_booster"] = None  # the raw bytes are the model; the loaded booster is a cache
        return state
