"""Standard load profiles for types without meters (lvbalance.profiles.standard and .solar, MODEL.md §3.3).

The Fig-3 case without any meter and without a calendar (:func:`tests.fixtures.no_meter_case`):
every pattern comes from a standard profile, checked against demandlib's and pvlib's own output
computed here independently, and every customer's yearly energy is its billed energy.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings

import holidays
import numpy as np
import pandas as pd
import pyproj
import pytest

from lvbalance.case import CUSTOMER_TYPES
from lvbalance.params import ProfileParams
from lvbalance.profiles import build_profiles, horizon_calendar, site_of
from lvbalance.profiles.standard import STANDARD_SOURCES, clock_days, shipped_shapes, standard_profile, to_horizon_days
from tests.fixtures import STEP_H, T, no_meter_case, two_cluster_case, unmetered


def _yearly_kwh(result) -> pd.Series:
    """365 x the probability-weighted daily energy of each customer over the scenarios [kWh/a]."""
    sc = result.scenarios
    w = sc.scenarios["probability"].to_numpy()
    daily = (sc.p_kw.values * w[:, None, None]).sum(axis=0).sum(axis=0) * sc.step_hours
    return pd.Series(365 * daily, index=sc.p_kw["customer"].values)


def _bdew_h0(year: int) -> pd.Series:
    """demandlib's dynamic H0 of ``year`` with German public holidays (15-min, local time)."""
    from demandlib import bdew

    with warnings.catch_warnings():
        slp = bdew.ElecSlp(year, holidays=holidays.country_holidays("DE", years=year))
        return slp.get_profiles("h0_dyn")["h0_dyn"].copy()


def test_without_meters_yearly_energy_is_the_billed_energy(case):
    """No readings: a calendar of 365 days from Wed 2025-01-01: 104 weekend days and 9 German
    public holidays on weekdays (Jan 1, Apr 18, Apr 21, May 1, May 29, Jun 9, Oct 3, Dec 25, Dec 26),
    so 252 working days."""
    c = no_meter_case(case)
    result = build_profiles(c)
    assert result.scenarios.scenarios.index.tolist() == ["working-cloudy", "non_working-cloudy"]  # one weather class
    assert result.scenarios.scenarios["probability"].to_dict() == pytest.approx(
        {"working-cloudy": 252 / 365, "non_working-cloudy": 113 / 365}
    )
    assert set(result.patterns.source) == {"standard"}
    assert result.patterns.basis.to_dict() == {
        "residential": "0 metered curves, BDEW H0",
        "commercial": "0 metered curves, BDEW G0",
        "pv": "0 metered curves, pvlib clear-sky",
        "ev": "0 metered curves, SimBench home charging",
    }
    yearly = _yearly_kwh(result)
    billed = c.customers["annual_kwh"].astype(float)
    sign = np.where(c.customers["type"] == "pv", -1.0, 1.0)
    np.testing.assert_allclose(sign * yearly.reindex(c.customers.index).to_numpy(), billed.to_numpy(), rtol=1e-9)
    assert (result.scenarios.p_kw.sel(customer="c5").values <= 0).all()  # pv generates


def test_residential_shape_is_bdew_h0_of_the_day_type(case):
    """One week from Mon 2025-01-13: horizon days from 08:00, five working and two weekend days."""
    c = no_meter_case(case, calendar_start="2025-01-13", calendar_days=7)
    result = build_profiles(c)
    h0 = _bdew_h0(2025)
    start = pd.Timestamp("2025-01-13 08:00")
    days = h0[start : start + pd.Timedelta(days=7) - pd.Timedelta("15min")].to_numpy().reshape(7, T)
    expected = {"working": days[:5].sum(axis=0), "non_working": days[5:].sum(axis=0)}
    energy = {k: days[s].sum(axis=1).mean() for k, s in (("working", slice(0, 5)), ("non_working", slice(5, 7)))}
    mean_energy = 5 / 7 * energy["working"] + 2 / 7 * energy["non_working"]
    for ctx, curve in expected.items():
        shapes, prob = result.patterns.of("residential", ctx)
        assert prob.tolist() == [1.0]
        np.testing.assert_allclose(shapes[0], curve / (curve.sum() * STEP_H), rtol=1e-9)
        # customer c3: billed 4000 kWh/a, so 4000/365 kWh a day times the day type's energy ratio
        ratio = energy[ctx] / mean_energy
        assert result.patterns.energy_ratio[("residential", ctx)] == pytest.approx(ratio, rel=1e-9)
        p = result.pseudo_kw.sel(context=ctx, customer="c3").values
        np.testing.assert_allclose(p, shapes[0] * 4000 / 365 * ratio, rtol=1e-9)
    # BDEW's weekend differs from its weekday: a later morning
    assert not np.allclose(
        expected["working"] / expected["working"].sum(), expected["non_working"] / expected["non_working"].sum(), atol=1e-4
    )


def test_pv_peaks_at_the_sites_solar_noon(case):
    """A June week in Europe/Berlin (CEST, UTC+2); solar noon from the equation of time."""
    from pvlib.solarposition import equation_of_time_spencer71

    c = no_meter_case(case, calendar_start="2025-06-16", calendar_days=7)
    nodes = c.network.nodes
    lon, lat = pyproj.Transformer.from_crs(c.crs, "EPSG:4326", always_xy=True).transform(nodes["x"].mean(), nodes["y"].mean())
    assert site_of(c).lon_deg == pytest.approx(lon) and site_of(c).lat_deg == pytest.approx(lat)
    eot_min = float(equation_of_time_spencer71(pd.Timestamp("2025-06-19").dayofyear))
    noon_local_h = 12 - lon / 15 - eot_min / 60 + 2  # ~13:30
    result = build_profiles(c)
    pv = -result.scenarios.p_kw.sel(scenario="working-cloudy", customer="c5").values
    mid_clock_h = 8 + (np.arange(T) + 0.5) * STEP_H
    assert abs(mid_clock_h[int(np.argmax(pv))] - noon_local_h) <= STEP_H
    night = (mid_clock_h >= 23) & (mid_clock_h < 28)  # 23:00 to 04:00
    assert (pv[night] == 0).all() and (pv >= 0).all()


def test_site_without_timezone_takes_an_offset_from_the_longitude(case, caplog):
    with caplog.at_level(logging.INFO, logger="lvbalance.profiles.solar"):
        site = site_of(case)  # fig3 metadata has no timezone; longitude 7.6 E
    assert site.timezone == "Etc/GMT-1" and "UTC+1" in caplog.text


def test_to_horizon_days_by_hand():
    clock = np.arange(2 * 96, dtype=float).reshape(2, 96)  # two clock days, value = 15-min index
    np.testing.assert_array_equal(to_horizon_days(clock, ProfileParams())[0], np.arange(32, 128))  # from 08:00
    hourly = to_horizon_days(clock, ProfileParams(step_minutes=60, horizon_start_hour=6))
    assert hourly.shape == (1, 24)
    assert hourly[0, 0] == pytest.approx((24 + 25 + 26 + 27) / 4)  # 06:00-07:00 = 15-min steps 24..27


@pytest.mark.parametrize("typ", sorted(STANDARD_SOURCES))
def test_standard_profiles_hold_one_kwh_a_day(case, typ):
    cal = horizon_calendar(case)  # fig3: 14 days from 2024-03-04, weather labelled
    std = standard_profile(case, typ, cal)
    assert std.source == STANDARD_SOURCES[typ]
    for shape in std.shapes.values():
        assert shape.shape == (T,) and shape.sum() * STEP_H == pytest.approx(1.0) and (shape >= 0).all()
    assert (std.daily_energy > 0).all()


def test_pv_weather_classes_scale_the_clear_sky_energy(case):
    cal = pd.DataFrame(
        {"day_type": "working", "weather": ["sunny", "cloudy", "rainy"]},
        index=pd.DatetimeIndex(["2024-06-20", "2024-06-21", "2024-06-22"], name="date"),
    )
    e = standard_profile(case, "pv", cal).daily_energy
    # three days of nearly the same clear-sky energy, times the clear-sky index 1.0 / 0.55 / 0.25
    assert e["cloudy"] / e["sunny"] == pytest.approx(0.55, rel=0.01)
    assert e["rainy"] / e["sunny"] == pytest.approx(0.25, rel=0.01)


def test_shipped_shapes_are_one_mwh_a_year():
    table = shipped_shapes()
    assert set(table.index.get_level_values("type")) == {"ev", "heat_pump"}
    daily_kwh = table.sum(axis=1) * STEP_H  # kWh a day per MWh/a
    for typ in ("ev", "heat_pump"):
        # 2016: the mean over its 366 days of the month / day-type means, weighted by their days
        days = pd.date_range("2016-01-01", "2016-12-31", freq="D")
        hol = holidays.country_holidays("DE", years=2016)
        dt = np.where((days.dayofweek >= 5) | np.isin(days.date, list(hol)), "non_working", "working")
        total = sum(daily_kwh[(typ, d, m)] for d, m in zip(dt, days.month))
        assert total == pytest.approx(1000.0, rel=0.01)


def test_heat_pump_has_a_standard_profile(case):
    std = standard_profile(case, "heat_pump", horizon_calendar(case))
    assert set(std.shapes) == {"working", "non_working"} and std.source == "SimBench heat pumps"


@pytest.mark.skipif("heat_pump" not in CUSTOMER_TYPES, reason="customer type heat_pump not in this version")
def test_unmetered_heat_pump_gets_its_billed_energy(case):
    c = no_meter_case(case, calendar_start="2025-01-06", calendar_days=28)
    c = dataclasses.replace(c, customers=pd.concat([c.customers, unmetered(case, ["hp1"], "heat_pump", 6000.0)]))
    result = build_profiles(c)
    assert result.patterns.basis["heat_pump"] == "0 metered curves, SimBench heat pumps"
    assert _yearly_kwh(result)["hp1"] == pytest.approx(6000.0, rel=1e-9)


def test_unknown_type_has_no_standard_profile(case):
    with pytest.raises(ValueError, match="no standard profile for customer type 'tram'"):
        clock_days(case, "tram", pd.Timestamp("2024-03-04"), 2)


def test_few_meters_are_logged_with_their_count(case, caplog):
    c = two_cluster_case(case, params={"min_metered_curves": 1000})
    with caplog.at_level(logging.INFO, logger="lvbalance.profiles.patterns"):
        result = build_profiles(c)
    n = len(result.train_days) * 10
    assert f"residential: 10 metered customer(s) ({n} curves) < min_metered_curves (1000): BDEW H0" in caplog.text
