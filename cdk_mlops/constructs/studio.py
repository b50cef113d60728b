"""SageMaker Studio in VPC-only mode with a least-privilege data-scientist role."""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from cdk_mlops.compliance import (
    KMS_GRANT_FINDINGS,
    S3_READ_GRANT_FINDINGS,
    S3_WRITE_GRANT_FINDINGS,
    acknowledge,
    acknowledge_inline_policy,
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
from cdk_mlops.constructs._util import check_prop, stack_scoped_name
from cdk_mlops.constructs.interfaces import JobNetwork
from cdk_mlops.constructs.network import STUDIO_REQUIRED_ENDPOINTS

_PROFILE_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")


def _profile_id(name: str) -> str:
    return "User" + "".join(part.capitalize() for part in name.split("-") if part)


class DataScientistRole(Construct):
    """The execution role of Studio users and the jobs they start: scoped to the data lake.

    No ``AmazonSageMakerFullAccess``. Users may read ``read_buckets`` (the raw, curated and
    monitoring zones), read and write ``read_write_buckets`` (the artifacts zone), manage their
    own Studio apps and spaces, and start training, processing and tuning jobs only with a VPC
    configuration and KMS-encrypted volumes and outputs (IAM ``Null`` conditions), passing only
    this role. Jobs attach network interfaces only in ``job_network``'s subnets and security
    groups.

    :param job_network: where jobs and apps run (``Network.job_network`` or your own
        :class:`JobNetwork`).
    :param encryption_key: KMS key for job volumes, outputs and the data lake.
    :param read_buckets: buckets users may read. Default none.
    :param read_write_buckets: buckets users may read and write. Default none.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        job_network: JobNetwork,
        encryption_key: kms.IKey,
        read_buckets: Sequence[s3.IBucket] = (),
        read_write_buckets: Sequence[s3.IBucket] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.role = iam.Role(
            self,
            "Resource",
            assumed_by=sagemaker_principal(stack),
            description="cdk-mlops data scientist: Studio and jobs, scoped to the data lake",
        )
        for bucket in read_buckets:
            bucket.grant_read(self.role)
        for bucket in read_write_buckets:
            bucket.grant_read_write(self.role)
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
            *vpc_job_network_statements(stack, job_network),
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
        acknowledge(
            self.role.node.find_child("DefaultPolicy"),
            [
                resource_finding(self, bucket.arn_for_objects("*"))
                for bucket in (*read_buckets, *read_write_buckets)
            ],
            "Data scientists work on any object of the data lake zones they are given; each wildcard covers "
            "the objects of one of those buckets only.",
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

    :param job_network: where Studio runs (``Network.job_network`` or your own
        :class:`JobNetwork`). Its VPC needs interface endpoints for the SageMaker API and runtime
        (Studio cannot work without them): checked when the endpoints are known, a warning
        otherwise.
    :param encryption_key: KMS key for the domain's storage.
    :param read_buckets / read_write_buckets: what the default execution role may read / write
        (the data lake zones). Ignored when ``execution_role`` is given.
    :param execution_role: the users' and spaces' execution role. Default: a new
        :class:`DataScientistRole` scoped to the buckets above.
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
        job_network: JobNetwork,
        encryption_key: kms.IKey,
        read_buckets: Sequence[s3.IBucket] = (),
        read_write_buckets: Sequence[s3.IBucket] = (),
        execution_role: iam.IRole | None = None,
        domain_name: str | None = None,
        user_profile_names: Sequence[str] = ("data-scientist",),
        idle_timeout: cdk.Duration | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if domain_name is None:
            domain_name = stack_scoped_name(self, "studio", max_length=63)
        idle = idle_timeout or cdk.Duration.minutes(60)
        exact = float(idle.to_minutes(integral=False))
        check_prop(
            self,
            "idle_timeout",
            f"{exact:g} minutes",
            exact.is_integer() and 60 <= exact <= 525_600,
            "SageMaker accepts 60 to 525600 whole minutes; default is 60.",
        )
        minutes = int(exact)
        check_prop(
            self,
            "domain_name",
            domain_name,
            _PROFILE_NAME.fullmatch,
            "Use letters, digits and hyphens, 1 to 63 characters.",
        )
        for name in user_profile_names:
            check_prop(
                self,
                "user_profile_names",
                name,
                _PROFILE_NAME.fullmatch,
                "Use letters, digits and hyphens, 1 to 63 characters.",
            )
        ids = [_profile_id(n) for n in user_profile_names]
        clashes = sorted(
            {n for n, i in zip(user_profile_names, ids, strict=True) if ids.count(i) > 1}
        )
        check_prop(
            self,
            "user_profile_names",
            clashes,
            not clashes,
            "Each profile needs its own name, also ignoring case and hyphens (they map to one construct id).",
        )
        present = job_network.interface_endpoints
        missing = sorted(
            e.short_name for e in STUDIO_REQUIRED_ENDPOINTS if e.short_name not in present
        )
        if job_network.all_interface_endpoints_known:
            check_prop(
                self,
                "job_network.interface_endpoints",
                sorted(present),
                not missing,
                f"Studio in VPC-only mode needs interface endpoints for {missing}; add them to the "
                "Network's interface_endpoints (see STUDIO_REQUIRED_ENDPOINTS).",
            )
        elif missing:
            cdk.Annotations.of(self).add_warning_v2(
                "cdk-mlops:StudioEndpoints",
                "Studio runs in an existing VPC: make sure it has interface endpoints for the SageMaker API "
                "and runtime (or a NAT gateway), or notebooks cannot reach SageMaker.",
            )

        if execution_role is None:
            self.data_scientist: DataScientistRole | None = DataScientistRole(
                self,
                "DataScientistRole",
                job_network=job_network,
                encryption_key=encryption_key,
                read_buckets=read_buckets,
                read_write_buckets=read_write_buckets,
            )
            execution_role = self.data_scientist.role
        else:
            self.data_scientist = None
        self.execution_role: iam.IRole = execution_role
        lifecycle = sagemaker.CfnDomain.AppLifecycleManagementProperty(
            idle_settings=sagemaker.CfnDomain.IdleSettingsProperty(
                lifecycle_management="ENABLED",
                idle_timeout_in_minutes=minutes,
                min_idle_timeout_in_minutes=60,
                max_idle_timeout_in_minutes=max(minutes, 240),
            )
        )
        sg_ids = job_network.security_group_ids
        self.domain = sagemaker.CfnDomain(
            self,
            "Resource",
            domain_name=domain_name,
            auth_mode="IAM",
            app_network_access_type="VpcOnly",
            vpc_id=job_network.vpc.vpc_id,
            subnet_ids=job_network.subnet_ids,
            kms_key_id=encryption_key.key_arn,
            default_user_settings=sagemaker.CfnDomain.UserSettingsProperty(
                execution_role=self.execution_role.role_arn,
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
                execution_role=self.execution_role.role_arn, security_groups=sg_ids
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
                    execution_role=self.execution_role.role_arn, security_groups=sg_ids
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
