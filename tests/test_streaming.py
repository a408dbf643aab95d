"""Streaming a curves file in chunks and appending answers to CSV or Parquet: exact, no sampling."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from curvecast.answer_file import AnswerFile
from curvecast.batch import answer_columns
from curvecast.curve_stream import CurveFile
from curvecast.errors import CurvecastError
from curvecast.parallel import check_runner_options, map_curves

COLUMNS = {"curve": "str", "family": "str", "n_points": "int", "median@100": "float", "ok": "bool", "error": "str"}


def _rows(names, sizes=(10, 20, 40, 80)) -> str:
    return "".join(f"{c},{n},{0.1 + 0.01 * i + 0.001 * k}\n" for k, c in enumerate(names) for i, n in enumerate(sizes))


@pytest.fixture
def gz_file(tmp_path):
    path = tmp_path / "curves.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("curve,n,metric\n" + _rows([f"c{k}" for k in range(7)]))
    return path


@pytest.mark.parametrize("rows", [1, 3, 5, 1000], ids=lambda r: f"{r}-rows-a-read")
def test_a_compressed_file_streams_curve_by_curve_whatever_the_chunk(gz_file, rows):
    f = CurveFile(gz_file, rows=rows)
    assert f.scan() == [f"c{k}" for k in range(7)] and f.streamed
    curves = list(f)
    assert [c[0] for c in curves] == [f"c{k}" for k in range(7)]
    for k, (_, n, y, _) in enumerate(curves):  # a curve cut by a chunk boundary comes out whole
        assert list(n) == [10, 20, 40, 80] and y == pytest.approx([0.1 + 0.01 * i + 0.001 * k for i in range(4)])
    assert CurveFile(gz_file, rows=rows).scan(limit=3) == ["c0", "c1", "c2"]


def test_scattered_rows_are_read_whole_and_give_the_same_curves(tmp_path):
    path = tmp_path / "scattered.csv"
    lines = _rows(["a", "b"]).splitlines()
    path.write_text("curve,n,metric\n" + "\n".join(lines[0::2] + lines[1::2]) + "\n")  # a, b, a, b, ...
    f = CurveFile(path, rows=2)
    assert f.scan() == ["a", "b"] and not f.streamed
    assert {name: list(n) for name, n, *_ in f} == {"a": [10, 40, 20, 80], "b": [10, 40, 20, 80]}


def test_bad_files_are_refused_before_any_work(tmp_path):
    with pytest.raises(CurvecastError, match="not found"):
        CurveFile(tmp_path / "missing.csv").scan()
    bad = tmp_path / "bad.csv"
    bad.write_text("curve,n,metric\na,10,0.1\na,20,oops\na,40,0.3\n")
    with pytest.raises(CurvecastError, match="non-numeric"):
        CurveFile(bad).scan()
    nocol = tmp_path / "nocol.csv"
    nocol.write_text("curve,foo,bar\na,1,x\na,2,y\na,3,z\n")
    with pytest.raises(CurvecastError, match="no n"):
        CurveFile(nocol).scan()
    with pytest.raises(CurvecastError, match="--limit"):
        CurveFile(bad).scan(limit=0)


def test_answer_columns_match_a_row_of_answers():
    cols = answer_columns([1e4, 2e4], [0.5], 0.8)
    assert list(cols)[:4] == ["curve", "family", "n_points", "n_max"]
    assert {"median@10000", "q95@20000", "p_reach_0.5@20000", "n_needed_0.5_p0.8", "p_never_0.5", "error"} <= set(cols)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_answers_append_resume_without_duplicates_and_finish_in_input_order(tmp_path, suffix):
    path = tmp_path / f"answers{suffix}"
    out = AnswerFile(path, COLUMNS, flush_seconds=0)
    assert out.append({"curve": "b", "family": "pow3", "n_points": 4, "median@100": 0.5, "ok": True})
    assert out.append({"curve": "x", "error": "need at least 3 distinct n"})
    assert not out.append({"curve": "b", "median@100": 0.9})  # never twice
    read = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    assert list(read.curve) == ["b", "x"] and set(read.run_status) == {"incomplete"}  # on disk already

    again = AnswerFile(path, COLUMNS, resume=True, flush_seconds=0)
    assert "b" in again and "x" in again and "a" not in again and again.incomplete == 2
    assert again.append({"curve": "a", "family": "pow3", "n_points": 5, "median@100": 0.25, "ok": False})
    assert not again.append({"curve": "b", "median@100": 0.9})
    again.finish({"a": 0, "b": 1, "x": 2})
    read = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    assert list(read.curve) == ["a", "b", "x"] and set(read.run_status) == {"complete"}
    assert read["median@100"].tolist()[:2] == [0.25, 0.5] and read.loc[2, "error"] == "need at least 3 distinct n"
    assert read.loc[0, "n_points"] == 5 and not read.loc[0, "ok"]
    before = path.read_bytes()
    with pytest.raises(CurvecastError, match="exists and is not empty: pass --resume to keep its answers"):
        AnswerFile(path, COLUMNS, flush_seconds=0)  # no --resume: a partial run would have replaced 3 answers
    assert path.read_bytes() == before and not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_resume_takes_out_the_failed_rows_it_answers_again_and_no_other(tmp_path, suffix):
    path = tmp_path / f"answers{suffix}"
    out = AnswerFile(path, COLUMNS, flush_seconds=0)
    out.append({"curve": "a", "median@100": 0.5})
    out.append({"curve": "b", "error": "KilledWorker: died 3 times"})
    out.append({"curve": "c", "error": "need at least 3 distinct n"})
    out.finish({"a": 0, "b": 1, "c": 2})
    again = AnswerFile(path, COLUMNS, resume=True, flush_seconds=0)
    assert again.failed == {"b", "c"} and again.incomplete == 0
    assert again.retry_failed(["a", "b"]) == 1  # c is not in this run (--limit): its row stays
    read = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    assert list(read.curve) == ["a", "c"] and "b" not in again and "c" in again and "a" in again
    assert again.append({"curve": "b", "median@100": 0.75})
    again.finish({"a": 0, "b": 1, "c": 2})
    read = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    assert list(read.curve) == ["a", "b", "c"] and read["median@100"].tolist()[:2] == [0.5, 0.75]
    assert read.error.isna().tolist() == [True, True, False] and set(read.run_status) == {"complete"}


def test_batch_resume_answers_failed_curves_again_and_counts_them(tmp_path):
    """A row that failed (a worker died, a curve too short) is tried again by --resume; this one
    fails again at once (2 sizes), so no sampling is needed to see it counted and written once."""
    from curvecast.batch import Batch, settings_of
    from curvecast.parallel import InProcess

    src, path = tmp_path / "curves.csv", tmp_path / "answers.csv"
    src.write_text("curve,n,metric\n" + _rows(["a"]) + _rows(["short"], sizes=(10, 20)))
    cols = answer_columns([100.0], [], 0.8)
    old = AnswerFile(path, cols, settings=settings_of({}, {}, src))
    old.append({"curve": "a", "family": "pow3", "median@100": 0.5})
    old.append({"curve": "short", "error": "KilledWorker: died 3 times"})
    old.finish()
    batch = Batch(src, path, at=[100], resume=True)
    assert (batch.skipped, batch.retried, batch.todo) == (1, 1, 1)
    stats = batch.run(InProcess())
    assert (stats["answered"], stats["failed"], stats["retried"]) == (0, 1, 1)
    read = pd.read_csv(path)
    assert list(read.curve) == ["a", "short"] and "distinct" in read.error[1] and read["median@100"][0] == 0.5


def test_resume_cuts_a_line_left_half_written_by_kill_9(tmp_path):
    path = tmp_path / "a.csv"
    out = AnswerFile(path, COLUMNS)
    out.append({"curve": "a", "median@100": 0.5})
    path.write_text(path.read_text() + "b,pow3,4,0.3")  # the process died in the middle of a row
    again = AnswerFile(path, COLUMNS, resume=True)
    assert again.curves == {"a"}
    again.append({"curve": "b", "median@100": 0.25})
    assert pd.read_csv(path).curve.tolist() == ["a", "b"]


def test_resume_refuses_a_file_written_with_other_questions(tmp_path):
    path = tmp_path / "a.parquet"
    AnswerFile(path, COLUMNS, flush_seconds=0).append({"curve": "a"})
    with pytest.raises(CurvecastError, match=r"columns differ.*median@200.*or another curvecast version\?"):
        AnswerFile(path, {**COLUMNS, "median@200": "float"}, resume=True)
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(CurvecastError, match="not a readable Parquet"):
        AnswerFile(path, COLUMNS, resume=True)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"workers": 2}, "--scheduler local"),
        ({"scheduler": "local", "jobs": 2}, "--jobs counts local processes"),
        ({"scheduler": "tcp://127.0.0.1:8786", "workers": 2}, "brings its own workers"),
        ({"scheduler": "nowhere"}, "neither 'local' nor an address"),
        ({"jobs": 0}, "at least 1"),
        ({"scheduler": "local", "workers": 0}, "at least 1"),
    ],
)
def test_engine_options_that_do_not_go_together_are_refused(options, match):
    with pytest.raises(CurvecastError, match=match):
        check_runner_options(**options)


def test_the_default_engine_never_imports_dask():
    code = (
        "import sys, curvecast.batch, curvecast.backtest, curvecast.cli.bulk\n"
        "from curvecast.parallel import map_curves\n"
        "assert map_curves(abs, [-1, -2], jobs=1) == ([1, 2], False)\n"
        "print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_map_curves_in_process_keeps_order_and_reports_progress():
    seen = []
    results, interrupted = map_curves(np.negative, [1, 2, 3], jobs=1, progress=lambda d, t: seen.append((d, t)))
    assert results == [-1, -2, -3] and not interrupted and seen == [(1, 3), (2, 3), (3, 3)]


def test_curve_by_names_the_curve_column_streamed_or_not(tmp_path):
    path = tmp_path / "models.csv"
    path.write_text("model,n,metric\n" + _rows(["a", "b"]))
    for rows in (2, 1000):
        assert [(name, list(n)) for name, n, *_ in CurveFile(path, curve_by="model", rows=rows)] == [
            ("a", [10, 20, 40, 80]),
            ("b", [10, 20, 40, 80]),
        ]
    with pytest.raises(CurvecastError, match="--curve-by column 'arch' not found; columns are: model, n, metric"):
        CurveFile(path, curve_by="arch").scan()


def test_a_worker_that_dies_stops_the_pool_with_a_clear_error_instead_of_hanging():
    from curvecast.parallel import WorkerDied

    with pytest.raises(WorkerDied, match=r"a worker process died \(killed, or out of memory\?\)"):
        map_curves(os._exit, [3, 4, 5], jobs=2)  # each task ends its worker process at once
    results, interrupted = map_curves(abs, [-1, -2, -3], jobs=2)  # a new pool works after a broken one
    assert sorted(results) == [1, 2, 3] and not interrupted


def test_resume_refuses_rows_answered_with_other_settings(tmp_path):
    """Rows fitted as increasing and rows fitted as decreasing (or with another seed, prior file or
    version) must never share one file: every row says how it was answered, and resume compares."""
    from curvecast.batch import Batch, settings_of

    src, path = tmp_path / "curves.csv", tmp_path / "answers.csv"
    src.write_text("curve,n,metric\n" + _rows(["a", "b"]))
    prior = tmp_path / "p.toml"
    prior.write_text("[pow3]\n")
    kw = {"draws": 200, "chains": 2, "seed": 1, "priors": prior}
    first = settings_of(kw, {"increasing": True}, src)
    assert "seed=1" in first and "p.toml@" in first and "P(metric >= target)" in first
    out = AnswerFile(path, answer_columns([100.0], [], 0.8), settings=first)
    out.append({"curve": "a", "median@100": 0.5})
    out.finish()
    assert pd.read_csv(path).settings.tolist() == [first]
    Batch(src, path, at=[100], fit_kwargs=kw, resume=True)  # the same settings: accepted
    changed = [({**kw, "seed": 2}, {}, "seed=1; this run: seed=2"), (kw, {"increasing": False}, "decreasing"),
               ({**kw, "family": "exp3"}, {}, "family=exp3"), (kw, {"metric_max": 0.9}, "bounds")]  # fmt: skip
    for fit_kwargs, meta, said in changed:
        with pytest.raises(CurvecastError, match=f"other settings .*{re.escape(said)}"):
            Batch(src, path, at=[100], fit_kwargs=fit_kwargs, meta=meta, resume=True)
    prior.write_text("[pow3]\nalpha = { dist = 'LogNormal', mu = 0, sigma = 1 }\n")  # the file changed
    with pytest.raises(CurvecastError, match=r"other settings .*p\.toml@"):
        Batch(src, path, at=[100], fit_kwargs=kw, resume=True)
    other = tmp_path / "other.csv"  # another data file resumed into these answers
    other.write_text("curve,n,metric\n" + _rows(["c"]))
    with pytest.raises(CurvecastError, match=r"other settings \(data curves\.csv.*; this run: data other\.csv"):
        Batch(other, path, at=[100], fit_kwargs=kw, resume=True)
    assert pd.read_csv(path).curve.tolist() == ["a"]  # nothing was touched


@pytest.mark.parametrize("name", ["answers.csv.gz", "answers.tsv", "answers.json"])
def test_answers_are_written_only_where_the_name_says_csv_or_parquet(tmp_path, name):
    with pytest.raises(CurvecastError, match=r"must end in \.csv or \.parquet or \.pq"):
        AnswerFile(tmp_path / name, COLUMNS)  # was: plain CSV under a .gz or .json name


@pytest.mark.parametrize("rows", [2, 1000])
def test_notes_on_how_a_curve_was_read_travel_with_it_to_its_batch_row(tmp_path, rows):
    from curvecast.batch import build_curve

    path = tmp_path / "dup.csv"
    path.write_text("curve,n,metric\n" + _rows(["a"]) + "a,10,0.1\n" + _rows(["b"]))  # a's first row twice
    (a, na, ya, notes_a), (b, *_, notes_b) = list(CurveFile(path, rows=rows))
    assert (a, b) == ("a", "b") and notes_b == ()
    assert notes_a == ("1 row repeats an earlier row exactly (same n and value): read as replicate runs; "
                       "if they are copies, remove them",)  # fmt: skip
    assert build_curve(a, na, ya, {}, notes_a).notes == notes_a  # and so into the row's notes column
