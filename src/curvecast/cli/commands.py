"""Commands on one forecast: ``fit``, and the questions put to a fit (``prob``, ``need``, ..., ``report``)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import curvecast as cc
from curvecast import console, tables
from curvecast.cli import render
from curvecast.cli.options import with_fit_options
from curvecast.errors import CurvecastError
from curvecast.fit_options import SAMPLER, FitOptions, is_fit
from curvecast.outputs import check_output, pooled_paths
from curvecast.results import check_query
from curvecast.tracking import describe
from curvecast.units import Costs, costed_gain, costed_need

if TYPE_CHECKING:
    from curvecast.data import CurveData
    from curvecast.results import Forecast


def forecast(source: Path, o: FitOptions, quiet: bool, check: Callable[[Any], None] = lambda d: None,
             data: CurveData | None = None) -> Forecast:  # fmt: skip
    """A saved fit (.nc), or a fit of the curve ``o`` selects from a data file (``check``-ed before sampling;
    ``data``: that curve, already read); how the data were read, and what the fit adds, go to stderr."""
    if is_fit(source):
        return o.saved_fit(source)
    data = curve_data(o, source) if data is None else data
    check(data)
    with console.progress(not quiet, f"Sampling {o.model} for {data.name} ({o.chains} chains x {o.draws} draws)..."):
        f = cc.fit(data=data, **o.fit_kwargs())
    console.notes(f.data.notes[len(data.notes) :])  # e.g. prior-file sections left unused
    return f


def curve_data(o: FitOptions, source: Path) -> CurveData:
    d = o.curve_data(source)
    console.notes(d.notes)
    return d


def fittable(o: FitOptions, source: Path, limit: int | None = None) -> tuple[list[CurveData], list[dict[str, str]]]:
    """Every curve of a data file that can be fitted, and an error row for each other one."""
    curves = o.read(source)
    console.notes(curves.notes)
    return curves.fittable(limit, **o.meta())


def log(f: Forecast, experiment: str, where: str, tracking_uri: str | None, own: dict[str, Any]) -> str:
    """Log ``f``'s answers to the question its command's options ``own`` ask to MLflow; returns the run id."""
    from curvecast.answers import Question
    from curvecast.tracking_log import log_forecast

    q = {k.name: own[k.name] for k in fields(Question) if own.get(k.name) is not None}
    run_id = log_forecast(f, experiment, tracking_uri=tracking_uri, source=where, **q)
    console.note(f"logged the forecast to MLflow experiment {experiment!r}: run {run_id}")
    return run_id


def query(
    view: Callable[..., list[tables.Block]], precheck: Callable[..., Any] = lambda **own: None, writes: tuple = ()
) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., None]]:
    """A command on SOURCE's forecast ``f``: ``ask(f, **its options)`` answers, ``view`` lays it out (or --json).
    Before any sampling ``precheck(**its options)`` refuses bad options, and so does the check of the ``output``
    of a command that ``writes`` files with these suffixes. An ``ask`` with a keyword-only ``where`` gets the
    data's source in one line."""

    def decorate(ask: Callable[..., dict[str, Any]]) -> Callable[..., None]:
        sig = inspect.signature(ask, locals={"Forecast": None}, eval_str=True)
        takes_where = "where" in sig.parameters

        @functools.wraps(ask)
        def command(o: FitOptions, source: Path, as_json: bool, strict: bool, log_to_mlflow: bool, **own: Any) -> None:
            if writes:
                check_output(own["output"], inputs=(source,), suffixes=writes)
            check = check_query(**own)
            precheck(**own)
            if log_to_mlflow:
                from curvecast.tracking_log import destination_of

                experiment = destination_of(source)
            f, where = forecast(source, o, as_json, check), describe(source, o.x, o.y, o.curve_by)
            r = ask(f, **own, **({"where": where} if takes_where else {}))
            if log_to_mlflow:
                r["mlflow_run_id"] = log(f, experiment, where, o.tracking_uri, own)
            render.answer(f, r, view, as_json, strict)

        kw, flag = inspect.Parameter.KEYWORD_ONLY, functools.partial(inspect.Parameter, default=False, annotation=bool)
        own = [q.replace(kind=kw) for q in list(sig.parameters.values())[1:] if q.name != "where"]
        flags = [flag(name, kw) for name in ("as_json", "strict", "log_to_mlflow")]
        params = [inspect.Parameter("o", kw), inspect.Parameter("source", kw, annotation=Path), *own, *flags]
        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        return with_fit_options()(command)

    return decorate


@with_fit_options()
def fit(
    o: FitOptions, data: Path, output: Path, pool: bool = False, as_json: bool = False, strict: bool = False
) -> None:
    """Fit a curve and save the posterior to a netCDF file (--pool: every curve, one file each)."""
    check_output(output, inputs=(data,), suffixes=(".nc",))
    if not pool:
        f = forecast(data, o, as_json)
        cc.save(f, output)
        return render.answer(f, {"output": str(output), "summary": f.summary()}, tables.fit, as_json, strict)
    if o.curve is not None:
        raise CurvecastError("--curve picks one curve, but --pool fits every curve in the file; drop --curve")
    curves, bad = fittable(o, data)
    if bad:
        raise CurvecastError(f"cannot pool: {bad[0]['error']}" + (f" (and {len(bad) - 1} more)" if bad[1:] else ""))
    paths = pooled_paths(output, [c.name for c in curves], inputs=(data,))
    with console.progress(not as_json, f"Sampling a pooled {o.model} model of {len(curves)} curves..."):
        pf = cc.fit_pooled(curves, **o.fit_kwargs())
    read = {c.name: len(c.notes) for c in curves}  # what the fit adds (prior-file sections left unused), once
    console.notes(dict.fromkeys(n for name, f in pf.fits.items() for n in f.data.notes[read[name] :]))
    r: dict[str, Any] = {"family": pf.family.name, "hyper": pf.hyper_summary(), "curves": {}}
    for name, f in pf.fits.items():
        cc.save(f, paths[name])
        r["curves"][name] = {"output": str(paths[name]), "summary": f.summary()}
    r["diagnostics"] = pf.diagnostics.to_dict()
    render.emit_json(r) if as_json else console.show(tables.pooled(pf, r))
    render.check_diagnostics(pf.diagnostics, strict, as_json)


@query(tables.prob)
def prob(f: Forecast, target: float, at: list[float], measured: bool = False) -> dict[str, Any]:
    """P(metric >= TARGET at N) (<= for decreasing metrics), for each --at N."""
    p = f.prob(target, at, measured=measured).tolist()
    return {"target": target, "at": at, "measured": measured, "probability": p if p[1:] else p[0], "bounded": f.bounded}


def check_costs(cost_per_sample: float | None = None, fixed_cost: float | None = None, **_: Any) -> None:
    Costs.of(cost_per_sample, fixed_cost)


@query(tables.need, precheck=check_costs)
def need(
    f: Forecast, target: float, prob: float = 0.8, cost_per_sample: float | None = None, fixed_cost: float | None = None
) -> dict[str, Any]:
    """How much data reaches TARGET with probability --prob, the chance it is never reached, and its budget."""
    return costed_need(f, target, prob, Costs.of(cost_per_sample, fixed_cost))


@query(tables.predict)
def predict(f: Forecast, at: list[float], interval: float = 0.9) -> dict[str, Any]:
    """Median and interval of the metric at each N, for the curve and for a new measurement."""
    return {"interval": interval, "predictions": f.predict(at, interval=interval).to_dict("records")}


@query(tables.gain, precheck=check_costs)
def gain(
    f: Forecast, step: float, from_n: float | None = None, cost_per_sample: float | None = None,
    fixed_cost: float | None = None,
) -> dict[str, Any]:  # fmt: skip
    """What the next DN samples buy: expected improvement, its band, its rate and cost per unit gained."""
    return costed_gain(f, step, from_n=from_n, costs=Costs.of(cost_per_sample, fixed_cost))


def wrote(f: Forecast, r: dict[str, Any]) -> list[tables.Block]:
    return [f"wrote {r['output']}"]


@query(wrote, writes=(".png", ".svg"))
def plot(f: Forecast, output: Path, target: float | None = None, max_n: float | None = None) -> dict[str, Any]:
    """Fan chart of the forecast (and P(reach target) against n)."""
    cc.plot_forecast(f, output, target=target, max_n=max_n)
    return {"output": str(output)}


@query(wrote, precheck=check_costs, writes=(".html", ".htm"))
def report(
    f: Forecast, output: Path, target: float | None = None, at: list[float] | None = None, prob: float = 0.8,
    cost_per_sample: float | None = None, step: float | None = None, max_n: float | None = None, *, where: str = "",
) -> dict[str, Any]:  # fmt: skip
    """One self-contained HTML file: answers in words, fan chart, P(reach), next data, data, model, diagnostics."""
    from curvecast.report import write_report

    write_report(
        f, output, target=target, at=at or None, prob=prob, step=step, cost_per_sample=cost_per_sample,
        max_n=max_n, source=where,
    )  # fmt: skip
    return {"output": str(output)}


@with_fit_options(only=SAMPLER)
def demo(o: FitOptions, output: Path = Path("curvecast-demo.png")) -> None:
    """The whole story on the bundled COCO curve: P(mAP >= 0.5 at 100k), images needed, next 10k."""
    name, held_out = "COCO_ssd_resnet101_v1_fpn", 118_287
    curves = cc.load_curves(cc.bundled_seed_path())
    n, y = curves[name]
    with console.progress(True, "Sampling..."):
        f = cc.fit(data=curves.curve(name, x_unit="images", y_unit="mAP").subset(11_829), **o.fit_kwargs())
    r = {"prob": float(f.prob(0.5, [100_000])[0]), "need": f.need(0.5, prob=0.8), "gain": f.gain(10_000)}
    cc.plot_forecast(f, output, target=0.5, max_n=300_000)
    r |= {"truth": y[n == held_out][0], "median": f.predict([held_out])["median"][0]}
    console.show([*tables.demo(f, r), f"wrote {output}"])
    render.check_diagnostics(f.diagnostics, False, False)
