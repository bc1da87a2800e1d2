"""Horizon days and their context: day type and weather (MODEL.md §3.2, §3.5).

A *horizon day* starts at ``params.profiles.horizon_start_hour`` and lasts 24 h (the night
is contiguous); it has the day type and weather of the calendar date at its start. Each
customer type is split by one kind of context (:data:`CONTEXT_KIND`): day type for
residential, commercial and ev, weather for pv.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import holidays
import numpy as np
import pandas as pd

from lvbalance.case import DAY_TYPES, WEATHERS, Case
from lvbalance.dims import DAY
from lvbalance.params import ProfileParams

log = logging.getLogger(__name__)

#: Which context splits the days of each customer type (MODEL.md §3.2).
CONTEXT_KIND = {"residential": "day_type", "commercial": "day_type", "ev": "day_type", "pv": "weather"}

#: Holiday calendar when neither ``params.profiles.country`` nor the case metadata names one.
DEFAULT_COUNTRY = "DE"


def contexts_of(customer_type: str) -> tuple[str, ...]:
    """Contexts a customer type is split by: the day types, or the weathers for pv."""
    return WEATHERS if CONTEXT_KIND[customer_type] == "weather" else DAY_TYPES


# --------------------------------------------------------------------------- horizon days


def steps_per_day(params: ProfileParams) -> int:
    """Steps in one horizon day [-]."""
    return 24 * 60 // params.step_minutes


def horizon_day_of(timestamps: pd.DatetimeIndex | pd.Series, start_hour: int) -> pd.DatetimeIndex:
    """Calendar date at which the horizon day holding each timestamp starts.

    Parameters
    ----------
    timestamps
        Local wall-clock times.
    start_hour
        Clock hour at which a horizon day starts [h].
    """
    ts = pd.DatetimeIndex(timestamps)
    return (ts - pd.Timedelta(hours=start_hour)).normalize()


def grid_position(ts: pd.DatetimeIndex, params: ProfileParams) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """(horizon day, step) of each timestamp on the ``step_minutes`` grid."""
    day = horizon_day_of(ts, params.horizon_start_hour)
    offset = ts - day - pd.Timedelta(hours=params.horizon_start_hour)
    step = (offset // pd.Timedelta(minutes=params.step_minutes)).to_numpy().astype(int)
    return day, step


# --------------------------------------------------------------------------- context of each day


def holiday_country(case: Case) -> str:
    """Country whose public holidays make a date non-working: ``params.profiles.country``,
    else the case metadata's ``country``, else :data:`DEFAULT_COUNTRY`."""
    country = case.params.profiles.country
    return country if country is not None else case.metadata.get("country", DEFAULT_COUNTRY)


def day_context(case: Case, days: Iterable[pd.Timestamp]) -> pd.DataFrame:
    """Day type and weather of each date (index ``date``; MODEL.md §3.2).

    From ``case.calendar``; a date it lacks is non-working on weekends and on public
    holidays of :func:`holiday_country` (``holidays`` package), and has weather NaN
    (unknown).
    """
    dates = pd.DatetimeIndex(list(days)).normalize()
    cal = case.calendar.copy()
    cal.index = pd.DatetimeIndex(cal.index).normalize()
    out = cal.reindex(dates)[["day_type", "weather"]]
    missing = out["day_type"].isna()
    if missing.any():
        years = sorted(set(dates[missing].year))
        country = holiday_country(case)
        hol = holidays.country_holidays(country, years=years)
        off = [(d.dayofweek >= 5) or (d.date() in hol) for d in dates[missing]]
        out.loc[missing, "day_type"] = np.where(off, "non_working", "working")
        log.info("%d date(s) not in the calendar: day type from weekends and %s holidays", int(missing.sum()), country)
    return out.rename_axis("date")


@dataclass(frozen=True)
class ContextProbabilities:
    """Probability of each context (MODEL.md §3.5: ``beta_s = P(day type) * P(weather)``).

    ``p_day_type``: index :data:`~lvbalance.case.DAY_TYPES` [-], sums to 1.
    ``p_weather``: index :data:`~lvbalance.case.WEATHERS` [-], sums to 1.
    """

    p_day_type: pd.Series
    p_weather: pd.Series

    def of_kind(self, kind: str) -> pd.Series:
        """The probabilities of one kind of context (``"day_type"`` or ``"weather"``) [-]."""
        return self.p_weather if kind == "weather" else self.p_day_type


def context_probabilities(case: Case) -> ContextProbabilities:
    """P(day type) and P(weather) from the calendar's labels (MODEL.md §3.5).

    Without a calendar: P(day type) from weekends and holidays over the metered dates,
    P(weather) uniform.
    """
    cal = case.calendar
    if len(cal):
        p_day = cal["day_type"].value_counts(normalize=True).reindex(list(DAY_TYPES), fill_value=0.0)
        w = cal["weather"].dropna()
        p_weather = (w.value_counts(normalize=True).reindex(list(WEATHERS), fill_value=0.0)
                     if len(w) else pd.Series(1.0 / len(WEATHERS), index=list(WEATHERS)))
    else:
        days = horizon_day_of(pd.to_datetime(case.meter_readings["timestamp"]), case.params.profiles.horizon_start_hour).unique()
        p_day = day_context(case, days)["day_type"].value_counts(normalize=True).reindex(list(DAY_TYPES), fill_value=0.0)
        p_weather = pd.Series(1.0 / len(WEATHERS), index=list(WEATHERS))
        log.warning("case has no calendar: P(day type) from weekends/holidays, P(weather) uniform")
    return ContextProbabilities(p_day.rename("probability"), p_weather.rename("probability"))


# --------------------------------------------------------------------------- hold-out


@dataclass(frozen=True)
class DaySplit:
    """Metered horizon days split for out-of-sample evaluation (index name ``day``)."""

    train_days: pd.DatetimeIndex
    heldout_days: pd.DatetimeIndex


def split_days(days: pd.DatetimeIndex, day_type: pd.Series, *, holdout_share: float, seed: int) -> DaySplit:
    """Seeded split of metered days into training and held-out days.

    Stratified by day type: each day type holds out ``round(holdout_share * n)`` of its
    ``n`` days (halves rounded up), keeping at least one for training.

    Parameters
    ----------
    days
        The metered horizon days.
    day_type
        Day type of each day (index: dates).
    holdout_share
        Share of each day type's days held out [-].
    seed
        Seed of the draw.
    """
    rng = np.random.default_rng(seed)
    held: list[pd.Timestamp] = []
    for dt in DAY_TYPES:
        pool = days[(day_type.reindex(days) == dt).to_numpy()]
        n = len(pool)
        k = min(int(np.floor(holdout_share * n + 0.5)), max(n - 1, 0))
        if k:
            held += list(pool[np.sort(rng.choice(n, size=k, replace=False))])
    held_idx = pd.DatetimeIndex(sorted(held), name=DAY)
    return DaySplit(days.difference(held_idx).rename(DAY), held_idx)
