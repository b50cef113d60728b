"""IAM statements shared by roles that run SageMaker jobs in the VPC."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from cdk_mlops.constructs.interfaces import JobNetwork

#: Job creation must name VPC subnets, security groups and KMS keys for volume and output.
VPC_KMS_REQUIRED: dict[str, dict[str, str]] = {
    "Null": {
        "sagemaker:VpcSubnets": "false",
        "sagemaker:VpcSecurityGroupIds": "false",
        "sagemaker:VolumeKmsKey": "false",
        "sagemaker:OutputKmsKey": "false",
    }
}


def network_interfaces_arn(stack: cdk.Stack) -> str:
    """Every network interface of the stack's account and region (SageMaker names a job's ENIs)."""
    return stack.format_arn(service="ec2", resource="network-interface", resource_name="*")


def sagemaker_arn(stack: cdk.Stack, resource: str, name: str = "*") -> str:
    """ARN of SageMaker ``resource``/``name`` in the stack's account and region."""
    return stack.format_arn(service="sagemaker", resource=resource, resource_name=name)


def sagemaker_principal(stack: cdk.Stack) -> iam.IPrincipal:
    """SageMaker as a role's trusted service, for this account's resources only.

    ``aws:SourceAccount`` keeps SageMaker acting for another account from assuming the role
    (cross-service confused deputy), as SageMaker's security guide recommends.
    """
    return iam.ServicePrincipal("sagemaker.amazonaws.com").with_conditions(
        {"StringEquals": {"aws:SourceAccount": stack.account}}
    )


def volume_key_grants(key: kms.IKey, *, sid: str = "VolumeKeyGrants") -> iam.PolicyStatement:
    """``kms:CreateGrant`` on ``key`` for AWS resources only, which a job with a volume KMS key needs.

    SageMaker attaches encrypted volumes to a job's instances through a grant it creates with the
    permissions of the principal that starts the job.
    """
    return iam.PolicyStatement(
        sid=sid,
        actions=["kms:CreateGrant"],
        resources=[key.key_arn],
        conditions={"Bool": {"kms:GrantIsForAWSResource": "true"}},
    )


def create_jobs_in_vpc(
    actions: Sequence[str],
    resources: Sequence[str],
    *,
    require_isolation: bool = False,
    sid: str = "JobsOnlyInVpcWithKms",
) -> iam.PolicyStatement:
    """Allow creating jobs only with VPC and KMS settings (IAM ``Null`` conditions).

    ``require_isolation`` also demands network isolation and inter-container traffic
    encryption (for pipeline roles; data scientists may need networked jobs).
    """
    conditions: dict[str, dict[str, str]] = {k: dict(v) for k, v in VPC_KMS_REQUIRED.items()}
    if require_isolation:
        conditions["Bool"] = {
            "sagemaker:NetworkIsolation": "true",
            "sagemaker:InterContainerTrafficEncryption": "true",
        }
    return iam.PolicyStatement(
        sid=sid, actions=list(actions), resources=list(resources), conditions=conditions
    )


def vpc_job_network_statements(stack: cdk.Stack, network: JobNetwork) -> list[iam.PolicyStatement]:
    """What SageMaker needs on the execution role to attach a job to ``network``.

    Network interfaces may be created only in the network's subnets with its security groups;
    Describe* calls have no resource-level permissions.
    """
    return [
        iam.PolicyStatement(
            sid="JobNetworkInterfaces",
            actions=[
                "ec2:CreateNetworkInterface",
                "ec2:CreateNetworkInterfacePermission",
                "ec2:DeleteNetworkInterface",
                "ec2:DeleteNetworkInterfacePermission",
            ],
            resources=[
                network_interfaces_arn(stack),
                *(
                    stack.format_arn(service="ec2", resource="subnet", resource_name=sn)
                    for sn in network.subnet_ids
                ),
                *(
                    stack.format_arn(service="ec2", resource="security-group", resource_name=sg)
                    for sg in network.security_group_ids
                ),
            ],
        ),
        iam.PolicyStatement(
            sid="DescribeNetwork",
            actions=[
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeVpcs",
                "ec2:DescribeDhcpOptions",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
            ],
            resources=["*"],
        ),
    ]


def log_group_arn(stack: cdk.Stack, name_pattern: str) -> str:
    """ARN of the CloudWatch log groups matching ``name_pattern`` in the stack's account and region."""
    return stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name=name_pattern,
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


def job_logs_and_metrics(stack: cdk.Stack, *, read_logs: bool = False) -> list[iam.PolicyStatement]:
    """Write SageMaker's own log groups (and read them with ``read_logs``) and SageMaker metrics."""
    actions = [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
    ]
    if read_logs:
        actions.append("logs:GetLogEvents")
    return [
        iam.PolicyStatement(
            sid="SageMakerLogs",
            actions=actions,
            resources=[log_group_arn(stack, "/aws/sagemaker/*")],
        ),
        iam.PolicyStatement(
            sid="SageMakerMetrics",
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={
                "StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"]}
            },
        ),
    ]
