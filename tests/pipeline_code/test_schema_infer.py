"""``cdk-mlops infer-schema``: a draft schema from a CSV, written for review (issue 8, item 6)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from pipeline_code.data.generate import generate
from pipeline_code.etl.pandas_transform import run_etl_pandas
from pipeline_code.schema import Schema
from pipeline_code.schema_infer import (
    InferError,
    add_infer_schema_arguments,
    infer_schema,
    infer_schema_command,
)


def _write(tmp_path: Path, text: str, name: str = "data.csv", *, bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def _feature(draft: dict[str, object], name: str) -> dict[str, object]:
    features = draft["features"]
    assert isinstance(features, list)
    return next(f for f in features if f["name"] == name)


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_infer_schema_arguments(parser)
    return infer_schema_command(parser.parse_args(list(argv)))


@pytest.fixture(scope="module")
def churn_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("infer") / "churn.csv"
    generate(Schema.builtin("churn"), 600, seed=3).to_csv(out)
    return out


def test_a_generated_data_set_gets_the_types_ranges_and_roles_of_its_schema(
    churn_csv: Path, tmp_path: Path
) -> None:
    truth = Schema.builtin("churn")
    result = infer_schema(churn_csv, target="churned")
    draft = result.schema
    inferred = Schema.from_dict(draft)  # loadable as is
    assert inferred.id_column == truth.id_column
    assert inferred.timestamp_column == truth.timestamp_column
    assert (inferred.target.positive, inferred.target.negative) == ("1", "0")
    assert draft["description"].startswith("INFERRED by cdk-mlops infer-schema from churn.csv")
    by_name = {c.name: c for c in inferred.features}
    # the sensitive attributes of the truth are plain columns in the file: features here
    for spec in truth.typed_columns:
        got = by_name[spec.name]
        assert got.type == spec.type, spec.name
        if spec.is_numeric:
            assert got.min is not None and got.max is not None
            assert spec.min is not None and spec.max is not None
            assert spec.min <= got.min <= got.max <= spec.max, spec.name
        elif spec.type == "categorical":
            assert set(got.categories) <= set(spec.categories), spec.name
        assert got.nullable == (spec.name == "total_charges"), spec.name
        assert "observed in 600 rows" in got.description
    assert any("gender" in note and "sensitive_attributes" in note for note in result.notes)

    # the draft runs through the ETL without quarantining anything
    result_etl = run_etl_pandas(
        churn_csv, tmp_path / "clean", tmp_path / "quarantine", inferred, ingest_date="2026-01-01"
    )
    assert result_etl.rows_quarantined == 0
    assert result_etl.rows_clean == 600


def test_id_and_target_are_guessed_and_the_guesses_are_named(churn_csv: Path) -> None:
    result = infer_schema(churn_csv)
    assert result.schema["id_column"] == "customer_id"
    assert result.schema["target"]["name"] == "churned"
    assert any("id column guessed as 'customer_id'" in n for n in result.notes)
    # paperless_billing/senior_citizen also have two values; the label's name decides
    assert any("target guessed as 'churned'" in n and "--target" in n for n in result.notes)


def test_bom_semicolons_decimal_commas_and_placeholders_are_read_and_reported(
    tmp_path: Path,
) -> None:
    rows = "\n".join(f"{i};{20 + i % 50};{i % 7},5;{'yes' if i % 3 else 'no'}" for i in range(60))
    path = _write(
        tmp_path, "row_id;age;income;outcome\n" + rows + "\n60;33;NA;no\n", "semi.csv", bom=True
    )
    result = infer_schema(path)
    draft = result.schema
    assert draft["id_column"] == "row_id"  # the BOM is not part of the first header
    assert draft["target"] == {"name": "outcome", "positive": "yes", "negative": "no"}
    income = _feature(draft, "income")
    assert income["type"] == "float" and income["min"] == 0.5 and income["max"] == 6.5
    assert income["nullable"] is True
    notes = "\n".join(result.notes)
    assert "separated by semicolons" in notes and "re-save it as CSV with commas" in notes
    assert "'income' uses a decimal comma (e.g. '0,5')" in notes
    assert "holds ['NA'] in 1 row (line 62)" in notes and "invalid_type" in notes


def test_thousands_separators_follow_the_etl_rules(tmp_path: Path) -> None:
    lines = ["id,amount,ambiguous,label"]
    for i in range(40):
        lines.append(f'{i},"{1 + i},{i % 10}00.5",{i * 10},{i % 2}')
    lines.append('40,"2,000.0","1,001",0')  # "1,001" alone: thousands or decimal comma?
    result = infer_schema(_write(tmp_path, "\n".join(lines) + "\n"))
    amount = _feature(result.schema, "amount")
    assert amount["type"] == "float"
    assert amount["min"] == 1000.5 and amount["max"] == 40900.5
    ambiguous = _feature(result.schema, "ambiguous")
    assert ambiguous["type"] == "integer" and ambiguous.get("nullable") is True
    note = next(n for n in result.notes if "'ambiguous'" in n)
    assert "['1,001']" in note and "line 42" in note and "write 1001 or 1.001" in note


def test_numeric_codes_and_categories(tmp_path: Path) -> None:
    lines = ["id,answer,colour,flag,y"]
    for i in range(60):
        code = ["1", "2.0", "3"][i % 3]
        lines.append(
            f"{i},{code},{['Red', 'red', 'blue'][i % 3]},{'Yes' if i % 2 else 'no'},{i % 2}"
        )
    result = infer_schema(_write(tmp_path, "\n".join(lines) + "\n"), target="y")
    answer = _feature(result.schema, "answer")
    assert answer["type"] == "integer"
    assert 'use "type": "categorical", "categories": [1, 2, 3]' in str(answer["description"])
    colour = _feature(result.schema, "colour")
    assert colour == {**colour, "type": "categorical", "categories": ["Red", "blue", "red"]}
    assert any("differ only in case [['Red', 'red']]" in n for n in result.notes)
    assert _feature(result.schema, "flag")["type"] == "boolean"


def test_the_rarer_value_is_the_positive_class_when_nothing_says_otherwise(
    tmp_path: Path,
) -> None:
    lines = ["id,x,diagnosis"] + [f"{i},{i},{'M' if i % 4 == 0 else 'B'}" for i in range(40)]
    result = infer_schema(_write(tmp_path, "\n".join(lines) + "\n"))
    assert result.schema["target"] == {"name": "diagnosis", "positive": "M", "negative": "B"}
    assert any("target.positive guessed as the less frequent value 'M'" in n for n in result.notes)


def test_free_text_and_unusable_names_are_left_out_with_a_note(tmp_path: Path) -> None:
    lines = ["id,comment,monthly charges,x,y"] + [
        f"{i},text {i},{i},{i % 5},{i % 2}" for i in range(50)
    ]
    result = infer_schema(_write(tmp_path, "\n".join(lines) + "\n"), target="y")
    assert [f["name"] for f in result.schema["features"]] == ["x"]
    notes = "\n".join(result.notes)
    assert "'comment' has 50 distinct text values" in notes and "--max-categories" in notes
    assert "'monthly charges' is not a valid schema name" in notes and "'monthly_charges'" in notes


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        ("", {}, "is empty (no header row, no data)"),
        ("\n\n", {}, "is empty (no header row, no data)"),
        ("id,x,y\n", {}, "has a header row but no data rows"),
        ("id\n1\n2\n", {}, "reads as a single column 'id'"),
        ("id,x,x\n1,2,3\n", {}, "the header names ['x'] more than once"),
        ("id,x,y\n1,2,0\n2,3,1\n", {"target": "label"}, "--target 'label' is not a column"),
        ("id,x,y\n1,2,0\n2,3,1\n", {"id_column": "key"}, "--id 'key' is not a column"),
        (
            "id,x,y\n1,2,a\n2,3,b\n3,4,c\n",
            {"target": "y"},
            "target 'y' has 3 distinct values ['a', 'b', 'c']",
        ),
        ("id,x,y\n1,2,a\n2,3,b\n3,4,c\n", {}, "no column has exactly two values"),
        ("x,y\n1,0\n1,1\n1,0\n", {}, "no column has a distinct value on every row"),
        ("id,y\n1,0\n2,1\n", {"target": "y"}, "can be a feature; a model needs at least one"),
    ],
)
def test_bad_inputs_get_a_message_naming_the_file_the_problem_and_the_fix(
    tmp_path: Path, text: str, args: dict[str, str], message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InferError) as info:
        infer_schema(path, **args)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_missing_file_or_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InferError, match="does not exist; pass the path of a CSV file"):
        infer_schema(tmp_path / "nope.csv")
    with pytest.raises(InferError, match="is a folder; pass the path of one CSV file"):
        infer_schema(tmp_path)


def test_undecodable_bytes_and_long_lines_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "bytes.csv"
    body = "".join(f"{i},{i % 9},{i % 2}\n" for i in range(30)).encode()
    path.write_bytes(b"id,x,y\n" + body + b"30,\xff,1\n31,1,0,extra\n")
    result = infer_schema(path, target="y")
    notes = "\n".join(result.notes)
    assert "not UTF-8 (first: line 32)" in notes and "invalid_encoding" in notes
    assert "more fields than the header (first: line 33)" in notes and "malformed_row" in notes


def test_the_command_writes_the_draft_and_refuses_to_overwrite(
    churn_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "schema.json"
    assert _run(str(churn_csv), "--target", "churned", "--output", str(out)) == 0
    err = capsys.readouterr().err
    assert "wrote a DRAFT schema" in err and "review it before use" in err
    assert "  review: id column guessed as 'customer_id'" in err
    Schema.from_file(out)
    assert json.loads(out.read_text())["name"] == "churn"
    assert _run(str(churn_csv), "--output", str(out)) == 1
    assert "exists; pass --force to overwrite it" in capsys.readouterr().err
    assert _run(str(churn_csv), "--output", str(out), "--force", "--name", "mine") == 0
    assert json.loads(out.read_text())["name"] == "mine"
    assert _run(str(tmp_path / "missing.csv")) == 1
    assert capsys.readouterr().err.startswith("cdk-mlops infer-schema: ")
    assert _run(str(churn_csv), "--max-categories", "0") == 1
    assert "--max-categories must be at least 1, got 0" in capsys.readouterr().err


def test_stdout_holds_only_the_json(churn_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(str(churn_csv)) == 0
    Schema.from_dict(json.loads(capsys.readouterr().out))
