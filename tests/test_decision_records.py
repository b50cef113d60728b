"""docs/decisions/ stands alone: it cites only files that are in the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORDS = sorted((ROOT / "docs" / "decisions").glob("*.md"))
assert RECORDS, "no decision records found in docs/decisions"
# Documents that exist only next to the repository, never in it.
OUTSIDE = re.compile(r"DESIGN\.md|STYLE\.md|TOOLCHAIN\.md|\.\./shared|(?<![\w.])/work/")
# A repository path in backticks: a known top-level folder or file, then anything path-like.
REPO_PATH = re.compile(
    r"`((?:cdk_mlops|pipeline_code|tests|docs|requirements|examples|benchmarks)/[\w./-]*"
    r"|(?:Makefile|pyproject\.toml|app\.py|cdk\.json|package\.json))`"
)
LINK = re.compile(r"\]\(([^)#\s]+)")


@pytest.mark.parametrize("record", RECORDS, ids=lambda p: p.name)
def test_a_record_refers_to_nothing_outside_the_repository(record: Path) -> None:
    text = record.read_text(encoding="utf-8")
    assert OUTSIDE.findall(text) == []
    missing = [p for p in REPO_PATH.findall(text) if not (ROOT / p.rstrip("/")).exists()]
    assert missing == []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+://", target):
            continue
        resolved = (record.parent / target).resolve()
        assert resolved.is_relative_to(ROOT) and resolved.exists(), target
