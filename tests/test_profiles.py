"""Pseudo load profiles and scenarios (lvbalance.profiles, MODEL.md §3)."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tests.conftest import fig3_case
from lvbalance.case import Case
from lvbalance.profiles import (
    assign_patterns,
    build_profiles,
    cap_power,
    clean_readings,
    day_context,
    day_profiles,
    horizon_day_of,
    largest_remainder,
    pseudo_profile_error,
    write_profiles,
)

T = 96
STEP_H = 0.25
#: clock hour of each step of a horizon day starting at 08:00
CLOCK = (8 + STEP_H * np.arange(T)) % 24


def _bump(centre_h: float, width_h: float = 1.5) -> np.ndarray:
    d = (CLOCK - centre_h + 12) % 24 - 12  # circular distance [h]
    return np.exp(-(d**2) / (2 * width_h**2))


#: two hand-made residential day shapes [kW]: a morning person and an evening person
MORNING = 0.2 + 1.5 * _bump(7.0)
EVENING = 0.2 + 1.5 * _bump(20.0)


def _meter_case(
    curves: dict[str, list[np.ndarray]], *, start: str = "2024-03-04", calendar: pd.DataFrame | None = None,
    extra_customers: pd.DataFrame | None = None, params: dict | None = None,
) -> Case:
    """The fig3 network with metered residential customers m0, m1, ... whose horizon days are ``curves``."""
    base = fig3_case()
    n_days = len(next(iter(curves.values())))
    days = pd.date_range(start, periods=n_days, freq="D")
    ts = (days.to_numpy()[:, None] + np.timedelta64(8, "h") + np.arange(T)[None, :] * np.timedelta64(15, "m")).ravel()
    readings = pd.concat(
        [pd.DataFrame({"customer_id": cid, "timestamp": ts, "p_kw": np.concatenate(days_kw)}) for cid, days_kw in curves.items()],
        ignore_index=True,
    )
    metered = pd.DataFrame(
        [(cid, "n5", *base.customers.loc["c1", ["x", "y"]], "residential", True, np.nan, np.nan, np.nan, False) for cid in curves],
        columns=["customer_id", *base.customers.columns],
    ).set_index("customer_id")
    customers = pd.concat([metered, extra_customers]) if extra_customers is not None else metered
    if calendar is None:
        calendar = pd.DataFrame(
            {"day_type": np.where(days.dayofweek < 5, "working", "non_working"), "weather": "sunny"},
            index=pd.DatetimeIndex(days, name="date"),
        )
    p = base.params.updated(profiles=params) if params else base.params
    return dataclasses.replace(base, customers=customers, meter_readings=readings, calendar=calendar, params=p)


def _unmetered(ids: list[str], typ: str, annual_kwh: float, **ratings: float) -> pd.DataFrame:
    base = fig3_case().customers.loc["c3"]
    rows = [(cid, "n4", base["x"], base["y"], typ, False, annual_kwh, ratings.get("charge_kw", np.nan),
             ratings.get("discharge_kw", np.nan), False) for cid in ids]
    return pd.DataFrame(rows, columns=["customer_id", *fig3_case().customers.columns]).set_index("customer_id")


def _two_cluster_case(seed: int = 0, **kw) -> Case:
    """10 customers x 21 days: 7 customers always MORNING, 3 always EVENING, +-3 % noise, energies vary."""
    rng = np.random.default_rng(seed)
    curves = {}
    for i in range(10):
        shape = MORNING if i < 7 else EVENING
        curves[f"m{i}"] = [shape * (1 + 0.5 * i / 10) * (1 + 0.03 * rng.standard_normal(T)) for _ in range(21)]
    return _meter_case(curves, **kw)


# --------------------------------------------------------------------------- patterns


def test_known_clusters_are_recovered():
    result = build_profiles(_two_cluster_case(params={"holdout_share": 0.0}))
    shapes, prob = result.patterns.of("residential", "working")
    assert len(prob) == 2
    assert prob == pytest.approx([0.7, 0.3], abs=1e-12)
    # the pattern shapes are the hand-made ones, normalised by daily energy
    for shape, truth in zip(shapes, (MORNING, EVENING)):
        expected = truth / (truth.sum() * STEP_H)
        assert np.abs(shape - expected).max() < 0.02 * expected.max()
        assert shape.sum() * STEP_H == pytest.approx(1.0)
    assert result.patterns.source[("residential", "working")] == "metered"


def test_identical_curves_give_one_pattern_without_warning():
    curves = {"m0": [MORNING] * 10, "m1": [2 * MORNING] * 10}  # same normalised shape
    result = build_profiles(_meter_case(curves, params={"holdout_share": 0.0}))
    _, prob = result.patterns.of("residential", "working")
    assert prob.tolist() == [1.0]


# --------------------------------------------------------------------------- assignment


def test_largest_remainder_50_30_20():
    counts = largest_remainder([0.5, 0.3, 0.2], 100, np.random.default_rng(0))
    assert counts.tolist() == [50, 30, 20]
    labels = assign_patterns([f"c{i}" for i in range(100)], [0.5, 0.3, 0.2], np.random.default_rng(1))
    assert np.bincount(labels.to_numpy()).tolist() == [50, 30, 20]


def test_largest_remainder_ties_are_seeded():
    draws = {tuple(largest_remainder([1 / 3] * 3, 4, np.random.default_rng(s))) for s in range(20)}
    assert all(sum(d) == 4 and sorted(d) == [1, 1, 2] for d in draws)
    assert len(draws) > 1  # the tie goes to different patterns for different seeds
    assert tuple(largest_remainder([1 / 3] * 3, 4, np.random.default_rng(5))) == tuple(
        largest_remainder([1 / 3] * 3, 4, np.random.default_rng(5))
    )
    assert largest_remainder([0.7, 0.3], 10, np.random.default_rng(0)).tolist() == [7, 3]


def test_unmetered_counts_follow_probabilities():
    extra = _unmetered([f"u{i}" for i in range(100)], "residential", 3000.0)
    result = build_profiles(_two_cluster_case(extra_customers=extra, params={"holdout_share": 0.0}))
    a = result.assignment.xs("working", level="context")["pattern"]
    assert np.bincount(a.to_numpy()).tolist() == [70, 30]
    # each unmetered profile is exactly its pattern times its energy
    shapes, _ = result.patterns.of("residential", "working")
    p = result.scenarios.p_kw.sel(scenario="working-sunny", customer="u0").values
    ratio = result.patterns.energy_ratio[("residential", "working")]
    np.testing.assert_allclose(p, shapes[a["u0"]] * 3000.0 / 365 * ratio)


def test_cap_power_keeps_energy_and_spills_forward():
    kw = np.zeros((1, 8))
    kw[0, 6] = 20.0  # 20 kW for one step on a 7 kW charger
    out = cap_power(kw, 7.0)
    assert out.max() == 7.0 and out.sum() == pytest.approx(20.0)
    assert out[0].tolist() == [6.0, 0, 0, 0, 0, 0, 7.0, 7.0]  # charges on, wrapping round the day


# --------------------------------------------------------------------------- energies


def test_pseudo_energy_equals_billed_energy():
    """sum_s beta_s * daily energy * 365 == annual_kwh, and context ratios follow the metered data."""
    rng = np.random.default_rng(3)
    days = pd.date_range("2024-03-04", periods=28, freq="D")
    # metered residential use 1.5x more energy on non-working days
    curves = {f"m{i}": [MORNING * (1.5 if d.dayofweek >= 5 else 1.0) * (1 + 0.02 * rng.standard_normal(T)) for d in days] for i in range(4)}
    extra = pd.concat([
        _unmetered(["u_res"], "residential", 3650.0),
        _unmetered(["u_com"], "commercial", 12000.0),
        _unmetered(["u_pv"], "pv", 5000.0),
        _unmetered(["u_ev"], "ev", 2000.0, charge_kw=7.0, discharge_kw=7.0),
    ])
    weather = np.array(["sunny", "cloudy", "rainy", "sunny"] * 7)
    calendar = pd.DataFrame({"day_type": np.where(days.dayofweek < 5, "working", "non_working"), "weather": weather},
                            index=pd.DatetimeIndex(days, name="date"))
    result = build_profiles(_meter_case(curves, calendar=calendar, extra_customers=extra))
    sc = result.scenarios
    beta = xr.DataArray(sc.scenarios["probability"])
    annual = ((sc.p_kw.sum("step") * sc.step_hours * 365) * beta).sum("scenario").to_pandas()
    assert annual["u_res"] == pytest.approx(3650.0, rel=1e-9)
    assert annual["u_com"] == pytest.approx(12000.0, rel=1e-9)
    assert annual["u_pv"] == pytest.approx(-5000.0, rel=1e-9)
    assert annual["u_ev"] == pytest.approx(2000.0, rel=1e-9)
    ratio = result.patterns.energy_ratio
    assert ratio[("residential", "non_working")] / ratio[("residential", "working")] == pytest.approx(1.5, rel=0.02)
    p_work = (calendar["day_type"] == "working").mean()
    assert p_work * ratio[("residential", "working")] + (1 - p_work) * ratio[("residential", "non_working")] == pytest.approx(1.0)
    assert (sc.p_kw.sel(customer="u_pv") <= 0).all()
    # a metered customer keeps its own mean curve of the context
    train = result.train_days
    own = np.mean([curves["m0"][days.get_loc(d)] for d in train if d.dayofweek < 5], axis=0)
    np.testing.assert_allclose(sc.p_kw.sel(scenario="working-rainy", customer="m0").values, own, rtol=1e-9)


# --------------------------------------------------------------------------- scenarios


def test_scenarios_shape_and_probabilities():
    case = fig3_case()
    result = build_profiles(case)
    sc = result.scenarios
    assert sc.scenarios["probability"].sum() == pytest.approx(1.0)
    assert list(sc.scenarios.columns) == ["probability", "day_type", "weather"]
    assert sc.scenarios.index.name == "scenario"
    # 10 working / 4 non-working days; weather 5 sunny, 5 cloudy, 4 rainy
    assert sc.scenarios.loc["working-sunny", "probability"] == pytest.approx(10 / 14 * 5 / 14)
    assert sc.p_kw.dims == ("scenario", "step", "customer")
    assert list(sc.p_kw["customer"].values) == list(case.customers.index)
    assert sc.p_kw["step"].values.tolist() == list(range(96))
    assert sc.step_hours == 0.25 and sc.start_hour == 8
    assert sc.clock_hours()[0] == 8.0 and sc.clock_hours()[64] == 0.0 and sc.clock_hours()[-1] == 7.75
    assert np.isfinite(sc.p_kw.values).all()
    assert (sc.p_kw.sel(customer="c5") <= 0).all()


def test_horizon_day_starts_at_start_hour():
    ts = pd.DatetimeIndex(["2024-03-05 07:45", "2024-03-05 08:00"])
    assert horizon_day_of(ts, 8).tolist() == [pd.Timestamp("2024-03-04"), pd.Timestamp("2024-03-05")]


def test_dates_missing_from_calendar_use_holidays():
    case = fig3_case()
    ctx = day_context(case, pd.DatetimeIndex(["2024-03-04", "2024-12-25", "2024-12-27", "2024-12-28"]))
    assert ctx["day_type"].tolist() == ["working", "non_working", "working", "non_working"]
    assert ctx["weather"].isna().tolist() == [False, True, True, True]


# --------------------------------------------------------------------------- cleaning


def test_gaps_and_bad_values_are_cleaned_and_reported(caplog):
    base = [MORNING.copy() for _ in range(6)]
    case = _meter_case({"m0": base, "m1": [EVENING.copy() for _ in range(6)]})
    extra = pd.concat([_unmetered(["pv1"], "pv", 4500.0), _unmetered(["ev1"], "ev", 2000.0, charge_kw=7.0, discharge_kw=0.0)])
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
    r = pd.concat([r, pd.DataFrame({"customer_id": "pv1", "timestamp": ts, "p_kw": pv}),
                   pd.DataFrame({"customer_id": "ev1", "timestamp": ts, "p_kw": ev})], ignore_index=True)
    case = dataclasses.replace(case, meter_readings=r, customers=pd.concat([case.customers, extra]))
    with caplog.at_level(logging.INFO, logger="lvbalance.profiles"):
        cleaned, report = clean_readings(case)
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
    assert np.isfinite(c0).all() and c0.max() < 2.0
    # the 45-min gap is a straight line between its neighbours
    t = pd.date_range("2024-03-04 09:45", "2024-03-04 10:45", freq="15min")
    np.testing.assert_allclose(c0[t].to_numpy(), np.linspace(c0[t[0]], c0[t[-1]], 5))
    assert cleaned.loc[cleaned["customer_id"] == "pv1", "p_kw"].max() <= 0.1
    assert cleaned.loc[cleaned["customer_id"] == "ev1", "p_kw"].max() <= 7.0
    assert not cleaned.duplicated(["customer_id", "timestamp"]).any()


def test_positive_pv_series_is_flipped():
    case = fig3_case()
    extra = _unmetered(["pv1"], "pv", 4500.0)
    extra["metered"] = True
    ts = pd.date_range("2024-03-04 08:00", periods=3 * T, freq="15min")
    pv = 3.0 * np.clip(np.sin(np.pi * (ts.hour - 6) / 14), 0, None)
    r = pd.concat([case.meter_readings, pd.DataFrame({"customer_id": "pv1", "timestamp": ts, "p_kw": pv})], ignore_index=True)
    case = dataclasses.replace(case, meter_readings=r, customers=pd.concat([case.customers, extra]))
    cleaned, report = clean_readings(case)
    assert bool(report.loc["pv1", "sign_flipped"])
    assert cleaned.loc[cleaned["customer_id"] == "pv1", "p_kw"].min() < -2.9


# --------------------------------------------------------------------------- reproducibility, hold-out, output


def test_same_seed_same_output():
    extra = _unmetered([f"u{i}" for i in range(7)], "residential", 3000.0)
    a = build_profiles(_two_cluster_case(extra_customers=extra))
    b = build_profiles(_two_cluster_case(extra_customers=extra))
    xr.testing.assert_identical(a.scenarios.p_kw, b.scenarios.p_kw)
    pd.testing.assert_frame_equal(a.patterns.shapes, b.patterns.shapes)
    assert a.heldout_days.equals(b.heldout_days)
    c = build_profiles(_two_cluster_case(extra_customers=extra, params={"seed": 7}))
    assert not c.heldout_days.equals(a.heldout_days)


def test_holdout_split():
    result = build_profiles(_two_cluster_case())  # 21 days: 15 working, 6 non-working
    train, held = result.train_days, result.heldout_days
    assert len(train.intersection(held)) == 0
    assert len(train) + len(held) == 21
    assert len(held) == round(0.25 * 15) + round(0.25 * 6)
    assert set(held.dayofweek >= 5) == {False, True}  # stratified by day type


def test_day_profiles_real_and_pseudo():
    extra = _unmetered(["u0"], "residential", 3000.0)
    case = _two_cluster_case(extra_customers=extra)
    result = build_profiles(case)
    days = result.heldout_days
    dp = day_profiles(case, result, days)
    assert dp.dims == ("day", "step", "customer") and list(dp["customer"].values) == list(case.customers.index)
    cleaned, _ = clean_readings(case)
    d = days[0]
    real = cleaned[(cleaned["customer_id"] == "m3") & (horizon_day_of(cleaned["timestamp"], 8) == d)]["p_kw"].to_numpy()
    np.testing.assert_allclose(dp.sel(day=d, customer="m3").values, real)
    scen = f"{'working' if d.dayofweek < 5 else 'non_working'}-sunny"
    np.testing.assert_allclose(dp.sel(day=d, customer="u0").values, result.scenarios.p_kw.sel(scenario=scen, customer="u0").values)


def test_write_profiles(tmp_path):
    case = fig3_case()
    result = build_profiles(case)
    write_profiles(result, tmp_path)
    sc = pd.read_csv(tmp_path / "scenarios.csv")
    assert list(sc.columns) == ["scenario", "probability", "day_type", "weather"]
    assert sc["probability"].sum() == pytest.approx(1.0)
    pr = pd.read_csv(tmp_path / "profiles.csv")
    assert list(pr.columns) == ["scenario", "step", "customer_id", "p_kw"]
    assert len(pr) == len(sc) * 96 * len(case.customers)
    row = pr[(pr["scenario"] == "working-cloudy") & (pr["step"] == 44) & (pr["customer_id"] == "c3")]["p_kw"].item()
    assert row == pytest.approx(float(result.scenarios.p_kw.sel(scenario="working-cloudy", step=44, customer="c3")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profiles.csv", "scenarios.csv"]  # no temp files left


def test_pseudo_profile_error_per_type():
    err = pseudo_profile_error(_two_cluster_case())
    assert err.index.tolist() == ["residential"]
    row = err.loc["residential"]
    assert row["customers"] == 10 and row["days"] > 0
    # each customer has one fixed shape, so its own mean curve is nearly exact; a pseudo
    # profile can pick the wrong shape for some customers
    assert row["mae_own_mean_kw"] < 0.05 * row["mean_kw"]
    assert row["mae_own_mean_kw"] <= row["mae_pseudo_kw"]


def test_days_cut_by_record_ends_are_edge_days_not_faults():
    _, report = clean_readings(fig3_case())  # readings from midnight; horizon days from 08:00
    assert report["edge_days"].tolist() == [2, 2]
    assert report["days_dropped"].tolist() == [0, 0]
    assert report["days_kept"].tolist() == [13, 13]


def test_customer_without_usable_readings_gets_a_pseudo_profile():
    case = _two_cluster_case()
    r = case.meter_readings.copy()
    r.loc[r["customer_id"] == "m9", "p_kw"] = np.nan
    customers = case.customers.copy()
    customers.loc["m9", "annual_kwh"] = 3650.0
    case = dataclasses.replace(case, meter_readings=r, customers=customers)
    _, report = clean_readings(case)
    assert report.loc["m9", "non_finite"] == 21 * T and report.loc["m9", "days_kept"] == 0
    result = build_profiles(case)
    beta = xr.DataArray(result.scenarios.scenarios["probability"])
    annual = float((result.scenarios.p_kw.sel(customer="m9").sum("step") * 0.25 * 365 * beta).sum())
    assert annual == pytest.approx(3650.0)
