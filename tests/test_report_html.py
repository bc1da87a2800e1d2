"""The report page (lvbalance.report.html): plan summaries by hand, and the report of a real run.

The real run (baseline and m1 on the Fig-3 case) also checks that what the figures draw,
read back from the files, agrees with what the model wrote into ``metrics.json``.
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

from lvbalance.model.methods import METHODS
from lvbalance.pipeline import plan_and_write
from lvbalance.report.fig_loads import imbalance_data
from lvbalance.report.fig_schedules import ev_schedule_data
from lvbalance.report.html import plan_summary, render_report, report_figures, write_report
from lvbalance.report.map import map_layers
from lvbalance.report.outputs import MethodOutputs, as_built_feeder_loads, read_run
from lvbalance.report.style import feeder_colours
from lvbalance.results import Move, Plan
from tests.fixtures import X0, Y0, fig3_case, fig3_tail_move

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
M1 = "m1: streets + V2G (the paper's method)"
TRADEOFF_FIGURE = "Cost against expected imbalance"

# --------------------------------------------------------------------------- plan summaries, by hand


def summary_of(moves: list[Move], **metrics) -> str:
    mt = {
        "expected_imbalance_before_pct": 10.0,
        "expected_imbalance_after_pct": 7.5,
        "peak_imbalance_before_pct": 20.0,
        "peak_imbalance_after_pct": 15.0,
        "route_length_m": 220.0,
        "max_line_loading_before": 0.8,
        "max_line_loading_after": 0.6,
        "status": "optimal",
        "mip_gap": 0.02,
        "solve_time_s": 3.21,
        **metrics,
    }
    moved = sum(len(m.customers) for m in moves)
    plan = Plan("m1", 0.0, mt["mip_gap"] or 0.0, mt["solve_time_s"], sum(m.cost for m in moves), moved, moves)
    empty = pd.DataFrame()
    return plan_summary({"m1": MethodOutputs("m1", Path("m1"), plan, mt, empty, empty, empty)}, "m1")


def test_plan_summary_of_a_move():
    assert summary_of([fig3_tail_move(cost=26400.0, route=[[X0 + 250, Y0], [X0 + 250, Y0 - 120], [X0 + 150, Y0 - 120]])]) == (
        "Moves 2 customer(s) in 1 move(s): 2 customer(s) of end node n5 from F1 to F2 (220 m of new line, cost 26,400). "
        "Total cost 26,400, 220 m of new line along streets. Expected imbalance 10.00 % → 7.50 % (-25 %); "
        "peak imbalance 20.00 % → 15.00 %; max line loading 80% → 60%; solver status optimal, MIP gap 2.0%, solved in 3.2 s."
    )


def test_plan_summary_without_moves_and_with_slack():
    text = summary_of([], expected_imbalance_after_pct=10.01, mip_gap=None, route_length_m=0.0, violations=[{"line": "l1"}, {"line": "l2"}])
    assert text.startswith("No move. Expected imbalance 10.00 % → 10.01 % (no change); ")
    assert text.endswith("solver status optimal, solved in 3.2 s. 2 line rule(s) met only with penalised slack.")
    stopped = summary_of([], status="time_limit", route_length_m=0.0)
    assert "solver status stopped at its time limit, MIP gap 2.0%, solved in 3.2 s." in stopped


# --------------------------------------------------------------------------- the report of a real run


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


def copy_of(out: Path, tmp_path: Path) -> Path:
    work = tmp_path / "out"
    shutil.copytree(out, work)
    return work


def test_m1_moves_in_the_fixture(written):
    _, out = written
    plan = json.loads((out / "m1" / "plan.json").read_text())
    assert plan["moves"], "the fixture needs a plan with moves"


def test_figures_agree_with_the_metrics_of_the_run(written):
    """Eq 14 from ``feeder_loads.csv`` (as the figures draw it) equals the model's ``metrics.json``."""
    case, out = written
    runs = read_run(out)
    d = imbalance_data(case, runs)
    metrics = json.loads((out / "m1" / "metrics.json").read_text())
    for s in metrics["per_scenario"]:
        agg = d[d["scenario"] == s["scenario"]].groupby("series")["imbalance_pct"].agg(["mean", "max"])
        assert agg.at["before", "mean"] == pytest.approx(s["expected_imbalance_before_pct"], rel=1e-6)
        assert agg.at["m1", "mean"] == pytest.approx(s["expected_imbalance_after_pct"], rel=1e-6, abs=1e-6)
        assert agg.at["before", "max"] == pytest.approx(s["peak_imbalance_before_pct"], rel=1e-6)
        assert agg.at["m1", "max"] == pytest.approx(s["peak_imbalance_after_pct"], rel=1e-6, abs=1e-6)
    # as built from m1's profiles.csv = the baseline folder's feeder loads
    key = ["scenario", "step", "feeder"]
    mine = as_built_feeder_loads(case, runs["m1"].profiles()).set_index(key).sort_index()
    base = runs["baseline"].feeder_loads.set_index(key).sort_index()
    assert mine.index.equals(base.index)
    np.testing.assert_allclose(mine["load_rate"], base["load_rate"], atol=1e-8)
    # the EV figure's uncontrolled area load, from m1's files only = the baseline's area load
    ev = ev_schedule_data(case, runs["m1"])
    area = base.reset_index().query("scenario == @ev.scenario").groupby("step")["p_kw"].sum()
    np.testing.assert_allclose(ev.table["area_load_uncontrolled_kw"], area.to_numpy(), atol=1e-6)


def figures_in(page: str) -> list[str]:
    """Captions of the figures embedded as PNG in the page."""
    return [html_mod.unescape(t) for t in re.findall(r"<figure><img alt='([^']*)' src='data:image/png;base64,[^']+'>", page)]


def test_report_figures_in_order(written):
    case, out = written
    titles = [t for t, _ in report_figures(case, read_run(out))]
    assert titles == [
        f"Plan on the map: {M1}",
        f"EV schedule: {M1}",
        "Imbalance over the day, per scenario",
        f"Feeder load rates: {M1}",
        "Comparison table",
    ]


SECTIONS = ["recommended-plan", "trade-off-cost-against-expected-imbalance", "comparison-of-the-methods"]


def section(page: str, anchor: str) -> str:
    """The HTML of one section of the page."""
    start = page.index(f"<section id='{anchor}'>")
    return page[start : page.index("</section>", start)]


def test_report_is_one_file_with_tables_map_and_figures(written, tmp_path):
    case, out = written
    work = copy_of(out, tmp_path)
    path = write_report(case, work)
    assert path == work / "report.html" and not list(work.glob(".report.html*"))
    assert path.stat().st_mode & 0o777 == 0o644
    page = path.read_text(encoding="utf-8")
    # the plan figure printed in place of the map, then the figures section
    # (the fixture's m1 wrote its trade-off front: its figure comes after the decision)
    assert figures_in(page) == [f"Plan on the map: {M1}", TRADEOFF_FIGURE] + [t for t, _ in report_figures(case, read_run(work))]
    sections = re.findall(r"<section id='([^']+)'><h2>", page)
    assert sections == [*SECTIONS, "figures"]
    # the first section leads with the decision: sentence, figures, the map and its legend
    first = section(page, "recommended-plan")
    plan = json.loads((work / "m1" / "plan.json").read_text())
    n = plan["moved_customers"]
    assert f"<p class='sentence'>Move {n} customer{'s' if n > 1 else ''} in {len(plan['moves'])} move" in first
    assert f"for {plan['total_cost']:,.0f} the expected imbalance falls from" in first
    assert "<iframe class='map'" in first and "<ul class='legend'>" in first
    assert "<b>F1</b>" in first and "<b>F2</b>" in first
    assert "Why m1: of the methods in this run, its plan scores lowest" in first
    trade = section(page, SECTIONS[1])  # the fixture's m1 wrote tradeoff.csv (m2 did not plan here)
    assert (work / "m1" / "tradeoff.csv").is_file() and "was not computed in this run" not in trade
    assert "Each point is a plan that is optimal for its budget" in trade and "Points of m1" in trade
    assert f"<td>m1</td><td>{html_mod.escape(METHODS['m1'].name)}</td>" in page  # Table 2's row
    plan = json.loads((work / "m1" / "plan.json").read_text())
    assert f"<h3>Moves of {html_mod.escape(M1)}</h3>" in page
    assert page.replace(trade, "").count("<li><b>") == 2  # one summary per method (the trade-off has its own)
    assert f"{len(plan['moves'])} move(s)" in page
    layers = map_layers(case, read_run(work))
    assert set(layers) == {"streets", "network as built", "network after m1", "moves m1", "customers"}
    moves = [f["properties"]["customers"] for f in layers["moves m1"]["features"] if f["properties"]["kind"] == "new line"]
    assert moves == [", ".join(mv["customers"]) for mv in plan["moves"]]
    assert "2 feeders, 8 customers (1 with an EV), CRS EPSG:32632" in page


def test_report_shows_the_evaluation_tables_when_written(written, tmp_path):
    case, out = written
    work = copy_of(out, tmp_path)
    pd.DataFrame({"max_line_loading": [1234.5, 0.25]}, index=pd.Index(["baseline", "m1"], name="method")).to_csv(work / "ac_check.csv")
    page = write_report(case, work).read_text(encoding="utf-8")
    sections = re.findall(r"<section id='([^']+)'><h2>", page)
    assert sections == [*SECTIONS, "ac-power-flow-check", "figures"]
    assert "<td class=num>1,234.500</td>" in page and "<td class=num>0.250</td>" in page  # an unknown key: as it is


def test_evaluation_tables_have_human_labels(written, tmp_path):
    case, out = written
    work = copy_of(out, tmp_path)
    ac = pd.DataFrame(
        {"as built": [0.99123, 3.0], "m1": [0.995, 0.0]}, index=pd.Index(["min_voltage_pu", "nonconverged_runs"], name="figure")
    )
    ac.to_csv(work / "ac_check.csv")
    oos = pd.DataFrame(
        {"days": [3, 3], "mean_pct": [9.0, 7.0], "baseline_mean_pct": [9.0, 9.0], "days_better_than_baseline": [0, 3]},
        index=pd.Index(["baseline", "m1"], name="method"),
    )
    oos.to_csv(work / "out_of_sample.csv")
    page = write_report(case, work).read_text(encoding="utf-8")
    body = section(page, "ac-power-flow-check") + section(page, "out-of-sample-check-on-held-out-days")
    for raw in ("min_voltage_pu", "nonconverged_runs", "days_better_than_baseline", "mean_pct", "baseline_mean_pct"):
        assert raw not in body
    assert "<td>lowest voltage [p.u.]</td><td class=num>0.991</td><td class=num>0.995</td>" in body
    assert "<td>power flows that did not converge</td><td class=num>3</td>" in body
    assert "<th>days better than as built</th>" in body and "<td>as built</td>" in body
    assert "as built: mean" not in body  # repeated on every row: left out when the baseline has its own row


def test_report_of_a_single_plan_folder(written):
    case, out = written
    runs = read_run(out / "m1")  # lvbalance plan: no baseline folder, before from profiles.csv
    assert list(runs) == ["m1"]
    page = render_report(case, runs)
    assert figures_in(page) == [
        f"Plan on the map: {M1}",  # printed in place of the map
        TRADEOFF_FIGURE,
        f"Plan on the map: {M1}",
        f"EV schedule: {M1}",
        "Imbalance over the day, per scenario",
        f"Feeder load rates: {M1}",
        "Comparison table",
    ]
    assert "ac-power-flow-check" not in page  # no out_dir: no evaluation section


def with_tradeoff(work: Path) -> Path:
    """A synthetic ``tradeoff.csv`` for m1 whose middle point is the run's plan (cost and E[I] of its files)."""
    plan = json.loads((work / "m1" / "plan.json").read_text())
    mt = json.loads((work / "m1" / "metrics.json").read_text())
    e0, e1, cost = mt["expected_imbalance_before_pct"], mt["expected_imbalance_after_pct"], plan["total_cost"]
    moves = "; ".join(f"{mv['end_node']}/{len(mv['customers'])} -> {mv['to_node']}" for mv in plan["moves"])
    pd.DataFrame(
        {
            "budget": [0.0, cost, float("inf")],
            "cost": [0.0, cost, 3 * cost],
            "expected_imbalance_pct": [e0, e1, e1 / 2],
            "peak_imbalance_pct": [2 * e0, 2 * e1, e1],
            "moved_customers": [0, plan["moved_customers"], plan["moved_customers"] + 1],
            "moves": ["no move", moves, moves + "; n6/1 -> m2"],
            "chosen": [False, True, False],
        }
    ).to_csv(work / "m1" / "tradeoff.csv", index=False)
    return work


def test_report_shows_the_tradeoff_when_written(written, tmp_path):
    case, out = written
    work = with_tradeoff(copy_of(out, tmp_path))
    page = write_report(case, work).read_text(encoding="utf-8")
    body = section(page, SECTIONS[1])
    assert "Cost against expected imbalance" in figures_in(body)
    plan = json.loads((work / "m1" / "plan.json").read_text())
    mt = json.loads((work / "m1" / "metrics.json").read_text())
    per_point = 2 * plan["total_cost"] / (mt["expected_imbalance_after_pct"] / 2)  # the slope to the next point
    assert f"{per_point:,.0f} per point of imbalance" in html_mod.unescape(body)
    assert "was not computed" not in body


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        *args,
    ]
    return subprocess.run(cmd, check=True, capture_output=True, timeout=120, text=True)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium); the report is not rendered")
def test_report_renders_in_headless_chromium(written, tmp_path):
    """The page's own check (page.RENDER_CHECK) after load: Leaflet drew the map's features inside
    the iframe and every figure decoded, the trade-off figure among them; the first screen's
    screenshot shows the feeders' colours where the map is."""
    from PIL import Image

    case, out = written
    path = write_report(case, with_tradeoff(copy_of(out, tmp_path)))
    dom = chromium("--dump-dom", path.as_uri(), profile=tmp_path / "profile").stdout
    drawn = re.findall(r"<iframe class=\"map\"[^>]*data-rendered=\"([^\"]*)\"", dom)
    layers = map_layers(case, read_run(path.parent))
    shown = sum(len(layers[n]["features"]) for n in ("streets", "network after m1", "moves m1", "customers"))
    assert drawn == [str(shown)]
    figures = re.findall(r"<img alt=\"([^\"]*)\" src=\"data:image/png;base64,[^\"]+\" data-rendered=\"([^\"]*)\"", dom)
    assert ("Cost against expected imbalance", "yes") in figures
    assert len(figures) == len(figures_in(path.read_text(encoding="utf-8"))) and {r for _, r in figures} == {"yes"}

    png = tmp_path / "first_screen.png"
    chromium(f"--screenshot={png}", "--window-size=1400,1000", path.as_uri(), profile=tmp_path / "profile")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rgb = np.asarray(Image.open(png).convert("RGB")).astype(int)
    right = rgb[150:660, 560:1380]  # the map on the first screen (its legend is below)
    for colour in feeder_colours(case).values():
        c = np.array([int(colour[k : k + 2], 16) for k in (1, 3, 5)])
        assert (np.abs(right - c).sum(axis=2) < 30).sum() > 50, f"feeder colour {colour} not on the first screen's map"
