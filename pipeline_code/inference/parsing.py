"""Parsing of request bodies (``text/csv``, ``application/json``) into rows.

The rows are not checked against the schema here (:mod:`pipeline_code.inference.validation`
does that); the accepted forms are listed in :mod:`pipeline_code.inference.handler`.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..compat import exact_float_csv_options
from .errors import (
    ENV_MAX_PAYLOAD_BYTES,
    ENV_MAX_ROWS,
    BadRequestError,
    PayloadTooLargeError,
    ServingLimits,
    UnsupportedMediaTypeError,
)

CSV_CONTENT_TYPE = "text/csv"
JSON_CONTENT_TYPE = "application/json"
SUPPORTED_CONTENT_TYPES = (CSV_CONTENT_TYPE, JSON_CONTENT_TYPE)
_TEXT_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
#: From this many lines on, plain CSV bodies are parsed by pandas' C parser (see _parse_csv).
_PANDAS_CSV_MIN_LINES = 200


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
