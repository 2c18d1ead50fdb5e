"""Richardson's arms-race equations, their stability condition, and a least-squares calibration.

Richardson, L. F. (1960) *Arms and Insecurity*, Pittsburgh: Boxwood (first stated 1939):

    dx/dt = k y - a x + g
    dy/dt = l x - b y + h                                                            (1)

x, y: the two states' armaments (here military expenditure); k, l > 0 defence (reaction)
coefficients; a, b > 0 fatigue/expense coefficients; g, h grievances. With a, b > 0 the
equilibrium

    x* = (k h + b g) / (a b - k l),   y* = (l g + a h) / (a b - k l)                 (2)

is stable iff a b > k l (the trace -a-b of the system matrix is negative, so stability is the
determinant condition). If a b < k l spending diverges: a runaway race, or disarmament when
grievances are negative.

Calibration (Intriligator 1964; Majeski & Jones 1981 for the discrete form): with annual data,
regress the first difference on the levels, equation by equation,

    x_{t+1} - x_t = k y_t - a x_t + g + e_t,   y_{t+1} - y_t = l x_t - b y_t + h + u_t   (3)

by ordinary least squares. Estimates with the wrong signs (k < 0 or a < 0) mean the data do
not support a Richardson process; :class:`Fit` says so in ``richardson_consistent``. Current-
dollar series carry inflation, which shows up as positive grievance terms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.errors import AllianceLabError


@dataclass(frozen=True)
class Richardson:
    """Parameters of eq. (1)."""

    k: float
    a: float
    g: float
    l: float  # noqa: E741 - Richardson's own symbol
    b: float
    h: float

    @property
    def stable(self) -> bool:
        """a > 0, b > 0 and a b > k l (eq. 2)."""
        return self.a > 0 and self.b > 0 and self.a * self.b > self.k * self.l

    def matrix(self) -> np.ndarray:
        return np.array([[-self.a, self.k], [self.l, -self.b]])

    def equilibrium(self) -> tuple[float, float]:
        det = self.a * self.b - self.k * self.l
        if det == 0:
            raise AllianceLabError("a b = k l: no unique equilibrium")
        return ((self.k * self.h + self.b * self.g) / det,
                (self.l * self.g + self.a * self.h) / det)

    def eigenvalues(self) -> np.ndarray:
        return np.linalg.eigvals(self.matrix())

    def simulate(self, x0: float, y0: float, t: np.ndarray) -> np.ndarray:
        """Exact solution of eq. (1) at times ``t`` (rows: t; columns: x, y)."""
        from scipy import integrate  # here: the models that read the ratios do not need it

        def rhs(_: float, z: np.ndarray) -> np.ndarray:
            return self.matrix() @ z + np.array([self.g, self.h])

        sol = integrate.solve_ivp(rhs, (float(t[0]), float(t[-1])), [x0, y0], t_eval=t,
                                  rtol=1e-10, atol=1e-12)
        return sol.y.T

    def tension(self) -> float:
        """Instability ratio k l / (a b): below 1 stable, above 1 a runaway race."""
        if self.a <= 0 or self.b <= 0:
            return float("inf")
        return self.k * self.l / (self.a * self.b)


@dataclass(frozen=True)
class Fit:
    """OLS estimates of eq. (3) with standard errors and R^2 per equation."""

    model: Richardson
    se: dict[str, float]
    r2: tuple[float, float]
    n: int
    years: tuple[int, int]
    richardson_consistent: bool


def _ols(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    dof = len(y) - x.shape[1]
    s2 = float(resid @ resid) / dof
    cov = s2 * np.linalg.inv(x.T @ x)
    tss = float(((y - y.mean()) ** 2).sum())
    return beta, np.sqrt(np.diag(cov)), 1.0 - float(resid @ resid) / tss


def fit(years: np.ndarray, x: np.ndarray, y: np.ndarray) -> Fit:
    """Least-squares calibration of eq. (3) on consecutive years where both series exist."""
    years, x, y = (np.asarray(v, dtype=float) for v in (years, x, y))
    ok = np.isfinite(x) & np.isfinite(y)
    idx = [i for i in range(len(years) - 1)
           if ok[i] and ok[i + 1] and years[i + 1] == years[i] + 1]
    if len(idx) < 6:
        raise AllianceLabError(f"need at least 6 consecutive year pairs, got {len(idx)}")
    i = np.array(idx)
    dx, dy = x[i + 1] - x[i], y[i + 1] - y[i]
    ones = np.ones(len(i))
    bx, sx, rx = _ols(dx, np.column_stack([y[i], -x[i], ones]))
    by, sy, ry = _ols(dy, np.column_stack([x[i], -y[i], ones]))
    m = Richardson(k=bx[0], a=bx[1], g=bx[2], l=by[0], b=by[1], h=by[2])
    se = {"k": sx[0], "a": sx[1], "g": sx[2], "l": sy[0], "b": sy[1], "h": sy[2]}
    consistent = bool(min(m.k, m.a, m.l, m.b) > 0)
    return Fit(m, {k: float(v) for k, v in se.items()}, (rx, ry), len(i),
               (int(years[i[0]]), int(years[i[-1]] + 1)), consistent)
