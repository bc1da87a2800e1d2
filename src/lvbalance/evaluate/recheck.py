"""Independent re-check of written outputs: it does not share the model's formulation.

:func:`check_outputs` reads a plan's files (``plan.json``, ``schedules.csv``,
``profiles.csv``, ``feeder_loads.csv``, ``metrics.json``) and checks them against every rule
of MODEL.md with plain array code: the stage-1 rules (§4), the EV rules (Eq 22-26), the line
rules (Eq 20), and the flows and imbalance recomputed from first principles by
:mod:`lvbalance.flows` (Eq 14-15, 19-21).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from lvbalance.case import Case
from lvbalance.flows import NEW_LINE_PREFIX, expected_imbalance_pct, feeder_imbalance_pct, feeder_loads, line_flows, max_run, rewire
from lvbalance.results import read_plan

# --------------------------------------------------------------------------- re-check of written outputs


@dataclass
class CheckReport:
    """Result of :func:`check_outputs`."""

    violations: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    recomputed: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations and not self.differences


def _close(a: float, b: float, rel: float = 1e-6, abs_: float = 1e-6) -> bool:
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), abs_)


def check_outputs(case: Case, out_dir: str | Path, *, tol_kw: float = 1e-5) -> CheckReport:
    """Re-check a plan written to ``out_dir`` using only the case and the written files."""
    from lvbalance.coupling import build_street_graph, tail_chains

    out = Path(out_dir)
    rep = CheckReport()
    plan = read_plan(out)
    metrics = json.loads((out / "metrics.json").read_text())
    scen = pd.read_csv(out / "scenarios.csv", dtype={"scenario": str})
    prof = pd.read_csv(out / "profiles.csv", dtype={"scenario": str, "customer_id": str})
    sched = pd.read_csv(out / "schedules.csv", dtype={"scenario": str, "customer_id": str})
    loads_file = pd.read_csv(out / "feeder_loads.csv", dtype={"scenario": str, "feeder": str})
    p = case.params

    # --- stage 1: shape of every combination, limits, proximity, targets stay put
    chains = tail_chains(case)
    moved_total = 0
    moving_nodes: dict[str, set[str]] = {}
    for mv in plan.moves:
        ch = chains.get(mv.end_node)
        if ch is None:
            rep.violations.append(f"move of {mv.end_node}: not an end node")
            continue
        q = len(mv.customers)
        if tuple(mv.customers) != ch.customers[:q]:
            rep.violations.append(f"move of {mv.end_node}: {mv.customers} is not a suffix of the chain {list(ch.customers)}")
        if q < len(ch.customers) and ch.customer_node[q] == ch.customer_node[q - 1]:
            rep.violations.append(f"move of {mv.end_node}: splits the customers of node {ch.customer_node[q]}")
        if q > p.planning.max_customers_per_move:
            rep.violations.append(f"move of {mv.end_node}: {q} customers > k = {p.planning.max_customers_per_move}")
        if mv.cut_node != ch.customer_node[q - 1]:
            rep.violations.append(f"move of {mv.end_node}: cut node {mv.cut_node} is not the innermost node of its customers")
        cut_pos = ch.nodes.index(mv.cut_node) if mv.cut_node in ch.nodes else len(ch.nodes)
        moving_nodes[mv.end_node] = set(ch.nodes[: cut_pos + 1])
        moved_total += q
    if len({mv.end_node for mv in plan.moves}) != len(plan.moves):
        rep.violations.append("more than one move per end node")
    if moved_total > p.planning.max_moved_customers:
        rep.violations.append(f"{moved_total} customers moved > M_max = {p.planning.max_moved_customers}")
    if moved_total != plan.moved_customers:
        rep.differences.append(f"plan.json moved_customers {plan.moved_customers} != {moved_total}")
    for mv in plan.moves:
        for h, nodes in moving_nodes.items():
            if h != mv.end_node and mv.to_node in nodes:
                rep.violations.append(f"move of {mv.end_node} targets {mv.to_node}, which moves with {h}")
        if mv.to_node in moving_nodes.get(mv.end_node, set()):
            rep.violations.append(f"move of {mv.end_node} targets a node of its own combination")
    if plan.moves:
        from lvbalance.model.methods import METHODS

        method = METHODS.get(plan.method)
        straight_line = bool(method and method.straight_line)  # m3 plans by straight-line proximity (MODEL.md §7)
        graph = build_street_graph(case)
        for mv in plan.moves:
            for c in mv.customers:
                if p.planning.proximity == "route" and not straight_line:
                    r = graph.routes
                    d = float(r.length_m[r.node_row[mv.to_node], r.customer_col[c]])
                else:
                    cx, cy = case.customers.loc[c, ["x", "y"]]
                    tx, ty = case.network.nodes.loc[mv.to_node, ["x", "y"]]
                    d = float(np.hypot(cx - tx, cy - ty))
                if d > p.planning.max_route_m + 1e-6:
                    rep.violations.append(f"customer {c} is {d:.1f} m from target {mv.to_node} > R_max = {p.planning.max_route_m:g} m")

    # --- powers per customer: fixed profiles, EVs from the schedule
    scenarios = list(scen["scenario"])
    beta = scen.set_index("scenario")["probability"].reindex(scenarios).to_numpy()
    steps = sorted(prof["step"].unique())
    cube = prof.pivot_table(index="customer_id", columns=["scenario", "step"], values="p_kw", aggfunc="sum")
    customers = list(case.customers.index)
    cube = cube.reindex(index=customers, columns=pd.MultiIndex.from_product([scenarios, steps]))
    power = cube.to_numpy().reshape(len(customers), len(scenarios), len(steps))
    ev = sched.pivot_table(index="customer_id", columns=["scenario", "step"], values=["p_scheduled_kw", "p_uncontrolled_kw"])
    evs = list(case.ev_customers.index)
    if evs:
        grid = pd.MultiIndex.from_product([scenarios, steps])
        shape = (len(evs), len(scenarios), len(steps))
        x = ev["p_scheduled_kw"].reindex(index=evs, columns=grid).to_numpy().reshape(shape)
        X = ev["p_uncontrolled_kw"].reindex(index=evs, columns=grid).to_numpy().reshape(shape)
        if np.isnan(x).any() or np.isnan(X).any():
            rep.violations.append("schedules.csv lacks values for some ev customer, scenario or step")
        for k, e in enumerate(evs):
            power[customers.index(e)] = x[k]
        _check_ev_rules(case, evs, x, X, steps, rep)
    if np.isnan(power).any():
        rep.violations.append("profiles.csv lacks values for some customer, scenario or step")
        power = np.nan_to_num(power)

    # --- flows after the moves, limits, imbalance
    try:
        topo = rewire(case, plan.moves)
    except (ValueError, nx.NetworkXError) as exc:
        rep.violations.append(f"the plan does not leave a radial network: {exc}")
        return rep
    flows = line_flows(case, topo, power, customers)
    _check_lines(case, flows, rep, tol_kw)
    loads = feeder_loads(case, flows)
    imb = feeder_imbalance_pct(case, loads)
    e_imb = expected_imbalance_pct(imb, beta)
    rep.recomputed = {"expected_imbalance_after_pct": e_imb, "peak_imbalance_after_pct": float(imb.max())}
    for key, value in rep.recomputed.items():
        if key in metrics and metrics[key] is not None and not _close(value, metrics[key]):
            rep.differences.append(f"metrics.json {key} = {metrics[key]:.9g}, recomputed {value:.9g}")
    written = loads_file.pivot_table(index="feeder", columns=["scenario", "step"], values="p_kw")
    for f, arr in loads.items():
        w = written.loc[f].reindex(pd.MultiIndex.from_product([scenarios, steps])).to_numpy().reshape(arr.shape)
        worst = float(np.nanmax(np.abs(w - arr)))
        if worst > max(tol_kw, 1e-6 * float(np.abs(arr).max())):
            rep.differences.append(f"feeder_loads.csv feeder {f}: differs from the recomputed load by up to {worst:.3g} kW")
    street_cost = sum(mv.cost for mv in plan.moves)
    if not _close(street_cost, plan.total_cost, abs_=1e-4):
        rep.differences.append(f"plan.json total_cost {plan.total_cost} != sum of move costs {street_cost}")
    return rep


def _check_ev_rules(case: Case, evs: list[str], x: np.ndarray, X: np.ndarray, steps: list[int], rep: CheckReport) -> None:
    """Eq 22-26 on the written schedule (alpha from the parameters and the horizon start)."""
    p = case.params
    op = p.operation
    c = case.customers.loc[evs]
    Pc = c["charge_kw"].to_numpy()[:, None, None]
    Pd = np.where(c["v2g"], c["discharge_kw"], 0.0)[:, None, None]
    tol = 1e-6
    for name, bad in (("charge limit Pc", x > Pc + tol), ("discharge limit Pd", x < -Pd - tol)):
        if bad.any():
            rep.violations.append(f"EV {name} broken at {int(bad.sum())} (ev, scenario, step)")
    energy = x.sum(axis=2) - X.sum(axis=2)
    if np.abs(energy).max() > 1e-4:
        rep.violations.append(f"EV energy over the horizon differs from uncontrolled charging by up to {np.abs(energy).max():.4g} kW·steps")
    step_h = p.profiles.step_minutes / 60
    clock = (p.profiles.horizon_start_hour + np.asarray(steps) * step_h) % 24
    alpha = np.asarray(op.v2g_participation)[np.floor(clock).astype(int)]
    moved = np.abs(x - X).max() > tol  # uncontrolled schedules need no alpha
    if moved:
        v = x - (1 - alpha) * X
        hi = op.v2g_charge_share * alpha * Pc
        lo = -op.v2g_discharge_share * alpha * Pd
        if (v > hi + tol).any() or (v < lo - tol).any():
            rep.violations.append(f"V2G share limits (Eq 23-24) broken at {int(((v > hi + tol) | (v < lo - tol)).sum())} points")
        ramp = np.abs(np.diff(v, axis=2))
        eps = op.ramp_share_per_step * Pc
        if (ramp > eps + tol).any():
            rep.violations.append(f"ramp limit (Eq 25) broken at {int((ramp > eps + tol).sum())} points")


def _check_lines(case: Case, flows: dict[str, np.ndarray], rep: CheckReport, tol_kw: float) -> None:
    """Eq 20: hard limit and heavy-load duration on every existing line."""
    op = case.params.operation
    rating = case.network.lines["rated_kw"]
    for line_id, P in flows.items():
        if line_id.startswith(NEW_LINE_PREFIX):
            continue
        r = rating[line_id]
        if (np.abs(P) > r + tol_kw).any():
            rep.violations.append(f"line {line_id}: |P| up to {np.abs(P).max():.1f} kW > rating {r:.1f} kW")
        heavy = np.abs(P) > op.heavy_load_share * r + tol_kw
        if heavy.any():
            longest = max_run(heavy)
            if longest > op.max_heavy_steps:
                rep.violations.append(f"line {line_id}: heavy load for {longest} consecutive steps > T_max = {op.max_heavy_steps}")
