"""AC power-flow check (MODEL.md §8) on the hand-built Fig 3 case.

Fig 3: feeder F1 = B-n1-n2-n3-n4-n5 (+ n6), feeder F2 = B-m1-m2; every line NAYY 4x150 SE
rated 150 kW. The move used here carries the tail n5 (c1, c2) onto m2 of F2 along a
220 m route.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from lvbalance.case import Network
from lvbalance.evaluate import flows_after, rewire
from lvbalance.model.methods import METHODS
from lvbalance.model.run import plan_method
from lvbalance.powerflow import (
    DEFAULT_STD_TYPE,
    NEW_LINE_TYPES,
    ac_before_after,
    ac_check,
    build_pandapower_net,
    method_power,
    size_new_line,
)
from lvbalance.results import Move
from tests.conftest import fig3_case
from tests.test_model import SCENARIO_IDS, coarse, hand_scenarios

TAIL_MOVE = Move(end_node="n5", cut_node="n5", to_node="m2", customers=["c1", "c2"], from_feeder="F1",
                 to_feeder="F2", route_length_m=220.0, cost=0.0, route=[])
BASE_KW = {"residential": 2.0, "commercial": 8.0, "pv": -3.0, "ev": 5.0}


def hand_power(case, *, scale: float = 1.0, steps: int = 4) -> tuple[np.ndarray, list[str], list[str]]:
    """(customer, scenario, step) power [kW]: type base times a step factor, 2 scenarios."""
    customers = list(case.customers.index)
    factor = np.array([[0.5, 1.0, 1.5, 1.0][t % 4] for t in range(steps)])
    p = np.zeros((len(customers), 2, steps))
    for k, c in enumerate(customers):
        p[k, 0] = scale * BASE_KW[case.customers.at[c, "type"]] * factor
        p[k, 1] = 0.8 * p[k, 0]
    return p, customers, ["s1", "s2"]


def test_losses_nonnegative_and_small_voltage_drops_to_far_end():
    case = fig3_case()
    p, customers, scen = hand_power(case)
    res = ac_check(case, [], p, customers, scen, step_hours=1.0)
    assert res.runs == 8
    for s in res.scenarios:
        assert s.nonconverged_steps == 0
        assert s.losses_kwh_per_day >= 0.0
        load_kwh = p[:, scen.index(s.scenario)].sum()  # 1 h steps
        assert s.losses_kwh_per_day < 0.02 * load_kwh
        assert s.supplied_kwh_per_day == pytest.approx(load_kwh + s.losses_kwh_per_day, rel=1e-6)
        assert s.min_voltage_pu < 1.0
        assert s.min_voltage_node == "n5"  # far end of the long feeder
        assert s.max_voltage_pu == pytest.approx(1.0, abs=1e-9)  # the slack: nothing feeds back
    assert res.expected_losses_kwh_per_day > 0.0
    assert json.loads(json.dumps(res.to_json()))["runs"] == 8


def test_lossless_flows_close_to_ac_on_a_light_load():
    case = fig3_case()
    p, customers, scen = hand_power(case)
    res = ac_check(case, [TAIL_MOVE], p, customers, scen, step_hours=1.0)
    assert res.max_flow_diff_pct < 5.0
    assert 0.0 < res.max_flow_diff_kw < 0.05 * np.abs(p).sum(axis=0).max()
    # a heavier load: the AC flow exceeds the lossless one by the losses downstream
    heavy = ac_check(case, [TAIL_MOVE], 8 * p, customers, scen, step_hours=1.0)
    assert heavy.max_flow_diff_kw > res.max_flow_diff_kw
    assert heavy.expected_losses_kwh_per_day > 40 * res.expected_losses_kwh_per_day  # ~ square of the load


def test_new_line_gets_a_cable_type_sized_for_its_load():
    assert size_new_line(10.0) == "NAYY 4x50 SE"
    assert size_new_line(100.0) == "NAYY 4x95 SE"  # 100 kW * 1.25 at cos phi 0.95: 190 A
    assert size_new_line(120.0) == "NAYY 4x150 SE"  # 228 A
    assert size_new_line(180.0) == "NAYY 4x240 SE"  # 342 A
    assert size_new_line(1000.0) == NEW_LINE_TYPES[-1]
    case = fig3_case()
    net = build_pandapower_net(case, [TAIL_MOVE], peak_kw={"n5": 12.0})
    new = net.line.set_index("name").loc["new:n5"]
    assert new["std_type"] == "NAYY 4x50 SE"
    assert new["length_km"] == pytest.approx(0.22)
    assert bool(new["in_service"])
    assert not bool(net.line.set_index("name").at["l5", "in_service"])  # the cut line
    p, customers, scen = hand_power(case)
    res = ac_check(case, [TAIL_MOVE], p, customers, scen, step_hours=1.0)
    assert set(res.new_line_types) == {"new:n5"}
    assert res.new_line_types["new:n5"] in NEW_LINE_TYPES


def test_moved_customers_power_appears_on_their_new_feeder():
    case = fig3_case()
    net = build_pandapower_net(case, [TAIL_MOVE])
    net.load["p_mw"] = np.where(net.load["name"] == "c1", 0.010, 0.0)  # c1 alone, 10 kW
    pp.runpp(net, numba=False)
    line = net.res_line.set_index(net.line["name"])
    assert line.at["l7", "p_from_mw"] * 1000 == pytest.approx(10.0, rel=0.01)  # F2 outlet
    assert line.at["new:n5", "p_from_mw"] * 1000 == pytest.approx(10.0, rel=0.01)
    assert line.at["l1", "p_from_mw"] * 1000 == pytest.approx(0.0, abs=1e-6)  # F1 outlet
    assert line.at["l7", "p_from_mw"] > line.at["new:n5", "p_from_mw"] > 0.010  # losses downstream
    # and the whole-day check agrees with the lossless flows of the rewired network
    p, customers, scen = hand_power(case)
    flows = flows_after(case, rewire(case, [TAIL_MOVE]), p, customers)
    assert "l5" not in flows and "new:n5" in flows
    res = ac_check(case, [TAIL_MOVE], p, customers, scen, step_hours=1.0)
    assert res.max_flow_diff_pct < 5.0


def test_impedance_falls_back_from_std_type_to_columns_to_default():
    case = fig3_case()
    lines = case.network.lines.copy()
    lines.loc["l2", ["std_type", "r_ohm_per_km", "x_ohm_per_km"]] = ["my cable", 0.5, 0.09]
    lines.loc["l3", ["std_type", "r_ohm_per_km", "x_ohm_per_km"]] = ["", np.nan, np.nan]
    case = dataclasses.replace(case, network=Network(nodes=case.network.nodes, lines=lines))
    net = build_pandapower_net(case)
    line = net.line.set_index("name")
    assert line.at["l1", "r_ohm_per_km"] == pytest.approx(0.208)  # pandapower's NAYY 4x150 SE
    assert line.at["l2", "r_ohm_per_km"] == pytest.approx(0.5)
    assert line.at["l2", "std_type"] is None
    assert line.at["l3", "std_type"] == DEFAULT_STD_TYPE
    assert line.at["l1", "max_i_ka"] == pytest.approx(150.0 / (np.sqrt(3) * 0.4) / 1000)  # from rated_kw
    assert (net.bus["vn_kv"] == 0.4).all() and len(net.ext_grid) == 1


def test_transformer_option_adds_mv_slack_and_its_losses():
    case = fig3_case()
    p, customers, scen = hand_power(case)
    lv = ac_check(case, [], p, customers, scen, step_hours=1.0)
    tr = ac_check(case, [], p, customers, scen, step_hours=1.0, transformer="0.63 MVA 20/0.4 kV")
    assert tr.expected_losses_kwh_per_day > lv.expected_losses_kwh_per_day  # iron and copper losses
    assert tr.min_voltage_pu < lv.min_voltage_pu


def test_before_after_of_a_planned_method_uses_the_schedule_in_model_order():
    case = coarse(fig3_case())
    scen = hand_scenarios(case)
    res = plan_method(case, scen, METHODS["m1"])
    power, customers, scen_ids, _beta = method_power(res, scheduled=True)
    assert scen_ids == SCENARIO_IDS  # the model's order, not alphabetical
    sched = res.schedules.table.astype({"scenario": str})
    for k, s in enumerate(scen_ids):
        x = sched[(sched["scenario"] == s) & (sched["customer_id"] == "c2")].sort_values("step")["p_scheduled_kw"]
        np.testing.assert_allclose(power[customers.index("c2"), k], x.to_numpy())
    out = ac_before_after(case, res)
    assert set(out) == {"before", "after", "table"}
    assert isinstance(out["table"], pd.DataFrame)
    assert list(out["table"].columns) == ["before", "after"]
    assert set(out["after"].new_line_types) == {"new:" + mv.cut_node for mv in res.plan.moves}
    for r in (out["before"], out["after"]):
        assert r.max_flow_diff_pct < 5.0
        assert all(s.nonconverged_steps == 0 for s in r.scenarios)

