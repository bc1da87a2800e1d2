"""Scenarios day type x weather (lvbalance.profiles.scenarios, MODEL.md §3.5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lvbalance.profiles import build_profiles
from lvbalance.profiles.calendar import ContextProbabilities
from lvbalance.profiles.scenarios import ScenarioSet, build_scenarios, mean_scenario, scenario_subset, scenario_table


def _probabilities(working: float, sunny: float, cloudy: float) -> ContextProbabilities:
    return ContextProbabilities(
        pd.Series({"working": working, "non_working": 1 - working}),
        pd.Series({"sunny": sunny, "cloudy": cloudy, "rainy": 1 - sunny - cloudy}),
    )


def test_scenario_table_by_hand():
    table = scenario_table(_probabilities(0.6, 0.5, 0.5))  # no rainy days: no rainy scenario
    assert table.index.name == "scenario"
    assert table.index.tolist() == ["working-sunny", "working-cloudy", "non_working-sunny", "non_working-cloudy"]
    assert table["probability"].tolist() == pytest.approx([0.3, 0.3, 0.2, 0.2])
    assert table.loc["non_working-cloudy", ["day_type", "weather"]].tolist() == ["non_working", "cloudy"]


def test_build_scenarios_takes_day_type_profiles_and_pv_by_weather(case):
    ctxs = ["working", "non_working", "sunny", "cloudy", "rainy"]
    customers = case.customers.index.to_numpy()
    # customer j in context i: 10 i + j  (pv c5 is column 4)
    values = np.array([[[10.0 * i + j for j in range(len(customers))] for _ in range(3)] for i in range(len(ctxs))])
    pseudo = xr.DataArray(
        values, dims=("context", "step", "customer"), coords={"context": ctxs, "step": np.arange(3), "customer": customers}
    )
    sc = build_scenarios(case, pseudo, _probabilities(0.5, 1.0, 0.0))
    assert sc.scenarios.index.tolist() == ["working-sunny", "non_working-sunny"]
    assert sc.p_kw.dims == ("scenario", "step", "customer")
    assert sc.p_kw.sel(scenario="non_working-sunny", step=0, customer="c3").item() == 10.0 + 2  # non_working, column 2
    assert sc.p_kw.sel(scenario="non_working-sunny", step=0, customer="c5").item() == 20.0 + 4  # pv: sunny, column 4
    assert sc.step_hours == 0.25 and sc.start_hour == 8


def test_scenarios_of_the_fig3_case(case):
    sc = build_profiles(case).scenarios
    assert list(sc.scenarios.columns) == ["probability", "day_type", "weather"]
    # 10 working / 4 non-working days; weather 5 sunny, 5 cloudy, 4 rainy
    assert sc.scenarios.loc["working-sunny", "probability"] == pytest.approx(10 / 14 * 5 / 14)
    assert sc.scenarios.loc["non_working-rainy", "probability"] == pytest.approx(4 / 14 * 4 / 14)
    assert list(sc.p_kw["customer"].values) == list(case.customers.index)
    assert sc.p_kw["step"].values.tolist() == list(range(96))
    assert sc.clock_hours()[0] == 8.0 and sc.clock_hours()[64] == 0.0 and sc.clock_hours()[-1] == 7.75
    assert np.isfinite(sc.p_kw.values).all()
    assert (sc.p_kw.sel(customer="c5") <= 0).all()


def _two_scenarios() -> ScenarioSet:
    table = pd.DataFrame(
        {"probability": [0.25, 0.75], "day_type": ["working", "non_working"], "weather": ["sunny", "rainy"]},
        index=pd.Index(["a", "b"], name="scenario"),
    )
    p = xr.DataArray(
        [[[4.0], [8.0]], [[0.0], [4.0]]],
        dims=("scenario", "step", "customer"),
        coords={"scenario": ["a", "b"], "step": [0, 1], "customer": ["x"]},
    )
    return ScenarioSet(table, p, 12.0, 8)


def test_scenario_subset_rescales_probabilities():
    sub = scenario_subset(_two_scenarios(), ["b"])
    assert sub.scenarios["probability"].tolist() == [1.0]
    assert sub.p_kw.sel(customer="x").values.tolist() == [[0.0, 4.0]]
    assert sub.clock_hours().tolist() == [8.0, 20.0]


def test_mean_scenario_is_probability_weighted():
    mean = mean_scenario(_two_scenarios())
    assert mean.scenarios.index.tolist() == ["mean"] and mean.scenarios["probability"].tolist() == [1.0]
    # 0.25 * (4, 8) + 0.75 * (0, 4) = (1, 5)
    assert mean.p_kw.sel(scenario="mean", customer="x").values.tolist() == [1.0, 5.0]
