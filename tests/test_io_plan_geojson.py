"""``io.plan_geojson``: a plan as GeoJSON in the case CRS and in WGS84, read back with geopandas.

The move: the Fig-3 tail n5 (c1, c2) onto m2 of F2 along the streets x = 250 and y = -120
(:func:`tests.fixtures.fig3_tail_move`); the line above the cut node n5 is l5 (n4 -> n5,
x = 200..250, y = 0), so the cut point is its middle, x = 225.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyproj
import pytest

from lvbalance.io.plan_geojson import PLAN_GEOJSON, PLAN_WGS84_GEOJSON, plan_geojson, write_plan_geojson
from lvbalance.results import Plan
from tests.fixtures import X0, Y0, fig3_case, fig3_tail_move

ROUTE = [[X0 + 250, Y0], [X0 + 250, Y0 - 120], [X0 + 150, Y0 - 120]]


def _plan(route: list[list[float]] | None = ROUTE) -> Plan:
    mv = fig3_tail_move(cost=8800.0, route=route)
    return Plan("m1", 0.0, 0.0, 0.0, 8800.0, 2, [mv])


def test_geojson_reads_in_geopandas_one_line_per_move(tmp_path: Path) -> None:
    case = fig3_case()
    paths = write_plan_geojson(tmp_path, case, _plan())
    assert [p.name for p in paths] == [PLAN_GEOJSON, PLAN_WGS84_GEOJSON]
    gdf = gpd.read_file(tmp_path / PLAN_GEOJSON)
    assert gdf.crs == pyproj.CRS(case.crs)
    assert list(gdf["kind"]) == ["new_line", "cut", "moved_customer", "moved_customer"]
    line = gdf[gdf["kind"] == "new_line"]
    assert len(line) == 1 and line.geometry.iloc[0].geom_type == "LineString"
    assert [list(c) for c in line.geometry.iloc[0].coords] == ROUTE  # along the streets
    assert line["line_id"].iloc[0] == "new:n5" and line["customers"].iloc[0] == "c1,c2"
    assert line["cost"].iloc[0] == 8800.0 and line["route_length_m"].iloc[0] == 220.0
    cut = gdf[gdf["kind"] == "cut"].iloc[0]
    assert cut["line_id"] == "l5" and (cut.geometry.x, cut.geometry.y) == (X0 + 225, Y0)
    moved = gdf[gdf["kind"] == "moved_customer"]
    assert list(moved["customer_id"]) == ["c1", "c2"] and set(moved["to_feeder"]) == {"F2"}
    assert (moved.geometry.x.iloc[0], moved.geometry.y.iloc[0]) == (X0 + 255, Y0 + 10)  # c1: 5 m east, 10 m north of n5


def test_wgs84_copy_is_rfc7946_and_the_same_places(tmp_path: Path) -> None:
    case = fig3_case()
    write_plan_geojson(tmp_path, case, _plan())
    raw = json.loads((tmp_path / PLAN_WGS84_GEOJSON).read_text())
    assert "crs" not in raw  # RFC 7946: WGS84 longitude / latitude, no crs member
    wgs = gpd.read_file(tmp_path / PLAN_WGS84_GEOJSON)
    assert wgs.crs == pyproj.CRS("EPSG:4326")
    back = wgs.to_crs(case.crs)
    proj = gpd.read_file(tmp_path / PLAN_GEOJSON)
    for a, b in zip(back.geometry, proj.geometry):
        assert a.hausdorff_distance(b) < 0.02  # [m]: 7 decimals of a degree
    lon, lat = raw["features"][2]["geometry"]["coordinates"]  # c1
    exp = pyproj.Transformer.from_crs(case.crs, "EPSG:4326", always_xy=True).transform(X0 + 255, Y0 + 10)
    assert (lon, lat) == pytest.approx(exp, abs=1e-7) and 7.6 < lon < 7.7 and 48.4 < lat < 48.5  # west of 9 deg E (UTM 32)


def test_no_route_gives_a_straight_line_and_no_moves_an_empty_collection() -> None:
    case = fig3_case()
    line = plan_geojson(case, _plan(route=None))["features"][0]
    assert line["geometry"]["coordinates"] == [[X0 + 250, Y0], [X0 + 150, Y0 - 120]]  # n5 -> m2
    empty = plan_geojson(case, [])
    assert empty["features"] == [] and empty["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::32632"
    assert plan_geojson(case, [], wgs84=True) == {"type": "FeatureCollection", "name": "plan", "features": []}


def test_written_files_are_deterministic(tmp_path: Path) -> None:
    case = fig3_case()
    write_plan_geojson(tmp_path / "a", case, _plan())
    write_plan_geojson(tmp_path / "b", case, _plan())
    for name in (PLAN_GEOJSON, PLAN_WGS84_GEOJSON):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.parametrize("crs", ["EPSG:32632", "EPSG:25832"])
def test_crs_member_names_the_case_crs(crs: str) -> None:
    case = fig3_case()
    case = type(case)(**{**case.__dict__, "crs": crs})
    assert plan_geojson(case, [])["crs"]["properties"]["name"] == f"urn:ogc:def:crs:EPSG::{crs.split(':')[1]}"
