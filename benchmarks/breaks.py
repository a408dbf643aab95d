"""Synthetic curves with one sharp break: does the default forecast the break or warn that it is contradicted?

BNSL's 4-digit addition is the issue's example: an error rate that stays near 1 and then falls
sharply to near 0, where pow3 missed every target with clean sampler diagnostics. Here the
same shape, ``y = 0.02 + 0.96 / (1 + (n / n_break)^4)`` plus Gaussian noise (SD 0.005, seeded),
is observed at 1k, 2k, 4k, ... and forecast at the next sizes. The break sits so that
2, 1 or 0 observed sizes lie past it, or wholly after the data (then the data hold no trace
of it and no method can see it). Three noise replicates each. A curve counts as *handled*
when every target lies inside the 90 % measured band or the fit warns that the data
contradict it (``diagnostics.checks``). Clean power-law curves measure the false warnings.

Usage: ``python benchmarks/breaks.py [--family pow3+pow4] [--replicates 3]``
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

import curvecast as cc

SIZES = 1000 * 2.0 ** np.arange(8)  # 1k .. 128k
#: (case, break size, observed sizes): the last 2 sizes are the targets
CASES = [
    ("2 points past the break", 5000.0, 6),
    ("1 point past the break", 10000.0, 6),
    ("break at the last point", 20000.0, 6),
    ("break wholly after the data", 80000.0, 6),
    ("clean power law (false warnings)", None, 6),
]


def truth(n: np.ndarray, n_break: float | None) -> np.ndarray:
    if n_break is None:
        return 0.05 + 0.6 * (n / 1000) ** -0.35
    return 0.02 + 0.96 / (1 + (n / n_break) ** 4)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", default=None)
    ap.add_argument("--replicates", type=int, default=3)
    a = ap.parse_args()
    kw = {"family": a.family} if a.family else {}
    print("| case | model | curves | all targets in the 90 % band | warned | handled |")
    print("|---|---|---|---|---|---|")
    for case, n_break, m in CASES:
        inside = warned = handled = 0
        label = ""
        for rep in range(a.replicates):
            rng = np.random.default_rng([rep, 7])
            y = truth(SIZES, n_break) + rng.normal(0, 0.005, SIZES.size)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f = cc.fit(SIZES[:m], y[:m], increasing=False, seed=rep, name=f"break-{rep}", **kw)
            band = f.predict(SIZES[m:])
            ok = bool(np.all((band.measured_lower <= y[m:]) & (y[m:] <= band.measured_upper)))
            warn = any(c["kind"] in ("contradicted", "collapse", "outlier") for c in f.diagnostics.checks)
            inside, warned, handled, label = inside + ok, warned + warn, handled + (ok or warn), f.label
        r = a.replicates
        print(f"| {case} | {label} | {r} | {inside}/{r} | {warned}/{r} | {handled}/{r} |", flush=True)


if __name__ == "__main__":
    main()
