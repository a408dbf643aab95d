"""The extrapolation discrepancy: its scale follows each curve's evidence; earlier fits keep their form."""

from __future__ import annotations

import numpy as np
import pytest

from curvecast.discrepancy import NONE, Discrepancy, misfit
from curvecast.inference import DEFAULT_DISCREPANCY

ROOM = np.array([0.1, 0.2, 0.4])
N_REF = 1000.0


def test_the_earlier_global_form_is_reproduced_exactly():
    """Fits saved before the adaptive term (no lam/power/q keys) answer bit for bit as before."""
    old = Discrepancy.from_dict({"kappa": 0.1, "nu": 2.0, "ell": 3.0, "w_room": 0.5})
    n = np.array([500.0, 1000.0, 4000.0, 1e6])
    L = np.maximum(np.log(n / N_REF), 0.0)
    h = 3.0 * -np.expm1(-L / 3.0)
    expected = 0.1 * ROOM[:, None] * h[None, :]
    got = old.level(ROOM)[:, None] * old.h(n, N_REF)[None, :]
    assert np.array_equal(got, expected)


def test_unknown_keys_of_a_newer_file_are_ignored_and_empty_means_off():
    assert Discrepancy.from_dict({"kappa": 0.2, "future": 1}).kappa == 0.2
    assert not Discrepancy.from_dict(None).active and not NONE.active


def test_the_scale_follows_the_misfit_and_the_floor_fades_with_points():
    d = DEFAULT_DISCREPANCY
    smooth = Discrepancy(**{**d.to_dict(), "misfit": 0.001, "points": 20})
    ragged = Discrepancy(**{**d.to_dict(), "misfit": 0.02, "points": 20})
    few = Discrepancy(**{**d.to_dict(), "misfit": 0.001, "points": 3})
    assert np.all(ragged.level(ROOM) > 5 * smooth.level(ROOM))
    assert np.all(few.level(ROOM) > 7 * smooth.level(ROOM))  # 3 points: the room floor is not faded
    expected = np.hypot(0.2 * ROOM / 18**2, 2.84 * 0.001)
    np.testing.assert_allclose(smooth.level(ROOM), expected, rtol=1e-12)


def test_growth_is_zero_inside_the_data_and_sub_linear_beyond():
    d = DEFAULT_DISCREPANCY
    h = d.h(np.array([10.0, 1000.0, np.e * 1000.0, np.e**2 * 1000.0]), N_REF)
    assert h[0] == 0.0 and h[1] == 0.0
    assert h[3] / h[2] < 2**0.49 + 1e-12  # h(L)^0.49 with a saturating h: slower than sqrt(2) per doubling of L


def test_misfit_is_the_rms_of_the_last_e_fold():
    n = np.array([10.0, 100.0, 500.0, 1000.0])
    y = np.array([0.5, 0.9, 0.7, 0.8])
    med = np.array([0.0, 0.9, 0.72, 0.77])  # far off at n = 10 and 100: ignored (log n < log 1000 - 1)
    assert misfit(n, y, med) == pytest.approx(np.sqrt((0.02**2 + 0.03**2) / 2))
