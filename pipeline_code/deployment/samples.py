"""The sample rows the smoke and latency tests send: CSV lines without a header.

Each row keeps its line number in the file, so a failure names the rows to look at. The file is
a local path or an ``s3://bucket/key`` URI (read with ``s3:GetObject``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UsageError

if TYPE_CHECKING:
    from ..schema import Schema


@dataclass(frozen=True)
class SampleRow:
    """One CSV line of the sample file and its 1-based line number."""

    line: int
    text: str


def read_sample_text(source: str, *, s3_client: Any = None) -> str:
    """The text of a local file or an ``s3://`` object (UTF-8)."""
    if source.startswith("s3://"):
        bucket, _, key = source[5:].partition("/")
        if not bucket or not key:
            raise UsageError(
                f"sample file {source!r} is not s3://BUCKET/KEY; pass a full object URI"
            )
        if s3_client is None:
            import boto3

            s3_client = boto3.client("s3")
        from botocore.exceptions import ClientError

        try:
            raw = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise UsageError(
                f"cannot read sample file {source!r} ({code}); check the URI and that the role may "
                "s3:GetObject it (and kms:Decrypt its key)"
            ) from None
    else:
        path = Path(source)
        if not path.is_file():
            raise UsageError(
                f"sample file {source!r} does not exist; pass a CSV file of feature rows without a "
                "header (--sample-file)"
            )
        raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"sample file {source!r} is not UTF-8 (byte {exc.start}); save it as UTF-8 CSV"
        ) from None


def parse_sample_rows(
    text: str,
    *,
    source: str = "sample file",
    skip_header: bool = False,
    max_rows: int | None = None,
) -> list[SampleRow]:
    """Non-empty lines as rows (line numbers count every line of the file)."""
    rows: list[SampleRow] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if skip_header and number == 1:
            continue
        if not line.strip():
            continue
        rows.append(SampleRow(number, line))
        if max_rows is not None and len(rows) >= max_rows:
            break
    if not rows:
        raise UsageError(f"{source} has no rows; put at least one CSV line of feature values in it")
    return rows


def load_sample_rows(
    source: str, *, skip_header: bool = False, max_rows: int | None = None, s3_client: Any = None
) -> list[SampleRow]:
    """Read and parse the sample file (see :func:`parse_sample_rows`)."""
    text = read_sample_text(source, s3_client=s3_client)
    return parse_sample_rows(text, source=source, skip_header=skip_header, max_rows=max_rows)


def csv_body(rows: list[SampleRow]) -> bytes:
    """The request body for ``rows``: one line each, newline-terminated."""
    return ("\n".join(r.text for r in rows) + "\n").encode("utf-8")


#: Where each generated row puts a bounded numeric feature, as a share of its [min, max] range.
_SAMPLE_POSITIONS = (0.0, 1.0, 0.5, 0.25, 0.75)


def schema_sample_text(schema: Schema, rows: int = len(_SAMPLE_POSITIONS)) -> str:
    """Feature rows for the smoke and latency tests, made from the schema alone (no data needed).

    Deterministic: row ``i`` puts every numeric feature at ``_SAMPLE_POSITIONS[i % 5]`` of its
    range (both bounds included, integers floored; a feature without a maximum spans 100 from
    its minimum), and every categorical or boolean feature at its ``i``-th allowed value, so a
    few rows reach each range's edges and each category. Columns are the schema's features in
    order, the request format of the inference handler; no header.
    """
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    lines = []
    for i in range(rows):
        values = []
        for spec in schema.features:
            if spec.is_numeric:
                lo = 0.0 if spec.min is None else spec.min
                hi = lo + 100.0 if spec.max is None else spec.max
                x = lo + (hi - lo) * _SAMPLE_POSITIONS[i % len(_SAMPLE_POSITIONS)]
                values.append(str(math.floor(x)) if spec.type == "integer" else repr(float(x)))
            else:
                allowed = spec.allowed_categories
                values.append(allowed[i % len(allowed)])
        lines.append(",".join(_csv_field(v) for v in values))
    return "\n".join(lines) + "\n"


def _csv_field(value: str) -> str:
    """``value`` as one CSV field (quoted when it holds a comma, a quote or a line break)."""
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value
