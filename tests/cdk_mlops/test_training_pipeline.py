"""TrainingPipeline: what cdk-nag cannot see, asserted on the synthesized pipeline definition.

Every SageMaker job inside ``PipelineDefinitionBody`` must run in our VPC, encrypt volumes and
outputs with our key, be network-isolated and encrypt inter-container traffic; the model package
records the code version; the quality gate compares evaluation.json with ``MetricThreshold``.
The pipeline role is least privilege (IAM ``Null`` conditions force VPC and KMS on every job).
Also the README's "your own code directory" example: a user's copy of the code, renamed and
changed, registers its own code version.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from cdk_mlops.constructs import DataLake, ModelRegistry, Network, TrainingPipeline
from tests.cdk_mlops.construct_fixtures import arn_of, as_list, logical_id, role_statements
from tests.cdk_mlops.helpers import new_app
from tests.cdk_mlops.level2_fixtures import (
    JOB_STEP_TYPES,
    all_actions,
    all_steps,
    bucket_grants,
    copy_pipeline_code,
    pipeline_definitions,
    rendered,
    statements_allowing,
    step_named,
)

ZONES = ("Raw", "Curated", "Artifacts", "Monitoring", "AccessLogs")
PIPELINES = ("Training", "Custom", "Mine")
EXPECTED_JOBS = {
    "DataVersion": "Processing",
    "Preprocess": "Processing",
    "Train": "Training",
    "Evaluate": "Processing",
    "Baseline": "Processing",
}
AUC = "binary_classification_metrics.auc.value"


@dataclass
class Built:
    template: Template
    stack: cdk.Stack
    pipelines: dict[str, TrainingPipeline]
    starter_lid: str = field(default="")

    @cached_property
    def resources(self) -> dict[str, Any]:
        res: dict[str, Any] = self.template.to_json()["Resources"]
        return res

    @cached_property
    def definitions(self) -> dict[str, dict[str, Any]]:
        """Pipeline construct id -> parsed definition."""
        by_lid = pipeline_definitions(self.template)
        out = {}
        for name in PIPELINES:
            (lid,) = [
                lid for lid in by_lid if lid.startswith(name) and not lid.startswith(f"{name}Role")
            ]
            out[name] = by_lid[lid]
        return out

    def lid(self, cfn_type: str, prefix: str) -> str:
        return logical_id(self.template, cfn_type, prefix)

    def jobs(self, name: str) -> list[dict[str, Any]]:
        return [s for s in all_steps(self.definitions[name]) if s["Type"] in JOB_STEP_TYPES]

    def role_lid(self, name: str) -> str:
        return self.lid("AWS::IAM::Role", f"{name}Role")

    def statements(self, name: str) -> list[dict[str, Any]]:
        return role_statements(self.template, self.role_lid(name))

    @cached_property
    def subnet_placeholders(self) -> list[str]:
        subnets = sorted(self.template.find_resources("AWS::EC2::Subnet"))
        return [f"${{Ref:{lid}}}" for lid in subnets]

    @cached_property
    def security_group_placeholder(self) -> str:
        return f"${{{self.lid('AWS::EC2::SecurityGroup', 'NetworkWorkloadSecurityGroup')}.GroupId}}"

    @cached_property
    def key_placeholder(self) -> str:
        return f"${{{self.lid('AWS::KMS::Key', 'DataKey')}.Arn}}"

    def parameter(self, name: str, parameter: str) -> dict[str, Any]:
        (param,) = [p for p in self.definitions[name]["Parameters"] if p["Name"] == parameter]
        return dict(param)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    # The user's own code: a renamed copy with one changed file (the README example).
    mine = copy_pipeline_code(tmp_path_factory.mktemp("user") / "my_code")
    train = mine / "training" / "train.py"
    train.write_text(train.read_text() + "\n# the user's change\n")

    stack = cdk.Stack(new_app(), "Pipelines")
    key = kms.Key(stack, "DataKey", enable_key_rotation=True)
    network = Network(stack, "Network")
    lake = DataLake(stack, "Lake", encryption_key=key)
    registry = ModelRegistry(stack, "Registry", model_package_group_name="churn-models")
    common: dict[str, Any] = {
        "job_network": network.job_network,
        "input_bucket": lake.curated_bucket,
        "artifacts_bucket": lake.artifacts_bucket,
        "encryption_key": key,
        "registry": registry,
    }
    default = TrainingPipeline(stack, "Training", **common)
    custom = TrainingPipeline(
        stack,
        "Custom",
        pipeline_name="Custom-Training",
        code=default.code,
        input_prefix="clean/",
        output_prefix="runs/",
        metric="regression_metrics.mse.value",
        threshold=5,
        processing_instance_type="ml.c5.xlarge",
        training_instance_type="ml.m5.2xlarge",
        hyperparameters={"n_estimators": 200, "max_depth": 6},
        cache_expire_after=None,
        intended_use="Monthly churn risk for retention offers",
        **common,
    )
    own = TrainingPipeline(stack, "Mine", pipeline_name="my-training", code_dir=mine, **common)
    starter = iam.Role(stack, "Starter", assumed_by=iam.AccountRootPrincipal())
    default.grant_start(starter)
    b = Built(
        Template.from_stack(stack),
        stack,
        {"Training": default, "Custom": custom, "Mine": own},
    )
    b.starter_lid = b.lid("AWS::IAM::Role", "Starter")
    return b


# --------------------------------------------------------- every job in every definition


@pytest.mark.parametrize("name", PIPELINES)
def test_the_definition_has_the_expected_jobs(built: Built, name: str) -> None:
    assert {s["Name"]: s["Type"] for s in built.jobs(name)} == EXPECTED_JOBS
    assert built.definitions[name]["Version"] == "2020-12-01"


def _vpc(step: dict[str, Any]) -> dict[str, Any]:
    args = step["Arguments"]
    vpc: dict[str, Any] = (
        args["NetworkConfig"]["VpcConfig"] if step["Type"] == "Processing" else args["VpcConfig"]
    )
    return vpc


@pytest.mark.parametrize("name", PIPELINES)
def test_every_job_runs_in_our_subnets_with_the_workload_security_group(
    built: Built, name: str
) -> None:
    for step in built.jobs(name):
        vpc = _vpc(step)
        assert sorted(vpc["Subnets"]) == built.subnet_placeholders, step["Name"]
        assert vpc["SecurityGroupIds"] == [built.security_group_placeholder], step["Name"]


@pytest.mark.parametrize("name", PIPELINES)
def test_every_job_encrypts_its_volume_with_our_key(built: Built, name: str) -> None:
    for step in built.jobs(name):
        args = step["Arguments"]
        resources = (
            args["ProcessingResources"]["ClusterConfig"]
            if step["Type"] == "Processing"
            else args["ResourceConfig"]
        )
        assert resources["VolumeKmsKeyId"] == built.key_placeholder, step["Name"]


@pytest.mark.parametrize("name", PIPELINES)
def test_every_job_encrypts_its_output_with_our_key(built: Built, name: str) -> None:
    for step in built.jobs(name):
        args = step["Arguments"]
        output = (
            args["ProcessingOutputConfig"]
            if step["Type"] == "Processing"
            else args["OutputDataConfig"]
        )
        assert output["KmsKeyId"] == built.key_placeholder, step["Name"]


@pytest.mark.parametrize("name", PIPELINES)
def test_every_job_is_network_isolated_and_encrypts_inter_container_traffic(
    built: Built, name: str
) -> None:
    for step in built.jobs(name):
        args = step["Arguments"]
        flags = args["NetworkConfig"] if step["Type"] == "Processing" else args
        assert flags["EnableNetworkIsolation"] is True, step["Name"]
        assert flags["EnableInterContainerTrafficEncryption"] is True, step["Name"]


@pytest.mark.parametrize("name", PIPELINES)
def test_every_job_and_the_pipeline_use_the_pipeline_role(built: Built, name: str) -> None:
    role = f"${{{built.role_lid(name)}.Arn}}"
    for step in built.jobs(name):
        assert step["Arguments"]["RoleArn"] == role, step["Name"]
    pipeline = built.pipelines[name].pipeline
    assert built.stack.resolve(pipeline.role_arn) == arn_of(built.role_lid(name))


@pytest.mark.parametrize("name", PIPELINES)
def test_every_job_gets_the_code_asset_and_its_version(built: Built, name: str) -> None:
    code = built.pipelines[name].code
    code_uri = (
        "${Sub:s3://cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}/"
        f"{code.zip_asset.s3_object_key}}}"
    )
    for step in built.jobs(name):
        args = step["Arguments"]
        assert args["Environment"]["CODE_VERSION"] == code.code_version, step["Name"]
        if step["Type"] == "Processing":
            (code_input,) = [i for i in args["ProcessingInputs"] if i["InputName"] == "code"]
            assert code_input["S3Input"]["S3Uri"] == code_uri
            entrypoint = args["AppSpecification"]["ContainerEntrypoint"]
        else:
            (channel,) = [c for c in args["InputDataConfig"] if c["ChannelName"] == "code"]
            assert channel["DataSource"]["S3DataSource"]["S3Uri"] == code_uri
            entrypoint = args["AlgorithmSpecification"]["ContainerEntrypoint"]
        assert entrypoint[-1].startswith(f"{code.package_name}."), step["Name"]


def test_jobs_use_the_regional_scikit_learn_image(built: Built) -> None:
    for step in built.jobs("Training"):
        args = step["Arguments"]
        image = (
            args["AppSpecification"]["ImageUri"]
            if step["Type"] == "Processing"
            else args["AlgorithmSpecification"]["TrainingImage"]
        )
        # Account and region come from a CloudFormation mapping at deploy time.
        assert image.startswith("${TOKEN}.dkr.ecr.")
        assert image.endswith("/sagemaker-scikit-learn:1.9-0-cpu-py3")


# ------------------------------------------------------------------ register and quality gate


@pytest.mark.parametrize("name", PIPELINES)
def test_register_records_the_code_version_of_the_pipeline_code(built: Built, name: str) -> None:
    register = step_named(built.definitions[name], "Register")
    assert register["Type"] == "RegisterModel"
    args = register["Arguments"]
    version = built.pipelines[name].code.code_version
    assert args["CustomerMetadataProperties"]["code_version"] == version
    assert args["MetadataProperties"]["CommitId"] == version
    assert (
        version
        in built.resources[built.lid("AWS::SageMaker::Pipeline", name)]["Properties"][
            "PipelineDescription"
        ]
    )


def test_own_code_registers_its_own_version(built: Built) -> None:
    mine, default = built.pipelines["Mine"].code, built.pipelines["Training"].code
    assert mine.package_name == "my_code"
    assert mine.code_version != default.code_version
    assert mine.zip_asset.asset_hash != default.zip_asset.asset_hash
    register = step_named(built.definitions["Mine"], "Register")["Arguments"]
    assert register["CustomerMetadataProperties"]["code_version"] == mine.code_version
    modules = {
        s["Name"]: (
            s["Arguments"].get("AppSpecification") or s["Arguments"]["AlgorithmSpecification"]
        )["ContainerEntrypoint"][-1]
        for s in built.jobs("Mine")
    }
    assert modules == {
        "DataVersion": "my_code.processing.data_version",
        "Preprocess": "my_code.processing.preprocess",
        "Train": "my_code.training.train",
        "Evaluate": "my_code.evaluation.evaluate",
        "Baseline": "my_code.monitoring.baseline",
    }


def test_register_targets_the_registry_group_and_waits_for_approval(built: Built) -> None:
    args = step_named(built.definitions["Training"], "Register")["Arguments"]
    assert args["ModelPackageGroupName"] == "churn-models"
    assert args["ModelApprovalStatus"] == {"Get": "Parameters.ModelApprovalStatus"}
    assert built.parameter("Training", "ModelApprovalStatus")["DefaultValue"] == (
        "PendingManualApproval"
    )
    (container,) = args["InferenceSpecification"]["Containers"]
    assert container["ModelDataUrl"] == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}


@pytest.mark.parametrize("name", PIPELINES)
def test_registered_model_serves_its_own_code_not_a_cdk_asset(built: Built, name: str) -> None:
    """``cdk gc`` may delete unreferenced assets: the model package must not point at one."""
    args = step_named(built.definitions[name], "Register")["Arguments"]
    (container,) = args["InferenceSpecification"]["Containers"]
    environment = container["Environment"]
    assert environment["SAGEMAKER_PROGRAM"] == "inference.py"
    assert environment["SAGEMAKER_SUBMIT_DIRECTORY"] == "/opt/ml/model/code"
    text = rendered(args)
    for asset in ("cdk-hnb659fds-assets", "sourcedir", ".tar.gz", ".zip"):
        assert asset not in text, asset
    code = built.pipelines[name].code
    for key in (code.zip_asset.s3_object_key, code.sourcedir_asset.s3_object_key):
        assert key not in text


def test_register_records_metrics_and_drift_baselines(built: Built) -> None:
    args = step_named(built.definitions["Training"], "Register")["Arguments"]

    def file_of(source: dict[str, Any]) -> tuple[str, str]:
        base, file = source["S3Uri"]["Std:Join"]["Values"]
        return base["Get"].split(".")[1], file

    quality = args["ModelMetrics"]["ModelQuality"]["Statistics"]
    assert file_of(quality) == ("Evaluate", "evaluation.json")
    for section in (
        args["ModelMetrics"]["ModelDataQuality"],
        args["DriftCheckBaselines"]["ModelDataQuality"],
    ):
        assert file_of(section["Statistics"]) == ("Baseline", "statistics.json")
        assert file_of(section["Constraints"]) == ("Baseline", "constraints.json")


def test_gate_compares_the_evaluation_metric_with_the_threshold_parameter(built: Built) -> None:
    definition = built.definitions["Training"]
    gate = step_named(definition, "CheckQuality")
    assert gate["Type"] == "Condition"
    condition, champion = gate["Arguments"]["Conditions"]
    # and the new model is at least as good as the champion (when one is passed)
    assert champion == {
        "Type": "Equals",
        "LeftValue": {
            "Std:JsonGet": {
                "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"},
                "Path": "champion_challenger.passed",
            }
        },
        "RightValue": True,
    }
    assert condition == {
        "Type": "GreaterThanOrEqualTo",
        "LeftValue": {
            "Std:JsonGet": {
                "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.EvaluationReport"},
                "Path": AUC,
            }
        },
        "RightValue": {"Get": "Parameters.MetricThreshold"},
    }
    assert built.parameter("Training", "MetricThreshold") == {
        "Name": "MetricThreshold",
        "Type": "Float",
        "DefaultValue": 0.75,
    }
    evaluate = step_named(definition, "Evaluate")
    (report,) = evaluate["PropertyFiles"]
    assert report == {
        "PropertyFileName": "EvaluationReport",
        "OutputName": "evaluation",
        "FilePath": "evaluation.json",
    }
    outputs = evaluate["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    assert "evaluation" in [o["OutputName"] for o in outputs]


def test_gate_registers_if_it_passes_and_fails_with_a_message_otherwise(built: Built) -> None:
    gate = step_named(built.definitions["Training"], "CheckQuality")["Arguments"]
    assert [s["Name"] for s in gate["IfSteps"]] == ["Register"]
    (fail,) = gate["ElseSteps"]
    assert fail["Type"] == "Fail" and fail["Name"] == "QualityGateFailed"
    values = fail["Arguments"]["ErrorMessage"]["Std:Join"]["Values"]
    assert AUC in values[0] and values[1] == {"Get": "Parameters.MetricThreshold"}
    # The drift baseline must exist before a version can record it.
    assert step_named(built.definitions["Training"], "CheckQuality")["DependsOn"] == ["Baseline"]


# ------------------------------------------------------------------------- props and data


def test_default_parameters_point_at_the_curated_prefix(built: Built) -> None:
    curated = built.lid("AWS::S3::Bucket", "LakeCurated")
    assert built.parameter("Training", "InputDataUri")["DefaultValue"] == (
        f"s3://${{Ref:{curated}}}/customer_churn/"
    )
    for param in ("ProcessingInstanceType", "TrainingInstanceType"):
        assert built.parameter("Training", param)["DefaultValue"] == "ml.m5.large"


def test_outputs_go_under_the_output_prefix_of_the_artifacts_zone(built: Built) -> None:
    artifacts = built.lid("AWS::S3::Bucket", "LakeArtifacts")
    for name, prefix in (("Training", "training-pipeline"), ("Custom", "runs")):
        for step in built.jobs(name):
            args = step["Arguments"]
            uris = (
                [o["S3Output"]["S3Uri"] for o in args["ProcessingOutputConfig"]["Outputs"]]
                if step["Type"] == "Processing"
                else [args["OutputDataConfig"]["S3OutputPath"]]
            )
            for uri in uris:
                assert uri["Std:Join"]["Values"][0] == f"s3://${{Ref:{artifacts}}}/{prefix}"


def test_custom_props_reach_the_definition(built: Built) -> None:
    resource = built.resources[built.lid("AWS::SageMaker::Pipeline", "Custom")]["Properties"]
    assert resource["PipelineName"] == "Custom-Training"
    assert built.parameter("Custom", "ProcessingInstanceType")["DefaultValue"] == "ml.c5.xlarge"
    assert built.parameter("Custom", "TrainingInstanceType")["DefaultValue"] == "ml.m5.2xlarge"
    assert built.parameter("Custom", "MetricThreshold")["DefaultValue"] == 5.0
    condition, champion = step_named(built.definitions["Custom"], "CheckQuality")["Arguments"][
        "Conditions"
    ]
    assert condition["LeftValue"]["Std:JsonGet"]["Path"] == "regression_metrics.mse.value"
    # the champion is compared on the gate metric
    args = step_named(built.definitions["Custom"], "Evaluate")["Arguments"]["AppSpecification"][
        "ContainerArguments"
    ]
    assert args[args.index("--champion-metric") + 1] == "regression_metrics.mse.value"
    assert champion["Type"] == "Equals"
    train = step_named(built.definitions["Custom"], "Train")["Arguments"]
    assert train["HyperParameters"] == {"n_estimators": "200", "max_depth": "6"}
    metadata = step_named(built.definitions["Custom"], "Register")["Arguments"][
        "CustomerMetadataProperties"
    ]
    assert metadata["intended_use"] == "Monthly churn risk for retention offers"
    assert metadata["quality_metric"] == "regression_metrics.mse.value"
    assert (
        "intended_use"
        not in step_named(built.definitions["Training"], "Register")["Arguments"][
            "CustomerMetadataProperties"
        ]
    )
    curated = built.lid("AWS::S3::Bucket", "LakeCurated")
    assert (
        built.parameter("Custom", "InputDataUri")["DefaultValue"]
        == f"s3://${{Ref:{curated}}}/clean/"
    )


def test_step_caching_is_on_by_default_and_can_be_turned_off(built: Built) -> None:
    for step in built.jobs("Training"):
        if step["Name"] == "DataVersion":
            continue  # reads the live data: never cached
        assert step["CacheConfig"] == {"Enabled": True, "ExpireAfter": "P30D"}
    for step in built.jobs("Custom"):
        assert "CacheConfig" not in step


def test_cached_steps_are_keyed_on_the_data_version_of_each_execution(built: Built) -> None:
    """A cache hit must mean the same data: the step reading the curated prefix is never cached
    and its fingerprint is in the environment (cache key) of every cached step."""
    jobs = {s["Name"]: s for s in built.jobs("Training")}
    assert "CacheConfig" not in jobs["DataVersion"]
    (data,) = [
        i for i in jobs["DataVersion"]["Arguments"]["ProcessingInputs"] if i["InputName"] == "data"
    ]
    assert data["S3Input"]["S3Uri"] == {"Get": "Parameters.InputDataUri"}
    for name, step in jobs.items():
        if "CacheConfig" in step:
            version = step["Arguments"]["Environment"]["DATA_VERSION"]
            assert version["Std:JsonGet"]["PropertyFile"] == {
                "Get": "Steps.DataVersion.PropertyFiles.DataVersionReport"
            }, name
    assert {n for n, s in jobs.items() if "CacheConfig" in s} == {
        "Preprocess",
        "Train",
        "Evaluate",
        "Baseline",
    }


def test_pipeline_resource_waits_for_the_job_policy(built: Built) -> None:
    resource = built.resources[built.lid("AWS::SageMaker::Pipeline", "Training")]
    # Default name: derived from the stack ("Pipelines"), unique per account and region.
    assert resource["Properties"]["PipelineName"] == "Pipelines-training"
    assert built.lid("AWS::IAM::Policy", "TrainingJobs") in resource["DependsOn"]


# ---------------------------------------------------------------------------------- the role


def test_role_is_for_sagemaker_only_with_no_managed_policies(built: Built) -> None:
    role = built.resources[built.role_lid("Training")]["Properties"]
    principals = [s["Principal"] for s in role["AssumeRolePolicyDocument"]["Statement"]]
    assert principals == [{"Service": "sagemaker.amazonaws.com"}]
    assert "ManagedPolicyArns" not in role


def test_jobs_may_be_created_only_isolated_in_the_vpc_with_kms(built: Built) -> None:
    statements = built.statements("Training")
    creators = [
        s
        for s in statements
        if {"sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob"}
        & set(as_list(s["Action"]))
    ]
    assert len(creators) == 1
    (creator,) = creators
    assert creator["Condition"] == {
        "Null": {
            "sagemaker:VpcSubnets": "false",
            "sagemaker:VpcSecurityGroupIds": "false",
            "sagemaker:VolumeKmsKey": "false",
            "sagemaker:OutputKmsKey": "false",
        },
        "Bool": {
            "sagemaker:NetworkIsolation": "true",
            "sagemaker:InterContainerTrafficEncryption": "true",
        },
    }
    resources = [rendered(r) for r in as_list(creator["Resource"])]
    assert [r.rsplit(":", 1)[-1] for r in resources] == [
        'processing-job/*"]]}',
        'training-job/*"]]}',
    ]


def test_role_passes_only_itself_and_only_to_sagemaker(built: Built) -> None:
    (passrole,) = statements_allowing(built.statements("Training"), "iam:PassRole")
    assert passrole["Resource"] == arn_of(built.role_lid("Training"))
    assert passrole["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }


def test_role_creates_kms_grants_only_for_aws_resources(built: Built) -> None:
    (grant,) = statements_allowing(built.statements("Training"), "kms:CreateGrant")
    assert grant["Resource"] == arn_of(built.lid("AWS::KMS::Key", "DataKey"))
    assert grant["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_network_interfaces_only_in_our_subnets_and_security_group(built: Built) -> None:
    (eni,) = statements_allowing(built.statements("Training"), "ec2:CreateNetworkInterface")
    resources = [rendered(r) for r in as_list(eni["Resource"])]
    subnet_lids = sorted(built.template.find_resources("AWS::EC2::Subnet"))
    sg = built.lid("AWS::EC2::SecurityGroup", "NetworkWorkloadSecurityGroup")
    assert len(resources) == 1 + len(subnet_lids) + 1
    assert resources[0].endswith(':network-interface/*"]]}')
    for lid in subnet_lids:
        assert any(":subnet/" in r and f'"Ref": "{lid}"' in r for r in resources)
    assert any(":security-group/" in r and f'"{sg}", "GroupId"' in r for r in resources)


def test_role_reads_the_input_prefix_and_writes_the_output_prefix_only(built: Built) -> None:
    lake = {built.lid("AWS::S3::Bucket", f"Lake{z}") for z in ZONES}
    curated, artifacts = (
        built.lid("AWS::S3::Bucket", "LakeCurated"),
        built.lid("AWS::S3::Bucket", "LakeArtifacts"),
    )
    for name, inp, out in (
        ("Training", "customer_churn/*", "training-pipeline/*"),
        ("Custom", "clean/*", "runs/*"),
    ):
        grants = bucket_grants(built.statements(name), lake)
        assert set(grants) == {(curated, None), (curated, inp), (artifacts, None), (artifacts, out)}
        assert not {"s3:PutObject", "s3:DeleteObject*"} & grants[(curated, inp)]
        assert {"s3:PutObject", "s3:GetObject*"} <= grants[(artifacts, out)]


def test_role_reads_exactly_the_two_code_objects(built: Built) -> None:
    code = built.pipelines["Training"].code
    keys = set()
    for st in built.statements("Training"):
        for res in as_list(st.get("Resource")):
            text = rendered(res)
            if "cdk-hnb659fds-assets" in text:
                last = res["Fn::Join"][1][-1]
                keys.add(last if isinstance(last, str) else None)
    marker = built.pipelines["Training"].no_champion_asset
    assert marker is not None
    assert keys == {
        None,
        f"/{code.zip_asset.s3_object_key}",
        f"/{code.sourcedir_asset.s3_object_key}",
        f"/{marker.s3_object_key}",  # the ChampionModelUri default ("no champion")
    }


def test_role_registers_only_into_its_group(built: Built) -> None:
    (register,) = statements_allowing(built.statements("Training"), "sagemaker:CreateModelPackage")
    resources = [rendered(r) for r in as_list(register["Resource"])]
    assert [r.rsplit(":", 1)[-1] for r in resources] == [
        'model-package-group/churn-models"]]}',
        'model-package/churn-models/*"]]}',
    ]


def test_no_wildcard_actions_and_star_resources_only_where_iam_has_no_resources(
    built: Built,
) -> None:
    statements = built.statements("Training")
    assert not [a for a in all_actions(statements) if a == "*" or a.endswith(":*")]
    star = {a for s in statements if "*" in as_list(s["Resource"]) for a in as_list(s["Action"])}
    assert star == {
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeVpcs",
        "ec2:DescribeDhcpOptions",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "cloudwatch:PutMetricData",
    }
    (metrics,) = statements_allowing(statements, "cloudwatch:PutMetricData")
    assert "cloudwatch:namespace" in metrics["Condition"]["StringLike"]


def test_grant_start_lets_a_principal_start_and_follow_this_pipeline(built: Built) -> None:
    (statement,) = role_statements(built.template, built.starter_lid)
    assert set(statement["Action"]) == {
        "sagemaker:StartPipelineExecution",
        "sagemaker:DescribePipelineExecution",
        "sagemaker:ListPipelineExecutionSteps",
    }
    resources = [rendered(r) for r in as_list(statement["Resource"])]
    # Pipeline ARNs hold the name in lower case.
    assert resources[0].endswith(':pipeline/pipelines-training"]]}')
    assert resources[1].endswith(':pipeline/pipelines-training/execution/*"]]}')


# ---------------------------------------------------------------------------- failing cases

_ids = itertools.count()


@dataclass
class Deps:
    stack: cdk.Stack
    props: dict[str, Any]


@pytest.fixture(scope="module")
def deps() -> Deps:
    """One unsynthesized stack for the failing cases (each builds under a new id)."""
    stack = cdk.Stack(new_app(), "Failing")
    key = kms.Key(stack, "Key")
    lake = DataLake(stack, "Lake", encryption_key=key)
    return Deps(
        stack,
        {
            "job_network": Network(stack, "Network", interface_endpoints=[]).job_network,
            "input_bucket": lake.curated_bucket,
            "artifacts_bucket": lake.artifacts_bucket,
            "encryption_key": key,
            "registry": ModelRegistry(stack, "Registry", model_package_group_name="g"),
        },
    )


def _pipeline(deps: Deps, **props: Any) -> TrainingPipeline:
    return TrainingPipeline(deps.stack, f"Pipeline{next(_ids)}", **deps.props, **props)


def test_fails_when_both_code_and_code_dir_are_given(deps: Deps, tmp_path: Path) -> None:
    code = _pipeline(deps).code
    with pytest.raises(ValueError, match=r"code_dir=.*either code= or code_dir=, not both"):
        _pipeline(deps, code=code, code_dir=tmp_path)


@pytest.mark.parametrize("value", ["", "  ", "u" * 257, "churn, for offers"])
def test_fails_when_the_intended_use_cannot_be_recorded(deps: Deps, value: str) -> None:
    with pytest.raises(ValueError, match=r"intended_use=.* 1 to 256 letters, digits, spaces"):
        _pipeline(deps, intended_use=value)


@pytest.mark.parametrize("name", ["my_pipeline", "-training", "a" * 257, ""])
def test_fails_when_the_pipeline_name_is_invalid(deps: Deps, name: str) -> None:
    with pytest.raises(
        ValueError, match=r"TrainingPipeline at [\w/]+: pipeline_name=.* letters, digits"
    ):
        _pipeline(deps, pipeline_name=name)


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("processing_instance_type", "m5.large"),
        ("processing_instance_type", "ml.M5.large"),
        ("training_instance_type", "ml.m5"),
    ],
)
def test_fails_when_an_instance_type_is_not_sagemaker(deps: Deps, prop: str, value: str) -> None:
    with pytest.raises(ValueError, match=rf"{prop}='{value}' .* 'ml.m5.large'"):
        _pipeline(deps, **{prop: value})


@pytest.mark.parametrize(
    "value", ["ml.m5d.large", "ml.c5d.xlarge", "ml.r5d.large", "ml.g4dn.xlarge", "ml.g5.xlarge"]
)
@pytest.mark.parametrize("prop", ["processing_instance_type", "training_instance_type"])
def test_fails_when_an_instance_type_has_local_nvme_storage(
    deps: Deps, prop: str, value: str
) -> None:
    with pytest.raises(
        ValueError,
        match=(
            rf"TrainingPipeline\b.*: {prop}='{value}' .* NVMe .*hardware module.*refuses the "
            r"VolumeKmsKeyId.* ml\.m5\.large"
        ),
    ):
        _pipeline(deps, **{prop: value})


def test_fails_when_an_instance_type_is_not_in_the_vetted_list(deps: Deps) -> None:
    with pytest.raises(ValueError, match=r"training_instance_type='ml\.inf2\.xlarge' .* vetted"):
        _pipeline(deps, training_instance_type="ml.inf2.xlarge")


@pytest.mark.parametrize(
    ("prop", "value"), [("input_prefix", "churn"), ("output_prefix", "/runs/")]
)
def test_fails_when_a_prefix_is_malformed(deps: Deps, prop: str, value: str) -> None:
    with pytest.raises(ValueError, match=rf"{prop}='{value}' .* ending in '/'"):
        _pipeline(deps, **{prop: value})


@pytest.mark.parametrize("threshold", [math.nan, math.inf, True, "0.8"])
def test_fails_when_the_threshold_is_not_a_finite_number(deps: Deps, threshold: Any) -> None:
    with pytest.raises(ValueError, match=r"threshold=.* finite number"):
        _pipeline(deps, threshold=threshold)


@pytest.mark.parametrize("threshold", [1.5, -0.1])
def test_fails_when_a_classification_threshold_is_outside_0_to_1(
    deps: Deps, threshold: float
) -> None:
    with pytest.raises(ValueError, match=rf"threshold={threshold} .* between 0 and 1"):
        _pipeline(deps, threshold=threshold)


def test_fails_when_the_schema_is_not_shipped_with_the_code(deps: Deps) -> None:
    with pytest.raises(ValueError, match=r"schema='loans' .* No loans.json under .*schemas"):
        _pipeline(deps, schema="loans")


def test_fails_when_code_dir_is_not_a_package(deps: Deps, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"PipelineCode at [\w/]+: code_dir=.*__init__.py"):
        _pipeline(deps, code_dir=tmp_path)


def test_champion_model_is_an_evaluate_input_defaulting_to_the_no_champion_marker(
    built: Built,
) -> None:
    definition = built.definitions["Training"]
    marker = built.pipelines["Training"].no_champion_asset
    assert marker is not None
    parameter = built.parameter("Training", "ChampionModelUri")
    assert parameter["Type"] == "String"
    assert marker.s3_object_key in rendered(parameter["DefaultValue"])
    evaluate = step_named(definition, "Evaluate")["Arguments"]
    (champion,) = [i for i in evaluate["ProcessingInputs"] if i["InputName"] == "champion"]
    assert champion["S3Input"]["S3Uri"] == {"Get": "Parameters.ChampionModelUri"}
    assert champion["S3Input"]["LocalPath"] == "/opt/ml/processing/input/champion"
    args = evaluate["AppSpecification"]["ContainerArguments"]
    assert args[args.index("--champion-model") + 1] == "/opt/ml/processing/input/champion"
    assert args[args.index("--champion-margin") + 1] == "0.0"


@pytest.mark.parametrize("margin", [1.5, -0.1])
def test_fails_when_the_champion_margin_is_out_of_range(deps: Deps, margin: float) -> None:
    with pytest.raises(
        ValueError, match=rf"champion_margin={margin} is not allowed\. Use a number"
    ):
        _pipeline(deps, champion_margin=margin)


def test_champion_challenger_can_be_turned_off(deps: Deps) -> None:
    pipeline = _pipeline(deps, champion_challenger=False)
    assert pipeline.no_champion_asset is None
    body = json.dumps(deps.stack.resolve(pipeline.definition.to_json_string(pipeline)))
    assert "ChampionModelUri" not in body and "champion_challenger" not in body
