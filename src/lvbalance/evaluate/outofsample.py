"""How good is a plan beyond the scenarios it was made for (MODEL.md §8).

* :func:`out_of_sample`: fix a method's stage-1 plan, re-optimise only stage 2 (an LP) on
  each held-out real day, and give the distribution of the daily imbalance.
* :func:`stochastic_value`: value of the stochastic solution (VSS) and expected value of
  perfect information (EVPI) of the two-stage model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from lvbalance.case import Case
from lvbalance.dims import OPTION, SCENARIO
from lvbalance.flows import imbalance_table_pct
from lvbalance.model.build import build_model
from lvbalance.model.data import model_data
from lvbalance.model.extract import model_feeder_loads
from lvbalance.model.methods import Method, get_method
from lvbalance.model.run import MethodResult, plan_method
from lvbalance.model.smooth import without_smoothing
from lvbalance.model.solve import solve
from lvbalance.profiles import ProfileResult, ScenarioSet, day_context, day_profiles, mean_scenario, scenario_subset

log = logging.getLogger(__name__)


def day_scenarios(case: Case, profiles: ProfileResult, days: pd.DatetimeIndex) -> ScenarioSet:
    """Each real day as one scenario of equal probability (for stage-2 re-optimisation)."""
    p = day_profiles(case, profiles, days)
    names = [d.strftime("%Y-%m-%d") for d in pd.DatetimeIndex(p["day"].values)]
    p = p.rename(day="scenario").assign_coords(scenario=names)
    ctx = day_context(case, pd.DatetimeIndex(days))
    table = pd.DataFrame(
        {"probability": 1.0 / len(names), "day_type": ctx["day_type"].to_numpy(), "weather": ctx["weather"].fillna("").to_numpy()},
        index=pd.Index(names, name="scenario"),
    )
    sc = profiles.scenarios
    return ScenarioSet(scenarios=table, p_kw=p, step_hours=sc.step_hours, start_hour=sc.start_hour)


def _chosen_option_ids(result: MethodResult) -> list[str]:
    u_var = result.built.u
    if u_var is None:
        return []
    u = u_var.solution.to_series()
    return [str(o) for o in u.index[u.to_numpy() > 0.5]]


def daily_imbalance(result: MethodResult) -> pd.Series:
    """Mean imbalance of each scenario (here: each real day) [%] from the model's feeder loads."""
    return imbalance_table_pct(result.feeder_loads).groupby(level=SCENARIO).mean()


PLAN_ROW = "out_of_sample_plan"
"""Rows that fix the plan being evaluated (:func:`fixed_plan_imbalance`)."""


def fixed_plan_imbalance(case: Case, scen: ScenarioSet, plans: dict[str, MethodResult]) -> dict[str, pd.Series]:
    """Mean imbalance of each scenario of ``scen`` [%] with each method's stage-1 plan fixed and stage 2
    re-optimised.

    The methods that share a stage 2 (with V2G: m1, m3, v2g_only; without: baseline, m2) share one
    model over the union of their chosen moves, each plan fixed in turn by rows replaced plan by
    plan: stage 2 does not depend on the options a plan leaves out. Two builds instead of one per
    method: the default case's five methods on its 14 held-out days 5.5 s instead of 7.3 s, the same
    daily imbalance to 2e-15 (scratch run, twice).
    """
    out: dict[str, pd.Series] = {}
    for v2g in (False, True):
        mids = [mid for mid in plans if get_method(mid).v2g == v2g]
        if not mids:
            continue
        chosen = {mid: _chosen_option_ids(plans[mid]) if get_method(mid).moves else [] for mid in mids}
        tables = [plans[mid].built.data.options.loc[ids] for mid, ids in chosen.items() if ids]
        union = pd.concat(tables) if tables else None
        union = union[~union.index.duplicated()] if union is not None else None  # one move, one id (m3's: the same move)
        movers = [mid for mid in mids if get_method(mid).moves]
        method = get_method(movers[0] if union is not None and movers else mids[0])
        built = build_model(model_data(case, scen, union), method, reduce_options=False, plan_rules=False)
        for mid in mids:
            if PLAN_ROW in built.model.constraints:
                built.model.remove_constraints(PLAN_ROW)
            if built.u is not None:
                plan = np.isin(built.options.index, chosen[mid]).astype(float)
                fix = xr.DataArray(plan, dims=OPTION, coords={OPTION: built.options.index})
                built.model.add_constraints(built.u == fix, name=PLAN_ROW)
            solve(built, case.params.solver, plan_fixed=True)
            out[mid] = imbalance_table_pct(model_feeder_loads(built)).groupby(level=SCENARIO).mean()
    return {mid: out[mid] for mid in plans}


def out_of_sample(
    case: Case,
    profiles: ProfileResult,
    plans: dict[str, MethodResult],
    *,
    options: dict[bool, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Daily imbalance on the held-out days with each method's stage-1 plan fixed.

    Returns one row per method: mean, 95th percentile and worst daily imbalance [%] over
    the held-out days, the same for ``baseline`` on the same days, and the number of days.
    """
    days = profiles.heldout_days
    if not len(days):
        raise ValueError("no held-out days: set profiles.holdout_share > 0")
    case = without_smoothing(case)  # only the daily imbalance counts here: any optimal schedule gives it
    scen = day_scenarios(case, profiles, days)
    rows: dict[str, dict[str, object]] = {}
    per_day = fixed_plan_imbalance(case, scen, plans)
    base = per_day.get("baseline")
    if base is None:
        r = plan_method(case, scen, get_method("baseline"))
        base = daily_imbalance(r)
    for mid, d in per_day.items():
        rows[mid] = {
            "days": len(d),
            "mean_pct": float(d.mean()),
            "p95_pct": float(d.quantile(0.95)),
            "worst_pct": float(d.max()),
            "worst_day": str(d.idxmax()),
            "baseline_mean_pct": float(base.mean()),
            "baseline_p95_pct": float(base.quantile(0.95)),
            "baseline_worst_pct": float(base.max()),
            "days_better_than_baseline": int((d < base.reindex(d.index) - 1e-9).sum()),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("method")


@dataclass(frozen=True)
class StochasticValue:
    """Objective values of Eq 27 [currency] and what they mean.

    ``rp``: recourse problem (the stochastic plan); ``eev``: expected result of the plan
    made on the mean scenario; ``ws``: wait-and-see (each scenario planned with perfect
    foresight). ``vss = eev - rp >= 0``; ``evpi = rp - ws >= 0``.
    """

    rp: float
    eev: float
    ws: float
    mean_scenario_moves: list[str]
    stochastic_moves: list[str]

    @property
    def vss(self) -> float:
        return self.eev - self.rp

    @property
    def evpi(self) -> float:
        return self.rp - self.ws


def stochastic_value(
    case: Case,
    scenarios: ScenarioSet,
    method: Method | str = "m1",
    *,
    options: pd.DataFrame | None = None,
    rp_result: MethodResult | None = None,
) -> StochasticValue:
    """VSS and EVPI (MODEL.md §8) of ``method`` on ``scenarios``."""
    method = get_method(method) if isinstance(method, str) else method
    case = without_smoothing(case)  # objective values only
    if options is None and method.moves:
        from lvbalance.coupling import move_options

        options = move_options(case, straight_line=method.straight_line)
    rp = rp_result or plan_method(case, scenarios, method, options=options)
    ev = plan_method(case, mean_scenario(scenarios), method, options=options)
    ev_moves = _chosen_option_ids(ev)
    eev = plan_method(case, scenarios, method, options=options, fixed_moves=ev_moves if method.moves else None)
    beta = scenarios.scenarios["probability"]
    ws = 0.0
    for name, b in beta.items():
        ws += float(b) * plan_method(case, scenario_subset(scenarios, [str(name)]), method, options=options).info.objective
    log.info("RP %.2f, EEV %.2f, WS %.2f", rp.info.objective, eev.info.objective, ws)
    return StochasticValue(rp.info.objective, eev.info.objective, ws, ev_moves, _chosen_option_ids(rp))
