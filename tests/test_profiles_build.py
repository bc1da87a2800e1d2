"""The composed pipeline, real days and the pseudo-profile error (lvbalance.profiles.build, MODEL.md §3)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lvbalance.profiles.build import MeteredDays, ProfileResult, build_profiles, day_profiles, prepare_days, pseudo_profile_error
from lvbalance.profiles.calendar import horizon_day_of
from lvbalance.profiles.cleaning import clean_readings
from tests.fixtures import MORNING, T, meter_case, two_cluster_case, unmetered


def test_prepare_days(case):
    days = prepare_days(case)
    assert isinstance(days, MeteredDays)
    # fig3: c1 and c6 metered, 13 whole horizon days (03-04 08:00 .. 03-17 08:00)
    assert days.daily_kw.dims == ("day", "step", "customer")
    assert days.daily_kw.shape == (13, 96, 2) and days.daily_kw["customer"].values.tolist() == ["c1", "c6"]
    assert days.cleaning_report["days_kept"].tolist() == [13, 13]
    # horizon days 03-04 .. 03-16: 10 working, 3 weekend days; floor(0.25 * 10 + 0.5) = 3 and
    # floor(0.25 * 3 + 0.5) = 1 held out
    assert len(days.train_days) == 13 - 4
    assert len(days.heldout_days) == 3 + 1 and (days.heldout_days.dayofweek >= 5).sum() == 1
    assert days.context.loc[pd.Timestamp("2024-03-09"), "day_type"] == "non_working"


def test_pseudo_energy_equals_billed_energy(case):
    """sum_s beta_s * daily energy * 365 == annual_kwh, and context ratios follow the metered data."""
    rng = np.random.default_rng(3)
    days = pd.date_range("2024-03-04", periods=28, freq="D")
    # metered residential use 1.5x more energy on non-working days
    curves = {f"m{i}": [MORNING * (1.5 if d.dayofweek >= 5 else 1.0) * (1 + 0.02 * rng.standard_normal(T)) for d in days] for i in range(4)}
    extra = pd.concat(
        [
            unmetered(case, ["u_res"], "residential", 3650.0),
            unmetered(case, ["u_com"], "commercial", 12000.0),
            unmetered(case, ["u_pv"], "pv", 5000.0),
            unmetered(case, ["u_ev"], "ev", 2000.0, charge_kw=7.0, discharge_kw=7.0),
        ]
    )
    weather = np.array(["sunny", "cloudy", "rainy", "sunny"] * 7)
    calendar = pd.DataFrame(
        {"day_type": np.where(days.dayofweek < 5, "working", "non_working"), "weather": weather}, index=pd.DatetimeIndex(days, name="date")
    )
    result = build_profiles(meter_case(case, curves, calendar=calendar, extra_customers=extra))
    assert isinstance(result, ProfileResult)
    sc = result.scenarios
    beta = xr.DataArray(sc.scenarios["probability"])
    annual = ((sc.p_kw.sum("step") * sc.step_hours * 365) * beta).sum("scenario").to_pandas()
    assert annual["u_res"] == pytest.approx(3650.0, rel=1e-9)
    assert annual["u_com"] == pytest.approx(12000.0, rel=1e-9)
    assert annual["u_pv"] == pytest.approx(-5000.0, rel=1e-9)
    assert annual["u_ev"] == pytest.approx(2000.0, rel=1e-9)
    ratio = result.patterns.energy_ratio
    assert ratio[("residential", "non_working")] / ratio[("residential", "working")] == pytest.approx(1.5, rel=0.02)
    # 20 working, 8 weekend days: 20/28 r_w + 8/28 r_n = 1 with r_n = 1.5 r_w -> r_w = 28 / 32
    assert ratio[("residential", "working")] == pytest.approx(28 / 32, rel=0.02)
    assert (sc.p_kw.sel(customer="u_pv") <= 0).all()
    # a metered customer keeps its own mean curve of the context
    own = np.mean([curves["m0"][days.get_loc(d)] for d in result.train_days if d.dayofweek < 5], axis=0)
    np.testing.assert_allclose(sc.p_kw.sel(scenario="working-rainy", customer="m0").values, own, rtol=1e-9)


def test_same_seed_same_output(case):
    extra = unmetered(case, [f"u{i}" for i in range(7)], "residential", 3000.0)
    a = build_profiles(two_cluster_case(case, extra_customers=extra))
    b = build_profiles(two_cluster_case(case, extra_customers=extra))
    xr.testing.assert_identical(a.scenarios.p_kw, b.scenarios.p_kw)
    pd.testing.assert_frame_equal(a.patterns.shapes, b.patterns.shapes)
    assert a.heldout_days.equals(b.heldout_days)
    c = build_profiles(two_cluster_case(case, extra_customers=extra, params={"seed": 7}))
    assert not c.heldout_days.equals(a.heldout_days)


def test_holdout_split(case):
    result = build_profiles(two_cluster_case(case))  # 21 days: 15 working, 6 non-working
    train, held = result.train_days, result.heldout_days
    assert len(train.intersection(held)) == 0
    assert len(train) == 21 - 6
    assert len(held) == 4 + 2  # floor(0.25 * 15 + 0.5), floor(0.25 * 6 + 0.5)
    assert (held.dayofweek >= 5).sum() == 2  # stratified by day type


def test_day_profiles_real_and_pseudo(case):
    extra = unmetered(case, ["u0"], "residential", 3000.0)
    case = two_cluster_case(case, extra_customers=extra)
    result = build_profiles(case)
    days = result.heldout_days
    dp = day_profiles(case, result, days)
    assert dp.dims == ("day", "step", "customer") and list(dp["customer"].values) == list(case.customers.index)
    cleaned = clean_readings(case).readings
    d = days[0]
    real = cleaned[(cleaned["customer_id"] == "m3") & (horizon_day_of(cleaned["timestamp"], 8) == d)]["p_kw"].to_numpy()
    np.testing.assert_allclose(dp.sel(day=d, customer="m3").values, real)
    scen = f"{'working' if d.dayofweek < 5 else 'non_working'}-sunny"
    np.testing.assert_allclose(dp.sel(day=d, customer="u0").values, result.scenarios.p_kw.sel(scenario=scen, customer="u0").values)


def test_day_profiles_needs_the_curves(case):
    result = dataclasses.replace(build_profiles(case), pseudo_kw=None)
    with pytest.raises(ValueError, match="pseudo_kw and daily_kw"):
        day_profiles(case, result, result.heldout_days)


def test_pseudo_profile_error_per_type(case):
    err = pseudo_profile_error(two_cluster_case(case))
    assert err.index.tolist() == ["residential"]
    row = err.loc["residential"]
    assert row["customers"] == 10 and row["days"] == 10 * 6  # 10 customers x 6 held-out days
    # each customer has one fixed shape, so its own mean curve is nearly exact; a pseudo
    # profile can pick the wrong shape for some customers
    assert row["mae_own_mean_kw"] < 0.05 * row["mean_kw"]
    assert row["mae_own_mean_kw"] <= row["mae_pseudo_kw"]
    assert row["nmae_pseudo"] == pytest.approx(row["mae_pseudo_kw"] / row["mean_kw"])


def test_customer_without_usable_readings_gets_a_pseudo_profile(case):
    case = two_cluster_case(case)
    r = case.meter_readings.copy()
    r.loc[r["customer_id"] == "m9", "p_kw"] = np.nan
    customers = case.customers.copy()
    customers.loc["m9", "annual_kwh"] = 3650.0
    case = dataclasses.replace(case, meter_readings=r, customers=customers)
    result = build_profiles(case)
    assert result.cleaning_report.loc["m9", "days_kept"] == 0
    beta = xr.DataArray(result.scenarios.scenarios["probability"])
    annual = float((result.scenarios.p_kw.sel(customer="m9").sum("step") * 0.25 * 365 * beta).sum())
    assert annual == pytest.approx(3650.0)
