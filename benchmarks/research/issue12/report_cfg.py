"""Print the per-corpus table of one fitted config under a discrepancy setting.
  python report_cfg.py CONFIG '{"kappa":0.1,"nu":2}' [split]"""
import json, sys
import pandas as pd
import score
cfg = sys.argv[1]; disc = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
split = sys.argv[3] if len(sys.argv) > 3 else None
rows = []
for c in ["acc005", "acc010", "acc020", "accallA", "logloss", "scaling", "seed", "partin"]:
    try:
        f = score.load(cfg, c)
    except FileNotFoundError:
        continue
    df = score.evaluate(f, disc, split)
    if not len(df): continue
    s = score.summarize(df, c); s["corpus"] = c
    p = score.peers(c, df.curve)
    if c == "scaling": s["peer"] = "M4 %.4f" % p["M4"]
    elif p:
        best = min(p, key=lambda k: p[k][0]); s["peer"] = "%s %.4f/%.4f pow3 %.4f/%.4f" % (best, *p[best], *p["pow3"])
    rows.append(s)
pd.set_option("display.width", 250); pd.set_option("display.max_columns", 30)
print(pd.DataFrame(rows).set_index("corpus").round(4).to_string())
