"""Build a fixed-weight mixture of stored fits as a new pseudo-config.

  python make_ens.py NAME CONFIG1:W1 CONFIG2:W2 ...     (weights normalised; 'llo' as NAME suffix -> per-curve weights ∝ 1/llo^2)
Each component keeps its own misfit feature (F_draw per draw) so the discrepancy is per component.
"""
import pickle, sys, numpy as np
import score
from run_fits import CORPORA

name = sys.argv[1]
comps = [(a.split(":")[0], float(a.split(":")[1])) for a in sys.argv[2:]]
W = np.array([w for _, w in comps]); W = W / W.sum()
per_curve = name.endswith("llo")
import os
MIN_M = int(os.environ.get("MIN_M", "0"))
FALLBACK = os.environ.get("FALLBACK")  # config used alone below MIN_M points (default: the first component)
for c in CORPORA:
    try:
        fl = [score.load(cfg, c) for cfg, _ in comps]
    except FileNotFoundError:
        continue
    fb = score.load(FALLBACK, c) if FALLBACK else None
    out = []
    for i in range(len(fl[0])):
        ts = [f[i] for f in fl]
        if fb is not None and ts[0]["m"] < int(os.environ.get("FALLBACK_M", MIN_M)):
            ts = [fb[i]] + ts[1:]
        assert len({t["curve"] for t in ts}) == 1
        N = ts[0]["lat"].shape[0]
        w = W
        if per_curve:
            l = np.array([t["llo"] if np.isfinite(t["llo"]) else np.nan for t in ts])
            w = W if np.isnan(l).any() else (W / np.maximum(l, 1e-6) ** 2) / np.sum(W / np.maximum(l, 1e-6) ** 2)
        if MIN_M and ts[0]["m"] < MIN_M:  # too few points for the 4-parameter components: first component only
            w = np.eye(len(ts))[0]
        k = np.floor(w * N).astype(int); k[0] += N - k.sum()
        t = dict(ts[0])
        t["lat"] = np.concatenate([tt["lat"][:kk] for tt, kk in zip(ts, k)])
        t["sigma"] = np.concatenate([tt["sigma"][:kk] for tt, kk in zip(ts, k)])
        t["room"] = np.concatenate([tt["room"][:kk] for tt, kk in zip(ts, k)])
        for f in ("rms_last", "sigma_med", "llo", "llo_c", "rms_resid"):
            t[f + "_draw"] = np.concatenate([np.full(kk, tt[f]) for tt, kk in zip(ts, k)])
        out.append(t)
    pickle.dump(out, open(f"out/fits_{name}_{c}.pkl", "wb"))
print("ok", name, comps)
