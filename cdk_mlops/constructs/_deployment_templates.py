"""Synthesize the staging and prod endpoint templates (``EndpointStack``) in a private ``cdk.App``.

The templates are plain CloudFormation: every account-specific value is a parameter, and the
private App turns off the bootstrap-version rule, so they need nothing but their parameters
(the endpoint stack has no assets). Nothing here needs an approved model or an AWS call.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk

#: File names inside the templates asset (and so inside the ``Templates`` pipeline artifact).
STAGING_TEMPLATE = "staging.template.json"
PROD_TEMPLATE = "prod.template.json"
SMOKE_SAMPLE = "smoke-sample.csv"


if TYPE_CHECKING:
    from cdk_mlops.stacks.endpoint import EndpointStageSettings as StageSettings


#: Templates already synthesized in this process, by settings (``_settings_key``): the level 3
#: and 4 stacks of an environment, and environments with the same endpoint settings, share them.
_TEMPLATES: dict[str, str] = {}


def _plain(value: Any) -> Any:
    """``value`` as JSON-able data: dataclasses by field, ``Duration`` in ISO 8601."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__class__": type(value).__qualname__, **fields}
    if isinstance(value, cdk.Duration):
        return {"__duration__": value.to_iso_string()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"no stable key for {type(value).__name__} {value!r}")


def _settings_key(settings: StageSettings) -> str:
    return json.dumps(_plain(settings), sort_keys=True)


def synth_template(settings: StageSettings) -> dict[str, Any]:
    """The ``EndpointStack`` template for ``settings``, synthesized in its own App and outdir
    (once per process for equal settings: the private App depends on nothing else)."""
    key = _settings_key(settings)
    if key not in _TEMPLATES:
        _TEMPLATES[key] = json.dumps(_synth(settings))
    result: dict[str, Any] = json.loads(_TEMPLATES[key])  # a fresh copy for each caller
    return result


def _synth(settings: StageSettings) -> dict[str, Any]:
    from cdk_mlops.stacks.endpoint import EndpointStack  # lazily: the stack imports constructs

    with tempfile.TemporaryDirectory(prefix="cdk-mlops-endpoint-") as outdir:
        app = cdk.App(
            outdir=outdir,
            analytics_reporting=False,
            default_stack_synthesizer=cdk.DefaultStackSynthesizer(
                generate_bootstrap_version_rule=False
            ),
            context={"aws:cdk:disable-asset-staging": True},
        )
        stack = EndpointStack(app, f"Endpoint-{settings.stage}", settings=settings)
        assembly = app.synth()
        doc: dict[str, Any] = assembly.get_stack_by_name(stack.stack_name).template
    return doc


def build_templates_dir(staging: StageSettings, prod: StageSettings, smoke_sample: Path) -> Path:
    """A folder (named by its content hash, so synths are deterministic) holding both templates and
    the smoke-test sample."""
    files = {
        STAGING_TEMPLATE: (
            json.dumps(synth_template(staging), indent=1, sort_keys=True) + "\n"
        ).encode(),
        PROD_TEMPLATE: (json.dumps(synth_template(prod), indent=1, sort_keys=True) + "\n").encode(),
        SMOKE_SAMPLE: smoke_sample.read_bytes(),
    }
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    out = Path(tempfile.gettempdir()) / "cdk-mlops-endpoint-templates" / digest.hexdigest()[:16]
    if not out.is_dir():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".partial-", dir=out.parent))
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        try:
            tmp.replace(out)  # atomic: parallel synths never see half a folder
        except OSError:
            shutil.rmtree(
                tmp, ignore_errors=True
            )  # another synth won the race with the same content
    return out
