"""Small helpers shared by the constructs (validation messages, token checks)."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk


def is_token(value: Any) -> bool:
    """True when ``value`` is an unresolved CDK token, which synth-time validation must skip."""
    return value is not None and cdk.Token.is_unresolved(value)


def prop_error(construct: str, prop: str, value: Any, fix: str) -> ValueError:
    """A ValueError that names the construct prop, the value received and the fix."""
    return ValueError(f"{construct}: {prop}={value!r} is not allowed. {fix}")
