"""Choosing among equal optima: the smoothest EV schedules (MODEL.md §6, addition).

While the order of the feeders does not change, ``E_I`` does not depend on when an EV
charges, so the optimum of Eq 27 has many EV schedules and the solver returns an
arbitrary vertex, often ``0 -> Pc -> 0`` pulses. After the optimum is found,
:func:`smooth_schedules` solves a second, lexicographic stage on the same model:

* the plan is kept: every binary (``u``, and the heavy-load indicators of stage 2 if any)
  is fixed at its optimal value, so what is left is an LP;
* the optimum is kept: the original objective stays within ``REL_TOL`` of its optimal
  value, and each scenario's imbalance ``sum_t I[s,t]`` within ``REL_TOL`` of its own, so
  ``E_I`` is that of the optimum within ``REL_TOL`` (relative);
* among those schedules, the total variation of the dispatched EV power
  ``sum_{e,s,t} |x[e,s,t] - x[e,s,t-1]|`` (``x = (1 - alpha) X + v``) is minimised, each
  step split into its rise and fall, ``x[t] - x[t-1] = up - down`` with ``up, down >= 0``.

The split takes one equality row per EV and step where the epigraph ``w >= +-(x[t] - x[t-1])``
takes two inequalities, and the LP is far less degenerate: the blocks of Schutterwald area 10
(33 EVs) took about 0.5 s each (dual simplex, :data:`SMOOTH_BLOCK_OPTIONS`) instead of 6 s
(epigraph, interior point with crossover).

Total variation rather than the squared deviation from uncontrolled charging: it is the
measure an operator feels (every jump is a set-point change), it removes the pulses
directly, and it keeps the second stage an LP for the same solver. Once the binaries
are fixed the LP is block-separable by scenario, so solving it at once is the same as
solving it scenario by scenario.

When the second stage fails (no solution, numerical trouble) the optimal schedules of
the first stage are restored, with a warning: smoothing never costs the plan.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import linopy
import numpy as np
import pandas as pd
import xarray as xr
from linopy.constants import TERM_DIM

from lvbalance.case import Case
from lvbalance.dims import EV, SCENARIO, STEP
from lvbalance.model.blocks import LP_OPTIONS, HighsValue, expression_value, scenario_of_labels
from lvbalance.model.build import BuiltModel
from lvbalance.model.solve import _solver_options, solve_blocks
from lvbalance.params import SolverParams

log = logging.getLogger(__name__)

REL_TOL = 1e-6
"""How far the objective and each scenario's imbalance may move from the optimum [relative]."""


SMOOTH_BLOCK_OPTIONS: dict[str, HighsValue] = LP_OPTIONS | {"solver": "simplex", "simplex_strategy": 1, "simplex_scale_strategy": 4}
"""HiGHS options of each scenario block of the second stage: the dual simplex, with HiGHS's
"max value" scaling (4) instead of its default equilibration (2). Measured (one run each,
v2g_only, the six blocks' times summed): Schutterwald area 10 3.2 s (equilibration 6.4 s; the
interior point with crossover ~11 s; the primal simplex 50-80 s per block; the interior point
without crossover did not end optimal), area 2 4.7 s (9.7 s), default case 0.6 s (1.6 s); the
same total variation. ``benchmarks/bench_smooth.py`` compares them side by side. The epigraph
formulation with the interior point and crossover (the earlier choice) took 38 s on area 10."""


HIGHS_LP_OPTIONS: dict[str, object] = {"solver": "ipm"}  # as one LP (no blocks)
"""HiGHS options of the second stage: its LP is highly degenerate; the interior-point method
(with crossover, for a basic solution) took 41 s on the default case where dual simplex
took 58 s (m1) and did not finish in 60 s (v2g_only). Without crossover m1's stage took 34 s
instead of 59 s in one run, but m3's ended with status 'unknown' in the demo (no smoothing):
crossover stays on."""


@dataclass(frozen=True)
class SmoothInfo:
    """What the second stage did."""

    applied: bool
    """False when it failed and the first stage's schedules were kept"""
    objective_before: float
    """original objective (Eq 27) at the optimum [currency]"""
    objective_after: float
    """original objective of the smoothed schedules [currency]"""
    total_variation_before_kw: float
    """sum over EVs, scenarios and steps of |x[t] - x[t-1]| before [kW]"""
    total_variation_after_kw: float
    time_s: float


def dispatched_power(built: BuiltModel) -> xr.DataArray | None:
    """(scenario, step, ev) EV power as scheduled, ``x = (1 - alpha) X + v`` [kW] (None without EVs)."""
    if built.ev is None:
        return None
    return ((1 - built.const.alpha) * built.data.ev_uncontrolled_kw + built.ev.v.solution).transpose(SCENARIO, STEP, EV)


def total_variation(x: xr.DataArray) -> xr.DataArray:
    """(scenario, ev) ``sum_t |x[t] - x[t-1]|`` of a (scenario, step, ev) power [kW]."""
    return abs(x.diff(STEP)).sum(STEP)


def smooth_schedules(
    built: BuiltModel, solver: SolverParams, *, block_options: dict[str, HighsValue] | None = SMOOTH_BLOCK_OPTIONS
) -> SmoothInfo:
    """The smoothest EV schedules among the optimal ones of the solved ``built`` (in place).

    ``built`` must hold a solution. Afterwards its variables hold the smoothed solution
    (or, if the second stage failed, the first stage's), its objective is the total
    variation, and the constraints of the second stage stay in the model.
    ``block_options``: with HiGHS, solve it scenario by scenario with these options (None: as one
    LP; for ``benchmarks/bench_smooth.py``).
    """
    t0 = time.perf_counter()
    m = built.model
    ev = built.ev
    assert ev is not None, "smoothing needs EV schedules"
    objective = m.objective.expression
    optimum = float(m.objective.value) if m.objective.value is not None else float("nan")
    x0 = dispatched_power(built)
    assert x0 is not None
    tv_before = float(total_variation(x0).sum())
    saved = {name: m.variables[name].solution.copy() for name in m.variables}

    # keep the plan: binaries fixed (stage 2 becomes an LP)
    for name in list(m.binaries):
        var = m.variables[name]
        value = var.solution.fillna(0.0).round()
        m.add_constraints(var == value, name=f"smooth_fix_{name}", mask=var.labels != -1)
    # keep the optimum: the objective, and each scenario's imbalance
    # scenario by scenario: one row over the whole objective would be dense and cost the
    # interior-point method 15 times the time (48 s instead of 3 s on the default case)
    share, shared = objective_by_scenario(m, objective, built.data.scenarios)
    share_opt = share.solution
    m.add_constraints(share <= share_opt + REL_TOL * np.maximum(abs(share_opt), 1.0), name="smooth_objective")
    if shared.nterm:
        shared_opt = expression_value(shared)
        m.add_constraints(shared <= shared_opt + REL_TOL * max(abs(shared_opt), 1.0), name="smooth_objective_shared")
    imb = built.imbalance.sigma_max - built.imbalance.sigma_min
    imb_opt = (built.imbalance.sigma_max.solution - built.imbalance.sigma_min.solution).sum(STEP)
    m.add_constraints(imb.sum(STEP) <= imb_opt + REL_TOL * np.maximum(abs(imb_opt), 1e-3), name="smooth_imbalance")

    # total variation of x = (1 - alpha) X + v: epigraph w >= |dv + dc|
    v = ev.v
    steps = built.data.load_kw[STEP].values[1:]
    if len(steps):
        dc = ((1 - built.const.alpha) * built.data.ev_uncontrolled_kw).transpose(SCENARIO, STEP, EV).diff(STEP)
        dv = v.sel(step=steps) - v.shift(step=1).sel(step=steps)
        coords = [dc.indexes[d] for d in dc.dims]
        up = m.add_variables(lower=0.0, coords=coords, name="smooth_up")
        down = m.add_variables(lower=0.0, coords=coords, name="smooth_down")
        m.add_constraints(dv - up + down == -dc, name="smooth_tv")
        m.add_objective(up.sum() + down.sum(), overwrite=True)
    else:
        m.add_objective(0 * v.sum(), overwrite=True)

    try:
        _solve_lp(built, solver, block_options)
        after = expression_value(objective)
        if not after <= optimum + 10 * REL_TOL * max(abs(optimum), 1.0):
            raise RuntimeError(f"objective {after:.9g} above the optimum {optimum:.9g}")
    except Exception as exc:  # any failure of the second stage keeps the optimum found
        log.warning("smoothing the EV schedules failed (%s): keeping the schedules of the optimum", exc)
        for name, sol in saved.items():
            m.variables[name].solution = sol
        return SmoothInfo(False, optimum, optimum, tv_before, tv_before, time.perf_counter() - t0)
    x1 = dispatched_power(built)
    assert x1 is not None
    tv_after = float(total_variation(x1).sum())
    elapsed = time.perf_counter() - t0
    log.info(
        "smoothed EV schedules of %s in %.2f s: total variation %.1f -> %.1f kW, objective %.6f -> %.6f",
        built.method.id,
        elapsed,
        tv_before,
        tv_after,
        optimum,
        after,
    )
    return SmoothInfo(True, optimum, after, tv_before, tv_after, elapsed)


def without_smoothing(case: Case) -> Case:
    """``case`` with this second stage switched off (``solver.smooth_schedules``): for solves whose
    plan, E[I] or objective value is all that is read - it changes none of them."""
    return case.with_params(case.params.updated(solver={"smooth_schedules": False}))


def objective_by_scenario(
    m: linopy.Model, objective: linopy.LinearExpression | linopy.QuadraticExpression, scenarios: pd.Index
) -> tuple[linopy.LinearExpression, linopy.LinearExpression]:
    """``objective`` split into each scenario's share (a (scenario,) expression: the terms of
    variables with a scenario dimension) and the rest (terms of variables without one, such
    as the plan's ``u``); constants dropped.

    Once the plan is fixed, the scenarios' shares are independent: each is at its own
    minimum at the optimum, so bounding each by its optimal value keeps the optimum.
    """
    flat = objective.flat
    flat = flat[flat["vars"] >= 0]
    which = scenario_of_labels(m, scenarios)[flat["vars"].to_numpy()]
    groups = [flat[which == k] for k in range(len(scenarios))]
    width = max([len(g) for g in groups] + [1])
    V = np.full((len(scenarios), width), -1, dtype=np.int64)
    C = np.zeros((len(scenarios), width))
    for k, g in enumerate(groups):
        V[k, : len(g)] = g["vars"].to_numpy()
        C[k, : len(g)] = g["coeffs"].to_numpy()
    dims = (SCENARIO, TERM_DIM)
    share = linopy.LinearExpression(
        xr.Dataset({"coeffs": (dims, C), "vars": (dims, V), "const": (SCENARIO, np.zeros(len(scenarios)))}, coords={SCENARIO: scenarios}), m
    )
    rest = flat[which < 0]
    rest_terms = {"coeffs": (TERM_DIM, rest["coeffs"].to_numpy()), "vars": (TERM_DIM, rest["vars"].to_numpy().astype(np.int64))}
    shared = linopy.LinearExpression(xr.Dataset(rest_terms | {"const": 0.0}), m)
    return share, shared


def _solve_lp(built: BuiltModel, solver: SolverParams, block_options: dict[str, HighsValue] | None) -> None:
    """Solve the second stage; raise unless it ends optimal.

    With HiGHS scenario by scenario, side by side (:mod:`lvbalance.model.blocks`): the plan is
    fixed, so the LP falls apart by scenario (MODEL.md §6: "a second, lexicographic stage per
    scenario"); as one LP when it does not.
    """
    name = solver.name.lower()
    options = _solver_options(name, solver)
    if name == "highs":
        import highspy

        blocks = block_options is not None and solve_blocks(built, solver, integers_fixed=True, use_current=True, options=block_options)
        if blocks:
            return
        highspy.Highs.resetGlobalScheduler(True)
        options.update(HIGHS_LP_OPTIONS)
    # the binaries are fixed at the optimum: linopy's warning that an interior-point run ignores
    # integrality is expected here, and kept out of the user's log
    solver_log = logging.getLogger("linopy.solvers")
    level = solver_log.level
    solver_log.setLevel(logging.ERROR)
    try:
        status, condition = built.model.solve(
            solver_name=name, io_api="direct" if name in ("highs", "gurobi") else None, progress=False, **options
        )
    finally:
        solver_log.setLevel(level)
    if condition != "optimal":
        raise RuntimeError(f"solver {name} ended with {status} ({condition})")
