"""The decision the report leads with (lvbalance.report.decision), on plans and metrics written by hand.

Weights 5,000 per point of E[I] and cost weight 1:

| method | E[I] after [%] | cost | score = 5,000 x E[I] + cost |
|---|---|---|---|
| m1 | 8.0 | 6,000 | 46,000 |
| m2 | 8.5 | 6,000 | 48,500 |
| m3 | 7.0 | 20,000 | 55,000 |
| v2g_only | 9.5 | 0 | 47,500 |
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from lvbalance.report.decision import decision_html, decision_sentence, feeder_legend_html, key_figures, recommend, why_no_move_text
from lvbalance.report.outputs import MethodOutputs
from lvbalance.results import Move, Plan
from tests.fixtures import fig3_case, fig3_tail_move


def case(imbalance_weight: float = 5000.0):
    c = fig3_case()
    return c.with_params(c.params.updated(objective={"imbalance_weight": imbalance_weight, "cost_weight": 1.0}))


def run(method: str, e1: float, moves: list[Move], *, status: str = "optimal", folder: Path = Path("x")) -> MethodOutputs:
    mt = {
        "status": status,
        "expected_imbalance_before_pct": 10.0,
        "expected_imbalance_after_pct": e1,
        "peak_imbalance_before_pct": 20.0,
        "peak_imbalance_after_pct": 12.5,
        "max_line_loading_before": 0.8,
        "max_line_loading_after": 0.6,
        "mip_gap": 0.0,
    }
    plan = Plan(method, 0.0, 0.0, 1.0, sum(m.cost for m in moves), sum(len(m.customers) for m in moves), moves)
    empty = pd.DataFrame()
    return MethodOutputs(method, folder / method, plan, mt, empty, empty, empty)


def runs(**over) -> dict[str, MethodOutputs]:
    out = {
        "baseline": run("baseline", 10.0, []),
        "m1": run("m1", 8.0, [fig3_tail_move(cost=6000.0)]),
        "m2": run("m2", 8.5, [fig3_tail_move(cost=6000.0)]),
        "m3": run("m3", 7.0, [fig3_tail_move(cost=20000.0)]),
        "v2g_only": run("v2g_only", 9.5, []),
    }
    out.update(over)
    return out


def test_recommends_the_lowest_score_of_the_case_objective() -> None:
    rec = recommend(case(), runs())
    assert rec.method == "m1"
    assert rec.score == pytest.approx({"m1": 46000.0, "m2": 48500.0, "m3": 55000.0, "v2g_only": 47500.0})
    assert "= 46,000 (other methods: v2g_only 47,500, m2 48,500, m3 55,000)" in rec.reason()
    # a higher weight on imbalance makes the straight-line plan's bigger cut pay: 20,000 x 7 + 20,000 < 20,000 x 8 + 6,000
    assert recommend(case(20000.0), runs()).method == "m3"


def test_ties_go_to_m1_and_failed_solves_are_not_recommended() -> None:
    tie = runs(m2=run("m2", 8.0, [fig3_tail_move(cost=6000.0)]))
    assert recommend(case(), tie).method == "m1"
    failed = runs(m1=run("m1", 1.0, [fig3_tail_move(cost=6000.0)], status="error"))
    assert recommend(case(), failed).method == "v2g_only"
    assert recommend(case(), {"baseline": run("baseline", 10.0, [])}).method == "baseline"


def test_the_sentence_of_a_plan_with_moves() -> None:
    assert decision_sentence(runs(), "m1") == (
        "Move 2 customers in 1 move (2 at end node n5 from F1 to F2), building 220 m of new line along streets, "
        "and schedule EV charging and V2G discharging as planned: for 6,000 the expected imbalance falls from "
        "10.00 % to 8.00 % (−2.00 points, −20 %)."
    )
    assert ", and schedule EV" not in decision_sentence(runs(), "m2")  # m2 has no V2G


def test_the_sentence_without_a_move_and_why(tmp_path: Path) -> None:
    r = runs(m1=run("m1", 9.5, [], folder=tmp_path), v2g_only=run("v2g_only", 9.5, [], folder=tmp_path))
    assert decision_sentence(r, "v2g_only") == (
        "Move no customer, and schedule EV charging and V2G discharging as planned: at no construction cost "
        "the expected imbalance goes from 10.00 % to 9.50 % (−0.50 points, −5 %)."
    )
    assert decision_sentence(r, "baseline") == "Leave the network as built: the expected imbalance stays at 10.00 %."
    assert why_no_move_text(r, "v2g_only") is None
    (tmp_path / "m1").mkdir()
    (tmp_path / "m1" / "why_no_move.json").write_text(json.dumps({"text": "the cheapest move does not pay"}))
    assert why_no_move_text(r, "v2g_only") == "the cheapest move does not pay"  # from m1, a method with moves


def test_key_figures() -> None:
    figures = {label: (value, detail) for label, value, detail in key_figures(runs(), "m1")}
    assert figures["cost"] == ("6,000", "220 m of new line")
    assert figures["gain in expected imbalance"] == ("2.00 points", "E[I] 10.00 % → 8.00 %")
    assert figures["customers moved"] == ("2", "in 1 move")
    assert figures["highest line loading"] == ("80% → 60%", "of rating, over all steps")
    assert figures["cost per point of E[I]"] == ("3,000", "average over the plan's cut")
    no_move = [label for label, _, _ in key_figures(runs(), "v2g_only")]
    assert no_move == ["cost", "gain in expected imbalance", "peak imbalance", "highest line loading"]


def test_feeder_legend_counts_customers_before_and_after() -> None:
    legend = feeder_legend_html(case(), runs()["m1"])
    assert "<b>F1</b> 6 → 4 customers" in legend and "<b>F2</b> 2 → 4 customers" in legend
    assert "line cut by a move" in legend
    assert "line cut by a move" not in feeder_legend_html(case(), runs()["v2g_only"])
    assert "<b>F1</b> 6 customers" in feeder_legend_html(case(), runs()["v2g_only"])


def test_first_screen_without_a_move_says_why(tmp_path: Path) -> None:
    r = runs(m1=run("m1", 9.5, [], folder=tmp_path), m2=run("m2", 10.0, [], folder=tmp_path), m3=run("m3", 10.0, [], folder=tmp_path))
    (tmp_path / "m1").mkdir()
    (tmp_path / "m1" / "why_no_move.json").write_text(json.dumps({"text": "no move pays at imbalance_weight 5,000 per point."}))
    rec = recommend(case(), r)
    assert rec.method == "m1"  # ties with v2g_only (9.5 %, no cost): the paper's method
    page = decision_html(case(), r, rec, map_block="<iframe class='map'></iframe>", print_figure="", map_note="<p>note</p>")
    assert "<p class='sentence'>Move no customer, and schedule EV charging and V2G discharging as planned" in page
    assert "<b>Why no customer moves:</b> No move pays at imbalance_weight 5,000 per point.</p>" in page
    assert page.index("<iframe class='map'>") < page.index("<ul class='legend'>") < page.index("<p>note</p>")
    assert "line cut by a move" not in page
