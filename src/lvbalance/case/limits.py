"""Physical limits, plausible ranges and plannability of a case (issue 14).

Each quantity has a plausible range (outside it: a warning, the case is still planned)
and a physical limit (past it: an error; the value is a unit mistake or garbage, and a
plan built on it would be meaningless). The limits are those of a 0.4 kV area:

============================  ==================  ========================================
quantity                      warning             error
============================  ==================  ========================================
line ``rated_kw`` [kW]        < 5 or > 400        > 1,000 (about 1.4 kA at 0.4 kV)
line ``length_m`` [m]         > the area's extent > twice the extent + 100 m
                              or < half the
                              straight distance
customer ``annual_kwh``       < 100 or > 100,000  > 1,000,000 (1 GWh a year)
[kWh/a]                       (commercial:
                              > 500,000)
``charge_kw``,                > 22                > 350 (the largest DC chargers)
``discharge_kw`` [kW]
reading ``p_kw`` [kW]         \\|p\\| > 250         \\|p\\| > 1,000
customer to its node [m]      > 250               > 1,000
============================  ==================  ========================================

The area's extent is the diagonal of the bounding box of the nodes [m].
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable

import numpy as np
import pandas as pd

from lvbalance.case.parts import Case, Problem

RATED_KW_LOW, RATED_KW_WARN, RATED_KW_MAX = 5.0, 400.0, 1000.0
ANNUAL_KWH_LOW, ANNUAL_KWH_WARN, ANNUAL_KWH_WARN_COMMERCIAL, ANNUAL_KWH_MAX = 100.0, 100_000.0, 500_000.0, 1_000_000.0
CHARGER_KW_WARN, CHARGER_KW_MAX = 22.0, 350.0
P_KW_WARN, P_KW_MAX = 250.0, 1000.0
CUSTOMER_NODE_WARN_M, CUSTOMER_NODE_MAX_M = 250.0, 1000.0
SHOWN_ROWS = 20


def _num(df: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_numeric(df[col], errors="coerce") if col in df else pd.Series(np.nan, index=df.index)


def _past(values: pd.Series, limit: float, file: str, what: str, message: str) -> list[Problem]:
    """A problem for each finite value above ``limit`` (``message`` formatted with value and limit)."""
    bad = values[np.isfinite(values) & (values > limit)]
    return [Problem(file, f"{what} {idx}", message.format(value=v, limit=limit)) for idx, v in bad.items()]


def area_extent_m(case: Case) -> float:
    """Diagonal of the bounding box of the network's nodes [m] (finite coordinates only)."""
    x, y = _num(case.network.nodes, "x"), _num(case.network.nodes, "y")
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return float("nan")
    return float(np.hypot(x[ok].max() - x[ok].min(), y[ok].max() - y[ok].min()))


def _customer_node_m(case: Case) -> pd.Series:
    """Distance of each customer from its access node [m] (NaN where unknown)."""
    cust, nodes = case.customers, case.network.nodes
    if nodes.index.duplicated().any():
        return pd.Series(np.nan, index=cust.index)
    nx_ = _num(nodes, "x").reindex(cust["node_id"]).to_numpy()
    ny_ = _num(nodes, "y").reindex(cust["node_id"]).to_numpy()
    return pd.Series(np.hypot(_num(cust, "x").to_numpy() - nx_, _num(cust, "y").to_numpy() - ny_), index=cust.index)


def _line_straight_m(case: Case) -> pd.Series:
    """Straight distance between the end nodes of each line [m] (NaN where unknown)."""
    lines, nodes = case.network.lines, case.network.nodes
    if nodes.index.duplicated().any():
        return pd.Series(np.nan, index=lines.index)
    x, y = _num(nodes, "x"), _num(nodes, "y")
    dx = x.reindex(lines["from_node"]).to_numpy() - x.reindex(lines["to_node"]).to_numpy()
    dy = y.reindex(lines["from_node"]).to_numpy() - y.reindex(lines["to_node"]).to_numpy()
    return pd.Series(np.hypot(dx, dy), index=lines.index)


# --------------------------------------------------------------------------- errors


def limit_errors(case: Case) -> list[Problem]:
    """Values past the physical limits of a 0.4 kV area (module table), and a solver that is not installed."""
    lines, cust = case.network.lines, case.customers
    out = _past(
        _num(lines, "rated_kw"),
        RATED_KW_MAX,
        "lines.csv",
        "line",
        "rated_kw = {value:g} kW is past what a 0.4 kV cable carries (about {limit:,.0f} kW = 1.4 kA): rated_kw is in kW",
    )
    extent = area_extent_m(case)
    if np.isfinite(extent):
        out += _past(
            _num(lines, "length_m"),
            2 * extent + 100.0,
            "lines.csv",
            "line",
            f"length_m = {{value:g}} m is longer than the whole area ({extent:,.0f} m across its nodes): length_m is in metres",
        )
    energy_msg = (
        "annual_kwh = {value:g} kWh/a is past {limit:,.0f} kWh/a (1 GWh a year), more than any LV customer uses: annual_kwh is in kWh"
    )
    out += _past(_num(cust, "annual_kwh"), ANNUAL_KWH_MAX, "customers.csv", "customer", energy_msg)
    for col in ("charge_kw", "discharge_kw"):
        msg = f"{col} = {{value:g}} kW is past {{limit:g}} kW, the largest chargers there are: {col} is in kW"
        out += _past(_num(cust, col), CHARGER_KW_MAX, "customers.csv", "customer", msg)
    far = "is {value:,.0f} m from its node (more than {limit:,.0f} m: no 0.4 kV service line is that long); check x, y and node_id"
    out += _past(_customer_node_m(case), CUSTOMER_NODE_MAX_M, "customers.csv", "customer", far)
    out += _reading_limits(case, P_KW_MAX, error=True)
    out += _solver_problem(case.params.solver.name)
    return out


def _reading_limits(case: Case, limit: float, *, error: bool) -> list[Problem]:
    r = case.meter_readings
    p = _num(r, "p_kw").abs()
    bad = p[np.isfinite(p) & (p > limit)]
    if not error:
        bad = bad[bad <= P_KW_MAX]
    f = "meter_readings.csv"
    kind = "past what a 0.4 kV customer draws" if error else "unusually high for one customer"
    out = [
        Problem(f, f"row {pos + 2}", f"p_kw = {r['p_kw'].iloc[pos]} kW is {kind} (|p_kw| > {limit:,.0f} kW): p_kw is in kW")
        for pos in np.flatnonzero(r.index.isin(bad.index))[:SHOWN_ROWS]
    ]
    if len(bad) > SHOWN_ROWS:
        out.append(Problem(f, f"{len(bad) - SHOWN_ROWS} more row(s)", f"|p_kw| > {limit:,.0f} kW"))
    return out


def _solver_problem(name: str) -> list[Problem]:
    """The solver named in ``params.solver.name`` must be installed (HiGHS: highspy)."""
    if name == "highs":
        installed = importlib.util.find_spec("highspy") is not None
        available = ["highs"] if installed else []
    else:
        import linopy

        available = list(linopy.available_solvers)
        installed = name in available
    if installed:
        return []
    have = ", ".join(available) or "none"
    return [Problem("case.toml", "params.solver.name", f"solver {name!r} is not installed (installed: {have})")]


def plannable_errors(case: Case) -> list[Problem]:
    """Meter data a plan cannot be built on: every reading zero."""
    p = _num(case.meter_readings, "p_kw")
    if len(p) and np.isfinite(p).all() and (p == 0).all():
        msg = f"all {len(p):,} readings are 0 kW: an export without its values? (no load means nothing to balance)"
        return [Problem("meter_readings.csv", "p_kw", msg)]
    return []


# --------------------------------------------------------------------------- warnings


def case_warnings(case: Case) -> list[Problem]:
    """What is implausible but possible (module table), and what keeps methods from doing anything.

    ``lvbalance validate`` lists these; ``--strict`` turns them into errors.
    """
    out = _line_warnings(case) + _customer_warnings(case) + _reading_limits(case, P_KW_WARN, error=False)
    out += _reading_warnings(case)
    if case.params.planning.max_moved_customers == 0:
        msg = "= 0: the methods with moves (m1, m2, m3) cannot move any customer and plan as v2g_only / baseline do"
        out.append(Problem("case.toml", "params.planning.max_moved_customers", msg))
    return out


def _line_warnings(case: Case) -> list[Problem]:
    lines, f = case.network.lines, "lines.csv"
    rated, length = _num(lines, "rated_kw"), _num(lines, "length_m")
    out = _range(rated, RATED_KW_WARN, RATED_KW_MAX, f, "line", "rated_kw = {value:g} kW is high for a 0.4 kV cable (> {limit:g} kW)")
    for idx, v in rated[np.isfinite(rated) & (rated > 0) & (rated < RATED_KW_LOW)].items():
        out.append(Problem(f, f"line {idx}", f"rated_kw = {v:g} kW is low for a cable (< {RATED_KW_LOW:g} kW): MW or kA given?"))
    extent = area_extent_m(case)
    if np.isfinite(extent):
        msg = f"length_m = {{value:g}} m is longer than the area ({extent:,.0f} m across its nodes)"
        out += _range(length, extent, 2 * extent + 100.0, f, "line", msg)
    straight = _line_straight_m(case)
    short = np.isfinite(length) & (length > 0) & (length < 0.5 * straight - 5.0)
    for idx in lines.index[short.to_numpy()]:
        msg = f"length_m = {length[idx]:g} m is less than half the straight distance between its nodes ({straight[idx]:,.0f} m): km given?"
        out.append(Problem(f, f"line {idx}", msg))
    return out


def _customer_warnings(case: Case) -> list[Problem]:
    cust, f = case.customers, "customers.csv"
    energy = _num(cust, "annual_kwh")
    commercial = cust["type"] == "commercial"
    msg = "annual_kwh = {value:g} kWh/a is high for one customer (> {limit:,.0f} kWh/a)"
    out = _range(energy[~commercial], ANNUAL_KWH_WARN, ANNUAL_KWH_MAX, f, "customer", msg)
    out += _range(energy[commercial], ANNUAL_KWH_WARN_COMMERCIAL, ANNUAL_KWH_MAX, f, "customer", msg)
    for idx, v in energy[np.isfinite(energy) & (energy > 0) & (energy < ANNUAL_KWH_LOW)].items():
        out.append(Problem(f, f"customer {idx}", f"annual_kwh = {v:g} kWh/a is low (< {ANNUAL_KWH_LOW:g} kWh/a): MWh given?"))
    for col in ("charge_kw", "discharge_kw"):
        out += _range(_num(cust, col), CHARGER_KW_WARN, CHARGER_KW_MAX, f, "customer", f"{col} = {{value:g}} kW is high for a home charger")
    far = "is {value:,.0f} m from its node (more than {limit:,.0f} m)"
    out += _range(_customer_node_m(case), CUSTOMER_NODE_WARN_M, CUSTOMER_NODE_MAX_M, f, "customer", far)
    return out


def _reading_warnings(case: Case) -> list[Problem]:
    """Metered customers whose readings are all zero (when the others are not), few days of readings."""
    r = case.meter_readings
    if not len(r):
        return []
    p = _num(r, "p_kw")
    out = []
    if not (p == 0).all():
        zero = p.groupby(r["customer_id"].to_numpy()).agg(lambda s: bool((s == 0).all()))
        for cid in zero.index[zero.to_numpy(dtype=bool)]:
            out.append(Problem("meter_readings.csv", f"customer {cid}", "every reading is 0 kW: a vacant house or a broken meter?"))
    ts = pd.to_datetime(r["timestamp"], errors="coerce") if not pd.api.types.is_datetime64_any_dtype(r["timestamp"]) else r["timestamp"]
    days = ts.dropna().dt.normalize().nunique() if len(ts.dropna()) else 0
    need = case.params.profiles.min_metered_curves
    if 0 < days < 7:
        msg = (
            f"the readings cover {days} day(s): too few for typical days (types with fewer than "
            f"profiles.min_metered_curves = {need} daily curves use standard profiles) and none are left for out-of-sample"
        )
        out.append(Problem("meter_readings.csv", "timestamp", msg))
    return out


def _range(values: pd.Series, low: float, high: float, file: str, what: str, message: str) -> list[Problem]:
    """A warning for each finite value in (low, high] (past ``high`` it is an error)."""
    bad = values[np.isfinite(values) & (values > low) & (values <= high)]
    return [Problem(file, f"{what} {idx}", message.format(value=v, limit=low)) for idx, v in bad.items()]


def unknown_columns(found: Iterable[str], known: Iterable[str], file: str) -> list[Problem]:
    """A warning for each column of ``found`` that is not ``known``, naming the closest known one."""
    import difflib

    known = list(known)
    out = []
    for col in found:
        if col in known:
            continue
        close = difflib.get_close_matches(col, known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
        out.append(Problem(file, f"column {col!r}", f"unknown column, ignored ({hint})"))
    return out
