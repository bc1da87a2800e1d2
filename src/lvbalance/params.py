"""Configuration schema: every option declared once, with type, default, unit and meaning.

The defaults are those of MODEL.md §9. The same schema reads the ``[params]`` table of
``case.toml``, writes it back, and documents itself (``Params.model_json_schema()``).
Unknown keys are errors.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class PlanningParams(_Section):
    """Stage 1: which tail customers may move (MODEL.md §4)."""

    max_customers_per_move: int = Field(5, ge=1, description="k: customers in one load combination [-]")
    max_moved_customers: int = Field(10, ge=0, description="M_max: customers moved in total (Eq 5) [-]")
    max_route_m: float = Field(250.0, gt=0, description="R_max: route length from target node to each moved customer (Eq 13) [m]")
    proximity: Literal["route", "euclidean"] = Field(
        "route", description="distance used for R_max: street route length (default, conservative) or straight line (paper)"
    )
    cost_model: Literal["per-option", "per-customer"] = Field(
        "per-option", description="one new line per move (default) or the paper's sum of a cost per moved customer (Eq 3)"
    )
    fixed_cost: float = Field(0.0, ge=0, description="fixed cost of one new connection [currency]")


class StreetParams(_Section):
    """Street graph and snapping (MODEL.md §2)."""

    default_cost_per_m: float = Field(40.0, gt=0, description="c_i where a street has no cost of its own [currency/m]")
    max_snap_m: float = Field(60.0, gt=0, description="farthest a network node or customer may lie from a street [m]")


class OperationParams(_Section):
    """Stage 2: EV scheduling with V2G and line limits (MODEL.md §5)."""

    heavy_load_share: float = Field(0.8, gt=0, le=1, description="mu: heavy-load threshold as share of line rating [-]")
    max_heavy_steps: int = Field(8, ge=1, description="T_max: consecutive heavy-load steps allowed [steps]")
    ramp_share_per_step: float = Field(0.5, gt=0, description="eps: V2G power change per step as share of charge rating [-]")
    v2g_charge_share: float = Field(1.0, ge=0, le=1, description="delta1: V2G charge limit as share of charge rating [-]")
    v2g_discharge_share: float = Field(1.0, ge=0, le=1, description="delta2: V2G discharge limit as share of discharge rating [-]")
    v2g_participation: list[float] = Field(
        default_factory=lambda: [0.6] * 8 + [0.1] * 10 + [0.6] * 6,
        description="alpha: share of EVs joining V2G per clock hour 0..23 [-] (0.1 from 08:00 to 18:00, 0.6 otherwise)",
    )
    battery_wear_cost_per_kwh: float = Field(0.02, ge=0, description="cost per kWh discharged [currency/kWh]")
    violation_penalty: float = Field(1e6, gt=0, description="penalty per kW·step of line-limit slack [currency]")

    @field_validator("v2g_participation")
    @classmethod
    def _hourly(cls, v: list[float]) -> list[float]:
        if len(v) != 24 or any(not 0 <= a <= 1 for a in v):
            raise ValueError("needs 24 hourly shares, each between 0 and 1")
        return v


class ObjectiveParams(_Section):
    """Eq 27 weights."""

    cost_weight: float = Field(1.0, ge=0, description="lambda1: weight of construction cost [-]")
    imbalance_weight: float = Field(1000.0, ge=0, description="lambda2: worth of one point of expected imbalance [currency/%]")
    peak_imbalance_weight: float = Field(
        10.0, ge=0,
        description="worth of one point of each scenario's peak imbalance, expected over scenarios [currency/%] "
        "(addition to Eq 27: among schedules of equal expected imbalance it picks the one with the lowest peaks)",
    )


class ProfileParams(_Section):
    """Pseudo profiles and scenarios (MODEL.md §3)."""

    step_minutes: int = Field(15, description="time step [min]")
    horizon_start_hour: int = Field(8, ge=0, le=23, description="clock hour at which each scenario day starts [h]")
    max_gap_minutes: int = Field(60, ge=0, description="gaps up to this long are interpolated [min]")
    max_missing_share: float = Field(0.1, ge=0, le=1, description="days with more missing readings are dropped [-]")
    min_clusters: int = Field(2, ge=1, description="fewest typical patterns per type and context [-]")
    max_clusters: int = Field(6, ge=1, description="most typical patterns per type and context [-]")
    holdout_share: float = Field(0.25, ge=0, lt=1, description="share of metered days held out for out-of-sample evaluation [-]")
    seed: int = Field(0, description="seed of every random choice (clustering, assignment, hold-out)")

    @field_validator("step_minutes")
    @classmethod
    def _divides_day(cls, v: int) -> int:
        if v <= 0 or (24 * 60) % v:
            raise ValueError("must divide a day into whole steps (e.g. 15, 30, 60)")
        return v


class SolverParams(_Section):
    """MILP solver options."""

    name: str = Field("highs", description="any solver linopy supports and that is installed")
    algorithm: Literal["auto", "extensive", "benders"] = Field(
        "auto",
        description="extensive: the whole two-stage MILP at once; benders: L-shaped decomposition by scenario "
        "(exact; needs a stage 2 without binaries); auto: benders when it applies and there are moves to choose",
    )
    time_limit_s: float = Field(300.0, gt=0, description="wall-clock limit per solve [s]")
    mip_gap: float = Field(1e-4, ge=0, description="relative MIP gap at which to stop [-]")
    threads: int = Field(2, ge=1, description="solver threads")


class Params(_Section):
    """All parameters of a case; the ``[params]`` table of ``case.toml``."""

    planning: PlanningParams = PlanningParams()
    streets: StreetParams = StreetParams()
    operation: OperationParams = OperationParams()
    objective: ObjectiveParams = ObjectiveParams()
    profiles: ProfileParams = ProfileParams()
    solver: SolverParams = SolverParams()

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (TOML-ready)."""
        return self.model_dump(mode="json")

    def updated(self, **sections: dict[str, Any]) -> Params:
        """A copy with some options changed, e.g. ``p.updated(planning={"max_route_m": 300})``."""
        data = self.to_dict()
        for section, values in sections.items():
            data.setdefault(section, {}).update(values)
        return Params.model_validate(data)
