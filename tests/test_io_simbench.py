"""SimBench import: customer types from the SimBench profiles, charger ratings, elements not
modelled, and the clear errors for a bad code or a missing ``simbench`` package."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lvbalance.case import CaseError, MissingPackageError, validate_case
from lvbalance.cli import app
from lvbalance.io.simbench import check_simbench_code, not_modelled, require_simbench, typed_customers

# ---------------------------------------------------------------- customer types (no simbench needed)


def _imported(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    """A pandapower-import customer table: id, element, SimBench profile, p_kw (all residential / pv)."""
    return pd.DataFrame(
        {
            "type": ["pv" if e == "sgen" else "residential" for _, e, _, _ in rows],
            "element": [e for _, e, _, _ in rows],
            "profile": [p for *_, p, _ in rows],
            "p_kw": [k for *_, k in rows],
            "charge_kw": np.nan,
            "discharge_kw": np.nan,
            "v2g": False,
        },
        index=pd.Index([c for c, *_ in rows], name="customer_id"),
    )


ROWS = [
    ("h", "load", "H0-A", 3.0),
    ("g", "load", "G1-B", 10.9),
    ("ev_home", "load", "HLS_A_11.0", 10.9),
    ("ev_work", "load", "APLS_A_50.0", 49.4),
    ("ev_small", "load", "HLS_C_3.7", 3.7),
    ("hp_air", "load", "Air_Semi-Parallel_2", 4.9),
    ("hp_soil", "load", "Soil_Alternative_2", 3.0),
    ("pv", "sgen", "PV8", 6.5),
]


def test_charging_points_become_ev_with_ratings_and_heat_pumps_heat_pump() -> None:
    out = typed_customers(_imported(ROWS), v2g_share=1.0, rng=np.random.default_rng(0))
    assert out["type"].to_dict() == {
        "h": "residential",
        "g": "commercial",
        "ev_home": "ev",
        "ev_work": "ev",
        "ev_small": "ev",
        "hp_air": "heat_pump",
        "hp_soil": "heat_pump",
        "pv": "pv",
    }
    ev = out[out["type"] == "ev"]
    # the load's p_mw is the charger's power at full charge; V2G discharges at the same rating (MODEL.md §9)
    assert ev["charge_kw"].to_dict() == {"ev_home": 10.9, "ev_work": 49.4, "ev_small": 3.7}
    assert (ev["discharge_kw"] == ev["charge_kw"]).all() and ev["v2g"].all()
    assert out.loc[out["type"] != "ev", ["charge_kw", "discharge_kw"]].isna().all().all()
    assert not out.loc[out["type"] != "ev", "v2g"].any()


@pytest.mark.parametrize(("share", "n_v2g"), [(0.0, 0), (0.34, 1), (0.67, 2), (1.0, 3)])
def test_v2g_share_is_a_seeded_choice(share: float, n_v2g: int) -> None:
    first = typed_customers(_imported(ROWS), v2g_share=share, rng=np.random.default_rng(7))
    again = typed_customers(_imported(ROWS), v2g_share=share, rng=np.random.default_rng(7))
    assert int(first["v2g"].sum()) == n_v2g
    assert first["v2g"].equals(again["v2g"])
    assert set(first.index[first["v2g"]]) <= {"ev_home", "ev_work", "ev_small"}


def test_storage_and_other_elements_are_listed_as_not_modelled() -> None:
    net = {
        "storage": pd.DataFrame({"name": ["LV6.201 Storage 1", None, "off"], "in_service": [True, True, False]}, index=[0, 4, 5]),
        "gen": pd.DataFrame({"name": ["G"], "in_service": [True]}),
        "shunt": pd.DataFrame({"name": pd.Series([], dtype=str), "in_service": pd.Series([], dtype=bool)}),
    }
    assert not_modelled(net) == ["storage: 2 (LV6.201 Storage 1, storage 4)", "gen: 1 (G)"]
    assert not_modelled({"storage": net["storage"].iloc[2:]}) == []


# ---------------------------------------------------------------- bad code, missing package


BAD_CODES = ["NOT-A-CODE", "1-LV-urban7--2-sw", "1-LV-urban6--3-sw", "1-MV-urban--0-sw", "1-MVLV-urban-5.303-1-sw", ""]


@pytest.mark.parametrize("code", BAD_CODES)
def test_bad_code_names_the_code_and_the_form(code: str) -> None:
    with pytest.raises(CaseError) as err:
        check_simbench_code(code)
    (problem,) = err.value.problems
    assert repr(code) in str(problem) and "1-LV-<grid>--<scenario>-<sw|no_sw>" in str(problem) and "urban6" in str(problem)


def test_options_out_of_range_are_listed_together() -> None:
    from lvbalance.io.simbench import case_from_simbench

    with pytest.raises(CaseError) as err:
        case_from_simbench("1-LV-urban6--2-sw", meter_share=1.5, v2g_share=-0.1, start="2017-01-01", weeks=0)
    messages = [str(p) for p in err.value.problems]
    assert len(messages) == 4
    assert any("--meter-share" in m and "1.5" in m for m in messages) and any("--v2g-share" in m for m in messages)
    assert any("2016" in m for m in messages) and any("weeks" in m for m in messages)


def test_every_simbench_lv_grid_code_is_accepted() -> None:
    sb = pytest.importorskip("simbench")
    codes = [c for c in sb.collect_all_simbench_codes() if c.startswith("1-LV-")]
    assert len(codes) == 36
    for code in codes:
        check_simbench_code(code)


def test_cli_bad_code_is_a_clear_error_without_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["import", "simbench", "NOT-A-CODE", "-o", str(tmp_path / "c")])
    assert result.exit_code == 2, result.output
    assert "'NOT-A-CODE'" in result.output and "1-LV-<grid>--<scenario>-<sw|no_sw>" in result.output
    assert "Traceback" not in result.output and "invalid literal" not in result.output
    assert not (tmp_path / "c").exists()


def test_missing_simbench_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "simbench", None)  # `import simbench` now fails as if not installed
    with pytest.raises(MissingPackageError) as err:
        require_simbench()
    assert err.value.extra == "simbench" and isinstance(err.value, ImportError)
    result = CliRunner().invoke(app, ["import", "simbench", "1-LV-urban6--2-sw", "-o", str(tmp_path / "c")])
    assert result.exit_code == 2, result.output
    assert 'pip install "lvbalance[simbench]"' in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


# ---------------------------------------------------------------- a real grid


@pytest.mark.slow
def test_urban6_scenario2_has_ev_and_heat_pump_customers_and_warns_of_storage(caplog: pytest.LogCaptureFixture) -> None:
    pytest.importorskip("simbench")
    from lvbalance.io.simbench import case_from_simbench

    with caplog.at_level(logging.WARNING, logger="lvbalance.io.simbench"):
        case = case_from_simbench("1-LV-urban6--2-sw", meter_share=0.4, seed=0, weeks=1)
    assert validate_case(case) == []
    cust = case.customers
    assert cust["type"].value_counts().to_dict() == {"residential": 102, "heat_pump": 14, "pv": 12, "ev": 10, "commercial": 9}
    ev = cust[cust["type"] == "ev"]
    # HLS_*_11.0 and APLS_B_11.0 at 10.9 kW, HLS_*_3.7 at 3.7 kW, APLS_A_50.0 at 49.4 kW
    assert sorted(ev["charge_kw"].round(1)) == [3.7] * 4 + [10.9] * 5 + [49.4]
    assert (ev["discharge_kw"] == ev["charge_kw"]).all() and ev["v2g"].all()
    # metered heat pumps and charging points read their own SimBench profiles (peak <= rating)
    readings = case.meter_readings.merge(cust[["type", "charge_kw"]], left_on="customer_id", right_index=True)
    assert set(readings["type"]) == {"residential", "commercial", "pv", "ev", "heat_pump"}
    ev_read = readings[readings["type"] == "ev"]
    assert (ev_read["p_kw"] >= -1e-9).all() and (ev_read["p_kw"] <= ev_read["charge_kw"] + 1e-9).all()
    hp = cust[cust["type"] == "heat_pump"]
    assert (hp["annual_kwh"] > 0).all()
    storage = [r for r in caplog.records if "storage: 7" in r.getMessage()]
    assert len(storage) == 1 and storage[0].levelno == logging.WARNING
    assert all(f"LV6.201 Storage {k}" in storage[0].getMessage() for k in range(1, 8))
    assert case.metadata["not_modelled"].startswith("storage: 7 (LV6.201 Storage 1,")
