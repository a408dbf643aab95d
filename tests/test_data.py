"""CurveData validation, metric bounds, replicates, and file input."""

from __future__ import annotations

import gzip
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from curvecast.curve_stream import CurveFile
from curvecast.data import (
    PERCENT_NOTE,
    CurveData,
    bundled_seed_path,
    curves_from_frame,
    load_curves,
    read_table,
    select_curve,
)
from curvecast.errors import CurvecastError

MAP_N = [1183, 2957, 5914, 11829]
MAP_Y = [0.191, 0.262, 0.323, 0.376]
PARTIN = Path("/work/shared/benchmarks/partin_drug_response_mae_dev.csv")


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------
class TestValidation:
    def test_error_type(self):
        assert issubclass(CurvecastError, ValueError)

    @pytest.mark.parametrize(
        ("n", "y", "match"),
        [
            ([1, 2, 3], [0.1, math.nan, 0.3], "metric contains NaN or inf"),
            ([1, 2, 3], [0.1, math.inf, 0.3], "metric contains NaN or inf"),
            ([1, math.nan, 3], [0.1, 0.2, 0.3], "n contains NaN or inf"),
            ([1, 2, math.inf], [0.1, 0.2, 0.3], "n contains NaN or inf"),
            ([1, 2, 3], [0.1, "high", 0.3], "metric must be numeric"),
            (["one", 2, 3], [0.1, 0.2, 0.3], "n must be numeric"),
            ([1, 2, 3], [0.1, None, 0.3], "metric contains NaN or inf"),
            ([0, 2, 3, 4], [0.0, 0.2, 0.3, 0.4], r"n must be > 0 \(found 0\); drop rows"),
            ([1, -2, 3, 4], [0.1, 0.2, 0.3, 0.4], r"n must be > 0 \(found -2\)"),
            (
                [1, 1, 2, 2],
                [0.1, 0.2, 0.3, 0.4],
                "need at least 3 distinct n to fit a curve, got 2",
            ),
            ([5, 5, 5], [0.1, 0.2, 0.3], "need at least 3 distinct n .* got 1"),
            ([1, 2, 3], [0.1, 0.2], "n and metric must be 1-d and the same length"),
            ([[1, 2, 3]], [[0.1, 0.2, 0.3]], "must be 1-d"),
        ],
    )
    def test_bad_rows(self, n, y, match):
        with pytest.raises(CurvecastError, match=match):
            CurveData(n, y)

    @pytest.mark.parametrize(
        ("y", "kw", "match"),
        [
            (
                [0.1, 0.2, 1.3],
                {"metric_max": 1.0},
                r"metric value 1\.3 is above the metric's upper bound 1; .*--metric-max",
            ),
            (
                [0.1, 0.2, 0.3],
                {"metric_min": 0.2},
                r"metric value 0\.1 is below the metric's lower bound 0\.2; .*--metric-min",
            ),
            ([0.1, 0.2, 0.3], {"metric_min": 0.0, "metric_max": 0.25}, "above the metric's upper"),
            ([-0.1, 0.2, 0.3], {"metric_min": 0.0, "metric_max": 1.0}, "below the metric's lower"),
        ],
    )
    def test_values_outside_declared_bounds(self, y, kw, match):
        with pytest.raises(CurvecastError, match=match):
            CurveData([1, 2, 3], y, **kw)

    @pytest.mark.parametrize(("lo", "hi"), [(1.0, 0.0), (0.5, 0.5)])
    def test_min_not_below_max(self, lo, hi):
        with pytest.raises(CurvecastError, match=r"metric_min \(.*\) must be below metric_max"):
            CurveData([1, 2, 3], [0.5, 0.5, 0.5], metric_min=lo, metric_max=hi)

    @pytest.mark.parametrize("kw", [{"metric_max": math.inf}, {"metric_min": -math.inf}, {"metric_min": math.nan}])
    def test_non_finite_bounds(self, kw):
        with pytest.raises(CurvecastError, match="must be finite"):
            CurveData([1, 2, 3], [0.1, 0.2, 0.3], **kw)

    def test_rows_sorted_by_n_and_kept(self):
        d = CurveData([300, 100, 200, 100], [0.3, 0.1, 0.2, 0.15], name="c")
        np.testing.assert_array_equal(d.n, [100, 100, 200, 300])
        np.testing.assert_array_equal(d.y, [0.1, 0.15, 0.2, 0.3])
        assert d.n_ref == 300.0
        assert d.name == "c"

    def test_frozen(self):
        d = CurveData(MAP_N, MAP_Y)
        with pytest.raises(AttributeError):
            d.increasing = False  # type: ignore[misc]


# ---------------------------------------------------------------------------
# metric direction and bounds
# ---------------------------------------------------------------------------
class TestBounds:
    def test_increasing_in_unit_interval(self):
        d = CurveData(MAP_N, MAP_Y)
        assert (d.metric_min, d.metric_max) == (0.0, 1.0)
        assert d.bounds_inferred == (True, True)
        assert (d.best_bound, d.worst_bound, d.sign) == (1.0, 0.0, 1.0)

    def test_increasing_outside_unit_interval(self):
        d = CurveData([1, 2, 3], [110.0, 120.0, 130.0])  # above 100: not percentages
        assert (d.metric_min, d.metric_max) == (None, None)
        assert d.bounds_inferred == (False, False)
        assert d.best_bound is None and d.worst_bound is None

    def test_increasing_with_negative_values(self):
        d = CurveData([1, 2, 3], [-0.1, 0.2, 0.3])
        assert (d.metric_min, d.metric_max) == (None, None)

    def test_decreasing_non_negative(self):
        d = CurveData([1, 2, 3], [0.5, 0.3, 0.2], increasing=False)
        assert (d.metric_min, d.metric_max) == (0.0, None)
        assert d.bounds_inferred == (True, False)
        assert (d.best_bound, d.worst_bound, d.sign) == (0.0, None, -1.0)

    def test_decreasing_loss_above_one(self):
        d = CurveData([1, 2, 3], [2.5, 1.3, 0.9], increasing=False)
        assert (d.metric_min, d.metric_max) == (0.0, None)

    def test_decreasing_with_negative_values(self):
        d = CurveData([1, 2, 3], [0.5, 0.0, -0.2], increasing=False)
        assert (d.metric_min, d.metric_max) == (None, None)
        assert d.bounds_inferred == (False, False)

    def test_explicit_bounds_are_kept_and_not_inferred(self):
        d = CurveData([1, 2, 3], [10.0, 20.0, 30.0], metric_min=0, metric_max=100)
        assert (d.metric_min, d.metric_max) == (0.0, 100.0)
        assert isinstance(d.metric_min, float)
        assert d.bounds_inferred == (False, False)

    def test_one_explicit_bound_does_not_infer_the_other(self):
        d = CurveData([1, 2, 3], [0.1, 0.2, 0.3], metric_max=1.0)
        assert (d.metric_min, d.metric_max) == (None, 1.0)

    def test_symbols(self):
        d = CurveData(MAP_N, MAP_Y)
        sym = d.symbols()
        assert sym["y_last"] == 0.376
        assert sym["y_best"] == 0.376
        assert sym["y_spread"] == pytest.approx(0.376 - 0.191)
        assert (sym["metric_min"], sym["metric_max"]) == (0.0, 1.0)
        assert sym["log_noise_scale"] == pytest.approx(math.log(0.02 * (0.376 - 0.191)))

    def test_symbols_unbounded_stand_ins(self):
        d = CurveData([1, 2, 3], [110.0, 120.0, 130.0])
        sym = d.symbols()
        assert sym["metric_min"] == 110.0 - 100 * 20.0
        assert sym["metric_max"] == 130.0 + 100 * 20.0

    def test_symbols_decreasing(self):
        d = CurveData([1, 2, 3], [0.5, 0.3, 0.2], increasing=False)
        sym = d.symbols()
        assert sym["y_best"] == 0.2
        assert sym["metric_min"] == 0.0
        assert sym["metric_max"] == pytest.approx(0.5 + 100 * 0.3)

    def test_check_target(self):
        d = CurveData(MAP_N, MAP_Y)
        for ok in (0.0, 0.5, 0.999):  # 1.0, the best bound, is refused (its own test)
            d.check_target(ok)
        for bad in (1.2, -0.1):
            with pytest.raises(CurvecastError, match=r"target .* lies outside the metric's bounds \[0, 1\]"):
                d.check_target(bad)
        with pytest.raises(CurvecastError, match="finite number"):
            d.check_target(math.nan)

    def test_check_target_one_sided(self):
        d = CurveData([1, 2, 3], [0.5, 0.3, 0.2], increasing=False)
        d.check_target(0.01)
        d.check_target(50.0)  # no ceiling
        with pytest.raises(CurvecastError, match=r"target -0\.01 lies outside the metric's bounds"):
            d.check_target(-0.01)

    def test_check_target_message_shows_missing_upper_bound_as_inf(self):
        d = CurveData([1, 2, 3], [0.5, 0.3, 0.2], increasing=False)
        with pytest.raises(CurvecastError, match=r"bounds \[0, inf\]"):
            d.check_target(-0.01)

    def test_subset(self):
        d = CurveData(MAP_N, MAP_Y, metric_min=0.0, metric_max=1.0, name="coco")
        s = d.subset(6000)
        np.testing.assert_array_equal(s.n, MAP_N[:3])
        assert (s.metric_min, s.metric_max, s.name) == (0.0, 1.0, "coco")
        with pytest.raises(CurvecastError, match="at least 3 distinct n"):
            d.subset(3000)


# ---------------------------------------------------------------------------
# replicates
# ---------------------------------------------------------------------------
class TestReplicates:
    N = (1, 1, 2, 2, 3, 3)
    Y = (0.1, 0.2, 0.3, 0.5, 0.6, 0.6)

    def test_replicates_are_kept(self):
        d = CurveData(self.N, self.Y)
        assert d.has_replicates
        assert d.n.size == 6
        np.testing.assert_array_equal(d.y, self.Y)
        assert d.symbols()["y_last"] == 0.6

    def test_noise_scale_is_pooled_replicate_sd(self):
        d = CurveData(self.N, self.Y)
        # groups: (0.1, 0.2) ss = 0.005; (0.3, 0.5) ss = 0.02; (0.6, 0.6) ss = 0; dof = 3
        assert d.noise_scale() == pytest.approx(math.sqrt(0.025 / 3), rel=1e-12)
        assert d.symbols()["log_noise_scale"] == pytest.approx(math.log(math.sqrt(0.025 / 3)))

    def test_noise_scale_uneven_groups(self):
        d = CurveData([1, 1, 1, 2, 3, 3], [0.1, 0.2, 0.3, 0.4, 0.6, 0.7])
        ss = 0.02 + 0.005  # (0.1, 0.2, 0.3) around 0.2; (0.6, 0.7) around 0.65
        assert d.noise_scale() == pytest.approx(math.sqrt(ss / 3), rel=1e-12)

    def test_y_last_averages_replicates_at_n_ref(self):
        d = CurveData([1, 2, 3, 3], [0.1, 0.2, 0.3, 0.4])
        assert d.symbols()["y_last"] == pytest.approx(0.35)

    def test_noise_scale_without_replicates(self):
        d = CurveData(MAP_N, MAP_Y)
        assert not d.has_replicates
        assert d.noise_scale() == pytest.approx(0.02 * (0.376 - 0.191))

    def test_identical_replicates_fall_back_to_floor(self):
        d = CurveData([1, 1, 2, 3], [0.1, 0.1, 0.2, 0.5])
        assert d.noise_scale() == pytest.approx(0.02 * 0.4)


# ---------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------
def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


CSV = "n,metric\n1000,0.25\n2000,0.30\n4000,0.35\n"


class TestReadTable:
    def test_csv(self, tmp_path):
        path = _write(tmp_path / "c.csv", CSV)
        curves = curves_from_frame(read_table(path))
        assert list(curves) == ["curve"]
        n, y = curves["curve"]
        np.testing.assert_array_equal(n, [1000, 2000, 4000])
        np.testing.assert_array_equal(y, [0.25, 0.30, 0.35])
        assert n.dtype == np.float64 and y.dtype == np.float64

    def test_tsv(self, tmp_path):
        path = _write(tmp_path / "c.tsv", "images\tmAP\n100\t0.1\n200\t0.2\n400\t0.3\n")
        n, y = load_curves(path)["curve"]
        np.testing.assert_array_equal(n, [100, 200, 400])
        np.testing.assert_array_equal(y, [0.1, 0.2, 0.3])

    @pytest.mark.parametrize("suffix", [".jsonl", ".ndjson", ".json"])
    def test_json_lines(self, tmp_path, suffix):
        rows = [
            {"samples": 10, "accuracy": 0.5},
            {"samples": 20, "accuracy": 0.6},
            {"samples": 40, "accuracy": 0.7},
        ]
        text = "\n".join(json.dumps(r) for r in rows) + "\n\n"
        path = _write(tmp_path / f"c{suffix}", text)
        n, y = load_curves(path)["curve"]
        np.testing.assert_array_equal(n, [10, 20, 40])
        np.testing.assert_array_equal(y, [0.5, 0.6, 0.7])

    def test_bad_json_lines_name_the_right_line(self, tmp_path):
        path = _write(tmp_path / "c.jsonl", '{"n": 1, "metric": 0.2}\n\n\n{bad json\n')
        with pytest.raises(CurvecastError, match=r"line 4 is not valid JSON"):
            read_table(path)

    @pytest.mark.parametrize(
        ("name", "content", "what"),
        [
            ("c.json", b'[{"n": 1, "metric": 0.2}]', "a JSON array"),
            ("c.parquet", b"PAR1\x00\x00binary", "a Parquet file"),
            ("c.xlsx", b"PK\x03\x04\x14\x00binary", "is an Excel file or another zip archive, an"),
            ("c.xls", b"\xd0\xcf\x11\xe0binary", "is an old Excel (.xls) file, an"),
            ("c.csv", b"\xff\xfe\x00b\x00a\x00d", "not UTF-8 text"),
        ],
    )
    def test_unsupported_formats_say_what_is_supported(self, tmp_path, name, content, what):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(CurvecastError, match=re.escape(what) + ".*unsupported format; supported: CSV"):
            read_table(path)

    def test_missing_file(self, tmp_path):
        with pytest.raises(CurvecastError, match=r"file '.*nope\.csv' not found"):
            read_table(tmp_path / "nope.csv")

    def test_directory(self, tmp_path):
        with pytest.raises(CurvecastError, match="is a directory"):
            read_table(tmp_path)

    def test_empty_file(self, tmp_path):
        with pytest.raises(CurvecastError, match="is empty; it needs a header row"):
            read_table(_write(tmp_path / "e.csv", ""))

    def test_header_only(self, tmp_path):
        with pytest.raises(CurvecastError, match="holds no table"):
            read_table(_write(tmp_path / "h.csv", "n,metric\n"))

    @pytest.mark.parametrize(
        ("suffix", "text"),
        [
            pytest.param(
                ".csv",
                CSV,
                id="csv",
            ),
            pytest.param(".tsv", CSV.replace(",", "\t"), id="tsv"),
            pytest.param(
                ".jsonl",
                '{"n": 1000, "metric": 0.25}\n{"n": 2000, "metric": 0.3}\n{"n": 4000, "metric": 0.35}\n',
                id="jsonl",
            ),
        ],
    )
    def test_utf8_bom(self, tmp_path, suffix, text):
        path = tmp_path / f"bom{suffix}"
        path.write_bytes(b"\xef\xbb\xbf" + text.encode())
        n, _ = load_curves(path)["curve"]
        np.testing.assert_array_equal(n, [1000, 2000, 4000])


class TestColumns:
    @pytest.mark.parametrize(
        ("header", "x", "y"),
        [
            ("n,metric", "n", "metric"),
            ("images,map", "images", "map"),
            ("Images,mAP", "Images", "mAP"),
            ("samples,accuracy", "samples", "accuracy"),
            ("train_size,loss", "train_size", "loss"),
            ("tokens,score", "tokens", "score"),
        ],
    )
    def test_auto_detection(self, tmp_path, header, x, y):
        path = _write(tmp_path / "c.csv", f"{header}\n10,0.1\n20,0.2\n40,0.3\n")
        df = read_table(path)
        assert list(df.columns) == [x, y]
        n, v = curves_from_frame(df)["curve"]
        np.testing.assert_array_equal(n, [10, 20, 40])
        np.testing.assert_array_equal(v, [0.1, 0.2, 0.3])

    def test_ambiguous_x(self, tmp_path):
        path = _write(tmp_path / "c.csv", "n,size,metric\n1,1,0.1\n2,2,0.2\n3,3,0.3\n")
        with pytest.raises(CurvecastError, match=r"ambiguous n \(x\) column: n, size; pick one with --x COLUMN"):
            load_curves(path)

    def test_ambiguous_y(self, tmp_path):
        path = _write(tmp_path / "c.csv", "n,accuracy,loss\n1,0.1,2\n2,0.2,1\n3,0.3,0.5\n")
        with pytest.raises(CurvecastError, match=r"ambiguous metric \(y\) column: accuracy, loss; .*--y COLUMN"):
            load_curves(path)

    def test_missing_x(self, tmp_path):
        path = _write(tmp_path / "c.csv", "budget,metric,epochs\n1,0.1,5\n2,0.2,5\n3,0.3,5\n")  # 3 numeric columns
        with pytest.raises(
            CurvecastError,
            match=r"no n \(x\) column found among budget, metric, epochs; "
            r"name it one of n, .* or pass --x COLUMN",
        ):
            load_curves(path)

    def test_missing_y(self, tmp_path):
        path = _write(tmp_path / "c.csv", "n,quality,epochs\n1,0.1,5\n2,0.2,5\n3,0.3,5\n")
        with pytest.raises(CurvecastError, match=r"no metric \(y\) column found .*--y COLUMN"):
            load_curves(path)

    def test_explicit_columns(self, tmp_path):
        path = _write(tmp_path / "c.csv", "budget,quality,n\n1,0.1,9\n2,0.2,8\n3,0.3,7\n")
        n, y = load_curves(path, x="budget", y="quality")["curve"]
        np.testing.assert_array_equal(n, [1, 2, 3])
        np.testing.assert_array_equal(y, [0.1, 0.2, 0.3])
        # explicit columns also settle an ambiguity
        path = _write(tmp_path / "d.csv", "n,size,metric\n1,10,0.1\n2,20,0.2\n3,30,0.3\n")
        n, _ = load_curves(path, x="size")["curve"]
        np.testing.assert_array_equal(n, [10, 20, 30])

    def test_explicit_column_not_found(self, tmp_path):
        path = _write(tmp_path / "c.csv", CSV)
        with pytest.raises(CurvecastError, match=r"column 'budget' not found; columns are: n, metric"):
            load_curves(path, x="budget")

    def test_explicit_same_column_twice(self, tmp_path):
        path = _write(tmp_path / "c.csv", CSV)
        with pytest.raises(CurvecastError, match="--x and --y both point at column 'n'"):
            load_curves(path, x="n", y="n")

    @pytest.mark.parametrize(
        ("bad", "shown"), [("", r"an empty cell \(or NaN/null\)"), ("abc", r"a non-numeric value \('abc'\)")]
    )
    def test_non_numeric_cell(self, tmp_path, bad, shown):
        path = _write(tmp_path / "c.csv", f"n,metric\n1,0.1\n2,{bad}\n3,0.3\n")
        with pytest.raises(CurvecastError, match=rf"^column 'metric' has {shown} in data row 2 \(n=2\); fix"):
            load_curves(path)


MULTI = (
    "curve,n,metric\n"
    "coco,1,0.1\ncoco,2,0.2\ncoco,3,0.3\n"
    "bdd,1,0.2\nbdd,2,0.3\nbdd,3,0.4\n"
    "bdd_v2,1,0.25\nbdd_v2,2,0.35\nbdd_v2,3,0.45\n"
)


class TestMultiCurve:
    def test_split_by_curve(self, tmp_path):
        curves = load_curves(_write(tmp_path / "m.csv", MULTI))
        assert list(curves) == ["coco", "bdd", "bdd_v2"]
        np.testing.assert_array_equal(curves["bdd"][1], [0.2, 0.3, 0.4])

    def test_select_without_name_lists_curves(self, tmp_path):
        curves = load_curves(_write(tmp_path / "m.csv", MULTI))
        with pytest.raises(
            CurvecastError,
            match=r"the file holds 3 curves; pick one with "
            r"--curve NAME: coco, bdd, bdd_v2",
        ):
            select_curve(curves, None)

    def test_select_by_name(self, tmp_path):
        curves = load_curves(_write(tmp_path / "m.csv", MULTI))
        name, (n, y) = select_curve(curves, "bdd")
        assert name == "bdd"
        np.testing.assert_array_equal(n, [1, 2, 3])
        np.testing.assert_array_equal(y, [0.2, 0.3, 0.4])

    def test_select_single_curve_without_name(self, tmp_path):
        name, (n, _) = select_curve(load_curves(_write(tmp_path / "c.csv", CSV)), None)
        assert name == "curve"
        assert n.size == 3

    def test_select_unknown_name_suggests(self, tmp_path):
        curves = load_curves(_write(tmp_path / "m.csv", MULTI))
        with pytest.raises(CurvecastError, match=r"no curve named 'BDD'.*Did you mean: bdd, bdd_v2"):
            select_curve(curves, "BDD")
        with pytest.raises(CurvecastError, match=r"no curve named 'x'.*Curves: coco, bdd, bdd_v2"):
            select_curve(curves, "x")

    def test_many_curves_are_truncated_in_the_message(self):
        curves = {f"c{i}": (np.arange(1.0, 4.0), np.arange(3.0)) for i in range(12)}
        with pytest.raises(CurvecastError, match=r"holds 12 curves.*c9, \.\.\. \(12 in all\)"):
            select_curve(curves, None)


DUP_HEADER = (
    "curve,n,seed,metric,metric\n"
    "gbdt.a,10,0,mean_absolute_error,0.134700\n"
    "gbdt.a,10,1,mean_absolute_error,0.441561\n"
    "gbdt.a,100,0,mean_absolute_error,0.120000\n"
    "gbdt.a,100,1,mean_absolute_error,0.110000\n"
    "gbdt.a,1000,0,mean_absolute_error,0.090000\n"
    "gbdt.a,1000,1,mean_absolute_error,0.095000\n"
    "gbdt.b,10,0,mean_absolute_error,0.300000\n"
    "gbdt.b,100,0,mean_absolute_error,0.200000\n"
    "gbdt.b,1000,0,mean_absolute_error,0.100000\n"
)


class TestDuplicatedHeader:
    def test_numeric_metric_column_is_picked(self, tmp_path):
        path = _write(tmp_path / "partin.csv", DUP_HEADER)
        curves = load_curves(path)
        assert list(curves) == ["gbdt.a", "gbdt.b"]
        n, y = curves["gbdt.a"]
        np.testing.assert_array_equal(n, [10, 10, 100, 100, 1000, 1000])
        np.testing.assert_array_equal(y, [0.1347, 0.441561, 0.12, 0.11, 0.09, 0.095])
        d = CurveData(n, y, increasing=False, name="gbdt.a")
        assert d.has_replicates
        assert (d.metric_min, d.metric_max) == (0.0, None)

    def test_two_numeric_duplicates_are_ambiguous(self, tmp_path):
        path = _write(tmp_path / "dup.csv", "n,metric,metric\n1,0.1,0.2\n2,0.2,0.3\n3,0.3,0.4\n")
        with pytest.raises(CurvecastError, match=r"ambiguous metric \(y\) column: metric, metric\.1"):
            load_curves(path)

    @pytest.mark.skipif(not PARTIN.is_file(), reason="shared benchmark corpus not present")
    def test_real_partin_file(self):
        before = PARTIN.read_bytes()
        curves = load_curves(PARTIN)
        assert len(curves) == 2
        for name, (n, y) in curves.items():
            d = CurveData(n, y, increasing=False, name=name)
            assert d.has_replicates
            assert np.all((d.y > 0) & (d.y < 5))
        assert PARTIN.read_bytes() == before


class TestInputUntouched:
    @pytest.mark.parametrize(
        ("name", "text"),
        [
            ("c.csv", CSV),
            ("c.tsv", CSV.replace(",", "\t")),
            (
                "c.jsonl",
                '{"n": 1, "metric": 0.1}\n{"n": 2, "metric": 0.2}\n{"n": 3, "metric": 0.3}',
            ),
            ("partin.csv", DUP_HEADER),
            ("crlf.csv", CSV.replace("\n", "\r\n")),
        ],
    )
    def test_file_is_byte_identical_after_reading(self, tmp_path, name, text):
        path = tmp_path / name
        path.write_bytes(text.encode())
        before = path.read_bytes()
        mtime = path.stat().st_mtime_ns
        curves = load_curves(path)
        select_curve(curves, next(iter(curves)))
        assert path.read_bytes() == before
        assert path.stat().st_mtime_ns == mtime
        assert sorted(p.name for p in tmp_path.iterdir()) == [name]

    def test_bundled_seed_file(self):
        path = bundled_seed_path()
        before = path.read_bytes()
        curves = load_curves(path)
        assert len(curves) == 4
        for name, (n, y) in curves.items():
            d = CurveData(n, y, name=name)
            assert (d.metric_min, d.metric_max) == (0.0, 1.0)
        assert path.read_bytes() == before


# ---------------------------------------------------------------------------
# what a hostile probe found
# ---------------------------------------------------------------------------
def _both(path: Path, **kw):
    """The curves of ``path`` as the whole-file reader and the streamed reader (``curvecast batch``) read them."""
    whole = {name: (n.tolist(), y.tolist()) for name, (n, y) in load_curves(path, **kw).items()}
    f = CurveFile(path, **kw)
    f.scan()
    return whole, {name: (n.tolist(), y.tolist()) for name, n, y, _ in f}


def _refused_by_both(path: Path, match: str) -> None:
    with pytest.raises(CurvecastError, match=match):
        load_curves(path)
    with pytest.raises(CurvecastError, match=match):
        CurveFile(path).scan()


JL = '{{"n": {}, "map": {}}}\n'


class TestBooleans:
    @pytest.mark.parametrize(
        ("rows", "match"),
        [
            ([(1183, 0.191), (2957, 0.262), (5914, 0.323), (11829, "true")], r"'map' has a true/false value \(True\) "),
            ([(1183, 0.191), (2957, "false"), (5914, 0.323), (11829, 0.4)], r"'map' has a true/false value \(False\) "),
            ([("true", 0.191), (2957, 0.262), (5914, 0.323), (11829, 0.4)], r"'n' has a true/false value \(True\) "),
            ([(1, "true"), (2, "false"), (3, "true")], r"'map' has a true/false value \(True\) in data row 1 "),
        ],
    )
    def test_json_lines_booleans_are_refused(self, tmp_path, rows, match):
        path = _write(tmp_path / "b.jsonl", "".join(JL.format(n, y) for n, y in rows))
        _refused_by_both(path, match + r".*fix or drop that row")

    def test_where_the_boolean_is(self, tmp_path):
        rows = [(1183, 0.191), (2957, 0.262), (5914, 0.323), (11829, "true")]
        path = _write(tmp_path / "b.jsonl", "".join(JL.format(n, y) for n, y in rows))
        _refused_by_both(path, r"^column 'map' has a true/false value \(True\) in data row 4 \(n=11829\); fix")

    def test_csv_column_of_booleans(self, tmp_path):
        _refused_by_both(_write(tmp_path / "b.csv", "n,map\n1,True\n2,False\n3,True\n"), "true/false value")

    @pytest.mark.parametrize(
        "y", [[0.1, True, 0.3], np.array([True, False, True]), np.array([0.1, True, 0.3], dtype=object)]
    )
    def test_curve_data_refuses_booleans(self, y):
        with pytest.raises(CurvecastError, match="metric must be numeric; found a true/false value"):
            CurveData([1, 2, 3], y)
        with pytest.raises(CurvecastError, match="n must be numeric; found a true/false value"):
            CurveData([True, 2, 3], [0.1, 0.2, 0.3])

    def test_numbers_still_read(self, tmp_path):
        rows = [(1, 0), (2, 1), (3, 0.5)]  # 0 and 1 as numbers are not booleans
        whole, streamed = _both(_write(tmp_path / "ok.jsonl", "".join(JL.format(n, y) for n, y in rows)))
        assert whole == streamed == {"curve": ([1.0, 2.0, 3.0], [0.0, 1.0, 0.5])}


class TestFractionsWithStrays:
    @pytest.mark.parametrize(
        ("y", "shown"),
        [
            ([0.191, 0.262, 0.323, 1.376], r"value above 1 \(1\.376 at n=4\) while the other 3 lie in \[0, 1\]"),
            ([0.191, 32.3, 0.323, 0.376], r"value above 1 \(32\.3 at n=2\) while the other 3"),
            ([0.19, 0.26, 32.3, 37.6], r"values above 1 \(32\.3 at n=3, 37\.6 at n=4\) while the other 2"),
            ([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 1.7, 1.8, 1.9, 2.0], r"values above 1 \(1\.7 at n=7, 1\.8 .*, \.\.\.\)"),
        ],
    )
    def test_refused_with_the_values_and_the_way_out(self, y, shown):
        n = list(range(1, len(y) + 1))
        way_out = r".*Fix .*--decreasing if lower is better .*--metric-max 100\) if the values are percentages"
        with pytest.raises(CurvecastError, match=shown + way_out):
            CurveData(n, y)

    @pytest.mark.parametrize("y", [[45.0, 52.0, 58.0, 62.0, 65.0], [0.5, 3.0, 10.0, 40.0], [0.9, 2.0, 3.0]])
    def test_percentages_still_read_as_such(self, y):
        d = CurveData(list(range(1, len(y) + 1)), y)
        assert (d.metric_min, d.metric_max, d.notes) == (0.0, 100.0, (PERCENT_NOTE,))

    def test_explicit_bound_wins(self):
        y = [0.191, 0.262, 0.323, 1.376]
        assert CurveData(MAP_N, y, metric_max=100).metric_max == 100.0
        assert CurveData(MAP_N, y, metric_min=0, metric_max=2).notes == ()
        assert CurveData(MAP_N, y, increasing=False).metric_min == 0.0  # a loss: no percentages inferred

    def test_file_message_names_the_file(self, tmp_path):
        path = _write(tmp_path / "over1.csv", "n,map\n1183,0.191\n2957,0.262\n5914,0.323\n11829,1.376\n")
        with pytest.raises(CurvecastError, match=r"^'.*over1\.csv': metric value above 1 \(1\.376 at n=11829\)"):
            load_curves(path).curve("curve")


COCO4 = "".join(f"{n},{y}\n" for n, y in zip(MAP_N, MAP_Y, strict=True))


class TestDuplicateRows:
    def test_exact_copies_get_a_note(self, tmp_path):
        curves = load_curves(_write(tmp_path / "d.csv", "n,map\n" + COCO4 + COCO4))
        d = curves.curve("curve")
        assert d.n.size == 8
        assert curves.notes == ()  # the note is the curve's, not the file's
        assert d.notes == (
            "4 rows repeat an earlier row exactly (same n and value): read as replicate runs; "
            "if they are copies, remove them",
        )

    def test_note_is_per_curve(self, tmp_path):
        text = "curve,n,map\n" + "".join(f"a,{r}" for r in COCO4.splitlines(True)) + "a,1183,0.191\n"
        text += "".join(f"b,{r}" for r in COCO4.splitlines(True))
        curves = load_curves(_write(tmp_path / "d.csv", text))
        assert curves.curve("a").notes == (
            "1 row repeats an earlier row exactly (same n and value): read as replicate runs; "
            "if they are copies, remove them",
        )
        assert curves.curve("b").notes == ()

    def test_replicates_with_other_values_get_no_note(self, tmp_path):
        d = load_curves(_write(tmp_path / "r.csv", "n,map\n" + COCO4 + "1183,0.2\n11829,0.37\n")).curve("curve")
        assert d.has_replicates and d.notes == ()

    def test_same_run_twice_is_refused(self, tmp_path):
        path = _write(tmp_path / "s.csv", "curve,n,seed,map\na,1,0,0.1\na,2,0,0.2\na,2,1,0.21\na,2,0,0.2\na,3,0,0.3\n")
        _refused_by_both(
            path, r"^curve 'a': data row 4 has the same n \(2\) and seed \(0\) as an earlier row: two measurements"
        )

    def test_equal_values_of_different_seeds_are_replicates(self, tmp_path):
        path = _write(tmp_path / "s.csv", "n,seed,map\n1,0,0.1\n1,1,0.1\n2,0,0.2\n2,1,0.2\n3,0,0.3\n")
        d = load_curves(path).curve("curve")
        assert d.n.size == 5 and d.notes == ()


class TestReaderMessages:
    def test_gzip_is_read_whatever_its_name(self, tmp_path):
        text = ("n,map\n" + COCO4).encode()
        for name in ("gz.csv", "c.csv.gz"):
            (tmp_path / name).write_bytes(gzip.compress(text))
            whole, streamed = _both(tmp_path / name)
            assert whole == streamed == {"curve": (MAP_N, MAP_Y)}

    def test_gzip_json_lines(self, tmp_path):
        path = tmp_path / "c.jsonl.gz"
        path.write_bytes(gzip.compress("".join(JL.format(n, y) for n, y in zip(MAP_N, MAP_Y, strict=True)).encode()))
        whole, streamed = _both(path)
        assert whole == streamed == {"curve": (MAP_N, MAP_Y)}

    def test_broken_gzip(self, tmp_path):
        path = tmp_path / "c.csv"
        path.write_bytes(gzip.compress(b"n,map\n1,0.1\n")[:12])
        with pytest.raises(CurvecastError, match=r"is gzip-compressed but cannot be decompressed"):
            load_curves(path)

    @pytest.mark.parametrize(
        ("text", "match"),
        [
            ("n,map\n1183,0.191\n2957,\n5914,0.323\n", r"^column 'map' has an empty cell .* in data row 2 \(n=2957\)"),
            (
                "n,map\n1183,0.191\n,0.262\n5914,0.323\n",
                r"^column 'n' has an empty cell \(or NaN/null\) in data row 2;",
            ),
            (
                "curve,n,map\na,1,0.1\na,2,0.2\nb,1,0.1\nb,2,\n",
                r"^curve 'b': column 'map' has an empty cell .* data row 4",
            ),
        ],
    )
    def test_empty_cells_name_the_row(self, tmp_path, text, match):
        _refused_by_both(_write(tmp_path / "e.csv", text), match)

    def test_json_null_and_missing_name_the_row(self, tmp_path):
        path = _write(tmp_path / "e.jsonl", '{"n": 1, "map": 0.1}\n{"n": 2}\n{"n": 3, "map": null}\n')
        _refused_by_both(path, r"^column 'map' has an empty cell \(or NaN/null\) in data row 2 \(n=2\)")

    @pytest.mark.parametrize("rows", ["1,0.1,\n2,0.2,\n3,0.3,\n", "1,0.1,5\n2,0.2,6\n3,0.3,7\n"])
    def test_rows_wider_than_the_header(self, tmp_path, rows):
        # pandas would take n as the index and read the metric as n
        _refused_by_both(_write(tmp_path / "w.csv", "n,map\n" + rows), r"have more cells than its header row")

    def test_unnamed_curve_errors_name_the_file(self, tmp_path):
        path = _write(tmp_path / "two.csv", "n,map\n1,0.1\n2,0.2\n")
        with pytest.raises(CurvecastError, match=r"^'.*two\.csv': need at least 3 distinct n"):
            load_curves(path).curve("curve")
        path = _write(tmp_path / "named.csv", "curve,n,map\na,1,0.1\na,2,0.2\n")
        with pytest.raises(CurvecastError, match=r"^curve 'a': need at least 3 distinct n"):
            load_curves(path).curve("a")


def test_a_target_at_the_best_bound_or_not_a_number_is_refused():
    """P(accuracy >= 1.0) and the data needed for it come from rounding alone: refused, unless a
    measurement is there already; NaN and true/false are named as such."""
    acc = CurveData([1, 2, 4, 8], [0.5, 0.6, 0.7, 0.75])
    with pytest.raises(CurvecastError, match="target 1 is the metric's best possible value"):
        acc.check_target(1.0)
    acc.check_target(0.99)
    CurveData([1, 2, 4, 8], [0.5, 0.9, 1.0, 1.0]).check_target(1.0)  # measured there: a fair question
    loss = CurveData([1, 2, 4, 8], [2.0, 1.5, 1.2, 1.1], increasing=False)  # floor 0 inferred
    with pytest.raises(CurvecastError, match="target 0 is the metric's best possible value"):
        loss.check_target(0.0)
    with pytest.raises(CurvecastError, match="must be a finite number, got nan"):
        acc.check_target(float("nan"))
    with pytest.raises(CurvecastError, match="must be a number, got True"):
        acc.check_target(True)


class TestCurveNamesAsWritten:
    """A curve column is text: names pandas would read as missing or as numbers stay as written."""

    ROWS = "".join(
        f"{c},{n},{v}\n" for c in ("NA", "001", "1", "null") for n, v in ((1000, 0.3), (2000, 0.4), (4000, 0.45))
    )

    @pytest.mark.parametrize("streamed", [False, True])
    def test_na_null_and_leading_zeros_are_names(self, tmp_path, streamed):
        path = tmp_path / "c.csv"
        path.write_text("curve,n,metric\n" + self.ROWS)
        names = [c[0] for c in CurveFile(path)] if streamed else list(load_curves(path))
        assert names == ["NA", "001", "1", "null"]

    @pytest.mark.parametrize("streamed", [False, True])
    def test_an_empty_name_is_refused_not_dropped(self, tmp_path, streamed):
        path = tmp_path / "c.csv"
        path.write_text("curve,n,metric\n" + self.ROWS + ",8000,0.5\n")
        with pytest.raises(CurvecastError, match="column 'curve' is empty in data row 13: name every row's curve"):
            [c for c in CurveFile(path)] if streamed else load_curves(path)

    @pytest.mark.parametrize("streamed", [False, True])
    def test_a_missing_header_is_refused_not_eaten(self, tmp_path, streamed):
        path = tmp_path / "c.csv"
        path.write_text("1183,0.191\n2957,0.262\n5914,0.323\n11829,0.376\n")
        with pytest.raises(CurvecastError, match=r"holds numbers \(1183, 0.191\), not column names: add a header"):
            [c for c in CurveFile(path)] if streamed else load_curves(path)
