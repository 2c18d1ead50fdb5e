"""Cost sharing as its own series: the Special Measures Agreements as small negotiation cases.

Each SMA of ``alliancelab/data/sma/sma_agreements.csv`` whose US opening ask is public becomes
a one-issue case built here, the same way for every agreement:

* **issue**: the ROK's contribution in the first negotiated year, in the agreement's currency
  (US$ bn up to the 5th SMA, KRW bn from the 6th, when payment became all-KRW); the scale runs
  from the lowest to the highest opening position, so 0 and 1 (one scale width) are the two
  sides' extreme positions, as on the DEU scales;
* **status quo**: the previous agreement's final-year amount;
* **actors** (:data:`ACTORS`): the US executive at the US ask, the ROK government at the ROK
  offer, and the ROK National Assembly, the ratifier, at the status quo (it ratifies the
  increase, and holding the line is what its debates ask for). Capabilities and saliences are
  the stated judgements of :data:`WEIGHTS`, the same for every agreement and never fitted.

Only agreements whose ROK offer is public (reported or derived in the table, or stated in
words as a freeze) enter the headline scores; for those where only the US ask is public the
ROK offer is *assumed* to be a freeze (the status quo), reported apart (``headline`` False).
Every engine forecasts each case from the opening positions; scored as in the DEU III backtest:
the absolute error in scale widths against the status-quo baseline and the split-the-difference
baseline (the midpoint of the US ask and the ROK offer).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..api import forecast
from ..calibration.sources import vendored
from ..core.errors import AllianceLabError
from ..core.io import read_regular_file
from ..models.bargaining import ENGINES, Problem
from .hindcast import DEAD_BAND, DYN, check_band, score, stream

ACTORS = ("US executive", "ROK government", "ROK National Assembly")
#: capability and salience per actor (order of :data:`ACTORS`), stated judgements.
WEIGHTS: dict[str, dict[str, tuple[float, float, float]]] = {
    # the US is the patron of an asymmetric alliance and links the amount to the troop
    # presence; Seoul's government negotiates and signs; the Assembly holds a veto it has never
    # used on an SMA (all were ratified). Cost sharing is one alliance issue among many for
    # Washington, a budget and sovereignty issue in Seoul, a ratification vote for the Assembly.
    "stated": {"capability": (0.5, 0.35, 0.15), "salience": (0.6, 0.8, 0.6)},
    # the neutral alternative for the sensitivity check: every party a veto player alike
    "equal": {"capability": (1.0, 1.0, 1.0), "salience": (1.0, 1.0, 1.0)},
}
BASELINES = ("status-quo", "split-difference")
#: the first year paid entirely in KRW (6th SMA): from then on the cases are in KRW bn.
KRW_FROM = 2005
#: the outcome of an agreement whose first year is not its first negotiated amount.
OUTCOME_OVERRIDES = {
    11: (1183.3, "2021 amount, the first negotiated step (2020 was the gap year frozen at the "
                 "2019 level; annual_increase_rule and notes of the row)"),
}
SMA_COLUMNS = ("number", "signed", "first_year", "last_year", "duration_years",
               "first_year_krw_bn", "first_year_usd_bn", "first_year_fx_krw_per_usd",
               "prev_final_year_krw_bn", "prev_final_year_usd_bn", "us_opening_ask_krw_bn",
               "us_opening_ask_usd_bn", "rok_opening_offer_krw_bn", "notes")
ROW_COLUMNS = ("number", "first_year", "currency", "model", "family", "forecast", "status_quo",
               "us_ask", "rok_offer", "outcome", "lower", "width", "abs_error_widths",
               "abs_error_pct_sq", "direction_hit", "headline", "offer_basis", "note")


def sma_path() -> Path:
    return vendored("sma", "sma_agreements.csv")


def load_sma(path: str | Path | None = None) -> pd.DataFrame:
    """The SMA table with numeric columns as floats (blank = NaN)."""
    path = Path(path) if path is not None else sma_path()
    try:
        raw = pd.read_csv(io.BytesIO(read_regular_file(path, 50 << 20, "CSV table")),
                          dtype=str, keep_default_na=False)  # no FIFO, no device
    except (OSError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as exc:
        raise AllianceLabError(f"cannot read the SMA table: {exc}", file=str(path)) from None
    missing = [c for c in SMA_COLUMNS if c not in raw.columns]
    if missing:
        raise AllianceLabError(f"missing column(s) {', '.join(missing)}", file=str(path),
                               line=1)
    df = raw.copy()
    for col in SMA_COLUMNS:
        if col in ("signed", "notes"):
            continue
        text = df[col].str.strip()
        num = pd.to_numeric(text, errors="coerce")
        bad = (text != "") & num.isna()
        if bad.any():
            k = int(np.flatnonzero(bad.to_numpy())[0])
            raise AllianceLabError(f"{col}: not a number: {df[col].iloc[k]!r}",
                                   file=str(path), line=k + 2)
        df[col] = num.astype(float)
    if df["number"].isna().any() or df["number"].duplicated().any():
        raise AllianceLabError("number: every agreement needs a distinct number",
                               file=str(path))
    df["number"] = df["number"].astype(int)
    return df.sort_values("number").reset_index(drop=True)


@dataclass(frozen=True)
class SmaCase:
    """One agreement as a negotiation over its first negotiated amount."""

    number: int
    first_year: int
    currency: str
    status_quo: float
    us_ask: float
    rok_offer: float
    outcome: float
    headline: bool
    ask_basis: str
    offer_basis: str
    outcome_basis: str

    @property
    def lower(self) -> float:
        return min(self.status_quo, self.us_ask, self.rok_offer)

    @property
    def upper(self) -> float:
        return max(self.status_quo, self.us_ask, self.rok_offer)

    @property
    def width(self) -> float:
        return self.upper - self.lower

    def problem(self, weights: str = "stated") -> Problem:
        w = _weights(weights)
        return Problem.from_arrays(
            np.array(w["capability"]),
            np.array([self.us_ask, self.rok_offer, self.status_quo]),
            np.array(w["salience"]),
            actors=ACTORS, issues=(f"sma{self.number}",), lower=np.array([self.lower]),
            upper=np.array([self.upper]), status_quo=np.array([self.status_quo]),
        )


def _weights(name: str) -> dict[str, tuple[float, float, float]]:
    try:
        return WEIGHTS[name]
    except KeyError:
        raise AllianceLabError(f"unknown weights {name!r}; choose one of "
                               f"{', '.join(WEIGHTS)}", field="weights") from None


def _num(row: pd.Series, col: str) -> float:
    v = row[col]
    return float(v) if pd.notna(v) else float("nan")


def _status_quo(row: pd.Series, currency: str) -> float:
    return _num(row, "prev_final_year_krw_bn" if currency == "KRW" else "prev_final_year_usd_bn")


def _ask(row: pd.Series, prev: pd.Series | None, currency: str) -> tuple[float, str]:
    """The US ask in the case currency: as reported, or a US$ ask converted at the rate of the
    status-quo year (implied by the previous final-year amounts in both currencies, or the
    previous agreement's first-year rate when that agreement covered that year alone)."""
    krw, usd = _num(row, "us_opening_ask_krw_bn"), _num(row, "us_opening_ask_usd_bn")
    if currency == "KRW" and np.isfinite(krw):
        return krw, "reported (KRW)"
    if currency == "USD" and np.isfinite(usd):
        return usd, "reported (US$)"
    if currency == "KRW" and np.isfinite(usd):
        pk, pu = _num(row, "prev_final_year_krw_bn"), _num(row, "prev_final_year_usd_bn")
        if np.isfinite(pk) and np.isfinite(pu) and pu > 0:
            return usd * pk / pu, f"US${usd:g} bn at the implied {pk / pu:.1f} KRW/US$"
        if prev is not None and prev["first_year"] == prev["last_year"] == row["first_year"] - 1:
            fx = _num(prev, "first_year_fx_krw_per_usd")
            if np.isfinite(fx):
                return usd * fx, f"US${usd:g} bn at {fx:g} KRW/US$ (SMA {prev['number']})"
    return float("nan"), "not public"


def _offer(row: pd.Series, currency: str, status_quo: float) -> tuple[float, str, bool]:
    """The ROK offer, how it is known, and whether it counts for the headline scores."""
    krw = _num(row, "rok_opening_offer_krw_bn")
    notes = str(row["notes"]).lower()
    if currency == "KRW" and np.isfinite(krw):
        return krw, ("derived in the table" if "rok_opening_offer =" in notes
                     else "reported"), True
    if "rok opening was a freeze" in notes:
        return status_quo, "a freeze, stated in words", True
    return status_quo, "assumed freeze (not public)", False


def sma_cases(table: pd.DataFrame | None = None
              ) -> tuple[list[SmaCase], list[tuple[int, str]]]:
    """The agreements that can be cases, and the others with the reason."""
    t = load_sma() if table is None else table
    cases, excluded = [], []
    prev: pd.Series | None = None
    for _, row in t.iterrows():
        number = int(row["number"])
        currency = "KRW" if row["first_year"] >= KRW_FROM else "USD"
        sq = _status_quo(row, currency)
        ask, ask_basis = _ask(row, prev, currency)
        prev = row
        if not np.isfinite(ask):
            excluded.append((number, "US opening ask not public"))
            continue
        if not np.isfinite(sq):
            excluded.append((number, "previous final-year amount not given"))
            continue
        offer, offer_basis, headline = _offer(row, currency, sq)
        outcome = _num(row, "first_year_krw_bn" if currency == "KRW" else "first_year_usd_bn")
        basis = "first-year amount"
        if number in OUTCOME_OVERRIDES:
            outcome, basis = OUTCOME_OVERRIDES[number]
        if max(sq, ask, offer) - min(sq, ask, offer) <= 0:
            excluded.append((number, "no distance between the opening positions"))
            continue
        cases.append(SmaCase(number=number, first_year=int(row["first_year"]),
                             currency=currency, status_quo=sq, us_ask=ask, rok_offer=offer,
                             outcome=outcome, headline=headline, ask_basis=ask_basis,
                             offer_basis=offer_basis, outcome_basis=basis))
    return cases, excluded


@dataclass(frozen=True)
class SmaSeries:
    rows: pd.DataFrame
    cases: tuple[SmaCase, ...]
    excluded: tuple[tuple[int, str], ...]
    models: tuple[str, ...]
    weights: str
    seed: int
    band: float
    failures: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Per model: MAE in widths, MAE in % of the status quo and the direction hit rate on
        the headline agreements, N; and the MAE in widths over all cases (with the assumed
        offers), N."""
        return summarise_sma(self.rows)

    def manifest(self) -> dict[str, Any]:
        return {
            "weights": self.weights,
            "actors": list(ACTORS),
            "capability": list(_weights(self.weights)["capability"]),
            "salience": list(_weights(self.weights)["salience"]),
            "models": list(self.models),
            "cases": [c.__dict__ for c in self.cases],
            "excluded": [{"number": n, "reason": r} for n, r in self.excluded],
            "failures": list(self.failures),
        }


def run_sma(models: Sequence[str] | None = None, *, seed: int = 0, band: float = DEAD_BAND,
            weights: str = "stated", path: str | Path | None = None) -> SmaSeries:
    """Forecast every SMA case with every engine (``dyn:`` names are skipped: the dynamics
    need a full alliance case) and score it with the two baselines."""
    band = check_band(band)
    _weights(weights)
    engines = tuple(m for m in (models if models is not None else ENGINES)
                    if not m.startswith(DYN))
    unknown = [m for m in engines if m not in ENGINES]
    if unknown:
        raise AllianceLabError(f"unknown model(s) {', '.join(unknown)}", field="models")
    cases, excluded = sma_cases(load_sma(path))
    records, failures = [], []
    for case in cases:
        problem = case.problem(weights)
        base = {"status-quo": case.status_quo,
                "split-difference": (case.us_ask + case.rok_offer) / 2}
        for name, value in base.items():
            records.append(_record(case, name, "baseline", value, ""))
        for model in engines:
            try:
                f = forecast(problem, model, rng=stream(seed, f"sma{case.number}", model))
                value, note = float(f.forecast[0]), ""
            except Exception as exc:  # recorded, the run goes on
                value, note = float("nan"), f"error: {' '.join(str(exc).split())}"
                failures.append(f"SMA {case.number} {model}: {note}")
            records.append(_record(case, model, "model", value, note))
    rows = pd.DataFrame(records)
    if not rows.empty:
        s = score(rows["forecast"], rows["status_quo"], rows["outcome"], rows["width"],
                  band=band)
        rows["abs_error_widths"] = s["abs_error_widths"]
        rows["direction_hit"] = s["direction_hit"]
        rows["abs_error_pct_sq"] = 100 * np.abs(rows["forecast"] - rows["outcome"]) / rows[
            "status_quo"]
    rows = rows.reindex(columns=list(ROW_COLUMNS))
    return SmaSeries(rows=rows, cases=tuple(cases), excluded=tuple(excluded), models=engines,
                     weights=weights, seed=seed, band=band, failures=tuple(failures))


def _record(case: SmaCase, model: str, family: str, value: float, note: str) -> dict[str, Any]:
    return {"number": case.number, "first_year": case.first_year, "currency": case.currency,
            "model": model, "family": family, "forecast": value,
            "status_quo": case.status_quo, "us_ask": case.us_ask, "rok_offer": case.rok_offer,
            "outcome": case.outcome, "lower": case.lower, "width": case.width,
            "headline": case.headline, "offer_basis": case.offer_basis, "note": note}


def summarise_sma(rows: pd.DataFrame) -> pd.DataFrame:
    if rows.empty:
        return pd.DataFrame(columns=["model", "family", "mae_widths", "mae_pct_sq",
                                     "direction_hit_rate", "n", "mae_widths_all", "n_all"])
    head = rows[rows["headline"].astype(bool)]
    g = head.groupby(["model", "family"], sort=False)
    a = rows.groupby(["model", "family"], sort=False)
    out = pd.DataFrame({
        "mae_widths": g["abs_error_widths"].mean(),
        "mae_pct_sq": g["abs_error_pct_sq"].mean(),
        "direction_hit_rate": g["direction_hit"].mean(),
        "n": g["abs_error_widths"].count(),
    }).reindex(a.size().index)
    out["mae_widths_all"] = a["abs_error_widths"].mean()
    out["n_all"] = a["abs_error_widths"].count()
    out["n"] = out["n"].fillna(0).astype(int)
    return out.reset_index()
