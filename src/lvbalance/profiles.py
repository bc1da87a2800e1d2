"""Pseudo load profiles and scenarios from smart-meter data (MODEL.md §3, paper Sec 2.2).

The pipeline, each step a plain function:

1. :func:`clean_readings` — duplicates, impossible values, short gaps, incomplete days;
   every change is counted per customer in a report and logged.
2. :func:`horizon_days` / :func:`day_context` — readings cut into *horizon days* that start
   at ``params.profiles.horizon_start_hour`` and last 24 h (the night is contiguous); a
   horizon day has the day type and weather of the calendar date at its start.
3. :func:`split_days` — a seeded hold-out of metered days for out-of-sample evaluation.
4. :func:`cluster_patterns` — per customer type and context, k-means on daily curves
   normalised by daily energy; the number of patterns by silhouette; each pattern's
   probability is its share of curves.
5. :func:`assign_patterns` — unmetered customers get patterns in counts that follow the
   probabilities (largest remainder, seeded ties), scaled by their billed energy and the
   context's energy ratio. Metered customers keep their own mean curve per context.
6. :func:`build_scenarios` — day type x weather, ``beta_s = P(day type) * P(weather)``.

:func:`build_profiles` composes them; :func:`day_profiles` gives real days for
out-of-sample evaluation; :func:`write_profiles` writes ``scenarios.csv`` and
``profiles.csv`` (DESIGN.md).

Sign convention: consumption positive, pv generation negative [kW]. An ev customer's
profile is its uncontrolled charging power ``X`` [kW].
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import holidays
import numpy as np
import pandas as pd
import xarray as xr
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from lvbalance.case import CUSTOMER_TYPES, DAY_TYPES, WEATHERS, Case
from lvbalance.results import write_csv
from lvbalance.params import ProfileParams

log = logging.getLogger(__name__)

#: Dimension names used everywhere (xarray and the MILP).
SCENARIO, STEP, CUSTOMER, DAY = "scenario", "step", "customer", "day"

#: Which context splits the days of each customer type (MODEL.md §3.2).
CONTEXT_KIND = {"residential": "day_type", "commercial": "day_type", "ev": "day_type", "pv": "weather"}

#: Plausible peak power of one customer of each type [kW]; readings beyond
#: ``ABSURD_FACTOR`` times the plausible peak are impossible. The plausible peak of a
#: customer is the largest of this, its own 99th percentile, and (pv) its size from annual_kwh.
PLAUSIBLE_PEAK_KW = {"residential": 15.0, "commercial": 60.0, "pv": 10.0, "ev": 11.0}
ABSURD_FACTOR = 10.0
#: Largest consumption a pv customer may show (inverter standby) [kW].
PV_STANDBY_KW = 0.1
#: Tolerance on an ev charger's ratings before a reading is clipped to the rating [-].
EV_RATING_TOLERANCE = 1.1
#: Specific yield used to size a pv system from its annual energy [kWh/kWp/a].
PV_YIELD_KWH_PER_KWP = 900.0
#: Daily curves with less energy than this are not clustered (no shape to learn) [kWh].
MIN_DAILY_KWH = 1e-3
#: k-means restarts (fixed, for reproducibility).
N_INIT = 10

REPORT_COLUMNS = (
    "type", "readings", "duplicates", "non_finite", "absurd", "clipped", "sign_flipped",
    "interpolated", "filled_long_gaps", "days_kept", "days_dropped", "edge_days",
)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ScenarioSet:
    """Typical-day scenarios and every customer's power in each (MODEL.md §3.5).

    ``scenarios``: index ``scenario`` (e.g. ``"working-sunny"``); ``probability`` (beta_s [-],
    sums to 1), ``day_type``, ``weather``.
    ``p_kw``: dims (scenario, step, customer) [kW], customers in ``case.customers`` order;
    ev customers: uncontrolled charging ``X``; pv negative.
    """

    scenarios: pd.DataFrame
    p_kw: xr.DataArray
    step_hours: float
    start_hour: int

    def clock_hours(self) -> np.ndarray:
        """Clock hour (0 <= h < 24) at the start of each step [h]."""
        return (self.start_hour + self.step_hours * np.arange(self.p_kw.sizes[STEP])) % 24.0


def scenario_subset(scenarios: ScenarioSet, names: list[str]) -> ScenarioSet:
    """Some scenarios of a set, their probabilities scaled to sum to 1."""
    table = scenarios.scenarios.loc[list(names)].copy()
    table["probability"] = table["probability"] / table["probability"].sum()
    return ScenarioSet(table, scenarios.p_kw.sel({SCENARIO: list(names)}), scenarios.step_hours, scenarios.start_hour)


def mean_scenario(scenarios: ScenarioSet) -> ScenarioSet:
    """The probability-weighted mean of all scenarios as one scenario ``mean``."""
    w = xr.DataArray(scenarios.scenarios["probability"].to_numpy(), dims=SCENARIO, coords={SCENARIO: scenarios.p_kw[SCENARIO].values})
    mean = (scenarios.p_kw * w).sum(SCENARIO).expand_dims({SCENARIO: ["mean"]}).transpose(SCENARIO, STEP, CUSTOMER)
    table = pd.DataFrame({"probability": [1.0], "day_type": ["mean"], "weather": ["mean"]}, index=pd.Index(["mean"], name="scenario"))
    return ScenarioSet(table, mean, scenarios.step_hours, scenarios.start_hour)


@dataclass(frozen=True)
class Patterns:
    """Typical daily patterns per customer type and context (MODEL.md §3.3, Fig 7).

    ``shapes``: index (type, context, pattern); columns step 0..T-1; a daily curve
    normalised by its daily energy [1/h] (``sum(shape) * step_hours == 1``; pv: generation
    shape, positive). Multiply by a daily energy [kWh] to get power [kW].
    ``probability``: same index; share of the context's curves in each pattern [-].
    ``energy_ratio``: index (type, context); mean daily energy in the context divided by the
    calendar-weighted mean over contexts [-] (``sum_c P(c) * ratio_c == 1``).
    ``mean_daily_kwh``: index (type, context); mean daily energy of metered curves [kWh].
    ``source``: index (type, context); ``"metered"`` or ``"standard"`` (no metered data:
    a built-in standard shape).
    """

    shapes: pd.DataFrame
    probability: pd.Series
    energy_ratio: pd.Series
    mean_daily_kwh: pd.Series
    source: pd.Series

    def of(self, customer_type: str, context: str) -> tuple[np.ndarray, np.ndarray]:
        """Shapes (patterns x steps) [1/h] and their probabilities of one type and context."""
        key = (customer_type, context)
        return self.shapes.loc[key].to_numpy(), self.probability.loc[key].to_numpy()

    def table(self) -> pd.DataFrame:
        """One row per pattern: type, context, pattern, probability, source."""
        out = self.probability.rename("probability").reset_index()
        out["source"] = [self.source[(t, c)] for t, c in zip(out["type"], out["context"])]
        return out


@dataclass(frozen=True)
class ProfileResult:
    """Everything :func:`build_profiles` produces.

    ``daily_kw``: cleaned real curves of the metered customers, dims (day, step, customer)
    [kW], NaN where a customer has no kept reading of a day (all kept horizon days,
    training and held out).
    ``pseudo_kw``: every customer's profile per context, dims (context, step, customer)
    [kW], context = day types and weathers (non-pv customers use day types, pv weathers).
    ``assignment``: index (customer_id, context); ``pattern`` assigned to unmetered customers.
    """

    scenarios: ScenarioSet
    patterns: Patterns
    cleaning_report: pd.DataFrame
    train_days: pd.DatetimeIndex
    heldout_days: pd.DatetimeIndex
    daily_kw: xr.DataArray | None = None
    pseudo_kw: xr.DataArray | None = None
    assignment: pd.DataFrame | None = None


# --------------------------------------------------------------------------- horizon days


def steps_per_day(params: ProfileParams) -> int:
    """Steps in one horizon day [-]."""
    return 24 * 60 // params.step_minutes


def horizon_day_of(timestamps: pd.DatetimeIndex | pd.Series, start_hour: int) -> pd.DatetimeIndex:
    """Calendar date at which the horizon day holding each timestamp starts."""
    ts = pd.DatetimeIndex(timestamps)
    return (ts - pd.Timedelta(hours=start_hour)).normalize()


def _grid_position(ts: pd.DatetimeIndex, params: ProfileParams) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """(horizon day, step) of each grid timestamp."""
    day = horizon_day_of(ts, params.horizon_start_hour)
    offset = ts - day - pd.Timedelta(hours=params.horizon_start_hour)
    step = (offset // pd.Timedelta(minutes=params.step_minutes)).to_numpy().astype(int)
    return day, step


# --------------------------------------------------------------------------- 1. cleaning


def _plausible_bounds(row: pd.Series, p: np.ndarray) -> tuple[float, float, float, float]:
    """(lo, hi, absurd_lo, absurd_hi) [kW] for one customer: clip outside [lo, hi], drop outside the absurd range."""
    typ = row["type"]
    finite = p[np.isfinite(p)]
    own = float(np.quantile(np.abs(finite), 0.99)) if finite.size else 0.0
    if typ == "ev":
        pc = float(row["charge_kw"]) if np.isfinite(row["charge_kw"]) else PLAUSIBLE_PEAK_KW["ev"]
        pd_ = float(row["discharge_kw"]) if np.isfinite(row["discharge_kw"]) else 0.0
        absurd = ABSURD_FACTOR * pc
        return -max(pd_, 0.0), pc, -absurd, absurd
    peak = max(PLAUSIBLE_PEAK_KW[typ], own)
    if typ == "pv":
        kwh = row["annual_kwh"]
        if np.isfinite(kwh) and kwh > 0:
            peak = max(kwh / PV_YIELD_KWH_PER_KWP, own)
        absurd = ABSURD_FACTOR * peak
        return -np.inf, PV_STANDBY_KW, -absurd, absurd
    absurd = ABSURD_FACTOR * peak
    return -np.inf, np.inf, -absurd, absurd


def _nan_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True in ``mask``."""
    if not mask.any():
        return []
    d = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def _interpolate_runs(p: np.ndarray, max_steps: int, *, inside_only: bool) -> tuple[np.ndarray, int]:
    """Linear interpolation of NaN runs of at most ``max_steps`` (bounded on both sides if ``inside_only``)."""
    out = p.copy()
    filled = 0
    n = len(p)
    for a, b in _nan_runs(np.isnan(p)):
        if b - a > max_steps:
            continue
        left = out[a - 1] if a > 0 else np.nan
        right = out[b] if b < n else np.nan
        if np.isnan(left) or np.isnan(right):
            if inside_only:
                continue
            value = right if np.isnan(left) else left
            if np.isnan(value):
                continue
            out[a:b] = value
        else:
            out[a:b] = left + (right - left) * (np.arange(1, b - a + 1) / (b - a + 1))
        filled += b - a
    return out, filled


def _clean_one(cid: str, row: pd.Series, r: pd.DataFrame, params: ProfileParams) -> tuple[pd.DataFrame, dict]:
    """Clean the readings of one customer; return its cleaned long table and its report row."""
    step = pd.Timedelta(minutes=params.step_minutes)
    T = steps_per_day(params)
    rep: dict = {"type": row["type"], "readings": len(r)}
    r = r.sort_values("timestamp", kind="stable")
    dup = r.duplicated("timestamp", keep="first")
    rep["duplicates"] = int(dup.sum())
    r = r[~dup]
    p = r["p_kw"].to_numpy(dtype=float)
    bad = ~np.isfinite(p)
    rep["non_finite"] = int(bad.sum())
    p = np.where(bad, np.nan, p)
    flipped = False
    if row["type"] == "pv":
        finite = p[np.isfinite(p)]
        big = finite[np.abs(finite) > PV_STANDBY_KW]
        if big.size and (big > 0).mean() > 0.9:  # generation recorded as positive: a sign error
            p = -p
            flipped = True
    rep["sign_flipped"] = flipped
    lo, hi, alo, ahi = _plausible_bounds(row, p)
    with np.errstate(invalid="ignore"):
        absurd = (p < alo) | (p > ahi)
        p = np.where(absurd, np.nan, p)
        clip = (p < lo * (EV_RATING_TOLERANCE if row["type"] == "ev" else 1.0)) | (
            p > hi * (EV_RATING_TOLERANCE if row["type"] == "ev" else 1.0)
        )
    rep["absurd"] = int(absurd.sum())
    rep["clipped"] = int(clip.sum())
    p = np.where(clip, np.clip(p, lo, hi), p)
    # onto the regular grid (mean of readings within a step), over whole horizon days
    ts = pd.DatetimeIndex(r["timestamp"]).floor(step)
    s = pd.Series(p, index=ts).groupby(level=0).mean()
    s = s[s.notna()]
    if s.empty:
        rep.update(interpolated=0, filled_long_gaps=0, days_kept=0, days_dropped=0, edge_days=0)
        return pd.DataFrame(columns=["customer_id", "timestamp", "p_kw"]), rep
    days = horizon_day_of(s.index, params.horizon_start_hour).unique()
    first = days.min() + pd.Timedelta(hours=params.horizon_start_hour)
    grid = pd.date_range(first, periods=(len(pd.date_range(days.min(), days.max(), freq="D"))) * T, freq=step)
    values = s.reindex(grid).to_numpy()
    values, n_interp = _interpolate_runs(values, params.max_gap_minutes // params.step_minutes, inside_only=True)
    rep["interpolated"] = n_interp
    daily = values.reshape(-1, T)
    missing_share = np.isnan(daily).mean(axis=1)
    keep = missing_share <= params.max_missing_share
    # first / last horizon day cut by the start / end of the record: expected, not a data fault
    first_i, last_i = np.flatnonzero(~np.isnan(values))[[0, -1]]
    edge = np.zeros(len(daily), dtype=bool)
    edge[0] = not keep[0] and first_i > 0 and np.isnan(daily[0][first_i:]).mean() <= params.max_missing_share
    tail = daily[-1][: last_i - (len(daily) - 1) * T + 1]
    edge[-1] |= not keep[-1] and last_i < len(values) - 1 and np.isnan(tail).mean() <= params.max_missing_share
    rep["days_kept"] = int(keep.sum())
    rep["days_dropped"] = int((~keep & ~edge).sum())
    rep["edge_days"] = int(edge.sum())
    n_long = 0
    for i in np.flatnonzero(keep & (missing_share > 0)):
        daily[i], n = _interpolate_runs(daily[i], T, inside_only=False)
        n_long += n
    rep["filled_long_gaps"] = n_long
    day_index = pd.date_range(days.min(), periods=len(daily), freq="D")
    kept_days = day_index[keep]
    out_ts = (kept_days.to_numpy()[:, None] + pd.Timedelta(hours=params.horizon_start_hour).to_timedelta64()
              + np.arange(T)[None, :] * step.to_timedelta64()).ravel()
    out = pd.DataFrame({"customer_id": cid, "timestamp": out_ts, "p_kw": daily[keep].ravel()})
    return out, rep


def clean_readings(case: Case) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean the meter readings of ``case`` (MODEL.md §3.1).

    Per customer: duplicate timestamps dropped (first kept); NaN / infinite values and
    absurd magnitudes (beyond ``ABSURD_FACTOR`` x the plausible peak of the customer type,
    ev: of the charge rating) set missing; pv consumption beyond ``PV_STANDBY_KW`` and ev
    power beyond ``EV_RATING_TOLERANCE`` x its ratings clipped to the rating; pv series
    recorded with positive generation flipped; readings averaged onto the
    ``step_minutes`` grid; gaps of up to ``max_gap_minutes`` interpolated linearly; horizon
    days with more than ``max_missing_share`` missing dropped, longer gaps of kept days
    filled (interpolated, or the nearest value at a day's edge). The first and last horizon
    day, cut by the start and end of the record (readings from midnight, horizon days from
    08:00), are dropped and counted as ``edge_days``, not as faults.

    Returns
    -------
    cleaned : DataFrame
        ``customer_id``, ``timestamp`` (grid, local), ``p_kw`` [kW]: whole horizon days only.
    report : DataFrame
        Index ``customer_id``; counts of each change (REPORT_COLUMNS).
    """
    params = case.params.profiles
    r = case.meter_readings[["customer_id", "timestamp", "p_kw"]].copy()
    ts = pd.to_datetime(r["timestamp"], errors="coerce")
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_localize(None)
    r["timestamp"] = ts
    r["p_kw"] = pd.to_numeric(r["p_kw"], errors="coerce")
    r = r[r["timestamp"].notna() & r["customer_id"].isin(case.customers.index)]
    parts, rows = [], {}
    for cid, g in r.groupby("customer_id", sort=False):
        cleaned, rep = _clean_one(str(cid), case.customers.loc[cid], g, params)
        if len(cleaned):
            parts.append(cleaned)
        rows[cid] = rep
        changes = {k: v for k, v in rep.items() if k not in ("type", "readings", "days_kept", "edge_days") and v}
        if changes:
            log.info("meter data of %s cleaned: %s", cid, ", ".join(f"{k}={v}" for k, v in changes.items()))
    report = pd.DataFrame.from_dict(rows, orient="index", columns=list(REPORT_COLUMNS)).rename_axis("customer_id")
    report = report.astype({c: "int64" for c in REPORT_COLUMNS if c not in ("type", "sign_flipped")})
    cleaned = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["customer_id", "timestamp", "p_kw"])
    total = report.drop(columns=["type", "sign_flipped", "readings", "days_kept", "edge_days"]).sum()
    if total.any():
        log.warning("meter data cleaned: %s", ", ".join(f"{k}={v}" for k, v in total.items() if v))
    return cleaned, report


def daily_curves(cleaned: pd.DataFrame, params: ProfileParams, customers: Sequence[str]) -> xr.DataArray:
    """Cleaned readings as dims (day, step, customer) [kW]; NaN where a customer lacks a day."""
    T = steps_per_day(params)
    if cleaned.empty:
        return xr.DataArray(np.empty((0, T, len(customers))), dims=(DAY, STEP, CUSTOMER),
                            coords={DAY: pd.DatetimeIndex([]), STEP: np.arange(T), CUSTOMER: list(customers)})
    ts = pd.DatetimeIndex(cleaned["timestamp"])
    day, step = _grid_position(ts, params)
    days = day.unique().sort_values()
    cust = pd.Index(list(customers))
    arr = np.full((len(days), T, len(cust)), np.nan)
    arr[days.get_indexer(day), step, cust.get_indexer(cleaned["customer_id"])] = cleaned["p_kw"].to_numpy()
    return xr.DataArray(arr, dims=(DAY, STEP, CUSTOMER), coords={DAY: days.rename(DAY), STEP: np.arange(T), CUSTOMER: cust.to_numpy()}, name="p_kw")


# --------------------------------------------------------------------------- 2. context


def day_context(case: Case, days: Iterable[pd.Timestamp]) -> pd.DataFrame:
    """Day type and weather of each date (index ``date``).

    From ``case.calendar``; a date it lacks is non-working on weekends and on public
    holidays of ``case.metadata['country']`` (default DE, ``holidays`` package), and has
    weather NaN (unknown).
    """
    days = pd.DatetimeIndex(list(days)).normalize()
    cal = case.calendar.copy()
    cal.index = pd.DatetimeIndex(cal.index).normalize()
    out = cal.reindex(days)[["day_type", "weather"]]
    missing = out["day_type"].isna()
    if missing.any():
        years = sorted(set(days[missing].year))
        country = case.metadata.get("country", "DE")
        hol = holidays.country_holidays(country, years=years)
        off = [(d.dayofweek >= 5) or (d.date() in hol) for d in days[missing]]
        out.loc[missing, "day_type"] = np.where(off, "non_working", "working")
        log.info("%d date(s) not in the calendar: day type from weekends and %s holidays", int(missing.sum()), country)
    return out.rename_axis("date")


def context_probabilities(case: Case) -> tuple[pd.Series, pd.Series]:
    """P(day type) and P(weather) from the calendar's labels (MODEL.md §3.5).

    Without a calendar: P(day type) from weekends and holidays over the metered dates,
    P(weather) uniform.
    """
    cal = case.calendar
    if len(cal):
        p_day = cal["day_type"].value_counts(normalize=True).reindex(list(DAY_TYPES), fill_value=0.0)
        w = cal["weather"].dropna()
        p_weather = (w.value_counts(normalize=True).reindex(list(WEATHERS), fill_value=0.0)
                     if len(w) else pd.Series(1.0 / len(WEATHERS), index=list(WEATHERS)))
    else:
        days = horizon_day_of(pd.to_datetime(case.meter_readings["timestamp"]), case.params.profiles.horizon_start_hour).unique()
        p_day = day_context(case, days)["day_type"].value_counts(normalize=True).reindex(list(DAY_TYPES), fill_value=0.0)
        p_weather = pd.Series(1.0 / len(WEATHERS), index=list(WEATHERS))
        log.warning("case has no calendar: P(day type) from weekends/holidays, P(weather) uniform")
    return p_day.rename("probability"), p_weather.rename("probability")


def split_days(days: pd.DatetimeIndex, day_type: pd.Series, *, holdout_share: float, seed: int) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """Seeded split of metered days into training and held-out days.

    Stratified by day type: each day type holds out ``round(holdout_share * n)`` of its
    ``n`` days, keeping at least one for training.
    """
    rng = np.random.default_rng(seed)
    held: list[pd.Timestamp] = []
    for dt in DAY_TYPES:
        pool = days[(day_type.reindex(days) == dt).to_numpy()]
        n = len(pool)
        k = min(int(np.floor(holdout_share * n + 0.5)), max(n - 1, 0))
        if k:
            held += list(pool[np.sort(rng.choice(n, size=k, replace=False))])
    held_idx = pd.DatetimeIndex(sorted(held), name=DAY)
    return days.difference(held_idx).rename(DAY), held_idx


# --------------------------------------------------------------------------- 3. patterns


def _kmeans(X: np.ndarray, params: ProfileParams) -> tuple[np.ndarray, float]:
    """Labels of the k-means clustering of ``X`` chosen by silhouette over min..max clusters
    (bounded by the number of distinct curves), and its silhouette (NaN for one cluster)."""
    distinct = len(np.unique(np.round(X, 9), axis=0))
    hi = min(params.max_clusters, distinct, len(X) - 1)
    lo = max(params.min_clusters, 2)
    if hi < lo:
        return np.zeros(len(X), dtype=int), float("nan")
    best_labels, best_score = np.zeros(len(X), dtype=int), -np.inf
    # small problems: one thread is many times faster than an oversubscribed OpenMP pool
    with threadpool_limits(limits=1):
        for k in range(lo, hi + 1):
            labels = KMeans(n_clusters=k, n_init=N_INIT, random_state=params.seed).fit_predict(X)
            score = float(silhouette_score(X, labels))
            if score > best_score + 1e-12:
                best_labels, best_score = labels, score
    return best_labels, best_score


def cluster_patterns(curves_kw: np.ndarray, params: ProfileParams, *, sign: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Typical patterns of daily curves (MODEL.md §3.3).

    Parameters
    ----------
    curves_kw : (n, T) daily curves [kW].
    sign : +1 for consumption, -1 for generation (pv): shapes are of ``sign * p``.

    Returns
    -------
    shapes : (k, T) pattern curves normalised by daily energy [1/h], by falling probability.
    probability : (k,) share of curves in each pattern [-].
    """
    dt_h = params.step_minutes / 60
    X = sign * np.asarray(curves_kw, dtype=float)
    energy = X.sum(axis=1) * dt_h
    X = X[energy > MIN_DAILY_KWH] / energy[energy > MIN_DAILY_KWH, None]
    if len(X) == 0:
        raise ValueError("no daily curve with energy to cluster")
    labels, _ = _kmeans(X, params)
    k = int(labels.max()) + 1
    counts = np.bincount(labels, minlength=k)
    shapes = np.vstack([X[labels == c].mean(axis=0) for c in range(k)])
    shapes = shapes / (shapes.sum(axis=1, keepdims=True) * dt_h)
    order = np.lexsort((np.arange(k), -counts))
    return shapes[order], counts[order] / counts.sum()


def standard_shape(customer_type: str, context: str, clock_h: np.ndarray, step_hours: float) -> np.ndarray:
    """Built-in shape [1/h] for a type without metered customers (a stand-in, logged).

    residential: night base with morning and evening peaks; commercial: business hours
    (weekends low); ev: plug-in after work, charging into the night; pv: a half-sine
    from 06:00 to 20:00 (generation shape, positive).
    """
    h = clock_h
    if customer_type == "residential":
        shape = 0.4 + 0.5 * np.exp(-((h - 7.5) ** 2) / 2) + 1.0 * np.exp(-((h - 19.5) ** 2) / 4)
        if context == "non_working":
            shape = shape + 0.3 * np.exp(-((h - 12.5) ** 2) / 6)
    elif customer_type == "commercial":
        open_ = ((h >= 8) & (h < 18)).astype(float)
        shape = 0.3 + (1.5 if context == "working" else 0.3) * open_
    elif customer_type == "ev":
        shape = np.where((h >= 18) | (h < 1), 1.0, 0.02)
    elif customer_type == "pv":
        shape = np.where((h > 6) & (h < 20), np.sin(np.pi * (h - 6) / 14), 0.0)
    else:
        raise ValueError(f"unknown customer type {customer_type!r}")
    return shape / (shape.sum() * step_hours)


#: Energy in each context relative to the weighted mean, for types without metered data [-].
STANDARD_ENERGY = {
    ("residential", "working"): 0.95, ("residential", "non_working"): 1.1,
    ("commercial", "working"): 1.2, ("commercial", "non_working"): 0.5,
    ("ev", "working"): 1.0, ("ev", "non_working"): 1.0,
    ("pv", "sunny"): 1.0, ("pv", "cloudy"): 0.55, ("pv", "rainy"): 0.25,
}


def contexts_of(customer_type: str) -> tuple[str, ...]:
    """Day types, or weathers for pv."""
    return WEATHERS if CONTEXT_KIND[customer_type] == "weather" else DAY_TYPES


def build_patterns(
    case: Case, daily_kw: xr.DataArray, context: pd.DataFrame, train_days: pd.DatetimeIndex,
    p_day: pd.Series, p_weather: pd.Series,
) -> Patterns:
    """Patterns, probabilities and energy ratios per type and context from the training days."""
    params = case.params.profiles
    T = steps_per_day(params)
    dt_h = params.step_minutes / 60
    clock = (params.horizon_start_hour + dt_h * np.arange(T)) % 24
    cust_type = case.customers["type"]
    train = daily_kw.sel({DAY: daily_kw[DAY].isin(train_days)})
    shapes, probs, ratio, mean_kwh, source = {}, {}, {}, {}, {}
    for typ in CUSTOMER_TYPES:
        sign = -1.0 if typ == "pv" else 1.0
        members = [c for c in train[CUSTOMER].values if cust_type[c] == typ]
        kind = CONTEXT_KIND[typ]
        p_ctx = p_weather if kind == "weather" else p_day
        ctx_of_day = context.reindex(pd.DatetimeIndex(train[DAY].values))[kind].to_numpy()
        for ctx in contexts_of(typ):
            sub = train.sel({DAY: ctx_of_day == ctx, CUSTOMER: members}).transpose(CUSTOMER, DAY, STEP).values.reshape(-1, T)
            sub = sub[~np.isnan(sub).any(axis=1)]
            energy = sign * sub.sum(axis=1) * dt_h
            if len(sub) and (energy > MIN_DAILY_KWH).any():
                s, p = cluster_patterns(sub, params, sign=sign)
                mean_kwh[(typ, ctx)] = float(energy.mean())
                source[(typ, ctx)] = "metered"
            else:
                s, p = standard_shape(typ, ctx, clock, dt_h)[None, :], np.array([1.0])
                mean_kwh[(typ, ctx)] = np.nan
                source[(typ, ctx)] = "standard"
                if cust_type.eq(typ).any():
                    log.warning("no metered %s curves on %s days: using the standard %s shape", typ, ctx, typ)
            for i in range(len(p)):
                shapes[(typ, ctx, i)] = s[i]
                probs[(typ, ctx, i)] = p[i]
        ctxs = list(contexts_of(typ))
        m = pd.Series([mean_kwh[(typ, c)] for c in ctxs], index=ctxs)
        if m.isna().any():
            m = pd.Series([STANDARD_ENERGY[(typ, c)] for c in ctxs], index=ctxs) if m.isna().all() else m.fillna(m.mean())
        w = p_ctx.reindex(ctxs).fillna(0.0)
        mean = float((w * m).sum()) if w.sum() > 0 else float(m.mean())
        for c in ctxs:
            ratio[(typ, c)] = float(m[c] / mean) if mean > 0 else 1.0
    names = ["type", "context", "pattern"]
    shapes_df = pd.DataFrame.from_dict(shapes, orient="index", columns=pd.RangeIndex(T, name=STEP))
    shapes_df.index = pd.MultiIndex.from_tuples(shapes_df.index, names=names)
    shapes_df = shapes_df.sort_index()
    prob = pd.Series(probs, name="probability")
    prob.index = pd.MultiIndex.from_tuples(prob.index, names=names)
    prob = prob.sort_index()
    two = ["type", "context"]
    mk = lambda d, name: pd.Series(d, name=name).rename_axis(two).sort_index()  # noqa: E731
    return Patterns(shapes_df, prob, mk(ratio, "energy_ratio"), mk(mean_kwh, "mean_daily_kwh"), mk(source, "source"))


# --------------------------------------------------------------------------- 4. assignment


def largest_remainder(probability: Sequence[float], n: int, rng: np.random.Generator) -> np.ndarray:
    """Integer counts summing to ``n`` that follow ``probability`` (largest remainder).

    Ties between equal remainders are broken by ``rng``. 100 loads with 0.5/0.3/0.2 give
    exactly 50/30/20.
    """
    p = np.asarray(probability, dtype=float)
    p = p / p.sum()
    quota = p * n
    counts = np.floor(quota + 1e-9).astype(int)
    rest = n - counts.sum()
    if rest > 0:
        remainder = np.round(quota - counts, 9)
        order = np.lexsort((rng.permutation(len(p)), -remainder))
        counts[order[:rest]] += 1
    return counts


def assign_patterns(customer_ids: Sequence[str], probability: Sequence[float], rng: np.random.Generator) -> pd.Series:
    """Pattern index of each customer, in counts that follow ``probability`` (seeded shuffle)."""
    counts = largest_remainder(probability, len(customer_ids), rng)
    labels = np.repeat(np.arange(len(counts)), counts)
    return pd.Series(labels[rng.permutation(len(labels))], index=pd.Index(list(customer_ids), name="customer_id"), name="pattern", dtype=int)


def cap_power(kw: np.ndarray, cap_kw: np.ndarray | float) -> np.ndarray:
    """Limit each curve (last axis: steps) to ``cap_kw``, moving the excess energy to the
    following steps with headroom (wrapping round the day): a charger at its rating simply
    charges longer. Energy is kept as long as ``cap_kw`` x 24 h allows it [kW]."""
    out = np.array(kw, dtype=float, copy=True)
    flat = out.reshape(-1, out.shape[-1])
    caps = np.broadcast_to(np.asarray(cap_kw, dtype=float), out.shape[:-1]).reshape(-1)
    T = flat.shape[1]
    for row, cap in zip(flat, caps):
        excess = float(np.clip(row - cap, 0, None).sum())
        if excess <= 0:
            continue
        start = int(np.argmax(row > cap))
        np.minimum(row, cap, out=row)
        for t in (np.arange(T) + start) % T:
            add = min(cap - row[t], excess)
            row[t] += add
            excess -= add
            if excess <= 1e-12:
                break
    return flat.reshape(out.shape)


def _rng(seed: int, *keys: str) -> np.random.Generator:
    """A generator per purpose, independent of the order things are computed in."""
    return np.random.default_rng([seed, *(int.from_bytes(k.encode()[:8].ljust(8, b"\0"), "little") for k in keys)])


def daily_energy_kwh(customers: pd.DataFrame) -> pd.Series:
    """Mean daily energy of each customer from its billed annual energy [kWh/day]."""
    return pd.to_numeric(customers["annual_kwh"], errors="coerce") / 365.0


def pseudo_profiles(
    case: Case, patterns: Patterns, daily_kw: xr.DataArray, context: pd.DataFrame, train_days: pd.DatetimeIndex,
    *, as_unmetered: Iterable[str] = (), daily_kwh: pd.Series | None = None,
) -> tuple[xr.DataArray, pd.DataFrame]:
    """Profile of every customer per context, dims (context, step, customer) [kW] (MODEL.md §3.4).

    Unmetered customers (and those in ``as_unmetered``): pattern assigned per (type, context)
    by :func:`assign_patterns`, times daily energy (``daily_kwh`` or annual_kwh / 365) times
    the context's energy ratio; pv negative; ev limited to the charge rating by
    :func:`cap_power` (the excess is charged in the following steps). Metered customers: their own mean curve of the
    context over the training days (if they have none there: their mean daily energy on
    training days times the type's patterns, as if unmetered).
    """
    params = case.params.profiles
    T = steps_per_day(params)
    dt_h = params.step_minutes / 60
    customers = case.customers
    forced = set(as_unmetered)
    ctxs = list(DAY_TYPES) + list(WEATHERS)
    out = np.zeros((len(ctxs), T, len(customers)))
    cidx = pd.Index(customers.index)
    energy = daily_energy_kwh(customers)
    if daily_kwh is not None:
        energy.update(daily_kwh)
    train = daily_kw.sel({DAY: daily_kw[DAY].isin(train_days)})
    train_ctx = context.reindex(pd.DatetimeIndex(train[DAY].values))
    metered = customers["metered"].astype(bool) & customers.index.isin(train[CUSTOMER].values) & ~customers.index.isin(list(forced))
    assigned = []
    for typ in CUSTOMER_TYPES:
        sign = -1.0 if typ == "pv" else 1.0
        kind = CONTEXT_KIND[typ]
        of_type = customers.index[customers["type"] == typ]
        for ctx in contexts_of(typ):
            ci = ctxs.index(ctx)
            shapes, prob = patterns.of(typ, ctx)
            ratio = patterns.energy_ratio[(typ, ctx)]
            pseudo = []
            for cid in of_type:
                if metered[cid]:
                    curves = train.sel({CUSTOMER: cid}).values[(train_ctx[kind] == ctx).to_numpy()]
                    curves = curves[~np.isnan(curves).any(axis=1)]
                    if len(curves):
                        out[ci, :, cidx.get_loc(cid)] = curves.mean(axis=0)
                        continue
                    own = train.sel({CUSTOMER: cid}).values
                    own = own[~np.isnan(own).any(axis=1)]
                    energy.loc[cid] = sign * own.sum(axis=1).mean() * dt_h / ratio if len(own) else energy.get(cid, np.nan)
                    log.info("metered %s has no training day of context %s: pseudo profile", cid, ctx)
                pseudo.append(cid)
            if not pseudo:
                continue
            labels = assign_patterns(pseudo, prob, _rng(params.seed, typ, ctx))
            e = energy.reindex(pseudo).to_numpy(dtype=float)
            if np.isnan(e).any():
                bad = [str(c) for c, x in zip(pseudo, e) if np.isnan(x)]
                raise ValueError(f"customers {bad} have no usable meter days and no annual_kwh: no pseudo profile possible")
            kw = shapes[labels.to_numpy()] * (e * ratio)[:, None]
            if typ == "ev":  # a pattern times the energy may ask more than the charger gives
                kw = cap_power(kw, pd.to_numeric(customers.loc[pseudo, "charge_kw"]).to_numpy(dtype=float))
            out[ci][:, cidx.get_indexer(pseudo)] = sign * kw.T
            assigned.append(pd.DataFrame({"context": ctx, "pattern": labels}))
    da = xr.DataArray(out, dims=("context", STEP, CUSTOMER), coords={"context": ctxs, STEP: np.arange(T), CUSTOMER: cidx.to_numpy()}, name="p_kw")
    table = (pd.concat(assigned).reset_index().set_index(["customer_id", "context"]) if assigned
             else pd.DataFrame(columns=["pattern"], index=pd.MultiIndex.from_tuples([], names=["customer_id", "context"])))
    return da, table


# --------------------------------------------------------------------------- 5. scenarios


def scenario_table(p_day: pd.Series, p_weather: pd.Series) -> pd.DataFrame:
    """Scenarios day type x weather with ``beta_s = P(day type) * P(weather)``, those with beta_s > 0."""
    rows = [(f"{d}-{w}", p_day[d] * p_weather[w], d, w) for d in DAY_TYPES for w in WEATHERS if p_day[d] * p_weather[w] > 0]
    df = pd.DataFrame(rows, columns=[SCENARIO, "probability", "day_type", "weather"]).set_index(SCENARIO)
    df["probability"] /= df["probability"].sum()
    return df


def build_scenarios(case: Case, pseudo_kw: xr.DataArray, p_day: pd.Series, p_weather: pd.Series) -> ScenarioSet:
    """Each scenario's power of every customer: day-type profiles, pv by weather (MODEL.md §3.5)."""
    params = case.params.profiles
    table = scenario_table(p_day, p_weather)
    is_pv = (case.customers["type"] == "pv").to_numpy()
    blocks = []
    for d, w in zip(table["day_type"], table["weather"]):
        blocks.append(np.where(is_pv[None, :], pseudo_kw.sel(context=w).values, pseudo_kw.sel(context=d).values))
    p = xr.DataArray(
        np.stack(blocks) if blocks else np.zeros((0, pseudo_kw.sizes[STEP], len(is_pv))),
        dims=(SCENARIO, STEP, CUSTOMER),
        coords={SCENARIO: table.index.to_numpy(), STEP: pseudo_kw[STEP].values, CUSTOMER: pseudo_kw[CUSTOMER].values},
        name="p_kw",
    )
    return ScenarioSet(table, p, params.step_minutes / 60, params.horizon_start_hour)


# --------------------------------------------------------------------------- the pipeline


def prepare_days(case: Case) -> tuple[pd.DataFrame, xr.DataArray, pd.DataFrame, pd.DatetimeIndex, pd.DatetimeIndex]:
    """Cleaning report, real daily curves of metered customers, day contexts, train and held-out days."""
    params = case.params.profiles
    cleaned, report = clean_readings(case)
    have = set(cleaned["customer_id"])
    metered_ids = [c for c in case.customers.index if c in have]
    daily = daily_curves(cleaned, params, metered_ids)
    days = pd.DatetimeIndex(daily[DAY].values, name=DAY)
    context = day_context(case, days)
    train, held = split_days(days, context["day_type"], holdout_share=params.holdout_share, seed=params.seed)
    return report, daily, context, train, held


def build_profiles(case: Case) -> ProfileResult:
    """The whole of MODEL.md §3: clean, split contexts, cluster, assign, build scenarios."""
    report, daily, context, train, held = prepare_days(case)
    p_day, p_weather = context_probabilities(case)
    patterns = build_patterns(case, daily, context, train, p_day, p_weather)
    pseudo, assignment = pseudo_profiles(case, patterns, daily, context, train)
    scenarios = build_scenarios(case, pseudo, p_day, p_weather)
    log.info("%d scenario(s), %d pattern(s), %d training and %d held-out day(s)",
             len(scenarios.scenarios), len(patterns.probability), len(train), len(held))
    return ProfileResult(scenarios, patterns, report, train, held, daily, pseudo, assignment)


def day_profiles(case: Case, result: ProfileResult, days: pd.DatetimeIndex) -> xr.DataArray:
    """Power of every customer on real horizon days, dims (day, step, customer) [kW].

    Metered customers: their cleaned real curve of that day (their own mean curve of the
    day's context where the day was dropped in cleaning); unmetered customers: their pseudo
    profile of the day's context (pv of unknown weather: the probability-weighted mean over
    weathers).
    """
    assert result.pseudo_kw is not None and result.daily_kw is not None
    days = pd.DatetimeIndex(days).normalize()
    ctx = day_context(case, days)
    pseudo = result.pseudo_kw
    p_weather = result.scenarios.scenarios.groupby("weather")["probability"].sum()
    is_pv = (case.customers["type"] == "pv").to_numpy()
    out = np.empty((len(days), pseudo.sizes[STEP], len(case.customers)))
    for i, (d, w) in enumerate(zip(ctx["day_type"], ctx["weather"])):
        if isinstance(w, str):
            pv = pseudo.sel(context=w).values
        else:
            pv = sum(p * pseudo.sel(context=k).values for k, p in p_weather.items())
        out[i] = np.where(is_pv[None, :], pv, pseudo.sel(context=d).values)
    daily = result.daily_kw
    have = days.isin(pd.DatetimeIndex(daily[DAY].values))
    if have.any():
        real = daily.sel({DAY: days[have]}).values  # (d, step, metered)
        cols = pd.Index(case.customers.index).get_indexer(daily[CUSTOMER].values)
        block = out[have][:, :, cols]
        out_have = out[have]
        out_have[:, :, cols] = np.where(np.isnan(real), block, real)
        out[have] = out_have
    return xr.DataArray(out, dims=(DAY, STEP, CUSTOMER),
                        coords={DAY: days.rename(DAY), STEP: pseudo[STEP].values, CUSTOMER: pseudo[CUSTOMER].values}, name="p_kw")


# --------------------------------------------------------------------------- output


def write_profiles(result: ProfileResult, out_dir: str | os.PathLike) -> None:
    """Write ``scenarios.csv`` (scenario, probability, day_type, weather) and ``profiles.csv``
    (scenario, step, customer_id, p_kw) into ``out_dir`` (DESIGN.md outputs), atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sc = result.scenarios
    write_csv(out / "scenarios.csv", sc.scenarios.reset_index()[[SCENARIO, "probability", "day_type", "weather"]])
    p = sc.p_kw.transpose(SCENARIO, STEP, CUSTOMER)
    S, T, C = p.shape
    long = pd.DataFrame({
        SCENARIO: np.repeat(p[SCENARIO].values, T * C),
        STEP: np.tile(np.repeat(p[STEP].values, C), S),
        "customer_id": np.tile(p[CUSTOMER].values, S * T),
        "p_kw": p.values.ravel(),
    })
    write_csv(out / "profiles.csv", long)


# --------------------------------------------------------------------------- evaluation


def pseudo_profile_error(case: Case) -> pd.DataFrame:
    """How well pseudo profiles predict real days: metered customers treated as unmetered.

    Every metered customer gets a pseudo profile as if it had no meter (patterns of its type
    from the training days, assigned by probability among the metered customers of the type,
    scaled by its own mean daily energy on the training days as its "billed" energy), and it
    is compared with its real cleaned curve on each held-out day. Also shown: the error of
    its own mean curve of the context (what the model uses for metered customers).

    Returns one row per type: ``customers``, ``days`` (customer-days compared),
    ``mean_kw`` (mean |p| on those days), ``mae_pseudo_kw``, ``mae_own_mean_kw``,
    ``nmae_pseudo`` (MAE / mean |p|) [-]. The patterns are built from the same customers'
    training days: out-of-sample in time, not across customers.
    """
    params = case.params.profiles
    dt_h = params.step_minutes / 60
    _, daily, context, train, held = prepare_days(case)
    p_day, p_weather = context_probabilities(case)
    patterns = build_patterns(case, daily, context, train, p_day, p_weather)
    tr = daily.sel({DAY: daily[DAY].isin(train)})
    metered = list(daily[CUSTOMER].values)
    sign = np.where(case.customers["type"].reindex(metered) == "pv", -1.0, 1.0)
    # billed energy of the training period, per calendar-weighted day
    ratio = patterns.energy_ratio
    ctx_tr = context.reindex(pd.DatetimeIndex(tr[DAY].values))
    energy = {}
    for j, cid in enumerate(metered):
        typ = case.customers.at[cid, "type"]
        kind = CONTEXT_KIND[typ]
        v = tr.sel({CUSTOMER: cid}).values
        ok = ~np.isnan(v).any(axis=1)
        # mean energy per training day, corrected for the training days' mix of contexts
        r = np.array([ratio.get((typ, c), 1.0) for c in ctx_tr[kind].to_numpy()[ok]])
        energy[cid] = float((sign[j] * v[ok].sum(axis=1) * dt_h).sum() / r.sum()) if ok.any() else np.nan
    blind, _ = pseudo_profiles(case, patterns, daily, context, train, as_unmetered=metered, daily_kwh=pd.Series(energy))
    own, _ = pseudo_profiles(case, patterns, daily, context, train)
    ctx_h = context.reindex(held)
    rows = []
    for typ in CUSTOMER_TYPES:
        ids = [c for c in metered if case.customers.at[c, "type"] == typ]
        if not ids or not len(held):
            continue
        kind = CONTEXT_KIND[typ]
        err_p, err_o, level = [], [], []
        for d, c in zip(held, ctx_h[kind]):
            if not isinstance(c, str):
                continue
            real = daily.sel({DAY: d, CUSTOMER: ids}).values  # (step, ids)
            ok = ~np.isnan(real).any(axis=0)
            if not ok.any():
                continue
            err_p.append(np.abs(blind.sel(context=c, customer=ids).values - real)[:, ok].mean(axis=0))
            err_o.append(np.abs(own.sel(context=c, customer=ids).values - real)[:, ok].mean(axis=0))
            level.append(np.abs(real[:, ok]).mean(axis=0))
        if not err_p:
            continue
        ep, eo, lv = map(np.concatenate, (err_p, err_o, level))
        rows.append({"type": typ, "customers": len(ids), "days": len(ep), "mean_kw": lv.mean(),
                     "mae_pseudo_kw": ep.mean(), "mae_own_mean_kw": eo.mean(), "nmae_pseudo": ep.mean() / lv.mean()})
    return pd.DataFrame(rows, columns=["type", "customers", "days", "mean_kw", "mae_pseudo_kw", "mae_own_mean_kw", "nmae_pseudo"]).set_index("type")
