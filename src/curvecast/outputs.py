"""Writing output files: atomically, so that no reader ever sees a half-written file."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from curvecast.errors import CurvecastError


def atomic_write(path: str | Path, write: Callable[[str], Any]) -> None:
    """Call ``write(tmp_path)`` on a fresh temp file beside ``path``, then rename it onto ``path``.

    The temp file is created by ``mkstemp`` in the target directory (an unpredictable
    name, never a symlink); on any error or interrupt it is removed and ``path`` is
    left as it was.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise CurvecastError(f"output directory {str(parent)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file normal permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_output(path: str | Path, *, inputs: tuple[str | Path, ...] = (), suffixes: tuple[str, ...] = ()) -> Path:
    """Refuse an output before any work starts: wrong suffix, a directory, a read-only file, a missing
    or read-only directory, or a path that resolves to one of ``inputs`` (never overwrite an input)."""
    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        raise CurvecastError(f"output {str(path)!r} must end in {' or '.join(suffixes)}")
    if path.is_dir():
        raise CurvecastError(f"output {str(path)!r} is a directory; name a file inside it")
    if path.exists() and not path.stat().st_mode & 0o222:  # read-only: a replace would ignore that
        raise CurvecastError(f"output {str(path)!r} is read-only; make it writable (chmod u+w) or pick another -o")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise CurvecastError(f"output directory {str(parent)!r} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CurvecastError(f"output directory {str(parent)!r} is not writable; pick another -o")
    target = path.resolve()
    for src in inputs:
        if Path(src).resolve() == target:
            raise CurvecastError(f"output {str(path)!r} is also an input; write to another file")
    return path


FIGURE_SUFFIXES = (".png", ".svg")
FIT_SUFFIXES = (".nc", ".netcdf", ".h5")  # a saved fit (netCDF)


def save_figure(fig: Any, path: str | Path, dpi: int = 110) -> Path:
    """Write a matplotlib figure to ``path`` (PNG or SVG, as its suffix says; refused otherwise)
    atomically, and close it."""
    import matplotlib.pyplot as plt

    try:
        path = check_output(path, suffixes=FIGURE_SUFFIXES)
        fmt = path.suffix.lower().removeprefix(".")
        atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi))
    finally:
        plt.close(fig)
    return path


def pooled_paths(output: str | Path, names: list[str], *, inputs: tuple[str | Path, ...] = ()) -> dict[str, Path]:
    """``OUTPUT-STEM.CURVE.nc`` for each curve of a pooled fit (characters other than letters, digits,
    ``-_.`` become ``_``); refused when two curve names map to one file or a file is an input."""
    output = Path(output)
    paths: dict[str, Path] = {}
    for name in names:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        path = check_output(output.with_name(f"{output.stem}.{safe}.nc"), inputs=inputs)
        clash = [k for k, p in paths.items() if p == path]
        if clash:
            raise CurvecastError(f"curves {clash[0]!r} and {name!r} would both be written to {str(path)!r}; rename one")
        paths[name] = path
    return paths


def json_ready(v: Any) -> Any:
    """``v`` with NumPy values as Python ones and every non-finite number as ``None`` (JSON's ``null``)."""
    v = v.tolist() if type(v).__module__ == "numpy" else v
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, list | tuple):
        return [json_ready(x) for x in v]
    return {str(k): json_ready(x) for k, x in v.items()} if isinstance(v, dict) else v


def to_json(obj: Any, indent: int | None = None) -> str:
    """Standard JSON (``null`` for infinite or missing numbers, never ``Infinity``) of answers with NumPy values."""
    return json.dumps(json_ready(obj), indent=indent, allow_nan=False)
