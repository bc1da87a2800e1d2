"""Every validation rule of the case model, on the hand-built Fig 3 case."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import shapely

from lvbalance.case import Case, CaseError, Network, Streets, check_case, validate_case


def _with(case: Case, **changes) -> Case:
    return dataclasses.replace(case, **changes)


def _net(case: Case, nodes: pd.DataFrame | None = None, lines: pd.DataFrame | None = None) -> Network:
    return Network(
        nodes=case.network.nodes if nodes is None else nodes,
        lines=case.network.lines if lines is None else lines,
    )


def _messages(case: Case) -> list[str]:
    return [str(p) for p in validate_case(case)]


def test_fig3_case_is_valid_and_has_two_feeders(case: Case) -> None:
    assert validate_case(case) == []
    assert list(case.network.feeder_outlets.index) == ["F1", "F2"]
    assert case.network.feeder_of_node["n5"] == "F1"
    assert case.network.feeder_of_node["m2"] == "F2"
    assert case.network.parent.loc["n5", "parent_node"] == "n4"


def test_loop_is_reported(case: Case) -> None:
    lines = case.network.lines.copy()
    lines.loc["l9"] = ["n5", "m2", 120.0, 150.0, 0.2, 0.08, ""]
    msgs = _messages(_with(case, network=_net(case, lines=lines)))
    assert any("loop" in m and "l9" in m for m in msgs)


def test_parallel_lines_are_a_loop(case: Case) -> None:
    lines = case.network.lines.copy()
    lines.loc["l9"] = ["n4", "n5", 50.0, 150.0, 0.2, 0.08, ""]
    msgs = _messages(_with(case, network=_net(case, lines=lines)))
    assert any("parallel" in m and "l5" in m and "l9" in m for m in msgs)


def test_nodes_not_connected_to_busbar(case: Case) -> None:
    nodes = case.network.nodes.copy()
    nodes.loc["island"] = [nodes.x.min(), nodes.y.min(), "junction"]
    msgs = _messages(_with(case, network=_net(case, nodes=nodes)))
    assert any("not connected to the busbar" in m and "island" in m for m in msgs)


def test_exactly_one_busbar(case: Case) -> None:
    nodes = case.network.nodes.copy()
    nodes.loc["n1", "kind"] = "busbar"
    assert any("exactly one node must be the busbar" in m for m in _messages(_with(case, network=_net(case, nodes=nodes))))


def test_unknown_node_kind(case: Case) -> None:
    nodes = case.network.nodes.copy()
    nodes.loc["n1", "kind"] = "pole"
    assert any("unknown kind 'pole'" in m for m in _messages(_with(case, network=_net(case, nodes=nodes))))


def test_line_to_unknown_node(case: Case) -> None:
    lines = case.network.lines.copy()
    lines.loc["l8", "to_node"] = "nowhere"
    msgs = _messages(_with(case, network=_net(case, lines=lines)))
    assert any("line l8" in m and "'nowhere' is not in nodes.csv" in m for m in msgs)


def test_customer_on_unknown_node(case: Case) -> None:
    customers = case.customers.copy()
    customers.loc["c3", "node_id"] = "ghost"
    assert any("customer c3" in m and "'ghost'" in m for m in _messages(_with(case, customers=customers)))


def test_customer_on_busbar(case: Case) -> None:
    customers = case.customers.copy()
    customers.loc["c3", "node_id"] = "B"
    assert any("customer c3" in m and "busbar" in m for m in _messages(_with(case, customers=customers)))


@pytest.mark.parametrize("table", ["nodes", "lines", "customers"])
def test_duplicate_ids(case: Case, table: str) -> None:
    if table == "customers":
        df = pd.concat([case.customers, case.customers.loc[["c1"]]])
        changed = _with(case, customers=df)
    else:
        df = getattr(case.network, table)
        df = pd.concat([df, df.iloc[[1]]])
        changed = _with(case, network=_net(case, **{table: df}))
    assert any("duplicate id" in m for m in _messages(changed))


@pytest.mark.parametrize(("column", "value"), [("length_m", 0.0), ("length_m", -3.0), ("rated_kw", 0.0), ("rated_kw", np.nan)])
def test_non_positive_line_length_or_rating(case: Case, column: str, value: float) -> None:
    lines = case.network.lines.copy()
    lines.loc["l3", column] = value
    msgs = _messages(_with(case, network=_net(case, lines=lines)))
    assert any("line l3" in m and column in m for m in msgs)


def test_unknown_customer_type(case: Case) -> None:
    customers = case.customers.copy()
    customers.loc["c3", "type"] = "tram"
    assert any("unknown type 'tram'" in m for m in _messages(_with(case, customers=customers)))


def test_ev_without_charger_rating(case: Case) -> None:
    customers = case.customers.copy()
    customers.loc["c2", "charge_kw"] = np.nan
    assert any("customer c2" in m and "charge_kw" in m for m in _messages(_with(case, customers=customers)))


def test_unmetered_customer_without_energy(case: Case) -> None:
    customers = case.customers.copy()
    customers.loc["c7", "annual_kwh"] = np.nan
    assert any("customer c7" in m and "annual_kwh" in m for m in _messages(_with(case, customers=customers)))


@pytest.mark.parametrize("bad", [np.nan, "n/a", np.inf])
def test_bad_reading(case: Case, bad: object) -> None:
    readings = case.meter_readings.astype({"p_kw": object}).copy()
    readings.loc[5, "p_kw"] = bad
    msgs = _messages(_with(case, meter_readings=readings))
    assert any("row 7" in m and "not a finite number" in m for m in msgs)


def test_readings_for_unknown_customer(case: Case) -> None:
    extra = pd.DataFrame({"customer_id": ["zz"] * 3, "timestamp": pd.date_range("2024-03-04", periods=3, freq="15min"), "p_kw": 1.0})
    readings = pd.concat([case.meter_readings, extra], ignore_index=True)
    assert any("unknown customer 'zz'" in m for m in _messages(_with(case, meter_readings=readings)))


def test_metered_customer_without_readings(case: Case) -> None:
    readings = case.meter_readings[case.meter_readings.customer_id != "c6"].reset_index(drop=True)
    assert any("customer c6" in m and "no readings" in m for m in _messages(_with(case, meter_readings=readings)))


def test_calendar_values(case: Case) -> None:
    cal = case.calendar.copy()
    cal.iloc[0, cal.columns.get_loc("weather")] = "foggy"
    assert any("unknown weather 'foggy'" in m for m in _messages(_with(case, calendar=cal)))


def test_street_graph_that_cannot_reach_a_node(case: Case) -> None:
    seg = case.streets.segments
    cut = seg.drop(index=["s4", "s6", "s7"])  # feeder F2's streets no longer touch the rest
    msgs = _messages(_with(case, streets=Streets(cut, "geojson")))
    assert any("cannot be reached along streets" in m and "m1" in m for m in msgs)


def _t_junction_streets(case: Case, gap_m: float = 0.0) -> Streets:
    """Streets of the Fig 3 case joined only at T-junctions: one street along y = 0 and one along
    y = -120 (no end points at x = 150), and a cross street x = 150 whose ends lie on their interiors
    (its lower end ``gap_m`` short of the y = -120 street)."""
    x0, y0 = 400_000.0, 5_370_000.0
    geoms = {
        "top": [(0, 0), (250, 0)],
        "cross": [(150, 0), (150, -120 + gap_m)],
        "bottom": [(0, -120), (250, -120)],
    }
    seg = case.streets.segments.iloc[:0].reindex(list(geoms))
    seg["geometry"] = [shapely.LineString([(x0 + x, y0 + y) for x, y in pts]) for pts in geoms.values()]
    seg["cost_per_m"] = np.nan
    return Streets(seg.rename_axis("street_id"), "geojson")


def test_t_junction_streets_reach_every_node(case: Case) -> None:
    from lvbalance.coupling import build_street_graph

    t_case = _with(case, streets=_t_junction_streets(case))
    assert _messages(t_case) == []
    # the street graph joins them the same way: every node has a finite route from the busbar
    routes = build_street_graph(t_case).routes
    assert np.isfinite(routes.length_m[routes.node_row["B"]]).all()


def test_street_short_of_a_t_junction_is_cut_off(case: Case) -> None:
    msgs = _messages(_with(case, streets=_t_junction_streets(case, gap_m=2.0)))
    assert any("cannot be reached along streets" in m and "m1" in m and "m2" in m for m in msgs)
    assert not any("n6" in m for m in msgs)


def test_node_far_from_any_street(case: Case) -> None:
    seg = case.streets.segments.copy()
    seg.loc["s3", "geometry"] = shapely.LineString([(400150.0, 5370000.0), (400150.0, 5369990.0)])
    seg.loc["s6", "geometry"] = shapely.LineString([(400150.0, 5369880.0), (400150.0, 5369890.0)])
    strict = case.params.updated(streets={"max_snap_m": 30.0})
    msgs = _messages(_with(case, streets=Streets(seg, "geojson"), params=strict))
    assert any("node n6" in m and "50 m from the nearest street" in m for m in msgs)


@pytest.mark.parametrize("crs", ["EPSG:4326", "not-a-crs"])
def test_crs_must_be_projected(case: Case, crs: str) -> None:
    assert any("crs" in p.element for p in validate_case(_with(case, crs=crs)))


def test_all_problems_are_raised_together(case: Case) -> None:
    customers = case.customers.copy()
    customers.loc["c3", "node_id"] = "ghost"
    customers.loc["c4", "type"] = "martian"
    with pytest.raises(CaseError) as info:
        check_case(_with(case, customers=customers))
    assert len(info.value.problems) == 2
    assert isinstance(info.value, ValueError)


def test_feeder_of_node_follows_the_node_table(case: Case) -> None:
    """Fig 3: F1 behind l1 (n1..n6), F2 behind l7 (m1, m2), listed in the order of nodes.csv
    (not a set's order, which changes with the hash seed)."""
    net = case.network
    assert list(net.feeder_of_node.items()) == [
        ("n1", "F1"),
        ("n2", "F1"),
        ("n3", "F1"),
        ("n4", "F1"),
        ("n5", "F1"),
        ("n6", "F1"),
        ("m1", "F2"),
        ("m2", "F2"),
    ]


# --------------------------------------------------------------------------- cannot be planned (issue 10, item 6)


def test_type_with_neither_readings_nor_billed_energy(case: Case) -> None:
    customers = case.customers.copy()
    customers.loc[["c7", "c8"], "annual_kwh"] = np.nan  # unmetered residential customers
    messages = _messages(_with(case, customers=customers))
    assert (
        "customers.csv, type residential: 2 customer(s) with neither meter readings nor billed energy (c7, c8): no profile "
        "can be built, so the case cannot be planned; give their annual_kwh [kWh/a] in customers.csv or their readings in "
        "meter_readings.csv"
    ) in messages
    assert any("customer c7" in m and "has no meter" in m for m in messages)  # the per-customer message stays


def test_metered_customer_with_readings_needs_no_billed_energy(case: Case) -> None:
    customers = case.customers.copy()
    customers.loc["c1", "annual_kwh"] = np.nan  # c1 is metered and has readings
    assert validate_case(_with(case, customers=customers)) == []


def test_empty_calendar_is_made_from_holidays_unless_calendar_days_is_zero(case: Case) -> None:
    no_days = _with(case, calendar=case.calendar.iloc[:0])
    assert validate_case(no_days) == []  # a calendar from weekends and holidays will be made
    zero = no_days.with_params(no_days.params.updated(profiles={"calendar_days": 0}))
    assert _messages(zero) == [
        "days.csv: is empty and params.profiles.calendar_days = 0: the horizon has no day, so there is no scenario to plan for; "
        "list the days in days.csv or set profiles.calendar_days > 0 (e.g. 365)"
    ]


def test_calendar_without_a_known_day_type_has_no_scenario(case: Case) -> None:
    cal = case.calendar.assign(day_type="holiday")
    messages = _messages(_with(case, calendar=cal))
    assert ("days.csv: no day has a known day_type, so there is no scenario to plan for; label the days working or non_working") in messages
    assert any("unknown day_type 'holiday'" in m for m in messages)


@pytest.mark.parametrize("where", ["params", "metadata"])
def test_unknown_holiday_country(case: Case, where: str) -> None:
    if where == "params":
        bad = case.with_params(case.params.updated(profiles={"country": "XX"}))
    else:
        bad = _with(case, metadata={**case.metadata, "country": "XX"})
    (message,) = _messages(bad)
    assert "'XX' is not a country of the holidays package" in message
    assert message.startswith("case.toml, params.profiles.country" if where == "params" else "case.toml, metadata country")


def test_validate_command_says_the_case_cannot_be_planned(case: Case, tmp_path) -> None:
    from typer.testing import CliRunner

    from lvbalance.cli import app
    from lvbalance.io import write_case

    bad = _with(case, calendar=case.calendar.iloc[:0])
    bad = bad.with_params(bad.params.updated(profiles={"calendar_days": 0}))
    result = CliRunner().invoke(app, ["validate", str(write_case(bad, tmp_path / "case"))])
    assert result.exit_code == 2
    assert "no scenario to plan for" in result.output and "Traceback" not in result.output


def test_customer_far_from_every_street_is_reported(case: Case) -> None:
    """The coupling snaps customers onto streets too: c8 moved 130 m south of the street y = -120
    (the limit is 60 m) is named by validate, not left for plan to fail on."""
    customers = case.customers.copy()
    customers.loc["c8", "y"] = customers.loc["c8", "y"] - 120.0  # from 10 m to 130 m south of street s5
    problems = validate_case(_with(case, customers=customers))
    assert [(p.element, p.message) for p in problems] == [
        ("customer c8", "is 130 m from the nearest street (limit streets.max_snap_m = 60 m)")
    ]
