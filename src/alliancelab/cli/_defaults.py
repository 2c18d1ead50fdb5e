"""Names and defaults the sub-commands' parsers show, repeated from the layers below so that
building the parser (``alliancelab --help``) imports neither NumPy nor any engine, job or
report module (issue 15). ``tests/test_cli_conventions.py`` checks that each one agrees
with its source, named beside it."""

from __future__ import annotations

#: alliancelab.models.bargaining.ENGINES (its keys, in order)
ENGINES = ("compromise", "median", "nash", "bdm", "bdm-scholz", "smp", "exchange")
#: alliancelab.core.rng.DEFAULT_SEED
DEFAULT_SEED = 0
#: alliancelab.scenarios.uncertainty.DISTRIBUTIONS
DISTRIBUTIONS = ("triangular", "uniform", "pert", "truncnorm")
#: alliancelab.explore.samplers.SAMPLERS
SAMPLERS = ("lhs", "sobol", "mc", "morris")
#: alliancelab.explore.model.MODELS and DEFAULT_MODELS
EXPLORE_MODELS = (*ENGINES, "dynamics")
EXPLORE_DEFAULT_MODELS = ("compromise", "bdm-scholz")
#: alliancelab.jobs.run.DEFAULT_MODELS, DEFAULT_DRAWS and DEFAULT_ALLIANCE_DRAWS
RUN_DEFAULT_MODELS = ("compromise", "bdm", "smp")
DEFAULT_DRAWS = 100
DEFAULT_ALLIANCE_DRAWS = 40
