"""Per-environment configuration and app.py's level/environment switch (-c level, -c env)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from app import build_app
from cdk_mlops.checks import stack_templates
from cdk_mlops.constructs import MonitoringFrequency
from cdk_mlops.environments import (
    CONTEXT_ENVIRONMENTS,
    CONTEXT_ENVIRONMENTS_FILE,
    PROFILES,
    EnvironmentConfig,
    EnvironmentConfigError,
    environment_config,
    load_environments,
    selected,
)
from tests.cdk_mlops.helpers import new_app

DEV_ACCOUNT = {
    "account": "123456789012",
    "region": "eu-west-1",
    "availability_zones": ["eu-west-1a"],
    "alert_emails": ["ml-oncall@example.com"],
}


def _resources(template: Path, cfn_type: str) -> list[dict[str, Any]]:
    data = json.loads(template.read_text())
    return [r for r in data["Resources"].values() if r["Type"] == cfn_type]


@pytest.fixture(scope="module")
def dev_level3(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``cdk synth -c level=3 -c env=dev`` with the dev account from cdk.json context."""
    out = tmp_path_factory.mktemp("dev3")
    app = new_app(
        outdir=str(out), level="3", env="dev", **{CONTEXT_ENVIRONMENTS: {"dev": DEV_ACCOUNT}}
    )
    build_app(app).synth()  # every nag pack
    return stack_templates(out)


def test_one_switch_picks_the_level_and_the_environment(dev_level3: dict[str, Path]) -> None:
    assert set(dev_level3) == {"MlopsLevel3-dev", "MlopsLevel3Endpoint-dev"}
    manifest = json.loads((dev_level3["MlopsLevel3-dev"].parent / "manifest.json").read_text())
    artifact = manifest["artifacts"]["MlopsLevel3-dev"]
    assert artifact["environment"] == "aws://123456789012/eu-west-1"
    assert artifact["properties"]["tags"]["environment"] == "dev"
    assert artifact["properties"]["tags"]["owner"] == "ml-platform"


def test_dev_is_cheap_at_idle(dev_level3: dict[str, Path]) -> None:
    template = dev_level3["MlopsLevel3-dev"]
    # one AZ: one isolated subnet, every interface endpoint in it
    assert len(_resources(template, "AWS::EC2::Subnet")) == 1
    for endpoint in _resources(template, "AWS::EC2::VPCEndpoint"):
        if endpoint["Properties"].get("VpcEndpointType") == "Interface":
            assert len(endpoint["Properties"]["SubnetIds"]) == 1
    # nothing retained but the registry (it must be emptied of model versions first) and the
    # audit trail's bucket and key (audit evidence outlives the stack by design)
    resources = json.loads(template.read_text())["Resources"]
    retained = sorted(
        r["Type"] for r in resources.values() if r.get("DeletionPolicy", "Delete") != "Delete"
    )
    assert retained == ["AWS::KMS::Key", "AWS::S3::Bucket", "AWS::SageMaker::ModelPackageGroup"]
    assert all(
        "AuditTrail" in k
        for k, r in resources.items()
        if r.get("DeletionPolicy", "Delete") != "Delete"
        and r["Type"] != "AWS::SageMaker::ModelPackageGroup"
    )
    (budget,) = _resources(template, "AWS::Budgets::Budget")
    assert budget["Properties"]["Budget"]["BudgetLimit"]["Amount"] == 50
    # daily monitoring
    (schedule,) = _resources(template, "AWS::Scheduler::Schedule")
    assert (
        schedule["Properties"]["ScheduleExpression"].startswith("cron(")
        and " * * ? *)" in (schedule["Properties"]["ScheduleExpression"])
    )
    assert "15 * * ? *" not in schedule["Properties"]["ScheduleExpression"]


def test_dev_endpoints_settings() -> None:
    reliable = PROFILES["dev"].reliable_settings()
    assert reliable.staging.serverless is not None
    assert reliable.prod.instance_count == 1
    assert reliable.prod.traffic_routing.type == "ALL_AT_ONCE"  # no canary with one instance
    assert PROFILES["prod"].reliable_settings().prod.traffic_routing.type == "CANARY"
    assert reliable.monitoring_frequency is MonitoringFrequency.DAILY
    initial = PROFILES["dev"].initial_settings()
    assert initial.max_azs == 1
    assert initial.removal_policy == cdk.RemovalPolicy.DESTROY


def test_the_default_is_every_level_environment_agnostic() -> None:
    config, levels = selected(new_app().node)
    assert config.name == "default" and levels == (1, 2, 3, 4)
    assert config.stack_env() is None
    assert [config.stack_name(n) for n in levels] == [f"MlopsLevel{n}" for n in levels]
    # the default profile is the library's defaults
    defaults = EnvironmentConfig(name="default")
    assert config.initial_settings() == defaults.initial_settings()


def test_environments_come_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "envs.json"
    path.write_text(json.dumps({"ml-team-a": {**DEV_ACCOUNT, "max_azs": 1}}))
    envs = load_environments(new_app(**{CONTEXT_ENVIRONMENTS_FILE: str(path)}).node)
    team = envs["ml-team-a"]
    assert team.account == "123456789012" and team.stack_name(2) == "MlopsLevel2-ml-team-a"
    assert set(envs) == {"default", "dev", "staging", "prod", "ml-team-a"}


def test_environments_come_from_a_json_string_on_the_command_line() -> None:
    text = json.dumps({"prod": {"monthly_budget_usd": 5000}})
    envs = load_environments(new_app(**{CONTEXT_ENVIRONMENTS: text}).node)
    assert envs["prod"].monthly_budget_usd == 5000
    assert envs["prod"].tags["environment"] == "prod"  # merged over the built-in profile


def test_consumer_accounts_reach_level2() -> None:
    config = environment_config("dev", {**DEV_ACCOUNT, "model_consumer_accounts": ["222222222222"]})
    assert config.repeatable_settings().model_consumer_accounts == ("222222222222",)


def test_tags_merge_over_the_profile() -> None:
    config = environment_config("prod", {"tags": {"owner": "risk-team"}})
    assert config.tags["owner"] == "risk-team" and config.tags["environment"] == "prod"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"acount": "123456789012"}, "unknown key\\(s\\) acount. Known keys: account"),
        ({"account": "12345"}, "account='12345' is not allowed. Give the 12-digit"),
        ({"account": 123456789012, "region": "eu-west-1"}, "account=123456789012"),
        ({"region": "eu-west-1"}, "account=None .*both account and region"),
        ({"account": "123456789012", "region": "eu-west-1"}, "name the VPC's zones"),
        ({**DEV_ACCOUNT, "availability_zones": ["us-east-1a"]}, "Zones must be in eu-west-1"),
        ({"region": "europe"}, "region='europe'"),
        ({"max_azs": 0}, "max_azs=0 is not allowed. Use 1 to 6"),
        ({"max_azs": True}, "max_azs=True"),
        ({"interface_endpoints": ["sagemaker.apii"]}, "interface_endpoints='sagemaker.apii'"),
        ({"interface_endpoints": "sts"}, "interface_endpoints='sts'"),
        ({"removal_policy": "RETAIN"}, 'removal_policy=\'RETAIN\'.*"retain" or "destroy"'),
        ({"monthly_budget_usd": -1}, "monthly_budget_usd=-1"),
        ({"alert_emails": "me@example.com"}, "alert_emails='me@example.com'"),
        ({"alert_emails": ["not-an-address"]}, "alert_emails=\\('not-an-address',\\)"),
        ({"tags": {"owner": 1}}, "tags=.*string keys and values"),
        ({"prod_instance_type": "m5.large"}, "prod_instance_type='m5.large'.*ml.m5.large"),
        ({"staging_instance_count": 0}, "staging_instance_count=0 is not allowed. Use 1 to 10"),
        ({"monitoring_frequency": "weekly"}, "monitoring_frequency='weekly'"),
        ({"audit_trail": "no"}, "audit_trail='no'.*true or false"),
        ({"model_consumer_accounts": ["222222222222"]}, "needs this environment's account"),
        ({**DEV_ACCOUNT, "model_consumer_accounts": ["123456789012"]}, "Give other accounts"),
        ({**DEV_ACCOUNT, "model_consumer_accounts": "222222222222"}, "model_consumer_accounts="),
    ],
)
def test_fails_naming_the_key_the_value_and_the_fix(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(EnvironmentConfigError, match=message) as info:
        environment_config("prod", overrides)
    assert str(info.value).startswith(f"{CONTEXT_ENVIRONMENTS}.prod")


def test_fails_on_a_bad_environment_name() -> None:
    with pytest.raises(EnvironmentConfigError, match="name='Prod!'"):
        environment_config("Prod!", {})


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"env": "qa"}, "-c env='qa' is not allowed. Known environments: default, dev, prod"),
        ({"level": "5"}, "-c level='5' is not allowed. Use one of 1, 2, 3, 4, or all"),
        ({CONTEXT_ENVIRONMENTS: "{not json"}, "is not JSON"),
        ({CONTEXT_ENVIRONMENTS: ["dev"]}, "Give an object of environments"),
        ({CONTEXT_ENVIRONMENTS: {"dev": "cheap"}}, "Give an object of environments"),
        ({CONTEXT_ENVIRONMENTS_FILE: "/nonexistent/envs.json"}, "could not be read as JSON"),
        ({CONTEXT_ENVIRONMENTS: {}, CONTEXT_ENVIRONMENTS_FILE: "x.json"}, "Keep the environments"),
    ],
)
def test_the_switch_fails_clearly(context: dict[str, Any], message: str) -> None:
    with pytest.raises(EnvironmentConfigError, match=message):
        build_app(new_app(**context))


def test_level_switch_accepts_numbers_and_all() -> None:
    assert selected(new_app(level=2).node)[1] == (2,)
    assert selected(new_app(level="all").node)[1] == (1, 2, 3, 4)
