"""Configuration schema: every option declared once, with type, default, unit and meaning.

The defaults are those of MODEL.md §9. The same schema reads the ``[params]`` table of
``case.toml``, writes it back, and documents itself (``Params.model_json_schema()``).
Unknown keys are errors.
"""

from __future__ import annotations

import datetime
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Distance measure of the proximity rule (Eq 13).
Proximity = Literal["route", "euclidean"]
#: How the construction cost of a move option is counted (Eq 3).
CostModel = Literal["per-option", "per-customer"]


def _osm_highway_cost_per_m() -> dict[str, float]:
    return {
        "motorway": 150.0,
        "trunk": 120.0,
        "primary": 90.0,
        "secondary": 70.0,
        "tertiary": 55.0,
        "unclassified": 45.0,
        "residential": 40.0,
        "living_street": 35.0,
        "service": 30.0,
        "track": 25.0,
        "path": 25.0,
        "footway": 25.0,
        "cycleway": 25.0,
        "pedestrian": 30.0,
    }


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class PlanningParams(_Section):
    """Stage 1: which tail customers may move (MODEL.md §4)."""

    max_customers_per_move: int = Field(5, ge=1, description="k: customers in one load combination [-]")
    max_moved_customers: int = Field(10, ge=0, description="M_max: customers moved in total (Eq 5) [-]")
    max_route_m: float = Field(250.0, gt=0, description="R_max: route length from target node to each moved customer (Eq 13) [m]")
    proximity: Proximity = Field(
        "route", description="distance used for R_max: street route length (default, conservative) or straight line (paper)"
    )
    cost_model: CostModel = Field(
        "per-option", description="one new line per move (default) or the paper's sum of a cost per moved customer (Eq 3)"
    )
    fixed_cost: float = Field(0.0, ge=0, description="fixed cost of one new connection [currency]")
    budget: float | None = Field(
        None,
        ge=0,
        description="largest plan cost C_plan (Eq 3) the model may spend, a stage-1 constraint [currency]; None: unlimited. "
        "Method m3 prices moves by straight lines: its budget caps that estimate",
    )


class StreetParams(_Section):
    """Street graph and snapping (MODEL.md §2)."""

    default_cost_per_m: float = Field(40.0, gt=0, description="c_i where a street has no cost of its own [currency/m]")
    max_snap_m: float = Field(60.0, gt=0, description="farthest a network node or customer may lie from a street [m]")
    osm_highway_cost_per_m: dict[str, float] = Field(
        default_factory=_osm_highway_cost_per_m,
        description="c_i of a street read from OpenStreetMap, by its highway class ('_link' classes as their road; "
        "classes not listed: default_cost_per_m) [currency/m]. Illustrative values around the default: a main road "
        "needs heavier surface reinstatement and traffic management, service roads, tracks and paths are cheaper",
    )

    @field_validator("osm_highway_cost_per_m")
    @classmethod
    def _positive_costs(cls, v: dict[str, float]) -> dict[str, float]:
        bad = sorted(k for k, c in v.items() if not c > 0)
        if bad:
            raise ValueError(f"costs must be > 0 (not for {', '.join(bad)})")
        return v


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
        10.0,
        ge=0,
        description="worth of one point of each scenario's peak imbalance, expected over scenarios [currency/%] "
        "(addition to Eq 27: among schedules of equal expected imbalance it picks the one with the lowest peaks)",
    )


#: Customer types added after case.toml files were first written: a per-type table without them
#: (an older case.toml) takes their default.
_ADDED_TYPES = ("heat_pump",)


def _plausible_peak_kw() -> dict[str, float]:
    # heat_pump: a house's compressor draws 2-6 kW plus a 6-9 kW backup heating rod (SimBench's: 2-18 kW)
    return {"residential": 15.0, "commercial": 60.0, "pv": 10.0, "ev": 11.0, "heat_pump": 15.0}


class CleaningParams(_Section):
    """Limits of plausible meter readings (MODEL.md §3.1); ``[params.profiles.cleaning]``."""

    plausible_peak_kw: dict[str, float] = Field(
        default_factory=_plausible_peak_kw,
        description="plausible peak power of one customer of each type [kW]; a customer's own plausible peak is the "
        "largest of this, its own 99th percentile and (pv) its size from annual_kwh; ev: its charge_kw where given",
    )
    absurd_factor: float = Field(
        10.0, gt=1, description="readings beyond this times a customer's plausible peak are impossible and set missing [-]"
    )
    pv_standby_kw: float = Field(0.1, ge=0, description="largest consumption a pv customer may show (inverter standby) [kW]")
    ev_rating_tolerance: float = Field(
        1.1, ge=1, description="ev power beyond this times its charge / discharge rating is clipped to the rating [-]"
    )

    @field_validator("plausible_peak_kw")
    @classmethod
    def _every_type(cls, v: dict[str, float]) -> dict[str, float]:
        need = set(_plausible_peak_kw())
        v = {**{t: _plausible_peak_kw()[t] for t in _ADDED_TYPES if t not in v}, **v}
        if set(v) != need:
            raise ValueError(f"needs exactly the customer types {', '.join(sorted(need))}")
        bad = sorted(k for k, kw in v.items() if not kw > 0)
        if bad:
            raise ValueError(f"peaks must be > 0 (not for {', '.join(bad)})")
        return v


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
    kmeans_restarts: int = Field(10, ge=1, description="k-means runs from seeded initial centroids; the best is kept [-]")
    min_daily_kwh: float = Field(1e-3, ge=0, description="daily curves with less energy are not clustered (no shape to learn) [kWh]")
    pv_yield_kwh_per_kwp: float = Field(
        900.0,
        gt=0,
        description="specific yield of pv [kWh/kWp/a]: sizes a pv customer from its annual_kwh (cleaning) and gives an "
        "imported pandapower sgen its annual_kwh from its peak power",
    )
    country: str | None = Field(
        None,
        description="public holidays (``holidays`` package country code) for dates missing from the calendar; "
        "None: the case metadata's ``country``, else DE",
    )
    min_metered_curves: int = Field(
        10,
        ge=0,
        description="a customer type with fewer usable metered daily curves (training days, all contexts) gets its "
        "patterns from standard load profiles (BDEW H0 / G0, pvlib clear-sky, SimBench EV and heat-pump shapes) "
        "instead of clustering [curves]",
    )
    calendar_start: datetime.date | None = Field(
        None,
        description="first day of the calendar made from weekends and public holidays when days.csv is empty [date]; "
        "None: 1 January of the year of the first meter reading, or of 2025 without readings",
    )
    calendar_days: int = Field(
        365,
        ge=0,
        description="length of the calendar made when days.csv is empty [days]; 0: make none (days.csv is then needed)",
    )
    pv_tilt_deg: float = Field(30.0, ge=0, le=90, description="module tilt of the clear-sky pv standard profile [deg]")
    pv_azimuth_deg: float | None = Field(
        None,
        ge=0,
        lt=360,
        description="module azimuth of the clear-sky pv standard profile, clockwise from north [deg]; "
        "None: facing the equator (180 in the northern hemisphere, 0 in the southern)",
    )
    cleaning: CleaningParams = CleaningParams()

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
        "(exact; needs a stage 2 without binaries and HiGHS, whose subproblems it warm-starts through highspy); "
        "auto: benders when it applies and there are moves to choose",
    )
    time_limit_s: float = Field(300.0, gt=0, description="wall-clock limit per solve [s]")
    mip_gap: float = Field(1e-4, ge=0, description="relative MIP gap at which to stop [-]")
    threads: int = Field(2, ge=1, description="solver threads")
    benders_max_iterations: int | None = Field(
        None,
        ge=1,
        description="Benders: a work limit - stop after this many iterations with the best plan and its gap [-]; "
        "unlike the time limit it ends at the same plan on every machine (None: no limit)",
    )
    benders_relaxed_iterations: int = Field(
        0,
        ge=0,
        description="Benders: most iterations on the LP-relaxed master before the integer master takes over [-] "
        "(with Pareto cuts the integer master alone took fewer iterations: benchmarks/bench_cuts.py)",
    )
    benders_relaxed_time_share: float = Field(
        0.25, ge=0, le=1, description="Benders: largest share of time_limit_s spent on the LP-relaxed master [-]"
    )
    benders_coarse_block_h: float = Field(
        3.0,
        ge=0,
        description="Benders: length of the blocks of steps of the coarse stage 2 in the master, a lower bound on each "
        "scenario's recourse from block means of the feeder loads (model/coarse.py; 0: cuts only) [h]",
    )
    smooth_schedules: bool = Field(
        True,
        description="after the optimum, pick among the equally optimal EV schedules the one with the least total variation "
        "(an LP with the plan, the objective and each scenario's imbalance held at their optimum; MODEL.md §6)",
    )


class TradeoffParams(_Section):
    """The cost-imbalance trade-off front of a method with moves (MODEL.md §6, "The trade-off")."""

    max_points: int = Field(
        6,
        ge=0,
        description="most budgets solved from the unlimited budget downwards, each a MILP [-]; 0: no front "
        "(tradeoff.csv is then written only for --budget / --target-imbalance, with the points they need)",
    )
    methods: list[Literal["m1", "m2", "m3"]] = Field(
        ["m1", "m2"],
        description="methods whose plan comes with its front when max_points > 0 (--budget and --target-imbalance "
        "need one for every method with moves). m3 is left out by default: it prices moves by straight lines, so its "
        "budgets do not order its plans' street costs (on the default case 5 of its 11 solved points fell off the front "
        "once priced on streets; benchmarks/bench_tradeoff.py), and its front took 38 s",
    )
    imbalance_resolution_pct: float = Field(
        1e-4,
        gt=0,
        description="precision of the front in expected imbalance: the cost term of each point's objective is worth at most "
        "this much E[I] over the whole cost range, so E[I] comes first and, among plans within this of the least E[I], the "
        "cheapest is taken [%]",
    )


def _new_line_types() -> list[str]:
    return ["NAYY 4x50 SE", "NAYY 4x95 SE", "NAYY 4x150 SE", "NAYY 4x240 SE"]


def _power_factor() -> dict[str, float]:
    # heat_pump: a compressor motor, inductive like a household (SimBench gives both q/p ~ 0.4, cos phi ~ 0.93)
    return {"residential": 0.95, "commercial": 0.95, "pv": 1.0, "ev": 1.0, "heat_pump": 0.95}


class PowerFlowParams(_Section):
    """AC power-flow check of a plan with pandapower (MODEL.md §8); ``[params.powerflow]``."""

    lv_kv: float = Field(0.4, gt=0, description="nominal voltage of the LV network: its buses, and the current of a line's rated_kw [kV]")
    default_std_type: str = Field(
        "NAYY 4x150 SE",
        description="pandapower line type of a line with neither a known std_type nor r/x columns, and of a new line "
        "(not sized) whose replaced line has no known std_type",
    )
    new_line_types: list[str] = Field(
        default_factory=_new_line_types,
        min_length=1,
        description="cable types a new line may get, smallest first: the first whose ampacity covers "
        "sizing_margin times its moved customers' peak power [-]",
    )
    sizing_margin: float = Field(1.25, gt=0, description="ampacity margin when sizing a new line for its peak power [-]")
    sizing_cos_phi: float = Field(0.95, gt=0, le=1, description="power factor assumed when sizing a new line [-]")
    power_factor: dict[str, float] = Field(
        default_factory=_power_factor,
        description="cos phi per customer type, inductive where below 1 (types not listed: 1.0) [-]",
    )
    slack_vm_pu: float = Field(1.0, gt=0, description="voltage of the slack (ext_grid) [pu]")
    min_new_line_m: float = Field(1.0, gt=0, description="shortest new line modelled: a zero-length route still needs an impedance [m]")
    flow_diff_min_share: float = Field(
        0.05,
        ge=0,
        description="the relative AC-vs-lossless flow difference counts only where the lossless flow is at least this "
        "share of the line rating [-]",
    )
    tolerance_mva: float = Field(1e-8, gt=0, description="Newton-Raphson stop: largest P / Q mismatch at a bus [MVA]")
    max_iteration: int = Field(10, ge=1, description="Newton-Raphson iterations before a step counts as not converged [-]")
    backend: Literal["power-grid-model", "pandapower"] = Field(
        "power-grid-model",
        description="AC check solver: power-grid-model (one batch calculation over all scenarios and steps; stop at a "
        "1e-10 pu voltage change) or pandapower runpp per step (the reference; always used with a transformer)",
    )

    @field_validator("power_factor")
    @classmethod
    def _cos_phi(cls, v: dict[str, float]) -> dict[str, float]:
        bad = sorted(k for k, c in v.items() if not 0 < c <= 1)
        if bad:
            raise ValueError(f"cos phi must be in (0, 1] (not for {', '.join(bad)})")
        return v


class Params(_Section):
    """All parameters of a case; the ``[params]`` table of ``case.toml``."""

    planning: PlanningParams = PlanningParams()
    streets: StreetParams = StreetParams()
    operation: OperationParams = OperationParams()
    objective: ObjectiveParams = ObjectiveParams()
    profiles: ProfileParams = ProfileParams()
    solver: SolverParams = SolverParams()
    powerflow: PowerFlowParams = PowerFlowParams()
    tradeoff: TradeoffParams = TradeoffParams()

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (TOML-ready: options left at None are omitted)."""
        return self.model_dump(mode="json", exclude_none=True)

    def updated(self, **sections: dict[str, Any]) -> Params:
        """A copy with some options changed, e.g. ``p.updated(planning={"max_route_m": 300})``."""
        return Params.model_validate(_merged(self.to_dict(), sections))


def describe(section: type[BaseModel] = Params, prefix: str = "") -> list[dict[str, str]]:
    """Every option of the schema: ``key`` (dotted, as in ``case.toml``'s ``[params]``), ``type``,
    ``default`` and ``description`` (with its unit in brackets). The CLI's ``lvbalance params``
    and the docs print this; nothing is declared twice."""
    rows: list[dict[str, str]] = []
    for name, field in section.model_fields.items():
        key = f"{prefix}{name}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows += describe(annotation, f"{key}.")
            continue
        default = field.get_default(call_default_factory=True)
        if get_origin(annotation) is Literal:
            type_name = " | ".join(repr(v) for v in get_args(annotation))
        elif get_origin(annotation) is None and isinstance(annotation, type):
            type_name = annotation.__name__
        else:
            type_name = str(annotation).replace("typing.", "")
        rows.append({"key": key, "type": type_name, "default": repr(default), "description": field.description or ""})
    return rows


def _merged(base: dict[str, Any], changes: dict[str, Any], section: type[BaseModel] = Params) -> dict[str, Any]:
    """``base`` with ``changes`` applied: sections (sub-tables of the schema) are merged option by
    option; an option's value, a dict-valued one too, is replaced as a whole (as in ``case.toml``)."""
    out = dict(base)
    for key, value in changes.items():
        field = section.model_fields.get(key)
        sub = field.annotation if field is not None else None
        if isinstance(sub, type) and issubclass(sub, BaseModel) and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value, sub)
        else:
            out[key] = value
    return out
