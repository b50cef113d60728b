"""Preprocess: latest record per id, split by id, under the SageMaker Processing contract."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline_code.data.generate import generate
from pipeline_code.data.tables import coerce_clean, data_files, read_table
from pipeline_code.etl.pandas_transform import run_etl_pandas
from pipeline_code.processing.preprocess import (
    SPLITS,
    DataVersionMismatch,
    main,
    preprocess,
    split_by_id,
)
from pipeline_code.schema import Schema


@pytest.fixture(scope="module")
def clean(churn: Schema, churn_splits: dict[str, Path]) -> pd.DataFrame:
    frames = [read_table(churn_splits[name], churn) for name in SPLITS]
    return pd.concat(frames, ignore_index=True)


def test_splits_are_disjoint_complete_and_balanced(churn: Schema, clean: pd.DataFrame) -> None:
    parts = split_by_id(clean, churn, seed=1)
    ids = [set(parts[n][churn.id_column]) for n in SPLITS]
    assert sum(len(i) for i in ids) == len(clean)
    assert set.union(*ids) == set(clean[churn.id_column])
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    rate = clean[churn.target.name].mean()
    # By id hash, not stratified: close to the overall rate and fractions, not exact.
    for name in SPLITS:
        assert abs(parts[name][churn.target.name].mean() - rate) < 0.05, name
    assert abs(len(parts["train"]) / len(clean) - 0.7) < 0.03


def test_split_is_deterministic_and_ignores_input_order(churn: Schema, clean: pd.DataFrame) -> None:
    a = split_by_id(clean, churn, seed=4)
    shuffled = clean.sample(frac=1.0, random_state=99).reset_index(drop=True)
    b = split_by_id(shuffled, churn, seed=4)
    for name in SPLITS:
        pd.testing.assert_frame_equal(a[name], b[name])
    c = split_by_id(clean, churn, seed=5)
    assert set(c["test"][churn.id_column]) != set(a["test"][churn.id_column])


@pytest.mark.parametrize(("train", "val"), [(0.9, 0.1), (0.0, 0.5), (0.7, 1.2), (0.8, 0.3)])
def test_fails_on_fractions_that_leave_no_test_share(
    churn: Schema, clean: pd.DataFrame, train: float, val: float
) -> None:
    with pytest.raises(ValueError, match="positive share for test"):
        split_by_id(clean, churn, train_fraction=train, validation_fraction=val)


def test_fails_when_a_class_is_too_small(churn: Schema, clean: pd.DataFrame) -> None:
    few = pd.concat([clean[clean["churned"] == 0], clean[clean["churned"] == 1].head(3)])
    with pytest.raises(ValueError, match=r"churned='1' has 3 rows"):
        split_by_id(few, churn)


def test_messages_use_the_users_label_values(churn: Schema, clean: pd.DataFrame) -> None:
    # A file whose positive class is written "yes": messages say "yes", not the encoded 1.
    schema = Schema.from_dict(
        {**churn.to_dict(), "target": {"name": "churned", "positive": "yes", "negative": "no"}}
    )
    few = pd.concat([clean[clean["churned"] == 0], clean[clean["churned"] == 1].head(3)])
    with pytest.raises(ValueError, match=r"churned='yes' has 3 rows"):
        split_by_id(few, schema)


def test_main_follows_processing_paths_and_writes_schema(
    churn: Schema, churn_splits: dict[str, Path], tmp_path: Path
) -> None:
    curated = tmp_path / "input" / "data" / "ingest_date=2024-01-01"
    curated.mkdir(parents=True)
    for i, name in enumerate(SPLITS):
        read_table(churn_splits[name], churn).to_parquet(curated / f"part-{i}.parquet")
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


# ------------------------------------------------------------- two nights of the nightly ETL


@dataclass(frozen=True)
class TwoNights:
    curated: Path
    night1: pd.DataFrame  # raw rows of each night (the ETL's input)
    night2: pd.DataFrame
    changed_id: str


@pytest.fixture(scope="module")
def two_nights(churn: Schema, tmp_path_factory: pytest.TempPathFactory) -> TwoNights:
    """The curated zone after two ETL runs: night 2 re-ingests every id of night 1 (one record
    changed) plus new ids, as the Glue job does over the whole raw prefix."""
    base = tmp_path_factory.mktemp("two_nights")
    night1 = generate(churn, 1500, seed=21).frame
    night2 = pd.concat([night1, generate(churn, 500, seed=22).frame], ignore_index=True)
    changed_id = str(night1.loc[7, churn.id_column])
    row = night2.index[night2[churn.id_column] == changed_id][0]
    night2.loc[row, "tenure_months"] = "71"
    night2.loc[row, "churned"] = "1" if night1.loc[7, "churned"] == "0" else "0"
    # the day's snapshot is older than night 1's: the later partition still wins
    night2.loc[row, "snapshot_date"] = "2020-01-01"
    curated = base / "curated"
    for day, frame in (("2024-01-01", night1), ("2024-01-02", night2)):
        raw = base / f"raw-{day}.csv"
        frame.to_csv(raw, index=False)
        run_etl_pandas(raw, curated, base / "quarantine", churn, ingest_date=day)
    return TwoNights(curated, night1, night2, changed_id)


def run_preprocess_step(curated: Path, out: Path, *extra: str) -> dict[str, pd.DataFrame]:
    """The Preprocess step's entry point with the arguments the pipeline passes."""
    try:
        from cdk_mlops.pipelines.training import DEFAULT_COMMANDS
    except (ImportError, AttributeError):  # the library needs Python 3.11 (enum.StrEnum, ...)
        pytest.skip("the pipeline's arguments come from cdk_mlops, which needs Python 3.11")

    args = DEFAULT_COMMANDS["Preprocess"].arguments
    argv = [
        a.replace("/opt/ml/processing/input/data", str(curated))
        .replace("/opt/ml/processing/output", str(out))
        .replace("{schema}", "churn")
        for a in args
    ]
    assert main([*argv, *extra]) == 0
    churn = Schema.builtin("churn")
    return {name: read_table(out / name, churn) for name in SPLITS}


def test_two_nights_put_each_id_in_exactly_one_split(
    churn: Schema, two_nights: TwoNights, tmp_path: Path
) -> None:
    splits = run_preprocess_step(two_nights.curated, tmp_path)
    ids = {name: frame[churn.id_column] for name, frame in splits.items()}
    for name, values in ids.items():
        assert not values.duplicated().any(), f"an id is twice in {name}"
    for a, b in (("train", "validation"), ("train", "test"), ("validation", "test")):
        assert not set(ids[a]) & set(ids[b]), f"ids in both {a} and {b}"
    everyone = set(two_nights.night2[churn.id_column])
    assert set().union(*(set(v) for v in ids.values())) == everyone
    assert sum(len(v) for v in ids.values()) == len(everyone)


def test_two_nights_keep_the_latest_record_of_a_changed_id(
    churn: Schema, two_nights: TwoNights, tmp_path: Path
) -> None:
    splits = run_preprocess_step(two_nights.curated, tmp_path)
    rows = pd.concat(splits.values(), ignore_index=True)
    [changed] = rows[rows[churn.id_column] == two_nights.changed_id].to_dict("records")
    night2 = two_nights.night2.set_index(churn.id_column).loc[two_nights.changed_id]
    assert changed["tenure_months"] == 71.0
    assert changed["churned"] == int(night2["churned"])
    assert changed["snapshot_date"] == "2020-01-01"


def test_an_id_stays_in_its_split_when_new_nights_arrive(
    churn: Schema, two_nights: TwoNights, tmp_path: Path
) -> None:
    first = tmp_path / "night1" / "curated"
    shutil.copytree(two_nights.curated / "ingest_date=2024-01-01", first / "ingest_date=2024-01-01")
    before = run_preprocess_step(first, tmp_path / "night1")
    after = run_preprocess_step(two_nights.curated, tmp_path / "night2")
    for name in SPLITS:
        old = set(before[name][churn.id_column])
        assert old <= set(after[name][churn.id_column]), name


def test_splits_record_the_data_version_and_fail_on_another_expected_one(
    two_nights: TwoNights, tmp_path: Path
) -> None:
    run_preprocess_step(two_nights.curated, tmp_path / "a")
    report = json.loads((tmp_path / "a" / "train" / "data_version.json").read_text())
    assert report["duplicates_dropped"] == len(two_nights.night1)
    assert report["partitions"] == ["2024-01-01", "2024-01-02"]
    version = report["data_version"]
    run_preprocess_step(two_nights.curated, tmp_path / "b", "--expected-data-version", version)
    with pytest.raises(DataVersionMismatch, match="changed while the pipeline ran"):
        run_preprocess_step(two_nights.curated, tmp_path / "c", "--expected-data-version", "0" * 64)
