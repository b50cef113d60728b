"""The loaded model: the fitted pipeline, its schema, the per-column checks built from the
schema, and the model's input frame assembled from checked columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..schema import ColumnSpec, Schema
from .errors import ModelLoadError


@dataclass(frozen=True)
class _NumericCheck:
    name: str
    lo: float
    hi: float
    integer: bool
    nullable: bool
    spec: ColumnSpec

    def describe(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        if math.isfinite(self.lo) and math.isfinite(self.hi):
            return f"{kind} between {self.spec.min:g} and {self.spec.max:g}"
        if math.isfinite(self.lo):
            return f"{kind} >= {self.spec.min:g}"
        if math.isfinite(self.hi):
            return f"{kind} <= {self.spec.max:g}"
        return kind


@dataclass(frozen=True)
class _CategoricalCheck:
    name: str
    categories: tuple[str, ...]
    index: pd.Index
    boolean: bool
    nullable: bool
    category_set: frozenset[str]
    #: the categories that are numbers, by value: a code matches whether sent 2, 2.0 or "2"
    codes: dict[float, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadedModel:
    """What ``model_fn`` returns: the fitted pipeline plus everything needed to check requests."""

    pipeline: Any
    schema: Schema
    metadata: dict[str, Any]
    positive_index: int
    decision_threshold: float
    checks: tuple[_NumericCheck | _CategoricalCheck, ...] = field(repr=False)
    #: where the numeric / text features sit in ``schema.feature_names`` (for the frame blocks)
    numeric_positions: npt.NDArray[np.intp] = field(
        repr=False, default_factory=lambda: np.empty(0, np.intp)
    )
    text_positions: npt.NDArray[np.intp] = field(
        repr=False, default_factory=lambda: np.empty(0, np.intp)
    )
    columns: pd.Index = field(repr=False, default_factory=lambda: pd.Index([]))

    @classmethod
    def from_parts(
        cls, pipeline: Any, schema: Schema, metadata: dict[str, Any] | None = None
    ) -> LoadedModel:
        """Check a pipeline against the schema and precompute the per-column checks."""
        metadata = metadata or {}
        if not hasattr(pipeline, "predict_proba"):
            raise ModelLoadError(
                f"the model is a {type(pipeline).__name__} without predict_proba; train a classifier "
                "pipeline that outputs probabilities"
            )
        names_in = getattr(pipeline, "feature_names_in_", None)
        if names_in is not None and list(names_in) != schema.feature_names:
            raise ModelLoadError(
                f"the model was fitted on columns {list(names_in)} but schema {schema.name!r} has features "
                f"{schema.feature_names}; package the schema the model was trained with"
            )
        classes = [str(c) for c in getattr(pipeline, "classes_", [0, 1])]
        if "1" in classes:
            positive_index = classes.index("1")
        elif schema.target.positive in classes:
            positive_index = classes.index(schema.target.positive)
        else:
            raise ModelLoadError(
                f"the model's classes are {classes}; the positive class must be 1 (the ETL encodes "
                f"{schema.target.name}={schema.target.positive!r} as 1)"
            )
        threshold = float(metadata.get("decision_threshold", 0.5))
        if not 0.0 <= threshold <= 1.0:
            raise ModelLoadError(f"metadata decision_threshold {threshold} must be between 0 and 1")
        checks: list[_NumericCheck | _CategoricalCheck] = []
        for spec in schema.features:
            if spec.is_numeric:
                checks.append(
                    _NumericCheck(
                        spec.name,
                        -math.inf if spec.min is None else spec.min,
                        math.inf if spec.max is None else spec.max,
                        spec.type == "integer",
                        spec.nullable,
                        spec,
                    )
                )
            else:
                cats = spec.allowed_categories
                checks.append(
                    _CategoricalCheck(
                        spec.name,
                        cats,
                        pd.Index(cats, dtype=object),
                        spec.type == "boolean",
                        spec.nullable,
                        frozenset(cats),
                        spec.numeric_codes,
                    )
                )
        numeric = [i for i, c in enumerate(checks) if isinstance(c, _NumericCheck)]
        text = [i for i, c in enumerate(checks) if not isinstance(c, _NumericCheck)]
        return cls(
            pipeline,
            schema,
            metadata,
            positive_index,
            threshold,
            tuple(checks),
            np.asarray(numeric, dtype=np.intp),
            np.asarray(text, dtype=np.intp),
            pd.Index(schema.feature_names, dtype=object),
        )


def _model_frame(
    model: LoadedModel,
    numbers: list[npt.NDArray[np.float64]],
    texts: list[npt.NDArray[np.object_]],
    n: int,
) -> pd.DataFrame:
    """The model's input frame: one float64 block and one object block, columns in schema order.

    Consolidated blocks matter: scikit-learn's column selection reads a frame made of one block
    per dtype about twice as fast as one made of a block per column. Strings stay ``object``:
    pandas 3 would otherwise convert them to its arrow-backed ``str`` dtype, which costs more
    than the whole validation.
    """
    index = pd.RangeIndex(n)
    if _create_frame_from_blocks is not None:
        blocks: list[tuple[Any, npt.NDArray[np.intp]]] = []
        if numbers:
            blocks.append((np.vstack(numbers), model.numeric_positions))
        if texts:
            blocks.append((np.vstack(texts), model.text_positions))
        return _create_frame_from_blocks(blocks, index=index, columns=model.columns)
    out: dict[str, Any] = {}
    num_iter, text_iter = iter(numbers), iter(texts)
    for check in model.checks:
        if isinstance(check, _NumericCheck):
            out[check.name] = next(num_iter)
        else:
            out[check.name] = pd.Series(next(text_iter), index=index, dtype=object, copy=False)
    return pd.DataFrame(out, columns=model.columns, copy=False).copy()  # copy() consolidates


try:  # pandas >= 3.0: build a frame from ready 2D blocks without copies
    from pandas.api.internals import create_dataframe_from_blocks as _create_frame_from_blocks
except ImportError:  # pragma: no cover - pandas 2.x
    _create_frame_from_blocks = None
