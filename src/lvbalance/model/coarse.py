"""A coarse stage 2 for the Benders master: a lower bound on each scenario's recourse that
sees how a plan moves load between feeders (MODEL.md §5, Eq 14-15 and 22-26).

Why it holds, at every plan (binary ``u``):

* V2G shifts each EV's energy in time, never between feeders (Eq 26: ``sum_t v[e,s,t]`` is
  fixed), and an EV's power counts on the feeder its load combination ends up on;
* the imbalance ``I = max_f sigma_f - min_f sigma_f`` is convex in the feeder loads, so over any
  block of steps the mean of ``I`` is at least ``I`` of the block's mean loads (Jensen), and the
  scenario's peak imbalance at least that too;
* the block means of the EVs' V2G power on a feeder, ``w[s,b,f]``, lie between the block means
  of their bounds (Eq 22-24) and add up, over the blocks, to their energy (Eq 26).

So ``lambda2 * 100 * sum_b (n_b / T) (sigma_max[s,b] - sigma_min[s,b]) + lambda_peak * peak[s]``
with block-mean loads (``n_b`` steps in block ``b``) never exceeds ``Q_s(u)``; the ramp limit,
battery wear and the line rules are left out (each only adds to ``Q_s``). It is exact in
``u``: a plan's feeder loads are linear in ``u``, so the master's branch-and-bound sees
the imbalance each combination of moves leaves, which the linear Benders cuts cannot (they
only meet ``Q_s`` at the plans already evaluated). V2G evens the feeders out over the day,
so even one block (the whole horizon) comes close: m3 on the default case, the first master's
bound with one 24-hour block 35,998, the optimum 36,011.6; with 3-hour blocks (the default) the
master proves it in 2 iterations (``benchmarks/bench_cuts.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from lvbalance.dims import CUSTOMER, EV, FEEDER, OPTION, SCENARIO, STEP
from lvbalance.model.bounds import LC, Constants, load_combinations
from lvbalance.model.data import ModelData
from lvbalance.model.stage2 import add_envelope

BLOCK = "block"
"""Dimension of the blocks of steps the coarse stage 2 averages over."""


@dataclass(frozen=True)
class CoarseData:
    """Block means of what stage 2 puts on each feeder (arrays over named dimensions)."""

    share: xr.DataArray
    """(block,) share of the horizon's steps in each block, ``n_b / T`` [-]"""
    rating_kw: xr.DataArray
    """(feeder,) P_rated [kW]"""
    fixed_kw: xr.DataArray
    """(scenario, block, feeder) power no decision changes on each feeder before any move [kW]"""
    lc_fixed_kw: xr.DataArray
    """(load_combination, scenario, block) that power of each load combination's customers [kW]"""
    effect: xr.DataArray
    """(load_combination, option, feeder) -1 where the option takes its LC off the feeder, +1 where it adds it"""
    v_lower: xr.DataArray | None
    """(scenario, block, feeder) block mean of the lower V2G power bounds of the feeder's EVs before any move [kW]"""
    v_upper: xr.DataArray | None
    lc_v_lower: xr.DataArray | None
    """(load_combination, scenario, block) the same of each load combination's EVs [kW]"""
    lc_v_upper: xr.DataArray | None
    energy: xr.DataArray | None
    """(scenario, feeder) V2G energy of the feeder's EVs before any move, ``sum_t v`` [kW x steps]"""
    lc_energy: xr.DataArray | None
    """(load_combination, scenario) the same of each load combination's EVs"""


def step_blocks(n_steps: int, step_h: float, block_h: float) -> np.ndarray:
    """Block of each step: runs of consecutive steps ``block_h`` hours long (the last may be shorter)."""
    return np.arange(n_steps) // max(1, round(block_h / step_h))


def coarse_data(data: ModelData, const: Constants, options: pd.DataFrame, block_h: float) -> CoarseData:
    """Block means of the feeders' loads and V2G bounds (blocks of ``block_h`` hours), and what each
    load combination of ``options`` carries."""
    block = step_blocks(data.n_steps, data.step_hours, block_h)
    n_b = np.bincount(block)

    def mean(a: xr.DataArray) -> xr.DataArray:
        out = a.assign_coords({STEP: (STEP, block)}).groupby(STEP).mean().rename({STEP: BLOCK})
        return out.assign_coords({BLOCK: np.arange(len(n_b))})

    outlets = data.feeder_outlet
    feeders = pd.Index(list(outlets.index), name=FEEDER)
    on_feeder = data.downstream.sel(line=list(outlets.values)).rename(line=FEEDER).assign_coords({FEEDER: feeders})
    member, members = load_combinations(data, options)
    effect = member * data.line_effect.sel(option=list(options.index), line=list(outlets.values)).rename(line=FEEDER).assign_coords(
        {FEEDER: feeders}
    )
    fixed = mean(const.fixed_kw)  # (scenario, block, customer)
    ev_parts: dict[str, xr.DataArray | None] = dict.fromkeys(("v_lower", "v_upper", "lc_v_lower", "lc_v_upper", "energy", "lc_energy"))
    if len(data.evs):
        ev_on_feeder = on_feeder.sel(customer=list(data.evs)).rename(customer=EV)
        ev_members = members.sel(customer=list(data.evs)).rename(customer=EV)
        energy = ((const.alpha * data.ev_uncontrolled_kw).sum(STEP)).transpose(SCENARIO, EV)
        for name, bound in (("v_lower", const.v_lower), ("v_upper", const.v_upper)):
            ev_parts[name] = xr.dot(mean(bound), ev_on_feeder, dim=EV)
            ev_parts["lc_" + name] = xr.dot(ev_members, mean(bound), dim=EV)
        ev_parts["energy"] = xr.dot(energy, ev_on_feeder, dim=EV)
        ev_parts["lc_energy"] = xr.dot(ev_members, energy, dim=EV)
    return CoarseData(
        share=xr.DataArray(n_b / data.n_steps, dims=BLOCK, coords={BLOCK: np.arange(len(n_b))}),
        rating_kw=data.feeder_rating_kw.sel(feeder=list(feeders)),
        fixed_kw=xr.dot(fixed, on_feeder, dim=CUSTOMER).transpose(SCENARIO, BLOCK, FEEDER),
        lc_fixed_kw=xr.dot(members, fixed, dim=CUSTOMER).transpose(LC, SCENARIO, BLOCK),
        effect=effect.transpose(LC, OPTION, FEEDER),
        **ev_parts,
    )


def add_coarse_recourse(m: linopy.Model, u: linopy.Variable, coarse: CoarseData, data: ModelData) -> linopy.LinearExpression:
    """The coarse stage 2 of every scenario (module docstring) over the plan ``u``; returns its
    objective per scenario (scenario,) [currency], in the weighting of ``Q_s``.

    ``z[c,f] = sum_{o of c} effect[c,o,f] u[o]`` (in [-1, 1]: one option per end node) carries the
    plan: the feeders' mean loads are ``fixed + sum_c z lc_fixed + w``.
    """
    combos = coarse.effect.indexes[LC]
    feeders = coarse.rating_kw.indexes[FEEDER]
    z = m.add_variables(lower=-1.0, upper=1.0, coords=[combos, feeders], name="coarse_lc_feeder")
    m.add_constraints(z - (u * coarse.effect).sum(OPTION) == 0, name="coarse_lc_feeder_def")
    load = (z * coarse.lc_fixed_kw).sum(LC) + coarse.fixed_kw  # (feeder, scenario, block)
    if coarse.energy is not None:
        assert coarse.v_lower is not None and coarse.v_upper is not None and coarse.lc_energy is not None
        coords = [coarse.fixed_kw.indexes[d] for d in (SCENARIO, BLOCK, FEEDER)]
        w = m.add_variables(coords=coords, name="coarse_v2g_kw")
        m.add_constraints(w - (z * coarse.lc_v_lower).sum(LC) >= coarse.v_lower, name="coarse_v2g_lower")
        m.add_constraints(w - (z * coarse.lc_v_upper).sum(LC) <= coarse.v_upper, name="coarse_v2g_upper")
        n_b = coarse.share * data.n_steps
        m.add_constraints((w * n_b).sum(BLOCK) - (z * coarse.lc_energy).sum(LC) == coarse.energy, name="coarse_v2g_energy")
        load = load + w
    sigma = load / coarse.rating_kw
    smax, smin = add_envelope(m, sigma, [coarse.fixed_kw.indexes[SCENARIO], coarse.share.indexes[BLOCK]], "coarse_sigma")
    peak = m.add_variables(lower=0.0, coords=[coarse.fixed_kw.indexes[SCENARIO]], name="coarse_peak_imbalance")
    m.add_constraints(peak - 100.0 * (smax - smin) >= 0, name="coarse_peak_imbalance_def")
    weights = data.case.params.objective
    mean_pct = 100.0 * ((smax - smin) * coarse.share).sum(BLOCK)
    return weights.imbalance_weight * mean_pct + weights.peak_imbalance_weight * peak
