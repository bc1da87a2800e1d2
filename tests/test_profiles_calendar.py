"""Horizon days, day context, context probabilities and the hold-out (lvbalance.profiles.calendar, MODEL.md §3.2, §3.5)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from lvbalance.params import ProfileParams
from lvbalance.profiles.calendar import (
    ContextProbabilities,
    DaySplit,
    context_probabilities,
    contexts_of,
    day_context,
    grid_position,
    holiday_country,
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
    # readings 2024-03-04 00:00 .. 03-17 23:45: horizon days 03-03 .. 03-17, 11 working and 4 weekend days
    no_cal = dataclasses.replace(case, calendar=case.calendar.iloc[:0])
    p = context_probabilities(no_cal)
    assert p.p_day_type.to_dict() == pytest.approx({"working": 10 / 15, "non_working": 5 / 15})
    assert p.p_weather.tolist() == pytest.approx([1 / 3] * 3)


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
