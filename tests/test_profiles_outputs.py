"""scenarios.csv and profiles.csv (lvbalance.profiles.outputs, DESIGN.md outputs)."""

from __future__ import annotations

import pandas as pd
import pytest

from lvbalance.profiles import build_profiles
from lvbalance.profiles.outputs import write_profiles


def test_write_profiles(case, tmp_path):
    result = build_profiles(case)
    write_profiles(result, tmp_path / "out")
    out = tmp_path / "out"
    sc = pd.read_csv(out / "scenarios.csv")
    assert list(sc.columns) == ["scenario", "probability", "day_type", "weather"]
    assert len(sc) == 6  # 2 day types x 3 weathers, all seen in the fig3 calendar
    # 10 of 14 days working, 5 of 14 sunny
    assert sc.set_index("scenario").loc["working-sunny", "probability"] == pytest.approx(10 / 14 * 5 / 14)
    pr = pd.read_csv(out / "profiles.csv")
    assert list(pr.columns) == ["scenario", "step", "customer_id", "p_kw"]
    assert len(pr) == 6 * 96 * 8
    # long format: scenario, then step, then customer in case order
    assert pr["customer_id"].iloc[:8].tolist() == list(case.customers.index)
    assert pr["step"].iloc[[0, 8, 16]].tolist() == [0, 1, 2]
    row = pr[(pr["scenario"] == "working-cloudy") & (pr["step"] == 44) & (pr["customer_id"] == "c3")]["p_kw"].item()
    assert row == pytest.approx(float(result.scenarios.p_kw.sel(scenario="working-cloudy", step=44, customer="c3")))
    assert sorted(p.name for p in out.iterdir()) == ["profiles.csv", "scenarios.csv"]  # no temp files left
