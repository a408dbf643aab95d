"""Markdown tables for the report: candidates vs today's default vs the strongest peer, per corpus and split.

  python tables.py OUT.md "LABEL|CONFIG|DISC_JSON" ...
"""
import json, sys
import numpy as np, pandas as pd
import score

CORP = ["acc005", "acc010", "acc020", "accallA", "logloss", "scaling", "seed", "partin"]
out = open(sys.argv[1], "w")
specs = [a.split("|", 2) for a in sys.argv[2:]]
res = {}
for label, cfg, dj in specs:
    disc = json.loads(dj)
    for c in CORP:
        try:
            f = score.load(cfg, c)
        except FileNotFoundError:
            continue
        res[(label, c)] = score.evaluate(f, disc, nseed=int(__import__("os").environ.get("NSEED", "1")))
for c in CORP:
    for sp in ["all", "A", "B"]:
        lines = []
        for label, cfg, _ in specs:
            if (label, c) not in res: continue
            df = res[(label, c)]
            d = df if sp == "all" else df[df.split == sp]
            if not len(d): continue
            if c == "scaling":
                e = f"{d.rmse.median():.4f} / {d.rmse.mean():.4f}"
            else:
                e = f"{d.err_final.median():.4f} / {d.err_final.mean():.4f}"
            lines.append(f"| {label} | {len(d)} | {e} | {d.cov90.mean():.3f} | {d.cov50.mean():.3f} | {d.width90.mean():.4f} | {d.crps.mean():.4f} | {d.lpd.mean():.3f} |")
        if not lines: continue
        curves = d.curve
        p = score.peers(c, curves)
        if c == "scaling":
            lines.append(f"| peer: paper's M4 | {len(d)} | {p['M4']:.4f} / {float(score.M4.loc[curves, 'M4_rmse'].mean()):.4f} | – | – | – | – | – |")
        elif p:
            best = min(p, key=lambda k: p[k][0])
            lines.append(f"| peer: LS pow3 (clipped) | {len(d)} | {p['pow3'][0]:.4f} / {p['pow3'][1]:.4g} | – | – | – | – | – |")
            if best != "pow3":
                lines.append(f"| peer: best = {best} | {len(d)} | {p[best][0]:.4f} / {p[best][1]:.4g} | – | – | – | – | – |")
        if sp == "all" and c == "accallA": pass
        out.write(f"\n**{c}, split {sp}**" + (" (error = median / mean RMSE over the fit=0 rows)" if c == "scaling" else " (error = median / mean abs. error at the largest n)") + "\n\n")
        out.write("| model | curves | error | cov90 | cov50 | mean 90% width | CRPS | log score |\n|---|---|---|---|---|---|---|---|\n")
        out.write("\n".join(lines) + "\n")
out.close()
print(open(sys.argv[1]).read())
