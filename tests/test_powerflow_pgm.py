"""power-grid-model batch against pandapower per step (:mod:`lvbalance.powerflow.pgm`) on the Fig 3 case.

pandapower is the reference. Its Newton-Raphson stops at a 1e-8 MVA (10 mW) bus mismatch, so
its flows carry errors of a few mW (it loses up to ~4 mW per step from the energy balance,
power-grid-model balances to 1e-10 kWh): flows and losses are compared at 1e-3 kW and 1e-4
relative, voltages at 1e-6 pu.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandapower as pp
import pytest

from lvbalance.case import Case
from lvbalance.powerflow import ac_check
from lvbalance.powerflow.net import build_pandapower_net
from lvbalance.powerflow.pgm import pgm_input, run_batch
from lvbalance.results import Move
from tests.fixtures import fig3_case, fig3_tail_move
from tests.test_powerflow_ac import hand_power, on

PLANS = {"as built": [], "tail moved": [fig3_tail_move()]}


@pytest.mark.parametrize("plan", list(PLANS))
def test_every_snapshot_agrees_with_pandapower(plan: str):
    case = fig3_case()
    moves: list[Move] = PLANS[plan]
    net = build_pandapower_net(case, moves)
    rng = np.random.default_rng(3)
    n_load, n_run = len(net.load), 12
    p_mw = rng.uniform(-0.01, 0.03, size=(n_load, n_run))  # pv feeding back to 30 kW loads
    q_mvar = 0.3 * p_mw
    batch = run_batch(net, p_mw, q_mvar)
    assert batch.converged.all()
    for k in range(n_run):
        net.load["p_mw"], net.load["q_mvar"] = p_mw[:, k], q_mvar[:, k]
        pp.runpp(net, numba=False, calculate_voltage_angles=False, tolerance_mva=1e-8)
        np.testing.assert_allclose(batch.u_pu[k], net.res_bus["vm_pu"], rtol=0, atol=1e-6)
        np.testing.assert_allclose(batch.p_from_mw[k] * 1e3, net.res_line["p_from_mw"] * 1e3, rtol=0, atol=1e-3)  # [kW]
        np.testing.assert_allclose(batch.loss_mw[k].sum(), net.res_line["pl_mw"].sum(), rtol=1e-4)
        np.testing.assert_allclose(batch.loading_pct[k], net.res_line["loading_percent"], rtol=0, atol=1e-4)
        assert batch.slack_mw[k] == pytest.approx(float(net.res_ext_grid["p_mw"].sum()), abs=1e-6)


@pytest.mark.slow
def test_a_sample_of_default_case_snapshots_agrees_with_pandapower():
    from lvbalance.data import load_default_case
    from lvbalance.profiles import build_profiles

    case = load_default_case()
    p_kw = build_profiles(case).scenarios.p_kw.transpose("customer", "scenario", "step")
    net = build_pandapower_net(case)
    rows = [list(map(str, p_kw["customer"].values)).index(str(n)) for n in net.load["name"]]
    cube = p_kw.to_numpy()[rows].reshape(len(rows), -1) / 1e3  # (load, scenario x step) [MW]
    sample = np.random.default_rng(5).choice(cube.shape[1], size=16, replace=False)
    cos_phi = net.load["cos_phi"].to_numpy()
    p_mw = cube[:, sample]
    q_mvar = p_mw * (np.sqrt(1 - cos_phi**2) / cos_phi)[:, None]
    batch = run_batch(net, p_mw, q_mvar)
    assert batch.converged.all()
    for k in range(len(sample)):
        net.load["p_mw"], net.load["q_mvar"] = p_mw[:, k], q_mvar[:, k]
        pp.runpp(net, numba=False, calculate_voltage_angles=False, tolerance_mva=1e-8)
        np.testing.assert_allclose(batch.u_pu[k], net.res_bus["vm_pu"], rtol=0, atol=1e-6)
        np.testing.assert_allclose(batch.p_from_mw[k] * 1e3, net.res_line["p_from_mw"] * 1e3, rtol=0, atol=1e-3)  # [kW]
        np.testing.assert_allclose(batch.loading_pct[k], net.res_line["loading_percent"], rtol=0, atol=1e-4)


@pytest.mark.parametrize("plan", list(PLANS))
def test_ac_check_reports_the_same_on_both_backends(plan: str):
    case = fig3_case()
    p, customers, scen = hand_power(case, scale=3.0, steps=8)
    res = {b: ac_check(on(case, b), PLANS[plan], p, customers, scen, step_hours=1.0) for b in ("power-grid-model", "pandapower")}
    new, ref = res["power-grid-model"], res["pandapower"]
    assert new.runs == ref.runs == 16
    assert (new.backend, ref.backend) == ("power-grid-model", "pandapower")
    assert new.new_line_types == ref.new_line_types
    for a, b in zip(new.scenarios, ref.scenarios):
        assert a.min_voltage_pu == pytest.approx(b.min_voltage_pu, abs=1e-6)
        assert a.max_voltage_pu == pytest.approx(b.max_voltage_pu, abs=1e-6)
        assert a.losses_kwh_per_day == pytest.approx(b.losses_kwh_per_day, rel=1e-4)
        assert a.supplied_kwh_per_day == pytest.approx(b.supplied_kwh_per_day, rel=1e-6)
        assert a.max_line_loading_pct == pytest.approx(b.max_line_loading_pct, abs=1e-4)
        assert a.max_flow_diff_kw == pytest.approx(b.max_flow_diff_kw, abs=1e-3)
        assert a.max_flow_diff_pct == pytest.approx(b.max_flow_diff_pct, abs=1e-3)
        strings = [
            f.name for f in dataclasses.fields(a) if isinstance(getattr(a, f.name), str | int) and not isinstance(getattr(a, f.name), bool)
        ]
        assert {n: getattr(a, n) for n in strings} == {n: getattr(b, n) for n in strings}  # nodes, lines, counts


def test_the_default_backend_is_power_grid_model():
    assert fig3_case().params.powerflow.backend == "power-grid-model"


def test_a_step_that_does_not_converge_is_counted_not_fatal():
    case = fig3_case()
    p, customers, scen = hand_power(case, steps=4)
    p[:, 1, 2] = 5000.0  # 5 MW per customer at 0.4 kV: no solution
    res = {b: ac_check(on(case, b), [], p, customers, scen, step_hours=1.0) for b in ("power-grid-model", "pandapower")}
    for r in res.values():
        assert [s.nonconverged_steps for s in r.scenarios] == [0, 1]
        assert r.summary()["nonconverged_runs"] == 1
    assert res["power-grid-model"].min_voltage_pu == pytest.approx(res["pandapower"].min_voltage_pu, abs=1e-6)


def test_a_transformer_is_not_converted_and_the_check_runs_pandapower():
    case: Case = fig3_case()
    with pytest.raises(NotImplementedError, match="transformer"):
        pgm_input(build_pandapower_net(case, transformer="0.63 MVA 20/0.4 kV"))
    p, customers, scen = hand_power(case)
    res = {
        b: ac_check(on(case, b), [], p, customers, scen, step_hours=1.0, transformer="0.63 MVA 20/0.4 kV")
        for b in ("power-grid-model", "pandapower")
    }
    assert res["power-grid-model"].to_json()["backend"] == "pandapower"
    assert res["power-grid-model"].to_json() | {"runtime_s": 0} == res["pandapower"].to_json() | {"runtime_s": 0}
