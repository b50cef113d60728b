"""What composite constructs accept: CDK interfaces plus two protocols for our own resources.

Composite constructs (the training pipeline, the Glue ETL, Studio, CI) take ``ec2.IVpc``,
``s3.IBucket``, ``kms.IKey`` and ``iam.IRole`` like ``aws-sagemaker-alpha``'s ``Model`` does, so
a team that already has a VPC, buckets, a key or a model package group plugs them in directly.
:class:`JobNetwork` bundles the VPC placement a job needs; :class:`IModelRegistry` and
:class:`ITrainingPipeline` are implemented by our constructs and by their imports
(``ModelRegistry.from_group_name``, ``TrainingPipeline.from_pipeline_name``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam


@dataclass(frozen=True, kw_only=True)
class JobNetwork:
    """Where SageMaker jobs and Studio apps run: a VPC, its subnets and security groups.

    ``Network.job_network`` gives the one our ``Network`` builds; for your own VPC::

        JobNetwork(vpc=vpc, subnets=ec2.SubnetSelection(subnets=[...]), security_groups=[sg])

    :param vpc: the VPC (created, imported with ``Vpc.from_lookup`` or ``from_vpc_attributes``,
        or from another stack).
    :param subnets: the subnets jobs use; private or isolated ones (no public IPs).
    :param security_groups: attached to every job's network interfaces (1 to 5).
    :param interface_endpoints: short names of interface endpoints the VPC is known to have
        (``sagemaker.api``, ...). Default none known.
    :param all_interface_endpoints_known: ``interface_endpoints`` is the VPC's complete list, so
        a construct that needs a missing one (Studio) fails instead of warning. Default False.
    """

    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection
    security_groups: Sequence[ec2.ISecurityGroup]
    interface_endpoints: frozenset[str] = frozenset()
    all_interface_endpoints_known: bool = False

    def __post_init__(self) -> None:
        if not 1 <= len(self.security_groups) <= 5:
            raise ValueError(
                f"JobNetwork: security_groups has {len(self.security_groups)} groups. "
                "SageMaker jobs take 1 to 5 security groups; pass e.g. [Network.workload_security_group]."
            )
        object.__setattr__(self, "security_groups", tuple(self.security_groups))

    @property
    def subnet_ids(self) -> list[str]:
        """IDs of the selected subnets."""
        return self.vpc.select_subnets(
            subnet_type=self.subnets.subnet_type,
            subnets=self.subnets.subnets,
            subnet_group_name=self.subnets.subnet_group_name,
            availability_zones=self.subnets.availability_zones,
            one_per_az=self.subnets.one_per_az,
        ).subnet_ids

    @property
    def security_group_ids(self) -> list[str]:
        """IDs of the security groups."""
        return [sg.security_group_id for sg in self.security_groups]


@runtime_checkable
class IModelRegistry(Protocol):
    """A SageMaker model package group: ours (:class:`ModelRegistry`) or an imported one."""

    @property
    def model_package_group_name(self) -> str: ...

    @property
    def model_package_group_arn(self) -> str: ...

    @property
    def model_packages_arn(self) -> str:
        """ARN pattern of every version of the group."""
        ...

    @property
    def default_approval_status(self) -> str:
        """``ModelApprovalStatus`` of newly registered versions."""
        ...

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant: ...

    def grant_register(self, grantee: iam.IGrantable) -> iam.Grant: ...

    def grant_approve(self, grantee: iam.IGrantable) -> iam.Grant: ...


@runtime_checkable
class ITrainingPipeline(Protocol):
    """A SageMaker pipeline that trains models: ours (:class:`TrainingPipeline`) or an import."""

    @property
    def pipeline_name(self) -> str: ...

    @property
    def pipeline_arn(self) -> str: ...

    def grant_start(self, grantee: iam.IGrantable) -> iam.Grant: ...

    def metric(self, metric_name: str, **options: Any) -> cloudwatch.Metric: ...
