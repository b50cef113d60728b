"""``run-local --tune N``: the search space it shares with the pipeline's Tune step, the search,
and the best candidate being the model that is trained, evaluated and registered."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from pipeline_code.cli import RunLocalConfig, main, run_local
from pipeline_code.training.search_space import OBJECTIVE, SEARCH_SPACE
from pipeline_code.training.train import Hyperparameters
from pipeline_code.training.tuning import draw, search


def test_draws_are_seeded_typed_and_inside_the_space() -> None:
    candidates = draw(50, seed=1)
    assert candidates == draw(50, seed=1) and candidates != draw(50, seed=2)
    for candidate in candidates:
        assert set(candidate) == set(SEARCH_SPACE)
        for name, (kind, low, high, _) in SEARCH_SPACE.items():
            assert low <= candidate[name] <= high
            assert isinstance(candidate[name], int if kind == "integer" else float)
        # every draw is a valid set of hyperparameters for train
        Hyperparameters.from_mapping(candidate).validate()
    rates = [c["learning_rate"] for c in candidates]
    low, high = SEARCH_SPACE["learning_rate"][1:3]
    # log-uniform: about half below the geometric midpoint
    assert 15 <= sum(r < math.sqrt(low * high) for r in rates) <= 35


@pytest.mark.parametrize("n", [0, 101, True, 2.5])
def test_a_bad_number_of_candidates_is_refused(n: Any) -> None:
    with pytest.raises(ValueError, match="number of candidates must be 1 to 100"):
        draw(n, seed=0)


def test_search_keeps_failed_candidates_and_picks_the_best_score() -> None:
    scores = iter([0.7, None, 0.9, 0.8])

    def fit(hps: dict[str, Any]) -> dict[str, dict[str, float]]:
        score = next(scores)
        if score is None:
            raise ValueError("diverged")
        return {"validation": {"auc": score}}

    result = search([{"i": i} for i in range(4)], fit)
    assert [t.score for t in result.trials] == [0.7, None, 0.9, 0.8]
    assert result.trials[1].error == "ValueError: diverged"
    assert result.best_trial.number == 3


def test_a_search_where_every_candidate_fails_is_an_error_naming_why() -> None:
    def fit(hps: dict[str, Any]) -> dict[str, dict[str, float]]:
        return {"validation": {"auc": float("nan")}}

    with pytest.raises(RuntimeError, match=f"none of the 2 candidates produced {OBJECTIVE}"):
        search([{}, {}], fit)


@pytest.mark.slow
def test_run_local_tune_trains_and_registers_the_best_candidate(tmp_path: Path) -> None:
    cfg = RunLocalConfig(output=tmp_path, rows=3000, skip_spark=True, level=2, tune=3)
    summary = run_local(cfg)
    tuning = summary["tuning"]
    assert tuning["objective"] == OBJECTIVE and len(tuning["trials"]) == 3
    scores = [t["score"] for t in tuning["trials"]]
    assert tuning["best"] == 1 + scores.index(max(scores))
    best = tuning["trials"][tuning["best"] - 1]["hyperparameters"]
    assert json.loads((tmp_path / "tuning" / "trials.json").read_text()) == tuning
    # the registered model was trained with the winner's hyperparameters
    version = Path(summary["model_package"]["path"])
    import tarfile

    with tarfile.open(version / "model.tar.gz") as tar:
        member = tar.extractfile("metadata.json")
        assert member is not None
        metadata = json.loads(member.read())
    for name, value in best.items():
        assert metadata["hyperparameters"][name] == value


def test_tune_with_another_model_type_is_refused(tmp_path: Path, capsys: Any) -> None:
    code = main(
        [
            "run-local", "--skip-spark", "--level", "2", "--rows", "800",
            "--model-type", "logistic", "--tune", "2", "--output", str(tmp_path),
        ]
    )  # fmt: skip
    assert code == 1
    assert "--tune searches the hgb model's hyperparameters" in capsys.readouterr().err
