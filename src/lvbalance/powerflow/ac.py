"""AC power flow of a plan over every scenario and step, and its summaries (MODEL.md §8).

The MILP of MODEL.md §5 ignores losses, reactive power and voltage. :func:`ac_check` runs
an AC power flow (Newton-Raphson) for every scenario and step of a plan's powers on the net
of :func:`lvbalance.powerflow.net.build_pandapower_net` and reports what
the planner needs to trust it: minimum and maximum voltage [pu], losses [kWh per day],
maximum line loading [%] and how far the model's lossless line flows
(:func:`lvbalance.flows.line_flows`) are from the AC flows at the sending end of each line.
``params.powerflow.backend`` picks the solver: power-grid-model (one batch calculation over
all scenarios and steps, :mod:`lvbalance.powerflow.pgm`) or pandapower ``runpp`` per step
(the reference, and always with a ``transformer``).
:func:`lvbalance.powerflow.before_after.ac_before_after` does it for a planned method: the
network as built with uncontrolled EV charging, and the plan with its EV schedule.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandapower as pp

from lvbalance.case import Case
from lvbalance.flows import NEW_LINE_PREFIX, Topology, line_flows, rewire
from lvbalance.params import PowerFlowParams
from lvbalance.powerflow.net import build_pandapower_net, kw_to_ka, move_peak_kw
from lvbalance.powerflow.pgm import BatchResult, run_batch
from lvbalance.results import Move, Plan, finite

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class ScenarioAc:
    """AC figures of one scenario over its steps."""

    scenario: str
    min_voltage_pu: float
    min_voltage_node: str
    max_voltage_pu: float
    max_voltage_node: str
    losses_kwh_per_day: float
    """lines (+ transformer when modelled) over the horizon [kWh]"""
    supplied_kwh_per_day: float
    """energy drawn from the slack over the horizon, net of pv [kWh]"""
    max_line_loading_pct: float
    """pandapower ``res_line.loading_percent`` against ``max_i_ka`` [%]"""
    max_loading_line: str
    max_flow_diff_kw: float
    """max |AC sending-end P - lossless P| over lines and steps [kW]"""
    max_flow_diff_pct: float
    """max of that difference / |lossless P|, where |lossless P| >= ``flow_diff_min_share`` of the rating [%]"""
    max_flow_diff_line: str
    nonconverged_steps: int


@dataclass(frozen=True)
class AcCheckResult:
    """AC power flow of one plan and its powers, every scenario and step."""

    scenarios: list[ScenarioAc]
    probability: list[float]
    new_line_types: dict[str, str] = field(default_factory=dict)
    """new line -> cable type"""
    transformer: str | None = None
    runs: int = 0
    runtime_s: float = 0.0
    backend: str = "pandapower"
    """the solver that ran: "power-grid-model" (one batch) or "pandapower" (runpp per step)"""

    @property
    def min_voltage_pu(self) -> float:
        """Lowest LV bus voltage over scenarios and steps [pu]."""
        return min(s.min_voltage_pu for s in self.scenarios)

    @property
    def max_voltage_pu(self) -> float:
        """Highest LV bus voltage over scenarios and steps [pu]."""
        return max(s.max_voltage_pu for s in self.scenarios)

    @property
    def max_line_loading_pct(self) -> float:
        """Highest line loading over scenarios and steps [%]."""
        return max(s.max_line_loading_pct for s in self.scenarios)

    @property
    def max_flow_diff_kw(self) -> float:
        """Largest |AC - lossless| sending-end line flow [kW]."""
        return max(s.max_flow_diff_kw for s in self.scenarios)

    @property
    def max_flow_diff_pct(self) -> float:
        """Largest relative |AC - lossless| line flow [%]."""
        return max(s.max_flow_diff_pct for s in self.scenarios)

    @property
    def expected_losses_kwh_per_day(self) -> float:
        """Probability-weighted losses over the scenarios [kWh per day]."""
        return float(sum(p * s.losses_kwh_per_day for p, s in zip(self.probability, self.scenarios)))

    @property
    def expected_losses_pct(self) -> float:
        """Expected losses as a share of the expected energy drawn from the slack [%]."""
        supplied = sum(p * s.supplied_kwh_per_day for p, s in zip(self.probability, self.scenarios))
        return 100.0 * self.expected_losses_kwh_per_day / supplied if supplied > 0 else float("nan")

    def summary(self) -> dict[str, Any]:
        """The headline figures (one column of ``ac_check.csv``); NaN as None."""
        return finite(
            {
                "min_voltage_pu": self.min_voltage_pu,
                "max_voltage_pu": self.max_voltage_pu,
                "expected_losses_kwh_per_day": self.expected_losses_kwh_per_day,
                "expected_losses_pct": self.expected_losses_pct,
                "max_line_loading_pct": self.max_line_loading_pct,
                "max_flow_diff_kw": self.max_flow_diff_kw,
                "max_flow_diff_pct": self.max_flow_diff_pct,
                "nonconverged_runs": sum(s.nonconverged_steps for s in self.scenarios),
            }
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-safe dict for metrics.json: the summary, per-scenario figures, new cables."""
        return finite(
            {
                **self.summary(),
                "slack": "ext_grid on the LV busbar" if self.transformer is None else f"ext_grid behind {self.transformer}",
                "backend": self.backend,
                "runs": self.runs,
                "runtime_s": self.runtime_s,
                "new_line_types": dict(self.new_line_types),
                "per_scenario": [{"probability": p, **asdict(s)} for p, s in zip(self.probability, self.scenarios)],
            }
        )


@dataclass(frozen=True)
class _Steps:
    """Raw AC results of one scenario, one entry per step (NaN where it did not converge)."""

    vmin: np.ndarray  # [pu]
    vmin_bus: np.ndarray
    vmax: np.ndarray  # [pu]
    vmax_bus: np.ndarray
    loss_mw: np.ndarray
    slack_mw: np.ndarray
    loading_pct: np.ndarray  # (in-service line, step)
    p_send_kw: np.ndarray  # (in-service line, step)
    nonconverged: int


def ac_check(
    case: Case,
    plan: Plan | Sequence[Move],
    power_kw: np.ndarray,
    customers: Sequence[str],
    scenarios: Sequence[str],
    *,
    probability: Sequence[float] | np.ndarray | None = None,
    step_hours: float | None = None,
    transformer: str | None = None,
) -> AcCheckResult:
    """AC power flow of ``plan`` for every scenario and step of ``power_kw``.

    Settings from ``case.params.powerflow`` (``backend``: power-grid-model batch or pandapower
    per step; with a ``transformer`` always pandapower).

    Parameters
    ----------
    case : Case
        The network and its customers.
    plan : Plan or sequence of Move
        The moves (``[]``: the network as built).
    power_kw : ndarray
        (customer, scenario, step) power [kW] in the order of ``customers`` (pv negative;
        ev customers as scheduled or uncontrolled), as :func:`method_power` gives it.
    customers : sequence of str
        Customer ids of the first axis; customers of the case not listed draw nothing.
    scenarios : sequence of str
        Labels of the scenario axis.
    probability : sequence of float or ndarray, optional
        Scenario weights [-] (default: equal).
    step_hours : float, optional
        Step length [h] (default: the case's profile step).
    transformer : str, optional
        pandapower trafo std type between an MV slack and the busbar (default: slack on the busbar).

    Returns
    -------
    AcCheckResult
    """
    t0 = time.perf_counter()
    params = case.params.powerflow
    moves = list(plan.moves if isinstance(plan, Plan) else plan)
    customers = [str(c) for c in customers]
    power_kw = np.asarray(power_kw, dtype=float)
    if power_kw.ndim != 3 or power_kw.shape[:2] != (len(customers), len(scenarios)):
        raise ValueError(f"power_kw must be (customer, scenario, step) = ({len(customers)}, {len(scenarios)}, T), got {power_kw.shape}")
    S, T = power_kw.shape[1:]
    dt = step_hours if step_hours is not None else case.params.profiles.step_minutes / 60.0
    beta = list(probability) if probability is not None else [1.0 / S] * S

    topo: Topology = rewire(case, moves)
    lossless = line_flows(case, topo, power_kw, customers)
    net = build_pandapower_net(case, moves, peak_kw=move_peak_kw(moves, power_kw, customers), transformer=transformer)
    P, Q = _load_mw(net, power_kw, customers)

    line_names = net.line["name"].to_numpy()
    on_idx = np.flatnonzero(net.line["in_service"].to_numpy())
    lossless_on = np.stack([lossless.get(str(line_names[i]), np.zeros((S, T))) for i in on_idx])  # (line, S, T) [kW]
    rating_on = np.asarray(kw_to_ka(1.0, v_kv=params.lv_kv)) ** -1 * net.line["max_i_ka"].to_numpy()[on_idx]  # [kW] at cos phi 1
    bus_names = net.bus["name"].to_numpy()

    backend = "power-grid-model" if params.backend == "power-grid-model" and transformer is None else "pandapower"
    if backend == "power-grid-model":  # one batch over all scenarios and steps
        batch = run_batch(net, P, Q, max_iterations=params.max_iteration)
        lv = net.bus["vn_kv"].to_numpy() == params.lv_kv
        per_scenario = [_batch_steps(batch, slice(s * T, (s + 1) * T), on_idx, lv) for s in range(S)]
    else:  # pandapower, one Newton-Raphson per step; always with a transformer (not converted to power-grid-model)
        per_scenario = []
        first = True  # the net holds no results yet: flat start, check connectivity
        for s in range(S):
            steps, first = _run_scenario(net, P[:, s], Q[:, s], on_idx, params, first=first)
            per_scenario.append(steps)
    out = [
        _scenario_summary(str(scenarios[s]), steps, lossless_on[:, s, :], rating_on, line_names[on_idx], bus_names, dt, params)
        for s, steps in enumerate(per_scenario)
    ]
    runs = S * T
    new_types = {str(n): str(t) for n, t in zip(net.line["name"], net.line["std_type"]) if str(n).startswith(NEW_LINE_PREFIX)}
    return AcCheckResult(out, [float(b) for b in beta], new_types, transformer, runs, time.perf_counter() - t0, backend)


def _load_mw(net: pp.pandapowerNet, power_kw: np.ndarray, customers: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Active [MW] and reactive [Mvar] power of each load of ``net`` (load, scenario, step)."""
    S, T = power_kw.shape[1:]
    col = {c: k for k, c in enumerate(customers)}
    P = np.zeros((len(net.load), S, T))
    for i, name in enumerate(net.load["name"]):
        if name in col:
            P[i] = power_kw[col[name]] / 1000.0
    cos_phi = net.load["cos_phi"].to_numpy()
    Q = P * (np.sqrt(1.0 - cos_phi**2) / cos_phi)[:, None, None]
    return P, Q


def _batch_steps(batch: BatchResult, rows: slice, on_idx: np.ndarray, lv: np.ndarray) -> _Steps:
    """The steps of one scenario (``rows`` of the batch) as :func:`_run_scenario` gives them."""
    ok = batch.converged[rows]
    vm = np.where(lv[None, :], batch.u_pu[rows], np.nan)  # (step, bus); NaN rows did not converge
    vmin_bus = np.argmin(np.where(np.isnan(vm), np.inf, vm), axis=1)
    vmax_bus = np.argmax(np.where(np.isnan(vm), -np.inf, vm), axis=1)
    t = np.arange(len(ok))
    return _Steps(
        vmin=vm[t, vmin_bus],
        vmin_bus=vmin_bus.astype(int),
        vmax=vm[t, vmax_bus],
        vmax_bus=vmax_bus.astype(int),
        loss_mw=batch.loss_mw[rows].sum(axis=1),
        slack_mw=batch.slack_mw[rows],
        loading_pct=batch.loading_pct[rows][:, on_idx].T,
        p_send_kw=batch.p_from_mw[rows][:, on_idx].T * 1000.0,
        nonconverged=int((~ok).sum()),
    )


def _run_scenario(
    net: pp.pandapowerNet, p_mw: np.ndarray, q_mvar: np.ndarray, on_idx: np.ndarray, params: PowerFlowParams, *, first: bool
) -> tuple[_Steps, bool]:
    """One power flow per step of one scenario; ``p_mw``, ``q_mvar``: (load, step).

    Each run starts from the previous results unless ``first`` or the previous run failed.
    Returns the step results and ``first`` for the next run.
    """
    T = p_mw.shape[1]
    lv = net.bus["vn_kv"].to_numpy() == params.lv_kv
    recycle = {"trafo": False, "gen": False, "bus_pq": True}  # only the loads change between steps
    vmin, vmax = np.full(T, np.nan), np.full(T, np.nan)
    vmin_bus, vmax_bus = np.zeros(T, dtype=int), np.zeros(T, dtype=int)
    loss_mw, slack_mw = np.full(T, np.nan), np.full(T, np.nan)
    loading = np.full((len(on_idx), T), np.nan)
    p_send = np.full((len(on_idx), T), np.nan)
    bad = 0
    for t in range(T):
        net.load["p_mw"] = p_mw[:, t]
        net.load["q_mvar"] = q_mvar[:, t]
        try:
            pp.runpp(
                net,
                numba=False,
                init="auto" if first else "results",
                check_connectivity=first,
                calculate_voltage_angles=False,
                recycle=None if first else recycle,  # a failed run leaves a recycled state that fails the next step
                tolerance_mva=params.tolerance_mva,
                max_iteration=params.max_iteration,
            )
        except pp.LoadflowNotConverged:
            bad += 1
            first = True
            continue
        first = False
        vm_lv = np.where(lv, net.res_bus["vm_pu"].to_numpy(), np.nan)
        vmin_bus[t], vmax_bus[t] = int(np.nanargmin(vm_lv)), int(np.nanargmax(vm_lv))
        vmin[t], vmax[t] = vm_lv[vmin_bus[t]], vm_lv[vmax_bus[t]]
        loss_mw[t] = float(net.res_line["pl_mw"].sum()) + (float(net.res_trafo["pl_mw"].sum()) if len(net.trafo) else 0.0)
        slack_mw[t] = float(net.res_ext_grid["p_mw"].sum())
        loading[:, t] = net.res_line["loading_percent"].to_numpy()[on_idx]
        p_send[:, t] = net.res_line["p_from_mw"].to_numpy()[on_idx] * 1000.0
    return _Steps(vmin, vmin_bus, vmax, vmax_bus, loss_mw, slack_mw, loading, p_send, bad), first


def _nanmax_arg(a: np.ndarray) -> tuple[float, tuple[int, ...]]:
    if np.all(np.isnan(a)):
        return float("nan"), (0,) * a.ndim
    idx = np.unravel_index(int(np.nanargmax(a)), a.shape)
    return float(a[idx]), tuple(int(i) for i in idx)


def _scenario_summary(
    scenario: str,
    steps: _Steps,
    p_lossless: np.ndarray,
    rating_kw: np.ndarray,
    line_names: np.ndarray,
    bus_names: np.ndarray,
    dt: float,
    params: PowerFlowParams,
) -> ScenarioAc:
    """Extremes over the steps of one scenario; ``p_lossless``: (in-service line, step) [kW], ``dt`` [h]."""
    v_lo, (t_lo,) = _nanmax_arg(-steps.vmin)
    v_hi, (t_hi,) = _nanmax_arg(steps.vmax)
    load_max, (l_load, _) = _nanmax_arg(steps.loading_pct)
    diff = np.abs(steps.p_send_kw - p_lossless)
    d_max, (l_diff, _) = _nanmax_arg(diff)
    big = np.abs(p_lossless) >= params.flow_diff_min_share * rating_kw[:, None]
    rel = np.where(big, diff / np.where(big, np.abs(p_lossless), 1.0), np.nan)
    rel_max, _ = _nanmax_arg(rel) if big.any() else (0.0, (0, 0))
    return ScenarioAc(
        scenario=scenario,
        min_voltage_pu=-v_lo,
        min_voltage_node=str(bus_names[steps.vmin_bus[t_lo]]),
        max_voltage_pu=v_hi,
        max_voltage_node=str(bus_names[steps.vmax_bus[t_hi]]),
        losses_kwh_per_day=float(np.nansum(steps.loss_mw) * 1000.0 * dt),
        supplied_kwh_per_day=float(np.nansum(steps.slack_mw) * 1000.0 * dt),
        max_line_loading_pct=load_max,
        max_loading_line=str(line_names[l_load]),
        max_flow_diff_kw=d_max,
        max_flow_diff_pct=100.0 * rel_max,
        max_flow_diff_line=str(line_names[l_diff]),
        nonconverged_steps=int(steps.nonconverged),
    )


# --------------------------------------------------------------------------- before / after
