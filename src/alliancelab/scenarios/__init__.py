"""Scenarios: interventions, uncertainty, perception measures."""
