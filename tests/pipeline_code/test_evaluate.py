"""Evaluation: registry-format metrics, bias metrics, HTML report, quality gate."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from pipeline_code.data.tables import read_table
from pipeline_code.evaluation.bias import bias_metrics
from pipeline_code.evaluation.evaluate import evaluate, main
from pipeline_code.evaluation.gate import check_quality_gate, record_quality_gate
from pipeline_code.evaluation.metrics import SCALAR_METRICS, binary_classification_metrics
from pipeline_code.evaluation.report import render_report, roc_svg
from pipeline_code.schema import Schema
from pipeline_code.training.train import Hyperparameters, train


@pytest.fixture(scope="module")
def scored() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = (rng.random(800) < 0.3).astype(int)
    score = np.clip(0.3 * y + rng.random(800) * 0.8, 0, 1)
    return y, score


@pytest.fixture(scope="module")
def evaluation(
    churn_model: Path, churn_splits: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("evaluation")
    return evaluate(churn_model, churn_splits["test"], out), out


def test_metrics_match_scikit_learn(scored: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = scored
    m = binary_classification_metrics(y, s, threshold=0.5)
    pred = (s >= 0.5).astype(int)
    assert m["accuracy"]["value"] == pytest.approx(accuracy_score(y, pred))
    assert m["precision"]["value"] == pytest.approx(precision_score(y, pred))
    assert m["recall"]["value"] == pytest.approx(recall_score(y, pred))
    assert m["f1"]["value"] == pytest.approx(f1_score(y, pred))
    assert m["auc"]["value"] == pytest.approx(roc_auc_score(y, s))
    tn, fp = int(((y == 0) & (pred == 0)).sum()), int(((y == 0) & (pred == 1)).sum())
    fn, tp = int(((y == 1) & (pred == 0)).sum()), int(((y == 1) & (pred == 1)).sum())
    assert m["confusion_matrix"] == {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}}


def test_metrics_have_the_registry_shape(scored: tuple[np.ndarray, np.ndarray]) -> None:
    m = binary_classification_metrics(*scored)
    for name in SCALAR_METRICS:
        assert set(m[name]) == {"value", "standard_deviation"}
        assert 0 < m[name]["standard_deviation"] < 0.1  # bootstrap spread of 800 rows
    roc = m["receiver_operating_characteristic_curve"]
    assert len(roc["false_positive_rates"]) == len(roc["true_positive_rates"]) <= 200
    assert roc["false_positive_rates"][0] == 0.0 and roc["true_positive_rates"][-1] == 1.0
    assert "precisions" in m["precision_recall_curve"]


def test_one_class_test_data_gives_nan_not_a_crash() -> None:
    m = binary_classification_metrics(np.zeros(20, dtype=int), np.linspace(0, 1, 20))
    assert m["auc"] == {"value": "NaN", "standard_deviation": "NaN"}
    assert m["recall"]["value"] == "NaN"
    assert "receiver_operating_characteristic_curve" not in m
    json.dumps(m, allow_nan=False)  # strict JSON


@pytest.mark.parametrize(
    ("y", "s", "kwargs", "message"),
    [
        ([0, 1], [0.5], {}, "same length"),
        ([], [], {}, "zero rows"),
        ([0, 2], [0.1, 0.2], {}, "0/1 labels"),
        ([0, 1], [0.1, 0.2], {"threshold": 1.5}, "threshold"),
    ],
)
def test_metrics_fail_on_bad_input(
    y: list[int], s: list[float], kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        binary_classification_metrics(
            np.array(y), np.array(s), threshold=kwargs.get("threshold", 0.5)
        )


def test_bias_metrics_by_hand(churn: Schema) -> None:
    df = pd.DataFrame(
        {
            "gender": ["female"] * 10 + ["male"] * 10 + ["nonbinary"] * 2,
            "senior_citizen": ["true", "false"] * 11,
        }
    )
    female_y, male_y, nonbinary_y = (
        [1, 1, 1, 1, 0, 0, 0, 0, 0, 0],
        [1, 1, 0, 0, 0, 0, 0, 0, 0, 0],
        [1, 0],
    )
    y = np.array([*female_y, *male_y, *nonbinary_y])
    female_p, male_p, nonbinary_p = (
        [1, 1, 0, 0, 1, 0, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
        [1, 1],
    )
    pred = np.array([*female_p, *male_p, *nonbinary_p])
    b = bias_metrics(df, y, pred, churn, min_group_size=5)["gender"]
    assert b["groups"]["female"]["selection_rate"] == pytest.approx(0.3)
    assert b["groups"]["male"]["selection_rate"] == pytest.approx(0.5)
    assert b["groups"]["female"]["true_positive_rate"] == pytest.approx(0.5)
    assert b["groups"]["male"]["true_positive_rate"] == pytest.approx(1.0)
    assert b["demographic_parity_difference"] == pytest.approx(0.2)
    assert b["equal_opportunity_difference"] == pytest.approx(0.5)
    assert b["disparate_impact"] == pytest.approx(0.6)
    assert b["excluded_groups"] == ["nonbinary"]  # 2 rows: too few to compare
    assert b["groups"]["nonbinary"]["count"] == 2
    assert b["reference_group"] in ("female", "male")


def test_bias_metrics_fail_without_the_sensitive_column(churn: Schema) -> None:
    df = pd.DataFrame({"gender": ["female", "male"]})
    with pytest.raises(ValueError, match="senior_citizen"):
        bias_metrics(df, np.array([0, 1]), np.array([0, 1]), churn)


def test_bias_metrics_are_null_when_undefined(churn: Schema) -> None:
    df = pd.DataFrame({"gender": ["female"] * 12, "senior_citizen": ["true"] * 12})
    b = bias_metrics(df, np.zeros(12, dtype=int), np.zeros(12, dtype=int), churn)
    assert b["gender"]["demographic_parity_difference"] is None  # one group only
    assert b["gender"]["groups"]["female"]["true_positive_rate"] is None  # no positives


def test_evaluate_writes_strict_json_with_metrics_bias_and_info(
    evaluation: tuple[dict[str, Any], Path],
) -> None:
    result, out = evaluation
    on_disk = json.loads((out / "evaluation.json").read_text())
    assert on_disk == result
    assert set(on_disk) == {
        "binary_classification_metrics",
        "bias_metrics",
        "confidence_bounds",
        "feature_importance",
        "evaluation_info",
    }
    assert on_disk["binary_classification_metrics"]["auc"]["value"] > 0.7
    assert set(on_disk["bias_metrics"]) == {"gender", "senior_citizen"}
    assert on_disk["evaluation_info"]["test_rows"] == sum(
        sum(v.values())
        for v in on_disk["binary_classification_metrics"]["confusion_matrix"].values()
    )


def test_report_has_svg_roc_and_confusion_matrix(evaluation: tuple[dict[str, Any], Path]) -> None:
    result, out = evaluation
    page = (out / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page and "<polyline" in page
    cm = result["binary_classification_metrics"]["confusion_matrix"]
    assert f"<td>{cm['1']['1']}</td>" in page
    assert "demographic parity difference" in page


def test_report_escapes_names_and_handles_missing_roc() -> None:
    page = render_report(
        {"binary_classification_metrics": {}, "evaluation_info": {"schema": "<x>"}}, title="a&b"
    )
    assert "&lt;x&gt;" in page and "a&amp;b" in page and "only one class" in page
    svg = roc_svg([0.0, 1.0], [0.0, 1.0], auc=0.5)
    assert svg.count("<polyline") == 1 and "AUC 0.5000" in svg


def test_evaluate_main_uses_a_model_folder_holding_the_tarball(
    churn_model: Path, churn_splits: dict[str, Path], tmp_path: Path
) -> None:
    rc = main(
        [
            "--model",
            str(churn_model.parent),
            "--test",
            str(churn_splits["test"]),
            "--output-dir",
            str(tmp_path),
            "--bootstrap",
            "0",
        ]
    )
    assert rc == 0
    m = json.loads((tmp_path / "evaluation.json").read_text())["binary_classification_metrics"]
    assert m["auc"]["standard_deviation"] == "NaN"  # no bootstrap asked for


# ------------------------------------------------------------------------------ quality gate
def test_gate_passes_and_fails_on_the_threshold(evaluation: tuple[dict[str, Any], Path]) -> None:
    result, out = evaluation
    auc = result["binary_classification_metrics"]["auc"]["value"]
    ok = check_quality_gate(out / "evaluation.json", "auc", 0.6)
    assert ok.passed and ok.value == auc and "passed" in ok.message
    bad = check_quality_gate(result, "auc", 0.99)
    assert not bad.passed
    assert f"auc = {auc:.4f}, required >= 0.99" in bad.message


def test_gate_on_bias_differences_requires_at_most(evaluation: tuple[dict[str, Any], Path]) -> None:
    result, _ = evaluation
    metric = "bias_metrics.senior_citizen.demographic_parity_difference"
    value = result["bias_metrics"]["senior_citizen"]["demographic_parity_difference"]
    assert check_quality_gate(result, metric, value + 0.01).passed
    failed = check_quality_gate(result, metric, value - 0.01)
    assert not failed.passed and "required <=" in failed.message


def test_gate_fails_on_undefined_metric_values() -> None:
    data = {"binary_classification_metrics": {"auc": {"value": "NaN", "standard_deviation": "NaN"}}}
    result = check_quality_gate(data, "auc", 0.5)
    assert not result.passed and result.value is None and "undefined" in result.message


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        ("roc", "metric 'roc' is not in the evaluation; available: \\['auc'"),
        ("bias_metrics.age.x", "stopped at 'age'"),
    ],
)
def test_gate_names_unknown_metrics(metric: str, message: str) -> None:
    data = {"binary_classification_metrics": {"auc": {"value": 0.8}}, "bias_metrics": {}}
    with pytest.raises(ValueError, match=message):
        check_quality_gate(data, metric, 0.5)


def test_gate_fails_clearly_on_bad_files_and_thresholds(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run the evaluation step"):
        check_quality_gate(tmp_path / "evaluation.json", "auc", 0.7)
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        check_quality_gate(tmp_path / "bad.json", "auc", 0.7)
    with pytest.raises(ValueError, match="binary_classification_metrics"):
        check_quality_gate({}, "auc", 0.7)
    with pytest.raises(ValueError, match="finite number"):
        check_quality_gate({}, "auc", math.nan)


# ------------------------------------------------ quality gate on the lower bound (item 4)
SURVEY_LIKE = {
    "binary_classification_metrics": {"auc": {"value": 0.687, "standard_deviation": 0.018}}
}


def test_gate_on_the_lower_confidence_bound() -> None:
    """AUC 0.687 +- 0.018: the point gate at 0.7 rejects it; a lower-bound gate states a
    confidence instead (one-sided, value - z * std. dev., z = 1.645 at 0.95)."""
    assert not check_quality_gate(SURVEY_LIKE, "auc", 0.7).passed
    lower = 0.687 - 1.6448536 * 0.018
    ok = check_quality_gate(SURVEY_LIKE, "auc", 0.65, bound="lower")
    assert ok.passed and ok.value == pytest.approx(lower) and ok.point_value == 0.687
    assert (ok.bound, ok.confidence_level, ok.standard_deviation) == ("lower", 0.95, 0.018)
    assert "auc lower 95% confidence bound = 0.6574" in ok.message
    assert "0.6870 - 1.645 x std. dev. 0.0180" in ok.message
    bad = check_quality_gate(SURVEY_LIKE, "auc", 0.66, bound="lower", confidence_level=0.95)
    assert not bad.passed and "required >= 0.66" in bad.message
    loose = check_quality_gate(SURVEY_LIKE, "auc", 0.66, bound="lower", confidence_level=0.8)
    assert loose.passed and loose.value == pytest.approx(0.687 - 0.8416212 * 0.018)
    # the point gate is unchanged and says so
    assert check_quality_gate(SURVEY_LIKE, "auc", 0.68).to_record()["bound"] == "point"


def test_lower_bound_gate_fails_clearly_without_a_standard_deviation() -> None:
    no_boot = {
        "binary_classification_metrics": {"auc": {"value": 0.8, "standard_deviation": "NaN"}}
    }
    result = check_quality_gate(no_boot, "auc", 0.7, bound="lower")
    assert not result.passed and result.value is None and "--bootstrap 2 or more" in result.message
    data = {**SURVEY_LIKE, "bias_metrics": {"g": {"demographic_parity_difference": 0.1}}}
    with pytest.raises(ValueError, match="higher is better"):
        check_quality_gate(data, "bias_metrics.g.demographic_parity_difference", 0.2, bound="lower")
    with pytest.raises(ValueError, match="gate bound must be one of \\['point', 'lower'\\]"):
        check_quality_gate(SURVEY_LIKE, "auc", 0.7, bound="upper")
    with pytest.raises(ValueError, match="confidence level"):
        check_quality_gate(SURVEY_LIKE, "auc", 0.7, bound="lower", confidence_level=1.0)
    # a dotted path to the registry value also finds the standard deviation beside it
    dotted = check_quality_gate(
        SURVEY_LIKE, "binary_classification_metrics.auc.value", 0.65, bound="lower"
    )
    assert dotted.passed and dotted.value == pytest.approx(0.687 - 1.6448536 * 0.018)


def test_evaluation_holds_lower_bounds_a_pipeline_condition_can_read(
    evaluation: tuple[dict[str, Any], Path],
) -> None:
    result, _ = evaluation
    auc = result["binary_classification_metrics"]["auc"]
    bounds = result["confidence_bounds"]
    assert bounds["confidence_level"] == 0.95 and bounds["z"] == pytest.approx(1.644854)
    assert "value - z * standard_deviation" in bounds["method"]
    expected = auc["value"] - 1.6448536 * auc["standard_deviation"]
    assert bounds["auc"]["lower"] == pytest.approx(expected)
    # the same number through the gate, whether computed or read from the section
    assert check_quality_gate(result, "auc", 0.5, bound="lower").value == pytest.approx(expected)
    assert check_quality_gate(result, "confidence_bounds.auc.lower", 0.5).value == pytest.approx(
        expected
    )


def test_recorded_gate_says_which_value_and_bound_were_compared(
    evaluation: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    _, out = evaluation
    shutil.copy(out / "evaluation.json", tmp_path / "evaluation.json")
    result = check_quality_gate(tmp_path / "evaluation.json", "auc", 0.6, bound="lower")
    data = record_quality_gate(tmp_path / "evaluation.json", result)
    on_disk = json.loads((tmp_path / "evaluation.json").read_text())
    assert on_disk == data
    gate = on_disk["quality_gate"]
    assert gate["bound"] == "lower" and gate["confidence_level"] == 0.95
    assert gate["compared_value"] == pytest.approx(result.value)
    assert gate["point_value"] == on_disk["binary_classification_metrics"]["auc"]["value"]
    assert (gate["operator"], gate["threshold"], gate["passed"]) == (">=", 0.6, True)
    page = (tmp_path / "report.html").read_text()
    assert "<h2>Quality gate</h2>" in page
    assert "compared the lower 0.9500 one-sided confidence bound of auc" in page
    point = check_quality_gate(tmp_path / "evaluation.json", "auc", 0.6)
    record_quality_gate(tmp_path / "evaluation.json", point)
    assert "compared the point value of auc" in (tmp_path / "report.html").read_text()


def test_evaluate_main_takes_the_confidence_level(
    churn_model: Path, churn_splits: dict[str, Path], tmp_path: Path
) -> None:
    args = ["--model", str(churn_model), "--test", str(churn_splits["test"])]
    assert main([*args, "--output-dir", str(tmp_path), "--confidence-level", "0.9"]) == 0
    on_disk = json.loads((tmp_path / "evaluation.json").read_text())
    assert on_disk["confidence_bounds"]["confidence_level"] == 0.9
    assert on_disk["evaluation_info"]["confidence_level"] == 0.9
    with pytest.raises(ValueError, match="confidence level"):
        main([*args, "--output-dir", str(tmp_path / "x"), "--confidence-level", "95"])


# ------------------------------------------------------ the user's label values (item 5)
@pytest.fixture(scope="module")
def flipped_evaluation(
    churn: Schema, churn_splits: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Path]:
    """A model whose schema says the file wrote the positive class as ``0`` (and negative
    ``1``): the encoded 1 (positive) rows are the user's ``0``."""
    flipped = Schema.from_dict(
        {**churn.to_dict(), "target": {"name": "churned", "positive": 0, "negative": 1}}
    )
    base = tmp_path_factory.mktemp("flipped")
    trained = train(churn_splits["train"], base / "model", flipped, Hyperparameters(max_iter=20))
    return evaluate(trained.model_dir, churn_splits["test"], base / "evaluation"), base


def test_report_shows_the_users_labels_not_the_encoding(
    flipped_evaluation: tuple[dict[str, Any], Path],
) -> None:
    result, base = flipped_evaluation
    labels = result["evaluation_info"]["labels"]
    assert labels == {
        "target": "churned",
        "positive": "0",
        "negative": "1",
        "encoding": {"1": "0", "0": "1"},
    }
    cm = result["binary_classification_metrics"]["confusion_matrix"]  # machine keys: encoded
    assert set(cm) == {"0", "1"} and cm["1"]["1"] > 0
    page = (base / "evaluation" / "report.html").read_text()
    # the row of the user's class 0 (encoded 1) holds the encoded-1 counts, columns likewise
    assert "<th></th><th>predicted 1</th><th>predicted 0</th>" in page
    assert f"<tr><th>actual 0</th><td>{cm['1']['0']}</td><td>{cm['1']['1']}</td></tr>" in page
    assert f"<tr><th>actual 1</th><td>{cm['0']['0']}</td><td>{cm['0']['1']}</td></tr>" in page
    assert "positive class <b>0</b>, negative class <b>1</b>" in page


def test_one_class_test_data_is_named_by_the_users_label(
    churn: Schema,
    churn_splits: dict[str, Path],
    flipped_evaluation: tuple[dict[str, Any], Path],
    tmp_path: Path,
) -> None:
    _, base = flipped_evaluation
    test = read_table(churn_splits["test"], churn)
    test[test["churned"] == 1].to_csv(tmp_path / "test.csv", index=False)  # user's 0 only
    result = evaluate(base / "model", tmp_path / "test.csv", tmp_path / "out", bootstrap=0)
    info = result["evaluation_info"]
    assert info["classes_present"] == ["0"]
    assert info["warnings"] == [
        "the test data holds only churned=0 rows (no churned=1): AUC and the curves are undefined"
    ]
    page = (tmp_path / "out" / "report.html").read_text()
    assert "ROC curve undefined: the test data has only 0 rows" in page


# --------------------------------------- report: threshold, PR curve, importance (item 9)
def test_report_names_threshold_and_draws_the_precision_recall_curve(
    evaluation: tuple[dict[str, Any], Path],
) -> None:
    result, out = evaluation
    page = (out / "report.html").read_text()
    assert "Decision threshold <b>0.5000</b>: a row is predicted <b>1</b>" in page
    assert "Target <b>churned</b>" in page
    assert "<h2>Precision-recall curve</h2><svg" in page
    assert page.count("<polyline") == 2  # ROC and precision-recall
    assert 'aria-label="Precision-recall curve"' in page
    assert page.count("<circle") == 2  # the threshold's operating point on both curves
    # the PR marker sits at (recall, precision) of the threshold
    m = result["binary_classification_metrics"]
    pad, inner = 40, 240
    cx = pad + m["recall"]["value"] * inner
    cy = pad + (1 - m["precision"]["value"]) * inner
    assert f'<circle cx="{cx:.1f}" cy="{cy:.1f}"' in page


def test_feature_importance_is_permutation_on_a_bounded_seeded_sample(
    churn: Schema, churn_model: Path, churn_splits: dict[str, Path], tmp_path: Path
) -> None:
    runs = [
        evaluate(
            churn_model,
            churn_splits["test"],
            tmp_path / run,
            bootstrap=0,
            importance_rows=150,
            importance_repeats=2,
            seed=4,
        )["feature_importance"]
        for run in ("a", "b")
    ]
    fi = runs[0]
    assert fi == runs[1]  # seeded
    assert (fi["method"], fi["scoring"], fi["rows"], fi["n_repeats"]) == (
        "permutation",
        "roc_auc",
        150,
        2,
    )
    assert fi["test_rows"] > 150
    assert set(fi["features"]) == set(churn.feature_names)
    means = [v["mean"] for v in fi["features"].values()]
    assert means == sorted(means, reverse=True) and means[0] > 0
    page = (tmp_path / "a" / "report.html").read_text()
    assert "<h2>Feature importance</h2>" in page
    assert 'aria-label="Permutation feature importance"' in page
    assert "150 rows sampled of" in page
    top = next(iter(fi["features"]))
    assert f">{top}</text>" in page
    off = evaluate(
        churn_model, churn_splits["test"], tmp_path / "off", bootstrap=0, importance_rows=0
    )["feature_importance"]
    assert off["features"] == {} and off["skipped"] == "turned off"
