"""What a plan achieves, recomputed from the plan and the schedules (MODEL.md §5, §8).

The imbalance before the plan (as built, uncontrolled charging) and the line loading
before and after are recomputed with :mod:`lvbalance.flows` from the customers' power,
not read from the model; the imbalance after comes from the model's feeder loads (and the
independent re-check, :mod:`~lvbalance.evaluate.recheck`, recomputes it from the files).
"""

from __future__ import annotations

import numpy as np

from lvbalance.dims import CUSTOMER, SCENARIO, STEP
from lvbalance.evaluate.variation import expected_load_rate_variation, load_rate_cube, schedule_variation
from lvbalance.flows import (
    expected_imbalance_pct,
    feeder_imbalance_pct,
    feeder_loads,
    imbalance_table_pct,
    line_flows,
    load_rates,
    max_run,
    rewire,
)
from lvbalance.model.extract import customer_power
from lvbalance.model.run import MethodResult
from lvbalance.results import Metrics


def compute_metrics(result: MethodResult) -> Metrics:
    """Imbalance before and after (Eq 14-15), line loading and heavy-load runs (Eq 20), cost, size,
    and how jagged the EV schedules and feeder load rates are (:mod:`lvbalance.evaluate.variation`)."""
    built, info, plan = result.built, result.info, result.plan
    d = built.data
    case = d.case
    customers = [str(c) for c in d.load_kw[CUSTOMER].values]
    beta = d.probability.to_numpy()
    scen = list(d.probability[SCENARIO].values)

    flows0 = line_flows(case, rewire(case, []), customer_power(built, None), customers)
    loads0 = feeder_loads(case, flows0)
    imb0 = feeder_imbalance_pct(case, loads0)
    imb1 = imbalance_table_pct(result.feeder_loads).unstack(STEP).reindex(scen).to_numpy()
    flows1 = line_flows(case, rewire(case, plan.moves), customer_power(built, result.schedules), customers)

    rating = case.network.lines["rated_kw"]
    mu = case.params.operation.heavy_load_share
    heavy = {lid: max_run(np.abs(P) > mu * rating[lid]) for lid, P in flows1.items() if lid in rating.index}
    per_scenario = [
        {
            "scenario": s,
            "probability": float(beta[k]),
            "expected_imbalance_before_pct": float(imb0[k].mean()),
            "expected_imbalance_after_pct": float(imb1[k].mean()),
            "peak_imbalance_before_pct": float(imb0[k].max()),
            "peak_imbalance_after_pct": float(imb1[k].max()),
        }
        for k, s in enumerate(scen)
    ]
    # total variation, from the output tables (as built: uncontrolled charging, no move)
    sv = schedule_variation(result.schedules.table)
    feeders = list(case.network.feeder_rating_kw.index)
    tv0 = expected_load_rate_variation(load_rates(case, loads0), beta)
    tv1 = expected_load_rate_variation(load_rate_cube(result.feeder_loads, [str(x) for x in scen], feeders), beta)
    return Metrics(
        method=built.method.id,
        status=info.status,
        expected_imbalance_before_pct=expected_imbalance_pct(imb0, beta),
        expected_imbalance_after_pct=result.expected_imbalance_pct,
        peak_imbalance_before_pct=float(imb0.max()),
        peak_imbalance_after_pct=float(imb1.max()),
        per_scenario=per_scenario,
        max_line_loading_before=max_line_loading(flows0, rating.to_dict()),
        max_line_loading_after=max_line_loading(flows1, rating.to_dict()),
        heavy_load_max_steps={k: int(v) for k, v in heavy.items() if v > 0},
        moved_customers=plan.moved_customers,
        total_cost=plan.total_cost,
        route_length_m=float(sum(mv.route_length_m for mv in plan.moves)),
        objective=info.objective,
        mip_gap=info.mip_gap,
        bound=info.bound,
        build_time_s=built.build_time_s,
        solve_time_s=info.solve_time_s,
        model_size=built.size,
        ev_total_variation_ratio_median=sv.tv_ratio_median,
        ev_days_with_pulse_before_pct=sv.pulse_before_pct,
        ev_days_with_pulse_after_pct=sv.pulse_after_pct,
        load_rate_variation_before=tv0,
        load_rate_variation_after=tv1,
        load_rate_variation_ratio=tv1 / tv0 if tv0 > 0 else float("nan"),
        schedules_smoothed=result.smoothed,
        violations=result.violations,
    )


def max_line_loading(flows: dict[str, np.ndarray], rating_kw: dict[str, float]) -> float:
    """Largest ``|P| / P_rated`` over the existing lines, scenarios and steps [-] (new lines have no rating yet)."""
    return max(float(np.abs(P).max() / rating_kw[lid]) for lid, P in flows.items() if lid in rating_kw)
