"""The report of ``alliancelab run``: charts (:mod:`.figures`), the self-contained HTML page
(:mod:`.html`), and the result files written atomically (:mod:`.outputs`)."""

from .html import render
from .outputs import OUTPUT_FILES, check_out_dir, write_outputs

__all__ = ["OUTPUT_FILES", "check_out_dir", "render", "write_outputs"]
