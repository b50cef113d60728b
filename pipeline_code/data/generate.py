"""Deterministic synthetic data sets for any :class:`~pipeline_code.schema.Schema`.

Two built-in domain models make the label depend on the features the way it does in real
data (``customer_churn``: month-to-month contracts, many support calls, expensive fiber, short
tenure and late payments raise churn; ``loan_default``: low credit score, high debt-to-income,
past delinquencies and long terms raise defaults). Any other schema gets a generic model driven
only by the schema (ranges, categories) with a fixed random linear concept, so it is learnable.

Switches:

- ``bad_fraction`` injects bad rows (missing required values, wrong types, out-of-range
  values, unknown categories, duplicate ids, missing ids, bad or missing labels, bad
  timestamps); :attr:`GeneratedData.injected` lists each one with the quarantine reason the
  ETL must give it.
- ``drift`` (0 to 1) shifts numeric distributions and category frequencies, and
  ``new_categories`` adds category values the schema does not know.

The same ``seed`` always gives the same bytes. Command line::

    python -m pipeline_code.data.generate --schema churn --rows 20000 --seed 7 \\
        --bad-fraction 0.02 --output raw/churn.csv
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..etl import reasons as R
from ..schema import ColumnSpec, Schema
from .tables import resolve_schema

BAD_KINDS: tuple[str, ...] = (
    "missing_value",
    "invalid_type",
    "out_of_range",
    "unknown_category",
    "duplicate_id",
    "missing_id",
    "invalid_label",
    "missing_label",
    "invalid_timestamp",
)
_EPOCH = np.datetime64("2024-01-01")
_INJECTED_COLUMNS = ["row", "kind", "column", "reason"]


@dataclass(frozen=True)
class GeneratedData:
    """A generated data set.

    ``frame`` holds every column as a string (``""`` = missing), exactly as written to CSV.
    ``injected`` lists the bad rows: ``row`` (position in ``frame``), ``kind``, ``column``
    (or ``""``) and ``reason`` (the quarantine reason the ETL must report).
    """

    frame: pd.DataFrame
    injected: pd.DataFrame

    def to_csv(self, path: str | Path) -> Path:
        """Write ``frame`` as CSV (parents created) and return the path."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        self.frame.to_csv(out, index=False)
        return out


# --------------------------------------------------------------------------- domain models
# A domain model samples typed features (numerics as float arrays, categoricals and booleans as
# string arrays) and scores a churn/default logit from them.
Sampler = Callable[[Schema, int, np.random.Generator], dict[str, np.ndarray]]
Scorer = Callable[[pd.DataFrame, Schema], np.ndarray]


def _choice(
    rng: np.random.Generator, values: Sequence[str], p: Sequence[float] | np.ndarray, n: int
) -> np.ndarray:
    probs = np.asarray(p, dtype=float)
    return rng.choice(np.asarray(values, dtype=object), size=n, p=probs / probs.sum())


def _churn_sample(schema: Schema, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    # A third of customers are recent sign-ups; the rest spread over six years.
    recent = rng.random(n) < 0.3
    tenure = np.where(recent, rng.exponential(4.0, n), rng.gamma(2.0, 16.0, n))
    tenure = np.clip(np.round(tenure), 0, 120)
    # Long-standing customers tend to be on long contracts.
    p_two = np.clip(0.05 + tenure / 150.0, 0, 0.6)
    p_one = np.full(n, 0.22)
    u = rng.random(n)
    contract = np.where(
        u < p_two, "two-year", np.where(u < p_two + p_one, "one-year", "month-to-month")
    )
    internet = _choice(rng, ["none", "dsl", "fiber"], [0.18, 0.37, 0.45], n)
    usage = rng.lognormal(np.log(12.0), 0.9, n) * np.where(internet == "fiber", 1.8, 1.0)
    usage = np.where(internet == "none", rng.lognormal(np.log(2.0), 0.6, n), usage)
    base = 22.0 + np.select([internet == "dsl", internet == "fiber"], [28.0, 55.0], 0.0)
    monthly = base + 0.15 * np.minimum(usage, 200) + rng.normal(0, 9.0, n)
    monthly = np.clip(monthly, 5.0, 300.0)
    total = monthly * tenure * rng.uniform(0.92, 1.04, n)
    total = np.where(tenure == 0, np.nan, np.clip(total, 0, 40000))  # brand-new: nothing billed yet
    payment = _choice(
        rng, ["card", "bank-transfer", "electronic-check", "mailed-check"], [30, 25, 30, 15], n
    )
    late = rng.poisson(
        0.5 + 0.9 * (payment == "electronic-check") + 0.4 * (payment == "mailed-check"), n
    )
    calls = rng.poisson(0.9 + 0.9 * (internet == "fiber") + 0.02 * np.minimum(usage, 100), n)
    return {
        "tenure_months": tenure,
        "monthly_charges": np.round(monthly, 2),
        "total_charges": np.round(total, 2),
        "support_calls": np.clip(calls, 0, 50).astype(float),
        "data_usage_gb": np.round(np.clip(usage, 0, 2000), 2),
        "late_payments": np.clip(late, 0, 24).astype(float),
        "contract_type": contract.astype(object),
        "payment_method": payment,
        "internet_service": internet,
        "region": _choice(rng, ["north", "south", "east", "west"], [30, 25, 25, 20], n),
        "paperless_billing": np.where(rng.random(n) < 0.6, "true", "false").astype(object),
        "gender": _choice(rng, ["female", "male", "nonbinary"], [49, 49, 2], n),
        "senior_citizen": np.where(rng.random(n) < 0.16, "true", "false").astype(object),
    }


def _churn_score(df: pd.DataFrame, schema: Schema) -> np.ndarray:
    tenure = df["tenure_months"].to_numpy(float)
    monthly = df["monthly_charges"].to_numpy(float)
    fiber = (df["internet_service"] == "fiber").to_numpy()
    return (
        -2.0
        + 1.5 * (df["contract_type"] == "month-to-month").to_numpy()
        - 0.9 * (df["contract_type"] == "two-year").to_numpy()
        + 0.32 * df["support_calls"].to_numpy(float)
        + 0.35 * fiber
        + 0.9 * (fiber & (monthly > 95.0))
        + 0.012 * (monthly - 65.0)
        - 0.9 * np.log1p(tenure) / np.log(13.0)
        + 0.38 * df["late_payments"].to_numpy(float)
        + 0.35 * (df["payment_method"] == "electronic-check").to_numpy()
        + 0.25 * (df["senior_citizen"] == "true").to_numpy()
        + 0.15 * (df["paperless_billing"] == "true").to_numpy()
        - 0.5
    )


def _loan_sample(schema: Schema, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    score = np.clip(np.round(rng.normal(690, 62, n)), 300, 850)
    income = np.clip(rng.lognormal(np.log(62000), 0.5, n), 0, 1_000_000)
    income = np.where(rng.random(n) < 0.05, np.nan, np.round(income, 0))  # unverified income
    amount = np.clip(rng.lognormal(np.log(11000), 0.65, n), 500, 50000)
    dti = np.clip(rng.beta(2.2, 5.5, n) * 1.1, 0, 1.5)
    delinq = rng.poisson(0.15 + 0.9 * (score < 620), n)
    term = np.where(
        amount > 20000,
        _choice(rng, ["36m", "60m"], [45, 55], n),
        _choice(rng, ["36m", "60m"], [80, 20], n),
    )
    return {
        "loan_amount": np.round(amount, 2),
        "annual_income": income,
        "credit_score": score,
        "debt_to_income": np.round(dti, 4),
        "employment_years": np.clip(np.round(rng.gamma(1.6, 4.0, n)), 0, 50),
        "open_accounts": np.clip(rng.poisson(9, n), 0, 60).astype(float),
        "delinquencies_2y": np.clip(delinq, 0, 30).astype(float),
        "term": term.astype(object),
        "purpose": _choice(
            rng,
            [
                "debt-consolidation",
                "credit-card",
                "home-improvement",
                "car",
                "small-business",
                "medical",
                "other",
            ],
            [40, 20, 10, 10, 6, 5, 9],
            n,
        ),
        "home_ownership": _choice(rng, ["rent", "mortgage", "own"], [40, 45, 15], n),
        "has_cosigner": np.where(rng.random(n) < 0.1, "true", "false").astype(object),
        "age_group": _choice(rng, ["18-25", "26-40", "41-60", "60+"], [15, 40, 33, 12], n),
        "sex": _choice(rng, ["female", "male"], [50, 50], n),
    }


def _loan_score(df: pd.DataFrame, schema: Schema) -> np.ndarray:
    income = df["annual_income"].to_numpy(float)
    burden = np.log(
        df["loan_amount"].to_numpy(float)
        / np.where(np.isnan(income), 40000.0, np.maximum(income, 5000))
    )
    return (
        -1.6
        - 0.013 * (df["credit_score"].to_numpy(float) - 690.0)
        + 3.0 * (df["debt_to_income"].to_numpy(float) - 0.3)
        + 0.55 * df["delinquencies_2y"].to_numpy(float)
        + 0.7 * (df["term"] == "60m").to_numpy()
        + 0.6 * (df["purpose"] == "small-business").to_numpy()
        + 0.25 * (df["home_ownership"] == "rent").to_numpy()
        - 0.6 * (df["has_cosigner"] == "true").to_numpy()
        - 0.03 * df["employment_years"].to_numpy(float)
        + 0.35 * np.isnan(income)
        + 0.35 * (burden + 1.7)
    )


def _generic_sample(schema: Schema, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for col in schema.typed_columns:
        out[col.name] = _generic_column(col, n, rng)
    return out


def _generic_column(col: ColumnSpec, n: int, rng: np.random.Generator) -> np.ndarray:
    if col.type == "boolean":
        return np.where(rng.random(n) < rng.uniform(0.25, 0.75), "true", "false").astype(object)
    if col.type == "categorical":
        weights = rng.dirichlet(np.full(len(col.categories), 2.0))
        return _choice(rng, col.categories, weights, n)
    lo, hi = col.min, col.max
    if lo is not None and hi is not None:
        values = lo + rng.beta(2.0, 2.0, n) * (hi - lo)
    elif lo is not None:
        values = lo + rng.exponential(10.0, n)
    elif hi is not None:
        values = hi - rng.exponential(10.0, n)
    else:
        values = rng.normal(0.0, 1.0, n)
    values = np.round(values) if col.type == "integer" else np.round(values, 4)
    if col.nullable:
        values = np.where(rng.random(n) < 0.03, np.nan, values)
    return values


def _generic_scorer(schema: Schema) -> Scorer:
    """A fixed random linear concept per schema name, so every seed shares one ground truth."""
    concept = np.random.default_rng(_stable_seed(schema.name))
    weights: dict[str, float | dict[str, float]] = {}
    for col in schema.features:
        if col.is_numeric:
            weights[col.name] = float(concept.normal(0.0, 1.0))
        else:
            weights[col.name] = {c: float(concept.normal(0.0, 0.8)) for c in col.allowed_categories}
    ref = _generic_sample(schema, 4000, np.random.default_rng(_stable_seed(schema.name) + 1))
    ref_df = pd.DataFrame(ref)
    scale = {
        c.name: (float(np.nanmean(ref[c.name])), float(np.nanstd(ref[c.name])) or 1.0)
        for c in schema.features
        if c.is_numeric
    }

    def raw(df: pd.DataFrame) -> np.ndarray:
        z = np.zeros(len(df))
        for col in schema.features:
            w = weights[col.name]
            if isinstance(w, dict):
                z += df[col.name].map(w).fillna(0.0).to_numpy(float)
            else:
                mean, std = scale[col.name]
                x = (df[col.name].to_numpy(float) - mean) / std
                z += w * np.nan_to_num(x)
        return z

    # Calibrate the intercept once on the reference sample: about 25 % positives.
    intercept = -float(np.quantile(raw(ref_df), 0.66))

    def score(df: pd.DataFrame, _schema: Schema) -> np.ndarray:
        return raw(df) + intercept

    return score


_DOMAIN_MODELS: dict[str, tuple[Sampler, Scorer]] = {
    "customer_churn": (_churn_sample, _churn_score),
    "loan_default": (_loan_sample, _loan_score),
}


def _stable_seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")


def _domain_model(schema: Schema) -> tuple[Sampler, Scorer]:
    model = _DOMAIN_MODELS.get(schema.name)
    if model is not None:
        expected = set(model[0](schema, 1, np.random.default_rng(0)))
        if expected == {c.name for c in schema.typed_columns}:
            return model
    # A schema that shares a built-in name but not its columns is treated generically.
    return _generic_sample, _generic_scorer(schema)


# --------------------------------------------------------------------------------- drift
def apply_drift(
    features: pd.DataFrame,
    schema: Schema,
    rng: np.random.Generator,
    *,
    strength: float,
    new_categories: bool = False,
) -> pd.DataFrame:
    """Shift a typed feature frame: numerics move up by ``strength`` standard deviations (and
    spread 1 + strength/2 times wider, clipped to the schema range), categorical frequencies
    tilt toward the rarer values, and with ``new_categories`` some rows get values the schema
    does not list (``<column>-new``).
    """
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"drift strength must be between 0 and 1, got {strength}; 0 = no drift")
    out = features.copy()
    n = len(out)
    for col in schema.typed_columns:
        if col.name not in out.columns:
            continue
        values = out[col.name]
        if col.is_numeric:
            x = values.to_numpy(float)
            mean, std = np.nanmean(x), np.nanstd(x) or 1.0
            shifted = mean + (x - mean) * (1.0 + strength / 2.0) + strength * std
            shifted = np.clip(
                shifted,
                col.min if col.min is not None else -np.inf,
                col.max if col.max is not None else np.inf,
            )
            out[col.name] = np.round(shifted) if col.type == "integer" else np.round(shifted, 4)
        elif strength > 0:
            cats = list(col.allowed_categories)
            tilt = rng.random(n) < strength * 0.5
            # Rarer categories become common: draw from inverse observed frequency.
            freq = values.value_counts().reindex(cats).fillna(0).to_numpy(float) + 1.0
            inv = (1.0 / freq) / (1.0 / freq).sum()
            redrawn = _choice(rng, cats, inv, n)
            out[col.name] = np.where(tilt, redrawn, values.to_numpy(object))
        if new_categories and col.type == "categorical":
            fresh = rng.random(n) < max(0.02, strength * 0.1)
            out[col.name] = np.where(fresh, f"{col.name}-new", out[col.name].to_numpy(object))
    return out


# ------------------------------------------------------------------------------ generate
def generate(
    schema: Schema,
    n_rows: int,
    *,
    seed: int = 0,
    bad_fraction: float = 0.0,
    drift: float = 0.0,
    new_categories: bool = False,
    id_prefix: str | None = None,
) -> GeneratedData:
    """Generate ``n_rows`` rows for ``schema``. Deterministic for a given set of arguments.

    ``bad_fraction`` (0 to 0.5) of the rows are made bad, one problem each; ``drift`` (0 to 1)
    shifts the feature distributions; ``new_categories`` adds values outside the schema.
    """
    if isinstance(n_rows, bool) or not isinstance(n_rows, int) or n_rows < 1:
        raise ValueError(f"n_rows must be a positive integer, got {n_rows!r}")
    if not 0.0 <= bad_fraction <= 0.5:
        raise ValueError(
            f"bad_fraction must be between 0 and 0.5, got {bad_fraction}; 0.02 means 2 % bad rows"
        )
    rng = np.random.default_rng(seed)
    sampler, scorer = _domain_model(schema)
    features = pd.DataFrame(sampler(schema, n_rows, rng))
    if drift > 0 or new_categories:
        features = apply_drift(features, schema, rng, strength=drift, new_categories=new_categories)
    # Unknown categories (drift) score as the base level: the concept itself does not change.
    logit = scorer(features, schema) + rng.normal(0.0, 0.4, n_rows)
    label = rng.random(n_rows) < 1.0 / (1.0 + np.exp(-logit))

    prefix = id_prefix if id_prefix is not None else f"{schema.id_column[:4].upper()}{seed}-"
    text = pd.DataFrame(index=pd.RangeIndex(n_rows))
    text[schema.id_column] = [f"{prefix}{i:07d}" for i in range(n_rows)]
    if schema.timestamp_column:
        days = rng.integers(0, 366, n_rows)
        text[schema.timestamp_column] = np.datetime_as_string(
            _EPOCH + days.astype("timedelta64[D]"), unit="D"
        )
    for col in schema.typed_columns:
        text[col.name] = _to_text(features[col.name], col)
    text[schema.target.name] = np.where(label, schema.target.positive, schema.target.negative)

    injected = _inject_bad_rows(text, schema, rng, bad_fraction)
    return GeneratedData(frame=text, injected=injected)


def _to_text(values: pd.Series, col: ColumnSpec) -> np.ndarray:
    if col.is_numeric:
        x = values.to_numpy(float)
        if col.type == "integer":
            text = np.array([str(int(v)) if v == v else "" for v in x], dtype=object)
        else:
            text = np.array(
                [repr(float(v)) if v == v else "" for v in np.round(x, 4)], dtype=object
            )
        return text
    return values.fillna("").astype(str).to_numpy(object)


def _inject_bad_rows(
    text: pd.DataFrame, schema: Schema, rng: np.random.Generator, fraction: float
) -> pd.DataFrame:
    n = len(text)
    n_bad = round(n * fraction)
    if n_bad == 0:
        return pd.DataFrame(columns=_INJECTED_COLUMNS)
    required = [c.name for c in schema.typed_columns if not c.nullable]
    numeric = [c for c in schema.typed_columns if c.is_numeric]
    ranged = [c for c in numeric if c.min is not None or c.max is not None]
    categorical = [c.name for c in schema.typed_columns if c.is_categorical]
    kinds = [
        k
        for k, ok in (
            ("missing_value", bool(required)),
            ("invalid_type", bool(numeric)),
            ("out_of_range", bool(ranged)),
            ("unknown_category", bool(categorical)),
            ("duplicate_id", True),
            ("missing_id", True),
            ("invalid_label", True),
            ("missing_label", True),
            ("invalid_timestamp", schema.timestamp_column is not None),
        )
        if ok
    ]
    bad_rows = np.sort(rng.choice(n, size=n_bad, replace=False))
    is_bad = np.zeros(n, dtype=bool)
    is_bad[bad_rows] = True
    clean_before = np.cumsum(~is_bad) - (~is_bad)  # clean rows strictly before each position
    clean_positions = np.flatnonzero(~is_bad)
    records: list[tuple[int, str, str, str]] = []
    for i in bad_rows.tolist():
        kind = kinds[int(rng.integers(len(kinds)))]
        if kind == "duplicate_id" and clean_before[i] == 0:
            kind = "missing_id"  # nothing earlier to duplicate
        column = ""
        if kind == "missing_value":
            column = required[int(rng.integers(len(required)))]
            text.iat[i, text.columns.get_loc(column)] = ""
            reason = R.column_reason(R.MISSING_VALUE, column)
        elif kind == "invalid_type":
            column = numeric[int(rng.integers(len(numeric)))].name
            text.iat[i, text.columns.get_loc(column)] = ["abc", "12,5", "1d", "NaN", "--3"][
                int(rng.integers(5))
            ]
            reason = R.column_reason(R.INVALID_TYPE, column)
        elif kind == "out_of_range":
            spec = ranged[int(rng.integers(len(ranged)))]
            column = spec.name
            span = max(1.0, (spec.max or 0.0) - (spec.min or 0.0))
            value = (spec.max + span) if spec.max is not None else (spec.min or 0.0) - span
            text.iat[i, text.columns.get_loc(column)] = (
                str(int(value)) if spec.type == "integer" else repr(float(value))
            )
            reason = R.column_reason(R.OUT_OF_RANGE, column)
        elif kind == "unknown_category":
            column = categorical[int(rng.integers(len(categorical)))]
            spec = schema.column(column)
            text.iat[i, text.columns.get_loc(column)] = (
                "maybe" if spec.type == "boolean" else "zz-unknown"
            )
            reason = R.column_reason(R.UNKNOWN_CATEGORY, column)
        elif kind == "duplicate_id":
            source = int(clean_positions[int(rng.integers(clean_before[i]))])
            text.iat[i, 0] = text.iat[source, 0]
            reason = R.DUPLICATE_ID
        elif kind == "missing_id":
            text.iat[i, 0] = ["", "   "][int(rng.integers(2))]
            reason = R.MISSING_ID
        elif kind == "invalid_label":
            text.iat[i, text.columns.get_loc(schema.target.name)] = "unknown"
            reason = R.INVALID_LABEL
        elif kind == "missing_label":
            text.iat[i, text.columns.get_loc(schema.target.name)] = ""
            reason = R.MISSING_LABEL
        else:
            assert schema.timestamp_column is not None
            text.iat[i, text.columns.get_loc(schema.timestamp_column)] = [
                "2024-02-30",
                "yesterday",
                "2024/01/05",
            ][int(rng.integers(3))]
            reason = R.INVALID_TIMESTAMP
        records.append((i, kind, column, reason))
    return pd.DataFrame.from_records(records, columns=_INJECTED_COLUMNS)


# ----------------------------------------------------------------------------------- CLI
def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The ``generate`` arguments (shared with ``cdk-mlops generate``)."""
    p = parser or argparse.ArgumentParser(
        prog="python -m pipeline_code.data.generate", description=__doc__.split("\n")[0]
    )
    p.add_argument(
        "--schema", default="churn", help="schema JSON file or built-in name (default: churn)"
    )
    p.add_argument("--rows", type=int, default=20000, help="number of rows (default: 20000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument(
        "--bad-fraction", type=float, default=0.0, help="share of bad rows, 0 to 0.5 (default: 0)"
    )
    p.add_argument("--drift", type=float, default=0.0, help="drift strength, 0 to 1 (default: 0)")
    p.add_argument(
        "--new-categories", action="store_true", help="add category values the schema does not list"
    )
    p.add_argument("--output", required=parser is None, help="CSV file to write")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Generate a CSV from the command line; prints what it wrote."""
    args = build_parser().parse_args(argv)
    return run_from_args(args)


def run_from_args(args: argparse.Namespace) -> int:
    """Run ``generate`` for parsed arguments (used by the CLI too)."""
    schema = resolve_schema(args.schema)
    data = generate(
        schema,
        args.rows,
        seed=args.seed,
        bad_fraction=args.bad_fraction,
        drift=args.drift,
        new_categories=args.new_categories,
    )
    path = data.to_csv(args.output)
    positives = int((data.frame[schema.target.name] == schema.target.positive).sum())
    print(
        f"wrote {len(data.frame)} rows of {schema.name!r} to {path} "
        f"({positives / len(data.frame):.1%} positive, {len(data.injected)} bad rows injected)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
