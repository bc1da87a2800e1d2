"""``model.coarse``: the coarse stage 2 of the Benders master is a lower bound on each
scenario's recourse at every plan, and exact where nothing is left out.

Case: :func:`tests.fixtures.fig3_coarse` at 4000 per point with the hand-built scenarios of
``tests/test_benders.py``; every feasible plan is enumerated (:func:`tests.fixtures.feasible_plans`)
and each scenario's recourse ``Q_s`` is solved exactly by the Benders subproblems.
"""

from __future__ import annotations

import highspy
import linopy
import numpy as np
import pandas as pd
import pytest

from lvbalance.coupling import move_options
from lvbalance.dims import OPTION, SCENARIO
from lvbalance.model.benders import solve_benders
from lvbalance.model.blocks import column_positions
from lvbalance.model.build import BuiltModel, build_model
from lvbalance.model.coarse import add_coarse_recourse, coarse_data, step_blocks
from lvbalance.model.data import model_data
from lvbalance.model.methods import METHODS
from lvbalance.model.recourse import RecoursePool
from tests.fixtures import feasible_plans, fig3_coarse, hand_scenarios, rel_close


def _built(method: str, **objective: float):
    case = fig3_coarse(objective={"imbalance_weight": 4000.0, **objective}, solver={"algorithm": "benders"})
    scen = hand_scenarios(case, seed=0, base_kw={"commercial": 6.0, "pv": -2.0})
    return case, scen, build_model(model_data(case, scen, move_options(case)), METHODS[method])


class _Coarse:
    """The coarse stage 2 of every scenario on its own, solved at one plan after another."""

    def __init__(self, built: BuiltModel, block_h: float) -> None:
        m = linopy.Model(force_dim_names=True)
        u = m.add_variables(lower=0.0, upper=1.0, coords=[pd.Index(built.options.index, name=OPTION)], name="u")
        bound = add_coarse_recourse(m, u, coarse_data(built.data, built.const, built.options, block_h), built.data)
        theta = m.add_variables(lower=0.0, coords=[built.data.probability.indexes[SCENARIO]], name="theta")
        m.add_constraints(theta - bound >= 0)
        m.add_objective(theta.sum())  # the scenarios are independent: each theta at its own minimum
        self.h = linopy.io.to_highspy(m)
        self.h.setOptionValue("output_flag", False)
        self.u, self.theta = column_positions(m, u.labels.values), column_positions(m, theta.labels.values)

    def __call__(self, plan: np.ndarray) -> np.ndarray:
        self.h.changeColsBounds(len(self.u), self.u, plan, plan)
        self.h.run()
        assert self.h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        return np.asarray(self.h.getSolution().col_value)[self.theta]


def _plans(built: BuiltModel, max_moved: int) -> list[np.ndarray]:
    ids = list(built.options.index)
    return [np.isin(ids, plan).astype(float) for plan in feasible_plans(built.options, max_moved)]


@pytest.fixture(scope="module")
def m1_recourse():
    """m1's model, every feasible plan and each scenario's ``Q_s`` there."""
    case, scen, built = _built("m1")
    pool = RecoursePool()
    pool.attach(built, scen)
    plans = _plans(built, case.params.planning.max_moved_customers)
    return built, plans, [pool.evaluate(plan, threads=2) for plan in plans]


def test_blocks_are_runs_of_the_given_length() -> None:
    assert step_blocks(8, 0.25, 0.5).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert step_blocks(7, 1.0, 3.0).tolist() == [0, 0, 0, 1, 1, 1, 2]
    assert step_blocks(4, 1.0, 0.1).tolist() == [0, 1, 2, 3]  # never shorter than one step


@pytest.mark.parametrize("block_h", [1.0, 6.0, 24.0])
def test_the_coarse_stage_2_lies_below_the_recourse_at_every_plan(m1_recourse, block_h: float) -> None:
    """V2G, ramp, wear: the coarse bound (block means, V2G pooled per feeder) never exceeds ``Q_s``."""
    built, plans, recourse = m1_recourse
    assert len(plans) > 5
    coarse_value, gaps = _Coarse(built, block_h), []
    for plan, exact in zip(plans, recourse, strict=True):
        coarse = coarse_value(plan)
        assert np.all(coarse <= exact + 1e-6 * np.maximum(1.0, np.abs(exact)))
        gaps.append(float(np.max(exact - coarse)))
    assert max(gaps) > 1e-3  # not trivially exact: V2G's ramp and per-EV limits are left out


def test_the_coarse_stage_2_step_by_step_is_the_recourse_without_v2g() -> None:
    """m2 (no V2G), blocks of one step, no line rule: nothing is left out, so at every plan the
    coarse stage 2 equals ``Q_s`` (the feeder loads of each plan are right)."""
    case, scen, built = _built("m2", peak_imbalance_weight=10.0)
    assert not built.const.hard_lines and not built.const.heavy_lines
    pool = RecoursePool()
    pool.attach(built, scen)
    plans = _plans(built, case.params.planning.max_moved_customers)
    coarse_value = _Coarse(built, built.data.step_hours)
    for plan in plans:
        exact, coarse = pool.evaluate(plan, threads=2), coarse_value(plan)
        assert np.allclose(coarse, exact, rtol=1e-7, atol=1e-6)
    assert len({round(float(pool.evaluate(p, threads=1)[0]), 6) for p in plans}) > 3  # the plans differ


@pytest.mark.slow
def test_benders_ends_at_the_same_optimum_with_or_without_the_coarse_stage_2() -> None:
    case, scen, built = _built("m1")
    with_coarse = solve_benders(built, case.params.solver, scen, RecoursePool())
    cuts_only = solve_benders(built, case.params.solver.model_copy(update={"benders_coarse_block_h": 0.0}), scen, RecoursePool())
    assert rel_close(with_coarse.upper_bound, cuts_only.upper_bound, 1e-6)
    assert with_coarse.gap <= max(case.params.solver.mip_gap, 1e-9) and cuts_only.gap <= max(case.params.solver.mip_gap, 1e-9)
    assert with_coarse.iterations <= cuts_only.iterations
