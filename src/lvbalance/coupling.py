"""Road-grid coupling: street graph, route costs, tail chains and move options.

MODEL.md §2 and §4 (the paper's Sec 2.1 and 3.1).

* :func:`build_street_graph` turns the street segments into a graph whose edges carry
  length ``l`` [m] and weight ``w = c * l`` [currency] (Eq 1). Segment end points closer
  than :data:`~lvbalance.junctions.SNAP_TOLERANCE_M` are one intersection; a segment is split
  where another one ends on its interior (:func:`lvbalance.junctions.street_junctions`, the
  same rule the case validator uses). Every network node and every customer is
  snapped onto its nearest segment (which is split there) and joined to the snap point
  by a short *connector* (a straight line priced at ``streets.default_cost_per_m``: the
  new cable has to reach the node or the house). A snap farther than
  ``streets.max_snap_m`` is a problem; all of them are raised together.
* :attr:`StreetGraph.routes` runs Dijkstra once from all network nodes at once (by
  weight, with predecessors, and by length): least-cost routes [currency] and least
  route lengths [m] from every network node to every network node and customer.
* :func:`tail_chains`, :func:`load_combinations`: end nodes, their unbranched tail
  chains and the admissible sizes ``q`` of the load combinations ``LC(h, q)`` (Eq 8).
* :func:`move_options`: every admissible option ``(h, q, i)`` with its cost ``C[o]``
  (Eq 3, per option or the paper's per-customer sum) and route.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString
from shapely.ops import substring

from lvbalance.case import Case, CaseError, Problem
from lvbalance.junctions import SNAP_TOLERANCE_M, street_junctions

logger = logging.getLogger(__name__)

#: Edge weights are at least this, so that zero-length pieces stay edges [currency or m].
_MIN_WEIGHT = 1e-9
#: Sources per Dijkstra call (bounds the size of the temporary distance matrix).
_SOURCE_CHUNK = 256

OPTION_COLUMNS = (
    "end_node", "q", "cut_node", "to_node", "from_feeder", "to_feeder", "customers", "moved_nodes",
    "cost", "route_length_m", "route", "street_cost", "street_route_length_m", "max_customer_distance_m",
)


# --------------------------------------------------------------------------- street graph


@dataclass(frozen=True, eq=False)
class Routes:
    """Least-cost and least-length routes from every network node (Dijkstra, MODEL.md §2).

    Rows are the network nodes in ``node_ids`` order. Columns of ``cost`` and ``length_m``
    are the *points*: the network nodes (same order) followed by the customers
    (``customer_ids`` order).

    ``cost``: least route weight ``sum w`` [currency] (np.inf: unreachable).
    ``length_m``: least route length [m] (proximity, Eq 13).
    ``predecessor``: predecessor of every graph vertex on the least-cost tree of each
    row's node (-9999: none), to rebuild routes.
    """

    node_ids: pd.Index
    customer_ids: pd.Index
    cost: np.ndarray
    length_m: np.ndarray
    predecessor: np.ndarray

    @cached_property
    def node_row(self) -> pd.Series:
        """Row (and column) of each network node."""
        return pd.Series(np.arange(len(self.node_ids)), index=self.node_ids)

    @cached_property
    def customer_col(self) -> pd.Series:
        """Column of each customer."""
        return pd.Series(len(self.node_ids) + np.arange(len(self.customer_ids)), index=self.customer_ids)


@dataclass(frozen=True, eq=False)
class StreetGraph:
    """The street graph of a case with its network nodes and customers snapped on.

    ``vertex_xy``: (V, 2) coordinates of the graph vertices [m].
    ``edges``: one row per edge; ``u``, ``v`` (vertices), ``kind`` ('street' or
    'connector'), ``street_id`` ('' for connectors), ``length_m`` [m], ``cost_per_m``
    [currency/m], ``weight`` = cost_per_m * length_m [currency] (Eq 1), ``geometry``
    (LineString from u to v).
    ``snaps``: index (``element`` 'node' | 'customer', ``id``); ``vertex`` (the point's
    own vertex), ``street_id`` (nearest segment), ``snap_m`` (distance to it [m]).
    ``mean_cost_per_m``: length-weighted mean cost of the streets [currency/m] (method m3).
    """

    vertex_xy: np.ndarray
    edges: pd.DataFrame
    snaps: pd.DataFrame
    node_ids: pd.Index
    customer_ids: pd.Index
    mean_cost_per_m: float

    @cached_property
    def node_vertex(self) -> pd.Series:
        """Graph vertex of each network node."""
        return self.snaps.loc["node", "vertex"].reindex(self.node_ids)

    @cached_property
    def customer_vertex(self) -> pd.Series:
        """Graph vertex of each customer."""
        return self.snaps.loc["customer", "vertex"].reindex(self.customer_ids) if len(self.customer_ids) else pd.Series(dtype=int)

    @cached_property
    def _best_edge(self) -> dict[str, sp.csr_matrix]:
        """For each metric, the best edge between two vertices (parallel edges: the cheapest)."""
        e = self.edges
        a, b = np.minimum(e["u"], e["v"]).to_numpy(), np.maximum(e["u"], e["v"]).to_numpy()
        out = {}
        for metric in ("weight", "length_m"):
            order = np.lexsort((e[metric].to_numpy(), b, a))
            keep = order[np.r_[True, (np.diff(a[order]) != 0) | (np.diff(b[order]) != 0)]]
            keep = keep[a[keep] != b[keep]]
            n = len(self.vertex_xy)
            out[metric] = sp.csr_matrix((keep + 1, (a[keep], b[keep])), shape=(n, n))
        return out

    def _matrix(self, metric: str) -> sp.csr_matrix:
        e = self.edges
        best = self._best_edge[metric]
        coo = best.tocoo()
        w = np.maximum(e[metric].to_numpy()[coo.data - 1], _MIN_WEIGHT)
        return sp.csr_matrix((w, (coo.row, coo.col)), shape=best.shape)

    @cached_property
    def routes(self) -> Routes:
        """All least-cost and least-length routes from the network nodes (computed once)."""
        sources = self.node_vertex.to_numpy()
        points = np.concatenate([sources, self.customer_vertex.to_numpy()]).astype(int)
        by_cost, by_length = self._matrix("weight"), self._matrix("length_m")
        cost = np.empty((len(sources), len(points)))
        length = np.empty_like(cost)
        pred = np.empty((len(sources), len(self.vertex_xy)), dtype=np.int32)
        for start in range(0, len(sources), _SOURCE_CHUNK):
            rows = slice(start, start + _SOURCE_CHUNK)
            d, p = dijkstra(by_cost, directed=False, indices=sources[rows], return_predecessors=True)
            cost[rows], pred[rows] = d[:, points], p
            length[rows] = dijkstra(by_length, directed=False, indices=sources[rows])[:, points]
        return Routes(self.node_ids, self.customer_ids, cost, length, pred)

    def route(self, from_node: str, to_node: str) -> tuple[LineString, float, float]:
        """Least-cost street route between two network nodes: (geometry, length [m], cost [currency]).

        The cost is the route weight without the fixed cost of a connection.
        """
        r = self.routes
        row = r.node_row[from_node]
        start, end = int(self.node_vertex[from_node]), int(self.node_vertex[to_node])
        pred = r.predecessor[row]
        path = [end]
        while path[-1] != start:
            nxt = int(pred[path[-1]])
            if nxt < 0:
                raise ValueError(f"no street route from {from_node} to {to_node}")
            path.append(nxt)
        path.reverse()
        return self._path_geometry(path), self._path_sum(path, "length_m"), self._path_sum(path, "weight")

    @cached_property
    def _cheapest_edge(self) -> dict[tuple[int, int], int]:
        """(a, b) with a < b -> the cheapest edge between the two vertices."""
        coo = self._best_edge["weight"].tocoo()
        return {(int(a), int(b)): int(e) - 1 for a, b, e in zip(coo.row, coo.col, coo.data)}

    def _path_edges(self, path: list[int]) -> np.ndarray:
        edge = self._cheapest_edge
        return np.array([edge[(a, b) if a < b else (b, a)] for a, b in zip(path[:-1], path[1:])], dtype=int)

    def _path_sum(self, path: list[int], column: str) -> float:
        return float(self.edges[column].to_numpy()[self._path_edges(path)].sum()) if len(path) > 1 else 0.0

    def _path_geometry(self, path: list[int]) -> LineString:
        if len(path) == 1:
            xy = self.vertex_xy[path[0]]
            return LineString([xy, xy])
        geometry, u = self._edge_coords, self.edges["u"].to_numpy()
        coords = []
        for k, e in enumerate(self._path_edges(path)):
            c = geometry[e] if u[e] == path[k] else geometry[e][::-1]
            coords.append(c if k == 0 else c[1:])
        return LineString(np.concatenate(coords))

    @cached_property
    def _edge_coords(self) -> list[np.ndarray]:
        return [np.asarray(g.coords) for g in self.edges["geometry"]]


def build_street_graph(case: Case) -> StreetGraph:
    """The street graph of ``case`` with its network nodes and customers snapped on.

    Raises
    ------
    CaseError
        Listing every network node and customer farther than ``streets.max_snap_m``
        from the nearest street.
    """
    params = case.params.streets
    seg = case.streets.segments
    lines = seg.geometry.to_numpy()
    cost_per_m = pd.to_numeric(seg["cost_per_m"], errors="coerce").fillna(params.default_cost_per_m).to_numpy()
    lengths = shapely.length(lines)
    mean_cost = float((cost_per_m * lengths).sum() / lengths.sum())

    nodes, customers = case.network.nodes, case.customers
    point_ids = pd.MultiIndex.from_arrays(
        [["node"] * len(nodes) + ["customer"] * len(customers), [*nodes.index, *customers.index]], names=["element", "id"]
    )
    point_xy = np.vstack([nodes[["x", "y"]].to_numpy(float), customers[["x", "y"]].to_numpy(float).reshape(-1, 2)])

    # junctions: end points within the tolerance are one vertex; a segment is split where
    # another one ends on its interior (the validator joins streets by the same rule)
    junctions = street_junctions(lines, SNAP_TOLERANCE_M)
    vertex_xy, anchors = junctions.vertex_xy, junctions.anchors
    tree = shapely.STRtree(lines)

    # snap points onto their nearest segment
    ppts = shapely.points(point_xy)
    nearest = tree.nearest(ppts)
    snap_m = shapely.distance(ppts, lines[nearest])
    _raise_far_snaps(point_ids, snap_m, params.max_snap_m)
    snap_pos = shapely.line_locate_point(lines[nearest], ppts)

    vertex_xy_list = [vertex_xy]
    n_vertices = len(vertex_xy)
    snap_vertex = np.empty(len(point_xy), dtype=int)
    pieces: list[tuple[int, int, int, LineString]] = []
    snaps_by_seg = pd.Series(np.arange(len(point_xy))).groupby(nearest)
    snap_groups = {s: g.to_numpy() for s, g in snaps_by_seg}
    for s, group in anchors.groupby("segment", sort=True):
        cuts = group.sort_values("pos")[["pos", "vertex"]].to_numpy()
        positions, vertices = list(cuts[:, 0]), [int(v) for v in cuts[:, 1]]
        new: list[tuple[float, int]] = []
        for p in sorted(snap_groups.get(s, []), key=lambda p: snap_pos[p]):
            d = snap_pos[p]
            k = int(np.argmin(np.abs(cuts[:, 0] - d)))
            if abs(cuts[k, 0] - d) <= SNAP_TOLERANCE_M:
                snap_vertex[p] = int(cuts[k, 1])
            elif new and d - new[-1][0] <= SNAP_TOLERANCE_M:
                snap_vertex[p] = new[-1][1]
            else:
                xy = np.asarray(shapely.get_coordinates(lines[s].interpolate(d)))
                vertex_xy_list.append(xy)
                new.append((d, n_vertices))
                snap_vertex[p] = n_vertices
                n_vertices += 1
        positions += [d for d, _ in new]
        vertices += [v for _, v in new]
        order = np.argsort(positions, kind="stable")
        pieces += _cut(s, lines[s], [positions[i] for i in order], [vertices[i] for i in order])
    vertex_xy = np.vstack(vertex_xy_list)

    # the pieces of street, then one connector from each point to its snap vertex
    point_vertex = n_vertices + np.arange(len(point_xy))
    vertex_xy = np.vstack([vertex_xy, point_xy])
    ends_xy = vertex_xy[[(u, v) for _, u, v, _ in pieces]] if pieces else np.empty((0, 2, 2))
    street_geoms = [_with_ends(g, a, b) for (_, _, _, g), (a, b) in zip(pieces, ends_xy)]
    street = pd.DataFrame({
        "u": [u for _, u, _, _ in pieces], "v": [v for _, _, v, _ in pieces], "kind": "street",
        "street_id": [str(seg.index[s]) for s, *_ in pieces], "cost_per_m": cost_per_m[[s for s, *_ in pieces]],
        "geometry": street_geoms,
    })
    connector = pd.DataFrame({
        "u": point_vertex, "v": snap_vertex, "kind": "connector", "street_id": "",
        "cost_per_m": params.default_cost_per_m,
        "geometry": [LineString([a, b]) for a, b in zip(point_xy, vertex_xy[snap_vertex])],
    })
    edges = pd.concat([street, connector], ignore_index=True).rename_axis("edge")
    edges["length_m"] = shapely.length(edges["geometry"].to_numpy())
    edges["weight"] = edges["cost_per_m"] * edges["length_m"]
    edges = edges[["u", "v", "kind", "street_id", "length_m", "cost_per_m", "weight", "geometry"]]

    snaps = pd.DataFrame(
        {"vertex": point_vertex, "street_id": seg.index.to_numpy()[nearest].astype(str), "snap_m": snap_m}, index=point_ids
    )
    logger.info(
        "street graph: %d vertices, %d street pieces from %d segments, %d points snapped (max %.1f m)",
        len(vertex_xy), len(street), len(seg), len(point_xy), float(snap_m.max()) if len(snap_m) else 0.0,
    )
    return StreetGraph(vertex_xy, edges, snaps, nodes.index, customers.index, mean_cost)


def _raise_far_snaps(point_ids: pd.MultiIndex, snap_m: np.ndarray, limit_m: float) -> None:
    far = np.flatnonzero(snap_m > limit_m)
    if len(far):
        raise CaseError(
            [
                Problem("streets.geojson", f"{point_ids[i][0]} {point_ids[i][1]}",
                        f"is {snap_m[i]:.1f} m from the nearest street (limit streets.max_snap_m = {limit_m:g} m)")
                for i in far
            ],
            source="street coupling",
        )


def _cut(segment: int, line: LineString, positions: list[float], vertices: list[int]) -> list[tuple[int, int, int, LineString]]:
    """Pieces of ``line`` between consecutive cut positions [m] that join distinct vertices."""
    out = []
    for (p0, v0), (p1, v1) in zip(zip(positions, vertices), zip(positions[1:], vertices[1:])):
        if v0 != v1:
            out.append((segment, v0, v1, substring(line, p0, p1)))
    return out


def _with_ends(piece: LineString, a: np.ndarray, b: np.ndarray) -> LineString:
    """``piece`` with its end points moved exactly onto the vertices ``a`` and ``b``."""
    c = np.asarray(piece.coords, dtype=float)[:, :2]
    if len(c) < 2:
        c = np.vstack([c, c])
    c[0], c[-1] = a, b
    return LineString(c)


# --------------------------------------------------------------------------- tail chains


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
            end_node=h, feeder=str(net.feeder_of_node[h]), nodes=tuple(nodes),
            customers=tuple(c for c, _ in customers), customer_node=tuple(n for _, n in customers),
        )
    return chains


def load_combinations(chain: TailChain, k: int) -> list[int]:
    """Admissible sizes ``q`` of ``LC(h, q)`` (Eq 8): suffixes from the far end that stop at
    node boundaries (a node's customers move together), at most ``k`` customers."""
    sizes = pd.Series(chain.customer_node).value_counts(sort=False).reindex(chain.nodes).dropna()
    q = np.cumsum(sizes.to_numpy(dtype=int))
    return [int(x) for x in q[: np.searchsorted(q, k, side="right")]]


def _combinations(case: Case) -> pd.DataFrame:
    """One row per load combination ``LC(h, q)`` of every end node."""
    k = case.params.planning.max_customers_per_move
    rows = []
    for h, chain in tail_chains(case).items():
        for q in load_combinations(chain, k):
            cut = chain.customer_node[q - 1]
            rows.append({
                "end_node": h, "q": q, "cut_node": cut, "from_feeder": chain.feeder,
                "customers": chain.customers[:q], "moved_nodes": chain.nodes[: chain.nodes.index(cut) + 1],
            })
    return pd.DataFrame(rows, columns=["end_node", "q", "cut_node", "from_feeder", "customers", "moved_nodes"])


# --------------------------------------------------------------------------- move options


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
    cut node), ``cost`` [currency], ``route_length_m`` [m], ``route`` (street route cut node
    -> to_node), ``street_cost`` [currency], ``street_route_length_m`` [m],
    ``max_customer_distance_m`` [m] (proximity of the farthest moved customer to i).
    """
    graph = graph if graph is not None else build_street_graph(case)
    routes = graph.routes
    planning = case.params.planning
    net = case.network
    feeder = net.feeder_of_node
    targets = feeder.index.to_numpy()  # every node but the busbar
    target_row = routes.node_row[targets].to_numpy()
    node_xy = net.nodes[["x", "y"]].to_numpy(float)
    node_pos = pd.Series(np.arange(len(net.nodes)), index=net.nodes.index)
    customer_xy = case.customers[["x", "y"]].astype(float)
    euclidean = planning.proximity == "euclidean" or straight_line

    frames = []
    for lc in _combinations(case).itertuples(index=False):
        other = (feeder.to_numpy() != lc.from_feeder) & ~np.isin(targets, lc.moved_nodes)
        rows, to = target_row[other], targets[other]
        to_xy = node_xy[node_pos[to].to_numpy()]
        cust_xy = customer_xy.loc[list(lc.customers)].to_numpy()
        straight_to_customer = np.hypot(to_xy[:, None, 0] - cust_xy[None, :, 0], to_xy[:, None, 1] - cust_xy[None, :, 1])
        street_to_customer_m = routes.length_m[np.ix_(rows, routes.customer_col[list(lc.customers)].to_numpy())]
        distance_m = (straight_to_customer if euclidean else street_to_customer_m).max(axis=1)

        cut_col = routes.node_row[lc.cut_node]
        if planning.cost_model == "per-option":
            street_cost = planning.fixed_cost + routes.cost[rows, cut_col]
            straight_cost = planning.fixed_cost + graph.mean_cost_per_m * np.hypot(*(to_xy - node_xy[node_pos[lc.cut_node]]).T)
        else:  # the paper's Eq 3: a connection per moved customer
            cols = routes.customer_col[list(lc.customers)].to_numpy()
            street_cost = (planning.fixed_cost + routes.cost[np.ix_(rows, cols)]).sum(axis=1)
            straight_cost = (planning.fixed_cost + graph.mean_cost_per_m * straight_to_customer).sum(axis=1)
        ok = (distance_m <= planning.max_route_m) & np.isfinite(street_cost)
        frames.append(pd.DataFrame({
            "end_node": lc.end_node, "q": lc.q, "cut_node": lc.cut_node, "to_node": to[ok],
            "from_feeder": lc.from_feeder, "to_feeder": feeder.to_numpy()[other][ok],
            "customers": [lc.customers] * int(ok.sum()), "moved_nodes": [lc.moved_nodes] * int(ok.sum()),
            "cost": (straight_cost if straight_line else street_cost)[ok],
            "street_cost": street_cost[ok], "max_customer_distance_m": distance_m[ok],
            "straight_m": np.hypot(*(to_xy - node_xy[node_pos[lc.cut_node]]).T)[ok],
        }))
    options = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*OPTION_COLUMNS, "straight_m"])
    street_routes = [graph.route(c, i) for c, i in zip(options["cut_node"], options["to_node"])]
    options["route"] = [r[0] for r in street_routes]
    options["street_route_length_m"] = np.array([r[1] for r in street_routes], dtype=float)
    options["route_length_m"] = options["straight_m"] if straight_line else options["street_route_length_m"]
    options["q"] = options["q"].astype(int)
    options.index = pd.Index(
        [f"{h}/{q}->{i}" for h, q, i in zip(options["end_node"], options["q"], options["to_node"])], name="option"
    )
    logger.info("%d admissible move options (%s)", len(options), "straight line" if straight_line else "streets")
    return options[list(OPTION_COLUMNS)]


def options_summary(case: Case, options: pd.DataFrame) -> pd.DataFrame:
    """Per end node: its chain, and its cheapest admissible option on each other feeder.

    Index (``end_node``, ``to_feeder``; '' where the end node has no admissible option);
    columns ``feeder``, ``chain_customers`` (far end first), ``admissible_q``, ``q``,
    ``to_node``, ``cost`` [currency], ``route_length_m`` [m].
    """
    k = case.params.planning.max_customers_per_move
    chains = pd.DataFrame([
        {"end_node": h, "feeder": c.feeder, "chain_customers": " ".join(c.customers),
         "admissible_q": " ".join(map(str, load_combinations(c, k)))}
        for h, c in tail_chains(case).items()
    ], columns=["end_node", "feeder", "chain_customers", "admissible_q"])
    best = (
        options.sort_values(["cost", "q"]).groupby(["end_node", "to_feeder"], as_index=False).first()
        [["end_node", "to_feeder", "q", "to_node", "cost", "route_length_m"]]
    )
    out = chains.merge(best, on="end_node", how="left")
    out["to_feeder"] = out["to_feeder"].fillna("")
    return out.set_index(["end_node", "to_feeder"]).sort_index()
