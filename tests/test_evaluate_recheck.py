"""``evaluate.recheck.check_outputs``: the written outputs pass the independent re-check and
fail it once tampered with."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lvbalance.case import Case
from lvbalance.evaluate.metrics import compute_metrics
from lvbalance.evaluate.recheck import check_outputs
from lvbalance.flows import expected_imbalance_pct, feeder_imbalance_pct, feeder_loads, line_flows, rewire
from lvbalance.profiles import ScenarioSet
from lvbalance.results import write_results
from tests.fixtures import PROBABILITY, SCENARIO_IDS, customer_power, moved_ev_result, schedule_cube, with_line_ratings


@pytest.fixture(scope="module")
def moved_ev():
    """m1 on fig3 where the plan moves c1, c2 (ev), c3 of end node n5 onto m2 (shared, read only)."""
    return moved_ev_result()


def _write_all(out: Path, scen: ScenarioSet, res) -> None:
    """``results.write_results`` plus scenarios.csv / profiles.csv in the DESIGN.md schema."""
    write_results(out, res.plan, res.schedules, res.feeder_loads, compute_metrics(res))
    scen.scenarios.reset_index()[["scenario", "probability", "day_type", "weather"]].to_csv(out / "scenarios.csv", index=False)
    scen.p_kw.transpose("scenario", "step", "customer").to_series().rename("p_kw").reset_index().rename(
        columns={"customer": "customer_id"}
    )[["scenario", "step", "customer_id", "p_kw"]].to_csv(out / "profiles.csv", index=False)


def test_check_outputs_passes_on_results_as_written(moved_ev, tmp_path) -> None:
    """The re-check finds nothing wrong, and its E_I is the one recomputed here from the
    scenario profiles, the plan's moves and the scheduled EV power."""
    case, scen, res = moved_ev
    _write_all(tmp_path, scen, res)
    rep = check_outputs(case, tmp_path)
    assert rep.ok, (rep.violations, rep.differences)
    power, customers = customer_power(case, scen)
    power[customers.index("c2")] = schedule_cube(res, "p_scheduled_kw").loc["c2"].reindex(SCENARIO_IDS).to_numpy()
    imb = feeder_imbalance_pct(case, feeder_loads(case, line_flows(case, rewire(case, res.plan.moves), power, customers)))
    assert rep.recomputed["expected_imbalance_after_pct"] == pytest.approx(expected_imbalance_pct(imb, np.array(PROBABILITY)), rel=1e-9)
    assert rep.recomputed["peak_imbalance_after_pct"] == pytest.approx(float(imb.max()), rel=1e-9)
    assert rep.recomputed["expected_imbalance_after_pct"] == pytest.approx(res.expected_imbalance_pct, rel=1e-6)  # and the model's


def test_check_outputs_catches_a_tampered_schedule(moved_ev, tmp_path) -> None:
    case, scen, res = moved_ev
    _write_all(tmp_path, scen, res)
    sched = pd.read_csv(tmp_path / "schedules.csv", dtype={"scenario": str, "customer_id": str})
    sched.loc[0, "p_scheduled_kw"] += 1.5  # more energy than uncontrolled, other feeder loads
    sched.to_csv(tmp_path / "schedules.csv", index=False)
    rep = check_outputs(case, tmp_path)
    assert not rep.ok
    assert any(v.startswith("EV energy over the horizon differs from uncontrolled charging by up to 1.5 ") for v in rep.violations)
    assert [d for d in rep.differences if "feeder_loads.csv" in d] == [
        "feeder_loads.csv feeder F2: differs from the recomputed load by up to 1.5 kW"  # c2 now on F2
    ]


def test_check_outputs_catches_tampered_figures(moved_ev, tmp_path) -> None:
    case, scen, res = moved_ev
    _write_all(tmp_path, scen, res)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    metrics["expected_imbalance_after_pct"] += 1.0
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    plan = json.loads((tmp_path / "plan.json").read_text())
    plan["total_cost"] += 100.0
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    rep = check_outputs(case, tmp_path)
    assert rep.violations == []
    assert len(rep.differences) == 2
    assert rep.differences[0].startswith("metrics.json expected_imbalance_after_pct")
    assert rep.differences[1].startswith("plan.json total_cost")


def test_check_outputs_catches_broken_line_rules(moved_ev, tmp_path) -> None:
    """The same files against a case whose line l8 (m1-m2) is rated 2 kW with T_max = 2:
    after the move l8 carries c8 + c1 + c2 + c3, at least 1 + 1 + 0 + 1 kW (hand_scenarios:
    2 kW x [0.5, 1.5) per residential customer), so it is over its rating and heavy at all 8 steps."""
    case, scen, res = moved_ev
    _write_all(tmp_path, scen, res)
    strict: Case = with_line_ratings(case, {"l8": 2.0})
    strict = strict.with_params(strict.params.updated(operation={"max_heavy_steps": 2}))
    rep = check_outputs(strict, tmp_path)
    assert [v.split(":")[0] for v in rep.violations] == ["line l8", "line l8"]
    assert rep.violations[0].endswith("> rating 2.0 kW")
    assert rep.violations[1] == "line l8: heavy load for 8 consecutive steps > T_max = 2"


@pytest.mark.parametrize("tamper", ["drop_move", "split_node", "duplicate_move", "own_tail_target"])
def test_check_outputs_catches_a_tampered_plan(moved_ev, tmp_path, tamper: str) -> None:
    case, scen, res = moved_ev
    _write_all(tmp_path, scen, res)
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
        assert "plan.json moved_customers 3 != 0" in rep.differences
        assert any("feeder_loads.csv" in d for d in rep.differences)
    elif tamper == "split_node":
        assert any("splits the customers of node n5" in v for v in rep.violations)
    elif tamper == "duplicate_move":
        assert "more than one move per end node" in rep.violations
    else:
        assert any("targets a node of its own combination" in v for v in rep.violations)
