"""Horizon days, day context, context probabilities and the hold-out (lvbalance.profiles.calendar, MODEL.md §3.2, §3.5)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from lvbalance.params import ProfileParams
from lvbalance.profiles import scenario_table
from lvbalance.profiles.calendar import (
    DEFAULT_CALENDAR_YEAR,
    UNLABELLED_WEATHER,
    ContextProbabilities,
    DaySplit,
    calendar_start,
    context_probabilities,
    contexts_of,
    day_context,
    grid_position,
    holiday_country,
    horizon_calendar,
    horizon_day_of,
    split_days,
    steps_per_day,
)


def test_horizon_day_starts_at_start_hour():
    ts = pd.DatetimeIndex(["2024-03-05 07:45", "2024-03-05 08:00"])
    assert horizon_day_of(ts, 8).tolist() == [pd.Timestamp("2024-03-04"), pd.Timestamp("2024-03-05")]


def test_grid_position_and_steps_per_day():
    params = ProfileParams()
    assert steps_per_day(params) == 96
    assert steps_per_day(ProfileParams(step_minutes=60)) == 24
    day, step = grid_position(pd.DatetimeIndex(["2024-03-05 08:00", "2024-03-05 13:30", "2024-03-06 07:45"]), params)
    assert day.tolist() == [pd.Timestamp("2024-03-05")] * 3
    assert step.tolist() == [0, 22, 95]  # 13:30 is 5.5 h = 22 steps after 08:00


def test_contexts_of_each_type():
    assert contexts_of("residential") == ("working", "non_working")
    assert contexts_of("heat_pump") == ("working", "non_working")
    assert contexts_of("pv") == ("sunny", "cloudy", "rainy")


def test_dates_missing_from_calendar_use_holidays(case):
    ctx = day_context(case, pd.DatetimeIndex(["2024-03-04", "2024-12-25", "2024-12-27", "2024-12-28"]))
    assert ctx["day_type"].tolist() == ["working", "non_working", "working", "non_working"]
    assert ctx["weather"].isna().tolist() == [False, True, True, True]


def test_holiday_country_from_params_else_metadata_else_de(case):
    # 2024-05-08 (a Wednesday) is a public holiday in France (Victoire 1945), not in Germany
    may8 = pd.DatetimeIndex(["2024-05-08"])
    assert holiday_country(case) == "DE"
    assert day_context(case, may8)["day_type"].tolist() == ["working"]
    fr_meta = dataclasses.replace(case, metadata={**case.metadata, "country": "FR"})
    assert holiday_country(fr_meta) == "FR"
    assert day_context(fr_meta, may8)["day_type"].tolist() == ["non_working"]
    fr_param = case.with_params(case.params.updated(profiles={"country": "FR"}))
    assert day_context(fr_param, may8)["day_type"].tolist() == ["non_working"]
    de_over_meta = fr_meta.with_params(fr_meta.params.updated(profiles={"country": "DE"}))
    assert holiday_country(de_over_meta) == "DE"
    assert day_context(de_over_meta, may8)["day_type"].tolist() == ["working"]


def test_context_probabilities_from_the_calendar(case):
    # fig3: 14 days from Mon 2024-03-04, 10 working and 4 non-working; weather 5 sunny, 5 cloudy, 4 rainy
    p = context_probabilities(case)
    assert isinstance(p, ContextProbabilities)
    assert p.p_day_type.to_dict() == pytest.approx({"working": 10 / 14, "non_working": 4 / 14})
    assert p.p_weather.to_dict() == pytest.approx({"sunny": 5 / 14, "cloudy": 5 / 14, "rainy": 4 / 14})
    assert p.of_kind("weather") is p.p_weather and p.of_kind("day_type") is p.p_day_type


def test_context_probabilities_without_calendar(case):
    """days.csv empty: a calendar of 365 days from 1 January of the readings' year (2024).

    2024-01-01 (a Monday) .. 2024-12-30 (a Monday): 52 full weeks (104 weekend days) + one
    Monday; German public holidays, all on weekdays in 2024: Jan 1, Mar 29, Apr 1, May 1,
    May 9, May 20, Oct 3, Dec 25, Dec 26 (9). Working: 365 - 104 - 9 = 252.
    """
    no_cal = dataclasses.replace(case, calendar=case.calendar.iloc[:0])
    p = context_probabilities(no_cal)
    assert p.p_day_type.to_dict() == pytest.approx({"working": 252 / 365, "non_working": 113 / 365})
    # no weather label: one class with probability 1
    assert p.p_weather.to_dict() == {"sunny": 0.0, UNLABELLED_WEATHER: 1.0, "rainy": 0.0}


def _empty_calendar(case, **profiles):
    c = dataclasses.replace(case, calendar=case.calendar.iloc[:0])
    return c.with_params(c.params.updated(profiles=profiles)) if profiles else c


def test_calendar_from_holidays_over_the_chosen_horizon(case):
    cal = horizon_calendar(_empty_calendar(case, calendar_start="2024-12-23", calendar_days=7))
    assert cal.index.tolist() == list(pd.date_range("2024-12-23", periods=7, freq="D"))
    # Mon 23 and Fri 27 working; Tue 24 (Christmas Eve) is not a public holiday in DE; Wed 25, Thu 26
    # public holidays; Sat 28, Sun 29 weekend
    assert cal["day_type"].tolist() == ["working", "working", "non_working", "non_working", "working", "non_working", "non_working"]
    assert (cal["weather"] == UNLABELLED_WEATHER).all() and cal.index.name == "date"


def test_calendar_start_defaults(case):
    # readings start 2024-03-04: 1 January 2024
    assert calendar_start(_empty_calendar(case)) == pd.Timestamp("2024-01-01")
    no_readings = dataclasses.replace(_empty_calendar(case), meter_readings=case.meter_readings.iloc[:0])
    assert calendar_start(no_readings) == pd.Timestamp(DEFAULT_CALENDAR_YEAR, 1, 1)
    assert len(horizon_calendar(no_readings)) == 365
    # a calendar in days.csv is used as it is, whatever calendar_start says
    assert horizon_calendar(case.with_params(case.params.updated(profiles={"calendar_start": "2030-01-01"}))).index[0] == pd.Timestamp(
        "2024-03-04"
    )


def test_calendar_without_weather_labels_has_one_weather_class(case):
    unlabelled = case.calendar.assign(weather=np.nan)
    c = dataclasses.replace(case, calendar=unlabelled)
    p = context_probabilities(c)
    assert p.p_day_type.to_dict() == pytest.approx({"working": 10 / 14, "non_working": 4 / 14})
    assert p.p_weather[UNLABELLED_WEATHER] == 1.0 and p.p_weather.sum() == 1.0
    # every day, also one outside the calendar, has that weather
    ctx = day_context(c, pd.DatetimeIndex(["2024-03-05", "2024-06-01"]))
    assert ctx["weather"].tolist() == [UNLABELLED_WEATHER] * 2
    table = scenario_table(p)
    assert table.index.tolist() == [f"working-{UNLABELLED_WEATHER}", f"non_working-{UNLABELLED_WEATHER}"]
    assert table["probability"].sum() == pytest.approx(1.0)


def test_a_horizon_without_days_is_an_error(case):
    with pytest.raises(ValueError, match="calendar_days"):
        context_probabilities(_empty_calendar(case, calendar_days=0))


def test_split_days_is_stratified_and_seeded():
    days = pd.date_range("2024-03-04", periods=21, freq="D", name="day")  # 15 working, 6 weekend days
    day_type = pd.Series(["working" if d.dayofweek < 5 else "non_working" for d in days], index=days)
    split = split_days(days, day_type, holdout_share=0.25, seed=0)
    assert isinstance(split, DaySplit)
    held = split.heldout_days
    assert len(held) == 4 + 2  # floor(0.25 * 15 + 0.5) = 4 working, floor(0.25 * 6 + 0.5) = 2 weekend days
    assert (held.dayofweek >= 5).sum() == 2
    assert split.train_days.union(held).equals(days) and len(split.train_days.intersection(held)) == 0
    assert split.train_days.name == "day" and held.name == "day"
    again = split_days(days, day_type, holdout_share=0.25, seed=0)
    assert again.heldout_days.equals(held)
    # nothing held out at a share of 0; one day of a type stays for training
    assert len(split_days(days, day_type, holdout_share=0.0, seed=0).heldout_days) == 0
    one = days[:1]
    assert len(split_days(one, day_type, holdout_share=0.9, seed=0).train_days) == 1
