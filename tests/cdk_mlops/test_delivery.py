"""The multi-account delivery pipeline (CDK Pipelines): stages in order, approval before prod,
the gates in the synth step, cross-account model promotion wired between the stages, every
template (the pipeline's and each stage's) through every nag pack, cfn-lint and checkov."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import aws_cdk as cdk
import pytest

from app import build_app
from cdk_mlops.checks import cfn_lint, checkov
from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.constructs import MODEL_READER_PATH, SharedModelSource
from cdk_mlops.diagram import delivery_mermaid, readme_block
from cdk_mlops.environments import (
    CONTEXT_ENVIRONMENTS,
    EnvironmentConfig,
    EnvironmentConfigError,
    environment_config,
)
from cdk_mlops.stacks.delivery import DeliveryStack
from tests.cdk_mlops.helpers import ROOT, new_app

TOOLING, DEV, STAGING, PROD = "111111111111", "222222222222", "333333333333", "444444444444"
REGION = "eu-west-1"
STAGE = "MlopsDelivery/Stage-"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


class Delivered(NamedTuple):
    stack: DeliveryStack
    templates: dict[str, Path]
    assembly: Path


def _envs() -> list[EnvironmentConfig]:
    zones = [f"{REGION}a", f"{REGION}b"]
    return [
        environment_config(
            name, {"account": account, "region": REGION, "availability_zones": zones}
        )
        for name, account in (("dev", DEV), ("staging", STAGING), ("prod", PROD))
    ]


def _templates(assembly: Path) -> dict[str, Path]:
    """Every stack template of a cloud assembly, nested stage assemblies included."""
    manifest = json.loads((assembly / "manifest.json").read_text())
    out: dict[str, Path] = {}
    for name, artifact in manifest["artifacts"].items():
        if artifact["type"] == "aws:cloudformation:stack":
            out[artifact.get("displayName", name)] = (
                assembly / artifact["properties"]["templateFile"]
            )
        elif artifact["type"] == "cdk:cloud-assembly":
            out.update(_templates(assembly / artifact["properties"]["directoryName"]))
    return out


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory) -> Delivered:
    out = tmp_path_factory.mktemp("delivery")
    app = new_app(outdir=str(out))
    add_compliance_checks(app)
    stack = DeliveryStack(
        app, "MlopsDelivery", level=3, environments=_envs(),
        env=cdk.Environment(account=TOOLING, region=REGION),
    )  # fmt: skip
    app.synth()  # every nag pack, on the pipeline's stack and on every stage's stacks
    return Delivered(stack, _templates(out), out)


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _pipeline(templates: dict[str, Path]) -> dict[str, Any]:
    template = _load(templates["MlopsDelivery"])
    (pipeline,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"
    ]
    return pipeline["Properties"]


def test_every_stage_has_its_stacks(delivered: Delivered) -> None:
    templates = delivered.templates
    assert set(templates) == {
        "MlopsDelivery",
        *(f"{STAGE}{e}/MlopsLevel3-{e}" for e in ("dev", "staging", "prod")),
        *(f"{STAGE}{e}/MlopsLevel3Endpoint-{e}" for e in ("dev", "staging", "prod")),
        f"{STAGE}staging/SharedModels",
        f"{STAGE}prod/SharedModels",
    }


def test_stages_deploy_in_order_with_an_approval_before_prod(
    delivered: Delivered,
) -> None:
    templates = delivered.templates
    stages = _pipeline(templates)["Stages"]
    names = [s["Name"] for s in stages]
    assert names[-3:] == ["Stage-dev", "Stage-staging", "Stage-prod"]
    for stage in stages[-3:]:
        env = stage["Name"].removeprefix("Stage-")
        account = {"dev": DEV, "staging": STAGING, "prod": PROD}[env]
        actions = stage["Actions"]
        approvals = [a for a in actions if a["ActionTypeId"]["Category"] == "Approval"]
        deploys = [a for a in actions if a["ActionTypeId"]["Provider"] == "CloudFormation"]
        assert deploys, env
        text = json.dumps(deploys)
        assert f"cdk-hnb659fds-deploy-role-{account}-{REGION}" in text, env  # its own account
        assert all(acct not in text for acct in {DEV, STAGING, PROD} - {account}), env
        if env == "prod":
            (approval,) = approvals
            assert approval["RunOrder"] < min(a["RunOrder"] for a in deploys)
        else:
            assert not approvals, env


def test_the_synth_step_runs_the_gates(delivered: Delivered) -> None:
    templates = delivered.templates
    template = _load(templates["MlopsDelivery"])
    projects = [r for r in template["Resources"].values() if r["Type"] == "AWS::CodeBuild::Project"]
    specs = [json.loads(p["Properties"]["Source"]["BuildSpec"]) for p in projects
             if "BuildSpec" in p["Properties"]["Source"]]  # fmt: skip
    synth = [s for s in specs if "make synth" in json.dumps(s)]
    assert len(synth) == 1
    assert synth[0]["phases"]["install"]["commands"] == ["make deps-synth"]
    assert synth[0]["phases"]["build"]["commands"][0] == "make synth"


def test_models_are_shared_from_dev_with_staging_and_prod(
    delivered: Delivered,
) -> None:
    stack, templates, _ = delivered
    source = SharedModelSource.for_stack("MlopsLevel3-dev", account=DEV, region=REGION)
    dev = json.dumps(_load(templates[f"{STAGE}dev/MlopsLevel3-dev"]))
    assert source.artifacts_bucket_name in dev
    for account in (STAGING, PROD):  # Fn::Join("", ["arn:", partition, ":iam::<account>..."])
        assert f":iam::{account}:role{MODEL_READER_PATH}*" in dev
    assert stack.stages["dev"].consumer_stack is None
    for env, account in (("staging", STAGING), ("prod", PROD)):
        consumer = stack.stages[env].consumer_stack
        assert consumer is not None and consumer.reader.source == source
        assert consumer.account == account
        text = json.dumps(_load(templates[f"{STAGE}{env}/SharedModels"]))
        assert source.artifacts_bucket_name in text and source.key_alias in text


def test_every_template_passes_cfn_lint(delivered: Delivered) -> None:
    templates = delivered.templates
    for name, path in templates.items():
        assert cfn_lint(path, (REGION,)) == [], name


def test_the_pipeline_template_passes_checkov(
    delivered: Delivered,
) -> None:
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed at {CHECKOV}; run 'make deps'")
    templates = delivered.templates
    paths = [templates["MlopsDelivery"], templates[f"{STAGE}prod/SharedModels"]]
    results = checkov(paths, str(CHECKOV))
    assert {p.name: failed for p, (failed, _) in results.items()} == {p.name: [] for p in paths}


# -- failures --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"level": 5}, "level=5 is not allowed"),
        ({"environments": []}, "environments=\\[\\] is not allowed"),
        ({"environments": [environment_config("dev", {})]}, "'dev' has account=None"),
        ({"environments": [*_envs(), _envs()[0]]}, "repeat a name"),
        ({"registry_environment": "qa"}, "registry_environment='qa' is not allowed"),
        ({"approval_before": ("production",)}, "approval_before=\\('production',\\)"),
        ({"approval_before": "prod"}, "approval_before='prod' is not allowed"),
    ],
)
def test_fails_clearly(kwargs: dict[str, Any], message: str) -> None:
    props: dict[str, Any] = {"level": 3, "environments": _envs(), **kwargs}
    with pytest.raises(ValueError, match=message):
        DeliveryStack(new_app(), "D", env=cdk.Environment(account=TOOLING, region=REGION), **props)


def _context() -> dict[str, Any]:
    zones = [f"{REGION}a", f"{REGION}b"]
    envs = {
        name: {"account": account, "region": REGION, "availability_zones": zones}
        for name, account in (
            ("tooling", TOOLING),
            ("dev", DEV),
            ("staging", STAGING),
            ("prod", PROD),
        )
    }
    return {CONTEXT_ENVIRONMENTS: envs}


def test_app_builds_the_pipeline_with_delivery_context() -> None:
    app = build_app(new_app(delivery="2", **_context(), **{"delivery-environments": "dev,prod"}))
    (stack,) = [c for c in app.node.children if isinstance(c, cdk.Stack)]
    assert isinstance(stack, DeliveryStack) and stack.account == TOOLING
    assert list(stack.stages) == ["dev", "prod"]
    assert stack.stages["prod"].level_stack.stack_name == "MlopsLevel2-prod"


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"delivery": "9"}, "-c delivery='9' is not allowed"),
        ({"delivery": "3", CONTEXT_ENVIRONMENTS: {}}, "needs a 'tooling' environment"),
        ({"delivery": "3", "delivery-environments": "dev,qa"}, "unknown \\['qa'\\]"),
    ],
)
def test_app_delivery_switch_fails_clearly(context: dict[str, Any], message: str) -> None:
    with pytest.raises(EnvironmentConfigError, match=message):
        build_app(new_app(**{**_context(), **context}))


def test_the_readme_shows_these_accounts_and_stages(
    delivered: Delivered,
) -> None:
    # regenerate: python -m cdk_mlops.diagram --delivery <this assembly> --readme README.md
    readme = (ROOT / "README.md").read_text()
    block = readme_block(readme, "MlopsDelivery")
    assert block is not None, "README has no diagram block for MlopsDelivery"
    assert block.strip() == delivery_mermaid(delivered.assembly).strip()
