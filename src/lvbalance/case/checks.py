"""The one consistency pass over a case (MODEL.md §1): every problem at once.

:func:`validate_case` collects *every* error; :func:`check_case` raises them together as
one :class:`~lvbalance.case.parts.CaseError`. Plausible ranges and physical limits per unit,
plannability and warnings live in :mod:`lvbalance.case.limits`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import holidays
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import shapely

from lvbalance.case.limits import limit_errors, plannable_errors
from lvbalance.case.parts import CUSTOMER_TYPES, DAY_TYPES, NODE_KINDS, WEATHERS, Case, CaseError, Network, Problem
from lvbalance.case.timestamps import not_a_time_hint, parse_timestamps
from lvbalance.junctions import street_components

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
    problems += limit_errors(case) + plannable_errors(case)
    return problems


def _duplicates(index: pd.Index, file: str, what: str) -> list[Problem]:
    dup = index[index.duplicated()].unique()
    return [Problem(file, f"{what} {d.date() if isinstance(d, pd.Timestamp) else d}", "duplicate id") for d in dup]


def _bad_numbers(df: pd.DataFrame, columns: Iterable[str], file: str, what: str, *, positive: bool) -> list[Problem]:
    """Missing, non-numeric, non-finite (and with ``positive``, non-positive) values of ``columns``."""
    out = []
    for col in columns:
        raw = df[col].to_numpy()
        values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        for pos, (idx, v) in enumerate(zip(df.index, values)):
            if np.isnan(v):
                out.append(Problem(file, f"{what} {idx}", f"{col} is missing or not a number ({raw[pos]!r}{_comma_hint(raw[pos])})"))
            elif not np.isfinite(v):
                out.append(Problem(file, f"{what} {idx}", f"{col} must be a finite number, got {raw[pos]!r}"))
            elif positive and not v > 0:
                out.append(Problem(file, f"{what} {idx}", f"{col} must be positive, got {v:g}"))
    return out


def _comma_hint(raw: object) -> str:
    """A hint for a number written with a decimal comma (careless spreadsheet export)."""
    return "; a decimal comma? use a point" if isinstance(raw, str) and re.fullmatch(r"\s*-?\d+,\d+\s*", raw) else ""


def _finite_optional(df: pd.DataFrame, columns: Iterable[str], file: str, what: str) -> list[Problem]:
    """Optional numeric columns: empty is fine, a value must be a finite number."""
    out = []
    for col in columns:
        if col not in df:
            continue
        raw = df[col]
        values = pd.to_numeric(raw, errors="coerce")
        given = raw.notna() & (raw.astype(str).str.strip() != "")
        for idx in df.index[given & ~np.isfinite(values.fillna(np.inf))]:
            out.append(Problem(file, f"{what} {idx}", f"{col} must be a finite number, got {raw[idx]!r}{_comma_hint(raw[idx])}"))
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
    out += _finite_optional(lines, ["r_ohm_per_km", "x_ohm_per_km"], "lines.csv", "line")
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
    out += _finite_optional(customers, ["annual_kwh", "charge_kw", "discharge_kw"], f, "customer")
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
    bad = np.flatnonzero((p.isna() | ~np.isfinite(p.fillna(0.0))).to_numpy())
    for pos in bad[:50]:
        value, cid = readings["p_kw"].iloc[pos], readings["customer_id"].iloc[pos]
        shown = repr(value) if isinstance(value, str) else f"{float(value):g}"
        out.append(Problem(f, f"row {pos + 2}", f"p_kw is not a finite number ({shown}{_comma_hint(value)}) for customer {cid}"))
    if len(bad) > 50:
        out.append(Problem(f, f"{len(bad) - 50} more row(s)", "p_kw is not a finite number"))
    ts = parse_timestamps(readings["timestamp"])
    unreadable = np.flatnonzero(ts.wall.isna().to_numpy())
    for pos in unreadable[:20]:
        out.append(Problem(f, f"row {pos + 2}", not_a_time_hint(readings["timestamp"].iloc[pos])))
    if len(unreadable) > 20:
        out.append(Problem(f, f"{len(unreadable) - 20} more row(s)", "timestamp is not a date-time"))
    if ts.mixed:
        out.append(Problem(f, "timestamp", ts.mixed_message(first_row=2)))
    cid = readings["customer_id"]
    for pos in np.flatnonzero((cid.isna() | (cid.astype(str).str.strip() == "")).to_numpy())[:20]:
        out.append(Problem(f, f"row {pos + 2}", "customer_id is empty"))
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
    line = seg.geometry.geom_type.isin(["LineString"]).to_numpy(dtype=bool) & ~seg.geometry.is_empty.to_numpy(dtype=bool)
    for idx in seg.index[~line]:
        out.append(Problem(f, f"street {idx}", "geometry must be a non-empty LineString"))
    geoms = seg.geometry.to_numpy()
    finite = line & np.array(
        [bool(np.isfinite(shapely.get_coordinates(g)).all()) if ok else False for g, ok in zip(geoms, line)], dtype=bool
    )
    for idx in seg.index[line & ~finite]:
        out.append(Problem(f, f"street {idx}", "has a coordinate that is not a finite number"))
    length = np.where(finite, shapely.length(np.where(finite, geoms, None)), np.nan)
    zero = finite & ~(length > 0)
    for idx in seg.index[zero]:
        out.append(Problem(f, f"street {idx}", "has zero length (all its points coincide)"))
    usable = finite & ~zero
    crossing = usable & ~np.asarray(shapely.is_simple(np.where(usable, geoms, None)), dtype=bool)
    for idx in seg.index[crossing]:
        out.append(Problem(f, f"street {idx}", "crosses itself: split it where it crosses, into simple segments"))
    bad_geom = ~(usable & ~crossing)
    cost = pd.to_numeric(seg["cost_per_m"], errors="coerce").to_numpy(dtype=float)
    for idx, c in zip(seg.index, cost):
        if not np.isnan(c) and not (np.isfinite(c) and c > 0):
            out.append(Problem(f, f"street {idx}", f"cost_per_m must be a positive finite number, got {c:g}"))
    good = seg[~bad_geom]
    nodes = case.network.nodes
    if good.empty or int((nodes["kind"] == "busbar").sum()) != 1:
        if good.empty:
            out.append(Problem(f, "", "no usable street segment"))
        return out
    xy = _finite_xy(nodes)
    cxy = _finite_xy(case.customers)
    if xy.empty:
        return out
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
    if cut_off and busbar_comp is not None:
        shown = ", ".join(map(str, cut_off[:10])) + (" ..." if len(cut_off) > 10 else "")
        out.append(Problem(f, f"{len(cut_off)} network node(s)", f"cannot be reached along streets from the busbar: {shown}"))
    return out


def _finite_xy(df: pd.DataFrame) -> pd.DataFrame:
    """``x``, ``y`` of the rows whose coordinates are finite numbers (the others are reported elsewhere)."""
    xy = pd.DataFrame({"x": pd.to_numeric(df["x"], errors="coerce"), "y": pd.to_numeric(df["y"], errors="coerce")})
    return xy[np.isfinite(xy).all(axis=1)]


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
