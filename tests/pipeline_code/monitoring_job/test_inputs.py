"""Bad inputs: clear errors naming the input, the value and the fix; reported bad records."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

from pipeline_code.monitoring import bias_drift, job, model_quality, prediction_drift
from pipeline_code.monitoring.ground_truth import join_labels, read_ground_truth
from pipeline_code.schema import Schema


def _gt_line(event_id: str, data: object, encoding: str = "CSV") -> str:
    return json.dumps(
        {"groundTruthData": {"data": data, "encoding": encoding},
         "eventMetadata": {"eventId": event_id}, "eventVersion": "0"}
    )  # fmt: skip


def test_ground_truth_encodings_and_problems(tmp_path: Path, churn_schema: Schema) -> None:
    lines = [
        _gt_line("a", "1"),
        _gt_line("b", base64.b64encode(b"0\n1").decode(), "BASE64"),
        _gt_line("c", "[1, 0, 1]", "JSON"),
        _gt_line("a", "0"),  # a corrected label replaces the first
        '{"eventMetadata": {"eventId": "d"}}',
        "{oops",
        _gt_line("", "1"),
        _gt_line("e", "2"),
    ]
    (tmp_path / "gt.jsonl").write_text("\n".join(lines) + "\n")
    gt = read_ground_truth(tmp_path, churn_schema)
    assert gt.labels == {"a": [0], "b": [0, 1], "c": [1, 0, 1]}
    assert gt.replaced == 1 and gt.lines == 8
    reasons = [b.reason for b in gt.bad_records]
    assert reasons[0].startswith("not a ground-truth record: needs groundTruthData.data")
    assert reasons[1].startswith("ground truth line is not valid JSON")
    assert reasons[2] == "eventMetadata.eventId must be a non-empty string"
    assert reasons[3].startswith("label '2' is neither the positive nor the negative value")
    assert read_ground_truth(tmp_path / "absent", churn_schema).labels == {}


def test_label_count_must_match_the_event_records(tmp_path: Path, churn_schema: Schema) -> None:
    (tmp_path / "gt.jsonl").write_text(_gt_line("b", "0,1,1") + "\n")
    gt = read_ground_truth(tmp_path, churn_schema)
    bad: list = []
    joined = join_labels(np.array(["b", "b"], dtype=object), np.array([0, 1]), gt, bad)
    assert joined.matched == 0 and joined.mismatched_events == 1
    assert "event b has 3 labels for 2 captured records" in bad[0].reason


def test_model_quality_constraint_violation(tmp_path: Path) -> None:
    cons = model_quality.constraints_from_evaluation(
        {"binary_classification_metrics": {"auc": {"value": 0.95}, "f1": {"value": "NaN"}}}
    )
    assert cons["binary_classification_constraints"] == {
        "auc": {"threshold": 0.9, "comparison_operator": "LessThanThreshold"}
    }
    v = model_quality.check_constraints({"auc": 0.8}, cons)
    assert v == [
        {
            "constraint_check_type": "LessThanThreshold",
            "metric_name": "auc",
            "description": "Metric auc with 0.8 was LessThanThreshold 0.9",
        }
    ]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"x": 1}, "expected {'binary_classification_constraints'"),
        ({"binary_classification_constraints": {"aucc": {}}}, "'aucc' is not a metric"),
        (
            {"binary_classification_constraints": {"auc": {"threshold": 1, "comparison_operator": "Less"}}},
            "auc.comparison_operator must be one of",
        ),
        (
            {"binary_classification_constraints": {"auc": {"threshold": "x", "comparison_operator": "LessThanThreshold"}}},
            "auc.threshold must be a number",
        ),
    ],
)  # fmt: skip
def test_fails_when_model_quality_constraints_are_malformed(
    tmp_path: Path, doc: dict, message: str
) -> None:
    (tmp_path / model_quality.CONSTRAINTS_FILE).write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
        model_quality.load_constraints(tmp_path)


def test_bias_violations_name_the_facet(churn_schema: Schema) -> None:
    merged = {"gender": {"female": [40, 10, 5, 45], "male": [80, 5, 10, 5]}}
    stats, violations, values = bias_drift.finish(merged, churn_schema)
    assert values["gender"]["bias_metric_DI"] == pytest.approx(0.1 / 0.55)
    assert {(v["facet"], v["metric_name"]) for v in violations} == {
        ("gender", "DI"), ("gender", "DPPL"), ("gender", "RD"),
    }  # fmt: skip
    assert "disparate impact 0.182 is below 0.8" in violations[0]["description"]
    assert stats["dataset"]["item_count"] == 200


def test_fails_when_the_prediction_baseline_is_unusable(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="reference scores must be a non-empty list of finite"):
        prediction_drift.write_prediction_baseline([0.2, float("nan")], tmp_path)
    prediction_drift.write_prediction_baseline([0.1, 0.7, 0.4], tmp_path)
    cons = json.loads((tmp_path / prediction_drift.CONSTRAINTS_FILE).read_text())
    cons["features"][0]["name"] = "score"
    (tmp_path / prediction_drift.CONSTRAINTS_FILE).write_text(json.dumps(cons))
    with pytest.raises(
        ValueError, match="expected one feature 'prediction_score', got \\['score'\\]"
    ):
        prediction_drift.load_prediction_baseline(tmp_path)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--monitors", "data-quality,drift"], "--monitors 'data-quality,drift' names unknown monitors ['drift']"),
        (["--window-start", "2026-05-01T10:00:00"], "has no time zone; capture times are UTC, add 'Z'"),
        (["--window-end", "yesterday"], "--window-end 'yesterday' is not an ISO 8601 time"),
        (["--shard", "3/2"], "--shard '3/2' needs 0 <= i < n"),
        (["--decision-threshold", "1.5"], "--decision-threshold 1.5 must be between 0 and 1"),
    ],
)  # fmt: skip
def test_cli_fails_with_a_clear_message(
    window: dict[str, Path],
    baseline_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    args = ["--capture-dir", str(window["capture"]), "--baseline-dir", str(baseline_dir),
            "--output-dir", str(tmp_path)]  # fmt: skip
    assert job.main([*args, *extra]) == 2
    assert message in capsys.readouterr().err


def test_cli_fails_when_capture_or_baseline_do_not_fit(
    baseline_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--baseline-dir", str(baseline_dir), "--output-dir", str(tmp_path)]
    assert job.main([*args, "--capture-dir", str(tmp_path / "nothing")]) == 2
    assert "capture folder" in capsys.readouterr().err
    loan = Path(job.__file__).parents[1] / "schemas" / "loan_default.json"
    assert job.main([*args, "--capture-dir", str(tmp_path), "--schema", str(loan)]) == 2
    assert "regenerate the baseline with this schema or pass the matching --schema" in (
        capsys.readouterr().err
    )
    assert job.main([*args, "--capture-dir", str(tmp_path), "--mode", "merge",
                     "--partials-dir", str(tmp_path / "none")]) == 2  # fmt: skip
    assert "no *.partial.json files under" in capsys.readouterr().err


def test_a_shard_parses_only_the_ground_truth_of_its_events(
    tmp_path: Path, churn_schema: Schema
) -> None:
    lines = [_gt_line("mine", "1"), _gt_line("other", "2"), "{broken", _gt_line("mine2", "x")]
    (tmp_path / "gt.jsonl").write_text("\n".join(lines) + "\n")
    first = read_ground_truth(tmp_path, churn_schema, event_ids={"mine", "mine2"})
    assert first.labels == {"mine": [1]} and first.skipped == 1 and first.lines == 4
    assert [b.line for b in first.bad_records] == [3, 4]  # unkeyed line + own bad label
    second = read_ground_truth(
        tmp_path, churn_schema, event_ids={"mine", "mine2"}, report_unkeyed=False
    )
    assert [b.line for b in second.bad_records] == [4]


def test_bias_drift_against_the_evaluation(tmp_path: Path, churn_schema: Schema) -> None:
    merged = {"gender": {"female": [45, 5, 5, 45], "male": [45, 5, 5, 45]}}  # parity on live data
    evaluation = {"gender": {"disparate_impact": 1.0, "demographic_parity_difference": 0.0}}
    _, violations, _ = bias_drift.finish(merged, churn_schema, baseline=evaluation)
    assert violations == []
    worse = {"gender": {"female": [70, 30, 5, 45], "male": [85, 15, 5, 45]}}
    stats, violations, _ = bias_drift.finish(worse, churn_schema, baseline=evaluation)
    texts = [v["description"] for v in violations if "at evaluation" in v["description"]]
    # selection rates 0.5 and 0.4: DI fell by 0.2; the parity difference grew by 0.1 (not more)
    assert texts == [
        "disparate_impact moved from 1.000 at evaluation to 0.800 on live traffic "
        "(worse by 0.200, more than 0.1)"
    ]
    assert stats["bias_metrics"]["gender"]["evaluation"] == evaluation["gender"]
    (tmp_path / "evaluation.json").write_text(json.dumps({"bias_metrics": evaluation}))
    assert bias_drift.load_evaluation_bias(tmp_path) == evaluation
    (tmp_path / "evaluation.json").write_text(json.dumps({"bias_metrics": [1]}))
    with pytest.raises(
        ValueError, match="'bias_metrics' must be an object per sensitive attribute"
    ):
        bias_drift.load_evaluation_bias(tmp_path)
    assert bias_drift.load_evaluation_bias(tmp_path / "absent") is None
