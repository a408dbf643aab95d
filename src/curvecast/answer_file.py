"""The answers of a run over many curves: one row per curve, appended as curves finish.

The format follows the extension: Parquet (``.parquet``, ``.pq``; written with pyarrow) or CSV
(anything else). Every row carries ``run_status``: ``incomplete`` while the run goes on, so that a
file left by a crash or ``kill -9`` says so; at the end the file is rewritten once (atomically, in
the input's order) with ``complete``, or ``interrupted`` after Ctrl-C. A curve is never written twice: with
``resume`` the curves already in the file are kept and skipped, and :meth:`AnswerFile.retry_failed` takes
out the rows that hold an error so that those curves are answered again.

CSV rows are appended and flushed one by one (a ``kill -9`` loses at most the curves still being
fitted; a half-written last line is cut off on resume). A Parquet file cannot be appended to, so
finished rows are gathered for a few seconds and the file is rewritten atomically with them (a
``kill -9`` loses at most those seconds of answers, never the file; each rewrite reads the answers
so far, a few hundred bytes a curve).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from curvecast.errors import CurvecastError
from curvecast.outputs import atomic_write, check_output

COMPLETE, INCOMPLETE, INTERRUPTED = "complete", "incomplete", "interrupted"
PARQUET = (".parquet", ".pq")
#: the type of each kind of column, in Parquet
_ARROW = {"str": "string", "float": "float64", "int": "int64", "bool": "bool"}


def is_parquet(path: str | Path) -> bool:
    return Path(path).suffix.lower() in PARQUET


class AnswerFile:
    """Rows of ``columns`` (name -> ``str``, ``float``, ``int`` or ``bool``; among them ``curve`` and
    ``error``, and ``settings`` if ``settings`` is given; ``run_status`` is added) appended to ``path``.
    With ``resume`` an existing file is read first: its curves count as done."""

    def __init__(
        self, path: str | Path, columns: Mapping[str, str], *, resume: bool = False, flush_seconds: float = 5.0,
        settings: str | None = None,
    ) -> None:  # fmt: skip
        self.path, self.parquet = check_output(path, suffixes=(".csv", *PARQUET)), is_parquet(path)
        #: written in every row's ``settings`` column; resuming a file whose rows say otherwise is refused
        self.settings = settings
        self.columns = {**{k: v for k, v in columns.items() if k != "run_status"}, "run_status": "str"}
        self.flush_seconds = flush_seconds
        #: curves in the file (or on their way to it)
        self.curves: set[str] = set()
        #: rows not yet marked complete
        self.incomplete = 0
        #: curves in the file whose row holds an error
        self.failed: set[str] = set()
        self._status: dict[str, str] = {}
        self._buffer: list[dict[str, Any]] = []
        self._exists, self._last_flush = False, time.monotonic()
        if resume and self.path.exists():
            self._read_existing()
        elif self.path.exists() and self.path.stat().st_size > 0:  # a run without --resume would replace it
            raise CurvecastError(
                f"{str(self.path)!r} exists and is not empty: pass --resume to keep its answers and answer only "
                "the other curves, or remove it (or write to another -o) to start again"
            )

    # -- resume -------------------------------------------------------------------
    def _refuse(self, why: str) -> CurvecastError:
        return CurvecastError(f"cannot resume {str(self.path)!r}: {why}; write to another -o or drop --resume")

    def _read_existing(self) -> None:
        cols = self._read_parquet() if self.parquet else self._read_csv()
        names, status, errors = cols["curve"], cols["run_status"], cols["error"]
        other = next((v for v in cols.get("settings", ()) if v != self.settings), None)
        if self.settings is not None and other is not None:  # say only what differs
            theirs, ours = other.split("; "), self.settings.split("; ")
            was, now = ", ".join(v for v in theirs if v not in ours), ", ".join(v for v in ours if v not in theirs)
            raise self._refuse(f"its rows were answered with other settings ({was}; this run: {now})")
        self.curves, self._exists = set(names), True
        self.incomplete = sum(s != COMPLETE for s in status)
        self.failed = {n for n, e in zip(names, errors, strict=True) if e}
        self._status = dict(zip(names, status, strict=True))

    def retry_failed(self, names: Collection[str]) -> int:
        """Take out the rows of ``names`` that hold an error (one atomic rewrite), so that those curves
        are answered again; returns how many. Rows of curves outside ``names`` stay as they are."""
        again = self.failed & set(names)
        if again:
            self._rewrite(keep=lambda name: name not in again)
            self.curves -= again
            self.failed -= again
            self.incomplete -= sum(self._status[n] != COMPLETE for n in again)
        return len(again)

    def _check_columns(self, found: list[str]) -> None:
        if found != list(self.columns):
            extra, missing = set(found) - set(self.columns), set(self.columns) - set(found)
            detail = f"missing {sorted(missing)[:4]}" if missing else f"unexpected {sorted(extra)[:4]}"
            why = "other --at, --targets or --prob, or another curvecast version?"
            raise self._refuse(f"its columns differ from this run's ({detail}: {why})")

    @property
    def _read(self) -> tuple[str, ...]:
        """What resuming reads of each row."""
        return ("curve", "run_status", "error") + (("settings",) if self.settings is not None else ())

    def _read_csv(self) -> dict[str, list[Any]]:
        with open(self.path, "rb+") as fh:  # a line cut short by kill -9 is dropped; its curve runs again
            data = fh.read()
            if data and not data.endswith(b"\n"):
                fh.truncate(data.rfind(b"\n") + 1)
        try:
            with open(self.path, newline="", encoding="utf-8") as fh:
                reader = csv.reader(fh)
                self._check_columns(next(reader, []))
                idx = [list(self.columns).index(k) for k in self._read]
                rows = [[r[i] for i in idx] for r in reader if len(r) == len(self.columns)]
        except UnicodeDecodeError:
            raise self._refuse("it is not a UTF-8 CSV file") from None
        return {k: [r[i] for r in rows] for i, k in enumerate(self._read)}

    def _read_parquet(self) -> dict[str, list[Any]]:
        import pyarrow.parquet as pq

        try:
            names = pq.read_schema(self.path).names
        except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
            raise self._refuse(f"it is not a readable Parquet file ({str(e)[:80]})") from None
        self._check_columns(names)
        table = pq.read_table(self.path, columns=list(self._read))
        return {k: table.column(k).to_pylist() for k in self._read}

    # -- writing ------------------------------------------------------------------
    def __contains__(self, curve: str) -> bool:
        return curve in self.curves

    def append(self, row: Mapping[str, Any]) -> bool:
        """Write one curve's row (columns it lacks are left empty); False if the curve is already there."""
        name = str(row["curve"])
        if name in self.curves:
            return False
        self.curves.add(name)
        self.incomplete += 1
        fixed = {"curve": name, "run_status": INCOMPLETE}
        fixed |= {} if self.settings is None else {"settings": self.settings}
        self._buffer.append({k: row.get(k) for k in self.columns} | fixed)
        if not self.parquet or time.monotonic() - self._last_flush >= self.flush_seconds or len(self._buffer) >= 1000:
            self.flush()
        return True

    def flush(self) -> None:
        """Put every row appended so far into the file."""
        if not self._buffer:
            return
        self._write_parquet() if self.parquet else self._write_csv()
        self._buffer, self._exists, self._last_flush = [], True, time.monotonic()

    def _write_csv(self) -> None:
        if not self._exists:  # a new file (or one a run without --resume replaces): header and rows at once
            atomic_write(self.path, lambda tmp: self._csv_rows(tmp, "w", header=True))
        else:
            self._csv_rows(self.path, "a", header=False)

    def _csv_rows(self, path: str | Path, mode: str, *, header: bool) -> None:
        with open(path, mode, newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            if header:
                w.writerow(self.columns)
            w.writerows([("" if v is None else v) for v in r.values()] for r in self._buffer)

    def _schema(self) -> Any:
        import pyarrow as pa

        return pa.schema([(k, _ARROW[t]) for k, t in self.columns.items()])

    def _write_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        new = pa.Table.from_pylist(self._buffer, schema=self._schema())
        table = pa.concat_tables([pq.read_table(self.path), new]) if self._exists else new
        atomic_write(self.path, lambda tmp: pq.write_table(table, tmp))

    def finish(self, order: Mapping[str, int] | None = None, status: str = COMPLETE) -> None:
        """Flush, then mark every row ``status`` in one atomic rewrite, rows in ``order`` (curve ->
        position; curves it lacks keep their place after the others). Nothing to do if all are complete."""
        self.flush()
        if self._exists and self.incomplete:
            self._rewrite(order=order or {}, status=status)
            self.incomplete = 0 if status == COMPLETE else len(self.curves)

    def _rewrite(
        self, *, keep: Callable[[str], bool] = lambda name: True, order: Mapping[str, int] | None = None,
        status: str | None = None,
    ) -> None:  # fmt: skip
        """Rewrite the file atomically: the rows whose curve ``keep`` keeps, in ``order``, marked ``status``."""
        order = order or {}
        if self.parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pq.read_table(self.path)
            names = table.column("curve").to_pylist()
            kept = [i for i, name in enumerate(names) if keep(name)]
            table = table.take(pa.array(sorted(kept, key=lambda i: (order.get(names[i], len(order)), i)), pa.int64()))
            if status is not None:
                marks = pa.array([status] * table.num_rows, pa.string())
                table = table.set_column(table.schema.get_field_index("run_status"), "run_status", marks)
            atomic_write(self.path, lambda tmp: pq.write_table(table, tmp))
            return
        with open(self.path, newline="", encoding="utf-8") as fh:
            header, *rows = list(csv.reader(fh))
        i, j = header.index("curve"), header.index("run_status")
        rows = sorted((r for r in rows if keep(r[i])), key=lambda r: order.get(r[i], len(order)))  # stable
        for r in rows:
            r[j] = r[j] if status is None else status

        def write(tmp: str) -> None:
            with open(tmp, "w", newline="", encoding="utf-8") as out:
                csv.writer(out).writerows([header, *rows])

        atomic_write(self.path, write)
