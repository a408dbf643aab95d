"""Tune the discrepancy (rms_last feature, EB on split A) for each config and score all corpora on A and B.

  nice -n 15 python compare.py CONFIG [CONFIG ...]      -> out/compare_CONFIG.csv (+ out/tune_CONFIG_rms_last_A.json)
Also scores today's global discrepancy (kappa 0.1, nu 2, no feature) as 'global'.
"""
import json, os, subprocess, sys
import pandas as pd
import score

CORP = ["acc005", "acc010", "acc020", "accallA", "logloss", "scaling", "seed", "partin"]
for cfg in sys.argv[1:]:
    feat = os.environ.get("FEAT", "rms_last")
    fp = os.environ.get("FREE_P") == "1"
    suf = ("_p" if fp else "") + (("_q" + os.environ["Q"]) if os.environ.get("Q") else "") + (("_k" + os.environ["KAPPA"]) if os.environ.get("KAPPA") else "")
    tf = f"out/tune_{cfg}{suf}_{feat}_A.json"
    if not os.path.exists(tf):
        subprocess.run([sys.executable, "tune.py", cfg, feat], check=True, capture_output=True, env=os.environ)
    t = json.load(open(tf))
    discs = {"tuned": {"kappa": t["kappa"], "lam": t["lam"], "nu": t["nu"], "feat": feat, "p": t.get("p", 1.0), "q": t.get("q", 0.0)},
             "global": {"kappa": 0.1, "lam": 0.0, "nu": 2.0}}
    rows = []
    for c in CORP:
        try:
            f = score.load(cfg, c)
        except FileNotFoundError:
            continue
        for dn, disc in discs.items():
            df = score.evaluate(f, disc)
            for sp in ["A", "B", "all"]:
                d = df if sp == "all" else df[df.split == sp]
                if not len(d): continue
                s = score.summarize(d, c); s.update(corpus=c, split=sp, disc=dn, config=cfg, **{f"h_{k}": v for k, v in t.items() if k in ("kappa", "lam", "nu", "p", "q")})
                rows.append(s)
    pd.DataFrame(rows).to_csv(f"out/compare_{cfg}{suf}.csv", index=False)
    print(cfg, "done", t)
