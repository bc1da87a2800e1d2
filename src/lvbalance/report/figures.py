"""Figures of a written plan (the paper's Fig 9-12 and Table 2), drawn from the output files.

Each figure is two calls: a pure ``..._data`` function that takes the case and the files
read by :mod:`lvbalance.report.outputs` and returns exactly the numbers drawn, and a
``plot_...`` function that draws them. Figures are built without pyplot (no global
state); the time axis is clock time from the horizon start (``profiles.horizon_start_hour``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib import colormaps, patheffects
from matplotlib.collections import LineCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from lvbalance.case import Case
from lvbalance.evaluate import rewire
from lvbalance.report.outputs import (
    BASELINE,
    MethodOutputs,
    before_feeder_loads,
    feeder_order,
    hours_since_start,
    imbalance_pct,
    step_hours,
)

#: Colour of each method's line in the comparison figures.
METHOD_COLOURS = {"before": "black", "baseline": "black", "m1": "#1f77b4", "m2": "#ff7f0e", "m3": "#2ca02c", "v2g_only": "#9467bd"}


def feeder_colours(case: Case) -> dict[str, str]:
    """One colour per feeder (tab10 in feeder order), the same on every figure and the map."""
    cmap = colormaps["tab10"]
    return {f: to_hex(cmap(k % 10)) for k, f in enumerate(feeder_order(case))}


def method_label(method: str) -> str:
    """``m1 (streets + V2G (the paper's method))`` for a known method id, else the id."""
    from lvbalance.model.methods import METHODS

    return f"{method}: {METHODS[method].name}" if method in METHODS else method


def _clock_axis(ax, case: Case, n_steps: int) -> None:
    """x axis: hours since the horizon start, labelled with clock time every 4 h."""
    start = case.params.profiles.horizon_start_hour
    span = n_steps * step_hours(case)
    ticks = np.arange(0, span + 1e-9, 4)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{int(start + t) % 24:02d}:{round((t % 1) * 60):02d}" for t in ticks])
    ax.set_xlim(0, span)
    ax.set_xlabel("clock time [hh:mm]")
    ax.grid(alpha=0.3)


def _stairs_x(hours: np.ndarray, case: Case) -> np.ndarray:
    return np.append(hours, hours[-1] + step_hours(case)) if len(hours) else hours


# --------------------------------------------------------------------------- Fig 9-10: the plan on the map


@dataclass(frozen=True)
class PlanMapData:
    """What the plan map draws, in the case CRS [m].

    ``lines``: index ``line_id``; ``feeder_before``, ``feeder_after`` (None: cut by a move),
    ``in_service``, ``xy`` (array of vertices).
    ``customers``: index ``customer_id``; ``x``, ``y``, ``type``, ``feeder_before``,
    ``feeder_after``, ``moved``.
    ``routes``: one row per move (``move`` numbered from 1): ``end_node``, ``cut_node``,
    ``to_node``, ``customers`` (list), ``from_feeder``, ``to_feeder``, ``route_length_m``,
    ``cost`` [currency], ``xy`` (the route of ``plan.json``).
    ``busbar_xy``: busbar position.
    """

    method: str
    lines: pd.DataFrame
    customers: pd.DataFrame
    routes: pd.DataFrame
    busbar_xy: np.ndarray


def plan_map_data(case: Case, outputs: MethodOutputs) -> PlanMapData:
    """Feeder of every line and customer before and after the moves of ``plan.json``; the new routes."""
    net = case.network
    moves = outputs.plan.moves
    topo = rewire(case, moves)
    before = net.feeder_of_node
    cut = {(net.parent.at[mv.cut_node, "parent_node"], mv.cut_node) for mv in moves}
    node_xy = net.nodes[["x", "y"]].astype(float)
    rows = []
    for line_id, r in net.lines.iterrows():
        a, b = r["from_node"], r["to_node"]
        child = b if a == net.busbar else a if b == net.busbar else b
        out_of_service = (a, b) in cut or (b, a) in cut
        geom = net.line_geometry.get(line_id)
        xy = np.asarray(geom.coords, float)[:, :2] if geom is not None else node_xy.loc[[a, b]].to_numpy()
        rows.append({
            "line_id": line_id, "feeder_before": before.get(child),
            "feeder_after": None if out_of_service else topo.feeder.get(child),
            "in_service": not out_of_service, "xy": xy,
        })
    lines = pd.DataFrame(rows).set_index("line_id")
    moved = {c for mv in moves for c in mv.customers}
    cust = case.customers[["x", "y", "type", "node_id"]].copy()
    cust["x"] = cust["x"].astype(float)
    cust["y"] = cust["y"].astype(float)
    cust["feeder_before"] = cust["node_id"].map(before)
    cust["feeder_after"] = cust["node_id"].map(topo.feeder)
    cust["moved"] = cust.index.isin(list(moved))
    routes = pd.DataFrame(
        [{
            "move": k + 1, "end_node": mv.end_node, "cut_node": mv.cut_node, "to_node": mv.to_node,
            "customers": list(mv.customers), "from_feeder": mv.from_feeder, "to_feeder": mv.to_feeder,
            "route_length_m": float(mv.route_length_m), "cost": float(mv.cost),
            "xy": np.asarray(mv.route, float).reshape(-1, 2),
        } for k, mv in enumerate(moves)],
        columns=["move", "end_node", "cut_node", "to_node", "customers", "from_feeder", "to_feeder", "route_length_m", "cost", "xy"],
    )
    return PlanMapData(outputs.method, lines, cust.drop(columns="node_id"), routes, node_xy.loc[net.busbar].to_numpy())


def plot_plan_map(case: Case, data: PlanMapData, *, margin_m: float = 30.0) -> Figure:
    """Fig 9-10: the area as built (left) and after the moves (right), feeders in colours.

    After the moves, lines cut by a move are dashed with a cross, moved customers ringed
    and the new lines drawn bold along their street route in the new feeder's colour,
    numbered as in ``plan.json``. Coordinates are metres from the busbar.
    """
    colours = feeder_colours(case)
    o = data.busbar_xy
    pts = np.vstack([np.vstack(list(data.lines["xy"])), data.customers[["x", "y"]].to_numpy()]) - o
    span = pts.max(axis=0) - pts.min(axis=0) + 2 * margin_m
    panel_w = 7.4
    fig = Figure(figsize=(2 * panel_w, min(panel_w * span[1] / span[0], 9.0) + 1.9), layout="constrained")
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    streets = [np.asarray(g.coords, float)[:, :2] - o for g in case.streets.segments.geometry]
    for ax, when in zip(axes, ("before", "after")):
        col = f"feeder_{when}"
        ax.add_collection(LineCollection(streets, colors="0.85", linewidths=3.0, zorder=1))
        for f, c in colours.items():
            segs = [xy - o for xy in data.lines.loc[data.lines[col] == f, "xy"]]
            ax.add_collection(LineCollection(segs, colors=[c], linewidths=1.8, zorder=3))
        cust = data.customers
        ax.scatter(cust["x"] - o[0], cust["y"] - o[1], s=16, c=cust[col].map(colours).fillna("0.5"), edgecolor="none", zorder=4)
        mv = cust[cust["moved"]]
        ax.scatter(mv["x"] - o[0], mv["y"] - o[1], s=110, facecolor="none", edgecolor="black", linewidths=1.4, zorder=7)
        ax.scatter(0, 0, marker="s", s=110, color="black", zorder=9)
        ax.annotate("busbar", (0, 0), xytext=(7, -14), textcoords="offset points", fontsize=10, weight="bold", zorder=10)
        ax.set_aspect("equal")
        ax.set_xlabel("x from busbar [m]")
    axes[0].set_ylabel("y from busbar [m]")
    ax = axes[1]
    cut = [xy - o for xy in data.lines.loc[~data.lines["in_service"], "xy"]]
    ax.add_collection(LineCollection(cut, colors="0.2", linewidths=1.8, linestyles=(0, (2, 2)), zorder=3))
    for cut_xy in cut:
        mid = cut_xy[len(cut_xy) // 2] if len(cut_xy) > 2 else cut_xy.mean(axis=0)
        ax.scatter(*mid, marker="x", s=80, color="black", linewidths=2.2, zorder=6)
    for _, r in data.routes.iterrows():
        xy = r["xy"] - o
        ax.plot(xy[:, 0], xy[:, 1], color=colours.get(r["to_feeder"], "crimson"), lw=4.0, zorder=8, solid_capstyle="round",
                path_effects=[patheffects.Stroke(linewidth=6.5, foreground="black"), patheffects.Normal()])
        ax.annotate(str(r["move"]), xy[len(xy) // 2], xytext=(8, 8), textcoords="offset points", fontsize=11, weight="bold", zorder=10,
                    bbox={"boxstyle": "circle,pad=0.25", "facecolor": "white", "edgecolor": "black"})
    _set_extent(axes[0], pts, margin_m)
    n_moved = int(data.customers["moved"].sum())
    axes[0].set_title("as built" + (" (customers to be moved ringed)" if n_moved else ""), fontsize=11)
    axes[1].set_title(f"after the moves: {len(data.routes)} move(s), {n_moved} customer(s) moved", fontsize=11)
    if len(data.routes):
        text = [f"{r['move']}: {len(r['customers'])} customer(s) {r['from_feeder']} \u2192 {r['to_feeder']}, "
                f"{r['route_length_m']:.0f} m, cost {r['cost']:,.0f}" for _, r in data.routes.iterrows()]
        axes[1].text(0.01, 0.01, "\n".join(text), transform=axes[1].transAxes, fontsize=9, va="bottom", ha="left", zorder=11,
                     bbox={"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": "0.6", "alpha": 0.92})
    handles = [Line2D([], [], color="0.85", lw=3, label="street")]
    handles += [Line2D([], [], color=c, lw=1.8, marker="o", ms=4, label=f"feeder {f}") for f, c in colours.items()]
    handles += [
        Line2D([], [], color="0.2", lw=1.8, ls=(0, (2, 2)), marker="x", mec="black", ms=8, label="line cut by a move"),
        Line2D([], [], ls="none", marker="o", mfc="none", mec="black", ms=10, label="moved customer"),
        Line2D([], [], color="0.5", lw=4, path_effects=[patheffects.Stroke(linewidth=6.5, foreground="black"), patheffects.Normal()],
               label="new line along streets (colour: new feeder)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 5), fontsize=9)
    fig.suptitle(f"Plan of {method_label(data.method)}", fontsize=12)
    return fig


def _set_extent(ax, pts: np.ndarray, margin_m: float) -> None:
    lo, hi = pts.min(axis=0) - margin_m, pts.max(axis=0) + margin_m
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])


# --------------------------------------------------------------------------- Fig 11: one EV's schedule


@dataclass(frozen=True)
class EvScheduleData:
    """One EV in one scenario: ``table`` has ``step``, ``hour`` (since the horizon start),
    ``p_uncontrolled_kw``, ``p_scheduled_kw`` (from ``schedules.csv``; charging positive,
    V2G discharging negative), ``area_load_kw`` (sum of ``feeder_loads.csv`` of the method)
    and ``area_load_uncontrolled_kw`` (the same with every EV uncontrolled).
    ``shifted_kwh``: sum over steps of |scheduled - uncontrolled| x step length.
    """

    method: str
    customer_id: str
    scenario: str
    probability: float
    shifted_kwh: float
    table: pd.DataFrame


def ev_schedule_data(case: Case, outputs: MethodOutputs, *, customer_id: str | None = None, scenario: str | None = None) -> EvScheduleData | None:
    """The EV (and scenario) whose schedule differs most from uncontrolled charging; None without EVs."""
    s = outputs.schedules
    if s.empty:
        return None
    dt = step_hours(case)
    change = (s["p_scheduled_kw"] - s["p_uncontrolled_kw"]).abs().groupby([s["customer_id"], s["scenario"]], sort=False).sum() * dt
    pick = change
    if customer_id is not None:
        pick = pick[pick.index.get_level_values(0) == customer_id]
    if scenario is not None:
        pick = pick[pick.index.get_level_values(1) == scenario]
    if pick.empty:
        raise ValueError(f"no schedule for customer {customer_id!r} in scenario {scenario!r} in {outputs.folder}")
    cid, scen = pick.idxmax()
    mine = s[(s["customer_id"] == cid) & (s["scenario"] == scen)].sort_values("step")
    loads = outputs.feeder_loads[outputs.feeder_loads["scenario"] == scen]
    area = loads.groupby("step")["p_kw"].sum()
    ev_delta = s[s["scenario"] == scen].assign(d=lambda d: d["p_scheduled_kw"] - d["p_uncontrolled_kw"]).groupby("step")["d"].sum()
    steps = mine["step"].to_numpy()
    table = pd.DataFrame({
        "step": steps,
        "hour": hours_since_start(case, steps),
        "p_uncontrolled_kw": mine["p_uncontrolled_kw"].to_numpy(float),
        "p_scheduled_kw": mine["p_scheduled_kw"].to_numpy(float),
        "area_load_kw": area.reindex(steps).to_numpy(float),
        "area_load_uncontrolled_kw": (area - ev_delta.reindex(area.index, fill_value=0.0)).reindex(steps).to_numpy(float),
    })
    prob = float(outputs.scenarios.loc[scen, "probability"]) if scen in outputs.scenarios.index else float("nan")
    return EvScheduleData(outputs.method, str(cid), str(scen), prob, float(pick.max()), table)


def plot_ev_schedule(case: Case, data: EvScheduleData) -> Figure:
    """Fig 11: the EV's uncontrolled and scheduled power (top) and the area load with both (bottom)."""
    t = data.table
    x = _stairs_x(t["hour"].to_numpy(), case)
    fig = Figure(figsize=(12, 7), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.stairs(t["p_uncontrolled_kw"], x, baseline=None, color="0.35", lw=1.8, ls="--", label="uncontrolled charging")
    top.stairs(t["p_scheduled_kw"], x, baseline=0, fill=True, color="#1f77b4", alpha=0.35)
    top.stairs(t["p_scheduled_kw"], x, baseline=None, color="#1f77b4", lw=2.0, label="scheduled (V2G: negative = to the grid)")
    top.axhline(0, color="black", lw=0.8)
    top.set_ylabel("EV power [kW]")
    top.set_title(f"EV {data.customer_id}, scenario {data.scenario} (probability {data.probability:.2f}): "
                  f"{data.shifted_kwh:.1f} kWh shifted", fontsize=11)
    top.legend(loc="upper right", fontsize=9)
    bottom.stairs(t["area_load_uncontrolled_kw"], x, baseline=None, color="0.35", lw=1.8, ls="--", label="area load, all EVs uncontrolled")
    bottom.stairs(t["area_load_kw"], x, baseline=None, color="#d62728", lw=2.0, label="area load, EVs scheduled")
    bottom.set_ylabel("area load [kW]")
    bottom.legend(loc="upper right", fontsize=9)
    for ax in (top, bottom):
        _clock_axis(ax, case, len(t))
    top.set_xlabel("")
    fig.suptitle(f"{method_label(data.method)}: EV schedule with the largest change", fontsize=12)
    return fig


# --------------------------------------------------------------------------- Fig 12: imbalance over the day


def imbalance_data(case: Case, runs: dict[str, MethodOutputs]) -> pd.DataFrame:
    """Eq 14 over the day, per scenario: as built (``before``) and after each non-baseline method [%].

    Long table: ``scenario``, ``probability``, ``step``, ``hour``, ``series`` (``before`` or a
    method id), ``imbalance_pct``. ``before`` comes from the baseline folder's
    ``feeder_loads.csv`` (or, without one, from ``profiles.csv`` on the as-built feeders).
    """
    scenarios = next(iter(runs.values())).scenarios
    parts = [("before", imbalance_pct(before_feeder_loads(case, runs)))]
    parts += [(m, imbalance_pct(r.feeder_loads)) for m, r in runs.items() if m != BASELINE]
    frames = []
    for series, imb in parts:
        df = imb.rename("imbalance_pct").reset_index()
        df.insert(0, "series", series)
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out["probability"] = out["scenario"].map(scenarios["probability"]).astype(float)
    out["hour"] = hours_since_start(case, out["step"])
    order = {s: k for k, s in enumerate(scenarios.index)}
    out = out.sort_values(["scenario", "series", "step"], key=lambda c: c.map(order) if c.name == "scenario" else c, kind="stable")
    return out[["scenario", "probability", "step", "hour", "series", "imbalance_pct"]].reset_index(drop=True)


def plot_imbalance(case: Case, data: pd.DataFrame) -> Figure:
    """Fig 12: one panel per scenario, imbalance before (black) and after each method [%]."""
    scenarios = list(dict.fromkeys(data["scenario"]))
    ncol = 2 if len(scenarios) > 1 else 1
    nrow = -(-len(scenarios) // ncol)
    fig = Figure(figsize=(13, 3.1 * nrow + 0.8), layout="constrained")
    axes = fig.subplots(nrow, ncol, squeeze=False, sharex=True, sharey=True).ravel()
    for ax in axes[len(scenarios):]:
        ax.set_visible(False)
    top = float(data["imbalance_pct"].max()) if len(data) else 1.0
    for k, (ax, scen) in enumerate(zip(axes, scenarios)):
        d = data[data["scenario"] == scen]
        for series, g in d.groupby("series", sort=False):
            x = _stairs_x(g["hour"].to_numpy(), case)
            before = series == "before"
            ax.stairs(g["imbalance_pct"], x, baseline=None, color=METHOD_COLOURS.get(series, None), lw=2.4 if before else 1.3,
                      ls="--" if before else "-", zorder=3 if before else 2)
        ax.set_title(f"scenario {scen} (probability {d['probability'].iloc[0]:.2f})", fontsize=10)
        ax.set_ylabel("imbalance [%]")
        ax.set_ylim(0, top * 1.08)
        _clock_axis(ax, case, d["step"].nunique())
        if k < len(scenarios) - ncol:
            ax.set_xlabel("")
    handles = [Line2D([], [], color=METHOD_COLOURS.get(s), lw=2.2 if s == "before" else 1.6, ls="--" if s == "before" else "-",
                      label="as built (no move, uncontrolled charging)" if s == "before" else method_label(s))
               for s in dict.fromkeys(data["series"])]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 3), fontsize=9)
    fig.suptitle("Imbalance over the day (max - min feeder load rate, Eq 14)", fontsize=12)
    return fig


# --------------------------------------------------------------------------- feeder load rates over the day


def feeder_load_rate_data(case: Case, runs: dict[str, MethodOutputs], method: str, *, scenario: str | None = None) -> pd.DataFrame:
    """Each feeder's load rate over the day, as built and after ``method`` [%], in one scenario.

    Columns ``scenario``, ``step``, ``hour``, ``feeder``, ``load_rate_before_pct``,
    ``load_rate_after_pct`` (100 x ``load_rate`` of the files). Default scenario: the most probable.
    """
    after = runs[method].feeder_loads
    if scenario is None:
        scenario = str(runs[method].scenarios["probability"].idxmax())
    before = before_feeder_loads(case, runs)
    key = ["scenario", "step", "feeder"]
    b = before[before["scenario"] == scenario].set_index(key)["load_rate"]
    a = after[after["scenario"] == scenario].set_index(key)["load_rate"]
    out = pd.DataFrame({"load_rate_before_pct": 100 * b, "load_rate_after_pct": 100 * a.reindex(b.index)}).reset_index()
    order = {f: k for k, f in enumerate(feeder_order(case))}
    out = out.sort_values(["feeder", "step"], key=lambda c: c.map(order) if c.name == "feeder" else c, kind="stable")
    out.insert(2, "hour", hours_since_start(case, out["step"]))
    return out.reset_index(drop=True)


def plot_feeder_load_rates(case: Case, data: pd.DataFrame, method: str) -> Figure:
    """Feeder load rates over the day: as built (left) and after ``method`` (right), same scale [%]."""
    colours = feeder_colours(case)
    fig = Figure(figsize=(13, 4.8), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, col, title in zip(axes, ("load_rate_before_pct", "load_rate_after_pct"), ("as built", f"after {method}")):
        wide = data.pivot(index="hour", columns="feeder", values=col)
        x = _stairs_x(wide.index.to_numpy(), case)
        ax.stairs(wide.max(axis=1), x, baseline=wide.min(axis=1).to_numpy(), fill=True, color="0.85")
        for f in wide.columns:
            ax.stairs(wide[f], x, baseline=None, color=colours[f], lw=1.8)
        spread = (wide.max(axis=1) - wide.min(axis=1)).mean()
        ax.set_title(f"{title}: mean spread {spread:.1f} points", fontsize=11)
        _clock_axis(ax, case, len(wide))
    axes[0].set_ylabel("feeder load rate [% of outlet rating]")
    handles = [Line2D([], [], color=colours[f], lw=1.8, label=f"feeder {f}") for f in data["feeder"].unique()]
    handles.append(Patch(color="0.85", label="spread between feeders = imbalance"))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=9)
    fig.suptitle(f"Feeder load rates, scenario {data['scenario'].iloc[0]}: {method_label(method)}", fontsize=12)
    return fig


# --------------------------------------------------------------------------- Table 2


#: Columns of the Table-2 figure: (comparison.csv column(s), header, format).
TABLE_COLUMNS = (
    ("method", "method", "{}"),
    (("expected_imbalance_before_pct", "expected_imbalance_after_pct"), "expected imbalance\nbefore → after [%]", "{:.2f} → {:.2f}"),
    (("peak_imbalance_before_pct", "peak_imbalance_after_pct"), "peak imbalance\nbefore → after [%]", "{:.2f} → {:.2f}"),
    ("moved_customers", "moved\ncustomers", "{:.0f}"),
    ("route_length_m", "new line\n[m]", "{:,.0f}"),
    ("cost", "cost\n[currency]", "{:,.0f}"),
    ("solve_time_s", "solve time\n[s]", "{:.1f}"),
    ("mip_gap", "MIP gap\n[%]", "{:.1%}"),
)


def comparison_data(runs: dict[str, MethodOutputs]) -> pd.DataFrame:
    """Table 2 from the files: ``comparison.csv`` beside the method folders, else each ``metrics.json``.

    Index ``id`` (method id); columns as in ``comparison.csv``.
    """
    first = next(iter(runs.values())).folder
    path = first.parent / "comparison.csv"
    if len(runs) > 1 and path.is_file():
        df = pd.read_csv(path, dtype={"id": str}).set_index("id")
        return df.loc[[m for m in runs if m in df.index]]
    rows = {}
    for m, r in runs.items():
        mt = r.metrics
        rows[m] = {
            "method": method_label(m).split(": ", 1)[-1],
            **{k: mt[k] for k in ("expected_imbalance_before_pct", "expected_imbalance_after_pct", "peak_imbalance_before_pct",
                                  "peak_imbalance_after_pct", "moved_customers", "route_length_m", "build_time_s", "solve_time_s", "mip_gap")},
            "cost": mt["total_cost"],
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("id")


def format_comparison(data: pd.DataFrame) -> pd.DataFrame:
    """The Table-2 cells as text (headers with units); missing numbers shown as '–'."""
    cells = {}
    for cols, header, fmt in TABLE_COLUMNS:
        cols = (cols,) if isinstance(cols, str) else cols
        if not all(c in data.columns for c in cols):
            continue

        def cell(row, cols=cols, fmt=fmt) -> str:
            vals = [row[c] for c in cols]
            if any(isinstance(v, float) and not np.isfinite(v) for v in vals) or any(pd.isna(v) for v in vals):
                return "–"
            return fmt.format(*vals)

        cells[header] = data.apply(cell, axis=1)
    out = pd.DataFrame(cells, index=data.index)
    out.index.name = "id"
    return out


def plot_comparison_table(data: pd.DataFrame) -> Figure:
    """Table 2 as a figure: one row per method, numbers of ``comparison.csv``."""
    cells = format_comparison(data)
    fig = Figure(figsize=(14, 0.55 * len(cells) + 1.4), layout="constrained")
    ax = fig.subplots()
    ax.axis("off")
    table = ax.table(cellText=cells.reset_index().to_numpy(), colLabels=["id", *cells.columns], loc="center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(10)
    table.auto_set_column_width(list(range(len(cells.columns) + 1)))
    for (row, _col), cell in table.get_celld().items():
        cell.set_height(0.8 / (len(cells) + 1.6) if row else 1.4 / (len(cells) + 1.6))
        if row == 0:
            cell.set_facecolor("#e8e8e8")
            cell.set_text_props(weight="bold")
    ax.set_title("Comparison of the methods (Table 2)", fontsize=12)
    return fig
