"""Offer the maturity levels as SageMaker project templates: a Service Catalog portfolio whose
products are the level stacks, launchable by the Studio execution role (``docs/catalog.md``).

Run it: ``npx cdk synth --app "python -m examples.catalog"`` (no AWS account needed).
"""

from __future__ import annotations

import aws_cdk as cdk

from cdk_mlops.compliance import add_compliance_checks
from cdk_mlops.stacks import CatalogStack, ScalableSettings

#: The role SageMaker Studio's users work with (the domain's default execution role).
STUDIO_EXECUTION_ROLE = "arn:aws:iam::111111111111:role/StudioExecution"


def project_templates(app: cdk.App, *, levels: tuple[int, ...] = (1, 2, 3, 4)) -> CatalogStack:
    """The platform team's catalog in the tooling account: one product per level in ``levels``."""
    return CatalogStack(
        app,
        "MlopsProjectTemplates",
        levels=levels,
        portfolio_name="ML project templates",
        provider_name="ML platform team",
        principal_arns=[STUDIO_EXECUTION_ROLE],
        # level 4 refuses to synthesize without the mandatory tags
        scalable=ScalableSettings(
            tags={
                "cost-centre": "cc-1234",
                "owner": "ml-platform",
                "data-classification": "internal",
            }
        ),
        env=cdk.Environment(account="111111111111", region="eu-west-1"),
    )


if __name__ == "__main__":
    app = cdk.App()
    add_compliance_checks(app)
    project_templates(app)
    app.synth()
