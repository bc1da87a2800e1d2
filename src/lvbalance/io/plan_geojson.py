"""A plan as GeoJSON for GIS (issue 11): ``plan.geojson`` and ``plan_wgs84.geojson``.

Features, each with ``kind`` and the move's ``end_node``, ``from_feeder``, ``to_feeder``:

* ``new_line`` (LineString): the new line of a move along its street route, from the cut
  node to the target node (``plan.json`` ``route``; a straight line where no route is
  given), with ``line_id`` (``new:<cut node>`` as in the pandapower net), ``cut_node``,
  ``to_node``, ``customers`` (comma-separated), ``route_length_m`` [m], ``cost`` [currency];
* ``cut`` (Point): where the backbone is opened, the middle of the line above the cut node
  (along its geometry where the case has one), with ``line_id`` of that line and ``cut_node``;
* ``moved_customer`` (Point): each moved customer at its coordinates, with ``customer_id``
  and ``type``.

CRS: ``plan.geojson`` is in the case's projected CRS (metres, the coordinates of every
other output) and names it in a ``crs`` member (GeoJSON 2008; GDAL, QGIS and geopandas
read it). RFC 7946 GeoJSON allows WGS84 only, so ``plan_wgs84.geojson`` holds the same
features in longitude / latitude (EPSG:4326, 7 decimals, ~1 cm) for web maps. A plan
without moves writes empty collections.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyproj
import shapely

from lvbalance.case import Case
from lvbalance.results import Move, Plan, write_atomic

PLAN_GEOJSON = "plan.geojson"
PLAN_WGS84_GEOJSON = "plan_wgs84.geojson"
NEW_LINE_PREFIX = "new:"
"""Name of a move's new line, ``new:<cut node>`` (as :data:`lvbalance.flows.NEW_LINE_PREFIX`)."""


def plan_features(case: Case, moves: Sequence[Move]) -> list[dict[str, Any]]:
    """The GeoJSON features of ``moves`` in the case CRS [m] (module docstring)."""
    nodes = case.network.nodes
    parent = case.network.parent
    features: list[dict[str, Any]] = []
    for mv in moves:
        common = {"end_node": mv.end_node, "from_feeder": mv.from_feeder, "to_feeder": mv.to_feeder}
        route = [[float(x), float(y)] for x, y in mv.route] if len(mv.route) >= 2 else []
        if not route:
            route = [[float(v) for v in nodes.loc[n, ["x", "y"]]] for n in (mv.cut_node, mv.to_node)]
        features.append(
            _feature(
                {"type": "LineString", "coordinates": route},
                kind="new_line",
                line_id=NEW_LINE_PREFIX + mv.cut_node,
                cut_node=mv.cut_node,
                to_node=mv.to_node,
                customers=",".join(mv.customers),
                route_length_m=float(mv.route_length_m),
                cost=float(mv.cost),
                **common,
            )
        )
        line_id = str(parent.at[mv.cut_node, "line_id"])
        geom = case.network.line_geometry.get(line_id)
        if geom is None:
            geom = shapely.LineString(
                [nodes.loc[n, ["x", "y"]].to_numpy(float) for n in (parent.at[mv.cut_node, "parent_node"], mv.cut_node)]
            )
        mid = geom.interpolate(0.5, normalized=True)
        features.append(_feature(_point(mid.x, mid.y), kind="cut", line_id=line_id, cut_node=mv.cut_node, **common))
        for c in mv.customers:
            x, y = (float(v) for v in case.customers.loc[c, ["x", "y"]])
            features.append(_feature(_point(x, y), kind="moved_customer", customer_id=c, type=str(case.customers.at[c, "type"]), **common))
    return features


def plan_geojson(case: Case, plan: Plan | Sequence[Move], *, wgs84: bool = False) -> dict[str, Any]:
    """FeatureCollection of a plan: case CRS with a ``crs`` member, or RFC 7946 WGS84."""
    moves = list(plan.moves if isinstance(plan, Plan) else plan)
    features = plan_features(case, moves)
    if not wgs84:
        return {"type": "FeatureCollection", "name": "plan", "crs": _crs_member(case.crs), "features": _rounded(features, 3)}
    to_wgs84 = pyproj.Transformer.from_crs(case.crs, "EPSG:4326", always_xy=True)
    for f in features:
        g = f["geometry"]
        if g["type"] == "Point":
            g["coordinates"] = list(to_wgs84.transform(*g["coordinates"]))
        else:
            xs, ys = zip(*g["coordinates"])
            g["coordinates"] = [list(p) for p in zip(*to_wgs84.transform(xs, ys))]
    return {"type": "FeatureCollection", "name": "plan", "features": _rounded(features, 7)}


def write_plan_geojson(out_dir: str | Path, case: Case, plan: Plan | Sequence[Move]) -> tuple[Path, Path]:
    """Write ``plan.geojson`` (case CRS) and ``plan_wgs84.geojson`` (WGS84) atomically."""
    out = Path(out_dir)
    paths = (out / PLAN_GEOJSON, out / PLAN_WGS84_GEOJSON)
    for path, wgs84 in zip(paths, (False, True)):
        text = json.dumps(plan_geojson(case, plan, wgs84=wgs84), indent=1)
        write_atomic(path, lambda p, text=text: p.write_text(text, encoding="utf-8"))
    return paths


def _feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _point(x: float, y: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [float(x), float(y)]}


def _rounded(features: list[dict[str, Any]], digits: int) -> list[dict[str, Any]]:
    """Coordinates rounded to ``digits`` decimals (deterministic, compact)."""
    for f in features:
        g = f["geometry"]
        if g["type"] == "Point":
            g["coordinates"] = [round(float(v), digits) for v in g["coordinates"]]
        else:
            g["coordinates"] = [[round(float(v), digits) for v in p] for p in g["coordinates"]]
    return features


def _crs_member(crs: str) -> dict[str, Any]:
    """GeoJSON 2008 ``crs`` member naming the CRS (an OGC URN where it has an authority code)."""
    c = pyproj.CRS.from_user_input(crs)
    auth = c.to_authority()
    name = f"urn:ogc:def:crs:{auth[0]}::{auth[1]}" if auth else c.to_string()
    return {"type": "name", "properties": {"name": name}}
