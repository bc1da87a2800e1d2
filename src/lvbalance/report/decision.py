"""The decision the report leads with (issue 11, item 4): the recommended plan in one sentence,
its cost and gain, and a feeder legend for the map beside it.

The recommended plan is the one of the method with the lowest value of the case's own
objective, evaluated on each plan's written figures (Eq 27's main terms):
``imbalance_weight x E[I] + cost_weight x cost`` (every plan priced along streets, method m3's
too). The same weights chose each method's plan, so this compares the methods as the case
asks; the paper's method m1 wins ties. Peak-imbalance and battery-wear terms, small by
design, are left out. Everything is read from the output files (:mod:`lvbalance.report.outputs`).
"""

from __future__ import annotations

import html
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

from lvbalance.case import Case
from lvbalance.model.methods import METHODS
from lvbalance.report.fig_plan import plan_map_data
from lvbalance.report.outputs import BASELINE, MethodOutputs
from lvbalance.report.style import feeder_colours, method_label

log = logging.getLogger(__name__)

#: Preferred method on a tie of the objective (the paper's), then the order of METHODS.
PREFERRED = "m1"

#: Solver outcomes whose plans are not recommended.
FAILED = ("error", "infeasible")


@dataclass(frozen=True)
class Recommendation:
    """The recommended method and why (``score``: the objective's main terms per method [currency])."""

    method: str
    score: dict[str, float]
    imbalance_weight: float
    cost_weight: float

    def reason(self) -> str:
        """Why this method, in one or two sentences."""
        m = self.method
        if m == BASELINE:
            return "Only the network as built was planned in this run."
        others = ", ".join(f"{k} {v:,.0f}" for k, v in sorted(self.score.items(), key=lambda kv: kv[1]) if k != m)
        return (
            f"Why {m}: of the methods in this run, its plan scores lowest on the case's own objective, "
            f"{self.imbalance_weight:,.0f} per point of expected imbalance × E[I] + {self.cost_weight:g} × cost "
            f"= {self.score[m]:,.0f}" + (f" (other methods: {others})" if others else "") + ". "
            "The same weights chose each method's plan; the small peak-imbalance and battery-wear terms are left out."
        )


def recommend(case: Case, runs: dict[str, MethodOutputs]) -> Recommendation:
    """The method whose plan the report recommends (module docstring).

    Parameters
    ----------
    case
        The case (``objective.imbalance_weight`` [currency/%], ``objective.cost_weight`` [-]).
    runs
        Every method's files, by method id.

    Returns
    -------
    Recommendation
        The baseline when no other method has a usable plan.
    """
    w_imb = case.params.objective.imbalance_weight
    w_cost = case.params.objective.cost_weight
    score = {}
    for m, r in runs.items():
        mt = r.metrics
        e1 = mt.get("expected_imbalance_after_pct")
        if m == BASELINE or str(mt.get("status")) in FAILED or not isinstance(e1, int | float) or not math.isfinite(e1):
            continue
        score[m] = w_imb * float(e1) + w_cost * float(r.plan.total_cost)
    if not score:
        return Recommendation(BASELINE if BASELINE in runs else next(iter(runs)), {}, w_imb, w_cost)
    order = {m: k for k, m in enumerate([PREFERRED, *METHODS])}
    best = min(score, key=lambda m: (round(score[m], 6), order.get(m, len(order)), m))
    return Recommendation(best, score, w_imb, w_cost)


def why_no_move_text(runs: dict[str, MethodOutputs], method: str) -> str | None:
    """The ``why_no_move.json`` text of ``method``, else of the first method with moves that wrote one."""
    folders = [runs[method].folder] + [r.folder for m, r in runs.items() if m != method and METHODS.get(m) and METHODS[m].moves]
    for folder in folders:
        text = read_why(folder)
        if text:
            return text
    return None


def read_why(folder: Path) -> str | None:
    """The text of ``why_no_move.json`` in a method's folder (written when its plan moves nothing)."""
    path = folder / "why_no_move.json"
    if not path.is_file():
        return None
    try:
        text = json.loads(path.read_text(encoding="utf-8")).get("text")
    except (OSError, ValueError, AttributeError):
        log.warning("could not read %s", path)
        return None
    return str(text) if text else None


def decision_sentence(runs: dict[str, MethodOutputs], method: str) -> str:
    """The recommended plan in one sentence: who moves where, at what cost, for what gain in ``E[I]``.

    Parameters
    ----------
    runs
        Every method's files, by method id.
    method
        The recommended method.

    Returns
    -------
    str
        Plain text; costs [currency], imbalances [%] and their change [points, %].
    """
    r = runs[method]
    mt, plan = r.metrics, r.plan
    e0, e1 = float(mt["expected_imbalance_before_pct"]), float(mt["expected_imbalance_after_pct"])
    v2g = METHODS[method].v2g if method in METHODS else False
    schedule = ", and schedule EV charging and V2G discharging as planned" if v2g else ""
    gain = f"from {e0:.2f} % to {e1:.2f} % ({_change(e0, e1)})"
    if plan.moves:
        parts = [f"{len(mv.customers)} at end node {mv.end_node} from {mv.from_feeder} to {mv.to_feeder}" for mv in plan.moves]
        length = sum(mv.route_length_m for mv in plan.moves)
        n = plan.moved_customers
        return (
            f"Move {n} customer{'s' if n != 1 else ''} in {len(plan.moves)} move{'s' if len(plan.moves) != 1 else ''} "
            f"({'; '.join(parts)}), building {length:,.0f} m of new line along streets{schedule}: "
            f"for {plan.total_cost:,.0f} the expected imbalance falls {gain}."
        )
    if method == BASELINE:
        return f"Leave the network as built: the expected imbalance stays at {e0:.2f} %."
    return f"Move no customer{schedule}: at no construction cost the expected imbalance goes {gain}."


def _change(e0: float, e1: float) -> str:
    """``-2.39 points, -21 %`` (minus signs as in print)."""
    d = e1 - e0
    rel = 100 * d / e0 if e0 else 0.0
    if abs(d) < 0.005:
        return "no change"
    return f"{d:+.2f} points, {rel:+.0f} %".replace("-", "−")


def key_figures(runs: dict[str, MethodOutputs], method: str) -> list[tuple[str, str, str]]:
    """The first screen's figures: (label, value, detail) [units in the label or the value]."""
    r = runs[method]
    mt, plan = r.metrics, r.plan
    e0, e1 = float(mt["expected_imbalance_before_pct"]), float(mt["expected_imbalance_after_pct"])
    p0, p1 = float(mt["peak_imbalance_before_pct"]), float(mt["peak_imbalance_after_pct"])
    length = sum(mv.route_length_m for mv in plan.moves)
    figures = [
        ("cost", f"{plan.total_cost:,.0f}", f"{length:,.0f} m of new line" if plan.moves else "no construction"),
        ("gain in expected imbalance", f"{e0 - e1:.2f} points", f"E[I] {e0:.2f} % → {e1:.2f} %"),
        ("peak imbalance", f"{p0:.1f} % → {p1:.1f} %", "worst step of any scenario"),
    ]
    if plan.moves:
        figures.append(("customers moved", f"{plan.moved_customers}", f"in {len(plan.moves)} move{'s' if len(plan.moves) != 1 else ''}"))
    lo0, lo1 = mt.get("max_line_loading_before"), mt.get("max_line_loading_after")
    if isinstance(lo0, int | float) and isinstance(lo1, int | float):
        figures.append(("highest line loading", f"{lo0:.0%} → {lo1:.0%}", "of rating, over all steps"))
    if plan.moves and e0 > e1:
        figures.append(("cost per point of E[I]", f"{plan.total_cost / (e0 - e1):,.0f}", "average over the plan's cut"))
    return figures


def feeder_legend_html(case: Case, outputs: MethodOutputs) -> str:
    """The map's legend: each feeder's colour with its customers as built → after the plan, and the symbols."""
    d = plan_map_data(case, outputs)
    before = d.customers["feeder_before"].value_counts()
    after = d.customers["feeder_after"].value_counts()
    items = []
    for f, colour in feeder_colours(case).items():
        b, a = int(before.get(f, 0)), int(after.get(f, 0))
        count = f"{b} customers" if a == b else f"{b} → {a} customers"
        items.append(f"<li><span class='swatch' style='background:{colour}'></span><b>{html.escape(f)}</b> {count}</li>")
    symbols = (
        "<li><span class='sym newline'></span>new line (new feeder's colour)</li>"
        "<li><span class='sym cut'></span>line cut by a move</li>"
        "<li><span class='sym moved'></span>moved customer (filled in its feeder's colour as built)</li>"
    )
    return f"<ul class='legend'>{''.join(items)}{symbols if outputs.plan.moves else ''}</ul>"


def decision_html(
    case: Case, runs: dict[str, MethodOutputs], rec: Recommendation, *, map_block: str, print_figure: str, map_note: str = ""
) -> str:
    """The first screen: sentence, figures, why this method, map with legend, the moves.

    Parameters
    ----------
    case
        The case.
    runs
        Every method's files, by method id.
    rec
        From :func:`recommend`.
    map_block
        The interactive map's HTML (hidden in print).
    print_figure
        HTML of a static plan figure shown in print instead of the map ('' for none).
    map_note
        HTML below the map's legend.

    Returns
    -------
    str
        HTML of the section's body.
    """
    m = rec.method
    sentence = decision_sentence(runs, m)
    why = why_no_move_text(runs, m) if not runs[m].plan.moves and m != BASELINE else None
    cards = "".join(
        f"<div class='card'><div class='label'>{html.escape(label)}</div><div class='value'>{html.escape(value)}</div>"
        f"<div class='detail'>{html.escape(detail)}</div></div>"
        for label, value, detail in key_figures(runs, m)
    )
    status = runs[m].metrics.get("status")
    gap = runs[m].metrics.get("mip_gap")
    solver = ""
    if status and status != "optimal":
        solver = f" The solve of {m} stopped at its time limit" + (f" with a MIP gap of {gap:.1%}" if isinstance(gap, float) else "") + "."
    parts = [
        "<div class='decision'><div class='decision-text'>",
        f"<p class='method'>Method {html.escape(method_label(m))}</p>",
        f"<p class='sentence'>{html.escape(sentence)}</p>",
    ]
    if why:
        parts.append(f"<p class='why'><b>Why no customer moves:</b> {html.escape(why[0].upper() + why[1:])}</p>")
    parts += [
        f"<div class='cards'>{cards}</div>",
        f"<p class='note'>{html.escape(rec.reason() + solver)} Costs in the case's currency.</p>",
        "</div><div class='decision-map'>",
        map_block,
        print_figure,
        feeder_legend_html(case, runs[m]),
        map_note,
        "</div></div>",
    ]
    return "".join(parts)
