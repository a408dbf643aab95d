"""The cache-miss compile, run in a fresh process (``python -P -m curvecast.engines.compile RECIPE``).

``RECIPE`` is JSON (see :func:`recipe`): the family, the merged priors, the
number of curves, the pooled parameters and whether the noise trends with n, the
cache directory and the identity the parent expects. The child builds the model
on stand-in data (data enter only as ``pm.Data``) and stores its callbacks
(``logp_cache.store``), unless another process stored a sound entry meanwhile. It
exits 0 on success; otherwise the last line of its stderr names the cause. ``-P``
keeps the working directory off ``sys.path``: nothing there is imported.

A fresh process matters: code loaded from the cache and code compiled in the
calling process can differ in the last bit, and the same seed must give the same
draws whether or not the cache was warm.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

from curvecast.data import CurveData
from curvecast.families import get_family
from curvecast.logp_cache import CacheError, load, store
from curvecast.model import ModelSpec
from curvecast.priors import Prior

_N = [1000.0, 2000.0, 4000.0, 8000.0]
_Y = [0.2, 0.3, 0.35, 0.4]


def recipe(spec: ModelSpec, directory: Path) -> dict[str, Any]:
    """What the child needs to rebuild ``spec``'s model (not its data) and where to store it."""
    return {
        "family": spec.family.name,
        "priors": {k: p.to_dict() for k, p in spec.priors.items()},
        "curves": len(spec.curves),
        "pooled": list(spec.pooled),
        "hetero": spec.hetero,
        "directory": str(directory),
        "identity": repr(spec.identity()),
    }


def spec_from_recipe(r: dict[str, Any]) -> ModelSpec:
    """A spec with the recipe's identity, on stand-in curves."""
    n, y = (list(_N), list(_Y)) if r["hetero"] else (_N[:3], _Y[:3])  # 4 sizes make the noise trend free
    curves = tuple(CurveData(n, y, name=f"c{i}") for i in range(int(r["curves"])))
    priors = {k: Prior.from_dict(v) for k, v in r["priors"].items()}
    return ModelSpec(get_family(r["family"]), curves, priors, pooled=tuple(r["pooled"]))


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -P -m curvecast.engines.compile RECIPE_JSON", file=sys.stderr)
        return 2
    r = json.loads(argv[0])
    spec = spec_from_recipe(r)
    if repr(spec.identity()) != r["identity"]:
        print(f"curvecast compile: the recipe rebuilds another model ({spec.identity()!r})", file=sys.stderr)
        return 1
    directory = Path(r["directory"])
    try:
        if load(spec.identity(), directory) is not None:
            return 0  # another process stored it meanwhile
    except CacheError:
        pass  # corrupt or unreadable: store it afresh (an untrusted directory fails again below)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            store(spec.build(), spec.identity(), directory)
    except CacheError as e:
        print(f"curvecast compile: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover - exercised through the nutpie engine
    sys.exit(main(sys.argv[1:]))
