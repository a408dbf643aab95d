"""Coverage/log-score of the pow3_het model on split A for a grid of room-term floors kappa (q = fading exponent)."""
import json, sys, numpy as np, pandas as pd, score
cfg = sys.argv[1]; base = json.loads(sys.argv[2]); split = sys.argv[3] if len(sys.argv) > 3 else "A"
fits = {c: [t for t in score.load(cfg, c) if t["split"] == split] for c in ["acc005", "acc010", "acc020", "logloss", "scaling"]}
rows = []
for k in [0.0, 0.05, 0.1, 0.2]:
    for q in [1.0, 2.0]:
        d = dict(base, kappa=k, q=q)
        r = {"kappa": k, "q": q}
        for c, f in fits.items():
            df = score.evaluate(f, d)
            r[c + "_c90"] = round(df.cov90.mean(), 3); r[c + "_lpd"] = round(df.lpd.mean(), 3)
        rows.append(r); print(r, flush=True)
