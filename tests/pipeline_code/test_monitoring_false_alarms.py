"""Drift check calibration (issue 8, items 3 and 8): sample sizes, repeated rows, schema ranges.

The issue's case: a 570-row data set, a 400-row baseline, 2,000 traffic rows re-drawn from an
85-row test split. At a fixed 0.1 distance about half of the undrifted features were flagged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline_code.monitoring import drift as D
from pipeline_code.monitoring import formats, stats
from pipeline_code.monitoring.baseline import build_baseline
from pipeline_code.schema import Schema

NAMES = [f"x{j}" for j in range(10)]


@pytest.fixture(scope="module")
def schema() -> Schema:
    return Schema.from_dict(
        {
            "name": "calibration",
            "id_column": "row_id",
            "target": {"name": "label", "positive": 1, "negative": 0},
            "features": [
                {"name": n, "type": "integer" if j % 5 == 4 else "float"}
                for j, n in enumerate(NAMES)
            ]
            + [{"name": "age", "type": "integer", "min": 18, "max": 99}],
        }
    )


def _draw(rng: np.random.Generator, rows: int, shift: float = 0.0) -> pd.DataFrame:
    cols: dict[str, np.ndarray] = {}
    for j, name in enumerate(NAMES):
        kind = j % 5
        if kind == 0:
            x = rng.normal(shift, 1.0, rows)
        elif kind == 1:
            x = rng.lognormal(0.0, 0.5, rows) + 0.6 * shift
        elif kind == 2:
            x = rng.uniform(0.0, 1.0, rows) + 0.29 * shift
        elif kind == 3:
            x = rng.exponential(1.0, rows) + shift
        else:
            x = np.round(rng.poisson(3.0, rows) + 1.7 * shift).astype(np.float64)
        cols[name] = x
    cols["age"] = rng.integers(18, 100, rows).astype(np.float64)
    return pd.DataFrame(cols)


def _issue_case(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A 400-row baseline and an 85-row test split of one 485-row undrifted data set."""
    data = _draw(np.random.default_rng(seed), 485)
    return data.iloc[:400].reset_index(drop=True), data.iloc[400:].reset_index(drop=True)


def test_undrifted_resampled_traffic_raises_few_false_alarms(schema: Schema) -> None:
    """20 seeds x 11 features: 2,000 rows re-drawn from an 85-row split hold 85 rows of evidence."""
    flagged = tests = 0
    for seed in range(20):
        base, split = _issue_case(seed)
        rng = np.random.default_rng(1000 + seed)
        traffic = split.iloc[rng.integers(0, len(split), 2000)].reset_index(drop=True)
        result = D.compute_drift(traffic, *build_baseline(base, schema))  # significance 0.05
        flagged += sum(f.drifted for f in result.features)
        tests += len(result.features)
    # expected about 5 % (the significance level); the fixed 0.1 distance flagged about half
    assert flagged / tests <= 0.1, f"{flagged} of {tests} undrifted feature tests flagged"


def test_a_shifted_feature_is_detected_and_the_threshold_is_named(schema: Schema) -> None:
    # at 5 % per feature some seeds also flag an undrifted feature; this one does not
    base, split = _issue_case(2)
    split = split.copy()
    split["x0"] = split["x0"] + 1.0  # one standard deviation
    rng = np.random.default_rng(3)
    traffic = split.iloc[rng.integers(0, len(split), 2000)].reset_index(drop=True)
    result = D.compute_drift(traffic, *build_baseline(base, schema))
    assert [f.name for f in result.features if f.drifted] == ["x0"]
    (violation,) = [
        v for v in result.violations if v["constraint_check_type"] == formats.BASELINE_DRIFT_CHECK
    ]
    text = violation["description"]
    assert text.startswith("Baseline drift distance: ") and "exceeds threshold: " in text
    assert "KS critical distance at significance 0.05" in text
    assert "effective of 2000 records" in text
    x0 = next(f for f in result.features if f.name == "x0")
    assert x0.threshold is not None and x0.threshold > 0.1
    assert result.metrics["feature_baseline_drift_x0"] == x0.distance


def test_shifts_are_detected_like_the_exact_ks_test(schema: Schema) -> None:
    """Independent rows: the decision follows scipy's exact two-sample KS test at 5 %."""
    stats_mod = pytest.importorskip("scipy.stats")
    agree = total = 0
    for seed in range(6):
        rng = np.random.default_rng(seed)
        base, cur = _draw(rng, 400), _draw(rng, 150, shift=0.4)
        result = D.compute_drift(cur, *build_baseline(base, schema), threshold=0.0)
        for f in result.features:
            if f.name == "age":
                continue
            p = stats_mod.ks_2samp(base[f.name], cur[f.name], method="exact").pvalue
            agree += f.drifted == (p < 0.05)
            total += 1
    assert agree / total >= 0.95


def test_repeated_rows_are_not_new_evidence(schema: Schema) -> None:
    """The same 85 rows sent once or 24 times each: the same decisions and thresholds."""
    for seed in range(5):
        base, split = _issue_case(seed)
        stats, cons = build_baseline(base, schema)
        once = D.compute_drift(split, stats, cons)
        tiled = D.compute_drift(
            pd.concat([split] * 24, ignore_index=True).sample(frac=1.0, random_state=seed),
            stats,
            cons,
        )
        for a, b in zip(once.features, tiled.features, strict=True):
            assert a.drifted == b.drifted, (seed, a.name, a.distance)
            assert a.threshold == pytest.approx(b.threshold)
        assert tiled.effective_size is not None
        assert tiled.effective_size.rows == 2040 and tiled.effective_size.distinct == 85
        assert tiled.effective_size.effective == pytest.approx(85)


def test_chance_repeats_of_a_small_feature_space_keep_their_evidence() -> None:
    """Three binary columns have 8 possible rows: independent draws repeat them by chance."""
    rng = np.random.default_rng(3)
    cols = [rng.integers(0, 2, 5000).astype(np.float64) for _ in range(3)]
    keys = np.zeros(5000, dtype=np.uint64)
    for c in cols:
        keys = (keys ^ c.view(np.uint64)) * np.uint64(0x9E3779B97F4A7C15)
    size = stats.effective_size(keys, lambda: iter(cols))
    assert size.distinct == 8
    assert size.effective > 4500  # about 5000, not 8


def test_ks_threshold_shrinks_with_the_evidence() -> None:
    assert stats.ks_threshold(400, 85) > 0.14 > stats.ks_threshold(400, 2000)
    assert stats.ks_threshold(1e6, 1e6) < 0.002
    with pytest.raises(ValueError, match="significance"):
        stats.ks_threshold(10, 10, alpha=0.0)


def test_baseline_keeps_the_schema_range_and_the_check_reports_values_outside(
    schema: Schema,
) -> None:
    base, split = _issue_case(11)
    stats, cons = build_baseline(base, schema)
    age = next(f for f in cons["features"] if f["name"] == "age")
    assert age["num_constraints"] == {"is_non_negative": True, "min": 18.0, "max": 99.0}
    x0 = next(f for f in cons["features"] if f["name"] == "x0")
    assert set(x0["num_constraints"]) == {"is_non_negative"}  # no range in the schema

    assert D.compute_drift(split, stats, cons).violations == []
    bad = split.copy()
    bad.loc[:2, "age"] = [7.0, 130.0, 150.0]
    result = D.compute_drift(bad, stats, cons)
    (violation,) = [
        v for v in result.violations if v["constraint_check_type"] == "value_range_check"
    ]
    assert violation["feature_name"] == "age"
    assert "3 values" in violation["description"] and "[18, 99]" in violation["description"]
    assert "observed min 7, max 150" in violation["description"]
