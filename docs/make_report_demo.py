"""Write the demo report (docs/report-demo.html) and its screenshot (docs/report-demo.png).

    python docs/make_report_demo.py

The demo is the README's: SSD ResNet-101 on COCO, mAP measured on 1 %, 2.5 %, 5 % and
10 % of train2017 (the bundled seed curve), asked for mAP 0.5 at 100k images at $0.05 an
image, fitted with the default model and sampler settings. The screenshot is taken in
headless Chromium (Debian's chromium), driven as the browser test drives it
(tests/chromium.py), 1000 pixels wide.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent / "tests"))

from chromium import Browser, find_chromium, page_url  # noqa: E402

import curvecast as cc  # noqa: E402

COCO = "COCO_ssd_resnet101_v1_fpn"
#: the screenshot's height in CSS pixels: the answers and both plots
HEIGHT = 1900


def main() -> None:
    n, y = cc.load_curves(cc.bundled_seed_path())[COCO]
    data = cc.CurveData(n, y, name=COCO, x_unit="images", y_unit="mAP").subset(11_829)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = cc.fit(data=data, seed=0)
    source = "the bundled seed curve (SSD ResNet-101 on COCO, mAP at 1-10 % of train2017)"
    html = cc.write_report(fit, DOCS / "report-demo.html", target=0.5, at=[100_000], cost_per_sample=0.05,
                           step=10_000, source=source)  # fmt: skip
    binary = find_chromium()
    if binary is None:
        raise SystemExit("no Chromium: apt-get install -y chromium")
    with Browser(binary) as b:
        b.open(page_url(html))
        if b.errors():
            raise SystemExit(f"the page reported errors: {b.errors()}")
        png = b.screenshot({"x": 0, "y": 0, "width": 1000, "height": HEIGHT})
    (DOCS / "report-demo.png").write_bytes(png)
    print(f"wrote {html} and {DOCS / 'report-demo.png'}")


if __name__ == "__main__":
    main()
