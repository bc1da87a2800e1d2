"""Fig 11, one EV's schedule (lvbalance.report.fig_schedules), on schedules written by hand.

The EV c2 charges 7 kW in the first two hours uncontrolled. Scheduled, scenario s1 moves
all of it to the last two hours (|change| 4 x 7 kW over 4 steps), scenario s2 half of it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lvbalance.report.fig_schedules import ev_schedule_data, plot_ev_schedule
from lvbalance.report.outputs import MethodOutputs
from lvbalance.results import Plan
from tests.fixtures import fig3_case

UNCONTROLLED = [7.0, 7.0, 0.0, 0.0]
SCHEDULED = {"s1": [0.0, 0.0, 7.0, 7.0], "s2": [7.0, 0.0, 7.0, 0.0]}
#: Area load of s1 with the EV scheduled [kW]: F1 + F2.
F1_KW, F2_KW = [10.0, 20.0, 30.0, 40.0], [5.0, 5.0, 5.0, 5.0]


def hand_outputs() -> MethodOutputs:
    schedules = pd.DataFrame(
        [
            {"scenario": s, "step": k, "customer_id": "c2", "p_uncontrolled_kw": UNCONTROLLED[k], "p_scheduled_kw": p[k]}
            for s, p in SCHEDULED.items()
            for k in range(4)
        ]
    )
    loads = pd.DataFrame(
        [
            {"scenario": s, "step": k, "feeder": f, "p_kw": kw[k], "load_rate": kw[k] / 150}
            for s in SCHEDULED
            for f, kw in (("F1", F1_KW), ("F2", F2_KW))
            for k in range(4)
        ]
    )
    scenarios = pd.DataFrame({"probability": [0.7, 0.3]}, index=pd.Index(["s1", "s2"], name="scenario"))
    return MethodOutputs("m1", Path("m1"), Plan("m1", 0.0, 0.0, 1.0, 0.0, 0), {}, loads, schedules, scenarios)


def hourly_case():
    case = fig3_case()
    return case.with_params(case.params.updated(profiles={"step_minutes": 60}))


def test_ev_schedule_data_picks_the_largest_change():
    d = ev_schedule_data(hourly_case(), hand_outputs())
    assert (d.method, d.customer_id, d.scenario, d.probability) == ("m1", "c2", "s1", 0.7)
    assert d.shifted_kwh == pytest.approx(28.0)  # 4 steps x 7 kW x 1 h
    t = d.table
    np.testing.assert_array_equal(t["hour"], [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(t["p_uncontrolled_kw"], UNCONTROLLED)
    np.testing.assert_array_equal(t["p_scheduled_kw"], SCHEDULED["s1"])
    np.testing.assert_allclose(t["area_load_kw"], [15.0, 25.0, 35.0, 45.0])
    # uncontrolled: the area load minus (scheduled - uncontrolled) = + [7, 7, -7, -7]
    np.testing.assert_allclose(t["area_load_uncontrolled_kw"], [22.0, 32.0, 28.0, 38.0])


def test_ev_schedule_data_of_a_chosen_scenario_and_step_length():
    case = fig3_case()  # 15-minute steps: the same powers shift a quarter of the energy
    d = ev_schedule_data(case, hand_outputs(), scenario="s2")
    assert (d.scenario, d.probability) == ("s2", 0.3)
    assert d.shifted_kwh == pytest.approx(14.0 * 0.25)
    np.testing.assert_array_equal(d.table["hour"], [0.0, 0.25, 0.5, 0.75])
    assert ev_schedule_data(case, hand_outputs(), customer_id="c2").scenario == "s1"


def test_ev_schedule_data_errors_and_no_ev():
    out = hand_outputs()
    with pytest.raises(ValueError, match="no schedule for customer 'c9'"):
        ev_schedule_data(fig3_case(), out, customer_id="c9")
    no_ev = MethodOutputs("m1", out.folder, out.plan, {}, out.feeder_loads, out.schedules.iloc[:0], out.scenarios)
    assert ev_schedule_data(fig3_case(), no_ev) is None


def test_plot_ev_schedule_says_what_it_draws():
    case = hourly_case()
    fig = plot_ev_schedule(case, ev_schedule_data(case, hand_outputs()))
    top, bottom = fig.axes
    assert top.get_title() == "EV c2, scenario s1 (probability 0.70): 28.0 kWh shifted"
    assert (top.get_ylabel(), bottom.get_ylabel()) == ("EV power [kW]", "area load [kW]")
    assert bottom.get_xticklabels()[0].get_text() == "08:00"  # horizon starts at 8 h
    assert bottom.get_xlim() == (0.0, 4.0)
    assert fig.get_suptitle() == "m1: streets + V2G (the paper's method): EV schedule with the largest change"
