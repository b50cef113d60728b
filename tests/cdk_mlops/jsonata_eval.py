"""Evaluate Step Functions JSONata expressions with the reference JSONata (npm ``jsonata``).

Step Functions evaluates ``{% ... %}`` with JSONata plus a few functions of its own; ``$uuid()``
is stubbed with a fixed value and ``$hash(text, algorithm)`` computed with node's crypto. As in Step Functions, an expression that evaluates to nothing
(JSONata's ``undefined``, e.g. ``$max([])``) is an error (``States.QueryEvaluationError``). ``$states`` and assigned workflow variables are bindings. One
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
const crypto = require('crypto');
const HASHES = { 'MD5': 'md5', 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
let data = '';
process.stdin.on('data', d => (data += d)).on('end', async () => {
  const { expressions, bindings, uuid } = JSON.parse(data);
  const out = {};
  for (const [key, source] of Object.entries(expressions)) {
    const expr = jsonata(source);
    expr.registerFunction('uuid', () => uuid, '<:s>');
    expr.registerFunction('hash', (text, algorithm) =>
      crypto.createHash(HASHES[algorithm]).update(text).digest('hex'), '<ss:s>');
    const value = await expr.evaluate({}, bindings);
    if (value === undefined) {
      // Step Functions: an expression must produce a defined value (States.QueryEvaluationError)
      process.stderr.write(`States.QueryEvaluationError: ${key} evaluated to undefined\n`);
      process.exit(3);
    }
    out[key] = value;
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


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


def evaluate(expressions: dict[str, Any], bindings: dict[str, Any]) -> dict[str, Any]:
    """Each ``"{% expr %}"`` of ``expressions`` evaluated with ``bindings`` ($name -> value);
    other values are literals, as in Step Functions."""
    literals = {k: v for k, v in expressions.items() if not is_expression(v)}
    if len(literals) == len(expressions):
        return literals
    request = {
        "expressions": {k: strip(v) for k, v in expressions.items() if is_expression(v)},
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
    return {**literals, **result}


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
