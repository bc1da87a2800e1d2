"""Small hand-built cases and scenarios you can draw on paper, shared by the tests.

``fig3_case()`` is shaped like Fig 3 of the paper: a feeder whose end carries an
unbranched tail with several loads, a side branch, and a second feeder close by.

```
            y=100  c5 (pv)
                    |
 B ── n1 ── n2 ── n3 ── n4 ── n5        feeder F1 (x = 0..250 m, y = 0)
 │          c4    │     c3    c1, c2(ev)
 │                n6  c6                 (n6 at x=150, y=-60)
 │
 └── m1 ── m2                           feeder F2 (y = -120)
     c7    c8
```
Each call builds a fresh case: no shared mutable fixtures.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr
from scipy.optimize import linprog

from lvbalance.case import Case, Network, Streets
from lvbalance.params import Params
from lvbalance.profiles import ScenarioSet
from lvbalance.results import Move

X0, Y0 = 400_000.0, 5_370_000.0
CRS = "EPSG:32632"


def _xy(x: float, y: float) -> tuple[float, float]:
    return X0 + x, Y0 + y


NODES = {
    "B": (0, 0, "busbar"),
    "n1": (50, 0, "junction"),
    "n2": (100, 0, "customer_access"),
    "n3": (150, 0, "junction"),
    "n4": (200, 0, "customer_access"),
    "n5": (250, 0, "customer_access"),
    "n6": (150, -60, "customer_access"),
    "m1": (50, -120, "customer_access"),
    "m2": (150, -120, "customer_access"),
}
LINES = [
    ("l1", "B", "n1"),
    ("l2", "n1", "n2"),
    ("l3", "n2", "n3"),
    ("l4", "n3", "n4"),
    ("l5", "n4", "n5"),
    ("l6", "n3", "n6"),
    ("l7", "B", "m1"),
    ("l8", "m1", "m2"),
]
CUSTOMERS = [
    # id, node, dx, dy, type, metered, annual_kwh, charge, discharge, v2g
    ("c1", "n5", 5, 10, "residential", True, 3500.0, np.nan, np.nan, False),
    ("c2", "n5", -5, 10, "ev", False, 2500.0, 7.0, 7.0, True),
    ("c3", "n4", 0, 10, "residential", False, 4000.0, np.nan, np.nan, False),
    ("c4", "n2", 0, 10, "commercial", False, 12000.0, np.nan, np.nan, False),
    ("c5", "n2", 0, 20, "pv", False, 5000.0, np.nan, np.nan, False),
    ("c6", "n6", 10, 0, "residential", True, 3000.0, np.nan, np.nan, False),
    ("c7", "m1", 0, -10, "residential", False, 3000.0, np.nan, np.nan, False),
    ("c8", "m2", 0, -10, "residential", False, 3000.0, np.nan, np.nan, False),
]


def fig3_case() -> Case:
    """A fresh, valid Fig-3-shaped case (two feeders, 8 customers, 14 days of readings)."""
    nodes = pd.DataFrame([(n, *_xy(x, y), k) for n, (x, y, k) in NODES.items()], columns=["node_id", "x", "y", "kind"]).set_index("node_id")
    lines = []
    for lid, a, b in LINES:
        (xa, ya), (xb, yb) = nodes.loc[a, ["x", "y"]], nodes.loc[b, ["x", "y"]]
        lines.append((lid, a, b, float(np.hypot(xb - xa, yb - ya)), 150.0, 0.206, 0.08, "NAYY 4x150 SE"))
    line_columns = ["line_id", "from_node", "to_node", "length_m", "rated_kw", "r_ohm_per_km", "x_ohm_per_km", "std_type"]
    lines_df = pd.DataFrame(lines, columns=line_columns).set_index("line_id")
    customers = []
    for cid, node, dx, dy, typ, metered, kwh, pc, pd_, v2g in CUSTOMERS:
        x, y = nodes.loc[node, ["x", "y"]]
        customers.append((cid, node, x + dx, y + dy, typ, metered, kwh, pc, pd_, v2g))
    customer_columns = ["customer_id", "node_id", "x", "y", "type", "metered", "annual_kwh", "charge_kw", "discharge_kw", "v2g"]
    customers_df = pd.DataFrame(customers, columns=customer_columns).set_index("customer_id")
    # streets: along the lines, plus a street linking the two feeders' ends (x = 250, a costly main road)
    street_pts = [
        ("s1", [(0, 0), (150, 0)], np.nan),
        ("s2", [(150, 0), (250, 0)], np.nan),
        ("s3", [(150, 0), (150, -60)], np.nan),
        ("s4", [(0, 0), (0, -120)], np.nan),
        ("s5", [(0, -120), (150, -120)], np.nan),
        ("s6", [(150, -60), (150, -120)], np.nan),
        ("s7", [(250, 0), (250, -120)], 120.0),
        ("s8", [(150, -120), (250, -120)], np.nan),
    ]
    streets = gpd.GeoDataFrame(
        {"cost_per_m": [c for *_, c in street_pts]},
        geometry=[shapely.LineString([_xy(*p) for p in pts]) for _, pts, _ in street_pts],
        index=pd.Index([s for s, *_ in street_pts], name="street_id"),
        crs=CRS,
    )
    days = pd.date_range("2024-03-04", periods=14, freq="D")
    ts = pd.date_range(days[0], periods=14 * 96, freq="15min")
    hours = ts.hour + ts.minute / 60
    readings = pd.concat(
        [
            pd.DataFrame({"customer_id": cid, "timestamp": ts, "p_kw": (0.3 + scale * np.exp(-((hours - 19) ** 2) / 4)).round(4)})
            for cid, scale in (("c1", 1.2), ("c6", 0.9))
        ],
        ignore_index=True,
    )
    calendar = pd.DataFrame(
        {
            "day_type": np.where(days.dayofweek < 5, "working", "non_working"),
            "weather": ["sunny", "cloudy", "rainy"] * 4 + ["sunny", "cloudy"],
        },
        index=pd.DatetimeIndex(days, name="date"),
    )
    return Case(
        name="fig3",
        crs=CRS,
        network=Network(nodes=nodes, lines=lines_df),
        streets=Streets(segments=streets, source="geojson"),
        customers=customers_df,
        meter_readings=readings,
        calendar=calendar,
        params=Params(),
        metadata={"description": "hand-built Fig 3 case"},
    )


T_STEPS = 8
START_HOUR = 8
SCENARIO_IDS = ["working-sunny", "non_working-cloudy"]
PROBABILITY = [0.7, 0.3]
# base power per customer type [kW] (pv: generation, negative)
BASE_KW = {"residential": 2.0, "commercial": 12.0, "pv": -4.0}


# --------------------------------------------------------------------------- scenarios by hand


def hand_scenarios(
    case: Case,
    *,
    T: int = T_STEPS,
    start_hour: int = START_HOUR,
    seed: int = 0,
    base_kw: dict[str, float] | None = None,
    overrides: dict[str, np.ndarray] | None = None,
) -> ScenarioSet:
    """Two scenarios with T steps of 24/T h for every customer of ``case``.

    Non-ev customers: ``base_kw[type]`` times a seeded factor in [0.5, 1.5) per step;
    ev customers: uncontrolled charging, full ``charge_kw`` at step T/2 and partial at
    T/2 + 1 (within 0..charge_kw). ``overrides``: customer -> (scenario, step) power [kW].
    """
    base = {**BASE_KW, **(base_kw or {})}
    rng = np.random.default_rng(seed)
    cust = case.customers
    p = np.zeros((len(SCENARIO_IDS), T, len(cust)))
    for k, (cid, r) in enumerate(cust.iterrows()):
        for s in range(len(SCENARIO_IDS)):
            if r["type"] == "ev":
                pc = float(r["charge_kw"])
                prof = np.zeros(T)
                prof[T // 2], prof[T // 2 + 1] = pc, (0.4 + 0.2 * s) * pc
            else:
                prof = base[r["type"]] * (0.5 + rng.random(T))
            p[s, :, k] = prof
        if overrides and cid in overrides:
            p[:, :, k] = overrides[cid]
    table = pd.DataFrame(
        {"probability": PROBABILITY, "day_type": ["working", "non_working"], "weather": ["sunny", "cloudy"]},
        index=pd.Index(SCENARIO_IDS, name="scenario"),
    )
    da = xr.DataArray(
        p, dims=("scenario", "step", "customer"), coords={"scenario": SCENARIO_IDS, "step": np.arange(T), "customer": list(cust.index)}
    )
    return ScenarioSet(scenarios=table, p_kw=da, step_hours=24.0 / T, start_hour=start_hour)


def coarse(case: Case, *, T: int = T_STEPS, **sections: dict) -> Case:
    """``case`` with profile step and start matching :func:`hand_scenarios`, an exact MIP
    gap, and the given parameter sections updated."""
    merged: dict[str, dict] = {
        "profiles": {"step_minutes": 24 * 60 // T, "horizon_start_hour": START_HOUR},
        "solver": {"mip_gap": 0.0, "threads": 1},
    }
    for k, v in sections.items():
        merged.setdefault(k, {}).update(v)
    return case.with_params(case.params.updated(**merged))


def with_line_ratings(case: Case, ratings: dict[str, float]) -> Case:
    lines = case.network.lines.copy()
    for lid, kw in ratings.items():
        lines.loc[lid, "rated_kw"] = kw
    return dataclasses.replace(case, network=Network(nodes=case.network.nodes, lines=lines))


def as_moves(options: pd.DataFrame) -> list[Move]:
    return [
        Move(
            end_node=o["end_node"],
            cut_node=o["cut_node"],
            to_node=o["to_node"],
            customers=list(o["customers"]),
            from_feeder=o["from_feeder"],
            to_feeder=o["to_feeder"],
            route_length_m=0.0,
            cost=float(o["cost"]),
            route=[],
        )
        for _, o in options.iterrows()
    ]


# Cost [currency] of every move option of the Fig 3 case (``coupling.move_options``), by hand:
# street cost 40 per m except the main road s7 (x = 250, 120 per m), which no cheapest route
# takes; the new line runs from the cut node to the target along the cheapest streets.
FIG3_OPTION_COST = {
    "m2/1->n6": 60 * 40.0,  # m2 (150, -120) up s6 to n6
    "m2/1->n3": 120 * 40.0,  # s6, s3
    "m2/1->n2": 170 * 40.0,  # s6, s3, 50 m of s1
    "m2/1->n4": 170 * 40.0,  # s6, s3, 50 m of s2
    "m2/1->n1": 220 * 40.0,  # s6, s3, 100 m of s1
    "m2/1->n5": 220 * 40.0,  # s6, s3, s2 (s8 + s7: 100 x 40 + 120 x 120 = 18400)
    "m2/2->n6": 160 * 40.0,  # cut node m1 (50, -120): 100 m of s5, s6
    "m2/2->n3": 220 * 40.0,  # 100 m of s5, s6, s3
    "m2/2->n1": 220 * 40.0,  # 50 m of s5, s4, 50 m of s1
    "n5/2->m2": 220 * 40.0,  # cut node n5: s2, s3, s6
    "n5/3->m2": 170 * 40.0,  # cut node n4: 50 m of s2, s3, s6
    "n6/1->m2": 60 * 40.0,  # s6
    "n6/1->m1": 160 * 40.0,  # s6, 100 m of s5
}


def fig3_coarse(**sections: dict) -> Case:
    """:func:`fig3_case` made :func:`coarse`, with the given parameter sections updated."""
    return coarse(fig3_case(), **sections)


def customer_power(case: Case, scen: ScenarioSet) -> tuple[np.ndarray, list[str]]:
    """(customer, scenario, step) power of ``scen`` [kW] in the order of ``case.customers``, and that order."""
    customers = list(case.customers.index)
    return scen.p_kw.transpose("customer", "scenario", "step").sel(customer=customers).to_numpy().copy(), customers


def schedule_cube(result, column: str) -> pd.DataFrame:
    """One column of a result's EV schedules as a (customer_id, scenario) x step table."""
    return result.schedules.table.pivot_table(index=["customer_id", "scenario"], columns="step", values=column)


def rel_close(a: float, b: float, rel: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b), 1.0)


# --------------------------------------------------------------------------- independent stage 1 and stage 2


def feasible_plans(options: pd.DataFrame, max_moved: int) -> list[list[str]]:
    """Every stage-1 plan: at most one option per end node, at most ``max_moved``
    customers, no target inside another chosen move's moved nodes (MODEL.md §4)."""
    per_end = [[None, *ids] for _, ids in options.groupby("end_node").groups.items()]
    plans = []
    for combo in itertools.product(*per_end):
        chosen = [o for o in combo if o is not None]
        rows = options.loc[chosen]
        if sum(len(c) for c in rows["customers"]) > max_moved:
            continue
        clash = any(
            a["to_node"] in b["moved_nodes"] for (ia, a), (ib, b) in itertools.product(rows.iterrows(), rows.iterrows()) if ia != ib
        )
        if not clash:
            plans.append(chosen)
    return plans


def independent_objective(case: Case, scen: ScenarioSet, chosen: pd.DataFrame, *, v2g: bool) -> float:
    """Objective of a fixed plan (Eq 27), stage 2 solved as an LP written from MODEL.md §5-§6
    with scipy, not from ``lvbalance.model``.

    Assumes no line rule can bind (checked by the callers). Per scenario: EV power ``x``,
    discharge ``d >= max(0, -x)``, epigraph ``smax``/``smin`` per step and the peak.
    """
    p = case.params
    op, ob = p.operation, p.objective
    cust = case.customers
    P = scen.p_kw.transpose("scenario", "step", "customer").sel(customer=list(cust.index)).to_numpy()
    S, T, _ = P.shape
    node_feeder = case.network.feeder_of_node
    feeder = {c: str(node_feeder[cust.at[c, "node_id"]]) for c in cust.index}
    for _, o in chosen.iterrows():
        for c in o["customers"]:
            feeder[c] = str(o["to_feeder"])
    rating = case.network.feeder_rating_kw
    feeders = list(rating.index)
    evs = [c for c in cust.index if cust.at[c, "type"] == "ev"]
    E = len(evs)
    alpha = np.asarray(op.v2g_participation)[np.floor(scen.clock_hours()).astype(int) % 24] if v2g else np.zeros(T)
    beta = scen.scenarios["probability"].to_numpy(float)
    n = 2 * E * T + 2 * T + 1
    ix = lambda e, t: e * T + t  # noqa: E731
    idis = lambda e, t: E * T + e * T + t  # noqa: E731
    ismax = lambda t: 2 * E * T + t  # noqa: E731
    ismin = lambda t: 2 * E * T + T + t  # noqa: E731
    ipeak = n - 1

    total = ob.cost_weight * float(chosen["cost"].sum())
    for s in range(S):
        c = np.zeros(n)
        bounds: list[tuple[float | None, float | None]] = [(None, None)] * n
        A_ub, b_ub, A_eq, b_eq = [], [], [], []

        def row(entries: dict[int, float]) -> np.ndarray:
            r = np.zeros(n)
            for k, v in entries.items():
                r[k] += v
            return r

        fixed = np.zeros((len(feeders), T))
        for k, cid in enumerate(cust.index):
            if cid not in evs:
                fixed[feeders.index(feeder[cid])] += P[s, :, k]
        for e, cid in enumerate(evs):
            X = np.clip(P[s, :, list(cust.index).index(cid)], 0.0, None)
            Pc = float(cust.at[cid, "charge_kw"])
            Pd = float(cust.at[cid, "discharge_kw"]) if bool(cust.at[cid, "v2g"]) else 0.0
            base = (1 - alpha) * X  # the non-participating part
            lo = np.maximum(-Pd, base - op.v2g_discharge_share * alpha * Pd)
            hi = np.minimum(Pc, base + op.v2g_charge_share * alpha * Pc)
            for t in range(T):
                bounds[ix(e, t)] = (float(lo[t]), float(max(hi[t], lo[t])))
                bounds[idis(e, t)] = (0.0, None)
                c[idis(e, t)] = beta[s] * op.battery_wear_cost_per_kwh * scen.step_hours
                A_ub.append(row({idis(e, t): -1.0, ix(e, t): -1.0}))  # d >= -x
                b_ub.append(0.0)
            eps = op.ramp_share_per_step * Pc
            for t in range(1, T):  # |v_t - v_{t-1}| <= eps with v = x - base
                jump = base[t] - base[t - 1]
                A_ub.append(row({ix(e, t): 1.0, ix(e, t - 1): -1.0}))
                b_ub.append(eps + jump)
                A_ub.append(row({ix(e, t): -1.0, ix(e, t - 1): 1.0}))
                b_ub.append(eps - jump)
            A_eq.append(row({ix(e, t): 1.0 for t in range(T)}))  # energy
            b_eq.append(float(X.sum()))
        for t in range(T):
            c[ismax(t)] += beta[s] * ob.imbalance_weight * 100.0 / T
            c[ismin(t)] -= beta[s] * ob.imbalance_weight * 100.0 / T
            for f, fid in enumerate(feeders):
                R = float(rating[fid])
                on_f = {ix(e, t): 1.0 / R for e, cid in enumerate(evs) if feeder[cid] == fid}
                A_ub.append(row({**on_f, ismax(t): -1.0}))
                b_ub.append(-fixed[f, t] / R)
                A_ub.append(row({**{k: -v for k, v in on_f.items()}, ismin(t): 1.0}))
                b_ub.append(fixed[f, t] / R)
            A_ub.append(row({ismax(t): 100.0, ismin(t): -100.0, ipeak: -1.0}))
            b_ub.append(0.0)
        c[ipeak] = beta[s] * ob.peak_imbalance_weight
        res = linprog(
            c,
            A_ub=np.array(A_ub),
            b_ub=np.array(b_ub),
            A_eq=np.array(A_eq) if A_eq else None,
            b_eq=np.array(b_eq) if b_eq else None,
            bounds=bounds,
            method="highs",
        )
        assert res.status == 0, res.message
        total += float(res.fun)
    return total


def moved_ev_result(method_id: str = "m1"):
    """``method_id`` on :func:`fig3_coarse` with only the options of end node n5 (c1, c2 (ev)
    or c1, c2, c3 onto m2): imbalance worth 4000 per point and free construction, so the plan
    moves the ev customer c2 onto F2. The extensive form (0.3 s here; Benders, the default
    for m1, takes ~7 s and is covered by test_model_run.py). Returns ``(case, scenarios, result)``."""
    from lvbalance.coupling import move_options
    from lvbalance.model.methods import METHODS
    from lvbalance.model.run import plan_method

    case = fig3_coarse(objective={"imbalance_weight": 4000.0, "cost_weight": 0.0}, solver={"algorithm": "extensive"})
    scen = hand_scenarios(case)
    options = move_options(case)
    options = options[options["end_node"] == "n5"]
    return case, scen, plan_method(case, scen, METHODS[method_id], options=options)


# --------------------------------------------------------------------------- meter data (profiles tests)
# Hand-made meter data for the tests of lvbalance.profiles: every builder takes the Fig-3 case
# (fig3_case / the ``case`` fixture) as its base and returns a fresh case.
T = 96
STEP_H = 0.25
#: clock hour of each step of a horizon day starting at 08:00
CLOCK = (8 + STEP_H * np.arange(T)) % 24


def bump(centre_h: float, width_h: float = 1.5) -> np.ndarray:
    """A Gaussian bump over the horizon day's clock hours, peak 1 at ``centre_h`` [-]."""
    d = (CLOCK - centre_h + 12) % 24 - 12  # circular distance [h]
    return np.exp(-(d**2) / (2 * width_h**2))


#: two hand-made residential day shapes [kW]: a morning person and an evening person
MORNING = 0.2 + 1.5 * bump(7.0)
EVENING = 0.2 + 1.5 * bump(20.0)


def meter_case(
    base: Case,
    curves: dict[str, list[np.ndarray]],
    *,
    start: str = "2024-03-04",
    calendar: pd.DataFrame | None = None,
    extra_customers: pd.DataFrame | None = None,
    params: dict | None = None,
) -> Case:
    """``base``'s network with metered residential customers m0, m1, ... whose horizon days
    (from 08:00, 15-min readings) are ``curves`` [kW]; calendar: weekdays working, all sunny."""
    n_days = len(next(iter(curves.values())))
    days = pd.date_range(start, periods=n_days, freq="D")
    ts = (days.to_numpy()[:, None] + np.timedelta64(8, "h") + np.arange(T)[None, :] * np.timedelta64(15, "m")).ravel()
    readings = pd.concat(
        [pd.DataFrame({"customer_id": cid, "timestamp": ts, "p_kw": np.concatenate(days_kw)}) for cid, days_kw in curves.items()],
        ignore_index=True,
    )
    metered = pd.DataFrame(
        [(cid, "n5", *base.customers.loc["c1", ["x", "y"]], "residential", True, np.nan, np.nan, np.nan, False) for cid in curves],
        columns=["customer_id", *base.customers.columns],
    ).set_index("customer_id")
    customers = pd.concat([metered, extra_customers]) if extra_customers is not None else metered
    if calendar is None:
        calendar = pd.DataFrame(
            {"day_type": np.where(days.dayofweek < 5, "working", "non_working"), "weather": "sunny"},
            index=pd.DatetimeIndex(days, name="date"),
        )
    p = base.params.updated(profiles=params) if params else base.params
    return dataclasses.replace(base, customers=customers, meter_readings=readings, calendar=calendar, params=p)


def unmetered(base: Case, ids: list[str], typ: str, annual_kwh: float, **ratings: float) -> pd.DataFrame:
    """Customer rows of type ``typ`` at node n4, billed ``annual_kwh`` [kWh/a] each."""
    c3 = base.customers.loc["c3"]
    rows = [
        (cid, "n4", c3["x"], c3["y"], typ, False, annual_kwh, ratings.get("charge_kw", np.nan), ratings.get("discharge_kw", np.nan), False)
        for cid in ids
    ]
    return pd.DataFrame(rows, columns=["customer_id", *base.customers.columns]).set_index("customer_id")


def two_cluster_case(base: Case, seed: int = 0, **kw) -> Case:
    """10 customers x 21 days (15 working, 6 non-working): m0..m6 always MORNING, m7..m9
    always EVENING, +-3 % noise, customer i scaled by 1 + 0.05 i."""
    rng = np.random.default_rng(seed)
    curves = {}
    for i in range(10):
        shape = MORNING if i < 7 else EVENING
        curves[f"m{i}"] = [shape * (1 + 0.5 * i / 10) * (1 + 0.03 * rng.standard_normal(T)) for _ in range(21)]
    return meter_case(base, curves, **kw)


def with_readings(case: Case, extra: pd.DataFrame, readings: pd.DataFrame) -> Case:
    """``case`` with more customers and their readings."""
    r = pd.concat([case.meter_readings, readings], ignore_index=True)
    return dataclasses.replace(case, meter_readings=r, customers=pd.concat([case.customers, extra]))


def no_meter_case(base: Case, **profiles: object) -> Case:
    """``base`` (the Fig-3 case) as an operator without smart meters sees it: no meter readings,
    no calendar (days.csv empty), every customer unmetered with its billed annual_kwh; time zone
    Europe/Berlin. ``profiles``: options of ``params.profiles`` (e.g. ``calendar_start``)."""
    customers = base.customers.assign(metered=False)
    params = base.params.updated(profiles=dict(profiles)) if profiles else base.params
    return dataclasses.replace(
        base,
        customers=customers,
        meter_readings=base.meter_readings.iloc[:0],
        calendar=base.calendar.iloc[:0],
        params=params,
        metadata={**base.metadata, "timezone": "Europe/Berlin"},
    )


def fig3_tail_move(*, cost: float = 0.0, route_length_m: float = 220.0, route: list[list[float]] | None = None) -> Move:
    """The Fig-3 tail n5 (c1, c2) moved from F1 onto m2 of F2: along the streets x = 250 and
    y = -120, 120 + 100 = 220 m (a fresh object on every call)."""
    return Move(
        end_node="n5",
        cut_node="n5",
        to_node="m2",
        customers=["c1", "c2"],
        from_feeder="F1",
        to_feeder="F2",
        route_length_m=route_length_m,
        cost=cost,
        route=[list(p) for p in route] if route is not None else [],
    )


# --------------------------------------------------------------------------- pandapower nets in lon/lat

LON0, LAT0 = 7.88, 48.46
"""Origin of the small pandapower nets of the io tests (near Schutterwald) [deg]."""
DEG_M = 1 / 111_320
"""About 1 m of latitude in degrees."""


def lonlat(dx_m: float, dy_m: float) -> tuple[float, float]:
    """(lon, lat) of the point ``dx_m`` east and ``dy_m`` north of (LON0, LAT0)."""
    return (LON0 + dx_m * DEG_M / math.cos(math.radians(LAT0)), LAT0 + dy_m * DEG_M)
