"""Evaluate Step Functions JSONata expressions with the reference JSONata (npm ``jsonata``).

Step Functions evaluates ``{% ... %}`` with JSONata plus a few functions of its own; ``$uuid()``
is stubbed with a fixed value. ``$states`` and assigned workflow variables are bindings. One
node process per call evaluates a whole batch of expressions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
FIXED_UUID = "0123abcd-0000-4000-8000-000000000000"

_SCRIPT = r"""
const jsonata = require('jsonata');
let data = '';
process.stdin.on('data', d => (data += d)).on('end', async () => {
  const { expressions, bindings, uuid } = JSON.parse(data);
  const out = {};
  for (const [key, source] of Object.entries(expressions)) {
    const expr = jsonata(source);
    expr.registerFunction('uuid', () => uuid, '<:s>');
    const value = await expr.evaluate({}, bindings);
    out[key] = value === undefined ? null : value;
  }
  process.stdout.write(JSON.stringify(out));
});
"""


def available() -> bool:
    return shutil.which("node") is not None and (REPO / "node_modules" / "jsonata").is_dir()


def strip(expression: str) -> str:
    """The JSONata source of a ``"{% expr %}"`` field."""
    if not (expression.startswith("{%") and expression.endswith("%}")):
        raise ValueError(f"not a JSONata field: {expression!r}")
    return expression[2:-2].strip()


def evaluate(expressions: dict[str, str], bindings: dict[str, Any]) -> dict[str, Any]:
    """Each ``"{% expr %}"`` of ``expressions`` evaluated with ``bindings`` ($name -> value)."""
    request = {
        "expressions": {k: strip(v) for k, v in expressions.items()},
        "bindings": bindings,
        "uuid": FIXED_UUID,
    }
    proc = subprocess.run(
        ["node", "-e", _SCRIPT],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
        timeout=60,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"jsonata failed: {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def run_assign_chain(
    states: dict[str, Any], names: list[str], states_var: dict[str, Any]
) -> dict[str, Any]:
    """Run the ``Assign`` blocks of Pass states ``names`` in order, as Step Functions does: each
    state's expressions see the variables assigned by the states before it."""
    variables: dict[str, Any] = {}
    for name in names:
        assign = states[name]["Assign"]
        variables.update(evaluate(assign, {**variables, "states": states_var}))
    return variables
