"""The trade-off figure and its words (lvbalance.report.fig_tradeoff), from synthetic ``tradeoff.csv`` files.

Two curves worked out by hand:

m1: (cost 0, E[I] 10), (1,000, 8), (4,000, 7) chosen, (10,000, 6.5):
    slopes 1,000 / 2 = 500, 3,000 / 1 = 3,000, 6,000 / 0.5 = 12,000 per point.
m2: (0, 10) chosen, (2,000, 9): slope 2,000 per point.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from lvbalance.report.fig_tradeoff import (
    delta_labels,
    marginal_cost_text,
    plot_tradeoff,
    read_tradeoff,
    slope_table,
    tradeoff_data,
)
from lvbalance.report.outputs import MethodOutputs
from lvbalance.results import Plan

M1 = """\
budget,cost,expected_imbalance_pct,peak_imbalance_pct,moved_customers,moves,chosen
inf,10000,6.5,9.0,7,a/2 -> x; b/3 -> y; c/2 -> z,False
1000,1000,8,12,2,a/2 -> x,False
0,0,10,15,0,no move,False
5000,4000,7,10,5,a/2 -> x; b/3 -> y,True
"""

M2 = """\
budget,cost,expected_imbalance_pct,peak_imbalance_pct,moved_customers,moves,chosen
0,0,10,20,0,no move,True
2500,2000,9,18,3,b/3 -> y,False
"""


def outputs(folder: Path, method: str, csv: str | None) -> MethodOutputs:
    folder.mkdir(parents=True, exist_ok=True)
    if csv is not None:
        (folder / "tradeoff.csv").write_text(csv, encoding="utf-8")
    empty = pd.DataFrame()
    return MethodOutputs(method, folder, Plan(method, 0.0, 0.0, 0.0, 0.0, 0), {}, empty, empty, empty)


@pytest.fixture
def runs(tmp_path: Path) -> dict[str, MethodOutputs]:
    return {
        "baseline": outputs(tmp_path / "baseline", "baseline", None),
        "m1": outputs(tmp_path / "m1", "m1", M1),
        "m2": outputs(tmp_path / "m2", "m2", M2),
    }


def test_read_sorts_by_cost_and_parses_chosen(runs) -> None:
    df = read_tradeoff(runs["m1"])
    assert df is not None
    assert df["cost"].tolist() == [0, 1000, 4000, 10000]
    assert df["chosen"].tolist() == [False, False, True, False]
    assert np.isinf(df["budget"].iloc[-1])
    assert read_tradeoff(runs["baseline"]) is None


def test_slopes_to_the_next_point_by_hand(runs) -> None:
    d = tradeoff_data(runs)
    assert d["method"].tolist() == ["m1"] * 4 + ["m2"] * 2
    np.testing.assert_allclose(d["cost_per_point_to_next"].to_numpy(), [500, 3000, 12000, np.nan, 2000, np.nan])


def test_what_the_next_point_costs_in_words(runs) -> None:
    d = tradeoff_data(runs)
    assert marginal_cost_text(d, "m1") == (
        "The plan of this run (a/2 -> x; b/3 -> y) costs 4,000 for E[I] 7.00 %. The next point (a/2 -> x; b/3 -> y; c/2 -> z) "
        "cuts E[I] by a further 0.50 points to 6.50 % for 6,000 more: 12,000 per point of imbalance."
    )
    assert marginal_cost_text(d, "m2").startswith("The plan of this run (no move) costs 0 for E[I] 10.00 %. The next point")
    assert marginal_cost_text(d, "m3") == ""


def test_the_last_point_says_so(tmp_path: Path) -> None:
    last = M2.replace("True", "False").replace("b/3 -> y,False", "b/3 -> y,True")
    d = tradeoff_data({"m2": outputs(tmp_path / "m2", "m2", last)})
    assert marginal_cost_text(d, "m2").endswith("It is the last point of the curve: no plan cuts the expected imbalance further.")


def test_slope_table_cells(runs) -> None:
    t = slope_table(tradeoff_data(runs), "m1")
    assert t.index.tolist() == [1, 2, 3, 4]
    assert t["plan of this run"].tolist() == ["", "", "◉", ""]
    assert t["cost of each further point to the next [currency/%]"].tolist() == ["500", "3,000", "12,000", "–"]
    assert t["moves"].iloc[0] == "no move"


def test_labels_say_what_each_point_adds_or_drops() -> None:
    labels = delta_labels(["no move", "a/2 -> x", "a/2 -> x; b/3 -> y", "b/3 -> y; c/1 -> z", "d/1 -> w"])
    assert labels == ["no move", "a/2 -> x", "+ b/3 -> y", "+ c/1 -> z\n− a/2 -> x", "d/1 -> w"]


def test_figure_has_a_panel_per_method_and_rings_the_chosen_points(runs) -> None:
    fig = plot_tradeoff(tradeoff_data(runs))
    assert isinstance(fig, Figure)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["m1: streets + V2G (the paper's method)", "m2: streets, no V2G"]
    assert axes[0].xaxis_inverted()  # less imbalance to the right
    texts = [t.get_text() for t in axes[0].texts]
    assert "+ b/3 -> y" in texts and "500/pt" in texts and "plan of this run" in texts
    ring = axes[0].collections[0].get_offsets()
    np.testing.assert_allclose(np.asarray(ring), [[7.0, 4000.0]])


def test_bad_file_gives_no_curve_and_a_warning(tmp_path: Path, caplog) -> None:
    bad = outputs(tmp_path / "m1", "m1", "budget,cost\n0,0\n")
    with caplog.at_level(logging.WARNING):
        assert read_tradeoff(bad) is None
    assert "missing columns" in caplog.text
    assert tradeoff_data({"m1": bad}).empty
