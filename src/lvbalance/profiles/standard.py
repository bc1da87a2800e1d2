"""Standard load profiles for a customer type without (enough) metered curves (MODEL.md §3.3).

Most operators have no smart meters in most areas: they have billed energy and a country's
standard load profiles. A type with fewer than ``params.profiles.min_metered_curves``
usable metered daily curves gets, per context, one pattern (probability 1): the mean
curve of its standard profile over the calendar's days of that context
(:func:`standard_profile`). The sources (:data:`STANDARD_SOURCES`):

* residential: BDEW H0 and commercial: BDEW G0, from ``demandlib``. demandlib 0.2.2
  offers the classic BDEW profiles through ``demandlib.bdew.ElecSlp(year, holidays=...)``
  and the 2025 revision through ``H25`` / ``G25``; the classic ones are used (H0 is what
  German operators bill households with): ``h0_dyn`` (H0 with the BDEW dynamisation
  factor of the day of the year) and ``g0``. BDEW knows weekdays, Saturdays and Sundays;
  a non-working weekday of the calendar is passed as a holiday (Sunday profile).
* pv: the clear-sky irradiance on a fixed plane at the site (:mod:`~lvbalance.profiles.solar`,
  pvlib) on each calendar day; weather classes scale its daily energy by
  :data:`PV_CLEAR_SKY_INDEX` (the shape stays the clear-sky one).
* ev (home charging) and heat_pump: mean SimBench 2016 profiles per month and day type,
  shipped in ``lvbalance/data/standard_shapes.csv`` (ODbL, built by
  ``scripts/build_standard_shapes.py``; see ``data/ATTRIBUTION.md``).

All are local wall-clock power curves; a horizon day from ``horizon_start_hour`` takes
the hours after midnight from the next date. The patterns are normalised by their daily
energy and scaled to each customer's billed energy (:mod:`~lvbalance.profiles.pseudo`).
"""

from __future__ import annotations

import functools
import logging
import warnings
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from lvbalance.case import Case
from lvbalance.params import ProfileParams
from lvbalance.profiles.calendar import CONTEXT_KIND, contexts_of, holiday_country, holiday_day_types, horizon_calendar, steps_per_day
from lvbalance.profiles.solar import CLOCK_STEP_MINUTES, clear_sky_clock_days, site_of

log = logging.getLogger(__name__)

#: Where each type's standard profile comes from (logged and kept in ``Patterns.basis``).
STANDARD_SOURCES = {
    "residential": "BDEW H0",
    "commercial": "BDEW G0",
    "pv": "pvlib clear-sky",
    "ev": "SimBench home charging",
    "heat_pump": "SimBench heat pumps",
}

#: demandlib column of the BDEW types.
BDEW_COLUMN = {"residential": "h0_dyn", "commercial": "g0"}

#: Daily pv energy of each weather class as a share of the clear-sky energy (clear-sky
#: index) [-]; illustrative values for central Europe (only their ratios matter).
PV_CLEAR_SKY_INDEX = {"sunny": 1.0, "cloudy": 0.55, "rainy": 0.25}

_PER_CLOCK_DAY = 24 * 60 // CLOCK_STEP_MINUTES


@dataclass(frozen=True)
class StandardProfile:
    """One type's standard patterns over a calendar (result of :func:`standard_profile`).

    ``shapes``: per context, the mean curve over the calendar's days of that context
    normalised by its daily energy [1/h] (``sum * step_hours == 1``; pv: generation,
    positive); a context without a day gets the mean over all days.
    ``daily_energy``: index contexts; mean daily energy of the days of each context in the
    profile's own unit [-] (NaN: no day), only its ratios are used.
    ``source``: :data:`STANDARD_SOURCES` entry.
    """

    shapes: dict[str, np.ndarray]
    daily_energy: pd.Series
    source: str


# --------------------------------------------------------------------------- clock-day curves


@functools.lru_cache(maxsize=8)
def _bdew_year(year: int, holidays: tuple[pd.Timestamp, ...]) -> pd.DataFrame:
    """demandlib's BDEW profiles of one year (15-min, naive local time), columns h0_dyn and g0."""
    from demandlib import bdew

    with warnings.catch_warnings():  # ElecSlp sets warnings to errors globally; keep that inside
        slp = bdew.ElecSlp(year, holidays={d.date(): "holiday" for d in holidays})
        return slp.get_profiles(*BDEW_COLUMN.values()).copy()


def bdew_clock_days(column: str, first: pd.Timestamp, n_days: int, non_working_weekdays: pd.DatetimeIndex) -> np.ndarray:
    """BDEW profile ``column`` (``h0_dyn`` or ``g0``) over ``n_days`` clock days from ``first``,
    shape (n_days, 96), in demandlib's unit (share of the year per 15 min) [-].

    ``non_working_weekdays``: dates that BDEW should treat as Sundays (holidays).
    """
    dates = pd.date_range(pd.Timestamp(first).normalize(), periods=n_days, freq="D")
    hol = pd.DatetimeIndex(non_working_weekdays).normalize()
    # a year whose only date is the last one (the small hours of the last horizon day, e.g.
    # 1 January after a calendar year) repeats the date before: a second of demandlib saved
    spill = n_days > 1 and dates[-1].year != dates[-2].year
    years = sorted(set(dates[:-1].year if spill else dates.year))
    series = pd.concat([_bdew_year(year, tuple(hol[hol.year == year]))[column] for year in years])
    idx = pd.date_range(dates[0], periods=n_days * _PER_CLOCK_DAY, freq=f"{CLOCK_STEP_MINUTES}min")
    out = series.reindex(idx).to_numpy(dtype=float).reshape(n_days, _PER_CLOCK_DAY)
    if spill:
        out[-1] = out[-2]
    return out


@functools.lru_cache(maxsize=1)
def shipped_shapes() -> pd.DataFrame:
    """``data/standard_shapes.csv``: index (type, day_type, month), columns clock steps 0..95 [kW per MWh/a]."""
    with resources.files("lvbalance").joinpath("data/standard_shapes.csv").open("r", encoding="utf-8") as f:
        table = pd.read_csv(f)
    table = table.set_index(["type", "day_type", "month"])
    table.columns = table.columns.astype(int)
    return table


def shipped_clock_days(customer_type: str, dates: pd.DatetimeIndex, day_types: np.ndarray) -> np.ndarray:
    """Shipped SimBench shape of each date (by its month and day type), shape (n, 96) [kW per MWh/a]."""
    table = shipped_shapes()
    keys = list(zip([customer_type] * len(dates), day_types, dates.month))
    return table.loc[keys].to_numpy(dtype=float)


def clock_days(case: Case, customer_type: str, first: pd.Timestamp, n_days: int) -> np.ndarray:
    """The standard power curve of ``customer_type`` over ``n_days`` clock days from ``first``,
    shape (n_days, 96) at 15-min steps from 00:00, in the source's unit (consistent over days)."""
    dates = pd.date_range(pd.Timestamp(first).normalize(), periods=n_days, freq="D")
    if customer_type == "pv":
        params = case.params.profiles
        return clear_sky_clock_days(site_of(case), dates[0], n_days, tilt_deg=params.pv_tilt_deg, azimuth_deg=params.pv_azimuth_deg)
    day_type = horizon_calendar(case)["day_type"].reindex(dates)
    missing = day_type.isna().to_numpy()
    if missing.any():  # e.g. the date after the calendar's last (end of its last horizon day)
        day_type[missing] = holiday_day_types(dates[missing], holiday_country(case))
    day_types = day_type.to_numpy()
    if customer_type in BDEW_COLUMN:
        off = dates[(day_types == "non_working") & (dates.dayofweek < 5)]
        return bdew_clock_days(BDEW_COLUMN[customer_type], dates[0], n_days, off)
    if customer_type in set(shipped_shapes().index.get_level_values("type")):
        return shipped_clock_days(customer_type, dates, day_types)
    raise ValueError(f"no standard profile for customer type {customer_type!r} (known: {', '.join(STANDARD_SOURCES)})")


def to_horizon_days(clock: np.ndarray, params: ProfileParams) -> np.ndarray:
    """Clock-day curves (n + 1, 96) as n horizon days of ``steps_per_day`` steps from ``horizon_start_hour``.

    A horizon step's value is the mean of the 15-min values it covers (each held constant
    over its 15 min, so any ``step_minutes`` dividing the day works).
    """
    n = clock.shape[0] - 1
    per_minute = np.repeat(clock.ravel(), CLOCK_STEP_MINUTES)
    start = params.horizon_start_hour * 60
    window = per_minute[start : start + n * 24 * 60]
    return window.reshape(n, steps_per_day(params), params.step_minutes).mean(axis=2)


def standard_days(case: Case, customer_type: str, dates: pd.DatetimeIndex) -> np.ndarray:
    """Standard power curve of ``customer_type`` on each horizon day in ``dates``, shape
    (len(dates), steps_per_day) in the source's unit (pv: clear-sky irradiance [W/m2])."""
    dates = pd.DatetimeIndex(dates).normalize()
    first, last = dates.min(), dates.max()
    n = int((last - first).days) + 1
    clock = clock_days(case, customer_type, first, n + 1)  # the last horizon day ends on the next date
    days = to_horizon_days(clock, case.params.profiles)
    return days[(dates - first).days.to_numpy()]


# --------------------------------------------------------------------------- patterns


def standard_profile(case: Case, customer_type: str, calendar: pd.DataFrame) -> StandardProfile:
    """Standard pattern and relative daily energy of each context of ``customer_type`` (MODEL.md §3.3).

    Parameters
    ----------
    case
        Site, time zone, holidays and ``params.profiles`` (step, horizon start, pv plane).
    customer_type
        One of :data:`STANDARD_SOURCES`.
    calendar
        The horizon's days (index ``date``; ``day_type``, ``weather``), e.g.
        :func:`~lvbalance.profiles.calendar.horizon_calendar`.
    """
    params = case.params.profiles
    dt_h = params.step_minutes / 60
    if not len(calendar):
        raise ValueError(f"no calendar day to build the {customer_type} standard profile on")
    dates = pd.DatetimeIndex(calendar.index).normalize()
    days = standard_days(case, customer_type, dates)
    kind = CONTEXT_KIND[customer_type]
    ctx_of_day = calendar[kind].to_numpy()
    overall = days.mean(axis=0)
    if not overall.sum() > 0:
        raise ValueError(f"the {customer_type} standard profile is zero on every calendar day (e.g. polar night)")
    shapes, energy = {}, {}
    for ctx in contexts_of(customer_type):
        on = ctx_of_day == ctx
        curve = days[on].mean(axis=0) if on.any() else overall
        if not curve.sum() > 0:
            curve = overall
        shapes[ctx] = curve / (curve.sum() * dt_h)
        scale = PV_CLEAR_SKY_INDEX[ctx] if customer_type == "pv" else 1.0
        energy[ctx] = float(curve.sum() * dt_h * scale) if on.any() else np.nan
    return StandardProfile(shapes, pd.Series(energy, name="daily_energy"), STANDARD_SOURCES[customer_type])
