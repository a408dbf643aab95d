"""How to read a data file and fit its curves, as one value: :class:`FitOptions`.

Every fitting command of the CLI takes one (each field is a flag ``--name-with-dashes``), and so can a
notebook: ``o = FitOptions(decreasing=True, family="pow3"); f = o.forecast("loss.csv")``.
A saved fit (``.nc``) answers as it was fitted: options that would need a new fit are refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curvecast.errors import CurvecastError
from curvecast.outputs import FIT_SUFFIXES

if TYPE_CHECKING:
    from curvecast.data import CurveData, Curves
    from curvecast.results import Forecast

SAMPLER = ("draws", "chains", "seed")
FOR_SAVED_FITS = ("tracking_uri", "x_unit", "y_unit")  # the options a saved fit takes too


def flag(name: str) -> str:
    """An option's flag: ``metric_min`` -> ``--metric-min``."""
    return "--" + name.replace("_", "-")


def is_fit(path: str | Path) -> bool:
    """Whether ``path`` names a saved fit (netCDF) rather than a data file."""
    return Path(path).suffix.lower() in FIT_SUFFIXES


@dataclass(frozen=True)
class FitOptions:
    """What every fitting command shares: which curve, the model, the metric's direction and bounds,
    the sampler, and how the data are read (columns, units, the MLflow server). Each field's ``help``
    (``dataclasses.fields(FitOptions)[i].metadata``) is also its CLI flag's help."""

    curve: str | None = field(default=None, metadata={"help": "Curve name when the file holds several."})
    family: str | None = field(
        default=None,
        metadata={
            "help": "Curve family (see `curvecast families`), families joined by '+' (equal-weight mixture) "
            "or 'auto'. Default: the pow3+pow4 mixture (pooled fits: pow3)."
        },
    )
    priors: Path | None = field(default=None, metadata={"help": "TOML prior file (see models/)."})
    metric_min: float | None = field(default=None, metadata={"help": "Lower bound of the metric."})
    metric_max: float | None = field(default=None, metadata={"help": "Upper bound of the metric."})
    decreasing: bool = field(default=False, metadata={"help": "Lower is better (loss, error, MAE)."})
    draws: int = field(default=1000, metadata={"help": "Posterior draws per chain."})
    chains: int = field(default=4, metadata={"help": "NUTS chains."})
    seed: int = field(default=0, metadata={"help": "Random seed; same seed, same numbers."})
    x: str | None = field(default=None, metadata={"help": "Column holding n."})
    y: str | None = field(default=None, metadata={"help": "Column holding the metric."})
    x_unit: str | None = field(default=None, metadata={"help": "What n counts, e.g. images (default: the --x column)."})
    y_unit: str | None = field(default=None, metadata={"help": "Metric name, e.g. mAP (default: the --y column)."})
    curve_by: str | None = field(
        default=None, metadata={"help": "Column naming each row's curve (default: curve); mlflow: params.NAME."}
    )
    tracking_uri: str | None = field(
        default=None, metadata={"help": "MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else MLflow's)."}
    )

    def needing_a_fit(self) -> list[str]:
        """The options given (not at their defaults) that only a new fit could honour."""
        return [f.name for f in fields(self) if f.name not in FOR_SAVED_FITS and getattr(self, f.name) != f.default]

    def refuse_fitting(self, saved: str, keep: tuple[str, ...] = ()) -> None:
        """Refuse the options (but ``keep``) that would change a fit: ``saved`` names the saved fit(s)
        answered as fitted."""
        given = [flag(name) for name in self.needing_a_fit() if name not in keep]
        if given:
            raise CurvecastError(
                f"{saved}, answered as fitted: {', '.join(given)} would need a new fit; "
                f"drop {'them' if given[1:] else 'it'}, or pass the data to fit again"
            )

    def for_saved_fit(self) -> FitOptions:
        """These options as they apply to a saved fit: its units and the tracking URI, nothing else."""
        return FitOptions(**{k: getattr(self, k) for k in FOR_SAVED_FITS})

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

    def read_kwargs(self) -> dict[str, Any]:
        """How data files (and mlflow: sources) are read: ``load_curves``' keyword arguments."""
        return {"x": self.x, "y": self.y, "curve_by": self.curve_by, "tracking_uri": self.tracking_uri}

    def read(self, path: str | Path) -> Curves:
        """The curves of a data file, or of ``mlflow:EXPERIMENT``'s finished runs (``notes``: how they were read)."""
        from curvecast.data import load_curves

        return load_curves(path, **self.read_kwargs())

    def curve_data(self, path: str | Path) -> CurveData:
        """The curve that ``curve`` selects from a data file (the only one, if it holds one)."""
        from curvecast.data import select_curve

        curves = self.read(path)
        return curves.curve(select_curve(curves, self.curve)[0], **self.meta())

    def saved_fit(self, path: str | Path) -> Forecast:
        """A saved fit in these options' units; options that would need a new fit are refused, never dropped."""
        from curvecast.persist import load
        from curvecast.units import relabel

        self.refuse_fitting(f"{path} is a saved fit")
        return relabel(load(path), self.x_unit, self.y_unit)

    def forecast(self, source: str | Path) -> Forecast:
        """A saved fit (``.nc``) as :meth:`saved_fit` opens it, or a fit of :meth:`curve_data`'s curve."""
        return self.saved_fit(source) if is_fit(source) else fit_curve(self.curve_data(source), self)

    def pair(
        self, sources: Sequence[str | Path], curves: Sequence[str] | None = None, target: float | None = None
    ) -> tuple[Forecast, Forecast]:
        """A and B of a comparison: two sources, each with its curve (``curves``: both or none), or one data
        file and two curves. Both are read, and ``target`` checked against both, before either is fitted;
        B samples with seed + 1. A saved fit takes only the options a saved fit takes."""
        curves = curves or []
        sides: list[tuple[str | Path, str | None]]
        if len(sources) == 1 and len(curves) == 2:
            sides = [(sources[0], c) for c in curves]
        elif len(sources) == 2 and len(curves) in (0, 2):
            sides = [(s, curves[i] if curves else None) for i, s in enumerate(sources)]
        else:
            raise CurvecastError(
                f"compare takes two sources (A and B), each with its --curve or none, or one file and two curves "
                f"(--curve A_NAME --curve B_NAME); got {len(sources)} source(s) and {len(curves)} --curve"
            )
        saved = [is_fit(path) for path, _ in sides]
        if all(saved):
            self.refuse_fitting("A and B are saved fits", keep=("seed",))  # the seed also pairs the draws
        given = [flag(k) for k in self.needing_a_fit() if k != "seed"]
        read: list[tuple[str | Path, FitOptions, CurveData | None]] = []
        for i, ((path, name), fitted) in enumerate(zip(sides, saved, strict=True)):
            if fitted and name is not None:
                raise CurvecastError(f"{path} is a saved fit of one curve; drop --curve for it")
            o = self.for_saved_fit() if fitted else replace(self, curve=name, seed=self.seed + i)
            data = None if fitted else o.curve_data(path)
            if data is not None and target is not None:
                data.check_target(target)
            if data is not None and given and any(saved):  # said, never silently half-applied
                data = data.with_notes(f"{', '.join(given)} fit this side only; the other is a saved fit, as fitted")
            read.append((path, o, data))
        a, b = (o.saved_fit(path) if data is None else fit_curve(data, o) for path, o, data in read)
        return a, b


def fit_curve(data: CurveData, o: FitOptions) -> Forecast:
    from curvecast.inference import fit

    return fit(data=data, **o.fit_kwargs())
