"""Stage 2: EV schedules with V2G, line flows and rules, imbalance (MODEL.md §5, Eq 14-15, 19-26).

Each ``add_*`` function adds one family of variables and constraints, vectorised over
``(scenario, step, ...)``, and returns what it adds; the next family receives it as an
argument (no look-ups by name).

Notation: ``v[s,t,e]`` power of the V2G group of EV ``e`` so that ``x = (1 - alpha) X + v``;
``y[s,t,pair]`` = ``v`` of a moved EV on its destination (exact disjunctive linearisation
of ``u * v``, §5 "exact accounting"); ``sigma_max``/``sigma_min`` the imbalance epigraph.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import linopy
import numpy as np
import pandas as pd
import xarray as xr
from linopy.config import LinopySemanticsWarning

from lvbalance.dims import CUSTOMER, EV, FEEDER, LINE, OPTION, SCENARIO, STEP
from lvbalance.model.bounds import LC, PAIR, Constants, load_combinations
from lvbalance.model.data import ModelData


@dataclass(frozen=True)
class EvSchedule:
    """The V2G group power ``v`` [kW] and its discharge part ``d >= max(0, -x)`` [kW]."""

    v: linopy.Variable
    discharge: linopy.Variable


@dataclass(frozen=True)
class Imbalance:
    """Epigraph of Eq 14 and the expected imbalance of Eq 15."""

    sigma_max: linopy.Variable
    """(scenario, step) upper envelope of the feeders' load rates [-]"""
    sigma_min: linopy.Variable
    """(scenario, step) lower envelope [-]"""
    expected_pct: linopy.LinearExpression
    """E_I [%]"""


@dataclass(frozen=True)
class LineSlack:
    """Slack of the line rules of Eq 20 (None where no line can break the rule)."""

    overload_kw: linopy.Variable | None
    """(line, scenario, step) power above the rating [kW]"""
    heavy_excess: linopy.Variable | None
    """(line, scenario, step) heavy-load steps beyond T_max in the window starting at the step [steps]"""
    expected: linopy.LinearExpression | None
    """probability-weighted sum of both, to penalise"""


# --------------------------------------------------------------------------- EV schedule (Eq 22-26)


def add_ev_schedule(m: linopy.Model, data: ModelData, const: Constants) -> EvSchedule | None:
    """Eq 22-26 and battery wear: ``v`` with its bounds, ramp, energy, and discharge.

    None when the case has no EV.
    """
    if not len(data.evs):
        return None
    v = add_v2g_power(m, const)
    add_ramp_limit(m, v, data)
    add_ev_energy(m, v, data, const)
    return EvSchedule(v, add_discharge(m, v, data, const))


def add_v2g_power(m: linopy.Model, const: Constants) -> linopy.Variable:
    """Eq 22-24: ``v[s,t,e]`` within the charger and V2G share bounds (:func:`~lvbalance.model.bounds.v2g_power_bounds`)."""
    return m.add_variables(lower=const.v_lower, upper=const.v_upper, name="v")


def add_ramp_limit(m: linopy.Model, v: linopy.Variable, data: ModelData) -> None:
    """Eq 25: ``|v[e,s,t] - v[e,s,t-1]| <= eps[e]`` with ``eps = ramp share x Pc`` [kW per step]."""
    eps = data.case.params.operation.ramp_share_per_step * data.charge_kw
    steps = data.load_kw[STEP].values[1:]
    dv = v.sel(step=steps) - v.shift(step=1).sel(step=steps)  # step 0 has no predecessor: left out
    m.add_constraints(dv <= eps, name="ramp_up")
    m.add_constraints(dv >= -eps, name="ramp_down")


def add_ev_energy(m: linopy.Model, v: linopy.Variable, data: ModelData, const: Constants) -> linopy.Constraint:
    """Eq 26: the energy over the horizon is that of uncontrolled charging, ``sum_t v = sum_t alpha X``."""
    return m.add_constraints(v.sum(STEP) == (const.alpha * data.ev_uncontrolled_kw).sum(STEP), name="ev_energy")


def add_discharge(m: linopy.Model, v: linopy.Variable, data: ModelData, const: Constants) -> linopy.Variable:
    """Discharged power ``d >= max(0, -x)`` [kW], priced as battery wear in the objective (MODEL.md §5)."""
    discharge = m.add_variables(lower=0.0, coords=[v.indexes[d] for d in v.dims], name="discharge")
    m.add_constraints(discharge + v >= -(1 - const.alpha) * data.ev_uncontrolled_kw, name="discharge_def")
    return discharge


def add_moved_ev_copies(
    m: linopy.Model,
    u: linopy.Variable | None,
    v: linopy.Variable | None,
    data: ModelData,
    const: Constants,
) -> linopy.Variable | None:
    """Exact ``u * v`` for EVs in load combinations (MODEL.md §5, "exact accounting"), disjunctive form.

    ``v[e] = stay[e] + sum_g y[e,g]`` where ``y[e,g]`` is non-zero only if a move of group
    ``g`` is built (``U[e,g]`` = sum of those ``u``), and ``stay`` only if none is.
    """
    if u is None or v is None or const.pair_options is None:
        return None
    pairs = const.pair_ev
    lo = const.v_lower.sel(ev=pairs.to_numpy()).rename(ev=PAIR).assign_coords({PAIR: pairs.index})
    hi = const.v_upper.sel(ev=pairs.to_numpy()).rename(ev=PAIR).assign_coords({PAIR: pairs.index})
    y = m.add_variables(lower=np.minimum(lo, 0.0), upper=np.maximum(hi, 0.0), name="y")
    # U[g] = sum of the u of group g, as a variable of its own: every (pair, s, t) row below then
    # holds one term for it instead of one per option (the options are many, the groups few)
    U = m.add_variables(lower=0.0, upper=1.0, coords=[pd.Index(pairs.index, name=PAIR)], name="moved_ev_group")
    m.add_constraints(U - (u * const.pair_options).sum(OPTION) == 0, name="moved_ev_group_def")
    m.add_constraints(y - hi * U <= 0, name="moved_ev_upper")
    m.add_constraints(y - lo * U >= 0, name="moved_ev_lower")
    ev_of_pair = xr.DataArray(
        (pairs.to_numpy()[:, None] == np.asarray(data.evs)[None, :]).astype(float),
        dims=(PAIR, EV),
        coords={PAIR: pairs.index, EV: data.evs},
    )
    moving_evs = list(dict.fromkeys(pairs.to_numpy()))
    E = ev_of_pair.sel(ev=moving_evs)
    moved_v = (y * E).sum(PAIR)  # (s, t, ev)
    moved_u = (U * E).sum(PAIR)  # (ev): 1 if the EV moves
    stay = v.sel(ev=moving_evs) - moved_v
    lo_e, hi_e = const.v_lower.sel(ev=moving_evs), const.v_upper.sel(ev=moving_evs)
    m.add_constraints(stay + hi_e * moved_u <= hi_e, name="staying_ev_upper")
    m.add_constraints(stay + lo_e * moved_u >= lo_e, name="staying_ev_lower")
    return y


# --------------------------------------------------------------------------- lines (Eq 19-21)


def add_line_flows(
    m: linopy.Model,
    u: linopy.Variable | None,
    v: linopy.Variable | None,
    y: linopy.Variable | None,
    data: ModelData,
    const: Constants,
    options: pd.DataFrame,
    lines: list[str],
) -> linopy.LinearExpression:
    """Eq 19-21: power on each constrained line after the moves, losses ignored [kW].

    ``P[l] = sum below l of (fixed power + v) + sum_o u[o] effect[o,l] fixed power of LC(o)
    + sum_pairs y effect[pair,l]``.
    """
    D = data.downstream.sel(line=lines)
    base = xr.dot(D, const.fixed_kw, dim=CUSTOMER).transpose(LINE, SCENARIO, STEP)
    flow = None
    if v is not None:
        D_ev = D.sel(customer=list(data.evs)).rename(customer=EV)
        flow = (v * D_ev).sum(EV)
    if u is not None:
        term = _moved_load_flow(m, u, data, const, options, lines)
        flow = term if flow is None else flow + term
    if y is not None and const.pair_effect is not None:
        term = (y * const.pair_effect.sel(line=lines)).sum(PAIR)
        flow = term if flow is None else flow + term
    if flow is None:  # nothing to decide: a constant flow
        dummy = m.add_variables(lower=0, upper=0, coords=[base.indexes[d] for d in base.dims], name="no_decision")
        flow = 1.0 * dummy
    return flow + base


def _moved_load_flow(
    m: linopy.Model, u: linopy.Variable, data: ModelData, const: Constants, options: pd.DataFrame, lines: list[str]
) -> linopy.LinearExpression:
    """``sum_o u[o] effect[o,l] fixed power of LC(o)`` [kW], through one variable per load
    combination and line: ``z[c,l] = sum_{o of c} effect[o,l] u[o]`` (in [-1, 1]: at most one
    option per end node). The options of a load combination differ only in their target, so
    the fixed power of ``c`` multiplies ``z``: each (line, scenario, step) row then has one
    term per load combination instead of one per option (the model is several times smaller
    and sparser; the flows are the same)."""
    member, members = load_combinations(data, options)
    effect = data.line_effect.sel(option=list(options.index), line=lines)
    z = m.add_variables(lower=-1.0, upper=1.0, coords=[member.indexes[LC], pd.Index(lines, name=LINE)], name="lc_line_effect")
    m.add_constraints(z - (u * (member * effect)).sum(OPTION) == 0, name="lc_line_effect_def")
    moved_fixed = xr.dot(members, const.fixed_kw, dim=CUSTOMER)  # (lc, s, t)
    return (z * moved_fixed).sum(LC)


def add_line_limits(m: linopy.Model, flow: linopy.LinearExpression, data: ModelData, const: Constants) -> LineSlack:
    """Eq 20, both rules with penalised slack so that data that already breaks them stays
    feasible (the slack used is reported as a violation)."""
    overload = add_hard_limit(m, flow, data, const)
    excess = add_heavy_load_duration(m, flow, data, const)
    with _absent_counts_zero():  # slack is absent where the rule cannot bind
        terms = [(s * data.probability).sum() for s in (overload, excess) if s is not None]
    total = None
    for t in terms:
        total = t if total is None else total + t
    return LineSlack(overload, excess, total)


def add_hard_limit(m: linopy.Model, flow: linopy.LinearExpression, data: ModelData, const: Constants) -> linopy.Variable | None:
    """Eq 20 (hard): ``|P[l,s,t]| <= P_rated[l] + overload[l,s,t]``; returns ``overload`` [kW]."""
    if not const.hard_lines:
        return None
    lines = const.hard_lines
    P, R = flow.sel(line=lines), data.line_rating_kw.sel(line=lines)
    mask = const.flow_bound_kw.sel(line=lines) > R
    s = m.add_variables(lower=0.0, coords=[mask.indexes[d] for d in mask.dims], mask=mask, name="overload_kw")
    with _absent_counts_zero():  # rows where s is absent are masked out as well
        m.add_constraints(P - s <= R, name="line_limit_fwd", mask=mask)
        m.add_constraints(P + s >= -R, name="line_limit_rev", mask=mask)
    return s


def add_heavy_load_duration(m: linopy.Model, flow: linopy.LinearExpression, data: ModelData, const: Constants) -> linopy.Variable | None:
    """Eq 20 (heavy load): binary ``o[l,s,t]`` marks ``|P| > mu P_rated``; every window of
    ``T_max + 1`` steps has ``sum o <= T_max + excess``; returns ``excess`` [steps]."""
    if not const.heavy_lines:
        return None
    op = data.case.params.operation
    lines = const.heavy_lines
    P, R = flow.sel(line=lines), data.line_rating_kw.sel(line=lines)
    mu_r = op.heavy_load_share * R
    bound = const.flow_bound_kw.sel(line=lines)
    mask = bound > mu_r
    o = m.add_variables(binary=True, coords=[mask.indexes[d] for d in mask.dims], mask=mask, name="heavy")
    big_m = (bound - mu_r).where(mask, 0.0)
    with _absent_counts_zero():  # rows where o is absent are masked out as well
        m.add_constraints(P - big_m * o <= mu_r, name="heavy_fwd", mask=mask)
        m.add_constraints(P + big_m * o >= -mu_r, name="heavy_rev", mask=mask)
    T = op.max_heavy_steps
    starts = data.load_kw[STEP].values[: max(data.n_steps - T, 0)]
    if not len(starts):
        return None
    with _absent_counts_zero():  # o is absent where the line cannot reach mu x rating: such a step counts 0
        window = sum(o.shift(step=-k).sel(step=starts) for k in range(T + 1))
    w = m.add_variables(lower=0.0, coords=[mask.indexes[LINE], mask.indexes[SCENARIO], pd.Index(starts, name=STEP)], name="heavy_excess")
    m.add_constraints(window - w <= T, name="heavy_duration")
    return w


@contextmanager
def _absent_counts_zero() -> Iterator[None]:
    """Masked variables (absent where a line cannot reach a limit) count 0 in sums: linopy's
    legacy semantics, which these families rely on; its warning about them is silenced here only."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=LinopySemanticsWarning)
        yield


# --------------------------------------------------------------------------- imbalance (Eq 14-15)


def add_imbalance(m: linopy.Model, flow: linopy.LinearExpression, data: ModelData) -> Imbalance:
    """Eq 14-15: ``I[s,t] = max_f sigma - min_f sigma`` through the epigraph
    ``sigma_max[s,t] >= sigma[f,s,t] >= sigma_min[s,t]`` with ``sigma = P_f / P_f^rated`` (Eq 19);
    ``E_I = sum_s beta_s (1/T) sum_t I[s,t]`` in percent."""
    outlets = data.feeder_outlet
    P_f = flow.sel(line=list(outlets.values)).rename(line=FEEDER).assign_coords({FEEDER: list(outlets.index)})
    sigma = P_f / data.feeder_rating_kw
    smax, smin = add_envelope(m, sigma, [data.probability.indexes[SCENARIO], data.load_kw.indexes[STEP]], "sigma")
    return Imbalance(smax, smin, 100.0 * ((smax - smin) * data.probability).sum() / data.n_steps)


def add_envelope(
    m: linopy.Model, sigma: linopy.LinearExpression, coords: list[pd.Index], name: str
) -> tuple[linopy.Variable, linopy.Variable]:
    """Eq 14's epigraph: ``name_max >= sigma[f] >= name_min`` over the feeders, on ``coords``."""
    upper = m.add_variables(coords=coords, name=f"{name}_max")
    lower = m.add_variables(coords=coords, name=f"{name}_min")
    m.add_constraints(upper - sigma >= 0, name=f"{name}_max_def")
    m.add_constraints(lower - sigma <= 0, name=f"{name}_min_def")
    return upper, lower


def add_peak_imbalance(m: linopy.Model, imbalance: Imbalance, data: ModelData) -> linopy.LinearExpression:
    """Peak imbalance of each scenario, ``peak[s] >= I[s,t]`` (addition to Eq 27); returns ``sum_s beta_s peak[s]`` [%]."""
    peak = m.add_variables(coords=[data.probability.indexes[SCENARIO]], name="peak_imbalance")
    m.add_constraints(peak - 100.0 * (imbalance.sigma_max - imbalance.sigma_min) >= 0, name="peak_imbalance_def")
    return (peak * data.probability).sum()
