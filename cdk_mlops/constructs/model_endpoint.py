"""``ModelEndpoint``: a SageMaker real-time endpoint with CloudFormation-native deployment guardrails.

One model (a model package version or a model data URL + image) behind an
``AWS::SageMaker::EndpointConfig`` (KMS volume key, data capture, production / shadow variants,
serverless option) and an ``AWS::SageMaker::Endpoint`` whose ``DeploymentConfig`` does blue/green
(ALL_AT_ONCE, CANARY, LINEAR) or rolling updates with auto-rollback on alarms created per variant.
No physical names are set on the model or the endpoint config, so a new model package ARN replaces
both and the endpoint update that follows is the blue/green deployment.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_mlops.compliance import (
    acknowledge,
    acknowledge_inline_policy,
    bucket_objects_finding,
    grant_policies,
    resource_finding,
)
from cdk_mlops.constructs._util import check_prop, is_token, prop_error, stack_scoped_name
from cdk_mlops.constructs.interfaces import IModelRegistry, JobNetwork
from cdk_mlops.constructs.model_sharing import add_endpoint_runtime_permissions

#: Data capture goes to ``s3://<bucket>/data-capture/<endpoint>/<variant>/yyyy/mm/dd/hh/``.
DATA_CAPTURE_PREFIX = "data-capture"
_VARIANT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_MAX_VARIANTS = 10
#: AutoRollbackConfiguration.Alarms takes at most 10 (SageMaker API reference).
_MAX_ROLLBACK_ALARMS = 10
#: Alarms the construct creates per production variant (5XX errors, p99 latency, model errors).
_ALARMS_PER_VARIANT = 3


@dataclass(frozen=True)
class EndpointModel:
    """What the endpoint serves: a model package version, or model data + an inference image."""

    model_package_arn: str | None = None
    model_data_url: str | None = None
    image_uri: str | None = None

    @classmethod
    def from_model_package(cls, arn: str) -> EndpointModel:
        return cls(model_package_arn=arn)

    @classmethod
    def from_model_data(cls, url: str, image: str) -> EndpointModel:
        return cls(model_data_url=url, image_uri=image)

    def container(self) -> sagemaker.CfnModel.ContainerDefinitionProperty:
        if self.model_package_arn is not None:
            return sagemaker.CfnModel.ContainerDefinitionProperty(
                model_package_name=self.model_package_arn
            )
        return sagemaker.CfnModel.ContainerDefinitionProperty(
            image=self.image_uri, model_data_url=self.model_data_url
        )


@dataclass(frozen=True)
class EndpointNetwork:
    """Subnet and security group ids of the model's VPC config (plain ids or CFN parameters)."""

    subnet_ids: Sequence[str]
    security_group_ids: Sequence[str]

    @classmethod
    def from_job_network(cls, network: JobNetwork) -> EndpointNetwork:
        return cls(subnet_ids=network.subnet_ids, security_group_ids=network.security_group_ids)


@dataclass(frozen=True, kw_only=True)
class ServerlessConfig:
    """Serverless inference: memory 1024..6144 MB in steps of 1024, max concurrency 1..200."""

    memory_size_in_mb: int = 2048
    max_concurrency: int = 5


@dataclass(frozen=True, kw_only=True)
class ProductionVariant:
    """A production variant; ``serverless`` replaces instance type/count and autoscaling."""

    name: str = "AllTraffic"
    instance_type: str = "ml.m5.large"
    initial_instance_count: int = 1
    initial_weight: float = 1.0
    serverless: ServerlessConfig | None = None
    min_capacity: int | None = None
    max_capacity: int | None = None
    target_invocations_per_instance: float = 1000.0
    scale_in_cooldown: cdk.Duration = field(default_factory=lambda: cdk.Duration.minutes(5))
    scale_out_cooldown: cdk.Duration = field(default_factory=lambda: cdk.Duration.minutes(1))


@dataclass(frozen=True, kw_only=True)
class ShadowVariant(ProductionVariant):
    """A shadow variant: gets a copy of the traffic, its responses are not returned."""

    name: str = "Shadow"


@dataclass(frozen=True, kw_only=True)
class TrafficRouting:
    """Blue/green traffic routing: use ``all_at_once()``, ``canary(...)`` or ``linear(...)``."""

    type: str
    wait_interval: cdk.Duration
    canary_instances: int | None = None
    canary_percent: int | None = None
    linear_instances: int | None = None
    linear_percent: int | None = None

    @classmethod
    def all_at_once(cls, *, wait: cdk.Duration | None = None) -> TrafficRouting:
        return cls(type="ALL_AT_ONCE", wait_interval=wait or cdk.Duration.minutes(10))

    @classmethod
    def canary(
        cls, *, instances: int | None = None, percent: int | None = None,
        wait: cdk.Duration | None = None,
    ) -> TrafficRouting:  # fmt: skip
        if (instances is None) == (percent is None):
            raise ValueError("TrafficRouting.canary: give exactly one of instances= or percent=.")
        return cls(
            type="CANARY", wait_interval=wait or cdk.Duration.minutes(10),
            canary_instances=instances, canary_percent=percent,
        )  # fmt: skip

    @classmethod
    def linear(
        cls, *, instances: int | None = None, percent: int | None = None,
        wait: cdk.Duration | None = None,
    ) -> TrafficRouting:  # fmt: skip
        if (instances is None) == (percent is None):
            raise ValueError("TrafficRouting.linear: give exactly one of instances= or percent=.")
        return cls(
            type="LINEAR", wait_interval=wait or cdk.Duration.minutes(5),
            linear_instances=instances, linear_percent=percent,
        )  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class RollingUpdate:
    """Rolling update: batches of ``batch_instances`` instances, ``wait`` between batches."""

    batch_instances: int = 1
    wait: cdk.Duration = field(default_factory=lambda: cdk.Duration.minutes(5))
    maximum_execution_timeout: cdk.Duration | None = None


@dataclass(frozen=True, kw_only=True)
class DataCaptureConfig:
    """Data capture of requests and responses to ``s3://<bucket>/data-capture``."""

    bucket: s3.IBucket | None = None
    bucket_name: str | None = None
    sampling_percentage: int = 100
    json_content_types: Sequence[str] = ("application/json",)
    csv_content_types: Sequence[str] = ("text/csv",)


def _instance_has_nvme(instance_type: str) -> bool:
    family = instance_type.split(".")[1] if instance_type.count(".") >= 2 else ""
    return family.endswith("d") or family.startswith(("p4", "p5", "g5", "g6", "inf2", "trn1"))


def endpoint_execution_role(
    scope: Construct,
    id: str,
    *,
    artifacts_bucket: s3.IBucket,
    encryption_key: kms.IKey,
    registry: IModelRegistry | None = None,
) -> iam.Role:
    """The least-privilege execution role of endpoint models: read artifacts, decrypt, pull, log."""
    stack = cdk.Stack.of(scope)
    role = iam.Role(
        scope, id,
        assumed_by=iam.ServicePrincipal(
            "sagemaker.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
        ),
        description="Execution role of SageMaker endpoint models (cdk-mlops)",
    )  # fmt: skip
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["s3:GetObject"], resources=[artifacts_bucket.arn_for_objects("*")]
        )
    )
    encryption_key.grant_decrypt(role)
    if registry is not None:
        registry.grant_read(role)
    ecr_arn, logs_arn = add_endpoint_runtime_permissions(role)
    for policy in grant_policies(role):
        acknowledge_inline_policy(policy, "endpoint model execution")
        acknowledge(
            policy,
            [
                bucket_objects_finding(artifacts_bucket),
                "AwsSolutions-IAM5[Resource::*]",
                resource_finding(policy, ecr_arn),
                resource_finding(policy, logs_arn),
                *([resource_finding(policy, registry.model_packages_arn)] if registry else []),
            ],
            "Model artifacts are objects under any key of the artifacts bucket (read only); "
            "ecr:GetAuthorizationToken and cloudwatch:PutMetricData (namespace-conditioned) take no "
            "resource; the image of a model package is in a repository not known at synth; "
            "endpoint log groups are named after endpoints created later; the registry grant reads "
            "this model package group's versions only.",
        )
    return role


class ModelEndpoint(Construct):
    """A SageMaker real-time (or serverless) endpoint with blue/green deployment and auto-rollback.

    :param model: what to serve (``EndpointModel.from_model_package(arn)``).
    :param network: VPC config (``EndpointNetwork`` or ``JobNetwork``).
    :param encryption_key: volume and capture encryption key.
    :param role: execution role; default ``endpoint_execution_role`` over ``artifacts_bucket``.
    :param variants: production variants (1..10 together with shadows). Default one ml.m5.large.
    :param shadow_variant: optional shadow variant.
    :param traffic_routing: blue/green routing; default ALL_AT_ONCE. Exclusive with ``rolling_update``.
    :param data_capture: capture config; default none.
    :param latency_threshold_ms: p99 ModelLatency alarm threshold, milliseconds. Default 1000.
    :param alarm_topic: SNS topic the alarms notify. Default none.
    :param extra_rollback_alarms: more alarms that roll back a deployment.
    :param endpoint_name: physical endpoint name. Default generated by CloudFormation.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model: EndpointModel,
        network: EndpointNetwork | JobNetwork,
        encryption_key: kms.IKey,
        role: iam.IRole | None = None,
        artifacts_bucket: s3.IBucket | None = None,
        variants: Sequence[ProductionVariant] | None = None,
        shadow_variant: ShadowVariant | None = None,
        traffic_routing: TrafficRouting | None = None,
        rolling_update: RollingUpdate | None = None,
        termination_wait: cdk.Duration | None = None,
        maximum_execution_timeout: cdk.Duration | None = None,
        data_capture: DataCaptureConfig | None = None,
        latency_threshold_ms: float = 1000.0,
        alarm_topic: sns.ITopic | None = None,
        extra_rollback_alarms: Sequence[cloudwatch.IAlarm] = (),
        endpoint_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        variants = list(variants) if variants is not None else [ProductionVariant()]
        self._validate(variants, shadow_variant, traffic_routing, rolling_update,
                       maximum_execution_timeout, data_capture, latency_threshold_ms)  # fmt: skip
        net = (
            EndpointNetwork.from_job_network(network)
            if isinstance(network, JobNetwork)
            else network
        )
        if role is None:
            if artifacts_bucket is None:
                raise prop_error(
                    self,
                    "role",
                    None,
                    "Pass role=, or artifacts_bucket= so a least-privilege role is created.",
                )
            role = endpoint_execution_role(
                self,
                "ExecutionRole",
                artifacts_bucket=artifacts_bucket,
                encryption_key=encryption_key,
            )
        self.role = role

        cfn_model = sagemaker.CfnModel(
            self, "Model",
            execution_role_arn=role.role_arn,
            containers=[model.container()],
            enable_network_isolation=True,
            vpc_config=sagemaker.CfnModel.VpcConfigProperty(
                subnets=list(net.subnet_ids), security_group_ids=list(net.security_group_ids)
            ),
        )  # fmt: skip
        # SageMaker checks the role's permissions when it creates the model: wait for its policy.
        for policy in grant_policies(role):
            cfn_model.node.add_dependency(policy)
        self.model_name = cfn_model.attr_model_name

        serverless = any(v.serverless for v in variants) or bool(
            shadow_variant and shadow_variant.serverless
        )
        # SageMaker rejects KmsKeyId with serverless variants and with local-NVMe instance types.
        no_volume_key = serverless or any(_instance_has_nvme(v.instance_type) for v in variants)
        if no_volume_key and not serverless:
            cdk.Annotations.of(self).add_warning_v2(
                "cdk-mlops:EndpointVolumeKey",
                "An instance type with local NVMe storage is not given the volume KMS key "
                "(SageMaker rejects KmsKeyId for them; their instance storage is encrypted by the "
                "hardware). The data capture still uses the key.",
            )
        capture = None
        if data_capture is not None:
            bucket_name = (
                data_capture.bucket.bucket_name if data_capture.bucket else data_capture.bucket_name
            )
            capture = sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
                enable_capture=True,
                initial_sampling_percentage=data_capture.sampling_percentage,
                destination_s3_uri=f"s3://{bucket_name}/{DATA_CAPTURE_PREFIX}",
                kms_key_id=encryption_key.key_arn,
                capture_options=[
                    sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Input"),
                    sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Output"),
                ],
                capture_content_type_header=sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
                    json_content_types=list(data_capture.json_content_types),
                    csv_content_types=list(data_capture.csv_content_types),
                ),
            )  # fmt: skip
        config = sagemaker.CfnEndpointConfig(
            self, "Config",
            production_variants=[self._variant(v, cfn_model.attr_model_name) for v in variants],
            shadow_production_variants=(
                [self._variant(shadow_variant, cfn_model.attr_model_name)] if shadow_variant else None
            ),
            kms_key_id=None if no_volume_key else encryption_key.key_arn,
            data_capture_config=capture,
        )  # fmt: skip
        self.endpoint_config_name = config.attr_endpoint_config_name
        self.variant_names = [v.name for v in variants]

        self.alarms: list[cloudwatch.IAlarm] = []
        # A known name (not the endpoint's attribute): the alarms' dimensions and the endpoint's
        # rollback alarms would otherwise reference each other (a dependency cycle).
        self.endpoint_name = endpoint_name or stack_scoped_name(self, id, max_length=63)
        endpoint = sagemaker.CfnEndpoint(
            self, "Endpoint", endpoint_config_name=config.attr_endpoint_config_name,
            endpoint_name=self.endpoint_name,
        )  # fmt: skip
        self.endpoint_arn = cdk.Stack.of(self).format_arn(
            service="sagemaker", resource="endpoint", resource_name=self.endpoint_name.lower()
            if not is_token(self.endpoint_name) else self.endpoint_name,
        )  # fmt: skip
        for v in variants:
            self._variant_alarms(v.name, latency_threshold_ms, alarm_topic)
        self.alarms.extend(extra_rollback_alarms)
        check_prop(
            self, "extra_rollback_alarms", len(self.alarms), lambda n: n <= _MAX_ROLLBACK_ALARMS,
            f"SageMaker rolls back on at most {_MAX_ROLLBACK_ALARMS} alarms, and this endpoint has "
            f"{len(self.alarms) - len(extra_rollback_alarms)} of its own ({_ALARMS_PER_VARIANT} per "
            "production variant): pass fewer extra alarms or fewer variants.",
        )  # fmt: skip
        endpoint.deployment_config = self._deployment_config(
            traffic_routing, rolling_update, termination_wait, maximum_execution_timeout, serverless
        )
        for v in variants:
            if v.serverless is None and v.max_capacity is not None:
                self._autoscaling(endpoint, v)

    # -- validation ----------------------------------------------------------------------------
    def _validate(
        self, variants: list[ProductionVariant], shadow: ShadowVariant | None,
        routing: TrafficRouting | None, rolling: RollingUpdate | None,
        max_timeout: cdk.Duration | None, capture: DataCaptureConfig | None, latency: float,
    ) -> None:  # fmt: skip
        check_prop(self, "variants", len(variants), lambda n: n >= 1,
                   "Give at least one ProductionVariant; a shadow variant needs a production one.")  # fmt: skip
        everything = variants + ([shadow] if shadow else [])
        check_prop(self, "variants", len(everything), lambda n: n <= _MAX_VARIANTS,
                   "SageMaker allows at most 10 variants per endpoint config.")  # fmt: skip
        names = [v.name for v in everything]
        dupes = sorted({n for n in names if names.count(n) > 1})
        check_prop(self, "variants[].name", dupes, not dupes, "Give every variant a distinct name.")
        for v in everything:
            check_prop(self, "variant.name", v.name, lambda n: bool(_VARIANT_NAME.match(n)),
                       "Use 1-63 letters, digits and hyphens, starting with a letter or digit.")  # fmt: skip
            if v.serverless is None:
                check_prop(self, "variant.instance_type", v.instance_type,
                           lambda t: t.startswith("ml."), "Use a SageMaker instance type such as 'ml.m5.large'.")  # fmt: skip
            else:
                check_prop(self, "serverless.memory_size_in_mb", v.serverless.memory_size_in_mb,
                           lambda m: m in (1024, 2048, 3072, 4096, 5120, 6144),
                           "Use 1024..6144 in steps of 1024.")  # fmt: skip
                check_prop(self, "serverless.max_concurrency", v.serverless.max_concurrency,
                           lambda c: 1 <= c <= 200, "Use 1..200.")  # fmt: skip
            if v.min_capacity is not None and v.max_capacity is not None:
                check_prop(self, "variant.min_capacity", v.min_capacity, v.min_capacity <= v.max_capacity,
                           f"min_capacity must be <= max_capacity ({v.max_capacity}).")  # fmt: skip
        check_prop(self, "variants[].initial_weight", [v.initial_weight for v in variants],
                   any(v.initial_weight > 0 for v in variants), "Give at least one variant a weight above 0.")  # fmt: skip
        if capture is not None:
            check_prop(self, "data_capture.sampling_percentage", capture.sampling_percentage,
                       lambda p: 0 <= p <= 100, "Use 0..100.")  # fmt: skip
        check_prop(
            self,
            "latency_threshold_ms",
            latency,
            lambda x: x > 0,
            "Use a positive number of milliseconds.",
        )
        if routing is not None and rolling is not None:
            raise prop_error(
                self, "rolling_update", rolling, "Give traffic_routing or rolling_update, not both."
            )
        total = sum(v.initial_instance_count for v in variants if v.serverless is None)
        if routing is not None and routing.canary_instances is not None and total:
            check_prop(self, "traffic_routing.canary(instances)", routing.canary_instances,
                       lambda c: c * 2 <= total,
                       f"A canary may be at most 50 % of the {total} instances; use fewer canary instances or more instances.")  # fmt: skip
        if routing is not None and routing.canary_percent is not None:
            check_prop(self, "traffic_routing.canary(percent)", routing.canary_percent,
                       lambda c: 1 <= c <= 50, "A canary may be at most 50 % of the capacity.")  # fmt: skip
        if routing is not None and routing.type == "LINEAR" and max_timeout is not None:
            if routing.linear_percent is not None:
                steps = -(-100 // routing.linear_percent)
            else:
                steps = -(-max(total, 1) // (routing.linear_instances or 1))
            needed = steps * routing.wait_interval.to_seconds()
            check_prop(self, "maximum_execution_timeout", max_timeout.to_seconds(),
                       lambda t: t >= needed,
                       f"{steps} linear steps of {routing.wait_interval.to_seconds()} s need at least {needed} s; raise it or use bigger steps.")  # fmt: skip

    # -- pieces --------------------------------------------------------------------------------
    @staticmethod
    def _variant(
        v: ProductionVariant, model_name: str
    ) -> sagemaker.CfnEndpointConfig.ProductionVariantProperty:
        if v.serverless is not None:
            return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=v.name, model_name=model_name, initial_variant_weight=v.initial_weight,
                serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                    max_concurrency=v.serverless.max_concurrency,
                    memory_size_in_mb=v.serverless.memory_size_in_mb,
                ),
            )  # fmt: skip
        return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=v.name, model_name=model_name, initial_variant_weight=v.initial_weight,
            instance_type=v.instance_type, initial_instance_count=v.initial_instance_count,
        )  # fmt: skip

    def _variant_alarms(self, variant: str, latency_ms: float, topic: sns.ITopic | None) -> None:
        specs = [
            ("Invocation5XXErrors", "Sum", 1.0, "5xx"),
            ("InvocationModelErrors", "Sum", 1.0, "ModelErrors"),
            ("ModelLatency", "p99", latency_ms * 1000.0, "Latency"),
        ]
        for metric_name, stat, threshold, short in specs:
            alarm = cloudwatch.Alarm(
                self, f"{variant}{short}Alarm",
                alarm_name=f"{self.endpoint_name}-{variant}-{short}",
                metric=self.metric(metric_name, variant, statistic=stat),
                threshold=threshold, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"{metric_name} of variant {variant}; rolls back a deployment",
            )  # fmt: skip
            if topic is not None:
                alarm.add_alarm_action(cw_actions.SnsAction(topic))
                alarm.add_ok_action(cw_actions.SnsAction(topic))
            self.alarms.append(alarm)

    def _deployment_config(
        self, routing: TrafficRouting | None, rolling: RollingUpdate | None,
        termination_wait: cdk.Duration | None, max_timeout: cdk.Duration | None, serverless: bool,
    ) -> sagemaker.CfnEndpoint.DeploymentConfigProperty:  # fmt: skip
        rollback = sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
            alarms=[
                sagemaker.CfnEndpoint.AlarmProperty(alarm_name=a.alarm_name) for a in self.alarms
            ]
        )
        if rolling is not None:
            return sagemaker.CfnEndpoint.DeploymentConfigProperty(
                auto_rollback_configuration=rollback,
                rolling_update_policy=sagemaker.CfnEndpoint.RollingUpdatePolicyProperty(
                    maximum_batch_size=sagemaker.CfnEndpoint.CapacitySizeProperty(type="INSTANCE_COUNT", value=rolling.batch_instances),
                    wait_interval_in_seconds=int(rolling.wait.to_seconds()),
                    maximum_execution_timeout_in_seconds=int(rolling.maximum_execution_timeout.to_seconds()) if rolling.maximum_execution_timeout else None,
                ),
            )  # fmt: skip
        routing = routing or TrafficRouting.all_at_once()
        canary = linear = None
        if routing.type == "CANARY":
            canary = sagemaker.CfnEndpoint.CapacitySizeProperty(
                type="INSTANCE_COUNT" if routing.canary_instances is not None else "CAPACITY_PERCENT",
                value=routing.canary_instances if routing.canary_instances is not None else routing.canary_percent or 0,
            )  # fmt: skip
        if routing.type == "LINEAR":
            linear = sagemaker.CfnEndpoint.CapacitySizeProperty(
                type="INSTANCE_COUNT" if routing.linear_instances is not None else "CAPACITY_PERCENT",
                value=routing.linear_instances if routing.linear_instances is not None else routing.linear_percent or 0,
            )  # fmt: skip
        return sagemaker.CfnEndpoint.DeploymentConfigProperty(
            auto_rollback_configuration=rollback,
            blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
                traffic_routing_configuration=sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
                    type=routing.type, wait_interval_in_seconds=int(routing.wait_interval.to_seconds()),
                    canary_size=canary, linear_step_size=linear,
                ),
                termination_wait_in_seconds=int(termination_wait.to_seconds()) if termination_wait else 300,
                maximum_execution_timeout_in_seconds=int(max_timeout.to_seconds()) if max_timeout else None,
            ),
        )  # fmt: skip

    def _autoscaling(self, endpoint: sagemaker.CfnEndpoint, v: ProductionVariant) -> None:
        target = appscaling.ScalableTarget(
            self, f"{v.name}Scaling",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            # The endpoint's attribute (not the known name) makes the target wait for the endpoint.
            resource_id=f"endpoint/{endpoint.attr_endpoint_name}/variant/{v.name}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=v.min_capacity if v.min_capacity is not None else v.initial_instance_count,
            max_capacity=v.max_capacity or v.initial_instance_count,
        )  # fmt: skip
        target.scale_to_track_metric(
            "InvocationsPerInstance",
            target_value=v.target_invocations_per_instance,
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            scale_in_cooldown=v.scale_in_cooldown, scale_out_cooldown=v.scale_out_cooldown,
        )  # fmt: skip

    # -- metrics and grants --------------------------------------------------------------------
    def metric(
        self, metric_name: str, variant: str, *, statistic: str = "Sum"
    ) -> cloudwatch.Metric:
        """A metric of AWS/SageMaker for this endpoint and ``variant``."""
        return cloudwatch.Metric(
            namespace="AWS/SageMaker", metric_name=metric_name, statistic=statistic,
            period=cdk.Duration.minutes(1),
            dimensions_map={"EndpointName": self.endpoint_name, "VariantName": variant},
        )  # fmt: skip

    def metric_invocations(self, variant: str) -> cloudwatch.Metric:
        return self.metric("Invocations", variant)

    def metric_invocation_5xx_errors(self, variant: str) -> cloudwatch.Metric:
        return self.metric("Invocation5XXErrors", variant)

    metric_5xx = metric_invocation_5xx_errors

    def metric_model_latency(self, variant: str) -> cloudwatch.Metric:
        """p99 ModelLatency, in microseconds."""
        return self.metric("ModelLatency", variant, statistic="p99")

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """sagemaker:InvokeEndpoint on this endpoint."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["sagemaker:InvokeEndpoint"], resource_arns=[self.endpoint_arn]
        )


__all__ = [
    "DATA_CAPTURE_PREFIX", "DataCaptureConfig", "EndpointModel", "EndpointNetwork", "ModelEndpoint",
    "ProductionVariant", "RollingUpdate", "ServerlessConfig", "ShadowVariant", "TrafficRouting",
    "endpoint_execution_role",
]  # fmt: skip
