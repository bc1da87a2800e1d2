"""A planned method's powers, and its AC check before and after the plan (MODEL.md §8).

:func:`method_power` reads the customer powers of a :class:`~lvbalance.model.run.MethodResult`
in the model's order (EVs uncontrolled or as scheduled); :func:`ac_before_after` runs
:func:`lvbalance.powerflow.ac.ac_check` on the network as built with uncontrolled EV charging
and on the plan with its EV schedule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lvbalance.case import Case
from lvbalance.dims import CUSTOMER, EV, SCENARIO, STEP
from lvbalance.powerflow.ac import AcCheckResult, ac_check
from lvbalance.results import Move, Plan

if TYPE_CHECKING:
    from lvbalance.model.run import MethodResult


def method_power(result: MethodResult, *, scheduled: bool) -> tuple[np.ndarray, list[str], list[str], np.ndarray]:
    """Customer power of a planned method, in the model's order.

    Reads ``result.built.data`` (``load_kw``, ``ev_uncontrolled_kw``, ``evs``,
    ``probability``) and, when ``scheduled``, ``result.schedules.table``.

    Parameters
    ----------
    result : MethodResult
        What :func:`lvbalance.model.run.plan_method` returned.
    scheduled : bool
        ev customers as scheduled (schedule table aligned on the model's scenario and step
        labels); else uncontrolled.

    Returns
    -------
    power_kw : ndarray
        (customer, scenario, step) [kW], pv negative.
    customers : list of str
    scenarios : list of str
    probability : ndarray
        Scenario probabilities [-].
    """
    d = result.built.data
    customers = [str(c) for c in d.load_kw[CUSTOMER].values]
    scen = [str(s) for s in d.probability[SCENARIO].values]
    steps = list(d.load_kw[STEP].values)
    p = d.load_kw.transpose(CUSTOMER, SCENARIO, STEP).to_numpy().astype(float).copy()
    row = {c: k for k, c in enumerate(customers)}
    X = d.ev_uncontrolled_kw.transpose(EV, SCENARIO, STEP).to_numpy()
    for k, e in enumerate(d.evs):
        p[row[str(e)]] = X[k]
    tab = result.schedules.table
    if scheduled and len(tab):
        cols = pd.MultiIndex.from_product([scen, steps])
        piv = (
            tab.astype({"scenario": str, "customer_id": str})
            .pivot_table(index="customer_id", columns=["scenario", "step"], values="p_scheduled_kw")
            .reindex(columns=cols)
        )
        for e in d.evs:
            p[row[str(e)]] = piv.loc[str(e)].to_numpy().reshape(len(scen), len(steps))
    if np.isnan(p).any():
        raise ValueError("the method's powers or schedules lack values for some customer, scenario or step")
    return p, customers, scen, d.probability.to_numpy()


def ac_before_after(
    case: Case,
    result_method: MethodResult,
    result_baseline: MethodResult | None = None,
    *,
    before: AcCheckResult | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """AC figures before (no move, uncontrolled EV charging) and after (the plan, scheduled EVs).

    Parameters
    ----------
    case : Case
        The case the methods planned.
    result_method : MethodResult
        "before" uses its profiles with uncontrolled EVs on the network as built, "after"
        its ``plan`` and schedule.
    result_baseline : MethodResult, optional
        When given, its own plan and schedule are checked as well ("baseline").
    before : AcCheckResult, optional
        Another method's "before" on the same case and scenarios, reused (it is the same).
    **kwargs
        Passed to :func:`ac_check` (e.g. ``transformer``).

    Returns
    -------
    dict
        ``{"before": AcCheckResult, "after": ..., ["baseline": ...,] "table": DataFrame}``;
        the table's rows are the figures of :meth:`AcCheckResult.summary`, its columns
        before / after / baseline.
    """
    step_h = case.params.profiles.step_minutes / 60.0

    def run(res: MethodResult, scheduled: bool, plan: Plan | Sequence[Move]) -> AcCheckResult:
        power, customers, scen, beta = method_power(res, scheduled=scheduled)
        return ac_check(case, plan, power, customers, scen, probability=beta, step_hours=step_h, **kwargs)

    out: dict[str, Any] = {
        "before": before if before is not None else run(result_method, False, []),
        "after": run(result_method, True, result_method.plan),
    }
    if result_baseline is not None:
        out["baseline"] = run(result_baseline, True, result_baseline.plan)
    out["table"] = pd.DataFrame({k: v.summary() for k, v in out.items() if isinstance(v, AcCheckResult)})
    return out
