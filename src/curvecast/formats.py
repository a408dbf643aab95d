"""How numbers read in answers: sizes as people write them, rounded to a few significant figures.

A leaf module (it imports nothing of curvecast), so every layer can use it.
"""

from __future__ import annotations

import math


def nice(v: float, digits: int = 2) -> float:
    """``v`` rounded to ``digits`` significant figures (12,345 -> 12,000)."""
    if v == 0 or not math.isfinite(v):
        return v
    return float(round(v, digits - 1 - math.floor(math.log10(abs(v)))))


def size(n: float, words: bool = False) -> str:
    """A size as people write it: ``11,829``; below 100 three significant figures (``2.6``, ``0.25``
    GPU-days, never a rounded ``0``); ``words``: three significant figures above 1,000 too (``12,300``);
    ``never`` where it is infinite."""
    if not math.isfinite(n):
        return "never"
    if abs(n) < 100 and n != round(n):
        return f"{n:.3g}"
    return f"{nice(n, 3) if words and n >= 1000 else n:,.0f}"


def pct(p: float) -> str:
    """A probability in percent; never a rounded 0 % or 100 % that the draws do not show."""
    if 0 < p < 0.01:
        return "< 1%"
    if 0.99 < p < 1:
        return "> 99%"
    return f"{p:.0%}"
