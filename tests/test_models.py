"""The prior library in models/: every file loads, default.toml matches the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from curvecast.families import REGISTRY
from curvecast.prior_sets import NOISE_PRIORS, known_parameters
from curvecast.priors import load_prior_file

MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.mark.parametrize("path", sorted(MODELS.glob("*.toml")), ids=lambda p: p.name)
def test_prior_file_loads(path):
    table = load_prior_file(path, known_parameters())
    assert table


def test_default_toml_matches_registry():
    table = load_prior_file(MODELS / "default.toml", known_parameters())
    assert table["noise"] == NOISE_PRIORS
    for name, fam in REGISTRY.items():
        assert table[name] == fam.priors, name
