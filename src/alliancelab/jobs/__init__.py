"""Jobs: the main run, the backtest, their results and tables."""
