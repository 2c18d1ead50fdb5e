"""The core: the case, the problem arrays, errors, seeds, safe file writes."""
