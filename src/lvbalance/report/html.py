"""One self-contained ``report.html`` for a written output folder (DESIGN.md, "Outputs").

The report leads with the decision (:mod:`lvbalance.report.decision`): the recommended plan
in one sentence, its cost and gain, the map with the moves and a feeder legend. Then the
cost-imbalance trade-off (:mod:`lvbalance.report.fig_tradeoff`, when ``tradeoff.csv`` was
written), the comparison of the methods (Table 2, how steady the schedules are, the plans in
words), the evaluation's tables with human labels (:mod:`lvbalance.report.labels`) and the
figures (:mod:`lvbalance.report.fig_plan`, :mod:`~lvbalance.report.fig_schedules`,
:mod:`~lvbalance.report.fig_loads`, :mod:`~lvbalance.report.comparison`) as embedded PNG.
Everything is read back from the output files and the case.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import logging
import re
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from lvbalance.case import Case
from lvbalance.report.comparison import comparison_data, format_comparison, plot_comparison_table
from lvbalance.report.decision import Recommendation, decision_html, read_why, recommend
from lvbalance.report.fig_loads import feeder_load_rate_data, imbalance_data, plot_feeder_load_rates, plot_imbalance
from lvbalance.report.fig_plan import plan_map_data, plot_plan_map
from lvbalance.report.fig_schedules import EvScheduleData, ev_schedule_data, plot_ev_schedule
from lvbalance.report.fig_tradeoff import TRADEOFF_NAME, marginal_cost_text, plot_tradeoff, slope_table, tradeoff_data
from lvbalance.report.labels import SMOOTHNESS_LABELS, ac_check_table, format_value, out_of_sample_table
from lvbalance.report.map import leaflet_source, map_html
from lvbalance.report.outputs import BASELINE, MethodOutputs, read_run
from lvbalance.report.page import PAGE, RENDER_CHECK, STYLE
from lvbalance.report.style import method_label
from lvbalance.results import write_atomic

log = logging.getLogger(__name__)

REPORT_NAME = "report.html"


# --------------------------------------------------------------------------- entry point


def write_report(case: Case, out_dir: str | Path, *, dpi: int = 100) -> Path:
    """Write ``out_dir/report.html`` for the outputs in ``out_dir`` and return its path.

    Written atomically.

    Parameters
    ----------
    case
        The case the outputs were written for.
    out_dir
        A ``compare`` folder (one sub-folder per method, ``comparison.csv``) or a single
        method's folder.
    dpi
        Resolution of the embedded figures [dots per inch].

    Returns
    -------
    pathlib.Path
        ``out_dir/report.html``.
    """
    out = Path(out_dir)
    runs = read_run(out)
    page = render_report(case, runs, dpi=dpi, out_dir=out)
    path = out / REPORT_NAME
    write_atomic(path, lambda p: p.write_text(page, encoding="utf-8"))
    log.info("report written to %s (%.1f MB)", path, len(page) / 1e6)
    return path


#: The evaluation's tables: file -> (section title, what it shows, relabelling).
_EVALUATION = {
    "ac_check.csv": (
        "AC power-flow check",
        "The MILP ignores losses and voltage; every scenario and step is run as an AC power flow "
        "on the network as built (uncontrolled charging) and after each plan (scheduled EVs). "
        "New lines get the smallest standard cable that carries their load.",
        ac_check_table,
    ),
    "out_of_sample.csv": (
        "Out-of-sample check on held-out days",
        "Each method's moves are kept fixed and only the EV schedule is re-optimised on every "
        "held-out day of real meter data; the daily imbalance [%] is compared with the network as built.",
        out_of_sample_table,
    ),
}


def _evaluation_sections(out_dir: Path | None) -> list[tuple[str, str]]:
    """Tables the pipeline's evaluation wrote next to the method folders, when present, with human labels."""
    if out_dir is None:
        return []
    out = []
    for name, (title, intro, relabel) in _EVALUATION.items():
        path = out_dir / name
        if path.is_file():
            df = pd.read_csv(path, index_col=0)
            out.append((title, f"<p>{html.escape(intro)}</p>" + _table_html(relabel(df))))
    return out


def render_report(case: Case, runs: dict[str, MethodOutputs], *, dpi: int = 100, out_dir: Path | None = None) -> str:
    """The report page as one HTML string.

    Parameters
    ----------
    case
        The case the outputs were written for.
    runs
        Every method's files, by method id (:func:`lvbalance.report.outputs.read_run`).
    dpi
        Resolution of the embedded figures [dots per inch].
    out_dir
        Folder holding the evaluation's ``ac_check.csv`` and ``out_of_sample.csv``; their
        tables are shown when present. None: no evaluation section.

    Returns
    -------
    str
        The page: the decision with the map (in an iframe), the trade-off, the comparison,
        the evaluation and the figures (as data URIs).
    """
    rec = recommend(case, runs)
    sections = [
        ("Recommended plan", _decision(case, runs, rec, dpi)),
        ("Trade-off: cost against expected imbalance", _tradeoff_html(case, runs, rec, dpi)),
        ("Comparison of the methods", _comparison_html(case, runs)),
        *_evaluation_sections(out_dir),
        ("Figures", "".join(_figure_html(title, fig, dpi) for title, fig in report_figures(case, runs))),
    ]
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    nav = "".join(f"<a href='#{_anchor(t)}'>{html.escape(t.split(':')[0])}</a>" for t, _ in sections[1:])
    return PAGE.format(
        title=html.escape(f"lvbalance report: {case.name}"),
        style=STYLE,
        name=html.escape(case.name),
        meta=html.escape(
            f"{len(case.network.feeder_outlets)} feeders, {len(case.customers)} customers "
            f"({len(case.ev_customers)} with an EV), CRS {case.crs}; generated {now}"
        ),
        nav=nav,
        body="\n".join(_section(t, b) for t, b in sections),
        leaflet_note=html.escape(leaflet_source()[2]),
        check=RENDER_CHECK,
    )


def _decision(case: Case, runs: dict[str, MethodOutputs], rec: Recommendation, dpi: int) -> str:
    """The first screen; in print the static plan figure replaces the interactive map."""
    m = rec.method
    printed = ""
    if runs[m].plan.moves:
        fig = plot_plan_map(case, plan_map_data(case, runs[m]))
        printed = f"<div class='print-only'>{_figure_html(f'Plan on the map: {method_label(m)}', fig, dpi)}</div>"
    note = (
        "<p class='note screen-only'>The map shows this plan; the layers button at its top right switches to other "
        "methods' plans or the network as built; click a line, route or customer for its details.</p>"
    )
    block = map_html(case, runs, focus=m, intro=False)
    moves = f"<h3>The moves of {html.escape(m)}</h3>" + _table_html(moves_table(runs[m])) if runs[m].plan.moves else ""
    return decision_html(case, runs, rec, map_block=block, print_figure=printed, map_note=note) + moves


def _tradeoff_html(case: Case, runs: dict[str, MethodOutputs], rec: Recommendation, dpi: int) -> str:
    """The trade-off figure, what each further point costs and each method's points; a note when absent."""
    data = tradeoff_data(runs)
    if data.empty:
        return (
            f"<p class='note'>No <code>{TRADEOFF_NAME}</code> in the method folders: the cost-imbalance trade-off "
            "was not computed in this run.</p>"
        )
    methods = list(dict.fromkeys(data["method"]))
    first = rec.method if rec.method in methods else methods[0]
    words = "".join(
        f"<li><b>{html.escape(method_label(m))}.</b> {html.escape(marginal_cost_text(data, m))}</li>"
        for m in [first, *[x for x in methods if x != first]]
    )
    intro = (
        "<p>Each point is a plan that is optimal for its budget: no cheaper plan cuts the expected imbalance "
        "as much. The ringed point is the plan of this run (chosen by the case's weights); the slope to the "
        "next point is what each further point of expected imbalance costs.</p>"
    )
    fig = plot_tradeoff(data)
    tables = "".join(
        f"<details{' open' if m == first else ''}><summary>Points of {html.escape(method_label(m))}</summary>"
        f"{_table_html(slope_table(data, m))}</details>"
        for m in methods
    )
    return intro + _figure_html("Cost against expected imbalance", fig, dpi) + f"<ul class='summary'>{words}</ul>" + tables


def _comparison_html(case: Case, runs: dict[str, MethodOutputs]) -> str:
    """Table 2, how steady the schedules are, the plans in words, the moves and the per-scenario table."""
    parts = [_table_html(format_comparison(comparison_data(runs)))]
    steady = _smoothness_table(runs)
    if steady is not None:
        parts.append(
            "<h3>How steady the schedules are</h3><p class='note'>Total variation (the sum of the step-to-step changes) "
            "of each EV's power against uncontrolled charging, and of the feeders' load rates against the network as "
            "built; a pulse is one step at 3 kW or more between two steps at zero.</p>" + _table_html(steady)
        )
    parts.append("<h3>The plans in words</h3>" + _summary_html(case, runs))
    return "\n".join(parts)


def _smoothness_table(runs: dict[str, MethodOutputs]) -> pd.DataFrame | None:
    """The smoothness figures of each ``metrics.json`` (None when no method has them)."""
    if not any(k in r.metrics for r in runs.values() for k in SMOOTHNESS_LABELS):
        return None
    rows = {m: {label: format_value(r.metrics.get(k), fmt) for k, (label, fmt) in SMOOTHNESS_LABELS.items()} for m, r in runs.items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("method")


# --------------------------------------------------------------------------- words and numbers


#: ``metrics.json`` ``status`` in words (:class:`lvbalance.results.SolveStatus`).
_STATUS_WORDS = {
    "time_limit": "stopped at its time limit",
    "work_limit": "stopped at its work limit (solver.benders_max_iterations)",
    "time_limit_no_plan": "no plan found within the time limit (the plan without moves is shown)",
}


def plan_summary(runs: dict[str, MethodOutputs], method: str) -> str:
    """One paragraph saying what ``method`` does and achieves, in plain text.

    Parameters
    ----------
    runs
        Every method's files, by method id (:func:`lvbalance.report.outputs.read_run`).
    method
        The method id.

    Returns
    -------
    str
        Moves (route length [m], cost [currency]), expected and peak imbalance before and
        after [%], max line loading, solver status, MIP gap and solve time [s].
    """
    r = runs[method]
    mt, plan = r.metrics, r.plan
    e0, e1 = mt["expected_imbalance_before_pct"], mt["expected_imbalance_after_pct"]
    p0, p1 = mt["peak_imbalance_before_pct"], mt["peak_imbalance_after_pct"]
    if plan.moves:
        moves = "; ".join(
            f"{len(mv.customers)} customer(s) of end node {mv.end_node} from {mv.from_feeder} to {mv.to_feeder} "
            f"({mv.route_length_m:.0f} m of new line, cost {mv.cost:,.0f})"
            for mv in plan.moves
        )
        what = (
            f"Moves {plan.moved_customers} customer(s) in {len(plan.moves)} move(s): {moves}. "
            f"Total cost {plan.total_cost:,.0f}, {mt['route_length_m']:.0f} m of new line along streets."
        )
    else:
        what = "No move."
        why = read_why(r.folder)
        if why:
            what += f" Why: {why[0].upper()}{why[1:]}"
    rel = 100 * (e1 - e0) / e0 if e0 else 0.0
    change = f" ({rel:+.0f} %)" if abs(rel) >= 0.5 else " (no change)"
    gap = mt.get("mip_gap")
    solver = (
        f"solver status {_STATUS_WORDS.get(str(mt['status']), mt['status'])}"
        + (f", MIP gap {gap:.1%}" if isinstance(gap, float) else "")
        + f", solved in {mt['solve_time_s']:.1f} s"
    )
    text = (
        f"{what} Expected imbalance {e0:.2f} % → {e1:.2f} %{change}; "
        f"peak imbalance {p0:.2f} % → {p1:.2f} %; max line loading {mt['max_line_loading_before']:.0%} → "
        f"{mt['max_line_loading_after']:.0%}; {solver}."
    )
    if mt.get("violations"):
        text += f" {len(mt['violations'])} line rule(s) met only with penalised slack."
    return text


def moves_table(outputs: MethodOutputs) -> pd.DataFrame:
    """One row per move of ``plan.json``: customers, feeders, nodes, route length [m], cost [currency]."""
    return pd.DataFrame(
        [
            {
                "move": k + 1,
                "customers": ", ".join(mv.customers),
                "from → to feeder": f"{mv.from_feeder} → {mv.to_feeder}",
                "end node": mv.end_node,
                "cut node": mv.cut_node,
                "connected at": mv.to_node,
                "route length [m]": f"{mv.route_length_m:.0f}",
                "cost [currency]": f"{mv.cost:,.0f}",
            }
            for k, mv in enumerate(outputs.plan.moves)
        ]
    ).set_index("move")


def _summary_html(case: Case, runs: dict[str, MethodOutputs]) -> str:
    parts = ["<ul class='summary'>"]
    for m in runs:
        parts.append(f"<li><b>{html.escape(method_label(m))}.</b> {html.escape(plan_summary(runs, m))}</li>")
    parts.append("</ul>")
    moving = [m for m, r in runs.items() if r.plan.moves]
    for m in moving:
        parts.append(f"<h3>Moves of {html.escape(method_label(m))}</h3>" + _table_html(moves_table(runs[m])))
    scen = _per_scenario_table(runs)
    if scen is not None:
        parts.append("<h3>Expected imbalance per scenario [%]</h3>" + _table_html(scen))
    return "\n".join(parts)


def _per_scenario_table(runs: dict[str, MethodOutputs]) -> pd.DataFrame | None:
    """Mean imbalance per scenario, as built and after each method [%] (``metrics.json`` per_scenario)."""
    rows: dict[str, dict[str, str]] = {}
    for m, r in runs.items():
        for s in r.metrics.get("per_scenario", []):
            first = {"probability": f"{s['probability']:.3f}", "as built": f"{s['expected_imbalance_before_pct']:.2f}"}
            row = rows.setdefault(s["scenario"], first)
            if m != BASELINE:
                row[m] = f"{s['expected_imbalance_after_pct']:.2f}"
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("scenario") if rows else None


def _table_html(df: pd.DataFrame) -> str:
    """A table with its index as the first column; numbers right-aligned, text left-aligned."""
    flat = df.reset_index()

    def cell(tag: str, v: Any) -> str:
        text = str(v)
        num = bool(re.fullmatch(r"[-+0-9.,%–→ ]+", text))
        return f"<{tag}{' class=num' if num else ''}>{html.escape(text).replace(chr(10), '<br>')}</{tag}>"

    head = "".join(f"<th>{html.escape(str(c)).replace(chr(10), '<br>')}</th>" for c in flat.columns)
    rows = "".join("<tr>" + "".join(cell("td", v) for v in row) + "</tr>" for row in flat.itertuples(index=False))
    return f"<table class='data'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _section(title: str, body: str) -> str:
    return f"<section id='{_anchor(title)}'><h2>{html.escape(title)}</h2>\n{body}\n</section>"


# --------------------------------------------------------------------------- figures


def report_figures(case: Case, runs: dict[str, MethodOutputs]) -> list[tuple[str, Figure]]:
    """The report's figures with their titles, in order (Fig 9-10, 11, 12, load rates, Table 2).

    Parameters
    ----------
    case
        The case the outputs were written for.
    runs
        Every method's files, by method id (:func:`lvbalance.report.outputs.read_run`).

    Returns
    -------
    list of (str, matplotlib.figure.Figure)
        Title and figure: the plan map of every method with moves, the EV schedule with the
        largest change, imbalance over the day, feeder load rates of each method, Table 2.
    """
    figs: list[tuple[str, Figure]] = []
    planned = [m for m in runs if m != BASELINE]
    for m in planned:
        if runs[m].plan.moves:
            figs.append((f"Plan on the map: {method_label(m)}", plot_plan_map(case, plan_map_data(case, runs[m]))))
    ev = _largest_ev_change(case, runs)
    if ev is not None:
        figs.append((f"EV schedule: {method_label(ev.method)}", plot_ev_schedule(case, ev)))
    if planned:
        figs.append(("Imbalance over the day, per scenario", plot_imbalance(case, imbalance_data(case, runs))))
    for m in planned:
        figs.append((f"Feeder load rates: {method_label(m)}", plot_feeder_load_rates(case, feeder_load_rate_data(case, runs, m), m)))
    figs.append(("Comparison table", plot_comparison_table(comparison_data(runs))))
    return figs


def _largest_ev_change(case: Case, runs: dict[str, MethodOutputs]) -> EvScheduleData | None:
    """Fig 11 for the method whose most-changed EV changes most (None when no EV is rescheduled)."""
    best = None
    for r in runs.values():
        d = ev_schedule_data(case, r)
        if d is not None and d.shifted_kwh > 1e-6 and (best is None or d.shifted_kwh > best.shifted_kwh):
            best = d
    return best


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes.

    Parameters
    ----------
    fig
        The figure.
    dpi
        Resolution [dots per inch].

    Returns
    -------
    bytes
        The PNG file's content.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _figure_html(title: str, fig: Figure, dpi: int) -> str:
    data = base64.b64encode(figure_png(fig, dpi)).decode("ascii")
    t = html.escape(title)
    return f"<figure><img alt='{t}' src='data:image/png;base64,{data}'><figcaption>{t}</figcaption></figure>"
