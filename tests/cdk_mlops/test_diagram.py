"""The README's architecture diagrams are generated from the templates and stay current."""

from __future__ import annotations

import json
from pathlib import Path

from cdk_mlops.checks import stack_templates
from cdk_mlops.diagram import diagram_for, mermaid, readme_block, update_readme
from tests.cdk_mlops.helpers import ROOT


def test_readme_diagrams_match_a_fresh_synth(assembly: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    for stack, template in stack_templates(assembly).items():
        block = readme_block(readme, stack)
        assert block is not None, f"README has no diagram block for {stack}"
        assert block.strip() == diagram_for(template).strip(), (
            f"the {stack} diagram is stale: run `make synth` then "
            f"`python -m cdk_mlops.diagram cdk.out/{stack}.template.json --readme README.md`"
        )


def test_edges_follow_references_between_constructs() -> None:
    template = {
        "Resources": {
            "Key": {"Type": "AWS::KMS::Key", "Metadata": {"aws:cdk:path": "S/Keys/Data/Resource"}},
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketEncryption": {"KmsMasterKeyID": {"Fn::GetAtt": ["Key", "Arn"]}}
                },
                "Metadata": {"aws:cdk:path": "S/Lake/Raw/Resource"},
            },
            "Policy": {
                "Type": "AWS::IAM::Policy",
                "Metadata": {"aws:cdk:path": "S/Lake/Raw/Policy/Resource"},
            },
        }
    }
    text = mermaid(template)
    assert "Lake --> Keys" in text
    assert "IAM::Policy" not in text  # plumbing is left out
    assert 'Keys["<b>Keys</b><br/>KMS::Key"]' in text


def test_update_readme_replaces_only_its_block(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("a\n<!-- diagram:S -->\nold\n<!-- /diagram -->\nb\n")
    template = tmp_path / "S.template.json"
    template.write_text(json.dumps({"Resources": {}}))
    assert update_readme(readme, "S", diagram_for(template))
    assert readme.read_text().startswith("a\n<!-- diagram:S -->\n```mermaid")
    assert readme.read_text().endswith("```\n<!-- /diagram -->\nb\n")
    assert not update_readme(readme, "S", diagram_for(template))
