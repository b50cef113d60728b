"""SageMaker endpoint data capture: write simulated traffic, and read capture files back.

One capture file line is one invocation, as SageMaker writes it::

    {"captureData": {
        "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                          "data": "12,70.5,...", "encoding": "CSV"},
        "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                           "data": "0.8123,1", "encoding": "CSV"}},
     "eventMetadata": {"eventId": "...", "inferenceTime": "2026-01-01T00:00:00Z"},
     "eventVersion": "0"}

``encoding`` is ``CSV`` or ``JSON`` for text payloads and ``BASE64`` otherwise. Files are laid
out as ``<endpoint>/<variant>/yyyy/mm/dd/hh/<name>.jsonl`` (one folder per hour), the layout
under the capture S3 prefix.

The reader never drops anything silently: a line that is not valid capture JSON, a payload that
cannot be decoded, or a record with the wrong number of fields becomes a :class:`BadRecord`
with its file, line and reason, and is counted in the report.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..compat import UTC

CSV_CONTENT_TYPE = "text/csv"
JSON_CONTENT_TYPE = "application/json"
_TEXT_ENCODINGS = {CSV_CONTENT_TYPE: "CSV", JSON_CONTENT_TYPE: "JSON"}
_EXCERPT = 200


@dataclass(frozen=True)
class BadRecord:
    """A capture line or record that could not be used, and why."""

    source: str
    line: int
    record: int | None
    reason: str
    excerpt: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "line": self.line,
            "record": self.record,
            "reason": self.reason,
            "excerpt": self.excerpt,
        }


@dataclass
class CaptureData:
    """Records read from capture files, aligned to the feature names, plus what went wrong."""

    frame: pd.DataFrame
    events: int = 0
    files: int = 0
    bad_records: list[BadRecord] = field(default_factory=list)
    #: JSON records that lacked a feature key: feature -> count (the value is treated as missing)
    missing_keys: Counter[str] = field(default_factory=Counter)
    #: JSON records with keys that are not features: key -> count (the values are not analysed)
    extra_keys: Counter[str] = field(default_factory=Counter)
    #: CSV rows with fewer / more fields than features (quarantined as bad records)
    short_rows: int = 0
    long_rows: int = 0


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _csv_lines(df: pd.DataFrame) -> list[str]:
    """One CSV line per row (no header), booleans as true/false, missing as empty fields."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_bool_dtype(out[col].dtype):
            out[col] = out[col].map({True: "true", False: "false"})
    text = out.to_csv(header=False, index=False, lineterminator="\n")
    return text.split("\n")[: len(df)]


def _json_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(df.to_json(orient="records"))
    return records


def write_capture_files(
    records_df: pd.DataFrame,
    predictions: npt.ArrayLike,
    output_dir: Path,
    *,
    content_type: str = CSV_CONTENT_TYPE,
    endpoint_name: str = "local-endpoint",
    variant_name: str = "AllTraffic",
    start_time: datetime | None = None,
    interval_seconds: float = 1.0,
    rows_per_request: int = 1,
    base64_encode: bool = False,
    decision_threshold: float = 0.5,
) -> list[Path]:
    """Write ``records_df`` as captured invocations; returns the files written, in time order.

    ``records_df`` holds exactly the model's input columns in ``schema.feature_names`` order
    (what a client sent); ``predictions`` holds the positive-class probability of each row.
    Each invocation carries ``rows_per_request`` rows and happens ``interval_seconds`` after the
    previous one, starting at ``start_time`` (default: now), so files split by the hour.
    """
    probs = np.asarray(predictions, dtype=np.float64).reshape(-1)
    if probs.shape[0] != len(records_df):
        raise ValueError(
            f"predictions has {probs.shape[0]} values but records_df has {len(records_df)} rows; "
            "pass one positive-class probability per row"
        )
    if content_type not in _TEXT_ENCODINGS:
        raise ValueError(
            f"content_type {content_type!r} is not supported for capture; use {sorted(_TEXT_ENCODINGS)}"
        )
    if rows_per_request < 1:
        raise ValueError(f"rows_per_request must be at least 1, got {rows_per_request}")
    if interval_seconds < 0:
        raise ValueError(f"interval_seconds must not be negative, got {interval_seconds}")
    from ..inference.handler import encode_predictions

    labels = (probs >= decision_threshold).astype(np.int64)
    start = (start_time or datetime.now(UTC)).astimezone(UTC)
    root = Path(output_dir) / endpoint_name / variant_name
    in_encoding = "BASE64" if base64_encode else _TEXT_ENCODINGS[content_type]

    rows: list[str] | list[dict[str, Any]]
    rows = _csv_lines(records_df) if content_type == CSV_CONTENT_TYPE else _json_records(records_df)
    by_hour: dict[Path, list[str]] = {}
    for req, lo in enumerate(range(0, len(records_df), rows_per_request)):
        hi = min(lo + rows_per_request, len(records_df))
        ts = start + timedelta(seconds=req * interval_seconds)
        if content_type == CSV_CONTENT_TYPE:
            payload = "\n".join(rows[lo:hi])  # type: ignore[arg-type]
        else:
            payload = json.dumps({"instances": rows[lo:hi]}, separators=(",", ":"))
        body, out_type = encode_predictions(probs[lo:hi], labels[lo:hi], content_type)
        out_encoding = "BASE64" if base64_encode else _TEXT_ENCODINGS[out_type]
        event = {
            "captureData": {
                "endpointInput": {
                    "observedContentType": content_type,
                    "mode": "INPUT",
                    "data": _encode(payload, base64_encode),
                    "encoding": in_encoding,
                },
                "endpointOutput": {
                    "observedContentType": out_type,
                    "mode": "OUTPUT",
                    "data": _encode(body, base64_encode),
                    "encoding": out_encoding,
                },
            },
            "eventMetadata": {
                "eventId": str(
                    uuid.uuid5(
                        uuid.NAMESPACE_URL, f"{endpoint_name}/{variant_name}/{_iso(ts)}/{req}"
                    )
                ),
                "inferenceTime": _iso(ts),
            },
            "eventVersion": "0",
        }
        hour_dir = root / ts.strftime("%Y/%m/%d/%H")
        by_hour.setdefault(hour_dir, []).append(json.dumps(event, separators=(",", ":")))

    written: list[Path] = []
    for hour_dir, lines in by_hour.items():
        hour_dir.mkdir(parents=True, exist_ok=True)
        path = hour_dir / f"capture-{start.strftime('%Y%m%dT%H%M%S')}-{len(written):04d}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(path)
    return written


def _encode(text: str, as_base64: bool) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii") if as_base64 else text


def read_capture_files(capture_dir: Path, feature_names: Sequence[str]) -> CaptureData:
    """Read every ``*.jsonl`` under ``capture_dir`` (recursively, in path order)."""
    root = Path(capture_dir)
    if not root.exists():
        raise FileNotFoundError(
            f"capture folder {str(root)!r} does not exist; pass the folder that holds the "
            "<endpoint>/<variant>/yyyy/mm/dd/hh/*.jsonl capture files"
        )
    files = sorted(root.rglob("*.jsonl")) if root.is_dir() else [root]
    names = list(feature_names)
    reader = _Reader(names)
    for path in files:
        reader.read_file(path, root)
    frame = pd.DataFrame(reader.rows, columns=names, dtype=object)
    return CaptureData(
        frame=frame,
        events=reader.events,
        files=len(files),
        bad_records=reader.bad,
        missing_keys=reader.missing_keys,
        extra_keys=reader.extra_keys,
        short_rows=reader.short_rows,
        long_rows=reader.long_rows,
    )


class _Reader:
    """Accumulates good rows and bad records across capture files."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.name_set = set(names)
        self.rows: list[list[Any]] = []
        self.bad: list[BadRecord] = []
        self.events = 0
        self.missing_keys: Counter[str] = Counter()
        self.extra_keys: Counter[str] = Counter()
        self.short_rows = 0
        self.long_rows = 0

    def _bad(self, source: str, line: int, record: int | None, reason: str, raw: Any) -> None:
        text = raw if isinstance(raw, str) else json.dumps(raw, default=str)
        self.bad.append(BadRecord(source, line, record, reason, text[:_EXCERPT]))

    def read_file(self, path: Path, root: Path) -> None:
        source = str(path.relative_to(root)) if path != root else path.name
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            for lineno, raw_line in enumerate(fh, start=1):
                line = raw_line.strip()
                if not line:
                    continue
                self.events += 1
                self._read_event(source, lineno, line)

    def _read_event(self, source: str, lineno: int, line: str) -> None:
        try:
            event = json.loads(line)
        except json.JSONDecodeError as exc:
            self._bad(
                source,
                lineno,
                None,
                f"line is not valid JSON ({exc.msg} at column {exc.colno})",
                line,
            )
            return
        self._read_parsed_event(source, lineno, line, event)

    def _read_parsed_event(self, source: str, lineno: int, line: str, event: Any) -> None:
        """Read the input records of a parsed capture event (subclasses read more of it)."""
        try:
            endpoint_input = event["captureData"]["endpointInput"]
            data = endpoint_input["data"]
            encoding = str(endpoint_input.get("encoding", "")).upper()
            content_type = (
                str(endpoint_input.get("observedContentType", "")).split(";")[0].strip().lower()
            )
        except (KeyError, TypeError):
            self._bad(
                source,
                lineno,
                None,
                "not a capture event: captureData.endpointInput.data is missing",
                line,
            )
            return
        if not isinstance(data, str):
            self._bad(
                source,
                lineno,
                None,
                f"endpointInput.data must be a string, got {type(data).__name__}",
                line,
            )
            return
        if encoding == "BASE64":
            try:
                data = base64.b64decode(data, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError) as exc:
                self._bad(source, lineno, None, f"BASE64 payload cannot be decoded ({exc})", data)
                return
        elif encoding not in ("CSV", "JSON"):
            self._bad(
                source,
                lineno,
                None,
                f"unknown capture encoding {encoding!r}; expected CSV, JSON or BASE64",
                line,
            )
            return
        if content_type == CSV_CONTENT_TYPE or (not content_type and encoding == "CSV"):
            self._read_csv(source, lineno, data)
        elif content_type in (JSON_CONTENT_TYPE, "application/jsonlines") or (
            not content_type and encoding == "JSON"
        ):
            self._read_json(source, lineno, data)
        else:
            self._bad(
                source,
                lineno,
                None,
                f"observedContentType {content_type!r} is not analysed; expected text/csv or application/json",
                data,
            )

    def _read_csv(self, source: str, lineno: int, data: str) -> None:
        k = len(self.names)
        try:
            parsed = list(csv.reader(io.StringIO(data)))
        except csv.Error as exc:
            self._bad(source, lineno, None, f"CSV payload cannot be parsed ({exc})", data)
            return
        for i, row in enumerate(parsed):
            if not row:
                continue
            if i == 0 and [c.strip() for c in row] == self.names:
                continue  # a header line the client sent
            if len(row) == k:
                self.rows.append(row)
                continue
            if len(row) < k:
                self.short_rows += 1
            else:
                self.long_rows += 1
            self._bad(
                source,
                lineno,
                i,
                f"CSV record has {len(row)} fields, expected {k} ({', '.join(self.names)})",
                ",".join(row),
            )

    def _read_json(self, source: str, lineno: int, data: str) -> None:
        try:
            doc = json.loads(data)
        except json.JSONDecodeError as exc:
            self._bad(source, lineno, None, f"JSON payload is not valid JSON ({exc.msg})", data)
            return
        instances = doc.get("instances") if isinstance(doc, dict) and "instances" in doc else doc
        if isinstance(instances, dict):
            instances = [instances]
        if not isinstance(instances, list):
            self._bad(
                source,
                lineno,
                None,
                "JSON payload must be {'instances': [...]} or a list of records",
                data,
            )
            return
        k = len(self.names)
        for i, rec in enumerate(instances):
            if (
                isinstance(rec, dict)
                and set(rec) == {"features"}
                and isinstance(rec["features"], list)
            ):
                rec = rec["features"]
            if isinstance(rec, dict):
                keys = set(rec)
                for name in self.name_set - keys:
                    self.missing_keys[name] += 1
                for name in keys - self.name_set:
                    self.extra_keys[name] += 1
                self.rows.append([rec.get(n) for n in self.names])
            elif isinstance(rec, list) and len(rec) == k:
                self.rows.append(rec)
            elif isinstance(rec, list):
                if len(rec) < k:
                    self.short_rows += 1
                else:
                    self.long_rows += 1
                self._bad(
                    source, lineno, i, f"JSON record has {len(rec)} values, expected {k}", rec
                )
            else:
                self._bad(
                    source,
                    lineno,
                    i,
                    f"JSON record must be an object or a list, got {type(rec).__name__}",
                    rec,
                )


DEFAULT_RECORDS = "/opt/ml/processing/input/records"
DEFAULT_MODEL = "/opt/ml/processing/input/model"
DEFAULT_OUTPUT = "/opt/ml/processing/output"


def main(argv: Sequence[str] | None = None) -> int:
    """Simulate endpoint traffic: score records with the model, write them as capture files.

    ``--records`` is a CSV/Parquet file or folder holding at least the schema's features;
    ``--model-dir`` an extracted model (model.joblib + schema.json) or a folder with
    model.tar.gz. Rows are scored through the inference handler, exactly as the endpoint would.
    """
    import argparse
    import sys
    import tempfile

    from ..inference import handler
    from ..inference.server import resolve_model_dir
    from .baseline import read_table

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument(
        "--records",
        default=DEFAULT_RECORDS,
        help="CSV/Parquet file or folder (default %(default)s)",
    )
    parser.add_argument(
        "--model-dir",
        default=DEFAULT_MODEL,
        help="model folder or model.tar.gz (default %(default)s)",
    )
    parser.add_argument(
        "--output-dir", default=DEFAULT_OUTPUT, help="capture root (default %(default)s)"
    )
    parser.add_argument("--content-type", default=CSV_CONTENT_TYPE, choices=sorted(_TEXT_ENCODINGS))
    parser.add_argument("--endpoint-name", default="local-endpoint")
    parser.add_argument("--rows-per-request", type=int, default=1)
    parser.add_argument("--interval-seconds", type=float, default=1.0)
    args = parser.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="capture-model-") as scratch:
            model = handler.model_fn(resolve_model_dir(Path(args.model_dir), Path(scratch)))
        records = read_table(Path(args.records), model.schema)
        missing = [c for c in model.schema.feature_names if c not in records.columns]
        if missing:
            raise ValueError(f"records in {args.records!r} lack the features {missing}")
        features = records[model.schema.feature_names]
        prediction = handler.predict_fn(features, model)
        if isinstance(prediction, handler.RejectedRequest):
            raise prediction.error
        files = write_capture_files(
            features,
            prediction.probabilities,
            Path(args.output_dir),
            content_type=args.content_type,
            endpoint_name=args.endpoint_name,
            rows_per_request=args.rows_per_request,
            interval_seconds=args.interval_seconds,
            decision_threshold=model.decision_threshold,
        )
    except (
        ValueError,
        FileNotFoundError,
        handler.ModelLoadError,
        handler.InferenceClientError,
    ) as exc:
        print(f"capture failed: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {len(features)} records as capture files: {len(files)} files under {args.output_dir}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
