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
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from pipeline_code.compat import exact_float_csv_options
from pipeline_code.schema import ColumnSpec, Schema, SchemaError

CSV_CONTENT_TYPE = "text/csv"
JSON_CONTENT_TYPE = "application/json"
SUPPORTED_CONTENT_TYPES = (CSV_CONTENT_TYPE, JSON_CONTENT_TYPE)
_TEXT_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})

#: SageMaker real-time endpoints accept at most 6 MB per request.
DEFAULT_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
DEFAULT_MAX_ROWS = 10_000
ENV_MAX_PAYLOAD_BYTES = "CDK_MLOPS_MAX_PAYLOAD_BYTES"
ENV_MAX_ROWS = "CDK_MLOPS_MAX_ROWS"
_MAX_ROWS_IN_MESSAGE = 3
#: From this many lines on, plain CSV bodies are parsed by pandas' C parser (see _parse_csv).
_PANDAS_CSV_MIN_LINES = 200

MODEL_FILE = "model.joblib"
SCHEMA_FILE = "schema.json"
METADATA_FILE = "metadata.json"


# --------------------------------------------------------------------------------- errors
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


def _under_flask_worker() -> bool:
    if os.environ.get("SAGEMAKER_MULTI_MODEL", "").lower() in ("true", "1"):
        return False
    try:
        return importlib.util.find_spec("sagemaker_containers") is not None
    except (ImportError, ValueError):
        return False


#: True under the scikit-learn container's single-model Flask server (see the module docstring).
DEFER_CLIENT_ERRORS: bool = _under_flask_worker()


# --------------------------------------------------------------------------------- limits
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


# ---------------------------------------------------------------------------------- model
@dataclass(frozen=True)
class _NumericCheck:
    name: str
    lo: float
    hi: float
    integer: bool
    nullable: bool
    spec: ColumnSpec

    def describe(self) -> str:
        kind = "a whole number" if self.integer else "a number"
        if math.isfinite(self.lo) and math.isfinite(self.hi):
            return f"{kind} between {self.spec.min:g} and {self.spec.max:g}"
        if math.isfinite(self.lo):
            return f"{kind} >= {self.spec.min:g}"
        if math.isfinite(self.hi):
            return f"{kind} <= {self.spec.max:g}"
        return kind


@dataclass(frozen=True)
class _CategoricalCheck:
    name: str
    categories: tuple[str, ...]
    index: pd.Index
    boolean: bool
    nullable: bool
    category_set: frozenset[str]


@dataclass(frozen=True)
class LoadedModel:
    """What ``model_fn`` returns: the fitted pipeline plus everything needed to check requests."""

    pipeline: Any
    schema: Schema
    metadata: dict[str, Any]
    positive_index: int
    decision_threshold: float
    checks: tuple[_NumericCheck | _CategoricalCheck, ...] = field(repr=False)
    #: where the numeric / text features sit in ``schema.feature_names`` (for the frame blocks)
    numeric_positions: npt.NDArray[np.intp] = field(
        repr=False, default_factory=lambda: np.empty(0, np.intp)
    )
    text_positions: npt.NDArray[np.intp] = field(
        repr=False, default_factory=lambda: np.empty(0, np.intp)
    )
    columns: pd.Index = field(repr=False, default_factory=lambda: pd.Index([]))

    @classmethod
    def from_parts(
        cls, pipeline: Any, schema: Schema, metadata: dict[str, Any] | None = None
    ) -> LoadedModel:
        """Check a pipeline against the schema and precompute the per-column checks."""
        metadata = metadata or {}
        if not hasattr(pipeline, "predict_proba"):
            raise ModelLoadError(
                f"the model is a {type(pipeline).__name__} without predict_proba; train a classifier "
                "pipeline that outputs probabilities"
            )
        names_in = getattr(pipeline, "feature_names_in_", None)
        if names_in is not None and list(names_in) != schema.feature_names:
            raise ModelLoadError(
                f"the model was fitted on columns {list(names_in)} but schema {schema.name!r} has features "
                f"{schema.feature_names}; package the schema the model was trained with"
            )
        classes = [str(c) for c in getattr(pipeline, "classes_", [0, 1])]
        if "1" in classes:
            positive_index = classes.index("1")
        elif schema.target.positive in classes:
            positive_index = classes.index(schema.target.positive)
        else:
            raise ModelLoadError(
                f"the model's classes are {classes}; the positive class must be 1 (the ETL encodes "
                f"{schema.target.name}={schema.target.positive!r} as 1)"
            )
        threshold = float(metadata.get("decision_threshold", 0.5))
        if not 0.0 <= threshold <= 1.0:
            raise ModelLoadError(f"metadata decision_threshold {threshold} must be between 0 and 1")
        checks: list[_NumericCheck | _CategoricalCheck] = []
        for spec in schema.features:
            if spec.is_numeric:
                checks.append(
                    _NumericCheck(
                        spec.name,
                        -math.inf if spec.min is None else spec.min,
                        math.inf if spec.max is None else spec.max,
                        spec.type == "integer",
                        spec.nullable,
                        spec,
                    )
                )
            else:
                cats = spec.allowed_categories
                checks.append(
                    _CategoricalCheck(
                        spec.name,
                        cats,
                        pd.Index(cats, dtype=object),
                        spec.type == "boolean",
                        spec.nullable,
                        frozenset(cats),
                    )
                )
        numeric = [i for i, c in enumerate(checks) if isinstance(c, _NumericCheck)]
        text = [i for i, c in enumerate(checks) if not isinstance(c, _NumericCheck)]
        return cls(
            pipeline,
            schema,
            metadata,
            positive_index,
            threshold,
            tuple(checks),
            np.asarray(numeric, dtype=np.intp),
            np.asarray(text, dtype=np.intp),
            pd.Index(schema.feature_names, dtype=object),
        )


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


# ------------------------------------------------------------------------------ parsing
@dataclass(frozen=True)
class ParsedInput:
    """A request body parsed into rows, not yet checked against a schema.

    ``rows`` holds lists of values (CSV, or JSON lists) or dicts (JSON objects). A plain CSV
    body (no quotes, every line the same width) is parsed by pandas' C parser into ``frame``
    instead, with numbers already converted; ``rows`` is then empty.
    """

    rows: list[Any]
    content_type: str
    records: bool
    frame: pd.DataFrame | None = None

    @property
    def row_count(self) -> int:
        return len(self.frame) if self.frame is not None else len(self.rows)


def _media_type(value: str | None) -> tuple[str, dict[str, str]]:
    if not value:
        return "", {}
    parts = [p.strip() for p in str(value).split(";")]
    params: dict[str, str] = {}
    for p in parts[1:]:
        if "=" in p:
            k, _, v = p.partition("=")
            params[k.strip().lower()] = v.strip().strip('"').lower()
    return parts[0].lower(), params


def parse_request(body: Any, content_type: str | None, limits: ServingLimits) -> ParsedInput:
    """Decode and parse a request body; raises :class:`InferenceClientError` for bad requests."""
    media, params = _media_type(content_type)
    if media not in SUPPORTED_CONTENT_TYPES:
        raise UnsupportedMediaTypeError(
            f"Content-Type {content_type!r} is not supported; send {CSV_CONTENT_TYPE} "
            f'(feature values in schema order) or {JSON_CONTENT_TYPE} ({{"instances": [...]}})'
        )
    charset = params.get("charset", "utf-8")
    if charset not in _TEXT_CHARSETS:
        raise UnsupportedMediaTypeError(
            f"charset {charset!r} is not supported; encode the body as UTF-8"
        )
    if isinstance(body, bytes | bytearray | memoryview):
        raw = bytes(body)
        if len(raw) > limits.max_payload_bytes:
            raise _too_large(len(raw), limits)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequestError(
                f"the body is not valid UTF-8 (byte {exc.start} is {raw[exc.start : exc.start + 1]!r}); encode it as UTF-8"
            ) from None
    elif isinstance(body, str):
        text = body
        if (
            len(text) > limits.max_payload_bytes // 4
            and len(text.encode("utf-8")) > limits.max_payload_bytes
        ):
            raise _too_large(len(text.encode("utf-8")), limits)
    else:
        raise BadRequestError(f"the request body must be bytes or text, got {type(body).__name__}")
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise BadRequestError("the request body is empty; send at least one row of feature values")
    parsed = _parse_csv(text) if media == CSV_CONTENT_TYPE else _parse_json(text)
    if parsed.row_count > limits.max_rows + (1 if media == CSV_CONTENT_TYPE else 0):
        raise PayloadTooLargeError(
            f"the request has {parsed.row_count} rows, more than the limit of {limits.max_rows}; "
            f"split it into smaller requests (or raise {ENV_MAX_ROWS})"
        )
    return parsed


def _too_large(size: int, limits: ServingLimits) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"the body is {size} bytes, more than the limit of {limits.max_payload_bytes} bytes; split it "
        f"into smaller requests (or raise {ENV_MAX_PAYLOAD_BYTES})"
    )


def _parse_csv(text: str) -> ParsedInput:
    if "\x00" in text:
        raise BadRequestError("the CSV body contains a NUL character; send plain-text CSV")
    # pandas' parser has a fixed cost of a few hundred microseconds: worth it for big batches
    if '"' not in text and text.count("\n") >= _PANDAS_CSV_MIN_LINES:
        fast = _parse_plain_csv(text)
        if fast is not None:
            return fast
    # quoted fields, ragged or blank lines: the csv module, which the messages are built on
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise BadRequestError(f"the CSV body cannot be parsed ({exc}); check quoting") from None
    while rows and not rows[-1]:
        rows.pop()  # trailing newlines
    empty = [i for i, r in enumerate(rows) if not r]
    if empty:
        raise BadRequestError(
            f"CSV line {empty[0] + 1} is empty; every line must hold one row of feature values "
            "(blank lines would shift the answers against the rows)"
        )
    if not rows:
        raise BadRequestError("the request body is empty; send at least one row of feature values")
    return ParsedInput(rows, CSV_CONTENT_TYPE, records=False)


def _parse_plain_csv(text: str) -> ParsedInput | None:
    """Parse an unquoted, rectangular CSV body with pandas' C parser (numbers converted in C).

    Returns None whenever the body is not that simple, so that the exact path explains it.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    lines = text.split("\n")
    while lines and not lines[-1]:
        lines.pop()
    if not lines or len({line.count(",") for line in lines}) != 1 or not all(lines):
        return None
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            header=None,
            keep_default_na=False,
            na_values=[""],
            skip_blank_lines=False,
            engine="c",
            # correctly rounded like float() in the csv path (pandas 2's default is not)
            **exact_float_csv_options(),
        )
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    if len(frame) != len(lines) or frame.shape[1] != lines[0].count(",") + 1:
        return None
    return ParsedInput([], CSV_CONTENT_TYPE, records=False, frame=frame)


def _parse_json(text: str) -> ParsedInput:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequestError(
            f"the body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            'send {"instances": [{feature: value, ...}, ...]}'
        ) from None
    except RecursionError:
        raise BadRequestError(
            "the JSON body is nested too deeply; send a flat list of records"
        ) from None
    if isinstance(doc, dict) and "instances" in doc:
        extra = sorted(set(doc) - {"instances"})
        if extra:
            raise BadRequestError(
                f"unexpected top-level JSON keys {extra}; only 'instances' is read"
            )
        instances = doc["instances"]
        if not isinstance(instances, list):
            raise BadRequestError(
                f"'instances' must be a list of records, got {type(instances).__name__}"
            )
    elif isinstance(doc, dict):
        instances = [doc]
    elif isinstance(doc, list):
        instances = doc
    else:
        raise BadRequestError(
            f'the JSON body must be {{"instances": [...]}}, a list of records or one record object, '
            f"got a {type(doc).__name__}"
        )
    if not instances:
        raise BadRequestError("the request has no instances; send at least one record")
    first = instances[0]
    if isinstance(first, dict) and set(first) == {"features"}:
        # SageMaker's dense JSON format: {"instances": [{"features": [...]}, ...]}
        unwrapped = []
        for i, rec in enumerate(instances):
            if not (
                isinstance(rec, dict)
                and set(rec) == {"features"}
                and isinstance(rec["features"], list)
            ):
                raise BadRequestError(
                    f'instances[{i}] is not {{"features": [...]}} like instances[0]'
                )
            unwrapped.append(rec["features"])
        instances = unwrapped
        first = instances[0]
    kind = dict if isinstance(first, dict) else list if isinstance(first, list) else None
    if kind is None:
        raise BadRequestError(
            f"instances[0] must be an object {{feature: value}} or a list of values, got {type(first).__name__}"
        )
    for i, rec in enumerate(instances):
        if not isinstance(rec, kind):
            raise BadRequestError(
                f"instances[{i}] is a {type(rec).__name__} but instances[0] is a "
                f"{'object' if kind is dict else 'list'}; send all records in one form"
            )
    return ParsedInput(instances, JSON_CONTENT_TYPE, records=kind is dict)


def input_fn(request_body: Any, request_content_type: str | None) -> ParsedInput | RejectedRequest:
    """Parse the body of a request (``text/csv`` or ``application/json``)."""
    try:
        return parse_request(request_body, request_content_type, ServingLimits.from_env())
    except InferenceClientError as exc:
        if DEFER_CLIENT_ERRORS:
            return RejectedRequest(exc)
        raise


# ---------------------------------------------------------------------------- validation
@dataclass(frozen=True)
class _Where:
    """Names rows in messages: CSV line numbers (1-based, header counted) or JSON indexes."""

    csv: bool
    offset: int = 0

    def rows(self, idx: npt.NDArray[np.intp] | Sequence[int]) -> str:
        idx = [int(i) for i in idx]
        shown = idx[:_MAX_ROWS_IN_MESSAGE]
        names = (
            [f"line {i + self.offset + 1}" for i in shown]
            if self.csv
            else [f"instances[{i}]" for i in shown]
        )
        more = f" (and {len(idx) - len(shown)} more)" if len(idx) > len(shown) else ""
        return ", ".join(names) + more


def _short(v: Any) -> str:
    if isinstance(v, np.generic):
        v = v.item()  # 500.0, not np.float64(500.0)
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _align(parsed: ParsedInput, schema: Schema) -> tuple[list[Sequence[Any]], _Where]:
    """Align the parsed rows with ``schema.feature_names``: one sequence per feature."""
    if parsed.records:
        return _columns_from_records(parsed.rows, schema), _Where(csv=False)
    if parsed.frame is not None:
        return _columns_from_csv_frame(parsed.frame, schema)
    names = schema.feature_names
    k = len(names)
    rows = parsed.rows
    is_csv = parsed.content_type == CSV_CONTENT_TYPE
    where = _Where(csv=is_csv)
    order: list[int] | None = None
    if is_csv:
        first = [str(v).strip() for v in rows[0]]
        if set(first) & set(names):
            if sorted(first) != sorted(names):
                missing = [n for n in names if n not in first]
                unknown = [c for c in first if c not in names]
                raise BadRequestError(
                    f"the CSV header does not match the features: missing {missing}, unknown {unknown}; "
                    f"the header must name exactly {names}"
                )
            rows = rows[1:]
            where = _Where(csv=True, offset=1)
            if not rows:
                raise BadRequestError("the CSV body has a header line but no rows")
            if first != names:
                order = [first.index(n) for n in names]
    widths = np.fromiter(map(len, rows), dtype=np.intp, count=len(rows))
    wrong = np.flatnonzero(widths != k)
    if wrong.size:
        raise BadRequestError(
            f"{where.rows(wrong)}: expected {k} values ({', '.join(names)}), got {int(widths[wrong[0]])}"
        )
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    if order is not None:
        columns = [columns[i] for i in order]
    return columns, where


def _frame_column(col: pd.Series) -> Any:
    """A parsed CSV column as a numpy array: numbers and booleans as they are, text as objects."""
    if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy()
    return col.to_numpy(dtype=object, na_value=None)


def _columns_from_csv_frame(
    frame: pd.DataFrame, schema: Schema
) -> tuple[list[Sequence[Any]], _Where]:
    names = schema.feature_names
    k = len(names)
    width = frame.shape[1]
    where = _Where(csv=True)
    order: list[int] | None = None
    drop_header = False
    if any(not pd.api.types.is_numeric_dtype(dt) for dt in frame.dtypes):
        # a header line makes every column text; only then can the first row be one
        first = [str(v).strip() for v in frame.iloc[0].tolist()]
        if set(first) & set(names):
            if sorted(first) != sorted(names):
                missing = [n for n in names if n not in first]
                unknown = [c for c in first if c not in names]
                raise BadRequestError(
                    f"the CSV header does not match the features: missing {missing}, unknown {unknown}; "
                    f"the header must name exactly {names}"
                )
            if len(frame) == 1:
                raise BadRequestError("the CSV body has a header line but no rows")
            drop_header = True
            where = _Where(csv=True, offset=1)
            if first != names:
                order = [first.index(n) for n in names]
    if width != k:
        lines = range(len(frame) - (1 if drop_header else 0))
        raise BadRequestError(
            f"{where.rows(lines)}: expected {k} values ({', '.join(names)}), got {width}"
        )
    columns: list[Sequence[Any]] = []
    by_position = [col for _, col in frame.items()]
    for j in order if order is not None else range(k):
        col = by_position[j]
        # after a header the data columns are text: the validation converts them
        columns.append(
            col.to_numpy(dtype=object, na_value=None)[1:] if drop_header else _frame_column(col)
        )
    return columns, where


def _columns_from_records(rows: list[dict[str, Any]], schema: Schema) -> list[Sequence[Any]]:
    names = schema.feature_names
    name_set = set(names)
    optional = {c.name for c in schema.features if c.nullable}
    mismatched = [i for i, r in enumerate(rows) if r.keys() != name_set]
    if not mismatched:
        if len(names) == 1:
            return [[r[names[0]] for r in rows]]
        return list(zip(*map(itemgetter(*names), rows), strict=True))
    for i in mismatched:
        keys = set(rows[i])
        unknown = sorted(keys - name_set)
        missing = [n for n in names if n not in keys and n not in optional]
        if unknown or missing:
            problems = ([f"unknown features {unknown}"] if unknown else []) + (
                [f"missing features {missing}"] if missing else []
            )
            raise BadRequestError(
                f"instances[{i}]: {'; '.join(problems)}; send exactly the features {names}"
            )
    # only optional (nullable) features are absent: they count as missing values
    return [[r.get(n) for r in rows] for n in names]


def _to_float(v: Any) -> Any:
    """One value as a float, or _INVALID; the slow path that explains a failed batch conversion."""
    if v is None:
        return math.nan
    if isinstance(v, bool):
        return _INVALID
    if isinstance(v, int | float):
        try:
            return float(v)
        except OverflowError:
            return math.inf  # a huge integer: reported as out of range
    if isinstance(v, str):
        s = v.strip()
        if not s:
            return math.nan
        try:
            return float(s)
        except ValueError:
            return _INVALID
    return _INVALID


def _numeric_column(
    values: Sequence[Any], check: _NumericCheck, where: _Where, text: bool
) -> npt.NDArray[np.float64]:
    arr: npt.NDArray[np.float64] | None
    if isinstance(values, np.ndarray) and values.dtype == np.bool_:
        raise BadRequestError(
            f"{where.rows(range(len(values)))}: {check.name}={_short(bool(values[0]))} is not a number; "
            f"send {check.describe()}"
        )
    # JSON true/false would silently become 1.0/0.0 in the fast conversion
    if not text and any(type(v) is bool for v in values):
        arr = None
    elif isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        arr = values.astype(np.float64, copy=False)  # already parsed by the CSV reader
    else:
        try:
            arr = np.array(values, dtype=np.float64)
        except (ValueError, TypeError, OverflowError):
            arr = None
            if text and check.nullable:
                # empty CSV fields are the usual reason here: read them as NaN and try again
                try:
                    arr = np.array([v if v.strip() else "nan" for v in values], dtype=np.float64)
                except (ValueError, TypeError, OverflowError):
                    arr = None
        if arr is not None and arr.ndim != 1:
            arr = None
    if arr is None:
        converted = [_to_float(v) for v in values]
        bad = [i for i, f in enumerate(converted) if f is _INVALID]
        if bad:
            raise BadRequestError(
                f"{where.rows(bad)}: {check.name}={_short(values[bad[0]])} is not a number; send {check.describe()}"
            )
        arr = np.array(converted, dtype=np.float64)
    nan = np.isnan(arr)
    if not check.nullable and nan.any():
        raise BadRequestError(
            f"{where.rows(np.flatnonzero(nan))}: {check.name} is missing (empty, null or NaN) but is not "
            f"nullable; send {check.describe()}"
        )
    out = (arr < check.lo) | (arr > check.hi) | np.isinf(arr)
    if out.any():
        bad_idx = np.flatnonzero(out)
        raise BadRequestError(
            f"{where.rows(bad_idx)}: {check.name}={_short(values[bad_idx[0]])} is out of range; send {check.describe()}"
        )
    if check.integer:
        whole = np.where(nan, 0.0, arr)
        frac = whole != np.floor(whole)
        if frac.any():
            bad_idx = np.flatnonzero(frac)
            raise BadRequestError(
                f"{where.rows(bad_idx)}: {check.name}={_short(values[bad_idx[0]])} is not a whole number; "
                f"send {check.describe()}"
            )
    return arr


def _categorical_column(
    values: Sequence[Any], check: _CategoricalCheck, where: _Where
) -> npt.NDArray[np.object_]:
    if isinstance(values, np.ndarray) and values.dtype != object:
        if values.dtype == np.bool_ and check.boolean:
            # the CSV reader turns true/false into booleans: back to the ETL's strings
            return np.where(values, "true", "false").astype(object)
        values = values.tolist()  # numbers: the per-value rules below decide
    arr = np.fromiter(values, dtype=object, count=len(values))
    try:
        if check.category_set.issuperset(values):
            return arr  # every value is exactly a category string: the common case, one set pass
        codes = check.index.get_indexer(arr)
    except TypeError:  # unhashable values (lists, dicts)
        codes = np.full(len(arr), -1, dtype=np.intp)
    # slow path over the values that failed the exact match: normalise, then explain
    idx = np.flatnonzero(codes < 0)
    fixed = [_normalise_category(arr[i], check) for i in idx]
    invalid = [int(idx[j]) for j, v in enumerate(fixed) if v is _INVALID]
    if invalid:
        raise BadRequestError(
            f"{where.rows(invalid)}: {check.name} must be one of {list(check.categories)}, got "
            f"{_short(arr[invalid[0]])}"
        )
    missing = [int(idx[j]) for j, v in enumerate(fixed) if v is None]
    if missing and not check.nullable:
        raise BadRequestError(
            f"{where.rows(missing)}: {check.name} is missing but is not nullable; send one of "
            f"{list(check.categories)}"
        )
    unknown = [
        int(idx[j]) for j, v in enumerate(fixed) if v is not None and v not in check.categories
    ]
    if unknown:
        raise BadRequestError(
            f"{where.rows(unknown)}: {check.name}={_short(arr[unknown[0]])} is not a known category; send one "
            f"of {list(check.categories)}"
        )
    for j, i in enumerate(idx):
        arr[i] = fixed[j]
    return arr


_INVALID: Any = object()


def _normalise_category(v: Any, check: _CategoricalCheck) -> Any:
    """Lenient forms of a category: surrounding spaces, any case of true/false, 1 for "1"."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, bool | np.bool_):
        return ("true" if v else "false") if check.boolean else _INVALID
    if isinstance(v, str):
        s = v.strip()
        if not s:
            return None
        return s.lower() if check.boolean else s
    if isinstance(v, int | float) and not check.boolean:
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
    return _INVALID


def _columns_from_frame(df: pd.DataFrame, schema: Schema) -> list[Sequence[Any]]:
    names = schema.feature_names
    missing = [n for n in names if n not in df.columns]
    unknown = [str(c) for c in df.columns if c not in names]
    if missing or unknown:
        raise BadRequestError(
            f"the frame has missing features {missing} and unknown columns {unknown}; send {names}"
        )
    out: list[Sequence[Any]] = []
    for n in names:
        col = df[n]
        if pd.api.types.is_float_dtype(col.dtype) or pd.api.types.is_integer_dtype(col.dtype):
            out.append(col.to_numpy(dtype=np.float64, na_value=np.nan))
        else:
            out.append(col.to_numpy(dtype=object, na_value=None))
    return out


def frame_from_input(data: ParsedInput | pd.DataFrame, model: LoadedModel) -> pd.DataFrame:
    """Check rows against the model's schema and build the model's input frame (vectorized)."""
    if isinstance(data, pd.DataFrame):
        columns, where, text = _columns_from_frame(data, model.schema), _Where(csv=False), False
    else:
        columns, where = _align(data, model.schema)
        text = data.content_type == CSV_CONTENT_TYPE
    n = len(columns[0]) if columns else 0
    limits = ServingLimits.from_env()
    if n > limits.max_rows:
        raise PayloadTooLargeError(
            f"the request has {n} rows, more than the limit of {limits.max_rows}; split it into smaller "
            f"requests (or raise {ENV_MAX_ROWS})"
        )
    numbers: list[npt.NDArray[np.float64]] = []
    texts: list[npt.NDArray[np.object_]] = []
    for values, check in zip(columns, model.checks, strict=True):
        if isinstance(check, _NumericCheck):
            numbers.append(_numeric_column(values, check, where, text))
        else:
            texts.append(_categorical_column(values, check, where))
    return _model_frame(model, numbers, texts, n)


def _model_frame(
    model: LoadedModel,
    numbers: list[npt.NDArray[np.float64]],
    texts: list[npt.NDArray[np.object_]],
    n: int,
) -> pd.DataFrame:
    """The model's input frame: one float64 block and one object block, columns in schema order.

    Consolidated blocks matter: scikit-learn's column selection reads a frame made of one block
    per dtype about twice as fast as one made of a block per column. Strings stay ``object``:
    pandas 3 would otherwise convert them to its arrow-backed ``str`` dtype, which costs more
    than the whole validation.
    """
    index = pd.RangeIndex(n)
    if _create_frame_from_blocks is not None:
        blocks: list[tuple[Any, npt.NDArray[np.intp]]] = []
        if numbers:
            blocks.append((np.vstack(numbers), model.numeric_positions))
        if texts:
            blocks.append((np.vstack(texts), model.text_positions))
        return _create_frame_from_blocks(blocks, index=index, columns=model.columns)
    out: dict[str, Any] = {}
    num_iter, text_iter = iter(numbers), iter(texts)
    for check in model.checks:
        if isinstance(check, _NumericCheck):
            out[check.name] = next(num_iter)
        else:
            out[check.name] = pd.Series(next(text_iter), index=index, dtype=object, copy=False)
    return pd.DataFrame(out, columns=model.columns, copy=False).copy()  # copy() consolidates


try:  # pandas >= 3.0: build a frame from ready 2D blocks without copies
    from pandas.api.internals import create_dataframe_from_blocks as _create_frame_from_blocks
except ImportError:  # pragma: no cover - pandas 2.x
    _create_frame_from_blocks = None


# ----------------------------------------------------------------------------- predict
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


# ------------------------------------------------------------------------------ output
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
