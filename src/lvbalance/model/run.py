"""Compose the steps for one method: options -> data -> build -> solve -> results (STYLE 3, 5).

What a plan achieves (imbalance before and after, loading) is computed apart from the
model, by :func:`lvbalance.evaluate.metrics.compute_metrics`.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from lvbalance.case import Case
from lvbalance.dims import OPTION
from lvbalance.model.benders import solve_benders, stage2_is_continuous
from lvbalance.model.build import BuiltModel, build_model
from lvbalance.model.data import model_data
from lvbalance.model.extract import extract_plan, extract_schedules, model_feeder_loads, slack_violations
from lvbalance.model.methods import Method
from lvbalance.model.recourse import RecoursePool
from lvbalance.model.smooth import smooth_schedules
from lvbalance.model.solve import NoSolutionError, SolveInfo, solve
from lvbalance.model.stage1 import BUDGET_ROW, add_budget_limit
from lvbalance.profiles import ScenarioSet
from lvbalance.results import Plan, Schedules, SolveStatus

log = logging.getLogger(__name__)

BENDERS_PLAN = "benders_plan"
"""Rows that fix the plan Benders found (the smoothing stage and any solve of the model with the plan fixed read them)."""
NO_MOVE = "fallback_no_move"
"""Rows that fix "no move" when no plan was found in time."""


@dataclass(frozen=True)
class MethodResult:
    """Everything one method produced, read from its solved model."""

    plan: Plan
    schedules: Schedules
    feeder_loads: pd.DataFrame
    """``scenario, step, feeder, p_kw, load_rate`` from the model's flows"""
    built: BuiltModel
    info: SolveInfo
    violations: list[dict[str, object]]
    """line rules met only with penalised slack (MODEL.md §5)"""
    smoothed: bool | None = None
    """the schedules are the smoothest optimal ones (MODEL.md §6); False: smoothing failed and the
    optimum's schedules were kept; None: not attempted (no V2G schedule, or switched off)"""

    @property
    def expected_imbalance_pct(self) -> float:
        """Eq 15 as the model computed it [%]."""
        return float(self.built.expected_imbalance.solution.item())


def plan_method(
    case: Case,
    scenarios: ScenarioSet,
    method: Method,
    *,
    options: pd.DataFrame | None = None,
    fixed_moves: list[str] | None = None,
    pool: RecoursePool | None = None,
) -> MethodResult:
    """Plan ``case`` with ``method`` over ``scenarios`` (a ``profiles.ScenarioSet``).

    ``options``: move options of ``coupling.move_options`` (computed when None and the
    method moves customers; street or straight-line as the method says).
    ``fixed_moves``: option ids whose moves are built for certain (stage 1 fixed, only
    stage 2 is optimised: out-of-sample evaluation, VSS); ``[]`` fixes "no move".
    ``pool``: when the plan is found by Benders, the cuts of earlier solves of this method over
    the same scenarios and options (the trade-off front passes one pool to all its solves).
    """
    if method.moves and options is None:
        from lvbalance.coupling import move_options

        options = move_options(case, straight_line=method.straight_line)
    if fixed_moves is not None and options is not None:
        options = options.loc[list(fixed_moves)]
    data = model_data(case, scenarios, options if method.moves else None)
    built = build_model(data, method)
    if fixed_moves and built.u is not None:
        built.model.add_constraints(built.u == 1, name="fixed_moves")
    log.info("built %s: %s in %.2f s", method.id, built.size, built.build_time_s)
    return _solve_built(built, case, scenarios, pool, fixed=fixed_moves is not None)


class BudgetSweep:
    """One method's model, built once and solved under one budget after another.

    The points of the trade-off front (:mod:`lvbalance.evaluate.tradeoff`) differ only in the
    budget row (MODEL.md §6, "the trade-off"): each :meth:`plan` replaces it (and the rows an
    earlier solve added to fix its plan) instead of building the model again.
    """

    def __init__(self, case: Case, scenarios: ScenarioSet, method: Method, options: pd.DataFrame, pool: RecoursePool | None = None) -> None:
        self.case = case.with_params(case.params.updated(planning={"budget": None}))
        self.scenarios, self.pool = scenarios, pool
        self.built = build_model(model_data(self.case, scenarios, options), method)
        log.info("built %s for a budget sweep: %s in %.2f s", method.id, self.built.size, self.built.build_time_s)

    def plan(self, budget: float | None) -> MethodResult:
        """The method's plan under ``budget`` [currency] (None: no budget)."""
        m = self.built.model
        for name in (BUDGET_ROW, BENDERS_PLAN, NO_MOVE):  # the budget, and rows an earlier solve added
            if name in m.constraints:
                m.remove_constraints(name)
        case = self.case.with_params(self.case.params.updated(planning={"budget": budget}))
        built = dataclasses.replace(self.built, data=dataclasses.replace(self.built.data, case=case))
        if budget is not None and built.u is not None:
            add_budget_limit(m, built.u, built.options, budget)
        return _solve_built(built, case, self.scenarios, self.pool, fixed=False)


def _solve_built(built: BuiltModel, case: Case, scenarios: ScenarioSet, pool: RecoursePool | None, *, fixed: bool) -> MethodResult:
    """Solve a built model (Benders or the extensive form, a fallback to no move), smooth its
    schedules, and read what it produced."""
    method = built.method
    try:
        if use_benders(built, case.params.solver.algorithm, fixed=fixed, solver_name=case.params.solver.name):
            info = _solve_by_benders(built, case, scenarios, pool)
        else:
            info = solve(built, case.params.solver, plan_fixed=fixed)
    except NoSolutionError as exc:
        log.warning("%s: %s; falling back to the plan without moves", method.id, exc)
        info = _solve_without_moves(built, case, exc.elapsed_s)
    smoothed = None
    if case.params.solver.smooth_schedules and method.v2g and built.ev is not None:
        smoothing = smooth_schedules(built, case.params.solver)
        info = dataclasses.replace(info, solve_time_s=info.solve_time_s + smoothing.time_s)
        smoothed = smoothing.applied
    return MethodResult(
        extract_plan(built, info), extract_schedules(built), model_feeder_loads(built), built, info, slack_violations(built), smoothed
    )


def use_benders(built: BuiltModel, algorithm: str, *, fixed: bool, solver_name: str = "highs") -> bool:
    """Benders when asked, or on 'auto' when it pays: moves to choose and a V2G schedule
    (without V2G the extensive form is a small, easy MILP); it needs a continuous stage 2
    and HiGHS (its scenario subproblems are warm-started through highspy)."""
    if algorithm == "extensive" or fixed or built.u is None or len(built.options) == 0:
        return False
    if solver_name.lower() != "highs":
        if algorithm == "benders":
            log.warning("benders needs HiGHS (solver.name = %r): solving the extensive form", solver_name)
        return False
    if algorithm == "auto" and not built.method.v2g:
        return False
    applies = stage2_is_continuous(built)
    if algorithm == "benders" and not applies:
        log.warning("benders needs a stage 2 without binaries (heavy-load lines present): solving the extensive form")
    return applies


def _solve_by_benders(built: BuiltModel, case: Case, scenarios: ScenarioSet, pool: RecoursePool | None = None) -> SolveInfo:
    """Find the plan by Benders and give every variable its value: the scenario subproblems'
    solutions at that plan where the pool kept them, else a solve of the full model with the plan
    fixed (an LP); bound and gap are those of the decomposition."""
    pool = pool if pool is not None else RecoursePool()
    result = solve_benders(built, case.params.solver, scenarios, pool)
    u = built.u
    assert u is not None
    plan = np.array([1.0 if o in set(result.chosen) else 0.0 for o in built.options.index])
    built.model.add_constraints(u == xr.DataArray(plan, dims=OPTION, coords={OPTION: built.options.index}), name=BENDERS_PLAN)
    m = built.model
    if pool.write_solution(m, plan):
        assert m.objective.value is not None
        objective, final_time_s = float(m.objective.value), 0.0
    else:
        final = solve(built, case.params.solver, plan_fixed=True)
        objective, final_time_s = final.objective, final.solve_time_s
    limit = case.params.solver.benders_max_iterations
    stopped = SolveStatus.WORK_LIMIT if limit is not None and result.iterations >= limit else SolveStatus.TIME_LIMIT
    status = SolveStatus.OPTIMAL if result.gap <= case.params.solver.mip_gap else stopped
    log.info("benders: %d iterations, %.1f s, gap %.2e", result.iterations, result.time_s, result.gap)
    return SolveInfo(status, objective, result.lower_bound, result.gap, result.time_s + final_time_s)


def _solve_without_moves(built: BuiltModel, case: Case, elapsed_s: float) -> SolveInfo:
    """Fix every move variable to 0 (always feasible) and solve the remaining LP."""
    if built.u is not None:
        built.model.add_constraints(built.u == 0, name=NO_MOVE)
    info = solve(built, case.params.solver, plan_fixed=True)
    return SolveInfo(SolveStatus.NO_MOVE_FALLBACK, info.objective, float("nan"), float("nan"), elapsed_s + info.solve_time_s)
