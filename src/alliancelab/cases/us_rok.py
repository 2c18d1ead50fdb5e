"""The alliance models applied to a case: deterrence stability, ROK abandonment and
entrapment risk, burden shares and tension.

:func:`assess` maps a US-ROK case (actors grouped ``US``, ``ROK``, ``DPRK``, ``PRC``; issues
``usfk_troops``, ``ncg_extended_deterrence``, ``joint_exercises``, ``strategic_flexibility``,
``china_stance``, ``sma_cost_sharing``, ``defence_spending``, ``dprk_policy``) to the inputs
of the models in :mod:`alliancelab.models.games` and :mod:`alliancelab.models.economics` and
returns flat, numeric indicators. Every mapping below is a *judgement* (stated with its reason in
``docs/alliance-models.md``); the models themselves are the published ones.

Inputs: model outputs, never the case's numbers read directly
    Every input of the games below is an output of the case's perception dynamics
    (:func:`alliancelab.models.dynamics.simulate`, compromise bargaining each round, the
    case's links, feedback, consultation and learning; :func:`dynamics_state`) at its last
    round:

    * outcomes: the bargained outcome per issue (``outcomes`` overrides them if given);
    * group perceptions: capability-weighted means over a group's actors of
      ``threats.dprk``, ``threats.china``, ``threats.alliance`` and ``partner_reliability``
      as they have evolved (e.g. Pyongyang's felt threat after the outcomes on exercises,
      troops and pressure fed back on it -- Jervis 1978, Walt 1987);
    * ideal positions (Morrow's "what Seoul wants") as the links have moved them.

    So a shock or lever reaches the games only through what it changes in the case (positions,
    saliences, perceptions at the start, dynamics parameters) and the mechanisms; the case
    passed in has its interventions applied from round 0 (a perception shock then enters the
    inputs directly and moves positions only through feedback, not through the links, whose
    reference is the round-0 perception).

Mapping (judgements)
    AEG (Zagare & Kilgour 2000), Challenger = DPRK, Defender = US:
      tactical credibility  pT = (u + e + s) / 3 with u = min(usfk / 28,500, 1) (the
        authorised level; Fuhrmann & Sechser 2014: troops tie hands), e = exercises / 100,
        s = min(ROK defence spending / 3.5 % GDP, 1) (the pledge in Yu) -- conventional
        capacity to answer a limited attack in kind;
      strategic credibility pS = (ncg / 100 + US DPRK threat) / 2 -- institutionalised
        nuclear guarantee and Washington's resolve;
      pHH = pT pS, pHS = pT (1 - pS), pSH = (1 - pT) pS, pSS = (1 - pT)(1 - pS);
      challenger hardness pCh = 0.1 + 0.5 DPRK-felt alliance threat x (0.5 + 0.5 pressure),
        pressure = dprk_policy / 100 (a cornered regime prefers fighting to backing down).
    Tripartite crisis game, Protégé = ROK: pDef = pS; pPro (credibility of Seoul's threat to
      realign/hedge) = (1 - ROK reliability of the US) x (1 - ROK China threat). The game's
      payoffs are the reconstruction's fixed defaults (:class:`~alliancelab.models.games.
      deterrence.TCGPayoffs`), not the case's: a supported Hard challenger fights by the
      definition of its type, so P(war) = P(a Hard challenger demands) x P(the US supports).
      Its indicators are a labelled illustration (:data:`ILLUSTRATIONS`), never a headline.
    Snyder alliance game (ROK row, US column):
      ROK: b = ROK DPRK threat, k = 0.5 (flex + china) / 100, a = b x ROK reliability,
           r = 1 - US reliability of ROK;
      US:  b = 0.5 US DPRK threat + 0.5 US China threat x flex / 100,
           k = 0.5 (1 - min(sma / 5, 1)) + 0.5 (1 - min(ROK spending / 3.5, 1)) (the
           free-riding complaint), a = 0.5 US China threat, r = ROK reliability of the US;
      the commitment each side is seen to make is half the QRE probability of a strong
      commitment and half an observed signal: US = (min(usfk / 28,500, 1) + ncg / 100) / 2,
      ROK = (flex + china) / 200 (exposure to US regional strategy);
      conflict propensity = clip(china / 100 x (0.5 + US China threat - ROK China threat));
      ROK abandonment risk = 1 - US commitment; entrapment risk = ROK commitment x
      conflict propensity.
    Burden sharing: incomes = World Bank GDP (USA, KOR) of the case's year (``case.date``,
      at most 2023); burdens = SIPRI milex/GDP of that year (at most 2024) for the US and
      the case's defence_spending outcome for the ROK. Olson-Zeckhauser with beta = the US
      burden (the US alone contributing matches its data) gives the ROK burden
      the pure public-good model predicts; the joint-product model's beta, gamma are solved
      from the two first-order conditions (beta <= 0 means the observed pair cannot be a
      pure-public-good equilibrium: Seoul's spending is driven by private, national benefit).
    Tension (Richardson, illustrative -- the data do not support a calibrated two-sided
      Richardson process, see docs): a = b = 1; Korea: k = ROK DPRK threat, l = DPRK
      alliance threat x (0.5 + 0.5 exercises / 100); US-China: k = US China threat,
      l = PRC alliance threat x (0.5 + 0.5 china / 100). Tension = k l / (a b).
    Morrow (1991) autonomy-for-security exchange, minor power = ROK, U = ln s + gamma ln a
      (:func:`alliancelab.models.games.alliance_dilemma.morrow_concession`). Autonomy in Morrow's
      sense is the ability to pursue the changes one wants, so
      autonomy conceded X = mean over strategic_flexibility, opcon_transfer, china_stance,
        missile_defence and nuclear_submarines (the issues where Washington asks Seoul for
        freedom of action) of |outcome - ROK position| / scale width, the ROK position being
        the capability x salience weighted mean of the ROK actors' positions; a0 = 1;
      security gained dS = t x rho x P with t = ROK DPRK threat, rho = ROK reliability of the
        US and P = mean(min(usfk / 28,500, 1), ncg / 100, exercises / 100): the share of the
        felt threat the US guarantee removes, as far as Seoul believes it;
      own security s0 = 1 - t; price k = dS / X (security per unit of autonomy at the
        bargained terms); gamma = ROK salience on the five autonomy issues / ROK salience on
        usfk, ncg and exercises (capability-weighted group means: Seoul's stated weight of
        autonomy against security).
      Indicators: the optimum x* = (k - gamma s0) / (k (1 + gamma)) (clipped to [0, 1]), the
      gap X - x* (> 0: Seoul concedes more autonomy than its priorities justify at these
      terms, pressure to take autonomy back; < 0: room for further US asks), the utility of
      the bargained deal against no alliance, ln((s0 + dS) / s0) + gamma ln(1 - X), and of the
      optimal one.

Labels (:func:`evaluate`): the AEG's equilibrium family (Zagare & Kilgour's names,
:func:`~alliancelab.models.games.deterrence.aeg_family`) and path-based type, the
tripartite game's family / type, and Snyder's game type (prisoners-dilemma, assurance).

Plug-in interface (read by :mod:`alliancelab.jobs.alliance` and :mod:`alliancelab.report`):
``evaluate``; ``HEADLINES``, the indicators worth a headline (each varies across the Monte
Carlo draws or the shocks and levers -- a test checks it); ``MEANINGS`` and ``UNITS``, a
one-line reading and the units of every indicator; ``ILLUSTRATIONS``, the prefixes of the
indicators that illustrate a model rather than measure the case.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ..calibration import spending
from ..core.case import Case
from ..core.errors import AllianceLabError
from ..models.dynamics import Run, Simulation, simulate_batch
from ..models.economics.arms_race import Richardson
from ..models.economics.burden_sharing import joint_product, olson_zeckhauser
from ..models.games.alliance_dilemma import AllyPayoffs, alliance_game, morrow_concession
from ..models.games.deterrence import solve_aeg_many, solve_tcg_many

USFK_AUTHORISED = 28_500.0
ROK_PLEDGE = 3.5
#: Solver settings for speed inside Monte Carlo runs (same equilibria as the defaults on a
#: 75-point grid of priors, see tests/test_alliance_models.py); the defaults are the fallback.
_SOLVER: dict[str, Any] = {"lam_max": 1e4, "steps": 15, "tol": 5e-3}
_FALLBACK: dict[str, Any] = {"lam_max": 1e4, "steps": 40, "tol": 5e-3}
#: the engine the plug-in's perception dynamics bargain with (as the run's dynamics do).
DYNAMICS_MODEL = "compromise"

#: the indicators ``alliancelab run`` headlines (plug-in interface: ``evaluate`` and,
#: optionally, ``HEADLINES``; see :mod:`alliancelab.jobs.alliance`). Each varies across the
#: Monte Carlo draws or the shocks and levers of the shipped cases (tested); the AEG's
#: P(challenge) is 0 throughout and the tripartite game is an illustration, so neither is here.
HEADLINES = ("dilemma.rok_abandonment", "dilemma.rok_entrapment", "morrow.concession_gap",
             "inputs.p_tactical", "inputs.p_strategic", "burden.rok_share_of_pair")
#: prefixes of indicators that illustrate a model rather than measure the case: the
#: reconstructed tripartite game (fixed payoffs) and Richardson tension (a = b = 1).
ILLUSTRATIONS = ("tripartite.", "tension.")

#: Morrow (1991) mapping: the issues on which Seoul concedes autonomy to Washington.
AUTONOMY_ISSUES = ("strategic_flexibility", "opcon_transfer", "china_stance", "missile_defence",
                   "nuclear_submarines")
#: ... and the issues on which the US provides security (with their full-protection level).
SECURITY_ISSUES = {"usfk_troops": USFK_AUTHORISED, "ncg_extended_deterrence": 100.0,
                   "joint_exercises": 100.0}
#: every issue the mapping reads.
ISSUES = ("usfk_troops", "ncg_extended_deterrence", "joint_exercises", "strategic_flexibility",
          "china_stance", "sma_cost_sharing", "defence_spending", "dprk_policy",
          "opcon_transfer", "missile_defence", "nuclear_submarines")
#: the group perceptions the mapping reads (group, perception).
PERCEPTIONS = (("US", "threats.dprk"), ("US", "threats.china"), ("US", "partner_reliability"),
               ("ROK", "threats.dprk"), ("ROK", "threats.china"),
               ("ROK", "partner_reliability"), ("DPRK", "threats.alliance"),
               ("PRC", "threats.alliance"))

_P = "probability (0-1)"
#: units of every indicator :func:`evaluate` returns.
UNITS: dict[str, str] = {
    **{f"deterrence.{k}": _P for k in ("p_challenge", "p_concede", "p_limited",
                                        "p_escalation", "p_war")},
    "deterrence.stable": "1 = yes, 0 = no",
    **{f"tripartite.{k}": _P for k in ("p_challenge", "p_support", "p_war", "p_realign")},
    "dilemma.rok_abandonment": "risk (0-1)", "dilemma.rok_entrapment": "risk (0-1)",
    "dilemma.us_commitment": "strength (0-1)", "dilemma.rok_commitment": "strength (0-1)",
    "dilemma.conflict_propensity": "chance (0-1)",
    "dilemma.qre_commit_us": _P, "dilemma.qre_commit_rok": _P,
    "burden.us_share_gdp": "% of GDP", "burden.rok_share_gdp": "% of GDP",
    "burden.rok_share_of_pair": "share (0-1)", "burden.rok_share_of_pair_with_sma": "share (0-1)",
    "burden.rok_gdp_share_of_pair": "share (0-1)", "burden.oz_rok_burden": "% of GDP",
    "burden.joint_product_beta": "weight", "burden.joint_product_gamma": "weight",
    "burden.exploitation_ratio": "ratio",
    "tension.korea": "Richardson ratio kl/ab", "tension.us_china": "Richardson ratio kl/ab",
    "tension.korea_stable": "1 = yes, 0 = no", "tension.us_china_stable": "1 = yes, 0 = no",
    "morrow.autonomy_conceded": "scale widths (0-1)",
    "morrow.security_gained": "share of the felt threat",
    "morrow.price": "security per unit of autonomy", "morrow.autonomy_weight": "ratio",
    "morrow.own_security": "share (0-1)", "morrow.optimal_concession": "scale widths (0-1)",
    "morrow.optimal_security_gained": "share of the felt threat",
    "morrow.concession_gap": "scale widths", "morrow.deal_gain": "log utility",
    "morrow.optimal_gain": "log utility",
    **{f"inputs.{k}": _P for k in ("p_tactical", "p_strategic", "p_ch_hard", "p_protege")},
    "solver.aeg_failed": "1 = failed", "solver.tcg_failed": "1 = failed",
}
#: a one-line reading of every indicator :func:`evaluate` returns, for a policy reader.
MEANINGS: dict[str, str] = {
    "deterrence.p_challenge": "Probability North Korea challenges the status quo in the "
    "asymmetric escalation game's equilibrium (0: the game is in its deterrence region)",
    "deterrence.p_concede": "Probability the challenge ends with the allies conceding",
    "deterrence.p_limited": "Probability the challenge ends in limited conflict",
    "deterrence.p_escalation": "Probability a challenge escalates at some point",
    "deterrence.p_war": "Probability of all-out conflict in the asymmetric escalation game",
    "deterrence.stable": "Whether deterrence holds in the asymmetric escalation game "
    "(challenge probability below 1%)",
    "tripartite.p_challenge": "Illustration, not a forecast: challenge probability in the "
    "reconstructed three-player crisis game with fixed payoffs (equals the hard-challenger "
    "prior)",
    "tripartite.p_support": "Illustration: probability Washington backs Seoul once challenged "
    "in the reconstructed crisis game",
    "tripartite.p_war": "Illustration, not a forecast: a supported hard challenger fights by "
    "the game's payoffs, so this is P(hard challenger) x P(US support)",
    "tripartite.p_realign": "Illustration: probability an abandoned Seoul realigns in the "
    "reconstructed crisis game",
    "dilemma.rok_abandonment": "Seoul's risk of abandonment: 1 minus the US commitment Seoul "
    "can see (Snyder's alliance game and the bargained troops and NCG)",
    "dilemma.rok_entrapment": "Seoul's risk of entrapment: its own commitment times the chance "
    "Washington is drawn into a conflict Seoul does not equally fear",
    "dilemma.us_commitment": "Strength of the US commitment as Seoul sees it (half game, half "
    "observed troops and NCG)",
    "dilemma.rok_commitment": "Strength of Seoul's commitment to US regional strategy (half "
    "game, half observed flexibility and China stance)",
    "dilemma.qre_commit_us": "Probability Washington commits strongly in Snyder's alliance "
    "game (logit quantal-response play)",
    "dilemma.qre_commit_rok": "Probability Seoul commits strongly in Snyder's alliance game "
    "(logit quantal-response play)",
    "dilemma.conflict_propensity": "Chance the US is drawn into a conflict with China that "
    "Seoul does not fear equally (the occasion for entrapment)",
    "burden.us_share_gdp": "US military spending, % of GDP (SIPRI, the case's year)",
    "burden.rok_share_gdp": "ROK defence spending the bargaining settles on, % of GDP",
    "burden.rok_share_of_pair": "Seoul's share of the two allies' combined military spending",
    "burden.rok_share_of_pair_with_sma": "Seoul's share of the pair's spending counting its "
    "cost-sharing payment",
    "burden.rok_gdp_share_of_pair": "Seoul's share of the two allies' combined GDP",
    "burden.oz_rok_burden": "ROK burden (% of GDP) the pure public-good model predicts "
    "(Olson & Zeckhauser)",
    "burden.joint_product_beta": "Weight of the alliance-wide (public) benefit that makes the "
    "spending pair an equilibrium (<= 0: not a pure public good)",
    "burden.joint_product_gamma": "Weight of the national (private) benefit of defence "
    "spending in the joint-product fit",
    "burden.exploitation_ratio": "ROK burden / US burden (< 1: the small ally free-rides)",
    "tension.korea": "Illustration: Richardson reaction ratio on the peninsula (felt threats "
    "times reaction, a = b = 1; below 1 is stable)",
    "tension.us_china": "Illustration: Richardson reaction ratio between Washington and "
    "Beijing (below 1 is stable)",
    "tension.korea_stable": "Illustration: whether the Richardson arms race on the peninsula "
    "is stable (1) or explosive (0)",
    "tension.us_china_stable": "Illustration: whether the Richardson arms race between "
    "Washington and Beijing is stable (1) or explosive (0)",
    "morrow.autonomy_conceded": "Autonomy Seoul gives up: mean distance of the bargained "
    "outcomes from Seoul's own positions on the five autonomy issues",
    "morrow.security_gained": "Security Seoul gains: the share of its felt threat the US "
    "guarantee removes, as far as Seoul trusts it",
    "morrow.price": "Security Seoul gets per unit of autonomy conceded",
    "morrow.autonomy_weight": "How much Seoul weighs autonomy against security (its "
    "saliences)",
    "morrow.own_security": "Seoul's security without the ally (1 minus its felt threat)",
    "morrow.optimal_concession": "Autonomy Seoul would concede at this price if it chose "
    "freely (Morrow's optimum)",
    "morrow.optimal_security_gained": "Security Seoul would gain at its optimal concession",
    "morrow.concession_gap": "Autonomy conceded beyond (> 0) or short of (< 0) what Seoul's "
    "own priorities justify at the bargained terms",
    "morrow.deal_gain": "What the bargained deal is worth to Seoul against no alliance (log "
    "units; < 0: worse than going alone)",
    "morrow.optimal_gain": "What the best deal at this price would be worth to Seoul",
    "inputs.p_tactical": "Credibility of an allied conventional answer in kind: USFK at "
    "authorised strength, exercise scale and ROK spending against the 3.5% pledge",
    "inputs.p_strategic": "Credibility of US escalation: the NCG's institutionalisation and "
    "Washington's felt North Korean threat",
    "inputs.p_ch_hard": "Prior that North Korea is a hard challenger (rises with its felt "
    "threat and allied pressure)",
    "inputs.p_protege": "Credibility of Seoul's threat to hedge or realign (doubt of the US "
    "times low fear of China)",
    "solver.aeg_failed": "1 when the equilibrium solver failed on the asymmetric escalation "
    "game",
    "solver.tcg_failed": "1 when the equilibrium solver failed on the tripartite game",
}


@dataclass(frozen=True)
class State:
    """The last round of the case's perception dynamics, as the models read it:
    ``outcomes`` per issue, capability-weighted ``perceptions`` per ``"GROUP.key"``
    (:data:`PERCEPTIONS`), and every actor's ideal ``positions`` ``(n, d)`` in the case's
    actor and issue order."""

    outcomes: dict[str, float]
    perceptions: dict[str, float]
    positions: np.ndarray


@lru_cache(maxsize=64)
def pair_data(year: int) -> tuple[float, float, float, int, int]:
    """(US GDP, ROK GDP, US milex % GDP, GDP year, milex year) for the case's year, from the
    vendored World Bank and SIPRI slices (latest available year when the case is newer)."""
    gdp_year = min(year, 2023)
    mil_year = min(year, 2024)
    return (spending.gdp("USA", gdp_year), spending.gdp("KOR", gdp_year),
            spending.share_of_gdp("USA", mil_year), gdp_year, mil_year)


def _case_year(case: Case) -> int:
    try:
        return int(str(case.date)[:4])
    except (TypeError, ValueError):
        return 2024


def _check_issues(case: Case) -> None:
    names = set(case.issue_names)
    for name in ISSUES:
        if name not in names:
            raise AllianceLabError(f"the alliance models need issue {name!r}", field="issues")


def dynamics_state(case: Case) -> State:
    """The last round of ``case``'s perception dynamics (:class:`State`): what the alliance
    models read instead of the numbers as stated."""
    return dynamics_states([case])[0]


def dynamics_states(cases: Sequence[Case]) -> list[State]:
    """:func:`dynamics_state` of each case, the simulations stepped together
    (:func:`~alliancelab.models.dynamics.simulate_batch`: the same numbers)."""
    for case in cases:
        _check_issues(case)
    sims = simulate_batch([Run(case, rng=0) for case in cases], model=DYNAMICS_MODEL,
                          indicators=False)  # the models read trajectories, not indicators
    return [_state(case, sim) for case, sim in zip(cases, sims, strict=True)]


def _state(case: Case, sim: Simulation) -> State:
    caps = np.array([max(a.capability.value, 1e-12) for a in case.actors])
    groups = np.array([a.group or "" for a in case.actors], dtype=object)
    perc: dict[str, float] = {}
    for group, key in PERCEPTIONS:
        values = sim.perceptions.get(key)
        last = values[-1] if values is not None else np.full(len(caps), np.nan)
        mask = (groups == group) & ~np.isnan(last)
        if not mask.any():
            raise AllianceLabError(f"no actor of group {group!r} states {key}", field="actors")
        perc[f"{group}.{key}"] = float(np.average(last[mask], weights=caps[mask]))
    return State(sim.final_outcomes(), perc, sim.positions[-1])


def group_perception(case: Case, group: str, key: str) -> float:
    """Capability-weighted mean of ``key`` (``threats.dprk``, ``threats.china``,
    ``threats.alliance`` or ``partner_reliability``) over the actors of ``group``, as the
    case states it (round 0 of the dynamics)."""
    vals, wts = [], []
    for a in case.actors:
        if a.group != group:
            continue
        if key == "partner_reliability":
            v = a.perceptions.partner_reliability
        else:
            v = a.perceptions.threats.get(key.split(".", 1)[1])
        if v is not None:
            vals.append(v.value)
            wts.append(max(a.capability.value, 1e-12))
    if not vals:
        raise AllianceLabError(f"no actor of group {group!r} states {key}", field="actors")
    return float(np.average(vals, weights=wts))


def _need(out: Mapping[str, float], name: str) -> float:
    if name not in out:
        raise AllianceLabError(f"the alliance models need issue {name!r}", field="issues")
    return float(out[name])


def _clip(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return float(min(max(x, lo), hi))


#: a game's kind and rounded priors (:func:`_game_keys`), and its indicators and labels
_GameKey = tuple[str, tuple[Any, ...]]
_Game = tuple[tuple[float, ...], tuple[str, str]]
#: solved games by their rounded priors (:func:`_deterrence`), at most :data:`_MAX_SOLVED`
#: (the least recently asked for forgotten first)
_SOLVED: dict[_GameKey, _Game] = {}
_MAX_SOLVED = 4096


def _solved(keys: Sequence[_GameKey]) -> list[_Game]:
    """The games at ``keys`` (``("aeg", (p_ch, p_def))`` or ``("tcg", (p_ch, p_def,
    p_pro))``): the ones not solved before are solved together (each kind in one
    :func:`~alliancelab.models.games.deterrence.solve_aeg_many` or ``solve_tcg_many``, the
    same results as one by one), a game without an equilibrium again with the fallback
    settings, and remembered."""
    known: dict[_GameKey, _Game] = {}
    for k in dict.fromkeys(keys):  # a game asked for again becomes the newest remembered
        if (hit := _SOLVED.pop(k, None)) is not None:
            known[k] = _SOLVED[k] = hit
    todo = [k for k in dict.fromkeys(keys) if k not in known]
    for kind in ("aeg", "tcg"):
        args = [a for k, a in todo if k == kind]
        if not args:
            continue
        results = _solve_all(kind, args, _SOLVER)
        again = [i for i, r in enumerate(results) if isinstance(r, AllianceLabError)]
        if again:
            for i, r in zip(again, _solve_all(kind, [args[i] for i in again], _FALLBACK),
                            strict=True):
                results[i] = r
        for a, r in zip(args, results, strict=True):
            known[(kind, a)] = _SOLVED[(kind, a)] = _indicators(kind, r)
    if len(_SOLVED) > _MAX_SOLVED:  # forget the least recent (a web app's threads share them)
        for old in list(_SOLVED)[:len(_SOLVED) - _MAX_SOLVED]:
            _SOLVED.pop(old, None)
    return [known[k] for k in keys]


def _solve_all(kind: str, args: list[tuple[Any, ...]], solver: Mapping[str, Any]
               ) -> list[Any]:
    """The games of ``kind`` at ``args`` (an error for each when the solver itself fails)."""
    solve: Any = solve_aeg_many if kind == "aeg" else solve_tcg_many
    try:
        return list(solve(args, **solver))
    except AllianceLabError as exc:
        return [exc] * len(args)


def _indicators(kind: str, r: Any) -> tuple[tuple[float, ...], tuple[str, str]]:
    """A solved game's indicators (rounded to 9 decimals) and labels."""
    if isinstance(r, AllianceLabError):
        return (float("nan"),) * (5 if kind == "aeg" else 4), ("solver failed", "solver failed")
    probs: tuple[float, ...] = (
        (r.p_challenge, r.p_concede, r.p_limited, r.p_escalation, r.p_war) if kind == "aeg"
        else (r.p_challenge, r.p_support, r.p_war, r.p_realign))
    return tuple(round(x, 9) for x in probs), (r.family, r.equilibrium_type)


def group_position(case: Case, group: str, issue: str,
                   positions: np.ndarray | None = None) -> float:
    """Capability x salience weighted mean position of ``group``'s actors on ``issue``: the
    positions as stated, or ``positions`` ``(n, d)`` (e.g. :attr:`State.positions`)."""
    k = case.issue_names.index(issue) if issue in case.issue_names else -1
    w, x = [], []
    for i, a in enumerate(case.actors):
        if a.group == group and issue in a.positions:
            sal = a.saliences[issue].value if issue in a.saliences else 1.0
            w.append(a.capability.value * sal)
            x.append(a.positions[issue].value if positions is None else positions[i, k])
    if not x:
        raise AllianceLabError(f"no actor of group {group!r} states a position on {issue!r}",
                               field="actors")
    wa = np.array(w)
    return float(np.average(x, weights=wa) if wa.sum() > 0 else np.mean(x))


def group_salience(case: Case, group: str, issues: Iterable[str]) -> float:
    """Capability-weighted mean over the actors of ``group`` of their mean salience on
    ``issues`` (0 when the group has no actors or states none)."""
    vals, wts = [], []
    for a in case.actors:
        if a.group != group:
            continue
        sal = [a.saliences[i].value for i in issues if i in a.saliences]
        if sal:
            vals.append(float(np.mean(sal)))
            wts.append(max(a.capability.value, 1e-12))
    return float(np.average(vals, weights=wts)) if vals else 0.0


def morrow_exchange(case: Case, out: Mapping[str, float], m: Mapping[str, float],
                    positions: np.ndarray | None = None) -> dict[str, float]:
    """Morrow's (1991) autonomy-for-security exchange for Seoul (see the module docstring):
    the bargained terms (autonomy conceded X, security gained dS, price k = dS / X), Seoul's
    weight gamma and own security s0, Morrow's optimal concession x* at that price, the gap
    X - x* and the utility gains (log units) of the bargained and the optimal deal. Seoul's
    own positions are ``positions`` (its ideal positions after the dynamics) or as stated."""
    widths = {i.name: i.scale.width for i in case.issues}
    conceded = [abs(_need(out, i) - group_position(case, "ROK", i, positions)) / widths[i]
                for i in AUTONOMY_ISSUES]
    x_obs = _clip(float(np.mean(conceded)), 1e-6, 1 - 1e-6)
    protection = float(np.mean([min(_need(out, i) / full, 1.0)
                                for i, full in SECURITY_ISSUES.items()]))
    threat = _clip(m["ROK.threats.dprk"], 1e-6, 1 - 1e-6)
    gained = threat * m["ROK.partner_reliability"] * max(protection, 0.0)
    s0 = 1.0 - threat
    price = max(gained / x_obs, 1e-9)
    gamma = max(group_salience(case, "ROK", AUTONOMY_ISSUES), 1e-6) / max(
        group_salience(case, "ROK", SECURITY_ISSUES), 1e-6)
    x_opt, ds_opt = morrow_concession(s0, 1.0, price, gamma)  # x* < 1 / (1 + gamma) < 1
    deal = math.log((s0 + gained) / s0) + gamma * math.log(1.0 - x_obs)
    best = math.log((s0 + ds_opt) / s0) + gamma * math.log(1.0 - x_opt)
    return {"morrow.autonomy_conceded": x_obs, "morrow.security_gained": gained,
            "morrow.price": price, "morrow.autonomy_weight": gamma, "morrow.own_security": s0,
            "morrow.optimal_concession": x_opt, "morrow.optimal_security_gained": ds_opt,
            "morrow.concession_gap": x_obs - x_opt, "morrow.deal_gain": deal,
            "morrow.optimal_gain": best}


def model_inputs(case: Case, outcomes: Mapping[str, float] | None = None,
                 state: State | None = None) -> dict[str, float]:
    """The models' inputs derived from the last round of the case's dynamics (``state``,
    computed when not given; see the module docstring)."""
    state = state or dynamics_state(case)
    out = dict(state.outcomes) | dict(outcomes or {})
    usfk, ncg = _need(out, "usfk_troops"), _need(out, "ncg_extended_deterrence")
    ex, flex = _need(out, "joint_exercises"), _need(out, "strategic_flexibility")
    china, sma = _need(out, "china_stance"), _need(out, "sma_cost_sharing")
    spend, pressure = _need(out, "defence_spending"), _need(out, "dprk_policy")
    gp = dict(state.perceptions)
    u = min(usfk / USFK_AUTHORISED, 1.0)
    p_t = _clip((u + ex / 100 + min(spend / ROK_PLEDGE, 1.0)) / 3)
    p_s = _clip((ncg / 100 + gp["US.threats.dprk"]) / 2)
    p_ch = _clip(0.1 + 0.5 * gp["DPRK.threats.alliance"] * (0.5 + 0.5 * pressure / 100))
    p_pro = _clip((1 - gp["ROK.partner_reliability"]) * (1 - gp["ROK.threats.china"]))
    return {"usfk": usfk, "ncg": ncg, "exercises": ex, "flexibility": flex, "china": china,
            "sma": sma, "rok_spending": spend, "dprk_policy": pressure, **gp,
            "p_tactical": p_t, "p_strategic": p_s, "p_ch_hard": p_ch, "p_protege": p_pro}


def assess(case: Case, outcomes: Mapping[str, float] | None = None) -> dict[str, float]:
    """Deterrence stability, ROK abandonment/entrapment risk, burden shares and tension.

    Keys: ``deterrence.*`` (AEG: p_challenge, p_concede, p_limited, p_escalation, p_war,
    stable), ``tripartite.*`` (p_challenge, p_support, p_war, p_realign; an illustration),
    ``dilemma.*`` (rok_abandonment, rok_entrapment, us/rok commitment, qre_commit_us/rok,
    conflict_propensity), ``morrow.*``, ``burden.*`` and ``tension.*`` (see the module
    docstring), the derived credibilities ``inputs.*``, and ``solver.aeg_failed`` /
    ``solver.tcg_failed`` (1 when the equilibrium solver found no equilibrium; that game's
    indicators are then NaN). :data:`MEANINGS` reads each one."""
    return evaluate(case, outcomes)[0]


def evaluate(case: Case, outcomes: Mapping[str, float] | None = None,
             state: State | None = None) -> tuple[dict[str, float], dict[str, str]]:
    """:func:`assess`'s indicators and the models' categorical results: ``deterrence.family``
    (Zagare & Kilgour's PBE family), ``deterrence.type`` (path-based
    equilibrium type), ``tripartite.family`` / ``tripartite.type`` and ``dilemma.game``.
    ``state``: the case's :func:`dynamics_state`, computed when not given."""
    state = state or dynamics_state(case)
    m = model_inputs(case, outcomes, state)
    out = dict(state.outcomes) | dict(outcomes or {})
    games, labels = _deterrence(m)
    dilemma, game = _dilemma(m)
    res = {
        **games, **dilemma, **_burden(case, m), **_tension(m),
        **morrow_exchange(case, out, m, state.positions),
        **{f"inputs.{k}": float(m[k]) for k in
           ("p_tactical", "p_strategic", "p_ch_hard", "p_protege")},
        "solver.aeg_failed": float(not math.isfinite(games["deterrence.p_challenge"])),
        "solver.tcg_failed": float(not math.isfinite(games["tripartite.p_challenge"])),
    }
    return res, {**labels, "dilemma.game": game}


def evaluate_many(cases: Sequence[Case]) -> list[tuple[dict[str, float], dict[str, str]]]:
    """``[evaluate(case) for case in cases]``, the dynamics of all of them simulated
    together (:func:`dynamics_states`) and their games solved together (:func:`_solved`);
    raises what the first failing case raises."""
    states = dynamics_states(cases)
    _solved([k for case, state in zip(cases, states, strict=True)
             for k in _game_keys(model_inputs(case, None, state))])
    return [evaluate(case, state=state) for case, state in zip(cases, states, strict=True)]


def _game_keys(m: Mapping[str, float]) -> list[_GameKey]:
    """The AEG's and the tripartite game's priors from the mapped inputs, rounded to 3
    decimals (the solutions are remembered at that granularity)."""
    r3 = lambda x: round(float(x), 3)  # noqa: E731 - cache key granularity
    p_t, p_s = r3(m["p_tactical"]), r3(m["p_strategic"])
    p_def = (r3(p_t * p_s), r3(p_t * (1 - p_s)), r3((1 - p_t) * p_s), 0.0)
    p_def = (*p_def[:3], r3(1 - sum(p_def)))
    return [("aeg", (r3(m["p_ch_hard"]), p_def)),
            ("tcg", (r3(m["p_ch_hard"]), p_s, r3(m["p_protege"])))]


def _deterrence(m: Mapping[str, float]) -> tuple[dict[str, float], dict[str, str]]:
    """The AEG and the tripartite game at the mapped priors (:func:`_game_keys`)."""
    (aeg, aeg_labels), (tcg, tcg_labels) = _solved(_game_keys(m))
    stable = float(aeg[0] < 0.01) if math.isfinite(aeg[0]) else float("nan")
    res = {**{f"deterrence.{k}": v for k, v in zip(
        ("p_challenge", "p_concede", "p_limited", "p_escalation", "p_war"), aeg, strict=True)},
        "deterrence.stable": stable,
        **{f"tripartite.{k}": v for k, v in zip(
            ("p_challenge", "p_support", "p_war", "p_realign"), tcg, strict=True)}}
    return res, {"deterrence.family": aeg_labels[0], "deterrence.type": aeg_labels[1],
                 "tripartite.family": tcg_labels[0], "tripartite.type": tcg_labels[1]}


def _dilemma(m: Mapping[str, float]) -> tuple[dict[str, float], str]:
    """Snyder's alliance game and the commitments, abandonment and entrapment risk."""
    flex, china = m["flexibility"] / 100, m["china"] / 100
    rok = AllyPayoffs(benefit=m["ROK.threats.dprk"], cost=0.5 * (flex + china),
                      abandonment_loss=m["ROK.threats.dprk"] * m["ROK.partner_reliability"],
                      reaction=1 - m["US.partner_reliability"])
    us = AllyPayoffs(benefit=0.5 * m["US.threats.dprk"] + 0.5 * m["US.threats.china"] * flex,
                     cost=0.5 * (1 - min(m["sma"] / 5.0, 1.0))
                     + 0.5 * (1 - min(m["rok_spending"] / ROK_PLEDGE, 1.0)),
                     abandonment_loss=0.5 * m["US.threats.china"],
                     reaction=m["ROK.partner_reliability"])
    prop = _clip(china * (0.5 + m["US.threats.china"] - m["ROK.threats.china"]))
    dil = alliance_game(rok, us, prop)
    commit_us = 0.5 * (dil.p_commit_us + 0.5 * (min(m["usfk"] / USFK_AUTHORISED, 1.0)
                                                 + m["ncg"] / 100))
    commit_rok = 0.5 * (dil.p_commit_rok + 0.5 * (flex + china))
    return {"dilemma.rok_abandonment": 1.0 - commit_us,
            "dilemma.rok_entrapment": commit_rok * prop,
            "dilemma.us_commitment": commit_us, "dilemma.rok_commitment": commit_rok,
            "dilemma.qre_commit_us": dil.p_commit_us, "dilemma.qre_commit_rok": dil.p_commit_rok,
            "dilemma.conflict_propensity": prop}, dil.game


def _burden(case: Case, m: Mapping[str, float]) -> dict[str, float]:
    """Burden shares, the Olson-Zeckhauser prediction and the joint-product fit."""
    us_gdp, rok_gdp, us_burden, _, _ = pair_data(_case_year(case))
    inc = np.array([us_gdp, rok_gdp])
    q = inc * np.array([us_burden, m["rok_spending"]]) / 100
    total = q.sum()
    beta, gamma = _joint_product_fit(inc, q)
    oz = olson_zeckhauser(inc, us_burden / 100)
    return {
        "burden.us_share_gdp": us_burden, "burden.rok_share_gdp": m["rok_spending"],
        "burden.rok_share_of_pair": float(q[1] / total),
        "burden.rok_share_of_pair_with_sma": float((q[1] + m["sma"] * 1e9) / total),
        "burden.rok_gdp_share_of_pair": float(inc[1] / inc.sum()),
        "burden.oz_rok_burden": float(oz.burden[1] * 100),
        "burden.joint_product_beta": float(beta), "burden.joint_product_gamma": float(gamma),
        "burden.exploitation_ratio": float(m["rok_spending"] / us_burden),
    }


def _tension(m: Mapping[str, float]) -> dict[str, float]:
    """Illustrative Richardson ratios on the peninsula and between Washington and Beijing."""
    korea = Richardson(k=m["ROK.threats.dprk"], a=1.0, g=0.0,
                       l=m["DPRK.threats.alliance"] * (0.5 + 0.5 * m["exercises"] / 100),
                       b=1.0, h=0.0)
    uscn = Richardson(k=m["US.threats.china"], a=1.0, g=0.0,
                      l=m["PRC.threats.alliance"] * (0.5 + 0.5 * m["china"] / 100),
                      b=1.0, h=0.0)
    return {"tension.korea": korea.tension(), "tension.us_china": uscn.tension(),
            "tension.korea_stable": float(korea.stable),
            "tension.us_china_stable": float(uscn.stable)}


def _joint_product_fit(income: np.ndarray, q: np.ndarray) -> tuple[float, float]:
    """beta, gamma making observed contributions ``q`` a Nash equilibrium of the joint-
    product model: from (1-beta-gamma)/(I-q) = beta/Q + gamma/q for each ally, linear in
    (beta, gamma): 1/(I-q) = beta (1/Q + 1/(I-q)) + gamma (1/q + 1/(I-q))."""
    total = q.sum()
    rest = income - q
    a = np.column_stack([1 / total + 1 / rest, 1 / q + 1 / rest])
    beta, gamma = np.linalg.solve(a, 1 / rest)
    return float(beta), float(gamma)


def check_joint_product_fit(income: np.ndarray, q: np.ndarray) -> float:
    """Largest relative gap between ``q`` and the joint-product equilibrium at the fitted
    parameters (0 when the fit is exact)."""
    beta, gamma = _joint_product_fit(income, q)
    eq = joint_product(income, beta, gamma)
    return float(np.max(np.abs(eq.q - q) / q))
