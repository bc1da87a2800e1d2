"""Tail chains and load combinations (MODEL.md §4, Fig 3, Eq 8).

An *end node* ``h`` is a leaf of the backbone tree; its *tail chain* is the unbranched
run of backbone nodes from ``h`` inwards to the first branching node (or the busbar).
The customers on the chain, ordered from the far end, are ``LD[h,1], LD[h,2], ...``; a
load combination ``LC(h, q)`` is the first ``q`` of them, stopping at node boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lvbalance.case import Case

#: Columns of :func:`load_combination_table`, in order.
COMBINATION_COLUMNS = ("end_node", "q", "cut_node", "from_feeder", "customers", "moved_nodes")


@dataclass(frozen=True)
class TailChain:
    """The unbranched tail of the backbone that ends at end node ``end_node`` (MODEL.md §4, Fig 3A)."""

    end_node: str
    feeder: str
    nodes: tuple[str, ...]  # chain nodes from the end node inwards (excl. the branching node)
    customers: tuple[str, ...]  # LD[h,1], LD[h,2], ... from the far end
    customer_node: tuple[str, ...]  # node of each customer, same order


def tail_chains(case: Case) -> dict[str, TailChain]:
    """The tail chain of every end node (leaf of the backbone tree), keyed by end node.

    From the end node inwards up to, not including, the first branching node or the
    busbar. Customers are ordered from the far end; those of one node by id.
    """
    net = case.network
    g, busbar, parent = net.graph, net.busbar, net.parent["parent_node"]
    by_node = case.customers.reset_index().sort_values(["node_id", "customer_id"]).groupby("node_id")["customer_id"]
    customers_of = {n: tuple(c) for n, c in by_node}
    chains = {}
    for h in sorted(n for n in g.nodes if n != busbar and g.degree(n) == 1):
        nodes = [h]
        while (p := parent[nodes[-1]]) != busbar and g.degree(p) == 2:
            nodes.append(p)
        customers = [(c, n) for n in nodes for c in customers_of.get(n, ())]
        chains[h] = TailChain(
            end_node=h,
            feeder=str(net.feeder_of_node[h]),
            nodes=tuple(nodes),
            customers=tuple(c for c, _ in customers),
            customer_node=tuple(n for _, n in customers),
        )
    return chains


def load_combinations(chain: TailChain, k: int) -> list[int]:
    """Admissible sizes ``q`` of ``LC(h, q)`` (Eq 8): suffixes from the far end that stop at
    node boundaries (a node's customers move together), at most ``k`` customers."""
    sizes = pd.Series(chain.customer_node).value_counts(sort=False).reindex(chain.nodes).dropna()
    q = np.cumsum(sizes.to_numpy(dtype=int))
    return [int(x) for x in q[: np.searchsorted(q, k, side="right")]]


def load_combination_table(case: Case) -> pd.DataFrame:
    """One row per load combination ``LC(h, q)`` of every end node (Eq 8).

    Columns :data:`COMBINATION_COLUMNS`: ``end_node``, ``q``, ``cut_node`` (node of the
    innermost moved customer ``LD[h,q]``), ``from_feeder``, ``customers`` (``LD[h,1..q]``),
    ``moved_nodes`` (end node to cut node). ``k`` is ``planning.max_customers_per_move``.
    """
    k = case.params.planning.max_customers_per_move
    rows = []
    for h, chain in tail_chains(case).items():
        for q in load_combinations(chain, k):
            cut = chain.customer_node[q - 1]
            rows.append(
                {
                    "end_node": h,
                    "q": q,
                    "cut_node": cut,
                    "from_feeder": chain.feeder,
                    "customers": chain.customers[:q],
                    "moved_nodes": chain.nodes[: chain.nodes.index(cut) + 1],
                }
            )
    return pd.DataFrame(rows, columns=list(COMBINATION_COLUMNS))
