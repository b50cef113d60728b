"""Champion/challenger: register a retrained model only if it is at least as good as production.

Both models are evaluated on the same test split (``evaluation.json`` each, see
:func:`pipeline_code.evaluation.evaluate.evaluate`). :func:`compare_with_champion` passes when
``challenger >= champion - margin`` for a metric where higher is better (``auc``, ``f1``...) or
``challenger <= champion + margin`` for a ``*_difference`` metric (lower is fairer). No champion
(``None``, the first model or a run without ``ChampionModelUri``) always passes: today's
behaviour. :func:`record_champion_comparison` writes both figures into the challenger's
``evaluation.json`` (section ``champion_challenger``), so the model package records them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ..evaluation.gate import _load, _lookup, _to_float

SECTION: Final = "champion_challenger"
"""Key of the comparison in the challenger's ``evaluation.json``."""


@dataclass(frozen=True)
class ChampionComparison:
    """Both figures, the margin and the decision."""

    passed: bool
    metric: str
    challenger: float | None
    champion: float | None
    margin: float
    message: str

    def to_record(self) -> dict[str, Any]:
        """The ``champion_challenger`` section of ``evaluation.json`` (strict JSON)."""
        return {
            "metric": self.metric,
            "challenger": self.challenger,
            "champion": self.champion,
            "margin": self.margin,
            "passed": self.passed,
            "message": self.message,
        }


def _check_margin(margin: float) -> float:
    value = float(margin)
    if not math.isfinite(value) or not 0.0 <= value < 1.0:
        raise ValueError(
            f"margin must be in [0, 1), got {margin!r}: e.g. 0.01 lets the challenger be up to "
            "0.01 worse than the champion"
        )
    return value


def compare_with_champion(
    challenger: dict[str, Any] | str | Path,
    champion: dict[str, Any] | str | Path | None,
    *,
    metric: str = "auc",
    margin: float = 0.0,
) -> ChampionComparison:
    """Compare the challenger's ``metric`` with the champion's, both from ``evaluation.json``."""
    tolerance = _check_margin(margin)
    new = _to_float(_lookup(_load(challenger), metric))
    if champion is None:
        return ChampionComparison(
            passed=True,
            metric=metric,
            challenger=new,
            champion=None,
            margin=tolerance,
            message="no champion: nothing to compare with",
        )
    old = _to_float(_lookup(_load(champion), metric))
    lower_is_better = metric.endswith("_difference")
    if new is None or old is None:
        which = "challenger" if new is None else "champion"
        return ChampionComparison(
            passed=False,
            metric=metric,
            challenger=new,
            champion=old,
            margin=tolerance,
            message=f"{metric} of the {which} is undefined; cannot compare",
        )
    if lower_is_better:
        passed = new <= old + tolerance
        rule = f"challenger {new:.6g} <= champion {old:.6g} + margin {tolerance:g}"
    else:
        passed = new >= old - tolerance
        rule = f"challenger {new:.6g} >= champion {old:.6g} - margin {tolerance:g}"
    return ChampionComparison(
        passed=passed,
        metric=metric,
        challenger=new,
        champion=old,
        margin=tolerance,
        message=f"{metric}: {rule} is {str(passed).lower()}",
    )


def record_champion_comparison(
    evaluation_path: str | Path, comparison: ChampionComparison
) -> dict[str, Any]:
    """Add the comparison to the challenger's ``evaluation.json``; return the updated data."""
    path = Path(evaluation_path)
    data = _load(path)
    data[SECTION] = comparison.to_record()
    path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return data
