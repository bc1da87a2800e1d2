"""Cleaning of metered data, and the report of what was changed (MODEL.md §3.1).

Per customer: duplicates, impossible values, sign errors, short gaps and incomplete
horizon days; every change is counted per customer in a report and logged. The limits
are ``params.profiles.cleaning`` (:class:`~lvbalance.params.CleaningParams`) and the gap
and missing-data options of ``params.profiles``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lvbalance.case import Case
from lvbalance.params import ProfileParams
from lvbalance.profiles.calendar import horizon_day_of, steps_per_day

log = logging.getLogger(__name__)

#: Columns of the cleaning report: counts per customer (``sign_flipped``: bool).
REPORT_COLUMNS = (
    "type",
    "readings",
    "duplicates",
    "non_finite",
    "absurd",
    "clipped",
    "sign_flipped",
    "interpolated",
    "filled_long_gaps",
    "days_kept",
    "days_dropped",
    "edge_days",
)

_READING_COLUMNS = ["customer_id", "timestamp", "p_kw"]


@dataclass(frozen=True)
class CleanedReadings:
    """Result of :func:`clean_readings`.

    ``readings``: ``customer_id``, ``timestamp`` (grid, local), ``p_kw`` [kW]; whole
    horizon days only.
    ``report``: index ``customer_id``; counts of each change (:data:`REPORT_COLUMNS`).
    """

    readings: pd.DataFrame
    report: pd.DataFrame


def _plausible_bounds(row: pd.Series, p: np.ndarray, params: ProfileParams) -> tuple[float, float, float, float]:
    """(lo, hi, absurd_lo, absurd_hi) [kW] for one customer: clip outside [lo, hi], drop outside the absurd range."""
    limits = params.cleaning
    typ = row["type"]
    finite = p[np.isfinite(p)]
    own = float(np.quantile(np.abs(finite), 0.99)) if finite.size else 0.0
    if typ == "ev":
        pc = float(row["charge_kw"]) if np.isfinite(row["charge_kw"]) else limits.plausible_peak_kw["ev"]
        pd_ = float(row["discharge_kw"]) if np.isfinite(row["discharge_kw"]) else 0.0
        absurd = limits.absurd_factor * pc
        return -max(pd_, 0.0), pc, -absurd, absurd
    peak = max(limits.plausible_peak_kw[typ], own)
    if typ == "pv":
        kwh = row["annual_kwh"]
        if np.isfinite(kwh) and kwh > 0:
            peak = max(kwh / params.pv_yield_kwh_per_kwp, own)
        absurd = limits.absurd_factor * peak
        return -np.inf, limits.pv_standby_kw, -absurd, absurd
    absurd = limits.absurd_factor * peak
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
    limits = params.cleaning
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
        big = finite[np.abs(finite) > limits.pv_standby_kw]
        if big.size and (big > 0).mean() > 0.9:  # generation recorded as positive: a sign error
            p = -p
            flipped = True
    rep["sign_flipped"] = flipped
    lo, hi, alo, ahi = _plausible_bounds(row, p, params)
    tolerance = limits.ev_rating_tolerance if row["type"] == "ev" else 1.0
    with np.errstate(invalid="ignore"):
        absurd = (p < alo) | (p > ahi)
        p = np.where(absurd, np.nan, p)
        clip = (p < lo * tolerance) | (p > hi * tolerance)
    rep["absurd"] = int(absurd.sum())
    rep["clipped"] = int(clip.sum())
    p = np.where(clip, np.clip(p, lo, hi), p)
    # onto the regular grid (mean of readings within a step), over whole horizon days
    # steps counted from the horizon's start hour (a 3 h step from 08:00 is 08:00-11:00, ...)
    origin = pd.Timedelta(hours=params.horizon_start_hour) % step
    ts = (pd.DatetimeIndex(r["timestamp"]) - origin).floor(step) + origin
    s = pd.Series(p, index=ts).groupby(level=0).mean()
    s = s[s.notna()]
    if s.empty:
        rep.update(interpolated=0, filled_long_gaps=0, days_kept=0, days_dropped=0, edge_days=0)
        return pd.DataFrame(columns=_READING_COLUMNS), rep
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
    out_ts = (
        kept_days.to_numpy()[:, None]
        + pd.Timedelta(hours=params.horizon_start_hour).to_timedelta64()
        + np.arange(T)[None, :] * step.to_timedelta64()
    ).ravel()
    out = pd.DataFrame({"customer_id": cid, "timestamp": out_ts, "p_kw": daily[keep].ravel()})
    return out, rep


def clean_readings(case: Case) -> CleanedReadings:
    """Clean the meter readings of ``case`` (MODEL.md §3.1).

    Per customer: duplicate timestamps dropped (first kept); NaN / infinite values and
    absurd magnitudes (beyond ``cleaning.absurd_factor`` x the plausible peak of the
    customer, ev: of its charge rating) set missing; pv consumption beyond
    ``cleaning.pv_standby_kw`` and ev power beyond ``cleaning.ev_rating_tolerance`` x its
    ratings clipped to the rating; pv series recorded with positive generation flipped;
    readings averaged onto the ``step_minutes`` grid; gaps of up to ``max_gap_minutes``
    interpolated linearly; horizon days with more than ``max_missing_share`` missing
    dropped, longer gaps of kept days filled (interpolated, or the nearest value at a day's
    edge). The first and last horizon day, cut by the start and end of the record
    (readings from midnight, horizon days from 08:00), are dropped and counted as
    ``edge_days``, not as faults.

    Returns
    -------
    CleanedReadings
        The cleaned readings on the grid [kW] and the report of changes per customer.
    """
    params = case.params.profiles
    r = case.meter_readings[_READING_COLUMNS].copy()
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
    cleaned = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=_READING_COLUMNS)
    total = report.drop(columns=["type", "sign_flipped", "readings", "days_kept", "edge_days"]).sum()
    if total.any():
        log.warning("meter data cleaned: %s", ", ".join(f"{k}={v}" for k, v in total.items() if v))
    return CleanedReadings(cleaned, report)
