"""examples/pipeline_definition.py runs and prints a definition SageMaker's API shapes accept."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cdk_mlops.pipelines.test_schema import unexplained
from tests.cdk_mlops.pipelines.validators import schema_errors, validate_definition_requests

ROOT = Path(__file__).resolve().parents[3]


def test_example_script_prints_a_valid_definition() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "pipeline_definition.py")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    definition = json.loads(done.stdout)
    assert [s["Name"] for s in definition["Steps"]] == ["FitAndScore", "ScoreHighEnough"]
    result = validate_definition_requests(definition)
    assert result == {"FitAndScore": [], "Register": []}
    assert unexplained(schema_errors(definition)) == []
