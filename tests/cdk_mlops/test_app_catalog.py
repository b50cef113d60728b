"""``-c catalog=true``: app.py adds the Service Catalog portfolio of the selected levels, whose
product templates the gates find; bad switches fail naming the switch and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import build_app
from cdk_mlops.checks import cfn_lint, stack_templates
from cdk_mlops.environments import EnvironmentConfigError
from tests.cdk_mlops.helpers import new_app

STUDIO = "arn:aws:iam::111111111111:role/StudioExecution"


def test_catalog_of_the_selected_level_is_added_and_gated(tmp_path: Path) -> None:
    app = new_app(
        outdir=str(tmp_path),
        catalog="true",
        level="1",
        **{"catalog-principals": STUDIO},
    )
    build_app(app).synth()  # every nag pack, product stacks included
    templates = stack_templates(tmp_path)
    assert set(templates) == {"MlopsLevel1", "MlopsCatalog", "MlopsCatalog/Level1Template"}
    product = templates["MlopsCatalog/Level1Template"].read_text()
    assert "AWS::SageMaker::Domain" in product
    catalog = templates["MlopsCatalog"].read_text()
    assert STUDIO in catalog and "sagemaker:studio-visibility" in catalog
    assert cfn_lint(templates["MlopsCatalog"], ("us-east-1",)) == []


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"catalog": "yes"}, "-c catalog='yes' is not allowed. Use true"),
        ({"catalog": "true"}, "needs -c catalog-principals=<role ARN>"),
    ],
)
def test_bad_catalog_switches_fail_naming_the_fix(context: dict[str, str], message: str) -> None:
    with pytest.raises(EnvironmentConfigError, match=message):
        build_app(new_app(**context))


def test_no_catalog_by_default() -> None:
    app = build_app(new_app(level="1"))
    assert app.node.try_find_child("MlopsCatalog") is None
