"""Road-grid coupling, the package :mod:`lvbalance.coupling` (MODEL.md §2, §4), on
networks small enough to check by hand. Sections follow its modules: ``graph`` (Eq 1),
``chains`` (Eq 8), ``options`` (Eq 3, Eq 13).

The grid case (``grid_case()``), coordinates in metres from (X0, Y0):

```
  B ───────── a1 ───────── a2 ────────── (300,0)      feeder F1 along y = 0
  │(0,0)      (100,0)      (200,0)         │          customers cz at a1, ca at a2 (5 m north)
  │                         ║ main road    │ detour
  │                         ║ 200 /m       │
  └──────────────────────── b1 ───────────┘           street along y = -100
  (0,-100)                 (200,-100)     (300,-100)  feeder F2: B - b1, customer cb (5 m south)
```
All streets cost 40 /m except the main road a2-b1 (200 /m). The main road ends on the
interior of the streets along y = 0 and y = -100 (T-junctions to split). From a2 to b1
the shortest route is the main road (100 m, 20 000) but the cheapest is the detour
over (300, 0) (300 m, 12 000).
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from lvbalance.case import Case, CaseError, Network, Streets
from lvbalance.coupling import (
    TailChain,
    build_street_graph,
    edge_weight,
    farthest_customer_m,
    load_combination_table,
    load_combinations,
    move_options,
    option_cost,
    options_summary,
    tail_chains,
    within_reach,
)
from lvbalance.coupling.options import straight_distance_m
from lvbalance.params import Params, Proximity
from tests.fixtures import CRS, X0, Y0, fig3_case


def _xy(x: float, y: float) -> tuple[float, float]:
    return X0 + x, Y0 + y


def make_case(nodes: dict, lines: list, customers: list, streets: list, params: Params | None = None) -> Case:
    """A case from plain tuples: nodes {id: (x, y, kind)}, lines [(id, a, b)],
    customers [(id, node, x, y)], streets [(id, [(x, y), ...], cost_per_m)]."""
    nodes_df = pd.DataFrame([(n, *_xy(x, y), k) for n, (x, y, k) in nodes.items()], columns=["node_id", "x", "y", "kind"]).set_index(
        "node_id"
    )
    lines_df = pd.DataFrame(
        [(lid, a, b, 100.0, 150.0, 0.206, 0.08, "NAYY 4x150 SE") for lid, a, b in lines],
        columns=["line_id", "from_node", "to_node", "length_m", "rated_kw", "r_ohm_per_km", "x_ohm_per_km", "std_type"],
    ).set_index("line_id")
    customers_df = pd.DataFrame(
        [(c, n, *_xy(x, y), "residential", False, 3000.0, np.nan, np.nan, False) for c, n, x, y in customers],
        columns=["customer_id", "node_id", "x", "y", "type", "metered", "annual_kwh", "charge_kw", "discharge_kw", "v2g"],
    ).set_index("customer_id")
    segments = gpd.GeoDataFrame(
        {"cost_per_m": [c for *_, c in streets]},
        geometry=[shapely.LineString([_xy(*p) for p in pts]) for _, pts, _ in streets],
        index=pd.Index([s for s, *_ in streets], name="street_id"),
        crs=CRS,
    )
    readings = pd.DataFrame(
        {"customer_id": pd.Series(dtype=str), "timestamp": pd.Series(dtype="datetime64[ns]"), "p_kw": pd.Series(dtype=float)}
    )
    calendar = pd.DataFrame({"day_type": pd.Series(dtype=str), "weather": pd.Series(dtype=str)}, index=pd.DatetimeIndex([], name="date"))
    return Case(
        name="hand",
        crs=CRS,
        network=Network(nodes_df, lines_df),
        streets=Streets(segments),
        customers=customers_df,
        meter_readings=readings,
        calendar=calendar,
        params=params or Params(),
    )


def grid_case(**planning) -> Case:
    """The grid of the module docstring (a fresh case per call)."""
    return make_case(
        nodes={
            "B": (0, 0, "busbar"),
            "a1": (100, 0, "customer_access"),
            "a2": (200, 0, "customer_access"),
            "b1": (200, -100, "customer_access"),
        },
        lines=[("l1", "B", "a1"), ("l2", "a1", "a2"), ("l3", "B", "b1")],
        customers=[("cz", "a1", 100, 5), ("ca", "a2", 200, 5), ("cb", "b1", 200, -105)],
        streets=[
            ("north", [(0, 0), (300, 0)], np.nan),
            ("main", [(200, 0), (200, -100)], 200.0),
            ("detour", [(300, 0), (300, -100)], np.nan),
            ("south", [(300, -100), (0, -100)], np.nan),
            ("west", [(0, 0), (0, -100)], np.nan),
        ],
        params=Params().updated(planning=planning) if planning else Params(),
    )


# --------------------------------------------------------------------------- graph: Eq 1, snapping, routes


def test_edge_weight_is_cost_per_metre_times_length() -> None:
    # Eq 1: w = c * l
    assert edge_weight(150.0, 40.0) == pytest.approx(6000.0)
    np.testing.assert_allclose(edge_weight([100.0, 2.5, 0.0], [200.0, 40.0, 90.0]), [20000.0, 100.0, 0.0])


def test_grid_edge_weights_by_hand() -> None:
    edges = build_street_graph(grid_case()).edges.set_index(["kind", "street_id"]).sort_index()
    # the main road is one 100 m piece at 200 /m; south is cut at b1 into 100 m and 200 m at 40 /m
    np.testing.assert_allclose(edges.loc[("street", "main"), ["length_m", "weight"]].to_numpy(), [[100, 20000]])
    assert sorted(edges.loc[("street", "south"), "weight"]) == pytest.approx([4000, 8000])
    # connectors: 0 m for the nodes (on a street), 5 m at 40 /m = 200 for each customer
    assert sorted(edges.loc[("connector", ""), "weight"]) == pytest.approx([0, 0, 0, 0, 200, 200, 200])


def test_cheapest_route_is_not_the_shortest() -> None:
    graph = build_street_graph(grid_case())
    route, length_m, cost = graph.route("a2", "b1")
    assert cost == pytest.approx(300 * 40)  # detour, not the main road (100 m x 200 = 20 000)
    assert length_m == pytest.approx(300)
    assert route.length == pytest.approx(300)
    assert route.distance(shapely.Point(_xy(300, 0))) < 1e-6
    r = graph.routes
    # least-length (proximity) uses the main road: customer ca is 5 m + 100 m from b1
    assert r.length_m[r.node_row["b1"], r.customer_col["ca"]] == pytest.approx(105)
    assert r.length_m[r.node_row["a2"], r.node_row["b1"]] == pytest.approx(100)


def test_t_junctions_and_snaps_split_segments() -> None:
    graph = build_street_graph(grid_case())
    street = graph.edges[graph.edges["kind"] == "street"]
    # north is cut at a1 (snap), a2 (snap and the main road's end) -> 3 pieces; south at b1 -> 2
    assert (street["street_id"] == "north").sum() == 3
    assert (street["street_id"] == "south").sum() == 2
    assert street["length_m"].sum() == pytest.approx(900)
    assert graph.mean_cost_per_m == pytest.approx((800 * 40 + 100 * 200) / 900)
    assert graph.snaps.loc[("customer", "ca"), "snap_m"] == pytest.approx(5)
    assert graph.snaps.loc[("node", "a2"), "snap_m"] == pytest.approx(0)


def test_end_points_within_half_a_metre_are_one_intersection() -> None:
    case = make_case(
        nodes={"B": (0, 0, "busbar"), "a": (200, 0, "customer_access")},
        lines=[("l1", "B", "a")],
        customers=[("c", "a", 200, 3)],
        streets=[("w", [(0, 0), (100, 0)], np.nan), ("e", [(100.3, 0), (200, 0)], np.nan)],
    )
    _, length_m, cost = build_street_graph(case).route("B", "a")
    # the two ends meet at their mean (100.15, 0): 100.15 m + 99.85 m, at 40 /m
    assert length_m == pytest.approx(200)
    assert cost == pytest.approx(8000)


def test_snaps_beyond_max_snap_m_are_all_reported() -> None:
    case = fig3_case()
    customers = case.customers.copy()
    customers.loc["c7", "y"] -= 100  # 110 m from street s5
    customers.loc["c8", "y"] -= 200
    with pytest.raises(CaseError) as err:
        build_street_graph(dataclasses.replace(case, customers=customers))
    elements = sorted(p.element for p in err.value.problems)
    assert elements == ["customer c7", "customer c8"]
    assert "max_snap_m = 60" in str(err.value)


# --------------------------------------------------------------------------- chains: tail chains, Eq 8 (Fig 3)


def test_fig3_tail_chains() -> None:
    chains = tail_chains(fig3_case())
    assert set(chains) == {"n5", "n6", "m2"}
    assert chains["n5"] == TailChain("n5", "F1", ("n5", "n4"), ("c1", "c2", "c3"), ("n5", "n5", "n4"))
    assert chains["n6"] == TailChain("n6", "F1", ("n6",), ("c6",), ("n6",))  # n3 branches: not in the chain
    assert chains["m2"] == TailChain("m2", "F2", ("m2", "m1"), ("c8", "c7"), ("m2", "m1"))  # up to the busbar
    on_chains = {c for ch in chains.values() for c in ch.customers}
    assert not on_chains & {"c4", "c5"}  # customers of n2, in the middle of F1


@pytest.mark.parametrize(("k", "expected"), [(1, []), (2, [2]), (3, [2, 3]), (5, [2, 3])])
def test_fig3_combinations_stop_at_node_boundaries(k: int, expected: list[int]) -> None:
    # c1 and c2 share n5: q = 1 would split them
    assert load_combinations(tail_chains(fig3_case())["n5"], k) == expected


def test_a_node_with_more_than_k_customers_blocks_the_chain() -> None:
    chain = TailChain("h", "F1", ("h", "g", "f"), ("a", "b", "c", "d"), ("h", "g", "g", "f"))
    assert load_combinations(chain, 2) == [1]  # g alone would make 3: neither g nor f
    assert load_combinations(chain, 3) == [1, 3]
    assert load_combinations(TailChain("h", "F1", ("h", "g"), ("a", "b", "c", "d"), ("h", "h", "h", "g")), 2) == []
    assert load_combinations(TailChain("h", "F1", ("h",), (), ()), 5) == []


def test_fig3_load_combination_table() -> None:
    table = load_combination_table(fig3_case())
    assert table.to_dict("records") == [
        {"end_node": "m2", "q": 1, "cut_node": "m2", "from_feeder": "F2", "customers": ("c8",), "moved_nodes": ("m2",)},
        {"end_node": "m2", "q": 2, "cut_node": "m1", "from_feeder": "F2", "customers": ("c8", "c7"), "moved_nodes": ("m2", "m1")},
        {"end_node": "n5", "q": 2, "cut_node": "n5", "from_feeder": "F1", "customers": ("c1", "c2"), "moved_nodes": ("n5",)},
        {"end_node": "n5", "q": 3, "cut_node": "n4", "from_feeder": "F1", "customers": ("c1", "c2", "c3"), "moved_nodes": ("n5", "n4")},
        {"end_node": "n6", "q": 1, "cut_node": "n6", "from_feeder": "F1", "customers": ("c6",), "moved_nodes": ("n6",)},
    ]


# --------------------------------------------------------------------------- options: Eq 3, Eq 13


def test_option_cost_per_option_with_fixed_cost() -> None:
    # Eq 3, one new line from the cut node: C = F + W(cut -> i); the customer costs are not used
    cost = option_cost([1000.0, 2500.0, np.inf], [[1.0], [2.0], [3.0]], cost_model="per-option", fixed_cost=300.0)
    np.testing.assert_allclose(cost, [1300.0, 2800.0, np.inf])


def test_option_cost_per_customer_with_fixed_cost() -> None:
    # Eq 3 as in the paper: C = sum_j (F + W(j -> i)); the cut node's cost is not used
    customer_cost = [[100.0, 200.0, 50.0], [10.0, 20.0, 30.0]]
    cost = option_cost([9.0, 9.0], customer_cost, cost_model="per-customer", fixed_cost=300.0)
    np.testing.assert_allclose(cost, [400 + 500 + 350, 310 + 320 + 330])
    np.testing.assert_allclose(option_cost([9.0], [[100.0, 200.0]], cost_model="per-customer", fixed_cost=0.0), [300.0])


def test_option_cost_unknown_model_is_an_error() -> None:
    with pytest.raises(ValueError, match="cost model"):
        option_cost([1.0], [[1.0]], cost_model="per-metre", fixed_cost=0.0)  # type: ignore[arg-type]


def test_straight_distance_m() -> None:
    # 3-4-5 triangles
    np.testing.assert_allclose(straight_distance_m([[0, 0], [3, 0]], [[0, 4], [3, 4]]), [[4, 5], [5, 4]])


@pytest.mark.parametrize(("proximity", "expected"), [("route", [50.0, 70.0]), ("euclidean", [40.0, 12.0])])
def test_farthest_customer_by_route_or_straight_line(proximity: Proximity, expected: list[float]) -> None:
    # Eq 13: targets in rows, moved customers in columns
    straight_m = [[30.0, 40.0], [5.0, 12.0]]
    route_m = [[50.0, 45.0], [13.0, 70.0]]
    np.testing.assert_allclose(farthest_customer_m(straight_m, route_m, proximity=proximity), expected)


def test_within_reach_includes_r_max() -> None:
    # Eq 13: d <= R_max
    assert within_reach([50.0, 70.0, 60.0, np.inf], max_route_m=60.0).tolist() == [True, False, True, False]
    with pytest.raises(ValueError, match="proximity"):
        farthest_customer_m([[1.0]], [[1.0]], proximity="manhattan")  # type: ignore[arg-type]


def test_fig3_options_are_suffixes_and_never_move_c4() -> None:
    case = fig3_case()
    chains = tail_chains(case)
    options = move_options(case)
    q_by_end_node = options.groupby("end_node")["q"].unique().map(sorted).to_dict()
    assert q_by_end_node == {"n5": [2, 3], "n6": [1], "m2": [1, 2]}
    for o in options.itertuples():
        chain = chains[o.end_node]
        assert o.customers == chain.customers[: o.q]
        assert o.cut_node == chain.customer_node[o.q - 1]
        assert o.moved_nodes[-1] == o.cut_node and o.to_node not in o.moved_nodes
        assert o.to_feeder != o.from_feeder
        assert o.to_node != case.network.busbar
    assert not any("c4" in c or "c5" in c for c in options["customers"])


def test_fig3_option_costs_by_hand() -> None:
    options = move_options(fig3_case())
    # n6 -> m2 along s6: 60 m x 40
    assert options.loc["n6/1->m2", ["cost", "route_length_m"]].tolist() == pytest.approx([2400, 60])
    # n4 -> m2: over n3, n6 (50 + 60 + 60 m x 40), not along the main road s7 (120 /m)
    assert options.loc["n5/3->m2", ["cost", "route_length_m"]].tolist() == pytest.approx([6800, 170])
    assert options.loc["n5/3->m2", "moved_nodes"] == ("n5", "n4")
    # c1 is 11.18 m from the corner (250, 0), 220 m on from there to m2
    assert options.loc["n5/3->m2", "max_customer_distance_m"] == pytest.approx(np.hypot(5, 10) + 220)
    assert "n5/1->m2" not in options.index


# --------------------------------------------------------------------------- options on the grid


def test_grid_options_cost_and_route() -> None:
    options = move_options(grid_case())
    o = options.loc["a2/1->b1"]
    assert (o["cut_node"], o["customers"], o["moved_nodes"]) == ("a2", ("ca",), ("a2",))
    assert o[["cost", "route_length_m", "street_cost", "street_route_length_m"]].tolist() == pytest.approx([12000, 300, 12000, 300])
    assert o["max_customer_distance_m"] == pytest.approx(105)
    assert o["route"].length == pytest.approx(300)
    # a1 -> b1: 400 m either way (detour or west)
    assert options.loc["a2/2->b1", ["cost", "route_length_m", "max_customer_distance_m"]].tolist() == pytest.approx([16000, 400, 205])
    assert options.loc["b1/1->a1", ["cost", "max_customer_distance_m"]].tolist() == pytest.approx([16000, 205])


def test_customer_beyond_r_max_makes_the_option_inadmissible() -> None:
    options = move_options(grid_case(max_route_m=150))
    assert "a2/1->b1" in options.index  # ca: 105 m
    assert "a2/2->b1" not in options.index  # cz: 205 m along streets
    assert "b1/1->a1" not in options.index
    # the paper's Euclidean proximity: cz is hypot(100, 105) = 145 m from b1
    options = move_options(grid_case(max_route_m=150, proximity="euclidean"))
    assert options.loc["a2/2->b1", "max_customer_distance_m"] == pytest.approx(np.hypot(100, 105))


def test_fixed_and_per_customer_cost() -> None:
    assert move_options(grid_case(fixed_cost=500)).loc["a2/1->b1", "cost"] == pytest.approx(12500)
    # Eq 3: per moved customer, from the customer's location (5 m connector at 40 /m)
    per_customer = move_options(grid_case(fixed_cost=500, cost_model="per-customer"))
    assert per_customer.loc["a2/1->b1", "cost"] == pytest.approx(500 + 200 + 12000)
    # cz: 5 m + 100 m to a2, then 12 000; ca: 12 200
    assert per_customer.loc["a2/2->b1", "cost"] == pytest.approx((500 + 200 + 4000 + 12000) + (500 + 200 + 12000))


def test_straight_line_options_carry_street_pricing() -> None:
    case = grid_case()
    graph = build_street_graph(case)
    options = move_options(case, straight_line=True, graph=graph)
    o = options.loc["a2/1->b1"]
    # a2 -> b1 is 100 m straight, at the streets' mean cost (800 m x 40 + 100 m x 200) / 900 m
    assert graph.mean_cost_per_m == pytest.approx(52000 / 900)
    assert o["cost"] == pytest.approx(100 * 52000 / 900)
    assert o["route_length_m"] == pytest.approx(100)
    assert o[["street_cost", "street_route_length_m"]].tolist() == pytest.approx([12000, 300])
    assert o["route"].length == pytest.approx(300)


def test_options_frame_columns_and_index() -> None:
    options = move_options(grid_case())
    assert options.index.name == "option"
    assert list(options.columns) == [
        "end_node",
        "q",
        "cut_node",
        "to_node",
        "from_feeder",
        "to_feeder",
        "customers",
        "moved_nodes",
        "cost",
        "route_length_m",
        "route",
        "street_cost",
        "street_route_length_m",
        "max_customer_distance_m",
    ]
    assert options["q"].dtype.kind == "i"
    assert all(isinstance(r, shapely.LineString) for r in options["route"])


def test_options_summary() -> None:
    case = grid_case()
    summary = options_summary(case, move_options(case))
    row = summary.loc[("a2", "F2")]
    assert (row["chain_customers"], row["admissible_q"], row["to_node"]) == ("ca cz", "1 2", "b1")
    assert row[["cost", "route_length_m"]].tolist() == pytest.approx([12000, 300])
