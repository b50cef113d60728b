"""The constructs of one maturity level, added to any stack: the level stacks and the Service
Catalog products (:mod:`cdk_mlops.stacks.catalog`) share this, so a product launches exactly
what the level stack deploys."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

from cdk_mlops.constructs import DEFAULT_INTERFACE_ENDPOINTS, DEPLOYMENT_INTERFACE_ENDPOINTS
from cdk_mlops.governance import DEFAULT_ALLOWED_TAG_VALUES, DEFAULT_REQUIRED_TAG_KEYS, Governance
from cdk_mlops.levels import (
    InitialLevel,
    InitialSettings,
    ReliableLevel,
    ReliableSettings,
    RepeatableLevel,
    RepeatableSettings,
)
from cdk_mlops.stacks._props import sharing_initial

#: The maturity levels :func:`compose_level` builds.
COMPOSABLE_LEVELS: tuple[int, ...] = (1, 2, 3, 4)


@dataclass(frozen=True, kw_only=True)
class ScalableSettings:
    """What level 4 adds to level 3 (see :class:`~cdk_mlops.governance.Governance`).

    :param permissions_boundary: the boundary every role gets. Default: a new
        ``DefaultPermissionsBoundary`` (the library's services, minus guardrail denies).
    :param boundary_allowed_actions: actions added to the default boundary.
    :param tags: tags added to every resource (on top of the stack's ``tags``).
    :param required_tag_keys: tags every taggable resource must carry. Default
        ``cost-centre``, ``owner``, ``data-classification``.
    :param allowed_tag_values: allowed values per key. Default: ``data-classification`` is one of
        public, internal, confidential, restricted.
    """

    permissions_boundary: iam.IManagedPolicy | None = None
    boundary_allowed_actions: Sequence[str] = ()
    tags: Mapping[str, str] | None = None
    required_tag_keys: Sequence[str] = DEFAULT_REQUIRED_TAG_KEYS
    allowed_tag_values: Mapping[str, Sequence[str]] | None = None


@dataclass(frozen=True)
class ComposedLevel:
    """What :func:`compose_level` added: the level constructs up to the level asked for."""

    level: int
    initial: InitialLevel
    repeatable: RepeatableLevel | None = None
    reliable: ReliableLevel | None = None
    governance: Governance | None = None


def level3_interface_endpoints(initial: InitialSettings) -> InitialSettings:
    """``initial`` with the interface endpoints the deployment builds need, unless it names its
    own VPC or its own endpoint list (then the deployment pipeline checks or warns)."""
    if initial.vpc is not None or initial.interface_endpoints is not None:
        return initial
    by_name = {
        e.short_name: e for e in (*DEFAULT_INTERFACE_ENDPOINTS, *DEPLOYMENT_INTERFACE_ENDPOINTS)
    }
    return replace(initial, interface_endpoints=list(by_name.values()))


def compose_level(
    stack: cdk.Stack,
    level: int,
    *,
    initial: InitialSettings | None = None,
    repeatable: RepeatableSettings | None = None,
    reliable: ReliableSettings | None = None,
    scalable: ScalableSettings | None = None,
) -> ComposedLevel:
    """Add maturity level ``level`` (1-4) to ``stack``: ``InitialLevel`` (id ``Initial``), from
    level 2 ``RepeatableLevel`` (``Repeatable``), from level 3 ``ReliableLevel`` (``Reliable``,
    with the deployment builds' interface endpoints on a new VPC) and at level 4 ``Governance``
    (``Governance``). The construct ids are those of the level stacks, so the logical ids are too.

    Settings of levels above ``level`` are ignored.
    """
    if level not in COMPOSABLE_LEVELS:
        raise ValueError(
            f"compose_level: level={level!r} is not allowed. Use one of {COMPOSABLE_LEVELS}."
        )
    if level == 1:
        return ComposedLevel(level, InitialLevel(stack, "Initial", initial))
    shared = sharing_initial(stack, initial, repeatable)
    if level >= 3:
        shared = level3_interface_endpoints(shared or InitialSettings())
    base = InitialLevel(stack, "Initial", shared)
    level2 = RepeatableLevel(stack, "Repeatable", foundation=base.foundation, settings=repeatable)
    if level == 2:
        return ComposedLevel(level, base, level2)
    level3 = ReliableLevel(
        stack,
        "Reliable",
        foundation=base.foundation,
        registry=level2.registry,
        training_pipeline=level2.training,
        alarm_topic=level2.alerts_topic,
        code=level2.code,
        schema=level2.settings.schema,
        etl=level2.etl,
        access_log_bucket=base.data_lake.access_logs_bucket,
        settings=reliable,
    )
    if level == 3:
        return ComposedLevel(level, base, level2, level3)
    return ComposedLevel(level, base, level2, level3, govern(stack, scalable))


def govern(stack: cdk.Stack, scalable: ScalableSettings | None = None) -> Governance:
    """Level 4's ``Governance`` (id ``Governance``) on ``stack`` with ``scalable``'s settings."""
    s = scalable or ScalableSettings()
    return Governance(
        stack,
        "Governance",
        permissions_boundary=s.permissions_boundary,
        boundary_allowed_actions=s.boundary_allowed_actions,
        tags=s.tags,
        required_tag_keys=s.required_tag_keys,
        allowed_tag_values=(
            DEFAULT_ALLOWED_TAG_VALUES if s.allowed_tag_values is None else s.allowed_tag_values
        ),
    )
