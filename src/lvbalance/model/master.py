"""The Benders master (:mod:`lvbalance.model.benders`): the stage-1 rules (MODEL.md §4), one
``theta_s`` per scenario for its recourse, and two lower bounds on it:

* the coarse stage 2 of :mod:`lvbalance.model.coarse` (block means of the feeder loads, exact in
  the plan): ``theta_s >= coarse_s(u)``;
* the cuts of the plans evaluated so far: ``theta_s >= Q_s(u_k) + g_s,k (u - u_k)``.

Kept in one HiGHS instance: cuts are appended as rows, the relaxed and the integer master differ
only by the integrality of ``u``, and the budget and the plan's cost weight by a row bound and
column costs. Built once per stage 2 (:meth:`lvbalance.model.recourse.RecoursePool.master`): the
coarse stage 2 takes linopy ~0.5 s to build on the default case's m3, each master solve ~0.2-1 s.
"""

from __future__ import annotations

import highspy
import linopy
import numpy as np
import pandas as pd
import xarray as xr

from lvbalance.dims import SCENARIO
from lvbalance.model.blocks import column_positions
from lvbalance.model.build import BuiltModel
from lvbalance.model.coarse import add_coarse_recourse, coarse_data
from lvbalance.model.stage1 import add_stage1, allowed_cost, plan_cost

MASTER_OPTIONS: dict[str, bool | int | float | str] = {
    "output_flag": False,
    "mip_rel_gap": 0.0,
    "random_seed": 0,
    # the master's rows are dense cuts: HiGHS's root reduced-cost sub-MIP and its restart after
    # root presolve cost more than they find; without them the master of m3 on the default case
    # with all 71 iterations' cuts took 1.85 s instead of 3.55 s, the same 109 nodes and bound
    # (the cuts of 20 and 40 iterations: 0.79 -> 0.33 s, 2.31 -> 0.81 s)
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_allow_restart": False,
    "threads": 1,  # between rounds of subproblems that run side by side (blocks.serial_highs)
}
"""HiGHS options of the Benders master."""


class Master:
    """The master problem over ``built``'s options and stage-1 rules, without a budget and with the
    plan's cost at 0 until :meth:`configure` sets them (so one master serves every budget and cost
    weight of the same stage 2: the points of a trade-off front).

    ``beta``: each scenario's probability; ``coarse_block_h``: length of the coarse stage 2's blocks
    of steps [h] (0: without it).
    """

    def __init__(self, built: BuiltModel, beta: pd.Series, coarse_block_h: float) -> None:
        m = linopy.Model(force_dim_names=True)
        options = built.options
        u = add_stage1(m, options, built.data.case.params.planning.model_copy(update={"budget": None}))
        assert u is not None
        scen = pd.Index(beta.index, name=SCENARIO)
        theta = m.add_variables(lower=0.0, coords=[scen], name="theta")
        if coarse_block_h > 0:
            coarse = coarse_data(built.data, built.const, options, coarse_block_h)
            m.add_constraints(theta - add_coarse_recourse(m, u, coarse, built.data) >= 0, name="theta_coarse")
        prob = xr.DataArray(beta.to_numpy(), dims=SCENARIO, coords={SCENARIO: scen})
        m.add_objective((theta * prob).sum())
        self.h: highspy.Highs = linopy.io.to_highspy(m)
        for key, value in MASTER_OPTIONS.items():
            self.h.setOptionValue(key, value)
        self.coarse_block_h = coarse_block_h
        self.u_cols = column_positions(m, u.labels.values)
        self.theta_cols = column_positions(m, theta.labels.values)
        self.cuts: list[tuple[np.ndarray, np.ndarray]] = []
        self._cost = plan_cost(options).to_numpy().astype(float)
        self._budget_row = self.h.getNumRow()
        self.h.addRow(-highspy.kHighsInf, highspy.kHighsInf, len(self.u_cols), self.u_cols, self._cost)

    def configure(self, plan_cost: np.ndarray, budget: float | None) -> None:
        """The plan's cost per option in the objective's weighting, and the budget (None: none;
        with the allowance of :func:`~lvbalance.model.stage1.add_budget_limit`)."""
        self.h.changeColsCost(len(self.u_cols), self.u_cols, np.asarray(plan_cost, dtype=float))
        upper = highspy.kHighsInf if budget is None else allowed_cost(budget)
        self.h.changeRowBounds(self._budget_row, -highspy.kHighsInf, upper)

    def sync(self, cuts: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Add the cuts of ``cuts`` (a pool's list, which only grows) not in the master yet."""
        for const, grad in cuts[len(self.cuts) :]:
            self.add_cuts(const, grad)

    def add_cuts(self, const: np.ndarray, grad: np.ndarray) -> None:
        """``theta_s - grad_s . u >= const_s`` for every scenario ``s`` (one row each)."""
        self.cuts.append((const, grad))
        for s, col in enumerate(self.theta_cols):
            nz = np.flatnonzero(grad[s])
            idx = np.concatenate([[col], self.u_cols[nz]]).astype(np.int32)
            val = np.concatenate([[1.0], -grad[s, nz]])
            self.h.addRow(float(const[s]), highspy.kHighsInf, len(idx), idx, val)

    def solve(self, *, integer: bool, start: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """The plan (or relaxed point) and the lower bound; ``start``: a plan to start the integer
        master from (HiGHS completes the other columns)."""
        n = len(self.u_cols)
        kind = highspy.HighsVarType.kInteger if integer else highspy.HighsVarType.kContinuous
        self.h.changeColsIntegrality(n, self.u_cols, np.full(n, kind))
        if integer and start is not None:
            self.h.setSolution(n, self.u_cols, np.asarray(start, dtype=float))
        self.h.run()
        status = self.h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"Benders master problem ended with {self.h.modelStatusToString(status)}")
        value = np.asarray(self.h.getSolution().col_value)[self.u_cols]
        info = self.h.getInfo()
        bound = info.mip_dual_bound if integer else info.objective_function_value
        # + 0.0: no negative zeros (plans are keyed by their bytes)
        return (np.round(value) if integer else np.clip(value, 0.0, 1.0)) + 0.0, float(bound)
