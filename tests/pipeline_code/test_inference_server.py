"""The local HTTP server: SageMaker's /ping and /invocations contract on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from pipeline_code.inference import handler as h
from pipeline_code.inference import server as server_module
from pipeline_code.inference.server import ModelServer, resolve_model_dir, start_in_thread

from .conftest_serving import *  # noqa: F403 - the serving fixtures
from .conftest_serving import synthetic_features

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(loaded_model: h.LoadedModel) -> Iterator[ModelServer]:
    srv = ModelServer(0, loaded_model, quiet=True)  # port 0: an ephemeral port
    thread = start_in_thread(srv)
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


def _request(
    srv: ModelServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read().decode("utf-8")
    finally:
        conn.close()


def test_binds_loopback_only(server: ModelServer) -> None:
    assert server.server_address[0] == "127.0.0.1" and server.port > 0


def test_connections_send_without_nagle_delay(loaded_model: h.LoadedModel) -> None:
    """Headers and body are two writes: with Nagle's algorithm the body waited ~40 ms for the
    client's delayed ACK on every keep-alive request (benchmarks/bench_serving_latency.py)."""
    seen: list[int] = []

    class Recording(server_module._RequestHandler):
        def setup(self) -> None:
            super().setup()
            seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    srv = ModelServer(0, loaded_model, quiet=True)
    srv.RequestHandlerClass = Recording
    thread = start_in_thread(srv)
    try:
        assert _request(srv, "GET", "/ping")[0] == 200
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)
    assert seen and all(seen), f"TCP_NODELAY per connection: {seen}"


def test_ping(server: ModelServer) -> None:
    assert _request(server, "GET", "/ping")[0] == 200


def test_ping_before_the_model_is_loaded() -> None:
    srv = ModelServer(0, None, quiet=True)
    thread = start_in_thread(srv)
    try:
        status, _, body = _request(srv, "GET", "/ping")
        assert status == 503 and "not loaded" in json.loads(body)["message"]
        status, _, _ = _request(srv, "POST", "/invocations", b"1", {"Content-Type": "text/csv"})
        assert status == 503
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def test_invocations_csv_and_json(server: ModelServer, loaded_model: h.LoadedModel) -> None:
    rows = synthetic_features(loaded_model.schema, 5, seed=11)
    status, ctype, body = _request(
        server,
        "POST",
        "/invocations",
        rows.to_csv(header=False, index=False).encode(),
        {"Content-Type": "text/csv"},
    )
    assert (status, ctype) == (200, "application/json")
    probs = [p["probability"] for p in json.loads(body)["predictions"]]
    expected = loaded_model.pipeline.predict_proba(rows)[:, 1]
    assert probs == pytest.approx(list(expected))

    payload = json.dumps({"instances": json.loads(rows.to_json(orient="records"))}).encode()
    status, ctype, body = _request(
        server,
        "POST",
        "/invocations",
        payload,
        {"Content-Type": "application/json", "Accept": "text/csv"},
    )
    assert (status, ctype) == (200, "text/csv")
    assert [float(line.split(",")[0]) for line in body.strip().split("\n")] == pytest.approx(
        list(expected)
    )


@pytest.mark.parametrize(
    ("body", "headers", "status", "needle"),
    [
        (b"1,2", {"Content-Type": "image/png"}, 415, "not supported"),
        (b"", {"Content-Type": "text/csv"}, 400, "empty"),
        (b"1,2,3", {"Content-Type": "text/csv"}, 400, "expected 11 values"),
        (b"{oops", {"Content-Type": "application/json"}, 400, "not valid JSON"),
    ],
)
def test_client_errors_are_json_4xx(
    server: ModelServer, body: bytes, headers: dict[str, str], status: int, needle: str
) -> None:
    got, ctype, text = _request(server, "POST", "/invocations", body, headers)
    assert got == status and ctype == "application/json"
    doc = json.loads(text)
    assert doc["status"] == status and needle in doc["message"] and "Traceback" not in text


def test_unacceptable_accept_is_406(server: ModelServer, loaded_model: h.LoadedModel) -> None:
    rows = synthetic_features(loaded_model.schema, 1, seed=1)
    status, _, text = _request(
        server,
        "POST",
        "/invocations",
        rows.to_csv(header=False, index=False).encode(),
        {"Content-Type": "text/csv", "Accept": "application/xml"},
    )
    assert status == 406 and "application/xml" in json.loads(text)["message"]


def test_oversized_body_is_refused_unread(
    server: ModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(h.ENV_MAX_PAYLOAD_BYTES, "1000")
    status, _, text = _request(
        server, "POST", "/invocations", b"x" * 5000, {"Content-Type": "text/csv"}
    )
    assert status == 413 and "limit of 1000 bytes" in json.loads(text)["message"]


def test_unknown_routes_and_methods(server: ModelServer) -> None:
    assert _request(server, "GET", "/nope")[0] == 404
    assert _request(server, "POST", "/ping", b"")[0] == 404
    assert _request(server, "PUT", "/invocations", b"")[0] == 405
    assert _request(server, "DELETE", "/ping")[0] == 405


def test_model_failure_is_a_500_without_details(
    monkeypatch: pytest.MonkeyPatch, loaded_model: h.LoadedModel
) -> None:
    class Exploding:
        classes_ = loaded_model.pipeline.classes_
        feature_names_in_ = loaded_model.pipeline.feature_names_in_

        def predict_proba(self, X: pd.DataFrame) -> None:
            raise RuntimeError("secret internal detail")

    broken = h.LoadedModel.from_parts(Exploding(), loaded_model.schema)
    srv = ModelServer(0, broken, quiet=True)
    thread = start_in_thread(srv)
    try:
        rows = synthetic_features(loaded_model.schema, 1, seed=2)
        status, _, text = _request(
            srv,
            "POST",
            "/invocations",
            rows.to_csv(header=False, index=False).encode(),
            {"Content-Type": "text/csv"},
        )
        assert status == 500 and "secret" not in text and "see the server log" in text
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def test_resolve_model_dir_extracts_archives(tmp_path: Path, model_artifact: Path) -> None:
    assert resolve_model_dir(model_artifact / "model", tmp_path) == model_artifact / "model"
    from_folder = resolve_model_dir(model_artifact, tmp_path / "a")
    from_file = resolve_model_dir(model_artifact / "model.tar.gz", tmp_path / "b")
    for d in (from_folder, from_file):
        assert {p.name for p in d.iterdir()} >= {"model.joblib", "schema.json", "metadata.json"}
    with pytest.raises(FileNotFoundError, match=r"model\.tar\.gz"):
        resolve_model_dir(tmp_path / "nothing", tmp_path)


def test_resolve_model_dir_refuses_path_traversal(tmp_path: Path) -> None:
    evil = tmp_path / "model.tar.gz"
    payload = tmp_path / "payload.txt"
    payload.write_text("x")
    with tarfile.open(evil, "w:gz") as tar:
        tar.add(payload, arcname="../escaped.txt")
    with pytest.raises(tarfile.TarError):
        resolve_model_dir(evil, tmp_path / "scratch")
    assert (
        not (tmp_path / "scratch" / "escaped.txt").exists()
        and not (tmp_path / "escaped.txt").exists()
    )


def test_sigterm_during_request_dispatch_stops_the_server(loaded_model: h.LoadedModel) -> None:
    """SIGTERM can land while the main thread is starting a request's thread; socketserver logs
    and swallows any ``Exception`` raised there, so the stop signal must not be one (CI saw a
    server that ignored SIGTERM under load)."""
    server = ModelServer(0, loaded_model, quiet=True)

    def dispatch_interrupted(request: object, client_address: object) -> None:
        raise server_module._Terminated

    server.process_request = dispatch_interrupted  # type: ignore[method-assign]
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    # were the signal swallowed, serving would go on: stop it after a bound, and fail
    guard = threading.Timer(10, server.shutdown)
    try:
        conn.connect()
        guard.start()
        with pytest.raises(server_module._Terminated):
            server.serve_forever(poll_interval=0.05)
    finally:
        guard.cancel()
        conn.close()
        server.server_close()


@pytest.mark.slow
def test_module_entry_point_serves_and_stops(model_artifact: Path) -> None:
    """``python -m pipeline_code.inference.server`` on a free port, a few bounded requests."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline_code.inference.server",
            "--model-dir",
            str(model_artifact),
            "--port",
            "0",
            "--quiet",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # "serving ... on http://127.0.0.1:PORT ..."
        assert "http://127.0.0.1:" in line, proc.stderr.read() if proc.stderr else line
        port = int(line.split("http://127.0.0.1:")[1].split()[0])
        deadline = time.monotonic() + 20
        status = 0
        while time.monotonic() < deadline and status != 200:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/ping")
            status = conn.getresponse().status
            conn.close()
        assert status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_entry_point_reports_a_bad_model_dir(tmp_path: Path) -> None:
    from pipeline_code.inference.server import main

    assert main(["--model-dir", str(tmp_path), "--port", "0"]) == 2


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: _file(d / "model.joblib", b"\x80\x04not a tar"), "is not a tar archive"),
        (lambda d: _file(d / "model.tar.gz", b"\x1f\x8b\x08truncated"), "is not a tar archive"),
        (lambda d: d / "missing.tar.gz", "is neither a model folder"),
        (lambda d: d, "this folder is neither a model folder (with model.joblib) nor holds"),
    ],
)
def test_a_path_that_is_not_a_model_gets_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], Path],
    message: str,
) -> None:
    from pipeline_code.inference.server import main

    path = make(tmp_path)
    assert main(["--model", str(path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cannot load the model: ") and err.count("\n") == 1, err
    assert message in err and str(path) in err
    assert "Traceback" not in err and "ReadError" not in err


def _file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_an_archive_without_a_model_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline_code.inference.server import main

    archive = tmp_path / "model.tar.gz"
    readme = _file(tmp_path / "README.txt", b"x")
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(readme, arcname="README.txt")
    assert main(["--model", str(archive), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no model.joblib (it has ['README.txt'])" in err


@pytest.mark.slow
@pytest.mark.parametrize("command", ["module", "cdk-mlops"])
def test_sigterm_removes_the_unpacked_model_like_ctrl_c(model_artifact: Path, command: str) -> None:
    """SIGTERM (docker stop, systemd, kill) stops the server and removes the unpacked archive."""
    prefix = (
        ["-m", "pipeline_code.inference.server"]
        if command == "module"
        else ["-c", "import sys; from cdk_mlops.cli import main; sys.exit(main())", "serve"]
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            *prefix,
            "--model",
            str(model_artifact / "model.tar.gz"),
            "--port",
            "0",
            "--quiet",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # "serving NAME model from DIR on URL (Ctrl-C to stop)"
        assert " from " in line, proc.stderr.read() if proc.stderr else line
        unpacked = Path(line.split(" from ", 1)[1].split(" on http")[0])
        assert (unpacked / "model.joblib").is_file()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 0, err
    assert "stopped (SIGTERM)" in err
    assert not unpacked.exists() and not unpacked.parent.exists()


def test_cdk_mlops_serve_takes_the_server_arguments() -> None:
    from cdk_mlops import cli

    args = cli.build_parser().parse_args(["serve", "--model", "m.tar.gz", "--port", "9000"])
    assert (args.model, args.port, args.quiet) == ("m.tar.gz", 9000, False)
    # the module's old option name still works
    old = cli.build_parser().parse_args(["serve", "--model-dir", "m"])
    assert old.model == "m" and old.port == 8080
