"""``lvbalance batch`` end to end on real Dask clusters (issue 13).

A ``LocalCluster`` of 2 worker processes plans 3 small cases, one of them bad; a rerun skips
the 2 planned ones. A ``dask scheduler`` and a ``dask worker`` started as subprocesses on
127.0.0.1 plan a case through ``--scheduler``. Cases: Fig 3 (tests/fixtures.py) where a point
of imbalance is worth enough that m2 moves; m2 only, no AC / out-of-sample evaluation.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from lvbalance.batch.area import AreaOutcome, AreaStatus
from lvbalance.cli import app
from lvbalance.cli.batch import exit_code
from lvbalance.io import write_case
from tests.fixtures import fig3_case

SRC = Path(__file__).resolve().parents[1] / "src"


def _good_case(path: Path) -> Path:
    case = fig3_case()
    return write_case(case.with_params(case.params.updated(objective={"imbalance_weight": 20000.0})), path)


def _bad_case(path: Path) -> Path:
    """Fig 3 with its first line starting at a node that does not exist."""
    case_dir = _good_case(path)
    rows = (case_dir / "lines.csv").read_text().splitlines()
    rows[1] = "l1,nX,n1,100,50"
    (case_dir / "lines.csv").write_text("\n".join(rows) + "\n")
    return case_dir


def test_exit_code_says_what_went_wrong() -> None:
    ok = AreaOutcome("a", AreaStatus.PLANNED)
    same = AreaOutcome("b", AreaStatus.UNCHANGED)
    bad = AreaOutcome("c", AreaStatus.BAD_INPUT, "x")
    failed = AreaOutcome("d", AreaStatus.FAILED, "y")
    assert exit_code([ok, same]) == 0
    assert exit_code([ok, bad]) == 2
    assert exit_code([ok, failed]) == 1
    assert exit_code([ok, bad, failed]) == 2


def test_workers_and_scheduler_together_are_refused(tmp_path: Path) -> None:
    case_dir = _good_case(tmp_path / "a")
    args = ["batch", str(case_dir), "-o", str(tmp_path / "out"), "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "not both" in result.output


def test_output_inside_a_case_is_refused(tmp_path: Path) -> None:
    case_dir = _good_case(tmp_path / "a")
    result = CliRunner().invoke(app, ["batch", str(case_dir), "-o", str(case_dir / "out"), "--workers", "1"])
    assert result.exit_code == 2
    assert "inside the case directory" in " ".join(result.output.split())


@pytest.mark.slow
def test_local_cluster_isolates_a_bad_area_and_a_rerun_skips_the_planned(tmp_path: Path) -> None:
    cases = tmp_path / "town"
    _good_case(cases / "a")
    _good_case(cases / "b")
    _bad_case(cases / "c")
    out = tmp_path / "out"
    args = ["batch", str(cases), "-o", str(out), "--methods", "m2", "--workers", "2", "--no-evaluate"]

    first = CliRunner().invoke(app, args)
    assert first.exit_code == 2, first.output
    text = " ".join(first.output.split())
    assert "2 worker(s)" in text and "dashboard: http" in text
    assert "1 bad_input, 2 planned" in text
    assert "from_node 'nX' is not in nodes.csv" in text
    city = pd.read_csv(out / "city.csv").fillna({"error": ""}).set_index("area")
    assert city["status"].to_dict() == {"a": "planned", "b": "planned", "c": "bad_input"}
    assert "nX" in city.loc["c", "error"] and city.loc["a", "error"] == ""
    for area in ("a", "b"):  # as compare writes it: a folder per method, comparison.csv, report.html
        for name in ("baseline/plan.json", "m2/plan.json", "m2/metrics.json", "comparison.csv", "report.html", "batch.json"):
            assert (out / area / name).is_file(), f"{area}/{name}"
        m2 = json.loads((out / area / "m2" / "plan.json").read_text())
        assert city.loc[area, "m2_moved_customers"] == m2["moved_customers"] > 0
        assert float(city.loc[area, "m2_cost"]) == pytest.approx(m2["total_cost"])
        assert float(city.loc[area, "m2_expected_imbalance_after_pct"]) < float(city.loc[area, "expected_imbalance_before_pct"])
    assert not (out / "c").exists()
    assert sorted(p.name for p in out.iterdir()) == ["a", "b", "city.csv", "city_report.html"]
    report = (out / "city_report.html").read_text()
    assert "a/report.html" in report and "Failed areas (1)" in report
    stamp = (out / "a" / "batch.json").stat().st_mtime_ns

    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2, again.output
    assert "1 bad_input, 2 unchanged" in " ".join(again.output.split())
    city2 = pd.read_csv(out / "city.csv").set_index("area")
    assert city2["status"].to_dict() == {"a": "unchanged", "b": "unchanged", "c": "bad_input"}
    assert city2.loc["a", "m2_cost"] == city.loc["a", "m2_cost"]
    assert (out / "a" / "batch.json").stat().st_mtime_ns == stamp


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """A ``dask scheduler`` and one ``dask worker`` (one thread, 4 GiB) as subprocesses; stopped after."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with (logs / "scheduler.log").open("wb") as log:
            cmd = [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]
            procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env))
        with (logs / "worker.log").open("wb") as log:
            cmd = [sys.executable, "-m", "dask", "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--nworkers", "1"]
            cmd += ["--memory-limit", "4GiB", "--no-dashboard", "--death-timeout", "60"]
            procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env))
        _wait_for_worker(address, logs)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


def _wait_for_worker(address: str, logs: Path, timeout_s: float = 120.0) -> None:
    from distributed import Client

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with Client(address, timeout="5s") as client:
                client.wait_for_workers(1, timeout=max(deadline - time.monotonic(), 1.0))
                return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError("no dask worker came up:\n" + "\n".join(p.read_text() for p in logs.iterdir())) from None
            time.sleep(1.0)


@pytest.mark.slow
def test_an_existing_cluster_by_scheduler_address(tmp_path: Path, dask_cluster: str) -> None:
    case_dir = _good_case(tmp_path / "cases" / "a")
    out = tmp_path / "out"
    args = ["batch", str(case_dir), "-o", str(out), "--methods", "m2", "--scheduler", dask_cluster, "--no-evaluate"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert f"1 worker(s) at {dask_cluster}" in text and "1 planned" in text
    city = pd.read_csv(out / "city.csv")
    assert list(city["status"]) == ["planned"] and city.loc[0, "m2_moved_customers"] > 0
    assert (out / "a" / "report.html").is_file()
    shutil.rmtree(out / "a" / "m2")  # an area missing a method's outputs is planned again
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (out / "a" / "m2" / "plan.json").is_file()
