"""Cleaning of meter readings and its report (lvbalance.profiles.cleaning, MODEL.md §3.1)."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd
import pytest

from lvbalance.case import Case
from lvbalance.profiles.cleaning import REPORT_COLUMNS, CleanedReadings, clean_readings
from tests.fixtures import EVENING, MORNING, T, meter_case, two_cluster_case, unmetered, with_readings


def _with_params(case: Case, **profiles: object) -> Case:
    return dataclasses.replace(case, params=case.params.updated(profiles=profiles))


def test_gaps_and_bad_values_are_cleaned_and_reported(case, caplog):
    base = case
    case = meter_case(base, {"m0": [MORNING.copy() for _ in range(6)], "m1": [EVENING.copy() for _ in range(6)]})
    extra = pd.concat([unmetered(base, ["pv1"], "pv", 4500.0), unmetered(base, ["ev1"], "ev", 2000.0, charge_kw=7.0, discharge_kw=0.0)])
    extra["metered"] = True
    r = case.meter_readings.copy()
    # m0: a duplicate, a 45-min gap (interpolated), a 3 h gap (day dropped), NaN, inf and 1e5 kW
    dup = r[(r["customer_id"] == "m0")].iloc[[5]]
    gap = (r["customer_id"] == "m0") & r["timestamp"].between(pd.Timestamp("2024-03-04 10:00"), pd.Timestamp("2024-03-04 10:30"))
    long_gap = (r["customer_id"] == "m0") & r["timestamp"].between(pd.Timestamp("2024-03-06 12:00"), pd.Timestamp("2024-03-06 14:45"))
    r = pd.concat([r[~gap & ~long_gap], dup], ignore_index=True)
    m0 = r.index[r["customer_id"] == "m0"]
    r.loc[m0[100], "p_kw"] = np.nan
    r.loc[m0[101], "p_kw"] = np.inf
    r.loc[m0[300], "p_kw"] = 1e5
    # pv: generation with one positive 5 kW reading; ev: 20 kW on a 7 kW charger and an absurd 500 kW
    ts = r.loc[r["customer_id"] == "m1", "timestamp"].to_numpy()
    pv = -3.0 * np.clip(np.sin(np.pi * (pd.DatetimeIndex(ts).hour.to_numpy() - 6) / 14), 0, None)
    pv[50] = 5.0
    ev = np.where(pd.DatetimeIndex(ts).hour.to_numpy() >= 19, 7.0, 0.0)
    ev[60], ev[61] = 20.0, 500.0
    r = pd.concat(
        [
            r,
            pd.DataFrame({"customer_id": "pv1", "timestamp": ts, "p_kw": pv}),
            pd.DataFrame({"customer_id": "ev1", "timestamp": ts, "p_kw": ev}),
        ],
        ignore_index=True,
    )
    case = dataclasses.replace(case, meter_readings=r, customers=pd.concat([case.customers, extra]))
    with caplog.at_level(logging.INFO, logger="lvbalance.profiles"):
        result = clean_readings(case)
    assert isinstance(result, CleanedReadings)
    cleaned, report = result.readings, result.report
    assert list(report.columns) == list(REPORT_COLUMNS)
    assert report.loc["m0", "readings"] == 6 * T - 3 - 12 + 1
    assert report.loc["m0", "duplicates"] == 1
    assert report.loc["m0", "non_finite"] == 2
    assert report.loc["m0", "absurd"] == 1
    assert report.loc["m0", "interpolated"] == 3 + 3  # the 45-min gap and the three bad values
    assert report.loc["m0", "days_dropped"] == 1 and report.loc["m0", "days_kept"] == 5
    assert report.loc["m1"].drop(["type", "readings", "days_kept"]).astype(int).sum() == 0
    assert report.loc["pv1", "clipped"] == 1
    assert report.loc["ev1", "clipped"] == 1 and report.loc["ev1", "absurd"] == 1
    assert "m0" in caplog.text and "duplicates=1" in caplog.text
    c0 = cleaned[cleaned["customer_id"] == "m0"].set_index("timestamp")["p_kw"]
    assert pd.Timestamp("2024-03-06 12:00") not in c0.index  # the day with the long gap is gone
    assert len(c0) == 5 * T
    assert np.isfinite(c0).all() and c0.max() < 2.0
    # the 45-min gap is a straight line between its neighbours
    t = pd.date_range("2024-03-04 09:45", "2024-03-04 10:45", freq="15min")
    np.testing.assert_allclose(c0[t].to_numpy(), np.linspace(c0[t[0]], c0[t[-1]], 5))
    # clipped to the pv standby (0.1 kW) and to the ev's 7 kW rating
    assert cleaned.loc[cleaned["customer_id"] == "pv1", "p_kw"].max() == pytest.approx(0.1)
    assert cleaned.loc[cleaned["customer_id"] == "ev1", "p_kw"].max() == 7.0
    assert not cleaned.duplicated(["customer_id", "timestamp"]).any()


def test_positive_pv_series_is_flipped(case):
    extra = unmetered(case, ["pv1"], "pv", 4500.0)
    extra["metered"] = True
    ts = pd.date_range("2024-03-04 08:00", periods=3 * T, freq="15min")
    pv = 3.0 * np.clip(np.sin(np.pi * (ts.hour.to_numpy() - 6) / 14), 0, None)
    case = with_readings(case, extra, pd.DataFrame({"customer_id": "pv1", "timestamp": ts, "p_kw": pv}))
    result = clean_readings(case)
    assert bool(result.report.loc["pv1", "sign_flipped"])
    # the 13:00 reading: 3 sin(pi 7/14) = 3 kW of generation, now negative
    cleaned = result.readings.set_index(["customer_id", "timestamp"])["p_kw"]
    assert cleaned[("pv1", pd.Timestamp("2024-03-04 13:00"))] == pytest.approx(-3.0)


def test_days_cut_by_record_ends_are_edge_days_not_faults(case):
    report = clean_readings(case).report  # readings from midnight for 14 days; horizon days from 08:00
    assert report.index.tolist() == ["c1", "c6"]
    assert report["edge_days"].tolist() == [2, 2]
    assert report["days_dropped"].tolist() == [0, 0]
    assert report["days_kept"].tolist() == [13, 13]


def test_all_missing_readings_leave_no_day(case):
    case = two_cluster_case(case)
    r = case.meter_readings.copy()
    r.loc[r["customer_id"] == "m9", "p_kw"] = np.nan
    result = clean_readings(dataclasses.replace(case, meter_readings=r))
    assert result.report.loc["m9", "non_finite"] == 21 * T and result.report.loc["m9", "days_kept"] == 0
    assert "m9" not in set(result.readings["customer_id"])


# --------------------------------------------------------------------------- the limits are params.profiles.cleaning


def _residential_spike(base: Case, spike_kw: float) -> Case:
    """m0 with MORNING days and one reading of ``spike_kw``."""
    case = meter_case(base, {"m0": [MORNING.copy() for _ in range(4)]})
    r = case.meter_readings.copy()
    r.loc[100, "p_kw"] = spike_kw
    return dataclasses.replace(case, meter_readings=r)


def test_absurd_factor_sets_the_impossible_range(case):
    # plausible residential peak 15 kW: 200 kW is beyond 10 x 15 = 150 kW, not beyond 20 x 15 = 300 kW
    spiked = _residential_spike(case, 200.0)
    assert clean_readings(spiked).report.loc["m0", "absurd"] == 1
    relaxed = _with_params(spiked, cleaning={"absurd_factor": 20.0})
    assert clean_readings(relaxed).report.loc["m0", "absurd"] == 0
    lower_peak = _with_params(spiked, cleaning={"plausible_peak_kw": {"residential": 30.0, "commercial": 60.0, "pv": 10.0, "ev": 11.0}})
    assert clean_readings(lower_peak).report.loc["m0", "absurd"] == 0  # 10 x 30 kW = 300 kW


def test_pv_yield_sizes_the_pv_customer(case):
    # 4500 kWh/a at 900 kWh/kWp: 5 kWp, absurd beyond 50 kW; at 300 kWh/kWp: 15 kWp, absurd beyond 150 kW
    extra = unmetered(case, ["pv1"], "pv", 4500.0)
    extra["metered"] = True
    ts = pd.date_range("2024-03-04 08:00", periods=3 * T, freq="15min")
    pv = -3.0 * np.clip(np.sin(np.pi * (ts.hour.to_numpy() - 6) / 14), 0, None)
    pv[40] = -60.0
    case = with_readings(case, extra, pd.DataFrame({"customer_id": "pv1", "timestamp": ts, "p_kw": pv}))
    assert clean_readings(case).report.loc["pv1", "absurd"] == 1
    assert clean_readings(_with_params(case, pv_yield_kwh_per_kwp=300.0)).report.loc["pv1", "absurd"] == 0


def test_pv_standby_and_ev_tolerance(case):
    extra = pd.concat([unmetered(case, ["pv1"], "pv", 4500.0), unmetered(case, ["ev1"], "ev", 2000.0, charge_kw=7.0, discharge_kw=0.0)])
    extra["metered"] = True
    ts = pd.date_range("2024-03-04 08:00", periods=3 * T, freq="15min")
    pv = -3.0 * np.clip(np.sin(np.pi * (ts.hour.to_numpy() - 6) / 14), 0, None)
    pv[-4:] = 0.15  # consumption of 0.15 kW in the last hour: above a 0.1 kW standby, within 0.2 kW
    ev = np.where(ts.hour.to_numpy() >= 19, 7.0, 0.0)
    ev[0] = 7.5  # within 1.1 x 7 kW = 7.7 kW, beyond 1.05 x 7 kW = 7.35 kW
    readings = pd.concat(
        [
            pd.DataFrame({"customer_id": "pv1", "timestamp": ts, "p_kw": pv}),
            pd.DataFrame({"customer_id": "ev1", "timestamp": ts, "p_kw": ev}),
        ],
        ignore_index=True,
    )
    case = with_readings(case, extra, readings)
    report = clean_readings(case).report
    assert report.loc["pv1", "clipped"] == 4 and report.loc["ev1", "clipped"] == 0
    changed = _with_params(case, cleaning={"pv_standby_kw": 0.2, "ev_rating_tolerance": 1.05})
    report = clean_readings(changed).report
    assert report.loc["pv1", "clipped"] == 0 and report.loc["ev1", "clipped"] == 1


def test_steps_longer_than_the_start_hour_allows_are_counted_from_the_start_hour() -> None:
    """3 h steps from 08:00 (08:00-11:00, ...): 15-min readings fall into those steps, not
    into steps from midnight that miss the grid (it raised an IndexError before)."""
    from lvbalance.profiles import build_profiles
    from tests.fixtures import coarse, fig3_case

    case = coarse(fig3_case())
    assert case.params.profiles.step_minutes == 180 and case.params.profiles.horizon_start_hour == 8
    p = build_profiles(case).scenarios.p_kw
    assert p.sizes["step"] == 8
    assert np.isfinite(p.values).all() and (np.abs(p.values) > 0).any()
