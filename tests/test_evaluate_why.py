"""Why a plan moves nothing (evaluate/why.py, issue 11 item 2) on the Fig 3 case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lvbalance.cli import app
from lvbalance.coupling import move_options
from lvbalance.evaluate.why import WHY_NAME, exclusion_counts, why_no_move
from lvbalance.io import write_case
from lvbalance.model.methods import METHODS
from lvbalance.model.run import plan_method
from tests.fixtures import FIG3_OPTION_COST, fig3_case, fig3_coarse, hand_scenarios

M2 = METHODS["m2"]


def _plan(weight: float, **planning: float):
    case = fig3_coarse(objective={"imbalance_weight": weight}, solver={"algorithm": "extensive"}, planning=planning)
    scen = hand_scenarios(case)
    options = move_options(case)
    return case, scen, options, plan_method(case, scen, M2, options=options)


def test_cheapest_move_and_its_break_even_weight() -> None:
    case, scen, options, result = _plan(1.0)
    assert not result.plan.moves
    why = why_no_move(case, scen, M2, options, result)
    assert why.kind == "does_not_pay"
    # the cheapest option of each load combination m2/1, m2/2, n5/2, n5/3, n6/1
    assert why.candidates_evaluated == 5 and why.admissible_options == len(FIG3_OPTION_COST)
    assert why.cost == pytest.approx(FIG3_OPTION_COST[str(why.option)])
    assert why.expected_imbalance_pct == pytest.approx(result.expected_imbalance_pct)
    assert why.cut_pct == pytest.approx(why.expected_imbalance_pct - why.expected_imbalance_with_move_pct)
    assert why.cut_pct > 0
    # w* = (cost_weight x cost + change of the small peak term) / cut
    assert why.break_even_weight == pytest.approx(why.cost / why.cut_pct, rel=0.05)
    assert f"{why.break_even_weight:,.0f}" in why.text and why.end_node in why.text

    w = float(why.break_even_weight)
    _, _, _, above = _plan(w * 1.01)
    chosen = {f"{mv.end_node}/{len(mv.customers)}->{mv.to_node}" for mv in above.plan.moves}
    assert chosen == {why.option}
    _, _, _, below = _plan(w * 0.99)
    assert not below.plan.moves


def test_tiny_r_max_no_admissible_move() -> None:
    case, scen, options, result = _plan(1.0, max_route_m=5.0)
    assert options.empty and not result.plan.moves
    why = why_no_move(case, scen, M2, options, result)
    assert why.kind == "none_admissible" and why.candidates_evaluated == 0
    c = why.counts
    # end nodes m2, n5, n6; combinations m2/1, m2/2, n5/2, n5/3, n6/1 (k = 5)
    assert c["end_nodes"] == 3 and c["load_combinations"] == 5
    assert c["beyond_k"] == 0 and c["beyond_m_max"] == 0 and c["no_target"] == 0
    assert c["beyond_r_max"] == 5 and c["nearest_m"] > 5
    assert "5 with every target farther than R_max = 5 m" in why.text


def test_counts_of_k_and_m_max() -> None:
    case = fig3_coarse(planning={"max_customers_per_move": 1, "max_moved_customers": 0})
    c = exclusion_counts(case, straight_line=False)
    assert c["load_combinations"] == 5
    assert c["beyond_k"] == 3  # m2/2, n5/2, n5/3
    assert c["beyond_m_max"] == 2  # m2/1, n6/1
    assert c["beyond_r_max"] == 0 and c["no_target"] == 0


@pytest.mark.slow
def test_cli_prints_why_no_move(tmp_path: Path) -> None:
    case = fig3_case()
    case = case.with_params(case.params.updated(objective={"imbalance_weight": 1.0}))
    case_dir = write_case(case, tmp_path / "case")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["plan", str(case_dir), "-m", "m2", "-o", str(out), "--no-evaluate"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "m2: no move pays at imbalance_weight 1 per point" in text
    assert "It pays from imbalance_weight" in text
    saved = json.loads((out / WHY_NAME).read_text())
    assert saved["kind"] == "does_not_pay" and saved["break_even_weight"] > 1
    report = (out / "report.html").read_text()
    assert "Why: No move pays at imbalance_weight 1 per point" in report


def test_a_budget_below_every_move_is_named() -> None:
    """``--budget 0``: nothing moves because every move costs more; the cheapest is named with its cut."""
    case, scen, options, result = _plan(1e6, budget=0.0)
    assert not result.plan.moves
    why = why_no_move(case, scen, M2, options, result, budget=0.0)
    assert why.kind == "over_budget" and why.budget == 0.0
    assert why.cost == pytest.approx(min(FIG3_OPTION_COST.values()))
    assert why.expected_imbalance_with_move_pct is not None
    assert why.cut_pct == pytest.approx(why.expected_imbalance_pct - why.expected_imbalance_with_move_pct)
    assert "no move fits the budget of 0" in why.text and f"{why.cost:,.0f}" in why.text


def test_a_target_met_as_built_is_named() -> None:
    case, scen, options, result = _plan(1.0)
    target = result.expected_imbalance_pct + 1.0
    why = why_no_move(case, scen, M2, options, result, target_pct=target)
    assert why.kind == "target_met" and why.candidates_evaluated == 0
    assert f"{target:g} %" in why.text
