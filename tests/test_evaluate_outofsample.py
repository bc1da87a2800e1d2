"""``evaluate.outofsample``: out-of-sample evaluation, VSS and EVPI (MODEL.md §8).

Held-out days of the Fig 3 case, by hand: readings run from 2024-03-04 00:00 to 03-17 23:45
and a horizon day runs from 08:00 to 08:00, so the complete days are 03-04 .. 03-16: 13 days,
10 working (Mon 4 - Fri 8, Mon 11 - Fri 15) and 3 not (Sat 9, Sun 10, Sat 16). A quarter of
each day type is held out, rounded half up: 3 working days (2.5) and 1 other day (0.75): 4.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lvbalance.case import Case
from lvbalance.evaluate.outofsample import (
    _chosen_option_ids,
    daily_imbalance,
    day_scenarios,
    fixed_plan_imbalance,
    out_of_sample,
    stochastic_value,
)
from lvbalance.flows import feeder_loads, line_flows, rewire
from lvbalance.model.methods import METHODS
from lvbalance.model.run import plan_method
from lvbalance.model.smooth import without_smoothing
from lvbalance.profiles import ProfileResult, build_profiles, day_context, day_profiles, scenario_subset
from lvbalance.results import Move
from tests.fixtures import fig3_case, fig3_coarse, hand_scenarios


def _case() -> Case:
    """Fig 3 with a point of imbalance worth 20000: a move pays."""
    case = fig3_case()
    return case.with_params(case.params.updated(objective={"imbalance_weight": 20000.0}, solver={"mip_gap": 0.0}))


@pytest.fixture(scope="module")
def setting():
    case = _case()
    profiles = build_profiles(case)
    plans = {m: plan_method(case, profiles.scenarios, METHODS[m]) for m in ("baseline", "m2")}
    return case, profiles, plans


def _daily_imbalance_by_hand(case: Case, profiles: ProfileResult, moves: list[Move]) -> pd.Series:
    """Mean imbalance of each held-out day [%], EVs charging as uncontrolled: the day's power,
    summed onto the two feeders after the moves; both outlets are rated 150 kW, so
    ``I = |P_F1 - P_F2| / 150 x 100``."""
    p = day_profiles(case, profiles, profiles.heldout_days)
    customers = list(case.customers.index)
    power = p.transpose("customer", "day", "step").sel(customer=customers).to_numpy().copy()
    for e in case.ev_customers.index:  # uncontrolled charging X = max(p, 0)
        power[customers.index(e)] = np.clip(power[customers.index(e)], 0.0, None)
    loads = feeder_loads(case, line_flows(case, rewire(case, moves), power, customers))
    imb = 100.0 * np.abs(loads["F1"] - loads["F2"]) / 150.0
    return pd.Series(imb.mean(axis=1), index=[d.strftime("%Y-%m-%d") for d in profiles.heldout_days])


def test_heldout_days_by_hand(setting) -> None:
    case, profiles, _ = setting
    days = profiles.heldout_days
    assert len(days) == 4
    assert sorted(day_context(case, days)["day_type"]) == ["non_working", "working", "working", "working"]
    assert not set(days) & set(profiles.train_days)
    assert len(profiles.train_days) == 13 - 4


def test_out_of_sample_table_by_independent_recomputation(setting) -> None:
    """Baseline: no move, uncontrolled; m2: its plan (one move) fixed, uncontrolled (alpha = 0).
    Both rows follow from the held-out day profiles without any model."""
    case, profiles, plans = setting
    assert len(plans["m2"].plan.moves) == 1  # so that the plan makes a difference
    table = out_of_sample(case, profiles, plans)
    assert list(table.index) == ["baseline", "m2"]
    base = _daily_imbalance_by_hand(case, profiles, [])
    moved = _daily_imbalance_by_hand(case, profiles, plans["m2"].plan.moves)
    for mid, d in (("baseline", base), ("m2", moved)):
        row = table.loc[mid]
        assert row["days"] == 4
        assert row["mean_pct"] == pytest.approx(d.mean(), rel=1e-6)
        assert row["p95_pct"] == pytest.approx(d.quantile(0.95), rel=1e-6)
        assert row["worst_pct"] == pytest.approx(d.max(), rel=1e-6)
        assert d[row["worst_day"]] == pytest.approx(d.max(), rel=1e-6)
        assert row["baseline_mean_pct"] == pytest.approx(base.mean(), rel=1e-6)
        assert row["baseline_worst_pct"] == pytest.approx(base.max(), rel=1e-6)
        assert row["days_better_than_baseline"] == int((d < base - 1e-6).sum())
    assert np.abs(moved - base).max() > 1e-3  # the m2 row is not the baseline's
    assert table.loc["baseline", "days_better_than_baseline"] == 0


def test_out_of_sample_computes_the_baseline_when_not_given(setting) -> None:
    case, profiles, plans = setting
    table = out_of_sample(case, profiles, {"m2": plans["m2"]})
    assert list(table.index) == ["m2"]
    base = _daily_imbalance_by_hand(case, profiles, [])
    assert table.loc["m2", "baseline_mean_pct"] == pytest.approx(base.mean(), rel=1e-6)


def test_out_of_sample_needs_heldout_days() -> None:
    case = _case()
    case = case.with_params(case.params.updated(profiles={"holdout_share": 0.0}))
    with pytest.raises(ValueError, match="no held-out days"):
        out_of_sample(case, build_profiles(case), {})


@pytest.mark.slow
def test_fixing_the_plan_reproduces_the_in_sample_objective(setting) -> None:
    """m1 (V2G): its own plan fixed, stage 2 re-optimised on the same scenarios, gives the same objective."""
    case, profiles, _ = setting
    m1 = plan_method(case, profiles.scenarios, METHODS["m1"])
    chosen = _chosen_option_ids(m1)
    assert chosen == [f"{mv.end_node}/{len(mv.customers)}->{mv.to_node}" for mv in m1.plan.moves]
    assert len(chosen) == 1
    fixed = plan_method(case, profiles.scenarios, METHODS["m1"], options=m1.built.data.options, fixed_moves=chosen)
    assert fixed.plan.moves == m1.plan.moves
    assert fixed.info.objective == pytest.approx(m1.info.objective, rel=1e-6)
    # and "no move" fixed costs more (the move pays)
    none = plan_method(case, profiles.scenarios, METHODS["m1"], options=m1.built.data.options, fixed_moves=[])
    assert none.plan.moves == []
    assert none.info.objective > m1.info.objective * (1 + 1e-6)


def test_vss_and_evpi_vanish_with_one_scenario() -> None:
    """One scenario: the mean scenario is that scenario (VSS = 0) and waiting to see it changes
    nothing (EVPI = 0)."""
    case = fig3_coarse(objective={"imbalance_weight": 4000.0})
    scen = scenario_subset(hand_scenarios(case), ["working-sunny"])
    sv = stochastic_value(case, scen, "m2")
    assert sv.mean_scenario_moves == sv.stochastic_moves
    assert sv.vss == pytest.approx(0.0, abs=1e-6 * sv.rp)
    assert sv.evpi == pytest.approx(0.0, abs=1e-6 * sv.rp)


@pytest.mark.slow
def test_vss_and_evpi_are_not_negative() -> None:
    """Two scenarios (hand_scenarios): EEV >= RP >= WS."""
    case = fig3_coarse(objective={"imbalance_weight": 4000.0})
    scen = hand_scenarios(case)
    sv = stochastic_value(case, scen, "m2")
    rp = plan_method(case, scen, METHODS["m2"])
    assert sv.rp == pytest.approx(rp.info.objective, rel=1e-9)
    assert sv.stochastic_moves == ["n5/3->m2"]  # as in test_model_run.py (m2, 4000 per point)
    tol = 1e-6 * abs(sv.rp)
    assert sv.vss >= -tol
    assert sv.evpi >= -tol


def test_methods_sharing_a_stage_2_share_one_model_with_the_same_days() -> None:
    """m1, m3 and v2g_only (V2G) are evaluated on one model over the union of their moves, each plan
    fixed in turn: every day's imbalance is what a model of that plan alone gives."""
    case = _case()
    profiles = build_profiles(case)
    plans = {m: plan_method(case, profiles.scenarios, METHODS[m]) for m in ("m1", "m3", "v2g_only")}
    assert plans["m1"].plan.moves  # a plan that makes a difference
    case = without_smoothing(case)
    scen = day_scenarios(case, profiles, profiles.heldout_days)
    shared = fixed_plan_imbalance(case, scen, plans)
    assert list(shared) == ["m1", "m3", "v2g_only"]
    for mid, res in plans.items():
        method = METHODS[mid]
        moves = [str(o) for o in res.built.options.index[res.built.u.solution.to_numpy() > 0.5]] if res.built.u is not None else None
        alone = plan_method(case, scen, method, options=res.built.data.options if method.moves else None, fixed_moves=moves)
        assert np.allclose(shared[mid].to_numpy(), daily_imbalance(alone).to_numpy(), rtol=1e-6, atol=1e-6), mid
    assert np.abs(shared["m1"] - shared["v2g_only"]).max() > 1e-3
