"""Hindcast the alliance from dated snapshots: does a model beat "nothing changes"?

Every engine (:data:`alliancelab.models.bargaining.ENGINES`), and the perception dynamics
(:func:`alliancelab.models.dynamics.simulate`, final round) run with every engine, forecast
each snapshot case (``us_rok_2007``, ``us_rok_2013``, ``us_rok_2018``); each forecast is scored
per issue and horizon against the realised values of
``alliancelab/data/hindcast/outcomes.csv``, and so are two naive baselines:

* ``status-quo``: the value at the snapshot persists;
* ``trend``: the pre-snapshot trend continues, ``sq + slope * h`` clipped to the scale, where
  ``slope`` is the change per year from the previous snapshot's horizon-0 value to this
  snapshot's (for the first snapshot: from the data sets, :data:`LOOKBACK_YEARS` years before,
  for the three data issues; undefined for the judgement issues).

Scores (:func:`score`): the absolute error in scale widths, the direction hit (the sign of
forecast - status quo against the sign of realised - status quo, each counted as "no change"
within the dead band, :data:`DEAD_BAND` of the scale width, the same for models and
baselines) and, where the realised value is a range (``low < high``), the interval hit (the
range contains the forecast). No parameter is fitted unless asked: :func:`fit_lambda_loso`
adds a partial-adjustment variant fitted leave-one-snapshot-out (docs/hindcast.md).

The engines' forecasts are one number per issue with no time index, so the same forecast is
scored at every horizon. Pure apart from reading the shipped tables and case files.
"""

from __future__ import annotations

import functools
import hashlib
import io
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..api import forecast
from ..calibration import spending, troops
from ..calibration.sources import vendored
from ..cases import resolve_case
from ..core.case import Case
from ..core.errors import AllianceLabError
from ..core.io import read_regular_file
from ..core.rng import versions
from ..formats import read_case
from ..models.bargaining import ENGINES
from ..models.dynamics import simulate

#: "no change" when |x - status quo| is at most this fraction of the scale width.
DEAD_BAND = 0.02
#: where the status quo (the reference of directions and the status-quo baseline) comes from.
REFERENCES = ("outcomes", "case")
#: prefix of the perception-dynamics models (``dyn:compromise`` = simulate with compromise).
DYN = "dyn:"
#: prefix of the leave-one-snapshot-out partial-adjustment variants.
LAM = "lam:"
BASELINES = ("status-quo", "trend")
#: look-back of the first snapshot's trend, from the data sets (calendar years).
LOOKBACK_YEARS = 5
#: the issues whose pre-snapshot value can come from a data set.
DATA_ISSUES = ("usfk_troops", "defence_spending", "sma_cost_sharing")
#: grid of the partial-adjustment factor lambda.
LAMBDA_GRID = np.round(np.linspace(0.0, 1.0, 101), 2)

OUTCOME_COLUMNS = ("snapshot", "issue", "horizon_years", "year", "value", "low", "high", "kind",
                   "source")
KINDS = ("data", "judgement")
TIDY_COLUMNS = (
    "snapshot", "issue", "horizon", "model", "forecast", "status_quo", "realised", "low", "high",
    "kind", "abs_error_widths", "direction_hit",
    # additions: the year scored, the kind of row, the scale width, the secondary metric, the
    # two directions that make the hit, and why a value is missing
    "year", "family", "width", "interval_hit", "forecast_direction", "realised_direction", "note",
)
SUMMARY_COLUMNS = ("model", "family", "snapshot", "horizon", "mae_widths", "direction_hit_rate",
                   "interval_hit_rate", "n", "n_interval")


# -- the scorer ------------------------------------------------------------------------------


def direction(delta: Any, width: Any, band: float = DEAD_BAND) -> np.ndarray:
    """-1, 0 or +1 per element: the sign of ``delta``, 0 when ``|delta| <= band * width``;
    NaN where ``delta`` is NaN."""
    d = np.asarray(delta, dtype=float)
    w = np.asarray(width, dtype=float)
    moved = np.abs(d) > band * w + 1e-12 * w
    out = np.where(moved, np.sign(d), 0.0)
    return np.where(np.isnan(d), np.nan, out)


def score(forecast: Any, status_quo: Any, realised: Any, width: Any, low: Any = None,
          high: Any = None, band: float = DEAD_BAND) -> dict[str, np.ndarray]:
    """The scores of forecasts against realised values (arrays broadcast together).

    ``abs_error_widths`` = ``|forecast - realised| / width``; ``direction_hit`` 1 when the
    direction of forecast - status quo equals that of realised - status quo (both with the dead
    band), else 0; ``interval_hit`` 1 when ``low <= forecast <= high``, NaN where the range is
    a point (``low == high``) or not given. A NaN forecast gives NaN scores (undefined).
    """
    f = np.asarray(forecast, dtype=float)
    sq = np.asarray(status_quo, dtype=float)
    y = np.asarray(realised, dtype=float)
    w = np.asarray(width, dtype=float)
    if np.any(w <= 0):
        raise AllianceLabError("every scale width must be positive", field="width")
    fd = direction(f - sq, w, band)
    rd = direction(y - sq, w, band)
    hit = np.where(np.isnan(fd) | np.isnan(rd), np.nan, (fd == rd).astype(float))
    lo = y if low is None else np.asarray(low, dtype=float)
    hi = y if high is None else np.asarray(high, dtype=float)
    ranged = hi > lo
    inside = ((lo <= f) & (f <= hi)).astype(float)
    interval = np.where(ranged & ~np.isnan(f), inside, np.nan)
    return {
        "abs_error_widths": np.abs(f - y) / w,
        "direction_hit": hit,
        "interval_hit": interval,
        "forecast_direction": fd,
        "realised_direction": rd,
    }


def trend_forecast(status_quo: float, slope: float, horizon: float, lower: float,
                   upper: float) -> float:
    """The last trend continued: ``status_quo + slope * horizon`` clipped to the scale; NaN
    when the slope is undefined."""
    if not np.isfinite(slope):
        return float("nan")
    return float(np.clip(status_quo + slope * horizon, lower, upper))


def check_band(band: float) -> float:
    if isinstance(band, bool) or not isinstance(band, int | float) or not 0 <= band < 0.5:
        raise AllianceLabError(f"must be a number in [0, 0.5), got {band!r}", field="dead band")
    return float(band)


# -- the outcome table -----------------------------------------------------------------------


def outcomes_path() -> Path:
    return vendored("hindcast", "outcomes.csv")


def load_outcomes(path: str | Path | None = None) -> pd.DataFrame:
    """The outcome table, validated; a column ``line`` keeps each row's line in the file."""
    path = Path(path) if path is not None else outcomes_path()
    where = str(path)
    try:
        raw = pd.read_csv(io.BytesIO(read_regular_file(path, 50 << 20, "CSV table")),
                          dtype=str, keep_default_na=False)  # no FIFO, no device
    except (OSError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as exc:
        raise AllianceLabError(f"cannot read the outcome table: {exc}", file=where) from None
    missing = [c for c in OUTCOME_COLUMNS if c not in raw.columns]
    if missing:
        raise AllianceLabError(f"missing column(s) {', '.join(missing)}", file=where, line=1)
    if raw.empty:
        raise AllianceLabError("no outcome rows", file=where)
    df = raw.loc[:, list(OUTCOME_COLUMNS)].copy()
    df["line"] = np.arange(len(df)) + 2
    for col in ("horizon_years", "year", "value", "low", "high"):
        num = pd.to_numeric(df[col].str.strip(), errors="coerce")
        bad = num.isna() | ~np.isfinite(num.astype(float))
        if bad.any():
            r = df[bad].iloc[0]
            raise AllianceLabError(f"{col}: not a number: {r[col]!r}", file=where,
                                   line=int(r["line"]))
        df[col] = num.astype(float)
    _check_rows(df, where)
    df["horizon_years"] = df["horizon_years"].astype(int)
    df["year"] = df["year"].astype(int)
    return df


def _check_rows(df: pd.DataFrame, where: str) -> None:
    checks = [
        (df["snapshot"].str.strip() == "", "snapshot: empty"),
        (df["issue"].str.strip() == "", "issue: empty"),
        ((df["horizon_years"] < 0) | (df["horizon_years"] != df["horizon_years"].round()),
         "horizon_years: must be a whole number of years >= 0"),
        (~df["kind"].isin(KINDS), f"kind: must be one of {', '.join(KINDS)}"),
        ((df["low"] > df["value"]) | (df["value"] > df["high"]), "low <= value <= high fails"),
        (df.duplicated(["snapshot", "issue", "horizon_years"]),
         "duplicate (snapshot, issue, horizon_years)"),
    ]
    for bad, message in checks:
        if bad.any():
            raise AllianceLabError(message, file=where, line=int(df.loc[bad, "line"].iloc[0]))


# -- snapshots -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """A dated case with its outcome rows (horizon > 0) and the reference status quo."""

    name: str
    date: str
    t: float  # decimal year of the date
    path: Path
    case: Case
    lower: dict[str, float]
    upper: dict[str, float]
    status_quo: dict[str, float]
    outcomes: pd.DataFrame
    notes: tuple[str, ...] = ()

    @property
    def issues(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.outcomes["issue"]))

    @property
    def horizons(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.outcomes["horizon_years"].astype(int))))


@functools.lru_cache(maxsize=32)
def _read_cached(path: str, mtime_ns: int, size: int) -> Case:
    return read_case(path)


def read_snapshot_case(path: Path) -> Case:
    """The case at ``path``, read once per version of the file (cases are immutable)."""
    st = path.stat()
    return _read_cached(str(path.resolve()), st.st_mtime_ns, st.st_size)


def decimal_year(date: str | None, name: str) -> float:
    """``"2007-06"`` -> 2007.417 (the start of the month); a year alone is its start."""
    text = (date or "").strip()
    parts = text.split("-")
    try:
        year = int(parts[0])
        month = int(parts[1]) if len(parts) > 1 else 1
    except ValueError:
        year, month = 0, 0
    if not text or not 1 <= month <= 12 or year < 1900:
        raise AllianceLabError(
            f"case {name!r} has no usable date ({date!r}); a hindcast snapshot needs its date "
            "(YYYY-MM)", field="date")
    return year + (month - 1) / 12


def snapshot_names(outcomes: pd.DataFrame) -> tuple[str, ...]:
    """The snapshots of the outcome table, in the table's order."""
    return tuple(dict.fromkeys(outcomes["snapshot"]))


def load_snapshot(name_or_path: str, outcomes: pd.DataFrame,
                  reference: str = "outcomes") -> Snapshot:
    """The snapshot case (a shipped name or a case file) with its outcome rows."""
    if reference not in REFERENCES:
        raise AllianceLabError(f"unknown reference {reference!r}; choose one of "
                               f"{', '.join(REFERENCES)}", field="reference")
    path = resolve_case(name_or_path)
    if not path.is_file():
        raise AllianceLabError(f"no case file or shipped case named {name_or_path!r}",
                               field="snapshots")
    case = read_snapshot_case(path)
    known = snapshot_names(outcomes)
    if case.name not in known:
        raise AllianceLabError(
            f"case {case.name!r} has no outcome rows (snapshots with outcomes: "
            f"{', '.join(known)})", field="snapshots")
    rows = outcomes[outcomes["snapshot"] == case.name]
    scales = {i.name: (float(i.scale.min), float(i.scale.max)) for i in case.issues}
    foreign = rows[~rows["issue"].isin(list(scales))]
    if not foreign.empty:
        r = foreign.iloc[0]
        raise AllianceLabError(f"issue {r['issue']!r} is not an issue of case {case.name!r}",
                               line=int(r["line"]), field="issue")
    sq, notes = _reference(case, rows, reference)
    scored = rows[(rows["horizon_years"] > 0) & rows["issue"].isin(list(sq))]
    return Snapshot(
        name=case.name, date=str(case.date), t=decimal_year(case.date, case.name), path=path,
        case=case, lower={k: v[0] for k, v in scales.items()},
        upper={k: v[1] for k, v in scales.items()}, status_quo=sq,
        outcomes=scored.reset_index(drop=True), notes=notes,
    )


def _reference(case: Case, rows: pd.DataFrame, reference: str
               ) -> tuple[dict[str, float], tuple[str, ...]]:
    """Issue -> status quo: the horizon-0 row of the outcome table (``outcomes``) or the
    case's own status quo (``case``); issues without one are not scored (noted)."""
    notes = []
    if reference == "outcomes":
        h0 = rows[rows["horizon_years"] == 0].set_index("issue")["value"]
        sq = {k: float(v) for k, v in h0.items()}
    else:
        sq = {i.name: float(i.status_quo.value) for i in case.issues if i.status_quo is not None}
    for issue in dict.fromkeys(rows.loc[rows["horizon_years"] > 0, "issue"]):
        if issue not in sq:
            notes.append(f"{case.name}: {issue} not scored (no {reference} status quo)")
    return sq, tuple(notes)


# -- the trend baseline ----------------------------------------------------------------------


def _sma_usd(year: int) -> float:
    """The ROK's SMA payment of ``year`` in US$ bn from the SMA table, where it gives it (a
    first year or the final year before an agreement)."""
    t = pd.read_csv(vendored("sma", "sma_agreements.csv"))
    first = t.loc[t["first_year"] == year, "first_year_usd_bn"].dropna()
    if not first.empty:
        return float(first.iloc[0])
    prev = t.loc[t["first_year"] == year + 1, "prev_final_year_usd_bn"].dropna()
    return float(prev.iloc[0]) if not prev.empty else float("nan")


def dataset_value(issue: str, year: int) -> tuple[float, str]:
    """The value of a data issue in ``year`` from the shipped data sets, and its source;
    NaN for other issues or missing years."""
    try:
        if issue == "usfk_troops":
            return troops.usfk(year), f"troopdata {year}"
        if issue == "defence_spending":
            return spending.share_of_gdp("KOR", year), f"SIPRI share of GDP {year}"
    except AllianceLabError:
        return float("nan"), ""
    if issue == "sma_cost_sharing":
        v = _sma_usd(year)
        return v, f"SMA table {year}" if np.isfinite(v) else ""
    return float("nan"), ""


def trend_slopes(snap: Snapshot, outcomes: pd.DataFrame,
                 dates: dict[str, float]) -> dict[str, tuple[float, str]]:
    """Issue -> (change per year before the snapshot, where it came from); NaN slope where
    no earlier value exists. ``dates`` are the decimal-year dates of the table's snapshots."""
    earlier = {k: t for k, t in dates.items() if t < snap.t - 1e-9}
    out: dict[str, tuple[float, str]] = {}
    if earlier:
        prev = max(earlier, key=lambda k: earlier[k])
        h0 = outcomes[(outcomes["snapshot"] == prev) & (outcomes["horizon_years"] == 0)]
        values = h0.set_index("issue")["value"]
        for issue, sq in snap.status_quo.items():
            if issue in values.index:
                gap = snap.t - earlier[prev]
                out[issue] = ((sq - float(values[issue])) / gap, f"{prev} horizon 0")
            else:
                out[issue] = (float("nan"), f"undefined: no {prev} value")
        return out
    year = int(np.floor(snap.t + 1e-9))
    for issue, sq in snap.status_quo.items():
        v, src = dataset_value(issue, year - LOOKBACK_YEARS)
        if np.isfinite(v):
            out[issue] = ((sq - v) / LOOKBACK_YEARS, src)
        else:
            out[issue] = (float("nan"), "undefined: no earlier value")
    return out


def table_dates(outcomes: pd.DataFrame, known: Sequence[Snapshot] = ()) -> dict[str, float]:
    """The date of every snapshot of the table, from its case file (needed for the trend of
    the next snapshot); a snapshot without a readable case is left out."""
    dates = {s.name: s.t for s in known}
    for name in snapshot_names(outcomes):
        if name in dates:
            continue
        path = resolve_case(name)
        if path.is_file():
            dates[name] = decimal_year(read_snapshot_case(path).date, name)
    return dates


# -- models ----------------------------------------------------------------------------------


def parse_models(text: str | None) -> tuple[str, ...]:
    """``None``/``"all"`` -> every engine and ``dyn:<engine>`` for each; otherwise a comma
    list of engine names and ``dyn:<engine>`` names."""
    every = (*ENGINES, *(DYN + m for m in ENGINES))
    if text is None or text.strip().lower() == "all":
        return every
    models = tuple(m.strip() for m in text.split(",") if m.strip())
    unknown = [m for m in models if m not in every]
    if unknown or not models:
        raise AllianceLabError(
            f"unknown model(s) {', '.join(unknown) or '(none given)'}; choose from all, "
            f"{', '.join(ENGINES)}, or dyn:<engine> (perception dynamics)", field="models")
    return tuple(dict.fromkeys(models))


def stream(seed: int, *keys: str) -> np.random.SeedSequence:
    """The random stream of one (snapshot, model): spawned from ``seed`` by stable hashes of
    the names, so it does not depend on which other models or snapshots run."""
    return np.random.SeedSequence([int(seed), *(zlib.crc32(k.encode()) for k in keys)])


def model_forecast(case: Case, model: str, seed_seq: np.random.SeedSequence) -> dict[str, float]:
    """Issue -> forecast of ``model`` (an engine, or ``dyn:<engine>``: the final round of the
    perception dynamics with that engine, at the case's own dynamics settings)."""
    if model.startswith(DYN):
        sim = simulate(case, model=model[len(DYN):], rng=seed_seq)
        return sim.final_outcomes()
    result = forecast(case, model, rng=seed_seq)
    return {k: float(v) for k, v in zip(result.issues, result.forecast, strict=True)}


# -- the run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hindcast:
    """The tidy scored rows of a hindcast and what produced them."""

    rows: pd.DataFrame
    models: tuple[str, ...]
    snapshots: tuple[Snapshot, ...]
    seed: int
    band: float
    reference: str
    outcomes_file: str
    lambdas: pd.DataFrame | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    failures: tuple[str, ...] = ()

    def summary(self) -> pd.DataFrame:
        """model x snapshot x horizon: MAE in widths, direction and interval hit rates, N."""
        return summarise(self.rows, ["model", "family", "snapshot", "horizon"])

    def pooled(self, by: Sequence[str] = ()) -> pd.DataFrame:
        """Per model (and ``by``), all selected snapshots and horizons pooled."""
        return summarise(self.rows, ["model", "family", *by])

    def best(self) -> pd.DataFrame:
        """Per snapshot and horizon: the unfitted model with the lowest MAE against the two
        baselines."""
        return best_table(self.summary())

    def target(self, snapshot: str = "us_rok_2007") -> dict[str, Any]:
        return target_check(self.rows, snapshot)

    def manifest(self) -> dict[str, Any]:
        return {
            "job": "hindcast",
            "seed": self.seed,
            "dead_band": self.band,
            "reference": self.reference,
            "models": list(self.models),
            "baselines": list(BASELINES),
            "trend_lookback_years_first_snapshot": LOOKBACK_YEARS,
            "snapshots": [
                {"name": s.name, "date": s.date, "case_file": str(s.path),
                 "case_sha256": _sha256(s.path), "horizons": list(s.horizons),
                 "issues": list(s.issues), "notes": list(s.notes)}
                for s in self.snapshots
            ],
            "outcomes_file": self.outcomes_file,
            "outcomes_sha256": _sha256(Path(self.outcomes_file)),
            "fitted": (None if self.lambdas is None
                       else self.lambdas.to_dict(orient="records")),
            "failures": list(self.failures),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "versions": versions(),
        }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_hindcast(
    snapshots: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    *,
    seed: int = 0,
    band: float = DEAD_BAND,
    reference: str = "outcomes",
    fit_lambda: bool = False,
    outcomes: str | Path | None = None,
) -> Hindcast:
    """Forecast every snapshot with every model and score it with the baselines.

    ``snapshots`` are shipped case names or case files (default: every snapshot of the
    outcome table); ``models`` engine names or ``dyn:<engine>`` (default: all of both).
    ``fit_lambda`` adds the leave-one-snapshot-out partial-adjustment rows (``lam:<model>``).
    """
    band = check_band(band)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise AllianceLabError(f"must be a non-negative integer, got {seed!r}", field="seed")
    models = parse_models(",".join(models)) if models is not None else parse_models(None)
    table_file = str(Path(outcomes) if outcomes is not None else outcomes_path())
    table = load_outcomes(table_file)
    names = list(snapshots) if snapshots else list(snapshot_names(table))
    snaps: list[Snapshot] = []
    for name in names:
        try:
            snaps.append(load_snapshot(name, table, reference))
        except AllianceLabError as exc:
            raise exc.located(file=table_file if exc.line is not None else None) from None
    snaps = list({s.name: s for s in snaps}.values())
    snaps.sort(key=lambda s: s.t)
    if fit_lambda and len(snaps) < 2:
        raise AllianceLabError("needs at least two snapshots (leave one out)",
                               field="--fit-lambda")
    dates = table_dates(table, snaps)
    parts, seconds, failures = [], {}, []
    for snap in snaps:
        parts.append(_baseline_rows(snap, table, dates))
        for model in models:
            start = time.perf_counter()
            try:
                values = model_forecast(snap.case, model, stream(seed, snap.name, model))
                note = ""
            except Exception as exc:  # an engine failure is recorded, the run goes on
                values, note = {}, f"error: {' '.join(str(exc).split())}"
                failures.append(f"{snap.name} {model}: {note}")
            seconds[f"{snap.name} {model}"] = time.perf_counter() - start
            parts.append(_model_rows(snap, model, values, note))
    rows = _scored(pd.concat(parts, ignore_index=True), band)
    lambdas = None
    if fit_lambda:
        fitted, lambdas = fit_lambda_loso(rows, band)
        rows = pd.concat([rows, fitted], ignore_index=True)
    return Hindcast(rows=rows, models=models, snapshots=tuple(snaps), seed=seed, band=band,
                    reference=reference, outcomes_file=table_file, lambdas=lambdas,
                    seconds=seconds, failures=tuple(failures))


def _frame(snap: Snapshot) -> pd.DataFrame:
    o = snap.outcomes
    return pd.DataFrame({
        "snapshot": snap.name,
        "issue": o["issue"].to_numpy(),
        "horizon": o["horizon_years"].to_numpy(dtype=int),
        "status_quo": o["issue"].map(snap.status_quo).to_numpy(dtype=float),
        "realised": o["value"].to_numpy(dtype=float),
        "low": o["low"].to_numpy(dtype=float),
        "high": o["high"].to_numpy(dtype=float),
        "kind": o["kind"].to_numpy(),
        "year": o["year"].to_numpy(dtype=int),
        "width": (o["issue"].map(snap.upper) - o["issue"].map(snap.lower)).to_numpy(float),
    })


def _model_rows(snap: Snapshot, model: str, values: dict[str, float], note: str
                ) -> pd.DataFrame:
    df = _frame(snap)
    df["model"] = model
    df["family"] = "model"
    df["forecast"] = df["issue"].map(values).astype(float)
    df["note"] = np.where(df["forecast"].isna(), note or "no forecast for this issue", "")
    return df


def _baseline_rows(snap: Snapshot, table: pd.DataFrame, dates: dict[str, float]
                   ) -> pd.DataFrame:
    sq = _frame(snap)
    sq["model"], sq["family"], sq["note"] = "status-quo", "baseline", ""
    sq["forecast"] = sq["status_quo"]
    slopes = trend_slopes(snap, table, dates)
    tr = _frame(snap)
    tr["model"], tr["family"] = "trend", "baseline"
    tr["forecast"] = [
        trend_forecast(s, slopes[i][0], h, snap.lower[i], snap.upper[i])
        for i, s, h in zip(tr["issue"], tr["status_quo"], tr["horizon"], strict=True)
    ]
    tr["note"] = [f"trend {slopes[i][0]:+.4g}/yr from {slopes[i][1]}"
                  if np.isfinite(slopes[i][0]) else slopes[i][1] for i in tr["issue"]]
    return pd.concat([sq, tr], ignore_index=True)


def _scored(df: pd.DataFrame, band: float) -> pd.DataFrame:
    s = score(df["forecast"], df["status_quo"], df["realised"], df["width"], df["low"],
              df["high"], band)
    for key, values in s.items():
        df[key] = values
    return df.loc[:, list(TIDY_COLUMNS)]


# -- summaries -------------------------------------------------------------------------------


def summarise(rows: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Per group of ``keys``: MAE in widths, direction and interval hit rates (over the rows
    where each is defined), N (rows with a forecast) and N with a range."""
    keys = list(keys)
    if rows.empty:
        return pd.DataFrame(columns=[*keys, *SUMMARY_COLUMNS[4:]])
    g = rows.groupby(keys, sort=False, dropna=False)
    out = pd.DataFrame({
        "mae_widths": g["abs_error_widths"].mean(),
        "direction_hit_rate": g["direction_hit"].mean(),
        "interval_hit_rate": g["interval_hit"].mean(),
        "n": g["abs_error_widths"].count(),
        "n_interval": g["interval_hit"].count(),
    }).reset_index()
    return out


def best_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Per (snapshot, horizon): the best unfitted model (lowest MAE, then highest direction
    rate, then name order) with its MAE and direction rate, and the baselines'."""
    records = []
    for (snap, h), cell in summary.groupby(["snapshot", "horizon"], sort=False):
        models = cell[(cell["family"] == "model") & (cell["n"] > 0)]
        rec: dict[str, Any] = {"snapshot": snap, "horizon": int(h)}
        if not models.empty:
            best = models.sort_values(["mae_widths", "direction_hit_rate"],
                                      ascending=[True, False], kind="stable").iloc[0]
            rec.update(best_model=best["model"], best_mae=best["mae_widths"],
                       best_direction=best["direction_hit_rate"], n=int(best["n"]))
        for name, tag in (("status-quo", "sq"), ("trend", "trend")):
            b = cell[cell["model"] == name]
            if not b.empty:
                rec[f"{tag}_mae"] = float(b["mae_widths"].iloc[0])
                rec[f"{tag}_direction"] = float(b["direction_hit_rate"].iloc[0])
                rec[f"{tag}_n"] = int(b["n"].iloc[0])
        records.append(rec)
    return pd.DataFrame(records)


def target_check(rows: pd.DataFrame, snapshot: str = "us_rok_2007") -> dict[str, Any]:
    """The issue's target, measured: on ``snapshot`` over the decade (every horizon pooled,
    and the last horizon alone), the unfitted model with the most directions right and the one
    with the lowest MAE, against the status-quo baseline's MAE."""
    sub = rows[rows["snapshot"] == snapshot]
    if sub.empty:
        return {"snapshot": snapshot, "available": False}
    out: dict[str, Any] = {"snapshot": snapshot, "available": True}
    last = int(sub["horizon"].max())
    for label, part in (("decade", sub), (f"h{last}", sub[sub["horizon"] == last])):
        pooled = summarise(part, ["model", "family"])
        models = pooled[(pooled["family"] == "model") & (pooled["n"] > 0)]
        sq = pooled[pooled["model"] == "status-quo"]
        if models.empty or sq.empty:
            continue
        by_dir = models.sort_values(["direction_hit_rate", "mae_widths"],
                                    ascending=[False, True], kind="stable").iloc[0]
        by_mae = models.sort_values(["mae_widths", "direction_hit_rate"],
                                    ascending=[True, False], kind="stable").iloc[0]
        sq_mae = float(sq["mae_widths"].iloc[0])
        both = models[(models["direction_hit_rate"] >= 0.8) & (models["mae_widths"] < sq_mae)]
        out[label] = {
            "horizons": sorted(int(h) for h in part["horizon"].unique()),
            "best_direction_model": by_dir["model"],
            "best_direction_rate": float(by_dir["direction_hit_rate"]),
            "best_mae_model": by_mae["model"],
            "best_mae": float(by_mae["mae_widths"]),
            "status_quo_mae": sq_mae,
            "status_quo_direction_rate": float(sq["direction_hit_rate"].iloc[0]),
            "models_meeting_target": list(both["model"]),
            "met": bool(len(both)),
        }
    return out


# -- the fitted variant ----------------------------------------------------------------------


def fit_lambda(forecast: np.ndarray, status_quo: np.ndarray, realised: np.ndarray,
               width: np.ndarray, grid: np.ndarray = LAMBDA_GRID) -> tuple[float, float]:
    """The lambda of the grid that minimises the MAE in widths of
    ``status_quo + lambda * (forecast - status_quo)`` (the smallest on a tie), and that MAE."""
    ok = ~np.isnan(forecast)
    f, sq, y, w = forecast[ok], status_quo[ok], realised[ok], width[ok]
    if f.size == 0:
        return float("nan"), float("nan")
    pred = sq[None, :] + grid[:, None] * (f - sq)[None, :]
    mae = (np.abs(pred - y[None, :]) / w[None, :]).mean(axis=1)
    k = int(np.argmin(mae))
    return float(grid[k]), float(mae[k])


def fit_lambda_loso(rows: pd.DataFrame, band: float = DEAD_BAND
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """For every unfitted model and every snapshot: lambda fitted on the other snapshots'
    rows (all horizons), applied to the held-out snapshot's rows. Returns the scored rows
    (model ``lam:<model>``, family ``fitted``) and the table of lambdas."""
    models = rows[rows["family"] == "model"]
    fitted, records = [], []
    snaps = list(dict.fromkeys(models["snapshot"]))
    for model in dict.fromkeys(models["model"]):
        mine = models[models["model"] == model]
        for held in snaps:
            train = mine[mine["snapshot"] != held]
            test = mine[mine["snapshot"] == held].copy()
            lam, train_mae = fit_lambda(*(train[c].to_numpy(float) for c in
                                          ("forecast", "status_quo", "realised", "width")))
            others = [s for s in snaps if s != held]
            records.append({"model": model, "held_out": held, "lambda": lam,
                            "fitted_on": "+".join(others), "train_mae_widths": train_mae,
                            "n_train": int(train["forecast"].notna().sum())})
            test["forecast"] = test["status_quo"] + lam * (test["forecast"] - test["status_quo"])
            test["model"], test["family"] = LAM + model, "fitted"
            test["note"] = f"lambda={lam:.2f} fitted on {'+'.join(others)}"
            fitted.append(test)
    out = _scored(pd.concat(fitted, ignore_index=True), band) if fitted else rows.iloc[:0]
    return out, pd.DataFrame(records)
