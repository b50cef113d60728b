"""A local HTTP server with SageMaker's serving contract, for trying a model on this machine.

* ``GET /ping``: 200 when the model is loaded (503 before).
* ``POST /invocations``: the body in ``Content-Type`` (``text/csv`` or ``application/json``), the
  answer in ``Accept`` (``application/json`` by default, or ``text/csv``), through the same
  ``input_fn``/``predict_fn``/``output_fn`` as the SageMaker container. Client errors get their
  4xx status and a JSON body ``{"error", "message", "status"}``; unexpected errors get a 500
  with a generic message (the traceback goes to the server log, never to the client).

It listens on 127.0.0.1 only::

    cdk-mlops serve --model path/to/model.tar.gz [--port 8080]
    python -m pipeline_code.inference.server --model path/to/model.tar.gz   # the same

``--model`` (or its older name ``--model-dir``) may be an extracted model folder, a folder
holding ``model.tar.gz``, or the ``model.tar.gz`` file itself. An archive is unpacked into a
temporary folder that is removed when the server stops, on Ctrl-C and on SIGTERM alike. A path
that is not a model gets a one-line message and exit status 2.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import sys
import tarfile
import tempfile
import threading
import traceback
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

from ..compat import extract_tar
from . import handler
from .serve_cli import DEFAULT_PORT, add_serve_arguments

HOST = "127.0.0.1"
__all__ = [
    "DEFAULT_PORT",
    "HOST",
    "ModelServer",
    "main",
    "resolve_model_dir",
    "serve",
    "start_in_thread",
]


class ModelServer(ThreadingHTTPServer):
    """ThreadingHTTPServer bound to 127.0.0.1 that serves one :class:`handler.LoadedModel`."""

    daemon_threads = True

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        model: handler.LoadedModel | None = None,
        *,
        quiet: bool = False,
    ) -> None:
        self.model = model
        self.quiet = quiet
        super().__init__((HOST, port), _RequestHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


class _RequestHandler(BaseHTTPRequestHandler):
    server: ModelServer
    protocol_version = "HTTP/1.1"
    server_version = "cdk-mlops-model-server"
    # TCP_NODELAY: headers and body are separate writes on a keep-alive connection, and Nagle's
    # algorithm held the body back for the client's delayed ACK (~40 ms per request; see
    # benchmarks/bench_serving_latency.py).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            super().log_message(format, *args)

    def _send(self, status: int, body: str | bytes, content_type: str) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_error_json(self, status: int, message: str, error: str | None = None) -> None:
        body = json.dumps(
            {
                "error": error or HTTPStatus(status).phrase.replace(" ", ""),
                "message": message,
                "status": status,
            }
        )
        self._send(status, body, handler.JSON_CONTENT_TYPE)

    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/ping":
            self._send_error_json(
                404, f"no route GET {self.path}; use GET /ping or POST /invocations"
            )
            return
        if self.server.model is None:
            self._send_error_json(503, "the model is not loaded yet")
            return
        self._send(200, "", "text/plain")

    def do_POST(self) -> None:
        if self.path.split("?")[0] != "/invocations":
            self._send_error_json(404, f"no route POST {self.path}; use POST /invocations")
            self.close_connection = True
            return
        model = self.server.model
        if model is None:
            self._send_error_json(
                503, "the model is not loaded yet; retry after GET /ping answers 200"
            )
            self.close_connection = True
            return
        body = self._read_body()
        if body is None:
            return
        try:
            result = self._invoke(model, body)
        except handler.InferenceClientError as exc:
            self._send(exc.status_code, exc.to_json(), handler.JSON_CONTENT_TYPE)
            return
        except Exception:
            # the traceback is for the operator's log; the client only learns that we failed
            traceback.print_exc(file=sys.stderr)
            self._send_error_json(
                500, "the model failed on this request; see the server log", "InternalServerError"
            )
            return
        response, content_type = result
        self._send(200, response, content_type)

    def do_PUT(self) -> None:
        self._method_not_allowed()

    def do_DELETE(self) -> None:
        self._method_not_allowed()

    def _method_not_allowed(self) -> None:
        self._send_error_json(
            405, f"{self.command} is not allowed; use GET /ping or POST /invocations"
        )
        self.close_connection = True

    def _read_body(self) -> bytes | None:
        limits = handler.ServingLimits.from_env()
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self._send_error_json(411, "chunked bodies are not supported; send a Content-Length")
            self.close_connection = True
            return None
        raw_length = self.headers.get("Content-Length")
        try:
            length = int(raw_length) if raw_length is not None else 0
            if length < 0:
                raise ValueError
        except ValueError:
            self._send_error_json(
                400, f"Content-Length {raw_length!r} is not a non-negative integer"
            )
            self.close_connection = True
            return None
        if length > limits.max_payload_bytes:
            # do not read it: answer and drop the connection
            self._send_error_json(
                413,
                f"the body is {length} bytes, more than the limit of {limits.max_payload_bytes} bytes; "
                f"split it into smaller requests (or raise {handler.ENV_MAX_PAYLOAD_BYTES})",
                "PayloadTooLargeError",
            )
            self.close_connection = True
            return None
        return self.rfile.read(length)

    def _invoke(self, model: handler.LoadedModel, body: bytes) -> tuple[str, str]:
        content_type = self.headers.get("Content-Type")
        accept = self.headers.get("Accept")
        parsed = handler.input_fn(body, content_type)
        prediction = handler.predict_fn(parsed, model)
        if isinstance(prediction, handler.RejectedRequest):
            raise prediction.error
        result = handler.output_fn(prediction, accept)
        if not isinstance(result, tuple):
            raise TypeError(
                f"output_fn returned {type(result).__name__}, expected (body, content_type)"
            )
        return result


def resolve_model_dir(path: str | os.PathLike[str], scratch: Path) -> Path:
    """An extracted model folder for ``path`` (extracting ``model.tar.gz`` into ``scratch`` if needed).

    Raises ``FileNotFoundError`` when there is nothing at ``path`` to serve,
    :class:`~pipeline_code.inference.errors.ModelLoadError` when ``path`` is a file that is not a
    tar archive, and ``tarfile.TarError`` when the archive is damaged or unsafe.
    """
    p = Path(path)
    if p.is_dir() and (p / handler.MODEL_FILE).is_file():
        return p
    archive = p if p.is_file() else p / "model.tar.gz"
    if not archive.is_file():
        what = "folder" if p.is_dir() else "path"
        raise FileNotFoundError(
            f"{str(p)!r}: this {what} is neither a model folder (with {handler.MODEL_FILE}) nor "
            "holds model.tar.gz; pass the model.tar.gz of a training run or registered model version"
        )
    dest = scratch / "model"
    dest.mkdir(parents=True, exist_ok=True)
    try:
        readable = tarfile.is_tarfile(archive)
    except (EOFError, gzip.BadGzipFile, zlib.error):  # a truncated or corrupt compressed file
        readable = False
    if not readable:
        raise handler.ModelLoadError(
            f"{str(archive)!r} is not a tar archive (model.tar.gz), or a damaged one; pass the model.tar.gz of a "
            f"training run, a folder holding it, or an extracted model folder with {handler.MODEL_FILE}"
        )
    try:
        with tarfile.open(archive, "r:*") as tar:
            extract_tar(tar, dest)  # refuses absolute paths, links out, devices
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:  # truncated or corrupt
        raise tarfile.ReadError(f"{str(archive)!r} is truncated or corrupt: {exc}") from None
    return dest


class _Terminated(BaseException):
    """SIGTERM arrived: stop serving and clean up, as on Ctrl-C.

    A ``BaseException`` like ``KeyboardInterrupt``: the signal can land while the main thread is
    inside ``socketserver``'s request dispatch, which catches and logs every ``Exception`` and
    would keep serving (seen as a server that ignored SIGTERM under load).
    """


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


@contextmanager
def _sigterm_stops() -> Iterator[None]:
    """While inside, SIGTERM raises :class:`_Terminated` in the main thread (so ``finally`` and
    temporary folders are cleaned up) instead of ending the process on the spot."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def serve(
    model_path: str | os.PathLike[str], *, port: int = DEFAULT_PORT, quiet: bool = False
) -> int:
    """Load the model at ``model_path`` and serve it until Ctrl-C or SIGTERM; returns the exit status.

    Status 2 with a one-line message on stderr when the model cannot be loaded or the port is
    taken; 0 after a stop. An archive's temporary folder is removed in every case.
    """
    try:
        with _sigterm_stops(), tempfile.TemporaryDirectory(prefix="model-server-") as scratch:
            try:
                model_dir = resolve_model_dir(model_path, Path(scratch))
                model = handler.model_fn(model_dir)
            except (FileNotFoundError, handler.ModelLoadError) as exc:
                print(f"cannot load the model: {_one_line(exc)}", file=sys.stderr)
                return 2
            except tarfile.TarError as exc:
                print(
                    f"cannot load the model: {str(model_path)!r} is a damaged or unsafe archive "
                    f"({_one_line(exc)}); rebuild it with the training step",
                    file=sys.stderr,
                )
                return 2
            try:
                server = ModelServer(port, model, quiet=quiet)
            except OSError as exc:
                print(
                    f"cannot listen on {HOST}:{port}: {_one_line(exc)}; pick another --port",
                    file=sys.stderr,
                )
                return 2
            print(
                f"serving {model.schema.name} model from {model_dir} on {server.url} "
                "(Ctrl-C to stop)",
                flush=True,
            )
            try:
                server.serve_forever()
            finally:
                server.server_close()
    except (KeyboardInterrupt, _Terminated) as exc:
        how = "SIGTERM" if isinstance(exc, _Terminated) else "Ctrl-C"
        print(f"stopped ({how})", file=sys.stderr, flush=True)
    return 0


def start_in_thread(server: ModelServer) -> threading.Thread:
    """Serve in a daemon thread (tests, notebooks); stop with ``server.shutdown()``."""
    # a short poll interval makes shutdown() return quickly
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="model-server",
        daemon=True,
    )
    thread.start()
    return thread


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pipeline_code.inference.server``: the same as ``cdk-mlops serve``."""
    from .serve_cli import SERVE_DESCRIPTION, serve_command

    parser = argparse.ArgumentParser(
        prog="python -m pipeline_code.inference.server",
        description=SERVE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_serve_arguments(parser)
    return serve_command(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
