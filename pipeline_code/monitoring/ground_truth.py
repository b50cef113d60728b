"""Ground truth for the model-quality and bias-drift monitors, in Model Monitor's format.

Upload labels under ``s3://<monitoring bucket>/ground-truth/<endpoint-name>/yyyy/mm/dd/hh/*.jsonl``
(:data:`GROUND_TRUTH_PREFIX`), one JSON object per line, keyed by the capture's event id::

    {"groundTruthData": {"data": "1", "encoding": "CSV"},
     "eventMetadata": {"eventId": "<captureData eventMetadata.eventId>"},
     "eventVersion": "0"}

``data`` is the label as the schema's raw value (``target.positive`` / ``target.negative``) or
as ``1`` / ``0``; ``encoding`` ``CSV`` (or ``JSON``: a JSON number/string, or a list) or
``BASE64``. An event that carried several records (a batch request) takes one label per record
in the record order, separated by newlines or commas.

Our addition (Model Monitor ignores unknown keys): ``"sensitiveAttributes": {"gender": "female",
...}`` on the line gives the values of the schema's sensitive attributes for that event (one
value for every record of the event, or a list with one per record). The bias-drift monitor needs
them for attributes that are not model inputs (those are read from the capture itself).

Unusable lines are never dropped silently: they become :class:`BadRecord` entries with a reason.
A later line for the same event id replaces an earlier one (a corrected label), and is counted.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..compat import UTC
from ..schema import Schema
from .capture import BadRecord

GROUND_TRUTH_PREFIX = "ground-truth"
SENSITIVE_KEY = "sensitiveAttributes"
_EXCERPT = 200


@dataclass
class GroundTruth:
    """Labels (0/1 per record) and sensitive-attribute values, by capture event id."""

    labels: dict[str, list[int]] = field(default_factory=dict)
    sensitive: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad_records: list[BadRecord] = field(default_factory=list)
    files: int = 0
    lines: int = 0
    replaced: int = 0
    #: lines of events outside this shard's window (not parsed)
    skipped: int = 0


def _label_map(schema: Schema) -> dict[str, int]:
    t = schema.target
    out = {"1": 1, "0": 0, "true": 1, "false": 0}
    out.update({str(t.positive).lower(): 1, str(t.negative).lower(): 0})
    return out


def read_ground_truth(
    folder: Path | None,
    schema: Schema,
    *,
    event_ids: set[str] | None = None,
    report_unkeyed: bool = True,
) -> GroundTruth:
    """Read every ``*.jsonl`` under ``folder``; an absent folder means no labels yet.

    With ``event_ids`` (the events of this shard's window) a line whose event id is found by a
    cheap text search and is not one of them is skipped unparsed (``skipped``): every shard sees
    the whole ground truth, and most of it belongs to other shards or earlier windows. Lines of
    this shard's events are parsed and their problems reported; lines without a recognisable
    event id are reported only when ``report_unkeyed`` (by one shard, so they count once).
    """
    gt = GroundTruth()
    if folder is None or not Path(folder).exists():
        return gt
    root = Path(folder)
    files = sorted(root.rglob("*.jsonl")) if root.is_dir() else [root]
    labels = _label_map(schema)
    find = _EVENT_ID.search
    for path in files:
        gt.files += 1
        source = str(path.relative_to(root)) if path != root else path.name
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            for lineno, raw in enumerate(fh, start=1):
                line = raw.strip()
                if not line:
                    continue
                gt.lines += 1
                if event_ids is not None:
                    m = find(line)
                    if m is not None and m.group(1) not in event_ids:
                        gt.skipped += 1
                        continue
                    if m is None and not report_unkeyed:
                        continue
                _read_line(gt, source, lineno, line, labels)
    return gt


#: ``"eventId": "<id>"`` (ids are UUIDs or similar: no quotes or backslashes inside)
_EVENT_ID = re.compile(r'"eventId"\s*:\s*"([^"\\]*)"')


def _bad(gt: GroundTruth, source: str, lineno: int, reason: str, text: str) -> None:
    gt.bad_records.append(BadRecord(source, lineno, None, reason, text[:_EXCERPT]))


def _read_line(
    gt: GroundTruth, source: str, lineno: int, line: str, labels: dict[str, int]
) -> None:
    try:
        doc = json.loads(line)
        event_id = doc["eventMetadata"]["eventId"]
        payload = doc["groundTruthData"]
        data, encoding = payload["data"], str(payload.get("encoding", "CSV")).upper()
    except json.JSONDecodeError as exc:
        _bad(gt, source, lineno, f"ground truth line is not valid JSON ({exc.msg})", line)
        return
    except (KeyError, TypeError):
        _bad(
            gt,
            source,
            lineno,
            "not a ground-truth record: needs groundTruthData.data and eventMetadata.eventId",
            line,
        )
        return
    if not isinstance(event_id, str) or not event_id:
        _bad(gt, source, lineno, "eventMetadata.eventId must be a non-empty string", line)
        return
    if isinstance(data, str) and encoding == "CSV" and data in labels:
        _store(gt, event_id, [labels[data]], doc, source, lineno, line)
        return
    if encoding == "BASE64":
        try:
            data = base64.b64decode(str(data), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            _bad(gt, source, lineno, f"BASE64 ground truth cannot be decoded ({exc})", line)
            return
        encoding = "CSV"
    if encoding == "JSON" and isinstance(data, str):
        with contextlib.suppress(json.JSONDecodeError):
            data = json.loads(data)
    items = data if isinstance(data, list) else str(data).replace(",", "\n").splitlines()
    parsed: list[int] = []
    for item in items:
        key = str(item).strip().strip('"').lower() if isinstance(item, str) else str(item)
        if isinstance(item, bool):
            key = "true" if item else "false"
        elif isinstance(item, float) and item.is_integer():
            key = str(int(item))
        if key == "":
            continue
        key = key.lower()
        if key not in labels:
            _bad(
                gt,
                source,
                lineno,
                f"label {item!r} is neither the positive nor the negative value of the schema "
                f"target ({sorted(set(labels))}); upload one of them",
                line,
            )
            return
        parsed.append(labels[key])
    if not parsed:
        _bad(gt, source, lineno, "groundTruthData.data holds no label", line)
        return
    _store(gt, event_id, parsed, doc, source, lineno, line)


def _store(
    gt: GroundTruth, event_id: str, parsed: list[int], doc: Any, source: str, lineno: int, line: str
) -> None:
    if event_id in gt.labels:
        gt.replaced += 1
    gt.labels[event_id] = parsed
    sensitive = doc.get(SENSITIVE_KEY)
    if isinstance(sensitive, dict):
        gt.sensitive[event_id] = sensitive
    elif sensitive is not None:
        _bad(gt, source, lineno, f"{SENSITIVE_KEY} must be an object of attribute values", line)


@dataclass
class Joined:
    """Capture records joined with their labels (``-1`` = not labelled yet)."""

    labels: npt.NDArray[np.int64]
    #: events whose label count differs from their record count (labels not used)
    mismatched_events: int = 0

    @property
    def matched(self) -> int:
        return int(np.count_nonzero(self.labels >= 0))

    @property
    def unlabeled(self) -> int:
        return int(np.count_nonzero(self.labels < 0))


def join_labels(
    event_ids: npt.NDArray[np.object_],
    record_index: npt.NDArray[np.int64],
    gt: GroundTruth,
    bad: list[BadRecord] | None = None,
) -> Joined:
    """One label per capture record by event id and record index."""
    out = np.full(event_ids.size, -1, dtype=np.int64)
    sizes: dict[str, int] = {}
    for e in event_ids.tolist():
        sizes[e] = sizes.get(e, 0) + 1
    mismatched = 0
    for i, (e, r) in enumerate(zip(event_ids.tolist(), record_index.tolist(), strict=True)):
        labels = gt.labels.get(e)
        if labels is None:
            continue
        if len(labels) != sizes[e]:
            if r == 0:
                mismatched += 1
                if bad is not None:
                    bad.append(
                        BadRecord(
                            "ground-truth",
                            0,
                            None,
                            f"event {e} has {len(labels)} labels for {sizes[e]} captured "
                            "records; upload one label per record (labels not used)",
                            e,
                        )
                    )
            continue
        out[i] = labels[r]
    return Joined(out, mismatched)


def sensitive_values(
    event_ids: npt.NDArray[np.object_],
    record_index: npt.NDArray[np.int64],
    gt: GroundTruth,
    name: str,
) -> pd.Series:
    """The value of sensitive attribute ``name`` per record, from the ground-truth lines."""
    values: list[Any] = []
    for e, r in zip(event_ids.tolist(), record_index.tolist(), strict=True):
        v = gt.sensitive.get(e, {}).get(name)
        if isinstance(v, list):
            v = v[r] if r < len(v) else None
        values.append(v)
    return pd.Series(values, dtype=object)


def write_ground_truth_files(
    event_ids: Sequence[str],
    labels: Sequence[Sequence[int]],
    output_dir: Path,
    *,
    endpoint_name: str = "local-endpoint",
    time: datetime | None = None,
    sensitive: Sequence[dict[str, Any] | None] | None = None,
) -> Path:
    """Write one ground-truth file (one line per event) as a user would upload it."""
    ts = (time or datetime.now(UTC)).astimezone(UTC)
    folder = Path(output_dir) / endpoint_name / ts.strftime("%Y/%m/%d/%H")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"ground-truth-{ts.strftime('%Y%m%dT%H%M%S')}.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i, (event_id, labs) in enumerate(zip(event_ids, labels, strict=True)):
            doc: dict[str, Any] = {
                "groundTruthData": {
                    "data": "\n".join(str(int(v)) for v in labs),
                    "encoding": "CSV",
                },
                "eventMetadata": {"eventId": event_id},
                "eventVersion": "0",
            }
            if sensitive is not None and sensitive[i] is not None:
                doc[SENSITIVE_KEY] = sensitive[i]
            fh.write(json.dumps(doc, separators=(",", ":")) + "\n")
    return path
