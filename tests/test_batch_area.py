"""One area's task (lvbalance.batch.area): content hash, skip, atomic replace, isolated failures.

The planning itself is replaced by a stand-in that writes the files a plan leaves, so these
tests stay fast; tests/test_cli_batch.py plans for real on a Dask cluster.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lvbalance.batch import area as ba
from lvbalance.batch.area import AreaJob, AreaStatus, input_hash, is_current, plan_area, replace_dir, with_baseline
from lvbalance.io import write_case
from tests.fixtures import fig3_case

METHODS = ("baseline", "m2")


def _fake_plan_into(calls: list[str]):
    def fake(case, job: AreaJob, folder: Path) -> None:
        calls.append(job.area)
        for m in job.methods:
            (folder / m).mkdir()
            (folder / m / "plan.json").write_text(json.dumps({"method": m}))
            (folder / m / "metrics.json").write_text(json.dumps({"method": m, "threads": case.params.solver.threads}))

    return fake


def test_with_baseline_puts_baseline_first_once() -> None:
    assert with_baseline(["m1", "baseline", "m2", "m1"]) == ("baseline", "m1", "m2")


def test_input_hash_follows_files_and_options(tmp_path: Path) -> None:
    case_dir = write_case(fig3_case(), tmp_path / "case")
    h0 = input_hash(case_dir, METHODS, evaluate=False)
    assert h0 == input_hash(case_dir, METHODS, evaluate=False)
    assert h0 != input_hash(case_dir, METHODS, evaluate=True)
    assert h0 != input_hash(case_dir, ("baseline", "m1"), evaluate=False)
    assert h0 != input_hash(case_dir, METHODS, evaluate=False, budget=5000.0)  # --budget replans
    assert input_hash(case_dir, METHODS, evaluate=False, budget=5000.0) != input_hash(case_dir, METHODS, evaluate=False, budget=6000.0)
    (case_dir / ".notes").write_text("hidden files do not count")
    assert h0 == input_hash(case_dir, METHODS, evaluate=False)
    toml = case_dir / "case.toml"
    toml.write_text(toml.read_text().replace("max_route_m = 250.0", "max_route_m = 251.0"))
    assert h0 != input_hash(case_dir, METHODS, evaluate=False)


def test_plan_then_skip_then_force_then_replan_on_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(ba, "_plan_into", _fake_plan_into(calls))
    case_dir = write_case(fig3_case(), tmp_path / "case")
    dest = tmp_path / "out" / "a"
    job = AreaJob("a", str(case_dir), str(dest), METHODS, evaluate=False)

    first = plan_area(job)
    assert first.status == AreaStatus.PLANNED and first.error == "" and calls == ["a"]
    record = json.loads((dest / "batch.json").read_text())
    assert record["input_hash"] == input_hash(case_dir, METHODS, evaluate=False)
    assert record["feeders"] == 2 and record["customers"] == 8
    ring = record["outline_lonlat"]
    assert ring[0] == ring[-1] and len(ring) > 4 and all(7 < lon < 8 and 48 < lat < 49 for lon, lat in ring)
    # one solver thread per task, whatever the case says
    assert json.loads((dest / "m2" / "metrics.json").read_text())["threads"] == 1
    assert is_current(dest, record["input_hash"], METHODS)

    assert plan_area(job).status == AreaStatus.UNCHANGED and calls == ["a"]
    assert plan_area(AreaJob("a", str(case_dir), str(dest), METHODS, evaluate=False, force=True)).status == AreaStatus.PLANNED
    assert calls == ["a", "a"]
    (case_dir / "days.csv").write_text((case_dir / "days.csv").read_text())  # same bytes: still current
    assert plan_area(job).status == AreaStatus.UNCHANGED
    customers = case_dir / "customers.csv"
    customers.write_text(customers.read_text().replace("5000", "5001", 1))
    assert plan_area(job).status == AreaStatus.PLANNED and len(calls) == 3
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a"]  # no staging or old folder left


def test_missing_method_folder_is_not_current(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ba, "_plan_into", _fake_plan_into([]))
    case_dir = write_case(fig3_case(), tmp_path / "case")
    dest = tmp_path / "out" / "a"
    plan_area(AreaJob("a", str(case_dir), str(dest), METHODS, evaluate=False))
    digest = json.loads((dest / "batch.json").read_text())["input_hash"]
    (dest / "m2" / "plan.json").unlink()
    assert not is_current(dest, digest, METHODS)


def test_bad_input_lists_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    case_dir = write_case(fig3_case(), tmp_path / "case")
    lines = case_dir / "lines.csv"
    rows = lines.read_text().splitlines()
    rows[1] = "l1,nX,n1,100,50"
    lines.write_text("\n".join(rows) + "\n")
    out = plan_area(AreaJob("bad", str(case_dir), str(tmp_path / "out" / "bad"), METHODS, evaluate=False))
    assert out.status == AreaStatus.BAD_INPUT
    assert "from_node 'nX' is not in nodes.csv" in out.error and "not connected to the busbar" in out.error
    assert not (tmp_path / "out").exists()


def test_a_directory_the_worker_cannot_see_says_why(tmp_path: Path) -> None:
    out = plan_area(AreaJob("gone", str(tmp_path / "gone"), str(tmp_path / "out" / "gone"), METHODS))
    assert out.status == AreaStatus.BAD_INPUT
    assert "no such directory" in out.error and "shared by the client and every worker" in out.error


def test_a_failure_while_planning_is_recorded_and_leaves_the_old_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case_dir = write_case(fig3_case(), tmp_path / "case")
    dest = tmp_path / "out" / "a"
    dest.mkdir(parents=True)
    (dest / "old.txt").write_text("from an earlier run")

    def boom(case, job, folder: Path) -> None:
        (folder / "half.csv").write_text("half")
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(ba, "_plan_into", boom)
    out = plan_area(AreaJob("a", str(case_dir), str(dest), METHODS, evaluate=False, force=True))
    assert out.status == AreaStatus.FAILED and out.error == "RuntimeError: solver exploded"
    assert sorted(p.name for p in dest.iterdir()) == ["old.txt"]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a"]


def test_replace_dir_swaps_whole_folders(tmp_path: Path) -> None:
    dest, staging = tmp_path / "a", tmp_path / ".a.tmp"
    dest.mkdir()
    (dest / "stale.csv").write_text("old")
    staging.mkdir()
    (staging / "plan.json").write_text("{}")
    replace_dir(staging, dest)
    assert sorted(p.name for p in dest.iterdir()) == ["plan.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
