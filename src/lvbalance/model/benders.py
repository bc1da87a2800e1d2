"""L-shaped (Benders) decomposition of the two-stage model, multi-cut by scenario.

The extensive form (:mod:`lvbalance.model.build`) is one MILP; its LP relaxation is
slow for the simplex method because the V2G schedule makes it highly degenerate, and
branch-and-bound repeats it many times. When stage 2 has no binaries (no line can reach
its heavy-load threshold) the recourse cost ``Q_s(u)`` of each scenario is a convex,
piecewise-linear function of the move choice ``u``, and the two-stage program can be
solved exactly by cutting planes:

* master (:mod:`lvbalance.model.master`): ``min lambda1 * C u + sum_s beta_s theta_s`` over
  the stage-1 rules (MODEL.md §4), ``theta_s >= Q_s(u_k) + g_s,k (u - u_k)`` for every visited
  plan ``u_k``, the same at a point a step from ``u_k`` towards a core point (its Pareto cut,
  :func:`core_point`), and ``theta_s >=`` the coarse stage 2 of :mod:`lvbalance.model.coarse`
  (block means of the feeder loads, exact in ``u``);
* subproblem ``s``: the model of scenario ``s`` alone with ``u`` fixed
  (:mod:`lvbalance.model.recourse`).

The cuts alone are linear in ``u`` and meet ``Q_s`` only at the plans evaluated: m3 on the default
case needed 32 iterations (its LP bound half the optimum). The coarse stage 2 lets the master's
branch-and-bound see the imbalance each combination of moves leaves: 2 iterations
(``benchmarks/bench_cuts.py``).

Lower bound: the master's optimum; upper bound: the best visited plan. Stops when the gap
is at most ``solver.mip_gap``, or at ``solver.benders_max_iterations`` (a work limit: the same
plan and gap on every machine) or the time limit, with the gap reached.

``Q_s`` depends on the plan and on stage 2 only, not on the budget or the cost weight: a
:class:`~lvbalance.model.recourse.RecoursePool` keeps the subproblems, every cut, every plan
evaluated and its stage-2 solution, for the next solve over the same stage 2.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lvbalance.dims import OPTION
from lvbalance.model.blocks import serial_highs
from lvbalance.model.build import BuiltModel
from lvbalance.model.data import ModelData
from lvbalance.model.recourse import RecoursePool
from lvbalance.model.stage1 import allowed_cost
from lvbalance.params import SolverParams
from lvbalance.profiles import ScenarioSet

log = logging.getLogger(__name__)


PARETO_STEP = 0.05
"""Step from the master's plan towards the core point where its Pareto cut is taken [-]
(:func:`core_point`)."""


def core_point(options: pd.DataFrame, max_moved: int) -> np.ndarray:
    """A point inside the relaxed plan set: every option at the same share, half of what the
    one-move-per-end-node rows and the moved-customer limit allow.

    Why: at a plan, stage 2 is highly degenerate (V2G evens the feeders out, so several of them
    tie at the maximum), and the duals the subproblem happens to return give a cut that is tight
    at that plan and weak elsewhere. The dual solution at a point a step from the plan towards
    a point inside (:data:`PARETO_STEP`) is, for a small enough step, one of the plan's optimal
    duals - the one whose cut is highest at the inner point (Magnanti and Wong's Pareto-optimal
    cut, by the perturbed right-hand side of Sherali and Lunday). The inner point moves halfway
    to each plan visited (Papadakos). m3, one Benders solve each (integer master only; scratch
    script, seconds under cProfile): default case plain cuts 84 iterations (``bench_cuts``),
    step 0.2 29 / 47 s, step 0.05 32 / 40.9 s; area 2 plain 24 / 44.0 s, 0.2 15 / 53.8 s,
    0.05 16 / 42.4 s; area 10 plain 47 / 126.3 s, 0.2 26 / 87.5 s, 0.05 29 / 71.6 s. A longer
    step gives fewer iterations, but the warm start from the plan's basis takes longer.
    """
    per_end = options.groupby("end_node")["q"].transform("size").to_numpy(float)
    moved = float(options["q"].sum())
    share = 0.5 * min(1.0 / per_end.max(), max_moved / moved if moved else 1.0)
    return np.full(len(options), share)


@dataclass(frozen=True)
class BendersResult:
    """Best plan found by the decomposition, with its bounds."""

    chosen: list[str]
    """option ids of the best plan"""
    upper_bound: float
    """objective of the best plan [currency]"""
    lower_bound: float
    """master's bound [currency]"""
    iterations: int
    time_s: float

    @property
    def gap(self) -> float:
        """Relative gap between the bounds [-]."""
        return 0.0 if self.upper_bound == self.lower_bound else (self.upper_bound - self.lower_bound) / max(abs(self.upper_bound), 1e-9)


def stage2_is_continuous(built: BuiltModel) -> bool:
    """Benders applies when stage 2 has no binaries (no heavy-load variables)."""
    return not built.const.heavy_lines


def solve_benders(
    built: BuiltModel,
    solver: SolverParams,
    scenarios: ScenarioSet,
    pool: RecoursePool | None = None,
    *,
    pareto_step: float = PARETO_STEP,
) -> BendersResult:
    """Best plan of ``built`` (its options, its stage-1 rules) by multi-cut Benders.

    ``pool``: cuts and plan values of earlier solves over the same stage 2 (module docstring);
    it is attached to ``built`` and holds this solve's cuts afterwards. ``pareto_step``: where
    each plan's Pareto cut is taken (:func:`core_point`; 0: none, ``benchmarks/bench_cuts.py``).
    """
    t0 = time.perf_counter()
    data: ModelData = built.data
    options = built.options
    ids = pd.Index(options.index, name=OPTION)
    plan_cost = data.case.params.objective.cost_weight * options["cost"].to_numpy(float)
    budget = data.case.params.planning.budget
    beta = data.probability.to_series().to_numpy()
    pool = pool if pool is not None else RecoursePool()
    serial_highs()
    pool.attach(built, scenarios)
    master = pool.master(built, solver.benders_coarse_block_h)
    master.configure(plan_cost, budget)

    def value(u: np.ndarray, Q: np.ndarray) -> float:
        return float(plan_cost @ u + beta @ Q)

    def add_cut(u: np.ndarray, near: np.ndarray | None = None) -> float:
        """Evaluate every scenario at ``u`` (and ``near``), add the cuts; the total objective at ``u``."""
        Q = pool.evaluate(u, solver.threads, near)
        master.sync(pool.cuts)
        return value(u, Q)

    def within_budget(u: np.ndarray) -> bool:
        return budget is None or float(options["cost"].to_numpy(float) @ u) <= allowed_cost(budget)

    def out_of_time() -> bool:
        return time.perf_counter() - t0 > solver.time_limit_s

    def out_of_work(done: int) -> bool:
        """The work limit: ``done`` iterations made."""
        return solver.benders_max_iterations is not None and done >= solver.benders_max_iterations

    # the incumbent: the best plan evaluated so far that this solve admits (no move at first)
    best_u = np.zeros(len(ids))
    upper = add_cut(best_u)
    for u, Q in pool.values.values():  # (relaxed-phase and Pareto points are fractional: not plans)
        if np.all((u == 0.0) | (u == 1.0)) and within_budget(u) and value(u, Q) < upper:
            best_u, upper = u.copy(), value(u, Q)

    # phase 1 (off by default: solver.benders_relaxed_iterations): cuts at the optimum of the
    # relaxed master (u in [0, 1]) until its bound stalls; Q_s is convex on the whole box, so these
    # cuts stay valid for the integer master; skipped when an earlier solve already did it on the pool
    lower, it = -math.inf, 0
    share = solver.benders_relaxed_time_share * solver.time_limit_s
    relaxed = solver.benders_relaxed_iterations if len(pool.cuts) <= 1 else 0
    for it in range(1, relaxed + 1):  # it counts on after the loop
        if out_of_work(it - 1):
            break
        u, bound = master.solve(integer=False)
        if bound - lower <= 1e-6 * max(abs(bound), 1.0) or time.perf_counter() - t0 > share:
            break
        lower = bound
        add_cut(u)
    if relaxed:
        log.info("benders: relaxed master after %d iteration(s), bound %.4f", it, lower)

    # phase 2: integer master, started from the best plan; every plan it proposes is evaluated exactly,
    # with its Pareto cut at a point a step towards the core point
    core = core_point(options, data.case.params.planning.max_moved_customers)

    def tol(value: float) -> float:
        """Gap at which to stop: the MIP gap, and never below round-off."""
        return max(solver.mip_gap, 1e-9) * max(abs(value), 1.0)

    while not out_of_time() and not out_of_work(it):
        it += 1
        # solved exactly: a master solved to a looser gap proposed worse plans and took more
        # iterations and more time in all (default case, m3)
        u, bound = master.solve(integer=True, start=best_u)
        lower = max(lower, bound)
        gap = 100.0 * max(upper - lower, 0.0) / max(abs(upper), 1e-9)
        log.info("benders %d: gap %.2f %% (lower %.4f, upper %.4f; %.1f s)", it, gap, lower, upper, time.perf_counter() - t0)
        if upper - lower <= tol(upper):
            break
        if u.tobytes() in pool.values:  # its cut is already in: lower and upper differ only by round-off
            lower = min(lower, upper)
            break
        total = add_cut(u, near=(1.0 - pareto_step) * u + pareto_step * core if pareto_step > 0 else None)
        core = 0.5 * (core + u)
        if total < upper:
            upper, best_u = total, u.copy()
        if upper - lower <= tol(upper):
            break
    chosen = [str(i) for i in ids[best_u > 0.5]]
    return BendersResult(chosen, upper, min(lower, upper), it, time.perf_counter() - t0)
