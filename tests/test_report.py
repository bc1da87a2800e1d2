"""Figures and HTML report of a written plan (lvbalance.report.figures, lvbalance.report.html).

The numbers each figure draws are compared with the output files; the report is parsed
for its map layers and rendered in headless Chromium when it is installed.
"""

from __future__ import annotations

import html as html_mod
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lvbalance.pipeline import plan_and_write
from lvbalance.report import figures as F
from lvbalance.report.html import map_layers, render_report, write_report
from lvbalance.report.outputs import as_built_feeder_loads, read_run
from tests.conftest import fig3_case

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """baseline and m1 written for the Fig-3 case with a high imbalance weight, so m1 moves
    (at 4000/point m1 no longer moves on this case: 20000 moves one customer). One-hour
    steps check the clock axis with a step other than the default; the default MIP gap keeps
    the solve at seconds (an exact gap takes minutes here).

    Module scope: solving takes seconds; tests only read the folder (they write into copies).
    """
    case = fig3_case()
    case = case.with_params(case.params.updated(objective={"imbalance_weight": 20000.0}, profiles={"step_minutes": 60}))
    out = tmp_path_factory.mktemp("run")
    plan_and_write(case, ["baseline", "m1"], out)
    return case, out


def test_m1_moves_in_the_fixture(written):
    _, out = written
    plan = json.loads((out / "m1" / "plan.json").read_text())
    assert plan["moves"], "the fixture needs a plan with moves"


def test_plan_map_data_is_plan_json(written):
    case, out = written
    runs = read_run(out)
    plan = json.loads((out / "m1" / "plan.json").read_text())
    d = F.plan_map_data(case, runs["m1"])
    assert len(d.routes) == len(plan["moves"])
    for (_, r), mv in zip(d.routes.iterrows(), plan["moves"]):
        np.testing.assert_array_equal(r["xy"], np.asarray(mv["route"], float))
        assert r["customers"] == mv["customers"]
        assert (r["route_length_m"], r["cost"], r["from_feeder"], r["to_feeder"]) == (mv["route_length_m"], mv["cost"], mv["from_feeder"], mv["to_feeder"])
        assert (d.customers.loc[mv["customers"], "feeder_after"] == mv["to_feeder"]).all()
        assert (d.customers.loc[mv["customers"], "feeder_before"] == mv["from_feeder"]).all()
    moved = {c for mv in plan["moves"] for c in mv["customers"]}
    assert set(d.customers.index[d.customers["moved"]]) == moved
    assert (d.customers.loc[~d.customers["moved"], "feeder_before"] == d.customers.loc[~d.customers["moved"], "feeder_after"]).all()
    assert (~d.lines["in_service"]).sum() == len(plan["moves"])  # one cut line per move
    fig = F.plot_plan_map(case, d)
    assert [ax.get_xlabel() for ax in fig.axes[:2]] == ["x from busbar [m]"] * 2


def test_ev_schedule_data_is_schedules_csv(written):
    case, out = written
    runs = read_run(out)
    d = F.ev_schedule_data(case, runs["m1"])
    s = pd.read_csv(out / "m1" / "schedules.csv")
    mine = s[(s["customer_id"] == d.customer_id) & (s["scenario"] == d.scenario)].sort_values("step")
    np.testing.assert_array_equal(d.table["p_scheduled_kw"], mine["p_scheduled_kw"])
    np.testing.assert_array_equal(d.table["p_uncontrolled_kw"], mine["p_uncontrolled_kw"])
    loads = pd.read_csv(out / "m1" / "feeder_loads.csv")
    area = loads[loads["scenario"] == d.scenario].groupby("step")["p_kw"].sum()
    np.testing.assert_allclose(d.table["area_load_kw"], area.to_numpy())
    base = pd.read_csv(out / "baseline" / "feeder_loads.csv")  # all EVs uncontrolled, no move: same area load
    np.testing.assert_allclose(d.table["area_load_uncontrolled_kw"], base[base["scenario"] == d.scenario].groupby("step")["p_kw"].sum().to_numpy(), atol=1e-6)
    change = (s["p_scheduled_kw"] - s["p_uncontrolled_kw"]).abs().groupby([s["customer_id"], s["scenario"]]).sum()
    assert d.shifted_kwh == pytest.approx(change.max() * case.params.profiles.step_minutes / 60)
    np.testing.assert_allclose(d.table["hour"], d.table["step"] * case.params.profiles.step_minutes / 60)
    fig = F.plot_ev_schedule(case, d)
    assert fig.axes[0].get_ylabel() == "EV power [kW]" and fig.axes[1].get_ylabel() == "area load [kW]"
    assert fig.axes[1].get_xticklabels()[0].get_text() == f"{case.params.profiles.horizon_start_hour:02d}:00"


def test_imbalance_data_matches_metrics(written):
    case, out = written
    runs = read_run(out)
    d = F.imbalance_data(case, runs)
    assert list(dict.fromkeys(d["series"])) == ["before", "m1"]
    metrics = json.loads((out / "m1" / "metrics.json").read_text())
    for s in metrics["per_scenario"]:
        mean = d[d["scenario"] == s["scenario"]].groupby("series")["imbalance_pct"].agg(["mean", "max"])
        assert mean.at["before", "mean"] == pytest.approx(s["expected_imbalance_before_pct"], rel=1e-6)
        assert mean.at["m1", "mean"] == pytest.approx(s["expected_imbalance_after_pct"], rel=1e-6, abs=1e-6)
        assert mean.at["before", "max"] == pytest.approx(s["peak_imbalance_before_pct"], rel=1e-6)
        assert mean.at["m1", "max"] == pytest.approx(s["peak_imbalance_after_pct"], rel=1e-6, abs=1e-6)
    fig = F.plot_imbalance(case, d)
    assert all(ax.get_ylabel() == "imbalance [%]" for ax in fig.axes if ax.get_visible())


def test_before_from_profiles_equals_baseline_folder(written):
    case, out = written
    runs = read_run(out)
    key = ["scenario", "step", "feeder"]
    mine = as_built_feeder_loads(case, runs["m1"].profiles()).set_index(key).sort_index()
    base = runs["baseline"].feeder_loads.set_index(key).sort_index()
    assert mine.index.equals(base.index)
    np.testing.assert_allclose(mine["p_kw"], base["p_kw"], atol=1e-6)
    np.testing.assert_allclose(mine["load_rate"], base["load_rate"], atol=1e-8)


def test_feeder_load_rate_data_is_feeder_loads_csv(written):
    case, out = written
    runs = read_run(out)
    d = F.feeder_load_rate_data(case, runs, "m1")
    scen = d["scenario"].iloc[0]
    assert scen == pd.read_csv(out / "m1" / "scenarios.csv").set_index("scenario")["probability"].idxmax()
    for folder, col in (("baseline", "load_rate_before_pct"), ("m1", "load_rate_after_pct")):
        f = pd.read_csv(out / folder / "feeder_loads.csv")
        f = f[f["scenario"] == scen].set_index(["feeder", "step"])["load_rate"]
        np.testing.assert_allclose(d.set_index(["feeder", "step"])[col], 100 * f.loc[d.set_index(["feeder", "step"]).index])
    fig = F.plot_feeder_load_rates(case, d, "m1")
    assert "[% of outlet rating]" in fig.axes[0].get_ylabel()


def test_comparison_data_is_metrics_json(written):
    _, out = written
    runs = read_run(out)
    d = F.comparison_data(runs)
    comp = pd.read_csv(out / "comparison.csv").set_index("id")
    pd.testing.assert_frame_equal(d, comp.loc[list(d.index)], check_names=False)
    cells = F.format_comparison(d)
    mt = json.loads((out / "m1" / "metrics.json").read_text())
    assert cells.loc["m1"].iloc[1] == f"{mt['expected_imbalance_before_pct']:.2f} → {mt['expected_imbalance_after_pct']:.2f}"
    F.plot_comparison_table(d)


def _layers_in_html(page: str) -> dict[str, int]:
    """Layer name -> number of GeoJSON features, read from the map inside the report page."""
    doc = html_mod.unescape(re.search(r"srcdoc=\"(.*?)\"", page, re.DOTALL).group(1))
    control = re.search(r"overlays\s*:\s*\{(.*?)\}", doc, re.DOTALL).group(1)
    names = dict(re.findall(r'"([^"]+)"\s*:\s*(feature_group_\w+)', control))
    counts = {}
    for name, group in names.items():
        gj = re.search(rf"(geo_json_\w+)\.addTo\({group}\)", doc).group(1)
        data = re.search(rf"{gj}_add\((\{{.*?\}})\);", doc, re.DOTALL).group(1)
        counts[name] = len(json.loads(data)["features"])
    return counts


def test_report_is_self_contained_with_map_layers(written, tmp_path):
    case, out = written
    work = tmp_path / "out"
    shutil.copytree(out, work)
    path = write_report(case, work)
    assert path == work / "report.html" and not list(work.glob(".report.html*"))
    page = path.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") >= 5
    assert "Comparison of the methods" in page and "m1: streets + V2G" in page
    layers = map_layers(case, read_run(work))
    assert set(layers) == {"streets", "network as built", "network after m1", "moves m1", "customers"}
    counts = _layers_in_html(page)
    assert counts == {name: len(fc["features"]) for name, fc in layers.items()}
    assert counts["customers"] == len(case.customers) and counts["streets"] == len(case.streets.segments)
    lon, lat = layers["customers"]["features"][0]["geometry"]["coordinates"]
    assert 5.0 < lon < 12.0 and 47.0 < lat < 50.0  # UTM 32N near the Fig-3 origin, in WGS84
    moves = [f["properties"] for f in layers["moves m1"]["features"] if f["properties"]["kind"] == "new line"]
    plan = json.loads((work / "m1" / "plan.json").read_text())
    assert [m["customers"] for m in moves] == [", ".join(mv["customers"]) for mv in plan["moves"]]
    assert "leaflet.js" not in page or "cdn.jsdelivr.net/npm/leaflet" not in page  # inlined when xstatic-leaflet is installed
    assert "code.jquery.com" not in page


def test_report_of_a_single_plan_folder(written):
    case, out = written
    runs = read_run(out / "m1")  # lvbalance plan: no baseline folder, before from profiles.csv
    assert list(runs) == ["m1"]
    page = render_report(case, runs)
    assert "Imbalance over the day" in page


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium); the report is not rendered")
def test_report_renders_in_headless_chromium(written, tmp_path):
    case, out = written
    work = tmp_path / "out"
    shutil.copytree(out, work)
    path = write_report(case, work)
    png = tmp_path / "report.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}", "--window-size=1400,2000",
           "--virtual-time-budget=3000", path.as_uri()]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    assert png.stat().st_size > 20_000
    assert Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
