"""Compliance gates shared by every stack: cdk-nag packs, narrow acknowledgments, checkov skips.

Acknowledgments are always attached to the narrowest construct that produces the finding and
always carry a reason specific to that construct; nothing is silenced at stack or app level.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import aws_cdk as cdk
import cdk_nag
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from cdk_mlops._nag_packs import PACK_NAMES

#: The rule packs every stack of this library is checked against.
NAG_PACKS: tuple[type[cdk_nag.NagPack], ...] = (
    cdk_nag.AwsSolutionsChecks,
    cdk_nag.HIPAASecurityChecks,
    cdk_nag.NIST80053R5Checks,
    cdk_nag.PCIDSS321Checks,
)


def add_compliance_checks(
    app: cdk.App | cdk.Stage, *, packs: Iterable[type[cdk_nag.NagPack]] = NAG_PACKS
) -> None:
    """Register cdk-nag packs on ``app``: by default all of :data:`NAG_PACKS` (AwsSolutions,
    HIPAA Security, NIST 800-53 rev5, PCI DSS 3.2.1); ``packs=`` picks a subset or others
    (for example ``(cdk_nag.AwsSolutionsChecks, cdk_nag.NIST80053R5Checks)``).

    Any unacknowledged finding makes ``app.synth()`` raise and ``cdk synth`` exit 1.
    """
    chosen = list(packs)
    if isinstance(packs, str) or not chosen:
        raise ValueError(
            f"add_compliance_checks: packs={packs!r} is not allowed. Give at least one cdk-nag "
            "pack class, e.g. packs=(cdk_nag.AwsSolutionsChecks,); the default is all four."
        )
    for pack in chosen:
        if not (isinstance(pack, type) and issubclass(pack, cdk_nag.NagPack)):
            raise ValueError(
                f"add_compliance_checks: packs contains {pack!r}, which is not a cdk-nag pack "
                "class. Pass the classes themselves (cdk_nag.AwsSolutionsChecks), not instances "
                "or names."
            )
    if len(set(chosen)) != len(chosen):
        raise ValueError(
            f"add_compliance_checks: packs={chosen!r} names a pack twice; each pack once."
        )
    cdk.Validations.of(app).add_plugins(*(pack(app) for pack in chosen))


def acknowledge(construct: IConstruct, rule_ids: str | Iterable[str], reason: str) -> None:
    """Acknowledge cdk-nag findings on one construct (and its children) with a specific reason.

    ``rule_ids`` are full finding ids, e.g. ``"AwsSolutions-IAM5[Action::s3:List*]"``; cdk-nag 3
    matches ids exactly, so each finding is named. The reason must say why this construct is
    fine, not why the rule is annoying.
    """
    if len(reason.strip()) < 20:
        raise ValueError(
            f"acknowledgment reason {reason!r} is too short; say specifically why the finding "
            "is acceptable for this construct"
        )
    ids = [rule_ids] if isinstance(rule_ids, str) else list(rule_ids)
    for rule in ids:
        pack = rule.split("-", 1)[0]
        if pack not in PACK_NAMES:
            raise ValueError(
                f"acknowledge: {rule!r} is not a finding of {sorted(PACK_NAMES)}; copy the id from the report"
            )
    cdk.Validations.of(construct).acknowledge(
        *(cdk.Acknowledgment(id=f"{r.split('-', 1)[0]}::{r}", reason=reason) for r in ids)
    )


def checkov_skip(resource: IConstruct, check_id: str, comment: str) -> None:
    """Record a justified checkov skip in the resource's template metadata.

    ``resource`` is an L1 ``CfnResource`` or an L2 whose ``node.default_child`` is one.
    """
    cfn = resource if isinstance(resource, cdk.CfnResource) else resource.node.default_child
    if not isinstance(cfn, cdk.CfnResource):
        raise TypeError(f"checkov_skip needs a CloudFormation resource, got {resource.node.path}")
    meta = cfn.get_metadata("checkov") or {}
    skips = [s for s in meta.get("skip", []) if s["id"] != check_id]
    skips.append({"id": check_id, "comment": comment})
    cfn.add_metadata("checkov", {"skip": sorted(skips, key=lambda s: s["id"])})


INLINE_POLICY_RULES: tuple[str, ...] = (
    "HIPAA.Security-IAMNoInlinePolicy",
    "NIST.800.53.R5-IAMNoInlinePolicy",
    "PCI.DSS.321-IAMNoInlinePolicy",
)


def grant_policies(role: IConstruct) -> list[IConstruct]:
    """The policies CDK ``grant_*`` calls wrote for ``role``: a created role's ``DefaultPolicy``, an
    imported role's ``Policy``/``Policy<id>`` (children of the role's construct). Call after the
    grants."""
    return [
        child
        for child in role.node.children
        if child.node.id == "DefaultPolicy" or child.node.id.startswith("Policy")
    ]


def acknowledge_inline_policy(policy: IConstruct, owner: str) -> None:
    """Acknowledge the no-inline-policy rules on one role's own policy.

    CDK ``grant_*`` methods write to the role's own (inline) policy. ``owner`` names the role in
    the reason so every acknowledgment says whose policy it is.
    """
    acknowledge(
        policy,
        INLINE_POLICY_RULES,
        f"This policy belongs to the {owner} role alone and is created and deleted with it; its "
        "statements are least-privilege grants, and a managed policy would only duplicate them.",
    )


#: IAM5 findings raised by the action wildcards of ``Bucket.grant_read``.
S3_READ_GRANT_FINDINGS: tuple[str, ...] = (
    "AwsSolutions-IAM5[Action::s3:GetObject*]",
    "AwsSolutions-IAM5[Action::s3:GetBucket*]",
    "AwsSolutions-IAM5[Action::s3:List*]",
)
#: ... of ``Bucket.grant_read_write`` / ``grant_write`` on top of the read ones.
S3_WRITE_GRANT_FINDINGS: tuple[str, ...] = (
    "AwsSolutions-IAM5[Action::s3:DeleteObject*]",
    "AwsSolutions-IAM5[Action::s3:Abort*]",
)
#: ... of ``Key.grant_encrypt_decrypt`` / ``grant_encrypt`` (and bucket write grants on a KMS bucket).
KMS_GRANT_FINDINGS: tuple[str, ...] = (
    "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
    "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
)


def nag_text(scope: IConstruct, value: Any) -> str:
    """``value`` (a string, possibly with tokens) written the way cdk-nag writes it in finding ids.

    cdk-nag resolves a policy resource and flattens its intrinsics: ``Fn::Join`` pieces are
    joined, ``{"Ref": "X"}`` becomes ``<X>``, ``Fn::GetAtt`` ``<Id.Attr>``, ``${X}`` of a
    ``Fn::Sub`` ``<X>`` (its ``flattenCfnReference``). Building acknowledgments from the same
    value as the policy keeps them right in any environment: with a concrete ``env=`` the account
    and region are literals, environment-agnostic they are ``<AWS::AccountId>`` and friends.
    """
    return _flatten(cdk.Stack.of(scope).resolve(value))


def _flatten(node: Any) -> str:
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(_flatten(i) for i in items)
        if "Fn::Sub" in node:
            return _flatten(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_flatten(resource)}.{_flatten(attribute)}>"
        if "Fn::ImportValue" in node:
            return _flatten(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{_flatten(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))


def resource_finding(scope: IConstruct, resource: str) -> str:
    """The AwsSolutions-IAM5 finding id of a wildcard policy resource, in ``scope``'s environment."""
    return f"AwsSolutions-IAM5[Resource::{nag_text(scope, resource)}]"


def bucket_objects_finding(bucket: s3.IBucket, objects_key_pattern: str = "*") -> str:
    """The cdk-nag IAM5 finding id of a grant on ``<bucket arn>/<objects_key_pattern>``.

    Works for buckets created in the app (``<Logical.Arn>/...``) and imported ones (a literal
    ``arn:...:s3:::name/...``).
    """
    return resource_finding(bucket, bucket.arn_for_objects(objects_key_pattern))
