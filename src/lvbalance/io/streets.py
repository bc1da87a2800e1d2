"""Street segments from GeoJSON, local OpenStreetMap XML, or the network's own lines.

MODEL.md §1-2: the street graph is a set of LineStrings with a construction cost
``cost_per_m`` [currency/m] each. Segments meet at their end points (the coupling
step and :func:`lvbalance.case.validate_case` join end points closer than
``SNAP_TOLERANCE_M``), so every reader here splits lines where they touch or cross.
Nothing is downloaded: OSM data is read from a local ``.osm`` file.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString

from lvbalance.case import MissingPackageError, Network, Streets
from lvbalance.params import StreetParams

logger = logging.getLogger(__name__)

#: Coordinates are rounded to this grid before noding, so that end points that are
#: meant to coincide do [m].
NODING_GRID_M = 0.01


def line_between(geom: LineString | None, a: tuple[float, float], b: tuple[float, float]) -> LineString:
    """``geom`` oriented from ``a`` to ``b`` with its end points moved exactly onto ``a`` and ``b``.

    Line routes in real data often stop a few metres short of their buses; the street
    graph needs them to meet. Without a route: the straight line a-b.
    """
    if geom is None or geom.is_empty or len(geom.coords) < 2:
        return LineString([a, b])
    c = np.asarray(geom.coords, dtype=float)[:, :2]
    if np.hypot(*(c[0] - a)) + np.hypot(*(c[-1] - b)) > np.hypot(*(c[-1] - a)) + np.hypot(*(c[0] - b)):
        c = c[::-1].copy()
    c[0], c[-1] = a, b
    return LineString(c)


#: A street end this close to another street is joined onto it (T-junctions in real
#: data rarely meet exactly) [m].
JOIN_TOLERANCE_M = 0.5


def _snap_ends(geoms: list[LineString]) -> list[LineString]:
    """Move street ends that lie within JOIN_TOLERANCE_M of another street onto it."""
    tree = shapely.STRtree(geoms)
    out = []
    for i, g in enumerate(geoms):
        c = np.asarray(g.coords, dtype=float)[:, :2]
        changed = False
        for k in (0, -1):
            p = shapely.Point(c[k])
            near = [j for j in tree.query(p, predicate="dwithin", distance=JOIN_TOLERANCE_M) if j != i]
            if not near:
                continue
            j = min(near, key=lambda j: geoms[j].distance(p))
            q = geoms[j].interpolate(geoms[j].project(p))
            if q.distance(p) > 0:
                c[k] = (q.x, q.y)
                changed = True
        out.append(LineString(c) if changed else g)
    return out


def _noded(lines: Iterable[LineString]) -> list[LineString]:
    """Split ``lines`` wherever they touch or cross; returns the pieces (no duplicates)."""
    geoms = [g for g in lines if g is not None and not g.is_empty]
    if not geoms:
        return []
    merged = shapely.unary_union(_snap_ends(geoms), grid_size=NODING_GRID_M)
    parts = list(merged.geoms) if hasattr(merged, "geoms") else [merged]
    return [p for p in parts if isinstance(p, LineString) and p.length > 0]


def _split_by_source(pieces: list[LineString], sources: gpd.GeoSeries) -> np.ndarray:
    """Index of the source line each noded piece lies on (the one nearest its midpoint)."""
    tree = shapely.STRtree(sources.to_numpy())
    mids = shapely.line_interpolate_point(np.array(pieces, dtype=object), 0.5, normalized=True)
    return np.asarray(tree.nearest(mids))


def segments_frame(lines: Iterable[LineString], cost_per_m: Iterable[float] | None, crs: str, *, node: bool = True) -> gpd.GeoDataFrame:
    """Street table (index ``street_id`` ``S0``, ``S1``...; ``geometry``; ``cost_per_m``).

    With ``node=True`` the lines are split where they meet and each piece keeps the
    cost of the line it came from.
    """
    lines = [g for g in lines]
    costs = np.full(len(lines), np.nan) if cost_per_m is None else np.asarray(list(cost_per_m), dtype=float)
    if node and lines:
        pieces = _noded(lines)
        src = _split_by_source(pieces, gpd.GeoSeries(lines))
        lines, costs = pieces, costs[src]
    index = pd.Index([f"S{i}" for i in range(len(lines))], name="street_id")
    return gpd.GeoDataFrame({"cost_per_m": costs}, geometry=gpd.GeoSeries(list(lines), index=index, crs=crs), index=index)


def _explode_lines(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    gdf = gdf[gdf.geometry.geom_type.isin(["LineString", "MultiLineString"])]
    return gdf.explode(index_parts=False)


def streets_from_geojson(path: str | Path, crs: str) -> Streets:
    """Read street LineStrings from a GeoJSON (or any file geopandas reads).

    Parameters
    ----------
    path
        File with LineString / MultiLineString features; an optional numeric property
        ``cost_per_m`` [currency/m] (missing: the default cost).
    crs
        Projected metric CRS of the case; the file is reprojected to it (a file
        without CRS is taken as lon/lat, as GeoJSON specifies).
    """
    from lvbalance.io.reader import read_geojson

    gdf = read_geojson(path)
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    gdf = _explode_lines(gdf.to_crs(crs))
    cost = pd.to_numeric(gdf["cost_per_m"], errors="coerce") if "cost_per_m" in gdf else None
    return Streets(segments_frame(gdf.geometry, cost, crs), source="geojson")


def osm_cost_per_m(highway: object, cost_per_m: Mapping[str, float]) -> float:
    """Construction cost of an OSM street by its ``highway`` tag [currency/m].

    ``cost_per_m`` maps highway classes to costs (``streets.osm_highway_cost_per_m``); a
    ``*_link`` class costs as its road; a list of classes (osmnx merges them on simplified
    edges) costs as its dearest known one. Unknown or missing: NaN (= the default cost).
    """
    if isinstance(highway, list):
        costs = [osm_cost_per_m(h, cost_per_m) for h in highway]
        costs = [c for c in costs if not math.isnan(c)]
        return max(costs) if costs else math.nan
    if not isinstance(highway, str):
        return math.nan
    return float(cost_per_m.get(highway.removesuffix("_link"), math.nan))


def streets_from_osm_xml(path: str | Path, crs: str, *, params: StreetParams | None = None) -> Streets:
    """Read the street graph of a local OpenStreetMap XML file (``.osm``) with osmnx.

    Every way with a ``highway`` tag becomes street segments (edges of the osmnx
    graph, one per pair of intersections, both directions merged). No network access.

    Parameters
    ----------
    path
        The ``.osm`` file (lon/lat, as OSM stores them).
    crs
        Projected metric CRS of the case; the streets are projected to it.
    params
        Street options; ``osm_highway_cost_per_m`` gives ``cost_per_m`` [currency/m] by
        highway class (:func:`osm_cost_per_m`). Default: the default options.
    """
    import osmnx as ox

    table = (params if params is not None else StreetParams()).osm_highway_cost_per_m

    graph = ox.graph_from_xml(path, bidirectional=True, simplify=True, retain_all=True)
    graph = ox.convert.to_undirected(graph)
    edges = ox.convert.graph_to_gdfs(graph, nodes=False, fill_edge_geometry=True)
    edges = edges.to_crs(crs)
    highway = edges["highway"] if "highway" in edges else pd.Series(np.nan, index=edges.index)
    cost = [osm_cost_per_m(h, table) for h in highway]
    logger.info("read %d street edges from %s", len(edges), path)
    return Streets(segments_frame(edges.geometry, cost, crs), source="osm")


def streets_from_osm_pbf(path: str | Path, crs: str, *, params: StreetParams | None = None) -> Streets:
    """Read the streets of a local OpenStreetMap PBF file (``.osm.pbf``) with pyrosm (offline).

    Every way with a ``highway`` tag (pyrosm ``network_type="all"``) becomes street segments,
    split where ways meet or cross; ``cost_per_m`` by highway class as in
    :func:`streets_from_osm_xml`. pyrosm is optional (extra ``osm``): without it, a
    :class:`~lvbalance.case.MissingPackageError` that names the extra.
    """
    try:
        import pyrosm
    except ImportError as exc:
        raise MissingPackageError("pyrosm", extra="osm", feature=f"reading OpenStreetMap PBF ({Path(path).name})") from exc
    table = (params if params is not None else StreetParams()).osm_highway_cost_per_m
    edges = pyrosm.OSM(str(path)).get_network(network_type="all")
    if edges is None or edges.empty:
        return Streets(segments_frame([], None, crs), source="osm")
    if edges.crs is None:
        edges = edges.set_crs("EPSG:4326")
    edges = _explode_lines(edges.to_crs(crs))
    highway = edges["highway"] if "highway" in edges else pd.Series(np.nan, index=edges.index)
    cost = [osm_cost_per_m(h, table) for h in highway]
    logger.info("read %d street ways from %s", len(edges), path)
    return Streets(segments_frame(edges.geometry, cost, crs), source="osm")


def streets_from_file(path: str | Path, crs: str, *, params: StreetParams | None = None) -> Streets:
    """Streets of a file by its suffix: OSM XML (``.osm``, ``.xml``), OSM PBF (``.pbf``), else GeoJSON
    (or any file geopandas reads)."""
    suffix = Path(path).suffix.lower()
    if suffix in (".osm", ".xml"):
        return streets_from_osm_xml(path, crs, params=params)
    if suffix == ".pbf":
        return streets_from_osm_pbf(path, crs, params=params)
    return streets_from_geojson(path, crs)


def streets_from_network_lines(network: Network, crs: str) -> Streets:
    """Streets derived from the network's own line routes (cables are laid along streets).

    Uses ``network.line_geometry`` where present (end points moved onto the nodes), else
    the straight line between the line's end nodes. Costs are NaN (the default
    ``streets.default_cost_per_m``).
    """
    xy = network.nodes[["x", "y"]].astype(float)
    geoms = [
        line_between(network.line_geometry.get(line_id), tuple(xy.loc[r["from_node"]]), tuple(xy.loc[r["to_node"]]))
        for line_id, r in network.lines.iterrows()
    ]
    return Streets(segments_frame(geoms, None, crs), source="network_lines")
