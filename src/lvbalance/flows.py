"""Radial flow physics, written once and used everywhere (MODEL.md §5, Eq 14-15, 19-21).

The network after a plan is a tree rooted at the busbar (:func:`rewire`); power is summed
up that tree, losses ignored (:func:`line_flows`, Eq 21); a feeder's load is the flow on
its outlet line (:func:`feeder_loads`), its load rate that load over the outlet rating
(:func:`load_rates`, Eq 19); the degree of load imbalance is the spread of the feeders'
load rates (:func:`imbalance_pct`, Eq 14) and its expectation over the scenarios
(:func:`expected_imbalance_pct`, Eq 15).

Nothing here knows the MILP: the model (:mod:`lvbalance.model`), the independent re-check
(:mod:`lvbalance.evaluate`), the AC check (:mod:`lvbalance.powerflow`) and the report read
the same physics from these functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

from lvbalance.case import Case
from lvbalance.dims import FEEDER, SCENARIO, STEP
from lvbalance.results import Move

NEW_LINE_PREFIX = "new:"
"""Id of the new line of a move: ``new:<cut node>``."""


@dataclass(frozen=True)
class Topology:
    """The network after the moves: parent of every node, feeder of every node."""

    parent: dict[str, str]
    """node -> parent node (towards the busbar)"""
    parent_line: dict[str, str]
    """node -> line towards the busbar (new lines: ``new:<cut node>``)"""
    feeder: dict[str, str]
    """node -> feeder label"""
    order: list[str]
    """nodes from the leaves up (children before parents)"""


def rewire(case: Case, moves: Sequence[Move]) -> Topology:
    """The tree after a plan: open each move's cut line, connect its cut node to the target.

    Raises ``ValueError`` when the result is not a tree (MODEL.md §4: the network stays radial).
    """
    net = case.network
    g = nx.Graph()
    for line_id, r in net.lines.iterrows():
        g.add_edge(r["from_node"], r["to_node"], line_id=line_id)
    parent0 = net.parent
    for mv in moves:
        up = parent0.at[mv.cut_node, "parent_node"]
        g.remove_edge(up, mv.cut_node)
        g.add_edge(mv.to_node, mv.cut_node, line_id=NEW_LINE_PREFIX + mv.cut_node)
    if not nx.is_tree(g):
        raise ValueError("the plan does not leave a radial network")
    busbar = net.busbar
    parent: dict[str, str] = {}
    parent_line: dict[str, str] = {}
    feeder: dict[str, str] = {}
    outlet_feeder = {lid: f for f, lid in net.feeder_outlets.items()}
    for u, v in nx.bfs_edges(g, busbar):
        parent[v] = u
        parent_line[v] = g.edges[u, v]["line_id"]
        feeder[v] = outlet_feeder[parent_line[v]] if u == busbar else feeder[u]
    depth = nx.shortest_path_length(g, busbar)
    order = [n for n, _ in sorted(depth.items(), key=lambda kv: -kv[1]) if n != busbar]
    return Topology(parent, parent_line, feeder, order)


def node_power(case: Case, power_kw: np.ndarray, customers: Sequence[str]) -> dict[str, np.ndarray]:
    """Customer power (customer, ...) summed onto the customers' access nodes [kW]."""
    out: dict[str, np.ndarray] = {}
    nodes = case.customers.loc[list(customers), "node_id"].to_numpy()
    for k, n in enumerate(nodes):
        out[n] = out.get(n, 0.0) + power_kw[k]
    return out


def line_flows(case: Case, topo: Topology, power_kw: np.ndarray, customers: Sequence[str]) -> dict[str, np.ndarray]:
    """Eq 21: power on every line after the moves [kW], summed up the tree, losses ignored.

    ``P[l] = sum of p[j] over the customers j below line l``.

    ``power_kw``: (customer, ...) in the order of ``customers``; the trailing dimensions
    (e.g. scenario x step) are kept. Lines out of service after the moves are absent; new
    lines are keyed ``new:<cut node>``.
    """
    total = node_power(case, power_kw, customers)
    shape = power_kw.shape[1:]
    acc = {n: np.array(total.get(n, np.zeros(shape)), dtype=float) for n in topo.order}
    flows: dict[str, np.ndarray] = {}
    for n in topo.order:  # children first
        flows[topo.parent_line[n]] = acc[n]
        p = topo.parent[n]
        if p in acc:
            acc[p] = acc[p] + acc[n]
    return flows


def feeder_loads(case: Case, flows: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Outlet power of every feeder [kW]: the flow on its outlet line."""
    return {f: flows[line_id] for f, line_id in case.network.feeder_outlets.items()}


def load_rates(case: Case, loads_kw: Mapping[str, np.ndarray]) -> np.ndarray:
    """Eq 19: ``sigma[f] = P_f / P_f^rated`` [-], stacked as (feeder, ...) in the order of the feeder ratings."""
    rating = case.network.feeder_rating_kw
    return np.stack([np.asarray(loads_kw[f], dtype=float) / rating[f] for f in rating.index])


def imbalance_pct(load_rate: np.ndarray) -> np.ndarray:
    """Eq 14: degree of load imbalance ``I = (max_f sigma_f - min_f sigma_f) x 100`` [%].

    ``load_rate``: (feeder, ...) load rates [-]; the result has the trailing dimensions.
    """
    rates = np.asarray(load_rate, dtype=float)
    return 100.0 * (rates.max(axis=0) - rates.min(axis=0))


def feeder_imbalance_pct(case: Case, loads_kw: Mapping[str, np.ndarray]) -> np.ndarray:
    """Eq 14 from feeder loads [kW] (Eq 19 then Eq 14), for every trailing index."""
    return imbalance_pct(load_rates(case, loads_kw))


def imbalance_table_pct(feeder_loads_table: pd.DataFrame) -> pd.Series:
    """Eq 14 from a ``feeder_loads`` table (``scenario, step, feeder, load_rate``) [%], by (scenario, step).

    The table is the ``feeder_loads.csv`` of DESIGN.md; rows keep their first-seen order.
    """
    rates = feeder_loads_table.pivot_table(index=[SCENARIO, STEP], columns=FEEDER, values="load_rate", sort=False)
    return pd.Series(imbalance_pct(rates.to_numpy().T), index=rates.index)


def expected_imbalance_pct(imbalance: np.ndarray, probability: np.ndarray) -> float:
    """Eq 15: ``E[I] = sum_s beta_s (1/T) sum_t I[s,t]`` [%]; ``imbalance`` is (scenario, step)."""
    return float(np.sum(np.asarray(probability) * np.asarray(imbalance).mean(axis=1)))


def max_run(flags: np.ndarray) -> int:
    """Longest run of True along the last axis, over any leading index [steps] (Eq 20 heavy-load duration)."""
    if np.size(flags) == 0:
        return 0
    f = np.asarray(flags, dtype=bool).reshape(-1, np.shape(flags)[-1])
    # run length at each position: counts reset at every False
    padded = np.concatenate([np.zeros((f.shape[0], 1), dtype=bool), f, np.zeros((f.shape[0], 1), dtype=bool)], axis=1)
    diff = np.diff(padded.astype(np.int8), axis=1)
    starts = np.argwhere(diff == 1)
    ends = np.argwhere(diff == -1)
    if len(starts) == 0:
        return 0
    return int((ends[:, 1] - starts[:, 1]).max())
