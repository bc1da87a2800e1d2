"""The street graph: snapping, Eq 1 edge weights and Dijkstra routes (MODEL.md §1-2).

:func:`build_street_graph` turns the street segments into a graph whose edges carry
length ``l`` [m] and weight ``w = c * l`` [currency] (Eq 1, :func:`edge_weight`). Segment
end points closer than :data:`~lvbalance.junctions.SNAP_TOLERANCE_M` are one
intersection; a segment is split where another one ends on its interior
(:func:`lvbalance.junctions.street_junctions`, the same rule the case validator uses).
Every network node and every customer is snapped onto its nearest segment (which is
split there) and joined to the snap point by a short *connector* (a straight line
priced at ``streets.default_cost_per_m``: the new cable has to reach the node or the
house). A snap farther than ``streets.max_snap_m`` is a problem; all of them are raised
together.

:attr:`StreetGraph.routes` runs Dijkstra once from all network nodes at once (by weight,
with predecessors, and by length): least-cost routes [currency] and least route lengths
[m] from every network node to every network node and customer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from numpy.typing import ArrayLike
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

#: Columns of :attr:`StreetGraph.edges`, in order.
EDGE_COLUMNS = ("u", "v", "kind", "street_id", "length_m", "cost_per_m", "weight", "geometry")


def edge_weight(length_m: ArrayLike, cost_per_m: ArrayLike) -> np.ndarray:
    """Eq 1: weight of a street edge, ``w_i = c_i * l_i`` [currency].

    Parameters
    ----------
    length_m
        Edge length ``l_i`` [m].
    cost_per_m
        Construction cost coefficient ``c_i`` of the street [currency/m].

    Returns
    -------
    The weights, elementwise (same shape as the broadcast inputs) [currency].
    """
    return np.asarray(cost_per_m, dtype=float) * np.asarray(length_m, dtype=float)


# --------------------------------------------------------------------------- the graph


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


# --------------------------------------------------------------------------- building it


@dataclass(frozen=True, eq=False)
class Snaps:
    """Where points fall onto the street segments.

    ``segment``: index of each point's nearest segment; ``snap_m``: its distance to that
    segment [m]; ``pos_m``: position of the snap point along the segment [m].
    """

    segment: np.ndarray
    snap_m: np.ndarray
    pos_m: np.ndarray


@dataclass(frozen=True, eq=False)
class _Split:
    """The segments cut at junctions and snap points.

    ``vertex_xy``: junction vertices followed by the new snap vertices [m];
    ``snap_vertex``: the vertex each point snapped to; ``pieces``: (segment, u, v, geometry).
    """

    vertex_xy: np.ndarray
    snap_vertex: np.ndarray
    pieces: list[tuple[int, int, int, LineString]]


def build_street_graph(case: Case) -> StreetGraph:
    """The street graph of ``case`` with its network nodes and customers snapped on.

    Steps: cost coefficients of the segments (:func:`segment_cost_per_m`), snap the
    points (:func:`snap_points`), cut the segments at junctions and snap points, one
    connector per point, edge weights by Eq 1 (:func:`edge_weight`).

    Parameters
    ----------
    case
        The case: its street segments [m, ``cost_per_m`` in currency/m], network nodes and
        customers; ``params.streets`` gives ``default_cost_per_m`` and ``max_snap_m``.

    Returns
    -------
    StreetGraph
        Vertices, edges (``length_m`` [m], ``weight`` [currency]) and snaps.

    Raises
    ------
    CaseError
        Listing every network node and customer farther than ``streets.max_snap_m``
        from the nearest street.
    """
    params = case.params.streets
    seg = case.streets.segments
    lines = seg.geometry.to_numpy()
    cost_per_m = segment_cost_per_m(seg["cost_per_m"], default_cost_per_m=params.default_cost_per_m)
    lengths = shapely.length(lines)
    mean_cost = float(edge_weight(lengths, cost_per_m).sum() / lengths.sum())

    point_ids, point_xy = _points(case)
    snaps = snap_points(lines, point_xy)
    _raise_far_snaps(point_ids, snaps.snap_m, params.max_snap_m)
    split = _split_segments(lines, snaps)

    # the pieces of street, then one connector from each point to its snap vertex
    point_vertex = len(split.vertex_xy) + np.arange(len(point_xy))
    vertex_xy = np.vstack([split.vertex_xy, point_xy])
    street = _street_edges(split.pieces, vertex_xy, seg.index, cost_per_m)
    connector = _connector_edges(point_vertex, split.snap_vertex, point_xy, vertex_xy, params.default_cost_per_m)
    edges = pd.concat([street, connector], ignore_index=True).rename_axis("edge")
    edges["length_m"] = shapely.length(edges["geometry"].to_numpy())
    edges["weight"] = edge_weight(edges["length_m"], edges["cost_per_m"])
    edges = edges[list(EDGE_COLUMNS)]

    snap_table = pd.DataFrame(
        {"vertex": point_vertex, "street_id": seg.index.to_numpy()[snaps.segment].astype(str), "snap_m": snaps.snap_m},
        index=point_ids,
    )
    logger.info(
        "street graph: %d vertices, %d street pieces from %d segments, %d points snapped (max %.1f m)",
        len(vertex_xy),
        len(street),
        len(seg),
        len(point_xy),
        float(snaps.snap_m.max()) if len(snaps.snap_m) else 0.0,
    )
    return StreetGraph(vertex_xy, edges, snap_table, case.network.nodes.index, case.customers.index, mean_cost)


def segment_cost_per_m(cost_per_m: pd.Series, *, default_cost_per_m: float) -> np.ndarray:
    """Cost coefficient ``c_i`` of each street segment [currency/m]; missing: the default."""
    return pd.to_numeric(cost_per_m, errors="coerce").fillna(default_cost_per_m).to_numpy()


def _points(case: Case) -> tuple[pd.MultiIndex, np.ndarray]:
    """The points to snap: (index (``element`` 'node' | 'customer', ``id``), (n, 2) coordinates [m])."""
    nodes, customers = case.network.nodes, case.customers
    point_ids = pd.MultiIndex.from_arrays(
        [["node"] * len(nodes) + ["customer"] * len(customers), [*nodes.index, *customers.index]], names=["element", "id"]
    )
    point_xy = np.vstack([nodes[["x", "y"]].to_numpy(float), customers[["x", "y"]].to_numpy(float).reshape(-1, 2)])
    return point_ids, point_xy


def snap_points(lines: np.ndarray, point_xy: np.ndarray) -> Snaps:
    """Snap each point (rows of ``point_xy`` [m]) onto its nearest LineString of ``lines``."""
    ppts = shapely.points(point_xy)
    nearest = shapely.STRtree(lines).nearest(ppts)
    snap_m = shapely.distance(ppts, lines[nearest])
    return Snaps(nearest, snap_m, shapely.line_locate_point(lines[nearest], ppts))


def _raise_far_snaps(point_ids: pd.MultiIndex, snap_m: np.ndarray, limit_m: float) -> None:
    far = np.flatnonzero(snap_m > limit_m)
    if len(far):
        raise CaseError(
            [
                Problem(
                    "streets.geojson",
                    f"{point_ids[i][0]} {point_ids[i][1]}",
                    f"is {snap_m[i]:.1f} m from the nearest street (limit streets.max_snap_m = {limit_m:g} m)",
                )
                for i in far
            ],
            source="street coupling",
        )


def _split_segments(lines: np.ndarray, snaps: Snaps) -> _Split:
    """Cut every segment at its junctions (end points, T-junctions) and at the snap points.

    A snap point within :data:`SNAP_TOLERANCE_M` of a junction, or of the previous snap
    point on the same segment, shares its vertex; any other one becomes a new vertex.
    """
    # junctions: end points within the tolerance are one vertex; a segment is split where
    # another one ends on its interior (the validator joins streets by the same rule)
    junctions = street_junctions(lines, SNAP_TOLERANCE_M)
    vertex_xy_list = [junctions.vertex_xy]
    n_vertices = len(junctions.vertex_xy)
    snap_vertex = np.empty(len(snaps.segment), dtype=int)
    pieces: list[tuple[int, int, int, LineString]] = []
    snap_groups = {s: g.to_numpy() for s, g in pd.Series(np.arange(len(snaps.segment))).groupby(snaps.segment)}
    for s, group in junctions.anchors.groupby("segment", sort=True):
        cuts = group.sort_values("pos")[["pos", "vertex"]].to_numpy()
        positions, vertices = list(cuts[:, 0]), [int(v) for v in cuts[:, 1]]
        new: list[tuple[float, int]] = []
        for p in sorted(snap_groups.get(s, []), key=lambda p: snaps.pos_m[p]):
            d = snaps.pos_m[p]
            k = int(np.argmin(np.abs(cuts[:, 0] - d)))
            if abs(cuts[k, 0] - d) <= SNAP_TOLERANCE_M:
                snap_vertex[p] = int(cuts[k, 1])
            elif new and d - new[-1][0] <= SNAP_TOLERANCE_M:
                snap_vertex[p] = new[-1][1]
            else:
                vertex_xy_list.append(np.asarray(shapely.get_coordinates(lines[s].interpolate(d))))
                new.append((d, n_vertices))
                snap_vertex[p] = n_vertices
                n_vertices += 1
        positions += [d for d, _ in new]
        vertices += [v for _, v in new]
        order = np.argsort(positions, kind="stable")
        pieces += _cut(s, lines[s], [positions[i] for i in order], [vertices[i] for i in order])
    return _Split(np.vstack(vertex_xy_list), snap_vertex, pieces)


def _cut(segment: int, line: LineString, positions: list[float], vertices: list[int]) -> list[tuple[int, int, int, LineString]]:
    """Pieces of ``line`` between consecutive cut positions [m] that join distinct vertices."""
    out = []
    for (p0, v0), (p1, v1) in zip(zip(positions, vertices), zip(positions[1:], vertices[1:])):
        if v0 != v1:
            out.append((segment, v0, v1, substring(line, p0, p1)))
    return out


def _street_edges(
    pieces: list[tuple[int, int, int, LineString]], vertex_xy: np.ndarray, street_ids: pd.Index, cost_per_m: np.ndarray
) -> pd.DataFrame:
    """One 'street' edge per piece, its ends moved exactly onto its vertices."""
    ends_xy = vertex_xy[[(u, v) for _, u, v, _ in pieces]] if pieces else np.empty((0, 2, 2))
    return pd.DataFrame(
        {
            "u": [u for _, u, _, _ in pieces],
            "v": [v for _, _, v, _ in pieces],
            "kind": "street",
            "street_id": [str(street_ids[s]) for s, *_ in pieces],
            "cost_per_m": cost_per_m[[s for s, *_ in pieces]],
            "geometry": [_with_ends(g, a, b) for (_, _, _, g), (a, b) in zip(pieces, ends_xy)],
        }
    )


def _connector_edges(
    point_vertex: np.ndarray, snap_vertex: np.ndarray, point_xy: np.ndarray, vertex_xy: np.ndarray, cost_per_m: float
) -> pd.DataFrame:
    """One straight 'connector' edge from each point to its snap vertex, at ``cost_per_m`` [currency/m]."""
    return pd.DataFrame(
        {
            "u": point_vertex,
            "v": snap_vertex,
            "kind": "connector",
            "street_id": "",
            "cost_per_m": cost_per_m,
            "geometry": [LineString([a, b]) for a, b in zip(point_xy, vertex_xy[snap_vertex])],
        }
    )


def _with_ends(piece: LineString, a: np.ndarray, b: np.ndarray) -> LineString:
    """``piece`` with its end points moved exactly onto the vertices ``a`` and ``b``."""
    c = np.asarray(piece.coords, dtype=float)[:, :2]
    if len(c) < 2:
        c = np.vstack([c, c])
    c[0], c[-1] = a, b
    return LineString(c)
