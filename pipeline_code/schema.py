"""The dataset contract: one JSON file describes a tabular binary-classification data set.

Every step (ETL, preprocess, train, evaluate, inference, monitoring) reads the same
``Schema`` so that any CSV with a schema file runs through the pipeline with no code change.

Example (``schemas/churn.json`` is the full one)::

    {
      "name": "customer_churn",
      "id_column": "customer_id",
      "target": {"name": "churned", "positive": 1, "negative": 0},
      "timestamp_column": "signup_date",
      "features": [
        {"name": "tenure_months", "type": "integer", "min": 0, "max": 120},
        {"name": "monthly_charges", "type": "float", "min": 0, "max": 500, "nullable": true},
        {"name": "contract_type", "type": "categorical",
         "categories": ["month-to-month", "one-year", "two-year"]}
      ],
      "sensitive_attributes": [
        {"name": "gender", "type": "categorical", "categories": ["female", "male", "other"]}
      ]
    }

Sensitive attributes are carried through the data (and validated like features) but are
never fed to the model; evaluation uses them for bias metrics, by value for categorical ones and
by ``bins`` for numeric ones (``{"name": "age", "type": "integer", "bins": [30, 45, 65]}``).

Every field, its default and the matching rules (inclusive min/max, ``nullable`` false by
default, exact categories with numeric codes matched by value) are in docs/schema.md;
``cdk-mlops infer-schema data.csv`` drafts a schema for review.
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

FeatureType = Literal["integer", "float", "categorical", "boolean"]
FEATURE_TYPES: tuple[str, ...] = ("integer", "float", "categorical", "boolean")
NUMERIC_TYPES: frozenset[str] = frozenset({"integer", "float"})
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# Numbers as data files write them, one grammar for the ETL (both engines) and serving: plain
# decimals, and comma thousands groups only where unambiguous ("1,001.5", "1,234,567"; not
# "1,001", which means 1.001 in a decimal-comma locale). [0-9] rather than \d: Python's \d also
# matches non-ASCII digits, Java's does not.
NUMBER_PATTERN = (
    r"^[+-]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
    r"|[0-9]{1,3}(,[0-9]{3})+\.[0-9]+"
    r"|[0-9]{1,3}(,[0-9]{3}){2,}(\.[0-9]+)?)$"
)
_NUMBER_RE = re.compile(NUMBER_PATTERN)

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


class SchemaError(ValueError):
    """A schema file is malformed. The message names the field, the value and the fix."""


@dataclass(frozen=True, kw_only=True)
class ColumnSpec:
    """One typed column: a feature or a sensitive attribute."""

    name: str
    type: FeatureType
    min: float | None = None
    max: float | None = None
    categories: tuple[str, ...] = ()
    nullable: bool = False
    description: str = ""
    #: Edges that cut a numeric sensitive attribute into groups for bias metrics (see bin_label).
    bins: tuple[float, ...] = ()

    @property
    def is_numeric(self) -> bool:
        return self.type in NUMERIC_TYPES

    @property
    def is_categorical(self) -> bool:
        return self.type in ("categorical", "boolean")

    @property
    def numeric_codes(self) -> dict[float, str]:
        """The categories written as numbers, keyed by value (the first spelling wins).

        A value matches such a category whether it is written ``2``, ``2.0`` or ``"2"``, in the
        ETL and in serving alike. Booleans have none.
        """
        if self.type != "categorical":
            return {}
        codes: dict[float, str] = {}
        for category in self.categories:
            value = parse_number(category)
            if value is not None:
                codes.setdefault(value, category)
        return codes

    @property
    def allowed_categories(self) -> tuple[str, ...]:
        """The allowed string values of a categorical or boolean column."""
        if self.type == "boolean":
            return ("false", "true")
        return self.categories

    @property
    def bin_labels(self) -> tuple[str, ...]:
        """The group names of a binned column, lowest first: ``"< 18"``, ``"[18, 30)"``, ...
        ``">= 65"`` (each lower edge inclusive, each upper edge exclusive)."""
        if not self.bins:
            return ()
        edges = [_number_text(b) for b in self.bins]
        inner = [f"[{lo}, {hi})" for lo, hi in itertools.pairwise(edges)]
        return (f"< {edges[0]}", *inner, f">= {edges[-1]}")

    def bin_label(self, value: float) -> str:
        """The group of ``value`` among :attr:`bin_labels` (``bisect_right`` over the edges)."""
        return self.bin_labels[bisect.bisect_right(self.bins, value)]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.min is not None:
            out["min"] = self.min
        if self.max is not None:
            out["max"] = self.max
        if self.categories:
            out["categories"] = list(self.categories)
        if self.bins:
            out["bins"] = [_json_number(b) for b in self.bins]
        if self.nullable:
            out["nullable"] = True
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True, kw_only=True)
class TargetSpec:
    """The binary label: its column name and which raw value is the positive class."""

    name: str
    positive: str
    negative: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "positive": self.positive, "negative": self.negative}


@dataclass(frozen=True, kw_only=True)
class Schema:
    """A validated dataset contract. Build it with :meth:`from_dict` or :meth:`from_file`."""

    name: str
    id_column: str
    target: TargetSpec
    features: tuple[ColumnSpec, ...]
    sensitive_attributes: tuple[ColumnSpec, ...] = ()
    timestamp_column: str | None = None
    description: str = ""
    _by_name: dict[str, ColumnSpec] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        by_name = {c.name: c for c in (*self.features, *self.sensitive_attributes)}
        object.__setattr__(self, "_by_name", by_name)

    # ------------------------------------------------------------------ views
    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def numeric_features(self) -> list[str]:
        return [f.name for f in self.features if f.is_numeric]

    @property
    def categorical_features(self) -> list[str]:
        return [f.name for f in self.features if f.is_categorical]

    @property
    def sensitive_names(self) -> list[str]:
        return [s.name for s in self.sensitive_attributes]

    @property
    def typed_columns(self) -> tuple[ColumnSpec, ...]:
        """Features then sensitive attributes: every column whose values are checked."""
        return (*self.features, *self.sensitive_attributes)

    @property
    def all_columns(self) -> list[str]:
        """Every column of a clean record, in a stable order."""
        cols = [self.id_column]
        if self.timestamp_column:
            cols.append(self.timestamp_column)
        cols += [c.name for c in self.typed_columns]
        cols.append(self.target.name)
        return cols

    def column(self, name: str) -> ColumnSpec:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(
                f"column {name!r} is not a feature or sensitive attribute of schema "
                f"{self.name!r}; known columns: {sorted(self._by_name)}"
            ) from None

    # --------------------------------------------------------------- loading
    @classmethod
    def from_file(cls, path: str | Path) -> Schema:
        p = Path(path)
        try:
            raw = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SchemaError(
                f"schema file {str(p)!r} does not exist; pass the path of a JSON schema file"
            ) from None
        except json.JSONDecodeError as exc:
            raise SchemaError(
                f"schema file {str(p)!r} is not valid JSON ({exc}); fix the syntax"
            ) from None
        return cls.from_dict(raw, source=str(p))

    @classmethod
    def builtin(cls, name: str) -> Schema:
        """A schema shipped with the package, e.g. ``Schema.builtin("churn")``."""
        return cls.from_file(SCHEMA_DIR / f"{name}.json")

    @classmethod
    def from_dict(cls, raw: Any, *, source: str = "schema") -> Schema:
        if not isinstance(raw, dict):
            raise SchemaError(
                f"{source}: the top level must be a JSON object, got {type(raw).__name__}"
            )
        known = {
            "name",
            "id_column",
            "target",
            "features",
            "sensitive_attributes",
            "timestamp_column",
            "description",
        }
        unknown = sorted(set(raw) - known)
        if unknown:
            raise SchemaError(f"{source}: unknown keys {unknown}; allowed keys are {sorted(known)}")

        name = _req_name(raw, "name", source)
        id_column = _req_name(raw, "id_column", source)
        timestamp = raw.get("timestamp_column")
        if timestamp is not None:
            timestamp = _req_name(raw, "timestamp_column", source)

        t = raw.get("target")
        if not isinstance(t, dict):
            raise SchemaError(
                f"{source}: 'target' must be an object like "
                '{"name": "churned", "positive": 1, "negative": 0}, got ' + repr(t)
            )
        t_name = _req_name(t, "name", f"{source}: target")
        for key in ("positive", "negative"):
            if key not in t or isinstance(t[key], (dict, list)) or t[key] is None:
                raise SchemaError(
                    f"{source}: target.{key} must be the raw label value of the {key} class "
                    f"(a string or number), got {t.get(key)!r}"
                )
        pos, neg = _label(t["positive"]), _label(t["negative"])
        if pos == neg:
            raise SchemaError(
                f"{source}: target.positive and target.negative are both {pos!r}; they must differ"
            )
        target = TargetSpec(name=t_name, positive=pos, negative=neg)

        feats_raw = raw.get("features")
        if not isinstance(feats_raw, list) or not feats_raw:
            raise SchemaError(
                f"{source}: 'features' must be a non-empty list of column objects, got {feats_raw!r}"
            )
        features = tuple(_column(c, f"{source}: features[{i}]") for i, c in enumerate(feats_raw))
        sens_raw = raw.get("sensitive_attributes", [])
        if not isinstance(sens_raw, list):
            raise SchemaError(
                f"{source}: 'sensitive_attributes' must be a list of column objects, got {sens_raw!r}"
            )
        sensitive = tuple(
            _column(c, f"{source}: sensitive_attributes[{i}]") for i, c in enumerate(sens_raw)
        )
        for s in sensitive:
            if s.is_numeric and not s.bins:
                raise SchemaError(
                    f"{source}: sensitive attribute {s.name!r} has type {s.type!r} but no 'bins'; bias "
                    'metrics need groups: add bin edges such as "bins": [18, 30, 45, 65] (groups '
                    "< 18, [18, 30), ..., >= 65) or make it type 'categorical'"
                )
        for i, f in enumerate(features):
            if f.bins:
                raise SchemaError(
                    f"{source}: features[{i}] ({f.name}): 'bins' only group sensitive attributes "
                    "for bias metrics; remove 'bins' from this feature (the model reads the number)"
                )

        seen: dict[str, str] = {}
        for role, col in (
            [("id_column", id_column), ("target", t_name)]
            + ([("timestamp_column", timestamp)] if timestamp else [])
            + [("feature", c.name) for c in features]
            + [("sensitive attribute", c.name) for c in sensitive]
        ):
            if col in seen:
                raise SchemaError(
                    f"{source}: column {col!r} is used as both {seen[col]} and {role}; every column needs one role"
                )
            seen[col] = role
        return cls(
            name=name,
            id_column=id_column,
            target=target,
            features=features,
            sensitive_attributes=sensitive,
            timestamp_column=timestamp,
            description=str(raw.get("description", "")),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "id_column": self.id_column,
            "target": self.target.to_dict(),
        }
        if self.timestamp_column:
            out["timestamp_column"] = self.timestamp_column
        out["features"] = [f.to_dict() for f in self.features]
        if self.sensitive_attributes:
            out["sensitive_attributes"] = [s.to_dict() for s in self.sensitive_attributes]
        if self.description:
            out["description"] = self.description
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"


def _label(value: Any) -> str:
    """Labels are compared as strings, the way they appear in a CSV (``1.0`` and ``1`` are one label)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_number(text: str) -> float | None:
    """``text`` as a finite number under the ETL's grammar (thousands commas removed), else None."""
    s = text.strip()
    if not _NUMBER_RE.match(s):
        return None
    value = float(s.replace(",", ""))
    return value if math.isfinite(value) else None


def _req_name(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise SchemaError(
            f"{where}: '{key}' must be a column-style name (letters, digits, underscore; not starting "
            f"with a digit; at most 128 characters), got {value!r}"
        )
    return value


def _column(raw: Any, where: str) -> ColumnSpec:
    if not isinstance(raw, dict):
        raise SchemaError(f"{where}: must be an object with 'name' and 'type', got {raw!r}")
    known = {"name", "type", "min", "max", "categories", "nullable", "description", "bins"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise SchemaError(f"{where}: unknown keys {unknown}; allowed keys are {sorted(known)}")
    name = _req_name(raw, "name", where)
    ctype = raw.get("type")
    if ctype not in FEATURE_TYPES:
        raise SchemaError(
            f"{where} ({name}): 'type' is {ctype!r}; use one of {list(FEATURE_TYPES)}"
        )
    lo, hi = raw.get("min"), raw.get("max")
    cats_raw = raw.get("categories", [])
    nullable = raw.get("nullable", False)
    if not isinstance(nullable, bool):
        raise SchemaError(f"{where} ({name}): 'nullable' must be true or false, got {nullable!r}")
    if ctype in NUMERIC_TYPES:
        for key, v in (("min", lo), ("max", hi)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                raise SchemaError(f"{where} ({name}): '{key}' must be a number, got {v!r}")
        if lo is not None and hi is not None and lo > hi:
            raise SchemaError(f"{where} ({name}): min {lo} is greater than max {hi}; swap them")
        if cats_raw:
            raise SchemaError(f"{where} ({name}): a {ctype} column takes min/max, not 'categories'")
        cats: tuple[str, ...] = ()
        bins = _bins(raw.get("bins"), where, name)
    else:
        if lo is not None or hi is not None:
            raise SchemaError(f"{where} ({name}): a {ctype} column takes 'categories', not min/max")
        if raw.get("bins") is not None:
            raise SchemaError(
                f"{where} ({name}): 'bins' cut numbers into groups; a {ctype} column is already "
                "grouped by its values, so remove 'bins'"
            )
        bins = ()
        if ctype == "categorical":
            if not isinstance(cats_raw, list) or not cats_raw:
                raise SchemaError(
                    f"{where} ({name}): a categorical column needs a non-empty 'categories' list, got {cats_raw!r}"
                )
            cats = tuple(_label(c) for c in cats_raw)
            if len(set(cats)) != len(cats):
                raise SchemaError(f"{where} ({name}): 'categories' has duplicates: {list(cats)}")
        else:
            cats = ()
    return ColumnSpec(
        name=name,
        type=ctype,
        min=float(lo) if lo is not None else None,
        max=float(hi) if hi is not None else None,
        categories=cats,
        nullable=nullable,
        description=str(raw.get("description", "")),
        bins=bins,
    )


def _bins(raw: Any, where: str, name: str) -> tuple[float, ...]:
    if raw is None:
        return ()
    example = "[18, 30, 45, 65]"
    if not isinstance(raw, list) or not raw:
        raise SchemaError(
            f"{where} ({name}): 'bins' must be a non-empty list of increasing numbers such as "
            f"{example}, got {raw!r}"
        )
    for v in raw:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise SchemaError(
                f"{where} ({name}): 'bins' must hold finite numbers such as {example}, got {v!r}"
            )
    edges = tuple(float(v) for v in raw)
    for a, b in itertools.pairwise(edges):
        if not a < b:
            raise SchemaError(
                f"{where} ({name}): 'bins' must be strictly increasing, but {_number_text(a)} is "
                f"followed by {_number_text(b)}; sort them and remove duplicates"
            )
    return edges


def _number_text(value: float) -> str:
    """A number as a person writes it: 18 rather than 18.0, 2.5 as 2.5."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _json_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)
