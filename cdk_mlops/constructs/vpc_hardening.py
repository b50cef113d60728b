"""Bring a VPC of your own to the compliance bar of the VPC that ``Network`` creates.

Two things make a VPC pass cdk-nag's four packs, cfn-lint and checkov the way ours does:

- its default security group is closed. CDK does that with a custom resource
  (``restrict_default_security_group=True``, the default under the
  ``@aws-cdk/aws-ec2:restrictDefaultSecurityGroup`` feature flag), whose Lambda handler cfn-lint
  (W3005) and checkov (CKV_AWS_115/116/117/173) then flag: :func:`close_default_security_group`
  checks the VPC has it and records why each of those findings does not apply;
- its traffic is logged: :class:`VpcHardening` also adds flow logs of all traffic to a
  KMS-encrypted CloudWatch log group (cdk-nag VPC7 / ``VPCFlowLogsEnabled``).

Both work on an ``ec2.Vpc`` created in your app. An imported VPC (``Vpc.from_lookup``,
``from_vpc_attributes``) is hardened in the app that creates it; the checks of this app do not
see its default security group or flow logs.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_mlops.compliance import acknowledge_inline_policy, checkov_skip
from cdk_mlops.constructs._util import prop_error
from cdk_mlops.constructs.encryption import allow_cloudwatch_logs

#: The construct id of CDK's custom resource that strips the default security group's rules.
_RESTRICT_CHILD = "RestrictDefaultSecurityGroupCustomResource"
#: ... and of the stack-level singleton provider (a Lambda function and its role) behind it.
_RESTRICT_PROVIDER = "Custom::VpcRestrictDefaultSGCustomResourceProvider"


def close_default_security_group(vpc: ec2.IVpc) -> None:
    """Make sure ``vpc``'s default security group is closed, and document CDK's handler for it.

    ``vpc`` must be an ``ec2.Vpc`` created in this app with ``restrict_default_security_group``
    on (the default when the ``@aws-cdk/aws-ec2:restrictDefaultSecurityGroup`` feature flag is
    set, as ``cdk init`` does): CDK then adds a custom resource that removes the default group's
    rules when the VPC is deployed. This records, on CDK's handler, why cfn-lint W3005 and
    checkov CKV_AWS_115, 116, 117 and 173 do not apply to it. Calling it twice is harmless.

    :raises ValueError: ``vpc`` is imported, or its default security group is not restricted.
    """
    if not isinstance(vpc, ec2.Vpc):
        raise prop_error(
            "close_default_security_group",
            "vpc",
            vpc.node.path,
            "The VPC is imported (Vpc.from_lookup, from_vpc_attributes or another app): close its "
            "default security group in the app that creates it, where this check can see it.",
        )
    if vpc.node.try_find_child(_RESTRICT_CHILD) is None:
        raise prop_error(
            "close_default_security_group",
            "vpc",
            vpc.node.path,
            "Its default security group keeps its rules: create the VPC with "
            "ec2.Vpc(..., restrict_default_security_group=True), or set the feature flag "
            '"@aws-cdk/aws-ec2:restrictDefaultSecurityGroup": true in cdk.json.',
        )
    _document_restrict_provider(cdk.Stack.of(vpc))


def _document_restrict_provider(stack: cdk.Stack) -> None:
    """Notes for cfn-lint and checkov on CDK's singleton provider (CDK's own code)."""
    provider = stack.node.try_find_child(_RESTRICT_PROVIDER)
    if provider is None:
        return
    handler = provider.node.find_child("Handler")
    role = provider.node.find_child("Role")
    assert isinstance(handler, cdk.CfnResource) and isinstance(role, cdk.CfnResource)
    # cfn-lint W3005: CDK adds a DependsOn on the role that the handler's GetAtt already implies.
    handler.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})
    for check_id, comment in (
        (
            "CKV_AWS_115",
            "CDK's one-shot deploy-time handler that removes the default security group's rules; it runs only during deployments and needs no reserved concurrency.",
        ),
        (
            "CKV_AWS_116",
            "Deploy-time CloudFormation handler: CloudFormation retries failures itself, so a dead-letter queue would stay empty.",
        ),
        (
            "CKV_AWS_117",
            "The handler calls the EC2 API while the VPC is built; isolated subnets have no EC2 endpoint, so it runs outside the VPC.",
        ),
        ("CKV_AWS_173", "The handler has no environment variables to encrypt."),
    ):
        checkov_skip(handler, check_id, comment)


def encrypted_flow_logs(
    scope: Construct,
    vpc: ec2.Vpc,
    *,
    key: kms.IKey | None,
    retention: logs.RetentionDays,
    flow_log_id: str = "FlowLog",
) -> logs.LogGroup:
    """Flow logs of all of ``vpc``'s traffic to a KMS-encrypted log group under ``scope``.

    Children of ``scope``: ``FlowLogs`` (the log group) and, without ``key``, ``FlowLogsKey``;
    the flow log itself is ``flow_log_id`` under the VPC.
    """
    if key is None:
        new_key = kms.Key(
            scope, "FlowLogsKey", description="cdk-mlops flow logs", enable_key_rotation=True
        )
        allow_cloudwatch_logs(new_key)
        key = new_key
    group = logs.LogGroup(
        scope,
        "FlowLogs",
        encryption_key=key,
        retention=retention,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    flow_log = vpc.add_flow_log(
        flow_log_id,
        destination=ec2.FlowLogDestination.to_cloud_watch_logs(group),
        traffic_type=ec2.FlowLogTrafficType.ALL,
    )
    acknowledge_inline_policy(
        flow_log.node.find_child("IAMRole").node.find_child("DefaultPolicy"), "VPC flow logs"
    )
    return group


class VpcHardening(Construct):
    """Give a VPC you create the compliance handling of ``Network``'s own VPC.

    Closes the default security group (:func:`close_default_security_group`) and, unless
    ``flow_logs=False``, logs all traffic to a KMS-encrypted CloudWatch log group kept a year
    (retained on stack deletion)::

        vpc = ec2.Vpc(self, "Vpc", restrict_default_security_group=True, ...)
        VpcHardening(self, "VpcHardening", vpc=vpc, flow_logs_key=keys.logs_key)

    :param vpc: an ``ec2.Vpc`` created in this app with ``restrict_default_security_group`` on.
    :param flow_logs: add flow logs. Default True; pass False when the VPC already has them
        (``vpc.add_flow_log``), or cdk-nag will report it has none.
    :param flow_logs_key: KMS key of the log group; its policy must admit CloudWatch Logs
        (``EncryptionKeys.logs_key`` or ``allow_cloudwatch_logs(key)``). Default: a new key that does.
    :param flow_logs_retention: default one year.

    Attribute ``flow_logs_group``: the log group, or None with ``flow_logs=False``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        flow_logs: bool = True,
        flow_logs_key: kms.IKey | None = None,
        flow_logs_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        super().__init__(scope, construct_id)
        close_default_security_group(vpc)
        assert isinstance(vpc, ec2.Vpc)  # close_default_security_group refuses anything else
        if flow_logs_key is not None and not flow_logs:
            raise prop_error(
                self,
                "flow_logs_key",
                flow_logs_key.node.path,
                "It encrypts the flow logs, which flow_logs=False turns off; drop one of them.",
            )
        self.vpc = vpc
        self.flow_logs_group: logs.LogGroup | None = (
            encrypted_flow_logs(
                self,
                vpc,
                key=flow_logs_key,
                retention=flow_logs_retention,
                # Under the VPC, named after this construct so it cannot clash with the user's own.
                flow_log_id=f"{construct_id}FlowLog",
            )
            if flow_logs
            else None
        )
