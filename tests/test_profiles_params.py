"""The options of the profiles step in the one schema (lvbalance.params: ProfileParams, CleaningParams)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pydantic
import pytest

from lvbalance.io import read_case, write_case
from lvbalance.params import CleaningParams, Params, ProfileParams


def test_defaults_are_the_former_constants():
    p = ProfileParams()
    assert p.cleaning.plausible_peak_kw == {"residential": 15.0, "commercial": 60.0, "pv": 10.0, "ev": 11.0, "heat_pump": 15.0}
    assert p.cleaning.absurd_factor == 10.0
    assert p.cleaning.pv_standby_kw == 0.1
    assert p.cleaning.ev_rating_tolerance == 1.1
    assert p.pv_yield_kwh_per_kwp == 900.0
    assert p.min_daily_kwh == 1e-3
    assert p.kmeans_restarts == 10
    assert p.country is None  # the case metadata's country, else DE


def test_each_new_option_has_a_description_with_a_unit():
    fields = {**ProfileParams.model_fields, **CleaningParams.model_fields}
    for name in (
        "plausible_peak_kw",
        "absurd_factor",
        "pv_standby_kw",
        "ev_rating_tolerance",
        "pv_yield_kwh_per_kwp",
        "min_daily_kwh",
        "kmeans_restarts",
    ):
        assert "[" in fields[name].description, name


@pytest.mark.parametrize(
    "cleaning",
    [
        {"absurd_factor": 1.0},
        {"ev_rating_tolerance": 0.9},
        {"plausible_peak_kw": {"residential": 15.0}},
        {"plausible_peak_kw": {"residential": 15.0, "commercial": 60.0, "pv": 0.0, "ev": 11.0}},
    ],
)
def test_bad_cleaning_limits_are_rejected(cleaning):
    with pytest.raises(pydantic.ValidationError):
        Params().updated(profiles={"cleaning": cleaning})


def test_options_round_trip_through_case_toml(case, tmp_path: Path):
    params = case.params.updated(profiles={"country": "FR", "pv_yield_kwh_per_kwp": 950.0, "cleaning": {"absurd_factor": 20.0}})
    back = read_case(write_case(case.with_params(params), tmp_path / "changed"))
    assert back.params == params
    toml = tomllib.loads((tmp_path / "changed" / "case.toml").read_text(encoding="utf-8"))
    assert toml["params"]["profiles"]["country"] == "FR"
    assert toml["params"]["profiles"]["cleaning"]["absurd_factor"] == 20.0
    # the default country (None) is left out of case.toml and read back as None
    default = read_case(write_case(case, tmp_path / "default"))
    assert default.params.profiles.country is None
    assert "country" not in tomllib.loads((tmp_path / "default" / "case.toml").read_text(encoding="utf-8"))["params"]["profiles"]


def test_standard_profile_and_calendar_options(case, tmp_path: Path):
    p = ProfileParams()
    assert (p.min_metered_curves, p.calendar_start, p.calendar_days, p.pv_tilt_deg, p.pv_azimuth_deg) == (10, None, 365, 30.0, None)
    for name in ("min_metered_curves", "calendar_start", "calendar_days", "pv_tilt_deg", "pv_azimuth_deg"):
        assert "[" in ProfileParams.model_fields[name].description, name
    params = case.params.updated(profiles={"calendar_start": "2024-12-23", "calendar_days": 7, "min_metered_curves": 0})
    back = read_case(write_case(case.with_params(params), tmp_path / "calendar"))
    assert back.params == params and str(back.params.profiles.calendar_start) == "2024-12-23"
    with pytest.raises(pydantic.ValidationError):
        Params().updated(profiles={"calendar_start": "not a date"})
