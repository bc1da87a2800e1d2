"""Build the two-stage stochastic MILP (MODEL.md §4-§6) with linopy.

``build_model`` reads like the recipe of MODEL.md: stage 1 (move choice and its rules),
stage 2 (EV schedule with V2G, moved EVs, line flows and limits, imbalance), objective
Eq 27. The extensive form is one MILP: ``u`` is shared by all scenarios.

Notation (MODEL.md): ``u[o]`` move option chosen; ``v[s,t,e]`` power of the V2G group
of EV ``e`` so that ``x = (1 - alpha) X + v``; ``y[s,t,pair]`` = ``v`` of a moved EV on
its destination (exact disjunctive linearisation of ``u * v``, §5 "exact accounting");
``smax``/``smin`` the imbalance epigraph (Eq 14).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from lvbalance.model.data import CUSTOMER, EV, FEEDER, LINE, OPTION, SCENARIO, STEP, ModelData
from lvbalance.model.methods import Method

PAIR = "pair"  # (ev, destination group) of moved-EV copies
END = "end_node"
CONFLICT = "conflict"


@dataclass(frozen=True)
class Constants:
    """Numbers derived from the data for one method (no variables)."""

    alpha: xr.DataArray  # (scenario, step, ev) V2G share actually available
    fixed_kw: xr.DataArray  # (scenario, step, customer) power that no decision changes: loads, (1 - alpha) X
    v_lower: xr.DataArray  # (scenario, step, ev) lower bound of v [kW]
    v_upper: xr.DataArray  # (scenario, step, ev)
    flow_bound_kw: xr.DataArray  # (line, scenario, step) bound on |P| over every plan and schedule
    hard_lines: list[str]  # lines whose rating could be exceeded
    heavy_lines: list[str]  # lines that could reach mu * rating
    pair_ev: pd.Series = field(default_factory=pd.Series)  # pair -> ev
    pair_options: xr.DataArray | None = None  # (pair, option) membership
    pair_effect: xr.DataArray | None = None  # (pair, line) effect on the constrained lines


@dataclass
class BuiltModel:
    model: linopy.Model
    data: ModelData
    method: Method
    const: Constants
    constrained_lines: list[str]
    flow: linopy.LinearExpression  # (line, scenario, step) power on the constrained lines [kW]
    expected_imbalance: linopy.LinearExpression  # Eq 15 [%]
    options: pd.DataFrame  # the move options in the model (after the exact reduction)
    build_time_s: float = 0.0

    @property
    def size(self) -> dict[str, int]:
        """Variables, binaries, constraints of the model."""
        m = self.model
        return {
            "variables": int(m.nvars),
            "binaries": int(m.binaries.nvars) if len(m.binaries) else 0,
            "constraints": int(m.ncons),
            "move_options": int(len(self.data.options)) if self.method.moves else 0,
            "move_options_kept": int(len(self.options)),
        }


def build_model(data: ModelData, method: Method, *, reduce_options: bool = True) -> BuiltModel:
    """The extensive-form MILP of ``method`` on ``data``.

    ``reduce_options``: drop dominated move options first (exact; see :func:`undominated_options`).
    """
    t0 = time.perf_counter()
    m = linopy.Model(force_dim_names=True)
    options = data.options if method.moves else data.options.iloc[0:0]
    const = derive_constants(data, method, options)
    constrained = list(data.feeder_outlet.values) + const.hard_lines + const.heavy_lines
    if reduce_options:
        options = undominated_options(options, data, constrained)
    const = with_ev_pairs(const, data, options, constrained)
    u = add_move_choice(m, options)
    if u is not None:
        add_one_move_per_end_node(m, u, options)
        add_moved_customer_limit(m, u, options, data.case.params.planning.max_moved_customers)
        add_targets_stay_put(m, u, options)
    v = add_ev_schedule(m, data, const)
    y = add_moved_ev_copies(m, u, v, data, const, options)
    lines = list(data.feeder_outlet.values) + [ln for ln in const.hard_lines + const.heavy_lines if ln not in data.feeder_outlet.values]
    lines = list(dict.fromkeys(lines))
    flow = line_flows(m, u, v, y, data, const, options, lines)
    penalty = add_line_limits(m, flow, data, const)
    imbalance = add_imbalance(m, flow, data)
    peak = add_peak_imbalance(m, data)
    set_objective(m, u, v, imbalance, peak, penalty, data, options)
    return BuiltModel(m, data, method, const, lines, flow, imbalance, options, time.perf_counter() - t0)


# --------------------------------------------------------------------------- constants


def derive_constants(data: ModelData, method: Method, options: pd.DataFrame) -> Constants:
    """Fixed power, bounds of ``v`` and of every line flow; which lines need constraints."""
    op = data.case.params.operation
    X = data.ev_uncontrolled_kw
    alpha = (data.alpha if method.v2g else 0.0 * data.alpha) * xr.ones_like(X)
    Pc, Pd = data.charge_kw, data.discharge_kw
    v_lower = np.maximum(-op.v2g_discharge_share * alpha * Pd, -Pd - (1 - alpha) * X)
    v_upper = np.minimum(op.v2g_charge_share * alpha * Pc, Pc - (1 - alpha) * X)
    v_upper = np.maximum(v_upper, v_lower)
    ev_fixed = ((1 - alpha) * X).rename({EV: CUSTOMER})
    fixed = data.load_kw + ev_fixed.reindex({CUSTOMER: data.load_kw[CUSTOMER].values}, fill_value=0.0)
    fixed = fixed.transpose(SCENARIO, STEP, CUSTOMER)

    # bound of |P| on each line: everything below it at its largest, plus the largest LC
    # each end node could bring onto it (over the whole horizon: loose but cheap)
    v_abs = np.maximum(-v_lower, v_upper).rename({EV: CUSTOMER}).reindex({CUSTOMER: fixed[CUSTOMER].values}, fill_value=0.0)
    abs_kw = abs(fixed) + v_abs  # (scenario, step, customer)
    bound = xr.dot(data.downstream, abs_kw, dim=CUSTOMER)
    if len(options):
        lc_peak = xr.dot(data.lc.sel(option=list(options.index)), abs_kw, dim=CUSTOMER).max([SCENARIO, STEP])  # (option)
        gains = (data.line_effect.sel(option=list(options.index)) > 0) * lc_peak  # (option, line)
        gains = gains.assign_coords(end=(OPTION, options["end_node"].to_numpy())).groupby("end").max()
        bound = bound + gains.sum("end")
    bound = bound.transpose(LINE, SCENARIO, STEP)
    rating = data.line_rating_kw
    hard = [str(ln) for ln in rating[LINE].values if bool((bound.sel(line=ln) > rating.sel(line=ln)).any())]
    heavy = [str(ln) for ln in rating[LINE].values if bool((bound.sel(line=ln) > op.heavy_load_share * rating.sel(line=ln)).any())]

    return Constants(alpha, fixed, v_lower, v_upper, bound, hard, heavy)


def with_ev_pairs(const: Constants, data: ModelData, options: pd.DataFrame, lines: list[str]) -> Constants:
    """Group the options that move each EV by their effect on the constrained lines.

    Options of one group put the EV's V2G power on the same lines, so one copy of ``v``
    per (EV, group) is exact; a group is usually "moves to feeder F".
    """
    ev_ids = set(data.evs)
    if not len(options) or not ev_ids:
        return const
    lines = list(dict.fromkeys(lines))
    effect = data.line_effect.sel(option=list(options.index), line=lines).to_numpy()
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
    for i, ((ev, _), oids) in enumerate(pairs.items()):
        membership[i, [pos[o] for o in oids]] = 1.0
        pair_effect[i] = effect[pos[oids[0]]]
    return Constants(
        const.alpha, const.fixed_kw, const.v_lower, const.v_upper, const.flow_bound_kw, const.hard_lines, const.heavy_lines,
        pair_ev=pd.Series([ev for ev, _ in pairs], index=names),
        pair_options=xr.DataArray(membership, dims=(PAIR, OPTION), coords={PAIR: names, OPTION: list(options.index)}),
        pair_effect=xr.DataArray(pair_effect, dims=(PAIR, LINE), coords={PAIR: names, LINE: lines}),
    )


def undominated_options(options: pd.DataFrame, data: ModelData, lines: list[str]) -> pd.DataFrame:
    """Drop options that another option beats for certain (an exact reduction).

    Options of one end node with the same load combination and the same effect on every
    constrained line (usually: the same destination feeder) differ only in cost and in
    whether their target lies on another tail that might move. The cheapest target that
    no other move can take away beats every dearer option of its group; a cheaper target
    on a movable tail stays a candidate.
    """
    if not len(options):
        return options
    lines = list(dict.fromkeys(lines))
    effect = data.line_effect.sel(option=list(options.index), line=lines).to_numpy().astype(np.int8)
    movable: dict[str, set[str]] = {}
    for h, nodes in zip(options["end_node"], options["moved_nodes"]):
        movable.setdefault(h, set()).update(nodes)
    keep = []
    groups: dict[tuple, list[int]] = {}
    for k, (h, q) in enumerate(zip(options["end_node"], options["q"])):
        groups.setdefault((h, int(q), effect[k].tobytes()), []).append(k)
    cost = options["cost"].to_numpy(float)
    for (h, _, _), ks in groups.items():
        unsafe_nodes = set().union(*(n for h2, n in movable.items() if h2 != h))
        safe = [k for k in ks if options["to_node"].iat[k] not in unsafe_nodes]
        best_safe = min(safe, key=lambda k: cost[k]) if safe else None
        limit = cost[best_safe] if best_safe is not None else np.inf
        keep += [k for k in ks if k == best_safe or (k not in safe and cost[k] < limit)]
    return options.iloc[sorted(keep)]


# --------------------------------------------------------------------------- stage 1


def add_move_choice(m: linopy.Model, options: pd.DataFrame) -> linopy.Variable | None:
    """``u[o]``: move option ``o = (h, q, i)`` is built (binary)."""
    if not len(options):
        return None
    return m.add_variables(binary=True, coords=[pd.Index(options.index, name=OPTION)], name="u")


def _matrix(rows: pd.Index, cols: pd.Index, entries: list[tuple[int, int]], dims: tuple[str, str]) -> xr.DataArray:
    a = np.zeros((len(rows), len(cols)))
    for r, c in entries:
        a[r, c] = 1.0
    return xr.DataArray(a, dims=dims, coords={dims[0]: rows, dims[1]: cols})


def add_one_move_per_end_node(m: linopy.Model, u: linopy.Variable, options: pd.DataFrame) -> None:
    """Eq 4, 9-12: at most one load combination and one target per end node."""
    ends = pd.Index(sorted(options["end_node"].unique()), name=END)
    A = _matrix(ends, options.index, [(ends.get_loc(h), k) for k, h in enumerate(options["end_node"])], (END, OPTION))
    m.add_constraints((u * A).sum(OPTION) <= 1, name="one_move_per_end_node")


def add_moved_customer_limit(m: linopy.Model, u: linopy.Variable, options: pd.DataFrame, max_moved: int) -> None:
    """Eq 5: customers moved in total <= M_max."""
    q = xr.DataArray(options["q"].to_numpy(float), dims=OPTION, coords={OPTION: options.index})
    m.add_constraints((u * q).sum() <= max_moved, name="moved_customer_limit")


def add_targets_stay_put(m: linopy.Model, u: linopy.Variable, options: pd.DataFrame) -> None:
    """No moving onto a moving tail: if option o targets a node that option o' would move
    (o' of another end node), at most one of o and all such o' is built."""
    movers: dict[tuple[str, str], list[int]] = {}  # (node, end node) -> options of that end node moving the node
    for k, (nodes, h) in enumerate(zip(options["moved_nodes"], options["end_node"])):
        for n in nodes:
            movers.setdefault((n, h), []).append(k)
    entries, n_rows = [], 0
    for k, (target, h) in enumerate(zip(options["to_node"], options["end_node"])):
        for (node, h2), ks in movers.items():
            if node == target and h2 != h:
                entries += [(n_rows, k)] + [(n_rows, k2) for k2 in ks]
                n_rows += 1
    if n_rows:
        A = _matrix(pd.RangeIndex(n_rows, name=CONFLICT), options.index, entries, (CONFLICT, OPTION))
        m.add_constraints((u * A).sum(OPTION) <= 1, name="targets_stay_put")


# --------------------------------------------------------------------------- stage 2


def add_ev_schedule(m: linopy.Model, data: ModelData, const: Constants) -> linopy.Variable | None:
    """Eq 22-26: V2G group power ``v`` with charger, V2G, ramp and energy limits.

    ``x = (1 - alpha) X + v``; bounds of ``v`` combine Eq 22 (charger) and Eq 23-24 (V2G
    share); the ramp (Eq 25) limits ``v``; the energy over the horizon (Eq 26) is that of
    uncontrolled charging: ``sum_t v = sum_t alpha X``.
    """
    if not len(data.evs):
        return None
    v = m.add_variables(lower=const.v_lower, upper=const.v_upper, name="v")
    eps = data.case.params.operation.ramp_share_per_step * data.charge_kw
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dv = v - v.shift(step=1)
        steps = data.load_kw[STEP].values[1:]
        m.add_constraints(dv.sel(step=steps) <= eps, name="ramp_up")
        m.add_constraints(dv.sel(step=steps) >= -eps, name="ramp_down")
    m.add_constraints(v.sum(STEP) == (const.alpha * data.ev_uncontrolled_kw).sum(STEP), name="ev_energy")
    discharge = m.add_variables(lower=0.0, coords=[v.indexes[d] for d in v.dims], name="discharge")
    m.add_constraints(discharge + v >= -(1 - const.alpha) * data.ev_uncontrolled_kw, name="discharge_def")
    return v


def add_moved_ev_copies(
    m: linopy.Model, u: linopy.Variable | None, v: linopy.Variable | None, data: ModelData, const: Constants, options: pd.DataFrame,
) -> linopy.Variable | None:
    """Exact ``u * v`` for EVs in load combinations (MODEL.md §5), disjunctive form.

    ``v[e] = stay[e] + sum_g y[e,g]`` where ``y[e,g]`` is non-zero only if a move of group
    ``g`` is built (``U[e,g]`` = sum of those ``u``), and ``stay`` only if none is.
    """
    if u is None or v is None or const.pair_options is None:
        return None
    pairs = const.pair_ev
    lo = const.v_lower.sel(ev=pairs.to_numpy()).rename(ev=PAIR).assign_coords({PAIR: pairs.index})
    hi = const.v_upper.sel(ev=pairs.to_numpy()).rename(ev=PAIR).assign_coords({PAIR: pairs.index})
    y = m.add_variables(lower=np.minimum(lo, 0.0), upper=np.maximum(hi, 0.0), name="y")
    U = (u * const.pair_options).sum(OPTION)  # (pair)
    m.add_constraints(y - hi * U <= 0, name="moved_ev_upper")
    m.add_constraints(y - lo * U >= 0, name="moved_ev_lower")
    ev_of_pair = xr.DataArray(
        (pairs.to_numpy()[:, None] == np.asarray(data.evs)[None, :]).astype(float),
        dims=(PAIR, EV), coords={PAIR: pairs.index, EV: data.evs},
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


def line_flows(
    m: linopy.Model, u, v, y, data: ModelData, const: Constants, options: pd.DataFrame, lines: list[str],
) -> linopy.LinearExpression:
    """Eq 19-21: power on each constrained line after the moves, losses ignored [kW].

    ``P[l] = sum below l of fixed power + v  +  sum_o u_o * effect[o,l] * fixed power of LC(o)
    + sum_pairs y * effect[pair,l]``.
    """
    D = data.downstream.sel(line=lines)
    base = xr.dot(D, const.fixed_kw, dim=CUSTOMER).transpose(LINE, SCENARIO, STEP)
    flow = None
    if v is not None:
        D_ev = D.sel(customer=list(data.evs)).rename(customer=EV)
        flow = (v * D_ev).sum(EV)
    if u is not None:
        moved_fixed = xr.dot(data.lc.sel(option=list(options.index)), const.fixed_kw, dim=CUSTOMER)  # (option, s, t)
        coeff = data.line_effect.sel(option=list(options.index), line=lines) * moved_fixed
        term = (u * coeff).sum(OPTION)
        flow = term if flow is None else flow + term
    if y is not None:
        term = (y * const.pair_effect.sel(line=lines)).sum(PAIR)
        flow = term if flow is None else flow + term
    if flow is None:  # nothing to decide: a constant flow
        dummy = m.add_variables(lower=0, upper=0, coords=[base.indexes[d] for d in base.dims], name="no_decision")
        flow = 1.0 * dummy
    return flow + base


def add_line_limits(m: linopy.Model, flow: linopy.LinearExpression, data: ModelData, const: Constants) -> linopy.LinearExpression | None:
    """Eq 20: hard limit ``|P| <= rating`` and the heavy-load duration rule, both with
    penalised slack so that data that already breaks them stays feasible (reported)."""
    op = data.case.params.operation
    penalty_terms = []
    if const.hard_lines:
        lines = const.hard_lines
        P, R = flow.sel(line=lines), data.line_rating_kw.sel(line=lines)
        mask = const.flow_bound_kw.sel(line=lines) > R
        s = m.add_variables(lower=0.0, coords=[mask.indexes[d] for d in mask.dims], mask=mask, name="overload_kw")
        m.add_constraints(P - s <= R, name="line_limit_fwd", mask=mask)
        m.add_constraints(P + s >= -R, name="line_limit_rev", mask=mask)
        penalty_terms.append((s * data.probability).sum())
    if const.heavy_lines:
        lines = const.heavy_lines
        P, R = flow.sel(line=lines), data.line_rating_kw.sel(line=lines)
        mu_r = op.heavy_load_share * R
        bound = const.flow_bound_kw.sel(line=lines)
        mask = bound > mu_r
        o = m.add_variables(binary=True, coords=[mask.indexes[d] for d in mask.dims], mask=mask, name="heavy")
        big_m = (bound - mu_r).where(mask, 0.0)
        m.add_constraints(P - big_m * o <= mu_r, name="heavy_fwd", mask=mask)
        m.add_constraints(P + big_m * o >= -mu_r, name="heavy_rev", mask=mask)
        T = op.max_heavy_steps
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            window = sum(o.shift(step=-k) for k in range(T + 1))
        n_steps = data.n_steps
        starts = data.load_kw[STEP].values[: max(n_steps - T, 0)]
        if len(starts):
            w = m.add_variables(lower=0.0, coords=[mask.indexes[LINE], mask.indexes[SCENARIO], pd.Index(starts, name=STEP)], name="heavy_excess")
            m.add_constraints(window.sel(step=starts) - w <= T, name="heavy_duration")
            penalty_terms.append((w * data.probability).sum())
    if not penalty_terms:
        return None
    total = penalty_terms[0]
    for t in penalty_terms[1:]:
        total = total + t
    return total


def add_imbalance(m: linopy.Model, flow: linopy.LinearExpression, data: ModelData) -> linopy.LinearExpression:
    """Eq 14-15: ``I[s,t] = max_f sigma - min_f sigma`` through epigraph variables; returns
    the expected imbalance ``E_I`` in percent."""
    outlets = data.feeder_outlet
    P_f = flow.sel(line=list(outlets.values)).rename(line=FEEDER).assign_coords({FEEDER: list(outlets.index)})
    sigma = P_f / data.feeder_rating_kw
    coords = [data.probability.indexes[SCENARIO], data.load_kw.indexes[STEP]]
    smax = m.add_variables(coords=coords, name="sigma_max")
    smin = m.add_variables(coords=coords, name="sigma_min")
    m.add_constraints(smax - sigma >= 0, name="sigma_max_def")
    m.add_constraints(smin - sigma <= 0, name="sigma_min_def")
    return 100.0 * ((smax - smin) * data.probability).sum() / data.n_steps


def add_peak_imbalance(m: linopy.Model, data: ModelData) -> linopy.LinearExpression:
    """Peak imbalance of each scenario, ``peak[s] >= I[s,t]``; returns ``sum_s beta_s peak[s]`` [%]."""
    smax, smin = m.variables["sigma_max"], m.variables["sigma_min"]
    peak = m.add_variables(coords=[data.probability.indexes[SCENARIO]], name="peak_imbalance")
    m.add_constraints(peak - 100.0 * (smax - smin) >= 0, name="peak_imbalance_def")
    return (peak * data.probability).sum()


def set_objective(m: linopy.Model, u, v, imbalance, peak, penalty, data: ModelData, options: pd.DataFrame) -> None:
    """Eq 27: lambda1 * C_plan + lambda2 * E_I[%] + battery wear, plus the expected peak
    imbalance (small weight, a tie-breaker) and penalised slack."""
    p = data.case.params
    objective = p.objective.imbalance_weight * imbalance + p.objective.peak_imbalance_weight * peak
    if u is not None:
        cost = xr.DataArray(options["cost"].to_numpy(float), dims=OPTION, coords={OPTION: options.index})
        objective = objective + p.objective.cost_weight * (u * cost).sum()
    if v is not None and p.operation.battery_wear_cost_per_kwh > 0:
        wear = p.operation.battery_wear_cost_per_kwh * data.step_hours
        objective = objective + (m.variables["discharge"] * (wear * data.probability)).sum()
    if penalty is not None:
        objective = objective + p.operation.violation_penalty * penalty
    m.add_objective(objective)
