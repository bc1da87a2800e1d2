"""Out-of-sample evaluation, VSS and EVPI on the hand-built Fig 3 case."""

from __future__ import annotations

import pytest

from lvbalance.model.methods import METHODS
from lvbalance.model.run import plan_method
from lvbalance.outofsample import _chosen_option_ids, out_of_sample, stochastic_value
from lvbalance.profiles import build_profiles
from tests.conftest import fig3_case


@pytest.fixture(scope="module")
def setting():
    case = fig3_case()
    case = case.with_params(case.params.updated(objective={"imbalance_weight": 4000.0}, solver={"mip_gap": 0.0}))
    profiles = build_profiles(case)
    plans = {m: plan_method(case, profiles.scenarios, METHODS[m]) for m in ("baseline", "m1")}
    return case, profiles, plans


def test_fixing_the_plan_reproduces_the_in_sample_objective(setting) -> None:
    case, profiles, plans = setting
    m1 = plans["m1"]
    fixed = plan_method(case, profiles.scenarios, METHODS["m1"], options=m1.built.data.options, fixed_moves=_chosen_option_ids(m1))
    assert fixed.plan.moves == m1.plan.moves
    assert fixed.info.objective == pytest.approx(m1.info.objective, rel=1e-6)


def test_out_of_sample_table(setting) -> None:
    case, profiles, plans = setting
    table = out_of_sample(case, profiles, plans)
    assert list(table.index) == ["baseline", "m1"]
    assert (table["days"] == len(profiles.heldout_days)).all()
    base = table.loc["baseline"]
    assert base["mean_pct"] == pytest.approx(base["baseline_mean_pct"])
    assert (table["p95_pct"] <= table["worst_pct"] + 1e-9).all()
    assert (table["mean_pct"] <= table["worst_pct"] + 1e-9).all()


def test_vss_and_evpi_are_not_negative(setting) -> None:
    case, profiles, plans = setting
    sv = stochastic_value(case, profiles.scenarios, "m1", rp_result=plans["m1"])
    tol = 1e-6 * abs(sv.rp)
    assert sv.vss >= -tol
    assert sv.evpi >= -tol
    assert sv.stochastic_moves == _chosen_option_ids(plans["m1"])
