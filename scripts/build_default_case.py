"""Rebuild the embedded default case ``src/lvbalance/data/default_case/`` (deterministic, seeded).

    .venv/bin/python scripts/build_default_case.py [--out DIR] [--seed 2024] [--area N]

``--area N`` builds area N (0..13) of the 14 Schutterwald areas the same way, named
``schutterwald-areaN`` (it needs ``--out``: the default case is area 1). Area 7 (transformer
T_idx_78) has a loop and cannot be a case: the script lists the problem and exits with 2.

What it builds (see ``src/lvbalance/data/default_case/ATTRIBUTION.md``):

* **network**: area 1 of ``pandapower.networks.lv_schutterwald(separation_by_sub=True)``
  (0.63 MVA, 87 houses, 4 feeders) through :func:`lvbalance.io.pandapower.network_from_pandapower`
  (service lines contracted onto their access nodes).
* **streets**: the street-following main cables (``NAYY 4x150 SE``) of all 14 Schutterwald
  areas (plus the area's own backbone lines of another cable type, none in area 1), their end
  points moved onto their buses, merged, split where they meet and joined through nodes of
  degree 2. Cost: 40 per m; 60 per m on *through-routes*: strokes
  (chains of segments that continue within 30 degrees of straight at every junction,
  the "natural road" of Jiang et al. 2008) at least 400 m long. Long straight strokes are
  the village's main roads, where trenching needs heavier surface reinstatement and
  traffic management.
* **customers**: each house is ``residential`` (2500-4500 kWh/a) or, for a few houses on the
  two big feeders, ``commercial`` (8-30 MWh/a); ~1/5 of the houses also have a ``pv``
  customer (4-8 kWp) and ~1/5 an ``ev`` charging point (7 kW / 7 kW, V2G, 2000-3000 kWh/a),
  a separate record at the same house. EVs and commercial customers are drawn more often on
  the big feeders and PV more often on the small ones, so the area starts clearly unbalanced.
* **profiles**: SimBench 2016 profiles shipped in the simbench package: households H0-A/B/C/G/L,
  commercial G0-A ... G6-A, PV1..PV8, home charging HLS_A/B/C_3.7, each read on its own time
  base and put on local (Europe/Berlin) wall-clock time (see :data:`PROFILE_TIME_BASE`). Each
  customer gets a seeded variant, a shift of a whole number of weeks (-3..3) and up to +-30 min,
  scaled to its annual energy. EV: the HLS profile scaled to the annual energy, power capped at 7 kW with the energy
  above the cap carried into the following steps (a session lasts longer at full power).
* **meter readings**: 40 % of all customers (seeded), 8 weeks from Monday 2016-04-04, 15 min,
  time stamps = interval start in local wall-clock time (naive, Europe/Berlin).
* **calendar**: working / non-working from ``holidays`` (DE, BW) and weekends; weather from
  the terciles of daily energy of the SimBench PV5 profile.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString

from lvbalance.case import Case, CaseError, Network, Streets, check_case
from lvbalance.io.casedir import write_case
from lvbalance.io.pandapower import CASE_CUSTOMER_COLUMNS, _bus_xy, _line_geoms, network_from_pandapower
from lvbalance.io.simbench import (
    PROFILE_YEAR_START,
    STEP_H,
    STEPS_PER_DAY,
    make_calendar,
    readings_frame,
    simbench_profile_dir,
)
from lvbalance.io.streets import NODING_GRID_M, _noded, line_between, segments_frame
from lvbalance.params import Params

DEFAULT_CASE_PARAMS = Params().updated(objective={"imbalance_weight": 5000.0}, solver={"time_limit_s": 300.0, "benders_max_iterations": 25})

log = logging.getLogger("build_default_case")

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "lvbalance" / "data" / "default_case"

AREA = 1  # the default case
BACKBONE_TYPE = "NAYY 4x150 SE"
START = pd.Timestamp("2016-04-04")  # a Monday
WEEKS = 8
METER_SHARE = 0.4
EV_KW = 7.0

BASE_COST_PER_M = 40.0
THROUGH_ROUTE_COST_PER_M = 60.0
THROUGH_ROUTE_MIN_M = 400.0
STRAIGHT_DEG = 30.0

HOUSEHOLD = ["H0-A", "H0-B", "H0-C", "H0-G", "H0-L"]
COMMERCIAL = ["G0-A", "G1-A", "G1-B", "G2-A", "G3-A", "G4-A", "G4-B", "G5-A", "G6-A"]
PV = [f"PV{i}" for i in range(1, 9)]
EV = ["HLS_A_3.7", "HLS_B_3.7", "HLS_C_3.7"]
WEATHER_PV = "PV5"

TIMEZONE = "Europe/Berlin"
STEP = pd.Timedelta("15min")

#: Time base of the SimBench 2016 profile rows (row ``r`` = 15-min step ``r`` of the file), found from
#: the data (all 35136 rows are evenly spaced; the file's ``time`` column is these rows written as German
#: legal time, i.e. row ``r`` = 2016-01-01 00:00 CET + r * 15 min, with the spring gap and the autumn fold):
#:
#: * ``"utc"``: PV. Row ``r`` is the instant 2016-01-01 00:00 **UTC** + r * 15 min: the daily energy
#:   centroid of PV1..PV8 lies on the UTC solar noon of Schutterwald (pvlib) in every month of 2016
#:   (monthly mean difference within +-0.2 h) and does not move at the DST changes; read with the
#:   ``time`` column it would peak an hour early all year (two hours early if rows are taken as
#:   summer wall-clock time, as this script used to do).
#: * ``"cet"``: commercial (G*) and EV home charging (HLS*). Row ``r`` is the instant 2016-01-01 00:00
#:   CET (UTC+1) + r * 15 min, which is what the ``time`` column says: their daily shape (opening hours,
#:   arrival times) moves one hour earlier in the rows on 2016-03-27 and back on 2016-10-30, as clock-driven
#:   behaviour on an evenly spaced instant axis should.
#: * ``"clock"``: households (H0-*). The rows are wall-clock time of day with no DST at all: the weekday
#:   morning rise stays at ~06:15 and the content does not move at either DST change. Row ``r`` is taken
#:   as local wall-clock 2016-01-01 00:00 + r * 15 min (the ``time`` column is right in winter and one
#:   hour late in summer for them); reading them as CET instants would move every household's morning
#:   an hour later (07:15) in summer.
PROFILE_TIME_BASE = {**{p: "utc" for p in PV}, **{p: "clock" for p in HOUSEHOLD}, **{p: "cet" for p in COMMERCIAL + EV}}
_BASE_ORIGIN_UTC = {
    "utc": pd.Timestamp("2016-01-01 00:00", tz="UTC"),
    "cet": pd.Timestamp("2016-01-01 00:00", tz="UTC") - pd.Timedelta("1h"),
}

# Draw weights per feeder (by size rank, biggest first): EVs and commercial load
# gather on the big feeders, PV on the small ones.
EV_WEIGHT = [4.0, 2.0, 0.5, 0.3]
PV_WEIGHT = [0.5, 0.8, 2.5, 2.5]
N_COMMERCIAL = {0: 4, 1: 3}  # feeder rank -> commercial houses


# --------------------------------------------------------------------------- streets


def schutterwald_backbone_lines(nets, crs: str) -> list[LineString]:
    """Main-cable routes of all areas in ``crs``, end points on their buses."""
    import pyproj

    tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    out = []
    for net in nets:
        xy = _bus_xy(net)
        geoms = _line_geoms(net)
        for idx, r in net.line[net.line["std_type"] == BACKBONE_TYPE].iterrows():
            a = tr.transform(*xy.loc[int(r["from_bus"])])
            b = tr.transform(*xy.loc[int(r["to_bus"])])
            g = geoms.get(idx)
            if g is not None:
                c = np.asarray(g.coords)
                g = LineString(np.column_stack(tr.transform(c[:, 0], c[:, 1])))
            out.append(line_between(g, a, b))
    return out


def _merged_street_pieces(lines: list[LineString]) -> list[LineString]:
    """Split where lines meet, then join runs through nodes of degree 2."""
    merged = shapely.line_merge(shapely.MultiLineString(_noded(lines)))
    parts = list(merged.geoms) if hasattr(merged, "geoms") else [merged]
    return [p for p in parts if p.length > 0]


def through_route_costs(pieces: list[LineString]) -> np.ndarray:
    """cost_per_m of each piece: THROUGH_ROUTE_COST_PER_M on long straight strokes, else base.

    At every junction the pair of pieces that continue most nearly straight (deflection
    below STRAIGHT_DEG) is joined, greedily; the joined chains are strokes.
    """
    ends: dict[tuple[int, int], list[tuple[int, np.ndarray]]] = {}
    for i, g in enumerate(pieces):
        c = np.asarray(g.coords)
        for p, q in ((c[0], c[1]), (c[-1], c[-2])):
            key = tuple(np.round(p / NODING_GRID_M).astype(np.int64))
            d = q - p
            ends.setdefault(key, []).append((i, d / (np.hypot(*d) or 1.0)))
    parent = list(range(len(pieces)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for incident in ends.values():
        pairs = []
        for a in range(len(incident)):
            for b in range(a + 1, len(incident)):
                (i, da), (j, db) = incident[a], incident[b]
                if i == j:
                    continue
                deflection = 180.0 - math.degrees(math.acos(float(np.clip(da @ db, -1, 1))))
                if deflection < STRAIGHT_DEG:
                    pairs.append((deflection, a, b))
        used: set[int] = set()
        for _, a, b in sorted(pairs):
            if a in used or b in used:
                continue
            used |= {a, b}
            parent[find(incident[a][0])] = find(incident[b][0])
    roots = np.array([find(i) for i in range(len(pieces))])
    lengths = np.array([g.length for g in pieces])
    stroke_len = pd.Series(lengths).groupby(roots).sum()
    return np.where(stroke_len.loc[roots].to_numpy() >= THROUGH_ROUTE_MIN_M, THROUGH_ROUTE_COST_PER_M, BASE_COST_PER_M)


def build_streets(nets, crs: str, network: Network | None = None) -> Streets:
    """Streets of the main cables of all areas, plus the routes of ``network``'s other backbone lines
    (an area whose backbone has a thinner cable, e.g. a house on its busbar, needs its street too)."""
    lines = schutterwald_backbone_lines(nets, crs)
    if network is not None:
        xy = network.nodes[["x", "y"]].astype(float)
        for line_id, r in network.lines[network.lines["std_type"] != BACKBONE_TYPE].iterrows():
            lines.append(line_between(network.line_geometry.get(line_id), tuple(xy.loc[r["from_node"]]), tuple(xy.loc[r["to_node"]])))
    pieces = _merged_street_pieces(lines)
    cost = through_route_costs(pieces)
    return Streets(segments_frame(pieces, cost, crs, node=False), source="network_lines")


# --------------------------------------------------------------------------- profiles


def read_profiles() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(load profiles, PV profiles) of 2016, normalised as SimBench ships them."""
    d = simbench_profile_dir()
    load_cols = [f"{p}_pload" for p in HOUSEHOLD + COMMERCIAL + EV]
    load = pd.read_csv(d / "LoadProfile.csv", sep=";", usecols=load_cols)
    load.columns = [c.removesuffix("_pload") for c in load.columns]
    res = pd.read_csv(d / "RESProfile.csv", sep=";", usecols=PV)
    return load, res


def profile_rows(local: pd.DatetimeIndex, base: str, n_rows: int) -> np.ndarray:
    """Profile row of each local wall-clock time stamp (naive, Europe/Berlin, interval start).

    ``base``: time base of the profile rows (:data:`PROFILE_TIME_BASE`). The local axis keeps its
    regular 15-min steps and 96 steps every day; on the two DST days the instants it stands for are
    not regular:

    * spring gap (2016-03-27 02:00-02:45 do not exist on the clock): those four stamps repeat the rows
      of 01:00-01:45 (the hour before is duplicated);
    * autumn fold (2016-10-30 02:00-02:45 happen twice): the stamps take the first (summer-time)
      occurrence; the rows of the second one are dropped.

    Rows outside the year wrap around (as the weekly shifts do).
    """
    local = pd.DatetimeIndex(local)
    if base == "clock":
        steps = (local - PROFILE_YEAR_START) // STEP
    else:
        instants = local.tz_localize(TIMEZONE, ambiguous=np.ones(len(local), dtype=bool), nonexistent=-pd.Timedelta("1h"))
        steps = (instants - _BASE_ORIGIN_UTC[base]) // STEP
    return np.asarray(steps, dtype=np.int64) % n_rows


def cap_carry_forward(p_kw: np.ndarray, cap_kw: float) -> np.ndarray:
    """Cap power at ``cap_kw``; energy above the cap is delivered in the following steps."""
    out = np.empty_like(p_kw)
    carry = 0.0
    for t, p in enumerate(p_kw):
        want = p + carry
        out[t] = min(want, cap_kw)
        carry = want - out[t]
    return out


# --------------------------------------------------------------------------- customers


def build_customers(houses: pd.DataFrame, feeder_of_node: pd.Series, rng: np.random.Generator) -> pd.DataFrame:
    """All customer records (houses + pv + ev) with a ``profile`` and ``scale`` column.

    ``scale``: annual energy [kWh/a] for loads and EVs, peak power [kWp] for PV.
    """
    houses = houses.copy()
    houses["feeder"] = houses["node_id"].map(feeder_of_node)
    rank = {f: r for r, f in enumerate(houses["feeder"].value_counts().index)}  # biggest first
    houses["rank"] = houses["feeder"].map(rank)
    n = len(houses)

    houses["type"] = "residential"
    for r, k in N_COMMERCIAL.items():
        pool = houses.index[houses["rank"] == r].to_numpy()
        if len(pool):  # a small area may have fewer feeders or houses
            houses.loc[rng.choice(pool, size=min(k, len(pool)), replace=False), "type"] = "commercial"
    res = houses["type"] == "residential"
    houses["profile"] = np.where(res, rng.choice(HOUSEHOLD, size=n), rng.choice(COMMERCIAL, size=n))
    houses["scale"] = np.where(res, rng.uniform(2500, 4500, size=n), rng.uniform(8000, 30000, size=n))

    def pick(weights: list[float], share: float) -> np.ndarray:
        w = houses["rank"].map(lambda r: weights[min(r, len(weights) - 1)]).to_numpy(dtype=float)
        return rng.choice(houses.index.to_numpy(), size=int(round(share * n)), replace=False, p=w / w.sum())

    pv_houses = pick(PV_WEIGHT, 0.2)
    ev_houses = pick(EV_WEIGHT, 0.2)
    base = houses[["node_id", "x", "y"]]
    pv = base.loc[pv_houses].assign(
        type="pv", profile=rng.choice(PV, size=len(pv_houses)), scale=rng.uniform(4, 8, size=len(pv_houses)).round(1)
    )
    pv.index = [f"PV_{h.removeprefix('HH_')}" for h in pv.index]
    ev = base.loc[ev_houses].assign(
        type="ev", profile=rng.choice(EV, size=len(ev_houses)), scale=rng.uniform(2000, 3000, size=len(ev_houses))
    )
    ev.index = [f"EV_{h.removeprefix('HH_')}" for h in ev.index]
    comm = houses["type"] == "commercial"
    houses.index = [f"GW_{h.removeprefix('HH_')}" if c else h for h, c in zip(houses.index, comm)]
    out = pd.concat([houses[["node_id", "x", "y", "type", "profile", "scale"]], pv, ev])
    out.index.name = "customer_id"
    out["charge_kw"] = np.where(out["type"] == "ev", EV_KW, np.nan)
    out["discharge_kw"] = out["charge_kw"]
    out["v2g"] = out["type"] == "ev"
    return out


def customer_power(
    customers: pd.DataFrame, load: pd.DataFrame, pv: pd.DataFrame, index: pd.DatetimeIndex, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], pd.Series]:
    """15-min power [kW] of every customer at the local time stamps ``index`` (pv negative) and
    annual energy [kWh/a]. Each profile is read on its own time base (:func:`profile_rows`)."""
    power, annual = {}, {}
    rows: dict[str, np.ndarray] = {}
    for cid, c in customers.iterrows():
        shift = int(rng.integers(-3, 4)) * 7 * STEPS_PER_DAY + int(rng.integers(-2, 3))
        src = pv if c["type"] == "pv" else load
        shape = src[c["profile"]].to_numpy(dtype=float)
        if c["profile"] not in rows:
            rows[c["profile"]] = profile_rows(index, PROFILE_TIME_BASE[c["profile"]], len(shape))
        at = rows[c["profile"]]
        if c["type"] == "pv":
            power[cid] = -c["scale"] * shape[(at + shift) % len(shape)]
            annual[cid] = c["scale"] * shape.sum() * STEP_H
            continue
        shape = shape / (shape.sum() * STEP_H)  # kW per kWh/a
        year = c["scale"] * np.roll(shape, -shift)
        if c["type"] == "ev":
            year = cap_carry_forward(year, EV_KW)
        power[cid] = year[at]
        annual[cid] = year.sum() * STEP_H
    return power, pd.Series(annual)


# --------------------------------------------------------------------------- figures


def imbalance_figures(case: Case, power: dict[str, np.ndarray]) -> dict[str, object]:
    """Feeder load rates and imbalance (Eq 14-15 on the real days, all customers)."""
    feeder = case.customers["node_id"].map(case.network.feeder_of_node)
    rating = case.network.feeder_rating_kw
    loads = pd.DataFrame({f: sum(power[c] for c in feeder.index[feeder == f]) for f in rating.index})
    rate = loads / rating
    imb = rate.max(axis=1) - rate.min(axis=1)
    return {
        "customers_per_feeder_type": pd.crosstab(feeder, case.customers["type"]).to_dict("index"),
        "feeder_rating_kw": rating.round(1).to_dict(),
        "feeder_peak_kw": loads.max().round(1).to_dict(),
        "feeder_peak_load_rate_pct": (100 * rate.max()).round(1).to_dict(),
        "feeder_mean_load_rate_pct": (100 * rate.mean()).round(1).to_dict(),
        "expected_imbalance_pct": round(100 * float(imb.mean()), 2),
        "peak_imbalance_pct": round(100 * float(imb.max()), 2),
    }


# --------------------------------------------------------------------------- main


def build(seed: int = 2024, area: int = AREA) -> tuple[Case, dict[str, object]]:
    """The case of Schutterwald area ``area`` (index in ``lv_schutterwald(separation_by_sub=True)``)."""
    import pandapower.networks as pn

    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nets = pn.lv_schutterwald(separation_by_sub=True)
    if not 0 <= area < len(nets):
        raise ValueError(f"--area must be 0..{len(nets) - 1}, got {area}")
    net = nets[area]
    imported = network_from_pandapower(net, source=f"Schutterwald area {area}")
    network, crs = imported.network, imported.crs
    streets = build_streets(nets, crs, network)

    customers = build_customers(imported.customers, network.feeder_of_node, rng)
    load, pv = read_profiles()
    n = WEEKS * 7 * STEPS_PER_DAY
    index = pd.date_range(START, periods=n, freq=STEP)  # local wall-clock (Europe/Berlin), interval start
    power, annual = customer_power(customers, load, pv, index, rng)
    customers["annual_kwh"] = annual.round(1)
    n_meter = int(round(METER_SHARE * len(customers)))
    metered = rng.choice(customers.index.to_numpy(), size=n_meter, replace=False)
    customers["metered"] = customers.index.isin(metered)
    readings = readings_frame({c: np.round(power[c], 3) for c in customers.index if c in set(metered)}, index)

    weather_rows = profile_rows(index, PROFILE_TIME_BASE[WEATHER_PV], len(pv))
    weather_pv = pd.Series(pv[WEATHER_PV].to_numpy()[weather_rows], index=index)  # per local day
    calendar = make_calendar(weather_pv, country="DE", subdiv="BW")

    case = Case(
        name=f"schutterwald-area{area}",
        crs=crs,
        network=network,
        streets=streets,
        customers=customers[CASE_CUSTOMER_COLUMNS].copy(),
        meter_readings=readings,
        calendar=calendar,
        params=DEFAULT_CASE_PARAMS,
        metadata={
            "description": (
                f"Area {area} ({net.trafo['sn_mva'].iloc[0]:g} MVA, {len(imported.customers)} houses, "
                f"{len(network.feeder_outlets)} feeders) of the Schutterwald LV grid (pandapower "
                "lv_schutterwald) with synthetic customers: residential, commercial, PV and V2G "
                "EV charging points; meter readings for 40 % of them over 8 weeks from SimBench 2016 profiles."
            ),
            "country": "DE",
            "timezone": "Europe/Berlin",
            "streets_source": "network_lines",
            "streets_note": (
                "streets are the main-cable (NAYY 4x150) routes of all 14 Schutterwald areas, which follow "
                "the streets; cost 40/m, 60/m on straight through-routes >= 400 m"
            ),
            "attribution": (
                "Grid geometry: pandapower lv_schutterwald (BSD-3-Clause), derived from OpenStreetMap "
                "(c) OpenStreetMap contributors, ODbL. Profiles: SimBench (simbench.de), ODbL. See ATTRIBUTION.md."
            ),
            "license": "ODbL-1.0",
            "params_note": (
                "objective.imbalance_weight = 5000 per point: the feeders are large (187 kW) for their load, so "
                "one point of expected imbalance is ~1.9 kW of average load; at the default 1000 no move pays for "
                "its cable. solver.benders_max_iterations = 25 is a work limit (a method that reaches it stops with "
                "its gap, the same plan on every machine; removing the line lifts it); time_limit_s = 300 is the safety net."
            ),
            "built_by": f"scripts/build_default_case.py --seed {seed}" + ("" if area == AREA else f" --area {area}"),
        },
    )
    check_case(case)
    return case, imbalance_figures(case, power)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None, help=f"case directory (default for area {AREA}: {OUT})")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--area", type=int, default=AREA, help=f"Schutterwald area 0..13 (default {AREA}: the default case)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.out is None:
        if args.area != AREA:
            ap.error(f"--area {args.area} needs --out (the default folder holds the default case, area {AREA})")
        args.out = OUT
    try:
        case, figures = build(args.seed, args.area)
    except (CaseError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    attribution = args.out / "ATTRIBUTION.md"
    keep = attribution.read_text(encoding="utf-8") if attribution.exists() else None
    write_case(case, args.out, overwrite=True, readings_format="csv.gz")
    if keep is not None:
        attribution.write_text(keep, encoding="utf-8")
    size = sum(p.stat().st_size for p in args.out.iterdir())
    log.info("wrote %s (%.2f MB)", args.out, size / 1e6)
    for k, v in figures.items():
        log.info("%s: %s", k, v)
    log.info(
        "customers: %s; metered %d of %d; %d days; %d street segments (%d dearer)",
        case.customers["type"].value_counts().to_dict(),
        case.customers["metered"].sum(),
        len(case.customers),
        len(case.calendar),
        len(case.streets.segments),
        int((case.streets.segments["cost_per_m"] > BASE_COST_PER_M).sum()),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
