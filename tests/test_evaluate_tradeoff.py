"""``evaluate.tradeoff``: the cost-imbalance front against exhaustive enumeration (MODEL.md §6).

Case: :func:`tests.fixtures.fig3_coarse` at 4000 per point with the scenarios of
:func:`tests.fixtures.hand_scenarios` (seed 0, commercial 6 kW, pv -2 kW). Of its 23
feasible plans (``tests/test_model_run.py``) the enumerated front of cost against
``S = lambda2 E[I] + peak + wear`` (Eq 27 without its cost term, stage 2 by the independent
LP of :func:`tests.fixtures.independent_objective`) has four plans:

======  ===================  ======================================
cost    plan                 note
======  ===================  ======================================
0       no move
2400    n6/1 -> m2           c6 onto F2
6800    n5/3 -> m2           c1, c2, c3 onto F2: unsupported, above the
                             chord of its neighbours (no weight picks it)
8800    n5/2 -> m2           c1, c2 onto F2
======  ===================  ======================================
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from lvbalance.coupling import move_options
from lvbalance.evaluate.metrics import compute_metrics
from lvbalance.evaluate.recheck import check_outputs
from lvbalance.evaluate.tradeoff import (
    NO_MOVE,
    TRADEOFF_COLUMNS,
    FrontPoint,
    TradeoffFront,
    pareto,
    plan_with_tradeoff,
    select_point,
    tradeoff_front,
    write_tradeoff,
)
from lvbalance.model.methods import METHODS
from lvbalance.profiles import ScenarioSet, write_profiles
from lvbalance.results import write_results
from tests.fixtures import feasible_plans, fig3_coarse, hand_scenarios, independent_objective, rel_close

FRONT = [(), ("n6/1->m2",), ("n5/3->m2",), ("n5/2->m2",)]


def _case_and_scenarios(**sections: dict):
    case = fig3_coarse(objective={"imbalance_weight": 4000.0}, **sections)
    return case, hand_scenarios(case, seed=0, base_kw={"commercial": 6.0, "pv": -2.0})


def _write_and_check(case, scen: ScenarioSet, res, folder: Path) -> None:
    """Write the point's plan as ``plan`` would and re-check it independently of the model."""
    write_results(folder, res.plan, res.schedules, res.feeder_loads, compute_metrics(res))
    write_profiles(SimpleNamespace(scenarios=scen), folder)  # only its scenarios are read
    rep = check_outputs(case, folder)
    assert rep.ok, (folder, rep.violations, rep.differences)
    assert rep.recomputed["expected_imbalance_after_pct"] == pytest.approx(res.expected_imbalance_pct, rel=1e-6)


def _enumerated(case, scen, options, *, v2g: bool) -> dict[tuple[str, ...], tuple[float, float]]:
    """Every feasible plan -> (cost, S), S = Eq 27 without its cost term, by the independent LP."""
    free = case.with_params(case.params.updated(objective={"cost_weight": 0.0}))
    out = {}
    for plan in feasible_plans(options, case.params.planning.max_moved_customers):
        chosen = options.loc[plan]
        out[tuple(sorted(plan))] = (float(chosen["cost"].sum()), independent_objective(free, scen, chosen, v2g=v2g))
    return out


def _check_against_enumeration(front: TradeoffFront, values: dict[tuple[str, ...], tuple[float, float]]) -> None:
    """Each point is the best plan within its budget (least S, then least cost; unique), and the
    points are the enumerated front: the plans that no cheaper or equally cheap plan matches in S."""
    enumerated, best = [], math.inf
    for plan, (_, s) in sorted(values.items(), key=lambda kv: kv[1]):
        if s < best * (1 - 1e-6):
            enumerated.append(plan)
            best = s
    assert [p.options for p in front.points] == enumerated
    for p in front.points:
        within = {plan: cs for plan, cs in values.items() if cs[0] <= p.budget}
        s_best = min(s for _, s in within.values())
        ties = sorted((c, plan) for plan, (c, s) in within.items() if s <= s_best * (1 + 1e-6))  # e.g. c6 onto m2 or m1
        assert ties[0][1] == p.options and (len(ties) == 1 or ties[1][0] > ties[0][0]), (p, ties)
        assert p.cost == pytest.approx(values[p.options][0])


def _strict(front: TradeoffFront) -> None:
    t = front.table()
    assert t["cost"].is_monotonic_increasing and t["cost"].diff().dropna().gt(0).all()
    assert t["expected_imbalance_pct"].diff().dropna().lt(0).all()


@pytest.fixture(scope="module")
def m2_front(tmp_path_factory):
    """The m2 front of the case, every point written and re-checked as it is solved (read only)."""
    case, scen = _case_and_scenarios()
    options = move_options(case)
    out = tmp_path_factory.mktemp("front")
    folders: list[Path] = []

    def check(point: FrontPoint, res) -> None:
        folders.append(out / f"point{len(folders)}")
        _write_and_check(case, scen, res, folders[-1])

    front = tradeoff_front(case, scen, METHODS["m2"], options, max_points=10, on_point=check)
    return case, scen, options, front, folders


def test_front_m2_equals_exhaustive_enumeration_and_every_point_rechecks(m2_front) -> None:
    case, scen, options, front, folders = m2_front
    assert front.complete and front.dropped == 0 and front.solved == len(folders) == 4
    assert [p.options for p in front.points] == FRONT
    _strict(front)
    _check_against_enumeration(front, _enumerated(case, scen, options, v2g=False))
    # the 6800 point lies above the chord of its neighbours: no weight of Eq 27 would choose it
    (c1, e1), (c2, e2), (c3, e3) = ((p.cost, p.expected_imbalance_pct) for p in front.points[1:])
    assert e2 > e1 + (e3 - e1) * (c2 - c1) / (c3 - c1)
    assert all(p.status == "optimal" and p.mip_gap <= 1e-9 for p in front.points)
    assert [p.moves for p in front.points] == [NO_MOVE, "n6/1 -> m2", "n5/3 -> m2", "n5/2 -> m2"]
    assert math.isinf(front.points[-1].budget)  # the first solve: unlimited


@pytest.mark.slow
def test_front_m1_benders_equals_exhaustive_enumeration(tmp_path: Path) -> None:
    """The same with V2G, solved by Benders: the budget row holds in its master problem."""
    case, scen = _case_and_scenarios(solver={"algorithm": "benders"})
    options = move_options(case)
    n = [0]

    def check(point: FrontPoint, res) -> None:
        n[0] += 1
        _write_and_check(case, scen, res, tmp_path / f"point{n[0]}")

    front = tradeoff_front(case, scen, METHODS["m1"], options, max_points=10, on_point=check)
    assert front.complete and len(front.points) >= 3
    _strict(front)
    _check_against_enumeration(front, _enumerated(case, scen, options, v2g=True))


def test_max_points_caps_the_sweep_from_the_top() -> None:
    case, scen = _case_and_scenarios()
    front = tradeoff_front(case, scen, METHODS["m2"], move_options(case), max_points=2)
    assert [p.options for p in front.points] == [("n5/3->m2",), ("n5/2->m2",)]
    assert not front.complete and front.solved == 2


def test_budget_and_target_reach_below_the_cap(m2_front) -> None:
    """With one point allowed, a budget or a target still gets the point it needs."""
    case, scen, options, full, _ = m2_front
    front = tradeoff_front(case, scen, METHODS["m2"], options, max_points=1, budget=5000.0)
    assert select_point(front, budget=5000.0).options == ("n6/1->m2",)
    assert select_point(front, budget=1e9).options == ("n5/2->m2",)
    mid = full.points[2].expected_imbalance_pct  # n5/3: the cheapest point at or below its own E[I]
    front = tradeoff_front(case, scen, METHODS["m2"], options, max_points=1, target_pct=mid)
    assert select_point(front, target_pct=mid).options == ("n5/3->m2",)
    assert select_point(front, target_pct=mid + 1e-3).options == ("n5/3->m2",)


def test_select_point_errors() -> None:
    pts = [
        FrontPoint(math.inf, 100.0, 100.0, 2.0, 5.0, 1, "a/1 -> b", ("a/1->b",), "optimal", 0.0, 1.0),
        FrontPoint(99.0, 0.0, 0.0, 4.0, 9.0, 0, NO_MOVE, (), "optimal", 0.0, 1.0),
    ]
    front = TradeoffFront("m1", pareto(pts)[0], True, 2, 0, 1e-6, 2.0)
    assert select_point(front, target_pct=3.0).cost == 100.0  # the cheapest point at or below 3 %
    assert select_point(front, budget=50.0).cost == 0.0
    with pytest.raises(
        ValueError, match=r"no plan reaches an expected imbalance of 1 %; the lowest reachable is 2\.0000 % \(cost 100\.00\)"
    ):
        select_point(front, target_pct=1.0)
    with pytest.raises(ValueError, match="either a budget or a target"):
        select_point(front, budget=1.0, target_pct=1.0)


def test_pareto_drops_points_a_cheaper_one_matches() -> None:
    def pt(cost: float, e: float) -> FrontPoint:
        return FrontPoint(cost, cost, cost, e, e, 1, "x", (f"x{cost}",), "optimal", 0.0, 0.0)

    kept, dropped = pareto([pt(0, 5.0), pt(10, 4.0), pt(20, 4.0), pt(30, 4.5), pt(40, 1.0)])
    assert [p.cost for p in kept] == [0, 10, 40] and dropped == 2


def test_plan_with_tradeoff_marks_the_weighted_plan_and_writes_the_csv(tmp_path: Path) -> None:
    case, scen = _case_and_scenarios(tradeoff={"max_points": 10})
    options = move_options(case)
    result, front = plan_with_tradeoff(case, scen, METHODS["m2"], options)
    assert front is not None and front.chosen is not None
    assert front.chosen.options == tuple(sorted(f"{mv.end_node}/{len(mv.customers)}->{mv.to_node}" for mv in result.plan.moves))
    assert front.chosen.cost == result.plan.total_cost
    assert front.chosen.expected_imbalance_pct == result.expected_imbalance_pct
    assert [p.options for p in front.points] == FRONT and sum(p.chosen for p in front.points) == 1
    path = write_tradeoff(tmp_path, front)
    table = pd.read_csv(path)
    assert tuple(table.columns) == TRADEOFF_COLUMNS
    assert table["chosen"].dtype == bool and table["chosen"].sum() == 1
    assert math.isinf(table["budget"].iloc[-1]) and table["moves"].iloc[0] == NO_MOVE


@pytest.mark.parametrize(("kw", "expected"), [({"budget": 7000.0}, ("n5/3->m2",)), ({"target_pct": 0.0}, None)])
def test_plan_with_tradeoff_budget_and_target(m2_front, kw: dict, expected: tuple[str, ...] | None) -> None:
    _, scen, options, full, _ = m2_front
    case = _case_and_scenarios(tradeoff={"max_points": 10})[0]
    if expected is None:
        with pytest.raises(ValueError, match="the lowest reachable is"):
            plan_with_tradeoff(case, scen, METHODS["m2"], options, **kw)
        return
    result, front = plan_with_tradeoff(case, scen, METHODS["m2"], options, **kw)
    assert front is not None and front.chosen is not None and front.chosen.options == expected
    assert [f"{mv.end_node}/{len(mv.customers)}->{mv.to_node}" for mv in result.plan.moves] == list(expected)
    point = next(p for p in full.points if p.options == expected)
    assert rel_close(result.expected_imbalance_pct, point.expected_imbalance_pct, 1e-6)


@pytest.mark.parametrize(("kw", "message"), [({"budget": 1.0, "target_pct": 1.0}, "exclude each other"), ({"budget": -1.0}, ">= 0")])
def test_plan_with_tradeoff_bad_arguments(kw: dict, message: str) -> None:
    case, scen = _case_and_scenarios()
    with pytest.raises(ValueError, match=message):
        plan_with_tradeoff(case, scen, METHODS["m2"], move_options(case), **kw)


def test_no_front_without_moves_or_points() -> None:
    case, scen = _case_and_scenarios(tradeoff={"max_points": 0})
    options = move_options(case)
    _, front = plan_with_tradeoff(case, scen, METHODS["m2"], options)
    assert front is None
    _, front = plan_with_tradeoff(case, scen, METHODS["baseline"], options, budget=1000.0)
    assert front is None


def test_a_front_only_for_the_methods_listed_unless_a_budget_asks() -> None:
    """``tradeoff.methods``: m2 left out plans without a front; a budget still sweeps it."""
    case, scen = _case_and_scenarios(tradeoff={"max_points": 10, "methods": ["m1"]})
    options = move_options(case)
    _, front = plan_with_tradeoff(case, scen, METHODS["m2"], options)
    assert front is None
    _, front = plan_with_tradeoff(case, scen, METHODS["m2"], options, budget=float(options["cost"].max()))
    assert front is not None and front.chosen is not None
