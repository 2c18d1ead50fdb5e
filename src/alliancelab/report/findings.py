"""Findings in plain language, generated from a :class:`~alliancelab.jobs.results.RunResults`.

Nothing here knows the case: every name, label, description and unit comes from the case
file (issue descriptions and scales, actor names, shock and lever descriptions, indicator
descriptions) or from the case's plug-in (its ``MEANINGS``, ``UNITS``, ``HEADLINES`` and
``ILLUSTRATIONS``, see :mod:`alliancelab.cases.us_rok`), and every number from the run.

:func:`findings` gives the report's Findings section, five parts:

* **agree** -- issues on which every engine's 5-95% band overlaps the others' and the
  medians lie within :data:`AGREE_SPREAD` of the scale, with the direction from the status
  quo;
* **disagree** -- the other issues, widest spread first, and why: the actor's position an
  engine's forecast sits on (within :data:`ON_POSITION` of the scale), who moved most in
  the iterative engines' rounds, the issue's arena (standing, veto players) when the case
  defines one;
* **levers** -- the shocks and levers that move the outcomes after the perception dynamics
  most (in % of the scale, with the 5-95% band of the effect), and the largest effect on
  each named indicator;
* **change** -- what would change the conclusion: the built-in exploration's PRIM box for
  the bad outcomes, its most influential uncertainties and the most robust lever (or that
  the exploration was not run);
* **caveats** -- the run's notes (failures), how much of the case is judgement, effects
  whose band includes zero, alliance-model results that are constant or illustrations,
  and shocks documented to act on an indicator's input directly.

:func:`headline_rows` gives the headline numbers (name, value with band and units, a one-line
meaning) for the report's summary and the console summary of ``alliancelab run``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.exploration import MIN_COVERAGE
from ..core import units
from ..core.case import Case, Issue
from ..core.errors import AllianceLabError
from ..jobs.alliance import load_plugin
from .widgets import num

__all__ = ["AGREE_SPREAD", "PluginInfo", "Section", "findings", "headline_rows",
           "input_label", "plugin_info"]

#: medians within this share of the scale (and overlapping bands) count as agreement.
AGREE_SPREAD = 0.10
#: a forecast within this share of the scale of an actor's position "sits on" it.
ON_POSITION = 0.01
#: effects smaller than this share of the scale (or of an indicator) are "no effect".
NEGLIGIBLE = 1e-6
#: how many items the longer lists show.
TOP = 5


@dataclass(frozen=True)
class Section:
    """One part of the Findings: a title, a lead sentence and plain-text items."""

    key: str
    title: str
    lead: str
    items: tuple[str, ...] = ()
    #: a second list under its own heading (e.g. the effects on the named indicators)
    extra_title: str = ""
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class PluginInfo:
    """What the case's plug-in says about its indicators (empty without a plug-in)."""

    meanings: Mapping[str, str] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    headlines: tuple[str, ...] = ()
    illustrations: tuple[str, ...] = ()


def plugin_info(results: Any) -> PluginInfo:
    """The plug-in's ``MEANINGS``, ``UNITS``, ``HEADLINES`` and ``ILLUSTRATIONS``."""
    try:
        module = load_plugin(results.case)
    except AllianceLabError:
        module = None
    if module is None:
        return PluginInfo(headlines=tuple(getattr(results, "alliance_headlines", ())))
    return PluginInfo(dict(getattr(module, "MEANINGS", {})), dict(getattr(module, "UNITS", {})),
                      tuple(getattr(module, "HEADLINES", ())),
                      tuple(getattr(module, "ILLUSTRATIONS", ())))


# -- words for numbers -----------------------------------------------------------------------


def issue_label(issue: Issue) -> str:
    """The issue's description from the case (its name when it has none)."""
    text = (issue.description or issue.name).strip()
    return text[:-1] if text.endswith(".") else text


def _num(x: float) -> str:
    return "0" if x == 0 else num(x)


def in_units(issue: Issue, x: float) -> str:
    """``x`` in the issue's units at its scale's precision, or as a point on its scale
    (``54.7/100``) (:func:`alliancelab.core.units.with_units`)."""
    return units.with_units(x, issue.scale)


def _pos(issue: Issue, x: float) -> str:
    """``x`` at the issue's precision, without units."""
    return units.value(x, issue.scale)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _band_text(p5: float, p95: float) -> str:
    """The 5-95% band of an indicator's change, three decimals like its value."""
    if not (np.isfinite(p5) and np.isfinite(p95)):
        return ""
    return f"5-95%: {units.signed(p5, places=3)} to {units.signed(p95, places=3)}"


def _excludes_zero(p5: float, p95: float) -> bool:
    return bool(np.isfinite(p5) and np.isfinite(p95) and (p5 > 0 or p95 < 0))


def _label(name: str) -> str:
    """Names stay as the case spells them (they are the keys of every table and file)."""
    return name


def _intervention_label(case: Case, name: str) -> str:
    """The shock's or lever's description from the case, and its name."""
    for item in (*case.shocks, *case.levers):
        if item.name == name:
            desc = (item.description or "").strip().rstrip(".")
            return f"{desc} ({name})" if desc else name
    return name


# -- agreement -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spread:
    issue: Issue
    k: int
    medians: dict[str, float]
    lows: dict[str, float]
    highs: dict[str, float]

    @property
    def spread(self) -> float:
        vals = [v for v in self.medians.values() if np.isfinite(v)]
        return (max(vals) - min(vals)) / self.issue.scale.width if vals else np.nan

    @property
    def overlap(self) -> bool:
        return max(self.lows.values()) <= min(self.highs.values())

    @property
    def agreed(self) -> bool:
        return bool(self.overlap and self.spread <= AGREE_SPREAD)


def _spreads(results: Any) -> list[_Spread]:
    out = []
    for k, issue in enumerate(results.scenario.issues):
        runs = results.runs
        out.append(_Spread(issue, k, {m: float(r.bands[1, k]) for m, r in runs.items()},
                           {m: float(r.bands[0, k]) for m, r in runs.items()},
                           {m: float(r.bands[2, k]) for m, r in runs.items()}))
    return out


def _direction(s: _Spread) -> str:
    sq = s.issue.status_quo.value if s.issue.status_quo is not None else np.nan
    if not np.isfinite(sq):
        return ""
    moves = [(m - sq) / s.issue.scale.width for m in s.medians.values()]
    where = in_units(s.issue, sq)
    if all(abs(d) <= 0.02 for d in moves):
        return f"at the status quo of {where}"
    if all(d > 0 for d in moves):
        return f"all above the status quo of {where}"
    if all(d < 0 for d in moves):
        return f"all below the status quo of {where}"
    return f"on either side of the status quo of {where}"


def _agree(results: Any, spreads: list[_Spread]) -> Section:
    models = list(results.runs)
    if len(models) < 2:
        return Section("agree", "What the models agree on",
                       f"Only one engine ran ({', '.join(models)}): agreement between engines "
                       "cannot be judged; run with several --models.")
    agreed = [s for s in spreads if s.agreed]
    lead = (f"The {len(models)} engines ({', '.join(models)}) agree on {len(agreed)} of "
            f"{len(spreads)} issues: their 5-95% bands overlap and their medians lie within "
            f"{100 * AGREE_SPREAD:.0f}% of the scale.")
    items = []
    for s in sorted(agreed, key=lambda s: s.spread):
        lo, hi = min(s.medians.values()), max(s.medians.values())
        rng = in_units(s.issue, lo) if _pos(s.issue, lo) == _pos(s.issue, hi) else \
            f"{_pos(s.issue, lo)} to {in_units(s.issue, hi)}"
        direction = _direction(s)
        items.append(f"{issue_label(s.issue)}: medians {rng}"
                     + (f", {direction}." if direction else "."))
    return Section("agree", "What the models agree on", lead, tuple(items))


# -- disagreement ----------------------------------------------------------------------------


def _nearest_actor(case: Case, issue: Issue, x: float) -> tuple[str, float]:
    best, dist = "", np.inf
    for a in case.actors:
        if issue.name in a.positions:
            d = abs(a.positions[issue.name].value - x) / issue.scale.width
            if d < dist:
                best, dist = a.name, d
    return best, dist


def _why_positions(results: Any, s: _Spread) -> str:
    parts = []
    for m, run in results.runs.items():
        x = float(run.point.forecast[s.k])
        who, dist = _nearest_actor(results.scenario, s.issue, x)
        if who and dist <= ON_POSITION:
            parts.append(f"{m}'s forecast {_pos(s.issue, x)} sits on the position of {who}")
    return "; ".join(parts)


def _why_moves(results: Any, s: _Spread) -> str:
    parts = []
    width = s.issue.scale.width
    for m, run in results.runs.items():
        rounds = run.point.rounds
        if rounds.shape[0] < 2:
            continue
        moved = np.abs(rounds[-1, :, s.k] - rounds[0, :, s.k]) / width
        i = int(np.argmax(moved))
        if moved[i] > 0.02:
            parts.append(f"in {m}'s rounds {run.point.actors[i]} moves most "
                         f"({_pos(s.issue, rounds[0, i, s.k])} to "
                         f"{_pos(s.issue, rounds[-1, i, s.k])})")
    return "; ".join(parts)


def _why_arena(issue: Issue) -> str:
    parts = []
    arena = getattr(issue, "arena", None)
    standing = getattr(arena, "standing", None) if arena is not None else None
    if standing:
        parts.append(f"only {', '.join(map(str, standing))} have standing on it")
    veto = getattr(issue, "veto", None) or []
    if veto:
        names = [str(getattr(v, "actor", v)) for v in veto]
        parts.append(f"{', '.join(names)} can veto a change")
    return "; ".join(parts)


def _disagree(results: Any, spreads: list[_Spread]) -> Section:
    title = "Where they disagree, and why"
    if len(results.runs) < 2:
        return Section("disagree", title, "One engine only: no disagreement to explain.")
    rest = sorted((s for s in spreads if not s.agreed), key=lambda s: -s.spread)
    if not rest:
        return Section("disagree", title, "The engines agree on every issue.")
    lead = (f"{len(rest)} issue{'' if len(rest) == 1 else 's'}, widest spread first; the "
            "reasons are read off the engines' "
            "own results (an actor's position a forecast sits on, who moved in their rounds) "
            "and the case's arenas.")
    items = []
    for s in rest[:TOP]:
        hi = max(s.medians, key=lambda m: s.medians[m])
        lo = min(s.medians, key=lambda m: s.medians[m])
        why = "; ".join(p for p in (_why_positions(results, s), _why_moves(results, s),
                                    _why_arena(s.issue)) if p)
        bands = "the bands overlap" if s.overlap else "the bands do not overlap"
        items.append(f"{issue_label(s.issue)}: {hi} {in_units(s.issue, s.medians[hi])} "
                     f"against {lo} {_pos(s.issue, s.medians[lo])} (medians "
                     f"{100 * s.spread:.0f}% of the scale apart; {bands}). "
                     f"Why: {why or 'no diagnostic singles out an actor'}.")
    if len(rest) > TOP:
        items.append(f"Also apart: {', '.join(issue_label(s.issue) for s in rest[TOP:])}.")
    return Section("disagree", title, lead, tuple(items))


# -- shocks and levers -----------------------------------------------------------------------


def _outcome_effects(results: Any) -> pd.DataFrame:
    e = results.effects
    if e is None or e.empty:
        return pd.DataFrame()
    sub = e[(e["metric"] == "dynamics outcome") & (e["kind"].isin(["shock", "lever"]))].copy()
    widths = {i.name: i.scale.width for i in results.case.issues}
    sub["rel"] = [r.effect / widths[r.item] for r in sub.itertuples()]
    return sub[sub["rel"].abs() > NEGLIGIBLE]


def _lever_items(results: Any) -> list[str]:
    sub = _outcome_effects(results)
    if sub.empty:
        return []
    issues = {i.name: i for i in results.case.issues}
    top = sub.loc[sub.groupby("scenario")["rel"].apply(lambda s: s.abs().idxmax())]
    top = top.reindex(top["rel"].abs().sort_values(ascending=False).index).head(TOP)
    items = []
    for r in top.itertuples():
        issue = issues[r.item]
        sc = issue.scale
        band = "" if not (np.isfinite(r.effect_p5) and np.isfinite(r.effect_p95)) else \
            f"5-95%: {units.signed(r.effect_p5, sc)} to {units.signed(r.effect_p95, sc)}"
        sure = "" if _excludes_zero(r.effect_p5, r.effect_p95) or not band else \
            "; the band includes zero, so even the sign is uncertain"
        unit = f" {sc.units}" if sc.units else ""
        items.append(f"{_cap(_intervention_label(results.case, r.scenario))}: "
                     f"{issue_label(issue)} {units.signed(r.effect, sc)}{unit} "
                     f"({100 * r.rel:+.0f}% of the scale{'; ' + band if band else ''}{sure}).")
    return items


def _indicator_items(results: Any) -> list[str]:
    e = results.effects
    if e is None or e.empty:
        return []
    sub = e[(e["metric"] == "indicator") & (e["kind"].isin(["shock", "lever"]))]
    sub = sub[sub["effect"].abs() > NEGLIGIBLE]
    desc = {i.name: (i.description or "").rstrip(".") for i in results.case.indicators}
    items = []
    for name, grp in sub.groupby("item", sort=False):
        r = grp.loc[grp["effect"].abs().idxmax()]
        band = "" if not (np.isfinite(r.effect_p5) and np.isfinite(r.effect_p95)) else \
            (f"5-95%: {units.signed(r.effect_p5, places=3)} to "
             f"{units.signed(r.effect_p95, places=3)}")
        what = f" {_cap(desc[name])}." if desc.get(name) else ""
        items.append(f"{name}: {units.signed(r.effect, places=3)} from {r.baseline:.3f}"
                     f"{' (' + band + ')' if band else ''}, with {r.scenario}.{what}")
    return items


def _levers(results: Any) -> Section:
    title = "Which shocks and levers move outcomes most"
    items = _lever_items(results)
    if not items:
        return Section("levers", title, "The case defines no shocks or levers, or none moves "
                       "an outcome.")
    lead = (f"Each shock and lever alone against the baseline, after the "
            f"{_rounds(results)} rounds of the perception dynamics; the band is the 5-95% of "
            f"the effect over {results.n_effect_draws} Monte Carlo draws (the same drawn case "
            "with and without it).")
    ind = _indicator_items(results)
    return Section("levers", title, lead, tuple(_chosen_items(results) + items),
                   "The largest effect on each named indicator (defined in the case file), and "
                   "the shock or lever that makes it" if ind else "", tuple(ind))


def _rounds(results: Any) -> int:
    sim = results.simulation
    return int(sim.outcomes.shape[0] - 1) if sim is not None else 0


def _chosen_items(results: Any) -> list[str]:
    if not results.interventions or results.simulation is None \
            or results.baseline_simulation is None:
        return []
    base, scen = results.baseline_simulation, results.simulation
    issues = list(results.case.issues)
    moves = [(abs(scen.outcomes[-1, k] - base.outcomes[-1, k]) / i.scale.width, k)
             for k, i in enumerate(issues)]
    moves = sorted((m for m in moves if m[0] > NEGLIGIBLE), reverse=True)[:3]
    if not moves:
        return [f"The chosen scenario ({' + '.join(results.interventions)}) moves no outcome."]
    parts = [f"{issue_label(issues[k])} {_pos(issues[k], base.outcomes[-1, k])} to "
             f"{in_units(issues[k], scen.outcomes[-1, k])}" for _, k in moves]
    return [f"The chosen scenario ({' + '.join(_label(n) for n in results.interventions)}) "
            f"moves most: {'; '.join(parts)}."]


# -- what would change the conclusion ------------------------------------------------------


def _box_condition(limits: pd.DataFrame) -> list[str]:
    parts = []
    for name, r in limits.iterrows():
        name = str(name)
        if name.startswith("shock.") and r["min"] == 0 and r["max"] == 1 and r["low"] == r["high"]:
            happens = "happens" if r["high"] >= 0.5 else "does not happen"
            parts.append(f"the shock {_label(name.split('.', 1)[1])} {happens}")
        else:
            parts.append(f"{input_label(name)} is between {num(r['low'])} and "
                         f"{num(r['high'])} (its range: {num(r['min'])} to {num(r['max'])})")
    return parts


_FIELDS = {"positions": "position on", "saliences": "salience of"}


def input_label(path: str) -> str:
    """A dotted input path (``actors.A.saliences.k``) in words (``A: salience of k``); other
    paths and switches (``shock.name``) stay as they are."""
    if path.startswith("issues.") and path.count(".") == 2:
        _, issue, what = path.split(".")
        return f"the {what.replace('_', ' ')} of {issue}"
    if not path.startswith("actors."):
        return f"the shock {path.split('.', 1)[1]}" if path.startswith("shock.") else path
    rest = path[len("actors."):]
    for key, words in _FIELDS.items():
        actor, sep, item = rest.partition(f".{key}.")
        if sep:
            return f"{actor}: {words} {item}"
    for key, words in ((".perceptions.threats.", "threat felt from "),
                       (".perceptions.partner_reliability", "trust in the partner"),
                       (".capability", "capability")):
        actor, sep, item = rest.partition(key)
        if sep:
            return f"{actor}: {words}{item}"
    return path


def _change(results: Any) -> Section:
    title = "What would change the conclusion"
    a = getattr(results, "exploration", None)
    if a is None:
        note = next((n for n in results.notes if n.startswith("exploration")), "")
        return Section("change", title, "The built-in exploration was not run "
                       f"({note or '--explore-n 0'}), so there is no scenario discovery: run "
                       "with --explore-n 300 (or alliancelab explore) to find the conditions "
                       "under which the outcome turns bad.")
    items = []
    if a.prim is not None:
        box = a.prim.boxes[a.prim_box]
        cond = _box_condition(a.prim.limits(a.prim_box))
        items.append(f"The bad outcomes ({_prim_label(results, a)}) occur mainly when "
                     f"{' and '.join(cond) or 'no single input is restricted'}: that box holds "
                     f"{100 * box.coverage:.0f}% of them, and {100 * box.density:.0f}% of the "
                     "scenarios in it are bad (PRIM).")
        warnings = a.prim.assess(a.prim_box, MIN_COVERAGE)[1]
        if warnings:
            items.append("Handle that box with care: " + " ".join(warnings))
    elif a.prim_note:
        items.append(f"Scenario discovery: {a.prim_note}")
    if a.sensitivity is not None and not a.sensitivity.empty:
        top = "; ".join(input_label(str(p)) for p in a.sensitivity.index[:3])
        items.append(f"The inputs that move it most ({a.sensitivity_method} screening): "
                     f"{top}.")
    rb = a.robustness
    if rb is not None:
        items.append(_robust_item(rb))
    lead = (f"From the built-in exploration: {a.manifest.get('n_scenarios', 0):,} scenarios "
            f"over the case's ranges and shocks, each under every lever, for "
            f"{_outcome_label(results, a.outcome)}.")
    return Section("change", title, lead, tuple(items))


def _robust_item(rb: Any) -> str:
    """The minimax-regret policy in words; a tie names every tied policy."""
    worst = rb.summary["max_regret"]
    low = float(worst.min())
    tied = [str(p) for p in worst.index if worst[p] <= low + 1e-9 * max(1.0, abs(low))]
    if len(tied) == len(worst):
        return (f"No lever changes this outcome's worst case: all {len(tied)} policies tie "
                f"on minimax regret (largest regret {_num(low)}).")
    if len(tied) > 1:
        return (f"The most robust policies for this outcome tie: {', '.join(tied)} (largest "
                f"regret {_num(low)} each).")
    fails = (f"it is not the best choice in {len(rb.failures)} of {len(rb.regret)} "
             "scenarios" if len(rb.failures) else "it is the best choice in every scenario")
    return (f"The most robust policy for this outcome is {_label(rb.most_robust)} "
            f"(largest regret {_num(low)}); {fails}.")


def _outcome_label(results: Any, outcome: str) -> str:
    """``compromise.usfk_troops`` -> the issue's description and the model."""
    model, _, name = outcome.partition(".")
    for issue in results.case.issues:
        if issue.name == name:
            return f"{issue_label(issue)} ({model} model)"
    return outcome


def _prim_label(results: Any, a: Any) -> str:
    if a.prim_threshold is None:
        return str(a.prim_label)
    model, _, name = str(a.prim_outcome).partition(".")
    issue = next((i for i in results.case.issues if i.name == name), None)
    op = "above" if a.prim_direction == "above" else "below"
    if issue is None:
        return f"{a.prim_outcome} {op} {num(a.prim_threshold)}"
    return f"{issue_label(issue)} {op} {in_units(issue, a.prim_threshold)}, {model} model"


# -- caveats ---------------------------------------------------------------------------------


def _judgement_item(results: Any) -> str:
    inputs = results.inputs
    if inputs is None or inputs.empty:
        return ""
    src = inputs["source"].fillna("")
    judged = int(src.str.startswith("judgement:").sum())
    ranged = int(inputs["range_low"].notna().sum())
    return (f"{judged} of {len(inputs)} input numbers ({100 * judged / len(inputs):.0f}%) are "
            f"judgements rather than data; {ranged} carry a range and are drawn in the Monte "
            "Carlo (see Inputs & sources).")


def _uncertain_sign_item(results: Any) -> str:
    e = results.effects
    if e is None or e.empty:
        return ""
    sub = e[(e["metric"] == "indicator") & (e["kind"].isin(["shock", "lever"]))
            & (e["effect"].abs() > 1e-3) & e["effect_p5"].notna()]
    unsure = sub[(sub["effect_p5"] <= 0) & (sub["effect_p95"] >= 0)]
    if unsure.empty:
        return ""
    unsure = unsure.reindex(unsure["effect"].abs().sort_values(ascending=False).index)
    ex = "; ".join(f"{_label(r.scenario)} on {_label(r.item)} {r.effect:+.3f} "
                   f"({_band_text(r.effect_p5, r.effect_p95)})"
                   for r in unsure.head(3).itertuples())
    return (f"{len(unsure)} of {len(sub)} effects of a shock or lever on an indicator have a "
            f"5-95% band that includes zero, e.g. {ex}.")


def _constant_alliance_items(results: Any, info: PluginInfo) -> list[str]:
    a = results.alliance
    if a is None or a.empty:
        return []
    # per item: the stated baseline value, and the spread of value and bands over the rows
    base = a[a["kind"] == "baseline"].drop_duplicates("item").set_index("item")["value"]
    numbers = a.groupby("item", sort=False)[["value", "p5", "p95"]]
    spread = numbers.max().max(axis=1) - numbers.min().min(axis=1)
    constant = [f"{item} = {num(float(base[item]))}" for item, s in spread.items()
                if item in base.index and np.isfinite(base[item]) and s < 1e-9
                and not str(item).startswith(("solver.",))]
    items = []
    if constant:
        items.append("Constant across the draws and every shock and lever, so never a "
                     f"headline: {', '.join(constant)}.")
    if info.illustrations:
        shown = sorted({str(i).split(".")[0] + ".*" for i in a["item"]
                        if str(i).startswith(info.illustrations)})
        if shown:
            items.append(f"Illustrations, not forecasts: the {' and '.join(shown)} indicators "
                         "of the alliance models (each one's reading is in the Alliance models "
                         "table).")
    return items


def _exception_item(case: Case) -> str:
    hits = [f"{item.name} ({c.target})" for item in (*case.shocks, *case.levers)
            for c in item.changes if (c.source or "").startswith("exception:")]
    if not hits:
        return ""
    return ("Documented exceptions: these shocks change a perception an indicator reads "
            f"directly, because the change is the event itself: {'; '.join(hits)}.")


def _caveats(results: Any, info: PluginInfo) -> Section:
    items = [*results.notes]
    items += [x for x in (_judgement_item(results), _uncertain_sign_item(results)) if x]
    items += _constant_alliance_items(results, info)
    exc = _exception_item(results.case)
    if exc:
        items.append(exc)
    items.append("The named indicators are transparent composites of model outputs "
                 "(bargained outcomes and perceptions as they evolve), defined in the case "
                 "file: they give directions and relative sizes, not validated measures.")
    n = len(results.notes)
    lead = (f"The run left {n} note{'s' if n != 1 else ''} (first below); and what to keep in "
            "mind." if n else "The run left no notes (no solver or engine failures); what to "
            "keep in mind:")
    return Section("caveats", "Main caveats", lead, tuple(items))


def findings(results: Any) -> list[Section]:
    """The Findings section's parts (see the module docstring), from ``results`` alone."""
    spreads = _spreads(results)
    info = plugin_info(results)
    return [_agree(results, spreads), _disagree(results, spreads), _levers(results),
            _change(results), _caveats(results, info)]


# -- headline numbers ------------------------------------------------------------------------


def _varies(a: pd.DataFrame, item: str) -> bool:
    grp = a[a["item"] == item]
    vals = grp[["value", "p5", "p95"]].to_numpy(dtype=float)
    return bool(np.isfinite(vals).any() and np.nanmax(vals) - np.nanmin(vals) > 1e-9)


def _alliance_rows(results: Any, info: PluginInfo) -> list[tuple[str, str, str]]:
    a = results.alliance
    if a is None or a.empty:
        return []
    scen = " + ".join(results.interventions) if results.interventions else "baseline"
    if scen not in set(a["scenario"]):
        scen = "baseline"
    rows = []
    for item in info.headlines or results.alliance_headlines:
        sub = a[(a["scenario"] == scen) & (a["item"] == item)]
        if sub.empty or item.startswith(info.illustrations or ("\0",)) or not _varies(a, item):
            continue
        r = sub.iloc[0]
        value = num(r["value"])
        if r.get("draws", 0) and np.isfinite(r["p50"]):
            value = units.band(r["p5"], r["p50"], r["p95"])  # one precision for all three
        unit = info.units.get(item, "")
        rows.append((item, f"{value} {unit}".strip(),
                     info.meanings.get(item, "alliance-model indicator")))
    return rows


def _scenario_rows(results: Any) -> list[tuple[str, str, str]]:
    e = results.effects
    if not results.interventions or e is None or e.empty:
        return []
    label = " + ".join(results.interventions)
    sub = e[(e["scenario"] == label) & (e["metric"] == "indicator")]
    desc = {i.name: (i.description or i.name).rstrip(".") for i in results.case.indicators}
    rows = []
    for r in sub.itertuples():
        spread = [abs(x) for x in (r.effect, r.effect_p5, r.effect_p95) if np.isfinite(x)]
        if max(spread, default=0.0) < 5e-4:
            continue  # no effect: nothing to headline
        band = f" [{r.effect_p5:+.3f}, {r.effect_p95:+.3f}]" if np.isfinite(r.effect_p5) else ""
        rows.append((f"{r.item}: effect of the scenario", f"{r.effect:+.3f}{band} index points",
                     f"{desc.get(r.item, r.item)}: change against the baseline at the last "
                     "round of the dynamics"))
    return rows


def headline_rows(results: Any) -> list[tuple[str, str, str]]:
    """The headline numbers: (name, value with its 5-95% band and units, one-line meaning).

    * how many issues the engines agree on (when several ran);
    * the plug-in's headline indicators (``HEADLINES``) for the chosen scenario (else the
      baseline) that vary across the draws or scenarios, median [5%, 95%] over the alliance
      draws (the value as stated without draws), with the plug-in's units and meaning;
    * with shocks or levers chosen, their effect on each named indicator of the dynamics.

    Nothing constant by construction and no illustration is headlined."""
    rows: list[tuple[str, str, str]] = []
    if len(results.runs) > 1:
        spreads = _spreads(results)
        agreed = sum(s.agreed for s in spreads)
        rows.append(("engines agree on", f"{agreed} of {len(spreads)} issues",
                     f"Issues where every engine's 5-95% band overlaps the others' and the "
                     f"medians lie within {100 * AGREE_SPREAD:.0f}% of the scale"))
    rows += _alliance_rows(results, plugin_info(results))
    rows += _scenario_rows(results)
    return rows
