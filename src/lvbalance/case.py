"""The case: one transformer area with its network, streets, customers and meter data.

MODEL.md §1 (the paper's Table 1). A :class:`Case` is plain, typed data; every table
has its units in its column names. :func:`validate_case` is the one consistency pass:
it collects *every* problem and :func:`check_case` raises them together as one
:class:`CaseError`. Code after the boundary trusts a validated case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import holidays
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely

from lvbalance.junctions import SNAP_TOLERANCE_M, street_components  # noqa: F401 (SNAP_TOLERANCE_M re-exported)
from lvbalance.params import Params

NODE_KINDS = ("busbar", "junction", "customer_access")
CUSTOMER_TYPES = ("residential", "commercial", "pv", "ev", "heat_pump")
DAY_TYPES = ("working", "non_working")
WEATHERS = ("sunny", "cloudy", "rainy")
STREET_SOURCES = ("geojson", "osm", "network_lines")

NODE_COLUMNS = ("x", "y", "kind")
LINE_COLUMNS = ("from_node", "to_node", "length_m", "rated_kw", "r_ohm_per_km", "x_ohm_per_km", "std_type")
CUSTOMER_COLUMNS = ("node_id", "x", "y", "type", "metered", "annual_kwh", "charge_kw", "discharge_kw", "v2g")
READING_COLUMNS = ("customer_id", "timestamp", "p_kw")
CALENDAR_COLUMNS = ("day_type", "weather")


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where it is and what is wrong."""

    file: str
    element: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}, {self.element}" if self.element else self.file
        return f"{where}: {self.message}"


class CaseError(ValueError):
    """A case has problems; ``problems`` lists all of them."""

    def __init__(self, problems: Iterable[Problem], source: str = "case") -> None:
        self.problems = list(problems)
        self.source = source
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source} has {len(self.problems)} problem(s):\n{lines}")


class MissingPackageError(ImportError):
    """An optional package that a feature needs is not installed.

    ``package``: the module that is missing; ``extra``: the lvbalance extra that installs it
    (``pip install "lvbalance[extra]"``); ``feature``: what needs it.
    """

    def __init__(self, package: str, *, extra: str, feature: str) -> None:
        self.package = package
        self.extra = extra
        self.feature = feature
        super().__init__(
            f"{feature} needs the optional package '{package}', which is not installed: pip install \"lvbalance[{extra}]\"",
            name=package,
        )


# --------------------------------------------------------------------------- parts


@dataclass(frozen=True, eq=False)
class Network:
    """The LV network: a radial tree rooted at the transformer busbar.

    ``nodes``: index ``node_id``; ``x``, ``y`` [m, projected], ``kind`` (one of NODE_KINDS).
    ``lines``: index ``line_id``; ``from_node``, ``to_node``, ``length_m`` [m], ``rated_kw`` [kW],
    ``r_ohm_per_km``, ``x_ohm_per_km`` [Ω/km] (NaN when unknown), ``std_type`` (pandapower name or "").
    ``line_geometry``: optional route of each line (shapely LineString, same CRS).
    """

    nodes: pd.DataFrame
    lines: pd.DataFrame
    line_geometry: dict[str, shapely.LineString] = field(default_factory=dict)

    @property
    def busbar(self) -> str:
        """Id of the transformer LV busbar."""
        return str(self.nodes.index[self.nodes["kind"] == "busbar"][0])

    @cached_property
    def graph(self) -> nx.Graph:
        """Undirected graph of nodes and lines (edge attribute ``line_id``)."""
        g = nx.Graph()
        g.add_nodes_from(self.nodes.index)
        for line_id, row in self.lines.iterrows():
            g.add_edge(row["from_node"], row["to_node"], line_id=line_id)
        return g

    @cached_property
    def parent(self) -> pd.DataFrame:
        """For each node but the busbar: ``parent_node`` and ``line_id`` towards the busbar."""
        pred = nx.predecessor(self.graph, self.busbar)
        rows = {n: (p[0], self.graph.edges[p[0], n]["line_id"]) for n, p in pred.items() if p}
        return pd.DataFrame.from_dict(rows, orient="index", columns=["parent_node", "line_id"]).rename_axis("node_id")

    @cached_property
    def feeder_outlets(self) -> pd.Series:
        """Outlet line of each feeder, feeders labelled ``F1``, ``F2``, ... in line-table order."""
        b = self.busbar
        outlets = [lid for lid, r in self.lines.iterrows() if b in (r["from_node"], r["to_node"])]
        return pd.Series(outlets, index=[f"F{i + 1}" for i in range(len(outlets))], name="line_id").rename_axis("feeder")

    @cached_property
    def feeder_of_node(self) -> pd.Series:
        """Feeder label of every node but the busbar."""
        g = self.graph.copy()
        g.remove_node(self.busbar)
        out = {}
        for feeder, line_id in self.feeder_outlets.items():
            r = self.lines.loc[line_id]
            head = r["to_node"] if r["from_node"] == self.busbar else r["from_node"]
            for n in nx.node_connected_component(g, head):
                out[n] = feeder
        # in the order of nodes.csv: a set's order changes with the hash seed (and the outputs with it)
        order = [n for n in self.nodes.index if n in out]
        return pd.Series(out, name="feeder").reindex(order).rename_axis("node_id")

    @property
    def feeder_rating_kw(self) -> pd.Series:
        """Outlet rating of each feeder [kW]."""
        return pd.Series(self.lines.loc[self.feeder_outlets.values, "rated_kw"].to_numpy(), index=self.feeder_outlets.index)


@dataclass(frozen=True, eq=False)
class Streets:
    """Street segments with their construction cost (MODEL.md §1-2).

    ``segments``: GeoDataFrame, index ``street_id``, LineString geometry in the case CRS,
    ``cost_per_m`` [currency/m] (NaN: ``streets.default_cost_per_m``).
    ``source``: where the streets came from (one of STREET_SOURCES).
    """

    segments: gpd.GeoDataFrame
    source: str = "geojson"


@dataclass(frozen=True, eq=False)
class Case:
    """One transformer area, ready to plan.

    ``customers``: index ``customer_id``; ``node_id`` (access node), ``x``, ``y`` [m],
    ``type``, ``metered``, ``annual_kwh`` [kWh/a] (pv: generation, positive),
    ``charge_kw``, ``discharge_kw`` [kW] (ev only), ``v2g``.
    ``meter_readings``: ``customer_id``, ``timestamp`` (local, interval start), ``p_kw`` [kW]
    (pv negative).
    ``calendar``: index ``date``; ``day_type``, ``weather``.
    """

    name: str
    crs: str
    network: Network
    streets: Streets
    customers: pd.DataFrame
    meter_readings: pd.DataFrame
    calendar: pd.DataFrame
    params: Params = field(default_factory=Params)
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def ev_customers(self) -> pd.DataFrame:
        return self.customers[self.customers["type"] == "ev"]

    def with_params(self, params: Params) -> Case:
        """The same case with other parameters."""
        return Case(
            self.name,
            self.crs,
            self.network,
            self.streets,
            self.customers,
            self.meter_readings,
            self.calendar,
            params,
            dict(self.metadata),
        )


# --------------------------------------------------------------------------- validation


def check_case(case: Case) -> Case:
    """Return ``case`` if it is consistent, else raise one :class:`CaseError` listing every problem."""
    problems = validate_case(case)
    if problems:
        raise CaseError(problems, source=f"case '{case.name}'")
    return case


def validate_case(case: Case) -> list[Problem]:
    """Every problem of ``case`` (empty list: the case is consistent)."""
    problems: list[Problem] = []
    problems += _check_crs(case.crs)
    problems += _check_nodes(case.network.nodes)
    problems += _check_lines(case.network)
    problems += _check_tree(case.network)
    problems += _check_customers(case.customers, case.network)
    problems += _check_readings(case.meter_readings, case.customers)
    problems += _check_calendar(case.calendar)
    problems += _check_streets(case)
    problems += _check_plannable(case)
    return problems


def _duplicates(index: pd.Index, file: str, what: str) -> list[Problem]:
    dup = index[index.duplicated()].unique()
    return [Problem(file, f"{what} {d}", "duplicate id") for d in dup]


def _bad_numbers(df: pd.DataFrame, columns: Iterable[str], file: str, what: str, *, positive: bool) -> list[Problem]:
    out = []
    for col in columns:
        values = pd.to_numeric(df[col], errors="coerce")
        for idx in df.index[values.isna()]:
            out.append(Problem(file, f"{what} {idx}", f"{col} is missing or not a number ({df.at[idx, col]!r})"))
        if positive:
            for idx in df.index[values.notna() & ~(values > 0)]:
                out.append(Problem(file, f"{what} {idx}", f"{col} must be positive, got {values[idx]:g}"))
    return out


def _check_crs(crs: str) -> list[Problem]:
    try:
        c = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        return [Problem("case.toml", "crs", f"not a known coordinate reference system: {crs!r} ({exc})")]
    if not c.is_projected or c.axis_info[0].unit_name not in ("metre", "meter"):
        return [Problem("case.toml", "crs", f"{crs!r} is not a projected CRS in metres (coordinates are projected on load)")]
    return []


def _check_nodes(nodes: pd.DataFrame) -> list[Problem]:
    out = _duplicates(nodes.index, "nodes.csv", "node")
    out += _bad_numbers(nodes, ["x", "y"], "nodes.csv", "node", positive=False)
    for idx in nodes.index[~nodes["kind"].isin(NODE_KINDS)]:
        out.append(Problem("nodes.csv", f"node {idx}", f"unknown kind {nodes.at[idx, 'kind']!r} (expected one of {', '.join(NODE_KINDS)})"))
    n_busbar = int((nodes["kind"] == "busbar").sum())
    if n_busbar != 1:
        out.append(Problem("nodes.csv", "kind", f"exactly one node must be the busbar, found {n_busbar}"))
    return out


def _check_lines(net: Network) -> list[Problem]:
    lines = net.lines
    out = _duplicates(lines.index, "lines.csv", "line")
    out += _bad_numbers(lines, ["length_m", "rated_kw"], "lines.csv", "line", positive=True)
    known = set(net.nodes.index)
    for end in ("from_node", "to_node"):
        for idx in lines.index[~lines[end].isin(known)]:
            out.append(Problem("lines.csv", f"line {idx}", f"{end} {lines.at[idx, end]!r} is not in nodes.csv"))
    for idx in lines.index[lines["from_node"] == lines["to_node"]]:
        out.append(Problem("lines.csv", f"line {idx}", "starts and ends at the same node"))
    for line_id in net.line_geometry:
        if line_id not in lines.index:
            out.append(Problem("lines.geojson", f"line {line_id}", "geometry of a line that is not in lines.csv"))
    return out


def _check_tree(net: Network) -> list[Problem]:
    """The network must be a radial tree that reaches every node from the busbar."""
    if int((net.nodes["kind"] == "busbar").sum()) != 1 or net.nodes.index.duplicated().any():
        return []  # reported by _check_nodes; the tree cannot be rooted
    known = set(net.nodes.index)
    g = nx.MultiGraph()
    g.add_nodes_from(net.nodes.index)
    for line_id, r in net.lines.iterrows():
        if r["from_node"] in known and r["to_node"] in known and r["from_node"] != r["to_node"]:
            g.add_edge(r["from_node"], r["to_node"], key=line_id)
    out = []
    for cycle in nx.cycle_basis(nx.Graph(g)):
        sub = g.subgraph(cycle)
        lines = sorted(str(k) for *_, k in sub.edges(keys=True))
        out.append(Problem("lines.csv", "lines " + ", ".join(lines), "form a loop: the network must be radial"))
    for u, v in {(u, v) for u, v, k in g.edges(keys=True) if g.number_of_edges(u, v) > 1}:
        keys = sorted(str(k) for k in g[u][v])
        out.append(Problem("lines.csv", "lines " + ", ".join(keys), f"are parallel between {u} and {v}: the network must be radial"))
    reached = nx.node_connected_component(g, net.busbar)
    unreached = [n for n in net.nodes.index if n not in reached]
    if unreached:
        shown = ", ".join(map(str, unreached[:10])) + (" ..." if len(unreached) > 10 else "")
        out.append(Problem("nodes.csv", f"{len(unreached)} node(s)", f"not connected to the busbar: {shown}"))
    return out


def _check_customers(customers: pd.DataFrame, net: Network) -> list[Problem]:
    f = "customers.csv"
    out = _duplicates(customers.index, f, "customer")
    out += _bad_numbers(customers, ["x", "y"], f, "customer", positive=False)
    for idx in customers.index[~customers["node_id"].isin(net.nodes.index)]:
        out.append(Problem(f, f"customer {idx}", f"node {customers.at[idx, 'node_id']!r} is not in nodes.csv"))
    busbar_ok = int((net.nodes["kind"] == "busbar").sum()) == 1
    if busbar_ok:
        for idx in customers.index[customers["node_id"] == net.busbar]:
            out.append(Problem(f, f"customer {idx}", "hangs on the busbar itself, not on a feeder"))
    for idx in customers.index[~customers["type"].isin(CUSTOMER_TYPES)]:
        typ = customers.at[idx, "type"]
        out.append(Problem(f, f"customer {idx}", f"unknown type {typ!r} (expected one of {', '.join(CUSTOMER_TYPES)})"))
    ev = customers[customers["type"] == "ev"]
    for col in ("charge_kw", "discharge_kw"):
        vals = pd.to_numeric(ev[col], errors="coerce")
        for idx in ev.index[vals.isna() | (vals < 0)]:
            out.append(Problem(f, f"customer {idx}", f"ev customer needs a charger rating {col} >= 0, got {ev.at[idx, col]!r}"))
    vals = pd.to_numeric(ev["charge_kw"], errors="coerce")
    for idx in ev.index[vals == 0]:
        out.append(Problem(f, f"customer {idx}", "ev customer needs charge_kw > 0"))
    unmetered = customers[~customers["metered"].astype(bool)]
    energy = pd.to_numeric(unmetered["annual_kwh"], errors="coerce")
    for idx in unmetered.index[energy.isna() | (energy <= 0)]:
        got = unmetered.at[idx, "annual_kwh"]
        out.append(Problem(f, f"customer {idx}", f"has no meter, so it needs billed energy annual_kwh > 0, got {got!r}"))
    return out


def _check_readings(readings: pd.DataFrame, customers: pd.DataFrame) -> list[Problem]:
    f = "meter_readings.csv"
    out = []
    p = pd.to_numeric(readings["p_kw"], errors="coerce")
    bad = readings.index[p.isna() | ~np.isfinite(p.fillna(0.0))]
    for idx in bad[:50]:
        value, cid = readings.at[idx, "p_kw"], readings.at[idx, "customer_id"]
        out.append(Problem(f, f"row {idx + 2}", f"p_kw is not a finite number ({value!r}) for customer {cid}"))
    if len(bad) > 50:
        out.append(Problem(f, f"{len(bad) - 50} more row(s)", "p_kw is not a finite number"))
    ts = pd.to_datetime(readings["timestamp"], errors="coerce")
    for idx in readings.index[ts.isna()][:20]:
        out.append(Problem(f, f"row {idx + 2}", f"timestamp {readings.at[idx, 'timestamp']!r} is not a date-time"))
    unknown = readings.loc[~readings["customer_id"].isin(customers.index), "customer_id"]
    for cid, rows in unknown.groupby(unknown).groups.items():
        out.append(Problem(f, f"{len(rows)} row(s) from row {rows[0] + 2}", f"readings for unknown customer {cid!r}"))
    metered = customers.index[customers["metered"].astype(bool)]
    have = set(readings["customer_id"])
    for cid in metered:
        if cid not in have:
            out.append(Problem("customers.csv", f"customer {cid}", "is metered but has no readings in meter_readings.csv"))
    return out


def _check_calendar(calendar: pd.DataFrame) -> list[Problem]:
    f = "days.csv"
    out = _duplicates(calendar.index, f, "date")
    for col, allowed in (("day_type", DAY_TYPES), ("weather", WEATHERS)):
        for idx in calendar.index[~calendar[col].isin(allowed)]:
            day = idx.date() if isinstance(idx, pd.Timestamp) else idx
            out.append(Problem(f, f"date {day}", f"unknown {col} {calendar.at[idx, col]!r} (expected one of {', '.join(allowed)})"))
    return out


def _check_plannable(case: Case) -> list[Problem]:
    """What keeps a case from being planned (MODEL.md §3): a customer with neither readings nor
    billed energy (no profile), a horizon without a day (no scenario), an unknown holiday country."""
    out, cust, prof, cal = [], case.customers, case.params.profiles, case.calendar
    energy = pd.to_numeric(cust["annual_kwh"], errors="coerce")
    blind = cust[~cust.index.isin(list(set(case.meter_readings["customer_id"]))) & ~(energy > 0)]
    for typ, ids in blind.groupby("type").groups.items():
        shown = ", ".join(map(str, list(ids)[:10])) + (" ..." if len(ids) > 10 else "")
        why = f"{len(ids)} customer(s) with neither meter readings nor billed energy ({shown}): no profile can be built, so the case"
        fix = "cannot be planned; give their annual_kwh [kWh/a] in customers.csv or their readings in meter_readings.csv"
        out.append(Problem("customers.csv", f"type {typ}", f"{why} {fix}"))
    no_scenario = "so there is no scenario to plan for"
    if not len(cal) and prof.calendar_days == 0:
        fix = "list the days in days.csv or set profiles.calendar_days > 0 (e.g. 365)"
        out.append(Problem("days.csv", "", f"is empty and params.profiles.calendar_days = 0: the horizon has no day, {no_scenario}; {fix}"))
    elif len(cal) and not cal["day_type"].isin(DAY_TYPES).any():
        out.append(Problem("days.csv", "", f"no day has a known day_type, {no_scenario}; label the days {' or '.join(DAY_TYPES)}"))
    country = prof.country if prof.country is not None else case.metadata.get("country")
    if country is not None and country not in holidays.list_supported_countries():
        where = "params.profiles.country" if prof.country is not None else "metadata country"
        fix = "working days cannot be told from holidays; use its ISO 3166 code (e.g. DE)"
        out.append(Problem("case.toml", where, f"{country!r} is not a country of the holidays package, so {fix}"))
    return out


def _check_streets(case: Case) -> list[Problem]:
    """Streets must be LineStrings; every network node and customer lies within ``max_snap_m`` of a
    street (the coupling snaps them there) and every node reaches the busbar's street component."""
    f = "streets.geojson"
    seg = case.streets.segments
    out = _duplicates(seg.index, f, "street")
    bad_geom = ~seg.geometry.geom_type.isin(["LineString"]) | seg.geometry.is_empty
    for idx in seg.index[bad_geom]:
        out.append(Problem(f, f"street {idx}", "geometry must be a non-empty LineString"))
    cost = pd.to_numeric(seg["cost_per_m"], errors="coerce")
    for idx in seg.index[cost.notna() & ~(cost > 0)]:
        out.append(Problem(f, f"street {idx}", f"cost_per_m must be positive, got {cost[idx]:g}"))
    good = seg[~bad_geom]
    nodes = case.network.nodes
    if good.empty or int((nodes["kind"] == "busbar").sum()) != 1:
        if good.empty:
            out.append(Problem(f, "", "no usable street segment"))
        return out
    xy = pd.DataFrame({"x": pd.to_numeric(nodes["x"], errors="coerce"), "y": pd.to_numeric(nodes["y"], errors="coerce")}).dropna()
    cust = case.customers
    cxy = pd.DataFrame({"x": pd.to_numeric(cust["x"], errors="coerce"), "y": pd.to_numeric(cust["y"], errors="coerce")}).dropna()
    points = np.vstack([xy.to_numpy(), cxy.to_numpy()]) if len(cxy) else xy.to_numpy()
    component, snap_m = _street_component_of_points(good.geometry.to_numpy(), points)
    component, c_snap_m, snap_m = component[: len(xy)], snap_m[len(xy) :], snap_m[: len(xy)]
    limit = case.params.streets.max_snap_m
    busbar_comp = component[list(xy.index).index(case.network.busbar)] if case.network.busbar in xy.index else None
    far = [(f"node {n}", d) for n, d in zip(xy.index, snap_m)] + [(f"customer {c}", d) for c, d in zip(cxy.index, c_snap_m)]
    for what, d in far:
        if d > limit:
            out.append(Problem(f, what, f"is {d:.0f} m from the nearest street (limit streets.max_snap_m = {limit:g} m)"))
    cut_off = [n for n, c in zip(xy.index, component) if c != busbar_comp]
    if cut_off:
        shown = ", ".join(map(str, cut_off[:10])) + (" ..." if len(cut_off) > 10 else "")
        out.append(Problem(f, f"{len(cut_off)} network node(s)", f"cannot be reached along streets from the busbar: {shown}"))
    return out


def _street_component_of_points(lines: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Connected component of the street nearest to each point, and the distance to it [m].

    Streets join by the rule of the street graph (:func:`lvbalance.junctions.street_junctions`):
    at end points within SNAP_TOLERANCE_M of each other and where an end point lies on another
    street's interior (T-junction).
    """
    comp = street_components(lines)
    tree = shapely.STRtree(lines)
    pts = shapely.points(points)
    nearest = tree.nearest(pts)
    dist = shapely.distance(pts, lines[nearest])
    return comp[nearest], np.asarray(dist, dtype=float)
