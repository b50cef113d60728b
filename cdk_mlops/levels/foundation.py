"""What every level above the first builds on: keys, data lake buckets and a job network."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from cdk_mlops.constructs.interfaces import JobNetwork


@dataclass(frozen=True, kw_only=True)
class Foundation:
    """The interfaces level 2 and above need from level 1, as CDK types.

    :class:`~cdk_mlops.levels.InitialLevel` exposes one (``InitialLevel.foundation``); a team
    with its own VPC, buckets and keys builds one from those and places the higher levels on it.

    :param data_key: encrypts data, SageMaker volumes and outputs, Glue output.
    :param logs_key: encrypts CloudWatch log groups (its policy must admit CloudWatch Logs).
    :param notifications_key: encrypts SNS topics (its policy must admit CloudWatch alarms).
    :param raw_bucket / curated_bucket / artifacts_bucket / monitoring_bucket: the data lake
        zones.
    :param job_network: where jobs run.
    """

    data_key: kms.IKey
    logs_key: kms.IKey
    notifications_key: kms.IKey
    raw_bucket: s3.IBucket
    curated_bucket: s3.IBucket
    artifacts_bucket: s3.IBucket
    monitoring_bucket: s3.IBucket
    job_network: JobNetwork
