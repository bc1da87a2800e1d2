"""``model.stage2``: one test per constraint family of stage 2 (MODEL.md §5) on a small case where it binds.

Scenarios are built by hand (:func:`tests.fixtures.hand_scenarios`, 8 steps of 3 h from 08:00)
so that every solve is small; what the model says is checked against
:func:`tests.fixtures.independent_objective` (scipy LP) and :mod:`lvbalance.flows`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lvbalance.case import Case
from lvbalance.coupling import move_options
from lvbalance.flows import feeder_loads, line_flows, max_run, rewire
from lvbalance.model.methods import METHODS
from lvbalance.model.run import plan_method
from lvbalance.profiles import ScenarioSet
from tests.fixtures import (
    SCENARIO_IDS,
    T_STEPS,
    as_moves,
    customer_power,
    feasible_plans,
    fig3_coarse,
    hand_scenarios,
    independent_objective,
    moved_ev_result,
    rel_close,
    schedule_cube,
    with_line_ratings,
)


def test_ramp_limit_changes_the_schedule() -> None:
    """Eq 25: a tight ramp costs objective and changes the schedule; both optima equal the
    independent LP's."""
    out = {}
    for share in (0.1, 1.0):
        case = fig3_coarse(operation={"ramp_share_per_step": share})
        scen = hand_scenarios(case)
        res = plan_method(case, scen, METHODS["v2g_only"])
        assert rel_close(res.info.objective, independent_objective(case, scen, move_options(case).iloc[0:0], v2g=True))
        x = schedule_cube(res, "p_scheduled_kw")
        X = schedule_cube(res, "p_uncontrolled_kw")
        alpha = np.asarray(case.params.operation.v2g_participation)[np.floor(scen.clock_hours()).astype(int)]
        v = x.to_numpy() - (1 - alpha) * X.to_numpy()
        out[share] = (res.info.objective, np.abs(np.diff(v, axis=1)).max(), x)
    eps_tight = 0.1 * 7.0  # ramp share x Pc of c2 [kW per step]
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
    """Eq 20: the move puts l6 in heavy load for all 8 steps: allowed with T_max = 8, not with 2."""
    case, scen, options = _f2_heavy_case(max_heavy_steps)
    res = plan_method(case, scen, METHODS["m1"], options=options)
    assert "l6" in res.built.const.heavy_lines and "l6" not in res.built.const.hard_lines
    # independent: the forced move keeps l6 at 6 kW (heavy) for every step, without it l6 carries 3 kW
    power, customers = customer_power(case, scen)
    moved = line_flows(case, rewire(case, as_moves(options)), power, customers)["l6"]
    np.testing.assert_allclose(moved, 6.0)
    np.testing.assert_allclose(line_flows(case, rewire(case, []), power, customers)["l6"], 3.0)
    assert res.violations == []
    # heavy-load run of l6 after the plan, recomputed from the plan
    power_after = power.copy()
    power_after[customers.index("c2")] = schedule_cube(res, "p_scheduled_kw").loc["c2"].reindex(SCENARIO_IDS).to_numpy()
    l6 = line_flows(case, rewire(case, res.plan.moves), power_after, customers)["l6"]
    mu_r = case.params.operation.heavy_load_share * 7.0
    if max_heavy_steps == 8:
        assert [(mv.end_node, mv.to_node) for mv in res.plan.moves] == [("m2", "n6")]  # worth it for the imbalance
        assert max_run(np.abs(l6) > mu_r) == T_STEPS
    else:
        assert res.plan.moves == []
        assert max_run(np.abs(l6) > mu_r) == 0


def test_rules_broken_as_built_are_reported_as_slack() -> None:
    """Eq 20 with slack: l6 (2.5 kW) already carries c6 = 3 kW as built, over its rating and
    heavy (> 0.8 x 2.5 = 2 kW) for all 8 steps with T_max = 2: feasible, and reported."""
    case, scen, _ = _f2_heavy_case(2, l6_kw=2.5)
    res = plan_method(case, scen, METHODS["v2g_only"])
    kinds = sorted((v["line"], v["scenario"], v["kind"].split()[0]) for v in res.violations)
    assert kinds == sorted(("l6", s, k) for s in SCENARIO_IDS for k in ("rating", "heavy"))
    over = [v for v in res.violations if v["kind"].startswith("rating")]
    for v in over:  # 3 kW on 2.5 kW at every step
        assert v["steps"] == list(range(T_STEPS)) and v["max"] == pytest.approx(0.5, abs=1e-6)
    heavy = [v for v in res.violations if v["kind"].startswith("heavy")]
    # 8 heavy steps; the windows of T_max + 1 = 3 steps start at steps 0..5, each has 3 heavy
    # steps, one too many
    for v in heavy:
        assert v["steps"] == list(range(T_STEPS - 2)) and v["max"] == pytest.approx(1.0, abs=1e-6)


# --------------------------------------------------------------------------- moved EVs and EV schedules


@pytest.fixture(scope="module")
def moved_ev():
    """m1 on fig3 where the plan moves the ev customer c2 (shared, read only)."""
    return moved_ev_result()


def test_moved_ev_counts_on_its_new_feeder(moved_ev) -> None:
    """MODEL.md §5, exact accounting: the plan moves c2 (ev) onto F2; the model's feeder loads
    equal the independent recomputation from the plan and the schedule."""
    case, scen, res = moved_ev
    assert [(mv.end_node, mv.to_node, mv.to_feeder) for mv in res.plan.moves] == [("n5", "m2", "F2")]
    moved = res.plan.moves[0].customers
    assert moved == ["c1", "c2", "c3"]
    # the independent LP agrees that the 3-customer move beats the 2-customer one
    options = move_options(case)
    assert independent_objective(case, scen, options.loc[["n5/3->m2"]], v2g=True) < independent_objective(
        case, scen, options.loc[["n5/2->m2"]], v2g=True
    )
    x = schedule_cube(res, "p_scheduled_kw")
    X = schedule_cube(res, "p_uncontrolled_kw")
    assert np.abs(x.to_numpy() - X.to_numpy()).max() > 1e-3  # the moved EV is really scheduled
    power, customers = customer_power(case, scen)
    power[customers.index("c2")] = x.loc["c2"].reindex(SCENARIO_IDS).to_numpy()
    flows = line_flows(case, rewire(case, res.plan.moves), power, customers)
    loads = feeder_loads(case, flows)
    model = res.feeder_loads.pivot_table(index=["feeder", "scenario"], columns="step", values="p_kw")
    for f, arr in loads.items():
        np.testing.assert_allclose(model.loc[f].reindex(SCENARIO_IDS).to_numpy(), arr, atol=1e-6, rtol=0)
    # and not where it was: F1 as built minus exactly the moved customers, scheduled EV included
    without = line_flows(case, rewire(case, []), power, customers)
    moved_kw = sum(power[customers.index(c)] for c in moved)
    np.testing.assert_allclose(without["l1"] - loads["F1"], moved_kw, atol=1e-9)
    np.testing.assert_allclose(loads["F2"] - without["l7"], moved_kw, atol=1e-9)


def test_ev_energy_and_limits_hold_in_schedules(moved_ev) -> None:
    """Every EV's energy over the horizon equals uncontrolled charging (Eq 26), within its
    charger limits (Eq 22); the uncontrolled column is the scenario's profile."""
    case, scen, res = moved_ev
    t = res.schedules.table
    assert set(t["customer_id"]) == {"c2"}  # the one ev customer of Fig 3
    assert len(t) == 1 * len(SCENARIO_IDS) * T_STEPS
    energy = t.groupby(["customer_id", "scenario"])[["p_scheduled_kw", "p_uncontrolled_kw"]].sum()
    np.testing.assert_allclose(energy["p_scheduled_kw"], energy["p_uncontrolled_kw"], atol=1e-6)
    # hand_scenarios: 7 kW at step 4, then 0.4 x 7 (working-sunny) or 0.6 x 7 (non_working-cloudy)
    np.testing.assert_allclose(energy["p_uncontrolled_kw"].loc["c2"].reindex(SCENARIO_IDS), [7.0 * 1.4, 7.0 * 1.6])
    assert (t["p_scheduled_kw"] <= 7.0 + 1e-6).all() and (t["p_scheduled_kw"] >= -7.0 - 1e-6).all()
    X = scen.p_kw.sel(customer="c2").transpose("scenario", "step").to_series()
    np.testing.assert_allclose(t.set_index(["scenario", "step"])["p_uncontrolled_kw"].loc[X.index], X, atol=1e-12)


def test_baseline_schedules_are_uncontrolled() -> None:
    """baseline: no move, every EV charges as uncontrolled (m2: in test_model_run.py)."""
    case = fig3_coarse(objective={"imbalance_weight": 4000.0})
    scen = hand_scenarios(case)
    res = plan_method(case, scen, METHODS["baseline"])
    t = res.schedules.table
    assert len(t) == len(SCENARIO_IDS) * T_STEPS
    np.testing.assert_allclose(t["p_scheduled_kw"], t["p_uncontrolled_kw"], atol=1e-9)
    assert res.plan.moves == []
    # the model's E_I is the as-built imbalance recomputed with lvbalance.flows
    power, customers = customer_power(case, scen)
    loads = feeder_loads(case, line_flows(case, rewire(case, []), power, customers))
    rate = np.stack([loads[f] / 150.0 for f in ("F1", "F2")])  # both outlets rated 150 kW
    by_hand = float(np.dot([0.7, 0.3], (100 * np.abs(rate[0] - rate[1])).mean(axis=1)))
    assert res.expected_imbalance_pct == pytest.approx(by_hand, rel=1e-9)
    assert rel_close(res.info.objective, independent_objective(case, scen, move_options(case).iloc[0:0], v2g=False))


def test_line_rules_on_some_steps_only_build_without_warnings() -> None:
    """A line that can exceed its rating (and mu x rating) at some steps only gets slack and
    heavy-load binaries there; the masked families build quietly (warnings are errors here)
    and the plan still respects the rating where it can."""
    from lvbalance.model.build import build_model
    from lvbalance.model.data import model_data

    case = fig3_coarse(operation={"max_heavy_steps": 2})  # 8 steps: windows of 3 steps start at steps 0..5
    scen = hand_scenarios(case)
    base = build_model(model_data(case, scen), METHODS["v2g_only"])
    bound = base.const.flow_bound_kw.sel(line="l8").to_numpy()
    rating = float(np.median(bound))  # above the bound at some steps, below at others
    limited = with_line_ratings(case, {"l8": rating})
    built = build_model(model_data(limited, scen), METHODS["v2g_only"])
    assert "l8" in built.const.hard_lines and "l8" in built.const.heavy_lines
    assert built.slack.overload_kw is not None and built.slack.heavy_excess is not None
    present = (built.slack.overload_kw.labels.sel(line="l8") >= 0).to_numpy()
    assert present.any() and not present.all()


@pytest.mark.parametrize("method", ["m1", "m2"])
def test_flow_bound_holds_for_every_plan_at_every_step(method: str) -> None:
    """The (line, scenario, step) flow bound covers every admissible plan: for each plan, the
    worst-case power of the customers below each line after its moves (each customer at
    |fixed| + |v| at most, summed by walking the tree from the customer's new node) stays
    below it at every scenario and step; and some plan reaches it on some line."""
    from lvbalance.model.bounds import derive_constants
    from lvbalance.model.data import model_data

    case = fig3_coarse()
    scen = hand_scenarios(case)
    options = move_options(case)
    data = model_data(case, scen, options)
    const = derive_constants(data, METHODS[method], options)
    v_abs = np.maximum(-const.v_lower, const.v_upper).rename(ev="customer")
    worst = abs(const.fixed_kw) + v_abs.reindex(customer=const.fixed_kw["customer"].values, fill_value=0.0)
    lines = case.network.lines
    parent_line = {row.to_node: (ln, row.from_node) for ln, row in lines.iterrows()}  # radial: one line into each node

    def lines_above(node: str) -> list[str]:
        out = []
        while node in parent_line:
            ln, node = parent_line[node]
            out.append(ln)
        return out

    bound = const.flow_bound_kw.transpose("line", "scenario", "step")
    reached = False
    for plan in feasible_plans(options, case.params.planning.max_moved_customers):
        node_of = case.customers["node_id"].to_dict()
        for oid in plan:
            for c in options.loc[oid, "customers"]:
                node_of[c] = options.loc[oid, "to_node"]
        flow = xr.zeros_like(bound)
        for c, node in node_of.items():
            for ln in lines_above(node):
                flow.loc[{"line": ln}] += worst.sel(customer=c)
        assert bool((flow <= bound + 1e-9).all()), plan
        reached |= bool((flow >= bound - 1e-9).any())
    assert reached
