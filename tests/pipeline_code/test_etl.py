"""The ETL rules, on both engines (Spark as on Glue 5.0, and pandas for --skip-spark).

One hand-written table has a row for every quarantine reason; each engine must produce
exactly the expected clean rows and reasons. Generated data with injected bad rows checks the
rows-in invariant, the Parquet layout and Spark/pandas parity.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest

from pipeline_code.data.generate import GeneratedData
from pipeline_code.etl import reasons as R
from pipeline_code.etl.common import EtlResult, MissingColumnsError, count_reasons
from pipeline_code.etl.pandas_transform import run_etl_pandas, transform_pandas
from pipeline_code.schema import Schema

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

TINY = Schema.from_dict(
    {
        "name": "tiny",
        "id_column": "id",
        "timestamp_column": "ts",
        "target": {"name": "label", "positive": 1, "negative": 0},
        "features": [
            {"name": "age", "type": "integer", "min": 0, "max": 120},
            {"name": "income", "type": "float", "min": 0, "nullable": True},
            {"name": "plan", "type": "categorical", "categories": ["basic", "pro"]},
            {"name": "active", "type": "boolean"},
        ],
        "sensitive_attributes": [{"name": "grp", "type": "categorical", "categories": ["a", "b"]}],
    }
)
COLUMNS = ["id", "ts", "age", "income", "plan", "active", "grp", "label"]
GOOD = {
    "id": "x",
    "ts": "2024-01-05",
    "age": "30",
    "income": "10",
    "plan": "basic",
    "active": "true",
    "grp": "a",
    "label": "0",
}

# (overrides of GOOD, expected reason or None for a clean row)
CASES: list[tuple[dict[str, str], str | None]] = [
    ({"id": "1", "income": "1000.5", "label": "1"}, None),
    (
        {
            "id": " 2 ",
            "ts": " 2024-01-05T10:00:00Z ",
            "age": " 31 ",
            "income": "",
            "plan": "pro",
            "active": "YES",
        },
        None,
    ),
    (
        {
            "id": "3",
            "ts": "2024-01-05 10:00",
            "age": "12.0",
            "income": "1e3",
            "active": "0",
            "label": "1.0",
        },
        None,
    ),
    ({"id": "  "}, R.MISSING_ID),
    ({"id": "5", "ts": "2024-02-30"}, R.INVALID_TIMESTAMP),
    ({"id": "6", "ts": ""}, R.MISSING_TIMESTAMP),
    ({"id": "6b", "ts": "2024/01/05"}, R.INVALID_TIMESTAMP),
    ({"id": "7", "age": ""}, "missing_value:age"),
    ({"id": "8", "age": "abc"}, "invalid_type:age"),
    ({"id": "9", "age": "12.5"}, "invalid_type:age"),
    ({"id": "10", "age": "121"}, "out_of_range:age"),
    ({"id": "11", "income": "-1"}, "out_of_range:income"),
    ({"id": "12", "income": "1e999"}, "invalid_type:income"),
    ({"id": "13", "income": "NaN"}, "invalid_type:income"),
    ({"id": "13b", "income": "1_000"}, "invalid_type:income"),
    ({"id": "13c", "age": "1d"}, "invalid_type:age"),
    ({"id": "13d", "age": "\u0663"}, "invalid_type:age"),  # an Arabic-Indic digit
    ({"id": "14", "plan": "Basic"}, "unknown_category:plan"),
    ({"id": "15", "active": "maybe"}, "unknown_category:active"),
    ({"id": "16", "grp": ""}, "missing_value:grp"),
    ({"id": "16b", "grp": "c"}, "unknown_category:grp"),
    ({"id": "17", "label": ""}, R.MISSING_LABEL),
    ({"id": "18", "label": "2"}, R.INVALID_LABEL),
    ({"id": "1"}, R.DUPLICATE_ID),  # same id as the first (valid) row
    (
        {"id": "20", "age": "abc", "plan": "zzz", "label": ""},
        "invalid_type:age;unknown_category:plan;missing_label",
    ),
    ({"id": "5"}, None),  # the earlier id 5 was invalid, so this valid row is kept
    ({"id": "1 "}, R.DUPLICATE_ID),  # ids are compared after trimming
]


def _raw_rows() -> list[dict[str, str]]:
    return [{**GOOD, **over} for over, _ in CASES]


def _raw_frame() -> pd.DataFrame:
    return pd.DataFrame(_raw_rows(), columns=COLUMNS)


# Lines a DataFrame cannot hold: one field too many, and a line cut short.
MALFORMED_LINES = {
    "m1,2024-01-05,30,10,basic,true,a,0,surplus": R.MALFORMED_ROW,
    "m2,2024-01-05,30": "missing_value:plan;missing_value:active;missing_value:grp;missing_label",
}


def _write_tiny_csv(path: Path) -> Path:
    """The CASES table as CSV plus the malformed lines."""
    _raw_frame().to_csv(path, index=False)
    with path.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(MALFORMED_LINES) + "\n")
    return path


def _expected_reason_counts() -> dict[str, int]:
    reasons = [r for _, r in CASES if r is not None] + list(MALFORMED_LINES.values())
    return count_reasons(pd.Series(reasons).value_counts().to_dict())


def _run_pandas() -> tuple[pd.DataFrame, pd.DataFrame]:
    return transform_pandas(_raw_frame(), TINY)


def _run_spark(spark: SparkSession) -> tuple[pd.DataFrame, pd.DataFrame]:
    from pipeline_code.etl.transform import annotate, split

    rows = [tuple(r[c] for c in COLUMNS) for r in _raw_rows()]
    df = spark.createDataFrame(rows, schema=", ".join(f"`{c}` string" for c in COLUMNS))
    annotated = annotate(df, TINY)
    clean, quarantine = split(annotated, TINY)
    # One Spark action: collect the annotated rows and apply the (trivial) split's column
    # selection locally; the split's own columns are checked against the collected result.
    got = pd.DataFrame([r.asDict() for r in annotated.collect()], columns=annotated.columns)
    bad = got[R.REASON_COLUMN].notna()
    clean_pd = got.loc[~bad, [f"__clean__{c}" for c in TINY.all_columns]]
    clean_pd.columns = clean.columns
    q_cols = [f"__raw__{c}" for c in COLUMNS] + [R.REASON_COLUMN]
    q_pd = got.loc[bad, q_cols]
    q_pd.columns = quarantine.columns
    return clean_pd.reset_index(drop=True), q_pd.reset_index(drop=True)


@pytest.fixture(scope="module", params=["pandas", "spark"])
def engine_result(request: pytest.FixtureRequest) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    if request.param == "spark":
        clean, quarantine = _run_spark(request.getfixturevalue("spark"))
    else:
        clean, quarantine = _run_pandas()
    return request.param, clean, quarantine


def test_every_row_is_either_clean_or_quarantined(
    engine_result: tuple[str, pd.DataFrame, pd.DataFrame],
) -> None:
    _engine, clean, quarantine = engine_result
    assert len(clean) + len(quarantine) == len(CASES)


def test_each_bad_row_gets_exactly_its_reasons(
    engine_result: tuple[str, pd.DataFrame, pd.DataFrame],
) -> None:
    _engine, _clean, quarantine = engine_result
    expected = sorted((over.get("id", "x"), reason) for over, reason in CASES if reason is not None)
    got = sorted(zip(quarantine["id"].fillna(""), quarantine[R.REASON_COLUMN], strict=True))
    assert got == expected


def test_quarantine_keeps_raw_values(engine_result: tuple[str, pd.DataFrame, pd.DataFrame]) -> None:
    _engine, _clean, quarantine = engine_result
    assert list(quarantine.columns) == [*COLUMNS, R.REASON_COLUMN]
    row = quarantine[quarantine[R.REASON_COLUMN] == "out_of_range:age"].iloc[0]
    assert row["age"] == "121"
    dup = quarantine[quarantine["id"] == "1 "]
    assert len(dup) == 1  # untrimmed, as it arrived


def test_clean_rows_are_typed_and_normalised(
    engine_result: tuple[str, pd.DataFrame, pd.DataFrame],
) -> None:
    _engine, clean, _q = engine_result
    assert list(clean.columns) == TINY.all_columns
    rows = {r["id"]: r for r in clean.to_dict("records")}
    assert sorted(rows) == ["1", "2", "3", "5"]
    assert rows["1"]["income"] == 1000.5 and rows["1"]["label"] == 1
    two = rows["2"]
    assert two["ts"] == "2024-01-05T10:00:00Z" and two["age"] == 31.0
    assert two["income"] is None or math.isnan(two["income"])  # nullable, missing
    assert two["active"] == "true" and two["plan"] == "pro" and two["label"] == 0
    three = rows["3"]
    assert three["age"] == 12.0 and three["income"] == 1000.0
    assert three["active"] == "false" and three["label"] == 1  # "1.0" is the positive label


@pytest.mark.parametrize("engine", ["pandas", "spark"])
def test_fails_when_required_columns_are_missing(
    engine: str, request: pytest.FixtureRequest
) -> None:
    raw = _raw_frame().drop(columns=["plan", "label"])
    # The Spark session first: without pyspark (as in .venv-container) this skips, before the
    # import of the Spark transform could fail.
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    with pytest.raises(MissingColumnsError, match=r"\['plan', 'label'\]") as info:
        if spark is None:
            transform_pandas(raw, TINY)
        else:
            from pipeline_code.etl.transform import transform

            cols = list(raw.columns)
            df = spark.createDataFrame(
                [tuple(r) for r in raw.itertuples(index=False)],
                ", ".join(f"`{c}` string" for c in cols),
            )
            transform(df, TINY)
    assert "schema 'tiny'" in str(info.value) and "header" in str(info.value)


def test_header_whitespace_and_extra_columns_are_tolerated() -> None:
    raw = _raw_frame().rename(columns={"age": " age "})
    raw["comment"] = "ignored"
    clean, quarantine = transform_pandas(raw, TINY)
    assert "comment" not in clean.columns
    assert "comment" in quarantine.columns  # raw values are kept whole
    assert len(clean) == 4


def test_string_labels_match_case_insensitively(loan: Schema) -> None:
    from pipeline_code.data.generate import generate

    frame = generate(loan, 20, seed=0).frame
    frame.loc[0, "defaulted"] = "YES"
    frame.loc[1, "defaulted"] = "No "
    frame.loc[2, "defaulted"] = "1"
    clean, quarantine = transform_pandas(frame, loan)
    assert clean.set_index("loan_id").loc[frame.loc[0, "loan_id"], "defaulted"] == 1
    assert clean.set_index("loan_id").loc[frame.loc[1, "loan_id"], "defaulted"] == 0
    assert quarantine[R.REASON_COLUMN].tolist() == [R.INVALID_LABEL]


def test_count_reasons_splits_combined_reasons() -> None:
    assert count_reasons({"a;b": 2, "b": 1}) == {"a": 2, "b": 3}


def test_etl_result_refuses_to_lose_rows() -> None:
    with pytest.raises(RuntimeError, match="lost rows"):
        EtlResult(engine="x", rows_in=10, rows_clean=5, rows_quarantined=4)


def test_pandas_run_writes_partitions_and_replaces_only_its_date(
    churn: Schema, churn_bad: GeneratedData, churn_bad_csv: Path, tmp_path: Path
) -> None:
    out, q = tmp_path / "curated", tmp_path / "quarantine"
    budget = {"max_quarantine_fraction": 0.2}  # 10 % injected bad rows
    first = run_etl_pandas(churn_bad_csv, out, q, churn, ingest_date="2024-01-01", **budget)
    again = run_etl_pandas(churn_bad_csv, out, q, churn, ingest_date="2024-01-01", **budget)
    run_etl_pandas(churn_bad_csv, out, q, churn, ingest_date="2024-01-02", **budget)
    assert first == again
    assert sorted(p.name for p in out.iterdir()) == [
        "ingest_date=2024-01-01",
        "ingest_date=2024-01-02",
    ]
    assert len(pd.read_parquet(out / "ingest_date=2024-01-01")) == first.rows_clean
    assert first.rows_in == 2000 == first.rows_clean + first.rows_quarantined
    assert first.rows_quarantined == len(churn_bad.injected)


def test_pandas_run_quarantines_malformed_lines(tmp_path: Path) -> None:
    csv = _write_tiny_csv(tmp_path / "tiny.csv")
    result = run_etl_pandas(
        csv,
        tmp_path / "c",
        tmp_path / "q",
        TINY,
        ingest_date="2024-01-01",
        max_quarantine_fraction=1,
    )
    assert result.rows_in == len(CASES) + 2
    assert result.rows_clean == 4
    assert result.reason_counts == _expected_reason_counts()
    quarantine = pd.read_parquet(tmp_path / "q").set_index("id")
    assert quarantine.loc["m1", R.EXTRA_FIELD_COLUMN] == "surplus"  # nothing is cut away silently
    assert quarantine.loc["m1", R.REASON_COLUMN] == R.MALFORMED_ROW


def test_pandas_run_fails_on_missing_input(churn: Schema, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no CSV"):
        run_etl_pandas(tmp_path / "nothing.csv", tmp_path / "o", tmp_path / "q", churn)


@pytest.mark.slow
def test_spark_run_keeps_every_row_and_matches_pandas(
    spark: SparkSession,
    churn: Schema,
    churn_bad: GeneratedData,
    churn_bad_csv: Path,
    tmp_path: Path,
) -> None:
    from pipeline_code.etl.transform import run_etl

    out, q = tmp_path / "curated", tmp_path / "quarantine"
    # An older partition must survive a run for another date (dynamic partition overwrite).
    old = out / "ingest_date=2023-12-31"
    old.mkdir(parents=True)
    shutil.copy(Path(__file__), old / "marker.txt")
    result = run_etl(
        spark,
        str(churn_bad_csv),
        str(out),
        str(q),
        churn,
        ingest_date="2024-01-01",
        max_quarantine_fraction=0.2,
    )

    assert result.rows_in == 2000
    assert result.rows_in == result.rows_clean + result.rows_quarantined
    injected = churn_bad.injected["reason"].value_counts().to_dict()
    assert result.reason_counts == dict(sorted(injected.items()))
    assert (old / "marker.txt").exists()
    assert list((out / "ingest_date=2024-01-01").glob("part-*.parquet"))

    spark_clean = pd.read_parquet(out / "ingest_date=2024-01-01").sort_values(churn.id_column)
    spark_q = pd.read_parquet(q)
    pd_out = tmp_path / "pd"
    run_etl_pandas(
        churn_bad_csv,
        pd_out / "c",
        pd_out / "q",
        churn,
        ingest_date="2024-01-01",
        max_quarantine_fraction=0.2,
    )
    pandas_clean = pd.read_parquet(pd_out / "c").sort_values(churn.id_column)
    pd.testing.assert_frame_equal(
        spark_clean.drop(columns="ingest_date", errors="ignore").reset_index(drop=True),
        pandas_clean.drop(columns="ingest_date", errors="ignore").reset_index(drop=True),
        check_dtype=False,
        check_categorical=False,
    )
    assert sorted(spark_q[R.REASON_COLUMN]) == sorted(churn_bad.injected["reason"])


def _glue_args(base: Path, csv: Path, schema: str) -> list[str]:
    return [
        "--input_path", str(csv),
        "--output_path", str(base / "curated"),
        "--quarantine_path", str(base / "quarantine"),
        "--schema_path", schema,
        "--ingest_date", "2024-02-01",
        "--max_quarantine_fraction", "1",
    ]  # fmt: skip


@pytest.mark.slow
def test_glue_entry_script_runs_locally_with_job_arguments(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline_code.etl import glue_job

    csv = _write_tiny_csv(tmp_path / "tiny.csv")
    schema_file = tmp_path / "tiny.json"
    schema_file.write_text(TINY.to_json(), encoding="utf-8")
    extra = ["--JOB_NAME", "x", "--code_version", "abc", "--extra", "1"]
    assert glue_job.main([*_glue_args(tmp_path, csv, str(schema_file)), *extra]) == 0
    report: dict[str, Any] = __import__("json").loads(capsys.readouterr().out)
    assert report["rows_in"] == len(CASES) + len(MALFORMED_LINES)
    assert report["rows_clean"] == 4
    assert report["reason_counts"] == _expected_reason_counts()
    assert report["code_version"] == "abc"
    assert (tmp_path / "curated" / "ingest_date=2024-02-01").is_dir()


def test_glue_entry_script_names_missing_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline_code.etl import glue_job

    with pytest.raises(SystemExit):
        glue_job.parse_args(["--input_path", "x"])
    assert "--output_path" in capsys.readouterr().err


def test_glue_job_accepts_builtin_schema_names(spark: SparkSession) -> None:
    from pipeline_code.etl.glue_job import load_schema

    assert load_schema(spark, "loan_default").name == "loan_default"


def _fake_awsglue(monkeypatch: pytest.MonkeyPatch, spark: Any, calls: list[Any]) -> None:
    """Stand-ins for the awsglue modules Glue provides, recording how the script uses them."""
    import types

    def get_resolved_options(argv: list[str], names: list[str]) -> dict[str, str]:
        calls.append(("getResolvedOptions", list(names)))
        pairs = dict(zip(argv[1::2], argv[2::2], strict=False))
        missing = [n for n in names if f"--{n}" not in pairs]
        if missing:  # the real function fails the same way on absent names
            raise SystemExit(f"missing {missing}")
        return {n: pairs[f"--{n}"] for n in names}

    class GlueContext:
        def __init__(self, sc: Any) -> None:
            self.spark_session = spark

    class Job:
        def __init__(self, ctx: GlueContext) -> None:
            pass

        def init(self, name: str, args: dict[str, Any]) -> None:
            calls.append(("init", name))

        def commit(self) -> None:
            calls.append(("commit",))

    modules = {
        "awsglue": types.ModuleType("awsglue"),
        "awsglue.utils": types.SimpleNamespace(getResolvedOptions=get_resolved_options),
        "awsglue.context": types.SimpleNamespace(GlueContext=GlueContext),
        "awsglue.job": types.SimpleNamespace(Job=Job),
    }
    for name, module in modules.items():
        monkeypatch.setitem(__import__("sys").modules, name, module)


@pytest.mark.slow
def test_glue_entry_script_uses_awsglue_when_present(
    spark: SparkSession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pipeline_code.etl import glue_job

    calls: list[Any] = []
    _fake_awsglue(monkeypatch, spark, calls)
    csv = _write_tiny_csv(tmp_path / "tiny.csv")
    schema_file = tmp_path / "tiny.json"
    schema_file.write_text(TINY.to_json(), encoding="utf-8")
    args = _glue_args(tmp_path, csv, str(schema_file))
    assert glue_job.main([*args, "--JOB_NAME", "etl-job"]) == 0
    assert calls[0] == (
        "getResolvedOptions",
        [*glue_job.REQUIRED_ARGS, "JOB_NAME", "ingest_date", "max_quarantine_fraction"],
    )
    assert calls[1:] == [("init", "etl-job"), ("commit",)]
    assert f'"rows_in": {len(CASES) + len(MALFORMED_LINES)}' in capsys.readouterr().out
