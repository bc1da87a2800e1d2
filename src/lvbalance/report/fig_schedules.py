"""Fig 11 of the paper: one EV's schedule against uncontrolled charging, and the area load.

:func:`ev_schedule_data` takes the case and one method's files (``schedules.csv``,
``feeder_loads.csv``, ``scenarios.csv``) and returns exactly what is drawn;
:func:`plot_ev_schedule` draws it on a clock-time axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from lvbalance.case import Case
from lvbalance.report.outputs import MethodOutputs, hours_since_start, step_hours
from lvbalance.report.style import clock_axis, method_label, stairs_x


@dataclass(frozen=True)
class EvScheduleData:
    """One EV in one scenario, as Fig 11 draws it.

    ``table`` has ``step``, ``hour`` [h since the horizon start], ``p_uncontrolled_kw``,
    ``p_scheduled_kw`` [kW] (from ``schedules.csv``; charging positive, V2G discharging
    negative), ``area_load_kw`` [kW] (sum of the method's ``feeder_loads.csv``) and
    ``area_load_uncontrolled_kw`` [kW] (the same with every EV uncontrolled).
    ``shifted_kwh`` [kWh]: sum over steps of |scheduled - uncontrolled| x step length.
    ``probability``: of the scenario, from ``scenarios.csv`` (NaN when absent).
    """

    method: str
    customer_id: str
    scenario: str
    probability: float
    shifted_kwh: float
    table: pd.DataFrame


def ev_schedule_data(
    case: Case, outputs: MethodOutputs, *, customer_id: str | None = None, scenario: str | None = None
) -> EvScheduleData | None:
    """The EV (and scenario) whose schedule differs most from uncontrolled charging; None without EVs.

    Parameters
    ----------
    case
        The case (step length, horizon start).
    outputs
        One method's files.
    customer_id, scenario
        Pick among this EV's (this scenario's) schedules only; default: all.

    Returns
    -------
    EvScheduleData or None
        The schedule with the largest shifted energy [kWh]; None when ``schedules.csv`` is empty.

    Raises
    ------
    ValueError
        When ``customer_id`` / ``scenario`` select no schedule.
    """
    s = outputs.schedules
    if s.empty:
        return None
    dt = step_hours(case)
    change = (s["p_scheduled_kw"] - s["p_uncontrolled_kw"]).abs().groupby([s["customer_id"], s["scenario"]], sort=False).sum() * dt
    pick = change
    if customer_id is not None:
        pick = pick[pick.index.get_level_values(0) == customer_id]
    if scenario is not None:
        pick = pick[pick.index.get_level_values(1) == scenario]
    if pick.empty:
        raise ValueError(f"no schedule for customer {customer_id!r} in scenario {scenario!r} in {outputs.folder}")
    cid, scen = pick.idxmax()
    mine = s[(s["customer_id"] == cid) & (s["scenario"] == scen)].sort_values("step")
    loads = outputs.feeder_loads[outputs.feeder_loads["scenario"] == scen]
    area = loads.groupby("step")["p_kw"].sum()
    ev_delta = s[s["scenario"] == scen].assign(d=lambda d: d["p_scheduled_kw"] - d["p_uncontrolled_kw"]).groupby("step")["d"].sum()
    steps = mine["step"].to_numpy()
    table = pd.DataFrame(
        {
            "step": steps,
            "hour": hours_since_start(case, steps),
            "p_uncontrolled_kw": mine["p_uncontrolled_kw"].to_numpy(float),
            "p_scheduled_kw": mine["p_scheduled_kw"].to_numpy(float),
            "area_load_kw": area.reindex(steps).to_numpy(float),
            "area_load_uncontrolled_kw": (area - ev_delta.reindex(area.index, fill_value=0.0)).reindex(steps).to_numpy(float),
        }
    )
    prob = float(outputs.scenarios.loc[scen, "probability"]) if scen in outputs.scenarios.index else float("nan")
    return EvScheduleData(outputs.method, str(cid), str(scen), prob, float(pick.max()), table)


def plot_ev_schedule(case: Case, data: EvScheduleData) -> Figure:
    """Fig 11: the EV's uncontrolled and scheduled power (top) and the area load with both (bottom).

    Parameters
    ----------
    case
        The case (clock-time axis).
    data
        From :func:`ev_schedule_data`; powers [kW].

    Returns
    -------
    matplotlib.figure.Figure
        Two panels sharing the clock-time axis.
    """
    t = data.table
    x = stairs_x(t["hour"].to_numpy(), case)
    fig = Figure(figsize=(12, 7), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.stairs(t["p_uncontrolled_kw"], x, baseline=None, color="0.35", lw=1.8, ls="--", label="uncontrolled charging")
    top.stairs(t["p_scheduled_kw"], x, baseline=0, fill=True, color="#1f77b4", alpha=0.35)
    top.stairs(t["p_scheduled_kw"], x, baseline=None, color="#1f77b4", lw=2.0, label="scheduled (V2G: negative = to the grid)")
    top.axhline(0, color="black", lw=0.8)
    top.set_ylabel("EV power [kW]")
    top.set_title(
        f"EV {data.customer_id}, scenario {data.scenario} (probability {data.probability:.2f}): {data.shifted_kwh:.1f} kWh shifted",
        fontsize=11,
    )
    top.legend(loc="upper right", fontsize=9)
    bottom.stairs(t["area_load_uncontrolled_kw"], x, baseline=None, color="0.35", lw=1.8, ls="--", label="area load, all EVs uncontrolled")
    bottom.stairs(t["area_load_kw"], x, baseline=None, color="#d62728", lw=2.0, label="area load, EVs scheduled")
    bottom.set_ylabel("area load [kW]")
    bottom.legend(loc="upper right", fontsize=9)
    for ax in (top, bottom):
        clock_axis(ax, case, len(t))
    top.set_xlabel("")
    fig.suptitle(f"{method_label(data.method)}: EV schedule with the largest change", fontsize=12)
    return fig
