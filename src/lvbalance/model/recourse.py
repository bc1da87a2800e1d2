"""The recourse of the two-stage model: one LP per scenario with the plan as fixed columns
(MODEL.md §5: once the plan is fixed, stage 2 falls apart by scenario), and the pool of what
Benders found on them (:mod:`lvbalance.model.benders`).

* :class:`_Subproblem`: scenario ``s``'s LP with ``u`` as columns whose bounds fix the plan
  (interior point with crossover at a plan, the dual simplex from its basis at a point near it);
  ``Q_s`` is its objective less the plan cost, ``g_s`` the reduced costs of ``u`` less their plan
  cost.
* :class:`RecoursePool`: the subproblems of one stage 2, every cut and plan value found on them,
  and each plan's stage-2 solution, so that the solves of one method over the same scenarios and
  options (the plan of the case's weight, then each point of the trade-off front) start from all
  that the earlier ones found, and a plan needs no solve of its own once chosen. The scenario
  subproblems of one evaluation are solved side by side in ``solver.threads`` threads (HiGHS
  releases the interpreter lock while it solves; each subproblem is its own HiGHS instance, so
  the result does not depend on the order they finish in).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import highspy
import linopy
import numpy as np
import pandas as pd

from lvbalance.case import Case
from lvbalance.dims import OPTION, SCENARIO
from lvbalance.model.blocks import NotSeparableError, column_positions, expression_value, scenario_lps, write_solution
from lvbalance.model.build import BuiltModel, build_model
from lvbalance.model.data import ModelData, model_data
from lvbalance.model.master import Master
from lvbalance.model.solve import quiet_highs
from lvbalance.model.stage1 import PLAN_RULES
from lvbalance.profiles import ScenarioSet, scenario_subset

log = logging.getLogger(__name__)


class _Solved(NamedTuple):
    """A subproblem solved at one point."""

    value: float
    """``Q_s`` (in the LP's weighting)"""
    gradient: np.ndarray
    """its subgradient in ``u``"""
    x: np.ndarray
    """the LP's primal solution"""


class _Subproblem:
    """The LP of one scenario with ``u`` as columns whose bounds fix the plan."""

    def __init__(self, lp: highspy.HighsLp, cols: np.ndarray) -> None:
        self.h: highspy.Highs = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        # interior point with crossover: an exact basis (so exact reduced costs for the cuts), and
        # several times faster than the dual simplex on this degenerate LP (benchmarks/bench_model.py)
        self.h.setOptionValue("solver", "ipm")
        self.h.setOptionValue("run_crossover", "on")
        self.h.setOptionValue("threads", 1)  # the subproblems run side by side: each serial (blocks.serial_highs)
        self.h.passModel(lp)
        self.cols = cols.astype(np.int32)
        """columns of ``u`` in the LP, in the order of the options"""
        self.cost = np.asarray(lp.col_cost_, dtype=float)[self.cols]
        """the plan's cost coefficients in the LP's objective"""

    @classmethod
    def of_model(cls, built: BuiltModel, options: pd.Index) -> _Subproblem:
        """From a model of one scenario (its own build)."""
        m = built.model
        assert built.u is not None
        labels = built.u.labels.sel({OPTION: list(options)}).values
        return cls(linopy.io.to_highspy(m).getLp(), column_positions(m, labels))

    def evaluate(self, u: np.ndarray, near: np.ndarray | None = None) -> list[_Solved | None]:
        """Objective, reduced costs and solution with the plan fixed at ``u`` (objective and reduced
        costs less the plan's cost); and the same at ``near`` (a point close to ``u``) if given,
        warm-started from ``u``'s basis by the dual simplex (a few pivots: only the bounds of ``u``
        change). A solve at ``near`` that does not end optimal gives None (its cut is only a help;
        the one at ``u`` is needed)."""
        results: list[_Solved | None] = [self._solve(u)]
        if near is not None:
            self.h.setOptionValue("solver", "simplex")
            try:
                results.append(self._solve(near))
            except RuntimeError as err:
                log.debug("no Pareto cut: %s", err)
                results.append(None)
            finally:
                self.h.setOptionValue("solver", "ipm")
        self.h.clearSolver()  # the interior point starts afresh each time: free its workspace while the pool waits
        return results

    def _solve(self, u: np.ndarray) -> _Solved:
        n = len(self.cols)
        self.h.changeColsBounds(n, self.cols, u.astype(float), u.astype(float))
        self.h.run()
        status = self.h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"scenario subproblem ended with {self.h.modelStatusToString(status)}")
        obj = self.h.getInfo().objective_function_value
        solution = self.h.getSolution()
        rc = np.asarray(solution.col_dual)[self.cols]
        return _Solved(float(obj) - float(self.cost @ u), rc - self.cost, np.asarray(solution.col_value, dtype=float))


class RecoursePool:
    """The scenario subproblems of one stage 2, with every cut and plan value found on them.

    Built on first use for a model's options, scenarios and method; the subproblems are built
    without the case's budget (a budget row would make their cuts valid under that budget only).
    A later solve whose model has other options, scenarios or method rebuilds it.
    """

    def __init__(self) -> None:
        self._key: tuple[object, ...] | None = None
        self._scenarios: ScenarioSet | None = None
        self._subs: list[_Subproblem] = []
        self._weight = np.ones(0)
        self.cuts: list[tuple[np.ndarray, np.ndarray]] = []
        """``(const, grad)`` per evaluated plan: ``theta_s >= const_s + grad_s . u``"""
        self.values: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        """evaluated plan (``u.tobytes()``) -> (``u``, ``Q_s(u)`` per scenario)"""
        self._labels: list[np.ndarray] | None = None
        """each subproblem's columns as variable labels of the model it was cut out of (None: built on its own)"""
        self._layout: tuple[object, ...] | None = None
        self._solutions: dict[bytes, list[np.ndarray]] = {}
        """evaluated plan -> each subproblem's solution at it (when cut out of a model)"""
        self._master: Master | None = None

    def attach(self, built: BuiltModel, scenarios: ScenarioSet) -> None:
        """Make the pool serve ``built``: keep what it holds if it was built for the same stage 2."""
        data: ModelData = built.data
        case = data.case.with_params(data.case.params.updated(planning={"budget": None}))
        names = tuple(str(s) for s in data.probability[SCENARIO].values)
        stage2 = case.params.updated(objective={"cost_weight": 1.0}, solver={"smooth_schedules": False}).model_dump_json()
        key = (built.method.id, tuple(built.options.index), tuple(built.options["cost"]), names, stage2)
        if key == self._key and scenarios is self._scenarios:
            return
        quiet_highs()
        self._labels, self._layout, self._solutions = None, None, {}
        self._subs, self._weight = self._subproblems(built, case, scenarios, names)
        self._key, self._scenarios, self.cuts, self.values, self._master = key, scenarios, [], {}, None

    def master(self, built: BuiltModel, coarse_block_h: float) -> Master:
        """The Benders master of this stage 2 (:class:`~lvbalance.model.master.Master`), built on
        first use, with every cut of the pool; budget and plan cost are the caller's to set."""
        if self._master is None or self._master.coarse_block_h != coarse_block_h:
            self._master = Master(built, built.data.probability.to_series(), coarse_block_h)
        self._master.sync(self.cuts)
        return self._master

    def _subproblems(
        self, built: BuiltModel, case: Case, scenarios: ScenarioSet, names: tuple[str, ...]
    ) -> tuple[list[_Subproblem], np.ndarray]:
        """The scenario subproblems and the weight of each in ``built``'s objective.

        Cut out of ``built``'s matrices (each scenario's rows and columns, with ``u`` and what is
        defined from it, without the stage-1 rules): a scenario's share of the objective comes
        weighted by its probability, which the weight takes out. When ``built`` does not fall
        apart so, each scenario's model is built on its own (weight 1).
        """
        m = built.model
        assert built.u is not None
        try:
            lps = scenario_lps(m, pd.Index(names, name=SCENARIO), without=PLAN_RULES)
        except NotSeparableError:
            ids = pd.Index(built.options.index, name=OPTION)
            return [_Subproblem.of_model(self._scenario_model(case, scenarios, s, built), ids) for s in names], np.ones(len(names))
        u_pos = column_positions(m, built.u.labels.values)
        subs = [_Subproblem(block.lp, np.searchsorted(block.columns, u_pos)) for block in lps]
        vlabels = m.variables.label_index.vlabels
        self._labels, self._layout = [vlabels[block.columns] for block in lps], _layout(m)
        weight = built.data.probability.sel({SCENARIO: list(names)}).to_numpy().astype(float)
        return subs, np.where(weight > 0, weight, 1.0)  # a scenario of probability 0 has a share of 0

    @staticmethod
    def _scenario_model(case: Case, scenarios: ScenarioSet, scenario: str, built: BuiltModel) -> BuiltModel:
        """The model of one scenario over the options of ``built``, without the stage-1 rules.

        Without them the reduced costs of ``u`` are a subgradient of ``Q_s`` itself (with the
        rules in, their duals, arbitrary while ``u`` is fixed, were added to it). Options of one
        end node and load combination with the same effect on the constrained lines enter
        stage 2 through the same rows, so they get the same gradient: a cut at one plan holds
        exactly at every plan that differs from it only in such targets.
        """
        data = model_data(case, scenario_subset(scenarios, [scenario]), built.options)
        return build_model(data, built.method, reduce_options=False, plan_rules=False)

    def evaluate(self, u: np.ndarray, threads: int, near: np.ndarray | None = None) -> np.ndarray:
        """``Q_s(u)`` of every scenario (solving them if ``u`` is new, adding its cut); with ``near``,
        the cut at ``near`` too (its Pareto cut, :func:`solve_benders`)."""
        known = self.values.get(u.tobytes())
        if known is not None:
            return known[1]
        with ThreadPoolExecutor(max_workers=max(1, min(threads, len(self._subs)))) as pool:
            results = list(pool.map(lambda sub: sub.evaluate(u, near), self._subs))
        for k, point in enumerate([u] if near is None else [u, near]):
            solved = [r[k] for r in results]
            if any(r is None for r in solved):
                continue
            Q = np.array([r.value for r in solved if r is not None]) / self._weight
            G = np.array([r.gradient for r in solved if r is not None]) / self._weight[:, None]
            G[np.abs(G) < 1e-9] = 0.0  # numerical noise of the reduced costs
            self.cuts.append((Q - G @ point, G))
            self.values[point.tobytes()] = (point.copy(), Q)
        if self._labels is not None and np.all((u == 0.0) | (u == 1.0)):  # plans only (not relaxed points)
            self._solutions[u.tobytes()] = [r[0].x for r in results if r[0] is not None]
        return self.values[u.tobytes()][1]

    def write_solution(self, m: linopy.Model, u: np.ndarray) -> bool:
        """Put the stage-2 solution found at plan ``u`` (each scenario's subproblem at ``u``) into
        ``m``'s variables and its objective value, as a solve would, so that the plan needs no solve
        of its own (the rows fixing the plan are the caller's); False, with ``m`` untouched,
        when there is none: ``u`` not evaluated here, subproblems built on their own, or ``m``
        not laid out as the model they were cut out of."""
        found = self._solutions.get(u.tobytes())
        if found is None or self._labels is None or _layout(m) != self._layout:
            return False
        write_solution(m, np.concatenate(self._labels), np.concatenate(found))
        m.status, m.termination_condition = "ok", "optimal"
        m.objective.set_value(expression_value(m.objective.expression))
        return True


def _layout(m: linopy.Model) -> tuple[object, ...]:
    """The variables of ``m`` (names, shapes and labels): models built alike share it."""
    return tuple((name, var.labels.shape) for name, var in m.variables.items()), m.variables.label_index.vlabels.tobytes()
