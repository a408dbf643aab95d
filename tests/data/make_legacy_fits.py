"""Write the format-1 fits in this folder (run once, with curvecast 0.1.0 at commit 6556e7d).

Kept so the files can be traced, not to be re-run: later versions must keep
loading these exact files (tests/test_persist.py checks they answer with the
numbers recorded in legacy_answers.json).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

import curvecast as cc
from curvecast.data import CurveData, bundled_seed_path, load_curves

HERE = Path(__file__).resolve().parent
KW = {"draws": 100, "tune": 300, "chains": 4, "seed": 7}


def answers(f) -> dict:
    pred = f.predict([20_000, 100_000], interval=0.9)
    return {
        "prob": [float(v) for v in f.prob(0.45, [20_000, 100_000])],
        "need": f.need(0.45, prob=0.8),
        "predict": {c: [float(v) for v in pred[c]] for c in pred.columns},
    }


def main() -> None:
    curves = load_curves(bundled_seed_path())
    warnings.simplefilter("ignore")
    out = {}
    n, y = curves["COCO_ssd_resnet101_v1_fpn"]
    coco = CurveData(n[n <= 11829], y[n <= 11829], name="COCO_ssd_resnet101_v1_fpn")
    single = cc.fit(data=coco, family="pow3", **KW)
    single.save(str(HERE / "v0.1.0_single.nc"))
    out["v0.1.0_single.nc"] = answers(single)
    auto = cc.fit(data=coco, family="auto", **KW)
    auto.save(str(HERE / "v0.1.0_averaged.nc"))
    out["v0.1.0_averaged.nc"] = answers(auto)
    from curvecast.pooling import fit_pooled

    bdd = []
    for name in ("BDD_ssd_mobilenet_v2", "BDD_ssd_resnet101_v1_fpn"):
        n, y = curves[name]
        bdd.append(CurveData(n[n <= 7000], y[n <= 7000], name=name))
    pf = fit_pooled(bdd, family="pow3", **KW)
    f = pf.fits["BDD_ssd_resnet101_v1_fpn"]
    f.save(str(HERE / "v0.1.0_pooled.nc"))
    out["v0.1.0_pooled.nc"] = answers(f)
    (HERE / "legacy_answers.json").write_text(json.dumps(out, indent=1, default=float) + "\n")
    print(json.dumps({k: v["prob"] for k, v in out.items()}), np.__version__)


if __name__ == "__main__":
    main()
