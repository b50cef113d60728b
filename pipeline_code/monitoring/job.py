"""The monitoring job: four monitors over a window of endpoint data capture.

Runs as a SageMaker Processing job (the portable replacement for Model Monitor) and locally::

    python -m pipeline_code.monitoring.job --capture-dir capture/ --baseline-dir baseline/ \\
        --ground-truth-dir ground-truth/ --output-dir monitoring/ --endpoint-name churn-prod

Monitors (``--monitors``, default all):

* ``data-quality``: the drift check of :mod:`.drift` (Model Monitor's checks and formats)
  against the baseline registered with the model version;
* ``prediction-drift``: the score distribution against the baseline's scores
  (:mod:`.prediction_drift`);
* ``model-quality``: binary classification metrics once ground truth arrives, joined by event
  id, with how many records matched and how many are still unlabeled (:mod:`.model_quality`);
* ``bias-drift``: the evaluation's bias metrics on labelled live traffic (:mod:`.bias_drift`).

Outputs: ``<output>/<monitor>/statistics.json`` and ``constraint_violations.json``,
``<output>/bad_records.jsonl`` (every unusable capture or ground-truth record with its reason),
``<output>/summary.json``, and on stdout one metric line per metric
(:mod:`.metric_lines`), which CloudWatch Logs metric filters turn into metrics.

Scale-out (:mod:`.scale_out`): ``--mode partial`` on each of N instances (capture sharded by S3
key) writes a mergeable partial state; ``--mode merge`` adds them up and writes the outputs.
``--mode all`` (default) does both in one process; ``--shard i/n`` picks every n-th file
locally. Flags and paths: :mod:`.job_contract`. Exit status 0 also when violations are found
(Model Monitor's "CompletedWithViolations"), 2 on unusable inputs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..schema import Schema
from . import (
    bias_drift,
    formats,
    model_quality,
    prediction_drift,
    scale_out,
)
from . import job_contract as jc
from . import metric_lines as ml
from .capture import CaptureData
from .columns import normalize_strings
from .drift import (
    DEFAULT_COMPLETENESS_TOLERANCE,
    FeatureDrift,
    _baseline_sketch,
    _bounds,
    _capture_violations,
    _config,
    _decide,
    _feature_violations,
    _Pending,
    load_baseline,
)
from .ground_truth import (
    join_labels,
    read_ground_truth,
    sensitive_values,
)
from .stats import (
    DEFAULT_SIGNIFICANCE,
    DEFAULT_SKETCH_SIZE,
    EffectiveSize,
    RowHasher,
    effective_size,
)


@dataclass(frozen=True)
class JobConfig:
    """Everything one run needs (the CLI flags, parsed)."""

    capture_dir: Path
    baseline_dir: Path
    output_dir: Path
    schema: Schema
    ground_truth_dir: Path | None = None
    monitors: tuple[str, ...] = jc.MONITORS
    endpoint_name: str = "local-endpoint"
    schedule_name: str = "local-schedule"
    window_start: datetime | None = None
    window_end: datetime | None = None
    #: (i, n) to read every n-th file locally; None = every file in capture_dir
    shard: tuple[int, int] | None = None
    threshold: float = formats.DEFAULT_THRESHOLD
    decision_threshold: float = 0.5
    significance: float = DEFAULT_SIGNIFICANCE
    completeness_tolerance: float = DEFAULT_COMPLETENESS_TOLERANCE
    sketch_size: int = DEFAULT_SKETCH_SIZE


@dataclass
class JobResult:
    """What a run found; the same content as the files it wrote."""

    records: int
    events: int
    files: int
    bad_records: int
    out_of_window: int
    statistics: dict[str, dict[str, Any]] = field(default_factory=dict)
    violations: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    metric_lines: list[str] = field(default_factory=list)
    ground_truth: dict[str, int] = field(default_factory=dict)
    effective_size: EffectiveSize | None = None

    def summary(self) -> str:
        lines = [
            f"records evaluated: {self.records} (from {self.events} capture events in "
            f"{self.files} files; {self.out_of_window} events outside the window); bad records: "
            f"{self.bad_records} (see {formats.BAD_RECORDS_FILE})"
        ]
        if self.ground_truth:
            gt = self.ground_truth
            lines.append(
                f"ground truth: {gt['matched']} records labelled, {gt['unlabeled']} still unlabeled"
            )
        for monitor, vs in self.violations.items():
            lines.append(f"{monitor}: {len(vs)} violations")
            lines += [
                f"  {v['constraint_check_type']}: {v.get('feature_name') or v.get('metric_name') or v.get('facet')}: {v['description']}"
                for v in vs[:20]
            ]
        return "\n".join(lines)


# ---------------------------------------------------------------- the partial (per shard)
def _fingerprint(cfg: JobConfig) -> str:
    h = hashlib.sha256()
    h.update(cfg.schema.to_json().encode())
    for name in (
        formats.STATISTICS_FILE,
        formats.CONSTRAINTS_FILE,
        prediction_drift.STATISTICS_FILE,
    ):
        p = cfg.baseline_dir / name
        h.update(p.read_bytes() if p.exists() else b"-")
    h.update(
        repr(
            (
                cfg.monitors,
                cfg.window_start,
                cfg.window_end,
                cfg.decision_threshold,
                cfg.sketch_size,
            )
        ).encode()
    )
    return h.hexdigest()[:16]


def capture_files(cfg: JobConfig) -> list[Path]:
    root = cfg.capture_dir
    if not root.exists():
        raise FileNotFoundError(
            f"capture folder {str(root)!r} does not exist; pass --capture-dir, the folder that "
            "holds <endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl"
        )
    files = sorted(root.rglob("*.jsonl")) if root.is_dir() else [root]
    return scale_out.shard_files(files, cfg.shard) if cfg.shard else files


def compute_partial(cfg: JobConfig, shard: tuple[int, int] = (0, 1)) -> scale_out.Partial:
    """Read this shard's capture files and reduce them to mergeable state."""
    statistics, constraints = load_baseline(cfg.baseline_dir)
    _check_baseline(constraints, cfg)
    root = cfg.capture_dir
    files = capture_files(cfg)
    window = scale_out.read_window(
        files, root, cfg.schema.feature_names, start=cfg.window_start, end=cfg.window_end
    )
    cap = window.capture
    frame = cap.frame
    n = len(frame)
    doc: dict[str, Any] = {
        "fingerprint": _fingerprint(cfg),
        "shard": list(shard),
        "records": n,
        "events": cap.events,
        "files": cap.files,
        "out_of_window": window.out_of_window,
        "missing_keys": dict(cap.missing_keys),
        "extra_keys": dict(cap.extra_keys),
        "short_rows": cap.short_rows,
        "long_rows": cap.long_rows,
    }
    hasher = RowHasher(n)
    if jc.MONITOR_DATA_QUALITY in cfg.monitors:
        base_stats = {f["name"]: f for f in statistics["features"]}
        features: dict[str, Any] = {}
        for cons in constraints["features"]:
            name = cons["name"]
            type_name = cons.get("inferred_type", formats.UNKNOWN)
            if type_name in (formats.INTEGRAL, formats.FRACTIONAL):
                finite, miss, non_num, non_int, allv = scale_out.numeric_column(
                    frame[name], type_name == formats.INTEGRAL
                )
                hasher.add_floats(allv)
                sketch, _ = _baseline_sketch(base_stats.get(name))
                features[name] = scale_out.numeric_partial(
                    finite,
                    sketch,
                    num_missing=miss,
                    num_non_numeric=non_num,
                    num_non_integral=non_int,
                    bounds=_bounds(cons),
                    sketch_size=cfg.sketch_size,
                )
            else:
                domain = tuple((cons.get("string_constraints") or {}).get("domains") or ())
                part, values = scale_out.string_partial(frame[name], domain)
                hasher.add_objects(values.to_numpy(dtype=object))
                features[name] = part
        doc[jc.MONITOR_DATA_QUALITY] = features
    scores = window.scores
    predicted = np.where(np.isfinite(scores), scores >= cfg.decision_threshold, False).astype(
        np.int64
    )
    if jc.MONITOR_PREDICTION_DRIFT in cfg.monitors:
        pb = prediction_drift.load_prediction_baseline(cfg.baseline_dir)
        sketch = _baseline_sketch(pb[0]["features"][0])[0] if pb else None
        finite = scores[np.isfinite(scores)]
        part = scale_out.numeric_partial(
            finite,
            sketch,
            num_missing=int(scores.size - finite.size),
            bounds=(0.0, 1.0),
            sketch_size=cfg.sketch_size,
        )
        part["predicted_positive"] = int(predicted.sum())
        doc[jc.MONITOR_PREDICTION_DRIFT] = part
    bad = list(cap.bad_records)
    if jc.MONITOR_MODEL_QUALITY in cfg.monitors or jc.MONITOR_BIAS_DRIFT in cfg.monitors:
        # every shard sees all the ground truth: each parses only its own events' lines, and
        # shard 0 alone reports lines without an event id and counts files and lines
        gt = read_ground_truth(
            cfg.ground_truth_dir,
            cfg.schema,
            event_ids=set(window.event_ids.tolist()),
            report_unkeyed=shard[0] == 0,
        )
        bad += gt.bad_records
        if shard[0] == 0:
            doc["ground_truth_files"] = gt.files
            doc["ground_truth_lines"] = gt.lines
        joined = join_labels(window.event_ids, window.record_index, gt, bad)
        labels = joined.labels
        labelled = labels >= 0
        doc["ground_truth_mismatched_events"] = joined.mismatched_events
        if jc.MONITOR_MODEL_QUALITY in cfg.monitors:
            doc[jc.MONITOR_MODEL_QUALITY] = model_quality.partial(
                scores[labelled], labels[labelled], unlabeled=joined.unlabeled
            )
        if jc.MONITOR_BIAS_DRIFT in cfg.monitors:
            mask = labelled & np.isfinite(scores)
            attrs: dict[str, pd.Series] = {}
            for attr in cfg.schema.sensitive_attributes:
                if attr.name in frame.columns:
                    series = frame[attr.name][mask].reset_index(drop=True)
                else:
                    series = sensitive_values(
                        window.event_ids[mask], window.record_index[mask], gt, attr.name
                    )
                if not attr.is_numeric:
                    series = normalize_strings(series, boolean=attr.type == "boolean")
                attrs[attr.name] = series
            doc[jc.MONITOR_BIAS_DRIFT] = bias_drift.partial(
                attrs, labels[mask], predicted[mask], cfg.schema
            )
    doc["bad_records"] = [b.to_dict() for b in bad]
    return scale_out.Partial(doc, hasher.hashes)


def _check_baseline(constraints: dict[str, Any], cfg: JobConfig) -> None:
    names = [f["name"] for f in constraints["features"]]
    if names != cfg.schema.feature_names:
        raise ValueError(
            f"baseline in {str(cfg.baseline_dir)!r} has features {names} but schema "
            f"{cfg.schema.name!r} has {cfg.schema.feature_names}; regenerate the baseline with "
            "this schema or pass the matching --schema"
        )


# ---------------------------------------------------------------- the merge
def _column_keys(
    feature_parts: dict[str, dict[str, Any]], eq: dict[str, npt.NDArray[np.int64] | None]
) -> Iterator[npt.NDArray[np.int64]]:
    """Value keys per column rebuilt from counts (see scale_out: numeric values between
    baseline sketch points count as distinct)."""
    for name, part in feature_parts.items():
        if "domain_counts" in part:
            counts = [*part["domain_counts"].values(), *part["unknown_counts"].values()]
            counts.append(part["num_missing"])
            c = np.asarray(counts, dtype=np.int64)
        else:
            ties = eq.get(name)
            tied = ties if ties is not None else np.empty(0, np.int64)
            singles = int(part["num_present"]) - int(tied.sum())
            c = np.concatenate(
                (
                    tied,
                    [int(part["num_missing"]) + int(part["num_non_numeric"])],
                    np.ones(singles, np.int64),
                )
            )
        yield np.repeat(np.arange(c.size), c)


def merge_partials(partials: Sequence[scale_out.Partial], cfg: JobConfig) -> JobResult:
    """Add up the shards' partial states; write the outputs; return the result."""
    statistics, constraints = load_baseline(cfg.baseline_dir)
    docs = [p.doc for p in partials]
    bad = scale_out.bad_records_of(partials)
    n = sum(int(d["records"]) for d in docs)
    capture = CaptureData(
        frame=pd.DataFrame(),
        events=sum(int(d["events"]) for d in docs),
        files=sum(int(d["files"]) for d in docs),
        bad_records=bad,
        missing_keys=sum((Counter(d["missing_keys"]) for d in docs), Counter()),
        extra_keys=sum((Counter(d["extra_keys"]) for d in docs), Counter()),
        short_rows=sum(int(d["short_rows"]) for d in docs),
        long_rows=sum(int(d["long_rows"]) for d in docs),
    )
    result = JobResult(
        records=n,
        events=capture.events,
        files=capture.files,
        bad_records=len(bad),
        out_of_window=sum(int(d["out_of_window"]) for d in docs),
    )
    hashes = np.concatenate([p.hashes for p in partials]) if partials else np.empty(0, np.uint64)
    lines: list[str | None] = []

    def emit(name: str, namespace: str, value: float, **extra: str) -> None:
        lines.append(
            ml.metric_line(
                name,
                namespace,
                value,
                endpoint=cfg.endpoint_name,
                schedule=cfg.schedule_name,
                **extra,
            )
        )

    emit(ml.BAD_RECORDS_METRIC, ml.OWN_NAMESPACE, float(len(bad)))
    size: EffectiveSize | None = None
    if jc.MONITOR_DATA_QUALITY in cfg.monitors:
        size = _data_quality(docs, hashes, statistics, constraints, capture, cfg, result, emit)
    if jc.MONITOR_PREDICTION_DRIFT in cfg.monitors:
        _prediction_drift(docs, n, size, cfg, result, emit)
    if jc.MONITOR_MODEL_QUALITY in cfg.monitors:
        parts = [d[jc.MONITOR_MODEL_QUALITY] for d in docs]
        stats, violations, values = model_quality.finish(
            parts,
            decision_threshold=cfg.decision_threshold,
            constraints=model_quality.load_constraints(cfg.baseline_dir),
        )
        gt = stats["ground_truth"]
        gt["mismatched_events"] = sum(int(d.get("ground_truth_mismatched_events", 0)) for d in docs)
        gt["files"] = sum(int(d.get("ground_truth_files", 0)) for d in docs)
        gt["lines"] = sum(int(d.get("ground_truth_lines", 0)) for d in docs)
        result.ground_truth = {"matched": gt["matched"], "unlabeled": gt["unlabeled"]}
        _write(cfg, jc.MONITOR_MODEL_QUALITY, stats, violations, result)
        for name, v in values.items():
            emit(name, ml.MODEL_NAMESPACE, v)
        emit(ml.GROUND_TRUTH_MATCHED_METRIC, ml.OWN_NAMESPACE, gt["matched"])
        emit(ml.GROUND_TRUTH_UNLABELED_METRIC, ml.OWN_NAMESPACE, gt["unlabeled"])
        _own(emit, jc.MONITOR_MODEL_QUALITY, violations, gt["matched"])
    if jc.MONITOR_BIAS_DRIFT in cfg.monitors:
        merged = bias_drift.merge([d[jc.MONITOR_BIAS_DRIFT] for d in docs])
        stats, violations, values2 = bias_drift.finish(
            merged, cfg.schema, baseline=bias_drift.load_evaluation_bias(cfg.baseline_dir)
        )
        _write(cfg, jc.MONITOR_BIAS_DRIFT, stats, violations, result)
        for facet, vals in values2.items():
            for name, v in vals.items():
                emit(name, ml.BIAS_NAMESPACE, v, facet=facet)
        _own(emit, jc.MONITOR_BIAS_DRIFT, violations, int(stats["dataset"]["item_count"]))
    result.effective_size = size
    result.metric_lines = [line for line in lines if line is not None]
    out = cfg.output_dir
    out.mkdir(parents=True, exist_ok=True)
    with (out / formats.BAD_RECORDS_FILE).open("w", encoding="utf-8") as fh:
        for b in bad:
            fh.write(json.dumps(b.to_dict()) + "\n")
    formats.write_json(
        out / "summary.json",
        {
            "records": n,
            "events": result.events,
            "files": result.files,
            "bad_records": len(bad),
            "out_of_window": result.out_of_window,
            "shards": len(partials),
            "ground_truth": result.ground_truth,
            "violations": {m: len(v) for m, v in result.violations.items()},
        },
    )
    return result


def _own(emit: Any, monitor: str, violations: list[dict[str, str]], records: int) -> None:
    emit(ml.VIOLATIONS_METRIC, ml.OWN_NAMESPACE, float(len(violations)), monitor=monitor)
    emit(ml.RECORDS_METRIC, ml.OWN_NAMESPACE, float(records), monitor=monitor)


def _write(
    cfg: JobConfig,
    monitor: str,
    stats: dict[str, Any],
    violations: list[dict[str, str]],
    result: JobResult,
) -> None:
    folder = cfg.output_dir / monitor
    formats.write_json(folder / formats.STATISTICS_FILE, stats)
    formats.write_json(folder / formats.VIOLATIONS_FILE, {"violations": violations})
    result.statistics[monitor] = stats
    result.violations[monitor] = violations


def _numeric_feature(
    name: str,
    type_name: str,
    merged: dict[str, Any],
    base_stat: dict[str, Any] | None,
    base_completeness: float,
    n: int,
    bounds: tuple[float | None, float | None],
    compare: bool,
    sketch_size: int,
) -> tuple[FeatureDrift, dict[str, Any], _Pending | None, scale_out.NumericResult]:
    from .baseline import numeric_feature_statistics

    sketch, resolution = _baseline_sketch(base_stat)
    r = scale_out.finish_numeric(merged, sketch, sketch_size)
    stat = numeric_feature_statistics(
        name,
        type_name,
        num_present=r.num_present,
        num_missing=r.num_missing,
        total=r.total,
        mean=r.mean,
        std_dev=r.std_dev,
        minimum=r.minimum,
        maximum=r.maximum,
        buckets=r.buckets,
        sketch_values=r.quantiles,
        sketch_size=sketch_size,
    )
    pending = None
    distance = psi_value = None
    if compare and r.linf is not None and sketch is not None:
        distance, psi_value = r.linf, r.psi
        pending = _Pending(float(sketch.count or r.num_present), resolution)
    present = r.num_present + r.num_type_mismatch - int(merged.get("num_non_integral", 0))
    fd = FeatureDrift(
        name,
        type_name,
        distance,
        psi_value,
        False,
        (n - r.num_missing) / n if n else 1.0,
        base_completeness,
        r.num_type_mismatch / present if present else 0.0,
        0.0,
        out_of_range=r.out_of_range,
        value_range=bounds,
        observed_range=(r.minimum, r.maximum) if r.num_present else None,
    )
    return fd, stat, pending, r


def _data_quality(
    docs: list[dict[str, Any]],
    hashes: npt.NDArray[np.uint64],
    statistics: dict[str, Any],
    constraints: dict[str, Any],
    capture: CaptureData,
    cfg: JobConfig,
    result: JobResult,
    emit: Any,
) -> EffectiveSize | None:
    from .stats import CategoricalSummary, categorical_linf

    dq = _config(constraints, cfg.threshold, cfg.completeness_tolerance, cfg.significance)
    base_stats = {f["name"]: f for f in statistics["features"]}
    n = sum(int(d["records"]) for d in docs)
    compared: list[tuple[FeatureDrift, _Pending | None]] = []
    cur_stats: list[dict[str, Any]] = []
    merged_parts: dict[str, dict[str, Any]] = {}
    eq: dict[str, npt.NDArray[np.int64] | None] = {}
    for cons in constraints["features"]:
        name = cons["name"]
        type_name = cons.get("inferred_type", formats.UNKNOWN)
        parts = [d[jc.MONITOR_DATA_QUALITY][name] for d in docs]
        base_completeness = float(cons.get("completeness", 1.0))
        if type_name in (formats.INTEGRAL, formats.FRACTIONAL):
            merged = scale_out.merge_numeric(parts)
            fd, stat, pending, r = _numeric_feature(
                name,
                type_name,
                merged,
                base_stats.get(name),
                base_completeness,
                n,
                _bounds(cons),
                dq.compare,
                cfg.sketch_size,
            )
            eq[name] = r.eq_counts
        else:
            merged = scale_out.merge_string(parts)
            domain = tuple((cons.get("string_constraints") or {}).get("domains") or ())
            dom_counts = np.asarray(
                [merged["domain_counts"].get(v, 0) for v in domain], dtype=np.int64
            )
            summary = CategoricalSummary(
                int(merged["num_present"]),
                int(merged["num_missing"]),
                domain,
                dom_counts,
                {k: int(v) for k, v in sorted(merged["unknown_counts"].items())},
            )
            unknown = sum(summary.unknown_counts.values())
            distance = psi_value = None
            pending = None
            base_buckets = (
                ((base_stats.get(name) or {}).get("string_statistics") or {})
                .get("distribution", {})
                .get("categorical", {})
                .get("buckets")
            )
            if base_buckets and summary.num_present and dq.compare:
                base_counts = {str(b["value"]): float(b["count"]) for b in base_buckets}
                distance, psi_value = categorical_linf(base_counts, summary)
                pending = _Pending(float(sum(base_counts.values())), 0.0)
            stat = {
                "name": name,
                "inferred_type": formats.STRING,
                "string_statistics": {
                    "common": {
                        "num_present": summary.num_present,
                        "num_missing": summary.num_missing,
                    },
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
                summary.num_present / n if n else 1.0,
                base_completeness,
                0.0,
                unknown / summary.num_present if summary.num_present else 0.0,
            )
        merged_parts[name] = merged
        compared.append((fd, pending))
        cur_stats.append(stat)
    size = effective_size(hashes, lambda: _column_keys(merged_parts, eq)) if n else None
    violations = _capture_violations(capture, cfg.schema.feature_names)
    for fd0, pending in compared:
        fd = _decide(fd0, pending, size, dq)
        if fd.distance is not None:
            emit(ml.DRIFT_PREFIX + fd.name, ml.DATA_NAMESPACE, fd.distance)
        emit(ml.NON_NULL_PREFIX + fd.name, ml.DATA_NAMESPACE, fd.completeness)
        if dq.evaluate and n:
            violations += _feature_violations(fd, fd.inferred_type, dq, n)
    stats = {"version": 0.0, "dataset": {"item_count": n}, "features": cur_stats}
    _write(cfg, jc.MONITOR_DATA_QUALITY, stats, violations, result)
    _own(emit, jc.MONITOR_DATA_QUALITY, violations, n)
    return size


def _prediction_drift(
    docs: list[dict[str, Any]],
    n: int,
    size: EffectiveSize | None,
    cfg: JobConfig,
    result: JobResult,
    emit: Any,
) -> None:
    parts = [d[jc.MONITOR_PREDICTION_DRIFT] for d in docs]
    merged = scale_out.merge_numeric(parts)
    positive = sum(int(p["predicted_positive"]) for p in parts)
    pb = prediction_drift.load_prediction_baseline(cfg.baseline_dir)
    base_stat = pb[0]["features"][0] if pb else None
    cons = (
        pb[1]
        if pb
        else {"features": [], "monitoring_config": formats.default_monitoring_config(cfg.threshold)}
    )
    dq = _config(cons, cfg.threshold, cfg.completeness_tolerance, cfg.significance)
    fd, stat, pending, r = _numeric_feature(
        prediction_drift.SCORE_COLUMN,
        formats.FRACTIONAL,
        merged,
        base_stat,
        1.0,
        n,
        (0.0, 1.0),
        dq.compare and pb is not None,
        cfg.sketch_size,
    )
    scored = r.num_present
    if size is None and scored:
        size = EffectiveSize(scored, scored, float(scored), 0.0)
    fd = _decide(fd, pending, size, dq)
    violations = _feature_violations(fd, formats.FRACTIONAL, dq, n) if (n and pb) else []
    rate = positive / scored if scored else float("nan")
    dataset: dict[str, Any] = {"item_count": n, "scored": scored, "predicted_positive_rate": rate}
    if pb is None:
        dataset["comparison"] = (
            f"none: the baseline has no {prediction_drift.STATISTICS_FILE}; write one with "
            "pipeline_code.monitoring.prediction_drift.write_prediction_baseline"
        )
    else:
        dataset["baseline_predicted_positive_rate"] = (
            pb[0].get("dataset", {}).get("predicted_positive_rate")
        )
    stats = {"version": 0.0, "dataset": dataset, "features": [stat]}
    _write(cfg, jc.MONITOR_PREDICTION_DRIFT, stats, violations, result)
    if fd.distance is not None:
        emit(ml.PREDICTION_DRIFT_METRIC, ml.DATA_NAMESPACE, fd.distance)
    emit(ml.PREDICTED_POSITIVE_RATE_METRIC, ml.DATA_NAMESPACE, rate)
    _own(emit, jc.MONITOR_PREDICTION_DRIFT, violations, scored)


# ---------------------------------------------------------------- running
def run_job(cfg: JobConfig, *, shards: int = 1, workers: int = 1) -> JobResult:
    """The whole job on this machine: ``shards`` partials (computed by ``workers`` processes,
    like N processing instances), then the merge."""
    if shards == 1:
        partials = [compute_partial(cfg, (0, 1))]
    else:
        cfgs = [_with_shard(cfg, (i, shards)) for i in range(shards)]
        if workers > 1:
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(max_workers=workers) as pool:
                partials = list(pool.map(_partial_of, cfgs))
        else:
            partials = [_partial_of(c) for c in cfgs]
    return merge_partials(partials, cfg)


def _with_shard(cfg: JobConfig, shard: tuple[int, int]) -> JobConfig:
    from dataclasses import replace

    return replace(cfg, shard=shard)


def _partial_of(cfg: JobConfig) -> scale_out.Partial:
    assert cfg.shard is not None
    return compute_partial(cfg, cfg.shard)


def _parse_time(text: str | None, flag: str) -> datetime | None:
    if not text:
        return None
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{flag} {text!r} is not an ISO 8601 time; pass e.g. 2026-01-01T10:00:00Z"
        ) from None
    if ts.tzinfo is None:
        raise ValueError(f"{flag} {text!r} has no time zone; capture times are UTC, add 'Z'")
    from ..compat import UTC

    return ts.astimezone(UTC)


def _parse_monitors(text: str) -> tuple[str, ...]:
    names = tuple(m.strip() for m in text.split(",") if m.strip())
    unknown = [m for m in names if m not in jc.MONITORS]
    if unknown or not names:
        raise ValueError(
            f"{jc.FLAG_MONITORS} {text!r} names unknown monitors {unknown}; use a comma-separated "
            f"subset of {','.join(jc.MONITORS)}"
        )
    return tuple(m for m in jc.MONITORS if m in names)


def build_parser() -> argparse.ArgumentParser:
    env = os.environ
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        jc.FLAG_CAPTURE_DIR, default=env.get(jc.ENV_DATASET_SOURCE, jc.CAPTURE_LOCAL_PATH)
    )
    p.add_argument(jc.FLAG_BASELINE_DIR, default=jc.BASELINE_LOCAL_PATH)
    p.add_argument(jc.FLAG_GROUND_TRUTH_DIR, default=jc.GROUND_TRUTH_LOCAL_PATH)
    p.add_argument(jc.FLAG_PARTIALS_DIR, default=jc.PARTIALS_LOCAL_PATH)
    p.add_argument(jc.FLAG_OUTPUT_DIR, default=env.get(jc.ENV_OUTPUT_PATH, jc.OUTPUT_LOCAL_PATH))
    p.add_argument(
        jc.FLAG_SCHEMA, default=None, help="schema JSON (default <baseline-dir>/schema.json)"
    )
    p.add_argument(jc.FLAG_MONITORS, default=",".join(jc.MONITORS))
    p.add_argument(jc.FLAG_ENDPOINT_NAME, default=env.get(jc.ENV_ENDPOINT_NAME, "local-endpoint"))
    p.add_argument(jc.FLAG_SCHEDULE_NAME, default=env.get(jc.ENV_SCHEDULE_NAME, "local-schedule"))
    p.add_argument(jc.FLAG_WINDOW_START, default=None, help="ISO 8601 UTC, inclusive")
    p.add_argument(jc.FLAG_WINDOW_END, default=None, help="ISO 8601 UTC, exclusive")
    p.add_argument(jc.FLAG_SHARD, default=None, help="i/n, or auto on SageMaker")
    p.add_argument(jc.FLAG_MODE, default=jc.MODE_ALL, choices=jc.MODES)
    p.add_argument(jc.FLAG_THRESHOLD, type=float, default=formats.DEFAULT_THRESHOLD)
    p.add_argument(jc.FLAG_DECISION_THRESHOLD, type=float, default=0.5)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Processing-container entry point (see the module docstring)."""
    args = build_parser().parse_args(argv)
    try:
        baseline_dir = Path(args.baseline_dir)
        schema = Schema.from_file(args.schema or baseline_dir / formats.SCHEMA_FILE)
        if not 0.0 <= args.decision_threshold <= 1.0:
            raise ValueError(
                f"{jc.FLAG_DECISION_THRESHOLD} {args.decision_threshold} must be between 0 and 1"
            )
        shard: tuple[int, int] | None = None
        partial_shard = (0, 1)
        if args.shard == "auto":
            partial_shard = scale_out.shard_from_resource_config(Path(jc.RESOURCE_CONFIG_PATH))
        elif args.shard:
            shard = partial_shard = scale_out.parse_shard(args.shard)
        gt_dir = Path(args.ground_truth_dir)
        cfg = JobConfig(
            capture_dir=Path(args.capture_dir),
            baseline_dir=baseline_dir,
            output_dir=Path(args.output_dir),
            schema=schema,
            ground_truth_dir=gt_dir if gt_dir.exists() else None,
            monitors=_parse_monitors(args.monitors),
            endpoint_name=args.endpoint_name,
            schedule_name=args.schedule_name,
            window_start=_parse_time(args.window_start, jc.FLAG_WINDOW_START),
            window_end=_parse_time(args.window_end, jc.FLAG_WINDOW_END),
            shard=shard,
            threshold=args.threshold,
            decision_threshold=args.decision_threshold,
        )
        if args.mode == jc.MODE_PARTIAL:
            part = compute_partial(cfg, partial_shard)
            name = f"shard-{partial_shard[0]:04d}-of-{partial_shard[1]:04d}"
            path = scale_out.write_partial(part, cfg.output_dir / jc.PARTIALS_SUBDIR, name)
            print(f"partial state of {part.doc['records']} records written to {path}")
            return 0
        if args.mode == jc.MODE_MERGE:
            result = merge_partials(scale_out.read_partials(Path(args.partials_dir)), cfg)
        else:
            result = merge_partials([compute_partial(cfg, partial_shard)], cfg)
    except (ValueError, FileNotFoundError) as exc:
        print(f"monitoring job failed: {exc}", file=sys.stderr)
        return 2
    print(result.summary())
    for line in result.metric_lines:
        print(line)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
