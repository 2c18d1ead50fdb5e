"""The look shared by the HTML reports and the web app: one plotly template, the colours of
the engines, one colour scale per kind of map, and a colour (with a line dash and a marker)
per actor that stays distinct for readers with a colour-vision deficiency.

* :func:`template_json` -- the plotly template of every chart (font, white background,
  light grid, left-aligned titles, :data:`PALETTE` as colour way) as plotly JSON;
  :func:`plotly_template` is it as a plotly object, registered as
  ``plotly.io.templates["alliancelab"]``; the web app gets its layout from ``/api/info``.
* :data:`PALETTE` -- Okabe & Ito's eight colours ("Color Universal Design", 2008; also
  B. Wong, "Points of view: Color blindness", *Nature Methods* 8 (2011) 441), chosen to stay
  apart under protanopia, deuteranopia and tritanopia. :data:`MODEL_COLOURS` gives each
  engine one of them.
* Colour scales, one per kind of map: :data:`EFFECT_SCALE` (purple-orange, ColorBrewer PuOr)
  for effects of shocks and levers, :data:`MOVEMENT_SCALE` (red-blue, ColorBrewer RdBu: red =
  moved away, blue = moved toward) for who moves toward whom, :data:`COUNT_SCALE` (ColorBrewer
  Blues) for counts and shares. The ColorBrewer schemes used are the ones its site marks
  colour-blind safe (C. A. Brewer, colorbrewer2.org). Every list is ``[[stop, colour], ...]``
  from the low end, as plotly.py and plotly.js both read it (their *named* ``"RdBu"`` run in
  opposite directions, which is why no name is used).
* :func:`actor_styles` -- per actor a colour, a dash and a marker symbol. The colours are the
  case's ``groups`` colours (``Group.colors``, one per member, cycled) when every pair of
  actors stays at least :data:`MIN_DELTA_E` apart in normal vision and in the three simulated
  deficiencies (:func:`min_distance`); otherwise every group gets one Okabe-Ito hue
  (:data:`GROUP_HUES`, in order of first appearance; actors without a group share the grey)
  and its members lighter and darker shades of it (:func:`shade`). Dash and marker cycle
  within a group, so two actors never share colour, dash and marker alike (a second cue that
  survives printing in grey).

Deficiencies are simulated with the matrices of G. M. Machado, M. M. Oliveira & L. A. F.
Fernandes, "A physiologically-based model for simulation of color vision deficiency", *IEEE
TVCG* 15(6) (2009), severity 1.0, applied to linear sRGB; distances are CIE 1976 L*a*b*
differences (Delta E 76, D65 white).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

__all__ = ["COUNT_SCALE", "EFFECT_SCALE", "FONT", "GROUP_HUES", "MIN_DELTA_E",
           "MODEL_COLOURS", "MOVEMENT_SCALE", "PALETTE", "ActorStyle",
           "actor_colours", "actor_styles", "min_distance", "plotly_template", "shade",
           "template_json", "template_layout"]

FONT = "Inter, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

#: Okabe & Ito (2008): black, orange, sky blue, bluish green, yellow, blue, vermillion,
#: reddish purple.
PALETTE = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
           "#CC79A7")

MODEL_COLOURS = {
    "compromise": "#009E73",
    "median": "#CC79A7",
    "nash": "#56B4E9",
    "bdm": "#D55E00",
    "bdm-scholz": "#E69F00",
    "smp": "#0072B2",
    "exchange": "#F0E442",
    "dynamics": "#444444",
}

#: one hue per actor group when the case's colours are not distinct enough (in order of
#: first appearance in the case), the last for actors without a group.
GROUP_HUES = ("#0072B2", "#D55E00", "#CC79A7", "#666666", "#000000", "#009E73", "#E69F00",
              "#56B4E9", "#999999")

EFFECT_SCALE = [[0.0, "#2d004b"], [0.25, "#8073ac"], [0.5, "#f7f7f7"], [0.75, "#e08214"],
                [1.0, "#7f3b08"]]
MOVEMENT_SCALE = [[0.0, "#b2182b"], [0.25, "#ef8a62"], [0.5, "#f7f7f7"], [0.75, "#67a9cf"],
                  [1.0, "#2166ac"]]
COUNT_SCALE = [[0.0, "#f7fbff"], [0.25, "#c6dbef"], [0.5, "#6baed6"], [0.75, "#2171b5"],
               [1.0, "#08306b"]]

#: the smallest Delta E 76 between two actors' colours, in every kind of vision, for the
#: case's own colours to be used (about the difference between two clearly different shades).
MIN_DELTA_E = 12.0

DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "star")

_AXIS = {"automargin": True, "gridcolor": "#eeeeee", "linecolor": "#999999", "showgrid": True,
         "showline": True, "title": {"standoff": 8}, "zeroline": False}
#: the template's layout, keys sorted at every level as plotly writes them
_LAYOUT: dict[str, Any] = {
    "colorscale": {"diverging": EFFECT_SCALE, "sequential": COUNT_SCALE},
    "colorway": list(PALETTE[1:]) + [PALETTE[0]],
    "font": {"color": "#222222", "family": FONT, "size": 12},
    "hoverlabel": {"font": {"family": FONT}},
    "legend": {"font": {"size": 11}},
    "paper_bgcolor": "white", "plot_bgcolor": "white",
    "title": {"font": {"size": 15}, "x": 0, "xanchor": "left"},
    "xaxis": _AXIS, "yaxis": _AXIS,
}


def template_layout() -> dict[str, Any]:
    """The template's layout as JSON-ready data (for the web app's charts; a fresh copy)."""
    return copy.deepcopy(_LAYOUT)


def template_json() -> dict[str, Any]:
    """The template as a figure's ``layout.template`` in plotly JSON (a fresh copy): what
    ``TEMPLATE.to_plotly_json()`` gives, without importing plotly's figure classes."""
    return {"layout": template_layout()}


@cache
def plotly_template() -> Any:
    """The template as a plotly object, registered as ``plotly.io.templates["alliancelab"]``
    (built when first asked for: the reports write plain JSON and need no plotly objects)."""
    import plotly.graph_objects as go
    import plotly.io as pio

    template = go.layout.Template(layout=template_layout())
    pio.templates["alliancelab"] = template
    return template


# -- colour-vision deficiency --------------------------------------------------------------

_CVD = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
_WHITE = np.array([0.95047, 1.0, 1.08883])


def _linear(colours: Sequence[str]) -> np.ndarray:
    """``#rrggbb`` colours as linear sRGB, shape (n, 3)."""
    rgb = np.array([[int(c.lstrip("#")[k:k + 2], 16) / 255 for k in (0, 2, 4)]
                    for c in colours], dtype=float).reshape(-1, 3)
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _lab(linear: np.ndarray) -> np.ndarray:
    xyz = np.clip(linear, 0, 1) @ _RGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]),
                     200 * (f[:, 1] - f[:, 2])], axis=1)


def min_distance(colours: Sequence[str]) -> dict[str, float]:
    """The smallest Delta E 76 between any two of ``colours`` (``#rrggbb``) in normal vision
    and under each simulated deficiency; ``inf`` for fewer than two colours."""
    lin = _linear(colours)
    out = {}
    for name, m in (("normal", np.eye(3)), *_CVD.items()):
        lab = _lab(lin @ m.T)
        d = np.sqrt(((lab[:, None, :] - lab[None, :, :]) ** 2).sum(axis=-1))
        d[np.diag_indices(len(lab))] = np.inf
        out[name] = float(d.min()) if len(lab) > 1 else float("inf")
    return out


def shade(colour: str, k: int, n: int) -> str:
    """Member ``k`` of ``n`` in the shades of ``colour``: from darker (mixed with black) to
    lighter (mixed with white) in equal steps, ``colour`` itself in the middle."""
    rgb = np.array([int(colour.lstrip("#")[j:j + 2], 16) for j in (0, 2, 4)], dtype=float)
    t = 0.0 if n <= 1 else -0.45 + 0.9 * k / (n - 1)  # -0.45 (darker) .. +0.45 (lighter)
    mixed = rgb * (1 + t) if t < 0 else rgb + (255 - rgb) * t
    return "#" + "".join(f"{int(round(v)):02x}" for v in np.clip(mixed, 0, 255))


# -- actors --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActorStyle:
    """How one actor is drawn: line and marker colour, line dash, marker symbol."""

    colour: str
    dash: str
    symbol: str


def _by_group(actors: Iterable[Any]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for a in actors:
        groups.setdefault(a.group or "", []).append(a.name)
    return groups


def _case_colours(case: Any, groups: dict[str, list[str]]) -> dict[str, str] | None:
    """The case's own colours per actor, or None when a group lacks them."""
    out = {}
    for g, names in groups.items():
        spec = case.groups.get(g) if g else None
        colours = list(spec.colors) if spec is not None else []
        if not colours or not all(_is_hex(c) for c in colours):
            return None
        for k, name in enumerate(names):
            out[name] = colours[k % len(colours)]
    return out


def _is_hex(c: str) -> bool:
    s = c.lstrip("#")
    return c.startswith("#") and len(s) == 6 and all(ch in "0123456789abcdefABCDEF" for ch in s)


def _fallback_colours(groups: dict[str, list[str]]) -> dict[str, str]:
    out = {}
    named = [g for g in groups if g]
    for g, names in groups.items():
        hue = GROUP_HUES[named.index(g) % (len(GROUP_HUES) - 1)] if g else GROUP_HUES[-1]
        for k, name in enumerate(names):
            out[name] = shade(hue, k, len(names))
    return out


def actor_styles(case: Any) -> dict[str, ActorStyle]:
    """A style per actor of ``case`` (in case order; see the module docstring)."""
    groups = _by_group(case.actors)
    colours = _case_colours(case, groups)
    if colours is None or min(min_distance(list(colours.values())).values()) < MIN_DELTA_E:
        colours = _fallback_colours(groups)
    out = {}
    for names in groups.values():
        for k, name in enumerate(names):
            out[name] = ActorStyle(colours[name], DASHES[k % len(DASHES)],
                                   SYMBOLS[k % len(SYMBOLS)])
    return {a.name: out[a.name] for a in case.actors}


def actor_colours(case: Any) -> dict[str, str]:
    """The colour of every actor of ``case`` (:func:`actor_styles`)."""
    return {name: s.colour for name, s in actor_styles(case).items()}
