"""The logical dataset in the curated zone: the latest record of each id, its version, its split.

The nightly ETL overwrites only its own ``ingest_date=YYYY-MM-DD`` partition, so after N nights
an id that was in the raw data every night is there N times. Training must see each id once,
as it is now, and must never put the same id into two splits:

* :func:`read_curated` keeps the **latest record per id**: the row from the latest
  ``ingest_date`` partition; within one partition, the latest value of the schema's timestamp
  column; if still tied, the row whose canonical content sorts last (so the choice never depends
  on file names or file order).
* :func:`dataset_fingerprint` is a sha256 over that deduplicated table (column names, types and
  values in id order), not over file names: Spark's part-file names are random, and a night that
  re-ingests identical raw data gives the same fingerprint. This is the *data version* that
  step caching keys on.
* :func:`id_buckets` maps each id to a number in [0, 1) with a salted sha256, so an id lands in
  the same split on every run, whatever else is in the data.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.tables import coerce_clean, data_files
from ..etl.common import INGEST_PARTITION
from ..schema import Schema

#: Bump when the canonical form below changes (old and new versions must never collide).
FINGERPRINT_FORMAT = b"cdk-mlops dataset v1"
_MISSING = b"\xff"  # never a byte of UTF-8 text


@dataclass(frozen=True)
class CuratedData:
    """The latest record per id (sorted by id) and what reading it found."""

    frame: pd.DataFrame
    rows_read: int
    partitions: tuple[str, ...]

    @property
    def duplicates_dropped(self) -> int:
        """Older or tied records of an id that were left out."""
        return self.rows_read - len(self.frame)


def _partition_of(file: Path, root: Path) -> str:
    """The ``ingest_date`` value in the file's path below ``root`` ("" when there is none)."""
    parts = file.relative_to(root).parts[:-1] if file != root else ()
    for part in reversed(parts):
        if part.startswith(f"{INGEST_PARTITION}="):
            return part.split("=", 1)[1]
    return ""


def _read_file(file: Path, fmt: str) -> pd.DataFrame:
    if fmt == "parquet":
        return pd.read_parquet(file)
    return pd.read_csv(file, dtype=str, keep_default_na=False)


def _canonical(value: object) -> str:
    if value is None:
        return "\x00"
    if isinstance(value, float):
        return "\x00" if math.isnan(value) else repr(value + 0.0)  # -0.0 and 0.0 are one value
    return str(value)


def _text_bytes(value: object, missing: bool) -> bytes:
    """Length-prefixed UTF-8 (so no separator can be forged), or a marker for missing."""
    if missing:
        return _MISSING
    text = str(value).encode()
    return len(text).to_bytes(4, "big") + text


def _row_keys(rows: Iterable[tuple[object, ...]]) -> list[str]:
    """A digest of each row's canonical content, to break ties deterministically."""
    return [
        hashlib.sha256("\x1f".join(_canonical(v) for v in row).encode()).hexdigest() for row in rows
    ]


def latest_per_id(clean: pd.DataFrame, partitions: pd.Series, schema: Schema) -> pd.DataFrame:
    """One row per id: latest partition, then latest timestamp, then highest content digest.

    ``clean`` has the clean dtypes (:func:`~pipeline_code.data.tables.coerce_clean`);
    ``partitions`` holds each row's ``ingest_date`` ("" when unknown). Sorted by id.
    """
    id_col = schema.id_column
    keys = pd.DataFrame(
        {
            "id": clean[id_col].to_numpy(),
            "partition": partitions.to_numpy(dtype=object),
            "ts": (
                clean[schema.timestamp_column].fillna("").to_numpy(dtype=object)
                if schema.timestamp_column
                else np.full(len(clean), "", dtype=object)
            ),
        }
    )
    tied = keys.duplicated(["id", "partition", "ts"], keep=False).to_numpy()
    tiebreak = np.full(len(clean), "", dtype=object)
    if tied.any():
        tiebreak[tied] = _row_keys(clean.loc[tied].itertuples(index=False, name=None))
    keys["tiebreak"] = tiebreak
    order = keys.sort_values(
        ["id", "partition", "ts", "tiebreak"],
        ascending=[True, False, False, False],
        kind="mergesort",
    ).index
    latest = clean.iloc[order]
    latest = latest[~latest[id_col].duplicated(keep="first")]
    return latest.reset_index(drop=True)


def read_curated(path: str | Path, schema: Schema) -> CuratedData:
    """Read clean data (a file, or a folder of ``ingest_date=`` partitions, Parquet or CSV) and
    keep the latest record per id (see the module docstring)."""
    root = Path(path)
    fmt, files = data_files(root)
    frames: list[pd.DataFrame] = []
    partition_values: list[np.ndarray] = []
    for file in files:
        df = _read_file(file, fmt)
        if INGEST_PARTITION in df.columns:
            values = df[INGEST_PARTITION].astype(str).to_numpy(dtype=object)
        else:
            values = np.full(len(df), _partition_of(file, root), dtype=object)
        frames.append(df)
        partition_values.append(values)
    raw = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    clean = coerce_clean(raw, schema, source=str(path))
    partitions = pd.Series(np.concatenate(partition_values), dtype=object)
    latest = latest_per_id(clean, partitions, schema)
    return CuratedData(
        frame=latest,
        rows_read=len(clean),
        partitions=tuple(sorted({p for p in partitions if p})),
    )


def dataset_fingerprint(frame: pd.DataFrame, schema: Schema) -> str:
    """sha256 (hex) of the table's content: ``schema.all_columns`` in id order.

    Independent of file names, file layout, row order and the ``ingest_date`` of each row;
    changes when any value, row or column changes.
    """
    ordered = frame.sort_values(schema.id_column, kind="mergesort").reset_index(drop=True)
    h = hashlib.sha256(FINGERPRINT_FORMAT + b"\0")
    h.update(f"{len(ordered)}\0".encode())
    for name in schema.all_columns:
        col = ordered[name]
        h.update(name.encode() + b"\0")
        if pd.api.types.is_float_dtype(col.dtype):
            arr = col.to_numpy(dtype=np.float64)
            arr = np.where(np.isnan(arr), np.nan, arr + 0.0)  # one NaN, one zero
            h.update(b"f" + arr.astype("<f8").tobytes())
        elif pd.api.types.is_integer_dtype(col.dtype):
            h.update(b"i" + col.to_numpy(dtype=np.int64).astype("<i8").tobytes())
        else:
            missing = col.isna().to_numpy()
            parts = [
                _text_bytes(v, gone)
                for v, gone in zip(col.to_numpy(dtype=object), missing, strict=True)
            ]
            h.update(b"s" + b"".join(parts))
    return h.hexdigest()


def id_buckets(ids: pd.Series, seed: int = 0) -> np.ndarray:
    """A number in [0, 1) per id from sha256(seed, id): the same id always gets the same number."""
    salt = f"{seed}\0".encode()
    values = [
        int.from_bytes(hashlib.sha256(salt + str(i).encode()).digest()[:8], "big") >> 11
        for i in ids
    ]
    return np.asarray(values, dtype=np.float64) / float(1 << 53)
