"""Fig 9-10 of the paper: the plan on the map, as built and after the moves.

:func:`plan_map_data` takes the case and one method's files (read by
:mod:`lvbalance.report.outputs`) and returns exactly what is drawn; :func:`plot_plan_map`
draws it. The interactive map (:mod:`lvbalance.report.map`) uses the same data. The tree
after the moves comes from :func:`lvbalance.flows.rewire`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from lvbalance.case import Case
from lvbalance.flows import rewire
from lvbalance.report.outputs import MethodOutputs
from lvbalance.report.style import feeder_colours, method_label


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
    """Feeder of every line and customer before and after the moves of ``plan.json``; the new routes.

    Parameters
    ----------
    case
        The case the plan was made for.
    outputs
        One method's files (its ``plan.json`` moves).

    Returns
    -------
    PlanMapData
        Lines, customers and routes with coordinates in the case CRS [m].
    """
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
        rows.append(
            {
                "line_id": line_id,
                "feeder_before": before.get(child),
                "feeder_after": None if out_of_service else topo.feeder.get(child),
                "in_service": not out_of_service,
                "xy": xy,
            }
        )
    lines = pd.DataFrame(rows).set_index("line_id")
    moved = {c for mv in moves for c in mv.customers}
    cust = case.customers[["x", "y", "type", "node_id"]].copy()
    cust["x"] = cust["x"].astype(float)
    cust["y"] = cust["y"].astype(float)
    cust["feeder_before"] = cust["node_id"].map(before)
    cust["feeder_after"] = cust["node_id"].map(topo.feeder)
    cust["moved"] = cust.index.isin(list(moved))
    routes = pd.DataFrame(
        [
            {
                "move": k + 1,
                "end_node": mv.end_node,
                "cut_node": mv.cut_node,
                "to_node": mv.to_node,
                "customers": list(mv.customers),
                "from_feeder": mv.from_feeder,
                "to_feeder": mv.to_feeder,
                "route_length_m": float(mv.route_length_m),
                "cost": float(mv.cost),
                "xy": np.asarray(mv.route, float).reshape(-1, 2),
            }
            for k, mv in enumerate(moves)
        ],
        columns=["move", "end_node", "cut_node", "to_node", "customers", "from_feeder", "to_feeder", "route_length_m", "cost", "xy"],
    )
    return PlanMapData(outputs.method, lines, cust.drop(columns="node_id"), routes, node_xy.loc[net.busbar].to_numpy())


def plot_plan_map(case: Case, data: PlanMapData, *, margin_m: float = 30.0) -> Figure:
    """Fig 9-10: the area as built (left) and after the moves (right), feeders in colours.

    After the moves, lines cut by a move are dashed with a cross, moved customers ringed
    and the new lines drawn bold along their street route in the new feeder's colour,
    numbered as in ``plan.json``. Coordinates are metres from the busbar.

    Parameters
    ----------
    case
        The case (streets, feeder colours).
    data
        From :func:`plan_map_data`.
    margin_m
        Space around the network and customers [m].

    Returns
    -------
    matplotlib.figure.Figure
        Two panels side by side, a legend below.
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
        ax.plot(
            xy[:, 0],
            xy[:, 1],
            color=colours.get(r["to_feeder"], "crimson"),
            lw=4.0,
            zorder=8,
            solid_capstyle="round",
            path_effects=[patheffects.Stroke(linewidth=6.5, foreground="black"), patheffects.Normal()],
        )
        ax.annotate(
            str(r["move"]),
            xy[len(xy) // 2],
            xytext=(8, 8),
            textcoords="offset points",
            fontsize=11,
            weight="bold",
            zorder=10,
            bbox={"boxstyle": "circle,pad=0.25", "facecolor": "white", "edgecolor": "black"},
        )
    _set_extent(axes[0], pts, margin_m)
    n_moved = int(data.customers["moved"].sum())
    axes[0].set_title("as built" + (" (customers to be moved ringed)" if n_moved else ""), fontsize=11)
    axes[1].set_title(f"after the moves: {len(data.routes)} move(s), {n_moved} customer(s) moved", fontsize=11)
    if len(data.routes):
        text = [
            f"{r['move']}: {len(r['customers'])} customer(s) {r['from_feeder']} \u2192 {r['to_feeder']}, "
            f"{r['route_length_m']:.0f} m, cost {r['cost']:,.0f}"
            for _, r in data.routes.iterrows()
        ]
        axes[1].text(
            0.01,
            0.01,
            "\n".join(text),
            transform=axes[1].transAxes,
            fontsize=9,
            va="bottom",
            ha="left",
            zorder=11,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": "0.6", "alpha": 0.92},
        )
    handles = [Line2D([], [], color="0.85", lw=3, label="street")]
    handles += [Line2D([], [], color=c, lw=1.8, marker="o", ms=4, label=f"feeder {f}") for f, c in colours.items()]
    handles += [
        Line2D([], [], color="0.2", lw=1.8, ls=(0, (2, 2)), marker="x", mec="black", ms=8, label="line cut by a move"),
        Line2D([], [], ls="none", marker="o", mfc="none", mec="black", ms=10, label="moved customer"),
        Line2D(
            [],
            [],
            color="0.5",
            lw=4,
            path_effects=[patheffects.Stroke(linewidth=6.5, foreground="black"), patheffects.Normal()],
            label="new line along streets (colour: new feeder)",
        ),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 5), fontsize=9)
    fig.suptitle(f"Plan of {method_label(data.method)}", fontsize=12)
    return fig


def _set_extent(ax: Axes, pts: np.ndarray, margin_m: float) -> None:
    lo, hi = pts.min(axis=0) - margin_m, pts.max(axis=0) + margin_m
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
