"""Human labels of the evaluation tables (lvbalance.report.labels), on tables written by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lvbalance.report.labels import ac_check_table, format_value, out_of_sample_table


def test_format_value() -> None:
    assert format_value(1234.5678, "{:,.2f}") == "1,234.57"
    assert format_value(None, "{:.2f}") == "–" and format_value(math.nan, "{:.2f}") == "–"
    assert format_value("2016-05-28", "{:.2f}") == "2016-05-28"
    assert format_value(np.int64(3), "{:,.0f}") == "3"


def test_ac_check_rows_get_labels_units_and_formats() -> None:
    df = pd.DataFrame(
        {"as built": [0.99221, 3.3451, 20.1097, 0.0, 7.0], "m1": [0.99311, 2.958, 15.2929, 1.0, 8.0]},
        index=pd.Index(
            ["min_voltage_pu", "expected_losses_kwh_per_day", "max_line_loading_pct", "nonconverged_runs", "new_key"], name="figure"
        ),
    )
    t = ac_check_table(df)
    assert t.index.tolist() == [
        "lowest voltage [p.u.]",
        "expected losses [kWh/day]",
        "highest line loading [% of rating]",
        "power flows that did not converge",
        "new_key",  # unknown: its key, 3 decimals
    ]
    assert t["as built"].tolist() == ["0.992", "3.35", "20.1", "0", "7.000"]
    assert t["m1"].tolist() == ["0.993", "2.96", "15.3", "1", "8.000"]


def test_out_of_sample_columns_and_the_as_built_row() -> None:
    df = pd.DataFrame(
        {
            "days": [14, 14],
            "mean_pct": [11.4017, 9.2310],
            "worst_day": ["2016-05-28", "2016-04-18"],
            "baseline_mean_pct": [11.4017, 11.4017],
            "days_better_than_baseline": [0, 14],
        },
        index=pd.Index(["baseline", "m1"], name="method"),
    )
    t = out_of_sample_table(df)
    assert t.index.tolist() == ["as built", "m1"]
    assert t.columns.tolist() == ["held-out days", "mean daily imbalance [%]", "worst day [date]", "days better than as built"]
    assert t.loc["m1"].tolist() == ["14", "9.23", "2016-04-18", "14"]
    # without a baseline row the as-built figures stay, labelled
    t2 = out_of_sample_table(df.drop(index="baseline"))
    assert "as built: mean [%]" in t2.columns and t2.at["m1", "as built: mean [%]"] == "11.40"
