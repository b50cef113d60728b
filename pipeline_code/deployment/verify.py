"""After a deploy: the endpoint really serves the expected version, or the deployment failed.

A CloudFormation deploy can end green while the endpoint runs the old model: SageMaker rolls a
blue/green update back when an auto-rollback alarm fires and returns the endpoint to
``InService`` on the *old* config. So the check reads what the endpoint serves now
(:func:`~pipeline_code.deployment.endpoint.describe_endpoint_view`) and passes only when

* the status is ``InService`` (transitional statuses are waited for, up to ``--wait-seconds``);
* a production variant of the current config serves the expected package ARN;
* the current config is ``--expected-endpoint-config-name`` when given (the stack's
  ``EndpointConfigName`` output): a rollback to an old config that serves the same package is
  caught too.

Anything else fails: ``Failed``/``UpdateRollbackFailed``/``OutOfService``, a rollback (old config
or old package while ``InService``), or an endpoint still updating after the wait. A failure is
published to ``--alerts-topic-arn`` (SNS) when given, with the rollback alarms' states when the
endpoint's ``LastDeploymentConfig`` names them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .endpoint import (
    FAILED_STATUSES,
    IN_SERVICE,
    TRANSITIONAL_STATUSES,
    EndpointView,
    PackageRef,
    describe_endpoint_view,
)
from .errors import DeploymentError, one_line

DEFAULT_WAIT_SECONDS = 900
DEFAULT_POLL_SECONDS = 15
SNS_SUBJECT_LIMIT = 100


@dataclass(frozen=True)
class VerifyOutcome:
    """Whether the deployment really happened, and the one-line reason."""

    ok: bool
    message: str
    endpoint_name: str
    expected_arn: str
    rolled_back: bool = False
    view: EndpointView | None = None


def check_view(
    view: EndpointView | None,
    endpoint_name: str,
    expected_arn: str,
    *,
    expected_config_name: str = "",
    saw_rollback: bool = False,
) -> VerifyOutcome:
    """Judge one look at the endpoint (pure: no AWS call)."""
    expected = PackageRef.from_arn(expected_arn).label

    def fail(message: str, *, rolled_back: bool = False) -> VerifyOutcome:
        return VerifyOutcome(False, message, endpoint_name, expected_arn, rolled_back, view)

    if view is None:
        return fail(
            f"deployment failed: endpoint {endpoint_name} does not exist; the CloudFormation "
            "deploy did not create it (see the stack's events)"
        )
    reason = f" (FailureReason: {view.failure_reason})" if view.failure_reason else ""
    if view.status in FAILED_STATUSES:
        return fail(
            f"deployment of {expected} failed: endpoint {endpoint_name} is {view.status}{reason}; "
            "it needs attention before the next deployment",
            rolled_back=view.status == "UpdateRollbackFailed",
        )
    if view.status != IN_SERVICE:
        return fail(
            f"deployment of {expected} not confirmed: endpoint {endpoint_name} is still "
            f"{view.status} on config {view.config_name}{reason}; run verify again when it settles"
        )
    served = (
        ", ".join(PackageRef.from_arn(a).label for a in view.production_package_arns)
        or "no model package"
    )
    if not view.serves(expected_arn):
        return fail(
            f"deployment of {expected} did not happen: endpoint {endpoint_name} is InService on "
            f"config {view.config_name} serving {served}; SageMaker rolled the update back"
            f"{reason}. Look at the rollback alarms and the endpoint's logs before deploying again",
            rolled_back=True,
        )
    if expected_config_name and view.config_name != expected_config_name:
        return fail(
            f"deployment of {expected} did not happen: endpoint {endpoint_name} is InService on "
            f"config {view.config_name}, not the deployed {expected_config_name}; SageMaker rolled "
            f"the update back to an older config{reason}",
            rolled_back=True,
        )
    note = ""
    if saw_rollback:
        note = " (it went through RollingBack on the way)"
    elif view.failure_reason:
        note = f" (an earlier update left FailureReason: {view.failure_reason})"
    return VerifyOutcome(
        True,
        f"verified: endpoint {endpoint_name} is InService on config {view.config_name} serving "
        f"{expected}{note}",
        endpoint_name,
        expected_arn,
        False,
        view,
    )


def verify_endpoint(
    sm: Any,
    endpoint_name: str,
    expected_arn: str,
    *,
    expected_config_name: str = "",
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    describe: Callable[[Any, str], EndpointView | None] = describe_endpoint_view,
) -> VerifyOutcome:
    """Wait while the endpoint is in a transitional status, then :func:`check_view`."""
    deadline = clock() + max(0.0, wait_seconds)
    saw_rollback = False
    while True:
        view = describe(sm, endpoint_name)
        if view is not None and view.status == "RollingBack":
            saw_rollback = True
        if view is None or view.status not in TRANSITIONAL_STATUSES or clock() >= deadline:
            break
        sleep(max(0.0, min(poll_seconds, deadline - clock())))
    outcome = check_view(
        view,
        endpoint_name,
        expected_arn,
        expected_config_name=expected_config_name,
        saw_rollback=saw_rollback,
    )
    if saw_rollback and not outcome.ok and not outcome.rolled_back:
        return VerifyOutcome(
            False, outcome.message, endpoint_name, expected_arn, True, outcome.view
        )
    return outcome


def alarm_states(cloudwatch: Any, names: tuple[str, ...]) -> dict[str, str]:
    """``{alarm: state}`` for the rollback alarms (best effort: empty on any error)."""
    if not names or cloudwatch is None:
        return {}
    try:
        page = cloudwatch.describe_alarms(AlarmNames=list(names)[:100])
    except Exception:  # the alert must go out even when this extra detail cannot be read
        return {}
    return {str(a["AlarmName"]): str(a.get("StateValue", "")) for a in page.get("MetricAlarms", [])}


def alert_text(
    outcome: VerifyOutcome, *, stage: str = "", alarms: dict[str, str] | None = None
) -> tuple[str, str]:
    """``(subject, message)`` of the alert for a failed verification."""
    where = f"{stage} endpoint" if stage else "endpoint"
    kind = "rolled back" if outcome.rolled_back else "failed"
    subject = one_line(f"cdk-mlops: deployment to {where} {outcome.endpoint_name} {kind}")
    lines = [
        outcome.message,
        "",
        f"Endpoint: {outcome.endpoint_name}",
        f"Expected model package: {outcome.expected_arn}",
    ]
    view = outcome.view
    if view is not None:
        lines += [
            f"Status: {view.status}",
            f"Current endpoint config: {view.config_name}",
            f"Serving: {', '.join(view.production_package_arns) or '-'}",
        ]
        if view.failure_reason:
            lines.append(f"FailureReason: {view.failure_reason}")
        if view.rollback_alarm_names:
            states = alarms or {}
            lines.append(
                "Rollback alarms: "
                + ", ".join(
                    f"{n} ({states.get(n, 'state unknown')})" for n in view.rollback_alarm_names
                )
            )
    return subject[:SNS_SUBJECT_LIMIT], "\n".join(lines)


def publish_alert(
    sns: Any, topic_arn: str, outcome: VerifyOutcome, *, stage: str = "", cloudwatch: Any = None
) -> str:
    """Publish the alert; returns the SNS MessageId. Raises :class:`DeploymentError` on failure."""
    from botocore.exceptions import BotoCoreError, ClientError

    names = outcome.view.rollback_alarm_names if outcome.view else ()
    subject, message = alert_text(outcome, stage=stage, alarms=alarm_states(cloudwatch, names))
    try:
        response = sns.publish(TopicArn=topic_arn, Subject=subject, Message=message)
    except (ClientError, BotoCoreError) as exc:
        raise DeploymentError(
            f"{outcome.message} -- and the alert to {topic_arn} could not be sent ({one_line(exc)}); "
            "check sns:Publish and the topic key's kms:GenerateDataKey/kms:Decrypt"
        ) from None
    return str(response.get("MessageId", ""))


def require_verified(outcome: VerifyOutcome) -> None:
    """Raise :class:`DeploymentError` with the outcome's message unless it is ok."""
    if not outcome.ok:
        raise DeploymentError(outcome.message)


def expected_from_resolved(path: str) -> tuple[str, str]:
    """``(ModelPackageArn, Decision)`` read from a ``resolved.json`` written by resolve."""
    import json
    from pathlib import Path

    from .errors import UsageError

    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"--resolved {path!r} does not exist; pass the resolved.json of the resolve action"
        ) from None
    except ValueError as exc:
        raise UsageError(
            f"--resolved {path!r} is not JSON ({exc}); pass resolve's output"
        ) from None
    arn = doc.get("ModelPackageArn") if isinstance(doc, dict) else None
    if not isinstance(arn, str) or not arn:
        raise UsageError(f"--resolved {path!r} has no ModelPackageArn; pass resolve's output")
    return arn, str(doc.get("Decision", ""))
