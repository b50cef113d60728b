"""DataVersion: fingerprint the curated data an execution starts on (``data_version.json``).

The pipeline's ``DataVersion`` step runs this on every execution (it is never cached): it reads
the curated prefix, keeps the latest record per id and writes the content fingerprint::

    /opt/ml/processing/input/data/              curated data (ingest_date= partitions)
    /opt/ml/processing/output/version/data_version.json
        {"data_version": "<sha256>", "rows": ..., "rows_read": ..., "duplicates_dropped": ...,
         "partitions": [...]}

The pipeline reads ``data_version`` with ``Std:JsonGet`` and passes it to the cached steps as
the ``DATA_VERSION`` environment variable, which is part of their cache key: a cache hit then
implies the same data, and new data always runs the steps again.

    python -m pipeline_code.processing.data_version --input out/curated --schema churn \\
        --output-dir out/version
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..data.tables import resolve_schema
from ..schema import Schema
from .dataset import dataset_fingerprint, read_curated

PROCESSING_ROOT = Path("/opt/ml/processing")
DATA_VERSION_FILE = "data_version.json"


def data_version(input_path: str | Path, schema: Schema) -> dict[str, Any]:
    """The data version of the curated data at ``input_path`` and what reading it found."""
    curated = read_curated(input_path, schema)
    return {
        "data_version": dataset_fingerprint(curated.frame, schema),
        "rows": len(curated.frame),
        "rows_read": curated.rows_read,
        "duplicates_dropped": curated.duplicates_dropped,
        "partitions": list(curated.partitions),
    }


def write_data_version(input_path: str | Path, schema: Schema, output_dir: str | Path) -> Path:
    """Write ``data_version.json`` to ``output_dir`` and return its path."""
    report = data_version(input_path, schema)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / DATA_VERSION_FILE
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return path


def build_parser() -> argparse.ArgumentParser:
    """Arguments; defaults follow the SageMaker Processing paths."""
    p = argparse.ArgumentParser(
        prog="data_version", description="Fingerprint the curated data (latest record per id)"
    )
    p.add_argument("--input", default=str(PROCESSING_ROOT / "input" / "data"))
    p.add_argument("--schema", required=True, help="schema JSON file or built-in name")
    p.add_argument(
        "--output-dir",
        default=str(PROCESSING_ROOT / "output" / "version"),
        help=f"folder for {DATA_VERSION_FILE}",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for the Processing container; prints the report as JSON."""
    args = build_parser().parse_args(argv)
    path = write_data_version(args.input, resolve_schema(args.schema), args.output_dir)
    print(path.read_text(encoding="utf-8"), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
