"""The report's interactive map (lvbalance.report.map), for a plan written by hand.

Baseline (no move) and m1, which moves the end node n5 of the Fig-3 case (customers c1,
c2) from F1 to F2: line l5 is cut, a new line of 220 m runs along the streets to m2.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import folium
import pandas as pd
import pyproj
import pytest

import lvbalance.report.map as report_map
from lvbalance.report.map import LEAFLET_CDN_JS, build_map, leaflet_source, map_html, map_layers
from lvbalance.report.outputs import MethodOutputs
from lvbalance.results import Plan
from tests.fixtures import X0, Y0, fig3_case, fig3_tail_move

BLUE, ORANGE = "#1f77b4", "#ff7f0e"  # F1, F2


def hand_runs() -> dict[str, MethodOutputs]:
    empty = pd.DataFrame()
    return {
        m: MethodOutputs(m, Path(m), Plan(m, 0.0, 0.0, 1.0, 0.0, 0, moves), {}, empty, empty, empty)
        for m, moves in (
            ("baseline", []),
            (
                "m1",
                [fig3_tail_move(cost=26400.4, route_length_m=220.04, route=[[X0 + 250, Y0], [X0 + 250, Y0 - 120], [X0 + 150, Y0 - 120]])],
            ),
        )
    }


def props(layer: dict) -> list[dict]:
    return [f["properties"] for f in layer["features"]]


def test_map_layers_of_a_hand_plan():
    case = fig3_case()
    layers = map_layers(case, hand_runs())
    assert list(layers) == ["streets", "network as built", "network after m1", "moves m1", "customers"]
    streets = {p["street_id"]: p["cost_per_m"] for p in props(layers["streets"])}
    assert streets == {"s1": None, "s2": None, "s3": None, "s4": None, "s5": None, "s6": None, "s7": 120.0, "s8": None}
    built = {p["line_id"]: (p["feeder"], p["colour"]) for p in props(layers["network as built"])}
    assert built == {**{f"l{k}": ("F1", BLUE) for k in range(1, 7)}, "l7": ("F2", ORANGE), "l8": ("F2", ORANGE)}
    after = {p["line_id"]: p["feeder"] for p in props(layers["network after m1"])}
    assert after == {"l1": "F1", "l2": "F1", "l3": "F1", "l4": "F1", "l6": "F1", "l7": "F2", "l8": "F2", "new line 1": "F2"}
    new, cut = props(layers["moves m1"])
    assert new == {
        "kind": "new line",
        "move": 1,
        "method": "m1",
        "customers": "c1, c2",
        "feeders": "F1 → F2",
        "route_length_m": 220.0,
        "cost": 26400.0,
        "colour": ORANGE,
    }
    assert cut == {
        "kind": "line cut",
        "move": None,
        "method": "m1",
        "customers": "",
        "feeders": "F1 (out of service)",
        "route_length_m": None,
        "cost": None,
        "colour": "#000000",
        "line_id": "l5",
    }
    customers = {p["customer_id"]: (p["feeder_as_built"], p["moved_by"], p["colour"]) for p in props(layers["customers"])}
    assert customers["c1"] == ("F1", "m1 (to F2)", BLUE) and customers["c2"] == ("F1", "m1 (to F2)", BLUE)
    assert customers["c3"] == ("F1", "—", BLUE) and customers["c8"] == ("F2", "—", ORANGE)
    assert len(customers) == 8


def test_map_layers_are_in_wgs84():
    layers = map_layers(fig3_case(), hand_runs())
    to_wgs = pyproj.Transformer.from_crs("EPSG:32632", "EPSG:4326", always_xy=True)
    c1 = next(f for f in layers["customers"]["features"] if f["properties"]["customer_id"] == "c1")
    assert c1["geometry"]["coordinates"] == pytest.approx(to_wgs.transform(X0 + 255, Y0 + 10), abs=1e-7)
    lon, lat = c1["geometry"]["coordinates"]
    assert 7.0 < lon < 8.0 and 48.0 < lat < 49.0  # UTM 32N, 400 km east, 5370 km north
    new = layers["moves m1"]["features"][0]["geometry"]
    assert new["type"] == "LineString" and len(new["coordinates"]) == 3


def test_map_layers_without_moves_has_no_after_layers():
    runs = {"baseline": hand_runs()["baseline"]}
    assert list(map_layers(fig3_case(), runs)) == ["streets", "network as built", "customers"]


def test_build_map_shows_the_first_plan_at_start():
    m = build_map(fig3_case(), hand_runs())
    groups = {c.layer_name: c.show for c in m._children.values() if isinstance(c, folium.FeatureGroup)}
    assert groups == {"streets": True, "network as built": False, "network after m1": True, "moves m1": True, "customers": True}
    tiles = [c for c in m._children.values() if isinstance(c, folium.TileLayer)]
    assert [(t.layer_name, t.show) for t in tiles] == [("OpenStreetMap background (needs internet)", False)]


def layers_in_html(page: str) -> dict[str, int]:
    """Layer name -> number of GeoJSON features, read from the map inside an HTML page."""
    doc = html.unescape(re.search(r"srcdoc=\"(.*?)\"", page, re.DOTALL).group(1))
    control = re.search(r"overlays\s*:\s*\{(.*?)\}", doc, re.DOTALL).group(1)
    names = dict(re.findall(r'"([^"]+)"\s*:\s*(feature_group_\w+)', control))
    counts = {}
    for name, group in names.items():
        gj = re.search(rf"(geo_json_\w+)\.addTo\({group}\)", doc).group(1)
        data = re.search(rf"{gj}_add\((\{{.*?\}})\);", doc, re.DOTALL).group(1)
        counts[name] = len(json.loads(data)["features"])
    return counts


def test_map_html_holds_every_layer_and_no_cdn_script():
    page = map_html(fig3_case(), hand_runs())
    assert page.startswith("<p class='note'>") and "<iframe class='map'" in page
    assert layers_in_html(page) == {"streets": 8, "network as built": 8, "network after m1": 8, "moves m1": 2, "customers": 8}
    doc = html.unescape(page)
    assert "code.jquery.com" not in doc and "bootstrap" not in doc.lower()
    js, css, note = leaflet_source()
    if js is None:  # no Leaflet installed: the map loads it from its CDN
        assert LEAFLET_CDN_JS in doc and "CDN" in note
    else:
        assert "cdn.jsdelivr.net/npm/leaflet" not in doc and "inlined" in note
        assert "url(images/" not in css  # Leaflet's images are data URIs


def test_map_falls_back_to_the_leaflet_cdn(monkeypatch):
    monkeypatch.setattr(report_map, "leaflet_source", lambda: (None, None, "from the CDN"))
    doc = html.unescape(map_html(fig3_case(), hand_runs()))
    assert LEAFLET_CDN_JS in doc and "code.jquery.com" not in doc


def test_the_same_input_gives_the_same_map_byte_for_byte() -> None:
    """folium's random element ids are numbered in order of appearance (issue 12, determinism)."""
    first, second = map_html(fig3_case(), hand_runs()), map_html(fig3_case(), hand_runs())
    assert first == second
    assert "map_00000000000000000000000000000000" in html.unescape(first)
