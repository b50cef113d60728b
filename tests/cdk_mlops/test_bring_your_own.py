"""Our constructs in a user's own stack, on resources the user already has (imported only).

A platform team with a VPC, buckets, keys, roles and a model package group composes the training
pipeline, the Glue ETL, the data-scientist role and CI on them, under a named account and
region, with every gate clean; the policies it gets name exactly those imported resources.
The level constructs go into a user's stack next to the user's own resources too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from cdk_mlops.checks import cfn_lint, checkov, stack_templates
from cdk_mlops.compliance import acknowledge, add_compliance_checks
from cdk_mlops.constructs import (
    JobNetwork,
)
from cdk_mlops.levels import (
    Foundation,
    InitialLevel,
    InitialSettings,
    RepeatableLevel,
    RepeatableSettings,
)
from examples.bring_your_own import (
    ACCOUNT,
    BUCKETS,
    ENV,
    GROUP,
    KEY_ARN,
    LOGS_KEY_ARN,
    REGION,
    SECURITY_GROUP,
    CiStack,
    PlatformStack,
)
from tests.cdk_mlops.construct_fixtures import as_list
from tests.cdk_mlops.helpers import ROOT, new_app

SUBNETS = ["subnet-0aaa1111", "subnet-0bbb2222"]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


@dataclass
class Synth:
    assembly: Path

    def template(self, stack: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.assembly / f"{stack}.template.json").read_text())
        return data

    def policies(self, stack: str) -> list[dict[str, Any]]:
        return [
            s
            for r in self.template(stack)["Resources"].values()
            if r["Type"] == "AWS::IAM::Policy"
            for s in as_list(r["Properties"]["PolicyDocument"]["Statement"])
        ]


class TeamStack(cdk.Stack):
    """A user's stack with its own resources and the two level constructs."""

    def __init__(self, scope: cdk.App, construct_id: str) -> None:
        super().__init__(scope, construct_id, env=ENV)
        # The team's own resource, with its own compliance decisions.
        self.notes = s3.Bucket(
            self,
            "TeamNotes",
            encryption_key=kms.Key(self, "NotesKey", enable_key_rotation=True),
            enforce_ssl=True,
            versioned=True,
            server_access_logs_prefix="access-logs/",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        )
        acknowledge(
            self.notes,
            [
                f"{pack}-S3BucketReplicationEnabled"
                for pack in ("HIPAA.Security", "NIST.800.53.R5", "PCI.DSS.321")
            ],
            "Team notes are rebuilt from the wiki nightly; a second copy in another region buys nothing.",
        )
        self.level1 = InitialLevel(self, "Ml", InitialSettings(max_azs=1, monthly_budget_usd=30))
        self.level2 = RepeatableLevel(
            self,
            "MlPipelines",
            foundation=self.level1.foundation,
            settings=RepeatableSettings(etl_schedule=None),
        )


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    out = tmp_path_factory.mktemp("byo")
    app = new_app(outdir=str(out))
    add_compliance_checks(app)
    PlatformStack(app, "Platform")  # the example of docs/bring-your-own.md
    CiStack(app, "PlatformCi", pipeline_name="acme-churn")
    TeamStack(app, "Team")
    app.synth()  # raises on any unacknowledged cdk-nag finding (4 packs)
    return Synth(out)


def test_every_stack_passes_cfn_lint(synth: Synth) -> None:
    for stack, template in stack_templates(synth.assembly).items():
        assert cfn_lint(template, (REGION,)) == [], stack


def test_every_stack_passes_checkov(synth: Synth) -> None:
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed at {CHECKOV}; run 'make deps'")
    results = checkov(list(stack_templates(synth.assembly).values()), str(CHECKOV))
    assert {t.name: failed for t, (failed, _) in results.items()} == {t.name: [] for t in results}


def test_no_role_is_created_where_the_user_gave_one(synth: Synth) -> None:
    roles = [
        r for r in synth.template("Platform")["Resources"].values() if r["Type"] == "AWS::IAM::Role"
    ]
    # Only the data-scientist role (a role is what that construct is).
    assert len(roles) == 1


def test_s3_grants_name_only_the_imported_buckets_and_their_prefixes(synth: Synth) -> None:
    allowed = {f"arn:aws:s3:::{name}" for name in BUCKETS.values()}
    s3_resources = {
        json.dumps(r)
        for st in synth.policies("Platform")
        if any(str(a).startswith("s3:") for a in as_list(st["Action"]))
        for r in as_list(st["Resource"])
    }
    assert s3_resources
    for resource in s3_resources:
        # A literal ARN of one of the imported buckets (or an object path below it), or the
        # CDK asset bucket the code is read from.
        text = json.loads(resource) if resource.startswith('"') else resource
        assert (
            any(str(text) == b or str(text).startswith(f"{b}/") for b in allowed)
            or "cdk-hnb659fds-assets" in resource
        ), resource
    texts = {json.loads(r) for r in s3_resources if r.startswith('"')}
    assert f"arn:aws:s3:::{BUCKETS['curated']}/customer_churn/*" in texts
    assert f"arn:aws:s3:::{BUCKETS['artifacts']}/training-pipeline/*" in texts
    assert f"arn:aws:s3:::{BUCKETS['raw']}/customer_churn/*" in texts


def test_kms_grants_name_only_the_imported_keys(synth: Synth) -> None:
    kms_resources = {
        json.dumps(r)
        for st in synth.policies("Platform")
        if any(str(a).startswith("kms:") for a in as_list(st["Action"]))
        for r in as_list(st["Resource"])
    }
    assert kms_resources == {json.dumps(KEY_ARN), json.dumps(LOGS_KEY_ARN)}


def test_the_pipeline_registers_only_into_the_imported_group(synth: Synth) -> None:
    registering = [
        st
        for st in synth.policies("Platform")
        if "sagemaker:CreateModelPackage" in as_list(st["Action"])
    ]
    assert len(registering) == 1
    assert set(as_list(registering[0]["Resource"])) == {
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/{GROUP}",
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/*",
    }


def test_jobs_may_attach_only_to_the_imported_subnets_and_security_group(synth: Synth) -> None:
    (eni,) = {
        json.dumps(sorted(as_list(st["Resource"])))
        for st in synth.policies("Platform")
        if st.get("Sid") == "JobNetworkInterfaces"
    }
    resources = set(json.loads(eni))
    assert resources == {
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/*",
        *(f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{s}" for s in SUBNETS),
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{SECURITY_GROUP}",
    }


def test_the_grants_go_to_the_users_roles(synth: Synth) -> None:
    attached = {
        json.dumps(r["Properties"].get("Roles"))
        for r in synth.template("Platform")["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
    }
    assert json.dumps(["acme-ml-pipeline"]) in attached
    assert json.dumps(["acme-etl"]) in attached


def test_ci_starts_the_imported_pipeline_by_name(synth: Synth) -> None:
    starting = [
        st
        for st in synth.policies("PlatformCi")
        if "sagemaker:StartPipelineExecution" in as_list(st["Action"])
    ]
    assert len(starting) == 1
    assert set(as_list(starting[0]["Resource"])) == {
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/acme-churn",
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/acme-churn/execution/*",
    }


def test_levels_sit_next_to_the_users_own_resources(synth: Synth) -> None:
    resources = synth.template("Team")["Resources"]
    types = {r["Type"] for r in resources.values()}
    assert {"AWS::SageMaker::Domain", "AWS::SageMaker::Pipeline", "AWS::Glue::Job"} <= types
    assert any(lid.startswith("TeamNotes") for lid in resources)
    subnets = [r for r in resources.values() if r["Type"] == "AWS::EC2::Subnet"]
    assert len(subnets) == 1  # max_azs=1 reached the network


def test_a_foundation_from_imported_resources_carries_level_2(tmp_path: Path) -> None:
    app = new_app(outdir=str(tmp_path))
    add_compliance_checks(app)
    stack = cdk.Stack(app, "OnTheirs", env=ENV)
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "Vpc",
        vpc_id="vpc-0abc1234",
        availability_zones=[f"{REGION}a"],
        isolated_subnet_ids=SUBNETS[:1],
        isolated_subnet_route_table_ids=["rtb-0aaa1111"],
    )
    buckets = {
        zone: s3.Bucket.from_bucket_name(stack, zone, f"acme-{zone}")
        for zone in ("raw", "curated", "artifacts", "monitoring")
    }
    foundation = Foundation(
        data_key=kms.Key.from_key_arn(stack, "Data", KEY_ARN),
        logs_key=kms.Key.from_key_arn(stack, "Logs", LOGS_KEY_ARN),
        notifications_key=kms.Key.from_key_arn(stack, "Notes", KEY_ARN),
        raw_bucket=buckets["raw"],
        curated_bucket=buckets["curated"],
        artifacts_bucket=buckets["artifacts"],
        monitoring_bucket=buckets["monitoring"],
        job_network=JobNetwork(
            vpc=vpc,
            subnets=ec2.SubnetSelection(subnets=vpc.isolated_subnets),
            security_groups=[ec2.SecurityGroup.from_security_group_id(stack, "Sg", SECURITY_GROUP)],
        ),
    )
    level2 = RepeatableLevel(stack, "Ml", foundation=foundation)
    app.synth()  # compliance clean
    assert level2.training.input_bucket is buckets["curated"]


def test_fails_when_a_job_network_has_no_security_group() -> None:
    stack = cdk.Stack(new_app(), "S")
    vpc = ec2.Vpc(stack, "Vpc")
    with pytest.raises(ValueError, match=r"security_groups has 0 groups.*1 to 5"):
        JobNetwork(vpc=vpc, subnets=ec2.SubnetSelection(), security_groups=[])
