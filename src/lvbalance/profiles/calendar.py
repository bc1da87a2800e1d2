"""Horizon days and their context: day type and weather (MODEL.md §3.2, §3.5).

A *horizon day* starts at ``params.profiles.horizon_start_hour`` and lasts 24 h (the night
is contiguous); it has the day type and weather of the calendar date at its start. Each
customer type is split by one kind of context (:data:`CONTEXT_KIND`): day type for
residential, commercial, ev and heat_pump, weather for pv.

The calendar of the horizon is ``days.csv`` (``case.calendar``); where it is empty,
:func:`horizon_calendar` makes one from weekends and public holidays over
``params.profiles.calendar_days`` days from ``params.profiles.calendar_start``. A calendar
without any weather label has one weather class, :data:`UNLABELLED_WEATHER`, with
probability 1 (no irradiance data to tell sunny from rainy days).
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
CONTEXT_KIND = {"residential": "day_type", "commercial": "day_type", "ev": "day_type", "heat_pump": "day_type", "pv": "weather"}

#: Holiday calendar when neither ``params.profiles.country`` nor the case metadata names one.
DEFAULT_COUNTRY = "DE"

#: The one weather class of a calendar without weather labels: every day is "a day of any
#: weather" (pv at its mean daily energy); named after the middle class so that the scenario
#: names stay within :data:`~lvbalance.case.WEATHERS` (as the SimBench import does without a
#: PV profile).
UNLABELLED_WEATHER = "cloudy"

#: Year of the calendar made when days.csv is empty, there are no meter readings and
#: ``params.profiles.calendar_start`` is not set (a fixed year keeps results reproducible).
DEFAULT_CALENDAR_YEAR = 2025


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


def holiday_day_types(dates: pd.DatetimeIndex, country: str) -> np.ndarray:
    """``"non_working"`` on weekends and public holidays of ``country`` (``holidays`` package), else ``"working"``."""
    hol = holidays.country_holidays(country, years=sorted(set(dates.year)))
    off = [(d.dayofweek >= 5) or (d.date() in hol) for d in dates]
    return np.where(off, "non_working", "working")


def calendar_start(case: Case) -> pd.Timestamp:
    """First day of a calendar made from holidays: ``params.profiles.calendar_start``, else
    1 January of the year of the first meter reading, else of :data:`DEFAULT_CALENDAR_YEAR`."""
    start = case.params.profiles.calendar_start
    if start is not None:
        return pd.Timestamp(start)
    ts = pd.to_datetime(case.meter_readings["timestamp"], errors="coerce").dropna()
    return pd.Timestamp(int(ts.min().year) if len(ts) else DEFAULT_CALENDAR_YEAR, 1, 1)


def has_weather_labels(case: Case) -> bool:
    """Whether days.csv labels the weather of at least one day."""
    return bool(len(case.calendar)) and bool(case.calendar["weather"].notna().any())


def horizon_calendar(case: Case) -> pd.DataFrame:
    """The calendar of the horizon: index ``date``; ``day_type``, ``weather`` (MODEL.md §3.2, §3.5).

    ``case.calendar`` (days.csv) where it has days; else ``params.profiles.calendar_days``
    days from :func:`calendar_start`, non-working on weekends and public holidays of
    :func:`holiday_country`. Without any weather label every day has the weather
    :data:`UNLABELLED_WEATHER`.
    """
    if len(case.calendar):
        out = case.calendar[["day_type", "weather"]].copy()
        out.index = pd.DatetimeIndex(out.index).normalize()
    else:
        dates = pd.date_range(calendar_start(case), periods=case.params.profiles.calendar_days, freq="D")
        out = pd.DataFrame({"day_type": holiday_day_types(dates, holiday_country(case)), "weather": np.nan}, index=dates)
        out["weather"] = out["weather"].astype(object)
    if not has_weather_labels(case):
        out["weather"] = UNLABELLED_WEATHER
    return out.rename_axis("date")


def day_context(case: Case, days: Iterable[pd.Timestamp]) -> pd.DataFrame:
    """Day type and weather of each date (index ``date``; MODEL.md §3.2).

    From :func:`horizon_calendar`; a date it lacks is non-working on weekends and on public
    holidays of :func:`holiday_country` (``holidays`` package), and has weather NaN
    (unknown), or :data:`UNLABELLED_WEATHER` where the case has no weather label at all.
    """
    dates = pd.DatetimeIndex(list(days)).normalize()
    out = horizon_calendar(case).reindex(dates)[["day_type", "weather"]]
    missing = out["day_type"].isna()
    if missing.any():
        country = holiday_country(case)
        out.loc[missing, "day_type"] = holiday_day_types(dates[missing], country)
        log.info("%d date(s) not in the calendar: day type from weekends and %s holidays", int(missing.sum()), country)
    if not has_weather_labels(case):
        out["weather"] = UNLABELLED_WEATHER
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
    """P(day type) and P(weather): shares of the days of :func:`horizon_calendar` (MODEL.md §3.5).

    P(weather) from the labelled days; without any label one class,
    :data:`UNLABELLED_WEATHER`, has probability 1.

    Raises
    ------
    ValueError
        If the horizon has no day (days.csv empty and ``calendar_days`` 0).
    """
    params = case.params.profiles
    cal = horizon_calendar(case)
    if not len(cal):
        raise ValueError(
            "the horizon has no day, so there is no scenario: days.csv is empty and "
            "profiles.calendar_days = 0; list the days in days.csv or set profiles.calendar_days > 0"
        )
    if not len(case.calendar):
        log.info(
            "days.csv is empty: calendar of %d day(s) from %s, non-working on weekends and %s holidays",
            len(cal),
            cal.index[0].date(),
            holiday_country(case),
        )
    if not has_weather_labels(case):
        log.info("no weather labels: one weather class %r stands for every day (probability 1)", UNLABELLED_WEATHER)
    p_day = cal["day_type"].value_counts(normalize=True).reindex(list(DAY_TYPES), fill_value=0.0)
    w = cal["weather"].dropna()
    p_weather = w.value_counts(normalize=True).reindex(list(WEATHERS), fill_value=0.0)
    log.debug(
        "P(day type) %s, P(weather) %s over %d day(s) (horizon start %02d:00)",
        p_day.round(3).to_dict(),
        p_weather.round(3).to_dict(),
        len(cal),
        params.horizon_start_hour,
    )
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
