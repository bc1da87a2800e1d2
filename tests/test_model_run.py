"""``model.run.plan_method``: the MILP's optimum against exhaustive enumeration (MODEL.md §4-§6).

Every feasible stage-1 plan is enumerated by hand (:func:`tests.fixtures.feasible_plans`),
its stage 2 solved as an independent LP (:func:`tests.fixtures.independent_objective`,
scipy, written from MODEL.md §5-§6, not from ``lvbalance.model``), and the MILP's optimum
must equal the best of them.

The move options of the Fig 3 case (``coupling.move_options``, R_max = 250 m):

* end node m2 (F2 -> F1): ``m2/1`` (c8) onto n1, n2, n3, n4, n5 or n6, ``m2/2`` (c8, c7)
  onto n1, n3 or n6: 9 options, every one moves node m2, the 2-customer ones also m1;
* end node n5 (F1 -> F2): ``n5/2`` (c1, c2) and ``n5/3`` (c1, c2, c3), both onto m2;
* end node n6 (F1 -> F2): ``n6/1`` (c6) onto m2 or m1.

Feasible plans (at most one option per end node, no target on a moving tail), by hand:

* no m2 move: n5 in {none, n5/2, n5/3} x n6 in {none, ->m2, ->m1} never clash: 9 plans;
* an m2 move: every n5 option targets m2, which moves: n5 none. n6->m2 targets m2: out.
  n6->m1 clashes with the 2-customer m2 moves (m1 moves) and with m2/1->n6 (n6 moves):
  6 one-customer m2 moves alone + 5 of them with n6->m1 + 3 two-customer m2 moves = 14;

23 in all. At most 6 customers move in any plan, below M_max = 10. With M_max = 2: of the 9
plans without an m2 move, n5/3 (3 customers) and n5/2 with a move of n6 (3 customers) drop
out, leaving 3 + 1 = 4; the 14 with an m2 move move at most 2 customers: 4 + 14 = 18. With
M_max = 0 only the empty plan is left.
"""

from __future__ import annotations

import numpy as np
import pytest

from lvbalance.coupling import move_options
from lvbalance.flows import feeder_loads, line_flows, rewire
from lvbalance.model.methods import METHODS
from lvbalance.model.run import plan_method
from tests.fixtures import (
    FIG3_OPTION_COST,
    SCENARIO_IDS,
    as_moves,
    coarse,
    customer_power,
    feasible_plans,
    fig3_coarse,
    hand_scenarios,
    independent_objective,
    rel_close,
    schedule_cube,
)


def _option_id(mv) -> str:
    return f"{mv.end_node}/{len(mv.customers)}->{mv.to_node}"


def test_fig3_move_options_and_feasible_plans_by_hand() -> None:
    options = move_options(fig3_coarse())
    assert options.groupby("end_node").size().to_dict() == {"m2": 9, "n5": 2, "n6": 2}
    assert options["cost"].to_dict() == pytest.approx(FIG3_OPTION_COST)
    assert len(feasible_plans(options, 10)) == 23
    assert len(feasible_plans(options, 2)) == 18
    assert feasible_plans(options, 0) == [[]]


@pytest.mark.parametrize(
    ("method_id", "imbalance_weight", "best"),
    [
        # one customer (the cheapest option, 2400) at 1000 per point
        pytest.param("m1", 1000.0, ("n6/1->m2",), marks=pytest.mark.slow),
        # the ev's 3-customer tail at 4000 per point
        pytest.param("m1", 4000.0, ("n5/3->m2",), marks=pytest.mark.slow),
        ("m2", 4000.0, ("n5/3->m2",)),
    ],
)
def test_milp_optimum_equals_best_enumerated_plan_fig3(method_id: str, imbalance_weight: float, best: tuple[str, ...]) -> None:
    case = fig3_coarse(objective={"imbalance_weight": imbalance_weight})
    scen = hand_scenarios(case)
    options = move_options(case)
    method = METHODS[method_id]

    res = plan_method(case, scen, method, options=options)
    assert not res.built.const.hard_lines and not res.built.const.heavy_lines  # the independent LP has no line rules

    plans = feasible_plans(options, case.params.planning.max_moved_customers)
    assert len(plans) == 23  # module docstring
    values = {}
    for plan in plans:
        rewire(case, as_moves(options.loc[plan]))  # every enumerated plan leaves a radial network
        values[tuple(plan)] = independent_objective(case, scen, options.loc[plan], v2g=method.v2g)
    ranked = sorted(values.items(), key=lambda kv: kv[1])
    (best_plan, best_value), (_, second) = ranked[0], ranked[1]
    assert best_plan == best
    assert second > best_value * (1 + 1e-3)  # the best plan is unique: the MILP must find this one
    chosen = tuple(sorted(_option_id(mv) for mv in res.plan.moves))
    assert chosen == best
    assert rel_close(res.info.objective, best_value), (res.info.objective, best_value)
    if not method.v2g:  # m2: alpha = 0, every EV charges as uncontrolled
        t = res.schedules.table
        np.testing.assert_allclose(t["p_scheduled_kw"], t["p_uncontrolled_kw"], atol=1e-9)
    # the model's feeder loads (Benders for m1) equal the flows recomputed from plan and schedule
    power, customers = customer_power(case, scen)
    power[customers.index("c2")] = schedule_cube(res, "p_scheduled_kw").loc["c2"].reindex(SCENARIO_IDS).to_numpy()
    loads = feeder_loads(case, line_flows(case, rewire(case, res.plan.moves), power, customers))
    model = res.feeder_loads.pivot_table(index=["feeder", "scenario"], columns="step", values="p_kw")
    for f, arr in loads.items():
        np.testing.assert_allclose(model.loc[f].reindex(SCENARIO_IDS).to_numpy(), arr, atol=1e-6, rtol=0)


@pytest.mark.parametrize("max_moved", [0, 2])
def test_moved_customer_limit(max_moved: int) -> None:
    """M_max (Eq 5): 0 gives no move; 2 rules out the 3-customer move that is best otherwise
    (test above), and the optimum is the best plan of at most 2 customers."""
    case = fig3_coarse(objective={"imbalance_weight": 4000.0}, planning={"max_moved_customers": max_moved})
    scen = hand_scenarios(case)
    options = move_options(case)
    res = plan_method(case, scen, METHODS["m2"], options=options)
    plans = feasible_plans(options, max_moved)
    assert len(plans) == {0: 1, 2: 18}[max_moved]  # module docstring
    values = {tuple(p): independent_objective(case, scen, options.loc[p], v2g=False) for p in plans}
    best_plan, best = min(values.items(), key=lambda kv: kv[1])
    assert rel_close(res.info.objective, best)
    assert tuple(sorted(_option_id(mv) for mv in res.plan.moves)) == best_plan
    assert res.plan.moved_customers == sum(len(options.at[o, "customers"]) for o in best_plan)
    # M_max = 2: the best is the single move of c6 onto F2 (the 2-customer moves do not pay)
    assert best_plan == {0: (), 2: ("n6/1->m2",)}[max_moved]


@pytest.mark.slow
def test_milp_optimum_equals_best_enumerated_plan_simbench() -> None:
    pytest.importorskip("simbench")
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
    assert rel_close(res.info.objective, min(values.values()))
    # the MILP's own plan is worth what it says
    moves = {(mv.end_node, tuple(mv.customers), mv.to_node) for mv in res.plan.moves}
    chosen = [oid for oid, o in options.iterrows() if (o["end_node"], tuple(o["customers"]), o["to_node"]) in moves]
    assert len(chosen) == len(res.plan.moves)
    assert rel_close(independent_objective(case, scen, options.loc[chosen], v2g=True), res.info.objective)


def test_extensive_form_stopped_early_keeps_the_no_move_plan() -> None:
    """The extensive MILP starts from the plan without moves: stopped before its first node (a
    limit that does not depend on the machine's speed), it ends with that plan and its value (the
    stage 2 of no move, as the baseline solves it), not without a solution."""
    from lvbalance.data import load_default_case
    from lvbalance.model.build import build_model
    from lvbalance.model.data import model_data
    from lvbalance.model.solve import _solve_from_no_move, _solver_options
    from lvbalance.profiles import build_profiles
    from lvbalance.results import SolveStatus

    case = load_default_case()
    scen = build_profiles(case).scenarios
    none = plan_method(case, scen, METHODS["baseline"]).info.objective  # m2's stage 2 without a move
    built = build_model(model_data(case, scen, move_options(case)), METHODS["m2"])
    info = _solve_from_no_move(built, _solver_options("highs", case.params.solver) | {"mip_max_nodes": 0})
    assert info.status == SolveStatus.TIME_LIMIT
    assert info.objective == pytest.approx(none, rel=1e-9)
    assert built.u is not None and np.all(np.abs(built.u.solution.to_numpy()) < 1e-9)
    full = _solve_from_no_move(built, _solver_options("highs", case.params.solver))  # and unlimited: a better plan
    assert full.status == SolveStatus.OPTIMAL and full.objective < none - 1.0
