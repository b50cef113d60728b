"""Organization guardrails for any scope: a permissions boundary on every role, mandatory tags.

``Governance(stack, "Governance", tags={...})`` (Level 4's governance; usable on any stack of
this library or of your own):

- every IAM role (and user) created in the governed scope, including the roles of CDK's own
  custom-resource providers, gets a permissions boundary: yours (``permissions_boundary=``, for
  example the one your security team publishes) or :class:`DefaultPermissionsBoundary`, a
  ceiling of exactly the services this library's roles use, with explicit denies for the
  actions no workload role should have (removing a boundary, long-lived credentials, deleting
  or re-keying keys, opening buckets to the internet);
- every taggable resource must carry the mandatory tags (by default ``cost-centre``, ``owner``,
  ``data-classification``), set on the resource, on a scope above it or on the stack; synthesis
  fails with an error that names each untagged resource, the missing keys and the fix. Tag
  values can be restricted to a list (``data-classification``: public, internal, confidential,
  restricted by default).

The checks run when the app synthesizes (``cdk synth`` exits 1, ``app.synth()`` raises), after
every tagging aspect has run, so tags added anywhere in the tree count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import aws_cdk as cdk
import jsii
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct, IValidation

from cdk_mlops.compliance import acknowledge, checkov_skip
from cdk_mlops.constructs._util import is_token, prop_error

#: The tags every taggable resource must carry unless ``required_tag_keys`` says otherwise.
DEFAULT_REQUIRED_TAG_KEYS: tuple[str, ...] = ("cost-centre", "owner", "data-classification")

#: Allowed values of mandatory tags (keys not listed here take any non-empty value).
DEFAULT_ALLOWED_TAG_VALUES: Mapping[str, tuple[str, ...]] = {
    "data-classification": ("public", "internal", "confidential", "restricted"),
}

#: What the default boundary allows: the services the library's roles call (a test checks that
#: every action any role of every level is granted falls inside, and outside the denies).
BOUNDARY_ALLOWED_ACTIONS: tuple[str, ...] = (
    "application-autoscaling:*",
    "cloudformation:*",
    "cloudwatch:*",
    "codebuild:*",
    "codepipeline:*",
    "ec2:*",
    "ecr:*",
    "events:*",
    "glue:*",
    "kms:*",
    "logs:*",
    "s3:*",
    "sagemaker:*",
    "scheduler:*",
    "sns:*",
    "states:*",
    "xray:*",
    "iam:PassRole",
    "iam:CreateServiceLinkedRole",
    "iam:GetRole",
    "sts:AssumeRole",
    "sts:GetCallerIdentity",
)

#: Denied by the default boundary whatever a role's own policies say.
BOUNDARY_DENIED_ACTIONS: tuple[str, ...] = (
    # boundaries stay on, and nobody mints long-lived credentials
    "iam:DeleteRolePermissionsBoundary",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary",
    "iam:PutUserPermissionsBoundary",
    "iam:CreateUser",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    # keys are not deleted, disabled or re-policied by a workload
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "kms:PutKeyPolicy",
    # buckets are not opened, unencrypted or deleted by a workload
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutObjectAcl",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutAccountPublicAccessBlock",
    "s3:PutEncryptionConfiguration",
    # no new ways out of the VPC
    "ec2:CreateInternetGateway",
    "ec2:AttachInternetGateway",
    "ec2:CreateNatGateway",
    "ec2:CreateVpcPeeringConnection",
    "ec2:AcceptVpcPeeringConnection",
    # audit logs stay
    "logs:DeleteLogGroup",
    "logs:DeleteRetentionPolicy",
)

#: The IAM path of the default boundary policies; the boundary denies changing any policy here.
BOUNDARY_PATH = "/cdk-mlops/boundaries/"

_TAG_KEY = re.compile(r"^[\w\s.:/=+\-@]{1,128}$")
_TAG_VALUE = re.compile(r"^[\w\s.:/=+\-@]{0,256}$")


class DefaultPermissionsBoundary(Construct):
    """A managed policy to use as a permissions boundary: the library's services, minus guardrails.

    A boundary grants nothing by itself; it caps what a role's own policies can grant. This one
    allows :data:`BOUNDARY_ALLOWED_ACTIONS` (plus ``allowed_actions``) and explicitly denies
    :data:`BOUNDARY_DENIED_ACTIONS` and any change to the policies under :data:`BOUNDARY_PATH`
    (itself included). Its name is generated (managed policy names are global to the account, so
    a fixed one would collide between regions); its path is :data:`BOUNDARY_PATH`.

    Attributes: ``policy`` (the ``iam.ManagedPolicy``), ``managed_policy_arn``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        allowed_actions: Sequence[str] = (),
        description: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        for action in allowed_actions:
            if not re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9*?]+", action):
                raise prop_error(
                    self,
                    "allowed_actions",
                    action,
                    'Give IAM actions as "service:Action" (wildcards allowed, e.g. "lambda:*").',
                )
            if action in ("*", "*:*") or action.startswith("iam:*"):
                raise prop_error(
                    self,
                    "allowed_actions",
                    action,
                    "A boundary that allows every action, or all of IAM, is no boundary; list "
                    "the actions your roles need.",
                )
        allowed = list(dict.fromkeys([*BOUNDARY_ALLOWED_ACTIONS, *allowed_actions]))
        stack = cdk.Stack.of(self)
        boundary_policies = stack.format_arn(
            service="iam",
            region="",
            resource="policy",
            resource_name=f"{BOUNDARY_PATH.strip('/')}/*",
        )
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            path=BOUNDARY_PATH,
            description=description
            or f"cdk-mlops permissions boundary of {stack.stack_name}: the library's services, "
            "minus guardrails",
            statements=[
                iam.PolicyStatement(
                    sid="AllowTheLibrarysServices", actions=allowed, resources=["*"]
                ),
                iam.PolicyStatement(
                    sid="DenyGuardrailActions",
                    effect=iam.Effect.DENY,
                    actions=list(BOUNDARY_DENIED_ACTIONS),
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    sid="DenyChangingBoundaries",
                    effect=iam.Effect.DENY,
                    actions=[
                        "iam:CreatePolicyVersion",
                        "iam:DeletePolicy",
                        "iam:DeletePolicyVersion",
                        "iam:SetDefaultPolicyVersion",
                    ],
                    resources=[boundary_policies],
                ),
            ],
        )
        self.managed_policy_arn = self.policy.managed_policy_arn
        reason = (
            "A permissions boundary grants nothing; it caps what a role's own (least-privilege) "
            "policies can grant, so it is written per service, with explicit denies."
        )
        acknowledge(
            self.policy,
            [
                "AwsSolutions-IAM5[Resource::*]",
                *(f"AwsSolutions-IAM5[Action::{a}]" for a in allowed if a.endswith("*")),
                "NIST.800.53.R5-IAMPolicyNoStatementsWithFullAccess",
                "HIPAA.Security-IAMPolicyNoStatementsWithFullAccess",
                "PCI.DSS.321-IAMPolicyNoStatementsWithFullAccess",
            ],
            reason,
        )
        for check_id, what in (
            ("CKV_AWS_107", "credentials exposure"),
            ("CKV_AWS_108", "data exfiltration"),
            ("CKV_AWS_109", "permissions management"),
            ("CKV_AWS_110", "privilege escalation"),
            ("CKV_AWS_111", "write access"),
        ):
            checkov_skip(
                self.policy,
                check_id,
                f"Permissions boundary, never attached as an identity policy: the service-wide "
                f"allow caps each role's own least-privilege policy (checked for {what} "
                "there) and grants nothing itself; its denies remove what no workload needs.",
            )


@jsii.implements(cdk.IAspect)
class RequiredTags:
    """An aspect that records every taggable resource missing a mandatory tag (or with a value
    outside its allowed list); :class:`Governance` turns the records into synth errors.

    A resource's tags are its own plus its stack's (``Stack(tags=...)``), which CloudFormation
    propagates to the resources it creates.
    """

    def __init__(
        self, keys: Sequence[str], allowed_values: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        self.keys = tuple(keys)
        self.allowed_values = {k: tuple(v) for k, v in (allowed_values or {}).items()}
        self._findings: dict[str, str] = {}  # by construct path: aspects may run twice

    @property
    def findings(self) -> list[str]:
        """One line per resource that fails the check (path, type and what is wrong)."""
        return list(self._findings.values())

    def visit(self, node: IConstruct) -> None:
        if not (isinstance(node, cdk.CfnResource) and cdk.TagManager.is_taggable(node)):
            return
        tags = dict(cdk.Stack.of(node).tags.tag_values())
        tags.update(node.tags.tag_values())  # type: ignore[attr-defined]
        problems = [f"no tag {key!r}" for key in self.keys if not str(tags.get(key, "")).strip()]
        for key, allowed in self.allowed_values.items():
            value = tags.get(key)
            if value is not None and not is_token(value) and value not in allowed:
                problems.append(f"tag {key}={value!r} is not one of {', '.join(allowed)}")
        if problems:
            self._findings[node.node.path] = (
                f"{node.node.path} ({node.cfn_resource_type}): {'; '.join(problems)}"
            )
        else:
            self._findings.pop(node.node.path, None)


class Governance(Construct):
    """Permissions boundary on every role and mandatory tags on every resource of ``governed``.

    Props (keyword-only):

    - ``governed``: the scope to govern. Default: the stack this construct is in.
    - ``permissions_boundary``: the boundary every role gets. Default: a new
      :class:`DefaultPermissionsBoundary` in this construct. Roles that already have a
      boundary keep theirs only if it is this one (CDK's ``PermissionsBoundary`` overrides).
    - ``boundary_allowed_actions``: actions added to the default boundary's allow list (for
      roles of your own constructs). Not allowed with ``permissions_boundary``.
    - ``tags``: tags to add to every resource of ``governed`` (``Tags.of(governed).add``).
    - ``required_tag_keys``: keys every taggable resource must carry. Default:
      :data:`DEFAULT_REQUIRED_TAG_KEYS`; ``()`` turns the tag check off.
    - ``allowed_tag_values``: allowed values per key. Default: :data:`DEFAULT_ALLOWED_TAG_VALUES`.

    Attributes: ``permissions_boundary`` (``iam.IManagedPolicy``), ``required_tags`` (the aspect).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        governed: IConstruct | None = None,
        permissions_boundary: iam.IManagedPolicy | None = None,
        boundary_allowed_actions: Sequence[str] = (),
        tags: Mapping[str, str] | None = None,
        required_tag_keys: Sequence[str] = DEFAULT_REQUIRED_TAG_KEYS,
        allowed_tag_values: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        target: IConstruct = governed if governed is not None else cdk.Stack.of(self)
        allowed_values = dict(
            DEFAULT_ALLOWED_TAG_VALUES if allowed_tag_values is None else allowed_tag_values
        )
        tags = dict(tags or {})
        self._validate(tags, required_tag_keys, allowed_values)
        if permissions_boundary is not None and boundary_allowed_actions:
            raise prop_error(
                self,
                "boundary_allowed_actions",
                list(boundary_allowed_actions),
                "It extends the default boundary only; add the actions to your own "
                "permissions_boundary instead, or leave permissions_boundary unset.",
            )

        if permissions_boundary is None:
            permissions_boundary = DefaultPermissionsBoundary(
                self, "PermissionsBoundary", allowed_actions=boundary_allowed_actions
            ).policy
        self.permissions_boundary = permissions_boundary
        iam.PermissionsBoundary.of(target).apply(permissions_boundary)

        for key, value in tags.items():
            cdk.Tags.of(target).add(key, value)
        self.required_tags = RequiredTags(required_tag_keys, allowed_values)
        if required_tag_keys or allowed_values:
            # READONLY: after every tagging aspect (MUTATING) has run anywhere in the tree.
            cdk.Aspects.of(target).add(self.required_tags, priority=cdk.AspectPriority.READONLY)
            self.node.add_validation(_TagFindings(self.required_tags, required_tag_keys))

    def _validate(
        self,
        tags: Mapping[str, str],
        required: Sequence[str],
        allowed_values: Mapping[str, Sequence[str]],
    ) -> None:
        if isinstance(required, str):
            raise prop_error(
                self, "required_tag_keys", required, 'Give a sequence of keys, e.g. ("owner",).'
            )
        for prop, keys in (
            ("required_tag_keys", list(required)),
            ("tags", list(tags)),
            ("allowed_tag_values", list(allowed_values)),
        ):
            for key in keys:
                if not _TAG_KEY.match(key) or key.lower().startswith("aws:"):
                    raise prop_error(
                        self,
                        prop,
                        key,
                        "Tag keys are 1-128 letters, digits, spaces and _.:/=+-@, and may not "
                        "start with 'aws:'.",
                    )
        for key, value in tags.items():
            if is_token(value):
                continue
            if not _TAG_VALUE.match(value) or not value.strip():
                raise prop_error(
                    self,
                    f"tags[{key!r}]",
                    value,
                    "Tag values are 1-256 letters, digits, spaces and _.:/=+-@.",
                )
            allowed = allowed_values.get(key)
            if allowed is not None and value not in allowed:
                raise prop_error(
                    self,
                    f"tags[{key!r}]",
                    value,
                    f"Use one of {', '.join(allowed)} (allowed_tag_values).",
                )
        for key, values in allowed_values.items():
            if isinstance(values, str) or not values:
                raise prop_error(
                    self,
                    f"allowed_tag_values[{key!r}]",
                    values,
                    'Give a non-empty sequence of values, e.g. ("internal", "confidential").',
                )


@jsii.implements(IValidation)
class _TagFindings:
    """The synth errors of a :class:`RequiredTags` aspect (run after the aspects)."""

    def __init__(self, aspect: RequiredTags, keys: Iterable[str]) -> None:
        self._aspect = aspect
        self._keys = tuple(keys)

    def validate(self) -> list[str]:
        findings = self._aspect.findings
        if not findings:
            return []
        return [f"Governance: {finding}" for finding in findings] + [
            f"Governance: {len(findings)} resource(s) above fail the mandatory tags "
            f"({', '.join(self._keys) or 'allowed values only'}). Fix: add the tags with "
            "cdk.Tags.of(<scope>).add(key, value) on the resource or a scope above it, pass "
            "tags= to Governance or to the stack, or change required_tag_keys/allowed_tag_values."
        ]
