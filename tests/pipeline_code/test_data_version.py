"""The data version: a fingerprint of the logical dataset, not of its files.

The pipeline's ``DataVersion`` step (never cached) runs this entry point; the cached steps carry
its result in their cache key. So it must change whenever the rows change, and must not change
when only the files do (Spark's part-file names are random, the nightly ETL re-ingests the same
ids into a new partition).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline_code.data.generate import generate
from pipeline_code.data.tables import read_table
from pipeline_code.etl.pandas_transform import run_etl_pandas
from pipeline_code.processing.data_version import main
from pipeline_code.processing.dataset import (
    dataset_fingerprint,
    id_buckets,
    latest_per_id,
    read_curated,
)
from pipeline_code.schema import Schema


@pytest.fixture(scope="module")
def rows(churn: Schema, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """Clean churn rows (through the ETL), as the curated zone holds them."""
    base = tmp_path_factory.mktemp("rows")
    raw = generate(churn, 600, seed=31).to_csv(base / "raw.csv")
    run_etl_pandas(raw, base / "curated", base / "q", churn, ingest_date="2024-03-01")
    return read_table(base / "curated", churn)


def version_of(folder: Path, out: Path) -> str:
    """The DataVersion step's entry point, as the pipeline runs it."""
    assert main(["--input", str(folder), "--schema", "churn", "--output-dir", str(out)]) == 0
    report = json.loads((out / "data_version.json").read_text(encoding="utf-8"))
    return str(report["data_version"])


def version_of_frame(frame: pd.DataFrame, schema: Schema) -> str:
    return dataset_fingerprint(frame, schema)


def write_parts(frame: pd.DataFrame, folder: Path, day: str, names: list[str]) -> None:
    """``frame`` as one Parquet file per name in an ``ingest_date=`` partition."""
    part = folder / f"ingest_date={day}"
    part.mkdir(parents=True)
    for name, chunk in zip(names, np.array_split(np.arange(len(frame)), len(names)), strict=True):
        frame.iloc[chunk].to_parquet(part / name, index=False)


def test_same_rows_in_another_file_layout_and_order_give_the_same_version(
    rows: pd.DataFrame, tmp_path: Path
) -> None:
    write_parts(rows, tmp_path / "a", "2024-03-01", ["part-00000-1f2e.snappy.parquet"])
    shuffled = rows.sample(frac=1.0, random_state=5).reset_index(drop=True)
    names = [f"part-0000{i}-{i * 7919:x}.snappy.parquet" for i in range(3)]
    write_parts(shuffled, tmp_path / "b", "2024-03-01", names)
    assert version_of(tmp_path / "a", tmp_path / "va") == version_of(
        tmp_path / "b", tmp_path / "vb"
    )


def test_a_second_night_with_the_same_records_keeps_the_version(
    rows: pd.DataFrame, tmp_path: Path
) -> None:
    write_parts(rows, tmp_path / "one", "2024-03-01", ["part-0.parquet"])
    write_parts(rows, tmp_path / "two", "2024-03-01", ["part-0.parquet"])
    write_parts(rows, tmp_path / "two", "2024-03-02", ["part-9.parquet"])
    assert version_of(tmp_path / "one", tmp_path / "v1") == version_of(
        tmp_path / "two", tmp_path / "v2"
    )


def test_different_data_gives_different_versions(
    churn: Schema, rows: pd.DataFrame, tmp_path: Path
) -> None:
    base = version_of_frame(rows, churn)
    changed = rows.copy()
    changed.loc[3, "monthly_charges"] = changed.loc[3, "monthly_charges"] + 0.01
    fewer = rows.drop(index=[0]).reset_index(drop=True)
    missing = rows.copy()
    missing.loc[5, "region"] = np.nan
    relabelled = rows.copy()
    relabelled.loc[9, "churned"] = 1 - relabelled.loc[9, "churned"]
    versions = [version_of_frame(f, churn) for f in (changed, fewer, missing, relabelled)]
    assert base not in versions
    assert len(set(versions)) == len(versions)
    other = generate(churn, 600, seed=32).to_csv(tmp_path / "other.csv")
    run_etl_pandas(other, tmp_path / "c", tmp_path / "q", churn, ingest_date="2024-03-01")
    write_parts(rows, tmp_path / "mine", "2024-03-01", ["part-0.parquet"])
    assert version_of(tmp_path / "c", tmp_path / "vc") != version_of(
        tmp_path / "mine", tmp_path / "vm"
    )


def test_a_new_night_that_changes_a_record_changes_the_version(
    rows: pd.DataFrame, tmp_path: Path
) -> None:
    write_parts(rows, tmp_path / "one", "2024-03-01", ["part-0.parquet"])
    before = version_of(tmp_path / "one", tmp_path / "v1")
    night2 = rows.copy()
    night2.loc[0, "support_calls"] = night2.loc[0, "support_calls"] + 1
    write_parts(night2, tmp_path / "one", "2024-03-02", ["part-0.parquet"])
    assert version_of(tmp_path / "one", tmp_path / "v2") != before


def test_ties_in_one_partition_are_broken_by_content_not_file_order(
    churn: Schema, rows: pd.DataFrame, tmp_path: Path
) -> None:
    twin = rows.iloc[[0]].copy()
    twin["support_calls"] = 99.0
    doubled = pd.concat([rows, twin], ignore_index=True)
    partitions = pd.Series(["2024-03-01"] * len(doubled), dtype=object)
    a = latest_per_id(doubled, partitions, churn)
    b = latest_per_id(doubled.iloc[::-1].reset_index(drop=True), partitions, churn)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == len(rows)


def test_read_curated_reports_what_it_dropped(
    churn: Schema, rows: pd.DataFrame, tmp_path: Path
) -> None:
    write_parts(rows, tmp_path / "c", "2024-03-01", ["part-0.parquet"])
    write_parts(rows.head(100), tmp_path / "c", "2024-03-02", ["part-0.parquet"])
    curated = read_curated(tmp_path / "c", churn)
    assert len(curated.frame) == len(rows)
    assert curated.rows_read == len(rows) + 100
    assert curated.duplicates_dropped == 100
    assert curated.partitions == ("2024-03-01", "2024-03-02")


def test_id_buckets_are_stable_and_salted() -> None:
    ids = pd.Series(["a", "b", "c"])
    first = id_buckets(ids, seed=0)
    assert np.array_equal(first, id_buckets(pd.Series(["c", "a", "b"]), seed=0)[[1, 2, 0]])
    assert ((first >= 0) & (first < 1)).all()
    assert not np.array_equal(first, id_buckets(ids, seed=1))
