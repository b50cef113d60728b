"""One small protocol for sending a request to a model, real or local.

The smoke and latency tests talk to an :class:`Invoker`; two implementations exist:

* :class:`SageMakerInvoker`: a boto3 ``sagemaker-runtime`` client's ``InvokeEndpoint``
  (the staging or prod endpoint, from CodeBuild inside the VPC);
* :class:`HttpInvoker`: ``POST /invocations`` on the local model server
  (:mod:`pipeline_code.inference.server`), for ``deploy-local`` and the tests.

Both answer with an :class:`InvokeResult` and never raise for an HTTP error, so the tests
report every failed row the same way. SageMaker's ``ModelError`` (HTTP 424) carries the model
container's own status in ``OriginalStatusCode``: that status is the one reported, so a model
that answers 500 is a 5xx here too.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from .errors import UsageError, one_line

CSV = "text/csv"
JSON = "application/json"
#: SageMaker cuts a real-time invocation off after 60 s; the client waits a little longer.
READ_TIMEOUT_SECONDS = 70.0


@dataclass(frozen=True)
class InvokeResult:
    """What came back: ``status`` is the model's HTTP status (0 when nothing came back)."""

    status: int
    body: bytes
    content_type: str
    error: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Invoker(Protocol):
    """Sends one request body to a model and returns what it answered."""

    @property
    def target(self) -> str:
        """What is invoked, for messages (``endpoint my-endpoint``, ``http://127.0.0.1:8080``)."""
        ...

    def invoke(self, body: bytes, content_type: str, accept: str) -> InvokeResult:
        """Send ``body``; never raises for HTTP errors (see :class:`InvokeResult`)."""
        ...


class SageMakerInvoker:
    """``InvokeEndpoint`` through a boto3 ``sagemaker-runtime`` client (thread-safe)."""

    def __init__(self, client: Any, endpoint_name: str, *, target_variant: str | None = None):
        self.client = client
        self.endpoint_name = endpoint_name
        self.target_variant = target_variant

    @property
    def target(self) -> str:
        variant = f" variant {self.target_variant}" if self.target_variant else ""
        return f"endpoint {self.endpoint_name}{variant}"

    def invoke(self, body: bytes, content_type: str, accept: str) -> InvokeResult:
        from botocore.exceptions import BotoCoreError, ClientError

        kwargs: dict[str, Any] = {
            "EndpointName": self.endpoint_name,
            "Body": body,
            "ContentType": content_type,
            "Accept": accept,
        }
        if self.target_variant:
            kwargs["TargetVariant"] = self.target_variant
        start = time.perf_counter()
        try:
            response = self.client.invoke_endpoint(**kwargs)
            data = response["Body"].read()
        except ClientError as exc:
            elapsed = time.perf_counter() - start
            err = exc.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            message = str(err.get("Message", "")) or str(exc)
            if code == "ModelError":
                # the container's own answer; 424 is only SageMaker's wrapper
                original = exc.response.get("OriginalStatusCode") or err.get("OriginalStatusCode")
                if original:
                    status = int(original)
                message = str(exc.response.get("OriginalMessage") or message)
            return InvokeResult(status, b"", "", f"{code}: {one_line(message)}", elapsed)
        except BotoCoreError as exc:  # connection refused, read timeout...
            return InvokeResult(0, b"", "", one_line(exc), time.perf_counter() - start)
        elapsed = time.perf_counter() - start
        return InvokeResult(200, data, str(response.get("ContentType", "")), "", elapsed)


class HttpInvoker:
    """``POST /invocations`` over HTTP/1.1 keep-alive (one connection per thread)."""

    def __init__(self, url: str, *, timeout: float = READ_TIMEOUT_SECONDS) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise UsageError(
                f"model server URL {url!r} is not http://HOST:PORT; pass the local server's URL "
                "(e.g. http://127.0.0.1:8080)"
            )
        self.url = url.rstrip("/")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.timeout = timeout
        self._local = threading.local()

    @property
    def target(self) -> str:
        return self.url

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._local.conn = None

    def close(self) -> None:
        """Close this thread's connection."""
        self._drop()

    def invoke(self, body: bytes, content_type: str, accept: str) -> InvokeResult:
        headers = {"Content-Type": content_type, "Accept": accept}
        start = time.perf_counter()
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request("POST", "/invocations", body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                self._drop()
                # a kept-alive connection the server closed: retry once on a new one
                if attempt == 1 and isinstance(
                    exc, http.client.RemoteDisconnected | BrokenPipeError | ConnectionResetError
                ):
                    start = time.perf_counter()
                    continue
                return InvokeResult(0, b"", "", one_line(exc), time.perf_counter() - start)
            elapsed = time.perf_counter() - start
            if response.getheader("Connection", "").lower() == "close":
                self._drop()
            content = response.getheader("Content-Type", "") or ""
            error = "" if 200 <= response.status < 300 else _error_message(data)
            return InvokeResult(response.status, data, content, error, elapsed)
        raise AssertionError("unreachable")  # pragma: no cover


def _error_message(data: bytes) -> str:
    import json

    try:
        doc = json.loads(data)
    except ValueError:
        return one_line(data.decode("utf-8", "replace"))[:300]
    if isinstance(doc, dict) and "message" in doc:
        return one_line(f"{doc.get('error', 'Error')}: {doc['message']}")[:300]
    return one_line(data.decode("utf-8", "replace"))[:300]
