"""A net with several LV transformer areas, split into one case per area (``--split-areas``)."""

from __future__ import annotations

import logging
import math
import time
import warnings

import pandas as pd
import pytest
from typer.testing import CliRunner

from lvbalance.case import validate_case
from lvbalance.cli import app
from lvbalance.io.areas import find_areas, import_pandapower_net, sanitise, write_areas
from lvbalance.io.casedir import read_case
from lvbalance.io.customers import heat_pump_customer_type
from tests.fixtures import lonlat

pp = pytest.importorskip("pandapower")

# ---------------------------------------------------------------- a town you can draw
#
#  (metres east, north of (7.88 E, 48.46 N); every line NAYY 4x150 SE)
#
#   TA: BA(0,0) ──── A1(50,0) ──── A2(100,0) ┄┄open┄┄ B1(200,0) ──── BB(250,0) :TB
#        │          L_A1            EV_1 (name)        L_B1 ("Gewerbe")    │
#        └── A3(0,-50) L_A3 (profile Air_Parallel_2: a heat pump)          └── B2(250,-50) PV_B2 (sgen)
#
#   T/C: BC(0,300) ── C1(50,300) ── C2(50,350) ── BC       a loop (area "T_C" fails)
#   no transformer: I1(400,300) ── I2(450,300), load L_I   (fails: no transformer)


def town_net():
    net = pp.create_empty_network()
    hv = pp.create_bus(net, 20.0, name="HV", geodata=lonlat(0, 150))
    pp.create_ext_grid(net, hv)
    xy = {"BA": (0, 0), "A1": (50, 0), "A2": (100, 0), "A3": (0, -50), "B1": (200, 0), "BB": (250, 0), "B2": (250, -50),
          "BC": (0, 300), "C1": (50, 300), "C2": (50, 350), "I1": (400, 300), "I2": (450, 300)}  # fmt: skip
    b = {name: pp.create_bus(net, 0.4, name=name, geodata=lonlat(*p)) for name, p in xy.items()}
    for trafo, bus in (("TA", "BA"), ("TB", "BB"), ("T/C", "BC")):
        pp.create_transformer(net, hv, b[bus], "0.4 MVA 20/0.4 kV", name=trafo)
    lines = {}
    for u, v in [("BA", "A1"), ("A1", "A2"), ("BA", "A3"), ("A2", "B1"), ("BB", "B1"), ("BB", "B2"),
                 ("BC", "C1"), ("C1", "C2"), ("C2", "BC"), ("I1", "I2")]:  # fmt: skip
        lines[u, v] = pp.create_line(net, b[u], b[v], 0.05, "NAYY 4x150 SE", name=f"L_{u}_{v}")
    pp.create_switch(net, b["A2"], lines["A2", "B1"], "l", closed=False)  # the tie between the areas is open
    pp.create_load(net, b["A1"], 0.003, name="L_A1")
    pp.create_load(net, b["A2"], 0.011, name="EV_1")
    pp.create_load(net, b["A3"], 0.004, name="L_A3", profile="Air_Parallel_2")
    pp.create_load(net, b["B1"], 0.010, name="L_B1", type="Gewerbe")
    pp.create_sgen(net, b["B2"], 0.006, name="PV_B2")
    pp.create_load(net, b["C1"], 0.002, name="L_C1")
    pp.create_load(net, b["I2"], 0.002, name="L_I")
    return net


def test_find_areas_follows_lines_and_closed_switches():
    net = town_net()
    areas, failures = find_areas(net)
    assert [a.name for a in areas] == ["TA", "TB", "T_C"]
    name = {int(i): n for i, n in net.bus["name"].items()}
    assert {name[x] for x in areas[0].buses} == {"BA", "A1", "A2", "A3"}  # the open switch cuts A2-B1
    assert {name[x] for x in areas[1].buses} == {"BB", "B1", "B2"}
    assert [f.area.name for f in failures] == [f"no_trafo_bus{net.bus.index[net.bus['name'] == 'I1'][0]}"]
    assert "no in-service transformer reaches" in str(failures[0].problems[0])
    # closing the switch joins both areas: each then reaches the other's transformer
    net.switch["closed"] = True
    areas, _ = find_areas(net)
    assert areas[0].buses == areas[1].buses


def test_split_gives_one_case_per_area_and_lists_the_failures(caplog):
    with caplog.at_level(logging.INFO, logger="lvbalance.io"):
        results = {r.area.name: r for r in import_pandapower_net(town_net(), name="town", split=True)}
    estimates = [r.getMessage() for r in caplog.records if "full-load hours" in r.getMessage()]
    assert estimates == ["annual energy of 4 load(s) estimated from p_mw x full-load hours (commercial 2500 h, ev 200 h, heat_pump 1000 h, "
                         "residential 1000 h)"]  # fmt: skip
    assert any(f"1 heat pump load(s) imported as {heat_pump_customer_type()!r}" in r.getMessage() for r in caplog.records)
    assert set(results) == {"TA", "TB", "T_C", f"no_trafo_bus{min(r.area.busbar for r in results.values() if not r.area.trafos)}"}
    assert [n for n, r in results.items() if r.ok] == ["TA", "TB"]
    (loop,) = results["T_C"].problems
    assert "form a loop" in str(loop) and set(loop.element.removeprefix("lines ").split(", ")) == {"6", "7", "8"}  # BC-C1-C2-BC
    ta, tb = results["TA"].case, results["TB"].case
    assert ta is not None and tb is not None and ta.name == "town-TA"
    assert ta.customers["type"].to_dict() == {"L_A1": "residential", "EV_1": "ev", "L_A3": heat_pump_customer_type()}
    assert ta.customers.loc["EV_1", "charge_kw"] == pytest.approx(11.0) and not ta.customers.loc["EV_1", "v2g"]
    assert ta.customers.loc["EV_1", "annual_kwh"] == pytest.approx(11.0 * 200)  # FULL_LOAD_HOURS["ev"]
    assert tb.customers["type"].to_dict() == {"L_B1": "commercial", "pv_PV_B2": "pv"}
    # both areas get the whole town's line routes as streets, with the open tie A2-B1 (and the loop, and the island)
    assert len(ta.streets.segments) == len(tb.streets.segments) == 10
    assert ta.streets.segments.geometry.length.sum() == pytest.approx(8 * 50 + 100 + 50 * math.sqrt(2), rel=0.01)
    assert ta.metadata["area"] == "TA" and "TA (trafo 0, 0.4 MVA)" == ta.metadata["transformer"]
    assert validate_case(ta) == [] and validate_case(tb) == []


def test_cli_split_areas_writes_the_valid_ones_and_exits_2(tmp_path):
    net_file = tmp_path / "town.json"
    pp.to_json(town_net(), str(net_file))
    out = tmp_path / "cases"
    result = CliRunner().invoke(app, ["import", "pandapower", str(net_file), "--split-areas", "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert sorted(p.name for p in out.iterdir()) == ["TA", "TB", "areas.csv"]
    assert "form a loop" in result.output and "no in-service transformer reaches" in result.output
    areas = pd.read_csv(out / "areas.csv").set_index("area")  # every area with its status, for lvbalance batch
    assert areas.loc["TA", "status"] == "written" and areas.loc["TB", "status"] == "written"
    assert (areas["status"] == "failed").sum() == 2 and areas["problems"].str.contains("form a loop").any()
    assert read_case(out / "TA").customers.index.tolist() == ["L_A1", "EV_1", "L_A3"]
    # a second run never overwrites: both areas are reported as existing
    again = CliRunner().invoke(app, ["import", "pandapower", str(net_file), "--split-areas", "-o", str(out)])
    assert again.exit_code == 2 and again.output.count("refusing to overwrite") == 2


def test_cli_split_areas_exit_0_when_every_area_is_a_case(tmp_path):
    net = town_net()
    net.line.loc[net.line["name"] == "L_C2_BC", "in_service"] = False  # opens the loop
    net.load.loc[net.load["name"] == "L_I", "in_service"] = False  # the island has no customer left
    net_file = tmp_path / "town.json"
    pp.to_json(net, str(net_file))
    result = CliRunner().invoke(app, ["import", "pandapower", str(net_file), "--split-areas", "-o", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["TA", "TB", "T_C", "areas.csv"]


def test_one_area_import_of_a_town_says_to_split(tmp_path):
    net_file = tmp_path / "town.json"
    pp.to_json(town_net(), str(net_file))
    result = CliRunner().invoke(app, ["import", "pandapower", str(net_file), "-o", str(tmp_path / "c")])
    assert result.exit_code == 2 and "--split-areas" in result.output
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize(("raw", "clean"), [("T_idx_119", "T_idx_119"), ("Trafo 3/4", "Trafo_3_4"), ("..", "area"), ("Süd", "S_d")])
def test_sanitise(raw, clean):
    assert sanitise(raw) == clean


@pytest.mark.slow
def test_lv_schutterwald_town_splits_into_13_cases_and_one_loop(tmp_path):
    """The full Schutterwald net: 14 transformer areas, 1,506 loads; area T_idx_78 has a loop."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = pp.networks.lv_schutterwald(separation_by_sub=False)
    t0 = time.perf_counter()
    results = write_areas(import_pandapower_net(net, name="schutterwald", split=True), tmp_path)
    assert time.perf_counter() - t0 < 60
    failed = [r for r in results if not r.ok]
    assert [r.area.name for r in failed] == ["T_idx_78"]
    assert len(failed[0].problems) == 1 and "form a loop" in str(failed[0].problems[0])
    assert "lines 8820, 8293, 8294, 8823, 13417" in str(failed[0].problems[0])
    written = sorted(p.name for p in tmp_path.iterdir())
    assert len(written) == 13 and "T_idx_78" not in written
    total = 0
    for name in written:
        case = read_case(tmp_path / name)  # validates
        total += len(case.customers)
        assert (case.customers["type"] == "residential").all()
    assert total == 1506 - 169  # every load but those of the failed area
