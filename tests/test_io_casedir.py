"""Case directory read/write, the default case, and `lvbalance validate` on bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from typer.testing import CliRunner

from lvbalance.case import Case, CaseError
from lvbalance.cli import app
from lvbalance.io import read_case, write_case
from tests.fixtures import fig3_case


def assert_cases_equal(a: Case, b: Case) -> None:
    assert (a.name, a.crs, a.params, a.metadata, a.streets.source) == (b.name, b.crs, b.params, b.metadata, b.streets.source)
    pdt.assert_frame_equal(a.network.nodes, b.network.nodes, check_exact=False, atol=1e-3)
    pdt.assert_frame_equal(a.network.lines, b.network.lines, check_exact=False)
    pdt.assert_frame_equal(a.customers, b.customers, check_exact=False, atol=1e-3)
    pdt.assert_frame_equal(a.meter_readings, b.meter_readings, check_exact=False, atol=1e-4)
    pdt.assert_frame_equal(a.calendar, b.calendar)
    sa, sb = a.streets.segments, b.streets.segments
    assert list(sa.index) == list(sb.index)
    assert sa.geometry.geom_equals_exact(sb.geometry, tolerance=1e-3).all()
    pdt.assert_series_equal(sa["cost_per_m"], sb["cost_per_m"], check_names=False)
    assert set(a.network.line_geometry) == set(b.network.line_geometry)


def test_write_read_round_trip(tmp_path: Path) -> None:
    case = fig3_case()
    first = read_case(write_case(case, tmp_path / "a"))
    second = read_case(write_case(first, tmp_path / "b"))
    assert_cases_equal(first, second)
    pdt.assert_frame_equal(first.customers, case.customers, check_dtype=False)


def test_write_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "case"
    target.mkdir()
    (target / "mine.txt").write_text("user data")
    with pytest.raises(FileExistsError):
        write_case(fig3_case(), target)
    assert (target / "mine.txt").read_text() == "user data"
    assert [p.name for p in tmp_path.iterdir()] == ["case"]  # no temporary left behind


def test_lonlat_coordinates_are_projected(tmp_path: Path) -> None:
    path = write_case(fig3_case(), tmp_path / "c")
    import pyproj

    tf = pyproj.Transformer.from_crs("EPSG:32632", "EPSG:4326", always_xy=True)
    for name in ("nodes.csv", "customers.csv"):
        df = pd.read_csv(path / name)
        df["x"], df["y"] = tf.transform(df["x"].to_numpy(), df["y"].to_numpy())
        df.to_csv(path / name, index=False)
    toml = (path / "case.toml").read_text().replace('crs = "EPSG:32632"', 'crs = "EPSG:4326"')
    (path / "case.toml").write_text(toml)
    case = read_case(path)
    assert case.crs == "EPSG:32632"
    assert np.allclose(case.network.nodes["x"], fig3_case().network.nodes["x"], atol=0.01)


def test_unknown_parameter_is_an_error(tmp_path: Path) -> None:
    path = write_case(fig3_case(), tmp_path / "c")
    with (path / "case.toml").open("a") as f:
        f.write("\n[params.planning_typo]\nmax_route_m = 3\n")
    with pytest.raises(CaseError) as info:
        read_case(path)
    assert any("planning_typo" in p.element for p in info.value.problems)


def test_missing_file_and_column(tmp_path: Path) -> None:
    path = write_case(fig3_case(), tmp_path / "c")
    (path / "days.csv").unlink()
    pd.read_csv(path / "lines.csv").drop(columns="rated_kw").to_csv(path / "lines.csv", index=False)
    with pytest.raises(CaseError) as info:
        read_case(path)
    text = str(info.value)
    assert "days.csv: file is missing" in text
    assert "lines.csv, header: missing column(s) rated_kw" in text


def corrupt(path: Path) -> None:
    """Four problems at once: a loop, a customer on a missing node, a NaN reading, a duplicate id."""
    lines = pd.read_csv(path / "lines.csv", dtype=str)
    nodes = pd.read_csv(path / "nodes.csv", dtype=str)
    far = lines["to_node"].iloc[-1]
    loop = lines.iloc[[-1]].copy()
    loop["line_id"] = "loop_line"
    loop["from_node"], loop["to_node"] = nodes["node_id"].iloc[1], far
    pd.concat([lines, loop]).to_csv(path / "lines.csv", index=False)
    customers = pd.read_csv(path / "customers.csv", dtype=str, keep_default_na=False)
    customers.loc[0, "node_id"] = "missing_node"
    pd.concat([customers, customers.iloc[[1]]]).to_csv(path / "customers.csv", index=False)
    readings_file = next(path.glob("meter_readings.csv*"))
    readings = pd.read_csv(readings_file, dtype=str)
    readings.loc[3, "p_kw"] = "NaN"
    readings.to_csv(readings_file, index=False)


def _validate_corrupted(src: Path, tmp_path: Path) -> tuple[int, str]:
    dst = tmp_path / "corrupted"
    shutil.copytree(src, dst)
    corrupt(dst)
    result = CliRunner().invoke(app, ["validate", str(dst)])
    return result.exit_code, result.output


def _assert_four_problems(code: int, output: str) -> None:
    assert code == 2
    assert "Traceback" not in output
    assert "loop_line" in output and "form a loop" in output
    assert "'missing_node' is not in nodes.csv" in output
    assert "row 5" in output and "not a finite number" in output
    assert "duplicate id" in output


def test_cli_lists_every_problem_of_a_corrupted_fig3_case(tmp_path: Path) -> None:
    _assert_four_problems(*_validate_corrupted(write_case(fig3_case(), tmp_path / "fig3"), tmp_path))


def test_default_case_validates_and_round_trips(tmp_path: Path) -> None:
    from lvbalance.data import default_case_path

    case = read_case(default_case_path())
    result = CliRunner().invoke(app, ["validate", str(default_case_path())])
    assert result.exit_code == 0, result.output
    assert_cases_equal(case, read_case(write_case(case, tmp_path / "copy")))


def test_cli_lists_every_problem_of_a_corrupted_default_case(tmp_path: Path) -> None:
    from lvbalance.data import default_case_path

    _assert_four_problems(*_validate_corrupted(default_case_path(), tmp_path))


def test_default_case_time_stamps_are_local_wall_clock() -> None:
    """PV of the default case (Schutterwald, 7.88 E, April-May, CEST) peaks at local solar noon (~13:28),
    and the calendar covers every reading's local date."""
    from lvbalance.data import default_case_path

    case = read_case(default_case_path())
    r = case.meter_readings
    ts = pd.DatetimeIndex(r["timestamp"])
    assert ts.tz is None
    hour = ts.hour + ts.minute / 60
    pv = r["p_kw"].where(r["customer_id"].map(case.customers["type"]).eq("pv").to_numpy()).groupby(hour).mean()
    assert 13.0 <= pv.idxmin() <= 13.75  # interval start of the strongest feed-in
    centre = float((pv * (pv.index + 0.125)).sum() / pv.sum())
    assert abs(centre - 13.47) < 0.5, centre
    assert (pv.loc[:5.75].abs() < 0.02 * pv.abs().max()).all()  # no feed-in before 06:00 local
    assert set(ts.normalize().unique()) <= set(case.calendar.index)


def _build_script():
    import importlib.util

    pytest.importorskip("pandapower")
    path = Path(__file__).resolve().parents[1] / "scripts" / "build_default_case.py"
    spec = importlib.util.spec_from_file_location("build_default_case", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_build_script_reads_each_profile_on_its_time_base() -> None:
    b = _build_script()
    n = 366 * 96
    row = lambda t, base: int(b.profile_rows(pd.DatetimeIndex([t]), base, n)[0])  # noqa: E731
    step = lambda t: int((pd.Timestamp(t) - pd.Timestamp("2016-01-01")) / pd.Timedelta("15min"))  # noqa: E731
    # winter (CET = UTC+1): PV rows are UTC, G/HLS rows CET, household rows wall clock
    assert row("2016-01-10 12:00", "utc") == step("2016-01-10 11:00")
    assert row("2016-01-10 12:00", "cet") == step("2016-01-10 12:00")
    assert row("2016-01-10 12:00", "clock") == step("2016-01-10 12:00")
    # summer (CEST = UTC+2)
    assert row("2016-04-04 13:30", "utc") == step("2016-04-04 11:30")
    assert row("2016-04-04 13:30", "cet") == step("2016-04-04 12:30")
    assert row("2016-04-04 13:30", "clock") == step("2016-04-04 13:30")
    # a regular local axis over both DST days: 96 steps a day; the spring gap repeats the hour
    # before, the autumn fold takes the first (summer-time) hour and drops the second
    for day, expect in (("2016-03-27", "gap"), ("2016-10-30", "fold")):
        local = pd.date_range(day, periods=96, freq="15min")
        rows = b.profile_rows(local, "cet", n)
        d = np.diff(rows)
        if expect == "gap":
            assert list(rows[8:12]) == list(rows[4:8])  # 02:00-02:45 = 01:00-01:45
            assert d[7] == -3 and (np.delete(d, 7) == 1).all()  # 03:00 CEST follows 01:45 CET
        else:
            assert d[11] == 5 and (np.delete(d, 11) == 1).all()  # 02:45 -> 03:00 skips 4 rows
        assert (b.profile_rows(local, "clock", n) == step(day) + np.arange(96)).all()
    assert b.PROFILE_TIME_BASE["PV5"] == "utc" and b.PROFILE_TIME_BASE["H0-A"] == "clock"
    assert b.PROFILE_TIME_BASE["G1-A"] == "cet" and b.PROFILE_TIME_BASE["HLS_A_3.7"] == "cet"
