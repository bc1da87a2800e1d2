"""One self-contained ``report.html`` for a written output folder (DESIGN.md, "Outputs").

The report says the plan in words and numbers, shows the comparison table (Table 2), the
tables of the evaluation when written, the interactive map of :mod:`lvbalance.report.map`
and the figures (:mod:`lvbalance.report.fig_plan`, :mod:`~lvbalance.report.fig_schedules`,
:mod:`~lvbalance.report.fig_loads`, :mod:`~lvbalance.report.comparison`) as embedded PNG.
Everything is read back from the output files and the case.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import logging
import re
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from lvbalance.case import Case
from lvbalance.report.comparison import comparison_data, format_comparison, plot_comparison_table
from lvbalance.report.fig_loads import feeder_load_rate_data, imbalance_data, plot_feeder_load_rates, plot_imbalance
from lvbalance.report.fig_plan import plan_map_data, plot_plan_map
from lvbalance.report.fig_schedules import EvScheduleData, ev_schedule_data, plot_ev_schedule
from lvbalance.report.map import leaflet_source, map_html
from lvbalance.report.outputs import BASELINE, MethodOutputs, read_run
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


def _evaluation_sections(out_dir: Path | None) -> list[tuple[str, str]]:
    """Tables the pipeline's evaluation wrote next to the method folders, when present."""
    if out_dir is None:
        return []
    out = []
    texts = {
        "ac_check.csv": (
            "AC power-flow check (pandapower)",
            "The MILP ignores losses and voltage; every scenario and step is run as an AC power flow "
            "on the network as built (uncontrolled charging) and after each plan (scheduled EVs). "
            "New lines get the smallest standard cable that carries their load.",
        ),
        "out_of_sample.csv": (
            "Out-of-sample evaluation on held-out days",
            "Each method's moves are kept fixed and only the EV schedule is re-optimised on every "
            "held-out day of real meter data; the daily imbalance is compared with the network as built.",
        ),
    }
    for name, (title, intro) in texts.items():
        path = out_dir / name
        if path.is_file():
            df = pd.read_csv(path, index_col=0)
            shown = df.map(lambda v: f"{v:,.3f}" if isinstance(v, float) else v)
            out.append((title, f"<p>{html.escape(intro)}</p>" + _table_html(shown)))
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
        The page: sections, tables, the map in an iframe and the figures as data URIs.
    """
    comparison = comparison_data(runs)
    sections = [
        _section("Comparison of the methods (Table 2)", _table_html(format_comparison(comparison))),
        _section("The plans in words", _summary_html(case, runs)),
        _section("Map", map_html(case, runs)),
        _section("Figures", "".join(_figure_html(title, fig, dpi) for title, fig in report_figures(case, runs))),
    ]
    sections[2:2] = [_section(title, body) for title, body in _evaluation_sections(out_dir)]
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return _PAGE.format(
        title=html.escape(f"lvbalance report: {case.name}"),
        style=_STYLE,
        name=html.escape(case.name),
        meta=html.escape(
            f"{len(case.network.feeder_outlets)} feeders, {len(case.customers)} customers "
            f"({len(case.ev_customers)} with an EV), CRS {case.crs}; generated {now}"
        ),
        body="\n".join(sections),
        leaflet_note=html.escape(leaflet_source()[2]),
    )


# --------------------------------------------------------------------------- words and numbers


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
        why = _why_no_move(r.folder)
        if why:
            what += f" Why: {why[0].upper()}{why[1:]}"
    rel = 100 * (e1 - e0) / e0 if e0 else 0.0
    change = f" ({rel:+.0f} %)" if abs(rel) >= 0.5 else " (no change)"
    gap = mt.get("mip_gap")
    solver = (
        f"solver status {mt['status']}"
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


def _why_no_move(folder: Path) -> str | None:
    """The text of ``why_no_move.json`` in a method's folder (written when its plan moves nothing)."""
    path = folder / "why_no_move.json"
    if not path.is_file():
        return None
    try:
        text = json.loads(path.read_text(encoding="utf-8")).get("text")
    except (OSError, ValueError):
        log.warning("could not read %s", path)
        return None
    return str(text) if text else None


def _summary_html(case: Case, runs: dict[str, MethodOutputs]) -> str:
    parts = ["<ul class='summary'>"]
    for m in runs:
        parts.append(f"<li><b>{html.escape(method_label(m))}.</b> {html.escape(plan_summary(runs, m))}</li>")
    parts.append("</ul>")
    moving = [m for m, r in runs.items() if r.plan.moves]
    for m in moving:
        rows = pd.DataFrame(
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
                for k, mv in enumerate(runs[m].plan.moves)
            ]
        ).set_index("move")
        parts.append(f"<h3>Moves of {html.escape(method_label(m))}</h3>" + _table_html(rows))
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


def _section(title: str, body: str) -> str:
    anchor = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return f"<section id='{anchor}'><h2>{html.escape(title)}</h2>\n{body}\n</section>"


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


_STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 0 auto; max-width: 1320px; padding: 1em 2em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.1em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
.meta, .note, footer { color: #555; font-size: 0.92em; }
ul.summary li { margin-bottom: 0.6em; }
table.data { border-collapse: collapse; font-size: 0.9em; margin: 0.6em 0 1.2em; }
table.data th, table.data td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
table.data td.num { text-align: right; white-space: nowrap; }
table.data thead th { background: #f0f0f0; }
table.data tbody tr:nth-child(even) { background: #fafafa; }
iframe.map { width: 100%; height: 640px; border: 1px solid #bbb; }
figure { margin: 1.4em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-weight: 600; color: #333; margin-top: 0.3em; }
"""  # noqa: E501 (the body rule is one CSS line)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<h1>{name}</h1>
<p class="meta">{meta}</p>
{body}
<footer><p>lvbalance report; every number and figure is read from the output files beside this report. {leaflet_note}.</p></footer>
</body>
</html>
"""
