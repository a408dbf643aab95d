"""Empirical-Bayes tuning of the discrepancy hyper-parameters across all corpora together.

  python tune.py CONFIG FEAT [split]      (split: A = tune half, default)

Objective: sum over corpus kinds (LCDB accuracy [mean of cutoffs .05/.1/.2 + 500 extra 'accallA' curves at .1],
LCDB log-loss, scaling) of the mean per-curve log predictive density of the held-out rows,
maximised over (kappa, lam, nu) by Nelder-Mead on log scale.  Prints the optimum.
"""
import json, os, sys
import numpy as np
from scipy.optimize import minimize
import score

cfg, feat = sys.argv[1], sys.argv[2]
split = sys.argv[3] if len(sys.argv) > 3 else "A"
groups = {"acc": ["acc005", "acc010", "acc020", "accallA"], "logloss": ["logloss"], "scaling": ["scaling"]}
data = {g: [[t for t in score.load(cfg, c) if t["split"] == split] for c in cs] for g, cs in groups.items()}
# thin the scaling test rows (every 4th) for speed
for lst in data["scaling"]:
    for t in lst:
        k = slice(None, None, 4)
        t["n_test"], t["y_test"], t["lat"] = t["n_test"][k], t["y_test"][k], t["lat"][:, k]

def obj(v, verbose=False):
    disc = {"kappa": float(np.exp(v[0])), "lam": float(np.exp(v[1])) if feat != "none" else 0.0, "nu": 1.0 + float(np.exp(v[2])), "feat": feat}
    if len(v) > 3: disc["p"] = float(np.exp(v[3]))
    if os.environ.get("Q"): disc["q"] = float(os.environ["Q"])
    if os.environ.get("KAPPA"): disc["kappa"] = float(os.environ["KAPPA"])
    tot = 0.0; parts = {}
    for g, lists in data.items():
        vals = [np.mean([score.lpd_task(t, disc) for t in lst]) for lst in lists]
        parts[g] = float(np.mean(vals)); tot += parts[g]
    if verbose: print(disc, parts, tot)
    return -tot

best = None
FREE_P = os.environ.get("FREE_P") == "1"
for x0 in ([np.log(0.05), np.log(0.5), np.log(1.0)], [np.log(0.1), np.log(0.1), np.log(2.0)]):
    if FREE_P: x0 = x0 + [np.log(0.7)]
    r = minimize(obj, x0, method="Nelder-Mead", options={"xatol": 0.05, "fatol": 1e-3, "maxiter": 80})
    if best is None or r.fun < best.fun: best = r
obj(best.x, True)
res = {"config": cfg, "feat": feat, "kappa": float(np.exp(best.x[0])), "lam": float(np.exp(best.x[1])) if feat != "none" else 0.0, "nu": 1 + float(np.exp(best.x[2])), "obj": -best.fun}
if FREE_P: res["p"] = float(np.exp(best.x[3])); cfg = cfg + "_p"
if os.environ.get("Q"): res["q"] = float(os.environ["Q"]); cfg = cfg + "_q" + os.environ["Q"]
if os.environ.get("KAPPA"): res["kappa"] = float(os.environ["KAPPA"]); cfg = cfg + "_k" + os.environ["KAPPA"]
print(json.dumps(res))
json.dump(res, open(f"out/tune_{cfg}_{feat}_{split}.json", "w"))
