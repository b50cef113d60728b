"""Small helpers shared by the constructs (validation messages, token checks)."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct

#: What passes for an e-mail address (SNS confirms it for real).
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


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


def prop_error(construct: str | IConstruct, prop: str, value: Any, fix: str) -> ValueError:
    """A ValueError that names the construct (class and path), the prop, the value and the fix."""
    where = (
        construct
        if isinstance(construct, str)
        else f"{type(construct).__name__} at {construct.node.path}"
    )
    return ValueError(f"{where}: {prop}={value!r} is not allowed. {fix}")


def check_prop(
    construct: IConstruct,
    prop: str,
    value: Any,
    valid: bool | Callable[[Any], object],
    fix: str,
) -> None:
    """Raise :func:`prop_error` unless ``valid`` (a bool or a predicate of ``value``) holds.

    Unresolved tokens (a ``CfnParameter``, an imported value) are skipped: they may be valid
    when CloudFormation resolves them, and CloudFormation or the service checks them then.
    """
    if is_token(value):
        return
    if not (valid(value) if callable(valid) else valid):
        raise prop_error(construct, prop, value, fix)


def stack_scoped_name(
    scope: IConstruct,
    suffix: str,
    *,
    max_length: int,
    separator: str = "-",
    lowercase: bool = False,
) -> str:
    """A physical name unique to ``scope``'s stack: ``<stack name><separator><suffix>``.

    Names CloudFormation cannot generate (aliases, Glue databases, pipeline and group names)
    must not collide when two stacks of this library share an account and region (level 1 and
    level 2, or ``cdk deploy --all``). Characters other than letters and digits become
    ``separator``; a name over ``max_length`` is cut and ends in a hash of the full name, so it
    stays unique and deterministic.
    """
    return scoped_name(
        cdk.Stack.of(scope).stack_name,
        suffix,
        max_length=max_length,
        separator=separator,
        lowercase=lowercase,
    )


def scoped_name(
    stack_name: str,
    suffix: str,
    *,
    max_length: int,
    separator: str = "-",
    lowercase: bool = False,
) -> str:
    """:func:`stack_scoped_name` from a stack name, for another stack (or account) that must
    name the same resource."""
    raw = f"{stack_name}{separator}{suffix}"
    name = re.sub(r"[^A-Za-z0-9]+", separator, raw).strip(separator)
    if lowercase:
        name = name.lower()
    if len(name) > max_length:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = name[: max_length - len(digest) - 1].rstrip(separator) + separator + digest
    return name
