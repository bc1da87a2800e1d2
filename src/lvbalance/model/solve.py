"""Solve a built model and turn its solution into typed results.

HiGHS by default (through linopy's direct interface); any linopy solver by name.
At the time limit the best plan is returned with its gap. An infeasible model is
explained by the family of constraints that makes it so, never a bare status.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import linopy
import numpy as np
import pandas as pd

from lvbalance.model.build import BuiltModel
from lvbalance.model.data import EV, FEEDER, LINE, SCENARIO, STEP
from lvbalance.params import SolverParams
from lvbalance.results import Move, Plan, Schedules, SolveStatus

log = logging.getLogger(__name__)


class InfeasibleModelError(RuntimeError):
    """The model has no solution; the message names the constraint family and elements."""


class NoSolutionError(RuntimeError):
    """The solver stopped (time limit) before it found any solution."""

    def __init__(self, message: str, elapsed_s: float) -> None:
        super().__init__(message)
        self.elapsed_s = elapsed_s


@dataclass(frozen=True)
class SolveInfo:
    status: SolveStatus
    objective: float
    bound: float
    mip_gap: float
    solve_time_s: float


def solve(built: BuiltModel, solver: SolverParams) -> SolveInfo:
    """Solve with the configured solver; raise :class:`InfeasibleModelError` if infeasible."""
    m = built.model
    name = solver.name.lower()
    if name not in linopy.available_solvers:
        raise ValueError(f"solver {solver.name!r} is not installed; available: {', '.join(linopy.available_solvers)}")
    options = _solver_options(name, solver)
    if name == "highs":  # HiGHS keeps one thread scheduler per process: renew it so 'threads' applies
        import highspy

        highspy.Highs.resetGlobalScheduler(True)
    t0 = time.perf_counter()
    status, condition = m.solve(solver_name=name, io_api="direct" if name in ("highs", "gurobi") else None, progress=False, **options)
    elapsed = time.perf_counter() - t0
    if condition in ("infeasible", "infeasible_or_unbounded"):
        raise InfeasibleModelError(explain_infeasibility(built))
    if m.objective.value is None or not math.isfinite(m.objective.value):
        raise NoSolutionError(f"solver {name} stopped ({condition}) after {elapsed:.0f} s without a solution", elapsed)
    if status not in ("ok", "warning"):
        raise RuntimeError(f"solver {name} ended with status {status} ({condition})")
    bound, gap = _bound_and_gap(m, name)
    st = SolveStatus.OPTIMAL if condition == "optimal" else SolveStatus.TIME_LIMIT
    log.info("solved %s in %.2f s: %s, objective %.4f, gap %.2e", built.method.id, elapsed, condition, m.objective.value, gap)
    return SolveInfo(st, float(m.objective.value), bound, gap, elapsed)


def _solver_options(name: str, s: SolverParams) -> dict[str, object]:
    if name == "highs":
        return {"time_limit": s.time_limit_s, "mip_rel_gap": s.mip_gap, "threads": s.threads, "log_to_console": False, "output_flag": False}
    if name == "gurobi":
        return {"TimeLimit": s.time_limit_s, "MIPGap": s.mip_gap, "Threads": s.threads, "OutputFlag": 0}
    if name == "cplex":
        return {"timelimit": s.time_limit_s, "mip.tolerances.mipgap": s.mip_gap, "threads": s.threads}
    if name == "scip":
        return {"limits/time": s.time_limit_s, "limits/gap": s.mip_gap}
    return {}


def _bound_and_gap(m: linopy.Model, name: str) -> tuple[float, float]:
    obj = float(m.objective.value)
    if not len(m.binaries):
        return obj, 0.0
    if name == "highs" and m.solver_model is not None:
        info = m.solver_model.getInfo()
        return float(info.mip_dual_bound), float(info.mip_gap)
    return math.nan, math.nan


def explain_infeasibility(built: BuiltModel) -> str:
    """Name what makes the model infeasible by relaxing one constraint family at a time."""
    d = built.data
    op = d.case.params.operation
    reasons = []
    X = d.ev_uncontrolled_kw
    over = X > d.charge_kw + 1e-9
    if bool(over.any()):
        ev = [str(e) for e in X[EV].values[over.any([SCENARIO, STEP]).values]]
        reasons.append(f"EV charger limit (Eq 22): uncontrolled charging exceeds charge_kw for {', '.join(ev)}")
    eps = op.ramp_share_per_step * d.charge_kw
    need = (built.const.alpha * X).sum(STEP)
    hi = built.const.v_upper.sum(STEP)
    lo = built.const.v_lower.sum(STEP)
    short = (need > hi + 1e-9) | (need < lo - 1e-9)
    if bool(short.any()):
        ev = [str(e) for e in short[EV].values[short.any(SCENARIO).values]]
        reasons.append(f"EV energy (Eq 26) cannot be met within the V2G limits (Eq 23-24) for {', '.join(ev)}")
    if not reasons:
        reasons.append(
            f"EV ramp (Eq 25, eps = {op.ramp_share_per_step:g} x Pc per step) together with the energy requirement (Eq 26): "
            f"try a larger operation.ramp_share_per_step (smallest eps {float(eps.min()):.2f} kW)"
        )
    return "the model is infeasible: " + "; ".join(reasons)


# --------------------------------------------------------------------------- results


def extract_plan(built: BuiltModel, info: SolveInfo) -> Plan:
    """Chosen moves, each priced along streets (method m3 included)."""
    moves = chosen_moves(built)
    return Plan(
        method=built.method.id,
        objective=info.objective,
        mip_gap=info.mip_gap,
        solve_time_s=info.solve_time_s,
        total_cost=float(sum(mv.cost for mv in moves)),
        moved_customers=int(sum(len(mv.customers) for mv in moves)),
        moves=moves,
    )


def chosen_moves(built: BuiltModel) -> list[Move]:
    m = built.model
    if "u" not in m.variables:
        return []
    u = m.variables["u"].solution.to_series()
    opts = built.data.options
    out = []
    for oid in u.index[u.to_numpy() > 0.5]:
        o = opts.loc[oid]
        route = [[round(float(x), 3), round(float(y), 3)] for x, y in o["route"].coords] if o["route"] is not None else []
        out.append(Move(
            end_node=str(o["end_node"]), cut_node=str(o["cut_node"]), to_node=str(o["to_node"]),
            customers=[str(c) for c in o["customers"]], from_feeder=str(o["from_feeder"]), to_feeder=str(o["to_feeder"]),
            route_length_m=float(o["street_route_length_m"]), cost=float(o["street_cost"]), route=route,
        ))
    return out


def extract_schedules(built: BuiltModel) -> Schedules:
    """EV power: uncontrolled ``X`` and scheduled ``x = (1 - alpha) X + v``."""
    d = built.data
    X = d.ev_uncontrolled_kw
    if "v" in built.model.variables:
        x = (1 - built.const.alpha) * X + built.model.variables["v"].solution
    else:
        x = X
    df = pd.DataFrame({
        "p_uncontrolled_kw": X.transpose(SCENARIO, STEP, EV).to_series(),
        "p_scheduled_kw": x.transpose(SCENARIO, STEP, EV).to_series(),
    }).reset_index().rename(columns={EV: "customer_id"})
    return Schedules(df[["scenario", "step", "customer_id", "p_uncontrolled_kw", "p_scheduled_kw"]])


def customer_power(built: BuiltModel, schedules: Schedules | None) -> np.ndarray:
    """(customer, scenario, step) power [kW]: profiles, EVs as scheduled (or uncontrolled)."""
    d = built.data
    p = d.load_kw.transpose("customer", SCENARIO, STEP).to_numpy().copy()
    customers = list(d.load_kw["customer"].values)
    X = d.ev_uncontrolled_kw.transpose(EV, SCENARIO, STEP)
    for k, e in enumerate(d.evs):
        p[customers.index(e)] = X.values[k]
    if schedules is not None and len(schedules.table):
        piv = schedules.table.pivot_table(index="customer_id", columns=["scenario", "step"], values="p_scheduled_kw")
        order = pd.MultiIndex.from_product([d.load_kw[SCENARIO].values, d.load_kw[STEP].values])
        piv = piv.reindex(columns=order)  # pivot_table sorts scenarios by name; the model's order is what counts
        for e in d.evs:
            p[customers.index(e)] = piv.loc[e].to_numpy().reshape(p.shape[1:])
    return p


def model_feeder_loads(built: BuiltModel) -> pd.DataFrame:
    """Feeder loads from the model's own flows: ``scenario, step, feeder, p_kw, load_rate``."""
    d = built.data
    flow = built.flow.solution
    rows = []
    for feeder, line_id in d.feeder_outlet.items():
        df = flow.sel({LINE: line_id}).transpose(SCENARIO, STEP).to_series().rename("p_kw").reset_index()
        df["feeder"] = feeder
        df["load_rate"] = df["p_kw"] / float(d.feeder_rating_kw.sel({FEEDER: feeder}))
        rows.append(df)
    return pd.concat(rows, ignore_index=True)[["scenario", "step", FEEDER, "p_kw", "load_rate"]]
