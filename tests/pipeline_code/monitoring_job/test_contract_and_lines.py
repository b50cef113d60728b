"""The job contract and the metric list the CDK construct imports (pure data)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pipeline_code.monitoring import job_contract as jc
from pipeline_code.monitoring import metric_lines as ml


def test_modules_import_without_pandas_or_numpy() -> None:
    code = (
        "import sys; import pipeline_code.monitoring.metric_lines, "
        "pipeline_code.monitoring.job_contract; "
        "print(sorted(m for m in ('pandas', 'numpy', 'aws_cdk') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_container_arguments_per_mode() -> None:
    args = jc.container_arguments(endpoint_name="e", schedule_name="s")
    assert args == ["--endpoint-name", "e", "--schedule-name", "s", "--monitors",
                    ",".join(jc.MONITORS), "--mode", "all"]  # fmt: skip
    partial = jc.container_arguments(endpoint_name="e", schedule_name="s", mode="partial")
    assert partial[-2:] == ["--shard", "auto"]
    merge = jc.container_arguments(endpoint_name="e", schedule_name="s", mode="merge")
    assert merge[-2:] == ["--partials-dir", jc.PARTIALS_LOCAL_PATH]
    assert set(jc.INPUT_LOCAL_PATHS.values()) >= {jc.CAPTURE_LOCAL_PATH, jc.BASELINE_LOCAL_PATH}
    assert all(p.startswith(jc.PROCESSING_ROOT) for p in jc.INPUT_LOCAL_PATHS.values())


def test_fails_when_container_arguments_are_wrong() -> None:
    with pytest.raises(ValueError, match=r"monitors \['drift'\] must be a non-empty subset"):
        jc.container_arguments(endpoint_name="e", schedule_name="s", monitors=("drift",))
    with pytest.raises(ValueError, match="mode 'map' must be one of"):
        jc.container_arguments(endpoint_name="e", schedule_name="s", mode="map")


def test_filter_pattern_selects_the_name_and_the_value() -> None:
    assert ml.filter_pattern("auc") == '{ ($.cdk_mlops_metric = "auc") && ($.value = *) }'
    assert ml.filter_pattern("auc", "churn-prod") == (
        '{ ($.cdk_mlops_metric = "auc") && ($.endpoint = "churn-prod") && ($.value = *) }'
    )
    d = ml.metric_definitions(["a"])[0]
    assert d.filter_pattern_for("e") == ml.filter_pattern(d.name, "e")
    assert d.filter_pattern == ml.filter_pattern(d.name)


def test_metric_line_format_and_non_finite_values() -> None:
    line = ml.metric_line("auc", ml.MODEL_NAMESPACE, 0.8, endpoint="e", schedule="s")
    assert line is not None and "\n" not in line
    assert json.loads(line) == {
        "cdk_mlops_metric": "auc",
        "namespace": "aws/sagemaker/Endpoints/model-metrics",
        "value": 0.8,
        "endpoint": "e",
        "schedule": "s",
    }
    assert (
        ml.metric_line("auc", ml.MODEL_NAMESPACE, float("nan"), endpoint="e", schedule="s") is None
    )
    parsed = ml.parse_metric_lines(f"hello\n{line}\n{{not json cdk_mlops_metric\n")
    assert [d["cdk_mlops_metric"] for d in parsed] == ["auc"]


def test_definitions_stay_within_the_metric_filter_limits() -> None:
    defs = ml.metric_definitions([f"f{i}" for i in range(39)])
    filters = ml.metric_filters(defs)
    assert len(filters) == 99  # 21 fixed + 2 per feature
    assert all(len(d.dimensions) <= ml.MAX_DIMENSIONS for d in defs)
    names = {d.name for d in defs}
    assert {"feature_baseline_drift_f0", "feature_non_null_f38", "auc", "bias_metric_DI"} <= names
    only_dq = ml.metric_definitions(["a"], monitors=("data-quality",))
    assert {d.name for d in only_dq} == {
        "bad_capture_records", "drift_violations", "records_evaluated",
        "feature_baseline_drift_a", "feature_non_null_a",
    }  # fmt: skip


def test_fails_when_a_log_group_would_need_more_than_100_filters() -> None:
    with pytest.raises(ValueError, match=r"101 metrics need more than the 100 metric filters"):
        ml.metric_definitions([f"f{i}" for i in range(40)])
    with pytest.raises(ValueError, match=r"monitors \['drift'\] are not monitors"):
        ml.metric_definitions(["a"], monitors=("drift",))


def test_the_code_input_is_on_the_python_path() -> None:
    assert jc.ENVIRONMENT["PYTHONPATH"] == jc.CODE_LOCAL_PATH
