"""Fixtures shared by the construct tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import build_app
from tests.cdk_mlops.helpers import new_app


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """app.py synthesized once per test worker, with every cdk-nag pack (raises on a finding)."""
    out = tmp_path_factory.mktemp("cdk.out")
    build_app(new_app(outdir=str(out))).synth()
    return out
