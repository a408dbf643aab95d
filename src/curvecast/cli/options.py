"""``--json``, ``--strict`` and the shared fitting options, :class:`FitOptions`, put in by :func:`with_fit_options`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_type_hints

import typer

if TYPE_CHECKING:
    from curvecast.data import CurveData, Curves

PANEL, SAMPLER = "Fitting options", ("draws", "chains", "seed")
Json = Annotated[bool, typer.Option("--json", help="Write one JSON object on stdout and nothing else.")]
Strict = Annotated[bool, typer.Option("--strict", help="Exit with code 3 when diagnostics fail.")]


def _opt(*decls: str, help: str) -> Any:
    return typer.Option(*decls, help=help, rich_help_panel=PANEL)


@dataclass(frozen=True)
class FitOptions:
    """What every fitting command shares; each field is one flag, grouped under "Fitting options" in --help."""

    curve: Annotated[str | None, _opt("--curve", help="Curve name when the file holds several.")] = None
    family: Annotated[
        str | None,
        _opt(
            "--family",
            "-f",
            help="Curve family (see `curvecast families`), families joined by '+' (equal-weight mixture) or 'auto'."
            " Default: the pow3+pow4 mixture (pooled fits: pow3).",
        ),
    ] = None
    priors: Annotated[Path | None, _opt("--priors", help="TOML prior file (see models/).")] = None
    metric_min: Annotated[float | None, _opt("--metric-min", help="Lower bound of the metric.")] = None
    metric_max: Annotated[float | None, _opt("--metric-max", help="Upper bound of the metric.")] = None
    decreasing: Annotated[bool, _opt("--decreasing", help="Lower is better (loss, error, MAE).")] = False
    draws: Annotated[int, _opt("--draws", help="Posterior draws per chain.")] = 1000
    chains: Annotated[int, _opt("--chains", help="NUTS chains.")] = 4
    seed: Annotated[int, _opt("--seed", help="Random seed; same seed, same numbers.")] = 0
    x: Annotated[str | None, _opt("--x", help="Column holding n.")] = None
    y: Annotated[str | None, _opt("--y", help="Column holding the metric.")] = None
    x_unit: Annotated[str | None, _opt("--x-unit", help="What n counts, e.g. images (default: the --x column).")] = None
    y_unit: Annotated[str | None, _opt("--y-unit", help="Metric name, e.g. mAP (default: the --y column).")] = None
    curve_by: Annotated[
        str | None, _opt("--curve-by", help="Column naming each row's curve (default: curve); mlflow: params.NAME.")
    ] = None
    tracking_uri: Annotated[
        str | None, _opt("--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else MLflow's).")
    ] = None

    @property
    def model(self) -> str:
        """The model named in messages: the family given, else the default."""
        return self.family or "the default model"

    def sampler_kwargs(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in SAMPLER}

    def fit_kwargs(self, *, seed: bool = True) -> dict[str, Any]:
        """Keyword arguments of ``inference.fit`` and ``inference.fit_pooled`` (and of bulk runs' ``fit_kwargs``)."""
        kw = {"priors": self.priors, **self.sampler_kwargs()} | ({"family": self.family} if self.family else {})
        return kw if seed else {k: v for k, v in kw.items() if k != "seed"}

    def meta(self) -> dict[str, Any]:
        """What the data files do not say: the metric's direction, its bounds and the units."""
        return {"increasing": not self.decreasing, "metric_min": self.metric_min, "metric_max": self.metric_max,
                "x_unit": self.x_unit, "y_unit": self.y_unit}  # fmt: skip

    def data(self, name: str, n: Any, y: Any) -> CurveData:
        """One curve of arrays with these options' metric and units."""
        from curvecast.data import Curves

        return Curves({name: (n, y)}).curve(name, **self.meta())

    def read_kwargs(self) -> dict[str, Any]:
        """How data files (and mlflow: sources) are read: ``load_curves``' keyword arguments."""
        return {"x": self.x, "y": self.y, "curve_by": self.curve_by, "tracking_uri": self.tracking_uri}

    def read(self, path: Path) -> Curves:
        """The curves of a data file, or of ``mlflow:EXPERIMENT``'s finished runs (what was read goes to stderr)."""
        from curvecast.data import load_curves

        curves = load_curves(path, **self.read_kwargs())
        if curves.notes:  # mlflow: what was read; a file: how its columns were read
            typer.echo("\n".join(curves.notes), err=True)
        return curves

    def curve_data(self, path: Path) -> CurveData:
        """The curve that --curve selects from a data file (the only one, if it holds one)."""
        from curvecast.data import select_curve

        curves = self.read(path)
        d = curves.curve(select_curve(curves, self.curve)[0], **self.meta())
        for note in d.notes[len(curves.notes) :]:  # what the data themselves said (percentages)
            typer.echo(f"note: {note}", err=True)
        return d

    def curves(self, path: Path, limit: int | None = None) -> tuple[list[CurveData], list[dict[str, str]]]:
        """Every curve of a data file that can be fitted, and an error row for each other one."""
        return self.read(path).fittable(limit, **self.meta())


def with_fit_options(*, omit: tuple[str, ...] = (), only: tuple[str, ...] = ()) -> Callable[[Any], Any]:
    """Inject FitOptions' fields (``only`` some, or all but ``omit``) as options; the command gets one ``o``.

    Typer reads the wrapper's ``__signature__`` and ``__annotations__``: the command's parameters, then the fields."""
    hints, kind = get_type_hints(FitOptions, include_extras=True), inspect.Parameter.KEYWORD_ONLY
    picked = [f for f in fields(FitOptions) if f.name not in omit and (not only or f.name in only)]
    added = [inspect.Parameter(f.name, kind, default=f.default, annotation=hints[f.name]) for f in picked]
    chosen = [f.name for f in picked]

    def decorate(cmd: Callable[..., Any]) -> Callable[..., Any]:
        sig = inspect.signature(cmd, eval_str=True)
        own = [p.replace(kind=kind) for name, p in sig.parameters.items() if name != "o"]
        if "o" not in sig.parameters or {p.name for p in own} & set(chosen):
            raise TypeError(f"{cmd.__name__} needs a parameter 'o' and no other named like a FitOptions field")

        @functools.wraps(cmd)
        def command(**kwargs: Any) -> Any:
            return cmd(FitOptions(**{k: kwargs.pop(k) for k in chosen}), **kwargs)

        params = [*own, *added]
        command.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params} | {"return": sig.return_annotation}
        return command

    return decorate
