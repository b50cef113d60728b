"""Templates for new projects: the Service Catalog portfolio with a product per maturity level.

The catalog is synthesized once per environment (environment-agnostic and a named account and
region) with every cdk-nag pack; each product template must pass the gates the level stacks
pass (cfn-lint, checkov, ``cdk-mlops check``) and hold what the level stack holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from cdk_mlops import checks, cli
from cdk_mlops.checks import StackReport, check_assembly, stack_templates
from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.constructs._util import launch_scoped_names, stack_scoped_name
from cdk_mlops.levels import RepeatableSettings
from cdk_mlops.stacks import CatalogStack, compose_level
from cdk_mlops.stacks.catalog import SAGEMAKER_PROJECT_PARAMETERS, STUDIO_VISIBILITY_TAG
from cdk_mlops.stacks.compose import ScalableSettings
from tests.cdk_mlops.helpers import ROOT, new_app

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
LEVEL_COUNTS = json.loads(
    (Path(__file__).parent / "data" / "level_resource_counts.json").read_text()
)
STUDIO_ROLE = "arn:aws:iam::111111111111:role/StudioExecution"
TAGS = {"cost-centre": "ml-1234", "owner": "ml-platform", "data-classification": "internal"}
PRODUCTS = [f"MlopsCatalog/Level{n}Template" for n in (1, 2, 3, 4)]


@dataclass
class Catalog:
    assembly: Path
    stack: CatalogStack
    template: Template
    reports: dict[str, StackReport]

    def product(self, level: int) -> dict[str, Any]:
        path = stack_templates(self.assembly)[f"MlopsCatalog/Level{level}Template"]
        data: dict[str, Any] = json.loads(path.read_text())
        return data


@pytest.fixture(
    scope="module", params=[None, ("111111111111", "eu-west-1")], ids=["agnostic", "eu-west-1"]
)
def catalog(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    out = tmp_path_factory.mktemp("cdk.out-catalog")
    app = new_app(outdir=str(out))
    add_compliance_checks(app)
    env = (
        {}
        if request.param is None
        else {"env": cdk.Environment(account=request.param[0], region=request.param[1])}
    )
    stack = CatalogStack(
        app,
        "MlopsCatalog",
        principal_arns=[STUDIO_ROLE],
        scalable=ScalableSettings(tags=TAGS),
        **env,  # type: ignore[arg-type]
    )
    app.synth()  # raises on any unacknowledged cdk-nag finding, in the products too
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed at {CHECKOV}; run 'make deps'")
    reports = {r.stack: r for r in check_assembly(out, checkov_executable=str(CHECKOV))}
    return Catalog(out, stack, Template.from_stack(stack), reports)


def test_every_product_template_is_found_by_the_gates(catalog: Catalog) -> None:
    assert set(PRODUCTS) <= set(stack_templates(catalog.assembly))
    for name in PRODUCTS:
        assert stack_templates(catalog.assembly)[name].name.endswith(".product.template.json")


@pytest.mark.parametrize("name", ["MlopsCatalog", *PRODUCTS])
def test_every_template_passes_cfn_lint_and_checkov(catalog: Catalog, name: str) -> None:
    report = catalog.reports[name]
    assert report.cfn_lint == [], name
    assert report.checkov_ran
    assert report.checkov_failed == [], name
    assert report.ok


def test_no_pack_reports_an_unacknowledged_finding(catalog: Catalog) -> None:
    # app.synth() raised otherwise; the report it wrote says so pack by pack
    report = json.loads((catalog.assembly / "validation-report.json").read_text())
    assert len(report["pluginReports"]) == 4
    assert [p["violations"] for p in report["pluginReports"]] == [[], [], [], []]


def test_products_acknowledge_nag_findings_of_their_own(catalog: Catalog) -> None:
    # the products' acknowledgments are counted under the product, not the catalog
    acks = {name: catalog.reports[name].nag_acknowledgments for name in PRODUCTS}
    assert all(n > 0 for n in acks.values()), acks
    assert acks["MlopsCatalog/Level1Template"] < acks["MlopsCatalog/Level2Template"]
    assert catalog.reports["MlopsCatalog"].nag_acknowledgments < min(acks.values()) + 20


def test_cdk_mlops_check_lists_the_products(catalog: Catalog) -> None:
    # check_assembly is what `cdk-mlops check` runs; its table names each product template
    table = checks.format_table(list(catalog.reports.values()))
    for name in PRODUCTS:
        assert f"{name} " in table


def test_the_check_command_gates_the_products(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # `cdk-mlops check` itself, with a cfn-lint that records what it is given (the real one ran
    # in the fixture) and checkov off
    linted: list[str] = []
    monkeypatch.setattr(checks, "cfn_lint", lambda path, *_: linted.append(path.name) or [])
    assert cli.main(["check", str(catalog.assembly), "--no-checkov"]) == 0
    table = capsys.readouterr().out
    assert all(f"{name} " in table for name in PRODUCTS)
    assert sum(name.endswith(".product.template.json") for name in linted) == 4


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_each_product_holds_what_the_level_stack_deploys(catalog: Catalog, level: int) -> None:
    product = catalog.product(level)
    counts: dict[str, int] = {}
    for resource in product["Resources"].values():
        counts[resource["Type"]] = counts.get(resource["Type"], 0) + 1
    assert counts == LEVEL_COUNTS[f"MlopsLevel{level}"]
    assert set(SAGEMAKER_PROJECT_PARAMETERS) <= set(product["Parameters"])
    assert "BootstrapVersion" not in product.get("Parameters", {})


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_each_product_has_the_logical_ids_of_the_level_stack(
    catalog: Catalog, assembly: Path, level: int
) -> None:
    # compose_level builds the same construct tree, so the same logical ids; only the security
    # group's rules on itself name the stack path
    stack = json.loads(stack_templates(assembly)[f"MlopsLevel{level}"].read_text())["Resources"]
    product = catalog.product(level)["Resources"]
    assert {k for k in set(stack) ^ set(product) if "SecurityGroup" not in k} == set()
    assert len(set(stack) - set(product)) == len(set(product) - set(stack)) == 2


def test_launch_scoped_names_fit_every_name_rule() -> None:
    stack = cdk.Stack(new_app(), "MlopsLevel9")
    launch_scoped_names(stack, "mlops-l9")
    glue = stack.resolve(
        stack_scoped_name(stack, "mlops", max_length=255, separator="_", lowercase=True)
    )
    assert glue["Fn::Join"][1][0] == "mlops_l9_" and glue["Fn::Join"][1][2] == "_mlops"
    assert "AWS::StackId" in json.dumps(glue)
    # cut to the limit around the launch id, with a hash of the full name
    cut = stack.resolve(stack_scoped_name(stack, "x" * 80, max_length=40))
    literal = "".join(p for p in cut["Fn::Join"][1] if isinstance(p, str))
    assert len(literal) + 8 <= 40 and literal.startswith("mlops-l9-")
    with pytest.raises(ValueError, match=r"12 characters cannot hold the launch-scoped prefix"):
        stack_scoped_name(stack, "suffix", max_length=12)
    # a stack that is not launch-scoped keeps its stack-name names
    assert stack_scoped_name(cdk.Stack(new_app(), "Plain"), "x", max_length=63) == "Plain-x"


@pytest.mark.parametrize("level", [2, 4])
def test_account_unique_names_are_launch_scoped(catalog: Catalog, level: int) -> None:
    # a product launched twice in one account and region must not collide on a name
    product = catalog.product(level)
    named = {
        "AWS::Glue::SecurityConfiguration": "Name",
        "AWS::SageMaker::ModelPackageGroup": "ModelPackageGroupName",
        "AWS::SageMaker::Pipeline": "PipelineName",
        "AWS::SageMaker::Domain": "DomainName",
        "AWS::KMS::Alias": "AliasName",
    }
    seen = 0
    for resource in product["Resources"].values():
        prop = named.get(resource["Type"])
        if prop is not None:
            assert "AWS::StackId" in json.dumps(resource["Properties"][prop]), resource["Type"]
            seen += 1
    assert seen >= 7
    assert "MlopsCatalog" not in json.dumps(
        [r["Properties"].get("Name") for r in product["Resources"].values()]
    )


def test_each_product_is_visible_in_sagemaker_projects(catalog: Catalog) -> None:
    products = catalog.template.find_resources("AWS::ServiceCatalog::CloudFormationProduct")
    assert len(products) == 4
    key, value = STUDIO_VISIBILITY_TAG
    for resource in products.values():
        assert {"Key": key, "Value": value} in resource["Properties"]["Tags"]


def test_each_product_launches_with_the_launch_role(catalog: Catalog) -> None:
    constraints = catalog.template.find_resources("AWS::ServiceCatalog::LaunchRoleConstraint")
    products = catalog.template.find_resources("AWS::ServiceCatalog::CloudFormationProduct")
    role = catalog.stack.resolve(catalog.stack.launch_role.role_arn)
    assert {json.dumps(c["Properties"]["ProductId"]) for c in constraints.values()} == {
        json.dumps({"Ref": p}) for p in products
    }
    assert all(c["Properties"]["RoleArn"] == role for c in constraints.values())
    associations = catalog.template.find_resources(
        "AWS::ServiceCatalog::PortfolioProductAssociation"
    )
    assert len(associations) == 4


def test_the_principals_may_launch(catalog: Catalog) -> None:
    catalog.template.resource_count_is("AWS::ServiceCatalog::PortfolioPrincipalAssociation", 1)
    catalog.template.has_resource_properties(
        "AWS::ServiceCatalog::PortfolioPrincipalAssociation",
        {"PrincipalARN": STUDIO_ROLE, "PrincipalType": "IAM"},
    )


def test_only_service_catalog_of_this_account_assumes_the_launch_role(catalog: Catalog) -> None:
    catalog.template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "servicecatalog.amazonaws.com"},
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
                        },
                    }
                ]
            }
        },
    )


def test_the_launch_role_may_do_what_the_products_need_and_no_more(catalog: Catalog) -> None:
    policies = catalog.template.find_resources("AWS::IAM::ManagedPolicy")
    (policy,) = policies.values()
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    services = {a.split(":")[0] for a in statements["ServicesOfTheProductResources"]["Action"]}
    assert {"glue", "sagemaker", "ec2", "kms", "codepipeline", "states", "lambda"} <= services
    assert not {"iam", "organizations", "sts", "cloudformation"} & services
    # IAM only on the roles and policies of Service Catalog's stacks (SC-...)
    iam_resources = json.dumps(statements["RolesOfTheProvisionedStacks"]["Resource"])
    assert ":role/SC-*" in iam_resources and ":policy/*SC-*" in iam_resources
    assert ":stack/SC-*" in json.dumps(statements["ProvisionedStacks"]["Resource"])


def test_the_asset_bucket_is_encrypted_versioned_logged_and_ssl_only(catalog: Catalog) -> None:
    t = catalog.template
    t.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": Match.any_value(),
            "VersioningConfiguration": {"Status": "Enabled"},
            "LoggingConfiguration": Match.object_like({"LogFilePrefix": "assets/"}),
            "BucketEncryption": Match.any_value(),
        },
    )
    t.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            }
        },
    )
    # the asset copy runs after the bucket exists
    (copy,) = t.find_resources("Custom::CDKBucketDeployment").values()
    bucket_ids = [
        k for k, v in t.find_resources("AWS::S3::Bucket").items() if "BucketName" in v["Properties"]
    ]
    assert set(bucket_ids) <= set(copy.get("DependsOn", []))


# -- a smaller catalog with the user's own launch role and asset bucket --------------------


def test_uses_the_launch_role_and_bucket_given(tmp_path: Path) -> None:
    app = new_app(outdir=str(tmp_path))
    add_compliance_checks(app)
    stack = CatalogStack(
        app,
        "Own",
        levels=(1,),
        principal_arns=[STUDIO_ROLE],
        principals=[iam.Group.from_group_name(cdk.Stack(app, "Groups"), "Team", "ml-team")],
        launch_role=iam.Role.from_role_arn(
            cdk.Stack(app, "Roles"), "Launch", "arn:aws:iam::111111111111:role/ScLaunch"
        ),
        asset_bucket=s3.Bucket.from_bucket_name(
            cdk.Stack(app, "Buckets"), "Assets", "team-sc-assets"
        ),
    )
    app.synth()  # the user's bucket: CDK's warning to grant access stays, and is no error
    t = Template.from_stack(stack)
    t.resource_count_is("AWS::IAM::Role", 1)  # the asset copy's handler role only
    t.resource_count_is("AWS::S3::Bucket", 0)
    t.has_resource_properties(
        "AWS::ServiceCatalog::LaunchRoleConstraint",
        {"RoleArn": "arn:aws:iam::111111111111:role/ScLaunch"},
    )
    t.has_resource_properties(
        "AWS::ServiceCatalog::PortfolioPrincipalAssociation",
        {"PrincipalARN": Match.any_value(), "PrincipalType": "IAM"},
    )
    t.resource_count_is("AWS::ServiceCatalog::PortfolioPrincipalAssociation", 2)
    product = stack_templates(tmp_path)["Own/Level1Template"].read_text()
    assert "team-sc-assets" in product  # the restrict-default-SG handler's code


# -- validation: one test per prop -------------------------------------------------------


def _catalog(**props: Any) -> CatalogStack:
    return CatalogStack(new_app(), "Catalog", **{"principal_arns": [STUDIO_ROLE], **props})


@pytest.mark.parametrize("levels", [(), (1, 1), (5,), (0, 2), "12"])
def test_fails_when_levels_are_not_maturity_levels(levels: Any) -> None:
    with pytest.raises(
        ValueError,
        match=r"CatalogStack at Catalog: levels=.* is not allowed\. Give one or more of \(1, 2, 3, 4\), each once",
    ):
        _catalog(levels=levels)


def test_fails_when_nobody_may_launch() -> None:
    with pytest.raises(
        ValueError, match=r"principals=\[\] is not allowed\. Nobody could launch the products"
    ):
        _catalog(principal_arns=[])


def test_fails_when_a_principal_arn_is_not_a_role() -> None:
    arn = "arn:aws:iam::111111111111:user/alice"
    with pytest.raises(
        ValueError,
        match=r"principal_arns='arn:aws:iam::111111111111:user/alice' is not allowed\. Give IAM role ARNs",
    ):
        _catalog(principal_arns=[arn])


def test_fails_when_principal_arns_is_a_string() -> None:
    with pytest.raises(ValueError, match=r"principal_arns='arn:.*' is not allowed\. Pass a list"):
        _catalog(principal_arns=STUDIO_ROLE)


def test_fails_when_a_principal_arn_is_named_twice() -> None:
    with pytest.raises(ValueError, match=r"Name each role ARN once"):
        _catalog(principal_arns=[STUDIO_ROLE, STUDIO_ROLE])


def test_fails_when_a_principal_is_not_an_iam_identity() -> None:
    with pytest.raises(
        ValueError, match=r"principals='StudioRole' is not allowed\. Each principal is an iam.IRole"
    ):
        _catalog(principals=["StudioRole"])


def test_fails_when_the_portfolio_name_is_blank() -> None:
    with pytest.raises(
        ValueError,
        match=r"portfolio_name='  ' is not allowed\. Give a non-empty name of at most 100",
    ):
        _catalog(portfolio_name="  ")


def test_fails_when_the_provider_name_is_too_long() -> None:
    with pytest.raises(
        ValueError,
        match=r"provider_name='xxx.*' is not allowed\. Give a non-empty name of at most 50",
    ):
        _catalog(provider_name="x" * 51)


def test_fails_when_the_version_name_is_empty() -> None:
    with pytest.raises(ValueError, match=r"version_name='' is not allowed\. Give a version name"):
        _catalog(version_name="")


def test_fails_when_the_product_owner_is_blank() -> None:
    with pytest.raises(ValueError, match=r"product_owner=' ' is not allowed\. Name who owns"):
        _catalog(product_owner=" ")


def test_fails_when_models_are_shared_with_consumer_accounts() -> None:
    with pytest.raises(
        ValueError,
        match=r"repeatable.model_consumer_accounts=\['222222222222'\] is not allowed\. A product's artifacts bucket is named at launch",
    ):
        _catalog(repeatable=RepeatableSettings(model_consumer_accounts=("222222222222",)))


def test_fails_when_a_created_asset_bucket_has_no_name() -> None:
    app = new_app()
    other = cdk.Stack(app, "Buckets")
    with pytest.raises(
        ValueError,
        match=r"asset_bucket='Buckets/Assets' is not allowed\. Product templates name their asset bucket literally",
    ):
        CatalogStack(
            app, "Catalog", principal_arns=[STUDIO_ROLE], asset_bucket=s3.Bucket(other, "Assets")
        )


def test_fails_when_a_launch_prefix_is_not_a_name_start() -> None:
    with pytest.raises(ValueError, match=r"launch_scoped_names: prefix='Mlops_L1' is not allowed"):
        launch_scoped_names(cdk.Stack(new_app(), "S"), "Mlops_L1")


def test_fails_when_compose_level_is_asked_for_level_5() -> None:
    with pytest.raises(ValueError, match=r"compose_level: level=5 is not allowed"):
        compose_level(cdk.Stack(new_app(), "S"), 5)


def test_copies_the_assets_into_a_named_bucket_of_another_stack() -> None:
    app = new_app()
    other = cdk.Stack(app, "Buckets")
    bucket = s3.Bucket(other, "Assets", bucket_name="team-sc-assets")
    stack = CatalogStack(
        app, "Catalog", levels=(1,), principal_arns=[STUDIO_ROLE], asset_bucket=bucket
    )
    assert other in stack.dependencies
    Template.from_stack(stack).has_resource_properties(
        "Custom::CDKBucketDeployment", {"DestinationBucketName": "team-sc-assets"}
    )
