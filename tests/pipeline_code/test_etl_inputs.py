"""Real-world input files, the quarantine budget and the class-mix warning, on both engines.

``CASES`` is one table of (name, file bytes, schema, expected outcome); every case runs
through the pandas ETL and the Spark ETL (as on Glue) from a file on disk, and both must give
exactly the expected outcome: the same error, or the same clean rows and the same quarantined
lines with the same reasons.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest

from pipeline_code.etl import reasons as R
from pipeline_code.etl.common import (
    EmptyInputError,
    EtlResult,
    InputFormatError,
    MissingColumnsError,
    QuarantineBudgetExceeded,
    WrongDelimiterError,
)
from pipeline_code.etl.pandas_transform import run_etl_pandas
from pipeline_code.schema import Schema

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SCHEMA = Schema.from_dict(
    {
        "name": "inputs",
        "id_column": "id",
        "target": {"name": "label", "positive": 1, "negative": 0},
        "features": [
            {"name": "amount", "type": "float", "min": 0},
            {"name": "code", "type": "categorical", "categories": [1, 2, 3]},
            {"name": "plan", "type": "categorical", "categories": ["basic", "pro"]},
        ],
    }
)
HEADER = b"id,amount,code,plan,label\n"
ROW_A = b"a,1.5,1,basic,0\n"
ROW_B = b"b,2,2,pro,1\n"


@dataclass(frozen=True)
class Case:
    """One input file and the outcome both engines must give.

    ``clean`` maps each clean id to the clean values checked; ``quarantined`` lists
    (line number, reason) of every quarantined row; ``error`` is (exception type, message regex).
    """

    name: str
    data: bytes
    schema: Schema = SCHEMA
    clean: dict[str, dict[str, Any]] = field(default_factory=dict)
    quarantined: tuple[tuple[int, str], ...] = ()
    error: tuple[type[Exception], str] | None = None


_AB: dict[str, dict[str, Any]] = {
    "a": {"amount": 1.5, "code": "1", "plan": "basic", "label": 0},
    "b": {"label": 1},
}

CASES: list[Case] = [
    Case("plain", HEADER + ROW_A + ROW_B, clean=_AB),
    Case("utf8_bom_on_header", b"\xef\xbb\xbf" + HEADER + ROW_A + ROW_B, clean=_AB),
    Case(
        "non_utf8_byte_quarantines_its_row",
        HEADER + ROW_A + b"c,3,3,caf\xe9,1\n" + ROW_B,
        clean=_AB,
        quarantined=((3, "invalid_encoding:plan"),),
    ),
    Case(
        "non_utf8_byte_in_a_number",
        HEADER + b"c,1\xff5,3,pro,1\n" + ROW_A,
        clean={"a": {}},
        quarantined=((2, "invalid_encoding:amount"),),
    ),
    Case("empty_file", b"", error=(EmptyInputError, r"is empty \(no header row, no data\)")),
    Case("only_blank_lines", b"\n \r\n\n", error=(EmptyInputError, r"is empty")),
    Case("header_only", HEADER, error=(EmptyInputError, r"has a header row but no data rows")),
    Case(
        "header_and_blank_lines_only",
        HEADER.replace(b"\n", b"\r\n") + b"\r\n  \r\n",
        error=(EmptyInputError, r"has a header row but no data rows"),
    ),
    Case(
        "semicolon_separated",
        b"id;amount;code;plan;label\na;1.5;1;basic;0\n",
        error=(WrongDelimiterError, r"looks separated by semicolons \(';'\), not commas"),
    ),
    Case(
        "tab_separated",
        b"id\tamount\tcode\tplan\tlabel\na\t1.5\t1\tbasic\t0\n",
        error=(WrongDelimiterError, r"looks separated by tabs"),
    ),
    Case(
        "wrong_header",
        b"id,amount,code,plan\na,1.5,1,basic\n",
        error=(MissingColumnsError, r"missing columns \['label'\].*found \['id', 'amount'"),
    ),
    Case("crlf_line_endings", (HEADER + ROW_A + ROW_B).replace(b"\n", b"\r\n"), clean=_AB),
    Case("cr_line_endings", (HEADER + ROW_A + ROW_B).replace(b"\n", b"\r"), clean=_AB),
    Case("no_final_line_break", HEADER + ROW_A + ROW_B.rstrip(b"\n"), clean=_AB),
    Case("trailing_blank_lines", HEADER + ROW_A + ROW_B + b"\n\n  \n\r\n", clean=_AB),
    Case(
        "blank_lines_keep_line_numbers",
        HEADER + b"\n" + ROW_A + b"\n\n" + b"c,-1,1,basic,0\n",
        clean={"a": {}},
        quarantined=((6, "out_of_range:amount"),),
    ),
    Case(
        "quoted_fields_with_commas_and_quotes",
        HEADER
        + b'"a","1,234.5","1","basic","0"\n'
        + b'b,2,2,"pro, annual",1\n'
        + b'c,2,2,"ba""sic",1\n',
        clean={"a": {"amount": 1234.5, "code": "1", "plan": "basic"}},
        quarantined=((3, "unknown_category:plan"), (4, "unknown_category:plan")),
    ),
    Case(
        "numeric_codes_written_1_1_0_and_quoted",
        HEADER
        + b'a,1,1,basic,0\nb,1,1.0,basic,1\nc,1,"1",basic,0\nd,1, 2.00 ,pro,1\n'
        + b"e,1,3e0,pro,0\nf,1,4,pro,0\ng,1,1.5,pro,0\nh,1,one,pro,0\n",
        clean={
            "a": {"code": "1"},
            "b": {"code": "1"},
            "c": {"code": "1"},
            "d": {"code": "2"},
            "e": {"code": "3"},
        },
        quarantined=(
            (7, "unknown_category:code"),
            (8, "unknown_category:code"),
            (9, "unknown_category:code"),
        ),
    ),
    Case(
        "thousands_separators",
        HEADER
        + b'a,"1,001.0",1,basic,0\nb,"1,234,567",1,basic,1\nc,"-1,001.5",1,basic,0\n'
        + b'd,"1,001",1,basic,0\ne,"12,5",1,basic,0\nf,"1,0001.0",1,basic,0\n'
        + b'g,"1,001.0e3",1,basic,0\n',
        clean={"a": {"amount": 1001.0}, "b": {"amount": 1234567.0}},
        quarantined=(
            (4, "out_of_range:amount"),
            (5, "invalid_type:amount"),
            (6, "invalid_type:amount"),
            (7, "invalid_type:amount"),
            (8, "invalid_type:amount"),
        ),
    ),
    Case(
        "surrounding_whitespace",
        b" id , amount ,code,plan , label\n  a  , 1.5 ,\t1 , basic\t,0 \n",
        clean={"a": {"amount": 1.5, "code": "1", "plan": "basic", "label": 0}},
    ),
    Case(
        "too_many_and_too_few_fields",
        HEADER + ROW_A + b"b,2,2,pro,1,surplus\nc,2\n",
        clean={"a": {}},
        quarantined=(
            (3, R.MALFORMED_ROW),
            (4, "missing_value:code;missing_value:plan;missing_label"),
        ),
    ),
]


def _write(tmp_path: Path, case: Case) -> Path:
    path = tmp_path / f"{case.name}.csv"
    path.write_bytes(case.data)
    return path


def _run(
    engine: str, request: pytest.FixtureRequest, csv: Path, schema: Schema, **kwargs: Any
) -> EtlResult:
    out, q = csv.parent / "curated", csv.parent / "quarantine"
    if engine == "pandas":
        return run_etl_pandas(csv, out, q, schema, ingest_date="2024-01-01", **kwargs)
    spark: SparkSession = request.getfixturevalue("spark")
    from pipeline_code.etl.transform import run_etl

    return run_etl(spark, str(csv), str(out), str(q), schema, ingest_date="2024-01-01", **kwargs)


def _outputs(csv: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    clean_dir, q_dir = csv.parent / "curated", csv.parent / "quarantine"
    clean = pd.read_parquet(clean_dir) if clean_dir.exists() else pd.DataFrame()
    return clean, pd.read_parquet(q_dir)


@pytest.mark.parametrize("engine", ["pandas", "spark"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_both_engines_give_the_expected_outcome(
    case: Case, engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    csv = _write(tmp_path, case)
    if case.error is not None:
        kind, pattern = case.error
        with pytest.raises(kind, match=pattern) as info:
            _run(engine, request, csv, case.schema, max_quarantine_fraction=1.0)
        assert str(csv) in str(info.value)  # the message names the input
        assert "__extra_field" not in str(info.value)
        return
    result = _run(engine, request, csv, case.schema, max_quarantine_fraction=1.0)
    clean, quarantine = _outputs(csv)
    assert result.rows_in == len(case.clean) + len(case.quarantined)
    assert result.rows_in == result.rows_clean + result.rows_quarantined
    got_clean = {row["id"]: row for row in clean.to_dict("records")}
    assert sorted(got_clean) == sorted(case.clean)
    for ident, expected in case.clean.items():
        assert {k: got_clean[ident][k] for k in expected} == expected, ident
    got_q = (  # Spark writes no Parquet file for an empty quarantine
        sorted(
            zip(
                quarantine[R.SOURCE_LINE_COLUMN].astype(int),
                quarantine[R.REASON_COLUMN],
                strict=True,
            )
        )
        if len(quarantine)
        else []
    )
    assert got_q == sorted(case.quarantined)
    if case.quarantined:
        assert set(quarantine[R.SOURCE_FILE_COLUMN]) == {csv.resolve().as_uri()}
        first_line, first_reason = min(case.quarantined)
        example = result.reason_examples[R.split_reasons(first_reason)[0]]
        assert example["line"] == first_line


def test_the_table_covers_every_malformed_input_of_the_issue() -> None:
    names = {c.name for c in CASES}
    assert {
        "utf8_bom_on_header",
        "non_utf8_byte_quarantines_its_row",
        "empty_file",
        "header_only",
        "semicolon_separated",
        "crlf_line_endings",
        "trailing_blank_lines",
        "quoted_fields_with_commas_and_quotes",
        "numeric_codes_written_1_1_0_and_quoted",
        "thousands_separators",
        "surrounding_whitespace",
    } <= names


def test_files_of_one_input_must_share_one_header(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_bytes(HEADER + ROW_A)
    (tmp_path / "in" / "b.csv").write_bytes(b"id,amount,code,label,plan\n" + ROW_B)
    with pytest.raises(InputFormatError, match="must share one header"):
        run_etl_pandas(tmp_path / "in", tmp_path / "c", tmp_path / "q", SCHEMA)


# ------------------------------------------------------------------ quarantine budget
def _rows(n: int, *, positive_every: int = 3) -> list[bytes]:
    return [
        f"r{i},{i}.5,{1 + i % 3},basic,{1 if i % positive_every == 0 else 0}\n".encode()
        for i in range(n)
    ]


def _budget_file(tmp_path: Path, bad: int, good: int = 100) -> Path:
    """``good`` valid rows, then ``bad`` rows with an empty (non-nullable) amount."""
    lines = _rows(good) + [f"m{i},,1,pro,0\n".encode() for i in range(bad)]
    path = tmp_path / "budget.csv"
    path.write_bytes(HEADER + b"".join(lines))
    return path


@pytest.mark.parametrize("engine", ["pandas", "spark"])
def test_fails_when_quarantine_exceeds_the_budget_naming_reasons_and_fix(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    csv = _budget_file(tmp_path, bad=50)
    with pytest.raises(QuarantineBudgetExceeded) as info:
        _run(engine, request, csv, SCHEMA)  # the default budget, 5 %
    message = str(info.value)
    assert "quarantined 50 of 150 rows (33.3%), more than the budget of 5.0%" in message
    assert "missing_value:amount: 50 rows, e.g. a missing value in column 'amount'" in message
    assert "(line 102 of file://" in message  # the first bad row: header + 100 good rows + 1
    assert '"nullable": true' in message
    assert "--max-quarantine-fraction" in message
    assert info.value.result.rows_quarantined == 50
    # the quarantine is written for inspection, the clean output is not
    assert len(pd.read_parquet(tmp_path / "quarantine")) == 50
    assert not (tmp_path / "curated").exists()


@pytest.mark.parametrize("engine", ["pandas", "spark"])
def test_budget_is_a_parameter(engine: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    csv = _budget_file(tmp_path, bad=4)  # 4 of 104: within the default 5 %
    assert _run(engine, request, csv, SCHEMA).rows_quarantined == 4
    with pytest.raises(QuarantineBudgetExceeded, match=r"budget of 1\.0%"):
        _run(engine, request, csv, SCHEMA, max_quarantine_fraction=0.01)


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan")])
def test_fails_when_the_budget_is_not_a_fraction(value: float, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_quarantine_fraction must be a fraction"):
        run_etl_pandas(
            _budget_file(tmp_path, 1), tmp_path / "c", tmp_path / "q", SCHEMA,
            max_quarantine_fraction=value,
        )  # fmt: skip


def test_budget_error_explains_thousands_and_codes(tmp_path: Path) -> None:
    """The issue's two 100 % failures now pass; an ambiguous '1,001' is explained."""
    lines = [f'r{i},"{i + 1},{i % 1000:03d}",{1 + i % 3}.0,basic,0\n'.encode() for i in range(40)]
    csv = tmp_path / "amb.csv"
    csv.write_bytes(HEADER + b"".join(lines))
    with pytest.raises(QuarantineBudgetExceeded) as info:
        run_etl_pandas(csv, tmp_path / "c", tmp_path / "q", SCHEMA)
    message = str(info.value)
    assert "invalid_type:amount: 40 rows, e.g. '1,000'" in message
    assert "ambiguous" in message and "1,234.5" in message
    assert "unknown_category" not in message  # codes written 1.0 match the schema's 1


# ------------------------------------------------------------------ class-mix warning
def _biased_file(tmp_path: Path) -> Path:
    """200 clean rows (1 in 3 positive) and 8 quarantined rows, all positive: a biased sample."""
    bad = [f"x{i},abc,1,pro,1\n".encode() for i in range(8)]
    path = tmp_path / "biased.csv"
    path.write_bytes(HEADER + b"".join(_rows(200)) + b"".join(bad))
    return path


@pytest.mark.parametrize("engine", ["pandas", "spark"])
def test_warns_when_quarantined_class_mix_differs(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="pipeline_code.etl"):
        result = _run(engine, request, _biased_file(tmp_path), SCHEMA)
    assert result.rows_quarantined == 8
    assert len(result.warnings) == 1
    warning = result.warnings[0]
    assert "biased quarantine: 100% of the 8 quarantined rows with a label are positive" in warning
    assert "against 34% of the 200 clean rows" in warning
    assert warning in caplog.text
    report = json.loads(result.to_json())
    assert report["warnings"] == [warning]
    assert report["class_mix"]["quarantined_positive"] == 8
    assert report["class_mix"]["clean_positive"] == 67


def test_no_class_mix_warning_for_an_unbiased_or_unlabelled_quarantine(tmp_path: Path) -> None:
    same_mix = [f"x{i},abc,1,pro,{1 if i % 3 == 0 else 0}\n".encode() for i in range(9)]
    unlabelled = [f"y{i},1,1,pro,\n".encode() for i in range(5)]
    csv = tmp_path / "fair.csv"
    csv.write_bytes(HEADER + b"".join(_rows(200)) + b"".join(same_mix + unlabelled))
    result = run_etl_pandas(
        csv, tmp_path / "c", tmp_path / "q", SCHEMA, max_quarantine_fraction=0.1
    )
    assert result.rows_quarantined == 14
    assert result.warnings == []
    assert result.class_mix["quarantined_labelled_rows"] == 9


# ------------------------------------------------------------------ the flags
def test_glue_job_takes_the_budget_flag_in_either_spelling(
    spark: SparkSession, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline_code.etl import glue_job

    csv = _budget_file(tmp_path, bad=4)
    schema_file = tmp_path / "inputs.json"
    schema_file.write_text(SCHEMA.to_json(), encoding="utf-8")
    args = [
        "--input_path", str(csv),
        "--output_path", str(tmp_path / "curated"),
        "--quarantine_path", str(tmp_path / "quarantine"),
        "--schema_path", str(schema_file),
    ]  # fmt: skip
    assert glue_job.parse_args(args)["max_quarantine_fraction"] is None
    assert (
        glue_job.parse_args([*args, "--max_quarantine_fraction", "0.2"])["max_quarantine_fraction"]
        == "0.2"
    )
    with pytest.raises(QuarantineBudgetExceeded, match="missing_value:amount"):
        glue_job.main([*args, "--max-quarantine-fraction", "0.01"])
    report = json.loads(capsys.readouterr().out)  # the report is printed before the failure
    assert report["rows_quarantined"] == 4 and report["max_quarantine_fraction"] == 0.01
    with pytest.raises(ValueError, match="--max_quarantine_fraction must be a fraction"):
        glue_job.main([*args, "--max_quarantine_fraction", "lots"])


def test_glue_job_asks_awsglue_for_the_budget_only_when_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys
    import types

    from pipeline_code.etl import glue_job

    asked: list[list[str]] = []

    def get_resolved_options(argv: list[str], names: list[str]) -> dict[str, str]:
        asked.append(list(names))
        pairs = dict(zip(argv[1::2], argv[2::2], strict=False))
        # awsglue parses with argparse: "--max-quarantine-fraction" comes back snake_case
        return {n.replace("-", "_"): pairs[f"--{n}"] for n in names}

    monkeypatch.setitem(
        sys.modules, "awsglue.utils", types.SimpleNamespace(getResolvedOptions=get_resolved_options)
    )
    monkeypatch.setitem(sys.modules, "awsglue", types.ModuleType("awsglue"))
    base = ["--input_path", "i", "--output_path", "o", "--quarantine_path", "q"]
    base += ["--schema_path", "s", "--JOB_NAME", "j"]
    assert glue_job.parse_args(base)["max_quarantine_fraction"] is None
    assert "max_quarantine_fraction" not in asked[-1]
    got = glue_job.parse_args([*base, "--max-quarantine-fraction", "0.3"])
    assert got["max_quarantine_fraction"] == "0.3"
    assert asked[-1][-1] == "max-quarantine-fraction"


def test_run_local_takes_the_budget_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline_code.cli import main

    csv = _budget_file(tmp_path, bad=4)
    schema_file = tmp_path / "inputs.json"
    schema_file.write_text(SCHEMA.to_json(), encoding="utf-8")
    args = ["run-local", "--data", str(csv), "--schema", str(schema_file), "--skip-spark"]
    args += ["--output", str(tmp_path / "run"), "--max-quarantine-fraction", "0.01"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "quarantined 4 of 104 rows" in err and "budget of 1.0%" in err
    assert '"nullable": true' in err
