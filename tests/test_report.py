"""The one-file HTML report: what it says, that it needs nothing outside the file, that it is written
atomically, and that a real headless Chromium draws it with no console errors."""

from __future__ import annotations

import base64
import html
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from chromium import Browser, find_chromium, page_url
from typer.testing import CliRunner

import curvecast as cc
from curvecast.answers import Question, answers, num
from curvecast.cli import app
from curvecast.errors import CurvecastError
from curvecast.formats import nice, pct
from curvecast.formats import size as count

runner = CliRunner()
QUESTION = {"target": 0.5, "at": [100_000], "cost_per_sample": 0.05}
NO_CHROMIUM = (
    "no headless Chromium on this machine: install Debian's chromium (apt-get install -y chromium; "
    ".ci/run does it) or point CURVECAST_CHROMIUM at a Chromium binary"
)


def run(*args: str | Path):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def report(coco_fit, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "coco.html"
    return cc.write_report(coco_fit, path, **QUESTION, metric="mAP", source="coco.csv")


class Page(HTMLParser):
    """Every tag with its attributes, the text, and the tags still open at the end."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.open: list[str] = []
        self.feed(text)

    VOID = {"meta", "link", "br", "img", "input", "hr", "path", "use", "rect", "circle", "stop"}

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in self.open:
            while self.open.pop() != tag:
                pass

    def handle_data(self, data):
        self.text.append(data)

    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


# -- words and numbers: exact, no sampling -----------------------------------------------------
def test_number_formats():
    assert (nice(12_345), nice(0.0123456, 3), nice(0.0)) == (12_000, 0.0123, 0.0)
    assert (num(0.37649), num(1234.6), num(0.001234)) == ("0.376", "1,235", "0.00123")
    assert (num(-0.0123, sign=True), num(0.0213, sign=True), num(0.0)) == ("-0.0123", "+0.0213", "0.00")
    assert (count(61_234), count(61_234, words=True), count(np.inf)) == ("61,234", "61,200", "never")
    assert (pct(0.004), pct(0.9975), pct(1.0), pct(0.0), pct(0.26)) == ("< 1%", "> 99%", "100%", "0%", "26%")


@pytest.mark.parametrize(
    ("q", "match"),
    [
        (Question(prob=1.0), "--prob must lie strictly between 0 and 1"),
        (Question(at=(0.0,)), "sizes n must be finite numbers > 0"),
        (Question(step=-5), "--step must be a number > 0"),
        (Question(max_n=float("nan")), "--max-n must be a number > 0"),
        (Question(cost_per_sample=-1), "--cost-per-sample must be a number >= 0"),
    ],
)
def test_bad_questions_are_refused(q, match):
    with pytest.raises(CurvecastError, match=re.escape(match)):
        q.check()


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["-o", "{tmp}/r.pdf"], "must end in .html"),
        (["-o", "{tmp}/missing/r.html"], "does not exist"),
        (["-o", "{data}"], "must end in .html"),
        (["-o", "{tmp}/r.html", "--prob", "1.5"], "--prob must lie strictly between 0 and 1"),
        (["-o", "{tmp}/r.html", "--at", "-3"], "sizes n must be finite numbers > 0"),
        (["-o", "{tmp}/r.html", "--target", "2"], "outside the metric's bounds"),
    ],
)
def test_cli_report_refuses_bad_input_before_sampling(args, match, small_csv, tmp_path):
    r = run("report", small_csv, *(a.format(tmp=tmp_path, data=small_csv) for a in args))
    assert r.exit_code == 2, r.output
    assert match in " ".join(r.output.split()) and "Traceback" not in r.output
    assert list(tmp_path.iterdir()) == []  # nothing written


# -- the report of a real fit ----------------------------------------------------------------
@pytest.mark.sampling
def test_answers_are_the_forecasts_own(coco_fit):
    a = answers(coco_fit, Question(target=0.5, at=(100_000.0, 200_000.0), step=10_000, cost_per_sample=0.05))
    assert [r["p_reach"] for r in a["at"]] == coco_fit.prob(0.5, [100_000, 200_000]).tolist()
    pred = coco_fit.predict([100_000, 200_000], interval=0.9)
    assert [r["median"] for r in a["at"]] == pred["median"].tolist()
    assert a["need"] == coco_fit.need(0.5, prob=0.8, interval=0.9, cost_per_sample=0.05)
    assert [r["step"] for r in a["next"]] == [10_000, 20_000, 50_000, 100_000]
    assert a["next"][0]["mean"] == coco_fit.gain(10_000)["mean"]
    assert a["next"][1]["cost"] == pytest.approx(20_000 * 0.05)
    default = answers(coco_fit, Question())
    assert [r["n"] for r in default["at"]] == [24_000, 120_000]  # 2x and 10x the largest n (11,829), rounded
    assert default["need"] is None and "p_reach" not in default["at"][0]


@pytest.mark.sampling
def test_report_says_the_answers_in_words(report, coco_fit):
    page = Page(report.read_text())
    text = page.words()
    p = float(coco_fit.prob(0.5, [100_000])[0])
    assert f"At 100,000 samples, P(mAP ≥ 0.500) = {pct(p)}" in text
    need = coco_fit.need(0.5, prob=0.8, cost_per_sample=0.05)
    if np.isfinite(need["n_needed"]):
        assert f"takes about {count(need['n_needed'], True)} samples in all" in text
    else:
        assert "not reached with 80% probability at any size" in text
    g = coco_fit.gain(nice(11_829 * 0.25))
    assert f"improve mAP by {num(g['mean'], sign=True)} on average" in text
    assert re.findall(r"<h2>(.*?)</h2>", report.read_text()) == [
        "The question and the answers", "Forecast", "What the next data buy", "Data", "Model and assumptions",
        "Diagnostics",
    ]  # fmt: skip
    ids = {a.get("id") for _, a in page.tags}
    assert {"answers", "forecast", "next", "data", "model", "diagnostics", "fig-fan", "fig-reach"} <= ids
    for c in coco_fit.components:  # the model: each family's formula and priors
        assert c.family.formula in text
        for k, prior in c.priors.items():
            assert prior.describe() in html.unescape(report.read_text()), k
    rows = [a for tag, a in page.tags if tag == "tr"]
    assert len(rows) >= coco_fit.data.n.size  # the data table holds every measurement
    assert "11,829" in text and "0.3760" in text
    assert page.open == []  # every element closed


@pytest.mark.sampling
def test_report_is_self_contained(report):
    text = report.read_text()
    page = Page(text)
    tags = {tag for tag, _ in page.tags}
    assert "script" not in tags and "iframe" not in tags and "img" not in tags and "object" not in tags
    links = [a for tag, a in page.tags if tag == "link"]
    assert links == [{"rel": "icon", "href": "data:,"}]  # no favicon request either
    for tag, attrs in page.tags:
        for key in ("src", "href", "xlink:href", "action", "srcset", "poster"):
            value = attrs.get(key)
            assert value is None or value.startswith(("#", "data:")), (tag, key, value)
    assert not re.search(r"@import|@font-face", text)
    assert {u[:1] for u in re.findall(r"url\(\s*['\"]?(.)", text)} <= {"#"}  # only the SVG's own clip paths
    # the only URLs are XML namespace names of the inline SVG (never fetched)
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert text.count("<svg") == 2 and text.startswith("<!DOCTYPE html>")


@pytest.mark.sampling
def test_report_without_target_has_no_reach_parts(coco_fit, tmp_path):
    path = cc.write_report(coco_fit, tmp_path / "plain.html")
    text = path.read_text()
    assert text.count("<svg") == 1 and 'id="fig-reach"' not in text and "P(reach" not in text
    assert "What will the metric be at 24,000 and 120,000 samples" in Page(text).words()


@pytest.mark.sampling
def test_report_is_written_atomically(coco_fit, tmp_path):
    path = tmp_path / "r.html"
    path.write_text("the previous report")
    with pytest.raises(CurvecastError, match="outside the metric's bounds"):
        cc.write_report(coco_fit, path, target=1.5)
    assert path.read_text() == "the previous report" and [p.name for p in tmp_path.iterdir()] == ["r.html"]
    with pytest.raises(CurvecastError, match="does not exist"):
        cc.write_report(coco_fit, tmp_path / "no" / "r.html")
    cc.write_report(coco_fit, path, target=0.5)
    assert path.read_text().startswith("<!DOCTYPE html>") and [p.name for p in tmp_path.iterdir()] == ["r.html"]


@pytest.mark.sampling
def test_cli_report_on_a_saved_fit(coco_nc, tmp_path):
    out = tmp_path / "coco.html"
    r = run("report", coco_nc, "-o", out, "--target", "0.5", "--at", "100000", "--cost-per-sample", "0.05",
            "--step", "10000")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert f"wrote {out}" in r.output
    text = Page(out.read_text()).words()
    assert "The next 10,000 samples (to 21,829)" in text and str(coco_nc) in text


# -- a real browser -------------------------------------------------------------------------------
#: each figure's size, its number of SVG paths, and where it is on the page
FIGURES = """[...document.querySelectorAll('figure')].map(f => {
  const s = f.querySelector('svg'), r = s.getBoundingClientRect();
  return {id: f.id, width: r.width, height: r.height, x: r.x + scrollX, y: r.y + scrollY,
          paths: s.querySelectorAll('path').length, visible: getComputedStyle(s).visibility};
})"""


def _pixels(png: bytes) -> np.ndarray:
    import matplotlib.image

    return np.asarray(matplotlib.image.imread(io.BytesIO(png), format="png"))[..., :3]


def _near(img: np.ndarray, rgb: tuple[int, int, int], tol: float = 0.1) -> int:
    return int(np.sum(np.all(np.abs(img - np.array(rgb) / 255) < tol, axis=-1)))


@pytest.mark.sampling
def test_report_renders_in_headless_chromium(report, tmp_path):
    binary = find_chromium()
    if binary is None:
        pytest.skip(NO_CHROMIUM)
    with Browser(binary) as b:
        b.open(page_url(report))
        assert b.errors() == []  # no console errors, exceptions or failed loads
        assert b.requests() == [page_url(report)]  # the page asked for nothing else
        assert b.evaluate("document.title") == "How much more data? COCO_ssd_resnet101_v1_fpn"
        figures = b.evaluate(FIGURES)
        assert [f["id"] for f in figures] == ["fig-fan", "fig-reach"]
        colours = {"fig-fan": (31, 119, 180), "fig-reach": (214, 39, 40)}  # the bands / the P(reach) line
        for f in figures:
            assert f["width"] > 400 and f["height"] > 150 and f["paths"] > 20 and f["visible"] == "visible", f
            img = _pixels(b.screenshot({"x": f["x"], "y": f["y"], "width": f["width"], "height": f["height"]}))
            ink = np.mean(np.any(img < 0.9, axis=-1))
            assert ink > 0.03, (f["id"], ink)  # drawn: axes, text, curves
            assert _near(img, colours[f["id"]]) > 200, f["id"]  # and in the plot's own colours
        page = _pixels(b.screenshot(full_page=True))
        assert page.shape[0] > 2000 and page.shape[1] == 1000
        pdf = base64.b64decode(b.call("Page.printToPDF", session=True, printBackground=True)["data"])
        assert pdf.startswith(b"%PDF") and len(pdf) > 20_000  # printable
        assert b.errors() == []


def test_a_target_most_draws_never_reach_reads_as_such():
    from curvecast.answers import _need_sentence

    inf = float("inf")
    need = {"target": 0.99, "n_needed": inf, "interval": [inf, inf], "n_median": inf, "interval_level": 0.9,
            "p_never": 0.995, "p_reached_now": 0.0}  # fmt: skip
    text = _need_sentence(need, "accuracy", "≥", 0.8, 1000, "samples")
    assert "P(never reached) is > 99%; most draws of the curve never cross 0.990." in text
    assert "median of never" not in text and "= >" not in text
