"""Fig 9-10, the plan on the map (lvbalance.report.fig_plan), on a plan written by hand.

The plan moves the end node n5 of the Fig-3 case (customers c1, c2) from F1 to F2: the
line l5 (n4-n5) is cut and a new line runs from n5 along the street at x = 250 m down to
y = -120 m, then west to m2 (220 m).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lvbalance.report.fig_plan import plan_map_data, plot_plan_map
from lvbalance.report.outputs import MethodOutputs
from lvbalance.results import Move, Plan
from tests.fixtures import X0, Y0, fig3_case, fig3_tail_move

ROUTE = [[X0 + 250, Y0], [X0 + 250, Y0 - 120], [X0 + 150, Y0 - 120]]


def outputs(method: str, moves: list[Move]) -> MethodOutputs:
    """One method's outputs with only the plan filled in (what the plan map reads)."""
    plan = Plan(method, 0.0, 0.0, 1.0, sum(m.cost for m in moves), sum(len(m.customers) for m in moves), moves)
    empty = pd.DataFrame()
    return MethodOutputs(method, Path("unused") / method, plan, {}, empty, empty, empty)


def test_plan_map_data_of_a_hand_plan():
    d = plan_map_data(fig3_case(), outputs("m1", [fig3_tail_move(cost=26400.0, route=ROUTE)]))
    assert d.method == "m1"
    np.testing.assert_array_equal(d.busbar_xy, [X0, Y0])
    as_built = {"l1": "F1", "l2": "F1", "l3": "F1", "l4": "F1", "l5": "F1", "l6": "F1", "l7": "F2", "l8": "F2"}
    assert d.lines["feeder_before"].to_dict() == as_built
    assert d.lines["feeder_after"].to_dict() == {**as_built, "l5": None}
    assert list(d.lines.index[~d.lines["in_service"]]) == ["l5"]
    np.testing.assert_array_equal(d.lines.at["l5", "xy"], [[X0 + 200, Y0], [X0 + 250, Y0]])  # n4 -> n5
    as_built = {"c1": "F1", "c2": "F1", "c3": "F1", "c4": "F1", "c5": "F1", "c6": "F1", "c7": "F2", "c8": "F2"}
    assert d.customers["feeder_before"].to_dict() == as_built
    assert d.customers["feeder_after"].to_dict() == {**as_built, "c1": "F2", "c2": "F2"}
    assert list(d.customers.index[d.customers["moved"]]) == ["c1", "c2"]
    assert (d.customers.at["c1", "x"], d.customers.at["c1", "y"]) == (X0 + 255, Y0 + 10)
    assert len(d.routes) == 1
    r = d.routes.iloc[0]
    assert (r["move"], r["end_node"], r["cut_node"], r["to_node"], r["customers"]) == (1, "n5", "n5", "m2", ["c1", "c2"])
    assert (r["from_feeder"], r["to_feeder"], r["route_length_m"], r["cost"]) == ("F1", "F2", 220.0, 26400.0)
    np.testing.assert_array_equal(r["xy"], ROUTE)


def test_plan_map_data_without_moves_keeps_the_network_as_built():
    d = plan_map_data(fig3_case(), outputs("v2g_only", []))
    assert d.lines["in_service"].all()
    assert (d.lines["feeder_before"] == d.lines["feeder_after"]).all()
    assert not d.customers["moved"].any()
    assert d.routes.empty and "route_length_m" in d.routes.columns


def test_plot_plan_map_draws_the_route_and_says_the_move():
    case = fig3_case()
    fig = plot_plan_map(case, plan_map_data(case, outputs("m1", [fig3_tail_move(cost=26400.0, route=ROUTE)])))
    before, after = fig.axes[:2]
    assert before.get_title() == "as built (customers to be moved ringed)"
    assert after.get_title() == "after the moves: 1 move(s), 2 customer(s) moved"
    assert fig.get_suptitle() == "Plan of m1: streets + V2G (the paper's method)"
    assert [ax.get_xlabel() for ax in (before, after)] == ["x from busbar [m]"] * 2
    route = [ln for ln in after.get_lines() if ln.get_linewidth() == 4.0]  # metres from the busbar
    assert len(route) == 1
    np.testing.assert_array_equal(route[0].get_xdata(), [250, 250, 150])
    np.testing.assert_array_equal(route[0].get_ydata(), [0, -120, -120])
    assert [t.get_text() for t in after.texts if t.get_text().startswith("1:")] == ["1: 2 customer(s) F1 \u2192 F2, 220 m, cost 26,400"]


def test_plot_plan_map_without_moves():
    case = fig3_case()
    fig = plot_plan_map(case, plan_map_data(case, outputs("v2g_only", [])))
    assert fig.axes[0].get_title() == "as built"
    assert fig.axes[1].get_title() == "after the moves: 0 move(s), 0 customer(s) moved"
