"""The extensive-form solver: backward induction and the logit-limit PBE."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliancelab.core.errors import AllianceLabError
from alliancelab.models.games.extensive import Game, backward_induction, pbe_violation, solve_pbe


def _entry_game(pay: list[float]) -> Game:
    """Entrant In/Out; incumbent Fight/Accommodate (Selten's chain-store stage)."""
    g = Game(["E", "I"])
    root = g.decision("E", "E", ["Out", "In"])
    inc = g.decision("I", "I", ["Fight", "Acc"])
    g.attach(root, [g.terminal("Out", [0, pay[0]]), inc])
    g.attach(inc, [g.terminal("F", [pay[1], pay[2]]), g.terminal("A", [pay[3], pay[4]])])
    return g


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(-5, 5), min_size=5, max_size=5).filter(
    lambda p: p[2] != p[4] and p[1] != 0 and p[3] != 0))
def test_logit_limit_equals_backward_induction_for_generic_games(pay):
    g = _entry_game([float(x) for x in pay])
    spe = backward_induction(g)
    pbe = solve_pbe(g)
    # generic payoffs: the subgame-perfect equilibrium is unique and both solvers find it
    assert pbe.outcome_probs.keys() == spe.outcome_probs.keys()
    for k, v in spe.outcome_probs.items():
        assert pbe.outcome_probs[k] == pytest.approx(v, abs=1e-3)
    assert pbe_violation(g, spe.strategy) == pytest.approx(0.0, abs=1e-12)


def signalling_game() -> Game:
    """A beer-quiche-like signalling game whose PBE needs mixing."""
    g = Game(["S", "R"])
    root = g.chance([0.3, 0.7], label="type")
    kids = []
    for t in ("weak", "strong"):
        s = g.decision("S", f"S[{t}]", ["Bluff", "Quiet"], label=t)
        rb = g.decision("R", "R:bluff", ["Call", "Fold"], label=t)
        rq = g.decision("R", "R:quiet", ["Call", "Fold"], label=t)
        win = 1.0 if t == "strong" else -1.0
        g.attach(s, [rb, rq])
        g.attach(rb, [g.terminal("callB", [2 * win, -2 * win]), g.terminal("foldB", [1, -1])])
        g.attach(rq, [g.terminal("callQ", [win, -win]), g.terminal("foldQ", [0.5, -0.5])])
        kids.append(s)
    g.attach(root, kids)
    return g


def test_signalling_game_mixed_pbe():
    """A beer-quiche-like game where the PBE needs mixing: checked by the independent
    verifier and by the indifference condition."""
    g = signalling_game()
    sol = solve_pbe(g)
    assert sol.violation < 2e-3
    assert pbe_violation(g, sol.strategy, tol=1e-3) < 2e-3
    assert sum(sol.outcome_probs.values()) == pytest.approx(1.0)


def test_bad_games_rejected():
    g = Game(["A"])
    with pytest.raises(AllianceLabError):
        g.chance([0.5, 0.6])
    root = g.decision("A", "h", ["x", "y"])
    with pytest.raises(AllianceLabError):
        g.attach(root, [g.terminal("t", [1.0])])
    with pytest.raises(AllianceLabError):
        g.decision("B", "h2", ["x"])


def _screening_game() -> Game:
    """Nature draws a or b; P1 (informed) stays (0.5 each) or goes; after Go, P2 guesses L
    (pays 1 against a) or R (pays 0.8 against b). P1 gets 1 if P2 guesses R, 0 if L."""
    g = Game(["P1", "P2"])
    root = g.chance([0.5, 0.5], label="type")
    kids = []
    for t in ("a", "b"):
        n1 = g.decision("P1", f"P1[{t}]", ["Stay", "Go"], label=t)
        n2 = g.decision("P2", "P2", ["L", "R"], label=t)
        g.attach(n1, [g.terminal("stay", [0.5, 0.5]), n2])
        g.attach(n2, [g.terminal("L", [0.0, float(t == "a")]),
                      g.terminal("R", [1.0, 0.8 * (t == "b")])])
        kids.append(n1)
    g.attach(root, kids)
    return g


def test_pbe_violation_uses_the_stated_off_path_beliefs():
    """Both types stay, so P2's information set is off the path: guessing L is sequentially
    rational for the uniform belief (0.5 > 0.4) but not for belief 0.2 on a (0.2 < 0.64)."""
    g = _screening_game()
    prof = {"P1[a]": {"Stay": 1.0, "Go": 0.0}, "P1[b]": {"Stay": 1.0, "Go": 0.0},
            "P2": {"L": 1.0, "R": 0.0}}
    assert pbe_violation(g, prof) == pytest.approx(0.0, abs=1e-12)
    skewed = {"P2": {"a": 0.2, "b": 0.8}}
    assert pbe_violation(g, prof, beliefs=skewed) == pytest.approx(0.64 - 0.2, abs=1e-12)


def test_exact_polish_matches_the_traced_equilibrium():
    """The polished equilibrium of the signalling game is exact (every indifference holds to
    rounding, with the returned beliefs) and is the one the logit trace approaches."""
    g = signalling_game()
    exact = solve_pbe(g)
    traced = solve_pbe(g, exact=False)
    assert exact.exact and not traced.exact
    assert exact.violation < 1e-9
    assert pbe_violation(g, exact.strategy, tol=1e-9, beliefs=exact.beliefs) < 1e-9
    for k in set(exact.outcome_probs) | set(traced.outcome_probs):
        assert exact.outcome_probs.get(k, 0.0) == pytest.approx(
            traced.outcome_probs.get(k, 0.0), abs=5e-3)


def test_games_of_one_shape_reuse_its_arrays_with_their_own_chance_moves() -> None:
    """The solver's arrays are built once per shape of game (tree, information sets,
    payoffs) and reused with each game's chance probabilities: every solution equals, in
    every number, the one solved with the arrays built afresh (issue 15)."""
    from alliancelab.models.games import extensive
    from alliancelab.models.games.deterrence import aeg_game, tcg_game

    def solved(game: Game) -> str:
        s = solve_pbe(game, steps=15, tol=5e-3)
        return repr((s.strategy, s.beliefs, s.outcome_probs, s.expected_payoffs, s.lam,
                     s.exact))

    games = [aeg_game(p, (0.5, 0.2, 0.2, 0.1)) for p in (0.2, 0.45, 0.8)]
    games += [aeg_game(0.4, (0.0, 0.6, 0.3, 0.1)), tcg_game(0.3, 0.6, 0.2),
              tcg_game(0.7, 0.4, 0.5)]
    fresh = []
    for game in games:
        extensive._SHAPES.clear()
        fresh.append(solved(game))
    extensive._SHAPES.clear()
    assert [solved(game) for game in games] == fresh
    assert len(extensive._SHAPES) == 3  # the full AEG, the one without a type, the TCG


def test_games_traced_together_get_what_each_gets_alone() -> None:
    """:func:`solve_pbe_many` traces games of one shape in lockstep (a leading game axis):
    every solution, and every failure, is the one :func:`solve_pbe` gives the game alone,
    in every number, whatever else is in the batch (issue 15)."""
    from alliancelab.models.games.deterrence import aeg_game, tcg_game
    from alliancelab.models.games.extensive import solve_pbe_many

    def shown(s: object) -> str:
        if isinstance(s, AllianceLabError):
            return f"error: {s}"
        return repr((s.strategy, s.beliefs, s.outcome_probs, s.expected_payoffs,  # type: ignore[attr-defined]
                     s.lam, s.exact))  # type: ignore[attr-defined]

    def alone(game: Game, **opts: object) -> str:
        try:
            return shown(solve_pbe(game, **opts))  # type: ignore[arg-type]
        except AllianceLabError as exc:
            return shown(exc)

    games = [aeg_game(p, d) for p, d in ((0.2, (0.5, 0.2, 0.2, 0.1)), (0.45, (0.4, 0.3, 0.2, 0.1)),
                                         (0.8, (0.1, 0.3, 0.3, 0.3)), (0.47, (0.0, 0.6, 0.3, 0.1)),
                                         (0.05, (0.7, 0.1, 0.1, 0.1)))]
    games += [tcg_game(*p) for p in ((0.3, 0.6, 0.2), (0.7, 0.4, 0.5), (0.45, 0.65, 0.3))]
    for opts in ({"steps": 15, "tol": 5e-3}, {"steps": 8, "lam_max": 50.0, "exact": False}):
        want = [alone(g, **opts) for g in games]
        assert [shown(s) for s in solve_pbe_many(games, **opts)] == want  # type: ignore[arg-type]
        assert [shown(s) for s in solve_pbe_many(games[::-1], **opts)] == want[::-1]  # type: ignore[arg-type]


def _walked(game: Game, sig: list[list[float]]) -> tuple[list[float], list[list[float]]]:
    """Log reach and values of every node, node by node down and up the tree (the
    definition the solver's compiled walks must reproduce exactly)."""
    import numpy as np

    from alliancelab.models.games.extensive import _normalised_payoffs

    lo, scale = _normalised_payoffs(game)
    lr = np.full(len(game.nodes), -np.inf)
    lr[game.root] = 0.0
    v = np.zeros((len(game.nodes), len(game.players)))
    for k in game.order():
        n = game.nodes[k]
        moves = n.probs if n.kind == "chance" else sig[n.infoset] if n.kind == "decision" else []
        for p, c in zip(moves, n.children, strict=True):
            with np.errstate(divide="ignore"):
                lr[c] = lr[k] + np.log(p)
    for k in reversed(game.order()):
        n = game.nodes[k]
        if n.kind == "terminal":
            v[k] = (np.asarray(n.payoff) - lo) / scale
        else:
            moves = n.probs if n.kind == "chance" else sig[n.infoset]
            v[k] = sum(p * v[c] for p, c in zip(moves, n.children, strict=True))
    return lr.tolist(), v.tolist()


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_compiled_tree_walks_equal_the_walk_node_by_node(seed: int) -> None:
    """The solver's per-shape index arrays (reach, values, chance log-probabilities) give
    every number the walk node by node gives, and the lockstep Newton's residuals and
    Jacobians (belief sums included) every number one game gets alone, for deterrence games
    at random priors (copied per tree) and random profiles."""
    import numpy as np

    from alliancelab.models.games import extensive
    from alliancelab.models.games.deterrence import aeg_game, tcg_game

    rng = np.random.default_rng(seed)
    pd = rng.dirichlet(np.ones(4)) * (rng.random(4) > 0.2)
    pd = pd / pd.sum() if pd.sum() > 0 else np.array([1.0, 0.0, 0.0, 0.0])
    games = [aeg_game(float(rng.random()), tuple(pd.tolist())),  # type: ignore[arg-type]
             tcg_game(*rng.random(3).tolist()), signalling_game()]
    for game in games:
        tr = extensive._Trace(game, True)
        fresh = extensive._Evaluator(game)
        assert tr.ev.lpc.tolist() == fresh.lpc.tolist()
        sig = [rng.dirichlet(np.ones(m)) * (rng.random(m) > 0.3) for m in tr.sizes]
        sig = [s / s.sum() if s.sum() > 0 else np.eye(len(s))[0] for s in sig]
        p = np.concatenate(sig)
        with np.errstate(divide="ignore"):
            lr = tr.ev.log_reach(np.log(p))
        assert (lr.tolist(), tr.ev.values(p).tolist()) == _walked(game, sig)  # type: ignore[arg-type]
        fq = tr.fq
        z = rng.normal(size=(2, len(tr.free))) * 3
        f, jac = extensive._resid_jac_all([tr, tr], z, 50.0, fq.cT[None].repeat(2, 0),
                                          fq.cD[None].repeat(2, 0))
        for i in range(2):  # every number as the game gets it alone
            f1, jac1 = tr.resid_jac(z[i], 50.0)
            assert f[i].tolist() == f1.tolist() and jac[i].tolist() == jac1.tolist()


def test_deterrence_games_copied_per_tree_equal_games_built_afresh() -> None:
    """A deterrence game copied from the one built before for its tree (the types that
    occur, the payoffs) is the game built afresh, node by node, and a game of its own."""
    from alliancelab.models.games import deterrence, extensive

    def built(make: object) -> tuple[object, ...]:
        deterrence._TREES.clear()
        g = make()  # type: ignore[operator]
        return extensive._shape_key(g), [n.probs for n in g.nodes], [n.label for n in g.nodes]

    makes = [lambda: deterrence.aeg_game(0.3, (0.1, 0.2, 0.3, 0.4)),
             lambda: deterrence.aeg_game(0.6, (0.0, 0.5, 0.25, 0.25)),
             lambda: deterrence.tcg_game(0.2, 0.7, 0.4), lambda: deterrence.tcg_game(0.5, 0.1, 0.9)]
    fresh = [built(m) for m in makes]
    deterrence.aeg_game(0.9, (0.4, 0.3, 0.2, 0.1))
    deterrence.aeg_game(0.1, (0.0, 0.1, 0.1, 0.8))
    deterrence.tcg_game(0.9, 0.9, 0.9)
    copied = []
    for m in makes:
        g = m()
        copied.append((extensive._shape_key(g), [n.probs for n in g.nodes],
                       [n.label for n in g.nodes]))
    assert copied == fresh
    a, b = (deterrence.aeg_game(0.3, (0.1, 0.2, 0.3, 0.4)) for _ in range(2))
    a.nodes[1].children.append(99)
    assert b.nodes[1].children != a.nodes[1].children
    with pytest.raises(AllianceLabError):
        extensive._with_chance(a, 0, [0.5, 0.6] + [0.0] * 6)
