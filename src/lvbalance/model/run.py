"""Compose the steps for one method: options -> data -> build -> solve -> results (STYLE 3, 5)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from lvbalance.case import Case
from lvbalance.evaluate import expected_imbalance_pct, feeder_loads, flows_after, imbalance_pct, max_run, rewire
from lvbalance.model.benders import solve_benders, stage2_is_continuous
from lvbalance.model.build import BuiltModel, build_model
from lvbalance.model.data import OPTION, SCENARIO, STEP, model_data
from lvbalance.model.methods import Method
from lvbalance.model.solve import (
    NoSolutionError,
    SolveInfo,
    customer_power,
    extract_plan,
    extract_schedules,
    model_feeder_loads,
    solve,
)
from lvbalance.results import Metrics, Plan, Schedules, SolveStatus

log = logging.getLogger(__name__)


@dataclass
class MethodResult:
    """Everything one method produced."""

    plan: Plan
    schedules: Schedules
    feeder_loads: pd.DataFrame
    metrics: Metrics
    built: BuiltModel
    info: SolveInfo


def plan_method(
    case: Case, scenarios, method: Method, *, options: pd.DataFrame | None = None, fixed_moves: list[str] | None = None,
) -> MethodResult:
    """Plan ``case`` with ``method`` over ``scenarios`` (a ``profiles.ScenarioSet``).

    ``options``: move options of ``coupling.move_options`` (computed when None and the
    method moves customers; street or straight-line as the method says).
    ``fixed_moves``: option ids whose moves are built for certain (stage 1 fixed, only
    stage 2 is optimised: out-of-sample evaluation, VSS); ``[]`` fixes "no move".
    """
    if method.moves and options is None:
        from lvbalance.coupling import move_options

        options = move_options(case, straight_line=method.straight_line)
    if fixed_moves is not None and options is not None:
        options = options.loc[list(fixed_moves)]
    data = model_data(case, scenarios, options if method.moves else None)
    built = build_model(data, method)
    if fixed_moves and "u" in built.model.variables:
        built.model.add_constraints(built.model.variables["u"] == 1, name="fixed_moves")
    log.info("built %s: %s in %.2f s", method.id, built.size, built.build_time_s)
    try:
        if use_benders(built, case.params.solver.algorithm, fixed=fixed_moves is not None):
            info = _solve_by_benders(built, case, scenarios)
        else:
            info = solve(built, case.params.solver)
    except NoSolutionError as exc:
        log.warning("%s: %s; falling back to the plan without moves", method.id, exc)
        info = _solve_without_moves(built, case, exc.elapsed_s)
    plan = extract_plan(built, info)
    schedules = extract_schedules(built)
    loads = model_feeder_loads(built)
    metrics = compute_metrics(built, info, plan, schedules, loads)
    return MethodResult(plan, schedules, loads, metrics, built, info)


def use_benders(built: BuiltModel, algorithm: str, *, fixed: bool) -> bool:
    """Benders when asked, or on 'auto' when it pays: moves to choose and a V2G schedule
    (without V2G the extensive form is a small, easy MILP); it needs a continuous stage 2."""
    if algorithm == "extensive" or fixed or "u" not in built.model.variables or len(built.options) == 0:
        return False
    if algorithm == "auto" and not built.method.v2g:
        return False
    applies = stage2_is_continuous(built)
    if algorithm == "benders" and not applies:
        log.warning("benders needs a stage 2 without binaries (heavy-load lines present): solving the extensive form")
    return applies


def _solve_by_benders(built: BuiltModel, case: Case, scenarios) -> SolveInfo:
    """Find the plan by Benders, then solve the full model with that plan fixed (an LP)
    so that every variable has its value; bound and gap are those of the decomposition."""
    result = solve_benders(built, case.params.solver, scenarios)
    u = built.model.variables["u"]
    fixed = xr.DataArray([1.0 if o in set(result.chosen) else 0.0 for o in built.options.index], dims=OPTION,
                         coords={OPTION: built.options.index})
    built.model.add_constraints(u == fixed, name="benders_plan")
    final = solve(built, case.params.solver)
    status = SolveStatus.OPTIMAL if result.gap <= case.params.solver.mip_gap else SolveStatus.TIME_LIMIT
    log.info("benders: %d iterations, %.1f s, gap %.2e", result.iterations, result.time_s, result.gap)
    return SolveInfo(status, final.objective, result.lower_bound, result.gap, result.time_s + final.solve_time_s)


def _solve_without_moves(built: BuiltModel, case: Case, elapsed_s: float) -> SolveInfo:
    """Fix every move variable to 0 (always feasible) and solve the remaining LP."""
    m = built.model
    if "u" in m.variables:
        m.add_constraints(m.variables["u"] == 0, name="fallback_no_move")
    info = solve(built, case.params.solver)
    return SolveInfo(SolveStatus.NO_MOVE_FALLBACK, info.objective, float("nan"), float("nan"), elapsed_s + info.solve_time_s)


def compute_metrics(built: BuiltModel, info: SolveInfo, plan: Plan, schedules: Schedules, loads: pd.DataFrame) -> Metrics:
    """Imbalance before (as built, uncontrolled) and after (the model's values), loading, violations."""
    d = built.data
    case = d.case
    customers = list(d.load_kw["customer"].values)
    beta = d.probability.to_numpy()
    scen = list(d.probability[SCENARIO].values)

    before_power = customer_power(built, None)
    flows0 = flows_after(case, rewire(case, []), before_power, customers)
    imb0 = imbalance_pct(case, feeder_loads(case, flows0))

    rates = loads.pivot_table(index=["scenario", "step"], columns="feeder", values="load_rate")
    imb1_s = 100 * (rates.max(axis=1) - rates.min(axis=1))
    imb1 = imb1_s.unstack("step").reindex(scen).to_numpy()
    e_after = float(built.expected_imbalance.solution.item()) if hasattr(built.expected_imbalance, "solution") else expected_imbalance_pct(imb1, beta)

    after_power = customer_power(built, schedules)
    flows1 = flows_after(case, rewire(case, plan.moves), after_power, customers)
    rating = case.network.lines["rated_kw"]

    def loading(flows: dict[str, np.ndarray]) -> float:
        return max(float(np.abs(P).max() / rating[lid]) for lid, P in flows.items() if lid in rating.index)

    mu = case.params.operation.heavy_load_share
    heavy = {lid: max_run(np.abs(P) > mu * rating[lid]) for lid, P in flows1.items() if lid in rating.index}
    per_scenario = [
        {
            "scenario": s, "probability": float(beta[k]),
            "expected_imbalance_before_pct": float(imb0[k].mean()), "expected_imbalance_after_pct": float(imb1[k].mean()),
            "peak_imbalance_before_pct": float(imb0[k].max()), "peak_imbalance_after_pct": float(imb1[k].max()),
        }
        for k, s in enumerate(scen)
    ]
    return Metrics(
        method=built.method.id,
        status=str(info.status),
        expected_imbalance_before_pct=expected_imbalance_pct(imb0, beta),
        expected_imbalance_after_pct=e_after,
        peak_imbalance_before_pct=float(imb0.max()),
        peak_imbalance_after_pct=float(imb1.max()),
        per_scenario=per_scenario,
        max_line_loading_before=loading(flows0),
        max_line_loading_after=loading(flows1),
        heavy_load_max_steps={k: int(v) for k, v in heavy.items() if v > 0},
        moved_customers=plan.moved_customers,
        total_cost=plan.total_cost,
        route_length_m=float(sum(mv.route_length_m for mv in plan.moves)),
        objective=info.objective,
        mip_gap=info.mip_gap,
        bound=info.bound,
        build_time_s=built.build_time_s,
        solve_time_s=info.solve_time_s,
        model_size=built.size,
        violations=slack_violations(built),
    )


def slack_violations(built: BuiltModel) -> list[dict[str, object]]:
    """Line rules the plan could only meet with penalised slack (MODEL.md §5): line, scenario, steps."""
    out = []
    m = built.model
    for name, kind in (("overload_kw", "rating exceeded [kW]"), ("heavy_excess", "heavy load longer than T_max [steps]")):
        if name not in m.variables:
            continue
        sol = m.variables[name].solution.fillna(0.0)
        hit = sol.where(sol > 1e-6).to_series().dropna()
        for (line, scenario), grp in hit.groupby(level=["line", "scenario"]):
            out.append({"line": str(line), "scenario": str(scenario), "kind": kind,
                        "steps": [int(s) for s in grp.index.get_level_values(STEP)], "max": float(grp.max())})
    return out
