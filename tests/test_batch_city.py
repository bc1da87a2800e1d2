"""The town's table (lvbalance.batch.city): city.csv read back from hand-written area folders."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from lvbalance.batch.area import AreaOutcome, AreaStatus
from lvbalance.batch.city import city_columns, city_table, imbalance_cut_per_cost, write_city_csv

RING = [[7.60, 48.40], [7.61, 48.40], [7.61, 48.41], [7.60, 48.40]]


def write_area(out: Path, area: str, *, customers: int, before: float, after: dict[str, tuple[float, float, int]], time_s: float) -> None:
    """An area folder as batch writes it: batch.json and each method's metrics.json.
    ``after``: method -> (E[I] after [%], cost, moved customers)."""
    folder = out / area
    (folder / "baseline").mkdir(parents=True)
    rec = {"area": area, "feeders": 3, "customers": customers, "time_s": time_s, "worker_peak_rss_mib": 350.0, "outline_lonlat": RING}
    (folder / "batch.json").write_text(json.dumps(rec))
    base = {"expected_imbalance_before_pct": before, "expected_imbalance_after_pct": before, "total_cost": 0.0}
    (folder / "baseline" / "metrics.json").write_text(json.dumps(base))
    for m, (ei, cost, moved) in after.items():
        (folder / m).mkdir()
        mt = {"expected_imbalance_after_pct": ei, "total_cost": cost, "moved_customers": moved, "mip_gap": 0.0, "solve_time_s": 1.5}
        (folder / m / "metrics.json").write_text(json.dumps(mt))


def town(out: Path) -> list[AreaOutcome]:
    """A: 3.0 % -> m1 1.0 % for 2000, v2g_only 2.5 % for nothing; B: 1.0 % -> m1 0.5 % for 250; C bad."""
    write_area(out, "A", customers=10, before=3.0, after={"m1": (1.0, 2000.0, 2), "v2g_only": (2.5, 0.0, 0)}, time_s=12.0)
    write_area(out, "B", customers=30, before=1.0, after={"m1": (0.5, 250.0, 1), "v2g_only": (1.0, 0.0, 0)}, time_s=20.0)
    return [
        AreaOutcome("B", AreaStatus.UNCHANGED, time_s=0.01, peak_rss_mib=300.0),
        AreaOutcome("A", AreaStatus.PLANNED, time_s=11.0, peak_rss_mib=400.0),
        AreaOutcome("C", AreaStatus.BAD_INPUT, "lines.csv, line l1: from_node 'nX' is not in nodes.csv", time_s=0.2),
    ]


def test_city_table_rows_and_columns(tmp_path: Path) -> None:
    df = city_table(town(tmp_path), tmp_path, ["baseline", "m1", "v2g_only"])
    assert list(df.columns) == city_columns(["m1", "v2g_only"])
    assert list(df["area"]) == ["A", "B", "C"]
    a, b, c = (df.iloc[k] for k in range(3))
    assert a["status"] == "planned" and a["customers"] == 10 and a["feeders"] == 3
    assert a["expected_imbalance_before_pct"] == 3.0 and a["m1_expected_imbalance_after_pct"] == 1.0
    assert a["m1_cost"] == 2000.0 and a["m1_moved_customers"] == 2 and a["v2g_only_moved_customers"] == 0
    assert a["time_s"] == 11.0 and a["worker_peak_rss_mib"] == 400.0
    assert b["status"] == "unchanged" and b["time_s"] == 20.0 and b["worker_peak_rss_mib"] == 350.0  # as when it was planned
    assert c["status"] == "bad_input" and "nX" in c["error"] and pd.isna(c["customers"]) and pd.isna(c["m1_cost"])


def test_city_csv_round_trip(tmp_path: Path) -> None:
    df = city_table(town(tmp_path), tmp_path, ["m1", "v2g_only"])
    path = write_city_csv(df, tmp_path)
    back = pd.read_csv(path)
    assert list(back.columns) == list(df.columns) and len(back) == 3
    assert back.loc[1, "m1_expected_imbalance_after_pct"] == 0.5


def test_imbalance_cut_per_cost_by_hand() -> None:
    assert imbalance_cut_per_cost(3.0, 1.0, 2000.0) == pytest.approx(1.0)  # 2 points for 2000
    assert imbalance_cut_per_cost(1.0, 0.5, 250.0) == pytest.approx(2.0)
    assert imbalance_cut_per_cost(3.0, 2.5, 0.0) == math.inf
    assert math.isnan(imbalance_cut_per_cost(1.0, 1.0, 0.0))
    assert math.isnan(imbalance_cut_per_cost(3.826, 3.826 - 1e-12, 0.0))  # solver noise is no cut
    assert math.isnan(imbalance_cut_per_cost(1.0, 1.2, 100.0))
