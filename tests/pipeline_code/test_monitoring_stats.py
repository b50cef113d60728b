"""Vectorized statistics behind the baseline and the drift check."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats as sps

from pipeline_code.monitoring import stats as S


def _sketch(sample: np.ndarray, size: int = S.DEFAULT_SKETCH_SIZE) -> S.QuantileSketch:
    return S.sketch_from_sample(S.sketch_from_sorted(np.sort(sample), size), count=sample.size)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    sketch=hnp.arrays(
        np.float64, st.integers(1, 40), elements=st.floats(-1e6, 1e6, allow_nan=False)
    ),
    x=hnp.arrays(np.float64, st.integers(0, 3000), elements=st.floats(-2e6, 2e6, allow_nan=False)),
)
def test_sketch_ranks_equal_searchsorted(sketch: np.ndarray, x: np.ndarray) -> None:
    u = np.unique(sketch)
    # values exactly on sketch points are the tricky case: mix some in
    if x.size:
        x[::7] = u[np.arange(x[::7].size) % u.size]
    np.testing.assert_array_equal(S.sketch_ranks(u, x), np.searchsorted(u, x, side="right"))


@pytest.mark.parametrize("kind", ["normal", "lognormal", "poisson", "constant", "two_points"])
def test_sketch_ranks_on_large_columns(kind: str) -> None:
    rng = np.random.default_rng(5)
    gen: Callable[[int], np.ndarray] = {
        "normal": lambda n: rng.normal(size=n),
        "lognormal": lambda n: rng.lognormal(0, 2, size=n),
        "poisson": lambda n: np.asarray(rng.poisson(3, size=n), dtype=float),
        "constant": lambda n: np.full(n, 2.5),
        "two_points": lambda n: rng.choice([0.0, 1.0], size=n),
    }[kind]
    u = np.unique(S.sketch_from_sorted(np.sort(gen(50_000))))
    x = np.concatenate([gen(200_000), [-1e300, 1e300], u])
    np.testing.assert_array_equal(S.sketch_ranks(u, x), np.searchsorted(u, x, side="right"))


def test_linf_is_the_exact_ks_statistic_when_the_sketch_holds_the_sample() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=800)
    cur = rng.normal(0.3, 1.2, size=5000)
    sk = _sketch(base, size=2000)  # n <= size: the sketch is the whole sample
    expected = sps.ks_2samp(base, cur).statistic
    assert S.linf_distance(sk, np.sort(cur)) == pytest.approx(expected, abs=1e-12)
    assert S.profile_against(sk, cur).linf == pytest.approx(expected, abs=1e-12)


def test_linf_with_point_masses_is_exact() -> None:
    rng = np.random.default_rng(1)
    base = rng.poisson(3, size=20_000).astype(float)
    cur = rng.poisson(3, size=30_000).astype(float)
    sk = _sketch(base)
    ks = sps.ks_2samp(base, cur).statistic
    # discrete data: a sketch of 1025 quantiles keeps every point mass, so no false distance
    assert S.profile_against(sk, cur).linf == pytest.approx(ks, abs=2e-3)
    assert S.profile_against(sk, cur).linf < 0.02


def test_profile_matches_the_sorted_computation() -> None:
    rng = np.random.default_rng(2)
    base = rng.lognormal(size=30_000)
    cur = rng.lognormal(0.2, 1.1, size=100_000)
    sk = _sketch(base)
    prof = S.profile_against(sk, cur)
    summ = S.summarize_numeric(cur)
    assert prof.num_present == summ.num_present == cur.size
    assert prof.sum == pytest.approx(cur.sum(), rel=1e-9)
    assert prof.mean == pytest.approx(cur.mean(), rel=1e-9)
    assert prof.std_dev == pytest.approx(cur.std(), rel=1e-6)
    assert (prof.min, prof.max) == (cur.min(), cur.max())
    assert prof.linf == pytest.approx(S.linf_distance(sk, summ.sorted_values), abs=1e-12)
    assert prof.psi == pytest.approx(S.psi(sk, summ.sorted_values), abs=1e-12)
    assert [b["count"] for b in prof.buckets] == [
        b["count"] for b in S.equal_width_buckets(summ.sorted_values)
    ]
    q = prof.quantiles
    assert q[0] == cur.min() and q[-1] == cur.max() and np.all(np.diff(q) >= 0)
    # quantiles of a systematic sample of 65,536 values: within 1 % of the rank of the exact ones
    ranks = np.searchsorted(np.sort(cur), q, side="right") / cur.size
    assert np.max(np.abs(ranks - np.linspace(0, 1, q.size))) < 0.01
    small = cur[:5000]
    exact = S.sketch_from_sorted(np.sort(small))
    np.testing.assert_array_equal(S.profile_against(sk, small).quantiles, exact)


def test_psi_small_for_same_distribution_large_for_shift() -> None:
    rng = np.random.default_rng(3)
    sk = _sketch(rng.normal(size=50_000))
    assert S.profile_against(sk, rng.normal(size=50_000)).psi < 0.01
    assert S.profile_against(sk, rng.normal(1.0, 1.0, size=50_000)).psi > 0.5
    assert S.psi_from_fractions(np.array([0.5, 0.5]), np.array([0.5, 0.5])) == pytest.approx(0.0)


def test_summarize_numeric_counts_missing_and_non_finite() -> None:
    s = S.summarize_numeric(np.array([1.0, np.nan, 3.0, np.inf, -np.inf, 2.0]))
    assert (s.num_present, s.num_missing, s.num_invalid) == (3, 1, 2)
    assert (s.min, s.max, s.mean, s.sum) == (1.0, 3.0, 2.0, 6.0)
    empty = S.summarize_numeric(np.array([np.nan]))
    assert empty.num_present == 0 and empty.num_missing == 1


def test_equal_width_buckets_cover_every_value() -> None:
    values = np.sort(np.array([0.0, 0.5, 1.0, 1.0, 9.99, 10.0]))
    buckets = S.equal_width_buckets(values)
    assert len(buckets) == 10 and sum(b["count"] for b in buckets) == values.size
    assert buckets[0]["lower_bound"] == 0.0 and buckets[-1]["upper_bound"] == 10.0
    assert buckets[-1]["count"] == 2  # the last bucket is closed on the right
    assert S.equal_width_buckets(np.array([4.0, 4.0])) == [
        {"lower_bound": 4.0, "upper_bound": 4.0, "count": 2.0}
    ]


def test_kll_levels_weigh_two_to_the_level() -> None:
    # level 0 items weigh 1, level 1 items weigh 2: value 5 carries half the mass
    sk = S.sketch_from_kll([[1.0, 2.0], [5.0]])
    np.testing.assert_allclose(sk.values, [1.0, 2.0, 5.0])
    np.testing.assert_allclose(sk.point_weight, [0.25, 0.25, 0.5])
    with pytest.raises(ValueError, match="list of lists"):
        S.sketch_from_kll("nope")
    with pytest.raises(ValueError, match="level 0"):
        S.sketch_from_kll([3])


def test_ks_critical_value() -> None:
    assert S.ks_critical_value(1000, 1000) == pytest.approx(1.3581 * math.sqrt(2 / 1000), rel=1e-3)
    assert S.ks_critical_value(0, 10) == math.inf


def test_categorical_summary_and_distance() -> None:
    values = pd.Series(["a", "b", " a ", None, "", "zzz", "b"], dtype=object)
    summ = S.summarize_categorical(values, ("a", "b", "c"))
    assert (summ.num_present, summ.num_missing) == (5, 2)
    assert summ.domain_counts.tolist() == [2, 2, 0]
    assert summ.unknown_counts == {"zzz": 1}
    assert summ.distinct_count == 3
    assert {"value": "zzz", "count": 1} in summ.buckets()
    linf, psi = S.categorical_linf({"a": 50.0, "b": 50.0}, summ)
    assert linf == pytest.approx(0.2)  # a: 0.5 vs 0.4; zzz: 0 vs 0.2
    assert psi > 0


def test_profile_against_refuses_empty_input() -> None:
    with pytest.raises(ValueError, match="needs values"):
        S.profile_against(_sketch(np.arange(10.0)), np.array([]))
