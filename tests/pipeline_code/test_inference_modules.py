"""The inference handler split by concern: the old import path keeps every public name."""

from __future__ import annotations

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


def test_patching_a_knob_on_the_handler_reaches_the_module_that_reads_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before_parsing, before_model = parsing._PANDAS_CSV_MIN_LINES, model._create_frame_from_blocks
    with monkeypatch.context() as patch:
        patch.setattr(handler, "_PANDAS_CSV_MIN_LINES", 0)
        patch.setattr(handler, "_create_frame_from_blocks", None)
        assert parsing._PANDAS_CSV_MIN_LINES == 0
        assert model._create_frame_from_blocks is None
    assert before_parsing == parsing._PANDAS_CSV_MIN_LINES
    assert model._create_frame_from_blocks is before_model
    assert before_parsing == handler._PANDAS_CSV_MIN_LINES
