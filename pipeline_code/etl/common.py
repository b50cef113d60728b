"""Engine-independent parts of the ETL: the input-column contract and the run result."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

from pipeline_code.etl.reasons import split_reasons
from pipeline_code.schema import Schema

INGEST_PARTITION = "ingest_date"


class MissingColumnsError(ValueError):
    """The input lacks columns the schema requires. The message names them."""


def check_input_columns(columns: Iterable[str], schema: Schema, *, source: str = "input") -> None:
    """Raise :class:`MissingColumnsError` unless every column of ``schema.all_columns`` is present."""
    present = list(columns)
    missing = [c for c in schema.all_columns if c not in present]
    if missing:
        raise MissingColumnsError(
            f"{source} is missing columns {missing} required by schema {schema.name!r} "
            f"(found {present}); add them to the data's header row or fix the schema file"
        )


def count_reasons(combined_counts: Mapping[str, int]) -> dict[str, int]:
    """Per-reason row counts from counts of ``;``-joined reason strings (a row may have several)."""
    out: dict[str, int] = {}
    for combined, n in combined_counts.items():
        for reason in split_reasons(combined):
            out[reason] = out.get(reason, 0) + int(n)
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class EtlResult:
    """What one ETL run did. ``rows_in == rows_clean + rows_quarantined`` always holds."""

    engine: str
    rows_in: int
    rows_clean: int
    rows_quarantined: int
    reason_counts: dict[str, int] = field(default_factory=dict)
    clean_path: str = ""
    quarantine_path: str = ""
    ingest_date: str = ""

    def __post_init__(self) -> None:
        if self.rows_in != self.rows_clean + self.rows_quarantined:
            raise RuntimeError(
                f"ETL lost rows: {self.rows_in} in, {self.rows_clean} clean + {self.rows_quarantined} "
                "quarantined; this is a bug in the transform"
            )

    def to_json(self) -> str:
        """The result as indented JSON (the Glue job logs it; run-local writes it as etl_report.json)."""
        return json.dumps(asdict(self), indent=2) + "\n"
