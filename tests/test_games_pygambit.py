"""Cross-check of the PBE solver against Gambit (optional: ``pip install .[gambit]``)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from alliancelab.models.games.deterrence import aeg_game, solve_aeg, solve_tcg, tcg_game
from alliancelab.models.games.extensive import Game, solve_pbe

gbt = pytest.importorskip("pygambit")


def to_gambit(game: Game):  # noqa: ANN201 - pygambit type
    """The same tree in Gambit (exact rational chance probabilities and payoffs)."""
    g = gbt.Game.new_tree(players=list(game.players), title="alliancelab")
    seen: dict[int, object] = {}

    def build(k: int, node) -> None:  # noqa: ANN001
        n = game.nodes[k]
        if n.kind == "terminal":
            pay = [Fraction(x).limit_denominator(10**6) for x in n.payoff]
            g.set_outcome(node, g.add_outcome(f"{n.outcome}#{k}", pay))
            return
        if n.kind == "chance":
            g.append_move(node, g.players.chance, [f"t{i}" for i in range(len(n.probs))])
            probs = [Fraction(p).limit_denominator(10**9) for p in n.probs]
            probs[-1] = 1 - sum(probs[:-1])
            g.set_chance_probs(node.infoset, probs)
        elif n.infoset in seen:
            g.append_infoset(node, seen[n.infoset])
        else:
            info = game.infosets[n.infoset]
            g.append_move(node, game.players[n.player], list(info.actions))
            node.infoset.label = info.key
            seen[n.infoset] = node.infoset
        for c, child in zip(n.children, list(node.children), strict=True):
            build(c, child)

    build(game.root, g.root)
    return g


def _profile(g, game: Game, strategy: dict[str, dict[str, float]]):  # noqa: ANN001, ANN202
    prof = g.mixed_behavior_profile(rational=False)
    for info in g.infosets:
        if info.is_chance:
            continue
        for act in info.actions:
            prof[act] = strategy[info.label][act.label]
    return prof


def _terminal_probs(g, prof) -> dict[str, float]:  # noqa: ANN001
    out: dict[str, float] = {}
    for node in g.nodes:
        if node.is_terminal and node.outcome is not None:
            p = float(prof.realiz_prob(node))
            name = node.outcome.label.split("#")[0]
            out[name] = out.get(name, 0.0) + p
    return out


@pytest.mark.parametrize("args", [(0.8, (0.1, 0.3, 0.3, 0.3)), (0.5, (0.25,) * 4),
                                  (0.3, (0.6, 0.1, 0.2, 0.1))])
def test_aeg_solution_has_zero_regret_in_gambit(args):
    game = aeg_game(*args)
    g = to_gambit(game)
    ours = solve_aeg(*args)
    prof = _profile(g, game, ours.solution.strategy)
    span = float(g.max_payoff - g.min_payoff)
    assert float(prof.max_regret()) / span < 2e-3
    theirs = _terminal_probs(g, prof)
    for k, v in ours.solution.outcome_probs.items():
        assert theirs.get(k, 0.0) == pytest.approx(v, abs=1e-6)


def test_tcg_solution_has_zero_regret_in_gambit():
    game = tcg_game(0.7, 0.3, 0.2)
    g = to_gambit(game)
    ours = solve_tcg(0.7, 0.3, 0.2)
    prof = _profile(g, game, ours.solution.strategy)
    assert float(prof.max_regret()) / float(g.max_payoff - g.min_payoff) < 2e-3


def test_logit_limit_matches_gambit_logit_solve():
    """Gambit's own agent-logit tracing (raw payoffs) reaches the same outcome distribution
    on the AEG with payoffs on a common 0-7 scale."""
    game = aeg_game(0.8, (0.1, 0.3, 0.3, 0.3))
    g = to_gambit(game)
    res = gbt.nash.logit_solve(g)
    theirs = _terminal_probs(g, res.equilibria[0])
    ours = solve_pbe(game).outcome_probs
    for k in set(ours) | set(theirs):
        assert theirs.get(k, 0.0) == pytest.approx(ours.get(k, 0.0), abs=5e-3)
