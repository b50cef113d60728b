"""verify: the endpoint really serves the deployed version; rollbacks and failures alert."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from pipeline_code.deployment.cli import main
from pipeline_code.deployment.endpoint import EndpointView, VariantModel
from pipeline_code.deployment.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from pipeline_code.deployment.verify import check_view, verify_endpoint

from .aws_fixtures import ACCOUNT, REGION, aws, register, serve, set_endpoint_status

__all__ = ["aws"]

ENDPOINT = "churn-prod"


def alerts_queue() -> tuple[str, Any, str]:
    """An SNS topic with an SQS subscriber, to read what verify published."""
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return topic, sqs, queue_url


def received(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def verify(*flags: str) -> int:
    return main(["verify", "--endpoint-name", ENDPOINT, "--wait-seconds", "0", *flags])


@pytest.mark.usefixtures("aws")
def test_passes_when_the_current_config_serves_the_deployed_version(
    capsys: pytest.CaptureFixture[str],
) -> None:
    arns = register(["Approved", "Approved"])
    config = serve(ENDPOINT, arns[1])
    topic, sqs, queue_url = alerts_queue()
    status = verify(
        "--model-package-arn",
        arns[1],
        "--expected-endpoint-config-name",
        config,
        "--alerts-topic-arn",
        topic,
    )
    assert status == EXIT_OK
    assert (
        f"verified: endpoint churn-prod is InService on config {config} serving churn version 2"
        in capsys.readouterr().out
    )
    assert received(sqs, queue_url) == []


@pytest.mark.usefixtures("aws")
def test_fails_and_alerts_when_the_endpoint_returned_to_inservice_on_the_old_config(
    capsys: pytest.CaptureFixture[str],
) -> None:
    arns = register(["Approved", "Approved"])
    old = serve(ENDPOINT, arns[0])
    serve(ENDPOINT, arns[1], create_endpoint=False)  # CloudFormation made the new config ...
    # ... and SageMaker rolled back: InService again, on the old one
    topic, sqs, queue_url = alerts_queue()
    status = verify("--model-package-arn", arns[1], "--alerts-topic-arn", topic, "--stage", "prod")
    assert status == EXIT_FAILED
    captured = capsys.readouterr()
    line = captured.err.strip()
    assert len(line.splitlines()) == 1
    assert line.startswith("verify: deployment of churn version 2 did not happen")
    assert f"InService on config {old} serving churn version 1" in line
    assert "SageMaker rolled the update back" in line
    assert f"alert published to {topic}" in captured.out
    [alert] = received(sqs, queue_url)
    assert alert["Subject"] == "cdk-mlops: deployment to prod endpoint churn-prod rolled back"
    assert f"Expected model package: {arns[1]}" in alert["Message"]
    assert f"Serving: {arns[0]}" in alert["Message"]


@pytest.mark.usefixtures("aws")
def test_fails_when_rolled_back_to_an_older_config_of_the_same_package(
    capsys: pytest.CaptureFixture[str],
) -> None:
    arns = register(["Approved"])
    serve(ENDPOINT, arns[0], config="churn-prod-config-a")
    status = verify(
        "--model-package-arn", arns[0], "--expected-endpoint-config-name", "churn-prod-config-b"
    )
    assert status == EXIT_FAILED
    assert "not the deployed churn-prod-config-b" in capsys.readouterr().err


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("endpoint_status", ["Failed", "UpdateRollbackFailed", "OutOfService"])
def test_fails_and_alerts_when_the_update_failed(
    endpoint_status: str, capsys: pytest.CaptureFixture[str]
) -> None:
    arns = register(["Approved"])
    serve(ENDPOINT, arns[0])
    set_endpoint_status(
        ENDPOINT, endpoint_status, "Request to service failed. Image cannot be pulled."
    )
    topic, sqs, queue_url = alerts_queue()
    assert verify("--model-package-arn", arns[0], "--alerts-topic-arn", topic) == EXIT_FAILED
    err = capsys.readouterr().err
    assert (
        f"endpoint churn-prod is {endpoint_status} (FailureReason: Request to service failed."
        in err
    )
    [alert] = received(sqs, queue_url)
    assert "FailureReason: Request to service failed. Image cannot be pulled." in alert["Message"]


@pytest.mark.usefixtures("aws")
def test_fails_when_the_endpoint_does_not_exist(capsys: pytest.CaptureFixture[str]) -> None:
    arns = register(["Approved"])
    assert verify("--model-package-arn", arns[0]) == EXIT_FAILED
    assert "endpoint churn-prod does not exist" in capsys.readouterr().err


@pytest.mark.usefixtures("aws")
def test_reads_the_expected_version_from_resolved_json(tmp_path: Any) -> None:
    arns = register(["Approved"])
    serve(ENDPOINT, arns[0])
    path = tmp_path / "resolved.json"
    path.write_text(json.dumps({"ModelPackageArn": arns[0], "Decision": "deploy"}))
    assert verify("--resolved", str(path)) == EXIT_OK


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ((), "verify needs the expected version"),
        (
            ("--resolved", "/nonexistent/resolved.json"),
            "--resolved '/nonexistent/resolved.json' does not exist",
        ),
    ],
)
def test_fails_on_bad_flags(
    flags: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert verify(*flags) == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_fails_without_an_endpoint_name(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ENDPOINT_NAME", raising=False)
    assert main(["verify", "--model-package-arn", "x"]) == EXIT_USAGE
    assert "verify needs --endpoint-name" in capsys.readouterr().err


# ---------------------------------------------------------------- what moto cannot show: Stubber
PACKAGE_OLD = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/churn/1"
PACKAGE_NEW = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/churn/2"


def _describe(status: str, config: str, **extra: Any) -> dict[str, Any]:
    return {
        "EndpointName": ENDPOINT,
        "EndpointArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{ENDPOINT}",
        "EndpointConfigName": config,
        "EndpointStatus": status,
        "CreationTime": "2026-01-01T00:00:00Z",
        "LastModifiedTime": "2026-01-01T00:00:00Z",
        **extra,
    }


def _config_and_model(stub: Stubber, config: str, package: str) -> None:
    stub.add_response(
        "describe_endpoint_config",
        {
            "EndpointConfigName": config,
            "EndpointConfigArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/{config}",
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": f"{config}-model"}],
            "CreationTime": "2026-01-01T00:00:00Z",
        },
        {"EndpointConfigName": config},
    )
    stub.add_response(
        "describe_model",
        {
            "ModelName": f"{config}-model",
            "Containers": [{"ModelPackageName": package}],
            "CreationTime": "2026-01-01T00:00:00Z",
            "ModelArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/{config}-model",
        },
        {"ModelName": f"{config}-model"},
    )


def test_waits_through_updating_and_rollingback_then_fails_with_the_alarms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    sm = boto3.client("sagemaker", region_name=REGION)
    rollback = {
        "LastDeploymentConfig": {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 600,
                                                "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}},
            },
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "churn-prod-5xx"}, {"AlarmName": "churn-prod-p99"}]},
        },
        "FailureReason": "Deployment failed: alarm churn-prod-5xx went into ALARM, rolled back",
    }  # fmt: skip
    with Stubber(sm) as stub:
        for status in ("Updating", "RollingBack"):
            stub.add_response(
                "describe_endpoint", _describe(status, "config-1"), {"EndpointName": ENDPOINT}
            )
            _config_and_model(stub, "config-1", PACKAGE_OLD)
        stub.add_response(
            "describe_endpoint",
            _describe("InService", "config-1", **rollback),
            {"EndpointName": ENDPOINT},
        )
        _config_and_model(stub, "config-1", PACKAGE_OLD)
        sleeps: list[float] = []
        outcome = verify_endpoint(
            sm, ENDPOINT, PACKAGE_NEW, wait_seconds=600, poll_seconds=15, sleep=sleeps.append
        )
        stub.assert_no_pending_responses()
    assert sleeps == [15, 15]
    assert not outcome.ok and outcome.rolled_back
    assert (
        "FailureReason: Deployment failed: alarm churn-prod-5xx went into ALARM" in outcome.message
    )
    assert outcome.view is not None
    assert outcome.view.rollback_alarm_names == ("churn-prod-5xx", "churn-prod-p99")

    from pipeline_code.deployment.verify import alert_text

    _subject, message = alert_text(outcome, alarms={"churn-prod-5xx": "ALARM"})
    assert "Rollback alarms: churn-prod-5xx (ALARM), churn-prod-p99 (state unknown)" in message


def test_fails_when_the_endpoint_is_still_updating_after_the_wait() -> None:
    ticks = iter([0.0, 0.0, 100.0, 100.0])
    view = EndpointView(
        ENDPOINT,
        "Updating",
        "config-1",
        variants=(VariantModel("AllTraffic", "m", (PACKAGE_OLD,)),),
    )
    outcome = verify_endpoint(
        None, ENDPOINT, PACKAGE_NEW, wait_seconds=50, poll_seconds=10,
        sleep=lambda s: None, clock=lambda: next(ticks), describe=lambda sm, name: view,
    )  # fmt: skip
    assert not outcome.ok
    assert "is still Updating on config config-1" in outcome.message


def test_a_pass_mentions_a_failure_reason_left_by_an_earlier_update() -> None:
    view = EndpointView(
        ENDPOINT, "InService", "config-2", failure_reason="an earlier rollback",
        variants=(VariantModel("AllTraffic", "m", (PACKAGE_NEW,)), VariantModel("Shadow", "s", (PACKAGE_OLD,), shadow=True)),
    )  # fmt: skip
    outcome = check_view(view, ENDPOINT, PACKAGE_NEW)
    assert outcome.ok
    assert "an earlier update left FailureReason: an earlier rollback" in outcome.message
    # a shadow variant does not count as serving
    assert not check_view(view, ENDPOINT, PACKAGE_OLD).ok


@pytest.mark.usefixtures("aws")
def test_the_alert_includes_the_states_of_the_rollback_alarms() -> None:
    from pipeline_code.deployment.verify import VerifyOutcome, publish_alert

    cw = boto3.client("cloudwatch", region_name=REGION)
    cw.put_metric_alarm(
        AlarmName="churn-prod-5xx", MetricName="Invocation5XXErrors", Namespace="AWS/SageMaker",
        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    cw.set_alarm_state(AlarmName="churn-prod-5xx", StateValue="ALARM", StateReason="test")
    view = EndpointView(
        ENDPOINT, "InService", "config-1",
        variants=(VariantModel("AllTraffic", "m", (PACKAGE_OLD,)),),
        last_deployment_config={"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "churn-prod-5xx"}]}},
    )  # fmt: skip
    outcome = check_view(view, ENDPOINT, PACKAGE_NEW)
    assert isinstance(outcome, VerifyOutcome) and not outcome.ok
    topic, sqs, queue_url = alerts_queue()
    publish_alert(
        boto3.client("sns", region_name=REGION), topic, outcome, stage="prod", cloudwatch=cw
    )
    [alert] = received(sqs, queue_url)
    assert "Rollback alarms: churn-prod-5xx (ALARM)" in alert["Message"]


@pytest.mark.usefixtures("aws")
def test_fails_with_one_line_when_the_alert_cannot_be_sent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    arns = register(["Approved", "Approved"])
    serve(ENDPOINT, arns[0])
    missing_topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:no-such-topic"
    assert (
        verify("--model-package-arn", arns[1], "--alerts-topic-arn", missing_topic) == EXIT_FAILED
    )
    err = capsys.readouterr().err
    assert f"and the alert to {missing_topic} could not be sent" in err
    assert len(err.strip().splitlines()) == 1
