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
    stack = cdk.Stack.of(scope)
    prefix: str | None = getattr(stack, _LAUNCH_PREFIX_ATTR, None)
    if prefix is None:
        return scoped_name(
            stack.stack_name,
            suffix,
            max_length=max_length,
            separator=separator,
            lowercase=lowercase,
        )
    # Computed with a stand-in of the launch id's length, so cutting and hashing work on
    # literal text; the stand-in then becomes the deploy-time token.
    name = scoped_name(
        f"{prefix}-{_LAUNCH_STAND_IN}",
        suffix,
        max_length=max_length,
        separator=separator,
        lowercase=lowercase,
    )
    if _LAUNCH_STAND_IN not in name:
        raise ValueError(
            f"stack_scoped_name: {max_length} characters cannot hold the launch-scoped prefix "
            f"{prefix!r} of {stack.node.path}; give the resource a name of your own."
        )
    return name.replace(_LAUNCH_STAND_IN, launch_id(), 1)


#: The attribute :func:`launch_scoped_names` sets on a stack.
_LAUNCH_PREFIX_ATTR = "_cdk_mlops_launch_name_prefix"
#: Stands for :func:`launch_id` (8 lower-case hex characters) while a name is computed.
_LAUNCH_STAND_IN = "zzlaunch"


def launch_id() -> str:
    """A deploy-time token: the first 8 hex characters of the deployed stack's id (a UUID).

    Lower-case letters and digits only, unique per CloudFormation stack in practice, so it fits
    every name rule our resources have (Glue's lower-case names included).
    """
    return cdk.Fn.select(
        0, cdk.Fn.split("-", cdk.Fn.select(2, cdk.Fn.split("/", cdk.Aws.STACK_ID)))
    )


def is_launch_scoped(scope: IConstruct) -> bool:
    """True when ``scope``'s stack names its resources per launch (:func:`launch_scoped_names`);
    names CDK would fix per template must then come from :func:`stack_scoped_name`."""
    return getattr(cdk.Stack.of(scope), _LAUNCH_PREFIX_ATTR, None) is not None


def launch_scoped_names(stack: cdk.Stack, prefix: str) -> None:
    """Name ``stack``'s resources ``<prefix>-<launch id>-<suffix>`` instead of
    ``<stack name>-<suffix>`` (:func:`stack_scoped_name`).

    For a template deployed more than once in one account and region under names the template
    does not know (a Service Catalog product launched twice): its stack name at synthesis is the
    same for every launch, the deployed stack's id is not. Call it before adding constructs.
    """
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,19}", prefix):
        raise prop_error(
            "launch_scoped_names",
            "prefix",
            prefix,
            "Use 1-20 lower-case letters, digits and '-', starting with a letter (it starts "
            "Glue, SageMaker and KMS names).",
        )
    setattr(stack, _LAUNCH_PREFIX_ATTR, prefix)


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
