import score, numpy as np
for cfg in ["pow3_het", "ens34m6", "pow3"]:
    f = score.load(cfg, "scaling")
    b = np.array([np.mean(np.median(t["lat"], 0) - t["y_test"]) for t in f])
    print(cfg, "curves with mean signed error < 0 (optimistic):", int((b < 0).sum()), "of", len(b), "median bias", np.median(b).round(4))
