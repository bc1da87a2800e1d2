"""End to end through the command line on the hand-built Fig 3 case."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lvbalance.cli import app
from lvbalance.io import write_case
from tests.conftest import fig3_case


def test_plan_then_independent_check(tmp_path: Path) -> None:
    case = fig3_case()
    case = case.with_params(case.params.updated(objective={"imbalance_weight": 4000.0}))
    case_dir = write_case(case, tmp_path / "case")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["plan", str(case_dir), "-m", "m1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("plan.json", "schedules.csv", "feeder_loads.csv", "metrics.json", "scenarios.csv", "profiles.csv"):
        assert (out / name).is_file(), name
    plan = json.loads((out / "plan.json").read_text())
    assert plan["method"] == "m1" and plan["moved_customers"] == sum(len(m["customers"]) for m in plan["moves"])
    check = CliRunner().invoke(app, ["check", str(case_dir), str(out)])
    assert check.exit_code == 0, check.output
    assert "every rule holds" in " ".join(check.output.split())


def test_check_reports_a_tampered_plan(tmp_path: Path) -> None:
    case_dir = write_case(fig3_case(), tmp_path / "case")
    out = tmp_path / "out"
    assert CliRunner().invoke(app, ["plan", str(case_dir), "-m", "v2g_only", "-o", str(out)]).exit_code == 0
    sched = (out / "schedules.csv").read_text().splitlines()
    header, first = sched[0], sched[1].split(",")
    first[-1] = str(float(first[-1]) + 50.0)  # 50 kW more than any charger
    (out / "schedules.csv").write_text("\n".join([header, ",".join(first), *sched[2:]]) + "\n")
    check = CliRunner().invoke(app, ["check", str(case_dir), str(out)])
    assert check.exit_code == 1
    assert "charge limit" in check.output


def test_unknown_method_is_a_clear_error(tmp_path: Path) -> None:
    case_dir = write_case(fig3_case(), tmp_path / "case")
    result = CliRunner().invoke(app, ["plan", str(case_dir), "-m", "m9", "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "unknown method 'm9'" in result.output and "Traceback" not in result.output
