"""The synthetic data generator: determinism, realism, bad rows, drift, any schema."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline_code.data.generate import BAD_KINDS, GeneratedData, apply_drift, generate, main
from pipeline_code.data.tables import resolve_schema
from pipeline_code.etl.pandas_transform import transform_pandas
from pipeline_code.schema import Schema, SchemaError


@pytest.fixture(scope="module")
def churn_clean(churn: Schema) -> GeneratedData:
    return generate(churn, 6000, seed=5)


def test_same_seed_gives_identical_data(churn: Schema) -> None:
    a = generate(churn, 500, seed=9, bad_fraction=0.05)
    b = generate(churn, 500, seed=9, bad_fraction=0.05)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    pd.testing.assert_frame_equal(a.injected, b.injected)
    assert not a.frame.equals(generate(churn, 500, seed=10, bad_fraction=0.05).frame)


def test_frame_has_schema_columns_as_strings(churn: Schema, churn_clean: GeneratedData) -> None:
    df = churn_clean.frame
    assert list(df.columns) == churn.all_columns
    assert all(isinstance(v, str) for v in df.iloc[0])
    assert df[churn.id_column].is_unique


@pytest.mark.parametrize("name", ["churn", "loan_default"])
def test_positive_rate_is_realistic(name: str) -> None:
    schema = Schema.builtin(name)
    data = generate(schema, 6000, seed=1)
    rate = (data.frame[schema.target.name] == schema.target.positive).mean()
    assert 0.2 <= rate <= 0.3


def test_churn_label_depends_on_features_plausibly(
    churn: Schema, churn_clean: GeneratedData
) -> None:
    df = churn_clean.frame
    churned = df["churned"] == "1"
    by_contract = churned.groupby(df["contract_type"]).mean()
    assert by_contract["month-to-month"] > 2 * by_contract["two-year"]
    calls = df["support_calls"].astype(int)
    assert churned[calls >= 4].mean() > churned[calls == 0].mean() + 0.15
    tenure = df["tenure_months"].astype(int)
    assert churned[tenure < 6].mean() > churned[tenure > 48].mean()
    late = df["late_payments"].astype(int)
    assert churned[late >= 2].mean() > churned[late == 0].mean()
    # brand-new customers have no total charges yet (the column is nullable for that reason)
    assert (df.loc[tenure == 0, "total_charges"] == "").all()


def test_loan_label_depends_on_credit_score(loan: Schema) -> None:
    df = generate(loan, 4000, seed=2).frame
    defaulted = df["defaulted"] == "yes"
    score = df["credit_score"].astype(int)
    assert defaulted[score < 620].mean() > defaulted[score > 760].mean() + 0.15


def test_clean_data_passes_the_etl_unchanged(churn: Schema, churn_clean: GeneratedData) -> None:
    clean, quarantine = transform_pandas(churn_clean.frame, churn)
    assert len(quarantine) == 0
    assert len(clean) == len(churn_clean.frame)


def test_bad_rows_cover_every_kind_and_are_all_quarantined_with_their_reason(churn: Schema) -> None:
    data = generate(churn, 3000, seed=4, bad_fraction=0.1)
    assert len(data.injected) == 300
    assert set(data.injected["kind"]) == set(BAD_KINDS)
    clean, quarantine = transform_pandas(data.frame, churn)
    assert len(clean) + len(quarantine) == 3000
    assert len(quarantine) == 300
    assert quarantine["quarantine_reason"].tolist() == data.injected["reason"].tolist()


def test_injected_values_look_like_real_mistakes(churn: Schema) -> None:
    data = generate(churn, 2000, seed=8, bad_fraction=0.2)
    inj = data.injected.set_index("row")
    for row, rec in inj.iterrows():
        value = (
            data.frame.iat[row, data.frame.columns.get_loc(rec["column"])]
            if rec["column"]
            else None
        )
        if rec["kind"] == "invalid_type":
            assert value in {"abc", "12,5", "1d", "NaN", "--3"}
        elif rec["kind"] == "out_of_range":
            spec = churn.column(rec["column"])
            assert value is not None
            assert float(value) > (spec.max or 0) or float(value) < (spec.min or 0)
        elif rec["kind"] == "missing_value":
            assert value == ""
        elif rec["kind"] == "duplicate_id":
            ident = data.frame.iat[row, 0]
            assert (data.frame[churn.id_column] == ident).sum() >= 2


def test_schema_without_timestamp_or_nullable_columns_gets_applicable_kinds_only() -> None:
    schema = Schema.from_dict(
        {
            "name": "tiny",
            "id_column": "id",
            "target": {"name": "y", "positive": "yes", "negative": "no"},
            "features": [{"name": "color", "type": "categorical", "categories": ["red", "blue"]}],
        }
    )
    data = generate(schema, 400, seed=0, bad_fraction=0.25)
    assert "invalid_timestamp" not in set(data.injected["kind"])
    assert "invalid_type" not in set(data.injected["kind"])
    clean, quarantine = transform_pandas(data.frame, schema)
    assert quarantine["quarantine_reason"].tolist() == data.injected["reason"].tolist()
    assert len(clean) == 300


def test_generic_schema_is_generated_inside_its_ranges_with_a_learnable_label() -> None:
    schema = Schema.from_dict(
        {
            "name": "equipment_failure",
            "id_column": "machine_id",
            "target": {"name": "failed", "positive": "true", "negative": "false"},
            "features": [
                {"name": "temperature", "type": "float", "min": -20, "max": 120},
                {"name": "vibration", "type": "float", "min": 0},
                {"name": "age_years", "type": "integer", "min": 0, "max": 30, "nullable": True},
                {"name": "model", "type": "categorical", "categories": ["a", "b", "c"]},
                {"name": "serviced", "type": "boolean"},
            ],
        }
    )
    data = generate(schema, 3000, seed=0)
    clean, quarantine = transform_pandas(data.frame, schema)
    assert len(quarantine) == 0
    assert clean["temperature"].between(-20, 120).all()
    assert (clean["vibration"] >= 0).all()
    assert clean["age_years"].isna().any()  # nullable columns get some missing values
    rate = clean["failed"].mean()
    assert 0.1 < rate < 0.45
    # the label is a function of the features: groups differ
    assert (
        clean.groupby("model")["failed"].mean().std() > 0.02
        or abs(np.corrcoef(clean["temperature"], clean["failed"])[0, 1]) > 0.05
    )


def test_drift_shifts_numerics_and_tilts_categories(
    churn: Schema, churn_clean: GeneratedData
) -> None:
    drifted = generate(churn, 6000, seed=5, drift=0.8)
    base_df, drift_df = churn_clean.frame, drifted.frame
    for col in ("monthly_charges", "data_usage_gb", "tenure_months"):
        assert drift_df[col].astype(float).mean() > base_df[col].astype(float).mean()
    base_share = (base_df["internet_service"] == "fiber").mean()
    drift_share = (drift_df["internet_service"] == "fiber").mean()
    assert abs(base_share - drift_share) > 0.05
    for col in churn.numeric_features:
        spec = churn.column(col)
        values = pd.to_numeric(drift_df[col].replace("", np.nan)).dropna()
        assert values.between(spec.min, spec.max).all(), col


def test_new_categories_are_unknown_to_the_schema(churn: Schema) -> None:
    data = generate(churn, 2000, seed=1, drift=0.3, new_categories=True)
    assert (data.frame["contract_type"] == "contract_type-new").sum() > 10
    _clean, quarantine = transform_pandas(data.frame, churn)
    assert quarantine["quarantine_reason"].str.contains("unknown_category:contract_type").any()


def test_apply_drift_rejects_strength_outside_0_1(
    churn: Schema, churn_clean: GeneratedData
) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        apply_drift(churn_clean.frame, churn, np.random.default_rng(0), strength=1.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_rows": 0}, "positive integer"),
        ({"n_rows": 10, "bad_fraction": 0.9}, "bad_fraction"),
        ({"n_rows": 10, "bad_fraction": -0.1}, "bad_fraction"),
        ({"n_rows": 10, "drift": 2.0}, "between 0 and 1"),
    ],
)
def test_fails_on_bad_arguments(churn: Schema, kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate(churn, **kwargs)  # type: ignore[arg-type]


def test_command_line_writes_csv(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "loans.csv"
    assert (
        main(
            [
                "--schema",
                "loan_default",
                "--rows",
                "50",
                "--bad-fraction",
                "0.1",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(df) == 50
    assert "loan_id" in df.columns


def test_resolve_schema_names_the_builtins_when_unknown(tmp_path: Path) -> None:
    assert resolve_schema("loan_default").name == "loan_default"
    with pytest.raises(SchemaError, match="loan_default"):
        resolve_schema("no_such_schema")
    with pytest.raises(SchemaError, match="does not exist"):
        resolve_schema(tmp_path / "missing.json")
