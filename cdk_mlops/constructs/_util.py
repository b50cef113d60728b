"""Small helpers shared by the constructs (validation messages, token checks)."""

from __future__ import annotations

import math
from typing import Any

import aws_cdk as cdk


def is_token(value: Any) -> bool:
    """True when ``value`` is an unresolved CDK token, which synth-time validation must skip.

    Only strings, finite numbers and lists can be tokens; anything else is answered here, because
    jsii cannot carry NaN or infinity and its kernel dies on them.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float, list)):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return bool(cdk.Token.is_unresolved(value))


def prop_error(construct: str, prop: str, value: Any, fix: str) -> ValueError:
    """A ValueError that names the construct prop, the value received and the fix."""
    return ValueError(f"{construct}: {prop}={value!r} is not allowed. {fix}")
