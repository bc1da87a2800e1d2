"""The pandapower net of a plan (:mod:`lvbalance.powerflow.net`) on the hand-built Fig 3 case.

Fig 3: feeder F1 = B-n1-n2-n3-n4-n5 (+ n6), feeder F2 = B-m1-m2; every line NAYY 4x150 SE
rated 150 kW. The move used here carries the tail n5 (c1, c2) onto m2 of F2 along a
220 m route.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandapower as pp
import pydantic
import pytest

from lvbalance.case import Case, Network
from lvbalance.params import PowerFlowParams
from lvbalance.powerflow import build_pandapower_net, kw_to_ka, move_peak_kw, size_new_line
from tests.fixtures import fig3_case, fig3_tail_move


def with_powerflow(case: Case, **values: object) -> Case:
    """``case`` with some ``params.powerflow`` options changed."""
    return case.with_params(case.params.updated(powerflow=values))


def test_kw_to_ka_is_the_three_phase_current():
    # 100 kW at 0.4 kV, cos phi 1: 100 / (sqrt 3 * 0.4) = 144.34 A
    assert kw_to_ka(100.0, v_kv=0.4) == pytest.approx(0.14434, rel=1e-4)
    assert kw_to_ka(100.0, v_kv=0.4, cos_phi=0.8) == pytest.approx(0.14434 / 0.8, rel=1e-4)


def test_new_line_gets_the_smallest_cable_type_for_its_peak():
    assert size_new_line(10.0) == "NAYY 4x50 SE"  # 10 kW * 1.25 at cos phi 0.95: 19 A <= 142 A
    assert size_new_line(-70.0) == "NAYY 4x50 SE"  # |peak|: 133 A <= 142 A (pv feeding back)
    assert size_new_line(100.0) == "NAYY 4x95 SE"  # 190 A
    assert size_new_line(120.0) == "NAYY 4x150 SE"  # 228 A
    assert size_new_line(180.0) == "NAYY 4x240 SE"  # 342 A
    assert size_new_line(1000.0) == "NAYY 4x240 SE"  # beyond every type: the largest


def test_sizing_follows_the_powerflow_params():
    # margin 2: 70 kW -> 213 A, beyond the 4x50's 142 A, within the 4x95's 215 A
    assert size_new_line(70.0, params=PowerFlowParams(sizing_margin=2.0)) == "NAYY 4x95 SE"
    # cos phi 1 instead of 0.95: 100 kW * 1.25 -> 180 A
    assert size_new_line(100.0, params=PowerFlowParams(sizing_cos_phi=1.0)) == "NAYY 4x95 SE"
    assert size_new_line(114.0, params=PowerFlowParams(sizing_cos_phi=1.0)) == "NAYY 4x95 SE"  # 205.7 A
    assert size_new_line(114.0) == "NAYY 4x150 SE"  # 216.5 A at cos phi 0.95
    assert size_new_line(10.0, params=PowerFlowParams(new_line_types=["NAYY 4x150 SE"])) == "NAYY 4x150 SE"


def test_unknown_line_type_in_params_is_an_error():
    with pytest.raises(ValueError, match="NAYY 4x999"):
        size_new_line(10.0, params=PowerFlowParams(new_line_types=["NAYY 4x999"]))
    with pytest.raises(ValueError, match="no such cable"):
        build_pandapower_net(with_powerflow(fig3_case(), default_std_type="no such cable"))


def test_powerflow_params_are_validated():
    with pytest.raises(pydantic.ValidationError, match="cos phi"):
        PowerFlowParams(power_factor={"residential": 1.2})
    with pytest.raises(pydantic.ValidationError):
        PowerFlowParams(new_line_types=[])
    with pytest.raises(pydantic.ValidationError):
        PowerFlowParams(sizing_margin=0.0)


def test_new_line_sized_for_its_peak_replaces_the_cut_line():
    case = fig3_case()
    net = build_pandapower_net(case, [fig3_tail_move()], peak_kw={"n5": 12.0})
    line = net.line.set_index("name")
    new = line.loc["new:n5"]
    assert new["std_type"] == "NAYY 4x50 SE"
    assert new["length_km"] == pytest.approx(0.22)
    assert new["r_ohm_per_km"] == pytest.approx(0.642)  # pandapower's NAYY 4x50 SE
    assert new["max_i_ka"] == pytest.approx(0.142)  # the cable's ampacity, not a rating from the case
    assert net.bus.at[new["from_bus"], "name"] == "m2" and net.bus.at[new["to_bus"], "name"] == "n5"
    assert bool(new["in_service"])
    assert not bool(line.at["l5", "in_service"])  # the cut line
    assert line["in_service"].sum() == len(case.network.lines)  # one out, one in


def test_unsized_new_line_takes_the_type_and_rating_of_the_line_it_replaces():
    case = fig3_case()
    new = build_pandapower_net(case, [fig3_tail_move()]).line.set_index("name").loc["new:n5"]
    assert new["std_type"] == "NAYY 4x150 SE"
    assert new["max_i_ka"] == pytest.approx(150.0 / (math.sqrt(3) * 0.4) / 1000)  # l5's 150 kW


def test_changed_sizing_params_change_the_new_line():
    case = fig3_case()
    # 12 kW at margin 1.25: 22.8 A -> 4x50; at margin 10: 182 A -> 4x95
    big = build_pandapower_net(with_powerflow(case, sizing_margin=10.0), [fig3_tail_move()], peak_kw={"n5": 12.0})
    assert big.line.set_index("name").at["new:n5", "std_type"] == "NAYY 4x95 SE"
    only = build_pandapower_net(with_powerflow(case, new_line_types=["NAYY 4x240 SE"]), [fig3_tail_move()], peak_kw={"n5": 12.0})
    new = only.line.set_index("name").loc["new:n5"]
    assert new["std_type"] == "NAYY 4x240 SE" and new["r_ohm_per_km"] == pytest.approx(0.125)
    # a zero-length route still gets an impedance: min_new_line_m
    short = dataclasses.replace(fig3_tail_move(), route_length_m=0.0)
    assert build_pandapower_net(case, [short]).line.set_index("name").at["new:n5", "length_km"] == pytest.approx(0.001)
    longer = build_pandapower_net(with_powerflow(case, min_new_line_m=5.0), [short])
    assert longer.line.set_index("name").at["new:n5", "length_km"] == pytest.approx(0.005)


def test_move_peak_is_the_peak_of_the_moved_customers_together():
    customers = ["c1", "c2", "c3"]
    power = np.array([[[1.0, 4.0], [2.0, 0.0]], [[3.0, -1.0], [5.0, 0.0]], [[100.0, 100.0], [100.0, 100.0]]])
    assert move_peak_kw([fig3_tail_move()], power, customers) == {"n5": 7.0}  # c1 + c2 at scenario 2, step 1


def test_moved_customers_power_appears_on_their_new_feeder():
    case = fig3_case()
    net = build_pandapower_net(case, [fig3_tail_move()])
    net.load["p_mw"] = np.where(net.load["name"] == "c1", 0.010, 0.0)  # c1 alone, 10 kW
    pp.runpp(net, numba=False)
    line = net.res_line.set_index(net.line["name"])
    assert line.at["l7", "p_from_mw"] * 1000 == pytest.approx(10.0, rel=0.01)  # F2 outlet
    assert line.at["new:n5", "p_from_mw"] * 1000 == pytest.approx(10.0, rel=0.01)
    assert line.at["l1", "p_from_mw"] * 1000 == pytest.approx(0.0, abs=1e-6)  # F1 outlet
    assert line.at["l7", "p_from_mw"] > line.at["new:n5", "p_from_mw"] > 0.010  # losses downstream


def test_impedance_falls_back_from_std_type_to_columns_to_default():
    case = fig3_case()
    lines = case.network.lines.copy()
    lines.loc["l2", ["std_type", "r_ohm_per_km", "x_ohm_per_km"]] = ["my cable", 0.5, 0.09]
    lines.loc["l3", ["std_type", "r_ohm_per_km", "x_ohm_per_km"]] = ["", np.nan, np.nan]
    case = dataclasses.replace(case, network=Network(nodes=case.network.nodes, lines=lines))
    line = build_pandapower_net(case).line.set_index("name")
    assert line.at["l1", "r_ohm_per_km"] == pytest.approx(0.208)  # pandapower's NAYY 4x150 SE, not the column's 0.206
    assert line.at["l2", "r_ohm_per_km"] == pytest.approx(0.5)
    assert line.at["l2", "std_type"] is None
    assert line.at["l3", "std_type"] == "NAYY 4x150 SE"
    assert line.at["l1", "max_i_ka"] == pytest.approx(150.0 / (np.sqrt(3) * 0.4) / 1000)  # from rated_kw
    other = build_pandapower_net(with_powerflow(case, default_std_type="NAYY 4x50 SE")).line.set_index("name")
    assert other.at["l3", "std_type"] == "NAYY 4x50 SE" and other.at["l3", "r_ohm_per_km"] == pytest.approx(0.642)


def test_buses_slack_and_loads():
    case = fig3_case()
    net = build_pandapower_net(case)
    assert (net.bus["vn_kv"] == 0.4).all() and len(net.bus) == len(case.network.nodes)
    assert len(net.ext_grid) == 1 and net.bus.at[net.ext_grid.at[0, "bus"], "name"] == "B"
    load = net.load.set_index("name")
    assert load.at["c1", "cos_phi"] == 0.95 and load.at["c4", "cos_phi"] == 0.95  # residential, commercial
    assert load.at["c2", "cos_phi"] == 1.0 and load.at["c5", "cos_phi"] == 1.0  # ev, pv
    assert net.bus.at[load.at["c1", "bus"], "name"] == "n5"
    changed = build_pandapower_net(with_powerflow(case, power_factor={"residential": 0.9}, slack_vm_pu=1.02))
    assert changed.load.set_index("name").at["c1", "cos_phi"] == 0.9
    assert changed.load.set_index("name").at["c4", "cos_phi"] == 1.0  # a type not listed: 1.0
    assert changed.ext_grid.at[0, "vm_pu"] == 1.02


def test_transformer_puts_the_slack_on_an_mv_bus():
    net = build_pandapower_net(fig3_case(), transformer="0.63 MVA 20/0.4 kV")
    assert len(net.trafo) == 1
    mv = net.ext_grid.at[0, "bus"]
    assert net.bus.at[mv, "vn_kv"] == 20.0 and net.bus.at[net.trafo.at[0, "lv_bus"], "name"] == "B"
