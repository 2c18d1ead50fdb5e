"""Extended deterrence: Zagare & Kilgour's Asymmetric Escalation Game and a tripartite crisis
game (challenger, defender, protégé), solved for perfect Bayesian equilibria.

Asymmetric Escalation Game (AEG)
    F. C. Zagare & D. M. Kilgour, *Perfect Deterrence*, Cambridge UP 2000, ch. 6 and
    appendix A1.4 / fig. 6.3 and A1.7. Challenger (Ch) either keeps the status quo (SQ) or
    demands (D). Defender (Def) then concedes (outcome DC), responds in kind (D) or
    escalates (E). After a response in kind, Ch accepts limited conflict (DD) or escalates;
    Def then backs down (ED) or counter-escalates (EE, all-out conflict). After Def
    escalates, Ch backs down (DE) or counter-escalates (EE). Utilities (ibid., appendix 8):

        cEE- < cDE < cEE+ < cDD < cED < cSQ < cDC,
        dEE- < dED < dEE+ < dDD- < dDC < dDD+ < dDE < dSQ.

    Ch is *Hard* (utility cEE+ for EE) with probability pCh. Def is tactically Hard (dDD+,
    prefers responding in kind to conceding) and/or strategically Hard (dEE+, prefers
    all-out conflict to being out-escalated) with probabilities pHH, pHS, pSH, pSS (first
    letter tactical, second strategic). Each player knows its own type only.

Tripartite crisis game (TCG)
    After F. C. Zagare & D. M. Kilgour (2003), "Alignment patterns, crisis bargaining, and
    extended deterrence: a game-theoretic analysis", *International Studies Quarterly* 47(4):
    587-615, which builds on Snyder's (1984) alliance and adversary games. The published
    game tree was not available to us; this module implements a reconstruction that keeps
    the three players, the protégé's threat to realign (directed at the defender) and the
    incomplete information, and states its own utilities (see :class:`TCGPayoffs`):
    Ch demands or not; Def supports the protégé (Pro) or abandons it; if supported, Ch fights
    (war, W) or backs down (CB); if abandoned, Pro concedes but stays aligned (PC) or
    realigns with Ch (RA). Ch is Hard (fights rather than back down) with probability pCh,
    Def is Committed (prefers war to an abandoned protégé's concession) with probability
    pDef, and Pro is a Realigner with probability pPro -- the credibility of its threat.

Both games are solved by :func:`alliancelab.models.games.extensive.solve_pbe` (logit trace, then an
exact solve of the indifference conditions on the traced support); complete-information
versions by backward induction. Each result names its equilibrium family: for the AEG the
four families of *Perfect Deterrence* ch. 6 (:func:`aeg_family`; the defining strategy
patterns are our reading of the names), for the tripartite game descriptive families of ours
(:func:`tcg_family`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import astuple, dataclass
from functools import partial
from typing import Any

from ...core.errors import AllianceLabError
from .extensive import Game, Solution, _with_chance, backward_induction, solve_pbe, solve_pbe_many

# ---------------------------------------------------------------------------------------
# Asymmetric Escalation Game
CH_ORDER = ("cEE-", "cDE", "cEE+", "cDD", "cED", "cSQ", "cDC")
DEF_ORDER = ("dEE-", "dED", "dEE+", "dDD-", "dDC", "dDD+", "dDE", "dSQ")
DEFAULT_CH = dict(zip(CH_ORDER, range(7), strict=True))
DEFAULT_DEF = dict(zip(DEF_ORDER, range(8), strict=True))
DEF_TYPES = ("HH", "HS", "SH", "SS")  # (tactical, strategic)


def _check_order(u: Mapping[str, float], order: tuple[str, ...], who: str) -> dict[str, float]:
    missing = [k for k in order if k not in u]
    if missing:
        raise AllianceLabError(f"{who} utilities missing {missing}")
    vals = [float(u[k]) for k in order]
    if any(a >= b for a, b in itertools.pairwise(vals)):
        raise AllianceLabError(f"{who} utilities must satisfy {' < '.join(order)}")
    return {k: float(u[k]) for k in order}


#: Zagare & Kilgour's names for the perfect Bayesian equilibria of the AEG (see :func:`aeg_family`)
AEG_FAMILIES = ("Deterrence Equilibrium", "Constrained Limited-Response Equilibrium",
                "Escalatory Limited-Response Equilibrium", "No-Limits Equilibrium")


@dataclass(frozen=True)
class AEGResult:
    """Equilibrium of the AEG with its observable summary. ``equilibrium_type`` describes the
    modal outcome; ``family`` names the equilibrium family (:data:`AEG_FAMILIES`)."""

    solution: Solution
    p_challenge: float
    p_concede: float
    p_limited: float
    p_escalation: float
    p_war: float
    p_status_quo: float
    equilibrium_type: str
    family: str = ""


def aeg_family(strategy: Mapping[str, Mapping[str, float]], tol: float = 1e-6) -> str:
    """The AEG equilibrium family of a strategy profile, from the Challenger's two decisions.

    Perfect Deterrence (ch. 6) names four families of perfect Bayesian equilibria; Kilgour &
    Zagare (2007, *Conflict Management and Peace Science* 24(1): 65-82) describe the
    constrained one: Challenger initiates, a Defender that responds in kind surprises it, and
    Challenger does not escalate because it expects counter-escalation. We could not consult
    the book's equilibrium tables, so the defining patterns below are our reading of the
    names, derived from the model (only the types that can occur count):

    * Deterrence Equilibrium -- no Challenger type initiates;
    * Constrained Limited-Response Equilibrium -- Challenger initiates and no initiating
      type escalates after a response in kind (a limited response ends in limited conflict);
    * Escalatory Limited-Response Equilibrium -- some initiating type escalates after a
      response in kind with positive probability, but not every one with certainty;
    * No-Limits Equilibrium -- every initiating type escalates after a response in kind, so
      a limited response cannot keep the conflict limited (then no Defender type responds
      in kind: it is weakly dominated by escalating at once).
    """
    types = [c for c in "HS" if f"Ch[{c}]:start" in strategy]
    challengers = [c for c in types if strategy[f"Ch[{c}]:start"]["D"] > tol]
    if not challengers:
        return AEG_FAMILIES[0]
    esc = [strategy[f"Ch[{c}]:limited"]["E"] for c in challengers]
    if all(e >= 1 - tol for e in esc):
        return AEG_FAMILIES[3]
    if any(e > tol for e in esc):
        return AEG_FAMILIES[2]
    return AEG_FAMILIES[1]


def aeg_game(p_ch: float, p_def: Mapping[str, float] | tuple[float, float, float, float],
             ch_utils: Mapping[str, float] | None = None,
             def_utils: Mapping[str, float] | None = None) -> Game:
    """The AEG as an extensive-form game with Nature choosing the types."""
    cu = _check_order(ch_utils or DEFAULT_CH, CH_ORDER, "Challenger")
    du = _check_order(def_utils or DEFAULT_DEF, DEF_ORDER, "Defender")
    pd = dict(p_def) if isinstance(p_def, Mapping) else dict(zip(DEF_TYPES, p_def, strict=True))
    if not 0.0 <= p_ch <= 1.0 or any(pd[t] < 0 for t in DEF_TYPES) \
            or abs(sum(pd[t] for t in DEF_TYPES) - 1.0) > 1e-9:
        raise AllianceLabError("AEG needs 0 <= pCh <= 1 and pHH+pHS+pSH+pSS = 1, all >= 0")
    profiles = [(c, d) for c in ("H", "S") for d in DEF_TYPES]
    probs = [(p_ch if c == "H" else 1 - p_ch) * pd[d] for c, d in profiles]
    keep = [(pr, prof) for pr, prof in zip(probs, profiles, strict=True) if pr > 0]
    return _typed_game(("aeg", tuple(prof for _, prof in keep), *cu.values(), *du.values()),
                       [pr for pr, _ in keep], partial(_aeg_tree, keep, cu, du))


def _aeg_tree(keep: list[tuple[float, tuple[str, str]]], cu: dict[str, float],
              du: dict[str, float]) -> Game:
    """The AEG with Nature drawing the type profiles ``keep`` (probability, profile)."""
    g = Game(["Ch", "Def"])
    root = g.chance([pr for pr, _ in keep], label="types")
    kids = []
    for _, (c, d) in keep:
        c_ee = cu["cEE+"] if c == "H" else cu["cEE-"]
        d_dd = du["dDD+"] if d[0] == "H" else du["dDD-"]
        d_ee = du["dEE+"] if d[1] == "H" else du["dEE-"]

        def term(o: str, cval: float, dval: float) -> int:
            return g.terminal(o, [cval, dval])

        lab = f"Ch={c},Def={d}"
        n1 = g.decision("Ch", f"Ch[{c}]:start", ["C", "D"], label=lab)
        n2 = g.decision("Def", f"Def[{d}]:challenged", ["C", "D", "E"], label=lab)
        n3a = g.decision("Ch", f"Ch[{c}]:limited", ["D", "E"], label=lab)
        n4a = g.decision("Def", f"Def[{d}]:Ch escalated", ["D", "E"], label=lab)
        n3b = g.decision("Ch", f"Ch[{c}]:Def escalated", ["D", "E"], label=lab)
        g.attach(n1, [term("SQ", cu["cSQ"], du["dSQ"]), n2])
        g.attach(n2, [term("DC", cu["cDC"], du["dDC"]), n3a, n3b])
        g.attach(n3a, [term("DD", cu["cDD"], d_dd), n4a])
        g.attach(n4a, [term("ED", cu["cED"], du["dED"]), term("EE", c_ee, d_ee)])
        g.attach(n3b, [term("DE", cu["cDE"], du["dDE"]), term("EE", c_ee, d_ee)])
        kids.append(n1)
    g.attach(root, kids)
    return g


#: built games by their tree (kind, the type profiles Nature draws, the utilities), copied
#: for games that differ in these probabilities only (:func:`_typed_game`)
_TREES: dict[tuple[Any, ...], Game] = {}
_MAX_TREES = 64


def _typed_game(key: tuple[Any, ...], probs: list[float], build: Callable[[], Game]) -> Game:
    """The game ``build`` makes, whose root is Nature's draw of the types with ``probs``:
    built once per ``key`` (numbers by their bits: 0.0 and -0.0 differ), then copied with
    these probabilities (the same game)."""
    key = tuple(float(x).hex() if isinstance(x, int | float) else x for x in key)
    tree = _TREES.get(key)
    if tree is None:
        g = build()
        if len(_TREES) < _MAX_TREES:
            _TREES[key] = _with_chance(g, g.root, probs)
        return g
    return _with_chance(tree, tree.root, probs)


def _aeg_summary(sol: Solution) -> AEGResult:
    o = sol.outcome_probs
    p = {k: o.get(k, 0.0) for k in ("SQ", "DC", "DD", "ED", "DE", "EE")}
    challenge = sum(v for k, v in p.items() if k != "SQ")
    escalation = p["ED"] + p["DE"] + p["EE"]
    if challenge < 0.01:
        kind = "deterrence"
    else:
        cond = {k: v / challenge for k, v in p.items() if k != "SQ"}
        top = max(cond, key=lambda k: cond[k])
        label = {"DC": "challenger-wins", "DD": "limited-conflict", "ED": "escalation",
                 "DE": "escalation", "EE": "all-out-conflict"}[top]
        kind = label if cond[top] > 0.99 else f"mixed ({label})"
    return AEGResult(sol, challenge, p["DC"], p["DD"], escalation, p["EE"], p["SQ"], kind,
                     aeg_family(sol.strategy))


def solve_aeg(p_ch: float, p_def: Mapping[str, float] | tuple[float, float, float, float],
              ch_utils: Mapping[str, float] | None = None,
              def_utils: Mapping[str, float] | None = None, **solver: Any) -> AEGResult:
    """PBE of the AEG with incomplete information; probabilities of challenge, concession,
    limited conflict, escalation (any E on the path) and war (all-out conflict EE)."""
    g = aeg_game(p_ch, p_def, ch_utils, def_utils)
    if g.is_perfect_information():
        return _aeg_summary(backward_induction(g))
    return _aeg_summary(solve_pbe(g, **solver))


def solve_aeg_many(priors: Sequence[tuple[float, Mapping[str, float]
                                          | tuple[float, float, float, float]]],
                   **solver: Any) -> list[AEGResult | AllianceLabError]:
    """:func:`solve_aeg` (default utilities) at each ``(p_ch, p_def)``, the games traced
    together (:func:`~alliancelab.models.games.extensive.solve_pbe_many`: the same results);
    the error in place of a game that has none."""
    return _many([partial(aeg_game, pr[0], pr[1]) for pr in priors], _aeg_summary,
                 solver)


def _many(build: Sequence[Callable[[], Game]], summary: Callable[[Solution], Any],
          solver: Mapping[str, Any]) -> list[Any]:
    """Build every game (an :class:`AllianceLabError` for a bad one), solve the ones with
    incomplete information together and the others by backward induction, and summarise."""
    out: list[Any] = [None] * len(build)
    traced: list[tuple[int, Game]] = []
    for k, make in enumerate(build):
        try:
            g = make()
        except AllianceLabError as exc:
            out[k] = exc
            continue
        if g.is_perfect_information():
            out[k] = summary(backward_induction(g))
        else:
            traced.append((k, g))
    sols = solve_pbe_many([g for _, g in traced], **solver)
    for (k, _), sol in zip(traced, sols, strict=True):
        out[k] = sol if isinstance(sol, AllianceLabError) else summary(sol)
    return out


def aeg_complete(ch_type: str, def_type: str, ch_utils: Mapping[str, float] | None = None,
                 def_utils: Mapping[str, float] | None = None) -> AEGResult:
    """Subgame-perfect equilibrium of the AEG under complete information."""
    p_def = {t: float(t == def_type) for t in DEF_TYPES}
    g = aeg_game(1.0 if ch_type == "H" else 0.0, p_def, ch_utils, def_utils)
    return _aeg_summary(backward_induction(g))


# ---------------------------------------------------------------------------------------
# Tripartite crisis game
@dataclass(frozen=True)
class TCGPayoffs:
    """Utilities of the reconstructed tripartite crisis game (status quo = 0 for all).

    Challenger: ``v`` stake gained if an abandoned protégé concedes; ``r`` extra gain if it
    realigns; ``b`` cost of backing down against a supported protégé; ``w_hard`` / ``w_soft``
    war payoffs of a Hard (w > -b) and Soft (w < -b) challenger.
    Defender: ``d_win`` if Ch backs down; ``d_war_committed`` / ``d_war_uncommitted`` war
    payoffs; ``d_concede`` if the abandoned protégé concedes; ``d_realign`` if it realigns.
    Committed: d_war > d_concede; Uncommitted: d_war < d_concede. Realignment is worst
    short of war for an uncommitted defender's ally: d_realign < d_concede.
    Protégé: ``p_concede``/``p_realign`` of a Loyal protégé (concede > realign), swapped for
    a Realigner; ``p_win`` and ``p_war`` after support.
    """

    v: float = 1.0
    r: float = 1.0
    b: float = 1.0
    w_hard: float = -0.5
    w_soft: float = -2.0
    d_win: float = 0.5
    d_war_committed: float = -0.5
    d_war_uncommitted: float = -2.0
    d_concede: float = -1.0
    d_realign: float = -3.0
    p_win: float = 0.5
    p_war: float = -2.0
    p_concede: float = -1.0
    p_realign: float = -1.5

    def check(self) -> None:
        ok = (self.w_hard > -self.b > self.w_soft and self.v > 0 and self.r >= 0
              and self.d_war_committed > self.d_concede > self.d_war_uncommitted
              and self.d_concede > self.d_realign and self.d_win > 0
              and self.p_concede > self.p_realign)
        if not ok:
            raise AllianceLabError("tripartite crisis game payoffs violate the type definitions")


#: Descriptive equilibrium families of the reconstructed tripartite game (see :func:`tcg_family`)
TCG_FAMILIES = ("Deterrence Equilibrium", "Unequivocal-Support Equilibrium",
                "Straddle Equilibrium", "Separating-Support Equilibrium",
                "Abandonment Equilibrium")


@dataclass(frozen=True)
class TCGResult:
    """Equilibrium of the reconstructed tripartite game; ``family`` from :data:`TCG_FAMILIES`."""

    solution: Solution
    p_challenge: float
    p_challenge_hard: float
    p_support: float
    p_war: float
    p_realign: float
    p_status_quo: float
    equilibrium_type: str
    family: str = ""


def tcg_family(strategy: Mapping[str, Mapping[str, float]], tol: float = 1e-6) -> str:
    """Descriptive family of a tripartite-game profile (our names, not the 2003 paper's, which
    we could not consult). Zagare & Kilgour (2006, *International Studies Review* 8(4)) call
    the defender's certain support of the protégé an *unequivocal commitment* and its
    probabilistic support a *straddle*; the families follow the defender's reply to a demand:

    * Deterrence Equilibrium -- no challenger type demands;
    * Unequivocal-Support Equilibrium -- every defender type supports the protégé;
    * Straddle Equilibrium -- some defender type supports with a probability in (0, 1);
    * Separating-Support Equilibrium -- the Committed defender supports, the Uncommitted
      one abandons;
    * Abandonment Equilibrium -- every defender type abandons the protégé.
    """
    if not any(strategy[f"Ch[{c}]:start"]["Demand"] > tol for c in "HS"
               if f"Ch[{c}]:start" in strategy):
        return TCG_FAMILIES[0]
    sup = {d: strategy[f"Def[{d}]:demand"]["Support"] for d in "CU"
           if f"Def[{d}]:demand" in strategy}
    if all(x >= 1 - tol for x in sup.values()):
        return TCG_FAMILIES[1]
    if any(tol < x < 1 - tol for x in sup.values()):
        return TCG_FAMILIES[2]
    if all(x <= tol for x in sup.values()):
        return TCG_FAMILIES[4]
    if sup.get("C", 1.0) >= 1 - tol and sup.get("U", 0.0) <= tol:
        return TCG_FAMILIES[3]
    # support is dominant for a Committed defender (its war and win payoffs beat concession
    # and realignment), so an equilibrium never has Committed abandon while Uncommitted supports
    raise ValueError(f"not an equilibrium profile of the tripartite game: support {sup}")


def tcg_game(p_ch: float, p_def: float, p_pro: float, pay: TCGPayoffs | None = None) -> Game:
    """The reconstructed tripartite crisis game with Nature drawing the three types."""
    pay = pay or TCGPayoffs()
    pay.check()
    for name, p in (("pCh", p_ch), ("pDef", p_def), ("pPro", p_pro)):
        if not 0.0 <= p <= 1.0:
            raise AllianceLabError(f"{name} must lie in [0, 1], got {p:g}")
    profiles = [(c, d, q) for c in "HS" for d in "CU" for q in "RL"]
    pr = {"H": p_ch, "S": 1 - p_ch, "C": p_def, "U": 1 - p_def, "R": p_pro, "L": 1 - p_pro}
    keep = [(pr[c] * pr[d] * pr[q], (c, d, q)) for c, d, q in profiles
            if pr[c] * pr[d] * pr[q] > 0]
    return _typed_game(("tcg", tuple(prof for _, prof in keep), *astuple(pay)),
                       [x for x, _ in keep], partial(_tcg_tree, keep, pay))


def _tcg_tree(keep: list[tuple[float, tuple[str, str, str]]], pay: TCGPayoffs) -> Game:
    """The tripartite game with Nature drawing the type profiles ``keep`` (probability,
    profile)."""
    g = Game(["Ch", "Def", "Pro"])
    root = g.chance([x for x, _ in keep], label="types")
    kids = []
    for _, (c, d, q) in keep:
        lab = f"Ch={c},Def={d},Pro={q}"
        w = pay.w_hard if c == "H" else pay.w_soft
        dw = pay.d_war_committed if d == "C" else pay.d_war_uncommitted
        pc, prl = ((pay.p_concede, pay.p_realign) if q == "L"
                   else (pay.p_realign, pay.p_concede))
        n1 = g.decision("Ch", f"Ch[{c}]:start", ["SQ", "Demand"], label=lab)
        n2 = g.decision("Def", f"Def[{d}]:demand", ["Support", "Abandon"], label=lab)
        n3 = g.decision("Ch", f"Ch[{c}]:supported", ["BackDown", "Fight"], label=lab)
        n4 = g.decision("Pro", f"Pro[{q}]:abandoned", ["Concede", "Realign"], label=lab)
        g.attach(n1, [g.terminal("SQ", [0, 0, 0]), n2])
        g.attach(n2, [n3, n4])
        g.attach(n3, [g.terminal("CB", [-pay.b, pay.d_win, pay.p_win]),
                      g.terminal("W", [w, dw, pay.p_war])])
        g.attach(n4, [g.terminal("PC", [pay.v, pay.d_concede, pc]),
                      g.terminal("RA", [pay.v + pay.r, pay.d_realign, prl])])
        kids.append(n1)
    g.attach(root, kids)
    return g


def solve_tcg(p_ch: float, p_def: float, p_pro: float, pay: TCGPayoffs | None = None,
              **solver: Any) -> TCGResult:
    """PBE of the tripartite crisis game; probabilities of challenge (overall and by a Hard
    challenger), defender support given a challenge, war and realignment."""
    return _tcg_summary(solve_pbe(tcg_game(p_ch, p_def, p_pro, pay), **solver))


def solve_tcg_many(priors: Sequence[tuple[float, float, float]], **solver: Any
                   ) -> list[TCGResult | AllianceLabError]:
    """:func:`solve_tcg` (default payoffs) at each ``(p_ch, p_def, p_pro)``, the games
    traced together (the same results); the error in place of a game that has none."""
    return _many([partial(tcg_game, *pr) for pr in priors], _tcg_summary, solver)


def _tcg_summary(sol: Solution) -> TCGResult:
    o = sol.outcome_probs
    p = {k: o.get(k, 0.0) for k in ("SQ", "CB", "W", "PC", "RA")}
    challenge = sum(v for k, v in p.items() if k != "SQ")
    hard = sol.strategy.get("Ch[H]:start", {}).get("Demand", 0.0)
    support = (p["CB"] + p["W"]) / challenge if challenge > 1e-12 else 0.0
    if challenge < 0.01:
        kind = "deterrence"
    elif p["W"] / challenge > 0.5:
        kind = "war"
    elif (p["PC"] + p["RA"]) / challenge > 0.5:
        kind = "abandonment" + (" with realignment" if p["RA"] > p["PC"] else "")
    else:
        kind = "supported protégé, challenger backs down"
    return TCGResult(sol, challenge, hard, support, p["W"], p["RA"], p["SQ"], kind,
                     tcg_family(sol.strategy))
