"""The engines (curvecast.engines) and the disk-cached nutpie callbacks (curvecast.logp_cache)."""

from __future__ import annotations

import ctypes
import hashlib
import json
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import special

from curvecast import families, logp_cache
from curvecast.data import CurveData
from curvecast.engines import ENGINES, base, get_engine, nutpie_engine
from curvecast.engines.compile import recipe as compile_recipe
from curvecast.engines.nutpie_engine import NutpieEngine, compile_in_child
from curvecast.engines.pymc_engine import PymcEngine
from curvecast.errors import CurvecastError, SlowPathWarning
from curvecast.logp_cache import CacheError
from curvecast.model import ModelSpec, pooled_params
from curvecast.prior_sets import merged_priors

N = [1000.0, 2000.0, 4000.0, 8000.0]
Y = [0.2, 0.3, 0.35, 0.4]
POW3 = families.get_family("pow3")
A = CurveData(N, Y, name="a")
B = CurveData([10.0, 30.0, 100.0, 300.0, 1000.0], [0.9, 0.7, 0.5, 0.45, 0.43], increasing=False, name="b")


def _single(data=A):
    return ModelSpec(POW3, (data,), merged_priors(POW3, None))


def _pooled(curves=(A, B)):
    return ModelSpec(POW3, tuple(curves), merged_priors(POW3, None), pooled=pooled_params(POW3))


def _build(spec):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spec.build()


@pytest.fixture(autouse=True)
def _fresh_engines(monkeypatch):
    """Every test starts with no compiled models and no slow-path warning given."""
    monkeypatch.setattr(base, "_WARNED", set())
    monkeypatch.setattr(NutpieEngine, "_models", {})
    monkeypatch.setattr(PymcEngine, "_models", {})
    monkeypatch.delenv("CURVECAST_NO_DISK_CACHE", raising=False)
    monkeypatch.delenv("CURVECAST_ENGINE", raising=False)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A cache directory holding the single-curve and the two-curve pooled pow3 models,
    each compiled by the cache-miss child process."""
    from concurrent.futures import ThreadPoolExecutor

    directory = tmp_path_factory.mktemp("cache")
    with ThreadPoolExecutor(2) as pool:  # two child processes at once
        causes = list(pool.map(lambda spec: compile_in_child(spec, directory), (_single(), _pooled())))
    assert causes == [None, None]
    return directory


def _slow_warnings(record):
    return [str(w.message) for w in record if issubclass(w.category, SlowPathWarning)]


# -- logp_cache building blocks -----------------------------------------------------------


@pytest.mark.parametrize("x", [-26.0, -5.0, -1.0, -1e-3, 0.0, 0.3, 1.0, 4.0, 10.0, 24.9, 25.0, 30.0, 1e3, 1e8])
def test_erfcx_matches_scipy(x):
    want = special.erfcx(x)
    assert logp_cache.erfcx(x) == pytest.approx(want, rel=1e-12)


def test_erfcx_overflows_like_scipy():
    assert math.isinf(logp_cache.erfcx(-30.0)) and math.isinf(special.erfcx(-30.0))


def test_pack_layout_and_rank_check():
    layout = [("a", 0), ("v", 1)]
    buf = logp_cache.pack(layout, {"a": 2.5, "v": [1.0, 2.0, 3.0]})
    assert buf[0] == buf.size == 1 + 4 + 1 + 3
    off_a, len_a, off_v, len_v = buf[1:5].astype(int)
    assert buf[off_a] == 2.5 and len_a == 1
    assert list(buf[off_v : off_v + len_v]) == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="rank"):
        logp_cache.pack(layout, {"a": [1.0], "v": [1.0]})


def _call_logp(cached, x, buf):
    fn = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_uint64, *[ctypes.c_void_p] * 4)(cached.logp.address)
    grad, lp = np.zeros(cached.n_dim), np.zeros(1)
    rc = fn(cached.n_dim, x.ctypes.data, grad.ctypes.data, lp.ctypes.data, buf.ctypes.data)
    return rc, lp[0], grad


def _flat(cached, point):
    return np.concatenate([np.ravel(point[n]) for n in cached.names])


def _unflat(cached, x):
    out, off = {}, 0
    for name, shape in zip(cached.names, cached.shapes, strict=True):
        size = math.prod(shape)
        out[name] = x[off : off + size].reshape(shape)
        off += size
    return out


def _check_against_pymc(cached, spec, rng):
    """Log-density, gradient and initial point of the cached callbacks equal PyMC's for ``spec``'s data."""
    buf = logp_cache.pack(cached.layout, spec.values())
    m = _build(spec)
    f_logp, f_dlogp = m.compile_logp(), m.compile_dlogp()
    x0 = _flat(cached, m.initial_point())
    np.testing.assert_allclose(cached.init(buf), x0, rtol=1e-12, atol=1e-12)
    for _ in range(3):
        x = x0 + rng.normal(scale=0.3, size=x0.size)
        point = _unflat(cached, x)
        rc, lp, grad = _call_logp(cached, x, buf)
        assert rc == 0
        assert lp == pytest.approx(float(f_logp(point)), rel=1e-10)
        by_name = dict(zip([v.name for v in m.value_vars], np.split(f_dlogp(point), _splits(m)), strict=True))
        np.testing.assert_allclose(grad, _flat(cached, by_name), rtol=1e-8, atol=1e-8)
    compiled = cached.with_data(spec.values(), spec.coords)
    assert compiled.n_dim == x0.size
    a, b = compiled.initial_point_func(5), compiled.initial_point_func(5)
    np.testing.assert_array_equal(a, b)
    assert np.all(np.abs(a - x0) <= 1.0)


def _splits(model):
    """Where PyMC's flat gradient splits into the value variables."""
    ip = model.initial_point()
    return np.cumsum([np.size(ip[v.name]) for v in model.value_vars])[:-1]


@pytest.mark.sampling  # compiles models in a child process
def test_cached_callbacks_match_pymc_and_reload_from_disk(cache):
    """Log-density, gradient and initial point equal PyMC's for two curves through one
    compiled model loaded from disk; another identity misses."""
    spec = _single()
    cached = logp_cache.load(spec.identity(), cache)
    assert cached is not None
    assert logp_cache.load(("test", 2), cache) is None
    rng = np.random.default_rng(0)
    for data in (A, B):
        _check_against_pymc(cached, _single(data), rng)


@pytest.mark.sampling  # compiles models in a child process
def test_pooled_logp_through_the_disk_cache_equals_pymc(cache):
    """A two-curve pooled model (vector parameters) compiled by the child process: the
    cached log-density and gradient equal PyMC's, for two sets of two curves."""
    cached = logp_cache.load(_pooled().identity(), cache)
    assert cached is not None
    assert cached.dims["alpha"] == ["curve"] and cached.shapes[cached.names.index("z_alpha")] == (2,)
    rng = np.random.default_rng(1)
    for curves in ((A, B), (B, CurveData([5.0, 50.0, 500.0], [0.1, 0.5, 0.6], name="c"))):
        _check_against_pymc(cached, _pooled(curves), rng)


def test_unwritable_cache_directory_raises_with_the_cause(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    spec = _single()
    with pytest.raises(CacheError, match="cannot write to the cache directory"):
        logp_cache.store(_build(spec), spec.identity(), blocker / "cache")
    assert logp_cache.load(spec.identity(), blocker / "cache") is None


def test_a_garbled_manifest_is_an_error_not_a_miss(tmp_path):
    spec = _single()
    path, manifest, _ = logp_cache._entry(spec.identity(), tmp_path)
    path.write_text("# nothing\n")
    manifest.write_text("{not json")
    with pytest.raises(CacheError, match="unreadable"):
        logp_cache.load(spec.identity(), tmp_path)


# -- engines ------------------------------------------------------------------------------


def test_engines_are_chosen_by_name_in_one_place(monkeypatch):
    assert set(ENGINES) == {"nutpie", "pymc"}
    assert get_engine().name == "nutpie" and get_engine("pymc").name == "pymc"
    assert get_engine("pymc") is get_engine("pymc")  # one per process: its compiled models persist
    monkeypatch.setenv("CURVECAST_ENGINE", "pymc")
    assert get_engine().name == "pymc"


@pytest.mark.parametrize("name", ["nutpie-c", "stan", ""])
def test_unknown_engine_is_a_clear_error(name, monkeypatch):
    with pytest.raises(CurvecastError, match=r"unknown engine .*use one of: nutpie, pymc"):
        get_engine(name)
    monkeypatch.setenv("CURVECAST_ENGINE", "nutpie-c")
    with pytest.raises(CurvecastError, match=r"'nutpie-c' \(from \$CURVECAST_ENGINE\)"):
        get_engine()


def test_a_failing_child_compile_warns_once_with_its_cause(tmp_path, monkeypatch):
    """The child's stderr is kept: its last line is the cause in one SlowPathWarning per
    process; nutpie's own compile takes over."""
    monkeypatch.setattr(nutpie_engine, "COMPILE_MODULE", "curvecast.engines.no_such_module")
    own = []
    monkeypatch.setattr(NutpieEngine, "_own_compile", lambda self, spec: own.append(spec) or "own")
    engine = NutpieEngine(tmp_path)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert engine.compiled(_single()) == "own"
        assert engine.compiled(_pooled()) == "own"
        assert engine.compiled(_single(B)) == "own"  # the same identity: compiled once
    slow = _slow_warnings(record)
    assert len(slow) == 1, slow
    assert "No module named curvecast.engines.no_such_module" in slow[0] and "nutpie's own compile" in slow[0]
    assert len(own) == 2


def test_the_compile_child_runs_without_the_cwd_on_its_path(tmp_path, monkeypatch):
    """``-P``, and only absolute entries of $PYTHONPATH: nothing is imported from the cwd."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(["", ".", "relative/dir", str(tmp_path / "abs")]))
    env = nutpie_engine._child_env()
    parts = env["PYTHONPATH"].split(os.pathsep)
    assert parts[0].endswith("src") and parts[1:] == [str(tmp_path / "abs")]


def test_switching_the_disk_cache_off_warns_once(tmp_path, monkeypatch):
    monkeypatch.setenv("CURVECAST_NO_DISK_CACHE", "1")
    monkeypatch.setattr(NutpieEngine, "_own_compile", lambda self, spec: "own")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        NutpieEngine(tmp_path).compiled(_single())
        NutpieEngine(tmp_path).compiled(_pooled())
    slow = _slow_warnings(record)
    assert len(slow) == 1 and "CURVECAST_NO_DISK_CACHE=1" in slow[0]
    assert not list(tmp_path.iterdir())


@pytest.mark.sampling
def test_pymc_engine_samples_a_pooled_model_and_swaps_its_data():
    engine = get_engine("pymc")
    kw = {"draws": 10, "tune": 10, "chains": 1, "cores": 1, "seed": 1, "target_accept": 0.8}
    idata = engine.sample(_pooled(), **kw)
    post = idata.posterior
    assert list(post.curve.values) == ["a", "b"]
    assert post["alpha"].dims == ("chain", "draw", "curve") and post["mu_alpha"].dims == ("chain", "draw")
    assert not [v for v in post.data_vars if str(v).endswith("__")]
    assert "diverging" in idata.sample_stats
    c = CurveData([5.0, 50.0, 500.0, 5000.0], [0.1, 0.5, 0.6, 0.62], name="c")
    again = engine.sample(_pooled((B, c)), **kw)
    assert list(again.posterior.curve.values) == ["b", "c"]
    assert len(PymcEngine._models) == 1  # one model for both sets of curves
    single = engine.sample(_single(), **kw).posterior
    assert {"y_ref", "room", "alpha", "sigma", "gamma", "room_shifted"} == set(single.data_vars)  # 4 sizes: gamma


@pytest.mark.sampling
def test_nutpie_engine_samples_a_pooled_model_from_the_disk_cache(cache):
    engine = NutpieEngine(cache)
    c = CurveData([5.0, 50.0, 500.0, 5000.0], [0.1, 0.5, 0.6, 0.62], name="c")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        idata = engine.sample(_pooled((c, A)), draws=20, tune=20, chains=2, cores=1, seed=2, target_accept=0.9)
    assert not _slow_warnings(record)
    assert isinstance(engine.compiled(_pooled()), logp_cache.CachedModel)
    post = idata.posterior
    assert post.sizes == {"chain": 2, "draw": 20, "curve": 2} and list(post.curve.values) == ["c", "a"]
    want = {"y_ref", "room", "alpha", "sigma", "gamma", "mu_room", "tau_room", "z_room", "mu_alpha", "tau_alpha"}
    want |= {"z_alpha"}
    assert set(post.data_vars) == want
    assert post["alpha"].dims == ("chain", "draw", "curve")
    assert "diverging" in idata.sample_stats


@pytest.mark.sampling
def test_same_seed_same_draws_on_a_cache_miss_and_a_hit(tmp_path):
    """The first process compiles (a miss), the second loads from disk (a hit): the
    draws must be identical."""
    code = (
        "import warnings; warnings.simplefilter('error', UserWarning)\n"
        "from curvecast import families\n"
        "from curvecast.data import CurveData\n"
        "from curvecast.engines import get_engine\n"
        "from curvecast.model import ModelSpec\n"
        "from curvecast.prior_sets import merged_priors\n"
        "fam = families.get_family('pow3')\n"
        "data = CurveData([1183, 2957, 5914, 11829], [0.191, 0.262, 0.323, 0.376])\n"
        "spec = ModelSpec(fam, (data,), merged_priors(fam, None))\n"
        "post = get_engine('nutpie').sample(spec, draws=50, tune=50, chains=2, cores=1, seed=7,"
        " target_accept=0.9).posterior\n"
        "print(repr(float(post['alpha'].sum())), repr(float(post['room'].sum())))\n"
    )
    env = dict(os.environ, CURVECAST_CACHE_DIR=str(tmp_path / "cache"))
    runs = [
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    ]
    assert list((tmp_path / "cache").glob("cc_*.json")), "the first run should have stored the model"
    assert runs[0].strip() and runs[0] == runs[1]


# -- the compile cache is code: trust, integrity, safe writes, a clean child ---------------


def _copy(cache, dst):
    import shutil

    return Path(shutil.copytree(cache, dst))  # copy2 keeps mtimes: numba's index stays fresh


@pytest.mark.sampling  # uses the models compiled by the `cache` fixture
def test_stored_entries_record_a_digest_of_every_file(cache):
    spec = _single()
    path, manifest, _ = logp_cache._entry(spec.identity(), cache)
    files = json.loads(manifest.read_text())["files"]
    assert path.name in files
    nbc = [f for f in files if f.endswith(".nbc")]
    nbi = [f for f in files if f.endswith(".nbi")]
    assert len(nbc) == len(nbi) == 3  # logp, expand, init
    for name, digest in files.items():
        where = path if name == path.name else cache / "__pycache__" / name
        assert hashlib.sha256(where.read_bytes()).hexdigest() == digest
        assert not where.stat().st_mode & 0o022
    assert not manifest.stat().st_mode & 0o022


@pytest.mark.parametrize("kind", ["world-writable", "foreign-owned"])
@pytest.mark.sampling  # uses the models compiled by the `cache` fixture
def test_an_untrusted_cache_directory_is_not_loaded(kind, cache, tmp_path, monkeypatch):
    """Code in a directory others can write, or that another user owns, is never run: one
    warning, and the model is compiled in this process."""
    shared = _copy(cache, tmp_path / "shared")
    marker = tmp_path / "planted-code-ran"
    spec = _single()
    path, _, _ = logp_cache._entry(spec.identity(), shared)
    path.write_text(f"open({str(marker)!r}, 'w').write('x')\n" + path.read_text())
    if kind == "world-writable":
        shared.chmod(0o777)
        match = "writable by group or others"
    else:
        uid = os.getuid()
        monkeypatch.setattr(logp_cache.os, "getuid", lambda: uid + 1)
        match = "belongs to another user"
    with pytest.raises(logp_cache.UntrustedCacheError, match=match):
        logp_cache.load(spec.identity(), shared)
    monkeypatch.setattr(NutpieEngine, "_own_compile", lambda self, spec: "own")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert NutpieEngine(shared).compiled(spec) == "own"
        assert NutpieEngine(shared).compiled(_pooled()) == "own"
    slow = _slow_warnings(record)
    assert len(slow) == 1 and "not trusted" in slow[0] and match in slow[0]
    assert not marker.exists()


@pytest.mark.sampling  # uses the models compiled by the `cache` fixture
def test_a_group_writable_or_symlinked_cache_file_is_not_loaded(cache, tmp_path):
    spec = _single()
    copy = _copy(cache, tmp_path / "c1")
    stem = logp_cache._entry(spec.identity(), copy)[0].stem
    next((copy / "__pycache__").glob(f"{stem}.*.nbc")).chmod(0o664)
    with pytest.raises(logp_cache.UntrustedCacheError, match="writable by group or others"):
        logp_cache.load(spec.identity(), copy)
    copy = _copy(cache, tmp_path / "c2")
    path, _, _ = logp_cache._entry(spec.identity(), copy)
    real = tmp_path / "elsewhere.py"
    real.write_text(path.read_text())
    path.unlink()
    path.symlink_to(real)
    with pytest.raises(logp_cache.UntrustedCacheError, match="symbolic link"):
        logp_cache.load(spec.identity(), copy)


@pytest.mark.sampling  # uses the models compiled by the `cache` fixture
def test_a_flipped_byte_in_the_generated_module_is_caught_before_it_runs(cache, tmp_path):
    spec = _single()
    copy = _copy(cache, tmp_path / "c")
    path, _, _ = logp_cache._entry(spec.identity(), copy)
    path.write_text(path.read_text().replace("NDIM = ", "NDIM = 1 + "))
    with pytest.raises(logp_cache.CorruptCacheError, match="does not match the digest"):
        logp_cache.load(spec.identity(), copy)


@pytest.mark.sampling
def test_a_tampered_compiled_file_is_repaired_with_one_warning(cache, tmp_path):
    """One flipped byte in a cached .nbc: a warning naming the cause, the entry compiled
    again and replaced, and the same draws as from a clean cache."""
    spec = _single()
    clean, tampered = _copy(cache, tmp_path / "clean"), _copy(cache, tmp_path / "tampered")
    kw = {"draws": 30, "tune": 30, "chains": 2, "cores": 1, "seed": 11, "target_accept": 0.9}
    want = NutpieEngine(clean).sample(spec, **kw).posterior
    stem = logp_cache._entry(spec.identity(), tampered)[0].stem
    (nbc,) = (tampered / "__pycache__").glob(f"{stem}.logp-*.nbc")
    data = bytearray(nbc.read_bytes())
    data[len(data) // 2] ^= 0x01
    nbc.write_bytes(bytes(data))
    NutpieEngine._models.clear()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        got = NutpieEngine(tampered).sample(spec, **kw).posterior
    slow = _slow_warnings(record)
    assert len(slow) == 1, slow
    assert nbc.name in slow[0] and "does not match the digest" in slow[0] and "compiled again" in slow[0]
    for name in ("y_ref", "room", "alpha", "sigma"):
        np.testing.assert_array_equal(got[name].values, want[name].values)
    assert logp_cache.load(spec.identity(), tampered) is not None  # repaired


def test_a_planted_symlink_at_a_temp_name_is_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = tmp_path / "cache" / "cc_x.py"
    target.parent.mkdir()
    for name in (f".{target.name}.{os.getpid()}.tmp", target.name):  # the old predictable name, the target
        (target.parent / name).symlink_to(victim)
    logp_cache._write_atomic(target, "new")
    assert victim.read_text() == "precious"
    assert target.read_text() == "new" and not target.is_symlink()
    assert not target.stat().st_mode & 0o077
    assert sorted(p.name for p in target.parent.iterdir()) == sorted([f".{target.name}.{os.getpid()}.tmp", target.name])


@pytest.mark.sampling  # compiles models in a child process
def test_json_py_in_the_working_directory_is_not_imported_by_the_compile_child(cache, tmp_path, monkeypatch):
    marker = tmp_path / "planted-json-ran"
    work = tmp_path / "work"
    work.mkdir()
    (work / "json.py").write_text(f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit(3)\n")
    monkeypatch.chdir(work)
    assert compile_in_child(_single(), cache) is None  # a hit: the child loads and exits 0
    assert not marker.exists()
    # the control: the same child without -P imports the planted module
    recipe = json.dumps(compile_recipe(_single(), cache))
    run = subprocess.run(
        [sys.executable, "-m", nutpie_engine.COMPILE_MODULE, recipe], env=nutpie_engine._child_env(), check=False
    )
    assert run.returncode == 3 and marker.exists()
