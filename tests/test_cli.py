"""End to end through the command line on the hand-built Fig 3 case.

Only :func:`test_plan_with_evaluation` runs the AC check and the out-of-sample evaluation;
the others pass ``--no-evaluate``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from lvbalance.cli import app
from lvbalance.io import write_case
from tests.fixtures import FIG3_OPTION_COST, fig3_case

PLAN_FILES = ("plan.json", "schedules.csv", "feeder_loads.csv", "metrics.json", "scenarios.csv", "profiles.csv")


def _case_dir(tmp_path: Path, imbalance_weight: float = 20000.0) -> Path:
    """Fig 3 where a point of imbalance is worth enough that a move pays."""
    case = fig3_case()
    case = case.with_params(case.params.updated(objective={"imbalance_weight": imbalance_weight}))
    return write_case(case, tmp_path / "case")


@pytest.mark.slow
def test_plan_then_independent_check(tmp_path: Path) -> None:
    case_dir = _case_dir(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["plan", str(case_dir), "-m", "m1", "-o", str(out), "--no-evaluate"])
    assert result.exit_code == 0, result.output
    for name in PLAN_FILES:
        assert (out / name).is_file(), name
    assert not (out / "ac_check.csv").exists() and not (out / "out_of_sample.csv").exists()
    plan = json.loads((out / "plan.json").read_text())
    assert plan["method"] == "m1"
    # a point of imbalance at 20000 makes one move pay (which one follows from the pseudo profiles)
    assert len(plan["moves"]) == 1
    mv = plan["moves"][0]
    option = f"{mv['end_node']}/{len(mv['customers'])}->{mv['to_node']}"
    assert plan["moved_customers"] == len(mv["customers"])
    assert plan["total_cost"] == pytest.approx(FIG3_OPTION_COST[option])
    check = CliRunner().invoke(app, ["check", str(case_dir), str(out)])
    assert check.exit_code == 0, check.output
    assert "every rule holds" in " ".join(check.output.split())


@pytest.mark.slow
def test_plan_with_evaluation(tmp_path: Path) -> None:
    """m2 (no V2G: a small model) with the AC check and 4 held-out days (test_evaluate_outofsample.py)."""
    case_dir = _case_dir(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["plan", str(case_dir), "-m", "m2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    for name in (*PLAN_FILES, "ac_check.csv", "out_of_sample.csv", "report.html"):
        assert (out / name).is_file(), name
    oos = pd.read_csv(out / "out_of_sample.csv", index_col=0)
    assert list(oos.index) == ["m2"] and oos.loc["m2", "days"] == 4
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["extra"]) == {"ac", "out_of_sample", "tradeoff"}
    assert metrics["extra"]["out_of_sample"]["mean_pct"] == pytest.approx(oos.loc["m2", "mean_pct"])
    assert list(pd.read_csv(out / "ac_check.csv").columns) == ["figure", "as built", "m2"]
    text = " ".join(result.output.split())
    assert "lowest voltage" in text and "held-out days" in text  # human labels, not keys
    assert "min_voltage_pu" not in text and "days_better_than_baseline" not in text
    assert "plan (m2): Move " in text
    check = CliRunner().invoke(app, ["check", str(case_dir), str(out)])
    assert check.exit_code == 0, check.output


def test_check_reports_a_tampered_plan(tmp_path: Path) -> None:
    case_dir = write_case(fig3_case(), tmp_path / "case")
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["plan", str(case_dir), "-m", "v2g_only", "-o", str(out), "--no-evaluate"]).exit_code == 0
    sched = (out / "schedules.csv").read_text().splitlines()
    assert sched[0].split(",")[-1] == "p_scheduled_kw"
    header, first = sched[0], sched[1].split(",")
    first[-1] = str(float(first[-1]) + 50.0)  # 50 kW more than any charger (c2: 7 kW)
    (out / "schedules.csv").write_text("\n".join([header, ",".join(first), *sched[2:]]) + "\n")
    check = CliRunner().invoke(app, ["check", str(case_dir), str(out)])
    assert check.exit_code == 1
    assert "EV charge limit Pc broken at 1 (ev, scenario, step)" in " ".join(check.output.split())


def test_unknown_method_is_a_clear_error(tmp_path: Path) -> None:
    case_dir = write_case(fig3_case(), tmp_path / "case")
    result = CliRunner().invoke(app, ["plan", str(case_dir), "-m", "m9", "-o", str(tmp_path / "o"), "--no-evaluate"])
    assert result.exit_code == 2
    assert "unknown method 'm9'" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--budget", "100", "--target-imbalance", "5"], "--budget and --target-imbalance exclude each other"),
        (["--budget", "-5"], "--budget must be a finite number >= 0, not -5"),
        (["--target-imbalance", "-1"], "--target-imbalance must be a finite number >= 0, not -1"),
    ],
)
@pytest.mark.parametrize("command", ["plan", "compare"])
def test_budget_and_target_errors_exit_2(tmp_path: Path, command: str, args: list[str], message: str) -> None:
    """Checked before the case is read: exit code 2, no traceback, no output folder."""
    out = tmp_path / "o"
    result = CliRunner().invoke(app, [command, str(tmp_path / "no case"), "-o", str(out), "--no-evaluate", *args])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split()) and "Traceback" not in result.output
    assert not out.exists()


def test_target_imbalance_picks_the_cheapest_point_or_names_the_lowest(tmp_path: Path) -> None:
    """m2 on Fig 3: a target at the front's lowest E[I] plans that point; below it, exit 2
    naming the lowest reachable E[I]."""
    case_dir = _case_dir(tmp_path)
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["plan", str(case_dir), "-m", "m2", "-o", str(out), "--no-evaluate"]).exit_code == 0
    front = pd.read_csv(out / "tradeoff.csv")
    lowest = front["expected_imbalance_pct"].min()
    out2 = tmp_path / "out2"  # a fresh folder each run: an existing one is not overwritten
    result = CliRunner().invoke(
        app, ["plan", str(case_dir), "-m", "m2", "-o", str(out2), "--no-evaluate", "--target-imbalance", f"{lowest + 1e-5:.6f}"]
    )
    assert result.exit_code == 0, result.output
    again = pd.read_csv(out2 / "tradeoff.csv")
    assert again.loc[again["chosen"], "expected_imbalance_pct"].iloc[0] == pytest.approx(lowest, abs=1e-5)
    assert json.loads((out2 / "plan.json").read_text())["total_cost"] == pytest.approx(again["cost"].max())
    out3 = tmp_path / "out3"
    result = CliRunner().invoke(app, ["plan", str(case_dir), "-m", "m2", "-o", str(out3), "--no-evaluate", "--target-imbalance", "0.01"])
    assert result.exit_code == 2
    assert f"no plan reaches an expected imbalance of 0.01 %; the lowest reachable is {lowest:.4f} %" in " ".join(result.output.split())


def test_a_step_line_shows_benders_progress_and_leaves_logging_as_it_was() -> None:
    import logging

    from lvbalance.cli.common import PROGRESS_LOGGERS, Steps

    logger = logging.getLogger(PROGRESS_LOGGERS[0])
    before = (logger.level, list(logger.handlers))
    steps = Steps()
    shown: list[str] = []
    steps.detail = shown.append  # type: ignore[method-assign]
    logger.info("before any step")
    steps("m3: build and solve")
    logger.info("benders %d: gap %.2f %%", 3, 12.5)
    steps("v2g_only: build and solve")
    logger.info("benders %d: gap %.2f %%", 1, 0.0)
    steps.done()
    logger.info("after the last step")
    assert shown == ["benders 3: gap 12.50 %", "benders 1: gap 0.00 %"]
    assert (logger.level, list(logger.handlers)) == before
