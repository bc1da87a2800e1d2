"""``evaluate.variation``: total variation of EV schedules and feeder load rates, by hand, and in
``metrics.json`` on a hand-built case whose smooth schedule is known."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from lvbalance.evaluate.metrics import compute_metrics
from lvbalance.evaluate.variation import (
    expected_load_rate_variation,
    has_pulse,
    load_rate_cube,
    schedule_variation,
    total_variation,
)
from lvbalance.model.methods import METHODS
from lvbalance.model.run import plan_method
from tests.fixtures import T_STEPS, fig3_coarse, hand_scenarios


def schedules_table(unc: dict[tuple[str, str], list[float]], sch: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    rows = [
        {"scenario": s, "step": t, "customer_id": c, "p_uncontrolled_kw": unc[(c, s)][t], "p_scheduled_kw": sch[(c, s)][t]}
        for (c, s) in unc
        for t in range(len(unc[(c, s)]))
    ]
    return pd.DataFrame(rows)


def test_total_variation_and_pulses_by_hand() -> None:
    assert total_variation(np.array([0.0, 3.5, 0.0, 0.0, 1.0])) == pytest.approx(8.0)
    assert total_variation(np.array([[1.0, 1.0, 1.0], [0.0, -2.0, 2.0]])).tolist() == [0.0, 6.0]
    series = np.array(
        [
            [0.0, 3.5, 0.0, 0.0],  # a charging pulse
            [0.0, -3.0, 0.005, 0.0],  # a discharge pulse (|p| >= 3 kW, 'off' within 0.01 kW)
            [0.0, 3.5, 3.5, 0.0],  # two steps: a block, not a pulse
            [0.0, 2.9, 0.0, 0.0],  # below 3 kW
            [3.5, 0.0, 0.0, 0.0],  # at the edge: no step before it
        ]
    )
    assert has_pulse(series).tolist() == [True, True, False, False, False]
    assert has_pulse(np.array([0.0, 5.0])).tolist() is False  # too short to hold one


def test_schedule_variation_by_hand() -> None:
    """Three EV-days: TVs uncontrolled 7, 7, 0 (no charging); scheduled 14 (two pulses), 0 (flat), 0.

    Ratios 2 and 0 (the flat day has none): median 1; pulses: uncontrolled none, scheduled 1 of 3."""
    unc = {("e1", "s1"): [0, 0, 3.5, 3.5, 0, 0], ("e1", "s2"): [0, 3.5, 3.5, 0, 0, 0], ("e2", "s1"): [0.0] * 6}
    sch = {("e1", "s1"): [0, 3.5, 0, 3.5, 0, 0], ("e1", "s2"): [7 / 6] * 6, ("e2", "s1"): [0.0] * 6}
    sv = schedule_variation(schedules_table(unc, sch))
    assert (sv.ev_days, sv.ev_days_with_ratio) == (3, 2)
    assert sv.tv_ratio_median == pytest.approx(1.0)
    assert sv.pulse_before_pct == 0.0
    assert sv.pulse_after_pct == pytest.approx(100 / 3)
    empty = schedule_variation(pd.DataFrame(columns=["scenario", "step", "customer_id", "p_uncontrolled_kw", "p_scheduled_kw"]))
    assert empty.ev_days == 0 and math.isnan(empty.tv_ratio_median)


def test_expected_load_rate_variation_by_hand() -> None:
    """Two feeders, two scenarios (0.7, 0.3): TVs F1 (0.2, 0.4), F2 (0, 0.1): 0.7 x 0.2 + 0.3 x 0.5 = 0.29."""
    table = pd.DataFrame(
        [
            (s, t, f, rate)
            for s, f, rates in [
                ("a", "F1", [0.1, 0.2, 0.1]),
                ("b", "F1", [0.1, 0.3, 0.1]),
                ("a", "F2", [0.5, 0.5, 0.5]),
                ("b", "F2", [0.5, 0.45, 0.5]),
            ]
            for t, rate in enumerate(rates)
        ],
        columns=["scenario", "step", "feeder", "load_rate"],
    )
    cube = load_rate_cube(table, ["a", "b"], ["F1", "F2"])
    assert cube.shape == (2, 2, 3)
    assert expected_load_rate_variation(cube, np.array([0.7, 0.3])) == pytest.approx(0.29)


def _free_timing_result(smooth: bool):
    """Fig 3 with every customer but the EV c2 at a constant power, c4 at 30 kW: F1 carries more
    than F2 at every step whatever c2 (on F1) does, so E_I does not depend on when c2 charges.
    alpha = 1 and no peak price: the smoothest optimal schedule is flat, E / T in every step
    (TV 0; test_model_smooth checks the schedule). Uncontrolled c2: 7 kW at step 4, then 2.8
    (working-sunny) or 4.2 kW: TV 7 + 4.2 + 2.8 = 14 kW in both scenarios."""
    case = fig3_coarse(
        operation={"v2g_participation": [1.0] * 24},
        objective={"peak_imbalance_weight": 0.0},
        solver={"algorithm": "extensive", "smooth_schedules": smooth},
    )
    constant = {
        c: np.full((2, T_STEPS), kw) for c, kw in {"c1": 3.0, "c3": 2.0, "c4": 30.0, "c5": -4.0, "c6": 3.0, "c7": 2.0, "c8": 1.0}.items()
    }
    scen = hand_scenarios(case, overrides=constant)
    return plan_method(case, scen, METHODS["v2g_only"])


def test_metrics_of_the_smooth_schedule_of_a_hand_built_case() -> None:
    res = _free_timing_result(smooth=True)
    mt = compute_metrics(res)
    unc = res.schedules.table.pivot_table(index="scenario", columns="step", values="p_uncontrolled_kw")
    np.testing.assert_allclose(total_variation(unc.to_numpy()), [14.0, 14.0])
    assert mt.ev_total_variation_ratio_median == pytest.approx(0.0, abs=1e-6)  # flat: TV 0
    assert mt.ev_days_with_pulse_before_pct == 0.0 and mt.ev_days_with_pulse_after_pct == 0.0
    # feeder load rates: as built only c2 varies, 14 kW per day on F1 (rated 150 kW); after: flat
    assert mt.load_rate_variation_before == pytest.approx(14.0 / 150.0, rel=1e-9)
    assert mt.load_rate_variation_after == pytest.approx(0.0, abs=1e-8)
    assert mt.load_rate_variation_ratio == pytest.approx(0.0, abs=1e-6)
    assert mt.schedules_smoothed is True
    written = mt.to_json()
    for key in ("ev_total_variation_ratio_median", "ev_days_with_pulse_after_pct", "load_rate_variation_ratio"):
        assert isinstance(written[key], float)
    json.dumps(written)


def test_baseline_metrics_are_those_of_uncontrolled_charging() -> None:
    """The baseline's schedule is uncontrolled charging: ratio 1, load rates as built."""
    case = fig3_coarse(solver={"algorithm": "extensive"})
    res = plan_method(case, hand_scenarios(case), METHODS["baseline"])
    mt = compute_metrics(res)
    assert mt.ev_total_variation_ratio_median == pytest.approx(1.0)
    assert mt.load_rate_variation_ratio == pytest.approx(1.0)
    assert mt.ev_days_with_pulse_before_pct == mt.ev_days_with_pulse_after_pct
    assert mt.schedules_smoothed is None  # no V2G schedule: nothing to smooth
