"""Vectorized statistics for the monitoring baseline and the drift check.

Everything here works on whole numpy columns, never a Python loop over rows. The baseline
sorts each numeric column once (exact quantiles). The drift check does not sort the current
window: :func:`profile_against` ranks every value against the baseline sketch with a look-up
grid (:class:`RankIndex`, O(1) per value) in cache-sized chunks, which gives the exact
L-infinity distance to the sketch CDF, PSI, the moments and Model Monitor's buckets in one pass.

Numeric distributions are summarised by a *quantile sketch*: the values at ``k`` evenly spaced
ranks of the sorted column (exact quantiles, ``inverted_cdf`` style, so every sketch value is a
real data value and discrete data keeps its point masses). This is not a KLL sketch: a KLL
sketch is a mergeable streaming approximation, which a single-machine job that sees the whole
column does not need. It is stored where Model Monitor stores its KLL data
(``distribution.kll.sketch.data``) as a single compactor level, so the file keeps the format,
and a real Model Monitor sketch (several levels, level ``h`` items weighing ``2**h``) can be
read back by :func:`sketch_from_kll`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Number of quantiles kept per numeric feature: CDF resolution 1/1024.
DEFAULT_SKETCH_SIZE = 1025
#: Model Monitor materialises numeric distributions in 10 buckets.
KLL_BUCKETS = 10
#: PSI compares the current data with the baseline deciles.
PSI_BUCKETS = 10
#: Additive smoothing so that an empty bucket does not make PSI infinite.
PSI_EPSILON = 1e-4


@dataclass(frozen=True)
class QuantileSketch:
    """A weighted, sorted sample of a numeric distribution.

    ``values`` are unique and ascending; ``cum_weight[j]`` is the fraction of the distribution
    at or below ``values[j]`` and ``point_weight[j]`` the fraction exactly at ``values[j]``.
    """

    values: FloatArray
    cum_weight: FloatArray
    point_weight: FloatArray
    count: int

    @property
    def empty(self) -> bool:
        return self.values.size == 0

    def cdf_below(self, edges: FloatArray) -> FloatArray:
        """Fraction of the sketched distribution strictly below each edge."""
        idx = np.searchsorted(self.values, edges, side="left")
        padded = np.concatenate(([0.0], self.cum_weight))
        return padded[idx]

    def quantiles(self, probs: FloatArray) -> FloatArray:
        """Inverse CDF (``inverted_cdf``): the smallest sketch value with CDF >= p."""
        idx = np.searchsorted(self.cum_weight, probs - 1e-12, side="left")
        return self.values[np.minimum(idx, self.values.size - 1)]


@dataclass(frozen=True)
class NumericSummary:
    """Per-column numbers for ``numerical_statistics`` plus the sorted valid values."""

    num_present: int
    num_missing: int
    num_invalid: int
    sum: float
    mean: float
    std_dev: float
    min: float
    max: float
    sorted_values: FloatArray


def summarize_numeric(column: npt.ArrayLike) -> NumericSummary:
    """Sort once and derive every statistic from the sorted array.

    NaN counts as missing; +/-inf counts as invalid (not a finite number) and is excluded.
    """
    x = np.asarray(column, dtype=np.float64)
    s = np.sort(x)  # numpy sorts NaN to the end
    n_valid_or_inf = int(np.searchsorted(s, np.nan, side="left")) if s.size else 0
    num_missing = x.size - n_valid_or_inf
    s = s[:n_valid_or_inf]
    lo = int(np.searchsorted(s, -np.inf, side="right"))
    hi = int(np.searchsorted(s, np.inf, side="left"))
    num_invalid = lo + (s.size - hi)
    if num_invalid:
        s = s[lo:hi]
    n = s.size
    if n == 0:
        return NumericSummary(0, num_missing, num_invalid, 0.0, 0.0, 0.0, 0.0, 0.0, s)
    total = float(s.sum())
    mean = total / n
    centered = s - mean
    std = math.sqrt(float(np.multiply(centered, centered, out=centered).sum()) / n)
    return NumericSummary(
        n, num_missing, num_invalid, total, mean, std, float(s[0]), float(s[-1]), s
    )


def sketch_from_sorted(sorted_values: FloatArray, size: int = DEFAULT_SKETCH_SIZE) -> FloatArray:
    """``size`` exact quantiles at evenly spaced ranks of an already sorted array."""
    n = sorted_values.size
    if n == 0:
        return np.empty(0, dtype=np.float64)
    if n <= size:
        return sorted_values.copy()
    probs = np.linspace(0.0, 1.0, size)
    idx = np.clip(np.ceil(probs * n).astype(np.int64) - 1, 0, n - 1)
    return sorted_values[idx]


def sketch_from_sample(
    sample: FloatArray, weights: FloatArray | None = None, count: int = 0
) -> QuantileSketch:
    """Collapse a (possibly weighted, unsorted) sample into unique values with CDF weights."""
    sample = np.asarray(sample, dtype=np.float64)
    w = np.ones_like(sample) if weights is None else np.asarray(weights, dtype=np.float64)
    keep = np.isfinite(sample)
    sample, w = sample[keep], w[keep]
    if sample.size == 0:
        empty = np.empty(0, dtype=np.float64)
        return QuantileSketch(empty, empty, empty, count)
    order = np.argsort(sample, kind="stable")
    sample, w = sample[order], w[order]
    values, start = np.unique(sample, return_index=True)
    point = np.add.reduceat(w, start)
    point = point / point.sum()
    return QuantileSketch(values, np.cumsum(point), point, count or int(sample.size))


def sketch_from_kll(data: Any, count: int = 0) -> QuantileSketch:
    """Read ``distribution.kll.sketch.data``: a list of levels, level ``h`` items weigh ``2**h``."""
    if not isinstance(data, list):
        raise ValueError(
            f"kll sketch data must be a list of lists of numbers, got {type(data).__name__}"
        )
    parts: list[FloatArray] = []
    weights: list[FloatArray] = []
    for level, items in enumerate(data):
        if not isinstance(items, list):
            raise ValueError(
                f"kll sketch level {level} must be a list of numbers, got {items!r:.80}"
            )
        arr = np.asarray(items, dtype=np.float64)
        parts.append(arr)
        weights.append(np.full(arr.size, float(2**level)))
    if not parts:
        return sketch_from_sample(np.empty(0), None, count)
    return sketch_from_sample(np.concatenate(parts), np.concatenate(weights), count)


def equal_width_buckets(
    sorted_values: FloatArray, buckets: int = KLL_BUCKETS
) -> list[dict[str, float]]:
    """Model Monitor's materialised distribution: equal-width buckets between min and max."""
    n = sorted_values.size
    if n == 0:
        return []
    lo, hi = float(sorted_values[0]), float(sorted_values[-1])
    if lo == hi:
        return [{"lower_bound": lo, "upper_bound": hi, "count": float(n)}]
    edges = np.linspace(lo, hi, buckets + 1)
    # counts of values < each inner edge; the last bucket is closed on the right
    below = np.searchsorted(sorted_values, edges[1:-1], side="left")
    cuts = np.concatenate(([0], below, [n]))
    counts = np.diff(cuts)
    return [
        {
            "lower_bound": float(edges[i]),
            "upper_bound": float(edges[i + 1]),
            "count": float(counts[i]),
        }
        for i in range(buckets)
    ]


def linf_distance(baseline: QuantileSketch, sorted_current: FloatArray) -> float:
    """Exact sup-distance between the baseline sketch CDF and the current empirical CDF.

    Both are right-continuous step functions. Between two sketch points the baseline CDF is
    flat, so the supremum is reached at a sketch point or just before one: comparing the CDF
    values at and just below every sketch point covers every case. Cost: two binary searches
    per sketch point in the sorted current column.
    """
    n = sorted_current.size
    if baseline.empty or n == 0:
        return 0.0
    le = np.searchsorted(sorted_current, baseline.values, side="right") / n
    lt = np.searchsorted(sorted_current, baseline.values, side="left") / n
    base_le = baseline.cum_weight
    base_lt = base_le - baseline.point_weight
    return float(max(np.max(np.abs(base_le - le)), np.max(np.abs(base_lt - lt))))


def psi(baseline: QuantileSketch, sorted_current: FloatArray) -> float:
    """Population stability index over the baseline deciles (buckets ``[e_i, e_{i+1})``)."""
    n = sorted_current.size
    if baseline.empty or n == 0:
        return 0.0
    probs = np.arange(1, PSI_BUCKETS) / PSI_BUCKETS
    edges = np.unique(baseline.quantiles(probs))
    base_cdf = np.concatenate((baseline.cdf_below(edges), [1.0]))
    cur_cdf = np.concatenate((np.searchsorted(sorted_current, edges, side="left") / n, [1.0]))
    return psi_from_fractions(np.diff(base_cdf, prepend=0.0), np.diff(cur_cdf, prepend=0.0))


def psi_from_fractions(expected: FloatArray, actual: FloatArray) -> float:
    """PSI = sum((a - e) * ln(a / e)), with both sides smoothed and renormalised."""
    e = np.asarray(expected, dtype=np.float64) + PSI_EPSILON
    a = np.asarray(actual, dtype=np.float64) + PSI_EPSILON
    e, a = e / e.sum(), a / a.sum()
    return float(np.sum((a - e) * np.log(a / e)))


#: Cells of the look-up grid that turns values into sketch ranks without a sort.
_GRID_CELLS = 65536
#: Values per chunk: temporaries stay in cache instead of allocating 8 MB arrays per step.
_CHUNK = 65536
#: Largest column whose current-window quantiles are computed exactly (a sort of <= 64K values).
_QUANTILE_SAMPLE = 65536


class RankIndex:
    """Maps values to sketch ranks (how many sketch points are <= x) in O(1) per value.

    Equivalent to ``np.searchsorted(values, x, side="right")``: a uniform grid over the sketch's
    inner range gives a first guess, one step fixes cells that hold one sketch point, and every
    guess is verified against its neighbouring sketch points; the few that fail (cells with
    several points, values outside the grid, rounding at cell edges) fall back to a binary
    search. Exact in all cases.
    """

    def __init__(self, values: FloatArray) -> None:
        self.values = values
        self.ext = np.concatenate(([-np.inf], values, [np.inf]))  # ext[r] = values[r-1]
        k = values.size
        self.grid = k >= 4 and float(values[-2]) > float(values[1])
        if self.grid:
            self.lo = float(values[1])
            self.scale = _GRID_CELLS / (float(values[-2]) - self.lo)
            starts = self.lo + np.arange(_GRID_CELLS) / self.scale
            self.table = np.searchsorted(values, starts, side="right").astype(np.intp)

    def ranks(self, x: FloatArray) -> IntArray:
        """Ranks of finite values ``x`` (NaN must be removed first)."""
        if not self.grid or x.size < 1024:
            return np.searchsorted(self.values, x, side="right").astype(np.intp)
        ext = self.ext
        cell = (x - self.lo) * self.scale
        np.clip(cell, 0, _GRID_CELLS - 1, out=cell)
        r = self.table[cell.astype(np.intp)]
        r += x >= ext[r + 1]
        bad = (x < ext[r]) | (x >= ext[r + 1])
        if bad.any():
            idx = np.flatnonzero(bad)
            r[idx] = np.searchsorted(self.values, x[idx], side="right")
        return r


def sketch_ranks(values: FloatArray, x: FloatArray) -> IntArray:
    """``np.searchsorted(values, x, side="right")`` for finite ``x``, via :class:`RankIndex`."""
    index = RankIndex(values)
    out = np.empty(x.size, dtype=np.intp)
    for i in range(0, x.size, _CHUNK):
        out[i : i + _CHUNK] = index.ranks(x[i : i + _CHUNK])
    return out


@dataclass(frozen=True)
class NumericProfile:
    """The current window of a numeric feature, measured against a baseline sketch (no sort)."""

    num_present: int
    sum: float
    mean: float
    std_dev: float
    min: float
    max: float
    linf: float
    psi: float
    buckets: list[dict[str, float]]
    #: quantiles of the column (exact up to _QUANTILE_SAMPLE values, else of a systematic sample)
    quantiles: FloatArray


def profile_against(
    baseline: QuantileSketch, x: FloatArray, sketch_size: int = DEFAULT_SKETCH_SIZE
) -> NumericProfile:
    """Statistics, L-infinity distance and PSI of finite values ``x`` against a baseline sketch.

    Instead of sorting the column: min/max, then one pass over cache-sized chunks that computes
    sketch ranks (:class:`RankIndex`), exact ties, sums and the equal-width bucket counts. The
    distance is exact for the sketch CDF.
    """
    n = x.size
    if n == 0 or baseline.empty:
        raise ValueError("profile_against needs values and a non-empty baseline sketch")
    u = baseline.values
    k = u.size
    index = RankIndex(u)
    lo, hi = float(x.min()), float(x.max())
    shift = float(u[k // 2])  # a central value keeps the one-pass variance accurate
    edges = np.linspace(lo, hi, KLL_BUCKETS + 1)
    inner = edges[1:-1]
    has_range = hi > lo
    ranks = np.empty(n, dtype=np.intp)
    ties = np.empty(n, dtype=bool)
    below = np.zeros(inner.size, dtype=np.int64)
    s1 = s2 = 0.0
    for i in range(0, n, _CHUNK):
        c = x[i : i + _CHUNK]
        r = index.ranks(c)
        ranks[i : i + _CHUNK] = r
        np.equal(c, index.ext[r], out=ties[i : i + _CHUNK])
        d = c - shift
        s1 += float(d.sum())
        # not np.dot: a BLAS call per chunk pays thread start-up costs that dwarf the work
        s2 += float(np.multiply(d, d, out=d).sum())
        if has_range:
            # exact counts below each inner bucket edge: comparisons only, no gathers
            for j, edge in enumerate(inner):
                below[j] += np.count_nonzero(c < edge)
    hist = np.bincount(ranks, minlength=k + 1)
    eq_counts = np.bincount(ranks[ties] - 1, minlength=k)
    lt = np.cumsum(hist)[:k]  # values strictly below u_j
    le = lt + eq_counts  # values at or below u_j
    base_le = baseline.cum_weight
    base_lt = base_le - baseline.point_weight
    linf = float(max(np.max(np.abs(base_le - le / n)), np.max(np.abs(base_lt - lt / n))))

    probs = np.arange(1, PSI_BUCKETS) / PSI_BUCKETS
    psi_edges = np.unique(baseline.quantiles(probs))
    pos = np.searchsorted(u, psi_edges)
    base_cdf = np.concatenate((baseline.cdf_below(psi_edges), [1.0]))
    cur_cdf = np.concatenate((lt[pos] / n, [1.0]))
    psi_value = psi_from_fractions(np.diff(base_cdf, prepend=0.0), np.diff(cur_cdf, prepend=0.0))

    mean_d = s1 / n
    std = math.sqrt(max(s2 / n - mean_d * mean_d, 0.0))
    if has_range:
        bucket_counts = np.diff(np.concatenate(([0], below, [n])))
        buckets = [
            {
                "lower_bound": float(edges[j]),
                "upper_bound": float(edges[j + 1]),
                "count": float(bucket_counts[j]),
            }
            for j in range(KLL_BUCKETS)
        ]
    else:
        buckets = [{"lower_bound": lo, "upper_bound": hi, "count": float(n)}]
    return NumericProfile(
        num_present=n,
        sum=s1 + shift * n,
        mean=shift + mean_d,
        std_dev=std,
        min=lo,
        max=hi,
        linf=linf,
        psi=psi_value,
        buckets=buckets,
        quantiles=_sample_quantiles(x, lo, hi, sketch_size),
    )


def _sample_quantiles(x: FloatArray, lo: float, hi: float, size: int) -> FloatArray:
    """Quantiles for the current statistics.json: exact for small columns, else of every m-th value.

    A systematic sample of 65,536 values has a rank error of about 1/256; the drift distances
    never use these quantiles (they count every value against the baseline sketch).
    """
    step = max(1, math.ceil(x.size / _QUANTILE_SAMPLE))
    q = sketch_from_sorted(np.sort(x[::step]), size)
    q[0], q[-1] = lo, hi
    return q


def ks_critical_value(n_baseline: int, n_current: int, alpha: float = 0.05) -> float:
    """Two-sample Kolmogorov-Smirnov critical distance (asymptotic) at level ``alpha``."""
    if n_baseline <= 0 or n_current <= 0:
        return math.inf
    c_alpha = math.sqrt(-math.log(alpha / 2.0) / 2.0)
    return c_alpha * math.sqrt((n_baseline + n_current) / (n_baseline * n_current))


@dataclass(frozen=True)
class CategoricalSummary:
    """Counts of a string column against a known domain."""

    num_present: int
    num_missing: int
    domain: tuple[str, ...]
    domain_counts: IntArray
    unknown_counts: dict[str, int]

    @property
    def distinct_count(self) -> int:
        return int(np.count_nonzero(self.domain_counts)) + len(self.unknown_counts)

    def buckets(self) -> list[dict[str, Any]]:
        out = [
            {"value": v, "count": int(c)}
            for v, c in zip(self.domain, self.domain_counts.tolist(), strict=True)
            if c
        ]
        out += [{"value": v, "count": int(c)} for v, c in sorted(self.unknown_counts.items())]
        return out


def summarize_categorical(values: Any, domain: tuple[str, ...]) -> CategoricalSummary:
    """Count values per domain member with a hash look-up over the whole column.

    ``values`` is a pandas Series of strings (missing as None/NaN/empty string).
    """
    import pandas as pd

    s = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    stripped = s.astype("string").str.strip()
    missing = stripped.eq("").to_numpy(dtype=bool, na_value=True)
    present = stripped[~missing].astype(object)
    codes = pd.Index(domain, dtype=object).get_indexer(present.to_numpy(dtype=object))
    domain_counts = np.bincount(codes[codes >= 0], minlength=len(domain)).astype(np.int64)
    unknown: dict[str, int] = {}
    if np.any(codes < 0):
        vc = present[codes < 0].value_counts()
        unknown = {str(k): int(v) for k, v in vc.items()}
    return CategoricalSummary(int(present.size), int(missing.sum()), domain, domain_counts, unknown)


def categorical_linf(
    baseline_counts: dict[str, float], current: CategoricalSummary
) -> tuple[float, float]:
    """L-infinity distance between category frequencies, and PSI over the union of categories."""
    cats = sorted(set(baseline_counts) | set(current.domain) | set(current.unknown_counts))
    cur_map = dict(zip(current.domain, current.domain_counts.tolist(), strict=True))
    cur_map.update(current.unknown_counts)
    b = np.array([float(baseline_counts.get(c, 0.0)) for c in cats])
    c = np.array([float(cur_map.get(k, 0)) for k in cats])
    if b.sum() == 0 or c.sum() == 0:
        return 0.0, 0.0
    bp, cp = b / b.sum(), c / c.sum()
    return float(np.max(np.abs(bp - cp))), psi_from_fractions(bp, cp)


#: Default significance level of the drift test (per feature).
DEFAULT_SIGNIFICANCE = 0.05
_HASH_MULT = np.uint64(0x9E3779B97F4A7C15)


class RowHasher:
    """A 64-bit hash of every row, built one column at a time (two in-place passes per column).

    Used to find repeated rows: a row captured many times is one observation, not many.
    """

    def __init__(self, rows: int) -> None:
        self.hashes = np.zeros(rows, dtype=np.uint64)

    def add_floats(self, values: FloatArray) -> None:
        """Fold a float64 column (NaN = missing) into the row hashes."""
        # xor then multiply by an odd constant: for fixed other columns, a bijection of the value
        np.bitwise_xor(self.hashes, values.view(np.uint64), out=self.hashes)
        np.multiply(self.hashes, _HASH_MULT, out=self.hashes)

    def add_objects(self, values: Any) -> None:
        """Fold a column of strings (None/NaN = missing) into the row hashes."""
        import pandas as pd

        hashed = pd.util.hash_array(pd.Series(values, dtype=object).fillna("\x00").to_numpy())
        np.bitwise_xor(self.hashes, hashed.astype(np.uint64), out=self.hashes)
        np.multiply(self.hashes, _HASH_MULT, out=self.hashes)


def _run_lengths(sorted_keys: npt.NDArray[Any]) -> IntArray:
    """Lengths of the runs of equal values in a sorted array."""
    if sorted_keys.size == 0:
        return np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
    return np.diff(np.append(starts, sorted_keys.size)).astype(np.int64)


def collision_probability(keys: npt.NDArray[Any]) -> float:
    """Unbiased chance that two different rows of the column hold the same value."""
    m = keys.size
    if m < 2:
        return 0.0
    c = _run_lengths(np.sort(keys)).astype(np.float64)
    return float((np.dot(c, c) - m) / (m * (m - 1.0)))


@dataclass(frozen=True)
class EffectiveSize:
    """How much evidence a window of rows holds.

    ``effective`` is Kish's effective sample size of the distinct rows weighted by how often
    each was seen (``rows**2 / sum(count**2)``), corrected for the repeats that independent
    draws would produce by chance when the feature space is small: ``rows`` independent draws
    repeat rows with probability ``q`` per pair, which gives ``sum(count**2) ~ rows * (1 +
    (rows - 1) * q)``; only the repetition beyond that reduces the evidence.
    """

    rows: int
    distinct: int
    effective: float
    #: chance repeats: estimated pairwise collision probability of independent rows
    chance_collision: float


def effective_size(hashes: npt.NDArray[np.uint64], column_keys: Any = None) -> EffectiveSize:
    """Effective sample size of a window from its row hashes (see :class:`EffectiveSize`).

    ``column_keys`` is called only when rows repeat: it yields one array of value keys per
    column, whose collision probabilities multiply (columns taken as independent, which
    underestimates chance repeats of correlated columns: the error errs toward fewer alarms).
    """
    m = int(hashes.size)
    if m == 0:
        return EffectiveSize(0, 0, 0.0, 0.0)
    s = np.sort(hashes)
    if not np.any(s[1:] == s[:-1]):
        return EffectiveSize(m, m, float(m), 0.0)
    counts = _run_lengths(s).astype(np.float64)
    sum_sq = float(np.dot(counts, counts))
    q = 1.0
    if column_keys is not None:
        for keys in column_keys():
            q *= collision_probability(keys)
            if q * (m - 1) < 1e-6:  # chance repeats are negligible from here on
                break
    else:
        q = 0.0
    expected_sq = m * (1.0 + (m - 1) * min(q, 1.0))
    eff = min(float(m), m * expected_sq / sum_sq)
    return EffectiveSize(m, int(counts.size), eff, q)


def ks_threshold(n_baseline: float, n_current: float, alpha: float = DEFAULT_SIGNIFICANCE) -> float:
    """Two-sample Kolmogorov-Smirnov critical distance at level ``alpha`` for (effective) sizes.

    The asymptotic distance with Stephens' small-sample correction,
    ``c(alpha) / (sqrt(ne) + 0.12 + 0.11 / sqrt(ne))`` with ``ne = n m / (n + m)``, which
    follows the exact test closely from a few dozen rows on (see
    ``benchmarks/bench_drift_false_alarms.py``). Sizes may be fractional (effective sizes).
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"significance level must be between 0 and 1, got {alpha}")
    if n_baseline <= 0 or n_current <= 0:
        return math.inf
    ne = n_baseline * n_current / (n_baseline + n_current)
    root = math.sqrt(ne)
    c_alpha = math.sqrt(-math.log(alpha / 2.0) / 2.0)
    return min(1.0, c_alpha / (root + 0.12 + 0.11 / root))
