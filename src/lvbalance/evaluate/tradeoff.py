"""The cost-imbalance trade-off of a method with moves (issue 11; MODEL.md §6, "The trade-off").

``objective.imbalance_weight`` is a price no planner knows. The front shows instead what
each budget buys: every point is a plan that is optimal for its budget, found by an
**epsilon-constraint sweep**:

1. solve the method's model with the budget constraint ``C_plan <= b`` (Eq 3;
   ``planning.budget``, :func:`lvbalance.model.stage1.add_budget_limit`, honoured by the
   extensive form and the Benders master alike) and the Eq-27 objective whose cost weight
   is cut so low that the whole cost range is worth less than
   ``tradeoff.imbalance_resolution_pct`` points of ``E[I]``: the plan minimises
   ``lambda2 E[I] + peak + wear + slack`` (Eq 27 without its cost term) within the budget,
   and costs least among plans of equal ``E[I]``;
2. start from the unlimited budget (or the case's ``planning.budget``), then set the next
   budget just below the cost of the plan found (``b = C - 1e-4 C - 0.01``), down to the
   plan without moves or ``tradeoff.max_points`` points that stay on the front (at most
   ``SOLVES_PER_POINT`` solves per point).

All the solves of one front share one :class:`lvbalance.model.recourse.RecoursePool`: where
the plans are found by Benders, each point starts with every cut the earlier points (and the
plan of the case's weight) found, since stage 2 does not depend on the budget or the weight.

Every budget ``b`` between a point's cost and its own budget has that point as its answer,
so the sweep finds every plan of the front once, in order, including the points that no
weight would choose (unsupported, inside the convex hull) - which a sweep of the weight
would miss. Each point carries the gap its solve proved. Points that a cheaper point
matches or beats in ``E[I]`` (possible only within the solver's gap, or for m3, whose
model prices moves by straight lines while ``cost`` is the plan priced on streets) are
dropped, so ``cost`` rises and ``E[I]`` falls strictly along the front.

The plan of the run is marked ``chosen``: the case's weight picks it as before, or
``--budget`` (the least ``E[I]`` at a cost <= the amount) or ``--target-imbalance`` (the
cheapest point with ``E[I]`` <= the target) pick a point of the front.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from lvbalance.case import Case
from lvbalance.flows import imbalance_table_pct
from lvbalance.model.methods import Method
from lvbalance.model.recourse import RecoursePool
from lvbalance.model.run import BudgetSweep, MethodResult, plan_method
from lvbalance.model.smooth import without_smoothing
from lvbalance.profiles import ScenarioSet
from lvbalance.results import Move, SolveStatus, finite, write_csv

log = logging.getLogger(__name__)

TRADEOFF_NAME = "tradeoff.csv"
"""Written into a method's output folder (DESIGN.md, "Outputs")."""
TRADEOFF_COLUMNS = ("budget", "cost", "expected_imbalance_pct", "peak_imbalance_pct", "moved_customers", "moves", "chosen")
"""The columns of ``tradeoff.csv``, in order (DESIGN.md's, then ``chosen``)."""
NO_MOVE = "no move"
"""``moves`` text of the plan without moves."""

STEP_REL, STEP_ABS = 1e-4, 1e-2
"""The next budget lies ``STEP_REL x C + STEP_ABS`` [currency] below the cost ``C`` of the last point."""
SOLVES_PER_POINT = 3
"""The sweep solves at most this many budgets per point it is asked for (dropped points cost solves too)."""
COST_TOL, IMBALANCE_TOL = 1e-6, 1e-9
"""Differences below these [currency], [%] count as equal (strictness of the front)."""

OnPoint = Callable[["FrontPoint", MethodResult], None]


@dataclass(frozen=True)
class FrontPoint:
    """One plan of the front (a row of ``tradeoff.csv`` and more)."""

    budget: float
    """cap on the method's own plan cost (Eq 3) it was solved for [currency]; inf: unlimited;
    for the plan chosen by the case's weight: its own cost"""
    cost: float
    """the plan priced along streets (``plan.json`` ``total_cost``) [currency]"""
    model_cost: float
    """the plan's cost as the method prices it (m3: straight lines) [currency]"""
    expected_imbalance_pct: float
    """Eq 15 [%]"""
    peak_imbalance_pct: float
    """highest Eq 14 over scenarios and steps [%]"""
    moved_customers: int
    moves: str
    """readable: ``end node/customers -> target; ...``"""
    options: tuple[str, ...]
    """the plan's option ids, sorted"""
    status: str
    """how its solve ended (``SolveStatus``)"""
    mip_gap: float
    """relative gap proved by its solve [-]"""
    solve_time_s: float
    chosen: bool = False


@dataclass(frozen=True)
class TradeoffFront:
    """The front of one method, cheapest point first."""

    method: str
    points: list[FrontPoint]
    complete: bool
    """the sweep reached the plan without moves"""
    solved: int
    """MILPs solved"""
    dropped: int
    """points dropped as matched or beaten by a cheaper point"""
    cost_weight: float
    """cost weight of the points' objective [-]"""
    sweep_time_s: float
    """wall-clock time of the whole sweep [s]"""

    def table(self) -> pd.DataFrame:
        """``tradeoff.csv``: :data:`TRADEOFF_COLUMNS`, one row per point, cost rising."""
        rows = [{c: getattr(p, c) for c in TRADEOFF_COLUMNS} for p in self.points]
        return pd.DataFrame(rows, columns=list(TRADEOFF_COLUMNS))

    @property
    def chosen(self) -> FrontPoint | None:
        return next((p for p in self.points if p.chosen), None)

    def to_json(self) -> dict[str, Any]:
        """Everything of the front, each point with its gap, status and time (``metrics.json`` ``extra``)."""
        return finite(
            {
                "points": [dataclasses.asdict(p) | {"options": list(p.options)} for p in self.points],
                "complete": self.complete,
                "solved": self.solved,
                "dropped": self.dropped,
                "cost_weight": self.cost_weight,
                "sweep_time_s": self.sweep_time_s,
            }
        )

    def with_chosen(self, point: FrontPoint) -> TradeoffFront:
        """The front with ``point`` (the run's plan) marked ``chosen``.

        A point of the same plan takes the run's figures and keeps its budget, status and
        gap; a plan not on the front is added. Points that would then break the strict
        order are dropped (only within solver gaps: the run's plan is optimal for its own cost).
        """
        same = next((p for p in self.points if p.options == point.options), None)
        mark = dataclasses.replace(
            same or point,
            cost=point.cost,
            expected_imbalance_pct=point.expected_imbalance_pct,
            peak_imbalance_pct=point.peak_imbalance_pct,
            chosen=True,
        )
        others = [dataclasses.replace(p, chosen=False) for p in self.points if p is not same]
        kept, dropped = pareto(others + [mark], keep=mark)
        if dropped:
            log.warning(
                "%s: the chosen plan %s displaced %d point(s) of the front (within the solver gap)", self.method, mark.moves, dropped
            )
        return dataclasses.replace(self, points=kept, dropped=self.dropped + dropped)


def option_id(mv: Move) -> str:
    """The move option id of a move: ``end node/q->target`` (:func:`lvbalance.coupling.move_options`)."""
    return f"{mv.end_node}/{len(mv.customers)}->{mv.to_node}"


def moves_text(moves: Sequence[Move]) -> str:
    """``'AB_x/2 -> N12; ...'``: end node / customers moved -> target node; :data:`NO_MOVE` if none."""
    return "; ".join(f"{mv.end_node}/{len(mv.customers)} -> {mv.to_node}" for mv in moves) or NO_MOVE


def pareto(points: Sequence[FrontPoint], *, keep: FrontPoint | None = None) -> tuple[list[FrontPoint], int]:
    """The points no cheaper (or equally cheap) point matches in ``E[I]``, cost rising; and how
    many were dropped. ``keep`` stays: the points it matches or that match it go instead."""
    pts = list(points)
    if keep is not None:

        def clashes(p: FrontPoint) -> bool:
            dominated = p.cost >= keep.cost - COST_TOL and p.expected_imbalance_pct >= keep.expected_imbalance_pct - IMBALANCE_TOL
            dominates = p.cost <= keep.cost + COST_TOL and p.expected_imbalance_pct <= keep.expected_imbalance_pct + IMBALANCE_TOL
            return dominated or dominates

        pts = [p for p in pts if p is keep or not clashes(p)]
    out: list[FrontPoint] = []
    for p in sorted(pts, key=lambda p: (p.cost, p.expected_imbalance_pct)):
        if out and (p.cost <= out[-1].cost + COST_TOL or p.expected_imbalance_pct >= out[-1].expected_imbalance_pct - IMBALANCE_TOL):
            continue
        out.append(p)
    return out, len(points) - len(out)


def point_case(case: Case, budget: float, cost_weight: float) -> Case:
    """``case`` as one point of the sweep solves it: the budget, the low cost weight, no
    schedule smoothing (it changes neither the plan nor ``E[I]``)."""
    p = case.params.updated(planning={"budget": budget if math.isfinite(budget) else None}, objective={"cost_weight": cost_weight})
    return without_smoothing(case.with_params(p))


def sweep_cost_weight(case: Case, options: pd.DataFrame) -> float:
    """Cost weight of the points' objective [-]: the most any plan can cost (the dearest
    option of every end node) is worth ``tradeoff.imbalance_resolution_pct`` points of E[I]."""
    lam2 = case.params.objective.imbalance_weight or 1.0
    bound = float(options.groupby("end_node")["cost"].max().sum()) if len(options) else 0.0
    return lam2 * case.params.tradeoff.imbalance_resolution_pct / max(bound, 1.0)


def point_of_result(result: MethodResult, options: pd.DataFrame, *, budget: float | None = None) -> FrontPoint:
    """The plan of a solved method as a point (``budget`` default: its own cost)."""
    plan = result.plan
    ids = tuple(sorted(option_id(mv) for mv in plan.moves))
    model_cost = float(options.loc[list(ids), "cost"].sum()) if ids else 0.0
    return FrontPoint(
        budget=model_cost if budget is None else budget,
        cost=plan.total_cost,
        model_cost=model_cost,
        expected_imbalance_pct=result.expected_imbalance_pct,
        peak_imbalance_pct=float(imbalance_table_pct(result.feeder_loads).max()),
        moved_customers=plan.moved_customers,
        moves=moves_text(plan.moves),
        options=ids,
        status=str(result.info.status),
        mip_gap=result.info.mip_gap,
        solve_time_s=result.info.solve_time_s,
    )


def tradeoff_front(
    case: Case,
    scenarios: ScenarioSet,
    method: Method,
    options: pd.DataFrame,
    *,
    max_points: int | None = None,
    budget: float | None = None,
    target_pct: float | None = None,
    on_point: OnPoint | None = None,
    pool: RecoursePool | None = None,
) -> TradeoffFront:
    """The front of ``method`` by the epsilon-constraint sweep (module docstring).

    Parameters
    ----------
    case, scenarios, method, options
        As for :func:`lvbalance.model.run.plan_method` (``options``: the method's move options).
    max_points
        Budgets solved from the top (default ``tradeoff.max_points``).
    budget
        Also make sure the front holds the best plan costing at most this [currency]
        (along streets): the sweep goes on below ``max_points`` from this budget.
    target_pct
        Also make sure the front holds the cheapest plan with ``E[I]`` at most this [%]: the
        sweep goes on while the points reach it.
    on_point
        Called with each point and its :class:`MethodResult` as it is solved (tests, checks).
    pool
        Benders cuts of earlier solves of this method over the same stage 2 (module docstring).
    """
    t0 = time.perf_counter()
    n_max = case.params.tradeoff.max_points if max_points is None else max_points
    weight = sweep_cost_weight(case, options)
    points: list[FrontPoint] = []
    complete = False
    pool = pool if pool is not None else RecoursePool()
    sweep = BudgetSweep(point_case(case, math.inf, weight), scenarios, method, options, pool)  # one model, its budget row replaced

    def solve(b: float) -> FrontPoint | None:
        res = sweep.plan(b if math.isfinite(b) else None)
        if res.info.status == SolveStatus.NO_MOVE_FALLBACK:
            log.warning("%s: no plan found within the time limit at budget %.2f; the front stops here", method.id, b)
            return None
        p = point_of_result(res, options, budget=b)
        if not p.options and res.info.status != SolveStatus.OPTIMAL:
            log.warning(
                "%s: at budget %.2f the solve stopped at its time limit with no move (gap %.2g); the front stops here",
                method.id,
                b,
                p.mip_gap,
            )
            return None
        log.info(
            "%s trade-off: budget %.2f -> cost %.2f, E[I] %.4f %%, gap %.1e (%s)",
            method.id,
            b,
            p.cost,
            p.expected_imbalance_pct,
            p.mip_gap,
            p.moves,
        )
        if on_point is not None:
            on_point(p, res)
        return p

    def chain(b: float, *, min_points: int, go_on: Callable[[FrontPoint], bool]) -> bool:
        """Points from budget ``b`` down; True when the plan without moves is reached."""
        mine: list[FrontPoint] = []
        for _ in range(SOLVES_PER_POINT * min_points):
            p = solve(b)
            if p is None:
                return False
            known = next((q for q in points if q.options == p.options), None)
            if known is None:
                points.append(p)
                mine.append(p)
            if not p.options:
                return True
            # points that a cheaper one matches do not count (m3: street costs out of the model's order)
            n = sum(1 for q in pareto(points)[0] if any(q is r for r in mine))
            if known is None and n >= min_points and not go_on(p):
                return False
            if p.model_cost <= 0.0:
                return False  # a free plan: nothing is cheaper
            b = max(p.model_cost - (STEP_REL * p.model_cost + STEP_ABS), 0.0)
        return False

    def reaches_target(p: FrontPoint) -> bool:
        return target_pct is not None and p.expected_imbalance_pct <= target_pct + IMBALANCE_TOL

    top = case.params.planning.budget
    first = top if top is not None else math.inf
    main_points = max(n_max, 1 if target_pct is not None else 0)
    if main_points:
        complete = chain(first, min_points=main_points, go_on=reaches_target)
    if budget is not None and not complete and not any(p.cost <= budget + COST_TOL for p in points):
        # the best plan within the amount lies below the points found: sweep on from the amount
        # (m3 prices by straight lines: on until its street cost fits)
        amount = budget
        complete = chain(min(amount, first), min_points=1, go_on=lambda p: p.cost > amount + COST_TOL)
    kept, dropped = pareto(points)
    return TradeoffFront(method.id, kept, complete, len(points), dropped, weight, time.perf_counter() - t0)


def select_point(front: TradeoffFront, *, budget: float | None = None, target_pct: float | None = None) -> FrontPoint:
    """The point ``--budget`` or ``--target-imbalance`` asks for.

    ``budget`` [currency]: the lowest ``E[I]`` among the points costing at most it;
    ``target_pct`` [%]: the cheapest point with ``E[I]`` at most it. ValueError when no
    point qualifies (naming the lowest reachable ``E[I]``), or with both or neither.
    """
    if (budget is None) == (target_pct is None):
        raise ValueError("give either a budget or a target imbalance")
    pts = front.points
    if budget is not None:
        fit = [p for p in pts if p.cost <= budget + COST_TOL]
        if not fit:
            cheapest = min(pts, key=lambda p: p.cost) if pts else None
            found = f"; the cheapest plan found costs {cheapest.cost:,.2f}" if cheapest else ""
            raise ValueError(f"{front.method}: no plan found within the budget {budget:,.2f}{found}")
        return min(fit, key=lambda p: (p.expected_imbalance_pct, p.cost))
    assert target_pct is not None
    fit = [p for p in pts if p.expected_imbalance_pct <= target_pct + IMBALANCE_TOL]
    if not fit:
        best = min(pts, key=lambda p: p.expected_imbalance_pct) if pts else None
        lowest = f"the lowest reachable is {best.expected_imbalance_pct:.4f} % (cost {best.cost:,.2f})" if best else "no plan was found"
        raise ValueError(f"{front.method}: no plan reaches an expected imbalance of {target_pct:g} %; {lowest}")
    return min(fit, key=lambda p: (p.cost, p.expected_imbalance_pct))


def check_selection(budget: float | None, target_pct: float | None) -> None:
    """ValueError unless at most one of ``budget`` [currency] and ``target_pct`` [%] is given,
    as a finite number >= 0 (the CLI's ``--budget`` / ``--target-imbalance``)."""
    if budget is not None and target_pct is not None:
        raise ValueError("--budget and --target-imbalance exclude each other: give one")
    for name, v in (("--budget", budget), ("--target-imbalance", target_pct)):
        if v is not None and not (v >= 0 and math.isfinite(v)):
            raise ValueError(f"{name} must be a finite number >= 0, not {v:g}")


def wants_front(case: Case, method: Method) -> bool:
    """Whether the method's plan comes with its front without being asked for a budget or target:
    it moves customers, ``tradeoff.max_points`` > 0 and it is one of ``tradeoff.methods``."""
    settings = case.params.tradeoff
    return method.moves and settings.max_points > 0 and method.id in settings.methods


def plan_with_tradeoff(
    case: Case,
    scenarios: ScenarioSet,
    method: Method,
    options: pd.DataFrame | None,
    *,
    budget: float | None = None,
    target_pct: float | None = None,
    on_point: OnPoint | None = None,
) -> tuple[MethodResult, TradeoffFront | None]:
    """The method's plan and its front, the plan marked on it.

    Without ``budget`` and ``target_pct`` the case's weights choose the plan
    (:func:`plan_method`, as without a front) and the front is computed when
    :func:`wants_front` and that plan is proven optimal (a plan stopped at the time
    limit says that its front's points would not be proven either: no front, a warning).
    With one of them the front is computed, the point is selected (:func:`select_point`) and planned with its moves fixed (stage 2 under the
    case's objective, schedules smoothed as usual); its status and gap are the point's.
    """
    check_selection(budget, target_pct)
    select = budget is not None or target_pct is not None
    # one pool for the plan and its front; none when no front follows (its subproblems would stay
    # in memory through the plan's smoothing for nothing)
    front_follows = select or (options is not None and wants_front(case, method))
    pool = RecoursePool() if front_follows else None
    if not select:
        result = plan_method(case, scenarios, method, options=options if method.moves else None, pool=pool)
        if not front_follows:
            return result, None
        if result.info.status != SolveStatus.OPTIMAL:  # its points could not be proven either
            log.warning(
                "%s: no trade-off front: the plan itself ended %s (gap %.2g); raise solver.time_limit_s "
                "(or solver.benders_max_iterations) for a front",
                method.id,
                result.info.status.value,
                result.info.mip_gap,
            )
            return result, None
        front = tradeoff_front(case, scenarios, method, options, on_point=on_point, pool=pool)
        return result, front.with_chosen(point_of_result(result, options))
    if not method.moves or options is None:  # nothing to choose: the budget cannot matter
        return plan_method(case, scenarios, method, options=None), None
    front = tradeoff_front(case, scenarios, method, options, budget=budget, target_pct=target_pct, on_point=on_point, pool=pool)
    pool = None  # the point's plan is fixed below: its subproblems are no longer needed
    point = select_point(front, budget=budget, target_pct=target_pct)
    result = plan_method(case, scenarios, method, options=options, fixed_moves=list(point.options))
    info = dataclasses.replace(
        result.info,
        status=SolveStatus(point.status),
        mip_gap=point.mip_gap,
        bound=math.nan,
        solve_time_s=point.solve_time_s + result.info.solve_time_s,
    )
    plan = dataclasses.replace(result.plan, mip_gap=info.mip_gap, solve_time_s=info.solve_time_s)
    result = dataclasses.replace(result, plan=plan, info=info)
    return result, front.with_chosen(point_of_result(result, options, budget=point.budget))


def write_tradeoff(out_dir: str | Path, front: TradeoffFront) -> Path:
    """Write ``tradeoff.csv`` (atomically) into ``out_dir``; ``budget`` inf where unlimited."""
    path = Path(out_dir) / TRADEOFF_NAME
    write_csv(path, front.table())
    return path
