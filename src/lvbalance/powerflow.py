"""AC power-flow check of a plan with pandapower (MODEL.md §8).

The MILP of MODEL.md §5 ignores losses, reactive power and voltage. This module runs an AC
power flow for every scenario and step of a plan's powers and reports what the planner
needs to trust it: minimum and maximum voltage [pu], losses [kWh per day], maximum line
loading [%] and how far the model's lossless line flows (:func:`lvbalance.evaluate.flows_after`)
are from the AC flows at the sending end of each line.

Network model (:func:`build_pandapower_net`):

* one 0.4 kV bus per case node; the slack is an ``ext_grid`` at 1.0 pu on the LV busbar
  (the transformer is not modelled), unless ``transformer`` names a pandapower 20/0.4 kV
  (or 10/0.4 kV) std type: then the slack sits on an MV bus behind that transformer;
* every case line with its length; impedance from its ``std_type`` when pandapower knows it,
  else from ``r_ohm_per_km`` / ``x_ohm_per_km``, else NAYY 4x150 SE values; ``max_i_ka``
  from ``rated_kw`` at 0.4 kV and cos phi = 1 (the convention of the case's ratings);
* the moves as in :func:`lvbalance.evaluate.rewire`: the line above each cut node out of
  service, a new line ``new:<cut node>`` from the target node to the cut node of the move's
  ``route_length_m``, the smallest of :data:`NEW_LINE_TYPES` whose ampacity covers the
  moved customers' peak power with a margin;
* one load per customer at its access node (pv negative); reactive power from a power
  factor per customer type (:data:`DEFAULT_POWER_FACTOR`: 0.95 inductive for loads, 1.0 for
  pv and ev).

In-service lines run from the node nearer the busbar to the node farther from it, so
``res_line.p_from_mw`` is the power entering each line at its sending end.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandapower as pp
import pandas as pd

from lvbalance.case import Case
from lvbalance.evaluate import NEW_LINE_PREFIX, Topology, flows_after, rewire
from lvbalance.model.data import EV, SCENARIO, STEP
from lvbalance.results import Move, Plan, _finite

LV_KV = 0.4
DEFAULT_STD_TYPE = "NAYY 4x150 SE"
#: Cable types a new line may get, smallest first.
NEW_LINE_TYPES = ("NAYY 4x50 SE", "NAYY 4x95 SE", "NAYY 4x150 SE", "NAYY 4x240 SE")
#: Types pandapower 3 does not ship (data-sheet values of NAYY 0.6/1 kV, 4 cores, in ground).
EXTRA_STD_TYPES: dict[str, dict[str, float | str]] = {
    "NAYY 4x95 SE": {"r_ohm_per_km": 0.320, "x_ohm_per_km": 0.082, "c_nf_per_km": 250.0, "max_i_ka": 0.215, "type": "cs", "q_mm2": 95},
    "NAYY 4x240 SE": {"r_ohm_per_km": 0.125, "x_ohm_per_km": 0.080, "c_nf_per_km": 280.0, "max_i_ka": 0.364, "type": "cs", "q_mm2": 240},
}
#: cos phi per customer type (inductive where below 1).
DEFAULT_POWER_FACTOR: dict[str, float] = {"residential": 0.95, "commercial": 0.95, "pv": 1.0, "ev": 1.0}
#: Ampacity margin when sizing a new line for its peak power.
DEFAULT_SIZING_MARGIN = 1.25


def kw_to_ka(p_kw: float | np.ndarray, cos_phi: float = 1.0) -> float | np.ndarray:
    """Current [kA] of a three-phase power [kW] at 0.4 kV."""
    return np.asarray(p_kw) / (math.sqrt(3) * LV_KV * cos_phi) / 1000.0


def _line_types(net: pp.pandapowerNet) -> pd.DataFrame:
    return pp.available_std_types(net, "line")


def _register_extra_types(net: pp.pandapowerNet) -> None:
    known = set(_line_types(net).index)
    for name, data in EXTRA_STD_TYPES.items():
        if name not in known:
            pp.create_std_type(net, dict(data), name, element="line")


def size_new_line(peak_kw: float, *, margin: float = DEFAULT_SIZING_MARGIN, cos_phi: float = 0.95,
                  net: pp.pandapowerNet | None = None) -> str:
    """Smallest of :data:`NEW_LINE_TYPES` whose ampacity covers ``margin * peak_kw`` at ``cos_phi``.

    A peak beyond the largest type gets the largest type (its loading then shows > 100 %).
    """
    if net is None:
        net = pp.create_empty_network()
        _register_extra_types(net)
    types = _line_types(net)
    need_ka = float(kw_to_ka(abs(peak_kw) * margin, cos_phi))
    for name in NEW_LINE_TYPES:
        if float(types.at[name, "max_i_ka"]) >= need_ka:
            return name
    return NEW_LINE_TYPES[-1]


def move_peak_kw(case: Case, moves: Sequence[Move], power_kw: np.ndarray, customers: Sequence[str]) -> dict[str, float]:
    """Peak |power| [kW] of each move's moved customers together (key: cut node), over all other axes."""
    row = {c: k for k, c in enumerate(customers)}
    out = {}
    for mv in moves:
        rows = [row[c] for c in mv.customers if c in row]
        total = power_kw[rows].sum(axis=0) if rows else np.zeros(1)
        out[mv.cut_node] = float(np.abs(total).max())
    return out


def build_pandapower_net(
    case: Case,
    moves: Sequence[Move] | Plan = (),
    *,
    peak_kw: Mapping[str, float] | None = None,
    power_factor: Mapping[str, float] | None = None,
    sizing_margin: float = DEFAULT_SIZING_MARGIN,
    transformer: str | None = None,
) -> pp.pandapowerNet:
    """The case's LV network after ``moves`` as a pandapower net, loads at 0 MW.

    Buses are named by node id, lines by line id (new lines ``new:<cut node>``, as in
    :func:`lvbalance.evaluate.flows_after`), loads by customer id. ``peak_kw``: peak power
    of each move's customers [kW] by cut node, to size its new line (default: the new line
    gets the type and rating of the line it replaces). Column ``cos_phi`` of ``net.load``
    holds each customer's power factor. ``transformer``: a pandapower trafo std type
    (e.g. ``"0.63 MVA 20/0.4 kV"``); default None = slack on the LV busbar.
    """
    moves = list(moves.moves if isinstance(moves, Plan) else moves)
    topo = rewire(case, moves)
    net_c = case.network
    net = pp.create_empty_network(name=case.name)
    _register_extra_types(net)
    types = _line_types(net)

    nodes = list(net_c.nodes.index)
    bus_ids = pp.create_buses(net, len(nodes), vn_kv=LV_KV, name=nodes, type="b")
    bus = dict(zip(nodes, (int(b) for b in bus_ids)))
    busbar = net_c.busbar
    if transformer is None:
        pp.create_ext_grid(net, bus[busbar], vm_pu=1.0, name="slack")
    else:
        hv_kv = float(pp.load_std_type(net, transformer, "trafo")["vn_hv_kv"])
        mv_bus = pp.create_bus(net, vn_kv=hv_kv, name="MV", type="b")
        pp.create_ext_grid(net, mv_bus, vm_pu=1.0, name="slack")
        pp.create_transformer(net, mv_bus, bus[busbar], std_type=transformer, name="transformer")

    # existing lines: impedance from std type, else case columns, else the default type
    lines = net_c.lines
    cut_lines = set(_cut_lines(case, moves))
    rows = []
    for line_id, r in lines.iterrows():
        a, b = str(r["from_node"]), str(r["to_node"])
        if topo.parent.get(a) == b:  # oriented child -> parent in the case: flip
            a, b = b, a
        std = str(r["std_type"]) if isinstance(r["std_type"], str) and r["std_type"] else ""
        if std in types.index:
            t = types.loc[std]
            rx = (float(t["r_ohm_per_km"]), float(t["x_ohm_per_km"]), float(t["c_nf_per_km"]))
        elif pd.notna(r["r_ohm_per_km"]) and pd.notna(r["x_ohm_per_km"]):
            rx = (float(r["r_ohm_per_km"]), float(r["x_ohm_per_km"]), 0.0)
            std = ""  # not a pandapower type: impedance from the case columns
        else:
            t = types.loc[DEFAULT_STD_TYPE]
            rx = (float(t["r_ohm_per_km"]), float(t["x_ohm_per_km"]), float(t["c_nf_per_km"]))
            std = DEFAULT_STD_TYPE
        rows.append((str(line_id), bus[a], bus[b], float(r["length_m"]) / 1000.0, *rx,
                     float(kw_to_ka(float(r["rated_kw"]))), std, str(line_id) not in cut_lines))
    # new lines: target node -> cut node, sized for the moved customers' peak
    for mv in moves:
        replaced = lines.loc[net_c.parent.at[mv.cut_node, "line_id"]]
        if peak_kw is not None and mv.cut_node in peak_kw:
            std = size_new_line(peak_kw[mv.cut_node], margin=sizing_margin, net=net)
            max_ka = float(types.at[std, "max_i_ka"])
        else:
            std = str(replaced["std_type"]) if replaced["std_type"] in types.index else DEFAULT_STD_TYPE
            max_ka = float(kw_to_ka(float(replaced["rated_kw"])))
        t = types.loc[std]
        length_km = max(float(mv.route_length_m), 1.0) / 1000.0  # a zero-length route still needs an impedance
        rows.append((NEW_LINE_PREFIX + mv.cut_node, bus[mv.to_node], bus[mv.cut_node], length_km,
                     float(t["r_ohm_per_km"]), float(t["x_ohm_per_km"]), float(t["c_nf_per_km"]), max_ka, std, True))
    df = pd.DataFrame(rows, columns=["name", "from_bus", "to_bus", "length_km", "r_ohm_per_km", "x_ohm_per_km",
                                     "c_nf_per_km", "max_i_ka", "std_type", "in_service"])
    pp.create_lines_from_parameters(
        net, df["from_bus"].to_numpy(), df["to_bus"].to_numpy(), df["length_km"].to_numpy(),
        df["r_ohm_per_km"].to_numpy(), df["x_ohm_per_km"].to_numpy(), df["c_nf_per_km"].to_numpy(),
        df["max_i_ka"].to_numpy(), name=df["name"].tolist(), in_service=df["in_service"].to_numpy(),
    )
    net.line["std_type"] = pd.Series([t or None for t in df["std_type"]], index=net.line.index, dtype=object)

    # one load per customer at its access node
    cust = case.customers
    pf = {**DEFAULT_POWER_FACTOR, **(power_factor or {})}
    cos_phi = np.array([float(pf.get(t, 1.0)) for t in cust["type"]])
    pp.create_loads(net, [bus[n] for n in cust["node_id"]], p_mw=0.0, q_mvar=0.0, name=list(cust.index))
    net.load["cos_phi"] = cos_phi
    return net


def _cut_lines(case: Case, moves: Sequence[Move]) -> list[str]:
    parent = case.network.parent
    return [str(parent.at[mv.cut_node, "line_id"]) for mv in moves]


# --------------------------------------------------------------------------- the check


@dataclass(frozen=True)
class ScenarioAc:
    """AC figures of one scenario over its steps."""

    scenario: str
    min_voltage_pu: float
    min_voltage_node: str
    max_voltage_pu: float
    max_voltage_node: str
    losses_kwh_per_day: float  # lines (+ transformer when modelled) over the horizon
    supplied_kwh_per_day: float  # energy drawn from the slack over the horizon (net of pv)
    max_line_loading_pct: float  # pandapower res_line.loading_percent against max_i_ka
    max_loading_line: str
    max_flow_diff_kw: float  # max |AC sending-end P - lossless P| over lines and steps
    max_flow_diff_pct: float  # max of that difference / |lossless P|, where |P| >= 5 % of the line rating
    max_flow_diff_line: str
    nonconverged_steps: int


@dataclass(frozen=True)
class AcCheckResult:
    """AC power flow of one plan and its powers, every scenario and step."""

    scenarios: list[ScenarioAc]
    probability: list[float]
    new_line_types: dict[str, str] = field(default_factory=dict)  # new line -> cable type
    transformer: str | None = None
    runs: int = 0
    runtime_s: float = 0.0

    @property
    def min_voltage_pu(self) -> float:
        return min(s.min_voltage_pu for s in self.scenarios)

    @property
    def max_voltage_pu(self) -> float:
        return max(s.max_voltage_pu for s in self.scenarios)

    @property
    def max_line_loading_pct(self) -> float:
        return max(s.max_line_loading_pct for s in self.scenarios)

    @property
    def max_flow_diff_kw(self) -> float:
        return max(s.max_flow_diff_kw for s in self.scenarios)

    @property
    def max_flow_diff_pct(self) -> float:
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
        return _finite({
            "min_voltage_pu": self.min_voltage_pu,
            "max_voltage_pu": self.max_voltage_pu,
            "expected_losses_kwh_per_day": self.expected_losses_kwh_per_day,
            "expected_losses_pct": self.expected_losses_pct,
            "max_line_loading_pct": self.max_line_loading_pct,
            "max_flow_diff_kw": self.max_flow_diff_kw,
            "max_flow_diff_pct": self.max_flow_diff_pct,
            "nonconverged_runs": sum(s.nonconverged_steps for s in self.scenarios),
        })

    def to_json(self) -> dict[str, Any]:
        """JSON-safe dict for metrics.json: the summary, per-scenario figures, new cables."""
        return _finite({
            **self.summary(),
            "slack": "ext_grid on the LV busbar" if self.transformer is None else f"ext_grid behind {self.transformer}",
            "runs": self.runs,
            "runtime_s": self.runtime_s,
            "new_line_types": dict(self.new_line_types),
            "per_scenario": [{"probability": p, **asdict(s)} for p, s in zip(self.probability, self.scenarios)],
        })


def ac_check(
    case: Case,
    plan: Plan | Sequence[Move],
    power_kw: np.ndarray,
    customers: Sequence[str],
    scenarios: Sequence[str],
    *,
    probability: Sequence[float] | None = None,
    step_hours: float | None = None,
    power_factor: Mapping[str, float] | None = None,
    sizing_margin: float = DEFAULT_SIZING_MARGIN,
    transformer: str | None = None,
) -> AcCheckResult:
    """AC power flow of ``plan`` for every scenario and step of ``power_kw``.

    ``power_kw``: (customer, scenario, step) [kW] in the order of ``customers`` (pv
    negative; ev customers as scheduled or uncontrolled), as ``model.solve.customer_power``
    gives it. ``scenarios``: labels of the scenario axis; ``probability``: their weights
    (default: equal). ``step_hours``: default the case's profile step.
    """
    t0 = time.perf_counter()
    moves = list(plan.moves if isinstance(plan, Plan) else plan)
    customers = [str(c) for c in customers]
    power_kw = np.asarray(power_kw, dtype=float)
    if power_kw.ndim != 3 or power_kw.shape[:2] != (len(customers), len(scenarios)):
        raise ValueError(f"power_kw must be (customer, scenario, step) = ({len(customers)}, {len(scenarios)}, T), got {power_kw.shape}")
    S, T = power_kw.shape[1:]
    dt = step_hours if step_hours is not None else case.params.profiles.step_minutes / 60.0
    beta = list(probability) if probability is not None else [1.0 / S] * S

    topo: Topology = rewire(case, moves)
    lossless = flows_after(case, topo, power_kw, customers)
    net = build_pandapower_net(case, moves, peak_kw=move_peak_kw(case, moves, power_kw, customers),
                               power_factor=power_factor, sizing_margin=sizing_margin, transformer=transformer)

    # loads in net.load order; customers without a column draw nothing
    col = {c: k for k, c in enumerate(customers)}
    P = np.zeros((len(net.load), S, T))
    for i, name in enumerate(net.load["name"]):
        if name in col:
            P[i] = power_kw[col[name]] / 1000.0
    cos_phi = net.load["cos_phi"].to_numpy()
    Q = P * (np.sqrt(1.0 - cos_phi**2) / cos_phi)[:, None, None]

    on = net.line["in_service"].to_numpy()
    line_names = net.line["name"].to_numpy()
    on_idx = np.flatnonzero(on)
    lossless_on = np.stack([lossless.get(str(line_names[i]), np.zeros((S, T))) for i in on_idx])  # (line, S, T) [kW]
    rating_on = np.asarray(kw_to_ka(1.0)) ** -1 * net.line["max_i_ka"].to_numpy()[on_idx]  # [kW] at cos phi 1
    bus_names = net.bus["name"].to_numpy()
    lv = (net.bus["vn_kv"].to_numpy() == LV_KV)

    recycle = {"trafo": False, "gen": False, "bus_pq": True}  # only the loads change between steps
    out = []
    runs = 0
    first = True
    for s in range(S):
        vmin = np.full(T, np.nan)
        vmin_bus = np.zeros(T, dtype=int)
        vmax = np.full(T, np.nan)
        vmax_bus = np.zeros(T, dtype=int)
        loss_mw = np.full(T, np.nan)
        slack_mw = np.full(T, np.nan)
        loading = np.full((len(on_idx), T), np.nan)
        p_send = np.full((len(on_idx), T), np.nan)
        bad = 0
        for t in range(T):
            net.load["p_mw"] = P[:, s, t]
            net.load["q_mvar"] = Q[:, s, t]
            runs += 1
            try:
                pp.runpp(net, numba=False, init="auto" if first else "results", check_connectivity=first,
                         calculate_voltage_angles=False, recycle=recycle)
            except pp.LoadflowNotConverged:
                bad += 1
                first = True
                continue
            first = False
            vm = net.res_bus["vm_pu"].to_numpy()
            vm_lv = np.where(lv, vm, np.nan)
            vmin_bus[t], vmax_bus[t] = int(np.nanargmin(vm_lv)), int(np.nanargmax(vm_lv))
            vmin[t], vmax[t] = vm_lv[vmin_bus[t]], vm_lv[vmax_bus[t]]
            loss_mw[t] = float(net.res_line["pl_mw"].sum()) + (float(net.res_trafo["pl_mw"].sum()) if len(net.trafo) else 0.0)
            slack_mw[t] = float(net.res_ext_grid["p_mw"].sum())
            loading[:, t] = net.res_line["loading_percent"].to_numpy()[on_idx]
            p_send[:, t] = net.res_line["p_from_mw"].to_numpy()[on_idx] * 1000.0
        out.append(_scenario_summary(str(scenarios[s]), vmin, vmin_bus, vmax, vmax_bus, loss_mw, slack_mw, loading,
                                     p_send, lossless_on[:, s, :], rating_on, line_names[on_idx], bus_names, dt, bad))
    new_types = {str(n): str(t) for n, t in zip(net.line["name"], net.line["std_type"]) if str(n).startswith(NEW_LINE_PREFIX)}
    return AcCheckResult(out, [float(b) for b in beta], new_types, transformer, runs, time.perf_counter() - t0)


def _nanmax_arg(a: np.ndarray) -> tuple[float, tuple[int, ...]]:
    if np.all(np.isnan(a)):
        return float("nan"), (0,) * a.ndim
    idx = np.unravel_index(int(np.nanargmax(a)), a.shape)
    return float(a[idx]), tuple(int(i) for i in idx)


def _scenario_summary(scenario, vmin, vmin_bus, vmax, vmax_bus, loss_mw, slack_mw, loading, p_send, p_lossless,
                      rating_kw, line_names, bus_names, dt, bad) -> ScenarioAc:
    neg_vmin = -vmin
    v_lo, (t_lo,) = _nanmax_arg(neg_vmin)
    v_hi, (t_hi,) = _nanmax_arg(vmax)
    load_max, (l_load, _) = _nanmax_arg(loading)
    diff = np.abs(p_send - p_lossless)
    d_max, (l_diff, _) = _nanmax_arg(diff)
    big = np.abs(p_lossless) >= 0.05 * rating_kw[:, None]
    rel = np.where(big, diff / np.where(big, np.abs(p_lossless), 1.0), np.nan)
    rel_max, _ = _nanmax_arg(rel) if big.any() else (0.0, (0, 0))
    return ScenarioAc(
        scenario=scenario,
        min_voltage_pu=-v_lo, min_voltage_node=str(bus_names[vmin_bus[t_lo]]),
        max_voltage_pu=v_hi, max_voltage_node=str(bus_names[vmax_bus[t_hi]]),
        losses_kwh_per_day=float(np.nansum(loss_mw) * 1000.0 * dt),
        supplied_kwh_per_day=float(np.nansum(slack_mw) * 1000.0 * dt),
        max_line_loading_pct=load_max, max_loading_line=str(line_names[l_load]),
        max_flow_diff_kw=d_max, max_flow_diff_pct=100.0 * rel_max, max_flow_diff_line=str(line_names[l_diff]),
        nonconverged_steps=int(bad),
    )


# --------------------------------------------------------------------------- before / after


def method_power(result: Any, *, scheduled: bool) -> tuple[np.ndarray, list[str], list[str], np.ndarray]:
    """(customer, scenario, step) power [kW] of a ``MethodResult``, its customers, scenarios, probabilities.

    Profiles of ``result.built.data``; ev customers uncontrolled, or as scheduled when
    ``scheduled``. The schedule table is aligned on the model's scenario and step labels.
    """
    d = result.built.data
    customers = [str(c) for c in d.load_kw["customer"].values]
    scen = [str(s) for s in d.probability[SCENARIO].values]
    steps = list(d.load_kw[STEP].values)
    p = d.load_kw.transpose("customer", SCENARIO, STEP).to_numpy().astype(float).copy()
    row = {c: k for k, c in enumerate(customers)}
    X = d.ev_uncontrolled_kw.transpose(EV, SCENARIO, STEP).to_numpy()
    for k, e in enumerate(d.evs):
        p[row[str(e)]] = X[k]
    tab = result.schedules.table
    if scheduled and len(tab):
        cols = pd.MultiIndex.from_product([scen, steps])
        piv = tab.astype({"scenario": str, "customer_id": str}).pivot_table(
            index="customer_id", columns=["scenario", "step"], values="p_scheduled_kw").reindex(columns=cols)
        for e in d.evs:
            p[row[str(e)]] = piv.loc[str(e)].to_numpy().reshape(len(scen), len(steps))
    if np.isnan(p).any():
        raise ValueError("the method's powers or schedules lack values for some customer, scenario or step")
    return p, customers, scen, d.probability.to_numpy()


def ac_before_after(case: Case, result_method: Any, result_baseline: Any | None = None, **kwargs: Any) -> dict[str, Any]:
    """AC figures before (no move, uncontrolled EV charging) and after (the plan, scheduled EVs).

    ``result_method`` / ``result_baseline``: :class:`lvbalance.model.run.MethodResult`. "before"
    uses the method's profiles with uncontrolled EVs on the network as built; when
    ``result_baseline`` is given, its own plan and schedule are checked as well ("baseline").
    ``kwargs`` go to :func:`ac_check`. Returns ``{"before": AcCheckResult, "after": ...,
    ["baseline": ...,] "table": DataFrame}`` (rows: figures, columns: before / after / baseline).
    """
    step_h = case.params.profiles.step_minutes / 60.0

    def run(res: Any, scheduled: bool, plan: Plan | Sequence[Move]) -> AcCheckResult:
        power, customers, scen, beta = method_power(res, scheduled=scheduled)
        return ac_check(case, plan, power, customers, scen, probability=beta, step_hours=step_h, **kwargs)

    out: dict[str, Any] = {"before": run(result_method, False, []), "after": run(result_method, True, result_method.plan)}
    if result_baseline is not None:
        out["baseline"] = run(result_baseline, True, result_baseline.plan)
    out["table"] = pd.DataFrame({k: v.summary() for k, v in out.items() if isinstance(v, AcCheckResult)})
    return out
