"""DriftRetraining's guard as Step Functions would run it: its JSONata, evaluated by the reference
JSONata engine, decides exactly as ``pipeline_code.retraining.guard.decide`` on a table of
histories (the Python guard is what the local loop runs and what the docs describe)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from cdk_mlops.constructs.drift_retraining import guard_definition
from pipeline_code.retraining import guard
from tests.cdk_mlops import jsonata_eval, sfn_local

pytestmark = pytest.mark.skipif(
    not jsonata_eval.available(), reason="needs node and node_modules/jsonata (make deps-synth)"
)

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 3, 10, 30, tzinfo=UTC)
COOLDOWN, CAP = 3 * 3600, 2


def _ago(**delta: float) -> dt.datetime:
    return NOW - dt.timedelta(**delta)


CASES: list[tuple[str, list[tuple[dt.datetime, str]]]] = [
    ("first run ever", []),
    ("one running", [(_ago(hours=5), "Executing")]),
    ("one stopping", [(_ago(hours=30), "Stopping")]),
    ("inside cooldown", [(_ago(hours=1), "Succeeded")]),
    ("cooldown just over", [(_ago(seconds=COOLDOWN), "Failed")]),
    ("clock skew: start in the future", [(NOW + dt.timedelta(minutes=5), "Succeeded")]),
    ("daily cap reached", [(_ago(hours=4), "Succeeded"), (_ago(hours=10), "Failed")]),
    ("yesterday does not count", [(_ago(hours=4), "Succeeded"), (_ago(hours=11), "Stopped")]),
    ("running beats cooldown", [(_ago(minutes=5), "Executing"), (_ago(hours=9), "Succeeded")]),
]


def _decide_jsonata(history: list[tuple[dt.datetime, str]], time_format: str) -> str:
    definition = guard_definition(
        pipeline_name="churn-train", topic_arn="arn:aws:sns:eu-west-1:1:t",
        cooldown_seconds=COOLDOWN, max_per_day=CAP, source="Test/Retrain",
    )  # fmt: skip
    states = definition["States"]
    result = {
        "PipelineExecutionSummaries": [
            {"StartTime": t.strftime(time_format), "PipelineExecutionStatus": s} for t, s in history
        ]
    }
    context = {"Execution": {"StartTime": NOW.strftime("%Y-%m-%dT%H:%M:%S.000Z")}}
    alarm = {"detail": {"alarmName": "drift"}}
    variables: dict[str, Any] = {}
    variables.update(
        jsonata_eval.evaluate(
            states["ListExecutions"]["Assign"],
            {"states": {"result": result, "input": alarm, "context": context}},
        )
    )
    for name in ("Measure", "Decide"):
        variables.update(
            jsonata_eval.evaluate(
                states[name]["Assign"], {**variables, "states": {"context": context}}
            )
        )
    assert variables["trigger"] == "drift"
    return str(variables["reason"])


@pytest.mark.parametrize(
    "time_format", ["%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%S+00:00"], ids=["millis-Z", "offset"]
)
@pytest.mark.parametrize(("case", "history"), CASES, ids=[c for c, _ in CASES])
def test_state_machine_guard_decides_like_the_python_guard(
    case: str, history: list[tuple[dt.datetime, str]], time_format: str
) -> None:
    expected = guard.decide(
        NOW,
        [guard.Execution(t, s) for t, s in history],
        guard.GuardSettings(cooldown_seconds=COOLDOWN, max_per_day=CAP),
    ).reason
    if time_format.endswith(".%fZ"):
        time_format = time_format.replace(".%f", ".000")
    assert _decide_jsonata(history, time_format) == expected, case


@pytest.mark.parametrize(
    ("history", "start_error", "expected"),
    [
        ([], None, ("SUCCEEDED", "started")),
        ([(_ago(hours=1), "Succeeded")], None, ("SUCCEEDED", "cooldown")),
        ([], "SageMaker.ResourceLimitExceeded", ("FAILED", "start-failed")),
    ],
    ids=["started", "skipped", "start-failed"],
)
def test_whole_execution_publishes_its_decision(
    history: list[tuple[dt.datetime, str]],
    start_error: str | None,
    expected: tuple[str, str],
) -> None:
    definition = guard_definition(
        pipeline_name="churn-train", topic_arn="arn:aws:sns:eu-west-1:111111111111:alerts",
        cooldown_seconds=COOLDOWN, max_per_day=CAP, source="Test/Retrain",
    )  # fmt: skip

    def aws(resource: str, args: dict[str, Any]) -> Any:
        if resource.endswith("listPipelineExecutions"):
            return {
                "PipelineExecutionSummaries": [
                    {"StartTime": t.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                     "PipelineExecutionStatus": s}
                    for t, s in history
                ]
            }  # fmt: skip
        if resource.endswith("startPipelineExecution"):
            if start_error:
                raise sfn_local.TaskFailed(start_error, "limit")
            return {
                "PipelineExecutionArn": "arn:aws:sagemaker:eu-west-1:1:pipeline/churn-train/execution/x"
            }
        if resource.endswith("sns:publish"):
            return {"MessageId": "m"}
        raise AssertionError(resource)

    run = sfn_local.run(
        definition,
        {"detail": {"alarmName": "churn-prod-drift", "state": {"value": "ALARM"}}},
        start_time=NOW.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        tasks=aws,
    )
    assert (run.status, run.variables["reason"]) == expected
    resource, publish = run.calls[-1]
    assert resource == "arn:aws:states:::sns:publish"
    message = json.loads(publish["Message"])
    assert message["decision"] == expected[1] and message["trigger"] == "churn-prod-drift"
    assert message["started"] is (expected[1] == "started")
    started = [a for r, a in run.calls if r.endswith("startPipelineExecution")]
    assert len(started) == (0 if expected[1] == "cooldown" else 1)


def _champion_run(lookup: str) -> sfn_local.Run:
    definition = guard_definition(
        pipeline_name="churn-train", topic_arn="arn:aws:sns:eu-west-1:111111111111:alerts",
        cooldown_seconds=COOLDOWN, max_per_day=CAP, source="Test/Retrain",
        champion_endpoint="churn-prod",
    )  # fmt: skip
    model_url = "s3://artifacts/training-pipeline/e1/Train/job/output/model.tar.gz"

    def aws(resource: str, args: dict[str, Any]) -> Any:
        action = resource.rsplit(":", 1)[-1]
        if action == "listPipelineExecutions":
            return {"PipelineExecutionSummaries": []}
        if action == "describeEndpoint":
            if lookup == "no-endpoint":
                raise sfn_local.TaskFailed(
                    "SageMaker.SageMakerException", "Could not find endpoint"
                )
            return {"EndpointConfigName": "cfg"}
        if action == "describeEndpointConfig":
            return {"ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "m"}]}
        if action == "describeModel":
            if lookup == "not-a-package":
                return {"PrimaryContainer": {"Image": "x", "ModelDataUrl": model_url}}
            return {
                "PrimaryContainer": {
                    "ModelPackageName": "arn:aws:sagemaker:eu-west-1:1:model-package/churn/3"
                }
            }
        if action == "describeModelPackage":
            return {
                "InferenceSpecification": {
                    "Containers": [{"Image": "x", "ModelDataUrl": model_url}]
                }
            }
        if action == "startPipelineExecution":
            return {"PipelineExecutionArn": "arn:aws:sagemaker:eu-west-1:1:pipeline/p/execution/x"}
        if action == "publish":
            return {"MessageId": "m"}
        raise AssertionError(resource)

    return sfn_local.run(
        definition, {"detail": {"alarmName": "drift"}},
        start_time=NOW.strftime("%Y-%m-%dT%H:%M:%S.000Z"), tasks=aws,
    )  # fmt: skip


@pytest.mark.parametrize("lookup", ["deployed", "no-endpoint", "not-a-package"])
def test_start_passes_the_production_model_as_champion(lookup: str) -> None:
    run = _champion_run(lookup)
    assert run.status == "SUCCEEDED"
    (start,) = [a for r, a in run.calls if r.endswith("startPipelineExecution")]
    message = json.loads(run.calls[-1][1]["Message"])
    if lookup == "deployed":
        expected = "s3://artifacts/training-pipeline/e1/Train/job/output/model.tar.gz"
        assert start["PipelineParameters"] == [{"Name": "ChampionModelUri", "Value": expected}]
        assert message["champion_model"] == expected
    else:  # first model, or a model that is not a package: retrain without a champion
        assert start["PipelineParameters"] == []
        assert message["champion_model"] == ""
        assert "NoChampion" in run.path
