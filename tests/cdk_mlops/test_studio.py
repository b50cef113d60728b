"""StudioEnvironment and DataScientistRole: VPC-only, encrypted Studio with a least-privilege role."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Annotations, Match, Template

from cdk_mlops.constructs import (
    STUDIO_REQUIRED_ENDPOINTS,
    DataLake,
    EncryptionKeys,
    Network,
    StudioEnvironment,
    Zone,
)
from tests.cdk_mlops.construct_fixtures import (
    allowed_actions_on,
    arn_of,
    as_list,
    fresh_stack,
    logical_id,
    role_statements,
)
from tests.cdk_mlops.helpers import new_app

ISOLATED_IDS = ["subnet-0aaa", "subnet-0bbb"]
EXISTING_VPC_WARNING = Match.string_like_regexp("Studio runs in an existing VPC")
#: What SageMaker needs on the execution role to attach a job to a VPC (ENIs in the subnets).
VPC_JOB_ACTIONS = {
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
}


@dataclass
class Built:
    template: Template
    stack: cdk.Stack
    studio: StudioEnvironment

    @property
    def role_id(self) -> str:
        return logical_id(self.template, "AWS::IAM::Role", "StudioDataScientistRole")

    @property
    def statements(self) -> list[dict[str, Any]]:
        return role_statements(self.template, self.role_id)

    def statement(self, sid: str) -> dict[str, Any]:
        found = [s for s in self.statements if s.get("Sid") == sid]
        assert len(found) == 1, [s.get("Sid") for s in self.statements]
        return found[0]

    @property
    def domain(self) -> dict[str, Any]:
        domains = self.template.find_resources("AWS::SageMaker::Domain")
        assert len(domains) == 1
        resource: dict[str, Any] = dict(next(iter(domains.values())))
        return resource

    def bucket_id(self, zone: Zone) -> str:
        return logical_id(self.template, "AWS::S3::Bucket", f"Lake{zone.name.capitalize()}")


def _lake_access(lake: DataLake) -> dict[str, Any]:
    """Level 1's access: read raw, curated and monitoring; read and write artifacts."""
    return {
        "read_buckets": [lake.raw_bucket, lake.curated_bucket, lake.monitoring_bucket],
        "read_write_buckets": [lake.artifacts_bucket],
    }


def _existing_vpc(stack: cdk.Stack) -> ec2.IVpc:
    return ec2.Vpc.from_vpc_attributes(
        stack,
        "Existing",
        vpc_id="vpc-0123",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        isolated_subnet_ids=ISOLATED_IDS,
        vpc_cidr_block="10.1.0.0/16",
    )


def _build(network_kwargs: Any = None, lake_own_key: bool = False, **studio_kwargs: Any) -> Built:
    """Keys, a data lake, a network and Studio in one stack; ``network_kwargs(stack)`` shapes the network."""
    stack = cdk.Stack(new_app(), "Test")
    keys = EncryptionKeys(stack, "Keys")
    lake = DataLake(stack, "Lake", encryption_key=None if lake_own_key else keys.data_key)
    net = Network(stack, "Net", **(network_kwargs(stack) if network_kwargs else {}))
    studio = StudioEnvironment(
        stack,
        "Studio",
        job_network=net.job_network,
        encryption_key=keys.data_key,
        **_lake_access(lake),
        **studio_kwargs,
    )
    return Built(Template.from_stack(stack), stack, studio)


@pytest.fixture(scope="module")
def default() -> Built:
    return _build()


@pytest.fixture(scope="module")
def custom() -> Built:
    return _build(
        lake_own_key=True,
        domain_name="acme-ml",
        user_profile_names=("alice", "bob-smith"),
        idle_timeout=cdk.Duration.hours(5),
    )


@pytest.fixture(scope="module")
def existing() -> Built:
    return _build(lambda stack: {"vpc": _existing_vpc(stack)})


@pytest.fixture(scope="module")
def existing_with_endpoints() -> Built:
    return _build(
        lambda stack: {
            "vpc": _existing_vpc(stack),
            "interface_endpoints": list(STUDIO_REQUIRED_ENDPOINTS),
        }
    )


@dataclass
class Inputs:
    """One stack, network and data lake shared by the construct-only tests (never synthesized)."""

    stack: cdk.Stack
    network: Network
    lake: DataLake
    count: itertools.count[int]

    def next_id(self, prefix: str) -> str:
        # A constructor that raises has already added its node: each attempt needs a fresh id.
        return f"{prefix}{next(self.count)}"

    def network_with(self, **kwargs: Any) -> Network:
        return Network(self.stack, self.next_id("Net"), **kwargs)

    def studio(self, network: Network | None = None, **kwargs: Any) -> StudioEnvironment:
        return StudioEnvironment(
            self.stack,
            self.next_id("Studio"),
            job_network=(network or self.network).job_network,
            encryption_key=self.lake.encryption_key,
            **_lake_access(self.lake),
            **kwargs,
        )


@pytest.fixture(scope="module")
def inputs() -> Inputs:
    stack = fresh_stack()
    return Inputs(stack, Network(stack, "Net"), DataLake(stack, "Lake"), itertools.count())


# ------------------------------------------------------------------ the domain


def test_domain_is_vpc_only_with_iam_auth_and_a_kms_key(default: Built) -> None:
    key = logical_id(default.template, "AWS::KMS::Key", "KeysData")
    default.template.has_resource_properties(
        "AWS::SageMaker::Domain",
        {
            "DomainName": "Test-studio",
            "AuthMode": "IAM",
            "AppNetworkAccessType": "VpcOnly",
            "KmsKeyId": arn_of(key),
        },
    )


def test_domain_runs_in_the_network_isolated_subnets_with_the_workload_sg(default: Built) -> None:
    vpc = logical_id(default.template, "AWS::EC2::VPC", "NetVpc")
    subnets = sorted(default.template.find_resources("AWS::EC2::Subnet"))
    sg = logical_id(default.template, "AWS::EC2::SecurityGroup", "NetWorkloadSecurityGroup")
    props = default.domain["Properties"]
    assert props["VpcId"] == {"Ref": vpc}
    assert props["SubnetIds"] == [{"Ref": s} for s in subnets]
    assert props["DefaultUserSettings"]["SecurityGroups"] == [{"Fn::GetAtt": [sg, "GroupId"]}]
    assert props["DefaultSpaceSettings"]["SecurityGroups"] == [{"Fn::GetAtt": [sg, "GroupId"]}]


@pytest.mark.parametrize("app", ["JupyterLabAppSettings", "CodeEditorAppSettings"])
def test_idle_apps_shut_down_after_an_hour_by_default(default: Built, app: str) -> None:
    default.template.has_resource_properties(
        "AWS::SageMaker::Domain",
        {
            "DefaultUserSettings": Match.object_like(
                {
                    app: {
                        "AppLifecycleManagement": {
                            "IdleSettings": {
                                "LifecycleManagement": "ENABLED",
                                "IdleTimeoutInMinutes": 60,
                                "MinIdleTimeoutInMinutes": 60,
                                "MaxIdleTimeoutInMinutes": 240,
                            }
                        }
                    }
                }
            )
        },
    )


def test_domain_uses_the_data_scientist_role_for_users_and_spaces(default: Built) -> None:
    role = arn_of(default.role_id)
    props = default.domain["Properties"]
    assert props["DefaultUserSettings"]["ExecutionRole"] == role
    assert props["DefaultSpaceSettings"]["ExecutionRole"] == role
    assert props["DefaultUserSettings"]["StudioWebPortal"] == "ENABLED"
    assert props["DefaultUserSettings"]["DefaultLandingUri"] == "studio::"


def test_domain_is_deleted_with_the_stack(default: Built) -> None:
    # The users' files live on the domain's EFS volume, which SageMaker retains on DeleteDomain;
    # a retained domain would be an orphan (and its name would collide on a redeploy).
    assert default.domain["DeletionPolicy"] == "Delete"


def test_creates_the_default_user_profile(default: Built) -> None:
    domain = logical_id(default.template, "AWS::SageMaker::Domain", "Studio")
    sg = logical_id(default.template, "AWS::EC2::SecurityGroup", "NetWorkloadSecurityGroup")
    default.template.resource_count_is("AWS::SageMaker::UserProfile", 1)
    default.template.has_resource_properties(
        "AWS::SageMaker::UserProfile",
        {
            "DomainId": {"Fn::GetAtt": [domain, "DomainId"]},
            "UserProfileName": "data-scientist",
            "UserSettings": {
                "ExecutionRole": arn_of(default.role_id),
                "SecurityGroups": [{"Fn::GetAtt": [sg, "GroupId"]}],
            },
        },
    )


def test_exposes_domain_and_role_attributes(default: Built) -> None:
    domain = logical_id(default.template, "AWS::SageMaker::Domain", "Studio")
    studio = default.studio
    assert default.stack.resolve(studio.domain_id) == {"Fn::GetAtt": [domain, "DomainId"]}
    assert default.stack.resolve(studio.domain_arn) == {"Fn::GetAtt": [domain, "DomainArn"]}
    assert default.stack.resolve(studio.data_scientist.role_arn) == arn_of(default.role_id)
    assert [p.user_profile_name for p in studio.user_profiles] == ["data-scientist"]


def test_no_existing_vpc_warning_for_a_network_that_built_its_endpoints(default: Built) -> None:
    Annotations.from_stack(default.stack).has_no_warning("*", EXISTING_VPC_WARNING)


# ------------------------------------------------------------------ the data-scientist role


def test_role_is_assumed_by_sagemaker_only_and_has_no_managed_policies(default: Built) -> None:
    default.template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "sagemaker.amazonaws.com"},
                    }
                ],
                "Version": "2012-10-17",
            },
            "Description": Match.string_like_regexp("data scientist"),
            "ManagedPolicyArns": Match.absent(),
        },
    )
    assert "AmazonSageMakerFullAccess" not in json.dumps(default.template.to_json())


def test_role_has_no_service_wide_wildcard_actions(default: Built) -> None:
    actions = {a for s in default.statements for a in as_list(s["Action"])}
    wildcards = {a for a in actions if a == "*" or a.endswith(":*")}
    assert not wildcards


def test_jobs_may_be_created_only_with_vpc_and_kms_settings(default: Built) -> None:
    statement = default.statement("JobsOnlyInVpcWithKms")
    assert sorted(statement["Action"]) == [
        "sagemaker:CreateHyperParameterTuningJob",
        "sagemaker:CreateProcessingJob",
        "sagemaker:CreateTrainingJob",
    ]
    assert statement["Condition"] == {
        "Null": {
            "sagemaker:VpcSubnets": "false",
            "sagemaker:VpcSecurityGroupIds": "false",
            "sagemaker:VolumeKmsKey": "false",
            "sagemaker:OutputKmsKey": "false",
        }
    }
    resources = json.dumps(statement["Resource"])
    for kind in ("training-job/*", "processing-job/*", "hyper-parameter-tuning-job/*"):
        assert f":{kind}" in resources


def test_no_other_statement_allows_job_creation(default: Built) -> None:
    create = {
        "sagemaker:CreateTrainingJob",
        "sagemaker:CreateProcessingJob",
        "sagemaker:CreateHyperParameterTuningJob",
    }
    for statement in default.statements:
        if statement.get("Sid") != "JobsOnlyInVpcWithKms":
            assert not create & set(as_list(statement["Action"])), statement.get("Sid")


def test_role_may_pass_only_itself_and_only_to_sagemaker(default: Built) -> None:
    passing = [s for s in default.statements if "iam:PassRole" in as_list(s["Action"])]
    assert passing == [
        {
            "Action": "iam:PassRole",
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            "Effect": "Allow",
            "Resource": arn_of(default.role_id),
            "Sid": "PassOnlyThisRoleToSageMaker",
        }
    ]


def test_role_reads_raw_curated_and_monitoring_and_writes_only_artifacts(default: Built) -> None:
    writes = {"s3:PutObject", "s3:DeleteObject*"}
    for zone in Zone:
        objects = {"Fn::Join": ["", [arn_of(default.bucket_id(zone)), "/*"]]}
        actions = allowed_actions_on(default.statements, objects)
        assert "s3:GetObject*" in actions, zone
        if zone is Zone.ARTIFACTS:
            assert writes <= actions
        else:
            assert not writes & actions, zone
    logs_bucket = logical_id(default.template, "AWS::S3::Bucket", "LakeAccessLogs")
    assert not allowed_actions_on(default.statements, arn_of(logs_bucket))


def test_role_may_encrypt_and_decrypt_with_the_studio_key(default: Built) -> None:
    key = arn_of(logical_id(default.template, "AWS::KMS::Key", "KeysData"))
    actions = allowed_actions_on(default.statements, key)
    assert {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"} <= actions


def test_role_manages_studio_apps_and_spaces_of_this_account(default: Built) -> None:
    statement = default.statement("StudioApps")
    assert {"sagemaker:CreateApp", "sagemaker:DeleteApp", "sagemaker:CreateSpace"} <= set(
        statement["Action"]
    )
    resources = json.dumps(statement["Resource"])
    for kind in ("domain/*", "user-profile/*", "space/*", "app/*"):
        assert f":{kind}" in resources
    assert '"Ref": "AWS::AccountId"' in resources


def test_role_writes_only_sagemaker_logs_and_metrics(default: Built) -> None:
    logs_statement = default.statement("SageMakerLogs")
    assert logs_statement["Resource"]["Fn::Join"][1][-1] == ":log-group:/aws/sagemaker/*"
    metrics = default.statement("SageMakerMetrics")
    assert metrics["Action"] == "cloudwatch:PutMetricData"
    assert metrics["Condition"] == {
        "StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*", "aws/sagemaker/*"]}
    }


def _ec2_arn(tail: str, token: Any = None) -> dict[str, Any]:
    """An EC2 ARN of this stack's region and account as CDK renders it, ending in ``tail`` (+ token)."""
    parts: list[Any] = [
        "arn:",
        {"Ref": "AWS::Partition"},
        ":ec2:",
        {"Ref": "AWS::Region"},
        ":",
        {"Ref": "AWS::AccountId"},
        tail,
    ]
    return {"Fn::Join": ["", parts if token is None else [*parts, token]]}


def test_role_can_attach_vpc_jobs_to_the_network(default: Built) -> None:
    # Jobs must name VPC subnets (JobsOnlyInVpcWithKms), so SageMaker needs these on the role.
    granted = {
        a
        for s in default.statements
        if s["Effect"] == "Allow"
        for a in as_list(s["Action"])
        if a.startswith("ec2:")
    }
    assert granted == VPC_JOB_ACTIONS


def test_network_interfaces_only_in_the_network_subnets_with_its_workload_sg(
    default: Built,
) -> None:
    statement = default.statement("JobNetworkInterfaces")
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == [
        "ec2:CreateNetworkInterface",
        "ec2:CreateNetworkInterfacePermission",
        "ec2:DeleteNetworkInterface",
        "ec2:DeleteNetworkInterfacePermission",
    ]
    subnets = sorted(default.template.find_resources("AWS::EC2::Subnet"))
    sg = logical_id(default.template, "AWS::EC2::SecurityGroup", "NetWorkloadSecurityGroup")
    expected = [
        _ec2_arn(":network-interface/*"),
        _ec2_arn(":security-group/", {"Fn::GetAtt": [sg, "GroupId"]}),
        *(_ec2_arn(":subnet/", {"Ref": s}) for s in subnets),
    ]
    assert sorted(map(json.dumps, statement["Resource"])) == sorted(map(json.dumps, expected))
    assert "Condition" not in statement


def test_network_interfaces_in_an_existing_vpc_use_its_subnet_ids(existing: Built) -> None:
    resources = existing.statement("JobNetworkInterfaces")["Resource"]
    for subnet in ISOLATED_IDS:
        assert _ec2_arn(f":subnet/{subnet}") in resources
    assert len(resources) == 2 + len(ISOLATED_IDS)


def test_describe_calls_have_no_resource_level_permissions(default: Built) -> None:
    statement = default.statement("DescribeNetwork")
    assert statement["Resource"] == "*"
    assert all(a.startswith("ec2:Describe") for a in statement["Action"])
    assert "Condition" not in statement


# ------------------------------------------------------------------ options


def test_custom_domain_name_users_and_idle_timeout(custom: Built) -> None:
    props = custom.domain["Properties"]
    assert props["DomainName"] == "acme-ml"
    for app in ("JupyterLabAppSettings", "CodeEditorAppSettings"):
        idle = props["DefaultUserSettings"][app]["AppLifecycleManagement"]["IdleSettings"]
        assert idle["IdleTimeoutInMinutes"] == 300
        # The maximum a user may choose grows with the default so it is never below it.
        assert idle["MaxIdleTimeoutInMinutes"] == 300
    names = sorted(
        p["Properties"]["UserProfileName"]
        for p in custom.template.find_resources("AWS::SageMaker::UserProfile").values()
    )
    assert names == ["alice", "bob-smith"]
    assert {p.node.id for p in custom.studio.user_profiles} == {"UserAlice", "UserBobSmith"}


def test_role_gets_both_the_data_lake_key_and_the_studio_key(custom: Built) -> None:
    lake_key = arn_of(logical_id(custom.template, "AWS::KMS::Key", "LakeKey"))
    studio_key = arn_of(logical_id(custom.template, "AWS::KMS::Key", "KeysData"))
    assert "kms:Decrypt" in allowed_actions_on(custom.statements, lake_key)
    assert "kms:GenerateDataKey*" in allowed_actions_on(custom.statements, lake_key)
    assert "kms:Encrypt" in allowed_actions_on(custom.statements, studio_key)


@pytest.mark.parametrize("minutes", [60, 525_600])
def test_idle_timeout_accepts_the_sagemaker_range(inputs: Inputs, minutes: int) -> None:
    studio = inputs.studio(idle_timeout=cdk.Duration.minutes(minutes))
    assert studio.domain.domain_name == "Test-studio"


# ------------------------------------------------------------------ existing VPC


def test_existing_vpc_gives_a_warning_about_endpoints(existing: Built) -> None:
    Annotations.from_stack(existing.stack).has_warning("/Test/Studio", EXISTING_VPC_WARNING)


def test_existing_vpc_domain_uses_its_subnets(existing: Built) -> None:
    props = existing.domain["Properties"]
    assert props["VpcId"] == "vpc-0123"
    assert props["SubnetIds"] == ISOLATED_IDS
    existing.template.resource_count_is("AWS::EC2::VPCEndpoint", 0)


def test_no_warning_when_the_network_built_the_endpoints_in_an_existing_vpc(
    existing_with_endpoints: Built,
) -> None:
    # find_warning + assert rather than has_no_warning: a failing jsii assertion drags a traceback
    # through aws_cdk's huge generated modules, which pytest takes about a second to format.
    warnings = Annotations.from_stack(existing_with_endpoints.stack).find_warning(
        "*", EXISTING_VPC_WARNING
    )
    assert warnings == []


@pytest.mark.parametrize(
    ("endpoints", "warned"),
    [
        ([], True),
        ([ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API], True),
        ([ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME], True),
        (list(STUDIO_REQUIRED_ENDPOINTS), False),
    ],
)
def test_existing_vpc_warns_only_while_a_sagemaker_endpoint_is_missing(
    inputs: Inputs, endpoints: list[ec2.InterfaceVpcEndpointAwsService], warned: bool
) -> None:
    vpc = ec2.Vpc.from_vpc_attributes(
        inputs.stack,
        inputs.next_id("Existing"),
        vpc_id="vpc-0123",
        availability_zones=["eu-west-1a", "eu-west-1b"],
        isolated_subnet_ids=ISOLATED_IDS,
        vpc_cidr_block="10.1.0.0/16",
    )
    studio = inputs.studio(inputs.network_with(vpc=vpc, interface_endpoints=endpoints))
    # The node's own metadata: no synth of the shared stack (which holds failed constructs).
    warnings = [
        m.data
        for m in studio.node.metadata
        if m.type == "aws:cdk:warning" and "Studio runs in an existing VPC" in str(m.data)
    ]
    assert len(warnings) == (1 if warned else 0)


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("endpoints", "present", "missing"),
    [
        ([ec2.InterfaceVpcEndpointAwsService.STS], ["sts"], ["sagemaker.api", "sagemaker.runtime"]),
        (
            [ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API],
            ["sagemaker.api"],
            ["sagemaker.runtime"],
        ),
        (
            [ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME],
            ["sagemaker.runtime"],
            ["sagemaker.api"],
        ),
        ([], [], ["sagemaker.api", "sagemaker.runtime"]),
    ],
)
def test_fails_when_the_network_lacks_the_sagemaker_endpoints(
    inputs: Inputs,
    endpoints: list[ec2.InterfaceVpcEndpointAwsService],
    present: list[str],
    missing: list[str],
) -> None:
    network = inputs.network_with(interface_endpoints=endpoints)
    pattern = (
        re.escape(f"job_network.interface_endpoints={present!r}")
        + ".*"
        + re.escape(f"needs interface endpoints for {missing!r}")
        + ".*STUDIO_REQUIRED_ENDPOINTS"
    )
    with pytest.raises(ValueError, match=pattern):
        inputs.studio(network)


@pytest.mark.parametrize("minutes", [30, 59, 525_601])
def test_fails_when_idle_timeout_is_outside_60_to_525600_minutes(
    inputs: Inputs, minutes: int
) -> None:
    with pytest.raises(
        ValueError, match=rf"idle_timeout='{minutes} minutes'.*accepts 60 to 525600 whole minutes"
    ):
        inputs.studio(idle_timeout=cdk.Duration.minutes(minutes))


def test_fails_when_idle_timeout_is_not_a_whole_number_of_minutes(inputs: Inputs) -> None:
    # 3630 s = 60.5 minutes: inside the range, but SageMaker takes whole minutes only.
    with pytest.raises(ValueError, match=r"idle_timeout='60\.5 minutes'.*whole minutes"):
        inputs.studio(idle_timeout=cdk.Duration.seconds(3630))


def test_idle_timeout_in_hours_is_converted_to_minutes(inputs: Inputs) -> None:
    studio = inputs.studio(idle_timeout=cdk.Duration.hours(2))
    settings = studio.domain.default_user_settings
    resolved = inputs.stack.resolve(settings)
    idle = resolved["jupyterLabAppSettings"]["appLifecycleManagement"]["idleSettings"]
    assert idle["idleTimeoutInMinutes"] == 120


@pytest.mark.parametrize("name", ["Data_Scientist", "-ds", "ds-", "data scientist", "", "a" * 64])
def test_fails_when_a_user_profile_name_is_invalid(inputs: Inputs, name: str) -> None:
    pattern = re.escape(f"user_profile_names={name!r}") + ".*letters, digits and hyphens"
    with pytest.raises(ValueError, match=pattern):
        inputs.studio(user_profile_names=["ok-user", name])


@pytest.mark.parametrize("name", ["ml ops", "ml_ops", ""])
def test_fails_when_the_domain_name_is_invalid(inputs: Inputs, name: str) -> None:
    pattern = re.escape(f"domain_name={name!r}") + ".*letters, digits and hyphens"
    with pytest.raises(ValueError, match=pattern):
        inputs.studio(domain_name=name)


def test_long_names_up_to_63_characters_are_accepted(inputs: Inputs) -> None:
    studio = inputs.studio(domain_name="d" * 63, user_profile_names=["u" * 63, "a-b--c"])
    assert len(studio.user_profiles) == 2


@pytest.mark.parametrize(
    ("where", "value"),
    [("user_profile_names", "data-scientist\n"), ("domain_name", "mlops\n")],
)
def test_fails_when_a_name_ends_with_a_newline(inputs: Inputs, where: str, value: str) -> None:
    # '$' would match before the newline; the construct must match the whole name.
    kwargs: dict[str, Any] = {where: [value] if where == "user_profile_names" else value}
    pattern = re.escape(f"{where}={value!r}") + ".*letters, digits and hyphens"
    with pytest.raises(ValueError, match=pattern):
        inputs.studio(**kwargs)


@pytest.mark.parametrize(
    ("names", "clashing"),
    [
        (["ds", "ds"], ["ds"]),
        (["alice", "a-b", "A-b"], ["A-b", "a-b"]),
        (["a-b", "a--b"], ["a--b", "a-b"]),
        (["Ds", "bob", "ds"], ["Ds", "ds"]),
    ],
)
def test_fails_when_user_profile_names_repeat(
    inputs: Inputs, names: list[str], clashing: list[str]
) -> None:
    # Names that differ only in case or hyphens map to the same construct id.
    pattern = re.escape(f"user_profile_names={clashing!r}") + ".*Each profile needs its own name"
    with pytest.raises(ValueError, match=pattern):
        inputs.studio(user_profile_names=names)


def test_distinct_names_with_the_same_letters_are_accepted(inputs: Inputs) -> None:
    studio = inputs.studio(user_profile_names=["a-b", "ab", "ba"])
    assert sorted(p.node.id for p in studio.user_profiles) == ["UserAB", "UserAb", "UserBa"]
