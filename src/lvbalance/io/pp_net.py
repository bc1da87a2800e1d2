"""What a pandapower net says about its topology and places, read once for every import.

Bus coordinates (``net.bus.geo`` of pandapower 3, else ``net.bus_geodata``), line routes, the
projection of lon/lat to a metric CRS, closed bus-bus switches (their buses are one node),
the lines in operation (in service, no open line switch) and the LV transformers in
operation (in service, no open transformer switch, LV bus below :data:`LV_MAX_KV`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from shapely.geometry import LineString, shape

from lvbalance.case import CaseError, Problem
from lvbalance.io.reader import read_text

#: A pandapower net (``pandapower.pandapowerNet``; not imported here: pandapower is slow to load).
PandapowerNet = Any
#: (x array, y array) -> (x, y) in the case CRS.
Projector = Callable[[Any, Any], tuple[Any, Any]]

#: Buses below this nominal voltage are low voltage [kV].
LV_MAX_KV = 1.0
NET = "pandapower net"


def read_pandapower_json(path: str | Path) -> PandapowerNet:
    """A pandapower net from its JSON file (:class:`CaseError` naming the file if it cannot be read)."""
    import warnings

    import pandapower as pp

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    text = read_text(path)  # names the file on a decoding failure; a byte-order mark is dropped
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = pp.from_json_string(text)
    except Exception as exc:  # any reader failure is a problem of the file
        raise CaseError([Problem(path.name, "", f"cannot be read as a pandapower net: {exc}")], source=str(path)) from None
    if not isinstance(net, pp.pandapowerNet) or "bus" not in net:
        raise CaseError([Problem(path.name, "", "is JSON but not a pandapower net (no bus table)")], source=str(path))
    return net


def _bus_xy(net: PandapowerNet) -> pd.DataFrame:
    """Bus coordinates (columns x, y) in the net's own coordinate system."""
    if "geo" in net.bus and net.bus["geo"].notna().any():
        rows = {}
        for idx, g in net.bus["geo"].items():
            if isinstance(g, str) and g:
                c = json.loads(g)["coordinates"]
                rows[idx] = (float(c[0]), float(c[1]))
        return pd.DataFrame.from_dict(rows, orient="index", columns=["x", "y"])
    if "bus_geodata" in net and len(net.bus_geodata):
        return net.bus_geodata[["x", "y"]].astype(float)
    raise CaseError([Problem(NET, "bus", "has no coordinates (net.bus.geo or net.bus_geodata)")], NET)


def _line_geoms(net: PandapowerNet) -> dict[int, LineString]:
    out: dict[int, LineString] = {}
    if "geo" not in net.line:
        if "line_geodata" in net and len(net.line_geodata):
            for idx, coords in net.line_geodata["coords"].items():
                if coords is not None and len(coords) >= 2:
                    out[idx] = LineString(coords)
        return out
    for idx, g in net.line["geo"].items():
        if isinstance(g, str) and g:
            geom = shape(json.loads(g))
            if isinstance(geom, LineString) and len(geom.coords) >= 2:
                out[idx] = geom
    return out


def _looks_lonlat(xy: pd.DataFrame) -> bool:
    return bool(xy["x"].abs().le(180).all() and xy["y"].abs().le(90).all())


def _projector(xy: pd.DataFrame, crs: str | None) -> tuple[str, Projector]:
    """(target crs, function (x array, y array) -> (x, y)) for the net's coordinates."""
    if _looks_lonlat(xy):
        if crs is None:
            pts = gpd.GeoSeries(gpd.points_from_xy(xy["x"], xy["y"]), crs="EPSG:4326")
            crs = str(pts.estimate_utm_crs().to_string())
        import pyproj

        tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        return crs, tr.transform
    if crs is None:
        raise CaseError([Problem(NET, "bus coordinates", "are not lon/lat: pass crs (--crs: the projected CRS they are in)")], NET)
    return crs, lambda x, y: (np.asarray(x, dtype=float), np.asarray(y, dtype=float))


def net_crs(net: PandapowerNet, crs: str | None = None) -> str:
    """The projected CRS a case of ``net`` gets: ``crs``, else the local UTM zone of its LV buses."""
    xy = _bus_xy(net)
    lv = net.bus.index[net.bus["vn_kv"].astype(float) < LV_MAX_KV]
    return _projector(xy.loc[xy.index.intersection(lv)] if len(lv) else xy, crs)[0]


def bus_aliases(net: PandapowerNet) -> dict[int, int]:
    """Bus -> the bus it is one node with (closed bus-bus switches; the smallest index of each group)."""
    if not len(net.switch):
        return {}
    sw = net.switch[(net.switch["et"] == "b") & net.switch["closed"].astype(bool)]
    if not len(sw):
        return {}
    g = nx.Graph()
    g.add_edges_from(zip(sw["bus"].astype(int), sw["element"].astype(int)))
    return {b: min(comp) for comp in nx.connected_components(g) for b in comp if b != min(comp)}


def live_lines(net: PandapowerNet, alias: dict[int, int]) -> pd.DataFrame:
    """In-service lines without an open line switch: index = line, columns ``u``, ``v`` (aliased buses)."""
    ln = net.line[net.line["in_service"].astype(bool)]
    if len(net.switch):
        sw = net.switch[(net.switch["et"] == "l") & ~net.switch["closed"].astype(bool)]
        ln = ln[~ln.index.isin(sw["element"].astype(int))]
    u = ln["from_bus"].astype(int).map(lambda b: alias.get(b, b))
    v = ln["to_bus"].astype(int).map(lambda b: alias.get(b, b))
    return pd.DataFrame({"u": u, "v": v}, index=ln.index)


def lv_trafos(net: PandapowerNet) -> pd.DataFrame:
    """In-service transformers (no open transformer switch) whose LV bus is below LV_MAX_KV."""
    if not len(net.trafo):
        return net.trafo
    tr = net.trafo[net.trafo["in_service"].astype(bool)]
    if len(net.switch):
        sw = net.switch[(net.switch["et"] == "t") & ~net.switch["closed"].astype(bool)]
        tr = tr[~tr.index.isin(sw["element"].astype(int))]
    return tr[net.bus.loc[tr["lv_bus"].astype(int), "vn_kv"].astype(float).to_numpy() < LV_MAX_KV]


def find_busbar(net: PandapowerNet) -> int:
    """LV bus of the net's only LV transformer (a :class:`CaseError` if there is not exactly one)."""
    trafo = lv_trafos(net)
    if len(trafo) != 1:
        hint = ": import each area with --split-areas (lvbalance.io.areas)" if len(trafo) > 1 else ""
        raise CaseError(
            [Problem(NET, "trafo", f"needs exactly one in-service transformer to LV (the area's), found {len(trafo)}{hint}")], NET
        )
    return int(trafo["lv_bus"].iloc[0])
