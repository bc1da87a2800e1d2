"""Daily curves, clustering and typical patterns (lvbalance.profiles.patterns, MODEL.md §3.3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lvbalance.params import ProfileParams
from lvbalance.profiles import build_profiles
from lvbalance.profiles.calendar import ContextProbabilities
from lvbalance.profiles.patterns import build_patterns, cluster_patterns, daily_curves
from lvbalance.profiles.standard import standard_profile
from tests.fixtures import EVENING, MORNING, STEP_H, meter_case, two_cluster_case, unmetered


def test_daily_curves_put_readings_on_day_and_step():
    params = ProfileParams(step_minutes=360)  # 4 steps a day from 08:00
    cleaned = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "timestamp": pd.to_datetime(["2024-03-04 08:00", "2024-03-05 02:00", "2024-03-05 14:00"]),
            "p_kw": [1.0, 2.0, 3.0],
        }
    )
    da = daily_curves(cleaned, params, ["a", "b", "c"])
    assert da.dims == ("day", "step", "customer")
    assert da["day"].values.tolist() == pd.to_datetime(["2024-03-04", "2024-03-05"]).values.tolist()
    np.testing.assert_array_equal(da.sel(customer="a").values, [[1.0, np.nan, np.nan, 2.0], [np.nan] * 4])
    np.testing.assert_array_equal(da.sel(customer="b").values, [[np.nan] * 4, [np.nan, 3.0, np.nan, np.nan]])
    assert np.isnan(da.sel(customer="c").values).all()


def test_cluster_patterns_by_hand():
    """Four 4-step curves of two shapes; energy 1 kWh per day at 1 h steps."""
    params = ProfileParams(step_minutes=360)  # step 6 h: a curve of 4 steps
    a, b = np.array([1.0, 0.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0, 0.0])
    curves_kw = np.vstack([a, a * 2, a * 3, b])  # three of shape a (different energies), one of b
    shapes, prob = cluster_patterns(curves_kw, params)
    assert prob.tolist() == [0.75, 0.25]
    # normalised by daily energy: sum(shape) * 6 h == 1, so the step of the peak has 1/6 per h
    np.testing.assert_allclose(shapes, [[1 / 6, 0, 0, 0], [0, 0, 1 / 6, 0]])
    gen, p = cluster_patterns(-curves_kw[:1], params, sign=-1.0)  # pv: generation shape of -p
    np.testing.assert_allclose(gen, [[1 / 6, 0, 0, 0]])
    assert p.tolist() == [1.0]


def test_min_daily_kwh_leaves_small_curves_out():
    params = ProfileParams(step_minutes=360)
    curves_kw = np.array([[0.1, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])  # 0.6 kWh and 6 kWh
    # both kept by default (1e-3 kWh); two curves make one cluster, the mean of both shapes
    shapes, prob = cluster_patterns(curves_kw, params)
    np.testing.assert_allclose(shapes, [[1 / 12, 0, 1 / 12, 0]])
    assert prob.tolist() == [1.0]
    shapes, prob = cluster_patterns(curves_kw, ProfileParams(step_minutes=360, min_daily_kwh=1.0))
    np.testing.assert_allclose(shapes, [[0, 0, 1 / 6, 0]])
    assert prob.tolist() == [1.0]
    with pytest.raises(ValueError, match="no daily curve"):
        cluster_patterns(curves_kw, ProfileParams(step_minutes=360, min_daily_kwh=10.0))


def test_known_clusters_are_recovered(case):
    result = build_profiles(two_cluster_case(case, params={"holdout_share": 0.0}))
    shapes, prob = result.patterns.of("residential", "working")
    assert prob.tolist() == pytest.approx([0.7, 0.3], abs=1e-12)
    # the pattern shapes are the hand-made ones, normalised by daily energy
    for shape, truth in zip(shapes, (MORNING, EVENING)):
        expected = truth / (truth.sum() * STEP_H)
        assert np.abs(shape - expected).max() < 0.02 * expected.max()
    assert result.patterns.source[("residential", "working")] == "metered"
    table = result.patterns.table()
    assert table.columns.tolist() == ["type", "context", "pattern", "probability", "source"]


def test_identical_curves_give_one_pattern(case):
    curves = {"m0": [MORNING] * 10, "m1": [2 * MORNING] * 10}  # same normalised shape
    result = build_profiles(meter_case(case, curves, params={"holdout_share": 0.0}))
    _, prob = result.patterns.of("residential", "working")
    assert prob.tolist() == [1.0]


def test_types_without_meters_get_standard_profiles_and_ratios(case):
    """Energy ratios: metered residential 1.5x on weekends; unmetered pv from the clear-sky profile
    scaled by the weather's clear-sky index (sunny 1.0, cloudy 0.55)."""
    days = pd.date_range("2024-03-04", periods=7, freq="D", name="day")
    curves = {"m0": [MORNING * (1.5 if d.dayofweek >= 5 else 1.0) for d in days]}
    calendar = pd.DataFrame(
        {"day_type": np.where(days.dayofweek < 5, "working", "non_working"), "weather": ["sunny", "cloudy"] * 3 + ["sunny"]},
        index=days.rename("date"),
    )
    c = meter_case(
        case,
        curves,
        calendar=calendar,
        extra_customers=unmetered(case, ["p1"], "pv", 900.0),
        params={"holdout_share": 0.0, "min_metered_curves": 7},
    )
    daily = daily_curves(
        pd.DataFrame({"customer_id": "m0", "timestamp": c.meter_readings["timestamp"], "p_kw": c.meter_readings["p_kw"]}),
        c.params.profiles,
        ["m0"],
    )
    probs = ContextProbabilities(
        pd.Series({"working": 5 / 7, "non_working": 2 / 7}), pd.Series({"sunny": 0.5, "cloudy": 0.5, "rainy": 0.0})
    )
    patterns = build_patterns(c, daily, calendar.reindex(days), days, probs)
    # residential (7 curves = min_metered_curves): clustered; mean = 5/7 * 1 + 2/7 * 1.5 = 8/7 of the working energy
    assert patterns.source[("residential", "working")] == "metered"
    assert patterns.energy_ratio[("residential", "working")] == pytest.approx(7 / 8)
    assert patterns.energy_ratio[("residential", "non_working")] == pytest.approx(1.5 * 7 / 8)
    # pv without meters: clear-sky energy (about the same on each March day) x 1.0 / 0.55, weighted 0.5 / 0.5
    assert patterns.energy_ratio[("pv", "cloudy")] == pytest.approx(0.55 / 0.775, rel=0.02)
    assert 0.5 * patterns.energy_ratio[("pv", "sunny")] + 0.5 * patterns.energy_ratio[("pv", "cloudy")] == pytest.approx(1.0)
    assert patterns.source[("pv", "sunny")] == "standard" and np.isnan(patterns.mean_daily_kwh[("pv", "sunny")])
    shapes, prob = patterns.of("pv", "sunny")
    np.testing.assert_allclose(shapes[0], standard_profile(c, "pv", calendar).shapes["sunny"])
    assert prob.tolist() == [1.0]
    assert patterns.basis["pv"] == "0 metered curves, pvlib clear-sky"
    assert "commercial" not in patterns.basis.index  # only the types present in the case


def test_min_metered_curves_switches_to_standard_profiles(case):
    """10 customers x 21 days = 210 usable curves (none held out)."""
    clustered = build_profiles(two_cluster_case(case, params={"holdout_share": 0.0, "min_metered_curves": 210}))
    assert clustered.patterns.source[("residential", "working")] == "metered"
    assert clustered.patterns.basis["residential"] == "10 metered customer(s) (210 curves): clustering"
    standard = build_profiles(two_cluster_case(case, params={"holdout_share": 0.0, "min_metered_curves": 211}))
    assert standard.patterns.source.loc["residential"].eq("standard").all()
    assert standard.patterns.basis["residential"] == "10 metered customer(s) (210 curves) < min_metered_curves (211): BDEW H0"
    _, prob = standard.patterns.of("residential", "working")
    assert prob.tolist() == [1.0]
