"""Imports: pandapower nets, SimBench codes, street files, and the embedded default case."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString
from typer.testing import CliRunner

from lvbalance.case import CaseError, validate_case
from lvbalance.cli import app
from lvbalance.io.casedir import read_case
from lvbalance.io.pandapower import case_from_pandapower, customer_type_of_load
from lvbalance.io.streets import osm_cost_per_m, streets_from_geojson, streets_from_network_lines, streets_from_osm_xml
from lvbalance.params import StreetParams
from tests.fixtures import lonlat

pp = pytest.importorskip("pandapower")

# ---------------------------------------------------------------- a net you can draw
#
#   HV --trafo-- BB ──150── J1 ──150── AB ──50 (service)── H     (house bus, 1 load)
#                 │          (load L1: on the backbone)
#                 └──150── K1 ──150── K2 (load L3, sgen PV1: leaf on the backbone)
#
# Only H hangs off the backbone by a service line (AB carries no customer): it is contracted.


def tiny_net():
    net = pp.create_empty_network()
    hv = pp.create_bus(net, 20.0, name="HV", geodata=lonlat(-10, 0))
    bb = pp.create_bus(net, 0.4, name="BB", geodata=lonlat(0, 0))
    j1 = pp.create_bus(net, 0.4, name="J1", geodata=lonlat(50, 0))
    ab = pp.create_bus(net, 0.4, name="AB", geodata=lonlat(100, 0))
    h = pp.create_bus(net, 0.4, name="H", geodata=lonlat(100, 20))
    k1 = pp.create_bus(net, 0.4, name="K1", geodata=lonlat(0, -50))
    k2 = pp.create_bus(net, 0.4, name="K2", geodata=lonlat(0, -100))
    pp.create_ext_grid(net, hv)
    pp.create_transformer(net, hv, bb, "0.63 MVA 20/0.4 kV")
    for name, a, b, km, typ in [
        ("L_BB_J1", bb, j1, 0.05, "NAYY 4x150 SE"),
        ("L_J1_AB", j1, ab, 0.05, "NAYY 4x150 SE"),
        ("L_AB_H", ab, h, 0.02, "NAYY 4x50 SE"),
        ("L_BB_K1", bb, k1, 0.05, "NAYY 4x150 SE"),
        ("L_K1_K2", k1, k2, 0.05, "NAYY 4x150 SE"),
    ]:
        pp.create_line(net, a, b, km, typ, name=name)
    pp.create_load(net, h, 0.003, name="L_house")
    pp.create_load(net, j1, 0.002, name="L1")
    pp.create_load(net, k2, 0.010, name="L3", type="commercial")
    pp.create_sgen(net, k2, 0.005, name="PV1")
    return net


def test_tiny_net_contracts_the_service_line():
    case = case_from_pandapower(tiny_net(), name="tiny")
    nodes, lines, cust = case.network.nodes, case.network.lines, case.customers
    assert case.crs == "EPSG:32632"
    assert set(nodes.index) == {"BB", "J1", "AB", "K1", "K2"}  # house bus H and HV side dropped
    assert "L_AB_H" not in lines.index and len(lines) == 4
    assert nodes.loc["BB", "kind"] == "busbar"
    assert nodes.loc["AB", "kind"] == "customer_access" and nodes.loc["K1", "kind"] == "junction"
    # the house customer hangs on AB but keeps the house location (20 m north of AB)
    assert cust.loc["L_house", "node_id"] == "AB"
    assert cust.loc["L_house", "y"] - nodes.loc["AB", "y"] == pytest.approx(20, abs=0.5)
    assert cust.loc["L1", "node_id"] == "J1" and cust.loc["L3", "node_id"] == "K2"
    assert cust.loc["L3", "type"] == "commercial" and cust.loc["L1", "type"] == "residential"
    assert cust.loc["pv_PV1", "type"] == "pv" and cust.loc["pv_PV1", "annual_kwh"] == pytest.approx(
        5 * 900
    )  # 5 kWp x profiles.pv_yield_kwh_per_kwp
    # rating: sqrt(3) * 0.4 kV * 0.27 kA (NAYY 4x150 SE) -> 187.06 kW
    assert lines.loc["L_BB_J1", "rated_kw"] == pytest.approx(math.sqrt(3) * 0.4 * 270, rel=1e-6)
    assert lines.loc["L_BB_J1", "length_m"] == pytest.approx(50)
    assert sorted(case.network.feeder_of_node.value_counts()) == [2, 2]
    assert case.streets.source == "network_lines" and len(case.streets.segments) == 4
    assert validate_case(case) == []


def test_two_transformers_is_a_clear_error():
    net = tiny_net()
    pp.create_transformer(net, 0, 1, "0.63 MVA 20/0.4 kV")
    with pytest.raises(CaseError, match="exactly one in-service transformer"):
        case_from_pandapower(net, name="two")


def test_projected_coordinates_need_a_crs():
    net = tiny_net()
    net.bus["geo"] = [json.dumps({"type": "Point", "coordinates": [1000.0 + i, 5000.0]}) for i in range(len(net.bus))]
    with pytest.raises(CaseError, match="pass crs"):
        case_from_pandapower(net, name="xy")


@pytest.mark.parametrize(
    ("profile", "pp_type", "expected"),
    [
        ("H0-B", "", "residential"),
        ("G4-A", "", "commercial"),
        ("L2-A", "", "commercial"),
        ("", "commercial", "commercial"),
        ("", "", "residential"),
    ],
)
def test_customer_type_of_load(profile, pp_type, expected):
    assert customer_type_of_load(profile, pp_type) == expected


@pytest.mark.slow
def test_lv_schutterwald_area1():
    nets = pp.networks.lv_schutterwald(separation_by_sub=True)
    case = case_from_pandapower(nets[1], name="schutterwald-area1")
    assert len(case.customers) == 87
    per_feeder = case.customers["node_id"].map(case.network.feeder_of_node).value_counts()
    assert sorted(per_feeder) == [10, 15, 30, 32]
    assert not case.network.nodes.index.str.startswith("w").any()  # house buses contracted
    assert validate_case(case) == []


# ---------------------------------------------------------------- SimBench


@pytest.mark.slow
@pytest.mark.parametrize("code", ["1-LV-rural1--0-sw", "1-LV-semiurb4--0-sw", "1-LV-urban6--0-sw"])
def test_simbench_codes_import_and_validate(code):
    pytest.importorskip("simbench")
    from lvbalance.io.simbench import case_from_simbench

    case = case_from_simbench(code, meter_share=0.4, seed=0)
    assert validate_case(case) == []
    metered = case.customers["metered"]
    assert metered.sum() == round(0.4 * len(case.customers))
    assert set(case.meter_readings["customer_id"]) == set(metered.index[metered])
    assert len(case.calendar) == 28 and set(case.calendar["weather"]) == {"sunny", "cloudy", "rainy"}
    pv = case.meter_readings["customer_id"].isin(case.customers.index[case.customers["type"] == "pv"])
    assert (case.meter_readings.loc[pv, "p_kw"] <= 0).all()
    assert (case.customers["annual_kwh"] > 0).all()


# ---------------------------------------------------------------- streets


def test_streets_from_geojson_splits_at_junctions(tmp_path):
    # a T: the second street ends in the middle of the first one
    gj = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"cost_per_m": 80},
                "geometry": {"type": "LineString", "coordinates": [lonlat(0, 0), lonlat(200, 0)]},
            },
            {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [lonlat(100, 0), lonlat(100, 100)]}},
        ],
    }
    path = tmp_path / "streets.geojson"
    path.write_text(json.dumps(gj))
    seg = streets_from_geojson(path, "EPSG:32632").segments
    assert len(seg) == 3
    assert seg.crs == "EPSG:32632"
    assert sorted(seg.geometry.length.round(-1)) == [100, 100, 100]
    assert (seg["cost_per_m"] == 80).sum() == 2 and seg["cost_per_m"].isna().sum() == 1


OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="48.4600" lon="7.8800"/>
  <node id="2" lat="48.4600" lon="7.8820"/>
  <node id="3" lat="48.4600" lon="7.8840"/>
  <node id="4" lat="48.4615" lon="7.8820"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="primary"/></way>
  <way id="11"><nd ref="2"/><nd ref="4"/><tag k="highway" v="residential"/></way>
</osm>
"""


def test_streets_from_osm_xml(tmp_path):
    path = tmp_path / "tiny.osm"
    path.write_text(OSM_XML)
    streets = streets_from_osm_xml(path, "EPSG:32632")
    seg = streets.segments
    assert streets.source == "osm"
    assert len(seg) == 3  # primary split at the junction node 2, plus the residential street
    assert sorted(seg["cost_per_m"]) == [40.0, 90.0, 90.0]
    assert seg.geometry.length.sum() == pytest.approx(2 * 148 + 167, rel=0.03)


def test_osm_costs_come_from_the_params(tmp_path):
    path = tmp_path / "tiny.osm"
    path.write_text(OSM_XML)
    params = StreetParams(osm_highway_cost_per_m={"primary": 100.0})
    seg = streets_from_osm_xml(path, "EPSG:32632", params=params).segments
    assert sorted(seg["cost_per_m"].fillna(-1)) == [-1.0, 100.0, 100.0]  # residential not listed: NaN (the default)


@pytest.mark.parametrize(
    ("highway", "expected"),
    [("primary", 90.0), ("primary_link", 90.0), (["residential", "secondary"], 70.0), ("bridleway", math.nan), (None, math.nan)],
)
def test_osm_cost_per_m_by_highway_class(highway, expected):
    cost = osm_cost_per_m(highway, StreetParams().osm_highway_cost_per_m)
    assert cost == expected or (math.isnan(cost) and math.isnan(expected))


def test_osm_highway_costs_must_be_positive():
    with pytest.raises(ValueError, match="track"):
        StreetParams(osm_highway_cost_per_m={"primary": 90.0, "track": 0.0})


def test_streets_from_network_lines_meet_at_nodes():
    case = case_from_pandapower(tiny_net(), name="tiny")
    net = case.network
    # a route that stops 3 m short of its node is extended onto it
    a, b = net.nodes.loc["BB", ["x", "y"]], net.nodes.loc["J1", ["x", "y"]]
    short = LineString([(a["x"] + 3, a["y"]), (b["x"], b["y"])])
    geoms = {**net.line_geometry, "L_BB_J1": short}
    from lvbalance.case import Network

    seg = streets_from_network_lines(Network(net.nodes, net.lines, geoms), case.crs).segments
    starts = np.array([g.coords[0] for g in seg.geometry] + [g.coords[-1] for g in seg.geometry])
    assert np.min(np.hypot(starts[:, 0] - a["x"], starts[:, 1] - a["y"])) < 0.02  # 1 cm noding grid


# ---------------------------------------------------------------- the CLI: import pandapower NET --streets FILE
#
# Streets (metres from BB, y north) 10 m north of the backbone BB-J1-AB and 10 m west of
# the feeder BB-K1-K2; the second one starts on the interior of the first (a T):
#
#   (-20,10) ──10 m── (-10,10) ────────────── 140 m ────────────── (130,10)     "main"
#                        │
#                        │ 130 m                                               "side"
#                        │
#                    (-10,-120)

STREET_XY = {"main": [(-20, 10), (-10, 10), (130, 10)], "side": [(-10, 10), (-10, -120)]}


def _import(tmp_path, streets_file):
    net_file = tmp_path / "tiny.json"
    pp.to_json(tiny_net(), str(net_file))
    out = tmp_path / "case"
    result = CliRunner().invoke(app, ["import", "pandapower", str(net_file), "--out", str(out), "--streets", str(streets_file)])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(app, ["validate", str(out)]).exit_code == 0
    return read_case(out)


def _cost_and_length(case):
    """The streets' cost_per_m (NaN as -1) and length [m], by cost then length."""
    seg = case.streets.segments
    pairs = sorted(zip(seg["cost_per_m"].fillna(-1), seg.geometry.length))
    return [c for c, _ in pairs], [m for _, m in pairs]


def _assert_streets_next_to_the_net(case):
    # in the net's CRS: every node and customer lies 10 m from a street (the wrong CRS would put them km away)
    assert case.crs == "EPSG:32632" and case.streets.segments.crs == "EPSG:32632"
    lines = case.streets.segments.geometry.to_numpy()
    for frame in (case.network.nodes, case.customers):
        pts = shapely.points(frame[["x", "y"]].to_numpy(float))
        nearest = shapely.STRtree(lines).nearest(pts)
        np.testing.assert_allclose(shapely.distance(pts, lines[nearest]), 10, atol=0.1)
    assert validate_case(case) == []


def test_cli_imports_pandapower_with_geojson_streets(tmp_path):
    gj = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"cost_per_m": 80},
                "geometry": {"type": "LineString", "coordinates": [lonlat(*STREET_XY["main"][0]), lonlat(*STREET_XY["main"][-1])]},
            },
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "LineString", "coordinates": [lonlat(*xy) for xy in STREET_XY["side"]]},
            },
        ],
    }
    path = tmp_path / "streets.geojson"
    path.write_text(json.dumps(gj))
    case = _import(tmp_path, path)
    assert case.metadata["streets_source"] == "geojson"
    # main is split at the T; side has no cost (NaN: the default)
    cost, length_m = _cost_and_length(case)
    assert cost == [-1.0, 80.0, 80.0]
    assert length_m == pytest.approx([130, 10, 140], rel=0.01)
    _assert_streets_next_to_the_net(case)


def test_cli_imports_pandapower_with_osm_streets(tmp_path):
    osm_nodes = {1: (-20, 10), 2: (-10, 10), 3: (130, 10), 4: (-10, -120)}
    xml = "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<osm version="0.6" generator="hand">',
            *(f'  <node id="{i}" lat="{lonlat(*xy)[1]:.7f}" lon="{lonlat(*xy)[0]:.7f}"/>' for i, xy in osm_nodes.items()),
            '  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="primary"/></way>',
            '  <way id="11"><nd ref="2"/><nd ref="4"/><tag k="highway" v="residential"/></way>',
            "</osm>",
        ]
    )
    path = tmp_path / "streets.osm"
    path.write_text(xml)
    case = _import(tmp_path, path)
    assert case.metadata["streets_source"] == "osm"
    # primary split at node 2 (residential street 40 /m, primary 90 /m: streets.osm_highway_cost_per_m)
    cost, length_m = _cost_and_length(case)
    assert cost == [40.0, 90.0, 90.0]
    assert length_m == pytest.approx([130, 10, 140], rel=0.01)
    _assert_streets_next_to_the_net(case)


# ---------------------------------------------------------------- default case


def test_default_case_loads_and_validates():
    from lvbalance.data import default_case_path, load_default_case

    path = default_case_path()
    assert (path / "case.toml").exists() and (path / "ATTRIBUTION.md").exists()
    assert sum(p.stat().st_size for p in path.iterdir()) < 3e6
    case = load_default_case()
    assert validate_case(case) == []
    cust = case.customers
    assert len(cust[cust["type"].isin(["residential", "commercial"])]) == 87
    assert set(cust["type"]) == {"residential", "commercial", "pv", "ev"}
    assert cust["metered"].mean() == pytest.approx(0.4, abs=0.02)
    ev = cust[cust["type"] == "ev"]
    assert (ev["charge_kw"] == 7).all() and ev["v2g"].all()
    days = pd.to_datetime(case.meter_readings["timestamp"]).dt.normalize().nunique()
    assert days >= 56 and len(case.calendar) >= days
    assert len(case.network.feeder_outlets) == 4
