"""Learning-curve data: validation, metric direction and bounds, the user's units, file input."""

from __future__ import annotations

import copy
import gzip
import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from curvecast.errors import CurvecastError

X_NAMES = (
    "n",
    "n_train",
    "train_size",
    "size",
    "images",
    "samples",
    "examples",
    "tokens",
    "num_samples",
    "n_samples",
    "dataset_size",
    "data_size",
    "x",
)
Y_NAMES = (
    "metric",
    "score",
    "value",
    "map",
    "mAP",
    "accuracy",
    "acc",
    "loss",
    "error",
    "mae",
    "rmse",
    "f1",
    "auc",
    "y",
)


@dataclass(frozen=True)
class CurveData:
    """One learning curve: rows of (n, y), replicates kept as separate rows.

    Parameters
    ----------
    n, y : array-like
        Resource spent and metric measured; several rows may share an ``n``
        (replicate runs) and are never averaged.
    increasing : bool
        True if larger metric values are better (accuracy, mAP), False for
        loss, error or MAE.
    metric_min, metric_max : float or None
        Bounds of the metric. ``None`` means "infer": ``[0, 1]`` when all
        values lie there (increasing metrics), ``[0, 100]`` when they all lie
        in [0, 100] and most exceed 1 (percentages; a note says so; values
        mostly in [0, 1] with some above 1 are refused as typos), a floor of
        0 for non-negative decreasing metrics; otherwise unbounded on that side.
    x_unit, y_unit : str
        What ``n`` counts and what the metric is ("images", "person-days" /
        "mAP"), used in every table, plot axis and JSON answer. Files give
        their column names by default (see :func:`x_unit_of`).
    notes : tuple of str
        One-line remarks on how the data were read (percentages detected, the
        two numeric columns of a file taken as x and y), shown with answers.
    """

    n: np.ndarray
    y: np.ndarray
    increasing: bool = True
    metric_min: float | None = None
    metric_max: float | None = None
    name: str = "curve"
    bounds_inferred: tuple[bool, bool] = field(default=(False, False), compare=False)
    x_unit: str = field(default="samples", compare=False)
    y_unit: str = field(default="metric", compare=False)
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __init__(
        self,
        n: Any,
        y: Any,
        *,
        increasing: bool = True,
        metric_min: float | None = None,
        metric_max: float | None = None,
        name: str = "curve",
        x_unit: str = "samples",
        y_unit: str = "metric",
        notes: tuple[str, ...] = (),
    ) -> None:
        if not isinstance(increasing, bool | np.bool_):
            raise CurvecastError(f"increasing must be True or False, got {increasing!r}")
        n_arr = _as_float(n, "n")
        y_arr = _as_float(y, "metric")
        if n_arr.shape != y_arr.shape or n_arr.ndim != 1:
            raise CurvecastError(f"n and metric must be 1-d and the same length ({n_arr.shape} vs {y_arr.shape})")
        if np.any(n_arr <= 0):
            bad = n_arr[n_arr <= 0][0]
            raise CurvecastError(f"n must be > 0 (found {bad:g}); drop rows with n <= 0 such as a 0-sample baseline")
        if np.unique(n_arr).size < 3:
            raise CurvecastError(
                f"need at least 3 distinct n to fit a curve, got {np.unique(n_arr).size}; add more subset sizes"
            )
        lo_inf = hi_inf = False
        notes = tuple(notes)
        if metric_min is None and metric_max is None:
            if increasing and y_arr.min() >= 0 and y_arr.max() <= 1:
                metric_min, metric_max, lo_inf, hi_inf = 0.0, 1.0, True, True
            elif increasing and y_arr.min() >= 0 and y_arr.max() <= 100:
                _refuse_strays(n_arr, y_arr)
                metric_min, metric_max, lo_inf, hi_inf = 0.0, 100.0, True, True
                notes += (PERCENT_NOTE,)
            elif not increasing and y_arr.min() >= 0:
                metric_min, lo_inf = 0.0, True
        for label, b in (("metric_min", metric_min), ("metric_max", metric_max)):
            if b is not None and not math.isfinite(b):
                raise CurvecastError(f"{label} must be finite, got {b}")
        if metric_min is not None and metric_max is not None and metric_min >= metric_max:
            raise CurvecastError(f"metric_min ({metric_min}) must be below metric_max ({metric_max})")
        if metric_min is not None and y_arr.min() < metric_min:
            raise CurvecastError(
                f"metric value {y_arr.min():g} is below the metric's lower bound {metric_min:g}; "
                "fix the data or pass a lower metric_min (--metric-min)"
            )
        if metric_max is not None and y_arr.max() > metric_max:
            raise CurvecastError(
                f"metric value {y_arr.max():g} is above the metric's upper bound {metric_max:g}; "
                "fix the data or pass a higher metric_max (--metric-max; e.g. 100 for percentages)"
            )
        order = np.argsort(n_arr, kind="stable")
        object.__setattr__(self, "n", n_arr[order])
        object.__setattr__(self, "y", y_arr[order])
        object.__setattr__(self, "increasing", bool(increasing))
        object.__setattr__(self, "metric_min", None if metric_min is None else float(metric_min))
        object.__setattr__(self, "metric_max", None if metric_max is None else float(metric_max))
        object.__setattr__(self, "name", str(name))
        object.__setattr__(self, "bounds_inferred", (lo_inf, hi_inf))
        object.__setattr__(self, "x_unit", _check_unit(x_unit, "x unit"))
        object.__setattr__(self, "y_unit", _check_unit(y_unit, "y unit"))
        object.__setattr__(self, "notes", notes)

    # -- derived quantities -------------------------------------------------
    @property
    def sign(self) -> float:
        return 1.0 if self.increasing else -1.0

    @property
    def n_ref(self) -> float:
        return float(self.n.max())

    @property
    def best_bound(self) -> float | None:
        return self.metric_max if self.increasing else self.metric_min

    @property
    def worst_bound(self) -> float | None:
        return self.metric_min if self.increasing else self.metric_max

    @property
    def has_replicates(self) -> bool:
        return np.unique(self.n).size < self.n.size

    def noise_scale(self) -> float:
        """A scale for the noise at n_ref: replicate SD at the largest replicated sizes, else 2 % of the range."""
        spread = float(np.ptp(self.y))
        floor = max(0.02 * spread, 1e-4 * max(abs(float(self.y.mean())), 1e-3), 1e-6)
        if self.has_replicates:
            sizes = [v for v in np.unique(self.n) if np.sum(self.n == v) > 1][-3:]  # nearest n_ref
            groups = [self.y[self.n == v] for v in sizes]
            ss = sum(float(((g - g.mean()) ** 2).sum()) for g in groups if g.size > 1)
            dof = sum(g.size - 1 for g in groups if g.size > 1)
            if dof > 0 and ss > 0:
                return max(math.sqrt(ss / dof), floor)
        return floor

    def symbols(self) -> dict[str, float]:
        """Values of the data symbols that priors may name (see ``priors.SYMBOLS``)."""
        y_last = float(self.y[self.n == self.n_ref].mean())
        spread = max(float(np.ptp(self.y)), 0.05 * abs(y_last), 1e-3)
        lo = self.metric_min if self.metric_min is not None else float(self.y.min()) - 100 * spread
        hi = self.metric_max if self.metric_max is not None else float(self.y.max()) + 100 * spread
        best = float(self.y.max() if self.increasing else self.y.min())
        return {
            "y_last": y_last,
            "y_best": best,
            "y_spread": spread,
            "log_noise_scale": math.log(self.noise_scale()),
            "metric_min": lo,
            "metric_max": hi,
        }

    def clip(self, values: np.ndarray) -> np.ndarray:
        """``values`` clipped to the metric's bounds."""
        lo, hi = self.metric_min, self.metric_max
        return np.clip(values, -np.inf if lo is None else lo, np.inf if hi is None else hi)

    def subset(self, max_n: float) -> CurveData:
        return self.select(self.n <= max_n)

    def select(self, keep: np.ndarray) -> CurveData:
        """The rows where ``keep`` (aligned with ``n``) is true, with the same direction and bounds."""
        keep = np.asarray(keep, bool)
        return CurveData(
            self.n[keep],
            self.y[keep],
            increasing=self.increasing,
            metric_min=self.metric_min,
            metric_max=self.metric_max,
            name=self.name,
            x_unit=self.x_unit,
            y_unit=self.y_unit,
        )

    def with_units(self, x_unit: str | None = None, y_unit: str | None = None) -> CurveData:
        """The same curve with other units (``None`` keeps one); bounds and notes stay as they are."""
        d = copy.copy(self)
        object.__setattr__(d, "x_unit", _check_unit(x_unit, "x unit") if x_unit is not None else self.x_unit)
        object.__setattr__(d, "y_unit", _check_unit(y_unit, "y unit") if y_unit is not None else self.y_unit)
        return d

    def with_notes(self, *notes: str) -> CurveData:
        """The same curve with ``notes`` added to its notes (what every answer shows); itself without any."""
        if not notes:
            return self
        d = copy.copy(self)
        object.__setattr__(d, "notes", (*self.notes, *notes))
        return d

    def check_target(self, target: float) -> None:
        """Refuse a target outside the metric's bounds, or at its best bound when no measurement is there:
        a bounded curve only approaches that value, so every answer about it would come from rounding."""
        if isinstance(target, bool) or not isinstance(target, int | float | np.integer | np.floating):
            raise CurvecastError(f"the target must be a number, got {target!r}")
        t = float(target)
        if not math.isfinite(t):
            raise CurvecastError(f"the target must be a finite number, got {t}")
        if (self.metric_min is not None and t < self.metric_min) or (
            self.metric_max is not None and t > self.metric_max
        ):
            raise CurvecastError(
                f"target {t:g} lies outside the metric's bounds "
                f"[{_fmt(self.metric_min, '-inf')}, {_fmt(self.metric_max, 'inf')}]; pick a reachable target"
            )
        if self.best_bound is not None and t == self.best_bound and not np.any(self.y == t):
            raise CurvecastError(
                f"target {t:g} is the metric's best possible value: a curve approaches it but never reaches it; "
                f"pick a target short of {t:g}"
            )


#: said when increasing values in [0, 100] (some above 1) are read as percentages
PERCENT_NOTE = (
    "metric values lie in [0, 100] and some exceed 1: read as percentages, bounded by [0, 100] "
    "(pass --metric-min/--metric-max for other bounds)"
)


def _refuse_strays(n: np.ndarray, y: np.ndarray) -> None:
    """Values in [0, 100] of which at least half lie in [0, 1] are fractions with strays above 1 (typos),
    not percentages: reading them as percentages would bound the metric by 100, so they are refused."""
    over = y > 1
    if over.sum() > (~over).sum():
        return
    order = np.argsort(n[over], kind="stable")
    shown = ", ".join(f"{v:g} at n={k:g}" for k, v in zip(n[over][order][:3], y[over][order][:3], strict=True))
    many = over.sum() > 1
    raise CurvecastError(
        f"metric value{'s' if many else ''} above 1 ({shown}{', ...' if over.sum() > 3 else ''}) while the other "
        f"{(~over).sum()} lie in [0, 1]: a typo? Fix {'them' if many else 'it'}; pass --decreasing if lower is "
        "better (a loss), or metric_max=100 (--metric-max 100) if the values are percentages (--metric-max for "
        "another bound)"
    )


def _check_unit(unit: Any, what: str) -> str:
    text = str(unit).strip() if unit is not None else ""
    if not text or len(text) > 40 or any(c in text for c in "\n\r\t"):
        raise CurvecastError(f"the {what} must be a short name such as 'images' or 'mAP' (1-40 characters): {unit!r}")
    return text


def _fmt(b: float | None, missing: str) -> str:
    return missing if b is None else f"{b:g}"


def has_bools(v: Any) -> bool:
    """Whether ``v`` holds a True/False (which NumPy would silently read as 1/0)."""
    if isinstance(v, np.ndarray) and v.dtype.kind in "iuf":
        return False
    return any(isinstance(e, bool | np.bool_) for e in np.asarray(v, dtype=object).flat)


def _as_float(v: Any, what: str) -> np.ndarray:
    kind = np.asarray(v).dtype.kind
    if kind in "cmM":  # complex would lose its imaginary part, dates would become nanoseconds
        raise CurvecastError(f"{what} must be real numbers; found {'complex' if kind == 'c' else 'date/time'} values")
    if has_bools(v):
        raise CurvecastError(f"{what} must be numeric; found a true/false value")
    try:
        arr = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        raise CurvecastError(f"{what} must be numeric; found a non-numeric value") from None
    if not np.all(np.isfinite(arr)):
        raise CurvecastError(f"{what} contains NaN or inf; remove or fix those rows")
    return arr


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------
#: what ``read_table`` reads, for error messages
SUPPORTED = "CSV (.csv), TSV (.tsv, .tab) or JSON lines (.jsonl, .ndjson, .json: one object per line)"
#: leading bytes of formats that are not text tables
_BINARY = {
    b"PAR1": "a Parquet file",
    b"PK\x03\x04": "an Excel file or another zip archive",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) file",
}
#: leading bytes of a gzip file, read as such whatever its name
GZIP = b"\x1f\x8b"


def _unsupported(path: Path, what: str) -> CurvecastError:
    return CurvecastError(f"{str(path)!r} is {what}, an unsupported format; supported: {SUPPORTED}. Export it as CSV")


def _json_lines(path: Path, text: str) -> list[Any]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise CurvecastError(f"{str(path)!r} line {number} is not valid JSON ({e.msg}); fix or drop it") from None
        if not isinstance(row, dict):
            raise CurvecastError(f'{str(path)!r} line {number} is not a JSON object like {{"n": 1000, "metric": 0.4}}')
        rows.append(row)
    return rows


#: how CSV/TSV cells are read: only an empty cell is missing; "NA", "null" or "None" are text (a curve
#: named NA, a region code, stays a curve; in a number column they are refused as non-numbers)
CSV_CELLS: dict[str, Any] = {"keep_default_na": False, "na_values": [""]}
#: text that means "no value" in a number column (said so when refused)
MISSING = {"nan", "-nan", "na", "n/a", "#n/a", "null", "none", "nil", "-"}


def read_table(path: str | Path, curve_col: str = "curve") -> Any:
    """Read CSV, TSV or JSON lines into a DataFrame (the file is only read); the curve column ``curve_col``
    as text, so curves ``001`` and ``1`` stay two."""
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise CurvecastError(f"file {str(path)!r} not found; check the path")
    if path.is_dir():
        raise CurvecastError(f"{str(path)!r} is a directory; pass a CSV, TSV or JSON-lines file")
    raw = path.read_bytes()
    if raw.startswith(GZIP):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise CurvecastError(f"{str(path)!r} is gzip-compressed but cannot be decompressed ({e})") from None
    for magic, what in _BINARY.items():
        if raw.startswith(magic):
            raise _unsupported(path, what)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _unsupported(path, "not UTF-8 text") from None
    if not text.strip():
        raise CurvecastError(f"{str(path)!r} is empty; it needs a header row and one row per (n, metric)")
    suffix = Path(path.stem).suffix.lower() if path.suffix.lower() == ".gz" else path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        if text.lstrip().startswith("["):
            raise _unsupported(path, "a JSON array")
        df = pd.DataFrame(_json_lines(path, text))
    else:
        sep = "\t" if suffix in (".tsv", ".tab") else None
        try:
            df = pd.read_csv(io.StringIO(text), sep=sep, engine="python", dtype={curve_col: str}, **CSV_CELLS)
        except Exception as e:  # pandas' parser errors have several types
            raise CurvecastError(f"cannot parse {str(path)!r} as {SUPPORTED}: {str(e)[:120]}") from None
        check_row_width(df, path)
        check_header(df.columns, path)
    if df.empty or len(df.columns) < 2:
        raise CurvecastError(f"{str(path)!r} holds no table with at least two columns (n and metric)")
    return df


def check_header(columns: Any, path: Path) -> None:
    """Refuse a table whose header row is numbers: it is the first data row, and would be lost."""
    try:
        [float(str(c)) for c in columns]
    except ValueError:
        return
    raise CurvecastError(
        f"the first row of {str(path)!r} holds numbers ({', '.join(map(str, columns))}), not column names: "
        "add a header row such as n,metric (or curve,n,metric)"
    )


def check_row_width(df: Any, path: Path) -> None:
    """Refuse a table whose rows have more cells than its header: pandas would take the first column as
    the index and shift the others (``n`` read from the metric column)."""
    import pandas as pd

    if not df.index.equals(pd.RangeIndex(len(df))):
        raise CurvecastError(
            f"the data rows of {str(path)!r} have more cells than its header row (a trailing comma?); "
            "remove the extra cells or name that column in the header"
        )


def _pick(df: Any, given: str | None, names: tuple[str, ...], what: str, flag: str, numeric_only: bool = True) -> str:
    cols = [str(c) for c in df.columns]
    if given is not None:
        if given not in cols:
            raise CurvecastError(f"column {given!r} not found; columns are: {', '.join(cols)}")
        return given
    lower = {c.lower(): c for c in cols}
    found = [lower[nm.lower()] for nm in names if nm.lower() in lower]
    # pandas renames duplicate headers "metric" -> "metric.1": consider those too
    found += [c for c in cols if "." in c and c.rsplit(".", 1)[0].lower() in {nm.lower() for nm in names}]
    if numeric_only:
        import pandas as pd

        numeric = [c for c in found if pd.to_numeric(df[c], errors="coerce").notna().any()]
        found = numeric or found
    found = list(dict.fromkeys(found))
    if not found:
        raise CurvecastError(
            f"no {what} column found among {', '.join(cols)}; name it one of "
            f"{', '.join(names[:6])}, ... or pass {flag} COLUMN"
        )
    if len(found) > 1:
        raise CurvecastError(f"ambiguous {what} column: {', '.join(found)}; pick one with {flag} COLUMN")
    return found[0]


#: column names that say nothing about what n counts or what the metric is
GENERIC_X = {"n", "x", "size", "n_train", "train_size", "num_samples", "n_samples", "dataset_size", "data_size"}
GENERIC_Y = {"metric", "score", "value", "y"}
#: metric abbreviations as they are usually written
PRETTY_Y = {"map": "mAP", "acc": "accuracy", "mae": "MAE", "rmse": "RMSE", "f1": "F1", "auc": "AUC"}


def x_unit_of(column: str) -> str:
    """The x unit a column name gives: the name itself, or "samples" for a generic one such as ``n``."""
    return "samples" if column.strip().lower() in GENERIC_X else column.strip()


def y_unit_of(column: str) -> str:
    """The y unit a column name gives: the name ("map" written "mAP"), or "metric" for a generic one."""
    key = column.strip().lower()
    return "metric" if key in GENERIC_Y else PRETTY_Y.get(key, column.strip())


class Curves(dict[str, tuple[np.ndarray, np.ndarray]]):
    """``{curve name: (n, y)}`` read from a table, with the columns they came from (``x_column``,
    ``y_column``: the default units) and one-line ``notes`` on how the table was read."""

    x_column: str = "n"
    y_column: str = "metric"
    notes: tuple[str, ...] = ()
    #: notes on one curve's rows (exact copies), by curve name
    curve_notes: Mapping[str, tuple[str, ...]] = MappingProxyType({})
    #: False when the table has no curve column (its one curve is then named after ``source``)
    named: bool = True
    #: the file read, if any
    source: str = ""

    def curve(self, name: str, *, x_unit: str | None = None, y_unit: str | None = None, **meta: Any) -> CurveData:
        """Curve ``name`` as :class:`CurveData` (``meta``: ``increasing``, ``metric_min``, ``metric_max``),
        in the units its columns name unless ``x_unit``/``y_unit`` are given; an error names the curve."""
        n, y = self[name]
        xu, yu = x_unit or x_unit_of(self.x_column), y_unit or y_unit_of(self.y_column)
        notes = self.notes_of(name)
        try:
            return CurveData(n, y, name=name, x_unit=xu, y_unit=yu, notes=notes, **meta)
        except CurvecastError as e:
            where = f"curve {name!r}" if self.named or not self.source else repr(self.source)
            raise CurvecastError(f"{where}: {e}") from None

    def notes_of(self, name: str) -> tuple[str, ...]:
        """How curve ``name`` was read: the table's notes, then its own (rows repeated exactly)."""
        return (*self.notes, *self.curve_notes.get(name, ()))

    def fittable(self, limit: int | None = None, **meta: Any) -> tuple[list[CurveData], list[dict[str, str]]]:
        """Every curve (the first ``limit``) as :meth:`curve` builds it, and a row ``{curve, error}`` for
        each one that cannot be fitted (fewer than 3 sizes, values outside the bounds): one bad curve
        never stops a run over many."""
        check_limit(limit)
        good, bad = [], []
        for name in list(self)[:limit]:
            try:
                good.append(self.curve(name, **meta))
            except CurvecastError as e:
                bad.append({"curve": name, "error": str(e)})
        return good, bad


def _two_numeric(df: Any, x: str | None, y: str | None, curve_col: str) -> tuple[str, str, str] | None:
    """When the names do not say which column is which but the table has exactly two numeric columns
    (besides ``curve``), they are x and y: one named like x (or y) is that one, else the left one is x."""
    import pandas as pd

    cols = [str(c) for c in df.columns if str(c) != curve_col]
    numeric = [c for c in cols if pd.to_numeric(df[c], errors="coerce").notna().all()]
    if len(numeric) != 2 or (x is not None and y is not None):
        return None
    if x is not None or y is not None:
        given = x if x is not None else y
        if given not in numeric:
            return None
        other = numeric[1 - numeric.index(given)]
        xc, yc = (given, other) if x is not None else (other, given)
    else:
        if numeric[1].lower() in {v.lower() for v in X_NAMES} or numeric[0].lower() in {v.lower() for v in Y_NAMES}:
            numeric.reverse()
        xc, yc = numeric
    note = f"the file has exactly two numeric columns: {xc!r} is read as n (x) and {yc!r} as the metric (y)"
    return xc, yc, note + " (pass --x/--y to change)"


def curves_from_frame(df: Any, *, x: str | None = None, y: str | None = None, curve_col: str = "curve") -> Curves:
    """Split a long table into ``{curve name: (n, y)}`` with validated numbers (a :class:`Curves`)."""
    import pandas as pd

    notes: tuple[str, ...] = ()
    try:
        xc = _pick(df, x, X_NAMES, "n (x)", "--x")
        yc = _pick(df, y, Y_NAMES, "metric (y)", "--y")
    except CurvecastError:
        two = _two_numeric(df, x, y, curve_col)
        if two is None:
            raise
        xc, yc, note = two
        notes = (note,)
    if xc == yc:
        raise CurvecastError(f"--x and --y both point at column {xc!r}; pick two different columns")
    out = Curves()
    out.x_column, out.y_column, out.notes = xc, yc, notes
    out.named = curve_col in df.columns
    if out.named and df[curve_col].isna().any():  # never dropped silently (pandas' groupby would)
        raise CurvecastError(
            f"column {curve_col!r} is empty in {_row(df, int(df[curve_col].isna().to_numpy().nonzero()[0][0]))}: "
            "name every row's curve, or drop that row"
        )
    groups = df.groupby(curve_col, sort=False) if out.named else [("curve", df)]
    seed = next((c for c in df.columns if str(c).lower() == "seed" and c not in (xc, yc)), None)
    curve_notes = {}
    for name, g in groups:
        where = f"curve {name!r}: " if out.named else ""
        n = _numbers(g, xc, None, where)
        v = _numbers(g, yc, n, where)
        if seed is not None:  # rows of one run (same n, same seed) twice: not replicates
            same = (
                pd.DataFrame({"n": n, "seed": g[seed].to_numpy()}).duplicated().to_numpy() & g[seed].notna().to_numpy()
            )
            if same.any():
                i = int(same.nonzero()[0][0])
                raise CurvecastError(
                    f"{where}{_row(g, i)} has the same n ({n[i]:g}) and {seed} ({g[seed].iloc[i]}) as an earlier "
                    "row: two measurements of one run; drop the copy, or give each run its own seed"
                )
        else:
            copies = n.size - np.unique(np.column_stack([n, v]), axis=0).shape[0]
            if copies:
                curve_notes[str(name)] = (
                    f"{copies} row{'s repeat' if copies > 1 else ' repeats'} an earlier row exactly (same n and "
                    "value): read as replicate runs; if they are copies, remove them",
                )
        out[str(name)] = (n, v)
    out.curve_notes = curve_notes
    return out


def _row(g: Any, i: int) -> str:
    """Row ``i`` of the rows ``g`` as a message names it: its place among the file's data rows."""
    label = g.index[i]
    return f"data row {label + 1}" if isinstance(label, int | np.integer) else f"row {label!r}"


def _numbers(g: Any, col: str, n: np.ndarray | None, where: str) -> np.ndarray:
    """Column ``col`` of the rows ``g`` as floats; an empty, true/false or non-numeric cell is refused,
    naming its row (and its ``n``, once the n column is read)."""
    import pandas as pd

    cells = g[col]
    vals = pd.to_numeric(cells, errors="coerce")
    bools = np.full(len(cells), pd.api.types.is_bool_dtype(cells))
    if cells.dtype == object:  # JSON lines: true/false among numbers
        bools = cells.map(lambda c: isinstance(c, bool | np.bool_)).to_numpy(bool)
    bad = vals.isna().to_numpy() | bools
    if not bad.any():
        return vals.to_numpy(float)
    i = int(bad.nonzero()[0][0])
    cell = cells.iloc[i]
    if bools[i]:
        what = f"a true/false value ({cell})"
    elif pd.api.types.is_scalar(cell) and pd.isna(cell):
        what = "an empty cell (or NaN/null)"
    elif str(cell).strip().lower() in MISSING:
        what = f"a missing value ({str(cell)!r})"
    else:
        what = f"a non-numeric value ({str(cell)!r})"
    at = f" (n={n[i]:g})" if n is not None else ""
    raise CurvecastError(f"{where}column {col!r} has {what} in {_row(g, i)}{at}; fix or drop that row")


def split_masks(
    path: str | Path, column: str, *, x: str | None = None, y: str | None = None, curve_by: str | None = None
) -> dict[str, np.ndarray]:
    """Per curve (named by the column ``curve_by``, default ``curve``), the rows to fit on (``column`` = 1;
    0 = held out), for corpora that carry their own split; each mask is in the order :class:`CurveData`
    keeps its rows (sorted by n)."""
    import pandas as pd

    df = read_table(path, curve_by or "curve")
    if column not in df.columns:
        raise CurvecastError(f"split column {column!r} not found; columns are: {', '.join(map(str, df.columns))}")
    flags = pd.to_numeric(df[column], errors="coerce")
    if flags.isna().any() or not set(flags.unique()) <= {0, 1}:
        raise CurvecastError(f"split column {column!r} must hold 1 (fit on) or 0 (held out) in every row")
    xc = _pick(df, x, X_NAMES, "n (x)", "--x")
    check_curve_by(df.columns, curve_by)
    by = curve_by or "curve"
    groups = df.groupby(by, sort=False) if by in df.columns else [("curve", df)]
    out = {}
    for name, g in groups:
        order = np.argsort(pd.to_numeric(g[xc], errors="coerce").to_numpy(float), kind="stable")
        out[str(name)] = (flags[g.index].to_numpy() == 1)[order]
    return out


def load_curves(
    path: str | Path,
    *,
    x: str | None = None,
    y: str | None = None,
    curve_by: str | None = None,
    tracking_uri: str | None = None,
) -> Curves:
    """``{curve name: (n, y)}`` of a CSV, TSV or JSON-lines file, with its columns and notes (:class:`Curves`);
    ``curve_by`` names the curve column (default ``curve``). ``mlflow:EXPERIMENT`` reads an MLflow
    experiment's finished runs instead (:func:`curvecast.tracking.from_mlflow`, at ``tracking_uri``)."""
    if str(path).startswith("mlflow:"):
        from curvecast.tracking import from_mlflow

        runs = from_mlflow(str(path), x=x, y=y, curve_by=curve_by, tracking_uri=tracking_uri)
        out = Curves(runs)
        out.x_column, out.y_column, out.notes = runs.x_column, runs.y_column, (runs.note,)
        return out
    df = read_table(path, curve_by or "curve")
    check_curve_by(df.columns, curve_by)
    out = curves_from_frame(df, x=x, y=y, curve_col=curve_by or "curve")
    out.source = str(path)
    return out


def check_limit(limit: int | None) -> None:
    """Refuse a ``--limit`` below 1 (a negative one would silently drop curves from the end)."""
    if limit is not None and limit < 1:
        raise CurvecastError(f"--limit must be at least 1, got {limit}")


def check_curve_by(columns: Any, curve_by: str | None) -> None:
    """Refuse a ``curve_by`` column the table does not have, listing the columns it has."""
    if curve_by is not None and curve_by not in columns:
        cols = ", ".join(map(str, columns))
        raise CurvecastError(f"--curve-by column {curve_by!r} not found; columns are: {cols}")


def select_curve(
    curves: dict[str, tuple[np.ndarray, np.ndarray]], name: str | None
) -> tuple[str, tuple[np.ndarray, np.ndarray]]:
    if name is None:
        if len(curves) > 1:
            names = list(curves)
            shown = ", ".join(names[:10]) + (f", ... ({len(names)} in all)" if len(names) > 10 else "")
            raise CurvecastError(f"the file holds {len(names)} curves; pick one with --curve NAME: {shown}")
        return next(iter(curves.items()))
    if name not in curves:
        near = [c for c in curves if name.lower() in c.lower()][:5]
        hint = f" Did you mean: {', '.join(near)}?" if near else f" Curves: {', '.join(list(curves)[:10])}"
        raise CurvecastError(f"no curve named {name!r} in the file.{hint}")
    return name, curves[name]


def bundled_seed_path() -> Path:
    """The bundled seed COCO/BDD mAP curves (Allegro AI blog, 2019)."""
    return Path(__file__).parent / "data" / "seed_coco_bdd_map.csv"
