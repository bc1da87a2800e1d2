"""Typed results of a plan and their files (DESIGN.md, "Outputs": a stable schema).

``plan.json``, ``schedules.csv``, ``feeder_loads.csv``, ``metrics.json``. Every file is
written atomically (temporary file, then rename): a failed run leaves no half file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd


class SolveStatus(StrEnum):
    """How a method's solve ended (``metrics.json`` ``status``)."""

    OPTIMAL = "optimal"
    TIME_LIMIT = "time_limit"  # best plan found, with its gap
    WORK_LIMIT = "work_limit"  # Benders stopped at solver.benders_max_iterations: best plan found, with its gap
    NO_MOVE_FALLBACK = "time_limit_no_plan"  # no plan found in time: the no-move plan, its schedule optimised
    INFEASIBLE = "infeasible"
    ERROR = "error"


@dataclass(frozen=True)
class Move:
    """One built move: the load combination of ``end_node`` from ``cut_node`` onto ``to_node``."""

    end_node: str
    cut_node: str
    to_node: str
    customers: list[str]
    from_feeder: str
    to_feeder: str
    route_length_m: float
    cost: float
    route: list[list[float]]


@dataclass(frozen=True)
class Plan:
    """Stage 1 decision of one method, priced along streets."""

    method: str
    objective: float
    mip_gap: float
    solve_time_s: float
    total_cost: float
    moved_customers: int
    moves: list[Move] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return finite(asdict(self))

    @staticmethod
    def from_json(d: dict[str, Any]) -> Plan:
        moves = [Move(**m) for m in d.get("moves", [])]
        return Plan(d["method"], d["objective"], d["mip_gap"], d["solve_time_s"], d["total_cost"], d["moved_customers"], moves)


@dataclass(frozen=True)
class Schedules:
    """EV power per scenario and step: ``scenario, step, customer_id, p_uncontrolled_kw, p_scheduled_kw``."""

    table: pd.DataFrame


@dataclass(frozen=True)
class Metrics:
    """What the plan achieves (all percentages are points of load rate, Eq 14-15)."""

    method: str
    status: SolveStatus
    expected_imbalance_before_pct: float
    expected_imbalance_after_pct: float
    peak_imbalance_before_pct: float
    peak_imbalance_after_pct: float
    per_scenario: list[dict[str, Any]]
    max_line_loading_before: float
    max_line_loading_after: float
    heavy_load_max_steps: dict[str, int]
    moved_customers: int
    total_cost: float
    route_length_m: float
    objective: float
    mip_gap: float
    bound: float
    build_time_s: float
    solve_time_s: float
    model_size: dict[str, int]
    ev_total_variation_ratio_median: float = math.nan
    """median over EV-days of TV(scheduled) / TV(uncontrolled) [-] (:mod:`lvbalance.evaluate.variation`)"""
    ev_days_with_pulse_before_pct: float = math.nan
    """EV-days with a 0 -> >= 3 kW -> 0 pulse, uncontrolled charging [%]"""
    ev_days_with_pulse_after_pct: float = math.nan
    """EV-days with a 0 -> >= 3 kW -> 0 pulse, as scheduled [%]"""
    load_rate_variation_before: float = math.nan
    """expected total variation of the feeder load rates, summed over feeders, as built [-]"""
    load_rate_variation_after: float = math.nan
    """the same after the plan (scheduled EVs) [-]"""
    load_rate_variation_ratio: float = math.nan
    """after / before [-]"""
    schedules_smoothed: bool | None = None
    """the EV schedules are the smoothest optimal ones (MODEL.md §6); false: the smoothing stage
    failed (e.g. its time limit) and the optimum's schedules were kept; null: not attempted"""
    violations: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return finite(asdict(self))


def finite(obj: Any) -> Any:
    """JSON-safe: NaN and infinities become None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite(v) for v in obj]
    return obj


# --------------------------------------------------------------------------- atomic files


def write_atomic(path: Path, write: Any) -> None:
    """Call ``write(tmp_path)`` then move the file into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; outputs are ordinary readable files
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, lambda p: p.write_text(json.dumps(data, indent=2), encoding="utf-8"))


def write_csv(path: Path, df: pd.DataFrame) -> None:
    write_atomic(path, lambda p: df.to_csv(p, index=False, float_format="%.12g"))


def write_results(out_dir: str | Path, plan: Plan, schedules: Schedules, feeder_loads: pd.DataFrame, metrics: Metrics) -> Path:
    """Write ``plan.json``, ``schedules.csv``, ``feeder_loads.csv``, ``metrics.json``."""
    out = Path(out_dir)
    write_json(out / "plan.json", plan.to_json())
    write_csv(out / "schedules.csv", schedules.table[["scenario", "step", "customer_id", "p_uncontrolled_kw", "p_scheduled_kw"]])
    write_csv(out / "feeder_loads.csv", feeder_loads[["scenario", "step", "feeder", "p_kw", "load_rate"]])
    write_json(out / "metrics.json", metrics.to_json())
    return out


def read_plan(out_dir: str | Path) -> Plan:
    return Plan.from_json(json.loads((Path(out_dir) / "plan.json").read_text(encoding="utf-8")))


TIME_SUFFIX = "_time_s"
"""Fields and columns whose names end so are timings: the only outputs that may differ between two
runs of the same input."""


def without_times(value: object) -> object:
    """``value`` (parsed JSON) with every field whose name ends in :data:`TIME_SUFFIX` removed, at any depth."""
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if not str(k).endswith(TIME_SUFFIX)}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


def outputs_without_times(out: Path) -> dict[str, object]:
    """Every file below ``out`` by relative path: JSON without timing fields, ``comparison.csv``
    without its time columns, anything else as bytes (what must match between two runs)."""
    files: dict[str, object] = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = str(path.relative_to(out))
        if path.suffix == ".json":
            files[rel] = without_times(json.loads(path.read_text()))
        elif path.name == "comparison.csv":
            df = pd.read_csv(path)
            files[rel] = df.drop(columns=[c for c in df.columns if c.endswith(TIME_SUFFIX)]).to_csv(index=False)
        else:
            files[rel] = path.read_bytes()
    return files
