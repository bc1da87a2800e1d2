"""Physical limits (errors), plausible ranges (warnings) and plannability on the Fig 3 case."""

from __future__ import annotations

import dataclasses

import pandas as pd

from lvbalance.case import case_warnings, validate_case
from lvbalance.case.limits import area_extent_m, limit_errors, plannable_errors, unknown_columns
from tests.fixtures import fig3_case


def _with(table: str, row: str, column: str, value: float):
    case = fig3_case()
    if table == "lines":
        lines = case.network.lines.copy()
        lines.loc[row, column] = value
        return dataclasses.replace(case, network=dataclasses.replace(case.network, lines=lines))
    customers = case.customers.copy()
    customers.loc[row, column] = value
    return dataclasses.replace(case, customers=customers)


def test_fig3_is_within_every_limit_and_range() -> None:
    case = fig3_case()
    assert limit_errors(case) == [] and case_warnings(case) == [] and plannable_errors(case) == []
    assert round(area_extent_m(case)) == 277  # 250 m x 120 m


def test_limits_are_errors_and_ranges_warnings() -> None:
    for table, row, col, error_value, warn_value in [
        ("lines", "l1", "rated_kw", 1001.0, 401.0),
        ("customers", "c3", "annual_kwh", 1.1e6, 1.5e5),
        ("customers", "c2", "charge_kw", 351.0, 23.0),
    ]:
        bad = _with(table, row, col, error_value)
        assert any(p.element.endswith(row) and col in p.message for p in validate_case(bad)), (col, error_value)
        odd = _with(table, row, col, warn_value)
        assert not limit_errors(odd) and any(p.element.endswith(row) and col in p.message for p in case_warnings(odd)), (col, warn_value)


def test_a_line_longer_than_the_area_is_an_error() -> None:
    extent = area_extent_m(fig3_case())
    assert any("longer than the whole area" in p.message for p in limit_errors(_with("lines", "l2", "length_m", 2 * extent + 101)))
    assert not limit_errors(_with("lines", "l2", "length_m", 2 * extent + 99))


def test_all_zero_readings_cannot_be_planned_one_zero_customer_is_a_warning() -> None:
    case = fig3_case()
    zero = dataclasses.replace(case, meter_readings=case.meter_readings.assign(p_kw=0.0))
    assert [p.element for p in plannable_errors(zero)] == ["p_kw"]
    r = case.meter_readings.copy()
    r.loc[r["customer_id"] == "c6", "p_kw"] = 0.0
    one = dataclasses.replace(case, meter_readings=r)
    assert plannable_errors(one) == [] and [p.element for p in case_warnings(one)] == ["customer c6"]


def test_few_days_and_no_moves_are_warnings() -> None:
    case = fig3_case()
    r = case.meter_readings
    one_day = dataclasses.replace(case, meter_readings=r[pd.to_datetime(r["timestamp"]) < pd.Timestamp("2024-03-05")])
    assert any("1 day(s)" in p.message for p in case_warnings(one_day))
    frozen = case.with_params(case.params.updated(planning={"max_moved_customers": 0}))
    assert [p.element for p in case_warnings(frozen)] == ["params.planning.max_moved_customers"]


def test_an_uninstalled_solver_is_named() -> None:
    case = fig3_case()
    bad = case.with_params(case.params.updated(solver={"name": "nosuchsolver"}))
    assert [(p.file, p.element) for p in limit_errors(bad)] == [("case.toml", "params.solver.name")]


def test_unknown_columns_name_the_closest_known_one() -> None:
    (p,) = unknown_columns(["line_id", "r_ohm_km"], ["line_id", "r_ohm_per_km", "x_ohm_per_km"], "lines.csv")
    assert p.element == "column 'r_ohm_km'" and "did you mean 'r_ohm_per_km'" in p.message
