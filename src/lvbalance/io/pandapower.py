"""Import a radial LV pandapower network as a :class:`~lvbalance.case.Case`.

What is taken from the net (MODEL.md §1, §4):

* **busbar**: the LV bus of the (single) transformer; the transformer, the HV side and
  everything not reachable from the busbar over in-service lines (with closed line
  switches) are dropped.
* **lines**: ``rated_kw = sqrt(3) * vn_kv * max_i_ka * 1000 * parallel`` (ampacity at the
  nominal voltage, unity power factor), ``length_m = 1000 * length_km``.
* **service connections** are contracted (MODEL.md §4): a *house bus* is a leaf bus that
  carries only loads / sgens and hangs by one dead-end *service line* off the backbone.
  A dead-end line counts as a service line when it is thinner (smaller ``max_i_ka *
  parallel``) than the line that feeds the bus it leaves (lv_schutterwald: ``NAYY 4x50
  SE`` lines from ``AB_...`` branch buses on ``NAYY 4x150 SE`` main cables). The house bus
  and its service line are removed; its customers keep the house coordinates and hang
  on the access node. (SimBench LV nets put loads on backbone buses of one cable type:
  nothing is contracted there.)
* **customers**: one per in-service load (``residential``, or ``commercial`` for SimBench
  ``G*`` profiles / ``type`` naming trade, commerce or agriculture) and one ``pv``
  customer per in-service sgen.
* **annual energy** without better information: ``annual_kwh = p_kw * h`` with
  :data:`FULL_LOAD_HOURS` (a load's ``p_mw`` is a peak-like design value; the SimBench
  H0 profiles, normalised to a peak of 1, have 500-1200 full-load hours, the G
  profiles 1300-3800; an sgen's ``p_mw`` is taken as its peak power, times the specific
  yield ``params.profiles.pv_yield_kwh_per_kwp``). Callers with profiles
  (:mod:`lvbalance.io.simbench`) override it.
* **coordinates**: ``net.bus.geo`` (GeoJSON points, pandapower 3) or
  ``net.bus_geodata``; lon/lat is projected to the local UTM zone (or ``crs``).
  Line routes from ``net.line.geo`` when present, their end points moved onto the
  line's buses (real routes often stop a few metres short).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from shapely.geometry import LineString, shape

from lvbalance.case import Case, CaseError, Network, Problem, Streets
from lvbalance.io.streets import line_between, streets_from_network_lines
from lvbalance.params import Params, ProfileParams

logger = logging.getLogger(__name__)

#: Full-load hours turning a load's ``p_mw`` into annual energy [h/a] (pv: the specific
#: yield ``params.profiles.pv_yield_kwh_per_kwp``).
FULL_LOAD_HOURS: dict[str, float] = {"residential": 1000.0, "commercial": 2500.0}

_COMMERCIAL_WORDS = ("commercial", "trade", "gewerbe", "business", "office", "agri", "farm", "industr")


@dataclass(frozen=True)
class ImportedNetwork:
    """Network and customers of a pandapower net, with the pandapower element of each customer.

    ``customers`` has the :class:`Case` columns plus ``element`` ('load' | 'sgen'),
    ``element_index`` (pandapower index) and ``profile`` (SimBench profile name or '').
    """

    network: Network
    customers: pd.DataFrame
    crs: str


def customer_type_of_load(profile: str, pp_type: str) -> str:
    """``commercial`` or ``residential`` from a SimBench profile name and the pandapower ``type``.

    SimBench ``G*`` (trade and commerce) and ``L*`` (agriculture, billed as business)
    profiles are commercial; ``H*`` (households) and anything unknown is residential.
    """
    p = (profile or "").strip().upper()
    if p[:1] in ("G", "L") and len(p) > 1 and p[1].isdigit():
        return "commercial"
    if p[:1] == "H" and len(p) > 1 and p[1].isdigit():
        return "residential"
    t = (pp_type or "").lower()
    if any(w in t for w in _COMMERCIAL_WORDS):
        return "commercial"
    return "residential"


def _bus_xy(net) -> pd.DataFrame:
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
    raise CaseError([Problem("pandapower net", "bus", "has no coordinates (net.bus.geo or net.bus_geodata)")], "pandapower net")


def _line_geoms(net) -> dict[int, LineString]:
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


def _projector(xy: pd.DataFrame, crs: str | None):
    """(target crs, function (x array, y array) -> (x, y)) for the net's coordinates."""
    if _looks_lonlat(xy):
        if crs is None:
            pts = gpd.GeoSeries(gpd.points_from_xy(xy["x"], xy["y"]), crs="EPSG:4326")
            crs = str(pts.estimate_utm_crs().to_string())
        import pyproj

        tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        return crs, tr.transform
    if crs is None:
        raise CaseError(
            [Problem("pandapower net", "bus coordinates", "are not lon/lat: pass crs= (the projected CRS they are in)")],
            "pandapower net",
        )
    return crs, lambda x, y: (np.asarray(x, dtype=float), np.asarray(y, dtype=float))


def _unique_names(names: pd.Series, prefix: str) -> pd.Series:
    """Element names as ids when they are unique and non-empty, else ``prefix<index>``."""
    s = names.astype("string").fillna("").str.strip()
    if (s != "").all() and s.is_unique:
        return s.astype(str)
    return pd.Series([f"{prefix}{i}" for i in names.index], index=names.index)


def _active_graph(net, busbar: int) -> nx.Graph:
    """In-service lines with closed line switches, restricted to the busbar's component."""
    open_line = set()
    if len(net.switch):
        sw = net.switch[(net.switch["et"] == "l") & ~net.switch["closed"].astype(bool)]
        open_line = set(sw["element"].astype(int))
    g = nx.Graph()
    for idx, r in net.line.iterrows():
        if not bool(r["in_service"]) or idx in open_line:
            continue
        u, v = int(r["from_bus"]), int(r["to_bus"])
        if g.has_edge(u, v):
            raise CaseError([Problem("pandapower net", f"line {idx}", f"is parallel to line {g.edges[u, v]['line']}: the network must be radial")], "pandapower net")
        g.add_edge(u, v, line=idx)
    if busbar not in g:
        raise CaseError([Problem("pandapower net", f"bus {busbar}", "the transformer LV bus has no line")], "pandapower net")
    return g.subgraph(nx.node_connected_component(g, busbar)).copy()


def _find_busbar(net) -> int:
    trafo = net.trafo[net.trafo["in_service"].astype(bool)] if len(net.trafo) else net.trafo
    if len(trafo) != 1:
        raise CaseError(
            [Problem("pandapower net", "trafo", f"needs exactly one in-service transformer (the area's), found {len(trafo)}")],
            "pandapower net",
        )
    return int(trafo["lv_bus"].iloc[0])


def _customer_elements(net, buses: set[int]) -> pd.DataFrame:
    """Loads and sgens on ``buses``: element, element_index, bus, name, type, p_kw, profile."""
    frames = []
    for element in ("load", "sgen"):
        tab = net[element]
        if not len(tab):
            continue
        tab = tab[tab["in_service"].astype(bool) & tab["bus"].isin(buses)]
        profile = tab["profile"].astype("string").fillna("") if "profile" in tab else pd.Series("", index=tab.index)
        pp_type = tab["type"].astype("string").fillna("") if "type" in tab else pd.Series("", index=tab.index)
        frames.append(pd.DataFrame({
            "element": element,
            "element_index": tab.index.astype(int),
            "bus": tab["bus"].astype(int).to_numpy(),
            "name": _unique_names(tab["name"] if "name" in tab else pd.Series("", index=tab.index), f"{element}").to_numpy(),
            "pp_type": pp_type.to_numpy(),
            "p_kw": 1000.0 * tab["p_mw"].astype(float).abs().to_numpy(),
            "profile": profile.to_numpy(),
        }))
    if not frames:
        return pd.DataFrame(columns=["element", "element_index", "bus", "name", "pp_type", "p_kw", "profile"])
    return pd.concat(frames, ignore_index=True)


def _house_buses(net, g: nx.Graph, busbar: int, customer_buses: set[int]) -> dict[int, int]:
    """House bus -> access bus for every service connection to contract (see module doc)."""
    other_elements = set()
    for element in ("ext_grid", "gen", "storage", "shunt", "ward", "xward", "motor", "asymmetric_load", "asymmetric_sgen"):
        if element in net and len(net[element]):
            other_elements |= set(net[element]["bus"].astype(int))
    ampacity = net.line["max_i_ka"].astype(float) * net.line["parallel"].astype(float)
    pred = nx.predecessor(g, busbar)
    out = {}
    for bus in g.nodes:
        if bus == busbar or g.degree(bus) != 1 or bus not in customer_buses or bus in other_elements:
            continue
        (access,) = g.neighbors(bus)
        if access == busbar:
            continue
        feeding = g.edges[pred[access][0], access]["line"]
        if ampacity[g.edges[bus, access]["line"]] < ampacity[feeding]:
            out[bus] = access
    return out


def network_from_pandapower(net, *, crs: str | None = None, pv_yield_kwh_per_kwp: float | None = None) -> ImportedNetwork:
    """Backbone network and customers of a radial LV pandapower net (see module doc).

    ``pv_yield_kwh_per_kwp``: annual energy of an sgen per kW of its peak power [kWh/kWp/a];
    None: the default of ``params.profiles.pv_yield_kwh_per_kwp``.
    """
    if pv_yield_kwh_per_kwp is None:
        pv_yield_kwh_per_kwp = ProfileParams().pv_yield_kwh_per_kwp
    busbar = _find_busbar(net)
    g = _active_graph(net, busbar)
    xy_raw = _bus_xy(net)
    missing = [b for b in g.nodes if b not in xy_raw.index]
    if missing:
        raise CaseError([Problem("pandapower net", f"bus {b}", "has no coordinates") for b in missing[:20]], "pandapower net")
    crs, project = _projector(xy_raw.loc[list(g.nodes)], crs)
    px, py = project(xy_raw["x"].to_numpy(), xy_raw["y"].to_numpy())
    xy = pd.DataFrame({"x": px, "y": py}, index=xy_raw.index)

    elements = _customer_elements(net, set(g.nodes))
    house = _house_buses(net, g, busbar, set(elements["bus"]))
    backbone = g.subgraph([b for b in g.nodes if b not in house]).copy()
    if not nx.is_tree(backbone):
        cyc = nx.cycle_basis(backbone)[0]
        raise CaseError([Problem("pandapower net", "buses " + ", ".join(map(str, cyc)), "form a loop: the network must be radial")], "pandapower net")

    bus_ids = _unique_names(net.bus.loc[list(backbone.nodes), "name"] if "name" in net.bus else pd.Series("", index=list(backbone.nodes)), "bus")
    access_bus = elements["bus"].map(lambda b: house.get(b, b))
    elements["node_id"] = access_bus.map(bus_ids)
    elements["x"] = elements["bus"].map(xy["x"])
    elements["y"] = elements["bus"].map(xy["y"])

    kind = pd.Series("junction", index=bus_ids.index)
    kind[kind.index.isin(set(access_bus))] = "customer_access"
    kind[busbar] = "busbar"
    nodes = pd.DataFrame(
        {"x": xy.loc[bus_ids.index, "x"].to_numpy(), "y": xy.loc[bus_ids.index, "y"].to_numpy(), "kind": kind.to_numpy()},
        index=pd.Index(bus_ids.to_numpy(), name="node_id"),
    )

    line_idx = sorted(backbone.edges[e]["line"] for e in backbone.edges)
    ln = net.line.loc[line_idx]
    vn_kv = net.bus.loc[ln["from_bus"].astype(int), "vn_kv"].astype(float).to_numpy()
    line_ids = _unique_names(ln["name"] if "name" in ln else pd.Series("", index=ln.index), "line")
    std_type = ln["std_type"].astype("string").fillna("") if "std_type" in ln else pd.Series("", index=ln.index)
    lines = pd.DataFrame(
        {
            "from_node": ln["from_bus"].astype(int).map(bus_ids).to_numpy(),
            "to_node": ln["to_bus"].astype(int).map(bus_ids).to_numpy(),
            "length_m": 1000.0 * ln["length_km"].astype(float).to_numpy(),
            "rated_kw": math.sqrt(3) * vn_kv * ln["max_i_ka"].astype(float).to_numpy() * 1000.0 * ln["parallel"].astype(float).to_numpy(),
            "r_ohm_per_km": ln["r_ohm_per_km"].astype(float).to_numpy(),
            "x_ohm_per_km": ln["x_ohm_per_km"].astype(float).to_numpy(),
            "std_type": std_type.astype(str).to_numpy(),
        },
        index=pd.Index(line_ids.to_numpy(), name="line_id"),
    )

    geometry: dict[str, LineString] = {}
    for idx, geom in _line_geoms(net).items():
        if idx in line_ids.index:
            c = np.asarray(geom.coords)
            gx, gy = project(c[:, 0], c[:, 1])
            a = tuple(nodes.loc[lines.at[line_ids[idx], "from_node"], ["x", "y"]].astype(float))
            b = tuple(nodes.loc[lines.at[line_ids[idx], "to_node"], ["x", "y"]].astype(float))
            geometry[str(line_ids[idx])] = line_between(LineString(np.column_stack([gx, gy])), a, b)

    types = [
        "pv" if e == "sgen" else customer_type_of_load(p, t)
        for e, p, t in zip(elements["element"], elements["profile"], elements["pp_type"])
    ]
    elements["type"] = types
    prefix = np.where(elements["element"] == "sgen", "pv_", "")
    cid = pd.Series(prefix, dtype=str) + elements["name"].astype(str)
    if not cid.is_unique:
        cid = elements["element"] + elements["element_index"].astype(str)
    hours = elements["type"].map({**FULL_LOAD_HOURS, "pv": pv_yield_kwh_per_kwp}).astype(float)
    customers = pd.DataFrame(
        {
            "node_id": elements["node_id"].to_numpy(),
            "x": elements["x"].to_numpy(dtype=float),
            "y": elements["y"].to_numpy(dtype=float),
            "type": elements["type"].to_numpy(),
            "metered": False,
            "annual_kwh": (elements["p_kw"] * hours).to_numpy(dtype=float),
            "charge_kw": np.nan,
            "discharge_kw": np.nan,
            "v2g": False,
            "element": elements["element"].to_numpy(),
            "element_index": elements["element_index"].to_numpy(),
            "profile": elements["profile"].astype(str).to_numpy(),
            "p_kw": elements["p_kw"].to_numpy(dtype=float),
        },
        index=pd.Index(cid.to_numpy(), name="customer_id"),
    )
    logger.info(
        "pandapower import: %d backbone nodes, %d lines, %d customers, %d service connections contracted",
        len(nodes), len(lines), len(customers), len(house),
    )
    return ImportedNetwork(Network(nodes, lines, geometry), customers, crs)


CASE_CUSTOMER_COLUMNS = ["node_id", "x", "y", "type", "metered", "annual_kwh", "charge_kw", "discharge_kw", "v2g"]


def empty_readings() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": pd.Series(dtype=str),
        "timestamp": pd.Series(dtype="datetime64[ns]"),
        "p_kw": pd.Series(dtype=float),
    })


def empty_calendar() -> pd.DataFrame:
    return pd.DataFrame(
        {"day_type": pd.Series(dtype=str), "weather": pd.Series(dtype=str)},
        index=pd.DatetimeIndex([], name="date"),
    )


def case_from_pandapower(
    net, *, name: str, streets: Streets | None = None, crs: str | None = None, params: Params | None = None
) -> Case:
    """A :class:`Case` from a radial LV pandapower net (no meter data, empty calendar).

    Parameters
    ----------
    net
        pandapower net with one transformer and bus coordinates.
    name
        Case name.
    streets
        Street segments in ``crs``; None derives them from the network's own line
        routes (``source='network_lines'``, noted in the metadata).
    crs
        Projected metric CRS of the case. None: the local UTM zone of lon/lat
        coordinates (required when the net's coordinates are not lon/lat).
    params
        Parameters of the case (None: the defaults); ``profiles.pv_yield_kwh_per_kwp``
        gives each sgen its annual energy.
    """
    params = params if params is not None else Params()
    imported = network_from_pandapower(net, crs=crs, pv_yield_kwh_per_kwp=params.profiles.pv_yield_kwh_per_kwp)
    metadata = {"source": "pandapower"}
    if streets is None:
        streets = streets_from_network_lines(imported.network, imported.crs)
        metadata["streets_source"] = "network_lines"
        metadata["streets_note"] = "streets derived from the network's own line routes (no street data given)"
    else:
        metadata["streets_source"] = streets.source
    return Case(
        name=name,
        crs=imported.crs,
        network=imported.network,
        streets=streets,
        customers=imported.customers[CASE_CUSTOMER_COLUMNS].copy(),
        meter_readings=empty_readings(),
        calendar=empty_calendar(),
        params=params,
        metadata=metadata,
    )
