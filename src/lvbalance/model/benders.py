"""L-shaped (Benders) decomposition of the two-stage model, multi-cut by scenario.

The extensive form (:mod:`lvbalance.model.build`) is one MILP; its LP relaxation is
slow for the simplex method because the V2G schedule makes it highly degenerate, and
branch-and-bound repeats it many times. When stage 2 has no binaries (no line can reach
its heavy-load threshold) the recourse cost ``Q_s(u)`` of each scenario is a convex,
piecewise-linear function of the move choice ``u``, and the two-stage program can be
solved exactly by cutting planes:

* master: ``min lambda1 * C u + sum_s beta_s theta_s`` over the stage-1 rules (MODEL.md
  §4), ``theta_s >= Q_s(u_k) + g_s,k (u - u_k)`` for every visited plan ``u_k``;
* subproblem ``s``: the model of scenario ``s`` alone with ``u`` fixed by its bounds
  (warm-started dual simplex); ``Q_s`` is its objective less the plan cost, ``g_s`` the
  reduced costs of ``u`` less their plan cost.

Lower bound: the master's optimum; upper bound: the best visited plan. Stops when the gap
is at most ``solver.mip_gap`` (or at the time limit, with the gap reached).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import highspy
import linopy
import numpy as np
import pandas as pd
import xarray as xr

from lvbalance.dims import OPTION, SCENARIO
from lvbalance.model.build import BuiltModel, build_model
from lvbalance.model.data import ModelData, model_data
from lvbalance.model.solve import quiet_highs
from lvbalance.model.stage1 import add_stage1
from lvbalance.params import SolverParams
from lvbalance.profiles import ScenarioSet, scenario_subset

log = logging.getLogger(__name__)


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


class _Subproblem:
    """The model of one scenario with ``u`` as columns whose bounds fix the plan."""

    def __init__(self, built: BuiltModel, options: pd.Index) -> None:
        m = built.model
        self.h: highspy.Highs = linopy.io.to_highspy(m)
        self.h.setOptionValue("output_flag", False)
        # interior point with crossover: an exact basis (so exact reduced costs for the cuts), and
        # several times faster than the dual simplex on this degenerate LP (benchmarks/bench_model.py)
        self.h.setOptionValue("solver", "ipm")
        self.h.setOptionValue("run_crossover", "on")
        # no 'threads' here: HiGHS has one thread scheduler per process, fixed by its first solve
        assert built.u is not None
        labels = built.u.labels.sel({OPTION: list(options)}).values
        position = pd.Series(np.arange(len(m.matrices.vlabels)), index=m.matrices.vlabels)
        self.cols = position.loc[labels].to_numpy(dtype=np.int32)
        n = len(self.cols)
        self.h.changeColsIntegrality(n, self.cols, np.zeros(n, dtype=np.uint8))  # continuous: the plan comes from bounds
        self.offset = float(m.objective.expression.const) if hasattr(m.objective.expression, "const") else 0.0

    def evaluate(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        """Objective and reduced costs of ``u`` with the plan fixed at ``u``."""
        n = len(self.cols)
        self.h.changeColsBounds(n, self.cols, u.astype(float), u.astype(float))
        self.h.run()
        status = self.h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"scenario subproblem ended with {self.h.modelStatusToString(status)}")
        obj = self.h.getInfo().objective_function_value
        rc = np.asarray(self.h.getSolution().col_dual)[self.cols]
        return float(obj), rc


def stage2_is_continuous(built: BuiltModel) -> bool:
    """Benders applies when stage 2 has no binaries (no heavy-load variables)."""
    return not built.const.heavy_lines


def solve_benders(built: BuiltModel, solver: SolverParams, scenarios: ScenarioSet) -> BendersResult:
    """Best plan of ``built`` (its options, its stage-1 rules) by multi-cut Benders."""
    t0 = time.perf_counter()
    data: ModelData = built.data
    options = built.options
    ids = pd.Index(options.index, name=OPTION)
    plan_cost = data.case.params.objective.cost_weight * options["cost"].to_numpy(float)
    beta = data.probability.to_series()
    quiet_highs()
    subs = [
        _Subproblem(build_model(model_data(data.case, scenario_subset(scenarios, [s]), options), built.method, reduce_options=False), ids)
        for s in beta.index
    ]
    master = _Master(built, beta, plan_cost)

    def add_cut(u: np.ndarray) -> float:
        """Evaluate every scenario at ``u``, add its cuts; the total objective at ``u``."""
        Q = np.empty(len(beta))
        G = np.empty((len(beta), len(ids)))
        for k, sub in enumerate(subs):
            obj, rc = sub.evaluate(u)
            Q[k] = obj - plan_cost @ u
            G[k] = rc - plan_cost
        G[np.abs(G) < 1e-9] = 0.0  # numerical noise of the reduced costs
        master.add_cuts(Q - G @ u, G)
        return float(plan_cost @ u + beta.to_numpy() @ Q)

    def out_of_time() -> bool:
        return time.perf_counter() - t0 > solver.time_limit_s

    # phase 1: cuts at the optimum of the relaxed master (u in [0, 1]) until its bound stalls;
    # Q_s is convex on the whole box, so these cuts stay valid for the integer master
    # (in-out stabilisation, cuts between the master's point and a point inside, was measured
    # and took as many iterations here)
    best_u = np.zeros(len(ids))
    upper, lower, it = add_cut(best_u), -math.inf, 0
    share = solver.benders_relaxed_time_share * solver.time_limit_s
    for it in range(1, solver.benders_relaxed_iterations + 1):  # noqa: B007 (it counts on after the loop)
        u, bound = master.solve(integer=False)
        if bound - lower <= 1e-6 * max(abs(bound), 1.0) or time.perf_counter() - t0 > share:
            break
        lower = bound
        add_cut(u)
    log.info("benders: relaxed master after %d iteration(s), bound %.4f", it, lower)

    # phase 2: integer master, started from the best plan; every plan it proposes is evaluated exactly
    def tol(value: float) -> float:
        """Gap at which to stop: the MIP gap, and never below round-off."""
        return max(solver.mip_gap, 1e-9) * max(abs(value), 1.0)

    visited = {best_u.tobytes()}
    while not out_of_time():
        it += 1
        # solved exactly: a master solved to a looser gap proposed worse plans and took more
        # iterations and more time in all (default case, m3)
        u, bound = master.solve(integer=True, start=best_u)
        lower = max(lower, bound)
        log.info("benders %d: lower %.4f upper %.4f (%.1f s)", it, lower, upper, time.perf_counter() - t0)
        if upper - lower <= tol(upper):
            break
        if u.tobytes() in visited:  # its cut is already in: lower and upper differ only by round-off
            lower = min(lower, upper)
            break
        visited.add(u.tobytes())
        value = add_cut(u)
        if value < upper:
            upper, best_u = value, u.copy()
        if upper - lower <= tol(upper):
            break
    chosen = [str(i) for i in ids[best_u > 0.5]]
    return BendersResult(chosen, upper, min(lower, upper), it, time.perf_counter() - t0)


class _Master:
    """Stage-1 rules (the same builder as the extensive form) plus the cuts, kept in one
    HiGHS instance: cuts are appended as rows, the relaxed and the integer master differ
    only by the integrality of ``u``."""

    def __init__(self, built: BuiltModel, beta: pd.Series, plan_cost: np.ndarray) -> None:
        m = linopy.Model(force_dim_names=True)
        u = add_stage1(m, built.options, built.data.case.params.planning)
        assert u is not None
        scen = pd.Index(beta.index, name=SCENARIO)
        theta = m.add_variables(lower=0.0, coords=[scen], name="theta")
        cost = xr.DataArray(plan_cost, dims=OPTION, coords={OPTION: u.indexes[OPTION]})
        prob = xr.DataArray(beta.to_numpy(), dims=SCENARIO, coords={SCENARIO: scen})
        m.add_objective((u * cost).sum() + (theta * prob).sum())
        self.h: highspy.Highs = linopy.io.to_highspy(m)
        for key, value in (("output_flag", False), ("mip_rel_gap", 0.0), ("random_seed", 0)):
            self.h.setOptionValue(key, value)
        position = pd.Series(np.arange(len(m.matrices.vlabels)), index=m.matrices.vlabels)
        self.u_cols = position.loc[u.labels.values].to_numpy(dtype=np.int32)
        self.theta_cols = position.loc[theta.labels.values].to_numpy(dtype=np.int32)
        self.n_cols = len(m.matrices.vlabels)
        self.cuts: list[tuple[np.ndarray, np.ndarray]] = []

    def add_cuts(self, const: np.ndarray, grad: np.ndarray) -> None:
        """``theta_s - grad_s . u >= const_s`` for every scenario ``s`` (one row each)."""
        self.cuts.append((const, grad))
        for s, col in enumerate(self.theta_cols):
            nz = np.flatnonzero(grad[s])
            idx = np.concatenate([[col], self.u_cols[nz]]).astype(np.int32)
            val = np.concatenate([[1.0], -grad[s, nz]])
            self.h.addRow(float(const[s]), highspy.kHighsInf, len(idx), idx, val)

    def solve(self, *, integer: bool, start: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """The plan (or relaxed point) and the lower bound; ``start``: a plan to start the integer master from."""
        n = len(self.u_cols)
        kind = highspy.HighsVarType.kInteger if integer else highspy.HighsVarType.kContinuous
        self.h.changeColsIntegrality(n, self.u_cols, np.full(n, kind))
        if integer and start is not None:
            self.h.setSolution(self._point(start))
        self.h.run()
        status = self.h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"Benders master problem ended with {self.h.modelStatusToString(status)}")
        value = np.asarray(self.h.getSolution().col_value)[self.u_cols]
        info = self.h.getInfo()
        bound = info.mip_dual_bound if integer else info.objective_function_value
        return (np.round(value) if integer else np.clip(value, 0.0, 1.0)), float(bound)

    def _point(self, u: np.ndarray) -> highspy.HighsSolution:
        """A full master solution at plan ``u``: each ``theta_s`` at its largest cut."""
        x = np.zeros(self.n_cols)
        x[self.u_cols] = u
        theta = np.max([c + g @ u for c, g in self.cuts], axis=0) if self.cuts else np.zeros(len(self.theta_cols))
        x[self.theta_cols] = np.maximum(theta, 0.0)
        sol = highspy.HighsSolution()
        sol.col_value = list(x)
        return sol
