"""Solve a built model: status, objective, bound and gap, or why there is no solution.

HiGHS by default (through linopy's direct interface); any linopy solver by name.
At the time limit the best plan is returned with its gap. An infeasible model is
explained by the family of constraints that makes it so, never a bare status.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import linopy
import numpy as np

from lvbalance.dims import EV, SCENARIO, STEP
from lvbalance.model.blocks import (
    LP_OPTIONS,
    HighsValue,
    NotSeparableError,
    column_positions,
    objective_constant,
    solve_by_scenario,
    write_solution,
)
from lvbalance.model.build import BuiltModel
from lvbalance.params import SolverParams
from lvbalance.results import SolveStatus

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
    """How a solve ended: status, objective [currency], best bound, relative gap, time [s]."""

    status: SolveStatus
    objective: float
    bound: float
    mip_gap: float
    solve_time_s: float


@functools.cache
def quiet_highs() -> None:
    """Keep HiGHS's banner out of the user's terminal: its C++ core prints it to the process's
    standard output when the process makes its first ``Highs`` object, so make that one here
    with the output sent to /dev/null. Call before any HiGHS solve."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def solve(built: BuiltModel, solver: SolverParams, *, plan_fixed: bool = False) -> SolveInfo:
    """Solve with the configured solver; raise :class:`InfeasibleModelError` if infeasible.

    ``plan_fixed``: rows fix every ``u`` (a given plan). With HiGHS, a model whose plan is fixed
    (or that has no binaries) falls apart by scenario and is solved block by block, side by side
    (:mod:`lvbalance.model.blocks`); as one model when it does not (heavy-load binaries).
    """
    m = built.model
    name = solver.name.lower()
    if name not in linopy.available_solvers:
        raise ValueError(f"solver {solver.name!r} is not installed; available: {', '.join(linopy.available_solvers)}")
    options = _solver_options(name, solver)
    if name == "highs":  # HiGHS keeps one thread scheduler per process: renew it so 'threads' applies
        import highspy

        quiet_highs()
        if plan_fixed or not m.binaries:
            info = solve_blocks(built, solver)
            if info is not None:
                return info
        highspy.Highs.resetGlobalScheduler(True)
        if built.u is not None and m.binaries and not plan_fixed:
            return _solve_from_no_move(built, options)
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


def _solve_from_no_move(built: BuiltModel, options: dict[str, Any]) -> SolveInfo:
    """The MILP on HiGHS, started from the plan without moves (every ``u`` at 0; HiGHS completes
    the rest of the start by solving for it), so that a solve stopped by its time limit ends with
    a plan at least as good as no move and its proven gap."""
    import highspy

    m = built.model
    assert built.u is not None
    h = linopy.io.to_highspy(m)
    for key, value in options.items():
        h.setOptionValue(key, value)
    u = built.u.labels.values.ravel()
    cols = column_positions(m, u[u >= 0])
    h.setSolution(len(cols), cols, np.zeros(len(cols)))
    highspy.Highs.resetGlobalScheduler(True)  # one thread scheduler per process: renew it so 'threads' applies
    t0 = time.perf_counter()
    if h.run() == highspy.HighsStatus.kError:
        raise RuntimeError(f"HiGHS could not solve {built.method.id} ({h.modelStatusToString(h.getModelStatus())})")
    elapsed = time.perf_counter() - t0
    status = h.getModelStatus()
    if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        raise InfeasibleModelError(explain_infeasibility(built))
    info, solution = h.getInfo(), h.getSolution()
    if not solution.value_valid or info.primal_solution_status == 0:
        raise NoSolutionError(f"HiGHS stopped ({h.modelStatusToString(status)}) after {elapsed:.0f} s without a solution", elapsed)
    write_solution(m, m.variables.label_index.vlabels, np.asarray(solution.col_value, dtype=float))
    const = objective_constant(m)
    value = float(info.objective_function_value) + const
    optimal = status == highspy.HighsModelStatus.kOptimal
    m.objective.set_value(value)
    m.status, m.termination_condition = "ok", "optimal" if optimal else "time_limit"
    st = SolveStatus.OPTIMAL if optimal else SolveStatus.TIME_LIMIT
    log.info(
        "solved %s in %.2f s: %s, objective %.4f, gap %.2e", built.method.id, elapsed, h.modelStatusToString(status), value, info.mip_gap
    )
    return SolveInfo(st, value, float(info.mip_dual_bound) + const, float(info.mip_gap), elapsed)


def solve_blocks(
    built: BuiltModel,
    solver: SolverParams,
    *,
    integers_fixed: bool = False,
    use_current: bool = False,
    options: dict[str, HighsValue] = LP_OPTIONS,
) -> SolveInfo | None:
    """The model solved scenario by scenario on HiGHS (an LP once the plan is fixed:
    :func:`lvbalance.model.blocks.solve_by_scenario`, whose keywords these are; ``options`` of each
    block's HiGHS); None when it does not fall apart so, or a block fails (the caller then solves
    it as one model, which explains)."""
    t0 = time.perf_counter()
    try:
        done = solve_by_scenario(
            built.model,
            built.data.scenarios,
            options=options | {"time_limit": solver.time_limit_s},
            threads=solver.threads,
            integers_fixed=integers_fixed,
            use_current=use_current,
        )
    except NotSeparableError as exc:
        log.debug("%s solved as one model: %s", built.method.id, exc)
        return None
    except RuntimeError as exc:
        log.info("%s: %s; solving it as one model", built.method.id, exc)
        return None
    value = built.model.objective.value
    assert value is not None
    elapsed = time.perf_counter() - t0
    log.info("solved %s in %.2f s: optimal, objective %.4f (%d scenario blocks)", built.method.id, elapsed, value, done.blocks)
    return SolveInfo(SolveStatus.OPTIMAL, value, value, 0.0, elapsed)


def _solver_options(name: str, s: SolverParams) -> dict[str, Any]:
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
    """Best bound and relative gap of a solved MILP (the objective and 0 for an LP)."""
    value = m.objective.value
    obj = float(value) if value is not None else math.nan
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
