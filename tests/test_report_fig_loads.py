"""Fig 12 and feeder load rates over the day (lvbalance.report.fig_loads), on loads written by hand.

Two feeders (150 kW outlets), two scenarios of two one-hour steps. Load rates:

=========  ==========  ==========  =============
scenario   step        baseline    m1
=========  ==========  ==========  =============
s1 (0.7)   0           .50 / .20   .40 / .30
s1         1           .30 / .40   .35 / .35
s2 (0.3)   0           .60 / .10   .45 / .25
s2         1           .20 / .20   .25 / .15
=========  ==========  ==========  =============

so Eq 14 (max - min, in %) is 30, 10, 50, 0 as built and 10, 0, 20, 10 after m1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lvbalance.report.fig_loads import feeder_load_rate_data, imbalance_data, plot_feeder_load_rates, plot_imbalance
from lvbalance.report.outputs import MethodOutputs
from lvbalance.results import Plan
from tests.fixtures import fig3_case

RATES = {  # method -> scenario -> step -> (F1, F2)
    "baseline": {"s1": [(0.50, 0.20), (0.30, 0.40)], "s2": [(0.60, 0.10), (0.20, 0.20)]},
    "m1": {"s1": [(0.40, 0.30), (0.35, 0.35)], "s2": [(0.45, 0.25), (0.25, 0.15)]},
}


def hand_runs() -> dict[str, MethodOutputs]:
    scenarios = pd.DataFrame({"probability": [0.7, 0.3]}, index=pd.Index(["s1", "s2"], name="scenario"))
    runs = {}
    for m, by_scen in RATES.items():
        loads = pd.DataFrame(
            [
                {"scenario": s, "step": k, "feeder": f, "p_kw": 150 * rate, "load_rate": rate}
                for s, steps in by_scen.items()
                for k, pair in enumerate(steps)
                for f, rate in zip(("F1", "F2"), pair)
            ]
        )
        runs[m] = MethodOutputs(m, Path(m), Plan(m, 0.0, 0.0, 1.0, 0.0, 0), {}, loads, pd.DataFrame(), scenarios)
    return runs


def hourly_case():
    case = fig3_case()
    return case.with_params(case.params.updated(profiles={"step_minutes": 60}))


def test_imbalance_data_is_eq14_before_and_after():
    d = imbalance_data(hourly_case(), hand_runs())
    assert list(d.columns) == ["scenario", "probability", "step", "hour", "series", "imbalance_pct"]
    assert list(zip(d["scenario"], d["series"], d["step"])) == [
        ("s1", "before", 0),
        ("s1", "before", 1),
        ("s1", "m1", 0),
        ("s1", "m1", 1),
        ("s2", "before", 0),
        ("s2", "before", 1),
        ("s2", "m1", 0),
        ("s2", "m1", 1),
    ]
    np.testing.assert_allclose(d["imbalance_pct"], [30, 10, 10, 0, 50, 0, 20, 10], atol=1e-9)
    np.testing.assert_array_equal(d["probability"], [0.7] * 4 + [0.3] * 4)
    np.testing.assert_array_equal(d["hour"], [0.0, 1.0] * 4)


def test_plot_imbalance_one_panel_per_scenario():
    fig = plot_imbalance(hourly_case(), imbalance_data(hourly_case(), hand_runs()))
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == ["scenario s1 (probability 0.70)", "scenario s2 (probability 0.30)"]
    assert all(ax.get_ylabel() == "imbalance [%]" for ax in shown)
    assert shown[0].get_ylim() == pytest.approx((0.0, 50 * 1.08))  # same scale: the highest imbalance + 8 %
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["as built (no move, uncontrolled charging)", "m1: streets + V2G (the paper's method)"]


def test_feeder_load_rate_data_in_the_most_probable_scenario():
    d = feeder_load_rate_data(hourly_case(), hand_runs(), "m1")
    assert list(d.columns) == ["scenario", "step", "hour", "feeder", "load_rate_before_pct", "load_rate_after_pct"]
    assert list(zip(d["scenario"], d["feeder"], d["step"])) == [("s1", "F1", 0), ("s1", "F1", 1), ("s1", "F2", 0), ("s1", "F2", 1)]
    np.testing.assert_allclose(d["load_rate_before_pct"], [50, 30, 20, 40])
    np.testing.assert_allclose(d["load_rate_after_pct"], [40, 35, 30, 35])
    s2 = feeder_load_rate_data(hourly_case(), hand_runs(), "m1", scenario="s2")
    np.testing.assert_allclose(s2["load_rate_before_pct"], [60, 20, 10, 20])
    np.testing.assert_allclose(s2["load_rate_after_pct"], [45, 25, 25, 15])


def test_plot_feeder_load_rates_shows_the_mean_spread():
    case = hourly_case()
    fig = plot_feeder_load_rates(case, feeder_load_rate_data(case, hand_runs(), "m1"), "m1")
    # mean spread = mean Eq 14 of s1: (30 + 10) / 2 as built, (10 + 0) / 2 after m1
    assert [ax.get_title() for ax in fig.axes] == ["as built: mean spread 20.0 points", "after m1: mean spread 5.0 points"]
    assert fig.axes[0].get_ylabel() == "feeder load rate [% of outlet rating]"
    assert fig.get_suptitle() == "Feeder load rates, scenario s1: m1: streets + V2G (the paper's method)"
