"""The two-stage MILP (MODEL.md §4-§7) against independent computations.

* exhaustive: every feasible stage-1 plan is enumerated by hand, its stage 2 solved as an
  independent LP (scipy, written from MODEL.md §5-§6, not from ``model.build``), and the
  MILP's optimum must equal the best of them;
* one test per constraint family on a small case where it binds;
* the written outputs pass ``evaluate.check_outputs`` and fail once tampered with.

Scenarios are built by hand with a coarse step (8 steps of 3 h) so that every solve is small.
"""

from __future__ import annotations

import dataclasses
import itertools
import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.optimize import linprog

from lvbalance.case import Case, Network
from lvbalance.coupling import move_options
from lvbalance.evaluate import check_outputs, feeder_loads, flows_after, rewire
from lvbalance.model.build import build_model
from lvbalance.model.data import model_data
from lvbalance.model.methods import METHODS
from lvbalance.model.run import plan_method
from lvbalance.profiles import ScenarioSet
from lvbalance.results import Move, write_results

from tests.conftest import fig3_case

T_STEPS = 8
START_HOUR = 8
SCENARIO_IDS = ["working-sunny", "non_working-cloudy"]
PROBABILITY = [0.7, 0.3]
# base power per customer type [kW] (pv: generation, negative)
BASE_KW = {"residential": 2.0, "commercial": 12.0, "pv": -4.0}


# --------------------------------------------------------------------------- helpers


def hand_scenarios(case: Case, *, T: int = T_STEPS, start_hour: int = START_HOUR, seed: int = 0,
                   base_kw: dict[str, float] | None = None, overrides: dict[str, np.ndarray] | None = None) -> ScenarioSet:
    """Two scenarios with T steps of 24/T h for every customer of ``case``.

    Non-ev customers: ``base_kw[type]`` times a seeded factor in [0.5, 1.5) per step;
    ev customers: uncontrolled charging, full ``charge_kw`` at step T/2 and partial at
    T/2 + 1 (within 0..charge_kw). ``overrides``: customer -> (scenario, step) power [kW].
    """
    base = {**BASE_KW, **(base_kw or {})}
    rng = np.random.default_rng(seed)
    cust = case.customers
    p = np.zeros((len(SCENARIO_IDS), T, len(cust)))
    for k, (cid, r) in enumerate(cust.iterrows()):
        for s in range(len(SCENARIO_IDS)):
            if r["type"] == "ev":
                pc = float(r["charge_kw"])
                prof = np.zeros(T)
                prof[T // 2], prof[T // 2 + 1] = pc, (0.4 + 0.2 * s) * pc
            else:
                prof = base[r["type"]] * (0.5 + rng.random(T))
            p[s, :, k] = prof
        if overrides and cid in overrides:
            p[:, :, k] = overrides[cid]
    table = pd.DataFrame(
        {"probability": PROBABILITY, "day_type": ["working", "non_working"], "weather": ["sunny", "cloudy"]},
        index=pd.Index(SCENARIO_IDS, name="scenario"),
    )
    da = xr.DataArray(p, dims=("scenario", "step", "customer"),
                      coords={"scenario": SCENARIO_IDS, "step": np.arange(T), "customer": list(cust.index)})
    return ScenarioSet(scenarios=table, p_kw=da, step_hours=24.0 / T, start_hour=start_hour)


def coarse(case: Case, *, T: int = T_STEPS, **sections: dict) -> Case:
    """``case`` with profile step and start matching :func:`hand_scenarios`, an exact MIP
    gap, and the given parameter sections updated."""
    merged: dict[str, dict] = {
        "profiles": {"step_minutes": 24 * 60 // T, "horizon_start_hour": START_HOUR},
        "solver": {"mip_gap": 0.0, "threads": 1},
    }
    for k, v in sections.items():
        merged.setdefault(k, {}).update(v)
    return case.with_params(case.params.updated(**merged))


def with_line_ratings(case: Case, ratings: dict[str, float]) -> Case:
    lines = case.network.lines.copy()
    for lid, kw in ratings.items():
        lines.loc[lid, "rated_kw"] = kw
    return dataclasses.replace(case, network=Network(nodes=case.network.nodes, lines=lines))


def as_moves(options: pd.DataFrame) -> list[Move]:
    return [
        Move(end_node=o["end_node"], cut_node=o["cut_node"], to_node=o["to_node"], customers=list(o["customers"]),
             from_feeder=o["from_feeder"], to_feeder=o["to_feeder"], route_length_m=0.0, cost=float(o["cost"]), route=[])
        for _, o in options.iterrows()
    ]


def feasible_plans(options: pd.DataFrame, max_moved: int) -> list[list[str]]:
    """Every stage-1 plan: at most one option per end node, at most ``max_moved``
    customers, no target inside another chosen move's moved nodes (MODEL.md §4)."""
    per_end = [[None, *ids] for _, ids in options.groupby("end_node").groups.items()]
    plans = []
    for combo in itertools.product(*per_end):
        chosen = [o for o in combo if o is not None]
        rows = options.loc[chosen]
        if sum(len(c) for c in rows["customers"]) > max_moved:
            continue
        clash = any(
            a["to_node"] in b["moved_nodes"]
            for (ia, a), (ib, b) in itertools.product(rows.iterrows(), rows.iterrows()) if ia != ib
        )
        if not clash:
            plans.append(chosen)
    return plans


def independent_objective(case: Case, scen: ScenarioSet, chosen: pd.DataFrame, *, v2g: bool) -> float:
    """Objective of a fixed plan (Eq 27), stage 2 solved as an LP written from MODEL.md §5-§6.

    Assumes no line rule can bind (checked by the callers). Per scenario: EV power ``x``,
    discharge ``d >= max(0, -x)``, epigraph ``smax``/``smin`` per step and the peak.
    """
    p = case.params
    op, ob = p.operation, p.objective
    cust = case.customers
    P = scen.p_kw.transpose("scenario", "step", "customer").sel(customer=list(cust.index)).to_numpy()
    S, T, _ = P.shape
    node_feeder = case.network.feeder_of_node
    feeder = {c: str(node_feeder[cust.at[c, "node_id"]]) for c in cust.index}
    for _, o in chosen.iterrows():
        for c in o["customers"]:
            feeder[c] = str(o["to_feeder"])
    rating = case.network.feeder_rating_kw
    feeders = list(rating.index)
    evs = [c for c in cust.index if cust.at[c, "type"] == "ev"]
    E = len(evs)
    alpha = (np.asarray(op.v2g_participation)[np.floor(scen.clock_hours()).astype(int) % 24] if v2g else np.zeros(T))
    beta = scen.scenarios["probability"].to_numpy(float)
    n = 2 * E * T + 2 * T + 1
    ix = lambda e, t: e * T + t  # noqa: E731
    idis = lambda e, t: E * T + e * T + t  # noqa: E731
    ismax = lambda t: 2 * E * T + t  # noqa: E731
    ismin = lambda t: 2 * E * T + T + t  # noqa: E731
    ipeak = n - 1

    total = ob.cost_weight * float(chosen["cost"].sum())
    for s in range(S):
        c = np.zeros(n)
        bounds: list[tuple[float | None, float | None]] = [(None, None)] * n
        A_ub, b_ub, A_eq, b_eq = [], [], [], []

        def row(entries: dict[int, float]) -> np.ndarray:
            r = np.zeros(n)
            for k, v in entries.items():
                r[k] += v
            return r

        fixed = np.zeros((len(feeders), T))
        for k, cid in enumerate(cust.index):
            if cid not in evs:
                fixed[feeders.index(feeder[cid])] += P[s, :, k]
        for e, cid in enumerate(evs):
            X = np.clip(P[s, :, list(cust.index).index(cid)], 0.0, None)
            Pc = float(cust.at[cid, "charge_kw"])
            Pd = float(cust.at[cid, "discharge_kw"]) if bool(cust.at[cid, "v2g"]) else 0.0
            base = (1 - alpha) * X  # the non-participating part
            lo = np.maximum(-Pd, base - op.v2g_discharge_share * alpha * Pd)
            hi = np.minimum(Pc, base + op.v2g_charge_share * alpha * Pc)
            for t in range(T):
                bounds[ix(e, t)] = (float(lo[t]), float(max(hi[t], lo[t])))
                bounds[idis(e, t)] = (0.0, None)
                c[idis(e, t)] = beta[s] * op.battery_wear_cost_per_kwh * scen.step_hours
                A_ub.append(row({idis(e, t): -1.0, ix(e, t): -1.0}))  # d >= -x
                b_ub.append(0.0)
            eps = op.ramp_share_per_step * Pc
            for t in range(1, T):  # |v_t - v_{t-1}| <= eps with v = x - base
                jump = base[t] - base[t - 1]
                A_ub.append(row({ix(e, t): 1.0, ix(e, t - 1): -1.0}))
                b_ub.append(eps + jump)
                A_ub.append(row({ix(e, t): -1.0, ix(e, t - 1): 1.0}))
                b_ub.append(eps - jump)
            A_eq.append(row({ix(e, t): 1.0 for t in range(T)}))  # energy
            b_eq.append(float(X.sum()))
        for t in range(T):
            c[ismax(t)] += beta[s] * ob.imbalance_weight * 100.0 / T
            c[ismin(t)] -= beta[s] * ob.imbalance_weight * 100.0 / T
            for f, fid in enumerate(feeders):
                R = float(rating[fid])
                on_f = {ix(e, t): 1.0 / R for e, cid in enumerate(evs) if feeder[cid] == fid}
                A_ub.append(row({**on_f, ismax(t): -1.0}))
                b_ub.append(-fixed[f, t] / R)
                A_ub.append(row({**{k: -v for k, v in on_f.items()}, ismin(t): 1.0}))
                b_ub.append(fixed[f, t] / R)
            A_ub.append(row({ismax(t): 100.0, ismin(t): -100.0, ipeak: -1.0}))
            b_ub.append(0.0)
        c[ipeak] = beta[s] * ob.peak_imbalance_weight
        res = linprog(c, A_ub=np.array(A_ub), b_ub=np.array(b_ub), A_eq=np.array(A_eq) if A_eq else None,
                      b_eq=np.array(b_eq) if b_eq else None, bounds=bounds, method="highs")
        assert res.status == 0, res.message
        total += float(res.fun)
    return total


def _rel_close(a: float, b: float, rel: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b), 1.0)


def schedule_cube(result, column: str) -> pd.DataFrame:
    return result.schedules.table.pivot_table(index=["customer_id", "scenario"], columns="step", values=column)


# --------------------------------------------------------------------------- fixtures


def fig3_coarse(**sections: dict) -> Case:
    return coarse(fig3_case(), **sections)


def f1_heavy_scenarios(case: Case, seed: int = 0) -> ScenarioSet:
    """Feeder F1 well above F2: moves onto F2 pay off."""
    return hand_scenarios(case, seed=seed)


# --------------------------------------------------------------------------- exhaustive check


@pytest.mark.parametrize(("method_id", "imbalance_weight"), [("m1", 1000.0), ("m1", 4000.0), ("m2", 4000.0)])
def test_milp_optimum_equals_best_enumerated_plan_fig3(method_id: str, imbalance_weight: float) -> None:
    """The optimum is a one-customer move at 1000 per point, the 3-customer move of the
    ev's tail at 4000; 23 feasible plans each time."""
    case = fig3_coarse(objective={"imbalance_weight": imbalance_weight})
    scen = f1_heavy_scenarios(case)
    options = move_options(case)
    assert options["end_node"].nunique() >= 2
    method = METHODS[method_id]

    res = plan_method(case, scen, method, options=options)
    assert not res.built.const.hard_lines and not res.built.const.heavy_lines  # the independent LP has no line rules

    plans = feasible_plans(options, case.params.planning.max_moved_customers)
    assert len(plans) > 20
    values = {}
    for plan in plans:
        rewire(case, as_moves(options.loc[plan]))  # every enumerated plan leaves a radial network
        values[tuple(plan)] = independent_objective(case, scen, options.loc[plan], v2g=method.v2g)
    best_plan, best = min(values.items(), key=lambda kv: kv[1])
    chosen = tuple(sorted(f"{mv.end_node}/{len(mv.customers)}->{mv.to_node}" for mv in res.plan.moves))
    assert _rel_close(res.info.objective, best), (res.info.objective, best, best_plan, chosen)
    # the MILP's own plan is worth what it says
    assert _rel_close(independent_objective(case, scen, options.loc[list(chosen)], v2g=method.v2g), res.info.objective)
    if not method.v2g:  # (g) m2: alpha = 0, every EV charges as uncontrolled
        t = res.schedules.table
        np.testing.assert_allclose(t["p_scheduled_kw"], t["p_uncontrolled_kw"], atol=1e-9)


@pytest.mark.parametrize("max_moved", [0, 2])
def test_moved_customer_limit(max_moved: int) -> None:
    """(d) M_max: 0 gives no move; 2 rules out the 3-customer move that is best otherwise,
    and the optimum is the best plan of at most 2 customers."""
    case = fig3_coarse(objective={"imbalance_weight": 4000.0}, planning={"max_moved_customers": max_moved})
    scen = f1_heavy_scenarios(case)
    options = move_options(case)
    res = plan_method(case, scen, METHODS["m2"], options=options)
    assert res.plan.moved_customers <= max_moved
    assert sum(len(mv.customers) for mv in res.plan.moves) == res.plan.moved_customers
    if max_moved == 0:
        assert res.plan.moves == []
    plans = feasible_plans(options, max_moved)
    best = min(independent_objective(case, scen, options.loc[p], v2g=False) for p in plans)
    assert _rel_close(res.info.objective, best)


@pytest.mark.slow
def test_milp_optimum_equals_best_enumerated_plan_simbench() -> None:
    sb = pytest.importorskip("simbench")
    del sb
    from lvbalance.io.simbench import case_from_simbench

    case = coarse(case_from_simbench("1-LV-rural1--0-sw", weeks=1), objective={"imbalance_weight": 4000.0})
    options = move_options(case)
    if options.empty:
        pytest.skip("no admissible move in this SimBench grid")
    scen = hand_scenarios(case, seed=3)
    res = plan_method(case, scen, METHODS["m1"], options=options)
    assert not res.built.const.hard_lines and not res.built.const.heavy_lines
    plans = feasible_plans(options, case.params.planning.max_moved_customers)
    values = {tuple(p): independent_objective(case, scen, options.loc[p], v2g=True) for p in plans}
    assert _rel_close(res.info.objective, min(values.values()))


# --------------------------------------------------------------------------- constraint families


def test_ramp_limit_changes_the_schedule() -> None:
    """(a) a tight ramp (Eq 25) costs objective and changes the schedule; both optima equal
    the independent LP's."""
    scen = None
    out = {}
    for share in (0.1, 1.0):
        case = fig3_coarse(operation={"ramp_share_per_step": share})
        scen = scen or f1_heavy_scenarios(case)
        res = plan_method(case, scen, METHODS["v2g_only"])
        assert _rel_close(res.info.objective, independent_objective(case, scen, move_options(case).iloc[0:0], v2g=True))
        x = schedule_cube(res, "p_scheduled_kw")
        X = schedule_cube(res, "p_uncontrolled_kw")
        alpha = np.asarray(case.params.operation.v2g_participation)[np.floor(scen.clock_hours()).astype(int)]
        v = x.to_numpy() - (1 - alpha) * X.to_numpy()
        out[share] = (res.info.objective, np.abs(np.diff(v, axis=1)).max(), x)
    eps_tight = 0.1 * 7.0
    assert out[0.1][1] <= eps_tight + 1e-6
    assert out[1.0][1] > eps_tight + 1e-3  # the loose schedule uses steps the tight one may not
    assert out[0.1][0] > out[1.0][0] + 1e-6
    assert not np.allclose(out[0.1][2].to_numpy(), out[1.0][2].to_numpy(), atol=1e-6)


def _f2_heavy_case(max_heavy_steps: int, l6_kw: float = 7.0) -> tuple[Case, ScenarioSet, pd.DataFrame]:
    """F2 (c7, c8) well above F1, constant c6 = c8 = 3 kW: moving c8 onto n6 doubles the
    flow on line l6 (n3-n6) to 6 kW, above mu * 7 kW = 5.6 kW at every step, below 7 kW."""
    case = fig3_coarse(operation={"max_heavy_steps": max_heavy_steps}, objective={"cost_weight": 0.0})
    case = with_line_ratings(case, {"l6": l6_kw})
    const = np.full((len(SCENARIO_IDS), T_STEPS), 1.0)
    scen = hand_scenarios(case, base_kw={"commercial": 0.0}, overrides={"c6": 3.0 * const, "c8": 3.0 * const, "c7": 8.0 * const})
    options = move_options(case).loc[["m2/1->n6"]]
    return case, scen, options


@pytest.mark.parametrize("max_heavy_steps", [8, 2])
def test_heavy_load_window_forbids_a_move(max_heavy_steps: int) -> None:
    """(b) the move puts l6 in heavy load for all 8 steps: allowed with T_max = 8, not with 2."""
    case, scen, options = _f2_heavy_case(max_heavy_steps)
    res = plan_method(case, scen, METHODS["m1"], options=options)
    assert "l6" in res.built.const.heavy_lines and "l6" not in res.built.const.hard_lines
    # independent: the forced move keeps l6 heavy for every step, without it l6 is never heavy
    customers = list(case.customers.index)
    power = scen.p_kw.transpose("customer", "scenario", "step").sel(customer=customers).to_numpy()
    mu_r = case.params.operation.heavy_load_share * 7.0
    moved = flows_after(case, rewire(case, as_moves(options)), power, customers)["l6"]
    assert (moved > mu_r).all() and (moved < 7.0).all()
    assert (flows_after(case, rewire(case, []), power, customers)["l6"] < mu_r).all()
    assert res.metrics.violations == []
    if max_heavy_steps == 8:
        assert [mv.to_node for mv in res.plan.moves] == ["n6"]  # worth it for the imbalance
        assert res.metrics.heavy_load_max_steps.get("l6") == T_STEPS
    else:
        assert res.plan.moves == []
        assert res.metrics.heavy_load_max_steps.get("l6", 0) <= max_heavy_steps


def test_rules_broken_as_built_are_reported_as_slack() -> None:
    """(b) l6 already over its rating and heavy for too long as built: feasible, reported."""
    case, scen, _ = _f2_heavy_case(2, l6_kw=2.5)
    res = plan_method(case, scen, METHODS["v2g_only"])
    kinds = {(v["line"], v["scenario"], v["kind"].split()[0]) for v in res.metrics.violations}
    for s in SCENARIO_IDS:
        assert ("l6", s, "rating") in kinds and ("l6", s, "heavy") in kinds
    over = [v for v in res.metrics.violations if v["kind"].startswith("rating")]
    assert all(v["steps"] == list(range(T_STEPS)) and v["max"] == pytest.approx(0.5, abs=1e-6) for v in over)
    heavy = [v for v in res.metrics.violations if v["kind"].startswith("heavy")]
    # 8 heavy steps, windows of T_max + 1 = 3 steps: 6 windows each 1 step too many
    assert all(len(v["steps"]) == T_STEPS - 2 for v in heavy)


def _moved_ev_result(method_id: str = "m1"):
    case = fig3_coarse(objective={"imbalance_weight": 4000.0, "cost_weight": 0.0})
    scen = f1_heavy_scenarios(case)
    options = move_options(case)
    options = options[options["end_node"] == "n5"]
    return case, scen, plan_method(case, scen, METHODS[method_id], options=options)


def test_moved_ev_counts_on_its_new_feeder() -> None:
    """(c) the plan moves c2 (ev) onto F2; the model's feeder loads equal the independent
    recomputation from the plan and the schedule."""
    case, scen, res = _moved_ev_result()
    assert any("c2" in mv.customers and mv.to_feeder == "F2" for mv in res.plan.moves)
    x = schedule_cube(res, "p_scheduled_kw")
    X = schedule_cube(res, "p_uncontrolled_kw")
    assert np.abs(x.to_numpy() - X.to_numpy()).max() > 1e-3  # the moved EV is really scheduled
    customers = list(case.customers.index)
    power = scen.p_kw.transpose("customer", "scenario", "step").sel(customer=customers).to_numpy().copy()
    power[customers.index("c2")] = x.loc["c2"].reindex(SCENARIO_IDS).to_numpy()
    flows = flows_after(case, rewire(case, res.plan.moves), power, customers)
    loads = feeder_loads(case, flows)
    model = res.feeder_loads.pivot_table(index=["feeder", "scenario"], columns="step", values="p_kw")
    for f, arr in loads.items():
        np.testing.assert_allclose(model.loc[f].reindex(SCENARIO_IDS).to_numpy(), arr, atol=1e-6, rtol=0)
    # and not where it was: F1 without c2
    without = flows_after(case, rewire(case, []), power, customers)
    assert np.abs(without["l1"] - loads["F1"]).min() > 1.0


def _solve_forced(built, forced: list[str]) -> str:
    """Solve with ``u == 1`` for the ``forced`` options; the forcing is removed afterwards."""
    m = built.model
    assert set(forced) <= set(m.variables["u"].indexes["option"])
    names = []
    for k, o in enumerate(forced):
        names.append(f"force_{k}")
        m.add_constraints(m.variables["u"].sel(option=o) == 1, name=names[-1])
    _, condition = m.solve(solver_name="highs", io_api="direct", progress=False, output_flag=False)
    for n in names:
        m.remove_constraints(n)
    return condition


FORCED = [
    (["m2/1->n3"], True),
    (["m2/1->n3", "n6/1->m1"], True),  # two end nodes, target m1 stays put
    (["m2/1->n3", "m2/2->n1"], False),  # (e) one move per end node
    (["n6/1->m2", "m2/1->n3"], False),  # target m2 moves with its own tail
    (["n6/1->m1", "m2/2->n1"], False),  # target m1 moves with m2's 2-customer tail
]


def test_stage1_rules_forced() -> None:
    """(e) forcing two moves of one end node, or a move onto a moving tail, is infeasible;
    (d) a move beyond M_max is infeasible."""
    case = fig3_coarse(planning={"max_moved_customers": 2})
    scen = f1_heavy_scenarios(case)
    options = move_options(case)
    union = list(dict.fromkeys(o for forced, _ in FORCED for o in forced))
    built = build_model(model_data(case, scen, options.loc[union]), METHODS["m1"])
    for forced, feasible in FORCED:
        condition = _solve_forced(built, forced)
        assert (condition == "optimal") is feasible, (forced, condition)
    built = build_model(model_data(case, scen, options.loc[["n5/2->m2", "n5/3->m2", *union]]), METHODS["m1"])
    assert _solve_forced(built, ["n5/2->m2"]) == "optimal"  # 2 customers
    assert _solve_forced(built, ["n5/3->m2"]) != "optimal"  # (d) 3 customers > M_max = 2
    assert _solve_forced(built, ["n5/2->m2", "n6/1->m1"]) != "optimal"  # 3 customers in all


# --------------------------------------------------------------------------- schedules and written outputs


@pytest.fixture(scope="module")
def moved_ev():
    """m1 on fig3 where the plan moves the ev customer c2 (shared, read only)."""
    return _moved_ev_result()


def test_ev_energy_and_limits_hold_in_schedules(moved_ev) -> None:
    """(f) every EV's energy over the horizon equals uncontrolled charging (Eq 26), within
    its charger limits (Eq 22), and the schedule differs from uncontrolled."""
    case, scen, res = moved_ev
    t = res.schedules.table
    assert set(t["customer_id"]) == set(case.ev_customers.index)
    assert len(t) == len(case.ev_customers) * len(SCENARIO_IDS) * T_STEPS
    energy = t.groupby(["customer_id", "scenario"])[["p_scheduled_kw", "p_uncontrolled_kw"]].sum()
    np.testing.assert_allclose(energy["p_scheduled_kw"], energy["p_uncontrolled_kw"], atol=1e-6)
    pc = case.customers.loc[t["customer_id"], "charge_kw"].to_numpy()
    pd_ = case.customers.loc[t["customer_id"], "discharge_kw"].to_numpy()
    assert (t["p_scheduled_kw"] <= pc + 1e-6).all() and (t["p_scheduled_kw"] >= -pd_ - 1e-6).all()
    X = scen.p_kw.sel(customer="c2").transpose("scenario", "step").to_series()
    np.testing.assert_allclose(t.set_index(["scenario", "step"])["p_uncontrolled_kw"].loc[X.index], X, atol=1e-12)


def test_baseline_schedules_are_uncontrolled() -> None:
    """(g) baseline: no move, every EV charges as uncontrolled (m2: in the exhaustive test)."""
    case = fig3_coarse(objective={"imbalance_weight": 4000.0})
    scen = f1_heavy_scenarios(case)
    res = plan_method(case, scen, METHODS["baseline"])
    t = res.schedules.table
    assert len(t) == len(SCENARIO_IDS) * T_STEPS
    np.testing.assert_allclose(t["p_scheduled_kw"], t["p_uncontrolled_kw"], atol=1e-9)
    assert res.plan.moves == []
    assert res.metrics.expected_imbalance_after_pct == pytest.approx(res.metrics.expected_imbalance_before_pct, rel=1e-9)
    assert _rel_close(res.info.objective, independent_objective(case, scen, move_options(case).iloc[0:0], v2g=False))


def _write_all(out, case: Case, scen: ScenarioSet, res) -> None:
    """``results.write_results`` plus scenarios.csv / profiles.csv in the DESIGN.md schema."""
    write_results(out, res.plan, res.schedules, res.feeder_loads, res.metrics)
    scen.scenarios.reset_index()[["scenario", "probability", "day_type", "weather"]].to_csv(out / "scenarios.csv", index=False)
    scen.p_kw.transpose("scenario", "step", "customer").to_series().rename("p_kw").reset_index() \
        .rename(columns={"customer": "customer_id"})[["scenario", "step", "customer_id", "p_kw"]] \
        .to_csv(out / "profiles.csv", index=False)


def test_check_outputs_passes_on_results_as_written(moved_ev, tmp_path) -> None:
    """(h) the independent re-check finds nothing wrong with what the model wrote."""
    case, scen, res = moved_ev
    _write_all(tmp_path, case, scen, res)
    rep = check_outputs(case, tmp_path)
    assert rep.ok, (rep.violations, rep.differences)
    assert rep.recomputed["expected_imbalance_after_pct"] == pytest.approx(res.metrics.expected_imbalance_after_pct, rel=1e-6)


def test_check_outputs_catches_a_tampered_schedule(moved_ev, tmp_path) -> None:
    case, scen, res = moved_ev
    _write_all(tmp_path, case, scen, res)
    sched = pd.read_csv(tmp_path / "schedules.csv", dtype={"scenario": str, "customer_id": str})
    sched.loc[0, "p_scheduled_kw"] += 1.5  # more energy than uncontrolled, other feeder loads
    sched.to_csv(tmp_path / "schedules.csv", index=False)
    rep = check_outputs(case, tmp_path)
    assert not rep.ok
    assert any("energy" in v for v in rep.violations)
    assert any("feeder_loads.csv" in d for d in rep.differences)


@pytest.mark.parametrize("tamper", [
    "drop_move",
    "split_node",
    "duplicate_move",
    "own_tail_target",
])
def test_check_outputs_catches_a_tampered_plan(moved_ev, tmp_path, tamper: str) -> None:
    case, scen, res = moved_ev
    _write_all(tmp_path, case, scen, res)
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert len(plan["moves"]) == 1 and plan["moves"][0]["end_node"] == "n5"
    if tamper == "drop_move":
        plan["moves"] = []
    elif tamper == "split_node":
        plan["moves"][0]["customers"] = ["c1"]  # c1 without c2: splits the customers of n5
        plan["moves"][0]["cut_node"] = "n5"
    elif tamper == "duplicate_move":
        plan["moves"] = plan["moves"] * 2
    else:
        plan["moves"][0]["to_node"] = "n5"  # onto its own moving tail
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    rep = check_outputs(case, tmp_path)
    assert not rep.ok, tamper
    if tamper == "drop_move":
        assert any("moved_customers" in d for d in rep.differences)
        assert any("feeder_loads.csv" in d for d in rep.differences)
    elif tamper == "split_node":
        assert any("splits the customers of node n5" in v for v in rep.violations)
    elif tamper == "duplicate_move":
        assert "more than one move per end node" in rep.violations
    else:
        assert any("targets a node of its own combination" in v for v in rep.violations)
