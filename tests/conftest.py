"""Hypothesis profiles: ``ci`` (used by scripts/test.sh) draws the same examples on every run,
so CI is reproducible; run pytest directly (profile ``default``) to explore new examples."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
