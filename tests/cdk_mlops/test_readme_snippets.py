"""The README's level snippets run as written (they are what a new user copies first)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cdk_mlops.helpers import ROOT, new_app

README = (ROOT / "README.md").read_text()


def _snippet(marker: str) -> str:
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", README, re.S) if marker in b]
    return block


def test_the_level_snippets_synthesize_with_every_compliance_pack(tmp_path: Path) -> None:
    level1 = _snippet('InitialStack(\n    app,\n    "MlopsLevel1"')
    level2 = _snippet('RepeatableStack(\n    app,\n    "MlopsLevel2"')
    assert "app = cdk.App()" in level1 and "app.synth()" in level1
    # The project's feature flags and a scratch output folder instead of the snippet's own App;
    # both stacks are synthesized together, with the compliance checks level 1's snippet adds.
    app = new_app(outdir=str(tmp_path))
    level1 = level1.replace("app = cdk.App()", "").replace("app.synth()", "")
    exec(compile(level1, "README level 1", "exec"), {"app": app})
    exec(compile(level2, "README level 2", "exec"), {"app": app})
    app.synth()  # raises on any unacknowledged cdk-nag finding
    assert {p.name for p in tmp_path.glob("*.template.json")} == {
        "MlopsLevel1.template.json",
        "MlopsLevel2.template.json",
    }
