"""Every command: on one curve or saved fit, over many curves (backtest, batch), and on the prior library."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

import curvecast as cc
from curvecast import tables
from curvecast.cli import render, tracking
from curvecast.cli.options import PANEL, SAMPLER, FitOptions, Json, Strict, with_fit_options
from curvecast.errors import CurvecastError
from curvecast.outputs import atomic_write, check_output, pooled_paths
from curvecast.results import check_query
from curvecast.units import Costs, costed_gain, costed_need, relabel

if TYPE_CHECKING:
    from curvecast.data import CurveData
    from curvecast.results import Forecast

Source = Annotated[Path, typer.Argument(help="Data file (CSV, TSV, JSON lines), saved fit (.nc) or mlflow:EXPERIMENT.")]
DataFile = Annotated[Path, typer.Argument(help="Data file (CSV, TSV or JSON lines) or mlflow:EXPERIMENT.")]
Curves = Annotated[Path, typer.Argument(help="Long CSV of curves (curve, n, metric[, seed]).")]
Target = Annotated[float, typer.Option("--target", "-t", help="Metric value to reach.")]
At = Annotated[list[float], typer.Option("--at", help="Training-set size(s) n.")]
Measured = Annotated[bool, typer.Option("--measured", help="Include evaluation noise (a new measurement).")]
NeedProb = Annotated[float, typer.Option("--prob", "-p", help="Required probability of reaching it.")]
Cost = Annotated[float | None, typer.Option("--cost-per-sample", help="Cost of one more sample (costs are linear).")]
FixedCost = Annotated[float | None, typer.Option("--fixed-cost", help="Fixed cost of one training run.")]
Interval = Annotated[float, typer.Option("--interval", help="Central interval mass.")]
Step = Annotated[float, typer.Option("--step", help="Extra samples DN.")]
FromN = Annotated[float | None, typer.Option("--from", help="Start n (default: largest observed).")]
Prob = Annotated[float, typer.Option("--prob", help="Probability for n needed.")]
MaxN = Annotated[float | None, typer.Option("--max-n", help="Right end of the plot's x axis.")]
Limit = Annotated[int | None, typer.Option("--limit", help="Only the first N curves.")]


def is_fit(path: Path) -> bool:
    return path.suffix.lower() in (".nc", ".netcdf", ".h5")


def forecast(
    source: Path,
    o: FitOptions,
    quiet: bool,
    check: Callable[[Any], None] = lambda d: None,
    data: CurveData | None = None,
) -> Forecast:
    """A saved fit (.nc), or a fit of the curve ``o`` selects from a data file (``check``-ed before sampling;
    ``data``: that curve, already read)."""
    if is_fit(source):
        if o != FitOptions(tracking_uri=o.tracking_uri, x_unit=o.x_unit, y_unit=o.y_unit):  # these apply to fits too
            render.error(f"the fitting options are ignored: {source} is a saved fit", render.WARNING)
        return relabel(cc.load(source), o.x_unit, o.y_unit)
    data = o.curve_data(source) if data is None else data
    check(data)
    with render.progress(not quiet, f"Sampling {o.model} for {data.name} ({o.chains} chains x {o.draws} draws)..."):
        return cc.fit(data=data, **o.fit_kwargs())


def query(
    view: Callable[..., list[tables.Block]],
    precheck: Callable[..., None] = lambda **own: None,
    writes: tuple[str, ...] = (),
) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., None]]:
    """A command on SOURCE's forecast ``f``: ``ask(f, **its options)`` answers, ``view`` lays it out (or --json);
    ``precheck(**its options)`` refuses bad options before any sampling, and so does the check of the
    ``output`` option of a command that ``writes`` a file with one of these suffixes. An ``ask`` with a
    keyword-only ``where`` gets the data's source in one line (it is not an option)."""

    def decorate(ask: Callable[..., dict[str, Any]]) -> Callable[..., None]:
        sig = inspect.signature(ask, locals={"Forecast": None}, eval_str=True)
        where = "where" in sig.parameters

        @functools.wraps(ask)
        def command(o: FitOptions, source: Path, as_json: bool, strict: bool, log_to_mlflow: bool, **own: Any) -> None:
            if writes:
                check_output(own["output"], inputs=(source,), suffixes=writes)
            check = check_query(**own)
            precheck(**own)
            experiment = tracking.destination(source) if log_to_mlflow else None  # checked before sampling
            f = forecast(source, o, as_json, check)
            r = ask(f, **own, **({"where": tracking.describe(source, o)} if where else {}))
            if experiment is not None:
                r["mlflow_run_id"] = tracking.log(f, experiment, source, o, own)
            render.answer(f, r, view, as_json, strict)

        kw, p = inspect.Parameter.KEYWORD_ONLY, inspect.Parameter
        own = [q for q in list(sig.parameters.values())[1:] if q.name != "where"]
        flags = [p("as_json", kw, default=False, annotation=Json), p("strict", kw, default=False, annotation=Strict)]
        flags.append(p("log_to_mlflow", kw, default=False, annotation=tracking.LogToMlflow))
        params = [p("o", kw), p("source", kw, annotation=Source), *(q.replace(kind=kw) for q in own), *flags]
        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        return with_fit_options()(command)

    return decorate


@with_fit_options()
def fit(
    o: FitOptions,
    data: DataFile,
    output: Annotated[Path, typer.Option("-o", "--output", help="Fit file (.nc); --pool: OUTPUT-STEM.CURVE.nc.")],
    pool: Annotated[bool, typer.Option("--pool", help="Fit every curve jointly with partial pooling.")] = False,
    as_json: Json = False,
    strict: Strict = False,
) -> None:
    """Fit a curve and save the posterior to a netCDF file (--pool: every curve, one file each)."""
    check_output(output, inputs=(data,), suffixes=(".nc",))
    if not pool:
        f = forecast(data, o, as_json)
        cc.save(f, output)
        return render.answer(f, {"output": str(output), "summary": f.summary()}, tables.fit, as_json, strict)
    if o.curve is not None:
        raise CurvecastError("--curve picks one curve, but --pool fits every curve in the file; drop --curve")
    curves, bad = o.curves(data)
    if bad:
        raise CurvecastError(
            f"cannot pool: {bad[0]['error']}" + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else "")
        )
    paths = pooled_paths(output, [c.name for c in curves], inputs=(data,))
    with render.progress(not as_json, f"Sampling a pooled {o.model} model of {len(curves)} curves..."):
        pf = cc.fit_pooled(curves, **o.fit_kwargs())
    r: dict[str, Any] = {"family": pf.family.name, "hyper": pf.hyper_summary(), "curves": {}}
    for name, f in pf.fits.items():
        cc.save(f, paths[name])
        r["curves"][name] = {"output": str(paths[name]), "summary": f.summary()}
    r["diagnostics"] = pf.diagnostics.to_dict()
    render.emit_json(r) if as_json else render.show(tables.pooled(pf, r))
    render.check_diagnostics(pf.diagnostics, strict, as_json)


@query(tables.prob)
def prob(f: Forecast, target: Target, at: At, measured: Measured = False) -> dict[str, Any]:
    """P(metric >= TARGET at N) (<= for decreasing metrics), for each --at N."""
    p = f.prob(target, at, measured=measured).tolist()
    r = {"target": target, "at": at, "measured": measured, "probability": p if len(p) > 1 else p[0]}
    return r | {"bounded": f.bounded}


def check_costs(cost_per_sample: float | None = None, fixed_cost: float | None = None, **_: Any) -> None:
    Costs.of(cost_per_sample, fixed_cost)


@query(tables.need, precheck=check_costs)
def need(
    f: Forecast, target: Target, prob_: NeedProb = 0.8, cost_per_sample: Cost = None, fixed_cost: FixedCost = None
) -> dict[str, Any]:
    """How much data reaches TARGET with probability --prob, the chance it is never reached, and its budget."""
    return costed_need(f, target, prob_, Costs.of(cost_per_sample, fixed_cost))


@query(tables.predict)
def predict(f: Forecast, at: At, interval: Interval = 0.9) -> dict[str, Any]:
    """Median and interval of the metric at each N, for the curve and for a new measurement."""
    return {"interval": interval, "predictions": f.predict(at, interval=interval).to_dict("records")}


@query(tables.gain, precheck=check_costs)
def gain(
    f: Forecast, step: Step, from_n: FromN = None, cost_per_sample: Cost = None, fixed_cost: FixedCost = None
) -> dict[str, Any]:
    """What the next DN samples buy: expected improvement, its band, its rate and cost per unit gained."""
    return costed_gain(f, step, from_n=from_n, costs=Costs.of(cost_per_sample, fixed_cost))


def wrote(f: Forecast, r: dict[str, Any]) -> list[tables.Block]:
    return [f"wrote {r['output']}"]


@query(wrote, writes=(".png", ".svg"))
def plot(
    f: Forecast,
    output: Annotated[Path, typer.Option("-o", "--output", help="Image file (.png or .svg).")],
    target: Annotated[float | None, typer.Option("--target", "-t", help="Target line and P(reach) panel.")] = None,
    max_n: MaxN = None,
) -> dict[str, Any]:
    """Fan chart of the forecast (and P(reach target) against n)."""
    cc.plot_forecast(f, output, target=target, max_n=max_n)
    return {"output": str(output)}


def families(as_json: Json = False) -> None:
    """List the registered curve families with their formulas."""
    from curvecast.families import REGISTRY

    fams = [{"name": k, "formula": f.formula, "bounded": f.bounded, "params": [*f.params]} for k, f in REGISTRY.items()]
    render.emit_json({"families": fams}) if as_json else render.show(tables.families(fams))


@with_fit_options(only=SAMPLER)
def demo(
    o: FitOptions,
    output: Annotated[Path, typer.Option("-o", "--output", help="Plot file.")] = Path("curvecast-demo.png"),
) -> None:
    """The whole story on the bundled COCO curve: P(mAP >= 0.5 at 100k), images needed, next 10k."""
    name, held_out = "COCO_ssd_resnet101_v1_fpn", 118_287
    n, y = cc.load_curves(cc.bundled_seed_path())[name]
    with render.progress(True, "Sampling..."):
        f = cc.fit(data=o.data(name, n, y).subset(11_829).with_units("images", "mAP"), **o.fit_kwargs())
    r = {"prob": float(f.prob(0.5, [100_000])[0]), "need": f.need(0.5, prob=0.8), "gain": f.gain(10_000)}
    render.show(tables.demo(f, r | {"truth": y[n == held_out][0], "median": f.predict([held_out])["median"][0]}))
    cc.plot_forecast(f, output, target=0.5, max_n=300_000)
    typer.echo(f"wrote {output}")
    render.check_diagnostics(f.diagnostics, False, False)


def priors_derive(
    fit_path: Annotated[Path, typer.Argument(help="A saved fit (.nc) of an earlier project.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="TOML file to write (e.g. models/coco.toml).")],
    widen: Annotated[float, typer.Option("--widen", help="Widening factor for the marginals (>= 1).")] = 2.0,
    keep_level: Annotated[bool, typer.Option("--keep-level", help="Also transfer y_ref and room.")] = False,
) -> None:
    """Turn a fitted project's posterior into a prior file for the next project."""
    from curvecast.transfer import derive_header

    check_output(output, inputs=(fit_path,), suffixes=(".toml",))
    f = cc.load(fit_path)
    render.check_diagnostics(f.diagnostics, False, False)  # a prior inherits the fit's sampling error: say so
    text = cc.priors_to_toml(cc.derive_priors(f, widen, keep_level), derive_header(f, widen, keep_level))
    atomic_write(output, lambda tmp: Path(tmp).write_text(text))
    typer.echo(f"{text}wrote {output}")


@with_fit_options(omit=("priors",))
def priors_compare(
    o: FitOptions,
    data: DataFile,
    prior_files: Annotated[
        list[str], typer.Option("--priors", help="Prior file (repeat); 'default' = built-in.", rich_help_panel=PANEL)
    ],
    at: Annotated[float, typer.Option("--at", help="n at which to compare the bands.")] = 100_000,
    target: Annotated[float | None, typer.Option("--target", "-t", help="Target for P(reach) and n needed.")] = None,
    prob_: Prob = 0.8,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Faceted plot (.png/.svg).")] = None,
    max_n: MaxN = None,
    as_json: Json = False,
) -> None:
    """How much of the forecast is the prior? Prior and posterior bands and answers per prior set."""
    from curvecast.prior_sets import known_parameters
    from curvecast.priors import load_prior_file
    from curvecast.transfer import plot_compare

    if output is not None:
        check_output(output, inputs=(data,), suffixes=(".png", ".svg"))
    cd = o.curve_data(data)
    if target is not None:
        cd.check_target(target)
    sets = {p: None if p == "default" else load_prior_file(p, known_parameters()) for p in prior_files}
    with render.progress(not as_json, "Sampling each prior set..."):
        kw = {"family": o.family, "target": target, "at": at, "prob": prob_, "fit_kwargs": o.sampler_kwargs()}
        rows, fits = cc.compare_priors(cd, sets, **kw)
    if output is not None:
        plot_compare(fits, output, target, max_n)
    family = next(iter(fits.values()))[1].label
    r = {
        "curve": cd.name,
        "family": family,
        "rows": rows,
        "x_unit": cd.x_unit,
        "at": at,
        "target": target,
        "prob": prob_,
    }
    if as_json:
        return render.emit_json(r)
    render.show(tables.prior_sets(r))
    if output is not None:
        typer.echo(f"wrote {output}")


def priors_default(
    output: Annotated[Path | None, typer.Option("-o", "--output", help="TOML file to write (default: stdout).")] = None,
) -> None:
    """Write the built-in priors of every family, and the noise priors, as TOML (models/default.toml)."""
    from curvecast.prior_sets import default_toml

    if output is None:
        return typer.echo(default_toml(), nl=False)
    check_output(output, suffixes=(".toml",))
    atomic_write(output, lambda tmp: Path(tmp).write_text(default_toml()))
    typer.echo(f"wrote {output}")
