"""permissions.py lists exactly the AWS calls each command makes (recorded under moto)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipeline_code.deployment import permissions
from pipeline_code.deployment.cli import COMMANDS, main
from pipeline_code.deployment.permissions import COMMAND_PERMISSIONS, actions_for

from .aws_fixtures import GROUP, REGION, aws, predictions, queue_invoke_results, register, serve

__all__ = ["aws"]

#: botocore signing names that differ from the IAM service prefix
IAM_PREFIX = {"monitoring": "cloudwatch"}


@pytest.fixture
def calls(aws: None) -> Iterator[set[str]]:
    """IAM action names of every AWS call made while the test runs."""
    recorded: set[str] = set()

    def record(model: Any, **kwargs: Any) -> None:
        name = model.service_model.signing_name
        recorded.add(f"{IAM_PREFIX.get(name, name)}:{model.name}")

    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-call", record)
    yield recorded
    boto3.DEFAULT_SESSION.events.unregister("before-call", record)


def test_every_command_is_listed() -> None:
    assert set(COMMAND_PERMISSIONS) == set(COMMANDS)


def test_the_module_is_pure_data_the_construct_can_import() -> None:
    tree = ast.parse(Path(permissions.__file__).read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported <= {"__future__", "dataclasses", "annotations", "dataclass"}


def test_actions_for_refuses_unknown_commands() -> None:
    with pytest.raises(KeyError, match="unknown commands \\['deploy'\\]"):
        actions_for("deploy")
    assert "sns:Publish" not in actions_for("verify", optional=False)


def _check(command: str, calls: set[str]) -> None:
    listed = set(actions_for(command))
    assert calls <= listed, f"{command} calls {sorted(calls - listed)} not in permissions.py"
    required = set(actions_for(command, optional=False))
    assert required <= calls, f"{command} lists {sorted(required - calls)} but never calls them"


def test_resolve(calls: set[str], tmp_path: Path) -> None:
    arns = register(["Approved", "Approved"])
    serve("churn-prod", arns[0])
    calls.clear()
    flags = ["--model-package-group", GROUP, "--prod-endpoint-name", "churn-prod"]
    assert (
        main(
            [
                "resolve",
                *flags,
                "--output",
                str(tmp_path / "r.json"),
                "--template-configuration",
                str(tmp_path / "t.json"),
            ]
        )
        == 0
    )
    _check("resolve", calls)


@pytest.mark.parametrize("command", ["smoke-test", "latency-test"])
def test_smoke_and_latency(command: str, calls: set[str], tmp_path: Path) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="samples", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="samples", Key="sample.csv", Body=b"1,2\n")
    queue_invoke_results([predictions([0.5])])
    calls.clear()
    extra = (
        ["--p99-ms", "10000", "--requests", "2", "--batch-rows", "0", "--warmup", "0"]
        if command == "latency-test"
        else []
    )
    assert (
        main(
            [
                command,
                "--endpoint-name",
                "churn-staging",
                "--sample-file",
                "s3://samples/sample.csv",
                *extra,
            ]
        )
        == 0
    )
    _check(command, calls)


def test_verify_with_an_alert(calls: set[str]) -> None:
    arns = register(["Approved", "Approved"])
    serve("churn-prod", arns[0])
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="alerts")["TopicArn"]
    calls.clear()
    flags = [
        "--endpoint-name",
        "churn-prod",
        "--model-package-arn",
        arns[1],
        "--alerts-topic-arn",
        topic,
        "--wait-seconds",
        "0",
    ]
    assert main(["verify", *flags]) == 1
    # DescribeAlarms is asked only when the endpoint names rollback alarms (moto's do not)
    assert calls <= set(actions_for("verify"))
    assert set(actions_for("verify", optional=False)) | {"sns:Publish"} <= calls
