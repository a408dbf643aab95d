"""Side-by-side table from out/compare_*.csv.   python table.py SPLIT DISC CONFIG..."""
import sys, pandas as pd
split, disc = sys.argv[1], sys.argv[2]
rows = []
for cfg in sys.argv[3:]:
    d = pd.read_csv(f"out/compare_{cfg}.csv")
    d = d[(d.split == split) & (d.disc == disc)]
    for _, r in d.iterrows():
        e = f"{r.med_rmse:.4f}/{r.width90:.3f}" if r.corpus == "scaling" else f"{r.med_err:.4f}/{r.mean_err:.4f}"
        rows.append(dict(config=cfg, corpus=r.corpus, err=e, c90=round(r.cov90, 3), c50=round(r.cov50, 3), lpd=round(r.lpd, 3)))
t = pd.DataFrame(rows)
pd.set_option("display.width", 300)
for k in ["err", "c90", "c50", "lpd"]:
    print(f"--- {k} (split {split}, disc {disc})  [scaling err = median RMSE / mean 90% width]")
    print(t.pivot(index="config", columns="corpus", values=k).reindex(sys.argv[3:]).to_string())
