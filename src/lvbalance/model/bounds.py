"""Numbers derived from the data before any variable exists (MODEL.md §5).

The V2G share each EV offers (Eq 23-24), the bounds of the V2G group power ``v``
(Eq 22-24), the power that no decision changes, a bound on every line's flow over every
plan and schedule (which decides which lines need the rules of Eq 20), and the groups of
moved EVs. Plain xarray arithmetic: no linopy here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pandas as pd
import xarray as xr

from lvbalance.dims import CUSTOMER, EV, LINE, OPTION, SCENARIO, STEP
from lvbalance.model.data import ModelData
from lvbalance.model.methods import Method

PAIR = "pair"
"""Dimension of the moved-EV copies: (EV, destination group)."""
LC = "load_combination"
"""Dimension of the load combinations ``LC(h, q)`` of the move options."""


@dataclass(frozen=True)
class Constants:
    """Numbers derived from the data for one method (no variables)."""

    alpha: xr.DataArray
    """(scenario, step, ev) V2G share actually available [-]"""
    fixed_kw: xr.DataArray
    """(scenario, step, customer) power that no decision changes: loads, (1 - alpha) X [kW]"""
    v_lower: xr.DataArray
    """(scenario, step, ev) lower bound of v [kW]"""
    v_upper: xr.DataArray
    """(scenario, step, ev) upper bound of v [kW]"""
    flow_bound_kw: xr.DataArray
    """(line, scenario, step) bound on |P| over every plan and schedule [kW]"""
    hard_lines: list[str]
    """lines whose rating could be exceeded"""
    heavy_lines: list[str]
    """lines that could reach mu * rating"""
    pair_ev: pd.Series = field(default_factory=lambda: pd.Series(dtype=str))
    """pair -> ev"""
    pair_options: xr.DataArray | None = None
    """(pair, option) membership"""
    pair_effect: xr.DataArray | None = None
    """(pair, line) effect on the constrained lines"""


def derive_constants(data: ModelData, method: Method, options: pd.DataFrame) -> Constants:
    """Fixed power, bounds of ``v`` and of every line flow; which lines need constraints."""
    alpha = v2g_share(data, method)
    v_lower, v_upper = v2g_power_bounds(data, alpha)
    fixed = fixed_power_kw(data, alpha)
    bound = line_flow_bound_kw(data, fixed, v_lower, v_upper, options)
    hard, heavy = lines_needing_rules(data, bound)
    return Constants(alpha, fixed, v_lower, v_upper, bound, hard, heavy)


def v2g_share(data: ModelData, method: Method) -> xr.DataArray:
    """``alpha[s,t]`` broadcast over the EVs (Eq 23-24): the share that joins V2G [-]; 0 without V2G."""
    X = data.ev_uncontrolled_kw
    return (data.alpha if method.v2g else 0.0 * data.alpha) * xr.ones_like(X)


def v2g_power_bounds(data: ModelData, alpha: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    """Eq 22-24: bounds of the V2G group power ``v`` [kW] with ``x = (1 - alpha) X + v``.

    ``max(-delta2 alpha Pd, -Pd - (1 - alpha) X) <= v <= min(delta1 alpha Pc, Pc - (1 - alpha) X)``:
    the V2G share limits (Eq 23-24) and the charger limits on ``x`` (Eq 22).
    """
    op = data.case.params.operation
    X, Pc, Pd = data.ev_uncontrolled_kw, data.charge_kw, data.discharge_kw
    v_lower = cast(xr.DataArray, np.maximum(-op.v2g_discharge_share * alpha * Pd, -Pd - (1 - alpha) * X))
    v_upper = cast(xr.DataArray, np.minimum(op.v2g_charge_share * alpha * Pc, Pc - (1 - alpha) * X))
    return v_lower, cast(xr.DataArray, np.maximum(v_upper, v_lower))


def fixed_power_kw(data: ModelData, alpha: xr.DataArray) -> xr.DataArray:
    """(scenario, step, customer) power no decision changes [kW]: loads, and ``(1 - alpha) X`` of each EV."""
    ev_fixed = ((1 - alpha) * data.ev_uncontrolled_kw).rename({EV: CUSTOMER})
    fixed = data.load_kw + ev_fixed.reindex({CUSTOMER: data.load_kw[CUSTOMER].values}, fill_value=0.0)
    return fixed.transpose(SCENARIO, STEP, CUSTOMER)


def line_flow_bound_kw(
    data: ModelData,
    fixed_kw: xr.DataArray,
    v_lower: xr.DataArray,
    v_upper: xr.DataArray,
    options: pd.DataFrame,
) -> xr.DataArray:
    """(line, scenario, step) bound on ``|P|`` over every plan and schedule [kW].

    Everything below the line at its largest, plus, for each end node, the largest of its
    load combinations that a move could bring onto the line, at that scenario and step
    (an end node moves one load combination at most). Step by step rather than the
    horizon's peak: a line that only a night-time LC could overload at noon gets no
    heavy-load binaries at noon (Schutterwald area 2, m3: 246 binaries on 2 lines -> 0).
    """
    v_abs = (
        cast(xr.DataArray, np.maximum(-v_lower, v_upper))
        .rename({EV: CUSTOMER})
        .reindex({CUSTOMER: fixed_kw[CUSTOMER].values}, fill_value=0.0)
    )
    abs_kw = abs(fixed_kw) + v_abs  # (scenario, step, customer)
    bound = xr.dot(data.downstream, abs_kw, dim=CUSTOMER)
    bound = bound.transpose(LINE, SCENARIO, STEP)
    if not len(options):
        return bound
    onto = (data.line_effect.sel(option=list(options.index)) > 0).transpose(OPTION, LINE).values  # (option, line)
    lc = data.lc.sel(option=list(options.index)).transpose(OPTION, CUSTOMER).values  # (option, customer)
    load = abs_kw.transpose(CUSTOMER, SCENARIO, STEP).values  # (customer, scenario, step)
    gains = np.zeros(bound.shape)
    for _, rows in options.reset_index().groupby("end_node", sort=True).groups.items():
        rows = np.asarray(rows)
        # one LC per (end node, q): its load at each scenario and step, on the lines some target puts it on
        best = np.zeros(bound.shape)
        for _, same in options.iloc[rows].reset_index().groupby("q", sort=True).groups.items():
            first = rows[np.asarray(same)]
            lc_kw = np.tensordot(lc[first[0]], load, axes=1)  # (scenario, step)
            lines = onto[first].any(axis=0)  # (line,)
            best[lines] = np.maximum(best[lines], lc_kw)
        gains += best
    return bound + xr.DataArray(gains, dims=bound.dims, coords=bound.coords)


def lines_needing_rules(data: ModelData, flow_bound_kw: xr.DataArray) -> tuple[list[str], list[str]]:
    """Lines whose flow bound exceeds the rating (hard rule) and ``mu`` x rating (heavy-load rule), Eq 20."""
    mu = data.case.params.operation.heavy_load_share
    rating = data.line_rating_kw
    peak = flow_bound_kw.max([d for d in flow_bound_kw.dims if d != LINE]).reindex({LINE: rating[LINE].values})
    names = [str(ln) for ln in rating[LINE].values]
    hard = [ln for ln, over in zip(names, (peak > rating).values, strict=True) if over]
    heavy = [ln for ln, over in zip(names, (peak > mu * rating).values, strict=True) if over]
    return hard, heavy


def constrained_lines(data: ModelData, const: Constants) -> list[str]:
    """Feeder outlets first, then every line that needs a rule of Eq 20, each once."""
    return list(dict.fromkeys([*data.feeder_outlet.values, *const.hard_lines, *const.heavy_lines]))


def load_combinations(data: ModelData, options: pd.DataFrame) -> tuple[xr.DataArray, xr.DataArray]:
    """The load combinations ``LC(h, q)`` of ``options`` (MODEL.md §4): (load_combination, option) 1
    where the option moves that LC, and (load_combination, customer) 1 where the customer belongs
    to it. The options of one LC differ only in their target."""
    lc_of = options["end_node"].astype(str) + "/" + options["q"].astype(str)
    combos = pd.Index(pd.unique(lc_of), name=LC)
    member = xr.DataArray(
        (lc_of.to_numpy()[None, :] == combos.to_numpy()[:, None]).astype(float),
        dims=(LC, OPTION),
        coords={LC: combos, OPTION: list(options.index)},
    )
    first = lc_of.groupby(lc_of, sort=False).head(1)  # one option of each load combination: its customers
    customers = data.lc.sel(option=list(first.index)).rename(option=LC).assign_coords({LC: first.to_numpy()})
    return member, customers


def option_line_effect(data: ModelData, options: pd.DataFrame, lines: list[str]) -> np.ndarray:
    """(option, line) effect of each option on the given lines: -1 off, +1 onto, 0 untouched."""
    return data.line_effect.sel(option=list(options.index), line=lines).to_numpy()


def with_ev_pairs(const: Constants, data: ModelData, options: pd.DataFrame, lines: list[str]) -> Constants:
    """Group the options that move each EV by their effect on the constrained lines.

    Options of one group put the EV's V2G power on the same lines, so one copy of ``v``
    per (EV, group) is exact (MODEL.md §5, "exact accounting"); a group is usually
    "moves to feeder F".
    """
    ev_ids = set(data.evs)
    if not len(options) or not ev_ids:
        return const
    lines = list(dict.fromkeys(lines))
    effect = option_line_effect(data, options, lines)
    pairs: dict[tuple[str, bytes], list[str]] = {}
    for k, (oid, o) in enumerate(options.iterrows()):
        for c in o["customers"]:
            if c in ev_ids:
                pairs.setdefault((c, effect[k].astype(np.int8).tobytes()), []).append(oid)
    if not pairs:
        return const
    names = [f"{ev}#{i}" for i, (ev, _) in enumerate(pairs)]
    membership = np.zeros((len(pairs), len(options)))
    pos = {oid: k for k, oid in enumerate(options.index)}
    pair_effect = np.zeros((len(pairs), len(lines)))
    for i, oids in enumerate(pairs.values()):
        membership[i, [pos[o] for o in oids]] = 1.0
        pair_effect[i] = effect[pos[oids[0]]]
    return Constants(
        const.alpha,
        const.fixed_kw,
        const.v_lower,
        const.v_upper,
        const.flow_bound_kw,
        const.hard_lines,
        const.heavy_lines,
        pair_ev=pd.Series([ev for ev, _ in pairs], index=names),
        pair_options=xr.DataArray(membership, dims=(PAIR, OPTION), coords={PAIR: names, OPTION: list(options.index)}),
        pair_effect=xr.DataArray(pair_effect, dims=(PAIR, LINE), coords={PAIR: names, LINE: lines}),
    )
