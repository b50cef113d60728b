"""What an endpoint serves right now: DescribeEndpoint -> EndpointConfig -> Model -> package.

SageMaker keeps the *current* config in ``DescribeEndpoint.EndpointConfigName``: during a
blue/green update it stays the old one until the new fleet takes all traffic, and after an
automatic rollback it is the old one again while the status is back to ``InService``. Reading
the model package ARNs behind that config is therefore the only reliable answer to "which
version runs in production".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import DeploymentError, one_line

#: ``arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>``
PACKAGE_ARN_RE = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:model-package/([^/]+)/([0-9]+)$",
    re.IGNORECASE,
)

#: ``local://<group>/<version>``, the local registry's ARNs (:mod:`pipeline_code.registry.local`)
LOCAL_PACKAGE_ARN_RE = re.compile(r"^local://([^/]+)/([0-9]+)$")

IN_SERVICE = "InService"
#: Statuses that end on their own; verify waits for them.
TRANSITIONAL_STATUSES = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack"})
#: Statuses that need a person: the deployment failed.
FAILED_STATUSES = frozenset({"Failed", "UpdateRollbackFailed", "OutOfService", "Deleting"})


@dataclass(frozen=True)
class PackageRef:
    """A model package version: ARN, group, version and (when described) its statuses."""

    arn: str
    group: str
    version: int | None
    approval_status: str = ""
    package_status: str = ""

    @classmethod
    def from_arn(cls, arn: str) -> PackageRef:
        """Group and version read from a versioned package ARN, SageMaker's or the local
        registry's (``version`` None otherwise)."""
        m = PACKAGE_ARN_RE.match(arn) or LOCAL_PACKAGE_ARN_RE.match(arn)
        if m:
            return cls(arn, m.group(1), int(m.group(2)))
        return cls(arn, "", None)

    @property
    def label(self) -> str:
        """``group version N`` (or the ARN when it is not a versioned package)."""
        if self.version is None:
            return self.arn
        return f"{self.group} version {self.version}"


def same_package(a: str, b: str) -> bool:
    """Whether two package ARNs name the same version (SageMaker lower-cases names in ARNs)."""
    return a.strip().lower() == b.strip().lower()


@dataclass(frozen=True)
class VariantModel:
    """One variant of the current config, its model and the packages the model serves."""

    variant: str
    model_name: str
    package_arns: tuple[str, ...]
    shadow: bool = False


@dataclass(frozen=True)
class EndpointView:
    """The parts of DescribeEndpoint (and the config/models behind it) a deployment checks."""

    name: str
    status: str
    config_name: str
    failure_reason: str = ""
    variants: tuple[VariantModel, ...] = ()
    last_deployment_config: dict[str, Any] = field(default_factory=dict)
    pending_config_name: str = ""

    @property
    def production_package_arns(self) -> tuple[str, ...]:
        """Packages behind the production variants (shadow variants excluded), in order."""
        seen: list[str] = []
        for v in self.variants:
            if not v.shadow:
                seen.extend(a for a in v.package_arns if a not in seen)
        return tuple(seen)

    @property
    def rollback_alarm_names(self) -> tuple[str, ...]:
        alarms = (self.last_deployment_config.get("AutoRollbackConfiguration") or {}).get(
            "Alarms"
        ) or []
        return tuple(str(a.get("AlarmName")) for a in alarms if a.get("AlarmName"))

    def serves(self, package_arn: str) -> bool:
        return any(same_package(a, package_arn) for a in self.production_package_arns)


def _error_code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def describe_endpoint_view(sm: Any, endpoint_name: str) -> EndpointView | None:
    """The endpoint as it is now, or None when it does not exist (a first deployment)."""
    from botocore.exceptions import ClientError

    try:
        ep = sm.describe_endpoint(EndpointName=endpoint_name)
    except ClientError as exc:
        message = str(exc.response.get("Error", {}).get("Message", ""))
        if _error_code(exc) == "ValidationException" and "could not find" in message.lower():
            return None
        raise DeploymentError(
            f"cannot describe endpoint {endpoint_name!r}: {_error_code(exc)} {one_line(message)}; "
            "check the name and that the role may sagemaker:DescribeEndpoint it"
        ) from None
    config_name = str(ep.get("EndpointConfigName", ""))
    variants: list[VariantModel] = []
    if config_name:
        try:
            config = sm.describe_endpoint_config(EndpointConfigName=config_name)
        except ClientError as exc:
            raise DeploymentError(
                f"cannot describe endpoint config {config_name!r} of endpoint {endpoint_name!r}: "
                f"{_error_code(exc)}; the role needs sagemaker:DescribeEndpointConfig"
            ) from None
        for shadow, key in ((False, "ProductionVariants"), (True, "ShadowProductionVariants")):
            for pv in config.get(key) or []:
                model_name = str(pv.get("ModelName", ""))
                variants.append(
                    VariantModel(
                        str(pv.get("VariantName", "")),
                        model_name,
                        _model_packages(sm, model_name) if model_name else (),
                        shadow,
                    )
                )
    pending = ep.get("PendingDeploymentSummary") or {}
    return EndpointView(
        name=endpoint_name,
        status=str(ep.get("EndpointStatus", "")),
        config_name=config_name,
        failure_reason=one_line(ep.get("FailureReason") or ""),
        variants=tuple(variants),
        last_deployment_config=dict(ep.get("LastDeploymentConfig") or {}),
        pending_config_name=str(pending.get("EndpointConfigName", "")),
    )


def _model_packages(sm: Any, model_name: str) -> tuple[str, ...]:
    from botocore.exceptions import ClientError

    try:
        model = sm.describe_model(ModelName=model_name)
    except ClientError as exc:
        raise DeploymentError(
            f"cannot describe model {model_name!r}: {_error_code(exc)}; the role needs "
            "sagemaker:DescribeModel"
        ) from None
    containers = [model.get("PrimaryContainer") or {}, *(model.get("Containers") or [])]
    out: list[str] = []
    for c in containers:
        name = c.get("ModelPackageName")
        if name and name not in out:
            out.append(str(name))
    return tuple(out)
