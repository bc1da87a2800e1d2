"""Pseudo load profiles and scenarios from smart-meter data (MODEL.md §3, paper Sec 2.2).

The pipeline, each step a plain function in a module of its own:

1. :mod:`~lvbalance.profiles.cleaning` — :func:`clean_readings`: duplicates, impossible
   values, short gaps, incomplete days; every change is counted per customer in a report
   and logged (§3.1).
2. :mod:`~lvbalance.profiles.calendar` — horizon days that start at
   ``params.profiles.horizon_start_hour`` and last 24 h (the night is contiguous), their
   day type and weather (:func:`day_context`), the calendar of the horizon
   (:func:`horizon_calendar`: days.csv, or weekends and holidays when it is empty), the
   probability of each context, and a
   seeded hold-out of metered days for out-of-sample evaluation (:func:`split_days`) (§3.2).
3. :mod:`~lvbalance.profiles.patterns` — per customer type and context, k-means on daily
   curves normalised by daily energy; the number of patterns by silhouette; each
   pattern's probability is its share of curves (§3.3). A type with fewer than
   ``params.profiles.min_metered_curves`` metered curves takes standard load profiles
   instead (:mod:`~lvbalance.profiles.standard`: BDEW H0 / G0 through demandlib, pvlib
   clear-sky at the site (:mod:`~lvbalance.profiles.solar`), SimBench EV and heat-pump shapes).
4. :mod:`~lvbalance.profiles.pseudo` — unmetered customers get patterns in counts that
   follow the probabilities (largest remainder, seeded ties), scaled by their billed
   energy and the context's energy ratio; metered customers keep their own mean curve per
   context (§3.4).
5. :mod:`~lvbalance.profiles.scenarios` — day type x weather,
   ``beta_s = P(day type) * P(weather)`` (§3.5).

:mod:`~lvbalance.profiles.build` composes them (:func:`build_profiles`) and gives real days
for out-of-sample evaluation (:func:`day_profiles`); :mod:`~lvbalance.profiles.outputs`
writes ``scenarios.csv`` and ``profiles.csv`` (DESIGN.md).

Sign convention: consumption positive, pv generation negative [kW]. An ev customer's
profile is its uncontrolled charging power ``X`` [kW].
"""

from __future__ import annotations

from lvbalance.profiles.build import MeteredDays, ProfileResult, build_profiles, day_profiles, prepare_days, pseudo_profile_error
from lvbalance.profiles.calendar import (
    CONTEXT_KIND,
    UNLABELLED_WEATHER,
    ContextProbabilities,
    DaySplit,
    context_probabilities,
    contexts_of,
    day_context,
    horizon_calendar,
    horizon_day_of,
    split_days,
    steps_per_day,
)
from lvbalance.profiles.cleaning import REPORT_COLUMNS, CleanedReadings, clean_readings
from lvbalance.profiles.outputs import write_profiles
from lvbalance.profiles.patterns import Patterns, build_patterns, cluster_patterns, daily_curves
from lvbalance.profiles.pseudo import PseudoProfiles, assign_patterns, cap_power, largest_remainder, pseudo_profiles
from lvbalance.profiles.scenarios import ScenarioSet, build_scenarios, mean_scenario, scenario_subset, scenario_table
from lvbalance.profiles.solar import Site, site_of
from lvbalance.profiles.standard import STANDARD_SOURCES, StandardProfile, standard_profile

__all__ = [
    "CONTEXT_KIND",
    "REPORT_COLUMNS",
    "STANDARD_SOURCES",
    "UNLABELLED_WEATHER",
    "CleanedReadings",
    "ContextProbabilities",
    "DaySplit",
    "MeteredDays",
    "Patterns",
    "ProfileResult",
    "PseudoProfiles",
    "ScenarioSet",
    "Site",
    "StandardProfile",
    "assign_patterns",
    "build_patterns",
    "build_profiles",
    "build_scenarios",
    "cap_power",
    "clean_readings",
    "cluster_patterns",
    "context_probabilities",
    "contexts_of",
    "daily_curves",
    "day_context",
    "day_profiles",
    "horizon_calendar",
    "horizon_day_of",
    "largest_remainder",
    "mean_scenario",
    "prepare_days",
    "pseudo_profile_error",
    "pseudo_profiles",
    "scenario_subset",
    "scenario_table",
    "site_of",
    "split_days",
    "standard_profile",
    "steps_per_day",
    "write_profiles",
]
