"""The report of ``alliancelab run``: charts (:mod:`.figures`), the self-contained HTML page
(:mod:`.html`), and the result files written atomically (:mod:`.outputs`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .outputs import OUTPUT_FILES, check_out_dir, write_outputs

if TYPE_CHECKING:
    from .html import render

__all__ = ["OUTPUT_FILES", "check_out_dir", "render", "write_outputs"]


def __getattr__(name: str) -> Any:
    """``render`` loads the page's modules (plotly, jinja2) when first asked for."""
    if name == "render":
        from .html import render

        return render
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
