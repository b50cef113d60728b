"""Compliance gates shared by every stack: cdk-nag packs, narrow acknowledgments, checkov skips.

Acknowledgments are always attached to the narrowest construct that produces the finding and
always carry a reason specific to that construct; nothing is silenced at stack or app level.
"""

from __future__ import annotations

from collections.abc import Iterable

import aws_cdk as cdk
import cdk_nag
from constructs import IConstruct

from cdk_mlops._nag_packs import PACK_NAMES

#: The rule packs every stack of this library is checked against.
NAG_PACKS: tuple[type[cdk_nag.NagPack], ...] = (
    cdk_nag.AwsSolutionsChecks,
    cdk_nag.HIPAASecurityChecks,
    cdk_nag.NIST80053R5Checks,
    cdk_nag.PCIDSS321Checks,
)


def add_compliance_checks(app: cdk.App | cdk.Stage) -> None:
    """Register AwsSolutions, HIPAA Security, NIST 800-53 rev5 and PCI DSS 3.2.1 on ``app``.

    Any unacknowledged finding makes ``app.synth()`` raise and ``cdk synth`` exit 1.
    """
    cdk.Validations.of(app).add_plugins(*(pack(app) for pack in NAG_PACKS))


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


def bucket_objects_finding(bucket: IConstruct, objects_key_pattern: str = "*") -> str:
    """The cdk-nag IAM5 finding id of a grant on ``<bucket arn>/<objects_key_pattern>``."""
    cfn = bucket.node.default_child
    if not isinstance(cfn, cdk.CfnResource):
        raise TypeError(f"{bucket.node.path} is not a bucket created in this app")
    logical_id = cdk.Stack.of(bucket).resolve(cfn.logical_id)
    return f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/{objects_key_pattern}]"
