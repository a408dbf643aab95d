import json, sys, score, numpy as np, pandas as pd
cfg, disc, corpus = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
f = score.load(cfg, corpus)
df = score.evaluate(f, disc)
df["sig"] = [np.median(t["sigma"]) for t in f]; df["rms_last"] = [t["rms_last"] for t in f]
df["bias"] = [np.mean(np.median(t["lat"],0) - t["y_test"]) for t in f]
df["test_sd"] = [np.std(np.diff(t["y_test"]))/np.sqrt(2) for t in f]
if corpus == "scaling": df["M4"] = score.M4.loc[df.curve, "M4_rmse"].values
pd.set_option("display.width", 250)
print(df.drop(columns=["lpd"]).round(4).to_string())
