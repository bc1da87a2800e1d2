"""How jagged the outputs are: total variation of EV schedules and feeder load rates (issue 11, item 3).

Computed from the outputs alone (the ``schedules.csv`` and ``feeder_loads.csv`` tables of
DESIGN.md and the as-built load rates), independently of the model's smoothing stage
(:mod:`lvbalance.model.smooth`), so they measure what an operator would dispatch:

* the total variation of a series is ``TV = sum_t |p[t] - p[t-1]|`` over the day's steps
  (no wrap-around);
* an *EV-day* is one EV customer in one scenario; its ratio is
  ``TV(p_scheduled_kw) / TV(p_uncontrolled_kw)``, and EV-days whose uncontrolled charging
  is flat (``TV = 0``: the EV does not charge that day) have no ratio and are left out of
  the median;
* a *pulse* is a single step of at least :data:`PULSE_KW` in magnitude between two steps of
  (near) zero power, ``0 -> >= 3 kW -> 0``: a set-point no operator would send;
* the feeder load rates' variation is the expected total variation, summed over feeders,
  ``sum_f sum_s beta_s sum_t |sigma[f,s,t] - sigma[f,s,t-1]|`` [-] (load rates as shares),
  after the plan against the network as built with uncontrolled charging.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Smallest power of a pulse [kW] (its magnitude: a discharge pulse counts too).
PULSE_KW = 3.0

#: Power at or below which a step counts as "off" [kW].
ZERO_KW = 0.01


@dataclass(frozen=True)
class ScheduleVariation:
    """Total variation of the EV schedules against uncontrolled charging, over EV-days."""

    ev_days: int
    """EV-days (EV customer x scenario) in the schedules"""
    ev_days_with_ratio: int
    """EV-days whose uncontrolled charging varies (TV > 0): those of the median"""
    tv_ratio_median: float
    """median over EV-days of TV(scheduled) / TV(uncontrolled) [-] (NaN without EV-days)"""
    pulse_before_pct: float
    """EV-days with a pulse in uncontrolled charging [% of EV-days]"""
    pulse_after_pct: float
    """EV-days with a pulse in the schedule [% of EV-days]"""


def total_variation(x: np.ndarray) -> np.ndarray:
    """``sum_t |x[..., t] - x[..., t-1]|`` along the last axis (steps), in the unit of ``x``."""
    a = np.asarray(x, dtype=float)
    return np.abs(np.diff(a, axis=-1)).sum(axis=-1)


def has_pulse(p_kw: np.ndarray, *, pulse_kw: float = PULSE_KW, zero_kw: float = ZERO_KW) -> np.ndarray:
    """Whether each series (last axis: steps) has a step ``|p| >= pulse_kw`` between two steps ``|p| <= zero_kw``."""
    a = np.abs(np.asarray(p_kw, dtype=float))
    if a.shape[-1] < 3:
        return np.zeros(a.shape[:-1], dtype=bool)
    off = a <= zero_kw
    return (off[..., :-2] & (a[..., 1:-1] >= pulse_kw) & off[..., 2:]).any(axis=-1)


def ev_day_cubes(schedules: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``(uncontrolled, scheduled)`` power as (EV-day, step) arrays [kW] from a ``schedules.csv`` table."""
    if schedules.empty:
        return np.zeros((0, 0)), np.zeros((0, 0))
    key = ["customer_id", "scenario"]
    unc = schedules.pivot_table(index=key, columns="step", values="p_uncontrolled_kw", sort=True)
    sch = schedules.pivot_table(index=key, columns="step", values="p_scheduled_kw", sort=True)
    return unc.to_numpy(float), sch.reindex(index=unc.index, columns=unc.columns).to_numpy(float)


def schedule_variation(schedules: pd.DataFrame) -> ScheduleVariation:
    """Total variation and pulses of the EV schedules (module docstring), from ``schedules.csv``.

    Parameters
    ----------
    schedules
        ``scenario, step, customer_id, p_uncontrolled_kw, p_scheduled_kw`` [kW], one row per
        EV customer, scenario and step.

    Returns
    -------
    ScheduleVariation
        Median ratio over EV-days [-] and shares of EV-days with a pulse [%]; NaN without EVs.
    """
    unc, sch = ev_day_cubes(schedules)
    n = unc.shape[0]
    if n == 0:
        return ScheduleVariation(0, 0, float("nan"), float("nan"), float("nan"))
    tv0, tv1 = total_variation(unc), total_variation(sch)
    varies = tv0 > 1e-9
    ratio = float(np.median(tv1[varies] / tv0[varies])) if varies.any() else float("nan")
    return ScheduleVariation(
        ev_days=n,
        ev_days_with_ratio=int(varies.sum()),
        tv_ratio_median=ratio,
        pulse_before_pct=100.0 * float(has_pulse(unc).mean()),
        pulse_after_pct=100.0 * float(has_pulse(sch).mean()),
    )


def expected_load_rate_variation(load_rate: np.ndarray, probability: np.ndarray) -> float:
    """``sum_f sum_s beta_s TV(sigma[f, s, :])`` [-] of (feeder, scenario, step) load rates [-]."""
    tv = total_variation(load_rate)  # (feeder, scenario)
    return float((tv * np.asarray(probability, dtype=float)[None, :]).sum())


def load_rate_cube(feeder_loads: pd.DataFrame, scenarios: list[str], feeders: list[str]) -> np.ndarray:
    """(feeder, scenario, step) load rates [-] from a ``feeder_loads.csv`` table, in the given orders."""
    cube = feeder_loads.pivot_table(index=["feeder", "scenario"], columns="step", values="load_rate")
    idx = pd.MultiIndex.from_product([feeders, scenarios], names=["feeder", "scenario"])
    return cube.reindex(idx).to_numpy(float).reshape(len(feeders), len(scenarios), -1)
