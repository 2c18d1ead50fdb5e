"""Game models of alliance politics: extended deterrence (Zagare & Kilgour) and the alliance
security dilemma (Snyder 1984; Morrow 1991), with a perfect Bayesian equilibrium solver."""

from .alliance_dilemma import alliance_game, morrow_concession, nash_2x2
from .deterrence import (
    aeg_complete,
    aeg_family,
    solve_aeg,
    solve_aeg_many,
    solve_tcg,
    solve_tcg_many,
    tcg_family,
)
from .extensive import Game, backward_induction, pbe_violation, solve_pbe, solve_pbe_many

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
    "solve_aeg_many",
    "solve_pbe",
    "solve_pbe_many",
    "solve_tcg",
    "solve_tcg_many",
    "tcg_family",
]
