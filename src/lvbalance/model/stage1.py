"""Stage 1: which load combinations move where (MODEL.md §4, Eq 3-5, 9-12).

``u[o]`` is binary for each admissible move option ``o = (h, q, i)``: end node ``h``,
load combination ``LC(h, q)``, target node ``i``. Each ``add_*`` function adds one
family of rules and returns what it adds. :func:`add_stage1` composes them; the
extensive form (:mod:`lvbalance.model.build`) and the Benders master
(:mod:`lvbalance.model.benders`) both use it.
"""

from __future__ import annotations

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from lvbalance.dims import OPTION
from lvbalance.params import PlanningParams

END = "end_node"
"""Dimension of the one-move-per-end-node rows."""
CONFLICT = "conflict"
"""Dimension of the targets-stay-put rows."""
BUDGET_ROW = "budget"
"""Name of the budget row (:func:`add_budget_limit`)."""
PLAN_RULES = ("one_move_per_end_node", "moved_customer_limit", "targets_stay_put", BUDGET_ROW)
"""Names of the constraints of the stage-1 rules (:func:`add_stage1`)."""
BUDGET_ALLOWANCE = 1e-6
"""Relative round-off allowance of the budget row [-] (:func:`add_budget_limit`)."""


def add_stage1(m: linopy.Model, options: pd.DataFrame, planning: PlanningParams, *, relaxed: bool = False) -> linopy.Variable | None:
    """``u`` and every stage-1 rule (Eq 4-5, 9-12, targets stay put, the budget if any); None without options.

    ``relaxed``: ``u`` continuous in [0, 1] (the LP relaxation, for the Benders master).
    """
    u = add_move_choice(m, options, relaxed=relaxed)
    if u is None:
        return None
    add_one_move_per_end_node(m, u, options)
    add_moved_customer_limit(m, u, options, planning.max_moved_customers)
    add_targets_stay_put(m, u, options)
    if planning.budget is not None:
        add_budget_limit(m, u, options, planning.budget)
    return u


def add_move_choice(m: linopy.Model, options: pd.DataFrame, *, relaxed: bool = False) -> linopy.Variable | None:
    """``u[o] in {0, 1}``: move option ``o = (h, q, i)`` is built (MODEL.md §4, "Variables").

    The paper's ``a[h,i] = sum_q u[h,q,i]`` and ``b[h,q] = sum_i u[h,q,i]`` (Eq 2, 9-12)
    are functions of ``u``.
    """
    if not len(options):
        return None
    coords = [pd.Index(options.index, name=OPTION)]
    if relaxed:
        return m.add_variables(lower=0.0, upper=1.0, coords=coords, name="u")
    return m.add_variables(binary=True, coords=coords, name="u")


def _incidence(rows: pd.Index, cols: pd.Index, entries: list[tuple[int, int]], dims: tuple[str, str]) -> xr.DataArray:
    """(row, col) 0/1 matrix with ones at ``entries``."""
    a = np.zeros((len(rows), len(cols)))
    for r, c in entries:
        a[r, c] = 1.0
    return xr.DataArray(a, dims=dims, coords={dims[0]: rows, dims[1]: cols})


def add_one_move_per_end_node(m: linopy.Model, u: linopy.Variable, options: pd.DataFrame) -> linopy.Constraint:
    """Eq 4, 9-12: at most one load combination and one target per end node.

    ``sum_{q,i} u[h,q,i] <= 1`` for every end node ``h``.
    """
    ends = pd.Index(sorted(options["end_node"].unique()), name=END)
    A = _incidence(ends, options.index, [(ends.get_loc(h), k) for k, h in enumerate(options["end_node"])], (END, OPTION))
    return m.add_constraints((u * A).sum(OPTION) <= 1, name="one_move_per_end_node")


def add_moved_customer_limit(m: linopy.Model, u: linopy.Variable, options: pd.DataFrame, max_moved: int) -> linopy.Constraint:
    """Eq 5: customers moved in total, ``sum_o |LC(o)| u[o] <= M_max``."""
    q = xr.DataArray(options["q"].to_numpy(float), dims=OPTION, coords={OPTION: options.index})
    return m.add_constraints((u * q).sum() <= max_moved, name="moved_customer_limit")


def add_targets_stay_put(m: linopy.Model, u: linopy.Variable, options: pd.DataFrame) -> linopy.Constraint | None:
    """No moving onto a moving tail (MODEL.md §4): if target ``i`` of option ``o`` lies in
    ``LC(h', q')``, then ``u[o] + sum_{q'' >= q'} sum_{i'} u[h', q'', i'] <= 1``."""
    movers: dict[tuple[str, str], list[int]] = {}  # (node, end node) -> options of that end node moving the node
    for k, (nodes, h) in enumerate(zip(options["moved_nodes"], options["end_node"], strict=True)):
        for n in nodes:
            movers.setdefault((n, h), []).append(k)
    entries: list[tuple[int, int]] = []
    n_rows = 0
    for k, (target, h) in enumerate(zip(options["to_node"], options["end_node"], strict=True)):
        for (node, h2), ks in movers.items():
            if node == target and h2 != h:
                entries += [(n_rows, k)] + [(n_rows, k2) for k2 in ks]
                n_rows += 1
    if not n_rows:
        return None
    A = _incidence(pd.RangeIndex(n_rows, name=CONFLICT), options.index, entries, (CONFLICT, OPTION))
    return m.add_constraints((u * A).sum(OPTION) <= 1, name="targets_stay_put")


def add_budget_limit(m: linopy.Model, u: linopy.Variable, options: pd.DataFrame, budget: float) -> linopy.Constraint:
    """Budget (addition, MODEL.md §6 "The trade-off"): ``C_plan = sum_o C[o] u[o] <= budget``.

    The right side gets an allowance of ``1e-6 x budget`` [currency] for round-off: a plan the
    solver finds at ``u`` within its integrality tolerance stays feasible once ``u`` is rounded
    (the Benders subproblems fix ``u`` at the rounded master plan). Callers that step budgets
    down keep their step well above it.
    """
    return m.add_constraints((u * plan_cost(options)).sum() <= allowed_cost(budget), name=BUDGET_ROW)


def allowed_cost(budget: float) -> float:
    """The most a plan may cost under ``budget``: the budget and its round-off allowance (:data:`BUDGET_ALLOWANCE`) [currency]."""
    return budget * (1 + BUDGET_ALLOWANCE)


def plan_cost(options: pd.DataFrame) -> xr.DataArray:
    """Eq 3: ``C[o]`` of each option [currency]; ``C_plan = sum_o C[o] u[o]``.

    The cost of an option is set by :mod:`lvbalance.coupling` (one new line per move, or
    the paper's per-customer sum); here it is only read.
    """
    return xr.DataArray(options["cost"].to_numpy(float), dims=OPTION, coords={OPTION: options.index})


def undominated_options(options: pd.DataFrame, line_effect: np.ndarray) -> pd.DataFrame:
    """Drop options that another option beats for certain (an exact reduction).

    Options of one end node with the same load combination and the same effect on every
    constrained line (``line_effect``: (option, constrained line), usually: the same
    destination feeder) differ only in cost and in whether their target lies on another
    tail that might move. The cheapest target that no other move can take away beats every
    dearer option of its group; a cheaper target on a movable tail stays a candidate.
    """
    if not len(options):
        return options
    effect = line_effect.astype(np.int8)
    movable: dict[str, set[str]] = {}
    for h, nodes in zip(options["end_node"], options["moved_nodes"], strict=True):
        movable.setdefault(h, set()).update(nodes)
    keep: list[int] = []
    groups: dict[tuple[str, int, bytes], list[int]] = {}
    for k, (h, q) in enumerate(zip(options["end_node"], options["q"], strict=True)):
        groups.setdefault((h, int(q), effect[k].tobytes()), []).append(k)
    cost = options["cost"].to_numpy(float)
    for (h, _, _), ks in groups.items():
        unsafe_nodes: set[str] = set().union(*(n for h2, n in movable.items() if h2 != h))
        safe = [k for k in ks if options["to_node"].iat[k] not in unsafe_nodes]
        best_safe = min(safe, key=lambda k: cost[k]) if safe else None
        limit = cost[best_safe] if best_safe is not None else np.inf
        keep += [k for k in ks if k == best_safe or (k not in safe and cost[k] < limit)]
    return options.iloc[sorted(keep)]
