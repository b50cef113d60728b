"""Preprocess: stratified, deterministic splits under the SageMaker Processing contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline_code.data.tables import coerce_clean, data_files, read_table
from pipeline_code.processing.preprocess import SPLITS, main, preprocess, stratified_split
from pipeline_code.schema import Schema


@pytest.fixture(scope="module")
def clean(churn: Schema, churn_splits: dict[str, Path]) -> pd.DataFrame:
    frames = [read_table(churn_splits[name], churn) for name in SPLITS]
    return pd.concat(frames, ignore_index=True)


def test_splits_are_disjoint_complete_and_stratified(churn: Schema, clean: pd.DataFrame) -> None:
    parts = stratified_split(clean, churn, seed=1)
    ids = [set(parts[n][churn.id_column]) for n in SPLITS]
    assert sum(len(i) for i in ids) == len(clean)
    assert set.union(*ids) == set(clean[churn.id_column])
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    rate = clean[churn.target.name].mean()
    for name in SPLITS:
        assert abs(parts[name][churn.target.name].mean() - rate) < 0.01, name
    assert abs(len(parts["train"]) / len(clean) - 0.7) < 0.01


def test_split_is_deterministic_and_ignores_input_order(churn: Schema, clean: pd.DataFrame) -> None:
    a = stratified_split(clean, churn, seed=4)
    shuffled = clean.sample(frac=1.0, random_state=99).reset_index(drop=True)
    b = stratified_split(shuffled, churn, seed=4)
    for name in SPLITS:
        pd.testing.assert_frame_equal(a[name], b[name])
    c = stratified_split(clean, churn, seed=5)
    assert set(c["test"][churn.id_column]) != set(a["test"][churn.id_column])


@pytest.mark.parametrize(("train", "val"), [(0.9, 0.1), (0.0, 0.5), (0.7, 1.2), (0.8, 0.3)])
def test_fails_on_fractions_that_leave_no_test_share(
    churn: Schema, clean: pd.DataFrame, train: float, val: float
) -> None:
    with pytest.raises(ValueError, match="positive share for test"):
        stratified_split(clean, churn, train_fraction=train, validation_fraction=val)


def test_fails_when_a_class_is_too_small(churn: Schema, clean: pd.DataFrame) -> None:
    few = pd.concat([clean[clean["churned"] == 0], clean[clean["churned"] == 1].head(3)])
    with pytest.raises(ValueError, match=r"class 1 .* has 3 rows"):
        stratified_split(few, churn)


def test_main_follows_processing_paths_and_writes_schema(
    churn: Schema, churn_splits: dict[str, Path], tmp_path: Path
) -> None:
    curated = tmp_path / "input" / "data" / "ingest_date=2024-01-01"
    curated.mkdir(parents=True)
    read_table(churn_splits["train"], churn).to_parquet(curated / "part-0.parquet")
    schema_file = tmp_path / "input" / "schema" / "schema.json"
    schema_file.parent.mkdir(parents=True)
    schema_file.write_text(churn.to_json(), encoding="utf-8")
    rc = main(
        [
            "--input", str(tmp_path / "input" / "data"),
            "--schema", str(schema_file),
            "--output-dir", str(tmp_path),
            "--test-dir", str(tmp_path / "elsewhere"),
            "--format", "parquet",
        ]
    )  # fmt: skip
    assert rc == 0
    for folder, name in (
        (tmp_path / "train", "train"),
        (tmp_path / "validation", "validation"),
        (tmp_path / "elsewhere", "test"),
    ):
        assert (folder / f"{name}.parquet").is_file()
        assert Schema.from_file(folder / "schema.json") == churn
    back = read_table(tmp_path / "train", churn)
    assert list(back.columns) == churn.all_columns


def test_preprocess_rejects_unknown_format(
    churn: Schema, churn_splits: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="not supported"):
        preprocess(churn_splits["train"], churn, {n: tmp_path / n for n in SPLITS}, fmt="xlsx")


def test_reading_data_that_misses_schema_columns_names_them(churn: Schema) -> None:
    df = pd.DataFrame({"customer_id": ["a"], "churned": [1]})
    with pytest.raises(ValueError, match="tenure_months"):
        coerce_clean(df, churn, source="curated")


def test_reading_uncleaned_target_tells_to_run_the_etl(churn: Schema, clean: pd.DataFrame) -> None:
    raw_like = clean.astype(object).copy()
    raw_like["churned"] = np.where(clean["churned"] == 1, "yes", "no")
    with pytest.raises(ValueError, match="run the ETL first"):
        coerce_clean(raw_like, churn)


def test_reading_non_numeric_values_in_numeric_column_fails_clearly(
    churn: Schema, clean: pd.DataFrame
) -> None:
    bad = clean.astype(object).copy()
    bad.loc[0, "tenure_months"] = "abc"
    with pytest.raises(ValueError, match="'tenure_months' is not numeric"):
        coerce_clean(bad, churn)


def test_missing_or_empty_inputs_fail_with_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data_files(tmp_path / "nope")
    (tmp_path / "_SUCCESS").write_text("")
    with pytest.raises(FileNotFoundError, match=r"no \.parquet or \.csv"):
        data_files(tmp_path)
