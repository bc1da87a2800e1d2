"""Road-grid coupling: street graph, route costs, tail chains and move options.

MODEL.md §2 and §4 (the paper's Sec 2.1 and 3.1).

* :mod:`~lvbalance.coupling.graph`: :func:`build_street_graph` snaps network nodes and
  customers onto the streets and weighs every edge by Eq 1 (:func:`edge_weight`);
  :attr:`StreetGraph.routes` holds the least-cost and least-length routes (Dijkstra).
* :mod:`~lvbalance.coupling.chains`: :func:`tail_chains`, :func:`load_combinations`: end
  nodes, their unbranched tail chains and the admissible sizes ``q`` of the load
  combinations ``LC(h, q)`` (Eq 8).
* :mod:`~lvbalance.coupling.options`: :func:`move_options`: every admissible option
  ``(h, q, i)`` with its cost ``C[o]`` (Eq 3, :func:`option_cost`) and route, admissible by
  proximity (Eq 13, :func:`farthest_customer_m`, :func:`within_reach`).
"""

from lvbalance.coupling.chains import TailChain, load_combination_table, load_combinations, tail_chains
from lvbalance.coupling.graph import Routes, StreetGraph, build_street_graph, edge_weight
from lvbalance.coupling.options import (
    OPTION_COLUMNS,
    farthest_customer_m,
    move_options,
    option_cost,
    options_summary,
    within_reach,
)

__all__ = [
    "OPTION_COLUMNS",
    "Routes",
    "StreetGraph",
    "TailChain",
    "build_street_graph",
    "edge_weight",
    "farthest_customer_m",
    "load_combination_table",
    "load_combinations",
    "move_options",
    "option_cost",
    "options_summary",
    "tail_chains",
    "within_reach",
]
