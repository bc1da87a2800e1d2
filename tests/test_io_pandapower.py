"""pandapower import: load kinds, time series as meter readings, customers and meter files, PBF streets."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lvbalance.case import CaseError
from lvbalance.cli import app
from lvbalance.io.areas import ImportOptions, import_pandapower_net
from lvbalance.io.casedir import read_case
from lvbalance.io.customers import customer_type_of_load, heat_pump_customer_type, load_kind, read_customer_overrides
from lvbalance.io.timeseries import TimeAxis, read_meter_file
from tests.fixtures import lonlat

pp = pytest.importorskip("pandapower")

# ---------------------------------------------------------------- a net with two loads and a PV plant
#
#   HV --trafo-- BB ──150 m── J1 (load A, 3 kW) ──150 m── J2 (load B, 4 kW; sgen PV, 5 kWp)


def two_load_net():
    net = pp.create_empty_network()
    hv = pp.create_bus(net, 20.0, name="HV", geodata=lonlat(-10, 0))
    bb = pp.create_bus(net, 0.4, name="BB", geodata=lonlat(0, 0))
    j1 = pp.create_bus(net, 0.4, name="J1", geodata=lonlat(150, 0))
    j2 = pp.create_bus(net, 0.4, name="J2", geodata=lonlat(300, 0))
    pp.create_ext_grid(net, hv)
    pp.create_transformer(net, hv, bb, "0.25 MVA 20/0.4 kV", name="T1")
    pp.create_line(net, bb, j1, 0.15, "NAYY 4x150 SE", name="L1")
    pp.create_line(net, j1, j2, 0.15, "NAYY 4x150 SE", name="L2")
    pp.create_load(net, j1, 0.003, name="A")
    pp.create_load(net, j2, 0.004, name="B")
    pp.create_sgen(net, j2, 0.005, name="PV")
    return net


def _save(net, tmp_path):
    path = tmp_path / "net.json"
    pp.to_json(net, str(path))
    return path


def _run(*args: str):
    return CliRunner().invoke(app, ["import", "pandapower", *map(str, args)])


# ---------------------------------------------------------------- load kinds


@pytest.mark.parametrize(
    ("profile", "pp_type", "name", "kind"),
    [
        ("H0-B", "", "", "residential"),
        ("G4-A", "", "", "commercial"),
        ("HLS_A_3.7", "", "", "ev"),
        ("APLS_B_11.0", "", "", "ev"),
        ("Air_Semi-Parallel_2", "", "", "heat_pump"),
        ("Soil_Alternative_2", "", "", "heat_pump"),
        ("", "e-mobility", "", "ev"),
        ("", "", "EV_12", "ev"),
        ("", "", "Ladepunkt 3", "ev"),
        ("", "", "charging point", "ev"),
        ("", "heat pump", "", "heat_pump"),
        ("", "", "HP3", "heat_pump"),
        ("", "", "Wärmepumpe Nord", "heat_pump"),
        ("", "HH", "HH_w10266975", "residential"),  # lv_schutterwald households
        ("", "", "level 2", "residential"),  # "ev" inside a word is not an EV
        ("", "Gewerbe", "", "commercial"),
    ],
)
def test_load_kind(profile, pp_type, name, kind):
    assert load_kind(profile, pp_type, name) == kind


def test_heat_pumps_are_their_own_type():
    assert heat_pump_customer_type() == "heat_pump"
    assert customer_type_of_load("Air_Parallel_2", "") == heat_pump_customer_type()
    assert customer_type_of_load("", "", "EV_1") == "ev"


# ---------------------------------------------------------------- time series


def _const_control(net, element: str, index: list[int], df: pd.DataFrame, profiles: list[str]) -> None:
    from pandapower.control import ConstControl
    from pandapower.timeseries import DFData

    ConstControl(net, element, "p_mw", element_index=index, data_source=DFData(df), profile_name=profiles)


def test_const_control_series_become_meter_readings(tmp_path):
    net = two_load_net()
    # pandapower time steps 0..3 at 1 h from 2024-03-01 06:00; values in MW
    df = pd.DataFrame({"a": [0.001, 0.002, 0.003, 0.002], "b": [0.0, 0.004, 0.004, 0.0], "pv": [0.0, 0.001, 0.005, 0.002]})
    _const_control(net, "load", [0, 1], df, ["a", "b"])
    _const_control(net, "sgen", [0], df, ["pv"])
    out = tmp_path / "case"
    result = _run(_save(net, tmp_path), "-o", out, "--start", "2024-03-01 06:00", "--step-minutes", "60")
    assert result.exit_code == 0, result.output
    case = read_case(out)
    r = case.meter_readings.set_index(["customer_id", "timestamp"])["p_kw"]
    t = pd.Timestamp("2024-03-01 06:00")
    assert r["A", t] == pytest.approx(1.0) and r["A", t + pd.Timedelta("2h")] == pytest.approx(3.0)
    assert r["B", t + pd.Timedelta("1h")] == pytest.approx(4.0)
    assert r["pv_PV", t + pd.Timedelta("2h")] == pytest.approx(-5.0)  # generation is negative
    assert len(r) == 3 * 4 and case.customers["metered"].all()
    # annual energy: mean power x 8760 h
    assert case.customers.loc["A", "annual_kwh"] == pytest.approx(2.0 * 8760)
    assert case.customers.loc["pv_PV", "annual_kwh"] == pytest.approx(2.0 * 8760)


def test_simbench_style_profiles_become_readings_and_controllers_win():
    net = two_load_net()
    net.load["profile"] = ["H0-A", "G1-A"]
    net.profiles = {"load": pd.DataFrame({
        "time": ["05.03.2016 00:00", "05.03.2016 00:15", "05.03.2016 00:30"],
        "H0-A_pload": [0.5, 1.0, 0.25],
        "G1-A_pload": [1.0, 1.0, 1.0],
    })}  # fmt: skip
    _const_control(net, "load", [1], pd.DataFrame({"b": [0.001, 0.001, 0.001]}), ["b"])
    (result,) = import_pandapower_net(net, name="sb", split=False)
    case = result.case
    assert result.ok and case is not None
    r = case.meter_readings.set_index(["customer_id", "timestamp"])["p_kw"]
    assert r["A", pd.Timestamp("2016-03-05 00:15")] == pytest.approx(3.0)  # 3 kW x 1.0, from the table's own time column
    assert r["A", pd.Timestamp("2016-03-05 00:30")] == pytest.approx(0.75)
    assert r.loc["B"].tolist() == pytest.approx([1.0, 1.0, 1.0])  # the controller, not G1-A
    assert r.loc["B"].index[0] == pd.Timestamp("2024-01-01 00:00")  # integer steps from the default start
    assert not case.customers.loc["pv_PV", "metered"]


def test_a_broken_controller_is_reported(tmp_path):
    net = two_load_net()
    _const_control(net, "load", [0], pd.DataFrame({"a": [0.001]}), ["no_such_column"])
    result = _run(_save(net, tmp_path), "-o", tmp_path / "case")
    assert result.exit_code == 2 and "no_such_column" in result.output and "controller 0" in result.output
    assert not (tmp_path / "case").exists()


def test_time_axis():
    axis = TimeAxis.parse("2024-06-01 08:00", 30)
    assert list(axis.at(np.array([0, 3]))) == [pd.Timestamp("2024-06-01 08:00"), pd.Timestamp("2024-06-01 09:30")]
    with pytest.raises(ValueError, match="not a date-time"):
        TimeAxis.parse("yesterday-ish", 15)


# ---------------------------------------------------------------- --customers FILE


def test_customers_file_overrides(tmp_path):
    f = tmp_path / "customers.csv"
    f.write_text("load,type,charge_kw,v2g,annual_kwh\nA,ev,11,true,\n1,commercial,,,12000\n")  # load 1 is B
    (result,) = import_pandapower_net(two_load_net(), name="x", split=False, options=ImportOptions(customers=read_customer_overrides(f)))
    c = result.case.customers
    assert c.loc["A", "type"] == "ev" and c.loc["A", "charge_kw"] == 11 and c.loc["A", "discharge_kw"] == 11 and c.loc["A", "v2g"]
    assert c.loc["A", "annual_kwh"] == pytest.approx(3 * 200)  # p_kw x the ev full-load hours: the estimate follows the type
    assert c.loc["B", "type"] == "commercial" and c.loc["B", "annual_kwh"] == 12000
    f.write_text("customer_id,type,metered\nB,heat_pump,\npv_PV,,false\n")
    (result,) = import_pandapower_net(two_load_net(), name="x", split=False, options=ImportOptions(customers=read_customer_overrides(f)))
    assert result.case.customers.loc["B", "type"] == heat_pump_customer_type()


def test_bad_customers_file_lists_every_row_and_exits_2(tmp_path):
    f = tmp_path / "customers.csv"
    f.write_text("customer_id,type,annual_kwh,v2g,colour\nA,electric,1000,true,red\nB,residential,-5,maybe,\n,pv,,,\nA,pv,,,\n")
    with pytest.raises(CaseError) as err:
        read_customer_overrides(f)
    msgs = [str(p) for p in err.value.problems]
    assert "customers.csv, header: unknown column(s) colour" in msgs[0]
    assert any("row 2" in m and "unknown type 'electric'" in m for m in msgs)
    assert any("row 3" in m and "annual_kwh must be > 0, got -5" in m for m in msgs)
    assert any("row 3" in m and "v2g must be true or false, got 'maybe'" in m for m in msgs)
    assert any("row 4" in m and "customer_id is empty" in m for m in msgs)
    assert any("rows 2, 5" in m and "more than once" in m for m in msgs)
    result = _run(_save(two_load_net(), tmp_path), "-o", tmp_path / "case", "--customers", f)
    assert result.exit_code == 2 and "row 3" in result.output and not (tmp_path / "case").exists()


def test_customers_file_naming_an_unknown_customer_exits_2(tmp_path):
    f = tmp_path / "customers.csv"
    f.write_text("customer_id,type\nA,commercial\nZ,commercial\n")
    result = _run(_save(two_load_net(), tmp_path), "-o", tmp_path / "case", "--customers", f)
    assert result.exit_code == 2, result.output
    assert "customers.csv, row 3: customer_id 'Z' matches no customer id" in result.output
    assert not (tmp_path / "case").exists()


# ---------------------------------------------------------------- --meters FILE


def _meter_rows(cid: str, n: int = 8) -> pd.DataFrame:
    ts = pd.date_range("2024-05-06 00:00", periods=n, freq="15min")
    return pd.DataFrame({"customer_id": cid, "timestamp": ts, "p_kw": np.linspace(0.5, 2.0, n)})


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_meter_file_is_attached(tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    f = tmp_path / f"meters{suffix}"
    rows = _meter_rows("A")
    rows.to_csv(f, index=False) if suffix == ".csv" else rows.to_parquet(f, index=False)
    out = tmp_path / "case"
    result = _run(_save(two_load_net(), tmp_path), "-o", out, "--meters", f)
    assert result.exit_code == 0, result.output
    case = read_case(out)
    assert case.customers["metered"].to_dict() == {"A": True, "B": False, "pv_PV": False}
    got = case.meter_readings.set_index("timestamp")["p_kw"]
    assert got.tolist() == pytest.approx(rows["p_kw"].tolist(), abs=1e-4) and list(got.index) == list(rows["timestamp"])


def test_parquet_without_an_engine_is_a_problem_of_the_file(tmp_path, monkeypatch):
    for engine in ("pyarrow", "fastparquet"):
        monkeypatch.setitem(sys.modules, engine, None)  # import raises ImportError: no parquet engine
    f = tmp_path / "meters.parquet"
    f.write_bytes(b"PAR1")
    with pytest.raises(CaseError, match="meters.parquet: cannot be read as parquet"):
        read_meter_file(f)


def test_bad_meter_file_lists_rows_and_exits_2(tmp_path):
    f = tmp_path / "meters.csv"
    f.write_text("customer_id,timestamp,p_kw\nA,2024-05-06 00:00,1.0\nA,not a time,1.0\nB,2024-05-06 00:00,lots\n")
    with pytest.raises(CaseError) as err:
        read_meter_file(f)
    assert [str(p) for p in err.value.problems] == [
        "meters.csv, row 3: timestamp is not a date-time: 'not a time'",
        "meters.csv, row 4: p_kw is not a finite number: 'lots'",
    ]
    f.write_text("customer_id,timestamp,p_kw\nA,2024-05-06 00:00,1.0\nQ,2024-05-06 00:00,1.0\nQ,2024-05-06 00:15,1.0\n")
    result = _run(_save(two_load_net(), tmp_path), "-o", tmp_path / "case", "--meters", f)
    assert result.exit_code == 2
    assert "meters.csv, 2 row(s) from row 3: readings of customer 'Q', which no imported area has" in result.output


# ---------------------------------------------------------------- streets from OSM PBF


def test_streets_from_osm_pbf():
    pyrosm = pytest.importorskip("pyrosm")
    from lvbalance.io.streets import streets_from_osm_pbf

    streets = streets_from_osm_pbf(pyrosm.get_data("test_pbf"), "EPSG:32635")  # a few streets of Kouvola (FI) shipped with pyrosm
    seg = streets.segments
    assert streets.source == "osm" and seg.crs == "EPSG:32635" and len(seg) > 300
    assert seg.geometry.geom_type.eq("LineString").all()
    assert {25.0, 40.0, 70.0} <= set(seg["cost_per_m"].dropna())  # footway, residential, secondary


def test_pbf_without_pyrosm_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyrosm", None)  # import pyrosm raises ImportError
    pbf = tmp_path / "town.osm.pbf"
    pbf.write_bytes(b"\0")
    result = _run(_save(two_load_net(), tmp_path), "-o", tmp_path / "case", "--streets", pbf)
    assert result.exit_code == 2 and "pyrosm" in result.output and "Traceback" not in result.output
    assert "lvbalance[osm]" in result.output


# ---------------------------------------------------------------- exit codes


def test_missing_or_broken_net_file_exits_2(tmp_path):
    assert _run(tmp_path / "nope.json", "-o", tmp_path / "c").exit_code == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    result = _run(bad, "-o", tmp_path / "c")
    assert result.exit_code == 2 and "cannot be read as a pandapower net" in result.output


def test_existing_case_directory_is_not_overwritten(tmp_path):
    net_file = _save(two_load_net(), tmp_path)
    (tmp_path / "case").mkdir()
    result = _run(net_file, "-o", tmp_path / "case")
    assert result.exit_code == 2 and "refusing to overwrite" in result.output


# ---------------------------------------------------------------- switches and every problem of an area


def test_closed_bus_bus_switch_makes_one_node():
    net = two_load_net()
    j1b = pp.create_bus(net, 0.4, name="J1b", geodata=lonlat(150, 0))
    pp.create_switch(net, 2, j1b, "b", closed=True)  # bus 2 is J1: the board J1 | J1b
    net.line.loc[net.line["name"] == "L2", "from_bus"] = j1b
    net.load.loc[net.load["name"] == "A", "bus"] = j1b
    (result,) = import_pandapower_net(net, name="x", split=False)
    case = result.case
    assert result.ok and case is not None
    assert list(case.network.nodes.index) == ["BB", "J1", "J2"]  # J1b is J1
    assert case.network.lines[["from_node", "to_node"]].values.tolist() == [["BB", "J1"], ["J1", "J2"]]
    assert case.customers.loc["A", "node_id"] == "J1"
    net.switch["closed"] = False  # the board is open: J1b, J2 and their customers are cut off
    (result,) = import_pandapower_net(net, name="x", split=False)
    assert result.case is None and "no in-service load or sgen" in str(result.problems[0])


def test_every_problem_of_an_area_is_listed(tmp_path):
    net = two_load_net()
    pp.create_line(net, 1, 2, 0.15, "NAYY 4x150 SE", name="L1bis")  # parallel to L1 (BB-J1)
    j3 = pp.create_bus(net, 0.4, name="J3")  # no coordinates
    pp.create_line(net, 3, j3, 0.05, "NAYY 4x150 SE", name="L3")
    result = _run(_save(net, tmp_path), "-o", tmp_path / "case")
    assert result.exit_code == 2, result.output
    assert "2 problem(s)" in result.output
    assert "lines 0, 2: are parallel between buses 1 and 2" in result.output and f"bus {j3}: has no coordinates" in result.output
