"""A small hyperparameter search on this machine (``cdk-mlops run-local --tune N``).

The same space as the pipeline's ``Tune`` step (:data:`~.search_space.SEARCH_SPACE`), drawn at
random with a seed (SageMaker's Bayesian strategy chooses later values from earlier results;
this does not), each candidate trained on the train split and scored on the validation split,
the best by validation AUC kept. The test split is never used, so the quality gate still judges
the winner on data the search did not see.
"""

from __future__ import annotations

import json
import math
import random
import shutil
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
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


def tune_locally(
    hp: Any,
    schema: Any,
    train_dir: Path,
    validation_dir: Path,
    folder: Path,
    *,
    candidates: int,
    seed: int,
) -> tuple[Any, dict[str, Any]]:
    """Search ``candidates`` draws around ``hp`` (a ``Hyperparameters``; ``hgb`` only), each
    trained on ``train_dir`` and scored on ``validation_dir``; write ``folder/trials.json``.
    Returns the winner's hyperparameters and the record (objective, best number, trials)."""
    from .train import train

    if hp.model_type != "hgb":
        raise ValueError(
            f"--tune searches the hgb model's hyperparameters; --model-type is {hp.model_type!r}"
        )

    def fit(values: dict[str, Any]) -> Mapping[str, Mapping[str, float]]:
        candidate = replace(hp, **values)
        candidate.validate()
        result = train(
            train_dir, folder / "model", schema, candidate, validation_path=validation_dir
        )
        metrics: Mapping[str, Mapping[str, float]] = result.metadata["metrics"]
        return metrics

    found = search(draw(candidates, seed), fit)
    record = {
        "objective": OBJECTIVE,
        "best": found.best_trial.number,
        "trials": [asdict(t) for t in found.trials],
    }
    (folder / "trials.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(folder / "model", ignore_errors=True)
    return replace(hp, **found.best_trial.hyperparameters), record
