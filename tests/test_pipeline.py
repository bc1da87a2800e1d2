"""``lvbalance.pipeline``: plan_and_write writes the files of DESIGN.md ("Outputs"),
evaluate_and_report adds to them without touching the results it was given."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from lvbalance.pipeline import MethodRun, comparison_table, evaluate_and_report, plan_and_write
from lvbalance.profiles import build_profiles
from lvbalance.results import outputs_without_times
from tests.fixtures import FIG3_OPTION_COST, fig3_case

PLAN_KEYS = {"method", "objective", "mip_gap", "solve_time_s", "total_cost", "moved_customers", "moves"}
MOVE_KEYS = {"end_node", "cut_node", "to_node", "customers", "from_feeder", "to_feeder", "route_length_m", "cost", "route"}
CSV_COLUMNS = {
    "scenarios.csv": ["scenario", "probability", "day_type", "weather"],
    "profiles.csv": ["scenario", "step", "customer_id", "p_kw"],
    "schedules.csv": ["scenario", "step", "customer_id", "p_uncontrolled_kw", "p_scheduled_kw"],
    "feeder_loads.csv": ["scenario", "step", "feeder", "p_kw", "load_rate"],
}


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """baseline and m2 on Fig 3 at 20000 per point of imbalance (m2 makes one move), written once (read only);
    m2's trade-off front from the top, 2 points."""
    case = fig3_case()
    case = case.with_params(case.params.updated(objective={"imbalance_weight": 20000.0}, tradeoff={"max_points": 2}))
    profiles = build_profiles(case)
    out = tmp_path_factory.mktemp("compare")
    results = plan_and_write(case, ["baseline", "m2"], out, profiles=profiles)
    return case, profiles, out, results


def test_plan_and_write_writes_the_design_files(planned) -> None:
    case, profiles, out, results = planned
    assert list(results) == ["baseline", "m2"] and all(isinstance(r, MethodRun) for r in results.values())
    n_scen, n_steps = len(profiles.scenarios.scenarios), 96
    for mid in results:
        folder = out / mid
        plan = json.loads((folder / "plan.json").read_text())
        assert set(plan) == PLAN_KEYS and plan["method"] == mid
        assert all(set(mv) == MOVE_KEYS for mv in plan["moves"])
        for name, columns in CSV_COLUMNS.items():
            assert list(pd.read_csv(folder / name, nrows=0).columns) == columns, (mid, name)
        assert len(pd.read_csv(folder / "feeder_loads.csv")) == n_scen * n_steps * 2  # two feeders
        assert len(pd.read_csv(folder / "schedules.csv")) == n_scen * n_steps * 1  # one ev customer
        assert len(pd.read_csv(folder / "profiles.csv")) == n_scen * n_steps * 8  # eight customers
        metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics["method"] == mid and set(metrics["extra"]) == ({"tradeoff"} if mid == "m2" else set())
        assert (folder / "tradeoff.csv").is_file() == (mid == "m2")  # methods with moves
        for name in ("plan.geojson", "plan_wgs84.geojson", "net_after.json"):
            assert (folder / name).is_file(), (mid, name)
    base = json.loads((out / "baseline" / "plan.json").read_text())
    m2 = json.loads((out / "m2" / "plan.json").read_text())
    assert base["moves"] == [] and base["moved_customers"] == 0
    assert len(m2["moves"]) == 1
    mv = m2["moves"][0]
    assert m2["total_cost"] == pytest.approx(FIG3_OPTION_COST[f"{mv['end_node']}/{len(mv['customers'])}->{mv['to_node']}"])
    comparison = pd.read_csv(out / "comparison.csv", index_col="id")
    assert list(comparison.index) == ["baseline", "m2"]
    assert comparison.loc["m2", "moved_customers"] == len(mv["customers"])
    assert comparison.loc["m2", "cost"] == pytest.approx(m2["total_cost"])


def test_comparison_table_rows(planned) -> None:
    _, _, _, results = planned
    t = comparison_table(results)
    base, m2 = t.loc["baseline"], t.loc["m2"]
    assert base["expected_imbalance_after_pct"] == pytest.approx(base["expected_imbalance_before_pct"], rel=1e-6)
    assert m2["expected_imbalance_before_pct"] == pytest.approx(base["expected_imbalance_before_pct"], rel=1e-9)
    assert m2["expected_imbalance_after_pct"] < m2["expected_imbalance_before_pct"]
    assert base["cost"] == 0.0 and m2["cost"] in [pytest.approx(c) for c in FIG3_OPTION_COST.values()]
    assert base["binaries"] == 0


def test_tradeoff_csv_marks_the_plan(planned) -> None:
    """m2's front: cost rising, E[I] falling, the written plan marked."""
    _, _, out, results = planned
    front = pd.read_csv(out / "m2" / "tradeoff.csv")
    assert list(front.columns) == ["budget", "cost", "expected_imbalance_pct", "peak_imbalance_pct", "moved_customers", "moves", "chosen"]
    assert len(front) >= 2 and front["cost"].diff().dropna().gt(0).all() and front["expected_imbalance_pct"].diff().dropna().lt(0).all()
    chosen = front[front["chosen"]]
    assert len(chosen) == 1
    assert chosen["cost"].iloc[0] == pytest.approx(results["m2"].plan.total_cost)
    assert chosen["expected_imbalance_pct"].iloc[0] == pytest.approx(results["m2"].metrics.expected_imbalance_after_pct)


def test_budget_picks_a_point_of_the_front(planned, tmp_path: Path) -> None:
    """--budget 0 with a front of 1 point from the top: the sweep goes on from the budget to the
    plan without moves, which is planned and marked."""
    case, profiles, _, _ = planned
    case = case.with_params(case.params.updated(tradeoff={"max_points": 1}))
    results = plan_and_write(case, ["m2"], tmp_path, profiles=profiles, subfolders=False, budget=0.0)
    assert results["m2"].plan.moves == []
    front = pd.read_csv(tmp_path / "tradeoff.csv")
    assert front.loc[front["chosen"], "moves"].tolist() == ["no move"] and len(front) == 2
    assert front["cost"].iloc[0] == 0.0 and front["cost"].iloc[1] > 0
    with pytest.raises(ValueError, match="exclude each other"):
        plan_and_write(case, ["m2"], tmp_path, profiles=profiles, budget=1.0, target_imbalance_pct=1.0)


def test_single_method_writes_into_the_folder(planned, tmp_path: Path) -> None:
    case, profiles, _, _ = planned
    results = plan_and_write(case, ["baseline"], tmp_path, profiles=profiles, subfolders=False)
    assert list(results) == ["baseline"]
    assert (tmp_path / "plan.json").is_file() and not (tmp_path / "baseline").exists()
    assert not (tmp_path / "comparison.csv").exists()


@pytest.mark.slow
def test_evaluate_and_report_leaves_the_metrics_it_was_given(planned, tmp_path: Path) -> None:
    """Two calls write the same ``extra`` (out-of-sample only: no AC check here), and the
    results passed in keep theirs (m2: its trade-off front only)."""
    case, profiles, written_once, results = planned
    out = tmp_path / "compare"
    shutil.copytree(written_once, out)
    written = []
    for _ in range(2):
        report = evaluate_and_report(case, results, profiles, out, ac=False)
        assert report.is_file()
        written.append({mid: json.loads((out / mid / "metrics.json").read_text())["extra"] for mid in results})
        assert all(set(run.metrics.extra) == ({"tradeoff"} if mid == "m2" else set()) for mid, run in results.items())
    assert written[0] == written[1]
    assert set(written[0]["m2"]) == {"out_of_sample", "tradeoff"}
    assert written[0]["m2"]["out_of_sample"]["days"] == 4  # test_evaluate_outofsample.py
    oos = pd.read_csv(out / "out_of_sample.csv", index_col="method")
    assert written[0]["m2"]["out_of_sample"]["mean_pct"] == pytest.approx(oos.loc["m2", "mean_pct"])
    assert not (out / "ac_check.csv").exists()


@pytest.mark.slow
def test_two_runs_give_identical_outputs(tmp_path) -> None:
    """Issue 12 item 3: the same input twice, byte-identical outputs except ``*_time_s`` fields
    (m3 with Benders forced: its cut loop, master and warm-started subproblems, over
    straight-line options, many more than m1's)."""
    case = fig3_case()
    case = case.with_params(case.params.updated(objective={"imbalance_weight": 20000.0}, solver={"algorithm": "benders"}))
    runs = []
    for k in range(2):
        out = tmp_path / f"run{k}"
        plan_and_write(case, ["m3"], out, profiles=build_profiles(case))
        runs.append(outputs_without_times(out))
    assert sorted(runs[0]) == sorted(runs[1])
    assert "m3/plan.json" in runs[0] and runs[0]["m3/plan.json"]["moves"]  # type: ignore[index]
    for name in runs[0]:
        assert runs[0][name] == runs[1][name], name
