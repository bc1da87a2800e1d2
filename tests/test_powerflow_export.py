"""``powerflow.export``: ``net_after.json`` loads with ``pandapower.from_json`` and its power flow converges.

The plan: :func:`tests.fixtures.moved_ev_result` (m1 on the Fig 3 case moves the tail n5
with c1, c2 (ev) onto m2 of F2): line l5 (above the cut node n5) is out of service and the
new line ``new:n5`` runs from m2 to n5.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandapower as pp
import pytest

from lvbalance.powerflow.before_after import method_power
from lvbalance.powerflow.export import NET_AFTER, net_after_plan, write_net_after
from tests.fixtures import moved_ev_result


@pytest.fixture(scope="module")
def moved_ev():
    return moved_ev_result()


def test_net_after_loads_and_its_power_flow_converges(moved_ev, tmp_path: Path) -> None:
    case, _, res = moved_ev
    (mv,) = res.plan.moves
    assert mv.end_node == "n5" and mv.to_node == "m2" and {"c1", "c2"} <= set(mv.customers)
    path = write_net_after(tmp_path, case, res)
    assert path == tmp_path / NET_AFTER
    net = pp.from_json(str(path))
    lines = net.line.reset_index().set_index("name")
    new = f"new:{mv.cut_node}"
    assert not lines.at[str(case.network.parent.at[mv.cut_node, "line_id"]), "in_service"] and lines.at[new, "in_service"]
    assert net.bus.at[lines.at[new, "from_bus"], "name"] == "m2" and net.bus.at[lines.at[new, "to_bus"], "name"] == mv.cut_node
    pp.runpp(net, numba=False)
    assert net.converged
    # the moved tail is fed through the new line: it carries the tail's load and its losses
    moved_mw = net.load.set_index("name").loc[mv.customers, "p_mw"].sum()
    assert net.res_line.at[lines.at[new, "index"], "p_from_mw"] == pytest.approx(moved_mw, rel=0.05)
    assert net.res_bus["vm_pu"].between(0.9, 1.0 + 1e-9).all()


def test_loads_are_the_peak_demand_step(moved_ev) -> None:
    case, _, res = moved_ev
    net, point = net_after_plan(case, res)
    power, customers, scenarios, _ = method_power(res, scheduled=True)
    total = power.sum(axis=0)
    assert point.total_kw == pytest.approx(total.max()) and total[scenarios.index(point.scenario), point.step] == total.max()
    assert net.load["p_mw"].sum() * 1000 == pytest.approx(point.total_kw)
    cos_phi = net.load["cos_phi"].to_numpy()
    np.testing.assert_allclose(net.load["q_mvar"], net.load["p_mw"] * np.tan(np.arccos(cos_phi)), atol=1e-12)
    assert f"step {point.step}" in net.name and net.converged
