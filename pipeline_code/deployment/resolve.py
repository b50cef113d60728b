"""Which model package version to deploy, and whether to deploy it at all.

Where the candidate comes from, in this order:

1. ``--model-package-arn`` (env ``MODEL_PACKAGE_ARN``): an *explicit* start by a person. It
   may be older than production: that is a rollback on purpose, recorded as
   ``"Decision": "rollback"``.
2. ``--event-model-package-arn`` (env ``EVENT_MODEL_PACKAGE_ARN``): the version in the
   registry's approval event. Not explicit: an older version is refused.
3. Otherwise the newest ``Approved`` version of ``--model-package-group`` (ListModelPackages,
   newest CreationTime first).

The candidate must be ``Approved`` and ``Completed`` in every case. It is compared with what
``--prod-endpoint-name`` serves (see :mod:`pipeline_code.deployment.endpoint`; no endpoint yet =
first deployment):

* newer than production (or first deployment): ``deploy``;
* older: refused (exit 1) unless explicit (``rollback``);
* the same version: ``nothing-to-do`` (a duplicate approval event): exit status 3, or 0 with
  ``--on-duplicate succeed``, see the docs for how the pipeline stops cleanly;
* another group than production's: refused unless explicit (versions of two groups do not
  compare).

Outputs (all written in every case, so CodeBuild's artifacts always exist):

* ``--output`` (``resolved.json``): ``ModelPackageArn``, ``ModelPackageVersion``,
  ``ModelPackageGroupName``, ``Decision``, ``Reason``, ``Explicit``, ``ProdEndpointName``,
  ``ProdModelPackageArn``, ``ProdModelPackageVersion``;
* ``--template-configuration``: ``{"Parameters": {"ModelPackageArn": ..., "EndpointName": ...,
  <--parameter Key=Value>...}}`` for the CodePipeline CloudFormation deploy action, plus one
  ``<stem>-<stage>.json`` per ``--stage STAGE=ENDPOINT_NAME`` with that stage's endpoint name;
* ``--env-file``: ``KEY=value`` lines (``DEPLOY_DECISION``, ``MODEL_PACKAGE_ARN``,
  ``MODEL_PACKAGE_VERSION``) to source in the buildspec before ``exported-variables``.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .endpoint import (
    PackageRef,
    describe_endpoint_view,
    same_package,
)
from .errors import DeploymentError, NothingToDo, UsageError, one_line

DEPLOY = "deploy"
ROLLBACK = "rollback"
NOTHING_TO_DO = "nothing-to-do"
APPROVED = "Approved"
#: Parameter logical ids the endpoint stack takes from the template configuration.
MODEL_PACKAGE_ARN_PARAMETER = "ModelPackageArn"
ENDPOINT_NAME_PARAMETER = "EndpointName"
_PARAMETER_KEY_RE = re.compile(r"^[A-Za-z0-9]{1,255}$")
_STAGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class Resolution:
    """The resolved version and what to do with it."""

    candidate: PackageRef
    decision: str
    reason: str
    explicit: bool
    prod_endpoint_name: str
    prod: PackageRef | None

    def to_json(self) -> dict[str, Any]:
        return {
            "ModelPackageArn": self.candidate.arn,
            "ModelPackageVersion": self.candidate.version,
            "ModelPackageGroupName": self.candidate.group,
            "Decision": self.decision,
            "Reason": self.reason,
            "Explicit": self.explicit,
            "ProdEndpointName": self.prod_endpoint_name,
            "ProdModelPackageArn": self.prod.arn if self.prod else None,
            "ProdModelPackageVersion": self.prod.version if self.prod else None,
        }


def decide(
    candidate: PackageRef,
    prod: Sequence[PackageRef],
    *,
    explicit: bool,
    prod_endpoint_name: str = "",
) -> Resolution:
    """Compare ``candidate`` with the packages production serves (empty: first deployment).

    Raises :class:`NothingToDo` for the same version and :class:`DeploymentError` for a
    refused one; returns a ``deploy`` or ``rollback`` :class:`Resolution` otherwise.
    """
    where = f"endpoint {prod_endpoint_name}" if prod_endpoint_name else "production"
    if not prod:
        return Resolution(
            candidate,
            DEPLOY,
            f"first deployment: {where} does not exist yet",
            explicit,
            prod_endpoint_name,
            None,
        )
    for p in prod:
        if same_package(p.arn, candidate.arn):
            resolution = Resolution(
                candidate,
                NOTHING_TO_DO,
                f"nothing to do: {where} already serves {candidate.label} ({candidate.arn}); "
                "a duplicate approval event, or a start without a newer approved version",
                explicit,
                prod_endpoint_name,
                p,
            )
            raise NothingToDoResolved(resolution)
    same_group = [p for p in prod if p.group.lower() == candidate.group.lower() and p.version]
    current = max(same_group, key=lambda p: p.version or 0) if same_group else prod[0]
    if not same_group:
        if explicit:
            return Resolution(
                candidate,
                DEPLOY,
                f"explicit start: {where} serves {current.label} of another group; deploying "
                f"{candidate.label} as asked",
                True,
                prod_endpoint_name,
                current,
            )
        raise DeploymentError(
            f"refused: {candidate.label} is in another model package group than what {where} "
            f"serves ({current.arn}), so the versions do not compare; start the pipeline with "
            f"MODEL_PACKAGE_ARN={candidate.arn} to deploy it on purpose"
        )
    assert candidate.version is not None and current.version is not None
    if candidate.version > current.version:
        return Resolution(
            candidate,
            DEPLOY,
            f"{candidate.label} is newer than {current.label} on {where}",
            explicit,
            prod_endpoint_name,
            current,
        )
    if explicit:
        return Resolution(
            candidate,
            ROLLBACK,
            f"rollback on purpose: {candidate.label} is older than {current.label} on {where}, "
            "and the start named it explicitly",
            True,
            prod_endpoint_name,
            current,
        )
    raise DeploymentError(
        f"refused: {candidate.label} is older than {current.label} that {where} serves; an "
        "approval of an older version does not roll production back. To roll back on purpose, "
        f"start the pipeline with MODEL_PACKAGE_ARN={candidate.arn}"
    )


class NothingToDoResolved(NothingToDo):
    """:class:`NothingToDo` that carries the resolution, so its outputs can still be written."""

    def __init__(self, resolution: Resolution) -> None:
        super().__init__(resolution.reason)
        self.resolution = resolution


# --------------------------------------------------------------------------- registry reads
def describe_package(sm: Any, arn: str, *, flag: str) -> PackageRef:
    """Describe one version; it must be Approved and Completed."""
    from botocore.exceptions import ClientError

    try:
        d = sm.describe_model_package(ModelPackageName=arn)
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise DeploymentError(
            f"{flag} {arn!r}: {err.get('Code', '')} {one_line(err.get('Message', ''))}; pass the ARN "
            "of a versioned model package (arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/N)"
        ) from None
    ref = PackageRef(
        str(d.get("ModelPackageArn", arn)),
        str(d.get("ModelPackageGroupName", "")),
        int(d["ModelPackageVersion"]) if d.get("ModelPackageVersion") is not None else None,
        str(d.get("ModelApprovalStatus", "")),
        str(d.get("ModelPackageStatus", "")),
    )
    if ref.version is None:
        raise DeploymentError(
            f"{flag} {arn!r} is not a versioned model package (no group and version); register "
            "the model in a model package group"
        )
    if ref.approval_status != APPROVED:
        raise DeploymentError(
            f"refused: {ref.label} is {ref.approval_status or 'not approved'}, not Approved; approve "
            "it in the model registry first (only approved versions are deployed)"
        )
    if ref.package_status and ref.package_status != "Completed":
        raise DeploymentError(
            f"refused: {ref.label} is {ref.package_status}, not Completed; wait for the "
            "registration to finish"
        )
    return ref


def newest_approved(sm: Any, group: str) -> PackageRef:
    """The newest Approved version of ``group``; :class:`DeploymentError` when there is none."""
    from botocore.exceptions import ClientError

    try:
        page = sm.list_model_packages(
            ModelPackageGroupName=group,
            ModelApprovalStatus=APPROVED,
            ModelPackageType="Versioned",
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=1,
        )
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise DeploymentError(
            f"cannot list model package group {group!r}: {err.get('Code', '')} "
            f"{one_line(err.get('Message', ''))}; check the name and sagemaker:ListModelPackages"
        ) from None
    summaries = page.get("ModelPackageSummaryList") or []
    if not summaries:
        raise DeploymentError(
            f"model package group {group!r} has no Approved version; approve one in the registry "
            "(Studio, or aws sagemaker update-model-package --model-approval-status Approved) "
            "and the pipeline starts by itself"
        )
    return describe_package(
        sm, str(summaries[0]["ModelPackageArn"]), flag="newest approved version"
    )


def prod_packages(sm: Any, endpoint_name: str) -> list[PackageRef]:
    """The packages production serves now (empty when the endpoint does not exist)."""
    if not endpoint_name:
        return []
    view = describe_endpoint_view(sm, endpoint_name)
    if view is None:
        return []
    refs: list[PackageRef] = []
    for arn in view.production_package_arns:
        ref = PackageRef.from_arn(arn)
        if ref.version is None:  # a package name, not an ARN: ask the registry
            d = sm.describe_model_package(ModelPackageName=arn)
            ref = PackageRef(
                str(d.get("ModelPackageArn", arn)),
                str(d.get("ModelPackageGroupName", "")),
                d.get("ModelPackageVersion"),
            )
        refs.append(ref)
    return refs


def resolve(
    sm: Any,
    *,
    group: str = "",
    model_package_arn: str = "",
    event_model_package_arn: str = "",
    prod_endpoint_name: str = "",
) -> Resolution:
    """Resolve against SageMaker (see the module docstring for the rules)."""
    if model_package_arn:
        candidate = describe_package(sm, model_package_arn, flag="--model-package-arn")
        explicit = True
    elif event_model_package_arn:
        candidate = describe_package(sm, event_model_package_arn, flag="--event-model-package-arn")
        explicit = False
    elif group:
        candidate = newest_approved(sm, group)
        explicit = False
    else:
        raise UsageError(
            "nothing to resolve: pass --model-package-group (or MODEL_PACKAGE_GROUP_NAME), or "
            "--model-package-arn for an explicit version"
        )
    if group and candidate.group and candidate.group.lower() != group.lower() and not explicit:
        raise DeploymentError(
            f"refused: {candidate.arn} is not in model package group {group!r}; the pipeline "
            "deploys only its own group"
        )
    return decide(
        candidate,
        prod_packages(sm, prod_endpoint_name),
        explicit=explicit,
        prod_endpoint_name=prod_endpoint_name,
    )


# --------------------------------------------------------------------------- outputs
def parse_parameters(values: Sequence[str]) -> dict[str, str]:
    """``Key=Value`` flags into a dict; keys are CloudFormation parameter logical ids."""
    out: dict[str, str] = {}
    for raw in values:
        key, sep, value = raw.partition("=")
        if not sep or not _PARAMETER_KEY_RE.match(key):
            raise UsageError(
                f"--parameter {raw!r} is not Key=Value with an alphanumeric CloudFormation "
                "parameter name (e.g. --parameter CaptureBucketName=my-bucket)"
            )
        if key == MODEL_PACKAGE_ARN_PARAMETER:
            raise UsageError(
                f"--parameter {raw!r}: {MODEL_PACKAGE_ARN_PARAMETER} is what resolve decides; "
                "use --model-package-arn to choose a version"
            )
        if key in out:
            raise UsageError(f"--parameter {key} is given twice; pass each parameter once")
        out[key] = value
    return out


def parse_stages(values: Sequence[str]) -> dict[str, str]:
    """``STAGE=ENDPOINT_NAME`` flags into a dict."""
    out: dict[str, str] = {}
    for raw in values:
        stage, sep, name = raw.partition("=")
        if not sep or not _STAGE_RE.match(stage) or not name:
            raise UsageError(
                f"--stage {raw!r} is not STAGE=ENDPOINT_NAME (e.g. --stage staging=churn-staging)"
            )
        if stage in out:
            raise UsageError(f"--stage {stage} is given twice; pass each stage once")
        out[stage] = name
    return out


def template_configuration(
    resolution: Resolution, *, endpoint_name: str = "", parameters: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The CloudFormation template configuration document for the deploy action."""
    params: dict[str, str] = dict(parameters or {})
    params[MODEL_PACKAGE_ARN_PARAMETER] = resolution.candidate.arn
    if endpoint_name:
        params[ENDPOINT_NAME_PARAMETER] = endpoint_name
    return {"Parameters": dict(sorted(params.items()))}


def env_lines(resolution: Resolution) -> str:
    """``KEY=value`` lines, shell-quoted, for ``. ./resolved.env`` in a buildspec."""
    values = {
        "DEPLOY_DECISION": resolution.decision,
        "MODEL_PACKAGE_ARN": resolution.candidate.arn,
        "MODEL_PACKAGE_VERSION": str(resolution.candidate.version or ""),
        "MODEL_PACKAGE_GROUP_NAME": resolution.candidate.group,
    }
    return "".join(f"export {k}={shlex.quote(v)}\n" for k, v in values.items())


def write_outputs(
    resolution: Resolution,
    *,
    output: Path,
    template_configuration_path: Path | None = None,
    endpoint_name: str = "",
    parameters: Mapping[str, str] | None = None,
    stages: Mapping[str, str] | None = None,
    env_file: Path | None = None,
) -> list[Path]:
    """Write every output file; returns their paths."""
    written: list[Path] = []

    def put(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)

    put(output, json.dumps(resolution.to_json(), indent=2) + "\n")
    if template_configuration_path is not None:
        doc = template_configuration(resolution, endpoint_name=endpoint_name, parameters=parameters)
        put(template_configuration_path, json.dumps(doc, indent=2) + "\n")
        for stage, name in (stages or {}).items():
            stage_path = template_configuration_path.with_name(
                f"{template_configuration_path.stem}-{stage}{template_configuration_path.suffix}"
            )
            doc = template_configuration(resolution, endpoint_name=name, parameters=parameters)
            put(stage_path, json.dumps(doc, indent=2) + "\n")
    if env_file is not None:
        put(env_file, env_lines(resolution))
    return written
