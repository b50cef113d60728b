"""SageMaker Studio in VPC-only mode with a least-privilege data-scientist role."""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from cdk_mlops.compliance import (
    KMS_GRANT_FINDINGS,
    S3_READ_GRANT_FINDINGS,
    S3_WRITE_GRANT_FINDINGS,
    acknowledge,
    acknowledge_inline_policy,
    bucket_objects_finding,
    resource_finding,
)
from cdk_mlops.constructs._sagemaker import (
    create_jobs_in_vpc,
    job_logs_and_metrics,
    log_group_arn,
    network_interfaces_arn,
    sagemaker_arn,
    sagemaker_principal,
    volume_key_grants,
    vpc_job_network_statements,
)
from cdk_mlops.constructs._util import prop_error, stack_scoped_name
from cdk_mlops.constructs.data_lake import DataLake, Zone
from cdk_mlops.constructs.network import STUDIO_REQUIRED_ENDPOINTS, Network

_PROFILE_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")


def _profile_id(name: str) -> str:
    return "User" + "".join(part.capitalize() for part in name.split("-") if part)


class DataScientistRole(Construct):
    """The execution role of Studio users and the jobs they start: scoped to the data lake.

    No ``AmazonSageMakerFullAccess``. Users may read the raw and curated zones, read and write the
    artifacts zone, read the monitoring zone, manage their own Studio apps and spaces, and start
    training, processing and tuning jobs only with a VPC configuration and KMS-encrypted volumes
    and outputs (IAM ``Null`` conditions), passing only this role. Jobs attach network interfaces
    only in ``network``'s subnets with its workload security group.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data_lake: DataLake,
        encryption_key: kms.IKey,
        network: Network,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "Resource",
            assumed_by=sagemaker_principal(stack),
            description="cdk-mlops data scientist: Studio and jobs, scoped to the data lake",
        )
        data_lake.grant_read(self.role, [Zone.RAW, Zone.CURATED, Zone.MONITORING])
        data_lake.grant_read_write(self.role, [Zone.ARTIFACTS])
        encryption_key.grant_encrypt_decrypt(self.role)

        studio = [sagemaker_arn(stack, r) for r in ("domain", "user-profile", "space", "app")]
        jobs = [
            sagemaker_arn(stack, r)
            for r in ("training-job", "processing-job", "hyper-parameter-tuning-job")
        ]
        policy = iam.Policy(self, "Policy", roles=[self.role])
        policy.add_statements(
            iam.PolicyStatement(
                sid="StudioApps",
                actions=[
                    "sagemaker:CreateApp",
                    "sagemaker:DeleteApp",
                    "sagemaker:DescribeApp",
                    "sagemaker:DescribeDomain",
                    "sagemaker:DescribeUserProfile",
                    "sagemaker:DescribeSpace",
                    "sagemaker:CreateSpace",
                    "sagemaker:UpdateSpace",
                    "sagemaker:DeleteSpace",
                    "sagemaker:AddTags",
                ],
                resources=studio,
            ),
            create_jobs_in_vpc(
                [
                    "sagemaker:CreateTrainingJob",
                    "sagemaker:CreateProcessingJob",
                    "sagemaker:CreateHyperParameterTuningJob",
                ],
                jobs,
            ),
            *vpc_job_network_statements(stack, network),
            iam.PolicyStatement(
                sid="ManageOwnJobs",
                actions=[
                    "sagemaker:DescribeTrainingJob",
                    "sagemaker:DescribeProcessingJob",
                    "sagemaker:DescribeHyperParameterTuningJob",
                    "sagemaker:StopTrainingJob",
                    "sagemaker:StopProcessingJob",
                    "sagemaker:StopHyperParameterTuningJob",
                ],
                resources=jobs,
            ),
            iam.PolicyStatement(
                sid="ListAndSearch",
                actions=[
                    "sagemaker:ListApps",
                    "sagemaker:ListSpaces",
                    "sagemaker:ListTrainingJobs",
                    "sagemaker:ListProcessingJobs",
                    "sagemaker:ListModelPackageGroups",
                    "sagemaker:ListModelPackages",
                    "sagemaker:Search",
                ],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="PassOnlyThisRoleToSageMaker",
                actions=["iam:PassRole"],
                resources=[self.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            ),
            *job_logs_and_metrics(stack, read_logs=True),
            # Jobs must name a volume KMS key (condition above); SageMaker then creates a grant
            # on it with the caller's permissions.
            volume_key_grants(encryption_key),
        )
        self.policy = policy
        acknowledge_inline_policy(policy, "data-scientist")
        acknowledge_inline_policy(self.role.node.find_child("DefaultPolicy"), "data-scientist")
        acknowledge(
            self.role.node.find_child("DefaultPolicy"),
            [*S3_READ_GRANT_FINDINGS, *S3_WRITE_GRANT_FINDINGS, *KMS_GRANT_FINDINGS],
            "These action wildcards come from Bucket.grant_read/grant_read_write and Key.grant_encrypt_decrypt "
            "and expand only to object read/write and data-key actions on the data lake's own buckets and key.",
        )
        for zone in Zone:
            bucket = data_lake.bucket(zone)
            if isinstance(bucket.node.default_child, cdk.CfnResource):
                acknowledge(
                    self.role.node.find_child("DefaultPolicy"),
                    bucket_objects_finding(bucket),
                    f"Data scientists work on any object of the {zone.value} zone; the wildcard covers the "
                    "objects of that one bucket only.",
                )
        acknowledge(
            policy,
            [
                resource_finding(self, sagemaker_arn(stack, r))
                for r in (
                    "domain",
                    "user-profile",
                    "space",
                    "app",
                    "training-job",
                    "processing-job",
                    "hyper-parameter-tuning-job",
                )
            ]
            + [resource_finding(self, log_group_arn(stack, "/aws/sagemaker/*"))],
            "Studio apps, spaces and jobs get names chosen at run time; each wildcard is one SageMaker resource "
            "type (or SageMaker's own log groups) in this account and region, and job creation also requires "
            "VPC and KMS settings by condition.",
        )
        acknowledge(
            policy,
            [
                "AwsSolutions-IAM5[Resource::*]",
                resource_finding(self, network_interfaces_arn(stack)),
            ],
            "SageMaker List*/Search, EC2 Describe* and CloudWatch PutMetricData support no resource-level "
            "permissions (PutMetricData is limited to SageMaker namespaces by condition); SageMaker names the "
            "network interfaces of VPC jobs, which may only use this network's subnets and security group.",
        )

    @property
    def role_arn(self) -> str:
        return self.role.role_arn


class StudioEnvironment(Construct):
    """A SageMaker Studio domain in VPC-only mode, encrypted, with idle shutdown and a user.

    Secure defaults: IAM auth, ``VpcOnly`` network access (no direct internet from notebooks),
    the network's workload security group, the EFS and app volumes encrypted with
    ``encryption_key``, JupyterLab and Code Editor apps shut down after ``idle_timeout``, and the
    :class:`DataScientistRole` as execution role.

    :param network: the :class:`Network` Studio runs in. A network that created its own VPC must
        have the SageMaker API and runtime interface endpoints (Studio cannot work without them).
    :param data_lake: the data lake the data-scientist role is scoped to.
    :param encryption_key: KMS key for the domain's storage.
    :param domain_name: default ``<stack name>-studio``. The domain is deleted with the stack;
        SageMaker keeps its EFS home file system (users' notebooks) unless you delete it: see
        the teardown section of the docs.
    :param user_profile_names: user profiles to create. Default ``("data-scientist",)``.
    :param idle_timeout: idle shutdown of JupyterLab and Code Editor apps. Default 60 minutes
        (SageMaker accepts 60 to 525,600).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        network: Network,
        data_lake: DataLake,
        encryption_key: kms.IKey,
        domain_name: str | None = None,
        user_profile_names: Sequence[str] = ("data-scientist",),
        idle_timeout: cdk.Duration | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if domain_name is None:
            domain_name = stack_scoped_name(self, "studio", max_length=63)
        idle = idle_timeout or cdk.Duration.minutes(60)
        exact = float(idle.to_minutes(integral=False))
        if not (exact.is_integer() and 60 <= exact <= 525_600):
            raise prop_error(
                "StudioEnvironment",
                "idle_timeout",
                f"{exact:g} minutes",
                "SageMaker accepts 60 to 525600 whole minutes; default is 60.",
            )
        minutes = int(exact)
        if not _PROFILE_NAME.fullmatch(domain_name):
            raise prop_error(
                "StudioEnvironment",
                "domain_name",
                domain_name,
                "Use letters, digits and hyphens, 1 to 63 characters.",
            )
        for name in user_profile_names:
            if not _PROFILE_NAME.fullmatch(name):
                raise prop_error(
                    "StudioEnvironment",
                    "user_profile_names",
                    name,
                    "Use letters, digits and hyphens, 1 to 63 characters.",
                )
        ids = [_profile_id(n) for n in user_profile_names]
        clashes = sorted(
            {n for n, i in zip(user_profile_names, ids, strict=True) if ids.count(i) > 1}
        )
        if clashes:
            raise prop_error(
                "StudioEnvironment",
                "user_profile_names",
                clashes,
                "Each profile needs its own name, also ignoring case and hyphens (they map to one construct id).",
            )
        missing = [
            e.short_name for e in STUDIO_REQUIRED_ENDPOINTS if not network.has_interface_endpoint(e)
        ]
        if network.created_vpc:
            if missing:
                raise prop_error(
                    "StudioEnvironment",
                    "network.interface_endpoints",
                    sorted(network.interface_endpoints),
                    f"Studio in VPC-only mode needs interface endpoints for {missing}; add them to the "
                    "Network's interface_endpoints (see STUDIO_REQUIRED_ENDPOINTS).",
                )
        elif missing:
            cdk.Annotations.of(self).add_warning_v2(
                "cdk-mlops:StudioEndpoints",
                "Studio runs in an existing VPC: make sure it has interface endpoints for the SageMaker API "
                "and runtime (or a NAT gateway), or notebooks cannot reach SageMaker.",
            )

        self.data_scientist = DataScientistRole(
            self,
            "DataScientistRole",
            data_lake=data_lake,
            encryption_key=encryption_key,
            network=network,
        )
        lifecycle = sagemaker.CfnDomain.AppLifecycleManagementProperty(
            idle_settings=sagemaker.CfnDomain.IdleSettingsProperty(
                lifecycle_management="ENABLED",
                idle_timeout_in_minutes=minutes,
                min_idle_timeout_in_minutes=60,
                max_idle_timeout_in_minutes=max(minutes, 240),
            )
        )
        sg_ids = [network.workload_security_group.security_group_id]
        self.domain = sagemaker.CfnDomain(
            self,
            "Resource",
            domain_name=domain_name,
            auth_mode="IAM",
            app_network_access_type="VpcOnly",
            vpc_id=network.vpc.vpc_id,
            subnet_ids=network.subnet_ids,
            kms_key_id=encryption_key.key_arn,
            default_user_settings=sagemaker.CfnDomain.UserSettingsProperty(
                execution_role=self.data_scientist.role_arn,
                security_groups=sg_ids,
                studio_web_portal="ENABLED",
                default_landing_uri="studio::",
                jupyter_lab_app_settings=sagemaker.CfnDomain.JupyterLabAppSettingsProperty(
                    app_lifecycle_management=lifecycle
                ),
                code_editor_app_settings=sagemaker.CfnDomain.CodeEditorAppSettingsProperty(
                    app_lifecycle_management=lifecycle
                ),
            ),
            default_space_settings=sagemaker.CfnDomain.DefaultSpaceSettingsProperty(
                execution_role=self.data_scientist.role_arn, security_groups=sg_ids
            ),
        )
        # The users' data is on the domain's EFS volume, which DeleteDomain retains by default;
        # the domain itself holds none, and a retained domain would only be an orphan.
        self.domain.apply_removal_policy(cdk.RemovalPolicy.DESTROY)
        self.user_profiles = [
            sagemaker.CfnUserProfile(
                self,
                _profile_id(name),
                domain_id=self.domain.attr_domain_id,
                user_profile_name=name,
                user_settings=sagemaker.CfnUserProfile.UserSettingsProperty(
                    execution_role=self.data_scientist.role_arn, security_groups=sg_ids
                ),
            )
            for name in user_profile_names
        ]

    @property
    def domain_id(self) -> str:
        return self.domain.attr_domain_id

    @property
    def domain_arn(self) -> str:
        return self.domain.attr_domain_arn
