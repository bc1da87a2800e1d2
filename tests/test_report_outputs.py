"""Reading a written output folder back (lvbalance.report.outputs), on folders written by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lvbalance.report.outputs import (
    as_built_feeder_loads,
    before_feeder_loads,
    hours_since_start,
    read_method_outputs,
    read_run,
)
from tests.fixtures import fig3_case

#: Power of each Fig-3 customer in scenario s1, step 0 [kW]; F1 holds c1..c6, F2 c7, c8.
P_KW = {"c1": 1.0, "c2": 2.0, "c3": 3.0, "c4": 4.0, "c5": -1.0, "c6": 1.0, "c7": 2.0, "c8": 4.0}


def write_method_folder(folder: Path, method: str, *, feeder_loads: pd.DataFrame | None = None) -> Path:
    """The files ``read_method_outputs`` reads, written by hand: no move, one scenario, one step."""
    folder.mkdir(parents=True)
    plan = {"method": method, "objective": 1.5, "mip_gap": 0.0, "solve_time_s": 0.25, "total_cost": 0.0, "moved_customers": 0, "moves": []}
    (folder / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    (folder / "metrics.json").write_text(json.dumps({"method": method, "status": "optimal"}), encoding="utf-8")
    if feeder_loads is None:
        feeder_loads = pd.DataFrame({"scenario": "s1", "step": 0, "feeder": ["F1", "F2"], "p_kw": [0.0, 0.0], "load_rate": [0.0, 0.0]})
    feeder_loads.to_csv(folder / "feeder_loads.csv", index=False)
    pd.DataFrame({"scenario": ["s1"], "step": [0], "customer_id": ["c2"], "p_uncontrolled_kw": [2.0], "p_scheduled_kw": [0.5]}).to_csv(
        folder / "schedules.csv", index=False
    )
    pd.DataFrame({"scenario": ["s1"], "probability": [1.0], "day_type": ["working"], "weather": ["sunny"]}).to_csv(
        folder / "scenarios.csv", index=False
    )
    pd.DataFrame({"scenario": "s1", "step": 0, "customer_id": list(P_KW), "p_kw": list(P_KW.values())}).to_csv(
        folder / "profiles.csv", index=False
    )
    return folder


def test_read_method_outputs_reads_the_files(tmp_path):
    r = read_method_outputs(write_method_folder(tmp_path / "m1", "m1"))
    assert (r.method, r.folder, r.plan.moves, r.plan.solve_time_s) == ("m1", tmp_path / "m1", [], 0.25)
    assert r.metrics == {"method": "m1", "status": "optimal"}
    assert list(r.feeder_loads.columns) == ["scenario", "step", "feeder", "p_kw", "load_rate"]
    assert r.schedules.loc[0, "p_scheduled_kw"] == 0.5
    assert r.scenarios.loc["s1", "probability"] == 1.0
    assert r.profiles().set_index("customer_id")["p_kw"].to_dict() == P_KW


def test_read_run_orders_baseline_then_methods_then_others(tmp_path):
    for m in ("zz_custom", "v2g_only", "m1", "baseline"):
        write_method_folder(tmp_path / f"folder_{m}", m)
    (tmp_path / "not_a_method").mkdir()
    assert list(read_run(tmp_path)) == ["baseline", "m1", "v2g_only", "zz_custom"]
    assert list(read_run(tmp_path / "folder_m1")) == ["m1"]  # one method's folder (lvbalance plan)


def test_read_run_of_a_folder_without_outputs_fails(tmp_path):
    with pytest.raises(FileNotFoundError, match="no plan.json"):
        read_run(tmp_path)


def test_as_built_feeder_loads_sums_customers_onto_feeders():
    case = fig3_case()
    profiles = pd.DataFrame({"scenario": "s1", "step": 0, "customer_id": list(P_KW), "p_kw": list(P_KW.values())})
    profiles = pd.concat([profiles, pd.DataFrame({"scenario": ["s1"], "step": [1], "customer_id": ["c8"], "p_kw": [3.0]})])
    out = as_built_feeder_loads(case, profiles)
    assert list(out.columns) == ["scenario", "step", "feeder", "p_kw", "load_rate"]
    assert list(zip(out["step"], out["feeder"])) == [(0, "F1"), (0, "F2"), (1, "F1"), (1, "F2")]
    # F1: 1 + 2 + 3 + 4 - 1 + 1 = 10 kW; F2: 2 + 4 = 6 kW; step 1: only c8 (F2) has a reading; outlets 150 kW
    np.testing.assert_allclose(out["p_kw"], [10.0, 6.0, 0.0, 3.0])
    np.testing.assert_allclose(out["load_rate"], [10 / 150, 6 / 150, 0.0, 3 / 150])


def test_before_feeder_loads_prefers_the_baseline_folder(tmp_path):
    case = fig3_case()
    base_loads = pd.DataFrame({"scenario": "s1", "step": 0, "feeder": ["F1", "F2"], "p_kw": [75.0, 15.0], "load_rate": [0.5, 0.1]})
    write_method_folder(tmp_path / "baseline", "baseline", feeder_loads=base_loads)
    write_method_folder(tmp_path / "m1", "m1")
    with_baseline = before_feeder_loads(case, read_run(tmp_path))
    np.testing.assert_allclose(with_baseline["p_kw"], [75.0, 15.0])
    without = before_feeder_loads(case, read_run(tmp_path / "m1"))  # from m1's profiles.csv
    np.testing.assert_allclose(without["p_kw"], [10.0, 6.0])


def test_hours_since_start_uses_the_step_length():
    case = fig3_case()
    np.testing.assert_allclose(hours_since_start(case, [0, 1, 4, 95]), [0.0, 0.25, 1.0, 23.75])
    case = case.with_params(case.params.updated(profiles={"step_minutes": 60}))
    np.testing.assert_allclose(hours_since_start(case, np.arange(3)), [0.0, 1.0, 2.0])
