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


def test_the_docs_example_synthesizes(tmp_path: Path) -> None:
    import re

    from tests.cdk_mlops.helpers import ROOT

    page = (ROOT / "docs" / "catalog.md").read_text()
    (snippet,) = [b for b in re.findall(r"```python\n(.*?)```", page, re.S) if "CatalogStack(" in b]
    assert "app = cdk.App()" in snippet and "levels=(1, 2, 3, 4)" in snippet
    # level 1 only, the project's feature flags and a scratch folder: the rest runs as written
    snippet = snippet.replace("levels=(1, 2, 3, 4)", "levels=(1,)")
    snippet = snippet.replace("app = cdk.App()", "")
    exec(compile(snippet, "docs/catalog.md", "exec"), {"app": new_app(outdir=str(tmp_path))})
    assert set(stack_templates(tmp_path)) == {
        "MlopsProjectTemplates",
        "MlopsProjectTemplates/Level1Template",
    }
