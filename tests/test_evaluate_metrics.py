"""``evaluate.metrics.compute_metrics`` against figures computed by hand on the Fig 3 case.

Constant powers [kW] in both scenarios (probabilities 0.7, 0.3), 8 steps:

| customer | node | working-sunny | non_working-cloudy |
|---|---|---|---|
| c1 | n5 | 3 | 3 |
| c2 (ev) | n5 | 7 at steps 4, 5, else 0 | same |
| c3 | n4 | 2 | 2 |
| c4 (commercial) | n2 | 12 | 6 |
| c5 (pv) | n2 | -4 | -4 |
| c6 | n6 | 3 | 3 |
| c7 | m1 | 2 | 2 |
| c8 | m2 | 1 | 1 |

Both feeder outlets are rated 150 kW; line l5 (n4-n5) 25 kW, line l8 (m1-m2) 13 kW.
The plan is option n5/2->m2 (c1, c2 onto m2, F2), fixed; method m2 (no V2G): EVs charge
as uncontrolled, so every figure follows from the table.

Before: F1 = 3 + 2 + 12 - 4 + 3 + c2 = 16 (+7), F2 = 3 (s1: F1 = 10 (+7)).
  I = (F1 - F2) / 150 x 100: s1 13/1.5 (6 steps), 20/1.5 (2 steps): mean 118/12, peak 13.33;
  s2 7/1.5, 14/1.5: mean 70/12, peak 9.33. E[I] = 0.7 x 118/12 + 0.3 x 70/12 = 103.6/12.
After: F1 = 13 (s2: 7), F2 = 2 + 1 + 3 + c2 = 6 (+7).
  s1: |13 - 6| = 7 (6 steps), |13 - 13| = 0 (2 steps): mean 42/12 = 3.5, peak 7/1.5;
  s2: |7 - 6| = 1, |7 - 13| = 6: mean 18/12 = 1.5, peak 6/1.5 = 4. E[I] = 0.7 x 3.5 + 0.3 x 1.5 = 2.9.
Line loading: before l5 carries c1 + c2 = 10 kW at most: 10/25 = 0.4 (l1: 23/150, l8: 1/13);
  after l5 is out of service, l8 carries c8 + c1 + c2 = 11 kW at most: 11/13; it is heavy
  (> 0.8 x 13 = 10.4 kW) at steps 4, 5: a run of 2. The new line new:n5 has no rating yet.
Cost: the route m2 -> n5 along streets s6, s3, s2 (60 + 60 + 100 m at 40 per m) = 220 m, 8800
(the direct way, s8 and the main road s7, is 100 x 40 + 120 x 120 = 18400).
"""

from __future__ import annotations

import numpy as np
import pytest

from lvbalance.coupling import move_options
from lvbalance.evaluate.metrics import compute_metrics, max_line_loading
from lvbalance.model.methods import METHODS
from lvbalance.model.run import plan_method
from lvbalance.results import SolveStatus
from tests.fixtures import SCENARIO_IDS, T_STEPS, fig3_coarse, hand_scenarios, with_line_ratings

PROFILES = {"c1": 3.0, "c3": 2.0, "c5": -4.0, "c6": 3.0, "c7": 2.0, "c8": 1.0}


def _case_and_scenarios():
    case = with_line_ratings(fig3_coarse(), {"l5": 25.0, "l8": 13.0})
    ones = np.ones((len(SCENARIO_IDS), T_STEPS))
    overrides = {c: kw * ones for c, kw in PROFILES.items()}
    overrides["c4"] = np.array([[12.0], [6.0]]) * ones
    ev = np.zeros(T_STEPS)
    ev[[4, 5]] = 7.0
    overrides["c2"] = ev * ones
    return case, hand_scenarios(case, overrides=overrides)


@pytest.fixture(scope="module")
def moved():
    case, scen = _case_and_scenarios()
    options = move_options(case).loc[["n5/2->m2"]]
    return plan_method(case, scen, METHODS["m2"], options=options, fixed_moves=["n5/2->m2"])


def test_imbalance_before_and_after_by_hand(moved) -> None:
    mt = compute_metrics(moved)
    assert mt.method == "m2" and mt.status == SolveStatus.OPTIMAL
    assert mt.expected_imbalance_before_pct == pytest.approx(103.6 / 12, rel=1e-9)
    assert mt.expected_imbalance_after_pct == pytest.approx(2.9, rel=1e-7)
    assert mt.peak_imbalance_before_pct == pytest.approx(20 / 1.5, rel=1e-9)
    assert mt.peak_imbalance_after_pct == pytest.approx(7 / 1.5, rel=1e-7)
    by_hand = {
        "working-sunny": (0.7, 118 / 12, 3.5, 20 / 1.5, 7 / 1.5),
        "non_working-cloudy": (0.3, 70 / 12, 1.5, 14 / 1.5, 6 / 1.5),
    }
    assert [s["scenario"] for s in mt.per_scenario] == SCENARIO_IDS
    for s in mt.per_scenario:
        beta, e0, e1, p0, p1 = by_hand[s["scenario"]]
        assert s["probability"] == pytest.approx(beta)
        assert s["expected_imbalance_before_pct"] == pytest.approx(e0, rel=1e-9)
        assert s["expected_imbalance_after_pct"] == pytest.approx(e1, rel=1e-7)
        assert s["peak_imbalance_before_pct"] == pytest.approx(p0, rel=1e-9)
        assert s["peak_imbalance_after_pct"] == pytest.approx(p1, abs=1e-7)


def test_line_loading_and_heavy_runs_by_hand(moved) -> None:
    mt = compute_metrics(moved)
    assert mt.max_line_loading_before == pytest.approx(10 / 25, rel=1e-9)
    assert mt.max_line_loading_after == pytest.approx(11 / 13, rel=1e-9)
    assert mt.heavy_load_max_steps == {"l8": 2}
    assert mt.violations == []


def test_plan_figures_by_hand(moved) -> None:
    mt = compute_metrics(moved)
    assert mt.moved_customers == 2
    assert mt.total_cost == pytest.approx(8800.0)
    assert mt.route_length_m == pytest.approx(220.0)
    # Eq 27: lambda1 x 8800 + lambda2 (1000) x E[I] 2.9 + 10 x expected peak (0.7 x 7/1.5 + 0.3 x 4); no discharge
    assert mt.objective == pytest.approx(8800.0 + 1000.0 * 2.9 + 10.0 * (0.7 * 7 / 1.5 + 0.3 * 4.0), rel=1e-7)


def test_baseline_after_equals_before() -> None:
    """Without moves and with uncontrolled charging the imbalance after is the one before."""
    case, scen = _case_and_scenarios()
    mt = compute_metrics(plan_method(case, scen, METHODS["baseline"]))
    assert mt.expected_imbalance_before_pct == pytest.approx(103.6 / 12, rel=1e-9)
    assert mt.expected_imbalance_after_pct == pytest.approx(103.6 / 12, rel=1e-7)
    assert mt.max_line_loading_after == pytest.approx(10 / 25, rel=1e-9)
    assert mt.heavy_load_max_steps == {}
    assert (mt.moved_customers, mt.total_cost, mt.route_length_m) == (0, 0.0, 0.0)


def test_max_line_loading_skips_new_lines() -> None:
    flows = {"a": np.array([[1.0, -8.0]]), "new:x": np.array([100.0])}
    assert max_line_loading(flows, {"a": 10.0}) == pytest.approx(0.8)
