"""Import one LV transformer area of a pandapower network as a :class:`~lvbalance.case.Case`.

What is taken from the net (MODEL.md §1, §4):

* **busbar**: the LV bus of the area's transformer (the one in-service LV transformer of the
  net, or the ``busbar`` given; :mod:`lvbalance.io.areas` finds the areas of a net with many).
  The area is what the busbar reaches over in-service lines without an open line switch;
  buses joined by a closed bus-bus switch are one node. Transformers, the HV side and
  everything not reached are dropped.
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
* **customers**: one per in-service load, typed by :func:`lvbalance.io.customers.load_kind`
  (residential, commercial, ev, heat pump), and one ``pv`` customer per in-service sgen.
  An ev load is a charging point rated at its ``p_mw`` (no V2G unless a customers file says so).
* **annual energy** without better information: ``annual_kwh = p_kw * h`` with
  :data:`~lvbalance.io.customers.FULL_LOAD_HOURS` of the load's kind; an sgen's ``p_mw`` is
  taken as its peak power, times the specific yield ``params.profiles.pv_yield_kwh_per_kwp``.
  An element's power is ``p_mw * scaling``.
* **coordinates**: ``net.bus.geo`` (GeoJSON points, pandapower 3) or
  ``net.bus_geodata``; lon/lat is projected to the local UTM zone (or ``crs``).
  Line routes from ``net.line.geo`` when present, their end points moved onto the
  line's buses (real routes often stop a few metres short).

Every problem of an area (loops, parallel lines, missing coordinates, ...) is collected and
raised as one :class:`~lvbalance.case.CaseError`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
from shapely.geometry import LineString

from lvbalance.case import Case, CaseError, Network, Problem, Streets
from lvbalance.io.customers import FULL_LOAD_HOURS, customer_type_of_load, heat_pump_customer_type, load_kind  # noqa: F401 (re-exported)
from lvbalance.io.pp_net import NET, PandapowerNet, _bus_xy, _line_geoms, _projector, bus_aliases, find_busbar, live_lines, lv_trafos
from lvbalance.io.streets import line_between, streets_from_network_lines
from lvbalance.io.timeseries import empty_readings
from lvbalance.params import Params, ProfileParams

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportedNetwork:
    """Network and customers of a pandapower area, with the pandapower element of each customer.

    ``customers`` has the :class:`Case` columns plus ``element`` ('load' | 'sgen'),
    ``element_index`` (pandapower index), ``profile`` (SimBench profile name or ''), ``p_kw``
    (``p_mw * scaling`` [kW]), ``kind`` (:func:`~lvbalance.io.customers.load_kind`, 'pv' for
    sgens) and ``annual_source`` (where ``annual_kwh`` came from). ``service_lines``: pandapower
    indices of the contracted service lines.
    """

    network: Network
    customers: pd.DataFrame
    crs: str
    service_lines: frozenset[int] = frozenset()


def _unique_names(names: pd.Series, prefix: str) -> pd.Series:
    """Element names as ids when they are unique and non-empty, else ``prefix<index>``."""
    s = names.astype("string").fillna("").str.strip()
    if (s != "").all() and s.is_unique:
        return s.astype(str)
    return pd.Series([f"{prefix}{i}" for i in names.index], index=names.index)


def _area_graph(net: PandapowerNet, busbar: int, alias: dict[int, int], problems: list[Problem]) -> nx.Graph:
    """Lines the busbar reaches (edge attribute ``line``); parallel lines and meshed areas are problems.

    The node order (that of the set of reached buses) is the order of nodes.csv.
    """
    lines = live_lines(net, alias)
    mg = nx.MultiGraph()
    mg.add_edges_from(zip(lines["u"], lines["v"], lines.index))
    g = nx.Graph()
    g.add_edges_from((u, v, {"line": k}) for u, v, k in zip(lines["u"], lines["v"], lines.index) if u != v)
    if busbar not in g:
        problems.append(Problem(NET, f"bus {busbar}", "the transformer LV bus has no in-service line"))
        g.add_node(busbar)
        mg.add_node(busbar)
    comp = nx.node_connected_component(g, busbar)
    sub = mg.subgraph(comp)
    for u, v, k in sub.edges(keys=True):
        if u == v:
            problems.append(Problem(NET, f"line {k}", f"joins bus {u} to itself (its buses are joined by a closed bus-bus switch): a loop"))
    for u, v in sorted({(min(u, v), max(u, v)) for u, v in sub.edges() if u != v and sub.number_of_edges(u, v) > 1}):
        keys = ", ".join(map(str, sorted(sub[u][v])))
        problems.append(Problem(NET, f"lines {keys}", f"are parallel between buses {u} and {v}: the network must be radial"))
    other = lv_trafos(net)
    other = other[other["lv_bus"].astype(int).map(lambda b: alias.get(b, b)).isin(comp - {busbar})]
    if len(other):
        names = ", ".join(f"{i} ({n})" if isinstance(n, str) and n else str(i) for i, n in other["name"].items())
        problems.append(Problem(NET, "trafo " + names, "also feeds this area over closed switches: areas must be apart (open a switch)"))
    return g.subgraph(comp).copy()


def _customer_elements(net: PandapowerNet, buses: set[int], alias: dict[int, int]) -> pd.DataFrame:
    """Loads and sgens on ``buses``: element, element_index, bus, name, raw_name, pp_type, p_kw, profile."""
    frames = []
    for element in ("load", "sgen"):
        tab = net[element]
        if not len(tab):
            continue
        bus = tab["bus"].astype(int).map(lambda b: alias.get(b, b))
        tab = tab[tab["in_service"].astype(bool) & bus.isin(buses)]
        blank = pd.Series("", index=tab.index)
        raw_name = tab.get("name", blank)
        scaling = tab["scaling"].astype(float).fillna(1.0) if "scaling" in tab else pd.Series(1.0, index=tab.index)
        frames.append(
            pd.DataFrame(
                {
                    "element": element,
                    "element_index": tab.index.astype(int),
                    "bus": bus[tab.index].to_numpy(),
                    "name": _unique_names(raw_name, f"{element}").to_numpy(),
                    "raw_name": raw_name.astype("string").fillna("").to_numpy(),
                    "pp_type": (tab["type"].astype("string").fillna("") if "type" in tab else blank).to_numpy(),
                    "p_kw": (1000.0 * tab["p_mw"].astype(float).abs() * scaling).to_numpy(),
                    "profile": (tab["profile"].astype("string").fillna("") if "profile" in tab else blank).to_numpy(),
                }
            )
        )
    columns = ["element", "element_index", "bus", "name", "raw_name", "pp_type", "p_kw", "profile"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _house_buses(net: PandapowerNet, g: nx.Graph, busbar: int, customer_buses: set[int], alias: dict[int, int]) -> dict[int, int]:
    """House bus -> access bus for every service connection to contract (see module doc)."""
    other_elements = set()
    for element in ("ext_grid", "gen", "storage", "shunt", "ward", "xward", "motor", "asymmetric_load", "asymmetric_sgen"):
        if element in net and len(net[element]):
            other_elements |= {alias.get(b, b) for b in net[element]["bus"].astype(int)}
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


def _customers(elements: pd.DataFrame, pv_yield_kwh_per_kwp: float) -> pd.DataFrame:
    """Customer table (Case columns + import columns, see :class:`ImportedNetwork`)."""
    kind = [
        "pv" if e == "sgen" else load_kind(p, t, n)
        for e, p, t, n in zip(elements["element"], elements["profile"], elements["pp_type"], elements["raw_name"])
    ]
    types = [heat_pump_customer_type() if k == "heat_pump" else k for k in kind]
    prefix = np.where(elements["element"] == "sgen", "pv_", "")
    cid = pd.Series(prefix, dtype=str) + elements["name"].astype(str)
    if not cid.is_unique:
        cid = elements["element"] + elements["element_index"].astype(str)
    kinds = pd.Series(kind, dtype=object)
    hours = kinds.map({**FULL_LOAD_HOURS, "pv": pv_yield_kwh_per_kwp}).astype(float)
    p_kw = elements["p_kw"].to_numpy(dtype=float)
    ev = kinds.to_numpy() == "ev"
    return pd.DataFrame(
        {
            "node_id": elements["node_id"].to_numpy(),
            "x": elements["x"].to_numpy(dtype=float),
            "y": elements["y"].to_numpy(dtype=float),
            "type": types,
            "metered": False,
            "annual_kwh": (elements["p_kw"] * hours).to_numpy(dtype=float),
            "charge_kw": np.where(ev, p_kw, np.nan),
            "discharge_kw": np.where(ev, 0.0, np.nan),
            "v2g": False,
            "element": elements["element"].to_numpy(),
            "element_index": elements["element_index"].to_numpy(dtype=np.int64),
            "profile": elements["profile"].astype(str).to_numpy(),
            "p_kw": p_kw,
            "kind": kind,
            "annual_source": np.where(kinds.to_numpy() == "pv", "pv_yield", "full_load_hours"),
        },
        index=pd.Index(cid.to_numpy(), name="customer_id"),
    )


def network_from_pandapower(
    net: PandapowerNet,
    *,
    crs: str | None = None,
    pv_yield_kwh_per_kwp: float | None = None,
    busbar: int | None = None,
    source: str = NET,
) -> ImportedNetwork:
    """Backbone network and customers of one radial LV area of a pandapower net (see module doc).

    ``busbar``: LV bus of the area's transformer (None: the net's only LV transformer).
    ``pv_yield_kwh_per_kwp``: annual energy of an sgen per kW of its peak power [kWh/kWp/a];
    None: the default of ``params.profiles.pv_yield_kwh_per_kwp``. ``source``: names the area
    in the :class:`CaseError` that lists every problem found.
    """
    if pv_yield_kwh_per_kwp is None:
        pv_yield_kwh_per_kwp = ProfileParams().pv_yield_kwh_per_kwp
    alias = bus_aliases(net)
    busbar = int(busbar) if busbar is not None else find_busbar(net)
    busbar = alias.get(busbar, busbar)
    problems: list[Problem] = []
    g = _area_graph(net, busbar, alias, problems)
    xy_raw = _bus_xy(net)
    missing = [b for b in g.nodes if b not in xy_raw.index]
    for b in missing[:20]:
        problems.append(Problem(NET, f"bus {b}", "has no coordinates"))
    if len(missing) > 20:
        problems.append(Problem(NET, f"{len(missing) - 20} more bus(es)", "have no coordinates"))
    if problems:
        raise CaseError(problems, source)
    crs, project = _projector(xy_raw.loc[list(g.nodes)], crs)
    px, py = project(xy_raw["x"].to_numpy(), xy_raw["y"].to_numpy())
    xy = pd.DataFrame({"x": px, "y": py}, index=xy_raw.index)

    elements = _customer_elements(net, set(g.nodes), alias)
    house = _house_buses(net, g, busbar, set(elements["bus"]), alias)
    backbone = g.subgraph([b for b in g.nodes if b not in house]).copy()
    for cyc in nx.cycle_basis(backbone):
        ring = list(zip(cyc, cyc[1:] + cyc[:1]))
        lines = ", ".join(str(backbone.edges[u, v]["line"]) for u, v in ring)
        problems.append(
            Problem(
                NET,
                f"lines {lines}",
                f"(buses {', '.join(map(str, cyc))}) form a loop: the network must be radial (open a switch on one of them)",
            )
        )
    if elements.empty:
        problems.append(Problem(NET, f"bus {busbar}", "the area has no in-service load or sgen: nothing to plan"))
    if problems:
        raise CaseError(problems, source)

    names = net.bus["name"] if "name" in net.bus else pd.Series("", index=net.bus.index)
    bus_ids = _unique_names(names.loc[list(backbone.nodes)], "bus")
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
    from_bus = ln["from_bus"].astype(int).map(lambda b: alias.get(b, b))
    to_bus = ln["to_bus"].astype(int).map(lambda b: alias.get(b, b))
    vn_kv = net.bus.loc[from_bus, "vn_kv"].astype(float).to_numpy()
    line_ids = _unique_names(ln["name"] if "name" in ln else pd.Series("", index=ln.index), "line")
    std_type = ln["std_type"].astype("string").fillna("") if "std_type" in ln else pd.Series("", index=ln.index)
    lines = pd.DataFrame(
        {
            "from_node": from_bus.map(bus_ids).to_numpy(),
            "to_node": to_bus.map(bus_ids).to_numpy(),
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

    customers = _customers(elements, pv_yield_kwh_per_kwp)
    service = frozenset(int(g.edges[h, a]["line"]) for h, a in house.items())
    logger.info(
        "%s: %d backbone nodes, %d lines, %d customers, %d service connections contracted",
        source,
        len(nodes),
        len(lines),
        len(customers),
        len(house),
    )
    return ImportedNetwork(Network(nodes, lines, geometry), customers, crs, service)


CASE_CUSTOMER_COLUMNS = ["node_id", "x", "y", "type", "metered", "annual_kwh", "charge_kw", "discharge_kw", "v2g"]


def empty_calendar() -> pd.DataFrame:
    return pd.DataFrame(
        {"day_type": pd.Series(dtype=str), "weather": pd.Series(dtype=str)},
        index=pd.DatetimeIndex([], name="date"),
    )


def case_of_import(
    imported: ImportedNetwork,
    *,
    name: str,
    streets: Streets | None = None,
    readings: pd.DataFrame | None = None,
    params: Params | None = None,
    metadata: dict[str, str] | None = None,
) -> Case:
    """The :class:`Case` of an imported area (empty calendar; no readings unless given).

    ``streets`` None: derived from the area's own line routes (``source='network_lines'``,
    noted in the metadata).
    """
    meta = {"source": "pandapower", **(metadata or {})}
    if streets is None:
        streets = streets_from_network_lines(imported.network, imported.crs)
        meta.setdefault("streets_source", "network_lines")
        meta.setdefault("streets_note", "streets derived from the network's own line routes (no street data given)")
    else:
        meta.setdefault("streets_source", streets.source)
    return Case(
        name=name,
        crs=imported.crs,
        network=imported.network,
        streets=streets,
        customers=imported.customers[CASE_CUSTOMER_COLUMNS].copy(),
        meter_readings=readings if readings is not None else empty_readings(),
        calendar=empty_calendar(),
        params=params if params is not None else Params(),
        metadata=meta,
    )


def case_from_pandapower(
    net: PandapowerNet, *, name: str, streets: Streets | None = None, crs: str | None = None, params: Params | None = None
) -> Case:
    """A :class:`Case` from a radial LV pandapower net with one transformer (no meter data, empty calendar).

    Parameters
    ----------
    net
        pandapower net with one LV transformer and bus coordinates.
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
    return case_of_import(imported, name=name, streets=streets, params=params)
