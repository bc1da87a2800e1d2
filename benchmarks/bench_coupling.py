"""Size and speed of the road-grid coupling (MODEL.md §2, §4).

Run: ``.venv/bin/python -m benchmarks.bench_coupling``. Prints, for the default case
(Schutterwald area 1) and for the whole town of Schutterwald as one case, the number
of end nodes, chain lengths, admissible options per end node and the time to build
the street graph, run all routes and list the options. Timings are printed, not
asserted.

The whole town (14 transformer areas of ``pandapower.networks.lv_schutterwald``) is
made one case for scale: every area is imported on its own, then all their real
feeders hang on one virtual busbar (areas that are not radial are left out, and said so) at the first area's transformer. The street graph
is the union of all areas' streets (derived from the network lines, split where they
meet). It is a size test, not a planning study; ``streets.max_snap_m`` is raised to
:data:`TOWN_MAX_SNAP_M` there because a few houses lie far from every network line.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lvbalance.case import Case, CaseError, Network, Streets
from lvbalance.coupling import build_street_graph, move_options, tail_chains
from lvbalance.io.streets import segments_frame

#: A few houses in the town lie up to ~110 m from the nearest network line (long service lines).
TOWN_MAX_SNAP_M = 150.0


def default_case() -> Case:
    from lvbalance.data import load_default_case

    return load_default_case()


def town_case() -> Case:
    """All 14 areas of Schutterwald as one case with one virtual busbar (see module doc)."""
    import pandapower.networks as pn

    from lvbalance.io.pandapower import case_from_pandapower

    areas = []
    for k, net in enumerate(pn.lv_schutterwald(separation_by_sub=True)):
        try:
            areas.append(case_from_pandapower(net, name=f"area{k}"))
        except CaseError as exc:  # e.g. a meshed area: not a radial case
            print(f"(area {k} left out: {exc.problems[0]})")
    crs = areas[0].crs
    busbar = "TOWN"
    nodes, lines, customers, streets = [], [], [], []
    for a in areas:
        b = a.network.busbar
        n = a.network.nodes.drop(index=b)
        ln = a.network.lines.replace({"from_node": {b: busbar}, "to_node": {b: busbar}})
        nodes.append(n)
        lines.append(ln)
        customers.append(a.customers)
        streets.append(a.streets.segments.to_crs(crs))
    first = areas[0].network.nodes.loc[[areas[0].network.busbar]].rename(index={areas[0].network.busbar: busbar})
    nodes_df = pd.concat([first, *nodes])
    segments = segments_frame(pd.concat(streets).geometry, None, crs)
    return Case(
        name="schutterwald-town",
        crs=crs,
        network=Network(nodes_df, pd.concat(lines)),
        streets=Streets(segments, source="network_lines"),
        customers=pd.concat(customers),
        meter_readings=areas[0].meter_readings,
        calendar=areas[0].calendar,
        params=areas[0].params.updated(streets={"max_snap_m": TOWN_MAX_SNAP_M}),
    )


def run(case: Case) -> None:
    t0 = time.perf_counter()
    graph = build_street_graph(case)
    t1 = time.perf_counter()
    routes = graph.routes
    t2 = time.perf_counter()
    options = move_options(case, graph=graph)
    t3 = time.perf_counter()
    m3 = move_options(case, straight_line=True, graph=graph)
    t4 = time.perf_counter()

    chains = tail_chains(case)
    chain_nodes = np.array([len(c.nodes) for c in chains.values()])
    chain_customers = np.array([len(c.customers) for c in chains.values()])
    per_end = options.groupby("end_node").size().reindex(list(chains), fill_value=0)
    net = case.network
    print(f"== {case.name}")
    print(
        f"  network: {len(net.nodes)} nodes, {len(net.feeder_outlets)} feeders, {len(case.customers)} customers, "
        f"{len(case.streets.segments)} street segments"
    )
    print(
        f"  street graph: {len(graph.vertex_xy)} vertices, {len(graph.edges)} edges; "
        f"snap distance median {graph.snaps['snap_m'].median():.1f} m, max {graph.snaps['snap_m'].max():.1f} m"
    )
    print(
        f"  routes: {routes.cost.shape[0]} sources x {routes.cost.shape[1]} points "
        f"(+ predecessors {routes.predecessor.nbytes / 1e6:.0f} MB)"
    )
    print(f"  end nodes: {len(chains)}; chain length [nodes] {_dist(chain_nodes)}; chain customers {_dist(chain_customers)}")
    print(f"  end nodes with a movable combination: {int((chain_customers > 0).sum())}")
    print(
        f"  admissible options (streets): {len(options)}; per end node {_dist(per_end.to_numpy())}; "
        f"end nodes with >= 1 option: {int((per_end > 0).sum())}"
    )
    print(f"  admissible options (straight line, m3): {len(m3)}")
    print(
        f"  time: street graph {t1 - t0:.2f} s, all routes {t2 - t1:.2f} s, "
        f"options {t3 - t2:.2f} s, m3 options {t4 - t3:.2f} s, total {t4 - t0:.2f} s"
    )


def _dist(x: np.ndarray) -> str:
    if len(x) == 0:
        return "-"
    return f"min {x.min()}, median {np.median(x):g}, mean {x.mean():.1f}, max {x.max()}"


def write_figure(case: Case, path: Path) -> Path:
    """Map of ``case`` with the candidate routes of the end node with most options."""
    import matplotlib

    matplotlib.use("Agg")
    from lvbalance.report.fig_network import plot_area

    ax = plot_area(case, options=move_options(case))
    ax.figure.savefig(path, dpi=110, bbox_inches="tight")
    return path


def main() -> None:
    area = default_case()
    run(area)
    print(f"  figure: {write_figure(area, Path(tempfile.gettempdir()) / 'lvbalance_fig_network_area1.png')}")
    t = time.perf_counter()
    town = town_case()
    print(f"(town case assembled in {time.perf_counter() - t:.1f} s)")
    run(town)


if __name__ == "__main__":
    main()
