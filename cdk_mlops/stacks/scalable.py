"""Level 4 (Scalable), so far: level 3 under the organization's guardrails."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Unpack

from aws_cdk import aws_iam as iam
from constructs import Construct

from cdk_mlops.governance import DEFAULT_ALLOWED_TAG_VALUES, DEFAULT_REQUIRED_TAG_KEYS, Governance
from cdk_mlops.levels import InitialSettings, ReliableSettings, RepeatableSettings
from cdk_mlops.stacks._props import StackProps
from cdk_mlops.stacks.reliable import ReliableStack


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


class ScalableStack(ReliableStack):
    """Maturity level 4 (so far): :class:`ReliableStack` with a permissions boundary on every
    role and mandatory tags on every resource (``Governance``, id ``Governance``).

    Level 1-3 resources keep their logical ids (the same construct paths as ``MlopsLevel3``);
    each role gains a ``PermissionsBoundary``. Synthesis fails, naming the resource, when a
    mandatory tag is missing: give them with the stack's ``tags=`` (CloudFormation propagates
    stack tags to the resources) or ``ScalableSettings(tags=...)``.

    :param scalable: level 4's settings. Default: :class:`ScalableSettings` defaults.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        initial: InitialSettings | None = None,
        repeatable: RepeatableSettings | None = None,
        reliable: ReliableSettings | None = None,
        scalable: ScalableSettings | None = None,
        **stack_props: Unpack[StackProps],
    ) -> None:
        stack_props.setdefault(
            "description",
            "cdk-mlops level 4 (Scalable): level 3 with a permissions boundary on every role and "
            "mandatory tags on every resource",
        )
        super().__init__(
            scope,
            construct_id,
            initial=initial,
            repeatable=repeatable,
            reliable=reliable,
            **stack_props,
        )
        s = scalable or ScalableSettings()
        self.governance = Governance(
            self,
            "Governance",
            permissions_boundary=s.permissions_boundary,
            boundary_allowed_actions=s.boundary_allowed_actions,
            tags=s.tags,
            required_tag_keys=s.required_tag_keys,
            allowed_tag_values=(
                DEFAULT_ALLOWED_TAG_VALUES if s.allowed_tag_values is None else s.allowed_tag_values
            ),
        )
