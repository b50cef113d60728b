"""Argument checks shared by the pipeline steps and their settings (private)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from cdk_mlops.pipelines.errors import PipelineDefinitionError
from cdk_mlops.pipelines.expressions import ParameterString, Value, render, value_type_of

_TOKEN = re.compile(r"\$\{Token\[[^\]]+\]\}")
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$")
_ENV_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def has_token(value: object) -> bool:
    """True if ``value`` is a string holding a CDK token (resolved at deploy time)."""
    return isinstance(value, str) and bool(_TOKEN.search(value))


def _frozen_tuple(obj: object, attr: str) -> None:
    value = getattr(obj, attr)
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise PipelineDefinitionError(
            f"{type(obj).__name__}.{attr} must be a list or tuple, got {value!r}"
        )
    object.__setattr__(obj, attr, tuple(value))


def _frozen_map(obj: object, attr: str) -> None:
    value = getattr(obj, attr)
    if not isinstance(value, Mapping):
        raise PipelineDefinitionError(
            f"{type(obj).__name__}.{attr} must be a mapping, got {value!r}"
        )
    # Sorted so that the definition does not depend on the caller's dict order.
    object.__setattr__(obj, attr, MappingProxyType({k: value[k] for k in sorted(value)}))


def _check_type(value: Value, expected: set[str], where: str) -> None:
    """Raise when a literal or a typed expression does not have one of the expected types."""
    render(value, where)
    actual = value_type_of(value)
    if actual is None:  # e.g. JsonGet: only known at run time
        return
    if actual not in expected:
        raise PipelineDefinitionError(
            f"{where}: expected {' or '.join(sorted(expected))}, got {actual} ({value!r})"
        )


def _check_choice(value: object, choices: Sequence[str], where: str) -> None:
    if value not in choices:
        raise PipelineDefinitionError(f"{where}: {value!r} is not one of {list(choices)}")


def _check_int_range(value: Value, low: int, high: int | None, where: str) -> None:
    _check_type(value, {"Integer"}, where)
    if isinstance(value, int) and not (low <= value and (high is None or value <= high)):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise PipelineDefinitionError(f"{where}: {value} is out of range ({bound})")


def _check_instance_type(value: Value, where: str) -> None:
    _check_type(value, {"String"}, where)
    candidates: list[object] = []
    if isinstance(value, str) and not has_token(value):
        candidates = [value]
    elif isinstance(value, ParameterString):
        candidates = [value.default_value, *(value.enum_values or ())]
    for candidate in candidates:
        if candidate is not None and not _INSTANCE_TYPE.match(str(candidate)):
            raise PipelineDefinitionError(
                f"{where}: {candidate!r} is not a SageMaker instance type; they look like "
                f"'ml.m5.xlarge'"
            )


def _check_s3_uri(value: Value, where: str) -> None:
    _check_type(value, {"String"}, where)
    if isinstance(value, str) and not has_token(value) and not value.startswith("s3://"):
        raise PipelineDefinitionError(f"{where}: {value!r} is not an S3 URI (s3://bucket/key)")


def _check_environment(env: Mapping[str, Value], where: str, max_len: int) -> None:
    if len(env) > 100:
        raise PipelineDefinitionError(f"{where}: at most 100 variables, got {len(env)}")
    for key, val in env.items():
        if not isinstance(key, str) or not _ENV_KEY.match(key) or len(key) > max_len:
            raise PipelineDefinitionError(
                f"{where}: variable name {key!r} must match [a-zA-Z_][a-zA-Z0-9_]* "
                f"(at most {max_len} characters)"
            )
        _check_type(val, {"String"}, f"{where}[{key}]")


def _render_env(env: Mapping[str, Value], where: str) -> dict[str, Any]:
    return {k: render(v, f"{where}[{k}]") for k, v in env.items()}


def _check_command(values: Sequence[Value], where: str) -> None:
    if len(values) > 100:
        raise PipelineDefinitionError(f"{where}: at most 100 entries, got {len(values)}")
    for i, v in enumerate(values):
        _check_type(v, {"String"}, f"{where}[{i}]")
        if isinstance(v, str) and not has_token(v) and len(v) > 256:
            raise PipelineDefinitionError(
                f"{where}[{i}]: SageMaker limits each entry to 256 characters, got {len(v)}"
            )
