"""Meter timestamps: wall-clock times, one kind of time zone per file, hints for export mistakes."""

from __future__ import annotations

import pandas as pd
import pytest

from lvbalance.case.timestamps import not_a_time_hint, parse_timestamps


def test_offsets_are_cut_to_wall_clock_time() -> None:
    parsed = parse_timestamps(pd.Series(["2024-03-30T23:00:00+01:00", "2024-03-31T03:00:00+02:00"]))
    assert parsed.wall.tolist() == [pd.Timestamp("2024-03-30 23:00"), pd.Timestamp("2024-03-31 03:00")]
    assert not parsed.mixed  # local offsets across a DST change are one kind


@pytest.mark.parametrize(
    ("values", "kinds"),
    [
        (["2024-01-01 00:00", "2024-01-01 00:15Z"], {"none", "UTC"}),
        (["2024-01-01 00:00+00:00", "2024-01-01 00:15+02:00"], {"UTC", "+02:00"}),
        (["2024-01-01 00:00", "2024-01-01 00:15+0100"], {"none", "+01:00"}),
    ],
)
def test_mixed_zones_are_named_with_their_first_row(values: list[str], kinds: set[str]) -> None:
    parsed = parse_timestamps(pd.Series(values))
    assert parsed.mixed and set(parsed.zones) == kinds
    assert "first: row 3" in parsed.mixed_message(first_row=2)


def test_unreadable_times_are_nat_and_datetimes_pass_through() -> None:
    parsed = parse_timestamps(pd.Series(["2024-01-01", "yesterday", None]))
    assert parsed.wall.isna().tolist() == [False, True, True]
    times = pd.Series(pd.date_range("2024-01-01", periods=3, freq="15min", tz="Europe/Berlin"))
    assert parse_timestamps(times).wall.iloc[0] == pd.Timestamp("2024-01-01 00:00")


@pytest.mark.parametrize(
    ("raw", "hint"), [("45355.0104", "Excel serial"), ("04.03.2024 00:15", "day/month-first"), ("x", "not a date-time")]
)
def test_hints(raw: str, hint: str) -> None:
    assert hint in not_a_time_hint(raw)
