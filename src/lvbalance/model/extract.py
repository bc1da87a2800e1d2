"""Turn a solved model into typed results: the plan, EV schedules, feeder loads, slack used.

Everything here reads the solution of a :class:`~lvbalance.model.build.BuiltModel`
through its handles; nothing is recomputed (that is :mod:`lvbalance.evaluate`'s job).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lvbalance.dims import CUSTOMER, EV, FEEDER, LINE, SCENARIO, STEP
from lvbalance.model.build import BuiltModel
from lvbalance.model.solve import SolveInfo
from lvbalance.results import Move, Plan, Schedules


def extract_plan(built: BuiltModel, info: SolveInfo) -> Plan:
    """Chosen moves, each priced along streets (method m3 included)."""
    moves = chosen_moves(built)
    return Plan(
        method=built.method.id,
        objective=info.objective,
        mip_gap=info.mip_gap,
        solve_time_s=info.solve_time_s,
        total_cost=float(sum(mv.cost for mv in moves)),
        moved_customers=int(sum(len(mv.customers) for mv in moves)),
        moves=moves,
    )


def chosen_moves(built: BuiltModel) -> list[Move]:
    if built.u is None:
        return []
    u = built.u.solution.to_series()
    opts = built.data.options
    out = []
    for oid in u.index[u.to_numpy() > 0.5]:
        o = opts.loc[oid]
        route = [[round(float(x), 3), round(float(y), 3)] for x, y in o["route"].coords] if o["route"] is not None else []
        out.append(
            Move(
                end_node=str(o["end_node"]),
                cut_node=str(o["cut_node"]),
                to_node=str(o["to_node"]),
                customers=[str(c) for c in o["customers"]],
                from_feeder=str(o["from_feeder"]),
                to_feeder=str(o["to_feeder"]),
                route_length_m=float(o["street_route_length_m"]),
                cost=float(o["street_cost"]),
                route=route,
            )
        )
    return out


def extract_schedules(built: BuiltModel) -> Schedules:
    """EV power: uncontrolled ``X`` and scheduled ``x = (1 - alpha) X + v``."""
    d = built.data
    X = d.ev_uncontrolled_kw
    if built.ev is not None:
        x = (1 - built.const.alpha) * X + built.ev.v.solution
    else:
        x = X
    df = (
        pd.DataFrame(
            {
                "p_uncontrolled_kw": X.transpose(SCENARIO, STEP, EV).to_series(),
                "p_scheduled_kw": x.transpose(SCENARIO, STEP, EV).to_series(),
            }
        )
        .reset_index()
        .rename(columns={EV: "customer_id"})
    )
    return Schedules(df[["scenario", "step", "customer_id", "p_uncontrolled_kw", "p_scheduled_kw"]])


def customer_power(built: BuiltModel, schedules: Schedules | None) -> np.ndarray:
    """(customer, scenario, step) power [kW]: profiles, EVs as scheduled (or uncontrolled)."""
    d = built.data
    p = d.load_kw.transpose(CUSTOMER, SCENARIO, STEP).to_numpy().copy()
    customers = list(d.load_kw[CUSTOMER].values)
    X = d.ev_uncontrolled_kw.transpose(EV, SCENARIO, STEP)
    for k, e in enumerate(d.evs):
        p[customers.index(e)] = X.values[k]
    if schedules is not None and len(schedules.table):
        piv = schedules.table.pivot_table(index="customer_id", columns=["scenario", "step"], values="p_scheduled_kw")
        order = pd.MultiIndex.from_product([d.load_kw[SCENARIO].values, d.load_kw[STEP].values])
        piv = piv.reindex(columns=order)  # pivot_table sorts scenarios by name; the model's order is what counts
        for e in d.evs:
            p[customers.index(e)] = piv.loc[e].to_numpy().reshape(p.shape[1:])
    return p


def model_feeder_loads(built: BuiltModel) -> pd.DataFrame:
    """Feeder loads from the model's own flows: ``scenario, step, feeder, p_kw, load_rate``."""
    d = built.data
    flow = built.flow.solution
    rows = []
    for feeder, line_id in d.feeder_outlet.items():
        df = flow.sel({LINE: line_id}).transpose(SCENARIO, STEP).to_series().rename("p_kw").reset_index()
        df["feeder"] = feeder
        df["load_rate"] = df["p_kw"] / float(d.feeder_rating_kw.sel({FEEDER: feeder}))
        rows.append(df)
    return pd.concat(rows, ignore_index=True)[["scenario", "step", FEEDER, "p_kw", "load_rate"]]


def slack_violations(built: BuiltModel) -> list[dict[str, object]]:
    """Line rules the plan could only meet with penalised slack (MODEL.md §5): line, scenario, steps."""
    out: list[dict[str, object]] = []
    slack = built.slack
    for var, kind in ((slack.overload_kw, "rating exceeded [kW]"), (slack.heavy_excess, "heavy load longer than T_max [steps]")):
        if var is None:
            continue
        sol = var.solution.fillna(0.0)
        hit = sol.where(sol > 1e-6).to_series().dropna()
        for (line, scenario), grp in hit.groupby(level=[LINE, SCENARIO]):
            out.append(
                {
                    "line": str(line),
                    "scenario": str(scenario),
                    "kind": kind,
                    "steps": [int(s) for s in grp.index.get_level_values(STEP)],
                    "max": float(grp.max()),
                }
            )
    return out
