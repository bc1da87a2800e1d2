"""A pandapower net as cases: one per LV transformer area, with time series, overrides and streets.

:func:`find_areas` cuts a net into its LV transformer areas: each in-service transformer's LV bus
is a busbar (transformers on one bus share it), and its area is what the busbar reaches over
in-service lines without an open line switch (buses joined by a closed bus-bus switch are one
node); lines are the only edges, so no area passes a transformer. LV buses no transformer reaches
that carry loads or sgens are an area without transformer (a failure).

:func:`import_pandapower_net` turns every area into a validated :class:`~lvbalance.case.Case`:

1. network and customers (:func:`lvbalance.io.pandapower.network_from_pandapower`);
2. meter readings from the net's time series (:func:`lvbalance.io.timeseries.net_time_series`),
   then from a meter file (it replaces the net's series of a customer it has); a customer with
   readings is ``metered`` and its ``annual_kwh`` is its mean power x 8760 h;
3. per-customer overrides from a customers file (:mod:`lvbalance.io.customers`);
4. streets: the given street data, else (one area) the area's own line routes, else (a split
   net) the line routes of the whole net for every area, since cables lie along streets.

An area that cannot be a case is returned with every problem found; the others are unaffected.
Problems of the user's files (unknown customers in a customers or meter file) fail the whole
import before anything is written. :func:`write_areas` writes ``OUT/<area>/`` atomically and
never over an existing directory.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from shapely.geometry import LineString

from lvbalance.case import CUSTOMER_TYPES, Case, CaseError, MissingPackageError, Problem, Streets, validate_case
from lvbalance.io.casedir import write_case
from lvbalance.io.customers import (
    FULL_LOAD_HOURS,
    CustomerOverrides,
    apply_customer_overrides,
    heat_pump_customer_type,
    override_targets,
    read_customer_overrides,
)
from lvbalance.io.pandapower import ImportedNetwork, case_of_import, network_from_pandapower
from lvbalance.io.pp_net import (
    LV_MAX_KV,
    NET,
    PandapowerNet,
    _bus_xy,
    _line_geoms,
    _projector,
    bus_aliases,
    find_busbar,
    live_lines,
    lv_trafos,
    net_crs,
)
from lvbalance.io.streets import line_between, segments_frame, streets_from_file
from lvbalance.io.timeseries import TimeAxis, net_time_series, read_meter_file, readings_of
from lvbalance.params import Params

logger = logging.getLogger(__name__)

HOURS_PER_YEAR = 8760.0


@dataclass(frozen=True)
class Area:
    """One LV transformer area: its name, transformers (pandapower indices), busbar and buses."""

    name: str
    trafos: tuple[int, ...]
    busbar: int
    buses: frozenset[int] = frozenset()


@dataclass(frozen=True)
class AreaResult:
    """An area as a case, or the problems that keep it from being one."""

    area: Area
    case: Case | None
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return self.case is not None and not self.problems


@dataclass(frozen=True)
class ImportOptions:
    """What the user adds to a net: CRS, parameters, streets, customers file, meter file, time axis.

    ``streets``: in the case CRS (:func:`lvbalance.io.pandapower_net.net_crs`); ``meters``: long
    readings (customer_id, timestamp, p_kw) of :func:`lvbalance.io.timeseries.read_meter_file`.
    """

    crs: str | None = None
    params: Params = field(default_factory=Params)
    streets: Streets | None = None
    customers: CustomerOverrides | None = None
    meters: pd.DataFrame | None = None
    meters_file: str = "meter file"
    time: TimeAxis = field(default_factory=TimeAxis)


def import_options(
    net: PandapowerNet,
    *,
    crs: str | None = None,
    streets: Path | None = None,
    customers: Path | None = None,
    meters: Path | None = None,
    start: str | None = None,
    step_minutes: int = 15,
    params: Params | None = None,
) -> ImportOptions:
    """The :class:`ImportOptions` of the user's files and options (``lvbalance import pandapower``).

    Every file is read and checked here; its problems are raised as one :class:`CaseError`
    (a missing optional reader, pyrosm for ``.pbf`` streets, is a problem of that file).
    Streets are projected to the CRS the cases get (:func:`~lvbalance.io.pp_net.net_crs`).
    """
    params = params if params is not None else Params()
    axis = TimeAxis.parse(start, step_minutes)
    overrides = read_customer_overrides(customers) if customers is not None else None
    meter_data = read_meter_file(meters) if meters is not None else None
    street_data = None
    if streets is not None:
        crs = net_crs(net, crs)
        if not streets.is_file():
            raise FileNotFoundError(f"{streets} does not exist")
        try:
            street_data = streets_from_file(streets, crs, params=params.streets)
        except ImportError as exc:
            if isinstance(exc, MissingPackageError):
                raise
            raise CaseError([Problem(streets.name, "", str(exc))], source=str(streets)) from None
    meters_file = meters.name if meters is not None else "meter file"
    return ImportOptions(crs, params, street_data, overrides, meter_data, meters_file, axis)


def sanitise(name: str) -> str:
    """A directory name from an area name: letters, digits, ``._-``; others become ``_``."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", name.strip()).strip("._")
    return s or "area"


def _area_name(net: PandapowerNet, trafos: Sequence[int], taken: set[str]) -> str:
    raw = net.trafo.at[trafos[0], "name"] if "name" in net.trafo else None
    name = sanitise(str(raw)) if isinstance(raw, str) and raw.strip() else f"trafo{trafos[0]}"
    if name in taken:
        name = f"{name}_trafo{trafos[0]}"
    taken.add(name)
    return name


def find_areas(net: PandapowerNet) -> tuple[list[Area], list[AreaResult]]:
    """The net's LV transformer areas, and the LV parts with loads or sgens that no transformer feeds.

    Areas are in the order of their first transformer in ``net.trafo``.
    """
    alias = bus_aliases(net)
    lines = live_lines(net, alias)
    g = nx.Graph()
    g.add_edges_from(zip(lines["u"], lines["v"]))
    trafos = lv_trafos(net)
    by_bus: dict[int, list[int]] = {}
    for idx, bus in trafos["lv_bus"].astype(int).items():
        by_bus.setdefault(alias.get(bus, bus), []).append(int(idx))
    areas: list[Area] = []
    taken: set[str] = set()
    for bus, idx in by_bus.items():
        buses = frozenset(nx.node_connected_component(g, bus)) if bus in g else frozenset({bus})
        areas.append(Area(_area_name(net, idx, taken), tuple(idx), bus, buses))
    reached = set().union(*(a.buses for a in areas)) if areas else set()
    lv = net.bus.index[net.bus["vn_kv"].astype(float) < LV_MAX_KV]
    served: dict[int, int] = {}
    for element in ("load", "sgen"):
        tab = net[element]
        if len(tab):
            on = tab[tab["in_service"].astype(bool)]["bus"].astype(int).map(lambda b: alias.get(b, b))
            for b, n in on.value_counts().items():
                served[int(b)] = served.get(int(b), 0) + int(n)
    orphans = {b for b in served if b not in reached and b in lv}
    failures: list[AreaResult] = []
    while orphans:
        b = min(orphans)
        comp = set(nx.node_connected_component(g, b)) if b in g else {b}
        orphans -= comp
        n = sum(served.get(x, 0) for x in comp)
        area = Area(f"no_trafo_bus{min(comp)}", (), min(comp), frozenset(comp))
        shown = ", ".join(map(str, sorted(comp)[:10])) + (" ..." if len(comp) > 10 else "")
        problem = Problem(NET, f"buses {shown}", f"{n} load(s)/sgen(s) on {len(comp)} bus(es) that no in-service transformer reaches")
        failures.append(AreaResult(area, None, (problem,)))
    logger.info("%d transformer area(s), %d part(s) with customers but no transformer", len(areas), len(failures))
    return areas, failures


def town_streets(net: PandapowerNet, crs: str, service_lines: set[int] | None = None) -> Streets:
    """Streets from the routes of every in-service LV line of the net (also behind open switches),
    end points moved onto their buses; without ``service_lines`` when given.

    The service lines are kept by default: they lead from the street to each house, so every
    customer lies on the street graph (a house set back from the road is still reached).
    """
    service_lines = service_lines or set()
    xy = _bus_xy(net)
    lv = set(net.bus.index[net.bus["vn_kv"].astype(float) < LV_MAX_KV])
    ln = net.line[net.line["in_service"].astype(bool)]
    ln = ln[ln["from_bus"].isin(lv) & ln["to_bus"].isin(lv) & ~ln.index.isin(service_lines)]
    ln = ln[ln["from_bus"].isin(xy.index) & ln["to_bus"].isin(xy.index)]
    _, project = _projector(xy, crs)
    px, py = project(xy["x"].to_numpy(), xy["y"].to_numpy())
    pxy = pd.DataFrame({"x": px, "y": py}, index=xy.index)
    routes = _line_geoms(net)
    geoms = []
    for idx, r in ln.iterrows():
        a = tuple(pxy.loc[int(r["from_bus"])])
        b = tuple(pxy.loc[int(r["to_bus"])])
        route = routes.get(idx)
        if route is not None:
            c = np.asarray(route.coords)
            gx, gy = project(c[:, 0], c[:, 1])
            route = LineString(np.column_stack([gx, gy]))
        geoms.append(line_between(route, a, b))
    logger.info("town streets from %d line routes", len(geoms))
    return Streets(segments_frame(geoms, None, crs), source="network_lines")


def _with_readings(customers: pd.DataFrame, readings: pd.DataFrame) -> pd.DataFrame:
    """Customers with readings are metered; their annual energy is mean power x 8760 h (if > 0)."""
    out = customers.copy()
    if not len(readings):
        return out
    mean_kw = readings.groupby("customer_id")["p_kw"].mean()
    has = out.index.isin(mean_kw.index)
    out.loc[has, "metered"] = True
    sign = np.where(out.loc[has, "type"] == "pv", -1.0, 1.0)
    annual = sign * mean_kw.reindex(out.index[has]).to_numpy() * HOURS_PER_YEAR
    better = has.copy()
    better[has] = annual > 0
    out.loc[better, "annual_kwh"] = annual[annual > 0]
    out.loc[better, "annual_source"] = "readings"
    return out


def _metadata(net: PandapowerNet, area: Area, split: bool, streets_note: str | None) -> dict[str, str]:
    trafo = net.trafo.loc[list(area.trafos)]
    names = ", ".join(f"{n} (trafo {i}, {float(s):g} MVA)" for i, n, s in zip(trafo.index, trafo["name"], trafo["sn_mva"]))
    meta = {"source": "pandapower", "area": area.name, "transformer": names}
    if streets_note is not None:
        meta["streets_note"] = streets_note
    if split:
        meta["split"] = "one LV transformer area of a net with several (lvbalance import pandapower --split-areas)"
    return meta


def import_pandapower_net(net: PandapowerNet, *, name: str, split: bool, options: ImportOptions | None = None) -> list[AreaResult]:
    """Every LV transformer area of ``net`` as a validated case (see module doc).

    ``split`` False: the net must have one LV transformer; its area is the case ``name``. ``split``
    True: one case per area, named ``<name>-<area>``. Raises :class:`CaseError` for problems of the
    user's files (rows naming customers no area has); problems of an area are in its result.
    """
    opts = options if options is not None else ImportOptions()
    crs = opts.crs
    if split:
        areas, results = find_areas(net)
    else:
        busbar = find_busbar(net)
        trafos = tuple(int(i) for i in lv_trafos(net).index)
        areas, results = [Area(name, trafos, busbar)], []
    if split and crs is None:
        crs = net_crs(net)  # one CRS for every area of the net
    imported: dict[str, ImportedNetwork] = {}
    for area in areas:
        try:
            imported[area.name] = network_from_pandapower(
                net, crs=crs, pv_yield_kwh_per_kwp=opts.params.profiles.pv_yield_kwh_per_kwp, busbar=area.busbar, source=f"area {area.name}"
            )
        except CaseError as exc:
            results.append(AreaResult(area, None, tuple(exc.problems)))
    if not split and imported:
        _warn_unreached(net, len(imported[name].customers))
    series = net_time_series(net, opts.time)
    readings = {a: readings_of(imp.customers, series) for a, imp in imported.items()}
    problems: list[Problem] = []
    if opts.meters is not None:
        readings = _attach_meters(imported, readings, opts.meters, opts.meters_file, problems)
    customers = {a: _with_readings(imp.customers, readings[a]) for a, imp in imported.items()}
    if opts.customers is not None:
        customers = _apply_overrides(net, customers, opts.customers, problems)
    if problems:
        raise CaseError(problems, source="import")
    _log_customers(customers)

    streets, note = opts.streets, None
    if streets is None and split:
        streets = town_streets(net, str(crs))
        note = f"streets derived from the line routes of the whole net ({len(areas)} transformer areas): cables lie along streets"
    for area in areas:
        if area.name not in imported:
            continue
        imp = replace(imported[area.name], customers=customers[area.name])
        case = case_of_import(
            imp,
            name=f"{name}-{area.name}" if split else name,
            streets=streets,
            readings=readings[area.name],
            params=opts.params,
            metadata=_metadata(net, area, split, note),
        )
        found = validate_case(case)
        results.append(AreaResult(area, None if found else case, tuple(found)))
    order = {a.name: i for i, a in enumerate(areas)}
    return sorted(results, key=lambda r: order.get(r.area.name, len(order)))


def _warn_unreached(net: PandapowerNet, n_customers: int) -> None:
    lv = net.bus.index[net.bus["vn_kv"].astype(float) < LV_MAX_KV]
    n = sum(int((net[e]["in_service"].astype(bool) & net[e]["bus"].isin(lv)).sum()) for e in ("load", "sgen") if len(net[e]))
    if n > n_customers:
        logger.warning("%d LV load(s)/sgen(s) are not reached from the busbar and are left out", n - n_customers)


def _attach_meters(
    imported: dict[str, ImportedNetwork], readings: dict[str, pd.DataFrame], meters: pd.DataFrame, file: str, problems: list[Problem]
) -> dict[str, pd.DataFrame]:
    """Readings of each area with the meter file's rows of its customers (replacing the net's series of them)."""
    known: set[str] = set()
    out = {}
    for a, imp in imported.items():
        mine = meters[meters["customer_id"].isin(imp.customers.index)]
        known |= set(mine["customer_id"])
        old = readings[a]
        out[a] = pd.concat([old[~old["customer_id"].isin(set(mine["customer_id"]))], mine], ignore_index=True) if len(mine) else old
    unknown = meters.loc[~meters["customer_id"].isin(known), "customer_id"]
    for cid, rows in unknown.groupby(unknown).groups.items():
        problems.append(
            Problem(file, f"{len(rows)} row(s) from row {int(rows[0]) + 2}", f"readings of customer {cid!r}, which no imported area has")
        )
    logger.info("meter file %s: readings of %d customer(s)", file, len(known))
    return out


def _apply_overrides(
    net: PandapowerNet, customers: dict[str, pd.DataFrame], overrides: CustomerOverrides, problems: list[Problem]
) -> dict[str, pd.DataFrame]:
    names = net.load["name"] if "name" in net.load else pd.Series("", index=net.load.index)
    matched: set[int] = set()
    out = {}
    for a, cust in customers.items():
        targets = override_targets(overrides, cust, names)
        matched |= set(targets.index)
        out[a] = apply_customer_overrides(cust, overrides, targets) if len(targets) else cust
    for row in overrides.rows.index.difference(sorted(matched)):
        key = overrides.rows.at[row, "key"]
        what = "no customer id" if overrides.key_column == "customer_id" else "no load name or index"
        problems.append(Problem(overrides.file, f"row {row}", f"{overrides.key_column} {key!r} matches {what} of an imported area"))
    logger.info("customers file %s: %d row(s) applied", overrides.file, len(matched))
    return out


def _log_customers(customers: dict[str, pd.DataFrame]) -> None:
    """The import's estimates, once: full-load hours, heat pumps, metered customers."""
    all_c = pd.concat(customers.values()) if customers else pd.DataFrame(columns=["annual_source", "kind", "metered"])
    est = all_c[(all_c["annual_source"] == "full_load_hours")]
    if len(est):
        hours = ", ".join(f"{k} {FULL_LOAD_HOURS[k]:g} h" for k in sorted(set(est["kind"]) & set(FULL_LOAD_HOURS)))
        logger.info("annual energy of %d load(s) estimated from p_mw x full-load hours (%s)", len(est), hours)
    hp = int((all_c["kind"] == "heat_pump").sum())
    if hp:
        logger.info("%d heat pump load(s) imported as %r (customer type of heat pumps)", hp, heat_pump_customer_type())
    metered = int(all_c["metered"].astype(bool).sum())
    logger.info("%d of %d customer(s) metered", metered, len(all_c))


def area_table(results: Sequence[AreaResult]) -> pd.DataFrame:
    """One row per area: ``area``, ``status`` (written / failed), customers of each type, ``metered``,
    ``feeders`` and ``problems`` (all of them, joined)."""
    rows = []
    for r in results:
        row: dict[str, object] = {"area": r.area.name, "status": "failed"}
        if r.case is not None and r.ok:
            counts = r.case.customers["type"].value_counts()
            row.update({"status": "written", **{t: int(counts.get(t, 0)) for t in CUSTOMER_TYPES}})
            row.update({"metered": int(r.case.customers["metered"].sum()), "feeders": len(r.case.network.feeder_outlets)})
        row["problems"] = "; ".join(map(str, r.problems))
        rows.append(row)
    cols = ["area", "status", *CUSTOMER_TYPES, "metered", "feeders", "problems"]
    df = pd.DataFrame(rows, columns=cols)
    counts_cols = [*CUSTOMER_TYPES, "metered", "feeders"]
    df[counts_cols] = df[counts_cols].astype("Int64")
    return df.fillna({"problems": ""})


def write_areas(results: Sequence[AreaResult], out: str | Path) -> list[AreaResult]:
    """Write each valid area to ``out/<area>/`` (atomically, never over an existing directory).

    Returns the results, an area whose directory exists turned into a failure saying so.
    """
    root = Path(out)
    done = []
    for r in results:
        if r.ok and r.case is not None:
            try:
                write_case(r.case, root / r.area.name)
            except FileExistsError as exc:
                r = AreaResult(r.area, None, (Problem(str(root / r.area.name), "", f"{exc}"),))
        done.append(r)
    return done
