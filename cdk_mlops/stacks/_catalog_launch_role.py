"""The catalog's default launch role: what CloudFormation needs to create every resource of the
maturity-level products (see ``docs/catalog.md``, "The launch role")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from cdk_mlops.compliance import acknowledge, checkov_skip, resource_finding

#: Service prefixes of CloudFormation resource namespaces whose IAM prefix is not the lower-case
#: namespace.
_IAM_PREFIX: Mapping[str, str] = {
    "ApplicationAutoScaling": "application-autoscaling",
    "StepFunctions": "states",
    "Logs": "logs",
}


def new_launch_role(
    stack: cdk.Stack, product_stacks: Iterable[cdk.Stack], asset_bucket: s3.IBucket
) -> iam.Role:
    """The launch role: Service Catalog of this account may assume it; it may run the
    CloudFormation stacks of the products and create their resources."""
    role = iam.Role(
        stack,
        "LaunchRole",
        assumed_by=iam.ServicePrincipal("servicecatalog.amazonaws.com").with_conditions(
            {"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}}
        ),
        description="cdk-mlops: Service Catalog launches the maturity-level products with "
        "this role",
    )
    services = sorted(
        {prefix for stack in product_stacks for prefix in _resource_services(stack)}
        - {"iam", "cloudformation"}
    )
    stack_arn = stack.format_arn(service="cloudformation", resource="stack", resource_name="SC-*")
    service_linked = stack.format_arn(
        service="iam", region="", resource="role", resource_name="aws-service-role/*"
    )
    iam_scope = [
        stack.format_arn(service="iam", region="", resource="role", resource_name="SC-*"),
        stack.format_arn(service="iam", region="", resource="policy", resource_name="*SC-*"),
    ]
    policy = iam.ManagedPolicy(
        stack,
        "LaunchPolicy",
        description="cdk-mlops catalog launch role: CloudFormation for the provisioned "
        "stacks and the services of the products' resources",
        statements=[
            iam.PolicyStatement(
                sid="ProvisionedStacks",
                actions=[
                    "cloudformation:CreateStack",
                    "cloudformation:UpdateStack",
                    "cloudformation:DeleteStack",
                    "cloudformation:DescribeStacks",
                    "cloudformation:DescribeStackEvents",
                    "cloudformation:DescribeStackResource",
                    "cloudformation:DescribeStackResources",
                    "cloudformation:ListStackResources",
                    "cloudformation:GetTemplate",
                    "cloudformation:SetStackPolicy",
                    "cloudformation:TagResource",
                    "cloudformation:UntagResource",
                    "cloudformation:CreateChangeSet",
                    "cloudformation:DescribeChangeSet",
                    "cloudformation:ExecuteChangeSet",
                    "cloudformation:DeleteChangeSet",
                    "cloudformation:ListChangeSets",
                ],
                resources=[stack_arn],
            ),
            iam.PolicyStatement(
                sid="ReadTemplates",
                actions=[
                    "cloudformation:GetTemplateSummary",
                    "cloudformation:ValidateTemplate",
                ],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="ServiceCatalogTemplateCopies",
                actions=["s3:GetObject"],
                resources=["*"],
                conditions={
                    "StringEquals": {"s3:ExistingObjectTag/servicecatalog:provisioning": "true"}
                },
            ),
            iam.PolicyStatement(
                sid="ProductAssets",
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[asset_bucket.arn_for_objects("*")],
            ),
            iam.PolicyStatement(
                sid="RolesOfTheProvisionedStacks",
                actions=[
                    "iam:CreateRole",
                    "iam:DeleteRole",
                    "iam:GetRole",
                    "iam:UpdateRole",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:TagRole",
                    "iam:UntagRole",
                    "iam:PutRolePolicy",
                    "iam:GetRolePolicy",
                    "iam:DeleteRolePolicy",
                    "iam:AttachRolePolicy",
                    "iam:DetachRolePolicy",
                    "iam:PutRolePermissionsBoundary",
                    "iam:PassRole",
                    "iam:CreatePolicy",
                    "iam:DeletePolicy",
                    "iam:GetPolicy",
                    "iam:CreatePolicyVersion",
                    "iam:DeletePolicyVersion",
                    "iam:ListPolicyVersions",
                    "iam:ListRolePolicies",
                    "iam:ListAttachedRolePolicies",
                    "iam:ListRoleTags",
                    "iam:DeleteRolePermissionsBoundary",
                    "iam:TagPolicy",
                    "iam:UntagPolicy",
                ],
                resources=iam_scope,
            ),
            iam.PolicyStatement(
                sid="ServiceLinkedRoles",
                actions=["iam:CreateServiceLinkedRole"],
                resources=[service_linked],
            ),
            iam.PolicyStatement(
                sid="ServicesOfTheProductResources",
                actions=[f"{s}:*" for s in services],
                resources=["*"],
            ),
        ],
    )
    role.add_managed_policy(policy)
    acknowledge(
        policy,
        [
            "AwsSolutions-IAM5[Resource::*]",
            *(
                resource_finding(stack, arn)
                for arn in (stack_arn, asset_bucket.arn_for_objects("*"), *iam_scope)
            ),
            resource_finding(stack, service_linked),
            *(f"AwsSolutions-IAM5[Action::{s}:*]" for s in services),
        ],
        "CloudFormation creates every resource of a launched product with this role: it needs "
        "the services of the products' resource types (derived from the templates), the "
        "SC-* stacks, roles and policies Service Catalog names, and the product assets.",
    )
    acknowledge(
        policy,
        [
            "HIPAA.Security-IAMPolicyNoStatementsWithFullAccess",
            "NIST.800.53.R5-IAMPolicyNoStatementsWithFullAccess",
            "PCI.DSS.321-IAMPolicyNoStatementsWithFullAccess",
        ],
        "A launch role stands in for a deployment role: CloudFormation creates, updates and "
        "deletes every resource type of the products with it, so each service is needed whole.",
    )
    for check_id, comment in (
        (
            "CKV_AWS_107",
            "Only Service Catalog assumes this role, to run the products' fixed templates; "
            "no person gets its credentials.",
        ),
        (
            "CKV_AWS_108",
            "CloudFormation reads and writes the products' resources (buckets, keys) with this "
            "role; launching users cannot change the templates it runs.",
        ),
        (
            "CKV_AWS_109",
            "CloudFormation sets the policies of the roles and buckets the products create; "
            "role and policy changes are limited to the SC-* names Service Catalog gives.",
        ),
        (
            "CKV_AWS_110",
            "Creating and passing roles is what deploying the products takes; it is limited to "
            "SC-* roles, and only the products' fixed templates run with it.",
        ),
        (
            "CKV_AWS_111",
            "CloudFormation creates, updates and deletes every resource type of the products "
            "with this role, so the writes cannot be narrowed to resources named in advance.",
        ),
    ):
        checkov_skip(policy, check_id, comment)
    return role


def _resource_services(stack: cdk.Stack) -> set[str]:
    """The IAM service prefixes of the resource types in ``stack`` (``AWS::Glue::Job`` ->
    ``glue``); custom resources need ``lambda`` (CloudFormation invokes their handlers)."""
    out: set[str] = set()
    for node in stack.node.find_all():
        if not isinstance(node, cdk.CfnResource) or cdk.Stack.of(node) is not stack:
            continue
        kind = node.cfn_resource_type
        if not kind.startswith("AWS::"):
            out.add("lambda")
            continue
        namespace = kind.split("::")[1]
        out.add(_IAM_PREFIX.get(namespace, namespace.lower()))
    return out
