"""Move options ``o = (h, q, i)``: their cost (Eq 3) and admissibility (Eq 13), MODEL.md §4.

Moving ``LC(h, q)`` to target node ``i`` opens the backbone just upstream of the cut node
and builds a new line from ``i`` to the cut node along streets. An option is admissible
when ``i`` lies on another feeder, outside the moved run, every moved customer is within
``R_max`` of ``i`` (Eq 13, :func:`farthest_customer_m`, :func:`within_reach`) and a street
route exists. Its cost ``C[o]`` is :func:`option_cost` (Eq 3).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from lvbalance.case import Case
from lvbalance.coupling.chains import load_combination_table, load_combinations, tail_chains
from lvbalance.coupling.graph import StreetGraph, build_street_graph
from lvbalance.params import CostModel, PlanningParams, Proximity

logger = logging.getLogger(__name__)

OPTION_COLUMNS = (
    "end_node",
    "q",
    "cut_node",
    "to_node",
    "from_feeder",
    "to_feeder",
    "customers",
    "moved_nodes",
    "cost",
    "route_length_m",
    "route",
    "street_cost",
    "street_route_length_m",
    "max_customer_distance_m",
)


# --------------------------------------------------------------------------- Eq 3, Eq 13


def option_cost(cut_cost: ArrayLike, customer_cost: ArrayLike, *, cost_model: CostModel, fixed_cost: float) -> np.ndarray:
    """Eq 3: construction cost ``C[o]`` of move options [currency].

    ``per-option`` (default, MODEL.md §4: one new line serves the whole load combination)::

        C[o] = F + W(cut node -> i)

    ``per-customer`` (the paper's Eq 3: a connection per moved customer ``j``)::

        C[o] = sum_{j in LC(h,q)} (F + W(j -> i))

    Parameters
    ----------
    cut_cost
        (n,) ``W(cut node -> i)``: cost of a new line from the cut node to each target
        ``i`` [currency] (route weight, Eq 1, or straight-line estimate).
    customer_cost
        (n, q) ``W(j -> i)``: the same from each moved customer ``j`` [currency].
    cost_model
        ``'per-option'`` or ``'per-customer'``.
    fixed_cost
        ``F``: fixed cost of one new connection [currency].

    Returns
    -------
    (n,) cost of each option [currency] (np.inf where a route is missing).
    """
    if cost_model == "per-option":
        return fixed_cost + np.asarray(cut_cost, dtype=float)
    if cost_model == "per-customer":
        return (fixed_cost + np.asarray(customer_cost, dtype=float)).sum(axis=-1)
    raise ValueError(f"unknown cost model {cost_model!r}")


def farthest_customer_m(straight_m: ArrayLike, route_m: ArrayLike, *, proximity: Proximity) -> np.ndarray:
    """Eq 13, left side: distance from each target node ``i`` to its farthest moved customer [m].

    ``d(i) = max_{j in LC(h,q)} d(i, j)`` with ``d`` the street route length (``'route'``,
    the default) or the straight line (``'euclidean'``, the paper).

    Parameters
    ----------
    straight_m
        (n, q) straight-line distance from each target ``i`` to each moved customer ``j`` [m].
    route_m
        (n, q) least route length along streets, same pairs [m].
    proximity
        ``'route'`` or ``'euclidean'``.
    """
    if proximity == "route":
        return np.asarray(route_m, dtype=float).max(axis=-1)
    if proximity == "euclidean":
        return np.asarray(straight_m, dtype=float).max(axis=-1)
    raise ValueError(f"unknown proximity {proximity!r}")


def within_reach(distance_m: ArrayLike, *, max_route_m: float) -> np.ndarray:
    """Eq 13: ``d(i) <= R_max``, proximity of option targets (``distance_m`` from
    :func:`farthest_customer_m` [m], ``max_route_m`` = ``R_max`` [m]); a boolean mask."""
    return np.asarray(distance_m, dtype=float) <= max_route_m


def straight_distance_m(from_xy: ArrayLike, to_xy: ArrayLike) -> np.ndarray:
    """(n, m) straight-line distances [m] between the rows of ``from_xy`` (n, 2) and ``to_xy`` (m, 2) [m]."""
    a, b = np.asarray(from_xy, dtype=float), np.asarray(to_xy, dtype=float)
    return np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])


# --------------------------------------------------------------------------- move options


@dataclass(frozen=True, eq=False)
class _Targets:
    """Every candidate target node (all but the busbar) with its feeder, route row and xy [m]."""

    node: np.ndarray
    feeder: np.ndarray
    row: np.ndarray
    xy: np.ndarray


def move_options(case: Case, *, straight_line: bool = False, graph: StreetGraph | None = None) -> pd.DataFrame:
    """Every admissible move option ``o = (h, q, i)`` of ``case`` (MODEL.md §4).

    Parameters
    ----------
    case
        The case; ``params.planning`` gives ``k``, ``R_max``, the proximity measure, the
        cost model and the fixed cost.
    straight_line
        Method m3 (no street information): cost = straight distance cut node -> i times
        the streets' mean cost per metre, proximity by straight distance. The options
        still carry their street pricing (``street_cost``, ``street_route_length_m``,
        ``route``) to price an m3 plan on the real streets.
    graph
        A street graph of ``case`` built before (default: built here).

    Returns
    -------
    DataFrame, index ``option`` ('h/q->i'): ``end_node``, ``q``, ``cut_node``,
    ``to_node``, ``from_feeder``, ``to_feeder``, ``customers``, ``moved_nodes`` (end node to
    cut node), ``cost`` [currency] (Eq 3), ``route_length_m`` [m], ``route`` (street route
    cut node -> to_node), ``street_cost`` [currency], ``street_route_length_m`` [m],
    ``max_customer_distance_m`` [m] (proximity of the farthest moved customer to i, Eq 13).
    """
    graph = graph if graph is not None else build_street_graph(case)
    net = case.network
    feeder = net.feeder_of_node
    node_pos = pd.Series(np.arange(len(net.nodes)), index=net.nodes.index)
    node_xy = net.nodes[["x", "y"]].to_numpy(float)
    targets = _Targets(
        node=feeder.index.to_numpy(),
        feeder=feeder.to_numpy(),
        row=graph.routes.node_row[feeder.index.to_numpy()].to_numpy(),
        xy=node_xy[node_pos[feeder.index].to_numpy()],
    )
    customer_xy = case.customers[["x", "y"]].astype(float)
    frames = [
        _combination_options(
            lc,
            targets,
            graph,
            case.params.planning,
            cut_xy=node_xy[node_pos[lc.cut_node]],
            customer_xy=customer_xy.loc[list(lc.customers)].to_numpy(),
            straight_line=straight_line,
        )
        for lc in load_combination_table(case).itertuples(index=False)
    ]
    options = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*OPTION_COLUMNS, "straight_m"])
    street_routes = [graph.route(c, i) for c, i in zip(options["cut_node"], options["to_node"])]
    options["route"] = [r[0] for r in street_routes]
    options["street_route_length_m"] = np.array([r[1] for r in street_routes], dtype=float)
    options["route_length_m"] = options["straight_m"] if straight_line else options["street_route_length_m"]
    options["q"] = options["q"].astype(int)
    options.index = pd.Index([f"{h}/{q}->{i}" for h, q, i in zip(options["end_node"], options["q"], options["to_node"])], name="option")
    logger.info("%d admissible move options (%s)", len(options), "straight line" if straight_line else "streets")
    return options[list(OPTION_COLUMNS)]


def _combination_options(
    lc: Any,
    targets: _Targets,
    graph: StreetGraph,
    planning: PlanningParams,
    *,
    cut_xy: np.ndarray,
    customer_xy: np.ndarray,
    straight_line: bool,
) -> pd.DataFrame:
    """The admissible options of one load combination ``lc`` (a row of the combination table).

    ``cut_xy`` (2,): the cut node; ``customer_xy`` (q, 2): the moved customers [m].
    """
    routes = graph.routes
    other = (targets.feeder != lc.from_feeder) & ~np.isin(targets.node, lc.moved_nodes)
    rows, to, to_xy = targets.row[other], targets.node[other], targets.xy[other]
    customers = list(lc.customers)
    customer_cols = routes.customer_col[customers].to_numpy()

    straight_to_customer_m = straight_distance_m(to_xy, customer_xy)
    street_to_customer_m = routes.length_m[np.ix_(rows, customer_cols)]
    proximity: Proximity = "euclidean" if straight_line else planning.proximity
    distance_m = farthest_customer_m(straight_to_customer_m, street_to_customer_m, proximity=proximity)

    straight_m = straight_distance_m(to_xy, cut_xy[None, :])[:, 0]
    model, fixed = planning.cost_model, planning.fixed_cost
    street_cost = option_cost(
        routes.cost[rows, routes.node_row[lc.cut_node]],
        routes.cost[np.ix_(rows, customer_cols)],
        cost_model=model,
        fixed_cost=fixed,
    )
    straight_cost = option_cost(
        graph.mean_cost_per_m * straight_m,
        graph.mean_cost_per_m * straight_to_customer_m,
        cost_model=model,
        fixed_cost=fixed,
    )

    ok = within_reach(distance_m, max_route_m=planning.max_route_m) & np.isfinite(street_cost)
    return pd.DataFrame(
        {
            "end_node": lc.end_node,
            "q": lc.q,
            "cut_node": lc.cut_node,
            "to_node": to[ok],
            "from_feeder": lc.from_feeder,
            "to_feeder": targets.feeder[other][ok],
            "customers": [lc.customers] * int(ok.sum()),
            "moved_nodes": [lc.moved_nodes] * int(ok.sum()),
            "cost": (straight_cost if straight_line else street_cost)[ok],
            "street_cost": street_cost[ok],
            "max_customer_distance_m": distance_m[ok],
            "straight_m": straight_m[ok],
        }
    )


def options_summary(case: Case, options: pd.DataFrame) -> pd.DataFrame:
    """Per end node: its chain, and its cheapest admissible option on each other feeder.

    Index (``end_node``, ``to_feeder``; '' where the end node has no admissible option);
    columns ``feeder``, ``chain_customers`` (far end first), ``admissible_q``, ``q``,
    ``to_node``, ``cost`` [currency], ``route_length_m`` [m].
    """
    k = case.params.planning.max_customers_per_move
    chains = pd.DataFrame(
        [
            {
                "end_node": h,
                "feeder": c.feeder,
                "chain_customers": " ".join(c.customers),
                "admissible_q": " ".join(map(str, load_combinations(c, k))),
            }
            for h, c in tail_chains(case).items()
        ],
        columns=["end_node", "feeder", "chain_customers", "admissible_q"],
    )
    best = (
        options.sort_values(["cost", "q"])
        .groupby(["end_node", "to_feeder"], as_index=False)
        .first()[["end_node", "to_feeder", "q", "to_node", "cost", "route_length_m"]]
    )
    out = chains.merge(best, on="end_node", how="left")
    out["to_feeder"] = out["to_feeder"].fillna("")
    return out.set_index(["end_node", "to_feeder"]).sort_index()
