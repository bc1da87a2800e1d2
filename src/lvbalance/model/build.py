"""Build the two-stage stochastic MILP (MODEL.md §4-§6) with linopy.

``build_model`` reads like the recipe of MODEL.md: constants from the data
(:mod:`~lvbalance.model.bounds`), stage 1 (:mod:`~lvbalance.model.stage1`: move choice
and its rules), stage 2 (:mod:`~lvbalance.model.stage2`: EV schedule with V2G, moved EVs,
line flows and rules, imbalance), the objective Eq 27 (:mod:`~lvbalance.model.objective`).
The extensive form is one MILP: ``u`` is shared by all scenarios.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import linopy
import pandas as pd

from lvbalance.model.bounds import Constants, constrained_lines, derive_constants, option_line_effect, with_ev_pairs
from lvbalance.model.data import ModelData
from lvbalance.model.methods import Method
from lvbalance.model.objective import set_objective
from lvbalance.model.stage1 import add_move_choice, add_stage1, plan_cost, undominated_options
from lvbalance.model.stage2 import (
    EvSchedule,
    Imbalance,
    LineSlack,
    add_ev_schedule,
    add_imbalance,
    add_line_flows,
    add_line_limits,
    add_moved_ev_copies,
    add_peak_imbalance,
)


@dataclass
class BuiltModel:
    """A built model and the handles of what it holds."""

    model: linopy.Model
    data: ModelData
    method: Method
    const: Constants
    constrained_lines: list[str]
    options: pd.DataFrame
    """the move options in the model (after the exact reduction)"""
    u: linopy.Variable | None
    """(option) move choice; None when nothing can move"""
    ev: EvSchedule | None
    """V2G group power and discharge; None without EVs"""
    flow: linopy.LinearExpression
    """(line, scenario, step) power on the constrained lines [kW]"""
    imbalance: Imbalance
    """Eq 14-15 epigraph and E_I [%]"""
    slack: LineSlack
    """slack of the line rules (Eq 20)"""
    build_time_s: float = 0.0

    @property
    def expected_imbalance(self) -> linopy.LinearExpression:
        """Eq 15: E_I [%]."""
        return self.imbalance.expected_pct

    @property
    def size(self) -> dict[str, int]:
        """Variables, binaries, constraints of the model."""
        m = self.model
        return {
            "variables": int(m.nvars),
            "binaries": int(m.binaries.nvars) if len(m.binaries) else 0,
            "constraints": int(m.ncons),
            "move_options": int(len(self.data.options)) if self.method.moves else 0,
            "move_options_kept": int(len(self.options)),
        }


def build_model(data: ModelData, method: Method, *, reduce_options: bool = True, plan_rules: bool = True) -> BuiltModel:
    """The extensive-form MILP of ``method`` on ``data``.

    ``reduce_options``: drop dominated move options first (exact; see
    :func:`~lvbalance.model.stage1.undominated_options`).
    ``plan_rules``: False leaves out the stage-1 rules (``u`` stays, without its rows): for the
    Benders scenario subproblems, where the plan is fixed and the master holds the rules.
    """
    t0 = time.perf_counter()
    m = linopy.Model(force_dim_names=True)
    options = data.options if method.moves else data.options.iloc[0:0]
    const = derive_constants(data, method, options)
    lines = constrained_lines(data, const)
    if reduce_options:
        options = undominated_options(options, option_line_effect(data, options, lines))
    const = with_ev_pairs(const, data, options, lines)

    u = add_stage1(m, options, data.case.params.planning) if plan_rules else add_move_choice(m, options)
    ev = add_ev_schedule(m, data, const)
    v = ev.v if ev is not None else None
    y = add_moved_ev_copies(m, u, v, data, const)
    flow = add_line_flows(m, u, v, y, data, const, options, lines)
    slack = add_line_limits(m, flow, data, const)
    imbalance = add_imbalance(m, flow, data)
    peak = add_peak_imbalance(m, imbalance, data)
    set_objective(
        m,
        plan_cost=(u * plan_cost(options)).sum() if u is not None else None,
        expected_imbalance_pct=imbalance.expected_pct,
        expected_peak_pct=peak,
        ev=ev,
        slack=slack.expected,
        data=data,
    )
    return BuiltModel(m, data, method, const, lines, options, u, ev, flow, imbalance, slack, time.perf_counter() - t0)
