"""Champion/challenger on real models: a worse challenger is not registered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pipeline_code.evaluation.evaluate import evaluate
from pipeline_code.retraining.champion import (
    SECTION,
    compare_with_champion,
    record_champion_comparison,
)
from pipeline_code.schema import Schema


def _metrics(auc: float, dpd: float = 0.1) -> dict[str, Any]:
    return {
        "binary_classification_metrics": {"auc": {"value": auc, "standard_deviation": 0.01}},
        "bias_metrics": {"gender": {"demographic_parity_difference": dpd}},
    }


@pytest.fixture(scope="module")
def evaluations(
    churn: Schema,
    churn_splits: dict[str, Path],
    churn_model: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path]:
    """The champion (trained on the real labels) and a challenger trained on shuffled labels,
    both evaluated on the same test split."""
    from pipeline_code.training.train import Hyperparameters, train

    base = tmp_path_factory.mktemp("champion")
    shuffled = base / "train_shuffled"
    shuffled.mkdir()
    rng = np.random.default_rng(0)
    for csv in sorted(churn_splits["train"].glob("*.csv")):
        frame = pd.read_csv(csv)
        frame[churn.target.name] = rng.permutation(frame[churn.target.name].to_numpy())
        frame.to_csv(shuffled / csv.name, index=False)
    worse = train(
        shuffled, base / "model", churn, Hyperparameters(max_iter=60), tarball=base / "worse.tar.gz"
    )
    assert worse.tarball is not None
    evaluate(churn_model, churn_splits["test"], base / "champion", bootstrap=5)
    evaluate(worse.tarball, churn_splits["test"], base / "challenger", bootstrap=5)
    return base / "champion" / "evaluation.json", base / "challenger" / "evaluation.json"


def test_worse_challenger_is_not_registered(evaluations: tuple[Path, Path]) -> None:
    champion, challenger = evaluations
    result = compare_with_champion(challenger, champion, metric="auc", margin=0.01)
    assert not result.passed
    assert result.challenger is not None and result.champion is not None
    assert result.challenger < result.champion - 0.01
    data = record_champion_comparison(challenger, result)
    on_disk = json.loads(challenger.read_text(encoding="utf-8"))
    assert on_disk[SECTION] == data[SECTION] == result.to_record()
    assert on_disk[SECTION]["passed"] is False


def test_champion_against_itself_passes_with_zero_margin(evaluations: tuple[Path, Path]) -> None:
    champion, _ = evaluations
    assert compare_with_champion(champion, champion, margin=0.0).passed


def test_no_champion_passes() -> None:
    result = compare_with_champion(_metrics(0.5), None)
    assert result.passed
    assert result.champion is None
    assert result.message == "no champion: nothing to compare with"


@pytest.mark.parametrize(
    ("new", "old", "margin", "passed"),
    [
        (0.80, 0.80, 0.0, True),
        (0.79, 0.80, 0.0, False),
        (0.79, 0.80, 0.02, True),
        (0.77, 0.80, 0.02, False),
    ],
)
def test_margin_for_higher_is_better(new: float, old: float, margin: float, passed: bool) -> None:
    assert compare_with_champion(_metrics(new), _metrics(old), margin=margin).passed is passed


def test_difference_metrics_are_lower_is_better() -> None:
    metric = "bias_metrics.gender.demographic_parity_difference"
    assert compare_with_champion(_metrics(0.8, 0.05), _metrics(0.8, 0.1), metric=metric).passed
    worse = compare_with_champion(_metrics(0.8, 0.2), _metrics(0.8, 0.1), metric=metric)
    assert not worse.passed
    assert "<= champion" in worse.message


def test_undefined_figures_fail() -> None:
    result = compare_with_champion(
        _metrics(0.8), {"binary_classification_metrics": {"auc": {"value": "NaN"}}}
    )
    assert not result.passed
    assert result.message == "auc of the champion is undefined; cannot compare"


@pytest.mark.parametrize("margin", [-0.1, 1.0, float("nan")])
def test_margin_validation(margin: float) -> None:
    with pytest.raises(ValueError, match=r"margin must be in \[0, 1\), got"):
        compare_with_champion(_metrics(0.8), _metrics(0.8), margin=margin)


@pytest.fixture(scope="module")
def worse_model(evaluations: tuple[Path, Path]) -> Path:
    return evaluations[0].parent.parent / "worse.tar.gz"


def _cli(
    model: Path, test: Path, out: Path, champion_dir: Path | None, margin: float = 0.0
) -> dict[str, Any]:
    from pipeline_code.evaluation.evaluate import main

    argv = ["--model", str(model), "--test", str(test), "--output-dir", str(out),
            "--bootstrap", "5", "--importance-rows", "0"]  # fmt: skip
    if champion_dir is not None:
        argv += ["--champion-model", str(champion_dir), "--champion-margin", str(margin)]
    assert main(argv) == 0
    data: dict[str, Any] = json.loads((out / "evaluation.json").read_text())
    return data


def test_cli_refuses_a_worse_challenger_against_the_production_model(
    churn_splits: dict[str, Path], churn_model: Path, worse_model: Path, tmp_path: Path
) -> None:
    # the champion folder as SageMaker downloads it: the model data object under its key's name
    champion_dir = tmp_path / "champion"
    champion_dir.mkdir()
    (champion_dir / "model.tar.gz").write_bytes(churn_model.read_bytes())
    record = _cli(worse_model, churn_splits["test"], tmp_path / "out", champion_dir)[SECTION]
    assert record["passed"] is False
    assert record["champion"] > record["challenger"]
    # the better model against the worse one as champion passes, both figures recorded
    worse_dir = tmp_path / "worse"
    worse_dir.mkdir()
    (worse_dir / "model.tar.gz").write_bytes(worse_model.read_bytes())
    record = _cli(churn_model, churn_splits["test"], tmp_path / "out2", worse_dir)[SECTION]
    assert record["passed"] is True and record["champion"] < record["challenger"]


def test_cli_without_a_champion_model_passes_and_says_so(
    churn_splits: dict[str, Path], churn_model: Path, tmp_path: Path
) -> None:
    # the pipeline's default input: a marker file, no model
    marker = tmp_path / "no-champion"
    marker.mkdir()
    (marker / "0123abcd.json").write_text('{"champion": null}\n')
    record = _cli(churn_model, churn_splits["test"], tmp_path / "out", marker)[SECTION]
    assert record["passed"] is True and record["champion"] is None
    assert "no champion" in record["message"]
    # without the flag, no section (the level-2 contract is unchanged)
    assert SECTION not in _cli(churn_model, churn_splits["test"], tmp_path / "o2", None)


def test_cli_champion_that_cannot_score_the_data_does_not_block(
    churn_splits: dict[str, Path], churn_model: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    import tarfile

    with tarfile.open(broken / "model.tar.gz", "w:gz") as tar:
        note = tmp_path / "note.txt"
        note.write_text("not a model")
        tar.add(note, arcname="note.txt")
    record = _cli(churn_model, churn_splits["test"], tmp_path / "out", broken)[SECTION]
    assert record["passed"] is True and record["champion"] is None
    assert "could not be evaluated" in record["message"]
