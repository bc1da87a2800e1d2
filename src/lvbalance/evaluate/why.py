"""Why a plan moves nothing (issue 11, item 2).

When the chosen plan of a method with moves moves no customer, either

* some move is admissible but does not pay at the case's weights: the cheapest option of
  each load combination ``(h, q)`` (at most :data:`MAX_SOLVES`, least cost per moved
  customer first) is built for certain and stage 2 is re-solved (an LP); the one that pays
  at the lowest weight is reported with its cut of the expected imbalance ``E[I]`` and that
  weight::

      w* = (cost_weight x C[o] + other terms with the move - other terms without) / (E[I]_0 - E[I]_o)

  where the other terms are the objective less ``imbalance_weight x E[I]`` (peak
  imbalance, battery wear, slack; usually near zero), so ``w* ~ cost_weight x C[o] / cut``.
  ``w*`` is an upper bound of the weight at which the plan starts to move: another option,
  or several moves together, may pay earlier;
* or a budget excludes every move (``--budget``, or ``planning.budget``): the cheapest
  admissible move costs more; it is reported with what it would cut, as above;
* or the target of ``--target-imbalance`` is met without a move;
* or no move is admissible, and the rules that exclude the candidates are counted from
  the coupling functions: end nodes and tail chains, load combinations beyond
  ``k = max_customers_per_move``, beyond ``M_max = max_moved_customers``, those with no
  target on another feeder reachable by street, and those whose every target lies beyond
  ``R_max`` (route or straight line).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from lvbalance.case import Case
from lvbalance.coupling import load_combinations, move_options, tail_chains
from lvbalance.model.methods import Method
from lvbalance.model.run import MethodResult, plan_method
from lvbalance.model.smooth import without_smoothing
from lvbalance.profiles import ScenarioSet

#: At most this many single-move plans are solved (each an LP: stage 1 fixed).
MAX_SOLVES = 8

#: Written into a method's output folder when its plan moves nothing.
WHY_NAME = "why_no_move.json"


@dataclass(frozen=True)
class NoMoveReason:
    """Why ``method``'s plan moves nothing (see the module docstring).

    ``kind``: ``'does_not_pay'`` (an admissible move exists: ``option`` and its figures),
    ``'over_budget'`` (every admissible move costs more than ``budget``: the cheapest with its
    figures), ``'target_met'`` (no move is needed to reach ``target_pct``) or
    ``'none_admissible'`` (``counts`` says which rules exclude the candidates).
    Imbalances in [%] (points of ``E[I]``), costs in [currency], weights in
    [currency per point of E[I]] (``imbalance_weight``) and [-] (``cost_weight``).
    """

    method: str
    kind: str
    imbalance_weight: float
    cost_weight: float
    expected_imbalance_pct: float
    """E[I] of the chosen plan (no move)"""
    status: str = "optimal"
    """how the method's solve ended (``SolveStatus``)"""
    option: str | None = None
    end_node: str | None = None
    to_node: str | None = None
    from_feeder: str | None = None
    to_feeder: str | None = None
    customers: list[str] = field(default_factory=list)
    cost: float | None = None
    expected_imbalance_with_move_pct: float | None = None
    cut_pct: float | None = None
    """E[I] without the move less E[I] with it [points]"""
    break_even_weight: float | None = None
    """imbalance_weight above which this move pays (inf when it does not cut E[I])"""
    candidates_evaluated: int = 0
    admissible_options: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    budget: float | None = None
    """the budget in force [currency] (``--budget`` or ``planning.budget``)"""
    target_pct: float | None = None
    """the ``--target-imbalance`` asked for [%]"""
    time_s: float = 0.0

    @property
    def text(self) -> str:
        """One or two readable sentences."""
        if self.kind == "target_met":
            return (
                f"no move is needed: the target expected imbalance of {self.target_pct:g} % is met as built "
                f"(E[I] {self.expected_imbalance_pct:.2f} %)."
            )
        if self.kind == "over_budget":
            assert self.cost is not None and self.cut_pct is not None and self.budget is not None
            return (
                f"no move fits the budget of {self.budget:,.0f}: the cheapest admissible move "
                f"({len(self.customers)} customer(s) of end node {self.end_node} from {self.from_feeder} to {self.to_feeder} "
                f"at {self.to_node}) costs {self.cost:,.0f} and would take E[I] from {self.expected_imbalance_pct:.2f} % "
                f"to {self.expected_imbalance_with_move_pct:.2f} %."
            )
        if self.kind == "does_not_pay":
            assert self.cost is not None and self.cut_pct is not None and self.break_even_weight is not None
            head = (
                f"no move pays at imbalance_weight {self.imbalance_weight:,.0f} per point. Best single move "
                f"(best of {self.candidates_evaluated} evaluated of {self.admissible_options} options): "
                f"{len(self.customers)} customer(s) of end node {self.end_node} from {self.from_feeder} to {self.to_feeder} "
                f"at {self.to_node}, cost {self.cost:,.0f}"
            )
            if self.cut_pct <= 0:
                return f"{head}; it would not cut E[I] ({self.expected_imbalance_pct:.2f} %), at any weight."
            text = (
                f"{head}; E[I] {self.expected_imbalance_pct:.2f} % -> {self.expected_imbalance_with_move_pct:.2f} % "
                f"(-{self.cut_pct:.3f} points). It pays from imbalance_weight {self.break_even_weight:,.0f} per point "
                f"(~ cost_weight {self.cost_weight:g} x cost / cut; other moves or several together may pay earlier)."
            )
            if self.break_even_weight < self.imbalance_weight:
                text += f" It would pay at the case's weight: the solve stopped within its MIP gap or early (status {self.status})."
            return text
        c = self.counts
        parts = [f"{c.get('end_nodes', 0)} end node(s)"]
        if c.get("end_nodes", 0):
            parts.append(f"{c.get('chains_without_customers', 0)} with no customer on their tail chain")
            parts.append(f"{c.get('load_combinations', 0)} load combination(s) in all")
            parts.append(f"{c.get('beyond_k', 0)} with more than k = {c.get('k', 0)} customers")
            parts.append(f"{c.get('beyond_m_max', 0)} with more than M_max = {c.get('m_max', 0)}")
            parts.append(f"{c.get('no_target', 0)} with no target on another feeder reachable by street")
            parts.append(
                f"{c.get('beyond_r_max', 0)} with every target farther than R_max = {c.get('r_max_m', 0)} m"
                + (f" (nearest {c['nearest_m']} m)" if "nearest_m" in c else "")
            )
        return "no move is admissible: " + ", ".join(parts) + "."

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["text"] = self.text
        if out["break_even_weight"] is not None and not np.isfinite(out["break_even_weight"]):
            out["break_even_weight"] = None
        return out


def why_no_move(
    case: Case,
    scenarios: ScenarioSet,
    method: Method,
    options: pd.DataFrame | None,
    result: MethodResult,
    *,
    budget: float | None = None,
    target_pct: float | None = None,
) -> NoMoveReason:
    """Why ``result`` (``method``'s plan of ``case`` over ``scenarios``) moves nothing.

    ``options``: the move options the method was planned with (``coupling.move_options``;
    computed when None). ``budget`` [currency], ``target_pct`` [%]: what ``--budget`` or
    ``--target-imbalance`` asked for (``budget`` default: ``planning.budget``). At most
    :data:`MAX_SOLVES` LPs are solved.
    """
    t0 = time.perf_counter()
    if options is None:
        options = move_options(case, straight_line=method.straight_line)
    obj = case.params.objective
    base = NoMoveReason(
        method=method.id,
        kind="none_admissible",
        imbalance_weight=float(obj.imbalance_weight),
        cost_weight=float(obj.cost_weight),
        expected_imbalance_pct=result.expected_imbalance_pct,
        status=str(result.info.status),
        admissible_options=len(options),
    )
    budget = case.params.planning.budget if budget is None else budget
    base = replace(base, budget=budget, target_pct=target_pct)
    if target_pct is not None and result.expected_imbalance_pct <= target_pct:
        return replace(base, kind="target_met", time_s=time.perf_counter() - t0)
    m_max = case.params.planning.max_moved_customers
    usable = options[options["q"] <= m_max]
    if usable.empty:
        counts = exclusion_counts(case, straight_line=method.straight_line)
        return replace(base, counts=counts, time_s=time.perf_counter() - t0)
    over = budget is not None and float(usable["cost"].min()) > budget
    if over:  # what the cheapest move would do
        usable = usable.sort_values(["cost"], kind="stable").iloc[:1]
        base = replace(base, kind="over_budget")
    candidates = cheapest_candidates(usable)
    case_lp = _single_move_case(case)
    e0 = result.expected_imbalance_pct
    rest0 = result.info.objective - obj.imbalance_weight * e0
    best: tuple[float, float, float, str] | None = None  # (break-even, -cut, e1, option)
    for oid in candidates:
        res = plan_method(case_lp, scenarios, method, options=options, fixed_moves=[oid])
        e1 = res.expected_imbalance_pct
        cut = e0 - e1
        extra = res.info.objective - obj.imbalance_weight * e1 - rest0
        w = extra / cut if cut > 1e-9 else float("inf")
        if best is None or (w, -cut) < best[:2]:
            best = (w, -cut, e1, oid)
    assert best is not None
    w, neg_cut, e1, oid = best
    o = options.loc[oid]
    return replace(
        base,
        kind="over_budget" if over else "does_not_pay",
        option=str(oid),
        end_node=str(o["end_node"]),
        to_node=str(o["to_node"]),
        from_feeder=str(o["from_feeder"]),
        to_feeder=str(o["to_feeder"]),
        customers=[str(c) for c in o["customers"]],
        cost=float(o["cost"]),
        expected_imbalance_with_move_pct=e1,
        cut_pct=-neg_cut,
        break_even_weight=w,
        candidates_evaluated=len(candidates),
        time_s=time.perf_counter() - t0,
    )


def _single_move_case(case: Case) -> Case:
    """``case`` as each candidate is solved: without smoothing (only E[I] and the objective are
    read) and without a budget (the candidate is built for certain, whatever it costs)."""
    return without_smoothing(case.with_params(case.params.updated(planning={"budget": None})))


def cheapest_candidates(options: pd.DataFrame, n: int = MAX_SOLVES) -> list[str]:
    """The cheapest option of each load combination ``(h, q)``, the ``n`` of them with the
    least cost per moved customer (larger moves tend to cut more per unit of cost)."""
    first = options.sort_values(["cost", "q"], kind="stable").groupby(["end_node", "q"], sort=False).head(1)
    per_customer = (first["cost"] / first["q"]).sort_values(kind="stable")
    return [str(i) for i in per_customer.index[:n]]


def exclusion_counts(case: Case, *, straight_line: bool) -> dict[str, int]:
    """Counts of end nodes, load combinations and the rules that exclude them (MODEL.md §4).

    ``beyond_k``: combinations a chain allows but with more than ``k`` customers;
    ``beyond_m_max``: of those within ``k``, more than ``M_max``; then, of the remaining,
    ``no_target`` (no node on another feeder, outside the moved run, with a street route)
    and ``beyond_r_max`` (every such target lies beyond ``R_max``). ``nearest_m``: the
    least distance from a target to its farthest moved customer over those combinations [m].
    """
    planning = case.params.planning
    k, m_max, r_max = planning.max_customers_per_move, planning.max_moved_customers, planning.max_route_m
    chains = tail_chains(case)
    all_q = {h: load_combinations(c, 10**9) for h, c in chains.items()}
    within_k = {h: [q for q in qs if q <= k] for h, qs in all_q.items()}
    counts = {
        "end_nodes": len(chains),
        "chains_without_customers": sum(1 for c in chains.values() if not c.customers),
        "load_combinations": sum(len(qs) for qs in all_q.values()),
        "beyond_k": sum(len(all_q[h]) - len(within_k[h]) for h in chains),
        "beyond_m_max": sum(1 for qs in within_k.values() for q in qs if q > m_max),
        "k": int(k),
        "m_max": int(m_max),
        "r_max_m": int(round(r_max)),
    }
    left = {(h, q) for h, qs in within_k.items() for q in qs if q <= m_max}
    reach: dict[str, int] = {"no_target": 0, "beyond_r_max": 0}
    if left:
        unbounded = case.with_params(case.params.updated(planning={"max_route_m": 1e12}))
        opts = move_options(unbounded, straight_line=straight_line)
        opts = opts[[(h, q) in left for h, q in zip(opts["end_node"], opts["q"])]]
        with_target = set(zip(opts["end_node"], opts["q"]))
        reach["no_target"] = len(left - with_target)
        near = opts[opts["max_customer_distance_m"] <= r_max]
        reach["beyond_r_max"] = len(with_target - set(zip(near["end_node"], near["q"])))
        if len(opts):
            counts["nearest_m"] = int(np.ceil(opts["max_customer_distance_m"].min()))
    counts.update(reach)
    return counts
