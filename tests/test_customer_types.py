"""Every customer type is known to every per-type table, and a heat_pump customer goes through
validation, the model, the written outputs, the independent re-check and the AC net like the others."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from lvbalance.case import CUSTOMER_TYPES, validate_case
from lvbalance.evaluate.metrics import compute_metrics
from lvbalance.evaluate.recheck import check_outputs
from lvbalance.params import CleaningParams, Params, PowerFlowParams
from lvbalance.profiles import CONTEXT_KIND
from lvbalance.report.fig_profiles import TYPE_TITLES
from lvbalance.results import write_results
from lvbalance.summary import meter_coverage
from tests.fixtures import fig3_case, fig3_coarse, hand_scenarios


def test_heat_pump_is_a_customer_type() -> None:
    assert "heat_pump" in CUSTOMER_TYPES


@pytest.mark.parametrize(
    ("table", "name"),
    [
        (CleaningParams().plausible_peak_kw, "params.profiles.cleaning.plausible_peak_kw"),
        (PowerFlowParams().power_factor, "params.powerflow.power_factor"),
        (CONTEXT_KIND, "profiles.CONTEXT_KIND"),
        (TYPE_TITLES, "report.fig_profiles.TYPE_TITLES"),
    ],
)
def test_every_per_type_table_knows_every_type(table: dict, name: str) -> None:
    assert set(table) == set(CUSTOMER_TYPES), f"{name} lacks {set(CUSTOMER_TYPES) - set(table)}"


def test_heat_pump_defaults() -> None:
    """Plausible peak 15 kW (compressor + backup heating rod); inductive like a household."""
    assert CleaningParams().plausible_peak_kw["heat_pump"] == 15.0
    assert PowerFlowParams().power_factor["heat_pump"] == 0.95


def test_a_table_from_before_heat_pump_takes_its_default() -> None:
    """A case.toml written before heat_pump existed lists four types: it still reads."""
    older = {"residential": 9.0, "commercial": 50.0, "pv": 5.0, "ev": 22.0}
    p = Params().updated(profiles={"cleaning": {"plausible_peak_kw": older}})
    assert p.profiles.cleaning.plausible_peak_kw == {**older, "heat_pump": 15.0}


def _with_heat_pump(case, cid: str = "c7"):
    customers = case.customers.copy()
    customers.loc[cid, "type"] = "heat_pump"
    return dataclasses.replace(case, customers=customers)


def test_a_heat_pump_customer_validates_and_is_counted() -> None:
    case = _with_heat_pump(fig3_case())
    assert validate_case(case) == []
    assert meter_coverage(case).loc["heat_pump", "customers"] == 1
    bad = case.customers.copy()
    bad.loc["c8", "type"] = "heatpump"
    (problem,) = validate_case(dataclasses.replace(case, customers=bad))
    assert "unknown type 'heatpump'" in str(problem) and "heat_pump" in str(problem)


@pytest.mark.slow
def test_heat_pump_customer_passes_the_independent_recheck(tmp_path: Path) -> None:
    """m1 on fig3 with c7 (feeder F2) a 3 kW heat pump: the written outputs pass check_outputs."""
    from lvbalance.coupling import move_options
    from lvbalance.model.methods import METHODS
    from lvbalance.model.run import plan_method

    case = _with_heat_pump(fig3_coarse(objective={"imbalance_weight": 4000.0}, solver={"algorithm": "extensive"}))
    scen = hand_scenarios(case, base_kw={"heat_pump": 3.0})
    res = plan_method(case, scen, METHODS["m1"], options=move_options(case))
    write_results(tmp_path, res.plan, res.schedules, res.feeder_loads, compute_metrics(res))
    scen.scenarios.reset_index()[["scenario", "probability", "day_type", "weather"]].to_csv(tmp_path / "scenarios.csv", index=False)
    profiles = scen.p_kw.transpose("scenario", "step", "customer").to_series().rename("p_kw").reset_index()
    profiles.rename(columns={"customer": "customer_id"})[["scenario", "step", "customer_id", "p_kw"]].to_csv(
        tmp_path / "profiles.csv", index=False
    )
    rep = check_outputs(case, tmp_path)
    assert rep.ok, (rep.violations, rep.differences)
    written = pd.read_csv(tmp_path / "profiles.csv")
    assert (written.loc[written["customer_id"] == "c7", "p_kw"] > 0).all()


def test_heat_pump_load_gets_its_power_factor_in_the_ac_net() -> None:
    from lvbalance.powerflow.net import build_pandapower_net

    case = _with_heat_pump(fig3_case())
    case = case.with_params(case.params.updated(powerflow={"power_factor": {**PowerFlowParams().power_factor, "heat_pump": 0.9}}))
    net = build_pandapower_net(case)
    assert net.load.set_index("name").at["c7", "cos_phi"] == 0.9
