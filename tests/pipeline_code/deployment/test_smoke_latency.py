"""smoke-test and latency-test, against moto/Stubber (SageMaker) and the real local server."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from pipeline_code.deployment.cli import main
from pipeline_code.deployment.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from pipeline_code.deployment.invoke import HttpInvoker, InvokeResult, SageMakerInvoker
from pipeline_code.deployment.latency import percentile, run_latency_test
from pipeline_code.deployment.samples import SampleRow, parse_sample_rows
from pipeline_code.deployment.smoke import run_smoke_test
from pipeline_code.inference.handler import LoadedModel
from pipeline_code.inference.server import ModelServer, start_in_thread
from pipeline_code.schema import Schema

from ..conftest_serving import *  # noqa: F403 - the serving fixtures
from ..conftest_serving import synthetic_features
from .aws_fixtures import REGION, aws, predictions, queue_invoke_results

__all__ = ["aws"]

ROOT = Path(__file__).resolve().parents[3]
ENDPOINT = "churn-staging"


@pytest.fixture(scope="module")
def server(loaded_model: LoadedModel) -> Iterator[ModelServer]:
    srv = ModelServer(0, loaded_model, quiet=True)
    thread = start_in_thread(srv)
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory: pytest.TempPathFactory, churn_schema: Schema) -> Path:
    path = tmp_path_factory.mktemp("sample") / "sample.csv"
    synthetic_features(churn_schema, 25, seed=5, null_share=0.0).to_csv(
        path, header=False, index=False
    )
    return path


def rows(n: int) -> list[SampleRow]:
    return [SampleRow(i, f"{i},x") for i in range(1, n + 1)]


# ------------------------------------------------------------------ against SageMaker (moto)
@pytest.mark.usefixtures("aws")
def test_smoke_passes_when_every_row_gets_a_prediction() -> None:
    queue_invoke_results([predictions([0.1, 0.9]), predictions([0.5])])
    invoker = SageMakerInvoker(boto3.client("sagemaker-runtime", region_name=REGION), ENDPOINT)
    report = run_smoke_test(invoker, rows(3), batch_size=2)
    assert report.passed, report.summary()
    assert (report.rows, report.requests) == (3, 2)


@pytest.mark.usefixtures("aws")
def test_smoke_fails_on_a_wrong_shape_naming_the_rows() -> None:
    queue_invoke_results([predictions([0.1, 1.7]), predictions([])])
    invoker = SageMakerInvoker(boto3.client("sagemaker-runtime", region_name=REGION), ENDPOINT)
    report = run_smoke_test(invoker, rows(3), batch_size=2)
    summary = report.summary()
    assert summary.startswith("smoke test failed on 2 of 3 rows against endpoint churn-staging")
    assert "row 2: probability 1.7 is not in [0, 1]" in summary
    assert "row 3: 0 predictions for 1 rows" in summary


@pytest.mark.usefixtures("aws")
def test_smoke_fails_on_a_body_that_is_not_predictions() -> None:
    queue_invoke_results(['{"result": [1]}', "not json"])
    invoker = SageMakerInvoker(boto3.client("sagemaker-runtime", region_name=REGION), ENDPOINT)
    summary = run_smoke_test(invoker, rows(2), batch_size=1).summary()
    assert 'row 1: the response has no "predictions" list' in summary
    assert "row 2: the response is not JSON: 'not json'" in summary


def _model_error(stub: Stubber, status: int, message: str) -> None:
    stub.add_client_error(
        "invoke_endpoint",
        service_error_code="ModelError",
        service_message=f'Received server error ({status}) from primary with message "{message}"',
        http_status_code=424,
        modeled_fields={"OriginalStatusCode": status, "OriginalMessage": message},
    )


def _body(text: str) -> StreamingBody:
    data = text.encode()
    return StreamingBody(io.BytesIO(data), len(data))


def test_smoke_names_the_rows_that_get_a_5xx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("sagemaker-runtime", region_name=REGION)
    with Stubber(client) as stub:
        _model_error(stub, 500, "the model failed on this request")  # the batch of rows 1-3
        stub.add_response(
            "invoke_endpoint",
            {"Body": _body(predictions([0.3])), "ContentType": "application/json"},
        )
        _model_error(stub, 500, "the model failed on this request")  # row 2 alone
        stub.add_response(
            "invoke_endpoint",
            {"Body": _body(predictions([0.6])), "ContentType": "application/json"},
        )
        report = run_smoke_test(SageMakerInvoker(client, ENDPOINT), rows(3), batch_size=3)
        stub.assert_no_pending_responses()
    assert [p.line for p in report.problems] == [2]
    assert report.problems[0].server_error
    assert (
        "row 2: HTTP 500 server error: ModelError: the model failed on this request"
        in report.summary()
    )


def test_an_unreachable_endpoint_is_a_failed_request_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("sagemaker-runtime", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_client_error(
            "invoke_endpoint", "ValidationError", "Endpoint churn-staging not found.", 400
        )
        result = SageMakerInvoker(client, ENDPOINT).invoke(b"1\n", "text/csv", "application/json")
    assert (result.status, result.ok) == (400, False)
    assert result.error == "ValidationError: Endpoint churn-staging not found."


# ------------------------------------------------------------------ against the local server
def test_smoke_passes_against_the_local_server(server: ModelServer, sample_file: Path) -> None:
    report = run_smoke_test(
        HttpInvoker(server.url), parse_sample_rows(sample_file.read_text()), batch_size=10
    )
    assert report.passed, report.summary()
    assert (report.rows, report.requests) == (25, 3)


def test_smoke_names_a_row_the_model_rejects(server: ModelServer, sample_file: Path) -> None:
    lines = sample_file.read_text().splitlines()
    lines[6] = ",".join(["-5"] * len(lines[6].split(",")))  # line 7: values outside the schema
    report = run_smoke_test(
        HttpInvoker(server.url), parse_sample_rows("\n".join(lines)), batch_size=10
    )
    assert [p.line for p in report.problems] == [7]
    assert "row 7: HTTP 400 client error: BadRequestError" in report.summary()


def test_csv_answers_are_checked_too(server: ModelServer, sample_file: Path) -> None:
    report = run_smoke_test(
        HttpInvoker(server.url), parse_sample_rows(sample_file.read_text()), accept="text/csv"
    )
    assert report.passed, report.summary()


def test_latency_against_the_local_server_prints_a_table(
    server: ModelServer, sample_file: Path
) -> None:
    sample = parse_sample_rows(sample_file.read_text())
    report = run_latency_test(
        HttpInvoker(server.url), sample, requests=20, batch_rows=30, p99_ms=5000, warmup=2
    )
    assert report.passed, report.summary()
    assert [(c.rows_per_request, c.requests) for c in report.cases] == [(1, 20), (30, 20)]
    table = report.table()
    assert "rows/request" in table and table.count("PASS") == 2
    failing = run_latency_test(
        HttpInvoker(server.url), sample, requests=5, batch_rows=0, p99_ms=0.001, warmup=0
    )
    assert not failing.passed
    assert (
        "p99 of 1-row requests is" in failing.summary()
        and "above the limit of 0.0 ms" in failing.summary()
    )


class _Failing:
    """An invoker whose every request fails (a model that answers 503)."""

    target = "fake"

    def invoke(self, body: bytes, content_type: str, accept: str) -> InvokeResult:
        return InvokeResult(503, b"", "", "ServiceUnavailable: busy", 0.001)


def test_latency_fails_when_requests_fail() -> None:
    report = run_latency_test(
        _Failing(), rows(3), requests=4, batch_rows=0, p99_ms=100, warmup=0, concurrency=2
    )
    assert report.summary() == (
        "latency test failed against fake: 4 of 4 requests of 1 row failed (first: HTTP 503: ServiceUnavailable: busy)"
    )


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0, 1.0, 2.0], 99) == 3.0
    with pytest.raises(ValueError, match="percentile of no values"):
        percentile([], 50)


# ------------------------------------------------------------------ the commands
def test_smoke_and_latency_commands_against_the_local_server(
    server: ModelServer, sample_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["smoke-test", "--url", server.url, "--sample-file", str(sample_file)]) == EXIT_OK
    assert "smoke test passed: 25 rows in 3 requests" in capsys.readouterr().out
    flags = [
        "--url",
        server.url,
        "--sample-file",
        str(sample_file),
        "--requests",
        "10",
        "--batch-rows",
        "5",
    ]
    assert main(["latency-test", *flags, "--p99-ms", "5000"]) == EXIT_OK
    assert "latency test passed" in capsys.readouterr().out
    assert main(["latency-test", *flags, "--p99-ms", "0.0001"]) == EXIT_FAILED
    err = capsys.readouterr().err.strip()
    assert err.startswith("latency-test: latency test failed against http://127.0.0.1:")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["smoke-test", "--url", "http://127.0.0.1:1"], "no sample rows: pass --sample-file"),
        (
            ["smoke-test", "--sample-file", "/nonexistent.csv", "--url", "http://127.0.0.1:1"],
            "sample file '/nonexistent.csv' does not exist",
        ),
        (
            [
                "smoke-test",
                "--sample-file",
                "SAMPLE",
                "--url",
                "ftp://x",
            ],
            "model server URL 'ftp://x' is not http://HOST:PORT",
        ),
        (
            [
                "smoke-test",
                "--sample-file",
                "SAMPLE",
                "--url",
                "http://127.0.0.1:1",
                "--endpoint-name",
                "e",
            ],
            "either --endpoint-name or --url",
        ),
        (["smoke-test", "--sample-file", "SAMPLE"], "no target: pass --endpoint-name"),
        (
            ["smoke-test", "--sample-file", "s3://bucket-only", "--url", "http://127.0.0.1:1"],
            "is not s3://BUCKET/KEY",
        ),
        (
            ["latency-test", "--sample-file", "SAMPLE", "--url", "http://127.0.0.1:1"],
            "latency-test needs --p99-ms",
        ),
    ],
)
def test_commands_fail_on_bad_flags(
    argv: list[str],
    message: str,
    sample_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("ENDPOINT_NAME", "SAMPLE_FILE", "P99_MS", "MODEL_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_REGION", REGION)
    argv = [str(sample_file) if a == "SAMPLE" else a for a in argv]
    assert main(argv) == EXIT_USAGE
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["latency-test", "--p99-ms", "-1"], "argument --p99-ms: '-1' must be a positive number"),
        (["smoke-test", "--batch-size", "0"], "argument --batch-size: '0' must be at least 1"),
        (
            ["latency-test", "--requests", "many"],
            "argument --requests: 'many' is not a whole number",
        ),
    ],
)
def test_argparse_rejects_bad_numbers(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_a_bad_number_in_the_environment_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("P99_MS", "fast")
    with pytest.raises(SystemExit):
        main(["latency-test"])
    assert "argument --p99-ms: 'fast' is not a number" in capsys.readouterr().err


def test_help_does_not_import_boto3() -> None:
    code = (
        "import sys\n"
        "from pipeline_code.deployment.cli import main\n"
        "for cmd in ('resolve', 'smoke-test', 'latency-test', 'verify', 'deploy-local'):\n"
        "    try:\n"
        "        main([cmd, '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = [m for m in ('boto3', 'botocore', 'pandas', 'numpy', 'sklearn') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "HEAVY []"


def test_the_s3_sample_file_is_read_with_get_object(aws: None) -> None:
    from pipeline_code.deployment.samples import load_sample_rows

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="samples", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="samples", Key="churn/sample.csv", Body=b"\xef\xbb\xbfa,b\n1,2\n\n3,4\n")
    loaded = load_sample_rows("s3://samples/churn/sample.csv", skip_header=True, s3_client=s3)
    assert loaded == [SampleRow(2, "1,2"), SampleRow(4, "3,4")]
    with pytest.raises(
        Exception, match=re.escape("cannot read sample file 's3://samples/missing.csv' (NoSuchKey)")
    ):
        load_sample_rows("s3://samples/missing.csv", s3_client=s3)


def test_an_empty_sample_file_is_refused(tmp_path: Path) -> None:
    from pipeline_code.deployment.samples import load_sample_rows

    path = tmp_path / "empty.csv"
    path.write_text("\n\n")
    with pytest.raises(Exception, match="has no rows; put at least one CSV line"):
        load_sample_rows(str(path))


@pytest.mark.parametrize(
    ("command", "names"),
    [
        ("resolve", ["MODEL_PACKAGE_GROUP_NAME", "PROD_ENDPOINT_NAME", "ON_DUPLICATE"]),
        ("smoke-test", ["ENDPOINT_NAME", "SAMPLE_FILE", "SMOKE_BATCH_SIZE"]),
        ("latency-test", ["P99_MS", "LATENCY_REQUESTS"]),
        ("verify", ["ALERTS_TOPIC_ARN", "EXPECTED_ENDPOINT_CONFIG_NAME"]),
        ("deploy-local", ["local-endpoint.json", "--approve"]),
    ],
)
def test_each_command_help_names_its_environment_variables(
    command: str, names: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    for name in names:
        assert name in out
    assert "3 nothing to do" in out
