"""Typed per-environment configuration (dev, staging, prod, or your own), validated at synth.

``app.py`` deploys the level and environment you name::

    npx cdk synth                              # every level, the built-in defaults (as always)
    npx cdk deploy -c level=3 -c env=prod      # level 3 with the prod profile
    npx cdk deploy -c level=2 -c env=dev       # level 2, cheap at idle
    npx cdk deploy -c delivery=3               # the delivery pipeline (a "tooling" environment)

Built-in profiles (:data:`PROFILES`): ``default`` (the library's defaults, environment-agnostic:
what ``npx cdk synth`` builds with no ``-c env``), ``dev`` (cheap at idle: one AZ, a serverless
staging endpoint, one production instance, daily monitoring, nothing retained but the registry
and the audit trail), ``staging`` and
``prod`` (two AZs, everything retained, the default endpoints). Override or add environments in
``cdk.json``::

    "context": {
      "cdk-mlops:environments": {
        "prod": {"account": "222222222222", "region": "eu-west-1",
                 "availability_zones": ["eu-west-1a", "eu-west-1b"],
                 "alert_emails": ["ml-oncall@example.com"],
                 "tags": {"cost-centre": "cc-42", "owner": "ml-platform"}}
      }
    }

or in a JSON file named with ``-c cdk-mlops:environments-file=envs.json`` (same shape). An
environment's keys are merged over the built-in profile of the same name (``default`` for new
names). Every key is checked; an error names the key, the value and the fix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aws_cdk as cdk
    from constructs import Node

    from cdk_mlops.levels import InitialSettings, ReliableSettings, RepeatableSettings

#: Context keys read by :func:`load_environments`, :func:`selected` and
#: :func:`delivery_selection`.
CONTEXT_ENVIRONMENTS = "cdk-mlops:environments"
CONTEXT_ENVIRONMENTS_FILE = "cdk-mlops:environments-file"
CONTEXT_ENV = "env"
CONTEXT_LEVEL = "level"
CONTEXT_DELIVERY = "delivery"
CONTEXT_DELIVERY_ENVIRONMENTS = "delivery-environments"
CONTEXT_CATALOG = "catalog"
CONTEXT_CATALOG_PRINCIPALS = "catalog-principals"
#: The environment the delivery pipeline itself lives in (its account and region).
TOOLING_ENVIRONMENT = "tooling"

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_INSTANCE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")


class EnvironmentConfigError(ValueError):
    """A bad environment configuration: names the key, the value and the fix."""


@dataclass(frozen=True, kw_only=True)
class EnvironmentConfig:
    """One deployment environment.

    :param name: ``dev``, ``staging``, ``prod`` or your own (lowercase, up to 20 characters;
        part of the stack names: ``MlopsLevel3-prod``; ``default`` keeps ``MlopsLevel3``).
    :param account: 12-digit account id. Default: environment-agnostic.
    :param region: e.g. ``eu-west-1``. Needed with ``account``.
    :param availability_zones: the VPC's zones; needed with ``account`` (so synthesis needs no
        AWS lookup). Default: ``max_azs`` zones picked at deployment.
    :param max_azs: AZs of the VPC when ``availability_zones`` is not given (1-6); named zones
        set the number themselves.
    :param interface_endpoints: short names (``sagemaker.api``, ``sts``, ...). Default: the
        ones the level needs.
    :param removal_policy: ``retain`` or ``destroy`` for the data lake and keys.
    :param monthly_budget_usd: the budget alarm's limit.
    :param alert_emails: who gets budget alerts.
    :param tags: tags on every resource (level 4 requires ``cost-centre``, ``owner``,
        ``data-classification``).
    :param staging_instance_type, staging_instance_count, staging_serverless: the staging
        endpoint (serverless costs nothing at idle).
    :param prod_instance_type, prod_instance_count: the production endpoint (two or more:
        canary of one instance; one: all at once, with the same bake and alarm rollback).
    :param monitoring_frequency: ``hourly`` or ``daily``.
    :param monitoring_instance_type: of the monitoring job.
    :param audit_trail: level 3's CloudTrail trail (off where an organization trail exists).
    :param model_consumer_accounts: accounts whose endpoints serve this environment's models
        (cross-account promotion: ``RepeatableSettings.model_consumer_accounts``; needs
        ``account``). Default none.
    """

    name: str
    account: str | None = None
    region: str | None = None
    availability_zones: tuple[str, ...] | None = None
    max_azs: int = 2
    interface_endpoints: tuple[str, ...] | None = None
    removal_policy: str = "retain"
    monthly_budget_usd: float = 100.0
    alert_emails: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    staging_instance_type: str = "ml.m5.large"
    staging_instance_count: int = 1
    staging_serverless: bool = False
    prod_instance_type: str = "ml.m5.large"
    prod_instance_count: int = 2
    monitoring_frequency: str = "hourly"
    monitoring_instance_type: str = "ml.m5.xlarge"
    audit_trail: bool = True
    model_consumer_accounts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_config(self)

    # -- what the stacks take -----------------------------------------------------------------

    def stack_env(self) -> cdk.Environment | None:
        """``cdk.Environment`` for the stacks; None when environment-agnostic."""
        import aws_cdk as cdk

        if self.account is None:
            return None
        return cdk.Environment(account=self.account, region=self.region)

    def stack_name(self, level: int) -> str:
        """``MlopsLevel<level>`` for ``default``, ``MlopsLevel<level>-<name>`` otherwise."""
        return f"MlopsLevel{level}" if self.name == "default" else f"MlopsLevel{level}-{self.name}"

    def initial_settings(self) -> InitialSettings:
        """Level 1's settings from this environment."""
        import aws_cdk as cdk

        from cdk_mlops.levels import InitialSettings

        return InitialSettings(
            monthly_budget_usd=self.monthly_budget_usd,
            alert_emails=list(self.alert_emails),
            # named zones set the number of zones themselves (the network refuses both)
            max_azs=2 if self.availability_zones else self.max_azs,
            availability_zones=list(self.availability_zones) if self.availability_zones else None,
            interface_endpoints=(
                None
                if self.interface_endpoints is None
                else [interface_endpoint(n) for n in self.interface_endpoints]
            ),
            removal_policy=(
                cdk.RemovalPolicy.DESTROY
                if self.removal_policy == "destroy"
                else cdk.RemovalPolicy.RETAIN
            ),
        )

    def repeatable_settings(self) -> RepeatableSettings:
        """Level 2's settings from this environment."""
        from cdk_mlops.levels import RepeatableSettings

        return RepeatableSettings(model_consumer_accounts=self.model_consumer_accounts)

    def reliable_settings(self) -> ReliableSettings:
        """Level 3's settings from this environment."""
        from cdk_mlops.constructs import MonitoringFrequency, TrafficRouting
        from cdk_mlops.levels import ReliableSettings
        from cdk_mlops.stacks.endpoint import EndpointStageSettings

        defaults = ReliableSettings()
        return ReliableSettings(
            staging=replace(
                EndpointStageSettings.staging(serverless=self.staging_serverless),
                instance_type=self.staging_instance_type,
                instance_count=self.staging_instance_count,
            ),
            prod=replace(
                defaults.prod,
                instance_type=self.prod_instance_type,
                instance_count=self.prod_instance_count,
                # a canary of one instance needs two; one instance shifts all at once (blue/green
                # with the same 10-minute bake and alarm rollback)
                traffic_routing=(
                    TrafficRouting.all_at_once()
                    if self.prod_instance_count == 1
                    else defaults.prod.traffic_routing
                ),
            ),
            monitoring_frequency=MonitoringFrequency[self.monitoring_frequency.upper()],
            monitoring_instance_type=self.monitoring_instance_type,
            audit_trail=self.audit_trail,
        )


#: The built-in profiles; ``cdk.json`` overrides their keys or adds environments.
_KEYS = {f.name for f in fields(EnvironmentConfig)} - {"name"}
_LIST_KEYS = (
    "availability_zones",
    "interface_endpoints",
    "alert_emails",
    "model_consumer_accounts",
)


def _fail(where: str, key: str, value: Any, fix: str) -> EnvironmentConfigError:
    return EnvironmentConfigError(f"{where}: {key}={value!r} is not allowed. {fix}")


def _check_config(c: EnvironmentConfig) -> None:
    where = f"environment {c.name!r}"
    if not isinstance(c.name, str) or not _NAME.match(c.name):
        raise _fail("environment", "name", c.name, "Use lowercase letters, digits and '-', "
                    "starting with a letter, at most 20 characters (e.g. 'prod').")  # fmt: skip
    if c.account is not None and not (isinstance(c.account, str) and _ACCOUNT.match(c.account)):
        raise _fail(where, "account", c.account,
                    'Give the 12-digit account id as a string, e.g. "123456789012".')  # fmt: skip
    if c.region is not None and not (isinstance(c.region, str) and _REGION.match(c.region)):
        raise _fail(where, "region", c.region, 'Give a region name, e.g. "eu-west-1".')
    if (c.account is None) != (c.region is None):
        raise _fail(where, "account" if c.account is None else "region",
                    c.account if c.account is None else c.region,
                    "Give both account and region, or neither (environment-agnostic).")  # fmt: skip
    if c.availability_zones is not None:
        zones = c.availability_zones
        if isinstance(zones, str) or not zones or not all(isinstance(z, str) for z in zones):
            raise _fail(where, "availability_zones", zones,
                        'Give a list of zone names, e.g. ["eu-west-1a", "eu-west-1b"].')  # fmt: skip
        if c.region is not None:
            wrong = [
                z for z in zones if not (z.startswith(c.region) and len(z) == len(c.region) + 1)
            ]
            if wrong:
                raise _fail(where, "availability_zones", list(zones),
                            f"Zones must be in {c.region} (e.g. {c.region}a); not {wrong}.")  # fmt: skip
    elif c.account is not None:
        raise _fail(where, "availability_zones", None,
                    f'With an account, name the VPC\'s zones (e.g. ["{c.region}a", "{c.region}b"]) '
                    "so synthesis needs no AWS lookup.")  # fmt: skip
    if not (isinstance(c.max_azs, int) and not isinstance(c.max_azs, bool) and 1 <= c.max_azs <= 6):
        raise _fail(where, "max_azs", c.max_azs, "Use 1 to 6 (1 is cheapest, 2 is redundant).")
    if c.interface_endpoints is not None:
        if isinstance(c.interface_endpoints, str):
            raise _fail(where, "interface_endpoints", c.interface_endpoints,
                        'Give a list of short names, e.g. ["sagemaker.api", "sts"].')  # fmt: skip
        for endpoint in c.interface_endpoints:
            try:
                interface_endpoint(endpoint)
            except KeyError:
                raise _fail(where, "interface_endpoints", endpoint,
                            "Use the service's short name as in "
                            "ec2.InterfaceVpcEndpointAwsService (e.g. sagemaker.api, "
                            "sagemaker.runtime, sts, logs).") from None  # fmt: skip
    if c.removal_policy not in ("retain", "destroy"):
        raise _fail(where, "removal_policy", c.removal_policy, 'Use "retain" or "destroy".')
    if isinstance(c.monthly_budget_usd, bool) or not (
        isinstance(c.monthly_budget_usd, int | float) and c.monthly_budget_usd > 0
    ):
        raise _fail(where, "monthly_budget_usd", c.monthly_budget_usd,
                    "Give a positive number of US dollars, e.g. 100.")  # fmt: skip
    if isinstance(c.alert_emails, str) or any(
        not (isinstance(e, str) and _EMAIL.match(e)) for e in c.alert_emails
    ):
        raise _fail(where, "alert_emails", c.alert_emails,
                    'Give a list of addresses, e.g. ["ml-oncall@example.com"].')  # fmt: skip
    if not isinstance(c.tags, Mapping) or any(
        not (isinstance(k, str) and isinstance(v, str) and k and v) for k, v in c.tags.items()
    ):
        raise _fail(where, "tags", c.tags, 'Give string keys and values, e.g. {"owner": "ml"}.')
    for key in ("staging_instance_type", "prod_instance_type", "monitoring_instance_type"):
        value = getattr(c, key)
        if not (isinstance(value, str) and _INSTANCE.match(value)):
            raise _fail(where, key, value, 'Give a SageMaker instance type, e.g. "ml.m5.large".')
    for key in ("staging_instance_count", "prod_instance_count"):
        value = getattr(c, key)
        if not (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10):
            raise _fail(where, key, value, "Use 1 to 10 instances.")
    if c.monitoring_frequency not in ("hourly", "daily"):
        raise _fail(where, "monitoring_frequency", c.monitoring_frequency,
                    'Use "hourly" or "daily".')  # fmt: skip
    consumers = c.model_consumer_accounts
    if isinstance(consumers, str) or any(
        not (isinstance(a, str) and _ACCOUNT.match(a)) or a == c.account for a in consumers
    ):
        raise _fail(where, "model_consumer_accounts", consumers,
                    'Give other accounts\' 12-digit ids, e.g. ["222222222222"].')  # fmt: skip
    if consumers and c.account is None:
        raise _fail(where, "model_consumer_accounts", list(consumers),
                    "Sharing models needs this environment's account and region; set them.")  # fmt: skip
    for key in ("staging_serverless", "audit_trail"):
        if not isinstance(getattr(c, key), bool):
            raise _fail(where, key, getattr(c, key), "Use true or false.")


_ENDPOINTS: dict[str, Any] = {}


def interface_endpoint(short_name: str) -> Any:
    """The ``ec2.InterfaceVpcEndpointAwsService`` whose short name is ``short_name``.

    Raises KeyError for an unknown name.
    """
    from aws_cdk import aws_ec2 as ec2

    if not _ENDPOINTS:
        cls = ec2.InterfaceVpcEndpointAwsService
        for attr in dir(cls):
            if attr.isupper() or (attr[:1].isupper() and "_" in attr):
                value = getattr(cls, attr, None)
                if isinstance(value, cls):
                    _ENDPOINTS[value.short_name] = value
    return _ENDPOINTS[short_name]


#: The tags of the built-in profiles: the three level 4 requires. Stack tags, which
#: CloudFormation propagates to the resources; set your own in ``cdk.json``.
PROFILE_TAGS: Mapping[str, str] = {
    "project": "cdk-mlops",
    "cost-centre": "ml-platform",
    "owner": "ml-platform",
    "data-classification": "confidential",
}

#: The built-in profiles; ``cdk.json`` overrides their keys or adds environments.
PROFILES: Mapping[str, EnvironmentConfig] = {
    "default": EnvironmentConfig(name="default", tags=PROFILE_TAGS),
    "dev": EnvironmentConfig(
        name="dev",
        max_azs=1,
        removal_policy="destroy",
        monthly_budget_usd=50.0,
        staging_serverless=True,
        prod_instance_count=1,
        monitoring_frequency="daily",
        tags={**PROFILE_TAGS, "environment": "dev"},
    ),
    "staging": EnvironmentConfig(name="staging", tags={**PROFILE_TAGS, "environment": "staging"}),
    "prod": EnvironmentConfig(
        name="prod", monthly_budget_usd=1000.0, tags={**PROFILE_TAGS, "environment": "prod"}
    ),
}


def environment_config(name: str, overrides: Mapping[str, Any] | None = None) -> EnvironmentConfig:
    """The built-in profile ``name`` (``default`` for other names) with ``overrides`` applied."""
    base = PROFILES.get(name, PROFILES["default"])
    where = f"{CONTEXT_ENVIRONMENTS}.{name}"
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - _KEYS)
    if unknown:
        raise EnvironmentConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}. Known keys: {', '.join(sorted(_KEYS))}."
        )
    values: dict[str, Any] = {}
    for key, value in overrides.items():
        if key in _LIST_KEYS and isinstance(value, list):
            value = tuple(value)
        if key == "tags" and isinstance(value, Mapping):
            value = {**base.tags, **value}
        values[key] = value
    try:
        return replace(base, name=name, **values)
    except EnvironmentConfigError as error:
        raise EnvironmentConfigError(
            str(error).replace(f"environment {name!r}", where, 1)
        ) from None


def load_environments(node: Node) -> dict[str, EnvironmentConfig]:
    """Every environment: the built-in profiles, then ``cdk.json`` context or the file."""
    raw: Any = node.try_get_context(CONTEXT_ENVIRONMENTS)
    path = node.try_get_context(CONTEXT_ENVIRONMENTS_FILE)
    if path is not None:
        if raw is not None:
            raise EnvironmentConfigError(
                f"Both {CONTEXT_ENVIRONMENTS} and {CONTEXT_ENVIRONMENTS_FILE}={path!r} are set. "
                "Keep the environments in one place."
            )
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise EnvironmentConfigError(
                f"{CONTEXT_ENVIRONMENTS_FILE}={path!r} could not be read as JSON ({error}). "
                "Give the path of a JSON object of environments."
            ) from None
    if isinstance(raw, str):  # -c cdk-mlops:environments='{"dev": {...}}'
        try:
            raw = json.loads(raw)
        except ValueError as error:
            raise EnvironmentConfigError(f"{CONTEXT_ENVIRONMENTS} is not JSON: {error}.") from None
    raw = raw or {}
    if not isinstance(raw, Mapping) or any(not isinstance(v, Mapping) for v in raw.values()):
        raise EnvironmentConfigError(
            f"{CONTEXT_ENVIRONMENTS}={raw!r} is not allowed. Give an object of environments, "
            'each an object of keys, e.g. {"prod": {"account": "123456789012", ...}}.'
        )
    envs = dict(PROFILES)
    for name, overrides in raw.items():
        envs[name] = environment_config(name, overrides)
    return envs


def selected(node: Node) -> tuple[EnvironmentConfig, tuple[int, ...]]:
    """The environment (``-c env=...``, default ``default``) and the levels (``-c level=...``,
    default every level that is built) the app deploys."""
    envs = load_environments(node)
    name = node.try_get_context(CONTEXT_ENV) or "default"
    if name not in envs:
        raise EnvironmentConfigError(
            f"-c {CONTEXT_ENV}={name!r} is not allowed. Known environments: "
            f"{', '.join(sorted(envs))}; add others under {CONTEXT_ENVIRONMENTS} in cdk.json."
        )
    level = node.try_get_context(CONTEXT_LEVEL)
    if level is None or level == "all":
        return envs[name], LEVELS
    text = str(level)
    if text not in {str(n) for n in LEVELS}:
        raise EnvironmentConfigError(
            f"-c {CONTEXT_LEVEL}={level!r} is not allowed. Use one of "
            f"{', '.join(str(n) for n in LEVELS)}, or all (the default)."
        )
    return envs[name], (int(text),)


def catalog_selection(node: Node) -> tuple[str, ...] | None:
    """``-c catalog=true`` adds the Service Catalog portfolio of the selected levels
    (``MlopsCatalog``, for the account the platform team offers project templates from); returns
    the ARNs that may launch its products (``-c catalog-principals=arn,arn``; at least one), or
    None without ``-c catalog`` or with ``-c catalog=false``."""
    value = node.try_get_context(CONTEXT_CATALOG)
    if value is None or value is False or str(value).lower() == "false":
        return None
    if value is not True and str(value).lower() != "true":
        raise EnvironmentConfigError(
            f"-c {CONTEXT_CATALOG}={value!r} is not allowed. Use true (add the Service Catalog "
            "portfolio of the selected levels) or false (the default)."
        )
    raw = node.try_get_context(CONTEXT_CATALOG_PRINCIPALS) or ""
    items = raw if isinstance(raw, list) else str(raw).split(",")
    principals = tuple(str(a).strip() for a in items if str(a).strip())
    if not principals:
        raise EnvironmentConfigError(
            f"-c {CONTEXT_CATALOG}=true needs -c {CONTEXT_CATALOG_PRINCIPALS}=<role ARN>[,...]: the "
            "roles that may launch the products (for SageMaker Projects, the Studio execution "
            "role)."
        )
    return principals


def delivery_selection(
    node: Node,
) -> tuple[int, EnvironmentConfig, list[EnvironmentConfig]] | None:
    """``-c delivery=<level>``: the level, the ``tooling`` environment (where the pipeline
    lives) and the delivered environments (``-c delivery-environments=dev,staging,prod``, the
    default), in order; None without ``-c delivery``."""
    level = node.try_get_context(CONTEXT_DELIVERY)
    if level is None:
        return None
    if str(level) not in {str(n) for n in LEVELS}:
        raise EnvironmentConfigError(
            f"-c {CONTEXT_DELIVERY}={level!r} is not allowed. Give the level to deliver: "
            f"{', '.join(str(n) for n in LEVELS)}."
        )
    envs = load_environments(node)
    tooling = envs.get(TOOLING_ENVIRONMENT)
    if tooling is None or tooling.account is None:
        raise EnvironmentConfigError(
            f"-c {CONTEXT_DELIVERY}={level} needs a {TOOLING_ENVIRONMENT!r} environment with an "
            f"account and region (the pipeline's account): add it under {CONTEXT_ENVIRONMENTS} "
            "in cdk.json."
        )
    raw = node.try_get_context(CONTEXT_DELIVERY_ENVIRONMENTS) or "dev,staging,prod"
    names = [n.strip() for n in str(raw).split(",") if n.strip()]
    unknown = [n for n in names if n not in envs]
    if unknown or not names:
        raise EnvironmentConfigError(
            f"-c {CONTEXT_DELIVERY_ENVIRONMENTS}={raw!r} is not allowed: unknown {unknown}. "
            f"Known environments: {', '.join(sorted(envs))}."
        )
    return int(str(level)), tooling, [envs[n] for n in names]


#: The levels app.py can build.
LEVELS: tuple[int, ...] = (1, 2, 3, 4)
