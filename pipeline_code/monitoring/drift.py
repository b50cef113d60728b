"""Data-quality drift check: captured endpoint traffic against the monitoring baseline.

Does what Model Monitor's data-quality job does, with its file formats and names:

* ``baseline_drift_check``: L-infinity distance between the baseline and current
  distributions (numeric: sup-distance of the CDFs; categorical: largest difference of category
  frequencies) above the threshold. ``comparison_method`` ``Simple`` compares the distance with
  the threshold (``comparison_threshold``) only; ``Robust`` (the default) uses the larger of that
  minimum distance and the two-sample Kolmogorov-Smirnov critical distance at the significance
  level (``significance``, default 0.05) for the *effective* sizes of the two samples, so that
  neither a small capture window nor a window of repeated rows raises alarms from sampling noise,
  while the minimum distance keeps tiny real shifts on huge windows quiet. The effective size
  of the current window counts repeated rows once (Kish's effective size over identical rows,
  corrected for the repeats independent draws make by chance; see
  :class:`pipeline_code.monitoring.stats.EffectiveSize`). Each violation names the threshold
  applied and where it came from. PSI over the baseline deciles is computed as well and
  reported (it is not a Model Monitor check).
* ``value_range_check`` (our addition to Model Monitor's checks): numeric values outside the
  ``min``/``max`` that the baseline's ``num_constraints`` carry (the schema's allowed range).
* ``data_type_check``: share of values that are not of the baseline type (text in a numeric
  column, fractions in an integer column) above ``datatype_check_threshold``.
* ``completeness_check``: share of non-missing values below the baseline completeness by more
  than ``completeness_tolerance`` (Model Monitor compares strictly; the tolerance keeps sampling
  noise on nullable columns from raising violations; pass 0.0 for the strict check).
* ``missing_column_check`` / ``extra_column_check``: records with fewer / more columns than the
  baseline (CSV rows of the wrong width are quarantined; JSON records missing a key count as
  missing values, extra keys are reported).
* ``categorical_values_check``: share of values outside the baseline domain above
  ``domain_content_threshold``.

Outputs in ``output_dir``: ``constraint_violations.json``, ``statistics.json`` (of the current
data), ``metrics.json`` (``feature_baseline_drift_<feature>``, ``feature_non_null_<feature>``
and our ``feature_psi_<feature>``) and ``bad_records.jsonl`` (every unusable capture line or
record with its reason). :func:`emit_cloudwatch_metrics` publishes the metrics under Model
Monitor's namespace when asked.

SageMaker Processing entry point (paths overridable)::

    python -m pipeline_code.monitoring.drift --capture-dir /opt/ml/processing/input/endpoint \\
        --baseline-dir /opt/ml/processing/baseline --output-dir /opt/ml/processing/output
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..schema import Schema
from . import formats
from .baseline import numeric_feature_statistics, summary_statistics
from .capture import BadRecord, CaptureData, read_capture_files
from .cloudwatch import emit_cloudwatch_metrics as emit_cloudwatch_metrics
from .columns import coerce_numeric, normalize_strings
from .stats import (
    DEFAULT_SIGNIFICANCE,
    DEFAULT_SKETCH_SIZE,
    EffectiveSize,
    QuantileSketch,
    RowHasher,
    categorical_linf,
    effective_size,
    ks_threshold,
    profile_against,
    sketch_from_kll,
    summarize_categorical,
    summarize_numeric,
)

DEFAULT_CAPTURE = "/opt/ml/processing/input/endpoint"
DEFAULT_BASELINE = "/opt/ml/processing/baseline"
DEFAULT_OUTPUT = "/opt/ml/processing/output"
DEFAULT_COMPLETENESS_TOLERANCE = 0.02


@dataclass(frozen=True)
class FeatureDrift:
    """Drift numbers of one feature."""

    name: str
    inferred_type: str
    #: L-infinity distance to the baseline (None when either side has no values)
    distance: float | None
    psi: float | None
    drifted: bool
    completeness: float
    baseline_completeness: float
    type_mismatch_fraction: float
    unknown_fraction: float
    #: distance above which the feature drifts (None when no comparison was made)
    threshold: float | None = None
    #: where ``threshold`` comes from, in words
    threshold_source: str = ""
    #: values outside the baseline's num_constraints min/max, and those bounds
    out_of_range: int = 0
    value_range: tuple[float | None, float | None] = (None, None)
    observed_range: tuple[float, float] | None = None


@dataclass
class DriftReport:
    """Result of a drift check; the same content as the files written to ``output_dir``."""

    item_count: int
    capture_events: int
    capture_files: int
    features: list[FeatureDrift]
    violations: list[dict[str, str]]
    metrics: dict[str, float]
    bad_records: list[BadRecord] = field(default_factory=list)
    output_dir: Path | None = None
    #: evidence in the current window (repeated rows count once)
    effective_size: EffectiveSize | None = None

    @property
    def drifted_features(self) -> list[str]:
        return [f.name for f in self.features if f.drifted]

    @property
    def has_violations(self) -> bool:
        return bool(self.violations)

    @property
    def bad_record_count(self) -> int:
        return len(self.bad_records)

    def violations_of(self, check_type: str) -> list[dict[str, str]]:
        return [v for v in self.violations if v["constraint_check_type"] == check_type]

    def summary(self) -> str:
        """A few human-readable lines for logs and the CLI."""
        lines = [
            f"records analysed: {self.item_count} (from {self.capture_events} capture events in "
            f"{self.capture_files} files); bad records quarantined: {self.bad_record_count}",
        ]
        if self.effective_size is not None and self.effective_size.effective < self.item_count:
            es = self.effective_size
            lines.append(
                f"effective sample size: {es.effective:.0f} of {es.rows} records "
                f"({es.distinct} distinct; repeated records are not new evidence)"
            )
        lines += [
            f"violations: {len(self.violations)}; drifted features: {self.drifted_features or 'none'}",
        ]
        for v in self.violations:
            lines.append(f"  {v['constraint_check_type']}: {v['feature_name']}: {v['description']}")
        return "\n".join(lines)


@dataclass(frozen=True)
class _Config:
    threshold: float
    categorical_threshold: float
    method: str
    datatype_threshold: float
    domain_threshold: float
    completeness_tolerance: float
    compare: bool
    evaluate: bool
    significance: float = DEFAULT_SIGNIFICANCE


def _config(
    constraints: dict[str, Any],
    threshold: float,
    completeness_tolerance: float,
    significance: float = DEFAULT_SIGNIFICANCE,
) -> _Config:
    cfg = constraints.get("monitoring_config") or {}
    dist = cfg.get("distribution_constraints") or {}
    method = str(dist.get("comparison_method", "Robust"))
    if method not in ("Robust", "Simple"):
        raise ValueError(f"constraints comparison_method is {method!r}; use 'Robust' or 'Simple'")
    cat_method = str(dist.get("categorical_drift_method", "LInfinity"))
    if cat_method != "LInfinity":
        raise ValueError(
            f"constraints categorical_drift_method is {cat_method!r}; this drift check implements "
            "'LInfinity' only, set it to 'LInfinity'"
        )
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(
            f"threshold must be between 0 and 1 (a distance between CDFs), got {threshold}"
        )
    if not 0.0 < significance < 1.0:
        raise ValueError(
            f"significance must be between 0 and 1 (the false-alarm rate per feature), got {significance}"
        )
    return _Config(
        threshold=threshold,
        categorical_threshold=threshold,
        method=method,
        datatype_threshold=float(cfg.get("datatype_check_threshold", 0.1)),
        domain_threshold=float(cfg.get("domain_content_threshold", 0.1)),
        completeness_tolerance=completeness_tolerance,
        compare=str(dist.get("perform_comparison", "Enabled")) == "Enabled",
        evaluate=str(cfg.get("evaluate_constraints", "Enabled")) == "Enabled",
        significance=significance,
    )


def _violation(feature: str, check: str, description: str) -> dict[str, str]:
    return {"feature_name": feature, "constraint_check_type": check, "description": description}


def _pct(x: float) -> str:
    return f"{100.0 * x:.2f}%"


@dataclass
class DriftComputation:
    """What :func:`compute_drift` returns: per-feature numbers, violations, current statistics."""

    features: list[FeatureDrift]
    violations: list[dict[str, str]]
    statistics: dict[str, Any]
    metrics: dict[str, float]
    effective_size: EffectiveSize | None = None


@dataclass(frozen=True)
class _Pending:
    """A compared feature before the sample-size-aware decision."""

    baseline_size: float
    #: CDF error of the baseline sketch (0 when it holds every baseline value)
    resolution: float


def compute_drift(
    current: pd.DataFrame,
    statistics: dict[str, Any],
    constraints: dict[str, Any],
    *,
    threshold: float = formats.DEFAULT_THRESHOLD,
    completeness_tolerance: float = DEFAULT_COMPLETENESS_TOLERANCE,
    sketch_size: int = DEFAULT_SKETCH_SIZE,
    significance: float = DEFAULT_SIGNIFICANCE,
) -> DriftComputation:
    """Compare ``current`` (one column per baseline feature) with a baseline, column by column.

    Per numeric column one vectorized pass without a sort (see
    :func:`pipeline_code.monitoring.stats.profile_against`) gives the L-infinity distance, PSI,
    moments and buckets; the current-window quantiles come from a sort of at most 65,536
    values. Columns of ``current`` that the baseline does not know are reported as
    ``extra_column_check`` violations.

    The drift decision comes after every column is read: the current window's effective size
    (repeated rows count once) needs all columns. ``threshold`` is the minimum distance;
    ``significance`` the per-feature false-alarm rate of the ``Robust`` method.
    """
    formats.check_statistics(statistics, "baseline statistics")
    formats.check_constraints(constraints, "baseline constraints")
    cfg = _config(constraints, threshold, completeness_tolerance, significance)
    base_stats = {f["name"]: f for f in statistics["features"]}
    n = len(current)
    hasher = RowHasher(n)
    compared: list[tuple[FeatureDrift, _Pending | None]] = []
    violations: list[dict[str, str]] = []
    cur_stats: list[dict[str, Any]] = []
    metrics: dict[str, float] = {}
    for cons in constraints["features"]:
        name = cons["name"]
        if name not in current.columns:
            violations.append(
                _violation(
                    name,
                    formats.MISSING_COLUMN_CHECK,
                    f"column {name!r} of the baseline is absent from the current data",
                )
            )
            continue
        type_name = cons.get("inferred_type", formats.UNKNOWN)
        base_completeness = float(cons.get("completeness", 1.0))
        if type_name in (formats.INTEGRAL, formats.FRACTIONAL):
            fd, stat, pending = _numeric_drift(
                current[name],
                name,
                type_name,
                base_stats.get(name),
                base_completeness,
                n,
                cfg,
                sketch_size,
                hasher,
                _bounds(cons),
            )
        else:
            domain = tuple((cons.get("string_constraints") or {}).get("domains") or ())
            fd, stat, pending = _string_drift(
                current[name],
                name,
                domain,
                base_stats.get(name),
                base_completeness,
                n,
                cfg,
                hasher,
            )
        compared.append((fd, pending))
        cur_stats.append(stat)
    size = effective_size(hasher.hashes, lambda: _column_keys(current, compared)) if n else None
    features: list[FeatureDrift] = []
    for fd0, pending in compared:
        fd = _decide(fd0, pending, size, cfg)
        features.append(fd)
        name = fd.name
        if fd.distance is not None:
            metrics[formats.DRIFT_METRIC_PREFIX + name] = fd.distance
        if fd.psi is not None:
            metrics[formats.PSI_METRIC_PREFIX + name] = fd.psi
        metrics[formats.NON_NULL_METRIC_PREFIX + name] = fd.completeness
        if cfg.evaluate and n:
            violations += _feature_violations(fd, fd.inferred_type, cfg, n)
    known = {c["name"] for c in constraints["features"]}
    for extra in [c for c in current.columns if c not in known]:
        violations.append(
            _violation(
                str(extra), formats.EXTRA_COLUMN_CHECK, f"column {extra!r} is not in the baseline"
            )
        )
    current_statistics = {"version": 0.0, "dataset": {"item_count": n}, "features": cur_stats}
    return DriftComputation(features, violations, current_statistics, metrics, size)


def _bounds(cons: dict[str, Any]) -> tuple[float | None, float | None]:
    """The ``min``/``max`` of a feature's num_constraints (our addition; absent = unbounded)."""
    nc = cons.get("num_constraints") or {}
    lo, hi = nc.get("min"), nc.get("max")
    return (
        float(lo) if isinstance(lo, int | float) else None,
        float(hi) if isinstance(hi, int | float) else None,
    )


def _column_keys(current: pd.DataFrame, compared: list[tuple[FeatureDrift, Any]]) -> Any:
    """Value keys per column (only read when rows repeat)."""
    for fd, _ in compared:
        # numpy, not Series.fillna on object dtype: pandas 2.2 warns about downcasting there.
        values = current[fd.name].to_numpy(dtype=object, copy=True)
        values[pd.isna(values)] = "\x00"
        yield pd.util.hash_array(values.astype(str))


def _decide(
    fd: FeatureDrift, pending: _Pending | None, size: EffectiveSize | None, cfg: _Config
) -> FeatureDrift:
    """Apply the threshold: the minimum distance, and for Robust the KS critical distance at the
    significance level for the effective sizes."""
    if pending is None or fd.distance is None or size is None:
        return fd
    limit = cfg.threshold if fd.inferred_type != formats.STRING else cfg.categorical_threshold
    source = f"comparison_threshold {limit:g}"
    if cfg.method == "Robust":
        # the rows where this feature is present, scaled down by the window's repetition
        m_eff = size.effective * (fd.completeness if size.rows else 0.0)
        critical = ks_threshold(pending.baseline_size, m_eff, cfg.significance) + pending.resolution
        sizes = f"baseline n={pending.baseline_size:.0f}, current n={m_eff:.0f}" + (
            f" effective of {size.rows} records ({size.distinct} distinct)"
            if size.effective < size.rows
            else ""
        )
        if critical > limit:
            source = (
                f"Robust: KS critical distance at significance {cfg.significance:g} for {sizes}"
                f" (above comparison_threshold {limit:g})"
            )
            limit = critical
        else:
            source = (
                f"Robust: comparison_threshold {limit:g} (above the KS critical distance "
                f"{critical:.4f} at significance {cfg.significance:g} for {sizes})"
            )
    else:
        source = f"Simple: comparison_threshold {limit:g}"
    return replace(fd, drifted=fd.distance > limit, threshold=limit, threshold_source=source)


def _baseline_sketch(stat: dict[str, Any] | None) -> tuple[QuantileSketch | None, float]:
    """The baseline sketch and its CDF error: 0 when it holds every baseline value, else the
    weight of its heaviest item (level ``h`` items weigh ``2**h``) over the baseline count."""
    if not stat or "numerical_statistics" not in stat:
        return None, 0.0
    ns = stat["numerical_statistics"]
    try:
        data = ns["distribution"]["kll"]["sketch"]["data"]
    except (KeyError, TypeError):
        return None, 0.0
    count = int(ns.get("common", {}).get("num_present", 0))
    sketch = sketch_from_kll(data, count)
    levels = [len(level) for level in data if isinstance(level, list)]
    weight = sum(size * 2**h for h, size in enumerate(levels))
    heaviest = max((2**h for h, size in enumerate(levels) if size), default=1)
    if count <= weight or weight == 0:
        return sketch, 0.0
    # a single level of k quantiles of n > k values: each step of the sketch CDF is 1/(k-1)
    return sketch, heaviest / max(weight - heaviest, 1)


def _numeric_drift(
    series: pd.Series,
    name: str,
    type_name: str,
    base_stat: dict[str, Any] | None,
    base_completeness: float,
    n: int,
    cfg: _Config,
    sketch_size: int,
    hasher: RowHasher,
    bounds: tuple[float | None, float | None],
) -> tuple[FeatureDrift, dict[str, Any], _Pending | None]:
    col = coerce_numeric(series, integral=type_name == formats.INTEGRAL)
    hasher.add_floats(col.values)
    present = n - col.num_missing
    completeness = present / n if n else 1.0
    mismatch = col.num_type_mismatch / present if present else 0.0
    values = col.values
    if col.num_missing or col.num_non_numeric:
        values = values[~np.isnan(values)]
    sketch, resolution = _baseline_sketch(base_stat)
    distance = psi_value = None
    pending: _Pending | None = None
    if sketch is not None and not sketch.empty and values.size:
        # the fast path: no sort of the current column
        prof = profile_against(sketch, values, sketch_size)
        stat = numeric_feature_statistics(
            name,
            type_name,
            num_present=prof.num_present,
            num_missing=col.num_missing,
            total=prof.sum,
            mean=prof.mean,
            std_dev=prof.std_dev,
            minimum=prof.min,
            maximum=prof.max,
            buckets=prof.buckets,
            sketch_values=prof.quantiles,
            sketch_size=sketch_size,
        )
        if cfg.compare:
            distance, psi_value = prof.linf, prof.psi
            base_n = sketch.count or values.size
            pending = _Pending(float(base_n), resolution)
        low, high = prof.min, prof.max
    else:
        summary = summarize_numeric(values)
        stat = summary_statistics(name, type_name, summary, col.num_missing, sketch_size)
        low, high = summary.min, summary.max
    out_of_range = 0
    observed: tuple[float, float] | None = None
    if values.size:
        observed = (low, high)
        lo, hi = bounds
        if (lo is not None and low < lo) or (hi is not None and high > hi):
            outside = np.zeros(values.size, dtype=bool)
            if lo is not None:
                outside |= values < lo
            if hi is not None:
                outside |= values > hi
            out_of_range = int(np.count_nonzero(outside))
    fd = FeatureDrift(
        name,
        type_name,
        distance,
        psi_value,
        False,
        completeness,
        base_completeness,
        mismatch,
        0.0,
        out_of_range=out_of_range,
        value_range=bounds,
        observed_range=observed,
    )
    return fd, stat, pending


def _string_drift(
    series: pd.Series,
    name: str,
    domain: tuple[str, ...],
    base_stat: dict[str, Any] | None,
    base_completeness: float,
    n: int,
    cfg: _Config,
    hasher: RowHasher,
) -> tuple[FeatureDrift, dict[str, Any], _Pending | None]:
    boolean = set(domain) <= {"true", "false"} and bool(domain)
    values = normalize_strings(series, boolean=boolean)
    hasher.add_objects(values.to_numpy(dtype=object))
    summary = summarize_categorical(values, domain)
    completeness = summary.num_present / n if n else 1.0
    unknown = sum(summary.unknown_counts.values())
    unknown_fraction = unknown / summary.num_present if summary.num_present else 0.0
    distance = psi_value = None
    pending: _Pending | None = None
    base_buckets = (
        ((base_stat or {}).get("string_statistics") or {})
        .get("distribution", {})
        .get("categorical", {})
        .get("buckets")
    )
    if base_buckets and summary.num_present and cfg.compare:
        base_counts = {str(b["value"]): float(b["count"]) for b in base_buckets}
        distance, psi_value = categorical_linf(base_counts, summary)
        pending = _Pending(float(sum(base_counts.values())), 0.0)
    stat = {
        "name": name,
        "inferred_type": formats.STRING,
        "string_statistics": {
            "common": {"num_present": summary.num_present, "num_missing": summary.num_missing},
            "distinct_count": summary.distinct_count,
            "distribution": {"categorical": {"buckets": summary.buckets()}},
        },
    }
    fd = FeatureDrift(
        name,
        formats.STRING,
        distance,
        psi_value,
        False,
        completeness,
        base_completeness,
        0.0,
        unknown_fraction,
    )
    return fd, stat, pending


def _feature_violations(
    fd: FeatureDrift, type_name: str, cfg: _Config, n: int
) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    if fd.drifted and fd.distance is not None and fd.threshold is not None:
        out.append(
            _violation(
                fd.name,
                formats.BASELINE_DRIFT_CHECK,
                f"Baseline drift distance: {fd.distance:.4f} exceeds threshold: "
                f"{fd.threshold:.4g} ({fd.threshold_source}; PSI {fd.psi or 0.0:.4f})",
            )
        )
    if fd.out_of_range and fd.observed_range is not None:
        lo, hi = fd.value_range
        allowed = f"[{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}]"
        present = fd.completeness * n
        out.append(
            _violation(
                fd.name,
                formats.VALUE_RANGE_CHECK,
                f"{fd.out_of_range} values ({_pct(fd.out_of_range / present if present else 1.0)} "
                f"of the present values) are outside the baseline range {allowed} "
                f"(num_constraints min/max); observed min {fd.observed_range[0]:g}, "
                f"max {fd.observed_range[1]:g}",
            )
        )
    if fd.type_mismatch_fraction > cfg.datatype_threshold:
        out.append(
            _violation(
                fd.name,
                formats.DATA_TYPE_CHECK,
                f"Data type match requirement is not met. Expected data type: {type_name}, expected "
                f"match: {_pct(1 - cfg.datatype_threshold)}. Observed: only "
                f"{_pct(1 - fd.type_mismatch_fraction)} of the present values are {type_name}",
            )
        )
    if fd.completeness < fd.baseline_completeness - cfg.completeness_tolerance:
        out.append(
            _violation(
                fd.name,
                formats.COMPLETENESS_CHECK,
                f"Data completeness requirement is not met. Expected: {_pct(fd.baseline_completeness)} "
                f"(tolerance {_pct(cfg.completeness_tolerance)}), observed: only "
                f"{_pct(fd.completeness)} of {n} records have a value",
            )
        )
    if fd.unknown_fraction > cfg.domain_threshold:
        out.append(
            _violation(
                fd.name,
                formats.CATEGORICAL_VALUES_CHECK,
                f"{_pct(fd.unknown_fraction)} of the values are outside the baseline domain "
                f"(allowed: {_pct(cfg.domain_threshold)})",
            )
        )
    return out


def _capture_violations(data: CaptureData, names: list[str]) -> list[dict[str, str]]:
    """Column-presence violations found while reading the capture files."""
    out: list[dict[str, str]] = []
    for name, count in sorted(data.missing_keys.items()):
        out.append(
            _violation(
                name,
                formats.MISSING_COLUMN_CHECK,
                f"{count} JSON records have no {name!r} key (counted as missing values)",
            )
        )
    for name, count in sorted(data.extra_keys.items()):
        out.append(
            _violation(
                name,
                formats.EXTRA_COLUMN_CHECK,
                f"{count} JSON records have the key {name!r}, which is not a baseline column (values not analysed)",
            )
        )
    if data.short_rows:
        out.append(
            _violation(
                "*",
                formats.MISSING_COLUMN_CHECK,
                f"{data.short_rows} records have fewer than the {len(names)} baseline columns; they are quarantined in {formats.BAD_RECORDS_FILE}",
            )
        )
    if data.long_rows:
        out.append(
            _violation(
                "*",
                formats.EXTRA_COLUMN_CHECK,
                f"{data.long_rows} records have more than the {len(names)} baseline columns; they are quarantined in {formats.BAD_RECORDS_FILE}",
            )
        )
    return out


def load_baseline(baseline_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read and check ``statistics.json`` and ``constraints.json`` from a baseline folder."""
    base = Path(baseline_dir)
    stats_path, cons_path = base / formats.STATISTICS_FILE, base / formats.CONSTRAINTS_FILE
    statistics = formats.check_statistics(
        formats.read_json(stats_path, "baseline statistics"), str(stats_path)
    )
    constraints = formats.check_constraints(
        formats.read_json(cons_path, "baseline constraints"), str(cons_path)
    )
    return statistics, constraints


def run_drift_check(
    capture_dir: Path,
    baseline_dir: Path,
    schema: Schema,
    output_dir: Path,
    *,
    threshold: float = formats.DEFAULT_THRESHOLD,
    completeness_tolerance: float = DEFAULT_COMPLETENESS_TOLERANCE,
    significance: float = DEFAULT_SIGNIFICANCE,
) -> DriftReport:
    """Read the capture files, compare with the baseline, write the Model Monitor outputs.

    ``threshold`` is the minimum distance above which a feature drifts (numeric and
    categorical); with the ``Robust`` method the distance must also exceed the KS critical
    distance at ``significance`` for the effective sample sizes.
    Bad capture lines and records never stop the check: they are counted, listed in
    ``bad_records.jsonl`` and in the report.
    """
    statistics, constraints = load_baseline(Path(baseline_dir))
    base_names = [f["name"] for f in constraints["features"]]
    if base_names != schema.feature_names:
        raise ValueError(
            f"baseline in {str(baseline_dir)!r} has features {base_names} but schema {schema.name!r} "
            f"has {schema.feature_names}; regenerate the baseline with this schema"
        )
    data = read_capture_files(Path(capture_dir), schema.feature_names)
    result = compute_drift(
        data.frame,
        statistics,
        constraints,
        threshold=threshold,
        completeness_tolerance=completeness_tolerance,
        significance=significance,
    )
    violations = _capture_violations(data, schema.feature_names) + result.violations
    out = Path(output_dir)
    formats.write_json(out / formats.VIOLATIONS_FILE, {"violations": violations})
    formats.write_json(out / formats.STATISTICS_FILE, result.statistics)
    formats.write_json(
        out / formats.METRICS_FILE,
        {
            "namespace": formats.METRIC_NAMESPACE,
            "item_count": len(data.frame),
            "bad_record_count": len(data.bad_records),
            "metrics": result.metrics,
        },
    )
    with (out / formats.BAD_RECORDS_FILE).open("w", encoding="utf-8") as fh:
        for bad in data.bad_records:
            fh.write(json.dumps(bad.to_dict()) + "\n")
    return DriftReport(
        item_count=len(data.frame),
        capture_events=data.events,
        capture_files=data.files,
        features=result.features,
        violations=violations,
        metrics=result.metrics,
        bad_records=data.bad_records,
        output_dir=out,
        effective_size=result.effective_size,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Processing-container entry point. Exit 0 also when violations are found (as Model
    Monitor's "CompletedWithViolations"); exit 2 on unusable inputs."""
    env = os.environ
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    # Model Monitor passes dataset_source / output_path to bring-your-own containers
    parser.add_argument("--capture-dir", default=env.get("dataset_source", DEFAULT_CAPTURE))
    parser.add_argument("--baseline-dir", default=DEFAULT_BASELINE)
    parser.add_argument(
        "--schema", default=None, help="schema JSON (default: <baseline-dir>/schema.json)"
    )
    parser.add_argument("--output-dir", default=env.get("output_path", DEFAULT_OUTPUT))
    parser.add_argument("--threshold", type=float, default=formats.DEFAULT_THRESHOLD)
    parser.add_argument(
        "--completeness-tolerance", type=float, default=DEFAULT_COMPLETENESS_TOLERANCE
    )
    parser.add_argument(
        "--significance",
        type=float,
        default=DEFAULT_SIGNIFICANCE,
        help="per-feature false-alarm rate of the Robust drift test (default %(default)s)",
    )
    parser.add_argument(
        "--emit-cloudwatch", action="store_true", help="publish the metrics to CloudWatch"
    )
    parser.add_argument("--endpoint-name", default=env.get("endpoint_name", "local-endpoint"))
    parser.add_argument(
        "--schedule-name", default=env.get("monitoring_schedule_name", "local-schedule")
    )
    args = parser.parse_args(argv)
    try:
        schema = Schema.from_file(args.schema or Path(args.baseline_dir) / formats.SCHEMA_FILE)
        report = run_drift_check(
            Path(args.capture_dir),
            Path(args.baseline_dir),
            schema,
            Path(args.output_dir),
            threshold=args.threshold,
            completeness_tolerance=args.completeness_tolerance,
            significance=args.significance,
        )
    except (ValueError, FileNotFoundError) as exc:
        print(f"drift check failed: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    if args.emit_cloudwatch:
        sent = emit_cloudwatch_metrics(
            report, endpoint_name=args.endpoint_name, schedule_name=args.schedule_name
        )
        print(f"published {sent} metrics to CloudWatch namespace {formats.METRIC_NAMESPACE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
