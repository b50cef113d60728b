"""Client errors (HTTP 4xx) of the inference handler, and the request limits behind the 413s.

Every client error carries its status and a message naming the problem, the value and the fix.
:class:`InferenceClientError` subclasses ``sagemaker_inference.errors.GenericInferenceToolkitError``
when that package is importable, so the inference toolkit answers with its status; how the
scikit-learn container's Flask server is brought to a 4xx is in
:mod:`pipeline_code.inference.handler`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

#: SageMaker real-time endpoints accept at most 6 MB per request.
DEFAULT_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
DEFAULT_MAX_ROWS = 10_000
ENV_MAX_PAYLOAD_BYTES = "CDK_MLOPS_MAX_PAYLOAD_BYTES"
ENV_MAX_ROWS = "CDK_MLOPS_MAX_ROWS"


if TYPE_CHECKING:

    class _ToolkitError(Exception):
        def __init__(
            self, status_code: int, message: str | None = None, phrase: str | None = None
        ) -> None: ...

else:
    try:  # the toolkit maps BaseInferenceToolkitError subclasses to their status code
        from sagemaker_inference.errors import GenericInferenceToolkitError as _ToolkitError
    except ImportError:  # pragma: no cover - exercised in a subprocess test

        class _ToolkitError(Exception):
            """Local stand-in with the toolkit error's attributes."""

            def __init__(self, status_code, message=None, phrase=None):
                self.status_code = status_code
                self.message = message or "Invalid Request"
                self.phrase = phrase or self.message
                super().__init__(status_code, self.message, self.phrase)


class InferenceClientError(_ToolkitError):
    """A request the model cannot serve because of the request itself (HTTP 4xx)."""

    status_code: int
    message: str

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(status_code, message, message)
        self.status_code = status_code
        self.message = message

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> str:
        """The error body the servers send: ``{"error": ..., "message": ..., "status": ...}``."""
        return json.dumps(
            {"error": type(self).__name__, "message": self.message, "status": self.status_code}
        )


class BadRequestError(InferenceClientError):
    """400: the body cannot be read or its values do not fit the schema."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message)


class NotAcceptableError(InferenceClientError):
    """406: the Accept header asks for a format we cannot write."""

    def __init__(self, message: str) -> None:
        super().__init__(406, message)


class PayloadTooLargeError(InferenceClientError):
    """413: the body or the number of rows is over the configured limit."""

    def __init__(self, message: str) -> None:
        super().__init__(413, message)


class UnsupportedMediaTypeError(InferenceClientError):
    """415: the Content-Type is not one we read."""

    def __init__(self, message: str) -> None:
        super().__init__(415, message)


class ModelLoadError(RuntimeError):
    """The model folder is not a usable model artifact (a deployment error, not a client one)."""


@dataclass(frozen=True)
class RejectedRequest:
    """A client error carried down the chain instead of raised (see :data:`DEFER_CLIENT_ERRORS`)."""

    error: InferenceClientError


@dataclass(frozen=True)
class ServingLimits:
    """Request limits; set them with environment variables on the model/endpoint."""

    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    max_rows: int = DEFAULT_MAX_ROWS

    @classmethod
    def from_env(cls, env: Any = None) -> ServingLimits:
        env = os.environ if env is None else env
        return cls(
            max_payload_bytes=_positive_int(env, ENV_MAX_PAYLOAD_BYTES, DEFAULT_MAX_PAYLOAD_BYTES),
            max_rows=_positive_int(env, ENV_MAX_ROWS, DEFAULT_MAX_ROWS),
        )


def _positive_int(env: Any, name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(
            f"environment variable {name}={raw!r} is not an integer; set a positive whole number"
        ) from None
    if value <= 0:
        raise ValueError(f"environment variable {name}={raw!r} must be positive")
    return value
