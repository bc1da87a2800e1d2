"""``lvbalance.params``: the defaults of MODEL.md §9, unknown keys, validators, updates, TOML."""

from __future__ import annotations

import tomllib

import pytest
import tomli_w
from pydantic import ValidationError

from lvbalance.params import Params


def test_defaults_are_those_of_model_md_section_9() -> None:
    p = Params()
    # | symbol | config key | default |
    assert p.planning.max_customers_per_move == 5  # k
    assert p.planning.max_moved_customers == 10  # M_max
    assert p.planning.max_route_m == 250.0  # R_max [m]
    assert p.planning.proximity == "route"  # §4: route length is the default reading of Eq 13
    assert p.planning.cost_model == "per-option"  # §4: one new line per move
    assert p.streets.default_cost_per_m == 40.0  # line cost per m
    assert p.operation.heavy_load_share == 0.8  # mu
    assert p.operation.max_heavy_steps == 8  # T_max (2 h of 15 min)
    assert p.operation.ramp_share_per_step == 0.5  # eps = 0.5 x Pc per step
    assert p.operation.v2g_charge_share == 1.0  # delta1
    assert p.operation.v2g_discharge_share == 1.0  # delta2
    # alpha per clock hour: 0.1 from 08:00 to 18:00, 0.6 otherwise
    assert p.operation.v2g_participation == [0.1 if 8 <= h < 18 else 0.6 for h in range(24)]
    assert p.operation.battery_wear_cost_per_kwh == 0.02  # §5: battery wear
    assert p.objective.cost_weight == 1.0  # lambda1
    assert p.objective.imbalance_weight == 1000.0  # lambda2 per %
    assert p.solver.mip_gap == 1e-4
    assert p.profiles.step_minutes == 15  # §3: 96 x 15 min
    assert p.profiles.horizon_start_hour == 8  # §3: the horizon starts at 08:00


@pytest.mark.parametrize(
    "data",
    [
        {"planing": {}},  # unknown section
        {"planning": {"max_route": 300}},  # unknown option
        {"profiles": {"cleaning": {"absurd": 3}}},  # unknown nested option
    ],
)
def test_unknown_keys_are_rejected(data: dict) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        Params.model_validate(data)


def test_unknown_keys_are_rejected_by_updated() -> None:
    with pytest.raises(ValidationError):
        Params().updated(planning={"max_moved": 3})


@pytest.mark.parametrize("alpha", [[0.5] * 23, [0.5] * 25, [0.5] * 23 + [1.2], [-0.1] + [0.5] * 23])
def test_v2g_participation_needs_24_shares_in_0_1(alpha: list[float]) -> None:
    with pytest.raises(ValidationError, match="needs 24 hourly shares"):
        Params().updated(operation={"v2g_participation": alpha})


def test_v2g_participation_accepts_the_bounds() -> None:
    alpha = [0.0] * 12 + [1.0] * 12
    assert Params().updated(operation={"v2g_participation": alpha}).operation.v2g_participation == alpha


@pytest.mark.parametrize("minutes", [7, 25, 0, -15, 2000])
def test_step_minutes_must_divide_a_day(minutes: int) -> None:
    with pytest.raises(ValidationError, match="must divide a day"):
        Params().updated(profiles={"step_minutes": minutes})


@pytest.mark.parametrize("minutes", [1, 15, 45, 60, 180, 1440])
def test_step_minutes_that_divide_a_day(minutes: int) -> None:
    assert Params().updated(profiles={"step_minutes": minutes}).profiles.step_minutes == minutes


@pytest.mark.parametrize(
    ("section", "values"),
    [
        ("operation", {"heavy_load_share": 0.0}),  # gt 0
        ("operation", {"heavy_load_share": 1.5}),  # le 1
        ("operation", {"max_heavy_steps": 0}),  # ge 1
        ("planning", {"max_customers_per_move": 0}),  # ge 1
        ("planning", {"proximity": "manhattan"}),
        ("streets", {"osm_highway_cost_per_m": {"primary": 0.0}}),
    ],
)
def test_out_of_range_values_are_rejected(section: str, values: dict) -> None:
    with pytest.raises(ValidationError):
        Params().updated(**{section: values})


def test_updated_is_a_copy_with_the_rest_kept() -> None:
    p = Params()
    q = p.updated(planning={"max_route_m": 300}, objective={"imbalance_weight": 4000})
    assert q.planning.max_route_m == 300.0 and q.objective.imbalance_weight == 4000.0
    assert q.planning.max_moved_customers == 10 and q.objective.cost_weight == 1.0  # same sections, other options
    assert q.operation == p.operation  # other sections
    assert p.planning.max_route_m == 250.0 and p.objective.imbalance_weight == 1000.0  # p unchanged
    r = q.updated(planning={"max_moved_customers": 3})
    assert (r.planning.max_route_m, r.planning.max_moved_customers) == (300.0, 3)  # earlier changes kept


def test_params_are_frozen() -> None:
    p = Params()
    with pytest.raises(ValidationError):
        p.planning.max_route_m = 1.0  # type: ignore[misc]


def test_updated_keeps_earlier_changes_in_nested_sections() -> None:
    """Regression: changing one profiles.cleaning option once reset the others."""
    p = Params().updated(profiles={"cleaning": {"pv_standby_kw": 0.5}})
    q = p.updated(profiles={"cleaning": {"absurd_factor": 5.0}})
    assert q.profiles.cleaning.absurd_factor == 5.0
    assert q.profiles.cleaning.pv_standby_kw == 0.5


def test_updated_replaces_dict_valued_options_whole() -> None:
    """A dict-valued option is one option (as in case.toml): the new dict replaces the old one."""
    p = Params().updated(streets={"osm_highway_cost_per_m": {"primary": 10.0}})
    assert p.streets.osm_highway_cost_per_m == {"primary": 10.0}
    assert p.streets.default_cost_per_m == 40.0


@pytest.mark.parametrize(
    "params",
    [
        Params(),
        Params().updated(
            planning={"max_route_m": 300, "proximity": "euclidean"},
            operation={"v2g_participation": [0.25] * 24},
            profiles={"country": "FR", "cleaning": {"plausible_peak_kw": {"residential": 9.0, "commercial": 50.0, "pv": 5.0, "ev": 22.0}}},
            solver={"algorithm": "extensive", "mip_gap": 0.0},
        ),
    ],
    ids=["defaults", "changed"],
)
def test_toml_round_trip(params: Params) -> None:
    text = tomli_w.dumps(params.to_dict())
    back = Params.model_validate(tomllib.loads(text))
    assert back == params
    assert back.to_dict() == params.to_dict()


def test_to_dict_omits_options_left_at_none() -> None:
    assert "country" not in Params().to_dict()["profiles"]
    assert Params().updated(profiles={"country": "FR"}).to_dict()["profiles"]["country"] == "FR"
