"""The whole of MODEL.md §3 composed: clean, split, cluster, assign, build scenarios.

:func:`prepare_days` gives the cleaned real days and their split, :func:`build_profiles`
everything else; :func:`day_profiles` gives real days for out-of-sample evaluation and
:func:`pseudo_profile_error` measures how well pseudo profiles predict held-out days.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from lvbalance.case import CUSTOMER_TYPES, Case
from lvbalance.dims import CONTEXT, CUSTOMER, DAY, STEP
from lvbalance.profiles.calendar import CONTEXT_KIND, context_probabilities, day_context, split_days
from lvbalance.profiles.cleaning import clean_readings
from lvbalance.profiles.patterns import Patterns, build_patterns, daily_curves
from lvbalance.profiles.pseudo import pseudo_profiles
from lvbalance.profiles.scenarios import ScenarioSet, build_scenarios

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MeteredDays:
    """The metered horizon days after cleaning (MODEL.md §3.1-3.2), result of :func:`prepare_days`.

    ``cleaning_report``: index ``customer_id``; what cleaning changed
    (:data:`~lvbalance.profiles.cleaning.REPORT_COLUMNS`).
    ``daily_kw``: cleaned real curves of the metered customers, dims (day, step, customer)
    [kW], NaN where a customer has no kept reading of a day.
    ``context``: day type and weather of each day (index ``date``).
    ``train_days`` / ``heldout_days``: the seeded split (index name ``day``).
    """

    cleaning_report: pd.DataFrame
    daily_kw: xr.DataArray
    context: pd.DataFrame
    train_days: pd.DatetimeIndex
    heldout_days: pd.DatetimeIndex


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


def prepare_days(case: Case) -> MeteredDays:
    """Cleaning report, real daily curves of metered customers, day contexts, train and held-out days."""
    params = case.params.profiles
    cleaned = clean_readings(case)
    have = set(cleaned.readings["customer_id"])
    metered_ids = [c for c in case.customers.index if c in have]
    daily = daily_curves(cleaned.readings, params, metered_ids)
    days = pd.DatetimeIndex(daily[DAY].values, name=DAY)
    context = day_context(case, days)
    split = split_days(days, context["day_type"], holdout_share=params.holdout_share, seed=params.seed)
    return MeteredDays(cleaned.report, daily, context, split.train_days, split.heldout_days)


def build_profiles(case: Case) -> ProfileResult:
    """The whole of MODEL.md §3: clean, split contexts, cluster, assign, build scenarios."""
    days = prepare_days(case)
    probabilities = context_probabilities(case)
    patterns = build_patterns(case, days.daily_kw, days.context, days.train_days, probabilities)
    pseudo = pseudo_profiles(case, patterns, days.daily_kw, days.context, days.train_days)
    scenarios = build_scenarios(case, pseudo.p_kw, probabilities)
    log.info(
        "%d scenario(s), %d pattern(s), %d training and %d held-out day(s)",
        len(scenarios.scenarios),
        len(patterns.probability),
        len(days.train_days),
        len(days.heldout_days),
    )
    return ProfileResult(
        scenarios, patterns, days.cleaning_report, days.train_days, days.heldout_days, days.daily_kw, pseudo.p_kw, pseudo.assignment
    )


def day_profiles(case: Case, result: ProfileResult, days: pd.DatetimeIndex) -> xr.DataArray:
    """Power of every customer on real horizon days, dims (day, step, customer) [kW].

    Metered customers: their cleaned real curve of that day (their own mean curve of the
    day's context where the day was dropped in cleaning); unmetered customers: their pseudo
    profile of the day's context (pv of unknown weather: the probability-weighted mean over
    weathers).
    """
    if result.pseudo_kw is None or result.daily_kw is None:
        raise ValueError("day_profiles needs a ProfileResult with pseudo_kw and daily_kw (from build_profiles)")
    days = pd.DatetimeIndex(days).normalize()
    ctx = day_context(case, days)
    pseudo = result.pseudo_kw
    p_weather = result.scenarios.scenarios.groupby("weather")["probability"].sum()
    is_pv = (case.customers["type"] == "pv").to_numpy()
    out = np.empty((len(days), pseudo.sizes[STEP], len(case.customers)))
    for i, (d, w) in enumerate(zip(ctx["day_type"], ctx["weather"])):
        if isinstance(w, str):
            pv = pseudo.sel({CONTEXT: w}).values
        else:
            pv = sum(p * pseudo.sel({CONTEXT: k}).values for k, p in p_weather.items())
        out[i] = np.where(is_pv[None, :], pv, pseudo.sel({CONTEXT: d}).values)
    daily = result.daily_kw
    have = days.isin(pd.DatetimeIndex(daily[DAY].values))
    if have.any():
        real = daily.sel({DAY: days[have]}).values  # (d, step, metered)
        cols = pd.Index(case.customers.index).get_indexer(daily[CUSTOMER].values)
        block = out[have][:, :, cols]
        out_have = out[have]
        out_have[:, :, cols] = np.where(np.isnan(real), block, real)
        out[have] = out_have
    return xr.DataArray(
        out,
        dims=(DAY, STEP, CUSTOMER),
        coords={DAY: days.rename(DAY), STEP: pseudo[STEP].values, CUSTOMER: pseudo[CUSTOMER].values},
        name="p_kw",
    )


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
    days = prepare_days(case)
    daily, context, train, held = days.daily_kw, days.context, days.train_days, days.heldout_days
    patterns = build_patterns(case, daily, context, train, context_probabilities(case))
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
    blind = pseudo_profiles(case, patterns, daily, context, train, as_unmetered=metered, daily_kwh=pd.Series(energy)).p_kw
    own = pseudo_profiles(case, patterns, daily, context, train).p_kw
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
            err_p.append(np.abs(blind.sel({CONTEXT: c, CUSTOMER: ids}).values - real)[:, ok].mean(axis=0))
            err_o.append(np.abs(own.sel({CONTEXT: c, CUSTOMER: ids}).values - real)[:, ok].mean(axis=0))
            level.append(np.abs(real[:, ok]).mean(axis=0))
        if not err_p:
            continue
        ep, eo, lv = map(np.concatenate, (err_p, err_o, level))
        rows.append(
            {
                "type": typ,
                "customers": len(ids),
                "days": len(ep),
                "mean_kw": lv.mean(),
                "mae_pseudo_kw": ep.mean(),
                "mae_own_mean_kw": eo.mean(),
                "nmae_pseudo": ep.mean() / lv.mean(),
            }
        )
    columns = ["type", "customers", "days", "mean_kw", "mae_pseudo_kw", "mae_own_mean_kw", "nmae_pseudo"]
    return pd.DataFrame(rows, columns=columns).set_index("type")
