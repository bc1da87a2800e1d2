"""Typical-day scenarios: day type x weather (MODEL.md §3.5).

Scenario ``s`` is a combination of a day type and a weather with probability
``beta_s = P(day type) * P(weather)``; every customer's power in it is its pseudo profile
of the day type, pv's of the weather.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from lvbalance.case import DAY_TYPES, WEATHERS, Case
from lvbalance.dims import CONTEXT, CUSTOMER, SCENARIO, STEP
from lvbalance.profiles.calendar import ContextProbabilities


@dataclass(frozen=True)
class ScenarioSet:
    """Typical-day scenarios and every customer's power in each (MODEL.md §3.5).

    ``scenarios``: index ``scenario`` (e.g. ``"working-sunny"``); ``probability`` (beta_s [-],
    sums to 1), ``day_type``, ``weather``.
    ``p_kw``: dims (scenario, step, customer) [kW], customers in ``case.customers`` order;
    ev customers: uncontrolled charging ``X``; pv negative.
    ``step_hours``: step length [h]. ``start_hour``: clock hour at which step 0 starts [h].
    """

    scenarios: pd.DataFrame
    p_kw: xr.DataArray
    step_hours: float
    start_hour: int

    def clock_hours(self) -> np.ndarray:
        """Clock hour (0 <= h < 24) at the start of each step [h]."""
        return (self.start_hour + self.step_hours * np.arange(self.p_kw.sizes[STEP])) % 24.0


def scenario_subset(scenarios: ScenarioSet, names: list[str]) -> ScenarioSet:
    """Some scenarios of a set, their probabilities scaled to sum to 1."""
    table = scenarios.scenarios.loc[list(names)].copy()
    table["probability"] = table["probability"] / table["probability"].sum()
    return ScenarioSet(table, scenarios.p_kw.sel({SCENARIO: list(names)}), scenarios.step_hours, scenarios.start_hour)


def mean_scenario(scenarios: ScenarioSet) -> ScenarioSet:
    """The probability-weighted mean of all scenarios as one scenario ``mean``."""
    w = xr.DataArray(scenarios.scenarios["probability"].to_numpy(), dims=SCENARIO, coords={SCENARIO: scenarios.p_kw[SCENARIO].values})
    mean = (scenarios.p_kw * w).sum(SCENARIO).expand_dims({SCENARIO: ["mean"]}).transpose(SCENARIO, STEP, CUSTOMER)
    table = pd.DataFrame({"probability": [1.0], "day_type": ["mean"], "weather": ["mean"]}, index=pd.Index(["mean"], name=SCENARIO))
    return ScenarioSet(table, mean, scenarios.step_hours, scenarios.start_hour)


def scenario_table(probabilities: ContextProbabilities) -> pd.DataFrame:
    """Scenarios day type x weather with ``beta_s = P(day type) * P(weather)`` [-], those with beta_s > 0
    (MODEL.md §3.5); index ``scenario``, columns ``probability``, ``day_type``, ``weather``."""
    p_day, p_weather = probabilities.p_day_type, probabilities.p_weather
    rows = [(f"{d}-{w}", p_day[d] * p_weather[w], d, w) for d in DAY_TYPES for w in WEATHERS if p_day[d] * p_weather[w] > 0]
    df = pd.DataFrame(rows, columns=[SCENARIO, "probability", "day_type", "weather"]).set_index(SCENARIO)
    df["probability"] /= df["probability"].sum()
    return df


def build_scenarios(case: Case, pseudo_kw: xr.DataArray, probabilities: ContextProbabilities) -> ScenarioSet:
    """Each scenario's power of every customer: day-type profiles, pv by weather (MODEL.md §3.5).

    Parameters
    ----------
    case
        Customers (which are pv) and ``params.profiles`` (step length, horizon start).
    pseudo_kw
        Profiles per context, dims (context, step, customer) [kW]
        (:func:`~lvbalance.profiles.pseudo.pseudo_profiles`).
    probabilities
        P(day type) and P(weather).
    """
    params = case.params.profiles
    table = scenario_table(probabilities)
    is_pv = (case.customers["type"] == "pv").to_numpy()
    blocks = []
    for d, w in zip(table["day_type"], table["weather"]):
        blocks.append(np.where(is_pv[None, :], pseudo_kw.sel({CONTEXT: w}).values, pseudo_kw.sel({CONTEXT: d}).values))
    p = xr.DataArray(
        np.stack(blocks) if blocks else np.zeros((0, pseudo_kw.sizes[STEP], len(is_pv))),
        dims=(SCENARIO, STEP, CUSTOMER),
        coords={SCENARIO: table.index.to_numpy(), STEP: pseudo_kw[STEP].values, CUSTOMER: pseudo_kw[CUSTOMER].values},
        name="p_kw",
    )
    return ScenarioSet(table, p, params.step_minutes / 60, params.horizon_start_hour)
