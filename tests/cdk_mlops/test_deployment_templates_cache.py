"""The endpoint templates are synthesized once per process for equal settings, and each caller
gets its own copy."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from cdk_mlops.constructs import _deployment_templates as dt
from cdk_mlops.constructs.model_endpoint import TrafficRouting
from cdk_mlops.stacks.endpoint import EndpointStageSettings


def test_equal_settings_synthesize_once_and_callers_get_copies(monkeypatch: Any) -> None:
    calls: list[str] = []
    monkeypatch.setattr(dt, "_TEMPLATES", {})
    monkeypatch.setattr(dt, "_synth", lambda s: calls.append(s.stage) or {"Resources": {}})
    first = dt.synth_template(EndpointStageSettings(stage="prod", instance_count=2))
    first["Resources"]["Mutated"] = {}
    again = dt.synth_template(EndpointStageSettings(stage="prod", instance_count=2))
    assert calls == ["prod"] and again == {"Resources": {}}
    dt.synth_template(EndpointStageSettings(stage="prod", instance_count=3))
    routed = EndpointStageSettings(
        stage="prod",
        instance_count=2,
        traffic_routing=TrafficRouting.canary(instances=1, wait=cdk.Duration.minutes(10)),
    )
    dt.synth_template(routed)
    assert calls == ["prod", "prod", "prod"]  # other settings, other templates


def test_a_setting_without_a_stable_key_is_an_error() -> None:
    with pytest.raises(TypeError, match="no stable key for object"):
        dt._plain(object())
