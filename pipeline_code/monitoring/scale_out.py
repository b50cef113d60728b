"""Scale-out for the monitoring job: read a shard of the capture, keep mergeable partial state.

A day of capture from a busy endpoint is split by S3 key across processing instances
(``ShardedByS3Key``: each instance downloads a subset of the files). Each instance reduces its
files to a *partial state* whose size does not grow with the rows (except the row hashes, see
below), and one merge step adds the partials up. The job always takes this path, also on one
machine (one partial, merged), so one shard and N shards compute the same numbers:

* counts (records, missing values, type mismatches, values outside the allowed range, category
  counts, confusion counts per group) add up exactly;
* the numeric drift distance and PSI are exact too: every shard counts its values below and at
  each point of the *baseline* sketch (a fixed grid shared by all shards), so the merged counts
  are the counts of the whole window, and the L-infinity distance to the baseline CDF and the
  PSI follow exactly;
* sums and sums of squares (mean, standard deviation) add up to float rounding;
* the current window's quantiles (``statistics.json`` only; no decision uses them) merge as
  weighted quantile summaries: each shard keeps ``k`` exact quantiles of its values, each
  weighing ``count / k``; the merge takes the quantiles of the weighted union. The rank error is
  at most ``2 / (k - 1)`` (1/512 with the default ``k = 1025``); Model Monitor's 10 equal-width
  buckets are read off that merged summary (same error per bucket edge).
* repeated rows (the drift test counts a row seen many times once) need the 64-bit row hashes of
  the whole window; they travel as a ``.npy`` file beside the partial (8 bytes per row: 8 MB
  per million records), the one part that grows with the data. The chance-collision rate per
  column comes from the category counts and, for numeric columns, from the counts of values
  equal to a baseline sketch point (values between sketch points count as distinct), which is
  exact for discrete columns and errs towards fewer alarms otherwise.

The capture reader here is :class:`pipeline_code.monitoring.capture`'s, extended to keep each
record's event id, inference time and model output (the score), and to skip events outside the
time window (counted).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import formats
from .capture import BadRecord, CaptureData, _Reader
from .columns import coerce_numeric, normalize_strings
from .stats import (
    DEFAULT_SKETCH_SIZE,
    KLL_BUCKETS,
    PSI_BUCKETS,
    QuantileSketch,
    RowHasher,
    psi_from_fractions,
    sketch_from_sorted,
    sketch_ranks,
    summarize_categorical,
)

FloatArray = npt.NDArray[np.float64]


# ---------------------------------------------------------------- shards and windows
def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` -> ``(i, n)`` with ``0 <= i < n``."""
    try:
        i_text, n_text = text.split("/")
        i, n = int(i_text), int(n_text)
    except ValueError:
        raise ValueError(
            f"--shard {text!r} is not 'i/n'; pass e.g. 0/2 for the first of two shards, or auto"
        ) from None
    if n < 1 or not 0 <= i < n:
        raise ValueError(f"--shard {text!r} needs 0 <= i < n (0-based shard i of n)")
    return i, n


def shard_from_resource_config(path: Path) -> tuple[int, int]:
    """The shard of this instance from SageMaker's resourceconfig.json (host algo-k of n)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        hosts = sorted(doc["hosts"])
        return hosts.index(doc["current_host"]), len(hosts)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f"--shard auto needs SageMaker's {str(path)!r} with current_host and hosts ({exc}); "
            "pass --shard i/n outside SageMaker"
        ) from None


def shard_files(files: Sequence[Path], shard: tuple[int, int]) -> list[Path]:
    """Files of shard ``i`` of ``n``: every n-th file of the sorted list, starting at i."""
    i, n = shard
    return [f for j, f in enumerate(sorted(files)) if j % n == i]


def window_key(ts: datetime | None) -> str | None:
    """A window bound as the ``YYYY-MM-DDTHH:MM:SS`` prefix capture timestamps are compared on."""
    if ts is None:
        return None
    return ts.strftime("%Y-%m-%dT%H:%M:%S")


# ---------------------------------------------------------------- the capture reader
@dataclass
class WindowData:
    """Records of a capture window: inputs, their event ids and model scores, and problems."""

    capture: CaptureData
    #: per record: the capture eventId, the record's index within its event, the score
    event_ids: npt.NDArray[np.object_]
    record_index: npt.NDArray[np.int64]
    scores: FloatArray
    out_of_window: int = 0


class _WindowReader(_Reader):
    def __init__(self, names: list[str], start: str | None, end: str | None) -> None:
        super().__init__(names)
        self.start, self.end = start, end
        self.event_ids: list[str] = []
        self.record_index: list[int] = []
        self.scores: list[float] = []
        self.out_of_window = 0
        self.k = len(names)

    def _read_parsed_event(self, source: str, lineno: int, line: str, event: Any) -> None:
        meta = event.get("eventMetadata") if isinstance(event, dict) else None
        meta = meta if isinstance(meta, dict) else {}
        ts = str(meta.get("inferenceTime", ""))[:19]
        if ts and (
            (self.start is not None and ts < self.start)
            or (self.end is not None and ts >= self.end)
        ):
            self.out_of_window += 1
            return
        before = len(self.rows)
        if not self._fast_csv(event):
            super()._read_parsed_event(source, lineno, line, event)
        added = len(self.rows) - before
        if not added:
            return
        event_id = str(meta.get("eventId", ""))
        if not event_id:
            self._bad(
                source,
                lineno,
                None,
                "eventMetadata.eventId is missing (no ground truth can be joined to these records)",
                line,
            )
        self.event_ids.extend([event_id] * added)
        self.record_index.extend(range(added))
        scores = self._scores(source, lineno, event, added)
        self.scores.extend(scores)

    def _fast_csv(self, event: Any) -> bool:
        """One plain CSV record (no quotes, no line break, the right width): what csv.reader
        would return, without it. Anything else goes through the general reader."""
        try:
            endpoint_input = event["captureData"]["endpointInput"]
            data = endpoint_input["data"]
            if (
                endpoint_input.get("encoding") != "CSV"
                or endpoint_input.get("observedContentType") != "text/csv"
                or not isinstance(data, str)
            ):
                return False
        except (KeyError, TypeError, AttributeError):
            return False
        data = data.rstrip("\n")
        if '"' in data or "\n" in data or "\r" in data or not data:
            return False
        row = data.split(",")
        if len(row) != self.k or row[0].strip() == self.names[0]:
            return False  # wrong width or a header: the general reader reports it
        self.rows.append(row)
        return True

    def _scores(self, source: str, lineno: int, event: Any, expected: int) -> list[float]:
        nan = [math.nan] * expected
        try:
            out = event["captureData"]["endpointOutput"]
            data = out["data"]
            encoding = str(out.get("encoding", "")).upper()
        except (KeyError, TypeError):
            self._bad(
                source,
                lineno,
                None,
                "captureData.endpointOutput.data is missing "
                "(records kept for data quality, without a score)",
                "",
            )
            return nan
        if not isinstance(data, str):
            self._bad(source, lineno, None, "endpointOutput.data must be a string", repr(data))
            return nan
        if encoding == "BASE64":
            try:
                data = base64.b64decode(data, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                self._bad(source, lineno, None, f"BASE64 output cannot be decoded ({exc})", data)
                return nan
        scores = parse_scores(data)
        if scores is None or len(scores) != expected:
            got = "an unreadable output" if scores is None else f"{len(scores)} predictions"
            self._bad(
                source,
                lineno,
                None,
                f"endpointOutput has {got} for {expected} input records; expected CSV "
                "'probability,label' lines or JSON {'predictions': [{'probability': ...}]} "
                "(records kept for data quality, without a score)",
                data,
            )
            return nan
        return scores


def parse_scores(data: str) -> list[float] | None:
    """Positive-class scores from an endpoint output (CSV ``p,label`` lines, a JSON
    ``{"predictions": [{"probability": p}]}``/list, or bare numbers); None if unreadable."""
    text = data.strip()
    try:
        if text.startswith(("{", "[")):
            doc = json.loads(text)
            items = doc.get("predictions") if isinstance(doc, dict) else doc
            if not isinstance(items, list):
                return None
            out: list[float] = []
            for item in items:
                v: Any = (
                    item.get("probability", item.get("score")) if isinstance(item, dict) else item
                )
                out.append(float(v[0] if isinstance(v, list) else v))
            return out
        return [float(line.split(",", 1)[0]) for line in text.splitlines() if line.strip()]
    except (ValueError, TypeError, AttributeError, IndexError, json.JSONDecodeError):
        return None


def read_window(
    files: Sequence[Path],
    root: Path,
    feature_names: Sequence[str],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> WindowData:
    """Read capture ``files`` (paths under ``root``), keeping events in ``[start, end)``."""
    names = list(feature_names)
    reader = _WindowReader(names, window_key(start), window_key(end))
    for path in files:
        reader.read_file(path, root)
    frame = pd.DataFrame(reader.rows, columns=names, dtype=object)
    capture = CaptureData(
        frame=frame,
        events=reader.events,
        files=len(files),
        bad_records=reader.bad,
        missing_keys=reader.missing_keys,
        extra_keys=reader.extra_keys,
        short_rows=reader.short_rows,
        long_rows=reader.long_rows,
    )
    return WindowData(
        capture=capture,
        event_ids=np.asarray(reader.event_ids, dtype=object),
        record_index=np.asarray(reader.record_index, dtype=np.int64),
        scores=np.asarray(reader.scores, dtype=np.float64),
        out_of_window=reader.out_of_window,
    )


# ---------------------------------------------------------------- quantile summaries
def quantile_summary(values: FloatArray, size: int = DEFAULT_SKETCH_SIZE) -> dict[str, Any]:
    """``size`` exact quantiles of ``values`` and their count: the mergeable summary."""
    if values.size == 0:
        return {"count": 0, "values": []}
    return {"count": int(values.size), "values": sketch_from_sorted(np.sort(values), size).tolist()}


def merge_quantile_summaries(
    parts: Sequence[dict[str, Any]], size: int = DEFAULT_SKETCH_SIZE
) -> tuple[FloatArray, int]:
    """Quantiles of the weighted union of summaries (each value weighs count / its size)."""
    vals: list[FloatArray] = []
    weights: list[FloatArray] = []
    total = 0
    for p in parts:
        v = np.asarray(p["values"], dtype=np.float64)
        if v.size and p["count"]:
            vals.append(v)
            weights.append(np.full(v.size, p["count"] / v.size))
            total += int(p["count"])
    if not vals:
        return np.empty(0), 0
    v = np.concatenate(vals)
    w = np.concatenate(weights)
    order = np.argsort(v, kind="mergesort")
    v, cum = v[order], np.cumsum(w[order]) / w.sum()
    probs = np.linspace(0.0, 1.0, size)
    idx = np.searchsorted(cum, probs - 1e-12, side="left")
    out = v[np.minimum(idx, v.size - 1)]
    out[0], out[-1] = v[0], v[-1]
    return out, total


def buckets_from_quantiles(q: FloatArray, n: int) -> list[dict[str, float]]:
    """Model Monitor's 10 equal-width buckets between min and max, counted off quantiles."""
    if q.size == 0 or n == 0:
        return []
    lo, hi = float(q[0]), float(q[-1])
    if hi <= lo:
        return [{"lower_bound": lo, "upper_bound": hi, "count": float(n)}]
    edges = np.linspace(lo, hi, KLL_BUCKETS + 1)
    frac = np.searchsorted(q, edges[1:-1], side="left") / q.size
    cdf = np.concatenate(([0.0], frac, [1.0]))
    counts = np.round(np.diff(cdf) * n)
    return [
        {"lower_bound": float(edges[j]), "upper_bound": float(edges[j + 1]), "count": float(c)}
        for j, c in enumerate(counts)
    ]


# ---------------------------------------------------------------- numeric and string partials
def numeric_partial(
    values: FloatArray,
    sketch: QuantileSketch | None,
    *,
    num_missing: int,
    num_non_numeric: int = 0,
    num_non_integral: int = 0,
    bounds: tuple[float | None, float | None] = (None, None),
    sketch_size: int = DEFAULT_SKETCH_SIZE,
) -> dict[str, Any]:
    """Mergeable state of one numeric column (finite values only) against a baseline sketch."""
    n = int(values.size)
    shift = (
        float(sketch.values[sketch.values.size // 2])
        if sketch is not None and not sketch.empty
        else 0.0
    )
    d = values - shift
    part: dict[str, Any] = {
        "num_present": n,
        "num_missing": int(num_missing),
        "num_non_numeric": int(num_non_numeric),
        "num_non_integral": int(num_non_integral),
        "shift": shift,
        "s1": float(d.sum()),
        "s2": float(np.dot(d, d)) if n else 0.0,
        "min": float(values.min()) if n else None,
        "max": float(values.max()) if n else None,
        "quantiles": quantile_summary(values, sketch_size),
        "out_of_range": 0,
    }
    lo, hi = bounds
    if n and (lo is not None or hi is not None):
        outside = np.zeros(n, dtype=bool)
        if lo is not None:
            outside |= values < lo
        if hi is not None:
            outside |= values > hi
        part["out_of_range"] = int(np.count_nonzero(outside))
    if sketch is not None and not sketch.empty and n:
        u = sketch.values
        ranks = sketch_ranks(u, values)  # sketch points <= x
        ties = values == np.concatenate(([-np.inf], u))[ranks]
        part["rank_hist"] = np.bincount(ranks, minlength=u.size + 1).tolist()
        part["eq_counts"] = np.bincount(ranks[ties] - 1, minlength=u.size).tolist()
    return part


def merge_numeric(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Add numeric partials (same baseline sketch, so the same shift and grid)."""
    out: dict[str, Any] = {
        k: sum(int(p[k]) for p in parts)
        for k in (
            "num_present",
            "num_missing",
            "num_non_numeric",
            "num_non_integral",
            "out_of_range",
        )
    }
    shifts = {p["shift"] for p in parts if p["num_present"]}
    if len(shifts) > 1:
        raise ValueError(f"partials were computed against different baselines (shifts {shifts})")
    out["shift"] = shifts.pop() if shifts else 0.0
    out["s1"] = math.fsum(p["s1"] for p in parts)
    out["s2"] = math.fsum(p["s2"] for p in parts)
    mins = [p["min"] for p in parts if p["min"] is not None]
    maxs = [p["max"] for p in parts if p["max"] is not None]
    out["min"] = min(mins) if mins else None
    out["max"] = max(maxs) if maxs else None
    out["quantile_parts"] = [p["quantiles"] for p in parts]
    hists = [p["rank_hist"] for p in parts if "rank_hist" in p]
    if hists:
        out["rank_hist"] = np.sum([np.asarray(h, dtype=np.int64) for h in hists], axis=0)
        out["eq_counts"] = np.sum(
            [np.asarray(p["eq_counts"], dtype=np.int64) for p in parts if "eq_counts" in p], axis=0
        )
    return out


@dataclass(frozen=True)
class NumericResult:
    """Merged numbers of one numeric column."""

    num_present: int
    num_missing: int
    num_type_mismatch: int
    out_of_range: int
    mean: float
    std_dev: float
    total: float
    minimum: float
    maximum: float
    quantiles: FloatArray
    buckets: list[dict[str, float]]
    linf: float | None
    psi: float | None
    #: counts of values equal to each baseline sketch point, for chance-collision estimates
    eq_counts: npt.NDArray[np.int64] | None = None


def finish_numeric(
    merged: dict[str, Any], sketch: QuantileSketch | None, sketch_size: int = DEFAULT_SKETCH_SIZE
) -> NumericResult:
    """Distance, PSI, moments and statistics from merged numeric state."""
    n = int(merged["num_present"])
    q, _ = merge_quantile_summaries(merged["quantile_parts"], sketch_size)
    mean_d = merged["s1"] / n if n else 0.0
    std = math.sqrt(max(merged["s2"] / n - mean_d * mean_d, 0.0)) if n else 0.0
    linf = psi_value = None
    eq = merged.get("eq_counts")
    if sketch is not None and not sketch.empty and n and "rank_hist" in merged:
        k = sketch.values.size
        hist = np.asarray(merged["rank_hist"], dtype=np.int64)
        lt = np.cumsum(hist)[:k]
        le = lt + np.asarray(eq, dtype=np.int64)
        base_le = sketch.cum_weight
        base_lt = base_le - sketch.point_weight
        linf = float(max(np.max(np.abs(base_le - le / n)), np.max(np.abs(base_lt - lt / n))))
        probs = np.arange(1, PSI_BUCKETS) / PSI_BUCKETS
        psi_edges = np.unique(sketch.quantiles(probs))
        pos = np.searchsorted(sketch.values, psi_edges)
        base_cdf = np.concatenate((sketch.cdf_below(psi_edges), [1.0]))
        cur_cdf = np.concatenate((lt[pos] / n, [1.0]))
        psi_value = psi_from_fractions(
            np.diff(base_cdf, prepend=0.0), np.diff(cur_cdf, prepend=0.0)
        )
    return NumericResult(
        num_present=n,
        num_missing=int(merged["num_missing"]),
        num_type_mismatch=int(merged["num_non_numeric"]) + int(merged["num_non_integral"]),
        out_of_range=int(merged["out_of_range"]),
        mean=merged["shift"] + mean_d if n else math.nan,
        std_dev=std if n else math.nan,
        total=merged["s1"] + merged["shift"] * n,
        minimum=merged["min"] if merged["min"] is not None else math.nan,
        maximum=merged["max"] if merged["max"] is not None else math.nan,
        quantiles=q,
        buckets=buckets_from_quantiles(q, n),
        linf=linf,
        psi=psi_value,
        eq_counts=None if eq is None else np.asarray(eq, dtype=np.int64),
    )


def string_partial(series: pd.Series, domain: tuple[str, ...]) -> tuple[dict[str, Any], pd.Series]:
    """Mergeable state of one categorical column: counts per value; also the normalised values."""
    boolean = set(domain) <= {"true", "false"} and bool(domain)
    values = normalize_strings(series, boolean=boolean)
    summary = summarize_categorical(values, domain)
    counts = {v: int(c) for v, c in zip(domain, summary.domain_counts.tolist(), strict=True) if c}
    part = {
        "num_present": summary.num_present,
        "num_missing": summary.num_missing,
        "domain_counts": counts,
        "unknown_counts": dict(summary.unknown_counts),
    }
    return part, values


def merge_string(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    dom: Counter[str] = Counter()
    unk: Counter[str] = Counter()
    for p in parts:
        dom.update(p["domain_counts"])
        unk.update(p["unknown_counts"])
    return {
        "num_present": sum(int(p["num_present"]) for p in parts),
        "num_missing": sum(int(p["num_missing"]) for p in parts),
        "domain_counts": dict(dom),
        "unknown_counts": dict(unk),
    }


def numeric_column(
    series: pd.Series, integral: bool
) -> tuple[FloatArray, int, int, int, FloatArray]:
    """(finite values, missing, non-numeric, non-integral, all values with NaN) of a column."""
    col = coerce_numeric(series, integral=integral)
    values = col.values
    finite = values[~np.isnan(values)] if (col.num_missing or col.num_non_numeric) else values
    return finite, col.num_missing, col.num_non_numeric, col.num_non_integral, col.values


def row_hasher(rows: int) -> RowHasher:
    return RowHasher(rows)


# ---------------------------------------------------------------- partial files
PARTIAL_SUFFIX = ".partial.json"
HASHES_SUFFIX = ".hashes.npy"


@dataclass
class Partial:
    """The state of one shard: JSON-able ``doc`` plus the row hashes."""

    doc: dict[str, Any]
    hashes: npt.NDArray[np.uint64] = field(default_factory=lambda: np.empty(0, dtype=np.uint64))


def write_partial(partial: Partial, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / f"{name}{HASHES_SUFFIX}", partial.hashes, allow_pickle=False)
    return formats.write_json(folder / f"{name}{PARTIAL_SUFFIX}", partial.doc)


def read_partials(folder: Path) -> list[Partial]:
    """Every partial under ``folder`` (recursively), checked to belong to one sharded run."""
    files = sorted(Path(folder).rglob(f"*{PARTIAL_SUFFIX}"))
    if not files:
        raise FileNotFoundError(
            f"no *{PARTIAL_SUFFIX} files under {str(folder)!r}; pass the partials folder the "
            "--mode partial jobs wrote (<output>/partials)"
        )
    out: list[Partial] = []
    for f in files:
        doc = formats.read_json(f, "monitoring partial")
        stem = f.name[: -len(PARTIAL_SUFFIX)]
        hashes_path = f.with_name(stem + HASHES_SUFFIX)
        if not hashes_path.exists():
            raise FileNotFoundError(
                f"partial {str(f)!r} has no row-hash file {hashes_path.name!r}; copy both files"
            )
        out.append(Partial(doc, np.load(hashes_path, allow_pickle=False).astype(np.uint64)))
    fingerprints = {p.doc.get("fingerprint") for p in out}
    if len(fingerprints) > 1:
        raise ValueError(
            f"partials under {str(folder)!r} come from different runs (schema, baseline, window "
            "or monitors differ); merge only the partials of one run"
        )
    shards = [tuple(p.doc["shard"]) for p in out]
    counts = {n for _, n in shards}
    if len(counts) > 1:
        raise ValueError(f"partials disagree on the number of shards: {sorted(counts)}")
    n = counts.pop()
    seen = Counter(i for i, _ in shards)
    missing = sorted(set(range(n)) - set(seen))
    dupes = sorted(i for i, c in seen.items() if c > 1)
    if missing or dupes:
        raise ValueError(
            f"partials under {str(folder)!r} do not cover shards 0..{n - 1} once each "
            f"(missing {missing}, duplicated {dupes}); rerun the missing shards"
        )
    return out


def bad_records_of(partials: Sequence[Partial]) -> list[BadRecord]:
    return [BadRecord(**b) for p in partials for b in p.doc.get("bad_records", [])]
