"""Pseudo profiles: every customer's power per context (MODEL.md §3.4).

Unmetered customers get patterns in counts that follow the pattern probabilities (largest
remainder, seeded ties; :func:`assign_patterns`), scaled by their billed energy and the
context's energy ratio; an ev's curve is held to its charger rating (:func:`cap_power`).
Metered customers keep their own mean curve per context.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from lvbalance.case import CUSTOMER_TYPES, DAY_TYPES, WEATHERS, Case
from lvbalance.dims import CONTEXT, CUSTOMER, DAY, STEP
from lvbalance.profiles.calendar import CONTEXT_KIND, contexts_of, steps_per_day
from lvbalance.profiles.patterns import Patterns

log = logging.getLogger(__name__)


def largest_remainder(probability: Sequence[float] | np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Integer counts summing to ``n`` that follow ``probability`` (largest remainder; MODEL.md §3.4).

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


def assign_patterns(customer_ids: Sequence[str], probability: Sequence[float] | np.ndarray, rng: np.random.Generator) -> pd.Series:
    """Pattern index of each customer, in counts that follow ``probability`` (seeded shuffle)."""
    counts = largest_remainder(probability, len(customer_ids), rng)
    labels = np.repeat(np.arange(len(counts)), counts)
    index = pd.Index(list(customer_ids), name="customer_id")
    return pd.Series(labels[rng.permutation(len(labels))], index=index, name="pattern", dtype=int)


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


@dataclass(frozen=True)
class PseudoProfiles:
    """Result of :func:`pseudo_profiles`.

    ``p_kw``: every customer's profile per context, dims (context, step, customer) [kW],
    context = day types and weathers (non-pv customers use day types, pv weathers; the
    other contexts are zero); pv negative.
    ``assignment``: index (customer_id, context); ``pattern`` assigned to each customer
    that got a pseudo profile.
    """

    p_kw: xr.DataArray
    assignment: pd.DataFrame


def pseudo_profiles(
    case: Case,
    patterns: Patterns,
    daily_kw: xr.DataArray,
    context: pd.DataFrame,
    train_days: pd.DatetimeIndex,
    *,
    as_unmetered: Iterable[str] = (),
    daily_kwh: pd.Series | None = None,
) -> PseudoProfiles:
    """Profile of every customer per context, dims (context, step, customer) [kW] (MODEL.md §3.4).

    Unmetered customers (and those in ``as_unmetered``): pattern assigned per (type, context)
    by :func:`assign_patterns`, times daily energy (``daily_kwh`` [kWh/day] or
    annual_kwh / 365) times the context's energy ratio; pv negative; ev limited to the
    charge rating by :func:`cap_power` (the excess is charged in the following steps).
    Metered customers: their own mean curve of the context over the training days (if they
    have none there: their mean daily energy on training days times the type's patterns,
    as if unmetered).
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
        if not len(of_type):
            continue
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
            assigned.append(pd.DataFrame({CONTEXT: ctx, "pattern": labels}))
    da = xr.DataArray(
        out, dims=(CONTEXT, STEP, CUSTOMER), coords={CONTEXT: ctxs, STEP: np.arange(T), CUSTOMER: cidx.to_numpy()}, name="p_kw"
    )
    table = (
        pd.concat(assigned).reset_index().set_index(["customer_id", CONTEXT])
        if assigned
        else pd.DataFrame(columns=["pattern"], index=pd.MultiIndex.from_tuples([], names=["customer_id", CONTEXT]))
    )
    return PseudoProfiles(da, table)
