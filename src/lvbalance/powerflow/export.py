"""The pandapower net after a plan, for the planner to go on in pandapower (issue 11): ``net_after.json``.

The net is :func:`lvbalance.powerflow.net.build_pandapower_net` after the plan's moves (cut
lines out of service, new lines ``new:<cut node>`` sized for their customers' peak, as the
AC check builds it). Its loads hold one operating point: the scenario and step of the
highest total customer demand after the plan (EVs as scheduled), each load's reactive power
from its type's power factor (column ``cos_phi``). The power flow has been run, so
``res_bus`` / ``res_line`` hold that point's results; the net's ``name`` says which point
it is. The full time series are in ``profiles.csv`` and ``schedules.csv``.
``pandapower.from_json("net_after.json")`` loads it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandapower as pp

from lvbalance.case import Case
from lvbalance.powerflow.before_after import method_power
from lvbalance.powerflow.net import build_pandapower_net, move_peak_kw
from lvbalance.results import write_atomic

if TYPE_CHECKING:
    from lvbalance.model.run import MethodResult

log = logging.getLogger(__name__)

NET_AFTER = "net_after.json"


@dataclass(frozen=True)
class OperatingPoint:
    """Which scenario and step the exported loads hold, and the total demand then [kW]."""

    scenario: str
    step: int
    total_kw: float


def net_after_plan(case: Case, result: MethodResult) -> tuple[pp.pandapowerNet, OperatingPoint]:
    """The net after ``result``'s plan with the loads of its peak-demand step, power flow run
    (a warning and no results where it does not converge)."""
    power, customers, scenarios, _ = method_power(result, scheduled=True)
    moves = result.plan.moves
    net = build_pandapower_net(case, moves, peak_kw=move_peak_kw(moves, power, customers))
    total = power.sum(axis=0)  # (scenario, step) [kW]
    s, t = (int(i) for i in np.unravel_index(int(np.argmax(total)), total.shape))
    point = OperatingPoint(str(scenarios[s]), t, float(total[s, t]))
    row = {c: k for k, c in enumerate(customers)}
    p_mw = np.array([power[row[n], s, t] / 1000.0 if n in row else 0.0 for n in net.load["name"]])
    cos_phi = net.load["cos_phi"].to_numpy(float)
    net.load["p_mw"] = p_mw
    net.load["q_mvar"] = p_mw * np.sqrt(1.0 - cos_phi**2) / cos_phi
    net.name = (
        f"{case.name} after the {result.plan.method} plan; loads at the peak-demand step "
        f"(scenario {point.scenario}, step {point.step}, {point.total_kw:.1f} kW)"
    )
    try:
        pp.runpp(net, numba=False, calculate_voltage_angles=False)
    except pp.LoadflowNotConverged:
        log.warning("net_after: the power flow of the peak-demand step does not converge; the net is written without results")
    return net, point


def write_net_after(out_dir: str | Path, case: Case, result: MethodResult) -> Path:
    """Write ``net_after.json`` (pandapower JSON, atomically) into ``out_dir``."""
    net, _ = net_after_plan(case, result)
    path = Path(out_dir) / NET_AFTER
    write_atomic(path, lambda p: pp.to_json(net, str(p)))
    return path
