"""AC check over scenarios and steps (:mod:`lvbalance.powerflow.ac`) on the hand-built Fig 3 case.

Fig 3: feeder F1 = B-n1-n2-n3-n4-n5 (+ n6), five 50 m lines to n5; feeder F2 = B-m1-m2;
every line NAYY 4x150 SE (0.208 + j0.08 ohm/km) rated 150 kW. The move used here carries
the tail n5 (c1, c2) onto m2 of F2 along a 220 m route. The hand-computed checks run on
both backends (power-grid-model batch and pandapower per step).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from lvbalance.case import Case
from lvbalance.flows import line_flows, rewire
from lvbalance.model.methods import METHODS
from lvbalance.model.run import plan_method
from lvbalance.powerflow import ac_before_after, ac_check, method_power
from tests.fixtures import SCENARIO_IDS, coarse, fig3_case, fig3_tail_move, hand_scenarios

BASE_KW = {"residential": 2.0, "commercial": 8.0, "pv": -3.0, "ev": 5.0}
R_150 = 0.208  # NAYY 4x150 SE [ohm/km]


@pytest.fixture(params=["power-grid-model", "pandapower"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each AC backend of ``params.powerflow.backend``."""
    return str(request.param)


def on(case: Case, backend: str) -> Case:
    """``case`` with the AC check on ``backend``."""
    return case.with_params(case.params.updated(powerflow={"backend": backend}))


def hand_power(case: Case, *, scale: float = 1.0, steps: int = 4) -> tuple[np.ndarray, list[str], list[str]]:
    """(customer, scenario, step) power [kW]: type base times a step factor, 2 scenarios."""
    customers = list(case.customers.index)
    factor = np.array([[0.5, 1.0, 1.5, 1.0][t % 4] for t in range(steps)])
    p = np.zeros((len(customers), 2, steps))
    for k, c in enumerate(customers):
        p[k, 0] = scale * BASE_KW[case.customers.at[c, "type"]] * factor
        p[k, 1] = 0.8 * p[k, 0]
    return p, customers, ["s1", "s2"]


def one_load(case: Case, customer: str, p_kw: float) -> tuple[np.ndarray, list[str], list[str]]:
    """``p_kw`` [kW] at ``customer`` alone, one scenario of one step."""
    customers = list(case.customers.index)
    p = np.zeros((len(customers), 1, 1))
    p[customers.index(customer)] = p_kw
    return p, customers, ["s"]


def test_voltage_drop_and_losses_of_one_load_match_hand_computation(backend: str):
    # 10 kW at cos phi 1 (ev c2) at n5, 250 m of NAYY 4x150 from the busbar: R = 0.052 ohm
    case = on(fig3_case(), backend)
    p, customers, scen = one_load(case, "c2", 10.0)
    res = ac_check(case, [], p, customers, scen, step_hours=1.0)
    r_ohm = R_150 * 0.250
    dv_pu = 10e3 * r_ohm / 400.0 / 400.0  # dV = P R / V = 1.3 V = 0.00325 pu
    loss_kw = (10e3**2 * r_ohm / 400.0**2) / 1e3  # P^2 R / V^2 = 32.5 W
    s = res.scenarios[0]
    assert res.runs == 1 and s.nonconverged_steps == 0
    assert 1.0 - s.min_voltage_pu == pytest.approx(dv_pu, rel=0.02)
    assert s.min_voltage_node == "n5"
    assert s.max_voltage_pu == pytest.approx(1.0, abs=1e-6)  # the slack (+ a trace of cable capacitance)
    assert s.losses_kwh_per_day == pytest.approx(loss_kw, rel=0.02)  # one step of 1 h
    assert s.supplied_kwh_per_day == pytest.approx(10.0 + s.losses_kwh_per_day, rel=1e-6)
    # the AC flow into l1 exceeds the lossless 10 kW by all the losses behind it
    assert s.max_flow_diff_kw == pytest.approx(loss_kw, rel=0.02) and s.max_flow_diff_line == "l1"
    assert s.max_flow_diff_pct == pytest.approx(100 * loss_kw / 10.0, rel=0.02)
    # 10 kW / (sqrt 3 * 0.4 kV) = 14.43 A of the 216.5 A that 150 kW give: 6.67 %
    assert s.max_line_loading_pct == pytest.approx(100 * 10.0 / 150.0, rel=0.01)


def test_reactive_power_from_the_power_factor_adds_its_drop(backend: str):
    # the same 10 kW at residential c1 (cos phi 0.95): Q = 3.29 kvar, dV = (P R + Q X) / V
    case = on(fig3_case(), backend)
    p, customers, scen = one_load(case, "c1", 10.0)
    res = ac_check(case, [], p, customers, scen, step_hours=1.0)
    q_kvar = 10.0 * math.tan(math.acos(0.95))
    dv_pu = (10e3 * R_150 * 0.25 + q_kvar * 1e3 * 0.08 * 0.25) / 400.0**2
    assert 1.0 - res.min_voltage_pu == pytest.approx(dv_pu, rel=0.02)
    # cos phi 1 by the params: back to P R / V
    unity = case.with_params(case.params.updated(powerflow={"power_factor": {"residential": 1.0}}))
    res1 = ac_check(unity, [], p, customers, scen, step_hours=1.0)
    assert 1.0 - res1.min_voltage_pu == pytest.approx(10e3 * R_150 * 0.25 / 400.0**2, rel=0.02)


def test_energy_balance_over_scenarios_and_steps(backend: str):
    case = on(fig3_case(), backend)
    p, customers, scen = hand_power(case)
    res = ac_check(case, [], p, customers, scen, probability=[0.7, 0.3], step_hours=1.0)
    assert res.runs == 8
    for s in res.scenarios:
        load_kwh = p[:, scen.index(s.scenario)].sum()  # 1 h steps
        assert s.nonconverged_steps == 0
        assert 0.0 < s.losses_kwh_per_day < 0.02 * load_kwh
        assert s.supplied_kwh_per_day == pytest.approx(load_kwh + s.losses_kwh_per_day, rel=1e-6)
    # scenario 2 is scenario 1 at 0.8: losses at 0.64
    s1, s2 = res.scenarios
    assert s2.losses_kwh_per_day == pytest.approx(0.64 * s1.losses_kwh_per_day, rel=0.01)
    assert res.expected_losses_kwh_per_day == pytest.approx(0.7 * s1.losses_kwh_per_day + 0.3 * s2.losses_kwh_per_day)
    supplied = 0.7 * s1.supplied_kwh_per_day + 0.3 * s2.supplied_kwh_per_day
    assert res.expected_losses_pct == pytest.approx(100 * res.expected_losses_kwh_per_day / supplied)
    out = json.loads(json.dumps(res.to_json()))
    assert out["runs"] == 8 and out["slack"] == "ext_grid on the LV busbar"
    assert [r["probability"] for r in out["per_scenario"]] == [0.7, 0.3]


def test_losses_grow_with_the_square_of_the_load(backend: str):
    case = on(fig3_case(), backend)
    p, customers, scen = hand_power(case)
    res = ac_check(case, [], p, customers, scen, step_hours=1.0)
    assert res.max_flow_diff_pct < 5.0
    assert 0.0 < res.max_flow_diff_kw < 0.05 * np.abs(p).sum(axis=0).max()
    heavy = ac_check(case, [], 8 * p, customers, scen, step_hours=1.0)
    assert heavy.max_flow_diff_kw > res.max_flow_diff_kw
    # 8 times the load: 64 times the losses, a little more as the voltage sags
    assert 64.0 < heavy.expected_losses_kwh_per_day / res.expected_losses_kwh_per_day < 1.1 * 64.0
    # with the move, the new line is sized for the heavier peak: (2 + 5) kW * 1.5 * 8 = 84 kW -> 160 A
    moved = ac_check(case, [fig3_tail_move()], 8 * p, customers, scen, step_hours=1.0)
    assert moved.new_line_types == {"new:n5": "NAYY 4x95 SE"}


def test_new_line_type_follows_the_moved_peak_and_the_params(backend: str):
    case = on(fig3_case(), backend)
    p, customers, scen = hand_power(case)
    res = ac_check(case, [fig3_tail_move()], p, customers, scen, step_hours=1.0)
    # c1 + c2 peak: (2 + 5) kW * 1.5 = 10.5 kW -> 20 A with the margin: the smallest type
    assert res.new_line_types == {"new:n5": "NAYY 4x50 SE"}
    only_240 = case.with_params(case.params.updated(powerflow={"new_line_types": ["NAYY 4x240 SE"]}))
    res240 = ac_check(only_240, [fig3_tail_move()], p, customers, scen, step_hours=1.0)
    assert res240.new_line_types == {"new:n5": "NAYY 4x240 SE"}
    assert res240.expected_losses_kwh_per_day < res.expected_losses_kwh_per_day  # 0.125 instead of 0.642 ohm/km


def test_flow_diff_threshold_follows_the_params(backend: str):
    case = on(fig3_case(), backend)
    p, customers, scen = hand_power(case)
    res = ac_check(case, [], p, customers, scen, step_hours=1.0)
    assert res.max_flow_diff_pct > 0.0
    never = case.with_params(case.params.updated(powerflow={"flow_diff_min_share": 10.0}))
    assert ac_check(never, [], p, customers, scen, step_hours=1.0).max_flow_diff_pct == 0.0  # no line that loaded


def test_whole_day_check_agrees_with_the_lossless_flows_of_the_rewired_network(backend: str):
    case = on(fig3_case(), backend)
    p, customers, scen = hand_power(case)
    flows = line_flows(case, rewire(case, [fig3_tail_move()]), p, customers)
    assert "l5" not in flows and "new:n5" in flows
    res = ac_check(case, [fig3_tail_move()], p, customers, scen, step_hours=1.0)
    assert res.max_flow_diff_pct < 5.0
    assert all(s.max_flow_diff_line != "l5" for s in res.scenarios)  # out of service: not compared


def test_power_of_the_wrong_shape_is_an_error():
    case = fig3_case()
    p, customers, scen = hand_power(case)
    with pytest.raises(ValueError, match="customer, scenario, step"):
        ac_check(case, [], p[:, 0], customers, scen)


def test_transformer_adds_its_iron_losses():
    case = fig3_case()
    p, customers, scen = hand_power(case)
    lv = ac_check(case, [], p, customers, scen, step_hours=1.0)
    tr = ac_check(case, [], p, customers, scen, step_hours=1.0, transformer="0.63 MVA 20/0.4 kV")
    pfe_kw = float(pp.load_std_type(pp.create_empty_network(), "0.63 MVA 20/0.4 kV", "trafo")["pfe_kw"])  # 1.65 kW
    for a, b in zip(lv.scenarios, tr.scenarios):
        # 4 steps of 1 h: iron losses; copper losses at ~30 kW of 630 kVA are ~0.01 kW
        assert b.losses_kwh_per_day - a.losses_kwh_per_day == pytest.approx(4 * pfe_kw, rel=0.02)
    assert tr.min_voltage_pu < lv.min_voltage_pu
    assert tr.to_json()["slack"] == "ext_grid behind 0.63 MVA 20/0.4 kV"


def test_before_after_of_a_planned_method_uses_the_schedule_in_model_order():
    case = coarse(fig3_case())
    scen = hand_scenarios(case)
    res = plan_method(case, scen, METHODS["m1"])
    power, customers, scen_ids, beta = method_power(res, scheduled=True)
    assert scen_ids == SCENARIO_IDS  # the model's order, not alphabetical
    assert beta.tolist() == pytest.approx([0.7, 0.3])
    sched = res.schedules.table.astype({"scenario": str})
    for k, s in enumerate(scen_ids):
        x = sched[(sched["scenario"] == s) & (sched["customer_id"] == "c2")].sort_values("step")["p_scheduled_kw"]
        np.testing.assert_allclose(power[customers.index("c2"), k], x.to_numpy())
    uncontrolled, *_ = method_power(res, scheduled=False)
    ev = customers.index("c2")
    np.testing.assert_allclose(uncontrolled[ev], scen.p_kw.sel(customer="c2", scenario=scen_ids).transpose("scenario", "step"))
    others = [k for k in range(len(customers)) if k != ev]
    np.testing.assert_allclose(uncontrolled[others], power[others])  # only the ev differs
    out = ac_before_after(case, res, res)
    assert set(out) == {"before", "after", "baseline", "table"}
    assert isinstance(out["table"], pd.DataFrame)
    assert list(out["table"].columns) == ["before", "after", "baseline"]
    assert out["table"].at["min_voltage_pu", "after"] == out["after"].min_voltage_pu
    assert out["before"].new_line_types == {}
    assert set(out["after"].new_line_types) == {"new:" + mv.cut_node for mv in res.plan.moves}
    assert out["baseline"].to_json() | {"runtime_s": 0} == out["after"].to_json() | {"runtime_s": 0}
    for r in (out["before"], out["after"]):
        assert r.max_flow_diff_pct < 5.0
        assert all(s.nonconverged_steps == 0 for s in r.scenarios)
    # "before" does not depend on the method: another method's, reused, equals its own
    other = plan_method(case, scen, METHODS["m2"])
    own = ac_before_after(case, other)["before"].to_json() | {"runtime_s": 0}
    assert own == out["before"].to_json() | {"runtime_s": 0}
    reused = ac_before_after(case, other, before=out["before"])
    assert reused["before"] is out["before"]
    assert reused["after"].to_json() != reused["before"].to_json() or not other.plan.moves
