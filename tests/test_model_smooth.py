"""``model.smooth``: among the optimal EV schedules, the one with the least total variation,
with the plan, the objective and the imbalance of the optimum kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lvbalance.coupling import move_options
from lvbalance.evaluate.metrics import compute_metrics
from lvbalance.evaluate.recheck import check_outputs
from lvbalance.model.methods import METHODS
from lvbalance.model.run import MethodResult, plan_method
from lvbalance.profiles import ScenarioSet
from lvbalance.results import write_results
from tests.fixtures import T_STEPS, fig3_coarse, hand_scenarios, schedule_cube


def _tv(result: MethodResult, column: str = "p_scheduled_kw") -> np.ndarray:
    """(EV-day) total variation of the schedules [kW]."""
    return np.abs(np.diff(schedule_cube(result, column).to_numpy(), axis=1)).sum(axis=1)


def _write_all(out: Path, scen: ScenarioSet, res: MethodResult) -> None:
    write_results(out, res.plan, res.schedules, res.feeder_loads, compute_metrics(res))
    scen.scenarios.reset_index()[["scenario", "probability", "day_type", "weather"]].to_csv(out / "scenarios.csv", index=False)
    scen.p_kw.transpose("scenario", "step", "customer").to_series().rename("p_kw").reset_index().rename(
        columns={"customer": "customer_id"}
    )[["scenario", "step", "customer_id", "p_kw"]].to_csv(out / "profiles.csv", index=False)


def _free_timing_case(smooth: bool):
    """Fig 3 with c4 a constant 30 kW, so that feeder F1 carries more than F2 at every step
    whatever the EV c2 (on F1, within +-7 kW) does: E_I does not depend on when c2 charges.
    Every EV joins V2G at every hour (alpha = 1, x = v) and peaks are not priced, so every
    schedule with the energy of uncontrolled charging and no discharge is optimal; the one of
    least total variation is flat, E / T in every step (total variation 0)."""
    case = fig3_coarse(
        operation={"v2g_participation": [1.0] * 24},
        objective={"peak_imbalance_weight": 0.0},
        solver={"algorithm": "extensive", "smooth_schedules": smooth},
    )
    scen = hand_scenarios(case, overrides={"c4": np.full((2, T_STEPS), 30.0)})
    return case, scen, plan_method(case, scen, METHODS["v2g_only"])


def test_smooth_schedule_is_flat_where_timing_is_free(tmp_path: Path) -> None:
    _, _, raw = _free_timing_case(smooth=False)
    case, scen, smooth = _free_timing_case(smooth=True)
    unc = schedule_cube(smooth, "p_uncontrolled_kw")
    flat = unc.sum(axis=1).to_numpy() / T_STEPS  # 7 x 1.4 / 8 and 7 x 1.6 / 8 kW
    np.testing.assert_allclose(flat, [1.225, 1.4] if unc.index[0][1] == "working-sunny" else [1.4, 1.225])
    cube = schedule_cube(smooth, "p_scheduled_kw").to_numpy()
    np.testing.assert_allclose(cube, np.repeat(flat[:, None], T_STEPS, axis=1), atol=1e-6)
    assert _tv(smooth).max() < 1e-6
    assert _tv(raw).sum() > 1.0  # the raw optimum is a vertex: the EV does not charge flat
    assert smooth.plan.objective == pytest.approx(raw.plan.objective, rel=1e-9)  # the optimum found, as reported
    assert smooth.expected_imbalance_pct == pytest.approx(raw.expected_imbalance_pct, rel=1e-6)
    _write_all(tmp_path, scen, smooth)
    rep = check_outputs(case, tmp_path)
    assert rep.ok, (rep.violations, rep.differences)


@pytest.fixture(scope="module")
def moved_ev_pair():
    """m1 on fig3 (options of end node n5, imbalance worth 4000, free construction), raw and smoothed."""
    out = {}
    for smooth in (False, True):
        case = fig3_coarse(
            objective={"imbalance_weight": 4000.0, "cost_weight": 0.0}, solver={"algorithm": "extensive", "smooth_schedules": smooth}
        )
        scen = hand_scenarios(case)
        options = move_options(case)
        out[smooth] = (case, scen, plan_method(case, scen, METHODS["m1"], options=options[options["end_node"] == "n5"]))
    return out


def test_smoothing_keeps_plan_objective_and_imbalance(moved_ev_pair) -> None:
    *_, raw = moved_ev_pair[False]
    *_, smooth = moved_ev_pair[True]
    assert [m.end_node for m in smooth.plan.moves] == [m.end_node for m in raw.plan.moves] == ["n5"]
    assert smooth.plan.moves == raw.plan.moves
    assert smooth.expected_imbalance_pct == pytest.approx(raw.expected_imbalance_pct, rel=1e-6)
    # the original objective at the smoothed solution, recomputed from the model's parts
    p = smooth.built.data.case.params
    built = smooth.built
    peak = float((built.model.variables["peak_imbalance"].solution * built.data.probability).sum())
    wear = p.operation.battery_wear_cost_per_kwh * built.data.step_hours
    assert built.ev is not None
    discharge = float((built.ev.discharge.solution * built.data.probability).sum()) * wear
    objective = p.objective.imbalance_weight * smooth.expected_imbalance_pct + p.objective.peak_imbalance_weight * peak + discharge
    assert objective == pytest.approx(raw.plan.objective, rel=1e-6)
    assert _tv(smooth).sum() <= _tv(raw).sum() + 1e-6


def test_smoothed_schedules_keep_energy_and_limits(moved_ev_pair, tmp_path: Path) -> None:
    case, scen, smooth = moved_ev_pair[True]
    unc = schedule_cube(smooth, "p_uncontrolled_kw")
    sched = schedule_cube(smooth, "p_scheduled_kw")
    np.testing.assert_allclose(sched.sum(axis=1), unc.sum(axis=1), atol=1e-6)
    assert (sched.to_numpy() <= 7.0 + 1e-6).all() and (sched.to_numpy() >= -7.0 - 1e-6).all()
    _write_all(tmp_path, scen, smooth)
    rep = check_outputs(case, tmp_path)
    assert rep.ok, (rep.violations, rep.differences)
