"""Table 2 (lvbalance.report.comparison), from a ``comparison.csv`` and ``metrics.json`` written by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lvbalance.report.comparison import comparison_data, format_comparison, plot_comparison_table
from lvbalance.report.outputs import MethodOutputs
from lvbalance.results import Plan

COMPARISON_CSV = """\
id,method,expected_imbalance_before_pct,expected_imbalance_after_pct,peak_imbalance_before_pct,peak_imbalance_after_pct,cost,moved_customers,route_length_m,build_time_s,solve_time_s,mip_gap,variables
baseline,as built,12.3456,12.3456,20.0,20.0,0,0,0,1.0,0.24,0,100
m9,not in this run,1,1,1,1,1,1,1,1,1,1,1
m1,streets + V2G,12.3456,8.9012,20.0,12.6251,6673.6,8,166.8,1.7,35.96,0.0126,120
m3,straight lines,12.3456,6.8,20.0,10.0,36634.6,10,822.4,3.7,70.66,,130
"""

#: The cells of COMPARISON_CSV as the report shows them, worked out by hand.
EXPECTED_CELLS = {
    "baseline": ["as built", "12.35 → 12.35", "20.00 → 20.00", "0", "0", "0", "0.2", "0.0%"],
    "m1": ["streets + V2G", "12.35 → 8.90", "20.00 → 12.63", "8", "167", "6,674", "36.0", "1.3%"],
    "m3": ["straight lines", "12.35 → 6.80", "20.00 → 10.00", "10", "822", "36,635", "70.7", "–"],
}
HEADERS = [
    "method",
    "expected imbalance\nbefore → after [%]",
    "peak imbalance\nbefore → after [%]",
    "moved\ncustomers",
    "new line\n[m]",
    "cost\n[currency]",
    "solve time\n[s]",
    "MIP gap\n[%]",
]


def outputs(folder: Path, metrics: dict | None = None) -> MethodOutputs:
    method = folder.name
    return MethodOutputs(method, folder, Plan(method, 0.0, 0.0, 1.0, 0.0, 0), metrics or {}, pd.DataFrame(), pd.DataFrame(), pd.DataFrame())


def metrics(before: float, after: float, gap: float | None) -> dict:
    return {
        "expected_imbalance_before_pct": before,
        "expected_imbalance_after_pct": after,
        "peak_imbalance_before_pct": 2 * before,
        "peak_imbalance_after_pct": 2 * after,
        "moved_customers": 3,
        "route_length_m": 1234.4,
        "build_time_s": 0.5,
        "solve_time_s": 2.04,
        "mip_gap": gap,
        "total_cost": 98765.4,
    }


def test_comparison_data_reads_comparison_csv_in_run_order(tmp_path):
    (tmp_path / "comparison.csv").write_text(COMPARISON_CSV, encoding="utf-8")
    runs = {m: outputs(tmp_path / m) for m in ("baseline", "m1", "m3", "v2g_only")}  # v2g_only: not in the file
    d = comparison_data(runs)
    assert list(d.index) == ["baseline", "m1", "m3"] and d.index.name == "id"
    assert d.at["m1", "expected_imbalance_after_pct"] == 8.9012
    assert d.at["m1", "cost"] == 6673.6
    assert d.at["m3", "moved_customers"] == 10
    assert np.isnan(d.at["m3", "mip_gap"])


def test_format_comparison_cells_by_hand(tmp_path):
    (tmp_path / "comparison.csv").write_text(COMPARISON_CSV, encoding="utf-8")
    cells = format_comparison(comparison_data({m: outputs(tmp_path / m) for m in ("baseline", "m1", "m3")}))
    assert list(cells.columns) == HEADERS
    assert {m: list(row) for m, row in cells.iterrows()} == EXPECTED_CELLS


def test_format_comparison_leaves_out_missing_columns():
    data = pd.DataFrame({"method": ["x"], "cost": [1500.4]}, index=pd.Index(["m1"], name="id"))
    cells = format_comparison(data)
    assert list(cells.columns) == ["method", "cost\n[currency]"]
    assert list(cells.loc["m1"]) == ["x", "1,500"]


def test_comparison_data_from_metrics_json_without_comparison_csv(tmp_path):
    runs = {"m1": outputs(tmp_path / "m1", metrics(10.0, 7.5, None)), "mine": outputs(tmp_path / "mine", metrics(10.0, 9.0, 0.02))}
    d = comparison_data(runs)
    assert list(d.index) == ["m1", "mine"]
    assert list(d["method"]) == ["streets + V2G (the paper's method)", "mine"]  # METHODS' name, else the id
    assert list(d["cost"]) == [98765.4, 98765.4]  # metrics.json total_cost
    cells = format_comparison(d)
    assert list(cells.loc["m1"]) == [
        "streets + V2G (the paper's method)",
        "10.00 → 7.50",
        "20.00 → 15.00",
        "3",
        "1,234",
        "98,765",
        "2.0",
        "–",
    ]
    assert cells.at["mine", "MIP gap\n[%]"] == "2.0%"


def test_comparison_data_of_one_method_ignores_a_comparison_csv(tmp_path):
    (tmp_path / "comparison.csv").write_text(COMPARISON_CSV, encoding="utf-8")  # one method: its own metrics.json
    d = comparison_data({"m1": outputs(tmp_path / "m1", metrics(4.0, 3.0, 0.0))})
    assert d.at["m1", "expected_imbalance_after_pct"] == 3.0


def test_plot_comparison_table_draws_the_cells(tmp_path):
    (tmp_path / "comparison.csv").write_text(COMPARISON_CSV, encoding="utf-8")
    fig = plot_comparison_table(comparison_data({m: outputs(tmp_path / m) for m in ("baseline", "m1", "m3")}))
    table = fig.axes[0].tables[0]
    shown = {(r, c): cell.get_text().get_text() for (r, c), cell in table.get_celld().items()}
    assert [shown[0, c] for c in range(9)] == ["id", *HEADERS]
    for r, (m, row) in enumerate(EXPECTED_CELLS.items(), start=1):
        assert [shown[r, c] for c in range(9)] == [m, *row]
    assert max(r for r, _ in shown) == 3
    assert fig.axes[0].get_title() == "Comparison of the methods (Table 2)"
