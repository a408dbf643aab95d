import score, numpy as np, pandas as pd, json, sys
disc = json.loads(sys.argv[2]); cfg=sys.argv[1]
for c in ["acc005","acc010"]:
    f = score.load(cfg, c); df = score.evaluate(f, disc)
    df["m"] = [t["m"] for t in f]; df["rl"]=[t["rms_last"] for t in f]
    print(c); print(df.groupby(pd.cut(df.m,[0,3,4,5,6,8,40])).agg(n=("cov90","size"), cov90=("cov90","mean"), cov50=("cov50","mean"), med=("err_final","median"), w=("width90","mean"), rl=("rl","median")).round(3))
