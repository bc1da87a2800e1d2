"""Case summaries (feeders, meter coverage) on the Fig-3 case, counted by hand."""

from __future__ import annotations

from lvbalance.case import Case
from lvbalance.summary import case_overview, feeder_table, meter_coverage


def test_feeder_table_counts_each_type_the_case_has(case: Case) -> None:
    """F1: c1, c3, c6 residential, c4 commercial, c5 pv, c2 ev; F2: c7, c8 residential. No heat pump: no column."""
    ft = feeder_table(case)
    assert list(ft.columns) == ["outlet_line", "rated_kw", "backbone_m", "nodes", "residential", "commercial", "pv", "ev", "customers"]
    assert ft.loc["F1", ["residential", "commercial", "pv", "ev", "customers"]].tolist() == [3, 1, 1, 1, 6]
    assert ft.loc["F2", ["residential", "commercial", "pv", "ev", "customers"]].tolist() == [2, 0, 0, 0, 2]
    assert ft.loc["F1", "backbone_m"] == 50 + 50 + 50 + 50 + 50 + 60  # l1..l5 and l6
    # l7 from the busbar (0, 0) to m1 (50, -120) is 130 m, l8 100 m
    assert ft.loc["F2", "backbone_m"] == 130 + 100 and ft.loc["F1", "nodes"] == 6 and ft.loc["F2", "nodes"] == 2


def test_meter_coverage_lists_the_types_present(case: Case) -> None:
    """c1 and c6 (residential) are metered for 14 days; nothing else is."""
    mc = meter_coverage(case)
    assert list(mc.index) == ["residential", "commercial", "pv", "ev"]
    assert mc.loc["residential", ["customers", "metered"]].tolist() == [5, 2]
    assert mc.loc["residential", "metered_share"] == 0.4 and mc.loc["residential", "mean_days"] == 14
    assert mc.loc["ev", "metered"] == 0 and mc.loc["ev", "mean_days"] == 0


def test_case_overview(case: Case) -> None:
    o = case_overview(case)
    assert (o["feeders"], o["nodes"], o["lines"], o["customers"], o["metered_customers"]) == (2, 9, 8, 8, 2)
    assert o["readings"] == 2 * 14 * 96 and o["calendar_days"] == 14 and o["street_segments"] == 8
