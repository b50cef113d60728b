"""The project-templates example: a portfolio the Studio execution role may launch from, every
compliance pack, cfn-lint and the product templates found by the gates."""

from __future__ import annotations

from pathlib import Path

from aws_cdk.assertions import Template

from cdk_mlops.checks import cfn_lint, stack_templates
from cdk_mlops.compliance import add_compliance_checks
from examples.catalog import STUDIO_EXECUTION_ROLE, project_templates
from tests.cdk_mlops.helpers import new_app


def test_catalog_example(tmp_path: Path) -> None:
    app = new_app(outdir=str(tmp_path))
    add_compliance_checks(app)
    stack = project_templates(app, levels=(1, 2))
    app.synth()  # raises on any unacknowledged cdk-nag finding, in the products too
    templates = stack_templates(tmp_path)
    assert set(templates) == {
        "MlopsProjectTemplates",
        "MlopsProjectTemplates/Level1Template",
        "MlopsProjectTemplates/Level2Template",
    }
    for path in templates.values():
        assert cfn_lint(path, ("eu-west-1",)) == [], path.name
    Template.from_stack(stack).has_resource_properties(
        "AWS::ServiceCatalog::PortfolioPrincipalAssociation",
        {"PrincipalARN": STUDIO_EXECUTION_ROLE},
    )
