"""The default hyperparameter search of the training code (no third-party imports).

One table, read by two searches: the pipeline's ``Tune`` step (``cdk_mlops.pipelines.tuning``
turns it into SageMaker parameter ranges) and ``cdk-mlops run-local --tune N``
(:mod:`pipeline_code.training.tuning`). Each entry: name -> (kind, low, high, scaling), kind
``integer`` or ``continuous``, scaling as SageMaker names it (``Linear``, ``Logarithmic``).
"""

from __future__ import annotations

from collections.abc import Mapping

#: The gradient-boosting model's (``model_type`` ``hgb``) main knobs.
SEARCH_SPACE: Mapping[str, tuple[str, float, float, str]] = {
    "learning_rate": ("continuous", 0.02, 0.3, "Logarithmic"),
    "max_iter": ("integer", 50, 400, "Linear"),
    "max_leaf_nodes": ("integer", 8, 64, "Linear"),
    "l2_regularization": ("continuous", 0.0, 1.0, "Linear"),
}
#: What the search maximizes: the metric train prints for the validation split.
OBJECTIVE = "validation:auc"
