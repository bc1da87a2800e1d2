"""``model.blocks``: an LP that falls apart by scenario, solved block by block, gives the
solution of the LP solved at once; a row across two scenarios is refused."""

from __future__ import annotations

import linopy
import numpy as np
import pandas as pd
import pytest

from lvbalance.model.blocks import NotSeparableError, solve_by_scenario

SCEN = pd.Index(["a", "b", "c"], name="scenario")
STEPS = pd.RangeIndex(4, name="step")


def _model(coupled: bool = False) -> tuple[linopy.Model, linopy.Variable, linopy.Variable]:
    """``min sum_st cost[s,t] x[s,t]`` with ``sum_t x[s,t] = need[s] + y`` (``y`` shared, fixed by
    its own row) and ``x <= cap[t]``: one LP per scenario once ``y`` is known, unique optimum."""
    m = linopy.Model(force_dim_names=True)
    rng = np.random.default_rng(3)
    cost = rng.uniform(1.0, 2.0, (len(SCEN), len(STEPS)))
    x = m.add_variables(lower=0.0, upper=3.0, coords=[SCEN, STEPS], name="x")
    y = m.add_variables(lower=0.0, upper=10.0, name="y")
    m.add_constraints(y == 1.5, name="y_fixed")
    need = linopy.LinearExpression(None, m) + pd.Series([2.0, 4.0, 6.5], index=SCEN).to_xarray()
    m.add_constraints(x.sum("step") - y == need.const, name="energy")
    if coupled:  # one row over every scenario
        m.add_constraints(x.sum() <= 100.0, name="across")
    m.add_objective((x * cost).sum() + y)
    return m, x, y


def test_blocks_give_the_solution_of_the_whole_lp() -> None:
    m, x, y = _model()
    m.solve(solver_name="highs", io_api="direct", output_flag=False)
    whole = x.solution.copy()
    objective = float(m.objective.value)
    x.solution = x.solution * 0 + 99.0  # overwritten by the blocks
    done = solve_by_scenario(m, SCEN, options={"solver": "ipm", "run_crossover": "on"}, threads=2, use_current=True)
    assert done.blocks == 3
    assert done.columns == x.size  # y is fixed, not a block's column
    np.testing.assert_allclose(x.solution, whole, atol=1e-7)
    assert float(y.solution) == pytest.approx(1.5)
    assert float(m.objective.expression.solution.sum()) + float(m.objective.expression.const) == pytest.approx(objective, rel=1e-9)
    np.testing.assert_allclose(x.solution.sum("step"), [3.5, 5.5, 8.0], atol=1e-7)


def test_a_row_across_scenarios_is_refused() -> None:
    m, _, _ = _model(coupled=True)
    m.solve(solver_name="highs", io_api="direct", output_flag=False)
    with pytest.raises(NotSeparableError, match="span two scenarios"):
        solve_by_scenario(m, SCEN, options={}, threads=1)


def test_fixed_columns_that_break_a_row_are_refused() -> None:
    m, _, y = _model()
    m.solve(solver_name="highs", io_api="direct", output_flag=False)
    y.solution = y.solution * 0 + 2.0  # y_fixed (a row of y alone) no longer holds
    with pytest.raises(NotSeparableError, match="do not hold"):
        solve_by_scenario(m, SCEN, options={}, threads=1, use_current=True)
    solve_by_scenario(m, SCEN, options={}, threads=1)  # without: y comes from its row again
    assert float(y.solution) == pytest.approx(1.5)


def test_shared_columns_without_a_row_that_fixes_them_are_refused() -> None:
    m, _, _ = _model()
    m.remove_constraints("y_fixed")
    with pytest.raises(NotSeparableError, match="not fixed"):
        solve_by_scenario(m, SCEN, options={}, threads=1)
