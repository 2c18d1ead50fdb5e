"""The alliance models applied to a case: deterrence stability, ROK abandonment and
entrapment risk, burden shares and tension.

:func:`assess` maps a US-ROK case (actors grouped ``US``, ``ROK``, ``DPRK``, ``PRC``; issues
``usfk_troops``, ``ncg_extended_deterrence``, ``joint_exercises``, ``strategic_flexibility``,
``china_stance``, ``sma_cost_sharing``, ``defence_spending``, ``dprk_policy``) to the inputs
of the models in :mod:`alliancelab.models.games` and :mod:`alliancelab.models.economics` and returns flat,
numeric indicators. Every mapping below is a *judgement* (stated with its reason in
``docs/alliance-models.md``); the models themselves are the published ones.

Inputs taken from the case
    * outcomes: the compromise-model forecast (Thomson et al. 2006, eq. 4.1: capability x
      salience weighted mean of positions over all actors), or ``outcomes`` if given (e.g.
      the last round of :func:`alliancelab.models.dynamics.simulate`);
    * group perceptions: capability-weighted means over a group's actors of
      ``threats.dprk``, ``threats.china``, ``threats.alliance`` and ``partner_reliability``.

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
      realign/hedge) = (1 - ROK reliability of the US) x (1 - ROK China threat).
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
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from ..core.case import Case
from ..core.errors import AllianceLabError
from ..models.economics.arms_race import Richardson
from ..models.economics.burden_sharing import joint_product, olson_zeckhauser
from ..models.games.alliance_dilemma import AllyPayoffs, alliance_game, morrow_concession
from ..models.games.deterrence import solve_aeg, solve_tcg

USFK_AUTHORISED = 28_500.0
ROK_PLEDGE = 3.5
#: Solver settings for speed inside Monte Carlo runs (same equilibria as the defaults on a
#: 75-point grid of priors, see tests/test_alliance_models.py); the defaults are the fallback.
_SOLVER: dict[str, Any] = {"lam_max": 1e4, "steps": 15, "tol": 5e-3}
_FALLBACK: dict[str, Any] = {"lam_max": 1e4, "steps": 40, "tol": 5e-3}

EQUILIBRIUM_CODES = {"deterrence": 0.0, "challenger-wins": 1.0, "limited-conflict": 2.0,
                     "escalation": 3.0, "all-out-conflict": 4.0}
#: Morrow (1991) mapping: the issues on which Seoul concedes autonomy to Washington.
AUTONOMY_ISSUES = ("strategic_flexibility", "opcon_transfer", "china_stance", "missile_defence",
                   "nuclear_submarines")
#: ... and the issues on which the US provides security (with their full-protection level).
SECURITY_ISSUES = {"usfk_troops": USFK_AUTHORISED, "ncg_extended_deterrence": 100.0,
                   "joint_exercises": 100.0}


@lru_cache(maxsize=64)
def pair_data(year: int) -> tuple[float, float, float, int, int]:
    """(US GDP, ROK GDP, US milex % GDP, GDP year, milex year) for the case's year, from the
    vendored World Bank and SIPRI slices (latest available year when the case is newer)."""
    from ..calibration import spending

    gdp_year = min(year, 2023)
    mil_year = min(year, 2024)
    return (spending.gdp("USA", gdp_year), spending.gdp("KOR", gdp_year),
            spending.share_of_gdp("USA", mil_year), gdp_year, mil_year)


def _case_year(case: Case) -> int:
    try:
        return int(str(case.date)[:4])
    except (TypeError, ValueError):
        return 2024


def _outcomes(case: Case) -> dict[str, float]:
    out = {}
    for issue in case.issues:
        w = np.array([a.capability.value * a.saliences[issue.name].value for a in case.actors])
        x = np.array([a.positions[issue.name].value for a in case.actors])
        if w.sum() <= 0:
            w = np.ones_like(w)
        out[issue.name] = float((w * x).sum() / w.sum())
    return out


def group_perception(case: Case, group: str, key: str) -> float:
    """Capability-weighted mean of ``key`` (``threats.dprk``, ``threats.china``,
    ``threats.alliance`` or ``partner_reliability``) over the actors of ``group``."""
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


@lru_cache(maxsize=4096)
def _aeg(p_ch: float, p_def: tuple[float, float, float, float]
         ) -> tuple[tuple[float, ...], tuple[str, str]]:
    """AEG indicators (p_challenge, p_concede, p_limited, p_escalation, p_war, code, mixed)
    and labels (Zagare & Kilgour's family and the path-based type); NaNs and
    ``("solver failed", ...)`` when no equilibrium."""
    try:
        r = solve_aeg(p_ch, p_def, **_SOLVER)
    except AllianceLabError:
        try:
            r = solve_aeg(p_ch, p_def, **_FALLBACK)
        except AllianceLabError:
            return (float("nan"),) * 7, ("solver failed", "solver failed")
    code = EQUILIBRIUM_CODES.get(r.equilibrium_type.removeprefix("mixed (").rstrip(")"), 5.0)
    probs = (r.p_challenge, r.p_concede, r.p_limited, r.p_escalation, r.p_war)
    floats = (*(round(x, 9) for x in probs), code,
              float(r.equilibrium_type.startswith("mixed")))
    return floats, (r.family, r.equilibrium_type)


@lru_cache(maxsize=4096)
def _tcg(p_ch: float, p_def: float, p_pro: float
         ) -> tuple[tuple[float, float, float, float], tuple[str, str]]:
    """Tripartite-game indicators (p_challenge, p_support, p_war, p_realign) and labels
    (Zagare & Kilgour-style family and the path-based type)."""
    try:
        r = solve_tcg(p_ch, p_def, p_pro, **_SOLVER)
    except AllianceLabError:
        try:
            r = solve_tcg(p_ch, p_def, p_pro, **_FALLBACK)
        except AllianceLabError:
            return (float("nan"),) * 4, ("solver failed", "solver failed")
    return ((round(r.p_challenge, 9), round(r.p_support, 9), round(r.p_war, 9),
             round(r.p_realign, 9)),
            (r.family, r.equilibrium_type))


def group_position(case: Case, group: str, issue: str) -> float:
    """Capability x salience weighted mean position of ``group``'s actors on ``issue``."""
    w, x = [], []
    for a in case.actors:
        if a.group == group and issue in a.positions:
            sal = a.saliences[issue].value if issue in a.saliences else 1.0
            w.append(a.capability.value * sal)
            x.append(a.positions[issue].value)
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


def morrow_exchange(case: Case, out: Mapping[str, float], m: Mapping[str, float]
                    ) -> dict[str, float]:
    """Morrow's (1991) autonomy-for-security exchange for Seoul (see the module docstring):
    the bargained terms (autonomy conceded X, security gained dS, price k = dS / X), Seoul's
    weight gamma and own security s0, Morrow's optimal concession x* at that price, the gap
    X - x* and the utility gains (log units) of the bargained and the optimal deal."""
    widths = {i.name: i.scale.width for i in case.issues}
    conceded = [abs(_need(out, i) - group_position(case, "ROK", i)) / widths[i]
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


def model_inputs(case: Case, outcomes: Mapping[str, float] | None = None) -> dict[str, float]:
    """The models' inputs derived from the case (see the module docstring)."""
    out = dict(_outcomes(case)) | dict(outcomes or {})
    usfk, ncg = _need(out, "usfk_troops"), _need(out, "ncg_extended_deterrence")
    ex, flex = _need(out, "joint_exercises"), _need(out, "strategic_flexibility")
    china, sma = _need(out, "china_stance"), _need(out, "sma_cost_sharing")
    spend, pressure = _need(out, "defence_spending"), _need(out, "dprk_policy")
    gp = {f"{g}.{k}": group_perception(case, g, k)
          for g, k in [("US", "threats.dprk"), ("US", "threats.china"),
                       ("US", "partner_reliability"), ("ROK", "threats.dprk"),
                       ("ROK", "threats.china"), ("ROK", "partner_reliability"),
                       ("DPRK", "threats.alliance"), ("PRC", "threats.alliance")]}
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
    equilibrium_code (0 deterrence, 1 challenger wins, 2 limited conflict, 3 escalation,
    4 all-out conflict), mixed, stable), ``tripartite.*`` (p_challenge, p_support, p_war,
    p_realign), ``dilemma.*`` (rok_abandonment, rok_entrapment, p_commit_rok, p_commit_us),
    ``morrow.*``, ``burden.*`` and ``tension.*`` (see the module docstring), the derived
    credibilities ``inputs.*``, and ``solver.aeg_failed`` / ``solver.tcg_failed`` (1 when
    the equilibrium solver found no equilibrium; that game's indicators are then NaN)."""
    return evaluate(case, outcomes)[0]


def evaluate(case: Case, outcomes: Mapping[str, float] | None = None
             ) -> tuple[dict[str, float], dict[str, str]]:
    """:func:`assess`'s indicators and the models' categorical results: ``deterrence.family``
    (Zagare & Kilgour's PBE family), ``deterrence.type`` (path-based
    equilibrium type), ``tripartite.family`` / ``tripartite.type`` and ``dilemma.game``."""
    m = model_inputs(case, outcomes)
    out = dict(_outcomes(case)) | dict(outcomes or {})
    r3 = lambda x: round(float(x), 3)  # noqa: E731 - cache key granularity
    p_t, p_s = r3(m["p_tactical"]), r3(m["p_strategic"])
    p_def = (r3(p_t * p_s), r3(p_t * (1 - p_s)), r3((1 - p_t) * p_s), 0.0)
    p_def = (*p_def[:3], r3(1 - sum(p_def)))
    aeg, aeg_labels = _aeg(r3(m["p_ch_hard"]), p_def)
    tcg, tcg_labels = _tcg(r3(m["p_ch_hard"]), p_s, r3(m["p_protege"]))

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
    signal_us = 0.5 * (min(m["usfk"] / USFK_AUTHORISED, 1.0) + m["ncg"] / 100)
    signal_rok = 0.5 * (flex + china)
    commit_us = 0.5 * (dil.p_commit_us + signal_us)
    commit_rok = 0.5 * (dil.p_commit_rok + signal_rok)

    us_gdp, rok_gdp, us_burden, _, _ = pair_data(_case_year(case))
    inc = np.array([us_gdp, rok_gdp])
    q = inc * np.array([us_burden, m["rok_spending"]]) / 100
    total = q.sum()
    beta, gamma = _joint_product_fit(inc, q)
    oz = olson_zeckhauser(inc, us_burden / 100)
    sma_usd = m["sma"] * 1e9

    korea = Richardson(k=m["ROK.threats.dprk"], a=1.0, g=0.0,
                       l=m["DPRK.threats.alliance"] * (0.5 + 0.5 * m["exercises"] / 100),
                       b=1.0, h=0.0)
    uscn = Richardson(k=m["US.threats.china"], a=1.0, g=0.0,
                      l=m["PRC.threats.alliance"] * (0.5 + 0.5 * china), b=1.0, h=0.0)
    res = {
        "deterrence.p_challenge": aeg[0], "deterrence.p_concede": aeg[1],
        "deterrence.p_limited": aeg[2], "deterrence.p_escalation": aeg[3],
        "deterrence.p_war": aeg[4], "deterrence.equilibrium_code": aeg[5],
        "deterrence.mixed": aeg[6],
        "deterrence.stable": float(aeg[0] < 0.01) if math.isfinite(aeg[0]) else float("nan"),
        "tripartite.p_challenge": tcg[0], "tripartite.p_support": tcg[1],
        "tripartite.p_war": tcg[2], "tripartite.p_realign": tcg[3],
        "dilemma.rok_abandonment": 1.0 - commit_us, "dilemma.rok_entrapment": commit_rok * prop,
        "dilemma.us_commitment": commit_us, "dilemma.rok_commitment": commit_rok,
        "dilemma.qre_commit_us": dil.p_commit_us, "dilemma.qre_commit_rok": dil.p_commit_rok,
        "dilemma.conflict_propensity": prop,
        "burden.us_share_gdp": us_burden, "burden.rok_share_gdp": m["rok_spending"],
        "burden.rok_share_of_pair": float(q[1] / total),
        "burden.rok_share_of_pair_with_sma": float((q[1] + sma_usd) / total),
        "burden.rok_gdp_share_of_pair": float(inc[1] / inc.sum()),
        "burden.oz_rok_burden": float(oz.burden[1] * 100),
        "burden.joint_product_beta": float(beta), "burden.joint_product_gamma": float(gamma),
        "burden.exploitation_ratio": float(m["rok_spending"] / us_burden),
        "tension.korea": korea.tension(), "tension.us_china": uscn.tension(),
        "tension.korea_stable": float(korea.stable),
        "tension.us_china_stable": float(uscn.stable),
        **morrow_exchange(case, out, m),
        **{f"inputs.{k}": float(m[k]) for k in
           ("p_tactical", "p_strategic", "p_ch_hard", "p_protege")},
        "solver.aeg_failed": float(not math.isfinite(aeg[0])),
        "solver.tcg_failed": float(not math.isfinite(tcg[0])),
    }
    labels = {"deterrence.family": aeg_labels[0], "deterrence.type": aeg_labels[1],
              "tripartite.family": tcg_labels[0], "tripartite.type": tcg_labels[1],
              "dilemma.game": dil.game}
    return res, labels


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
