"""Reading a long file of many curves in chunks of rows, so memory stays flat whatever the file size.

A file is read twice: :meth:`CurveFile.scan` checks it whole before any work starts (columns, numbers)
and returns the curve names in file order; iterating the :class:`CurveFile` then yields one curve at a
time. CSV, TSV and JSON lines are streamed, compressed or not (``.csv.gz``, ``.jsonl.bz2``,
...); any other source (one only :func:`curvecast.data.load_curves` reads) is read whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from curvecast.data import (
    CSV_CELLS,
    GZIP,
    Curves,
    check_curve_by,
    check_header,
    check_limit,
    check_row_width,
    curves_from_frame,
    load_curves,
)
from curvecast.errors import CurvecastError

#: rows read at a time
ROWS_PER_READ = 20_000
COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".zip")
JSON_LINES = (".jsonl", ".ndjson", ".json")
TABLES = (".csv", ".tsv", ".tab", ".txt", *JSON_LINES)
#: a curve as read: its name, n, metric, and the notes on how it was read (rows repeated exactly, ...)
Curve = tuple[str, np.ndarray, np.ndarray, tuple[str, ...]]


def _kind(path: Path) -> str | None:
    """``csv``, ``tsv`` or ``jsonl`` for a file that can be streamed, else None."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSED:
        suffixes = suffixes[:-1]
    if not suffixes or suffixes[-1] not in TABLES:
        return None
    return "jsonl" if suffixes[-1] in JSON_LINES else "tsv" if suffixes[-1] in (".tsv", ".tab") else "csv"


def streamable(source: str | Path) -> bool:
    path = Path(source)
    return path.is_file() and _kind(path) is not None


def _chunks(path: Path, rows: int, by: str = "curve") -> Iterator[Any]:
    """The file's rows as DataFrames of at most ``rows`` rows, the curve column ``by`` as text."""
    import pandas as pd

    kind = _kind(path)
    try:
        with path.open("rb") as f:  # gzip whatever the name, else as the name says
            packed = "gzip" if f.read(2) == GZIP else "infer"
        if kind == "jsonl":
            reader: Any = pd.read_json(path, lines=True, chunksize=rows, dtype=False, compression=packed)
        else:
            sep = "\t" if kind == "tsv" else ","
            reader = pd.read_csv(path, sep=sep, chunksize=rows, dtype={by: str}, compression=packed, **CSV_CELLS)
        with reader:
            for i, chunk in enumerate(reader):
                check_curve_by(chunk.columns, None if by == "curve" else by)
                if i == 0 and kind != "jsonl":
                    check_row_width(chunk, path)
                    check_header(chunk.columns, path)
                if by in chunk.columns:  # text, and an empty name refused (curves_from_frame) rather than "nan"
                    chunk[by] = chunk[by].where(chunk[by].isna(), chunk[by].astype(str))
                yield chunk
    except CurvecastError:
        raise
    except (ValueError, OSError, EOFError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise CurvecastError(f"cannot read {str(path)!r} as a long table of curves: {str(e)[:160]}") from None


class Scattered(CurvecastError):
    """A curve's rows are not together: the file cannot be streamed curve by curve."""

    def __init__(self) -> None:
        super().__init__("the rows of a curve are not together in the file (was it changed during the run?)")


def _each(curves: Curves) -> Iterator[Curve]:
    for name, (n, v) in curves.items():
        yield name, n, v, curves.notes_of(name)


def _curves(path: Path, x: str | None, y: str | None, rows: int, by: str) -> Iterator[Curve]:
    """Each curve of the file once its rows are all read; :class:`Scattered` when a curve's rows are not together."""
    import pandas as pd

    carry, closed = None, set[str]()
    for chunk in _chunks(path, rows, by):
        if carry is not None:
            chunk = pd.concat([carry, chunk])  # the index numbers the file's rows, for messages
        if chunk.empty:
            continue
        if by not in chunk.columns:
            carry = chunk  # one curve: the whole file
            continue
        keys = chunk[by]
        runs = keys[keys.ne(keys.shift())].tolist()
        if len(set(runs)) < len(runs) or closed.intersection(runs):
            raise Scattered
        carry, head = chunk[keys == runs[-1]], chunk[keys != runs[-1]]
        for curve in _each(curves_from_frame(head, x=x, y=y, curve_col=by)) if len(head) else ():
            closed.add(curve[0])
            yield curve
    if carry is not None and len(carry):
        yield from _each(curves_from_frame(carry, x=x, y=y, curve_col=by))


def _whole(path: Path, x: str | None, y: str | None, rows: int, by: str) -> Iterator[Curve]:
    import pandas as pd

    df = pd.concat(list(_chunks(path, rows, by)))
    yield from _each(curves_from_frame(df, x=x, y=y, curve_col=by))


class CurveFile:
    """The curves of ``source`` (a file, or any source :func:`~curvecast.data.load_curves` reads).

    :meth:`scan` reads it through once without keeping its rows and checks it; iterating then yields
    ``(name, n, y, notes)`` for each curve in file order, one at a time. A file whose curves' rows are not
    together is read whole instead (``streamed`` is then False): sort it by curve to stream it.
    ``x``, ``y``, ``curve_by`` and ``tracking_uri`` are those of :func:`~curvecast.data.load_curves`.
    """

    def __init__(
        self,
        source: str | Path,
        *,
        x: str | None = None,
        y: str | None = None,
        curve_by: str | None = None,
        tracking_uri: str | None = None,
        rows: int = ROWS_PER_READ,
    ):
        self.source, self.x, self.y, self.by, self.rows = source, x, y, curve_by or "curve", rows
        self.tracking_uri, self.streamed = tracking_uri, streamable(source)

    def __iter__(self) -> Iterator[Curve]:
        path = Path(self.source)
        if self.streamed:
            return _curves(path, self.x, self.y, self.rows, self.by)
        if streamable(path):
            return _whole(path, self.x, self.y, self.rows, self.by)
        return _each(load_curves(self.source, x=self.x, y=self.y, curve_by=self.by, tracking_uri=self.tracking_uri))

    def scan(
        self, *, limit: int | None = None, check: Callable[[str, np.ndarray, np.ndarray], None] | None = None
    ) -> list[str]:
        """The names of the first ``limit`` curves, in file order. Bad input (a missing or unreadable
        file, no n or metric column, a non-numeric value) raises :class:`CurvecastError` here, before any
        work; ``check(name, n, y)`` may refuse a curve too."""
        check_limit(limit)
        try:
            names = self._names(limit, check)
        except Scattered:
            self.streamed = False
            names = self._names(limit, check)
        if not names:
            raise CurvecastError(f"{str(self.source)!r} holds no curve; it needs a header and one row per (n, metric)")
        return names

    def _names(self, limit: int | None, check: Callable[[str, np.ndarray, np.ndarray], None] | None) -> list[str]:
        names: list[str] = []
        for name, n, v, _ in self:
            if limit is not None and len(names) >= limit:
                break
            if check is not None:
                check(name, n, v)
            names.append(name)
        return names
