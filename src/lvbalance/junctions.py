"""Where street segments join: the one junction rule shared by the street graph
(:func:`lvbalance.coupling.build_street_graph`) and the case validator
(:func:`lvbalance.case.validate_case`), so that both agree on which streets connect.

* Segment end points closer than :data:`SNAP_TOLERANCE_M` (transitively) are one vertex
  (an intersection, at their mean).
* A segment is also split where such a vertex lies within :data:`SNAP_TOLERANCE_M` of its
  interior (a T-junction: one street ends on another one's side).

Segments that merely cross (an X without a shared end point) do not join.

This module depends on numpy, scipy and shapely only (no lvbalance imports), so that
``case`` and ``coupling`` can both import it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

#: Street end points closer than this are one intersection; an end point this close to
#: another street's interior splits it there (T-junction) [m].
SNAP_TOLERANCE_M = 0.5


@dataclass(frozen=True)
class Junctions:
    """Junction vertices of a set of street segments.

    ``end_vertex``: (n, 2) vertex of each segment's first and last point.
    ``vertex_xy``: (m, 2) vertex coordinates.
    ``anchors``: one row per (segment, vertex) joint: ``segment``, ``pos`` (distance along the
    segment [m]: 0 and its length for its ends, in between for T-junctions), ``vertex``.
    """

    end_vertex: np.ndarray
    vertex_xy: np.ndarray
    anchors: pd.DataFrame


def merge_points(xy: np.ndarray, tol_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Cluster points closer than ``tol_m`` (transitively): (cluster of each point, cluster mean)."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    pairs = cKDTree(xy).query_pairs(tol_m, output_type="ndarray")
    adj = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(xy), len(xy)))
    n, label = connected_components(adj, directed=False)
    counts = np.bincount(label, minlength=n)
    centre = np.column_stack([np.bincount(label, xy[:, i], minlength=n) / counts for i in (0, 1)])
    return label, centre


def street_junctions(lines: np.ndarray, tol_m: float = SNAP_TOLERANCE_M) -> Junctions:
    """The junctions of the LineStrings ``lines`` (see the module docstring for the rule)."""
    lines = np.asarray(lines, dtype=object)
    n = len(lines)
    lengths = shapely.length(lines)
    ends = np.stack([shapely.get_coordinates(shapely.get_point(lines, 0)), shapely.get_coordinates(shapely.get_point(lines, -1))], axis=1)
    end_vertex, vertex_xy = merge_points(ends.reshape(-1, 2), tol_m)
    end_vertex = end_vertex.reshape(-1, 2)

    tree = shapely.STRtree(lines)
    vpts = shapely.points(vertex_xy)
    pt, sg = tree.query(vpts, predicate="dwithin", distance=tol_m)
    pos = shapely.line_locate_point(lines[sg], vpts[pt])
    inner = (pos > tol_m) & (pos < lengths[sg] - tol_m)
    anchors = pd.DataFrame(
        {
            "segment": np.concatenate([np.arange(n), np.arange(n), sg[inner]]),
            "pos": np.concatenate([np.zeros(n), lengths, pos[inner]]),
            "vertex": np.concatenate([end_vertex[:, 0], end_vertex[:, 1], pt[inner]]),
        }
    )
    return Junctions(end_vertex, vertex_xy, anchors)


def street_components(lines: np.ndarray, tol_m: float = SNAP_TOLERANCE_M) -> np.ndarray:
    """Connected component of each segment of ``lines`` when joined at :func:`street_junctions`."""
    j = street_junctions(lines, tol_m)
    n, m = len(lines), len(j.vertex_xy)
    a = j.anchors
    adj = sp.coo_matrix((np.ones(len(a)), (a["segment"].to_numpy(), n + a["vertex"].to_numpy())), shape=(n + m, n + m))
    _, label = connected_components(adj, directed=False)
    return label[:n]
