"""The numbers the MILP is built from, assembled apart from the model (STYLE 5).

:func:`model_data` turns a case, its move options (``coupling``) and its scenarios
(``profiles``) into arrays over named dimensions. Everything here is plain data; the
model builder in :mod:`lvbalance.model.build` only reads it.

Dimensions: ``scenario``, ``step``, ``customer``, ``ev``, ``feeder``, ``line``, ``option``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from lvbalance.case import Case
from lvbalance.coupling import OPTION_COLUMNS
from lvbalance.dims import CUSTOMER, EV, FEEDER, GROUP, LINE, OPTION, SCENARIO, STEP  # noqa: F401 (re-exported)


@dataclass(frozen=True)
class ModelData:
    """Inputs of one two-stage model (MODEL.md §4-§6).

    Attributes
    ----------
    probability : (scenario,) beta_s [-]
    load_kw : (scenario, step, customer) p[j,s,t] of non-ev customers [kW] (ev customers 0)
    ev_uncontrolled_kw : (scenario, step, ev) X[e,s,t] [kW]
    charge_kw, discharge_kw : (ev,) Pc, Pd [kW]; ``v2g`` (ev,) bool
    alpha : (scenario, step) V2G participation share [-]
    line_rating_kw : (line,) [kW]; ``feeder_rating_kw`` (feeder,) [kW]
    downstream : (line, customer) 1 where the customer hangs below the line before any move
    options : coupling's move options (may be empty)
    lc : (option, customer) 1 where the customer belongs to the option's load combination
    line_effect : (option, line) -1 where the move takes its LC off the line, +1 where it adds it
    """

    case: Case
    probability: xr.DataArray
    load_kw: xr.DataArray
    ev_uncontrolled_kw: xr.DataArray
    charge_kw: xr.DataArray
    discharge_kw: xr.DataArray
    v2g: xr.DataArray
    alpha: xr.DataArray
    step_hours: float
    line_rating_kw: xr.DataArray
    feeder_rating_kw: xr.DataArray
    feeder_outlet: pd.Series
    downstream: xr.DataArray
    options: pd.DataFrame
    lc: xr.DataArray
    line_effect: xr.DataArray
    end_node: pd.Series

    @property
    def scenarios(self) -> pd.Index:
        return self.probability.indexes[SCENARIO]

    @property
    def evs(self) -> pd.Index:
        return self.charge_kw.indexes[EV]

    @property
    def n_steps(self) -> int:
        return self.load_kw.sizes[STEP]


def subtree_matrix(case: Case) -> pd.DataFrame:
    """(line x node) 1 where the node lies below the line (the line's child and all beneath it)."""
    net = case.network
    parent = net.parent
    lines = list(net.lines.index)
    pos = {lid: k for k, lid in enumerate(lines)}
    nodes = list(net.nodes.index)
    mat = np.zeros((len(lines), len(nodes)), dtype=np.int8)
    for j, node in enumerate(nodes):
        n = node
        while n in parent.index:  # walk up to the busbar, marking every line passed
            mat[pos[parent.at[n, "line_id"]], j] = 1
            n = parent.at[n, "parent_node"]
    return pd.DataFrame(mat, index=pd.Index(lines, name=LINE), columns=pd.Index(nodes, name="node"))


def model_data(case: Case, scenarios, options: pd.DataFrame | None = None) -> ModelData:
    """Assemble the model's inputs.

    Parameters
    ----------
    case : a validated case
    scenarios : ``lvbalance.profiles.ScenarioSet`` (``scenarios``, ``p_kw``, ``step_hours``, ``clock_hours()``)
    options : ``lvbalance.coupling.move_options`` table; None or empty: no move is possible
    """
    cust = case.customers
    is_ev = (cust["type"] == "ev").to_numpy()
    p = scenarios.p_kw.transpose(SCENARIO, STEP, CUSTOMER).sel(customer=list(cust.index))
    load = p.where(xr.DataArray(~is_ev, dims=CUSTOMER, coords={CUSTOMER: list(cust.index)}), 0.0)
    evs = cust.index[is_ev]
    charge = xr.DataArray(cust.loc[evs, "charge_kw"].to_numpy(float), dims=EV, coords={EV: list(evs)})
    X = p.sel(customer=list(evs)).rename(customer=EV).clip(min=0.0)
    X = X.where(X <= charge, charge)  # Eq 22: uncontrolled charging above the charger rating is capped

    prob = xr.DataArray(scenarios.scenarios["probability"].to_numpy(float), dims=SCENARIO, coords={SCENARIO: list(p.indexes[SCENARIO])})
    hours = np.floor(np.asarray(scenarios.clock_hours())).astype(int) % 24
    alpha_hour = np.asarray(case.params.operation.v2g_participation)
    alpha = xr.DataArray(
        np.broadcast_to(alpha_hour[hours], (prob.size, len(hours))).copy(),
        dims=(SCENARIO, STEP),
        coords={SCENARIO: prob[SCENARIO], STEP: p[STEP]},
    )

    net = case.network
    sub = subtree_matrix(case)
    node_cols = sub.columns
    cust_node = cust["node_id"].to_numpy()
    downstream = sub.to_numpy()[:, node_cols.get_indexer(cust_node)]
    downstream_da = xr.DataArray(
        downstream.astype(float), dims=(LINE, CUSTOMER), coords={LINE: list(sub.index), CUSTOMER: list(cust.index)}
    )

    options = _empty_options() if options is None or options.empty else options
    opt_ids = list(options.index)
    lc = np.zeros((len(opt_ids), len(cust)), dtype=float)
    effect = np.zeros((len(opt_ids), len(sub.index)), dtype=float)
    cpos = {c: k for k, c in enumerate(cust.index)}
    for k, (_, o) in enumerate(options.iterrows()):
        for c in o["customers"]:
            lc[k, cpos[c]] = 1.0
        effect[k] -= sub[o["cut_node"]].to_numpy()
        effect[k] += sub[o["to_node"]].to_numpy()

    ratings = net.feeder_rating_kw
    return ModelData(
        case=case,
        probability=prob,
        load_kw=load,
        ev_uncontrolled_kw=X,
        charge_kw=xr.DataArray(cust.loc[evs, "charge_kw"].to_numpy(float), dims=EV, coords={EV: list(evs)}),
        discharge_kw=xr.DataArray(
            np.where(cust.loc[evs, "v2g"], cust.loc[evs, "discharge_kw"], 0.0).astype(float), dims=EV, coords={EV: list(evs)}
        ),
        v2g=xr.DataArray(cust.loc[evs, "v2g"].to_numpy(bool), dims=EV, coords={EV: list(evs)}),
        alpha=alpha,
        step_hours=float(scenarios.step_hours),
        line_rating_kw=xr.DataArray(net.lines["rated_kw"].to_numpy(float), dims=LINE, coords={LINE: list(net.lines.index)}),
        feeder_rating_kw=xr.DataArray(ratings.to_numpy(float), dims=FEEDER, coords={FEEDER: list(ratings.index)}),
        feeder_outlet=net.feeder_outlets,
        downstream=downstream_da,
        options=options,
        lc=xr.DataArray(lc, dims=(OPTION, CUSTOMER), coords={OPTION: opt_ids, CUSTOMER: list(cust.index)}),
        line_effect=xr.DataArray(effect, dims=(OPTION, LINE), coords={OPTION: opt_ids, LINE: list(sub.index)}),
        end_node=options["end_node"] if len(options) else pd.Series(dtype=str),
    )


def _empty_options() -> pd.DataFrame:
    cols = list(OPTION_COLUMNS)
    return pd.DataFrame(columns=cols, index=pd.Index([], name=OPTION))
