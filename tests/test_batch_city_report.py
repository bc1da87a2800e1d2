"""city_report.html (lvbalance.batch.city_report): ranking, totals, map layers, failures."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from lvbalance.batch.city import city_table
from lvbalance.batch.city_report import NO_DATA_COLOUR, ranking, render_city_report, totals, town_layers, write_city_report
from tests.test_batch_city import town

METHODS = ["m1", "v2g_only"]


def test_ranking_free_cuts_first_then_cut_per_cost(tmp_path: Path) -> None:
    df = ranking(city_table(town(tmp_path), tmp_path, METHODS), METHODS)
    assert list(zip(df["area"], df["method"])) == [("A", "v2g_only"), ("B", "m1"), ("A", "m1")]
    assert df.loc[0, "cut per 1,000"] == math.inf
    assert df.loc[1, "cut per 1,000"] == pytest.approx(2.0) and df.loc[2, "cut per 1,000"] == pytest.approx(1.0)


def test_totals_weight_by_customers(tmp_path: Path) -> None:
    t = totals(city_table(town(tmp_path), tmp_path, METHODS), METHODS).set_index("method")
    assert t.loc["m1", "areas"] == 2 and t.loc["m1", "customers"] == 40
    assert t.loc["m1", "E[I] before % (customer-weighted)"] == pytest.approx((3.0 * 10 + 1.0 * 30) / 40)
    assert t.loc["m1", "E[I] after % (customer-weighted)"] == pytest.approx((1.0 * 10 + 0.5 * 30) / 40)
    assert t.loc["m1", "total cost"] == 2250.0 and t.loc["m1", "moved customers"] == 3
    assert t.loc["v2g_only", "total cost"] == 0.0


def test_map_layers_colour_by_imbalance_and_link_reports(tmp_path: Path) -> None:
    layers = town_layers(city_table(town(tmp_path), tmp_path, METHODS), tmp_path, METHODS)
    assert list(layers) == ["E[I] as built", "E[I] after m1", "E[I] after v2g_only"]
    before = {f["properties"]["area"]: f["properties"] for f in layers["E[I] as built"]["features"]}
    assert set(before) == {"A", "B"}  # C failed: no outline
    assert before["A"]["expected_imbalance_pct"] == 3.0 and "A/report.html" in before["A"]["report"]
    assert before["A"]["colour"] != before["B"]["colour"] != NO_DATA_COLOUR
    after = {f["properties"]["area"]: f["properties"] for f in layers["E[I] after m1"]["features"]}
    assert after["A"]["expected_imbalance_pct"] == 1.0


def test_page_lists_failures_and_links(tmp_path: Path) -> None:
    table = city_table(town(tmp_path), tmp_path, METHODS)
    path = write_city_report(table, tmp_path, METHODS)
    page = path.read_text()
    assert page == render_city_report(table, tmp_path, METHODS)
    assert "Town: 3 transformer areas" in page and "1 bad_input, 1 planned, 1 unchanged" in page
    assert "<a href='B/report.html'>B</a>" in page and "city.csv" in page
    assert "Failed areas (1)" in page and "from_node &#x27;nX&#x27; is not in nodes.csv" in page
    assert "iframe class='map'" in page


def test_a_town_where_nothing_pays_says_so(tmp_path: Path) -> None:
    from lvbalance.batch.area import AreaOutcome, AreaStatus
    from tests.test_batch_city import write_area

    write_area(tmp_path, "A", customers=10, before=3.0, after={"m1": (3.0, 0.0, 0)}, time_s=1.0)
    table = city_table([AreaOutcome("A", AreaStatus.PLANNED)], tmp_path, ["m1"])
    assert ranking(table, ["m1"]).empty
    assert "No method cuts the expected imbalance" in render_city_report(table, tmp_path, ["m1"])
