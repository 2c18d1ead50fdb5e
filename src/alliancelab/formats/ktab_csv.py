"""KTAB's SMP CSV format (written by the KTAB helper; see docs/formats.md)."""

from __future__ import annotations


def sniff(text: str) -> bool:
    return False
