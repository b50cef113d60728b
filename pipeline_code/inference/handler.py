"""Inference handler for the SageMaker scikit-learn serving container.

The container imports this module (``entry_point``) and calls, per worker::

    model = model_fn("/opt/ml/model")                       # once
    data = input_fn(request_body, request_content_type)     # per request
    prediction = predict_fn(data, model)
    body, content_type = output_fn(prediction, accept)

Requests: ``text/csv`` (rows of feature values in ``schema.feature_names`` order, no header, or
a header line naming the features in any order) or ``application/json``
(``{"instances": [{feature: value, ...}, ...]}``, ``{"instances": [[...], ...]}``, a bare list of
objects or lists, or one object). Responses: ``application/json`` (default)
``{"predictions": [{"probability": p, "predicted_label": 0|1}, ...]}`` or ``text/csv`` lines
``p,label``; ``probability`` is the probability of the schema's positive class and
``predicted_label`` is 1 when it reaches the decision threshold (``metadata.json``'s
``decision_threshold``, default 0.5).

Client errors (bad content type, body, shape or values) raise :class:`InferenceClientError`
with an HTTP status (400, 406, 413, 415) and a message naming the problem, the value and the fix.

How a handler gets a 4xx out of SageMaker's containers (from their source):

* ``sagemaker-inference-toolkit`` (multi-model / MMS serving, also used by the scikit-learn
  container when ``SAGEMAKER_MULTI_MODEL`` is set) answers with ``status_code`` and ``message``
  of any ``BaseInferenceToolkitError`` raised by the handler, and 500 for everything else. Our
  error class therefore subclasses ``sagemaker_inference.errors.GenericInferenceToolkitError``
  when that package is importable (a local class with the same attributes otherwise).
* The scikit-learn container's default single-model server (gunicorn + Flask from
  ``sagemaker-containers``) wraps *every* exception raised by ``input_fn``/``predict_fn``/
  ``output_fn`` into its ``ClientError`` and Flask answers 500. The only way to a 4xx there
  is for ``output_fn`` to *return* a response object carrying the status. When this module runs
  under that server (``sagemaker_containers`` importable and no ``SAGEMAKER_MULTI_MODEL``),
  :data:`DEFER_CLIENT_ERRORS` is true: ``input_fn``/``predict_fn`` hand a :class:`RejectedRequest`
  down the chain instead of raising, and ``output_fn`` turns it into a JSON error response with
  the right status.

Validation is vectorized (numpy/pandas over whole columns), so the handler adds little to
``predict_proba`` on batches (see benchmarks/bench_inference.py).

The code is split by concern, the entry points here on top of:

* :mod:`~pipeline_code.inference.errors`: the client errors (4xx) and the request limits;
* :mod:`~pipeline_code.inference.parsing`: request bodies (CSV, JSON) into rows;
* :mod:`~pipeline_code.inference.validation`: rows checked against the schema, column by column;
* :mod:`~pipeline_code.inference.model`: the loaded model and its input frame.

This module re-exports their public names, so imports from it keep working.
"""

from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..schema import Schema, SchemaError
from .errors import (
    DEFAULT_MAX_PAYLOAD_BYTES,
    DEFAULT_MAX_ROWS,
    ENV_MAX_PAYLOAD_BYTES,
    ENV_MAX_ROWS,
    BadRequestError,
    InferenceClientError,
    ModelLoadError,
    NotAcceptableError,
    PayloadTooLargeError,
    RejectedRequest,
    ServingLimits,
    UnsupportedMediaTypeError,
)
from .model import LoadedModel
from .parsing import (
    CSV_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    SUPPORTED_CONTENT_TYPES,
    ParsedInput,
    _media_type,
    parse_request,
)
from .validation import frame_from_input

__all__ = [
    "CSV_CONTENT_TYPE",
    "DEFAULT_MAX_PAYLOAD_BYTES",
    "DEFAULT_MAX_ROWS",
    "DEFER_CLIENT_ERRORS",
    "ENV_MAX_PAYLOAD_BYTES",
    "ENV_MAX_ROWS",
    "JSON_CONTENT_TYPE",
    "METADATA_FILE",
    "MODEL_FILE",
    "SCHEMA_FILE",
    "SUPPORTED_CONTENT_TYPES",
    "BadRequestError",
    "InferenceClientError",
    "LoadedModel",
    "ModelLoadError",
    "NotAcceptableError",
    "ParsedInput",
    "PayloadTooLargeError",
    "Prediction",
    "RejectedRequest",
    "ServingLimits",
    "UnsupportedMediaTypeError",
    "encode_predictions",
    "error_response",
    "frame_from_input",
    "input_fn",
    "model_fn",
    "output_fn",
    "parse_request",
    "predict_fn",
]

MODEL_FILE = "model.joblib"
SCHEMA_FILE = "schema.json"
METADATA_FILE = "metadata.json"


def _under_flask_worker() -> bool:
    if os.environ.get("SAGEMAKER_MULTI_MODEL", "").lower() in ("true", "1"):
        return False
    try:
        return importlib.util.find_spec("sagemaker_containers") is not None
    except (ImportError, ValueError):
        return False


#: True under the scikit-learn container's single-model Flask server (see the module docstring).
DEFER_CLIENT_ERRORS: bool = _under_flask_worker()


def model_fn(model_dir: str | os.PathLike[str]) -> LoadedModel:
    """Load ``model.joblib``, ``schema.json`` and (optional) ``metadata.json`` from ``model_dir``.

    SageMaker extracts ``model.tar.gz`` into ``/opt/ml/model`` before calling this. The joblib
    file is a pickle: load only artifacts your own pipeline produced.
    """
    import joblib

    d = Path(model_dir)
    model_path, schema_path = d / MODEL_FILE, d / SCHEMA_FILE
    for p in (model_path, schema_path):
        if not p.is_file():
            present = sorted(x.name for x in d.iterdir()) if d.is_dir() else []
            raise ModelLoadError(
                f"model folder {str(d)!r} has no {p.name} (it has {present}); point it at an extracted "
                "model.tar.gz from the training step (model.joblib + schema.json + metadata.json)"
            )
    try:
        schema = Schema.from_file(schema_path)
    except SchemaError as exc:
        raise ModelLoadError(f"{schema_path}: {exc}") from None
    metadata: dict[str, Any] = {}
    meta_path = d / METADATA_FILE
    if meta_path.is_file():
        try:
            metadata = json.loads(meta_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ModelLoadError(
                f"{meta_path} is not valid JSON ({exc}); re-run training"
            ) from None
    pipeline = joblib.load(model_path)
    return LoadedModel.from_parts(pipeline, schema, metadata)


def input_fn(request_body: Any, request_content_type: str | None) -> ParsedInput | RejectedRequest:
    """Parse the body of a request (``text/csv`` or ``application/json``)."""
    try:
        return parse_request(request_body, request_content_type, ServingLimits.from_env())
    except InferenceClientError as exc:
        if DEFER_CLIENT_ERRORS:
            return RejectedRequest(exc)
        raise


@dataclass(frozen=True)
class Prediction:
    """Positive-class probabilities and 0/1 labels, one per input row."""

    probabilities: npt.NDArray[np.float64]
    labels: npt.NDArray[np.int64]


def predict_fn(
    input_data: ParsedInput | RejectedRequest | pd.DataFrame, model: LoadedModel
) -> Prediction | RejectedRequest:
    """Validate the rows against the schema and predict; a DataFrame is checked the same way."""
    if isinstance(input_data, RejectedRequest):
        return input_data
    try:
        if not isinstance(input_data, ParsedInput | pd.DataFrame):
            raise BadRequestError(
                f"predict_fn needs the output of input_fn, got {type(input_data).__name__}"
            )
        frame = frame_from_input(input_data, model)
    except InferenceClientError as exc:
        if DEFER_CLIENT_ERRORS:
            return RejectedRequest(exc)
        raise
    proba = np.asarray(model.pipeline.predict_proba(frame), dtype=np.float64)[
        :, model.positive_index
    ]
    labels = (proba >= model.decision_threshold).astype(np.int64)
    return Prediction(proba, labels)


def _negotiate(accept: str | None) -> str:
    if not accept:
        return JSON_CONTENT_TYPE
    for part in str(accept).split(","):
        media, _ = _media_type(part)
        if media in ("application/json", "application/*", "*/*", "*"):
            return JSON_CONTENT_TYPE
        if media in ("text/csv", "text/*"):
            return CSV_CONTENT_TYPE
    raise NotAcceptableError(
        f"Accept {accept!r} is not supported; ask for {JSON_CONTENT_TYPE} (default) or {CSV_CONTENT_TYPE}"
    )


def encode_predictions(
    probabilities: npt.ArrayLike, labels: npt.ArrayLike, accept: str | None
) -> tuple[str, str]:
    """Serialise predictions for an Accept header; returns ``(body, content_type)``."""
    content_type = _negotiate(accept)
    probs = np.asarray(probabilities, dtype=np.float64).tolist()
    labs = np.asarray(labels, dtype=np.int64).tolist()
    if content_type == CSV_CONTENT_TYPE:
        return "".join(
            f"{p!r},{lab}\n" for p, lab in zip(probs, labs, strict=True)
        ), CSV_CONTENT_TYPE
    items = [{"probability": p, "predicted_label": lab} for p, lab in zip(probs, labs, strict=True)]
    return json.dumps({"predictions": items}), JSON_CONTENT_TYPE


def output_fn(prediction: Prediction | RejectedRequest, accept: str | None) -> Any:
    """Serialise a prediction (JSON by default, CSV on request); returns ``(body, content_type)``."""
    if isinstance(prediction, RejectedRequest):
        return error_response(prediction.error)
    try:
        return encode_predictions(prediction.probabilities, prediction.labels, accept)
    except InferenceClientError as exc:
        if DEFER_CLIENT_ERRORS:
            return error_response(exc)
        raise


def error_response(error: InferenceClientError) -> Any:
    """A Flask response with the error's status, for the container's single-model server."""
    from sagemaker_containers.beta.framework import worker

    return worker.Response(
        response=error.to_json(), status=error.status_code, mimetype=JSON_CONTENT_TYPE
    )
