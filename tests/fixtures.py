"""Small hand-built cases shared by the tests (no shared mutable state: each call builds anew)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from lvbalance.case import Case

# --------------------------------------------------------------------------- meter data (profiles tests)
# Hand-made meter data for the tests of lvbalance.profiles: every builder takes the Fig-3 case
# (fig3_case / the ``case`` fixture) as its base and returns a fresh case.
T = 96
STEP_H = 0.25
#: clock hour of each step of a horizon day starting at 08:00
CLOCK = (8 + STEP_H * np.arange(T)) % 24


def bump(centre_h: float, width_h: float = 1.5) -> np.ndarray:
    """A Gaussian bump over the horizon day's clock hours, peak 1 at ``centre_h`` [-]."""
    d = (CLOCK - centre_h + 12) % 24 - 12  # circular distance [h]
    return np.exp(-(d**2) / (2 * width_h**2))


#: two hand-made residential day shapes [kW]: a morning person and an evening person
MORNING = 0.2 + 1.5 * bump(7.0)
EVENING = 0.2 + 1.5 * bump(20.0)


def meter_case(
    base: Case,
    curves: dict[str, list[np.ndarray]],
    *,
    start: str = "2024-03-04",
    calendar: pd.DataFrame | None = None,
    extra_customers: pd.DataFrame | None = None,
    params: dict | None = None,
) -> Case:
    """``base``'s network with metered residential customers m0, m1, ... whose horizon days
    (from 08:00, 15-min readings) are ``curves`` [kW]; calendar: weekdays working, all sunny."""
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


def unmetered(base: Case, ids: list[str], typ: str, annual_kwh: float, **ratings: float) -> pd.DataFrame:
    """Customer rows of type ``typ`` at node n4, billed ``annual_kwh`` [kWh/a] each."""
    c3 = base.customers.loc["c3"]
    rows = [
        (cid, "n4", c3["x"], c3["y"], typ, False, annual_kwh, ratings.get("charge_kw", np.nan), ratings.get("discharge_kw", np.nan), False)
        for cid in ids
    ]
    return pd.DataFrame(rows, columns=["customer_id", *base.customers.columns]).set_index("customer_id")


def two_cluster_case(base: Case, seed: int = 0, **kw) -> Case:
    """10 customers x 21 days (15 working, 6 non-working): m0..m6 always MORNING, m7..m9
    always EVENING, +-3 % noise, customer i scaled by 1 + 0.05 i."""
    rng = np.random.default_rng(seed)
    curves = {}
    for i in range(10):
        shape = MORNING if i < 7 else EVENING
        curves[f"m{i}"] = [shape * (1 + 0.5 * i / 10) * (1 + 0.03 * rng.standard_normal(T)) for _ in range(21)]
    return meter_case(base, curves, **kw)


def with_readings(case: Case, extra: pd.DataFrame, readings: pd.DataFrame) -> Case:
    """``case`` with more customers and their readings."""
    r = pd.concat([case.meter_readings, readings], ignore_index=True)
    return dataclasses.replace(case, meter_readings=r, customers=pd.concat([case.customers, extra]))


def no_meter_case(base: Case, **profiles: object) -> Case:
    """``base`` (the Fig-3 case) as an operator without smart meters sees it: no meter readings,
    no calendar (days.csv empty), every customer unmetered with its billed annual_kwh; time zone
    Europe/Berlin. ``profiles``: options of ``params.profiles`` (e.g. ``calendar_start``)."""
    customers = base.customers.assign(metered=False)
    params = base.params.updated(profiles=dict(profiles)) if profiles else base.params
    return dataclasses.replace(
        base,
        customers=customers,
        meter_readings=base.meter_readings.iloc[:0],
        calendar=base.calendar.iloc[:0],
        params=params,
        metadata={**base.metadata, "timezone": "Europe/Berlin"},
    )
