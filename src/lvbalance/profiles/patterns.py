"""Typical daily patterns per customer type and context (MODEL.md §3.3, the paper's Fig 7).

Cleaned readings become daily curves (:func:`daily_curves`); per customer type and
context, the curves normalised by their daily energy are clustered by k-means, the number
of patterns chosen by silhouette (:func:`cluster_patterns`); each pattern's probability is
its share of curves. A type with fewer than ``params.profiles.min_metered_curves`` usable
metered curves gets its patterns from standard load profiles instead
(:mod:`~lvbalance.profiles.standard`: BDEW H0 / G0, pvlib clear-sky, SimBench EV and heat-pump
shapes), as does a context without metered curves of a clustered type.
:func:`build_patterns` does this for every type present in the case and each of its contexts.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from lvbalance.case import CUSTOMER_TYPES, Case
from lvbalance.dims import CONTEXT, CUSTOMER, DAY, STEP
from lvbalance.params import ProfileParams
from lvbalance.profiles.calendar import (
    CONTEXT_KIND,
    ContextProbabilities,
    contexts_of,
    grid_position,
    horizon_calendar,
    steps_per_day,
)
from lvbalance.profiles.standard import STANDARD_SOURCES, StandardProfile, standard_profile

log = logging.getLogger(__name__)


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
    ``source``: index (type, context); ``"metered"`` (clustered) or ``"standard"`` (a
    standard load profile, :mod:`~lvbalance.profiles.standard`).
    ``basis``: index type; how the type's patterns were made, as logged (e.g.
    ``"0 metered curves, BDEW H0"``).
    """

    shapes: pd.DataFrame
    probability: pd.Series
    energy_ratio: pd.Series
    mean_daily_kwh: pd.Series
    source: pd.Series
    basis: pd.Series = dataclasses.field(default_factory=lambda: pd.Series(dtype=object, name="basis"))

    def of(self, customer_type: str, context: str) -> tuple[np.ndarray, np.ndarray]:
        """Shapes (patterns x steps) [1/h] and their probabilities [-] of one type and context."""
        key = (customer_type, context)
        return self.shapes.loc[key].to_numpy(), self.probability.loc[key].to_numpy()

    def table(self) -> pd.DataFrame:
        """One row per pattern: type, context, pattern, probability, source."""
        out = self.probability.rename("probability").reset_index()
        out["source"] = [self.source[(t, c)] for t, c in zip(out["type"], out[CONTEXT])]
        return out


def daily_curves(cleaned: pd.DataFrame, params: ProfileParams, customers: Sequence[str]) -> xr.DataArray:
    """Cleaned readings as dims (day, step, customer) [kW]; NaN where a customer lacks a day.

    Parameters
    ----------
    cleaned
        ``customer_id``, ``timestamp`` (on the grid), ``p_kw`` [kW] (:func:`~lvbalance.profiles.cleaning.clean_readings`).
    params
        Step length and horizon start.
    customers
        Customer ids, in the order of the ``customer`` dimension.
    """
    T = steps_per_day(params)
    if cleaned.empty:
        return xr.DataArray(
            np.empty((0, T, len(customers))),
            dims=(DAY, STEP, CUSTOMER),
            coords={DAY: pd.DatetimeIndex([]), STEP: np.arange(T), CUSTOMER: list(customers)},
        )
    ts = pd.DatetimeIndex(cleaned["timestamp"])
    day, step = grid_position(ts, params)
    days = day.unique().sort_values()
    cust = pd.Index(list(customers))
    arr = np.full((len(days), T, len(cust)), np.nan)
    arr[days.get_indexer(day), step, cust.get_indexer(cleaned["customer_id"])] = cleaned["p_kw"].to_numpy()
    return xr.DataArray(
        arr, dims=(DAY, STEP, CUSTOMER), coords={DAY: days.rename(DAY), STEP: np.arange(T), CUSTOMER: cust.to_numpy()}, name="p_kw"
    )


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
            labels = KMeans(n_clusters=k, n_init=params.kmeans_restarts, random_state=params.seed).fit_predict(X)
            score = float(silhouette_score(X, labels))
            if score > best_score + 1e-12:
                best_labels, best_score = labels, score
    return best_labels, best_score


def cluster_patterns(curves_kw: np.ndarray, params: ProfileParams, *, sign: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Typical patterns of daily curves (MODEL.md §3.3).

    Curves with less than ``params.min_daily_kwh`` are left out; the number of patterns is
    the silhouette's best over ``min_clusters .. max_clusters``.

    Parameters
    ----------
    curves_kw : (n, T) daily curves [kW].
    params : step length, cluster bounds, k-means restarts and seed.
    sign : +1 for consumption, -1 for generation (pv): shapes are of ``sign * p``.

    Returns
    -------
    shapes : (k, T) pattern curves normalised by daily energy [1/h], by falling probability.
    probability : (k,) share of curves in each pattern [-].
    """
    dt_h = params.step_minutes / 60
    X = sign * np.asarray(curves_kw, dtype=float)
    energy = X.sum(axis=1) * dt_h
    X = X[energy > params.min_daily_kwh] / energy[energy > params.min_daily_kwh, None]
    if len(X) == 0:
        raise ValueError("no daily curve with energy to cluster")
    labels, _ = _kmeans(X, params)
    k = int(labels.max()) + 1
    counts = np.bincount(labels, minlength=k)
    shapes = np.vstack([X[labels == c].mean(axis=0) for c in range(k)])
    shapes = shapes / (shapes.sum(axis=1, keepdims=True) * dt_h)
    order = np.lexsort((np.arange(k), -counts))
    return shapes[order], counts[order] / counts.sum()


def _usable_curves(train: xr.DataArray, members: list[str], sign: float, params: ProfileParams) -> np.ndarray:
    """Training curves of ``members`` without a gap, shape (n, T) [kW] (all contexts)."""
    T = steps_per_day(params)
    sub = train.sel({CUSTOMER: members}).transpose(CUSTOMER, DAY, STEP).values.reshape(-1, T)
    sub = sub[~np.isnan(sub).any(axis=1)]
    return sub[sign * sub.sum(axis=1) * params.step_minutes / 60 > params.min_daily_kwh]


class _LazyStandard:
    """A type's standard profile, computed on first use (it takes a second or two)."""

    def __init__(self, case: Case, customer_type: str, calendar: pd.DataFrame | None) -> None:
        self._args = (case, customer_type, calendar)
        self._profile: StandardProfile | None = None

    def get(self) -> StandardProfile:
        if self._profile is None:
            case, typ, calendar = self._args
            self._profile = standard_profile(case, typ, horizon_calendar(case) if calendar is None else calendar)
        return self._profile


def _basis(n_customers: int, n_curves: int, params: ProfileParams, source: str) -> tuple[str, bool]:
    """How a type's patterns are made, as logged, and whether from standard profiles."""
    if n_curves >= max(params.min_metered_curves, 1):
        return f"{n_customers} metered customer(s) ({n_curves} curves): clustering", False
    if n_customers == 0:
        return f"0 metered curves, {source}", True
    return (f"{n_customers} metered customer(s) ({n_curves} curves) < min_metered_curves ({params.min_metered_curves}): {source}"), True


def build_patterns(
    case: Case,
    daily_kw: xr.DataArray,
    context: pd.DataFrame,
    train_days: pd.DatetimeIndex,
    probabilities: ContextProbabilities,
    *,
    calendar: pd.DataFrame | None = None,
) -> Patterns:
    """Patterns, probabilities and energy ratios per type and context from the training days (MODEL.md §3.3).

    A type present in the case with at least ``params.profiles.min_metered_curves`` usable
    metered curves is clustered per context (a context without metered curves takes the
    type's standard profile); a type with fewer takes its standard profile in every context
    (:func:`~lvbalance.profiles.standard.standard_profile`), logged at INFO per type.

    Parameters
    ----------
    case
        Customers (their type) and ``params.profiles``.
    daily_kw
        Real daily curves of the metered customers, dims (day, step, customer) [kW].
    context
        Day type and weather of each day (:func:`~lvbalance.profiles.calendar.day_context`).
    train_days
        The days to learn from.
    probabilities
        P(context), weighting the energy ratios.
    calendar
        The horizon's days for standard profiles; default
        :func:`~lvbalance.profiles.calendar.horizon_calendar`.
    """
    params = case.params.profiles
    T = steps_per_day(params)
    dt_h = params.step_minutes / 60
    cust_type = case.customers["type"]
    train = daily_kw.sel({DAY: daily_kw[DAY].isin(train_days)})
    shapes, probs, ratio, mean_kwh, source, basis = {}, {}, {}, {}, {}, {}
    for typ in [t for t in CUSTOMER_TYPES if cust_type.eq(t).any()]:
        sign = -1.0 if typ == "pv" else 1.0
        members = [c for c in train[CUSTOMER].values if cust_type[c] == typ]
        kind = CONTEXT_KIND[typ]
        p_ctx = probabilities.of_kind(kind)
        ctx_of_day = context.reindex(pd.DatetimeIndex(train[DAY].values))[kind].to_numpy()
        n_curves = len(_usable_curves(train, members, sign, params))
        standard = _LazyStandard(case, typ, calendar)
        basis[typ], use_standard = _basis(len(members), n_curves, params, STANDARD_SOURCES.get(typ, "standard profile"))
        log.info("%s: %s", typ, basis[typ])
        for ctx in contexts_of(typ):
            sub = train.sel({DAY: ctx_of_day == ctx, CUSTOMER: members}).transpose(CUSTOMER, DAY, STEP).values.reshape(-1, T)
            sub = sub[~np.isnan(sub).any(axis=1)]
            energy = sign * sub.sum(axis=1) * dt_h
            if not use_standard and len(sub) and (energy > params.min_daily_kwh).any():
                s, p = cluster_patterns(sub, params, sign=sign)
                mean_kwh[(typ, ctx)] = float(energy.mean())
                source[(typ, ctx)] = "metered"
            else:
                s, p = standard.get().shapes[ctx][None, :], np.array([1.0])
                mean_kwh[(typ, ctx)] = np.nan
                source[(typ, ctx)] = "standard"
                if not use_standard:
                    log.warning("no metered %s curves on %s days: using the %s standard profile", typ, ctx, standard.get().source)
            for i in range(len(p)):
                shapes[(typ, ctx, i)] = s[i]
                probs[(typ, ctx, i)] = p[i]
        ctxs = list(contexts_of(typ))
        m = pd.Series([mean_kwh[(typ, c)] for c in ctxs], index=ctxs)
        if m.isna().all():
            m = standard.get().daily_energy.reindex(ctxs)
        m = m.fillna(m.mean())
        w = p_ctx.reindex(ctxs).fillna(0.0)
        mean = float((w * m).sum()) if w.sum() > 0 else float(m.mean())
        for c in ctxs:
            ratio[(typ, c)] = float(m[c] / mean) if mean > 0 else 1.0
    names = ["type", CONTEXT, "pattern"]
    shapes_df = pd.DataFrame.from_dict(shapes, orient="index", columns=pd.RangeIndex(T, name=STEP))
    shapes_df.index = pd.MultiIndex.from_tuples(shapes_df.index, names=names)
    shapes_df = shapes_df.sort_index()
    prob = pd.Series(probs, name="probability")
    prob.index = pd.MultiIndex.from_tuples(prob.index, names=names)
    prob = prob.sort_index()
    two = ["type", CONTEXT]
    mk = lambda d, name: pd.Series(d, name=name).rename_axis(two).sort_index()  # noqa: E731
    return Patterns(
        shapes_df,
        prob,
        mk(ratio, "energy_ratio"),
        mk(mean_kwh, "mean_daily_kwh"),
        mk(source, "source"),
        pd.Series(basis, name="basis", dtype=object).rename_axis("type"),
    )
