"""Level 2 (Repeatable): a superset of level 1, wired together, deterministic, within CFN limits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from cdk_mlops.constructs import ApprovalMode, CiSource
from cdk_mlops.levels import InitialSettings, RepeatableSettings
from cdk_mlops.stacks import InitialStack, RepeatableStack
from tests.cdk_mlops.construct_fixtures import arn_of, logical_id
from tests.cdk_mlops.helpers import new_app
from tests.cdk_mlops.level2_fixtures import (
    JOB_STEP_TYPES,
    all_steps,
    copy_pipeline_code,
    definition_text,
    pipeline_definitions,
    ref_of,
    step_named,
)

#: CloudFormation quotas (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).
MAX_TEMPLATE_BYTES = 1_000_000  # template body uploaded to S3
MAX_RESOURCES = 500
MAX_PARAMETERS = MAX_OUTPUTS = MAX_MAPPINGS = 200
#: Constructs of level 1 (the rest of the stack is level 2's).
LEVEL1_PREFIXES = ("Keys", "DataLake", "Network", "Studio", "CostGuard")
CONNECTION = "arn:aws:codeconnections:eu-west-1:111122223333:connection/0a1b2c3d-4e5f"


@dataclass
class Synth:
    stack: RepeatableStack
    template: Template

    @cached_property
    def json(self) -> dict[str, Any]:
        return dict(self.template.to_json())

    @property
    def resources(self) -> dict[str, Any]:
        res: dict[str, Any] = self.json["Resources"]
        return res

    def lid(self, cfn_type: str, prefix: str) -> str:
        """The logical id of the one ``cfn_type`` whose construct path (below the level construct,
        ``Initial`` or ``Repeatable``) starts with ``prefix``."""
        level = "Initial" if prefix.startswith(LEVEL1_PREFIXES) else "Repeatable"
        return logical_id(self.template, cfn_type, f"{level}{prefix}")

    def props(self, cfn_type: str, prefix: str) -> dict[str, Any]:
        props: dict[str, Any] = self.resources[self.lid(cfn_type, prefix)]["Properties"]
        return props

    @cached_property
    def definition(self) -> dict[str, Any]:
        (definition,) = pipeline_definitions(self.template).values()
        return definition

    @property
    def glue_args(self) -> dict[str, Any]:
        args: dict[str, Any] = self.props("AWS::Glue::Job", "EtlJob")["DefaultArguments"]
        return args

    def parameter(self, name: str) -> Any:
        (param,) = [p for p in self.definition["Parameters"] if p["Name"] == name]
        return param["DefaultValue"]

    def run_commands(self) -> str:
        spec = self.props("AWS::CodeBuild::Project", "CiRunPipeline")["Source"]["BuildSpec"]
        return " ".join(json.loads(spec)["phases"]["build"]["commands"])


def _as_text(join: Any) -> str:
    """An ``Fn::Join`` as the placeholder text the pipeline definition uses."""
    return definition_text(join)


@pytest.fixture(scope="module")
def level2() -> Synth:
    stack = RepeatableStack(new_app(), "MlopsLevel2")
    return Synth(stack, Template.from_stack(stack))


@pytest.fixture(scope="module")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    code = copy_pipeline_code(tmp_path_factory.mktemp("user") / "pipeline_code")
    (code / "training" / "train.py").write_text(
        (code / "training" / "train.py").read_text() + "\n# the user's change\n"
    )
    stack = RepeatableStack(
        new_app(),
        "Custom",
        initial=InitialSettings(monthly_budget_usd=50),
        repeatable=RepeatableSettings(
            code_dir=code,
            model_package_group_name="churn-v2",
            approval_mode=ApprovalMode.AUTOMATIC,
            quality_threshold=0.9,
            ci_source=CiSource.connection(CONNECTION, "acme/churn-ml"),
            etl_schedule=None,
        ),
    )
    return Synth(stack, Template.from_stack(stack))


# ------------------------------------------------------------------------------- composition


def test_is_a_superset_of_the_initial_stack(level2: Synth) -> None:
    level1 = Template.from_stack(InitialStack(new_app(), "MlopsLevel2")).to_json()["Resources"]
    for lid, resource in level1.items():
        assert lid in level2.resources, f"level 2 lost {lid}"
        mine = level2.resources[lid]
        assert mine["Type"] == resource["Type"], lid
        if resource["Type"] == "AWS::KMS::Key":
            # Level 2 may admit more services to a key (EventBridge to the alerts topic), never fewer.
            before = resource["Properties"].pop("KeyPolicy")["Statement"]
            after = mine["Properties"]["KeyPolicy"]["Statement"]
            assert [s for s in before if s not in after] == [], lid
            mine = {
                **mine,
                "Properties": {k: v for k, v in mine["Properties"].items() if k != "KeyPolicy"},
            }
        assert mine == resource, lid


def test_adds_etl_pipeline_registry_and_ci(level2: Synth) -> None:
    for cfn_type, count in (
        ("AWS::Glue::Job", 1),
        ("AWS::Glue::Trigger", 1),
        ("AWS::Glue::Table", 1),
        ("AWS::Glue::SecurityConfiguration", 1),
        ("AWS::SageMaker::Pipeline", 1),
        ("AWS::SageMaker::ModelPackageGroup", 1),
        ("AWS::CodePipeline::Pipeline", 1),
        ("AWS::CodeBuild::Project", 2),
        ("AWS::CloudWatch::Alarm", 1),
    ):
        level2.template.resource_count_is(cfn_type, count)
    assert level2.json["Description"].startswith("cdk-mlops level 2 (Repeatable)")


def test_idle_cost_adds_nothing_billed_per_hour(level2: Synth) -> None:
    for billed in (
        "AWS::SageMaker::Endpoint",
        "AWS::SageMaker::NotebookInstance",
        "AWS::Glue::DevEndpoint",
        "AWS::EC2::NatGateway",
        "AWS::EC2::Instance",
    ):
        level2.template.resource_count_is(billed, 0)


def test_template_is_within_cloudformation_limits(level2: Synth) -> None:
    # cdk writes templates with one-space indentation; measure that file's size.
    size = len(json.dumps(level2.json, indent=1).encode())
    assert size < MAX_TEMPLATE_BYTES, size
    assert len(level2.resources) < MAX_RESOURCES, len(level2.resources)
    assert len(level2.json.get("Parameters", {})) < MAX_PARAMETERS
    assert len(level2.json.get("Outputs", {})) < MAX_OUTPUTS
    assert len(level2.json.get("Mappings", {})) < MAX_MAPPINGS


def test_two_synths_are_byte_identical(level2: Synth) -> None:
    again = Template.from_stack(RepeatableStack(new_app(), "MlopsLevel2")).to_json()
    assert json.dumps(again, sort_keys=True) == json.dumps(level2.json, sort_keys=True)


# ---------------------------------------------------------------------------------- wiring


def test_one_code_asset_and_version_serve_the_etl_and_the_pipeline(level2: Synth) -> None:
    code = level2.stack.repeatable.code
    assert (
        level2.stack.repeatable.etl.code is code and level2.stack.repeatable.training.code is code
    )
    assert _as_text(level2.glue_args["--extra-py-files"]).endswith(
        f"/{code.zip_asset.s3_object_key}"
    )
    preprocess = step_named(level2.definition, "Preprocess")["Arguments"]
    (code_input,) = [i for i in preprocess["ProcessingInputs"] if i["InputName"] == "code"]
    assert code_input["S3Input"]["S3Uri"].endswith(f"/{code.zip_asset.s3_object_key}}}")
    assert level2.glue_args["--code_version"] == code.code_version
    register = step_named(level2.definition, "Register")["Arguments"]
    assert register["CustomerMetadataProperties"]["code_version"] == code.code_version


def test_the_pipeline_trains_on_what_the_etl_writes(level2: Synth) -> None:
    assert level2.parameter("InputDataUri") == _as_text(level2.glue_args["--output_path"])
    assert level2.stack.repeatable.etl.curated_prefix == "customer_churn/"


def test_register_step_uses_the_registry_group_and_manual_approval(level2: Synth) -> None:
    group = level2.props("AWS::SageMaker::ModelPackageGroup", "Registry")
    register = step_named(level2.definition, "Register")["Arguments"]
    # Default group name from the stack name: unique per account and region.
    assert (
        register["ModelPackageGroupName"] == group["ModelPackageGroupName"] == "MlopsLevel2-models"
    )
    assert level2.parameter("ModelApprovalStatus") == "PendingManualApproval"
    assert level2.parameter("MetricThreshold") == 0.75


def test_every_job_in_the_definition_uses_vpc_kms_isolation_and_encryption(level2: Synth) -> None:
    key = f"${{{level2.lid('AWS::KMS::Key', 'KeysData')}.Arn}}"
    jobs = [s for s in all_steps(level2.definition) if s["Type"] in JOB_STEP_TYPES]
    assert len(jobs) == 5  # DataVersion, Preprocess, Train, Evaluate, Baseline
    for step in jobs:
        args = step["Arguments"]
        if step["Type"] == "Processing":
            network, volume = args["NetworkConfig"], args["ProcessingResources"]["ClusterConfig"]
            output, vpc = args["ProcessingOutputConfig"], args["NetworkConfig"]["VpcConfig"]
        else:
            network, volume, output, vpc = (
                args,
                args["ResourceConfig"],
                args["OutputDataConfig"],
                args["VpcConfig"],
            )
        assert vpc["Subnets"] and vpc["SecurityGroupIds"], step["Name"]
        assert volume["VolumeKmsKeyId"] == output["KmsKeyId"] == key, step["Name"]
        assert network["EnableNetworkIsolation"] is True, step["Name"]
        assert network["EnableInterContainerTrafficEncryption"] is True, step["Name"]


def test_ci_runs_the_training_pipeline_from_the_artifacts_zone(level2: Synth) -> None:
    assert (
        f"--pipeline-name {level2.stack.repeatable.training.pipeline_name} "
        in level2.run_commands()
    )
    artifacts = level2.lid("AWS::S3::Bucket", "DataLakeArtifacts")
    pipeline = level2.props("AWS::CodePipeline::Pipeline", "Ci")
    assert pipeline["ArtifactStore"]["Location"] == ref_of(artifacts)
    assert pipeline["ArtifactStore"]["EncryptionKey"]["Id"] == arn_of(
        level2.lid("AWS::KMS::Key", "KeysData")
    )
    rule = level2.props("AWS::Events::Rule", "CiSourceChanged")
    assert rule["EventPattern"]["detail"]["bucket"]["name"] == [ref_of(artifacts)]
    # The S3 "Object Created" rule only fires when the bucket sends events to EventBridge.
    notifications = level2.resources[artifacts]["Properties"]["NotificationConfiguration"]
    assert notifications == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}


def test_etl_failures_and_registry_changes_reach_the_encrypted_alerts_topic(level2: Synth) -> None:
    alerts = level2.lid("AWS::SNS::Topic", "Alerts")
    assert level2.resources[alerts]["Properties"]["KmsMasterKeyId"] == arn_of(
        level2.lid("AWS::KMS::Key", "KeysNotifications")
    )
    for rule in ("EtlFailedRuns", "RegistryStateChange"):
        targets = level2.props("AWS::Events::Rule", rule)["Targets"]
        assert [t["Arn"] for t in targets] == [ref_of(alerts)], rule
    assert level2.props("AWS::CloudWatch::Alarm", "EtlFailedRunsAlarm")["AlarmActions"] == [
        ref_of(alerts)
    ]


def test_etl_encrypts_with_the_data_key_and_logs_with_the_logs_key(level2: Synth) -> None:
    config = level2.props("AWS::Glue::SecurityConfiguration", "EtlSecurityConfiguration")[
        "EncryptionConfiguration"
    ]
    data, logs = (arn_of(level2.lid("AWS::KMS::Key", k)) for k in ("KeysData", "KeysLogs"))
    assert config["S3Encryptions"][0]["KmsKeyArn"] == data
    assert config["JobBookmarksEncryption"]["KmsKeyArn"] == data
    assert config["CloudWatchEncryption"]["KmsKeyArn"] == logs


# ------------------------------------------------------------------------------------ props


def test_props_reach_the_constructs(custom: Synth) -> None:
    group = custom.props("AWS::SageMaker::ModelPackageGroup", "Registry")
    assert group["ModelPackageGroupName"] == "churn-v2"
    assert (
        step_named(custom.definition, "Register")["Arguments"]["ModelPackageGroupName"]
        == "churn-v2"
    )
    assert custom.parameter("ModelApprovalStatus") == "Approved"
    assert custom.parameter("MetricThreshold") == 0.9
    custom.template.resource_count_is("AWS::Glue::Trigger", 0)
    source = custom.props("AWS::CodePipeline::Pipeline", "Ci")["Stages"][0]["Actions"][0]
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert not [
        lid
        for lid in custom.template.find_resources("AWS::Events::Rule")
        if lid.startswith("CiSource")
    ]
    budget = custom.props("AWS::Budgets::Budget", "CostGuard")["Budget"]
    assert budget["BudgetLimit"] == {"Amount": 50, "Unit": "USD"}


def test_own_code_dir_ships_and_records_its_version(custom: Synth, level2: Synth) -> None:
    code = custom.stack.repeatable.code
    assert code.code_version != level2.stack.repeatable.code.code_version
    assert custom.glue_args["--code_version"] == code.code_version
    register = step_named(custom.definition, "Register")["Arguments"]
    assert register["CustomerMetadataProperties"]["code_version"] == code.code_version
    assert _as_text(custom.glue_args["--extra-py-files"]).endswith(
        f"/{code.zip_asset.s3_object_key}"
    )


# ---------------------------------------------------------------------------- failing cases


def test_fails_when_the_quality_threshold_is_not_a_probability() -> None:
    with pytest.raises(
        ValueError, match=r"TrainingPipeline at [\w/]+: threshold=1.5 .* between 0 and 1"
    ):
        RepeatableStack(new_app(), "Bad", repeatable=RepeatableSettings(quality_threshold=1.5))


def test_fails_when_the_schema_is_unknown() -> None:
    with pytest.raises(
        ValueError, match=r"GlueEtl at [\w/]+: schema_file=.*nope.json.*does not exist"
    ):
        RepeatableStack(new_app(), "Bad", repeatable=RepeatableSettings(schema="nope"))


def test_fails_when_the_group_name_is_invalid() -> None:
    with pytest.raises(
        ValueError, match=r"ModelRegistry at [\w/]+: model_package_group_name='churn_models'"
    ):
        RepeatableStack(
            new_app(),
            "Bad",
            repeatable=RepeatableSettings(model_package_group_name="churn_models"),
        )


def test_fails_when_code_dir_is_not_a_package(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"PipelineCode at [\w/]+: code_dir=.*__init__.py"):
        RepeatableStack(new_app(), "Bad", repeatable=RepeatableSettings(code_dir=tmp_path))


def test_the_etl_workers_are_settings() -> None:
    from aws_cdk import aws_glue as glue
    from aws_cdk.assertions import Template

    from cdk_mlops.levels import RepeatableSettings
    from cdk_mlops.stacks import RepeatableStack
    from tests.cdk_mlops.helpers import new_app

    stack = RepeatableStack(
        new_app(),
        "Sized",
        repeatable=RepeatableSettings(etl_worker_type=glue.WorkerType.G_2X, etl_workers=10),
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::Glue::Job", {"WorkerType": "G.2X", "NumberOfWorkers": 10}
    )
