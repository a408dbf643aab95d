"""Per-curve fit time of the recommended forecaster (grid engine), warm process.  python speed.py"""
import time, numpy as np, corpora
from forecaster import forecast
for name in ["acc010", "scaling", "logloss"]:
    T = corpora.load(name)[:20]
    for cfg in ["pow3_het", "ens"]:
        t0 = time.perf_counter()
        for t in T:
            forecast(t["train"], t["n_test"], cfg)
        print(name, cfg, "%.3f s/curve" % ((time.perf_counter() - t0) / len(T)), "median m", int(np.median([t["train"].n.size for t in T])))
