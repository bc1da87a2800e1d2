"""Map of an area: streets, feeders, busbar, customers and the candidate routes of one end node.

MODEL.md §1-§4: what the planner sees before the MILP chooses (Fig 3 of the paper, on
the real area).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D

from lvbalance.case import Case
from lvbalance.coupling import tail_chains

#: Space around the network and customers on the map [m].
_MARGIN_M = 60.0


def plot_area(case: Case, *, options: pd.DataFrame | None = None, end_node: str | None = None, ax: Axes | None = None) -> Axes:
    """Draw the area of ``case``; with ``options``, the candidate routes of one end node.

    Parameters
    ----------
    case
        The case.
    options
        Move options (:func:`lvbalance.coupling.move_options`).
    end_node
        End node whose candidate routes to draw; default: the one with most options.
    ax
        Axes to draw on (default: a new figure).

    Coordinates are shown in metres from the busbar; the view is the network and its
    customers plus a margin (streets beyond are cut off).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 8))
    net = case.network
    origin = net.nodes.loc[net.busbar, ["x", "y"]].to_numpy(float)

    def xy(coords: np.ndarray) -> np.ndarray:
        return np.asarray(coords, dtype=float)[:, :2] - origin

    streets = [xy(g.coords) for g in case.streets.segments.geometry]
    ax.add_collection(LineCollection(streets, colors="0.8", linewidths=3.0, zorder=1, label="streets"))

    feeder = net.feeder_of_node
    colours = {f: plt.get_cmap("tab10")(k % 10) for k, f in enumerate(net.feeder_outlets.index)}
    node_xy = net.nodes[["x", "y"]].astype(float)
    for f, colour in colours.items():
        segs = []
        for line_id, r in net.lines.iterrows():
            child = r["to_node"] if r["to_node"] != net.busbar else r["from_node"]
            if feeder.get(child) != f:
                continue
            geom = net.line_geometry.get(line_id)
            segs.append(xy(geom.coords) if geom is not None else xy(node_xy.loc[[r["from_node"], r["to_node"]]].to_numpy()))
        ax.add_collection(LineCollection(segs, colors=[colour], linewidths=1.6, zorder=3))
        cust = case.customers[case.customers["node_id"].map(feeder) == f]
        c = xy(cust[["x", "y"]].to_numpy(float).reshape(-1, 2))
        ax.scatter(c[:, 0], c[:, 1], s=10, color=colour, edgecolor="none", zorder=4)
    b = xy(node_xy.loc[[net.busbar]].to_numpy())
    ax.scatter(b[:, 0], b[:, 1], marker="s", s=90, color="black", zorder=6)
    ax.annotate("busbar", b[0], xytext=(6, 6), textcoords="offset points", fontsize=9, weight="bold")

    handles = [Line2D([], [], color="0.8", lw=3, label="street")]
    handles += [Line2D([], [], color=c, lw=1.6, marker="o", ms=3, label=f"feeder {f}") for f, c in colours.items()]
    if options is not None and len(options):
        handles += _draw_candidates(ax, case, options, end_node, xy)
    ax.legend(handles=handles, loc="best", fontsize=8, framealpha=0.9)
    ax.set_aspect("equal")
    pts = xy(np.vstack([node_xy.to_numpy(), case.customers[["x", "y"]].to_numpy(float).reshape(-1, 2)]))
    lo, hi = pts.min(axis=0) - _MARGIN_M, pts.max(axis=0) + _MARGIN_M
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("x from busbar [m]")
    ax.set_ylabel("y from busbar [m]")
    ax.set_title(case.name)
    return ax


def _draw_candidates(ax: Axes, case: Case, options: pd.DataFrame, end_node: str | None, xy) -> list[Line2D]:
    """Tail chain of ``end_node`` and its candidate routes (cheapest per target feeder bold)."""
    if end_node is None:
        end_node = str(options["end_node"].value_counts().idxmax())
    mine = options[options["end_node"] == end_node]
    chain = tail_chains(case)[end_node]
    node_xy = case.network.nodes[["x", "y"]].astype(float)
    c = xy(node_xy.loc[list(chain.nodes)].to_numpy())
    ax.plot(c[:, 0], c[:, 1], color="gold", lw=7, alpha=0.8, zorder=2, solid_capstyle="round")
    cust = xy(case.customers.loc[list(chain.customers), ["x", "y"]].to_numpy(float).reshape(-1, 2))
    ax.scatter(cust[:, 0], cust[:, 1], s=60, facecolor="none", edgecolor="black", lw=1.0, zorder=7)
    h = xy(node_xy.loc[[end_node]].to_numpy())[0]
    ax.scatter(h[0], h[1], marker="*", s=160, color="black", zorder=7)
    ax.annotate(f"end node {end_node}\n{len(chain.customers)} chain customers", h, xytext=(8, -18), textcoords="offset points", fontsize=8)
    if mine.empty:
        return [Line2D([], [], color="gold", lw=7, alpha=0.8, label="tail chain (no admissible option)")]
    routes = [xy(r.coords) for r in mine["route"]]
    ax.add_collection(LineCollection(routes, colors="crimson", linewidths=1.2, alpha=0.6, linestyles="--", zorder=8))
    best = mine.sort_values("cost").groupby("to_feeder").head(1)
    for _, o in best.iterrows():
        r = xy(o["route"].coords)
        ax.plot(r[:, 0], r[:, 1], color="crimson", lw=2.5, zorder=8)
        t = xy(node_xy.loc[[o["to_node"]]].to_numpy())[0]
        ax.scatter(t[0], t[1], marker="o", s=50, facecolor="white", edgecolor="crimson", zorder=9)
        ax.annotate(
            f"q={o['q']} -> {o['to_feeder']}: {o['cost']:,.0f}, {o['route_length_m']:.0f} m",
            t,
            xytext=(6, 4),
            textcoords="offset points",
            fontsize=8,
            color="crimson",
            zorder=10,
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
        )
    return [
        Line2D(
            [],
            [],
            color="gold",
            lw=7,
            alpha=0.8,
            marker="o",
            mfc="none",
            mec="black",
            label=f"tail chain of {end_node} (customers circled)",
        ),
        Line2D([], [], color="crimson", lw=0.8, ls="--", alpha=0.6, label=f"candidate routes ({len(mine)} options)"),
        Line2D([], [], color="crimson", lw=2.2, label="cheapest per target feeder"),
    ]
