"""Saved fits: today's format is standard ArviZ, fits saved by earlier versions keep loading
with the answers they were saved with, and damaged files are refused with a clear error."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

import curvecast as cc
from curvecast.errors import CurvecastError

DATA_DIR = Path(__file__).resolve().parent / "data"
LEGACY = json.loads((DATA_DIR / "legacy_answers.json").read_text())


@pytest.mark.parametrize("name", sorted(LEGACY))
def test_fits_saved_by_earlier_versions_answer_as_when_saved(name):
    f = cc.load(DATA_DIR / name)
    want = LEGACY[name]
    assert [float(v) for v in f.prob(0.45, [20_000, 100_000])] == want["prob"]
    assert f.need(0.45, prob=0.8) == want["need"]
    pred = f.predict([20_000, 100_000], interval=0.9)
    for col, values in want["predict"].items():
        np.testing.assert_allclose(pred[col], values, rtol=1e-12, atol=0)


def test_legacy_single_fit_keeps_its_chains():
    f = cc.load(DATA_DIR / "v0.1.0_single.nc")
    post = f.idata_.posterior
    assert post.sizes["chain"] == 4 and "alpha" in post and "sample_stats" in f.idata_.groups()


def test_legacy_averaged_fit_is_a_mixture_of_its_families():
    f = cc.load(DATA_DIR / "v0.1.0_averaged.nc")
    assert [c.family.name for c in f.components] == ["pow3", "pow4", "mmf"]
    assert f.weights.sum() == pytest.approx(1.0)
    assert f.idata_["pow4"].posterior.sizes["chain"] == 4  # rebuilt from the draws and the saved settings


def _copy(tmp_path: Path, name: str = "v0.1.0_single.nc") -> Path:
    dst = tmp_path / name
    shutil.copyfile(DATA_DIR / name, dst)
    return dst


def _edit_meta(path: Path, group: str, edit) -> None:
    import h5py

    with h5py.File(path, "r+") as h5:
        meta = json.loads(h5[group].attrs["curvecast"])
        edit(meta)
        h5[group].attrs["curvecast"] = json.dumps(meta)


def test_a_hand_edited_family_is_refused_with_a_clear_error(tmp_path):
    path = _copy(tmp_path)
    _edit_meta(path, "posterior", lambda m: m["components"][0].update(family="exp3"))
    with pytest.raises(CurvecastError, match=r"not a valid curvecast fit.*beta"):
        cc.load(path)


def test_a_missing_key_is_refused_with_a_clear_error(tmp_path):
    path = _copy(tmp_path)
    _edit_meta(path, "posterior", lambda m: m.pop("data"))
    with pytest.raises(CurvecastError, match="not a valid curvecast fit"):
        cc.load(path)


def test_nan_draws_are_refused(tmp_path):
    import h5py

    path = _copy(tmp_path)
    with h5py.File(path, "r+") as h5:
        arr = h5["posterior/c0__alpha"]
        values = arr[...]
        values[..., 5] = np.nan
        arr[...] = values
    with pytest.raises(CurvecastError, match="NaN"):
        cc.load(path)


def test_draws_changed_after_saving_are_refused(tmp_path):
    """A finite, plausible value flipped inside the posterior (a damaged disk, a hand edit) used to load
    and answer: each component's draws now carry a SHA-256 that load checks."""
    import h5py

    from curvecast.data import CurveData
    from curvecast.diagnostics import Diagnostics
    from curvecast.families import get_family
    from curvecast.results import CurveFit

    fam, rng = get_family("pow3"), np.random.default_rng(1)
    params = {"y_ref": rng.normal(0.34, 0.01, 400), "room": rng.uniform(0.1, 0.3, 400),
              "alpha": rng.uniform(0.3, 0.8, 400), "sigma": rng.uniform(0.005, 0.02, 400)}  # fmt: skip
    data = CurveData([1000, 2000, 4000, 8000], [0.2, 0.25, 0.3, 0.34])
    path = tmp_path / "fit.nc"
    fit = CurveFit(fam, data, dict(fam.priors), params, Diagnostics(0, 1.0, 900.0, 900.0), {"chains": 2})
    cc.save(fit, path)
    assert cc.load(path).prob(0.4, [64000])[0] == fit.prob(0.4, [64000])[0]  # intact: loads as saved
    with h5py.File(path, "r+") as h5:
        values = h5["posterior/y_ref"][...]
        values[0, 7] = 0.31
        h5["posterior/y_ref"][...] = values
    with pytest.raises(CurvecastError, match="do not match the checksum written with them"):
        cc.load(path)


def test_foreign_and_missing_files_are_refused(tmp_path):
    bad = tmp_path / "bad.nc"
    bad.write_bytes(b"not a netcdf file at all")
    with pytest.raises(CurvecastError, match="not a curvecast fit"):
        cc.load(bad)
    with pytest.raises(CurvecastError, match="not found"):
        cc.load(tmp_path / "missing.nc")
    with pytest.raises(CurvecastError, match="is a directory; pass a fit file"):
        cc.load(tmp_path)


@pytest.mark.sampling
def test_saved_fit_is_standard_arviz(coco_fit, coco_nc):
    import arviz as az

    loaded = cc.load(coco_nc)
    idata = loaded.idata_
    post = idata.posterior
    assert post.sizes["chain"] == coco_fit.idata_.posterior.sizes["chain"] == 4
    assert {"y_ref", "room", "alpha", "sigma"} <= set(post.data_vars)
    assert not any("__" in str(v) for v in post.data_vars)
    assert "diverging" in idata.sample_stats and "y" in idata.observed_data
    summary = az.summary(idata, var_names=["alpha"], round_to="none")
    assert summary.loc["alpha", "mean"] == pytest.approx(float(coco_fit.idata_.posterior["alpha"].mean()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = az.from_netcdf(coco_nc)  # ArviZ alone reads it too
    assert raw.posterior.sizes["chain"] == 4


@pytest.mark.sampling
def test_plot_trace_of_a_loaded_fit_shows_every_chain(coco_nc):
    import arviz as az
    import matplotlib

    matplotlib.use("Agg")
    axes = az.plot_trace(cc.load(coco_nc).idata_, var_names=["alpha"])
    lines = axes[0, 1].get_lines()  # one trace line per chain
    assert len(lines) == 4


@pytest.mark.sampling
def test_round_trip_answers_are_identical(coco_fit, coco_nc):
    loaded = cc.load(coco_nc)
    assert loaded.family.name == "pow3" and loaded.settings == coco_fit.settings
    assert loaded.diagnostics == coco_fit.diagnostics and loaded.priors == coco_fit.priors
    np.testing.assert_array_equal(loaded.params_["disc_z"], coco_fit.params_["disc_z"])
    assert list(loaded.prob(0.45, [1e5, 1e6])) == list(coco_fit.prob(0.45, [1e5, 1e6]))
    assert loaded.need(0.45) == coco_fit.need(0.45)


def test_a_loaded_fit_never_reads_its_file_again(tmp_path):
    """Re-running a notebook cell that saves over the file must not change a fit loaded from it."""
    path = _copy(tmp_path)
    f = cc.load(path)
    before = {k: v.values.copy() for k, v in f.idata_.posterior.data_vars.items()}
    other = cc.load(_copy(tmp_path, "v0.1.0_averaged.nc"))
    cc.save(other.components[1], path)  # another fit (pow4) over the same file
    assert cc.load(path).family.name == "pow4" and f.family.name == "pow3"
    assert set(f.idata_.posterior.data_vars) == set(before) and all(
        np.array_equal(before[k], f.idata_.posterior[k].values) for k in before
    )
    cc.save(f, tmp_path / "copy.nc")  # and the loaded fit still saves as itself
    assert cc.load(tmp_path / "copy.nc").prob(0.4, [1e5])[0] == f.prob(0.4, [1e5])[0]


@pytest.mark.parametrize(
    ("write", "name", "match"),
    [
        (lambda f, p: cc.save(f, p), "data.csv", r"must end in \.nc or \.netcdf or \.h5"),
        (lambda f, p: cc.save(f, p), "", r"must end in \.nc"),
        (lambda f, p: cc.save(f, p), "dir.nc", "is a directory"),
        (lambda f, p: cc.plot_forecast(f, p), "fan.pdf", r"must end in \.png or \.svg"),
        (lambda f, p: cc.write_report(f, p), "data.csv", r"must end in \.html or \.htm"),
    ],
)
def test_the_api_never_writes_over_a_data_file_or_into_a_directory(tmp_path, write, name, match):
    f = cc.load(_copy(tmp_path))
    (tmp_path / "dir.nc").mkdir()
    target = tmp_path / name if name else Path(name)
    if name == "data.csv":
        target.write_text("n,metric\n1,0.1\n")
    with pytest.raises(CurvecastError, match=match):
        write(f, target)
    assert name != "data.csv" or target.read_text() == "n,metric\n1,0.1\n"


def test_a_plot_refuses_a_right_edge_that_is_no_number(tmp_path):
    f = cc.load(_copy(tmp_path))
    with pytest.raises(CurvecastError, match="--max-n must be a number > 0, got nan"):
        cc.plot_forecast(f, tmp_path / "fan.png", max_n=float("nan"))  # drew an empty fan
    assert not (tmp_path / "fan.png").exists()


def test_a_read_only_output_is_refused_not_replaced(tmp_path):
    f = cc.load(_copy(tmp_path))
    out = tmp_path / "kept.nc"
    out.write_bytes(b"precious")
    out.chmod(0o444)
    with pytest.raises(CurvecastError, match="is read-only; make it writable"):
        cc.save(f, out)  # os.replace ignores the file's own mode, even for root
    assert out.read_bytes() == b"precious" and oct(out.stat().st_mode)[-3:] == "444"
