"""The objective (MODEL.md §6, Eq 27)."""

from __future__ import annotations

import linopy

from lvbalance.model.data import ModelData
from lvbalance.model.stage2 import EvSchedule


def set_objective(
    m: linopy.Model,
    *,
    plan_cost: linopy.LinearExpression | None,
    expected_imbalance_pct: linopy.LinearExpression,
    expected_peak_pct: linopy.LinearExpression,
    ev: EvSchedule | None,
    slack: linopy.LinearExpression | None,
    data: ModelData,
) -> None:
    """Eq 27: ``min lambda1 C_plan + lambda2 E_I[%] + wear``, plus two additions.

    * ``lambda_peak sum_s beta_s peak_s``: a small weight on each scenario's peak
      imbalance that picks, among schedules of equal ``E_I``, the lowest peaks;
    * ``penalty x expected slack`` of the line rules (Eq 20), far above any construction cost.

    ``plan_cost``: ``sum_o C[o] u[o]`` (Eq 3) [currency]; battery wear is priced per kWh
    discharged, probability-weighted.
    """
    p = data.case.params
    objective = p.objective.imbalance_weight * expected_imbalance_pct + p.objective.peak_imbalance_weight * expected_peak_pct
    if plan_cost is not None:
        objective = objective + p.objective.cost_weight * plan_cost
    if ev is not None and p.operation.battery_wear_cost_per_kwh > 0:
        wear = p.operation.battery_wear_cost_per_kwh * data.step_hours
        objective = objective + (ev.discharge * (wear * data.probability)).sum()
    if slack is not None:
        objective = objective + p.operation.violation_penalty * slack
    m.add_objective(objective)
