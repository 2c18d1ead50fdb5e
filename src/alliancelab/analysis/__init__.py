"""Analysis of experiments: sensitivity, scenario discovery, robustness."""
