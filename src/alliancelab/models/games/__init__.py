"""Game models of alliance politics: extended deterrence (Zagare & Kilgour) and the alliance
security dilemma (Snyder 1984; Morrow 1991), with a perfect Bayesian equilibrium solver."""

from .alliance_dilemma import alliance_game, morrow_concession, nash_2x2
from .deterrence import aeg_complete, aeg_family, solve_aeg, solve_tcg, tcg_family
from .extensive import Game, backward_induction, pbe_violation, solve_pbe

__all__ = [
    "Game",
    "aeg_complete",
    "aeg_family",
    "alliance_game",
    "backward_induction",
    "morrow_concession",
    "nash_2x2",
    "pbe_violation",
    "solve_aeg",
    "solve_pbe",
    "solve_tcg",
    "tcg_family",
]
