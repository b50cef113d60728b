"""A small hyperparameter search on this machine (``cdk-mlops run-local --tune N``).

The same space as the pipeline's ``Tune`` step (:data:`~.search_space.SEARCH_SPACE`), drawn at
random with a seed (SageMaker's Bayesian strategy chooses later values from earlier results;
this does not), each candidate trained on the train split and scored on the validation split,
the best by validation AUC kept. The test split is never used, so the quality gate still judges
the winner on data the search did not see.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .search_space import OBJECTIVE, SEARCH_SPACE

_SPLIT, _METRIC = OBJECTIVE.split(":")


@dataclass(frozen=True)
class Trial:
    """One candidate: its hyperparameters and validation score (None: it failed)."""

    number: int
    hyperparameters: dict[str, Any]
    score: float | None
    error: str | None = None


@dataclass
class SearchResult:
    """Every trial, and the best one's index."""

    trials: list[Trial] = field(default_factory=list)
    best: int = 0

    @property
    def best_trial(self) -> Trial:
        return self.trials[self.best]


def draw(
    n: int, seed: int, space: Mapping[str, tuple[str, float, float, str]] = SEARCH_SPACE
) -> list[dict[str, Any]]:
    """``n`` candidates from ``space`` (log-uniform for Logarithmic ranges)."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 100:
        raise ValueError(f"--tune {n!r}: the number of candidates must be 1 to 100, e.g. 8")
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        candidate: dict[str, Any] = {}
        for name, (kind, low, high, scaling) in space.items():
            if scaling == "Logarithmic":
                value = math.exp(rng.uniform(math.log(low), math.log(high)))
            else:
                value = rng.uniform(low, high)
            candidate[name] = round(value) if kind == "integer" else round(value, 6)
        out.append(candidate)
    return out


def search(
    candidates: list[dict[str, Any]],
    fit: Callable[[dict[str, Any]], Mapping[str, Mapping[str, float]]],
    on_trial: Callable[[Trial], None] | None = None,
) -> SearchResult:
    """Fit each candidate (``fit`` returns train's metrics by split) and keep the best by
    validation AUC. A candidate whose fit raises or yields no score is kept as failed; all
    failing is an error naming the first reason."""
    result = SearchResult()
    for number, hps in enumerate(candidates, start=1):
        try:
            metrics = fit(hps)
            score = float(metrics.get(_SPLIT, {}).get(_METRIC, float("nan")))
            trial = Trial(number, hps, score if math.isfinite(score) else None)
            if trial.score is None:
                trial = Trial(number, hps, None, f"no finite {OBJECTIVE}")
        except Exception as exc:  # one bad candidate must not end the search
            trial = Trial(number, hps, None, f"{type(exc).__name__}: {exc}")
        result.trials.append(trial)
        if on_trial is not None:
            on_trial(trial)
    scored = [i for i, t in enumerate(result.trials) if t.score is not None]
    if not scored:
        raise RuntimeError(
            f"none of the {len(result.trials)} candidates produced {OBJECTIVE}: "
            f"{result.trials[0].error}"
        )
    result.best = max(scored, key=lambda i: result.trials[i].score or 0.0)
    return result
