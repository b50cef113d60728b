"""ModelMonitoring: schedule -> JSONata state machine -> processing job; metric filters; alarms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from cdk_mlops.checks import cfn_lint, stack_templates
from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.constructs._notifications import encrypted_topic
from cdk_mlops.constructs.interfaces import JobNetwork
from cdk_mlops.constructs.key_policies import allow_cloudwatch_logs
from cdk_mlops.constructs.model_monitoring import (
    MAX_JOB_NAME,
    ModelMonitoring,
    MonitoringBackend,
    MonitoringFrequency,
    jsonata_literal,
)
from cdk_mlops.levels import InitialLevel, InitialSettings
from pipeline_code.monitoring import job_contract as jc
from pipeline_code.monitoring import metric_lines as ml
from pipeline_code.schema import Schema
from tests.cdk_mlops.helpers import new_app

ENDPOINT = "churn-prod"


def build(stack: cdk.Stack, construct_id: str = "Monitor", **overrides: Any) -> ModelMonitoring:
    """A monitor with its own VPC, keys, buckets and topic (created once per stack)."""
    if stack.node.try_find_child("Vpc") is None:
        vpc = ec2.Vpc(
            stack,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="jobs", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
            ],
        )
        ec2.SecurityGroup(stack, "JobsSg", vpc=vpc, allow_all_outbound=False)
        data_key = kms.Key(stack, "DataKey", enable_key_rotation=True)
        logs_key = kms.Key(stack, "LogsKey", enable_key_rotation=True)
        allow_cloudwatch_logs(logs_key)
        for name in ("Capture", "Artifacts"):
            s3.Bucket(
                stack,
                name,
                encryption=s3.BucketEncryption.KMS,
                encryption_key=data_key,
                enforce_ssl=True,
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            )
        encrypted_topic(stack, "Topic", key=None, display_name="alerts")
    found = stack.node.find_child("Vpc")
    assert isinstance(found, ec2.Vpc)
    vpc = found
    props: dict[str, Any] = {
        "endpoint_name": ENDPOINT,
        "capture_bucket": stack.node.find_child("Capture"),
        "baseline_bucket": stack.node.find_child("Artifacts"),
        "job_network": JobNetwork(
            vpc=vpc,
            subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[stack.node.find_child("JobsSg")],  # type: ignore[list-item]
        ),
        "encryption_key": stack.node.find_child("DataKey"),
        "logs_key": stack.node.find_child("LogsKey"),
        "alarm_topic": stack.node.find_child("Topic"),
        **overrides,
    }
    return ModelMonitoring(stack, construct_id, **props)


def _text(value: Any) -> str:
    """A DefinitionString (a string or an Fn::Join) as text, tokens as JSON."""
    if isinstance(value, dict) and "Fn::Join" in value:
        return "".join(p if isinstance(p, str) else json.dumps(p) for p in value["Fn::Join"][1])
    return str(value)


def _definition(template: Template, placeholder: str = "TOKEN") -> dict[str, Any]:
    (machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
    return _parse(_text(machine["Properties"]["DefinitionString"]), placeholder)


def _parse(text: str, placeholder: str = "TOKEN") -> dict[str, Any]:
    """Parse a definition whose tokens were spliced in as JSON objects (``"...{"Ref": "X"}..."``)."""
    out, i = [], 0
    # Replace each embedded token object by a placeholder; good enough for structure checks.
    while i < len(text):
        if text.startswith('{"Ref"', i) or text.startswith('{"Fn::', i):
            depth, j = 0, i
            while True:
                depth += text[j] == "{"
                depth -= text[j] == "}"
                j += 1
                if depth == 0:
                    break
            out.append(placeholder)
            i = j
            continue
        out.append(text[i])
        i += 1
    return json.loads("".join(out))


@pytest.fixture(scope="module")
def synth() -> tuple[Template, ModelMonitoring, dict[str, Any]]:
    app = new_app()
    stack = cdk.Stack(app, "Test", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    built = build(stack)
    template = Template.from_stack(stack)
    return template, built, _definition(template)


def test_window_capture_check_baseline_lookup_then_job(
    synth: tuple[Template, ModelMonitoring, dict[str, Any]],
) -> None:
    _, _, definition = synth
    states = definition["States"]
    assert definition["QueryLanguage"] == "JSONata"
    order, state = [], definition["StartAt"]
    while state in states and "Next" in states[state]:
        order.append(state)
        state = states[state]["Next"]
    assert order[:5] == ["Window", "WindowStart", "WindowNames", "WindowUris", "ListCapture"]
    # no capture in the window: no job (an idle or not yet deployed endpoint costs nothing)
    choice = states["HasCapture?"]
    assert choice["Default"] == "NoCapture" and states["NoCapture"]["Type"] == "Succeed"
    # the baseline comes from the deployed model package
    for name in ("DescribeEndpoint", "DescribeEndpointConfig", "DescribeModel"):
        assert states[name]["Resource"].endswith(name[0].lower() + name[1:])
    assert "DriftCheckBaselines.ModelDataQuality.Statistics.S3Uri" in json.dumps(
        states["DescribeModelPackage"]
    )
    assert states["HasBaseline?"]["Default"] == "NoBaseline"
    assert states["Monitor"]["Resource"] == "arn:aws:states:::sagemaker:createProcessingJob.sync"
    assert states["Monitor"]["Next"] == "Done"
    assert states["Monitor"]["Catch"][0]["Next"] == "RunFailed"
    assert states["RunFailed"]["Resource"] == "arn:aws:states:::sns:publish"


def test_processing_job_is_isolated_encrypted_and_runs_the_job_module(
    synth: tuple[Template, ModelMonitoring, dict[str, Any]],
) -> None:
    _, built, definition = synth
    request = definition["States"]["Monitor"]["Arguments"]
    assert request["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert request["NetworkConfig"]["EnableInterContainerTrafficEncryption"] is True
    assert len(request["NetworkConfig"]["VpcConfig"]["Subnets"]) == 2
    cluster = request["ProcessingResources"]["ClusterConfig"]
    assert cluster["InstanceCount"] == 1 and cluster["VolumeKmsKeyId"] == "TOKEN"
    assert request["ProcessingOutputConfig"]["KmsKeyId"] == "TOKEN"
    app = request["AppSpecification"]
    assert app["ContainerEntrypoint"][-2:] == [jc.CODE_LOCAL_PATH, jc.MODULE]
    args = app["ContainerArguments"]
    assert args[args.index(jc.FLAG_ENDPOINT_NAME) + 1] == ENDPOINT
    assert args[args.index(jc.FLAG_SCHEDULE_NAME) + 1] == built.schedule_name
    assert args[args.index(jc.FLAG_MONITORS) + 1] == ",".join(jc.MONITORS)
    assert args[args.index(jc.FLAG_WINDOW_START) + 1] == "{% $windowStart %}"
    (output,) = request["ProcessingOutputConfig"]["Outputs"]
    assert output["OutputName"] == jc.OUTPUT_NAME
    assert output["S3Output"]["LocalPath"] == jc.OUTPUT_LOCAL_PATH
    # inputs: code, capture, baseline, and ground truth only when the window has labels
    inputs = request["ProcessingInputs"]
    assert inputs.startswith("{% $append([") and "$groundTruthCount > 0 ?" in inputs
    for name in (jc.INPUT_CODE, jc.INPUT_CAPTURE, jc.INPUT_BASELINE, jc.INPUT_GROUND_TRUTH):
        assert f'"InputName": "{name}"' in inputs
        assert f'"LocalPath": "{jc.INPUT_LOCAL_PATHS[name]}"' in inputs
    assert '"S3Uri": ($captureUri)' in inputs and "{%" not in inputs[3:]
    job_name = definition["States"]["Monitor"]["Arguments"]["ProcessingJobName"]
    assert job_name == "{% '" + built.name_prefix + "-' & $jobSuffix %}"
    assert len(built.name_prefix) + 1 + len("2026010112-abcdef12") <= MAX_JOB_NAME


def test_jsonata_literal_unwraps_nested_expressions() -> None:
    assert jsonata_literal({"a": "{% $x %}", "b": [1, "s"]}) == '{"a": ($x), "b": [1, "s"]}'


def test_one_metric_filter_per_metric_scoped_to_the_endpoint(
    synth: tuple[Template, ModelMonitoring, dict[str, Any]],
) -> None:
    template, built, _ = synth
    filters = template.find_resources("AWS::Logs::MetricFilter")
    schema = Schema.builtin("churn")
    expected = ml.metric_filters(ml.metric_definitions(schema.feature_names))
    assert len(filters) == len(expected) == len(built.metric_filters)
    by_name = {}
    for f in filters.values():
        props = f["Properties"]
        assert props["LogGroupName"] == ml.PROCESSING_LOG_GROUP
        assert f'($.endpoint = "{ENDPOINT}")' in props["FilterPattern"]
        (transform,) = props["MetricTransformations"]
        assert transform["MetricValue"] == "$.value"
        assert 2 <= len(transform["Dimensions"]) <= ml.MAX_DIMENSIONS
        by_name[(transform["MetricNamespace"], transform["MetricName"])] = transform
    drift = by_name[(ml.DATA_NAMESPACE, "feature_baseline_drift_tenure_months")]
    assert {d["Key"] for d in drift["Dimensions"]} == {"Endpoint", "MonitoringSchedule"}
    bias = by_name[(ml.BIAS_NAMESPACE, "bias_metric_DPPL")]
    assert {d["Key"]: d["Value"] for d in bias["Dimensions"]}["Facet"] == "$.facet"


def test_drift_alarm_counts_violations_over_consecutive_windows(
    synth: tuple[Template, ModelMonitoring, dict[str, Any]],
) -> None:
    template, built, _ = synth
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    drift = next(
        a["Properties"]
        for a in alarms.values()
        if a["Properties"].get("MetricName") == ml.VIOLATIONS_METRIC
    )
    assert drift["Namespace"] == ml.OWN_NAMESPACE
    dims = {d["Name"]: d["Value"] for d in drift["Dimensions"]}
    assert dims == {
        "Endpoint": ENDPOINT,
        "MonitoringSchedule": built.schedule_name,
        "Monitor": "data-quality",
    }
    assert drift["EvaluationPeriods"] == 2 and drift["Period"] == 3600
    assert drift["Threshold"] == 1 and drift["TreatMissingData"] == "notBreaching"
    assert "What to do" in drift["AlarmDescription"]
    assert len(drift["AlarmActions"]) == 1
    failed = next(
        a["Properties"]
        for a in alarms.values()
        if a["Properties"].get("MetricName") == "ExecutionsFailed"
    )
    assert "What to do" in failed["AlarmDescription"]
    # the construct's metric helpers name what the filters publish
    assert built.metric_feature_drift("region").metric_name == "feature_baseline_drift_region"
    assert built.metric_model_quality("auc").namespace == ml.MODEL_NAMESPACE
    with pytest.raises(ValueError, match=r"feature='nope' is not allowed"):
        built.metric_feature_drift("nope")


def test_roles_trust_only_this_account_and_jobs_need_isolation(
    synth: tuple[Template, ModelMonitoring, dict[str, Any]],
) -> None:
    template, _, _ = synth
    services = set()
    for role in template.find_resources("AWS::IAM::Role").values():
        for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            if statement["Principal"]["Service"] == "lambda.amazonaws.com":
                continue  # the test VPC's default-security-group custom resource
            services.add(statement["Principal"]["Service"])
            assert statement["Condition"]["StringEquals"]["aws:SourceAccount"]
    assert {
        "sagemaker.amazonaws.com",
        "states.amazonaws.com",
        "scheduler.amazonaws.com",
    } <= services
    statements = [
        s
        for p in template.find_resources("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    create = next(s for s in statements if s.get("Action") == "sagemaker:CreateProcessingJob")
    assert create["Condition"]["Bool"]["sagemaker:NetworkIsolation"] == "true"
    assert create["Condition"]["Null"]["sagemaker:VolumeKmsKey"] == "false"
    passrole = next(s for s in statements if s.get("Action") == "iam:PassRole")
    assert passrole["Condition"]["StringEquals"]["iam:PassedToService"] == "sagemaker.amazonaws.com"
    listing = next(s for s in statements if s.get("Sid") == "ListWindow")
    assert listing["Condition"]["StringLike"]["s3:prefix"] == [
        f"data-capture/{ENDPOINT}/AllTraffic/*",
        f"ground-truth/{ENDPOINT}/*",
    ]
    text = json.dumps(statements)
    assert "sagemaker:*" not in text and '"s3:*"' not in text
    # what Step Functions' policy for SageMaker .sync jobs lists
    assert any(s.get("Action") == "sagemaker:ListTags" for s in statements)
    sync = next(s for s in statements if s.get("Sid") == "SyncRule")
    assert "StepFunctionsGetEventsForSageMakerProcessingJobsRule" in json.dumps(sync["Resource"])
    # the scheduler's role: only schedules of this account's default group
    roles = template.find_resources("AWS::IAM::Role").values()
    (trust,) = [
        st
        for r in roles
        for st in r["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        if st["Principal"]["Service"] == "scheduler.amazonaws.com"
    ]
    assert trust["Condition"]["StringEquals"]["aws:SourceArn"] == (
        "arn:aws:scheduler:eu-west-1:111111111111:schedule-group/default"
    )


def test_schedule_passes_its_scheduled_time(
    synth: tuple[Template, ModelMonitoring, dict[str, Any]],
) -> None:
    template, _, _ = synth
    (schedule,) = template.find_resources("AWS::Scheduler::Schedule").values()
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "cron(15 * * * ? *)"
    assert props["ScheduleExpressionTimezone"] == "UTC"
    assert json.loads(props["Target"]["Input"]) == {
        "scheduledTime": "<aws.scheduler.scheduled-time>"
    }


def test_scale_out_runs_partial_then_merge() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Scale")
    built = build(stack, instance_count=3, frequency=MonitoringFrequency.DAILY,
                  baseline_key_prefix="baselines/churn-v3", monitors=("data-quality",))  # fmt: skip
    template = Template.from_stack(stack)
    states = _definition(template)["States"]
    assert "DescribeEndpoint" not in states and states["Baseline"]["Next"] == "MonitorShards"
    assert states["MonitorShards"]["Next"] == "MergeShards"
    partial = states["MonitorShards"]["Arguments"]
    merge = states["MergeShards"]["Arguments"]
    assert partial["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 3
    assert merge["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 1
    assert '"S3DataDistributionType": "ShardedByS3Key"' in partial["ProcessingInputs"]
    merge_inputs = json.dumps(merge["ProcessingInputs"])
    assert jc.PARTIALS_LOCAL_PATH in merge_inputs and jc.CAPTURE_LOCAL_PATH not in merge_inputs
    assert merge["AppSpecification"]["ContainerArguments"][7] == jc.MODE_MERGE
    (schedule,) = template.find_resources("AWS::Scheduler::Schedule").values()
    assert schedule["Properties"]["ScheduleExpression"] == "cron(15 0 * * ? *)"
    assert built.frequency.folder_picture == "[Y0001]/[M01]/[D01]"
    policies = json.dumps(template.find_resources("AWS::IAM::Policy"))
    assert "sagemaker:DescribeModelPackage" not in policies
    assert "baselines/churn-v3/*" in policies


def test_managed_backend_uses_model_monitor() -> None:
    app = new_app()
    stack = cdk.Stack(
        app, "Managed", env=cdk.Environment(account="111111111111", region="us-east-1")
    )
    built = build(stack, backend=MonitoringBackend.MANAGED, baseline_key_prefix="baselines/v1")
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::StepFunctions::StateMachine", 0)
    template.resource_count_is("AWS::Logs::MetricFilter", 0)
    (definition,) = template.find_resources("AWS::SageMaker::DataQualityJobDefinition").values()
    props = definition["Properties"]
    assert props["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert props["DataQualityJobInput"]["EndpointInput"]["EndpointName"] == ENDPOINT
    assert "sagemaker-model-monitor-analyzer" in json.dumps(props["DataQualityAppSpecification"])
    # a generated name (every property is create-only: a fixed name would block replacement)
    assert "JobDefinitionName" not in props
    assert props["StoppingCondition"]["MaxRuntimeInSeconds"] == 3600
    schedules = {
        s["Properties"]["MonitoringScheduleConfig"]["MonitoringType"]: s["Properties"]
        for s in template.find_resources("AWS::SageMaker::MonitoringSchedule").values()
    }
    assert set(schedules) == {"DataQuality", "ModelQuality"}
    config = schedules["DataQuality"]["MonitoringScheduleConfig"]
    assert "Fn::Select" in config["MonitoringJobDefinitionName"]
    # model quality: the capture merged with the uploaded ground truth, CSV "probability,label"
    (quality,) = template.find_resources("AWS::SageMaker::ModelQualityJobDefinition").values()
    q = quality["Properties"]
    assert q["ModelQualityAppSpecification"]["ProblemType"] == "BinaryClassification"
    endpoint_input = q["ModelQualityJobInput"]["EndpointInput"]
    assert (endpoint_input["ProbabilityAttribute"], endpoint_input["InferenceAttribute"]) == (
        "0",
        "1",
    )
    assert (endpoint_input["StartTimeOffset"], endpoint_input["EndTimeOffset"]) == (
        "-PT1H",
        "-PT0H",
    )
    assert f"/ground-truth/{ENDPOINT}" in json.dumps(
        q["ModelQualityJobInput"]["GroundTruthS3Input"]
    )
    assert q["NetworkConfig"]["EnableNetworkIsolation"] is True
    assert schedules["ModelQuality"]["MonitoringScheduleName"] == built.quality_schedule_name
    # metrics of model quality carry Model Monitor's model-quality schedule
    auc = built.metric_model_quality("auc")
    assert stack.resolve(auc.dimensions)["MonitoringSchedule"] == built.quality_schedule_name
    config = schedules["DataQuality"]["MonitoringScheduleConfig"]
    assert config["ScheduleConfig"]["ScheduleExpression"] == "cron(0 * ? * * *)"
    # the drift alarm: any feature's Model Monitor metric over the threshold
    template.resource_count_is("AWS::CloudWatch::Alarm", len(built.schema.feature_names))
    (composite,) = template.find_resources("AWS::CloudWatch::CompositeAlarm").values()
    rule = json.dumps(composite["Properties"]["AlarmRule"])
    assert rule.count("ALARM(") == len(built.schema.feature_names)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"endpoint_name": "bad_name"}, r"endpoint_name='bad_name' is not allowed\. Use 1 to 63"),
        ({"monitors": ("drift",)}, r"monitors=\['drift'\] is not allowed\. Use a non-empty subset"),
        ({"monitors": ()}, r"monitors=\[\] is not allowed"),
        ({"instance_type": "ml.m5d.large"}, r"instance_type='ml.m5d.large' is not allowed\..*NVMe"),
        ({"instance_count": 0}, r"instance_count=0 is not allowed\. Use an integer from 1 to 100"),
        ({"drift_threshold": 1.5}, r"drift_threshold=1.5 is not allowed"),
        ({"drift_evaluation_periods": 0}, r"drift_evaluation_periods=0 is not allowed"),
        ({"frequency": MonitoringFrequency.DAILY, "drift_evaluation_periods": 8},
         r"drift_evaluation_periods=8 is not allowed\. .*7 days"),
        ({"name_prefix": "x" * 42}, r"name_prefix='x+' is not allowed\. Use 1 to 41"),
        ({"schema": "nope"}, r"schema='nope' is not allowed\. .*nope.json does not exist"),
        ({"baseline_key_prefix": "s3://b/k"}, r"baseline_key_prefix='s3://b/k' is not allowed"),
        ({"backend": MonitoringBackend.MANAGED},
         r"baseline_key_prefix=None is not allowed\. The MANAGED backend takes a fixed baseline"),
        ({"max_runtime": cdk.Duration.days(6)}, r"max_runtime='6 days' is not allowed"),
    ],
)  # fmt: skip
def test_prop_validation(overrides: dict[str, Any], message: str) -> None:
    app = new_app()
    with pytest.raises(ValueError, match=message):
        build(cdk.Stack(app, "Bad"), **overrides)


def test_too_many_metric_filters_in_one_stack_fail_at_synth() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Crowded")
    for i in range(3):  # 3 x 43 filters on the one shared log group > 100
        build(stack, f"Monitor{i}", endpoint_name=f"endpoint-{i}")
    with pytest.raises(Exception, match=r"need 129 metric filters .* more than the 100"):
        app.synth()


@pytest.mark.slow
@pytest.mark.parametrize(
    "env",
    [
        None,
        cdk.Environment(account="111111111111", region="eu-west-1"),
        cdk.Environment(account="222222222222", region="us-east-1"),
    ],
    ids=["agnostic", "eu-west-1", "us-east-1"],
)
@pytest.mark.parametrize("backend", list(MonitoringBackend), ids=lambda b: b.value)
def test_compliance_packs_and_cfn_lint(
    tmp_path: Path, env: cdk.Environment | None, backend: MonitoringBackend
) -> None:
    app = new_app(outdir=str(tmp_path))
    add_compliance_checks(app)
    stack = cdk.Stack(app, "Monitoring", env=env)
    # the library's own foundation (buckets with access logs, VPC with flow logs, keys)
    foundation = InitialLevel(stack, "Level1", InitialSettings(max_azs=1)).foundation
    ModelMonitoring(
        stack,
        "Monitor",
        endpoint_name=ENDPOINT,
        capture_bucket=foundation.monitoring_bucket,
        baseline_bucket=foundation.artifacts_bucket,
        job_network=foundation.job_network,
        encryption_key=foundation.data_key,
        logs_key=foundation.logs_key,
        alarm_topic=encrypted_topic(stack, "Topic", key=None, display_name="alerts"),
        backend=backend,
        baseline_key_prefix="baselines/v1",
        create_processing_log_group=True,
    )
    app.synth()
    (template,) = stack_templates(tmp_path).values()
    region = env.region if env is not None and env.region else "eu-west-1"
    assert cfn_lint(template, (region,)) == []
