"""Monitoring baseline: statistics.json and constraints.json in Model Monitor's formats."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import pytest

from pipeline_code.monitoring import baseline as B
from pipeline_code.monitoring import formats
from pipeline_code.schema import Schema

from .conftest_serving import *  # noqa: F403 - the serving fixtures
from .conftest_serving import synthetic_features

# Model Monitor's documented layouts ("Schema for Statistics", "Schema for Constraints").
_COMMON = {
    "type": "object",
    "required": ["num_present", "num_missing"],
    "properties": {
        "num_present": {"type": "integer", "minimum": 0},
        "num_missing": {"type": "integer", "minimum": 0},
    },
}
STATISTICS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "dataset", "features"],
    "properties": {
        "version": {"type": "number"},
        "dataset": {
            "type": "object",
            "required": ["item_count"],
            "properties": {"item_count": {"type": "integer"}},
        },
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "inferred_type"],
                "properties": {
                    "name": {"type": "string"},
                    "inferred_type": {"enum": ["Integral", "Fractional", "String"]},
                    "numerical_statistics": {
                        "type": "object",
                        "required": [
                            "common",
                            "mean",
                            "sum",
                            "std_dev",
                            "min",
                            "max",
                            "distribution",
                        ],
                        "properties": {
                            "common": _COMMON,
                            "distribution": {
                                "type": "object",
                                "required": ["kll"],
                                "properties": {
                                    "kll": {
                                        "type": "object",
                                        "required": ["buckets", "sketch"],
                                        "properties": {
                                            "buckets": {
                                                "type": "array",
                                                "items": {
                                                    "type": "object",
                                                    "required": [
                                                        "lower_bound",
                                                        "upper_bound",
                                                        "count",
                                                    ],
                                                },
                                            },
                                            "sketch": {
                                                "type": "object",
                                                "required": ["parameters", "data"],
                                                "properties": {
                                                    "parameters": {
                                                        "type": "object",
                                                        "required": ["c", "k"],
                                                    },
                                                    "data": {
                                                        "type": "array",
                                                        "items": {
                                                            "type": "array",
                                                            "items": {"type": "number"},
                                                        },
                                                    },
                                                },
                                            },
                                        },
                                    }
                                },
                            },
                        },
                    },
                    "string_statistics": {
                        "type": "object",
                        "required": ["common", "distinct_count", "distribution"],
                        "properties": {
                            "common": _COMMON,
                            "distribution": {
                                "type": "object",
                                "required": ["categorical"],
                                "properties": {
                                    "categorical": {
                                        "type": "object",
                                        "required": ["buckets"],
                                        "properties": {
                                            "buckets": {
                                                "type": "array",
                                                "items": {
                                                    "type": "object",
                                                    "required": ["value", "count"],
                                                },
                                            }
                                        },
                                    }
                                },
                            },
                        },
                    },
                },
                "oneOf": [
                    {"required": ["numerical_statistics"]},
                    {"required": ["string_statistics"]},
                ],
            },
        },
    },
}
CONSTRAINTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "features", "monitoring_config"],
    "properties": {
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "inferred_type", "completeness"],
                "properties": {
                    "completeness": {"type": "number", "minimum": 0, "maximum": 1},
                    "num_constraints": {"type": "object", "required": ["is_non_negative"]},
                    "string_constraints": {
                        "type": "object",
                        "required": ["domains"],
                        "properties": {"domains": {"type": "array", "items": {"type": "string"}}},
                    },
                },
            },
        },
        "monitoring_config": {
            "type": "object",
            "required": [
                "evaluate_constraints",
                "emit_metrics",
                "datatype_check_threshold",
                "domain_content_threshold",
                "distribution_constraints",
            ],
            "properties": {
                "evaluate_constraints": {"enum": ["Enabled", "Disabled"]},
                "emit_metrics": {"enum": ["Enabled", "Disabled"]},
                "distribution_constraints": {
                    "type": "object",
                    "required": ["perform_comparison", "comparison_threshold", "comparison_method"],
                    "properties": {
                        "comparison_method": {"enum": ["Robust", "Simple"]},
                        "categorical_drift_method": {"enum": ["LInfinity", "ChiSquared"]},
                    },
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def baseline_frame(churn_schema: Schema) -> pd.DataFrame:
    df = synthetic_features(churn_schema, 3000, seed=21)
    # the clean ETL output also carries the id, target and sensitive columns: ignored here
    df.insert(0, "customer_id", np.arange(len(df)))
    df["gender"] = "female"
    df["churned"] = 0
    return df


@pytest.fixture(scope="module")
def baseline_result(
    tmp_path_factory: pytest.TempPathFactory, baseline_frame: pd.DataFrame, churn_schema: Schema
) -> dict[str, Any]:
    return B.run_baseline(baseline_frame, churn_schema, tmp_path_factory.mktemp("baseline"))


def test_files_follow_model_monitor_formats(baseline_result: dict[str, Any]) -> None:
    stats = json.loads(Path(baseline_result["statistics_path"]).read_text())
    cons = json.loads(Path(baseline_result["constraints_path"]).read_text())
    jsonschema.validate(stats, STATISTICS_SCHEMA)
    jsonschema.validate(cons, CONSTRAINTS_SCHEMA)
    assert stats == baseline_result["statistics"] and cons == baseline_result["constraints"]
    assert Schema.from_file(baseline_result["schema_path"]).name == "customer_churn"


def test_statistics_content(
    baseline_result: dict[str, Any], baseline_frame: pd.DataFrame, churn_schema: Schema
) -> None:
    stats = baseline_result["statistics"]
    assert stats["dataset"]["item_count"] == len(baseline_frame) == baseline_result["item_count"]
    by_name = {f["name"]: f for f in stats["features"]}
    assert list(by_name) == churn_schema.feature_names  # features only, in schema order
    tenure = by_name["tenure_months"]
    assert tenure["inferred_type"] == "Integral"
    ns = tenure["numerical_statistics"]
    col = baseline_frame["tenure_months"]
    assert ns["common"] == {"num_present": len(col), "num_missing": 0}
    assert ns["mean"] == pytest.approx(col.mean()) and ns["std_dev"] == pytest.approx(
        col.std(ddof=0)
    )
    assert (ns["min"], ns["max"], ns["sum"]) == (col.min(), col.max(), pytest.approx(col.sum()))
    kll = ns["distribution"]["kll"]
    assert len(kll["buckets"]) == 10 and sum(b["count"] for b in kll["buckets"]) == len(col)
    data = kll["sketch"]["data"]
    assert len(data) == 1 and len(data[0]) == 1025 and data[0] == sorted(data[0])
    assert data[0][0] == col.min() and data[0][-1] == col.max()

    total = by_name["total_charges"]["numerical_statistics"]["common"]
    assert total["num_missing"] == int(baseline_frame["total_charges"].isna().sum()) > 0
    assert by_name["monthly_charges"]["inferred_type"] == "Fractional"

    region = by_name["region"]
    assert region["inferred_type"] == "String"
    ss = region["string_statistics"]
    counts = {b["value"]: b["count"] for b in ss["distribution"]["categorical"]["buckets"]}
    assert counts == baseline_frame["region"].value_counts().to_dict()
    assert ss["distinct_count"] == 4


def test_constraints_content(baseline_result: dict[str, Any], baseline_frame: pd.DataFrame) -> None:
    cons = {f["name"]: f for f in baseline_result["constraints"]["features"]}
    assert cons["tenure_months"]["completeness"] == 1.0
    assert cons["total_charges"]["completeness"] == pytest.approx(
        baseline_frame["total_charges"].notna().mean()
    )
    # the schema range is kept (issue 8 item 8); it used to be is_non_negative only
    assert cons["monthly_charges"]["num_constraints"] == {
        "is_non_negative": True,
        "min": 0.0,
        "max": 300.0,
    }
    assert cons["paperless_billing"]["string_constraints"]["domains"] == ["false", "true"]
    assert cons["contract_type"]["string_constraints"]["domains"] == [
        "month-to-month",
        "one-year",
        "two-year",
    ]
    cfg = baseline_result["constraints"]["monitoring_config"]
    assert cfg["distribution_constraints"]["comparison_threshold"] == formats.DEFAULT_THRESHOLD


def test_boolean_columns_from_bool_dtype(churn_schema: Schema) -> None:
    df = synthetic_features(churn_schema, 50, seed=1)
    df["paperless_billing"] = df["paperless_billing"] == "true"
    stats, _ = B.build_baseline(df, churn_schema)
    pb = next(f for f in stats["features"] if f["name"] == "paperless_billing")
    values = {b["value"] for b in pb["string_statistics"]["distribution"]["categorical"]["buckets"]}
    assert values <= {"true", "false"}


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda df: df.drop(columns=["region"]), r"lacks feature columns \['region'\]"),
        (lambda df: df.iloc[:0], "no rows"),
        (
            lambda df: df.assign(tenure_months=["x"] + [1] * (len(df) - 1)),
            r"'tenure_months' \(integer\) has 1 non-numeric values, e.g. 'x'",
        ),
        (lambda df: df.assign(tenure_months=1.5), "non-integer"),
        (lambda df: df.assign(region="mars"), r"outside the schema categories.*'mars'"),
    ],
)
def test_bad_baseline_data_is_refused(churn_schema: Schema, mutate: Any, match: str) -> None:
    df = synthetic_features(churn_schema, 30, seed=2)
    with pytest.raises(ValueError, match=match):
        B.build_baseline(mutate(df), churn_schema)


def test_sketch_size_must_be_sensible(churn_schema: Schema) -> None:
    with pytest.raises(ValueError, match="sketch_size"):
        B.build_baseline(synthetic_features(churn_schema, 10), churn_schema, sketch_size=1)


def test_main_reads_csv_folders_and_parquet(tmp_path: Path, churn_schema: Schema) -> None:
    df = synthetic_features(churn_schema, 200, seed=3)
    (tmp_path / "in").mkdir()
    df.iloc[:100].to_csv(tmp_path / "in" / "part-0.csv", index=False)
    df.iloc[100:].to_csv(tmp_path / "in" / "part-1.csv", index=False)
    df.to_parquet(tmp_path / "all.parquet")
    schema_path = tmp_path / "schema.json"
    schema_path.write_text(churn_schema.to_json())
    for source, out in (
        (tmp_path / "in", tmp_path / "out-csv"),
        (tmp_path / "all.parquet", tmp_path / "out-pq"),
    ):
        rc = B.main(
            ["--input", str(source), "--schema", str(schema_path), "--output-dir", str(out)]
        )
        assert rc == 0
        stats = json.loads((out / "statistics.json").read_text())
        assert stats["dataset"]["item_count"] == 200
    a = json.loads((tmp_path / "out-csv" / "statistics.json").read_text())
    b = json.loads((tmp_path / "out-pq" / "statistics.json").read_text())
    assert a["features"][0]["numerical_statistics"]["mean"] == pytest.approx(
        b["features"][0]["numerical_statistics"]["mean"]
    )


def test_main_reports_bad_inputs(
    tmp_path: Path, churn_schema: Schema, capsys: pytest.CaptureFixture[str]
) -> None:
    schema_path = tmp_path / "schema.json"
    schema_path.write_text(churn_schema.to_json())
    assert (
        B.main(
            [
                "--input",
                str(tmp_path / "missing"),
                "--schema",
                str(schema_path),
                "--output-dir",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert (
        B.main(
            [
                "--input",
                str(tmp_path / "empty"),
                "--schema",
                str(schema_path),
                "--output-dir",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "no .parquet or .csv" in capsys.readouterr().err
