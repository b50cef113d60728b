"""Read and write clean tables (ETL output, splits) with the dtypes every step agrees on.

Clean data (see the shared interface): the id and timestamp as strings, numerics as float64,
categoricals and booleans as strings (booleans ``"true"``/``"false"``), missing values as NaN,
and the target as 0/1 integers (1 = the schema's positive label).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from ..compat import pandas_major, parse_floats
from ..schema import Schema, SchemaError

TABLE_FORMATS: tuple[str, ...] = ("csv", "parquet")


def resolve_schema(value: str | Path) -> Schema:
    """A schema from a JSON file path, or a built-in name such as ``churn`` or ``loan_default``."""
    text = str(value)
    path = Path(text)
    if path.suffix == ".json" or path.is_file():
        return Schema.from_file(path)
    try:
        return Schema.builtin(text)
    except SchemaError:
        builtin = sorted(p.stem for p in (Path(__file__).parent.parent / "schemas").glob("*.json"))
        raise SchemaError(
            f"schema {text!r} is neither an existing JSON file nor a built-in schema; "
            f"pass a path to a schema file or one of {builtin}"
        ) from None


def data_files(path: Path) -> tuple[str, list[Path]]:
    """The format and the data files under ``path`` (a file, or a folder searched recursively).

    Files whose name starts with ``_`` or ``.`` (Spark's ``_SUCCESS`` and ``.crc`` files) are skipped.
    """
    if not path.exists():
        raise FileNotFoundError(
            f"input {str(path)!r} does not exist; pass an existing file or folder"
        )
    if path.is_file():
        candidates = [path]
    else:
        candidates = sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and not any(part.startswith(("_", ".")) for part in p.relative_to(path).parts)
        )
    parquet = [p for p in candidates if p.suffix == ".parquet"]
    csv = [p for p in candidates if p.suffix == ".csv"]
    if parquet:
        return "parquet", parquet
    if csv:
        return "csv", csv
    raise FileNotFoundError(
        f"input {str(path)!r} holds no .parquet or .csv files; point it at the ETL output or a split folder"
    )


def read_raw_csv(path: Path, *, extra_field_column: str | None = None) -> pd.DataFrame:
    """A CSV with every value as a string exactly as written (no NA guessing, no type inference).

    With ``extra_field_column``, lines with more fields than the header keep their first extra
    field in that column (the rest is cut) instead of failing the whole read; the ETL
    quarantines such rows.
    """
    if extra_field_column is None:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    with Path(path).open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh), None)
    if not header:
        raise ValueError(f"CSV {str(path)!r} is empty; it needs a header row naming the columns")
    width = len(header) + 1
    return pd.read_csv(
        path,
        header=None,
        skiprows=1,
        names=[*header, extra_field_column],
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        engine="python",  # the C engine cannot hand over long lines to a callback
        on_bad_lines=lambda fields: fields[:width],
    )


def read_table(path: str | Path, schema: Schema) -> pd.DataFrame:
    """Read clean data (Parquet folder or file, or CSV) and return it with the clean dtypes."""
    fmt, files = data_files(Path(path))
    if fmt == "parquet":
        frames = [pd.read_parquet(f) for f in files]
    else:
        frames = [pd.read_csv(f, dtype=str, keep_default_na=False) for f in files]
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return coerce_clean(df, schema, source=str(path))


def coerce_clean(df: pd.DataFrame, schema: Schema, *, source: str = "data") -> pd.DataFrame:
    """Select ``schema.all_columns`` in order and give each column its clean dtype.

    Raises ``ValueError`` naming the columns or values that do not fit, since this reads data
    that the ETL should already have cleaned.
    """
    missing = [c for c in schema.all_columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{source}: columns {missing} of schema {schema.name!r} are missing (found {list(df.columns)}); "
            "run the ETL first or pass data that matches the schema"
        )
    out = pd.DataFrame(index=pd.RangeIndex(len(df)))
    out[schema.id_column] = _as_str(df[schema.id_column])
    if schema.timestamp_column:
        out[schema.timestamp_column] = _as_str(df[schema.timestamp_column])
    for col in schema.typed_columns:
        s = df[col.name]
        if col.is_numeric:
            is_text = s.dtype == object or pd.api.types.is_string_dtype(s.dtype)
            if is_text:
                s = s.replace("", np.nan)
            try:
                values = pd.to_numeric(s, errors="raise").astype("float64")
                if is_text and pandas_major() < 3:
                    # pandas 2's to_numeric is an ulp off for some strings; float() is exact,
                    # so a CSV split gives the same model in the SageMaker image as locally
                    values = parse_floats(s)
                out[col.name] = values
            except (ValueError, TypeError) as exc:
                raise ValueError(
                    f"{source}: column {col.name!r} is not numeric ({exc}); run the ETL first"
                ) from None
        else:
            out[col.name] = _as_str(s)
    out[schema.target.name] = _target01(df[schema.target.name], schema, source)
    return out


def _as_str(s: pd.Series) -> pd.Series:
    """Strings with NaN for missing; object dtype so every library sees plain ``str`` values."""
    missing = s.isna().to_numpy()
    values = s.astype(str).to_numpy(dtype=object)
    values[missing | (values == "")] = np.nan
    return pd.Series(values, index=s.index, dtype=object)


def _target01(s: pd.Series, schema: Schema, source: str) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s.dtype) and not s.isna().any():
        values = s.astype("int64")
    else:
        text = s.astype(str).str.strip()
        values = pd.Series(np.where(text == "1", 1, np.where(text == "0", 0, -1)), index=s.index)
    bad = ~values.isin([0, 1])
    if bad.any():
        sample = s[bad].head(3).tolist()
        raise ValueError(
            f"{source}: target column {schema.target.name!r} must hold 0/1 after the ETL, found {sample}; "
            "run the ETL first (it encodes the positive label as 1)"
        )
    return values.astype("int64")


def write_table(df: pd.DataFrame, directory: str | Path, name: str, fmt: str = "csv") -> Path:
    """Write ``df`` as ``<directory>/<name>.<fmt>`` and return the path."""
    if fmt not in TABLE_FORMATS:
        raise ValueError(
            f"output format {fmt!r} is not supported; use one of {list(TABLE_FORMATS)}"
        )
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.{fmt}"
    if fmt == "csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)
    return path
