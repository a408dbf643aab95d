"""Shared fixtures: one small real fit per session, saved to disk for CLI tests."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

SEED_CSV = Path(__file__).resolve().parents[1] / "src" / "curvecast" / "data" / "seed_coco_bdd_map.csv"
COCO = "COCO_ssd_resnet101_v1_fpn"
COCO_N = np.array([1183.0, 2957.0, 5914.0, 11829.0])
COCO_Y = np.array([0.191, 0.262, 0.323, 0.376])


@pytest.fixture(scope="session")
def seed_csv() -> Path:
    return SEED_CSV


@pytest.fixture(scope="session")
def coco_fit():
    """A real, small NUTS fit of the COCO curve's first four points."""
    import curvecast as cc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cc.fit(COCO_N, COCO_Y, family="pow3", draws=150, tune=300, chains=4, seed=3, name=COCO)


@pytest.fixture(scope="session")
def coco_nc(coco_fit, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fits") / "coco.nc"
    import curvecast as cc

    cc.save(coco_fit, path)
    return path


@pytest.fixture(scope="session")
def small_csv(tmp_path_factory) -> Path:
    """The COCO curve's four early points as a single-curve CSV."""
    path = tmp_path_factory.mktemp("data") / "coco4.csv"
    rows = "\n".join(f"{n:.0f},{y}" for n, y in zip(COCO_N, COCO_Y, strict=True))
    path.write_text("images,map\n" + rows + "\n")
    return path
