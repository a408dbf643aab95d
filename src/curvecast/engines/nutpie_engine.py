"""nutpie: Rust NUTS on a numba-compiled log-density, with the compiled callbacks kept on disk.

The first process to see a model (``ModelSpec.identity``) compiles it in a child
process (``curvecast.engines.compile``) into the disk cache (``logp_cache``);
every later process loads it in a fraction of a second. A corrupt entry (its files
do not match their recorded digests) is compiled again and replaced. Where the
cache cannot serve a model (switched off, not trusted, the child failed), nutpie's
own compile is used (about 10 s per process). Each of these warns with a
:class:`~curvecast.errors.SlowPathWarning` naming the cause, once per process.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any, ClassVar

from curvecast import logp_cache
from curvecast.engines import compile as compile_child
from curvecast.engines.base import quiet, tidy, warn_slow
from curvecast.logp_cache import CachedModel, CacheError, UntrustedCacheError
from curvecast.model import ModelSpec

log = logging.getLogger(__name__)

#: the module run (``python -P -m``) to compile a model on a cache miss
COMPILE_MODULE = "curvecast.engines.compile"
_SLOW = "using nutpie's own compile instead (about 10 s more per process)"


def _child_env() -> dict[str, str]:
    """The environment of the compile child: curvecast's sources first on its path,
    only absolute entries of ``$PYTHONPATH`` after them (nothing relative to the cwd)."""
    src = str(Path(__file__).resolve().parents[2])
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and os.path.isabs(p)]
    return dict(os.environ, PYTHONPATH=os.pathsep.join([src, *inherited]))


def compile_in_child(spec: ModelSpec, directory: Path) -> str | None:
    """Compile ``spec``'s model into the cache in a fresh process; the cause of a failure, or None."""
    recipe = json.dumps(compile_child.recipe(spec, directory))
    try:
        run = subprocess.run(
            [sys.executable, "-P", "-m", COMPILE_MODULE, recipe],
            env=_child_env(),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as e:
        return f"the compile process could not run ({e})"
    if run.returncode == 0:
        return None
    log.info("compile child failed (exit %s); its stderr:\n%s", run.returncode, run.stderr)
    lines = [line.strip() for line in run.stderr.splitlines() if line.strip()]
    return f"the compile process failed (exit {run.returncode}): {lines[-1] if lines else 'no message'}"


class NutpieEngine:
    """nutpie on the disk-cached callbacks (``cache_dir``: default ``logp_cache.cache_dir()``)."""

    name = "nutpie"
    _models: ClassVar[dict[tuple[Any, ...], Any]] = {}

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir

    def compiled(self, spec: ModelSpec) -> Any:
        """The compiled model of ``spec``'s identity (a ``CachedModel`` or nutpie's own), once per process."""
        key = (str(self.cache_dir), spec.identity())
        if key not in self._models:
            self._models[key] = self._from_disk(spec) or self._own_compile(spec)
        return self._models[key]

    def _from_disk(self, spec: ModelSpec) -> CachedModel | None:
        """The cached model; a miss or a corrupt entry is compiled by the child process
        (a corrupt one is thereby repaired). None, with a warning, where the cache cannot serve."""
        if os.environ.get("CURVECAST_NO_DISK_CACHE") == "1":
            warn_slow("disabled", f"the compiled-model cache is switched off (CURVECAST_NO_DISK_CACHE=1); {_SLOW}")
            return None
        directory = self.cache_dir or logp_cache.cache_dir()
        identity = spec.identity()
        broken = None
        try:
            cached = logp_cache.load(identity, directory)
        except UntrustedCacheError as e:
            warn_slow(
                "untrusted",
                f"the compiled-model cache is not trusted, its code is not run: {e} (make it yours and "
                f"`chmod go-w` it, or point CURVECAST_CACHE_DIR at a private directory); {_SLOW}",
            )
            return None
        except CacheError as e:
            cached, broken = None, str(e)
        if cached is not None:
            return cached
        cause = compile_in_child(spec, directory)
        if cause is not None:
            what = (
                f"{broken}, and it could not be replaced"
                if broken
                else "the compiled-model cache could not store this model"
            )
            warn_slow("compile", f"{what}: {cause}; {_SLOW}")
            return None
        try:
            cached = logp_cache.load(identity, directory)
        except CacheError as e:
            warn_slow("load", f"the compiled-model cache could not load this model: {e}; {_SLOW}")
            return None
        if cached is None:
            warn_slow("load", f"the compile process stored nothing for this model in {directory}; {_SLOW}")
            return None
        if broken is not None:
            warn_slow("repair", f"{broken}; the entry was compiled again and replaced")
        return cached

    def _own_compile(self, spec: ModelSpec) -> Any:
        import nutpie

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nutpie.compile_pymc_model(spec.build())

    def sample(
        self, spec: ModelSpec, *, draws: int, tune: int, chains: int, cores: int, seed: int, target_accept: float
    ) -> Any:
        import nutpie
        import pandas as pd

        base = self.compiled(spec)
        values = spec.values()
        if isinstance(base, CachedModel):
            model = base.with_data(values, spec.coords)
        else:
            model = base.with_data(**{k: v for k, v in values.items() if k in base.shared_data})
            coords = {**(model.coords or {}), **{k: pd.Index(v) for k, v in spec.coords.items()}}
            model = dataclasses.replace(model, _coords=coords)
        with quiet():
            sampler = nutpie.sample(
                model,
                draws=draws,
                tune=tune,
                chains=chains,
                cores=cores,
                seed=seed,
                progress_bar=False,
                target_accept=target_accept,
                blocking=False,
            )
            try:
                idata = sampler.wait()
            except BaseException:  # Ctrl-C: nutpie would return a NaN-padded partial trace; stop, keep nothing
                sampler.cancel()
                raise
        return tidy(idata, spec)
