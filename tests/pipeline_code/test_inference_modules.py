"""The inference handler split by concern: the old import path keeps every public name."""

from __future__ import annotations

import types

import pytest

from pipeline_code.inference import errors, handler, model, parsing, validation

#: What code outside the package imports from ``pipeline_code.inference.handler`` (server, CLI,
#: data capture, the ``inference.py`` entry point, benchmarks, tests).
IMPORTED_FROM_HANDLER = (
    "model_fn",
    "input_fn",
    "predict_fn",
    "output_fn",
    "encode_predictions",
    "error_response",
    "frame_from_input",
    "parse_request",
    "LoadedModel",
    "ParsedInput",
    "Prediction",
    "RejectedRequest",
    "ServingLimits",
    "InferenceClientError",
    "BadRequestError",
    "NotAcceptableError",
    "PayloadTooLargeError",
    "UnsupportedMediaTypeError",
    "ModelLoadError",
    "DEFER_CLIENT_ERRORS",
    "CSV_CONTENT_TYPE",
    "JSON_CONTENT_TYPE",
    "SUPPORTED_CONTENT_TYPES",
    "DEFAULT_MAX_PAYLOAD_BYTES",
    "DEFAULT_MAX_ROWS",
    "ENV_MAX_PAYLOAD_BYTES",
    "ENV_MAX_ROWS",
    "MODEL_FILE",
    "SCHEMA_FILE",
    "METADATA_FILE",
)


def test_the_handler_exports_every_public_name() -> None:
    assert set(IMPORTED_FROM_HANDLER) <= set(handler.__all__)
    for name in handler.__all__:
        assert hasattr(handler, name), name


def test_re_exports_are_the_defining_modules_objects() -> None:
    """``handler.BadRequestError is errors.BadRequestError``: one class, caught either way."""
    for name in handler.__all__:
        for module in (errors, parsing, validation, model):
            if name in vars(module):
                assert vars(module)[name] is getattr(handler, name), (module.__name__, name)


def test_the_handler_is_a_plain_module_without_private_re_exports() -> None:
    """Knobs are patched where they are defined (``parsing``, ``model``), not on the handler."""
    assert type(handler) is types.ModuleType
    for name in ("_PANDAS_CSV_MIN_LINES", "_create_frame_from_blocks", "_Handler"):
        assert not hasattr(handler, name), name


def test_patching_a_knob_on_its_defining_module_changes_the_handler_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parsing, "_PANDAS_CSV_MIN_LINES", 0)
    parsed = handler.input_fn(b"1,2\n3,4\n", "text/csv")
    assert isinstance(parsed, handler.ParsedInput)
    assert parsed.frame is not None  # small bodies now go through pandas' parser
    monkeypatch.setattr(parsing, "_PANDAS_CSV_MIN_LINES", 10**9)
    parsed = handler.input_fn(b"1,2\n3,4\n", "text/csv")
    assert isinstance(parsed, handler.ParsedInput) and parsed.frame is None
