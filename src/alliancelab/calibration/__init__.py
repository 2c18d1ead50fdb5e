"""Calibration of case inputs from real data (one small module per data set or quantity).

:mod:`alliancelab.calibration.capability` derives actors' capabilities from the Correlates of
War National Material Capabilities (CINC) index.
"""
