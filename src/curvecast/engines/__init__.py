"""NUTS engines behind one interface (:class:`Engine`), chosen by name here and nowhere else.

* ``nutpie`` (default): Rust NUTS on numba-compiled callbacks kept on disk
  (``curvecast.logp_cache``), so a new process starts in about a second;
* ``pymc``: PyMC's own NUTS, the reference implementation.
"""

from __future__ import annotations

import os

from curvecast.engines.base import Engine
from curvecast.engines.nutpie_engine import NutpieEngine
from curvecast.engines.pymc_engine import PymcEngine
from curvecast.errors import CurvecastError

ENGINES: dict[str, type[Engine]] = {"nutpie": NutpieEngine, "pymc": PymcEngine}
DEFAULT_ENGINE = "nutpie"
_INSTANCES: dict[str, Engine] = {}

__all__ = ["DEFAULT_ENGINE", "ENGINES", "Engine", "get_engine"]


def get_engine(name: str | None = None) -> Engine:
    """The engine ``name``; ``None`` means ``$CURVECAST_ENGINE``, else ``"nutpie"``."""
    if name is None:
        env = os.environ.get("CURVECAST_ENGINE")
        name, where = (env, " (from $CURVECAST_ENGINE)") if env else (DEFAULT_ENGINE, "")
    else:
        where = ""
    if name not in ENGINES:
        raise CurvecastError(f"unknown engine {name!r}{where}; use one of: {', '.join(ENGINES)}")
    if name not in _INSTANCES:
        _INSTANCES[name] = ENGINES[name]()
    return _INSTANCES[name]
