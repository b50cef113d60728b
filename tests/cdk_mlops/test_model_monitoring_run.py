"""ModelMonitoring's state machine, evaluated with the reference JSONata, drives the real job.

The window arithmetic, the S3 keys, the baseline lookup and the job's container arguments are
JSONata that only Step Functions evaluates in AWS; here the same expressions run in the npm
``jsonata`` engine. The rendered arguments then run ``pipeline_code.monitoring.job`` on a capture
laid out as SageMaker writes it, and the job's metric lines are matched against the construct's
metric filter patterns.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from cdk_mlops.constructs.model_monitoring import ModelMonitoring, MonitoringFrequency
from pipeline_code.compat import UTC
from pipeline_code.monitoring import job as monitoring_job
from pipeline_code.monitoring import job_contract as jc
from pipeline_code.monitoring import metric_lines as ml
from pipeline_code.monitoring.baseline import run_baseline
from pipeline_code.monitoring.capture import write_capture_files
from pipeline_code.schema import Schema
from tests.cdk_mlops import jsonata_eval, sfn_local
from tests.cdk_mlops.helpers import new_app
from tests.cdk_mlops.test_model_monitoring import ENDPOINT, _definition, build

pytestmark = pytest.mark.skipif(
    not jsonata_eval.available(), reason="needs node and node_modules/jsonata (make deps-synth)"
)

WINDOW_STATES = ["Window", "WindowStart", "WindowNames", "WindowUris"]


def _synth(**overrides: Any) -> tuple[ModelMonitoring, dict[str, Any]]:
    app = new_app()
    stack = cdk.Stack(app, "Run", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    built = build(stack, **overrides)
    # tokens (ARNs, names) become a placeholder long enough for the API's length rules
    placeholder = "arn:aws:iam::111111111111:role/token"
    return built, _definition(Template.from_stack(stack), placeholder)["States"]


@pytest.fixture(scope="module")
def hourly() -> tuple[ModelMonitoring, dict[str, Any]]:
    return _synth()


def _window(states: dict[str, Any], scheduled: str | None, start: str = "2030-01-01T00:00:00Z"):
    states_var = {
        "input": {"scheduledTime": scheduled} if scheduled else {},
        "context": {"Execution": {"StartTime": start, "Name": "run"}},
    }
    return jsonata_eval.run_assign_chain(states, WINDOW_STATES, states_var)


@pytest.mark.parametrize(
    ("frequency", "scheduled", "start", "end", "folder"),
    [
        (MonitoringFrequency.HOURLY, "2026-12-03T10:15:00Z", "2026-12-03T09:00:00Z",
         "2026-12-03T10:00:00Z", "2026/12/03/09"),
        # across a year boundary, and a run the scheduler retried late in the hour
        (MonitoringFrequency.HOURLY, "2027-01-01T00:15:00Z", "2026-12-31T23:00:00Z",
         "2027-01-01T00:00:00Z", "2026/12/31/23"),
        (MonitoringFrequency.HOURLY, "2026-03-29T02:59:59Z", "2026-03-29T01:00:00Z",
         "2026-03-29T02:00:00Z", "2026/03/29/01"),
        (MonitoringFrequency.DAILY, "2028-03-01T00:15:00Z", "2028-02-29T00:00:00Z",
         "2028-03-01T00:00:00Z", "2028/02/29"),
    ],
)  # fmt: skip
def test_window_is_the_previous_utc_hour_or_day(
    frequency: MonitoringFrequency, scheduled: str, start: str, end: str, folder: str
) -> None:
    _, states = _synth(frequency=frequency)
    v = _window(states, scheduled)
    assert (v["windowStart"], v["windowEnd"], v["folder"]) == (start, end, folder)
    assert v["captureKey"] == f"data-capture/{ENDPOINT}/AllTraffic/{folder}/"
    assert v["groundTruthKey"] == f"ground-truth/{ENDPOINT}/{folder}/"
    assert v["outputUri"].endswith(f"/monitoring/{ENDPOINT}/{folder}")
    stamp = start[:13].replace("-", "").replace("T", "")
    assert v["jobSuffix"] == f"{stamp}-{jsonata_eval.FIXED_UUID[:8]}"
    job = jsonata_eval.evaluate(
        {"name": states[next(s for s in states if s.startswith("Monitor"))]["Arguments"][
            "ProcessingJobName"]}, {**v})  # fmt: skip
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", job["name"]), job["name"]


def test_manual_start_uses_the_execution_start_time(
    hourly: tuple[ModelMonitoring, dict[str, Any]],
) -> None:
    _, states = hourly
    v = _window(states, None, start="2026-06-01T08:40:12.345Z")
    assert v["windowStart"] == "2026-06-01T07:00:00Z"


def test_baseline_lookup_reads_the_deployed_package(
    hourly: tuple[ModelMonitoring, dict[str, Any]],
) -> None:
    _, states = hourly
    config = {
        "ProductionVariants": [
            {"VariantName": "Shadow", "ModelName": "shadow-model"},
            {"VariantName": "AllTraffic", "ModelName": "prod-model"},
        ]
    }
    got = jsonata_eval.evaluate(
        states["DescribeEndpointConfig"]["Assign"], {"states": {"result": config}}
    )
    assert got["modelName"] == "prod-model"
    for result in (
        {"Containers": [{"ModelPackageName": "arn:pkg/3"}]},
        {"PrimaryContainer": {"ModelPackageName": "arn:pkg/3"}},
    ):
        got = jsonata_eval.evaluate(
            states["DescribeModel"]["Assign"], {"states": {"result": result}}
        )
        assert got["modelPackage"] == "arn:pkg/3"
    uri = "s3://artifacts/training-pipeline/exec1/Baseline/baseline/statistics.json"
    package = {"DriftCheckBaselines": {"ModelDataQuality": {"Statistics": {"S3Uri": uri}}}}
    got = jsonata_eval.evaluate(
        states["DescribeModelPackage"]["Assign"], {"states": {"result": package}}
    )
    assert got["statisticsUri"] == uri
    folder = jsonata_eval.evaluate(states["BaselineFolder"]["Assign"], {"statisticsUri": uri})
    assert folder["baselineUri"] == "s3://artifacts/training-pipeline/exec1/Baseline/baseline"
    # a package without a baseline takes the NoBaseline branch (not a job with a bad input)
    missing = jsonata_eval.evaluate(
        states["DescribeModelPackage"]["Assign"], {"states": {"result": {}}}
    )
    cond = states["HasBaseline?"]["Choices"][0]["Condition"]
    assert jsonata_eval.evaluate({"c": cond}, missing)["c"] is False
    # a model built from model data (no package), or a variant the endpoint does not serve
    plain = jsonata_eval.evaluate(
        states["DescribeModel"]["Assign"],
        {"states": {"result": {"PrimaryContainer": {"Image": "x", "ModelDataUrl": "s3://m"}}}},
    )
    cond = states["HasPackage?"]["Choices"][0]["Condition"]
    assert jsonata_eval.evaluate({"c": cond}, plain)["c"] is False
    assert states["HasPackage?"]["Default"] == "NoBaseline"
    other = jsonata_eval.evaluate(
        states["DescribeEndpointConfig"]["Assign"],
        {"states": {"result": {"ProductionVariants": [{"VariantName": "Blue", "ModelName": "m"}]}}},
    )
    cond = states["HasVariant?"]["Choices"][0]["Condition"]
    assert jsonata_eval.evaluate({"c": cond}, other)["c"] is False


@pytest.mark.parametrize("labelled", [0, 3])
def test_ground_truth_input_only_when_the_window_has_labels(
    hourly: tuple[ModelMonitoring, dict[str, Any]], labelled: int
) -> None:
    _, states = hourly
    v = _window(states, "2026-12-03T10:15:00Z")
    request = states["Monitor"]["Arguments"]
    got = jsonata_eval.evaluate(
        {"inputs": request["ProcessingInputs"]},
        {**v, "groundTruthCount": labelled, "baselineUri": "s3://b/base"},
    )["inputs"]
    names = [i["InputName"] for i in got]
    expected = [jc.INPUT_CODE, jc.INPUT_CAPTURE, jc.INPUT_BASELINE]
    assert names == expected + ([jc.INPUT_GROUND_TRUTH] if labelled else [])
    by_name = {i["InputName"]: i["S3Input"] for i in got}
    assert by_name[jc.INPUT_CAPTURE]["S3Uri"].endswith(
        f"/data-capture/{ENDPOINT}/AllTraffic/2026/12/03/09/"
    )
    assert by_name[jc.INPUT_BASELINE]["S3Uri"] == "s3://b/base"


def _matches(pattern: str, line: dict[str, Any]) -> bool:
    """CloudWatch Logs JSON pattern semantics for the patterns metric_lines writes."""
    for key, value in re.findall(r'\(\$\.(\w+) = ("[^"]*"|\*)\)', pattern):
        if key not in line:
            return False
        if value != "*" and str(line[key]) != value.strip('"'):
            return False
    return True


def test_rendered_job_runs_on_the_window_and_its_lines_feed_the_filters(
    hourly: tuple[ModelMonitoring, dict[str, Any]], tmp_path: Path
) -> None:
    built, states = hourly
    schema = Schema.builtin("churn")
    from tests.pipeline_code.conftest_serving import synthetic_features

    # a baseline folder as the training pipeline's Baseline step writes it
    baseline = tmp_path / "baseline"
    run_baseline(synthetic_features(schema, 3000, seed=1), schema, baseline)
    (baseline / "schema.json").write_text(schema.to_json())
    # capture from 09:40 to 10:20 UTC: the 09:xx hour is the window of the 10:15 run
    df = synthetic_features(schema, 800, seed=2)
    start = datetime(2026, 12, 3, 9, 40, tzinfo=UTC)
    bucket = tmp_path / "bucket"
    write_capture_files(df, [0.3] * len(df), bucket / "data-capture", endpoint_name=ENDPOINT,
                        start_time=start, rows_per_request=4, interval_seconds=12.0)  # fmt: skip
    v = _window(states, "2026-12-03T10:15:00Z")
    window_dir = bucket / v["captureKey"]
    assert window_dir.is_dir(), "the state machine lists where SageMaker writes"
    in_window = sum(1 for p in window_dir.iterdir() for _ in p.read_text().splitlines())
    assert 0 < in_window < 200  # 200 requests in all, 100 of them before 10:00

    args = states["Monitor"]["Arguments"]["AppSpecification"]["ContainerArguments"]
    rendered = jsonata_eval.evaluate(
        {str(i): a for i, a in enumerate(args) if a.startswith("{%")}, v
    )
    argv = [rendered.get(str(i), a) for i, a in enumerate(args)]
    out = tmp_path / "out"
    argv += [jc.FLAG_CAPTURE_DIR, str(window_dir), jc.FLAG_BASELINE_DIR, str(baseline),
             jc.FLAG_GROUND_TRUTH_DIR, str(tmp_path / "none"), jc.FLAG_OUTPUT_DIR, str(out)]  # fmt: skip
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert monitoring_job.main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    # only the window's events are evaluated (the job's own filter agrees with the S3 prefix)
    assert summary["records"] == in_window * 4
    lines = ml.parse_metric_lines(stdout.getvalue())
    assert lines, "the job printed no metric lines"
    for line in lines:
        assert line["endpoint"] == ENDPOINT and line["schedule"] == built.schedule_name
        hits = [
            d for d in ml.metric_filters(built.metric_definitions)
            if _matches(d.filter_pattern_for(ENDPOINT), line)
        ]  # fmt: skip
        assert len(hits) == 1, (line, [h.name for h in hits])
        (d,) = hits
        assert d.namespace == line["namespace"]
        for selector in d.dimensions.values():
            assert selector[2:] in line, (d.name, selector)
    # the drift alarm's metric is among them, with its dimensions
    violations = [line for line in lines if line[ml.MARKER] == ml.VIOLATIONS_METRIC]
    assert {v["monitor"] for v in violations} >= {jc.MONITOR_DATA_QUALITY}


# ---------------------------------------------------------------- whole executions


class _Aws:
    """Mocked service answers for one execution; records what was asked."""

    def __init__(self, *, capture: int = 3, labels: int = 0, baseline: bool = True,
                 job_error: str | None = None) -> None:  # fmt: skip
        self.capture, self.labels, self.baseline, self.job_error = (
            capture,
            labels,
            baseline,
            job_error,
        )

    def __call__(self, resource: str, args: dict[str, Any]) -> Any:
        action = resource.rsplit(":", 1)[-1]
        if action == "listObjectsV2":
            n = self.capture if args["Prefix"].startswith("data-capture/") else self.labels
            return {"KeyCount": min(n, args["MaxKeys"]), "IsTruncated": n > 1}
        if action == "describeEndpoint":
            return {"EndpointName": args["EndpointName"], "EndpointConfigName": "cfg-7"}
        if action == "describeEndpointConfig":
            return {"ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "model-7"}]}
        if action == "describeModel":
            return {
                "Containers": [
                    {"ModelPackageName": "arn:aws:sagemaker:eu-west-1:1:model-package/churn/7"}
                ]
            }
        if action == "describeModelPackage":
            if not self.baseline:
                return {"ModelPackageArn": args["ModelPackageName"]}
            uri = "s3://artifacts/training-pipeline/e7/Baseline/baseline/statistics.json"
            return {"DriftCheckBaselines": {"ModelDataQuality": {"Statistics": {"S3Uri": uri}}}}
        if action == "createProcessingJob.sync":
            if self.job_error:
                raise sfn_local.TaskFailed("SageMaker.AmazonSageMakerException", self.job_error)
            return {
                "ProcessingJobStatus": "Completed",
                "ProcessingJobName": args["ProcessingJobName"],
            }
        if action == "publish":
            return {"MessageId": "m-1"}
        raise AssertionError(f"unexpected call {resource}")


def _execute(states: dict[str, Any], aws: _Aws) -> sfn_local.Run:
    definition = {"QueryLanguage": "JSONata", "StartAt": "Window", "States": states}
    return sfn_local.run(definition, {"scheduledTime": "2026-12-03T10:15:00Z"},
                         start_time="2026-12-03T10:15:02.120Z", tasks=aws)  # fmt: skip


def test_execution_without_capture_starts_no_job(
    hourly: tuple[ModelMonitoring, dict[str, Any]],
) -> None:
    _, states = hourly
    run = _execute(states, _Aws(capture=0))
    assert run.status == "SUCCEEDED" and run.path[-1] == "NoCapture"
    assert run.output == {"decision": "no-capture", "window_start": "2026-12-03T09:00:00Z"}
    assert [r for r, _ in run.calls] == ["arn:aws:states:::aws-sdk:s3:listObjectsV2"]


@pytest.mark.parametrize("labels", [0, 2])
def test_execution_finds_the_baseline_and_runs_a_valid_job(
    hourly: tuple[ModelMonitoring, dict[str, Any]], labels: int
) -> None:
    built, states = hourly
    run = _execute(states, _Aws(labels=labels))
    assert run.status == "SUCCEEDED", run
    assert run.path[-2:] == ["Monitor", "Done"]
    (request,) = [a for r, a in run.calls if r.endswith("createProcessingJob.sync")]
    # botocore accepted it as a CreateProcessingJob request (sfn_local validates every call)
    assert request["ProcessingJobName"] == f"{built.name_prefix}-2026120309-0123abcd"
    inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in request["ProcessingInputs"]}
    assert inputs["baseline"] == "s3://artifacts/training-pipeline/e7/Baseline/baseline"
    assert (jc.INPUT_GROUND_TRUTH in inputs) == (labels > 0)
    assert run.output["ground_truth"] is (labels > 0)
    assert run.output["baseline"] == inputs["baseline"]


def test_execution_fails_clearly_without_a_baseline(
    hourly: tuple[ModelMonitoring, dict[str, Any]],
) -> None:
    _, states = hourly
    run = _execute(states, _Aws(baseline=False))
    assert run.status == "FAILED" and run.error == "MonitoringRunFailed"
    assert "NoBaseline" in run.path
    assert not any(r.endswith("createProcessingJob.sync") for r, _ in run.calls)
    # reported on the topic with the reason
    resource, publish = run.calls[-1]
    assert resource == "arn:aws:states:::sns:publish"
    assert json.loads(publish["Message"])["error"]["Error"] == "NoBaseline"


def test_failed_job_is_published_then_fails_the_execution(
    hourly: tuple[ModelMonitoring, dict[str, Any]],
) -> None:
    _, states = hourly
    run = _execute(states, _Aws(job_error="ResourceLimitExceeded"))
    assert run.status == "FAILED" and run.error == "MonitoringRunFailed"
    resource, publish = run.calls[-1]
    assert resource == "arn:aws:states:::sns:publish"
    message = json.loads(publish["Message"])
    assert message["error"]["Cause"] == "ResourceLimitExceeded"
    assert message["window_start"] == "2026-12-03T09:00:00Z"


def test_scale_out_execution_runs_partial_then_merge_with_valid_requests() -> None:
    built, states = _synth(instance_count=2, baseline_key_prefix="baselines/v1")
    run = _execute(states, _Aws())
    assert run.status == "SUCCEEDED"
    jobs = [a for r, a in run.calls if r.endswith("createProcessingJob.sync")]
    assert [j["ProcessingResources"]["ClusterConfig"]["InstanceCount"] for j in jobs] == [2, 1]
    partial_out = jobs[0]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    merge_in = {i["InputName"]: i["S3Input"]["S3Uri"] for i in jobs[1]["ProcessingInputs"]}
    assert merge_in[jc.INPUT_PARTIALS] == f"{partial_out}/{jc.PARTIALS_SUBDIR}"
    assert jobs[0]["ProcessingJobName"] != jobs[1]["ProcessingJobName"]
    assert all(len(j["ProcessingJobName"]) <= 63 for j in jobs)
    del built
