"""Feeder loads over the day: Fig 12 of the paper (imbalance, Eq 14) and feeder load rates.

Each figure is a pure ``..._data`` function over the case and the files read by
:mod:`lvbalance.report.outputs` (``feeder_loads.csv``, ``scenarios.csv``) and a ``plot_...``
function. Eq 14 is :func:`lvbalance.flows.imbalance_table_pct`, not computed here.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from lvbalance.case import Case
from lvbalance.flows import imbalance_table_pct
from lvbalance.report.outputs import BASELINE, MethodOutputs, before_feeder_loads, feeder_order, hours_since_start
from lvbalance.report.style import METHOD_COLOURS, clock_axis, feeder_colours, method_label, stairs_x


def imbalance_data(case: Case, runs: dict[str, MethodOutputs]) -> pd.DataFrame:
    """Eq 14 over the day, per scenario: as built (``before``) and after each non-baseline method [%].

    ``before`` comes from the baseline folder's ``feeder_loads.csv`` (or, without one, from
    ``profiles.csv`` on the as-built feeders).

    Parameters
    ----------
    case
        The case (step length, feeders).
    runs
        Every method's files, by method id (:func:`lvbalance.report.outputs.read_run`).

    Returns
    -------
    pandas.DataFrame
        Long table: ``scenario``, ``probability``, ``step``, ``hour`` [h since the horizon
        start], ``series`` (``before`` or a method id), ``imbalance_pct`` [%].
    """
    scenarios = next(iter(runs.values())).scenarios
    parts = [("before", imbalance_table_pct(before_feeder_loads(case, runs)))]
    parts += [(m, imbalance_table_pct(r.feeder_loads)) for m, r in runs.items() if m != BASELINE]
    frames = []
    for series, imb in parts:
        df = imb.rename("imbalance_pct").reset_index()
        df.insert(0, "series", series)
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out["probability"] = out["scenario"].map(scenarios["probability"]).astype(float)
    out["hour"] = hours_since_start(case, out["step"])
    order = {s: k for k, s in enumerate(scenarios.index)}
    out = out.sort_values(["scenario", "series", "step"], key=lambda c: c.map(order) if c.name == "scenario" else c, kind="stable")
    return out[["scenario", "probability", "step", "hour", "series", "imbalance_pct"]].reset_index(drop=True)


def plot_imbalance(case: Case, data: pd.DataFrame) -> Figure:
    """Fig 12: one panel per scenario, imbalance before (black) and after each method [%].

    Parameters
    ----------
    case
        The case (clock-time axis).
    data
        From :func:`imbalance_data`.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per scenario, two a row, a legend below.
    """
    scenarios = list(dict.fromkeys(data["scenario"]))
    ncol = 2 if len(scenarios) > 1 else 1
    nrow = -(-len(scenarios) // ncol)
    fig = Figure(figsize=(13, 3.1 * nrow + 0.8), layout="constrained")
    axes = fig.subplots(nrow, ncol, squeeze=False, sharex=True, sharey=True).ravel()
    for ax in axes[len(scenarios) :]:
        ax.set_visible(False)
    top = float(data["imbalance_pct"].max()) if len(data) else 1.0
    for k, (ax, scen) in enumerate(zip(axes, scenarios)):
        d = data[data["scenario"] == scen]
        for series, g in d.groupby("series", sort=False):
            x = stairs_x(g["hour"].to_numpy(), case)
            before = series == "before"
            ax.stairs(
                g["imbalance_pct"],
                x,
                baseline=None,
                color=METHOD_COLOURS.get(series, None),
                lw=2.4 if before else 1.3,
                ls="--" if before else "-",
                zorder=3 if before else 2,
            )
        ax.set_title(f"scenario {scen} (probability {d['probability'].iloc[0]:.2f})", fontsize=10)
        ax.set_ylabel("imbalance [%]")
        ax.set_ylim(0, top * 1.08)
        clock_axis(ax, case, d["step"].nunique())
        if k < len(scenarios) - ncol:
            ax.set_xlabel("")
    handles = [
        Line2D(
            [],
            [],
            color=METHOD_COLOURS.get(s),
            lw=2.2 if s == "before" else 1.6,
            ls="--" if s == "before" else "-",
            label="as built (no move, uncontrolled charging)" if s == "before" else method_label(s),
        )
        for s in dict.fromkeys(data["series"])
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 3), fontsize=9)
    fig.suptitle("Imbalance over the day (max - min feeder load rate, Eq 14)", fontsize=12)
    return fig


def feeder_load_rate_data(case: Case, runs: dict[str, MethodOutputs], method: str, *, scenario: str | None = None) -> pd.DataFrame:
    """Each feeder's load rate over the day, as built and after ``method`` [%], in one scenario.

    Parameters
    ----------
    case
        The case (step length, feeder order).
    runs
        Every method's files, by method id.
    method
        The method drawn after.
    scenario
        Scenario id; default: the most probable of ``method``'s ``scenarios.csv``.

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario``, ``step``, ``hour`` [h], ``feeder``, ``load_rate_before_pct``,
        ``load_rate_after_pct`` [%] (100 x ``load_rate`` of the files), in feeder order.
    """
    after = runs[method].feeder_loads
    if scenario is None:
        scenario = str(runs[method].scenarios["probability"].idxmax())
    before = before_feeder_loads(case, runs)
    key = ["scenario", "step", "feeder"]
    b = before[before["scenario"] == scenario].set_index(key)["load_rate"]
    a = after[after["scenario"] == scenario].set_index(key)["load_rate"]
    out = pd.DataFrame({"load_rate_before_pct": 100 * b, "load_rate_after_pct": 100 * a.reindex(b.index)}).reset_index()
    order = {f: k for k, f in enumerate(feeder_order(case))}
    out = out.sort_values(["feeder", "step"], key=lambda c: c.map(order) if c.name == "feeder" else c, kind="stable")
    out.insert(2, "hour", hours_since_start(case, out["step"]))
    return out.reset_index(drop=True)


def plot_feeder_load_rates(case: Case, data: pd.DataFrame, method: str) -> Figure:
    """Feeder load rates over the day: as built (left) and after ``method`` (right), same scale [%].

    The grey band between the highest and the lowest feeder is the imbalance (Eq 14).

    Parameters
    ----------
    case
        The case (feeder colours, clock-time axis).
    data
        From :func:`feeder_load_rate_data`.
    method
        The method drawn after (titles).

    Returns
    -------
    matplotlib.figure.Figure
        Two panels sharing the y axis.
    """
    colours = feeder_colours(case)
    fig = Figure(figsize=(13, 4.8), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, col, title in zip(axes, ("load_rate_before_pct", "load_rate_after_pct"), ("as built", f"after {method}")):
        wide = data.pivot(index="hour", columns="feeder", values=col)
        x = stairs_x(wide.index.to_numpy(), case)
        ax.stairs(wide.max(axis=1), x, baseline=wide.min(axis=1).to_numpy(), fill=True, color="0.85")
        for f in wide.columns:
            ax.stairs(wide[f], x, baseline=None, color=colours[f], lw=1.8)
        spread = (wide.max(axis=1) - wide.min(axis=1)).mean()
        ax.set_title(f"{title}: mean spread {spread:.1f} points", fontsize=11)
        clock_axis(ax, case, len(wide))
    axes[0].set_ylabel("feeder load rate [% of outlet rating]")
    handles: list[Artist] = [Line2D([], [], color=colours[f], lw=1.8, label=f"feeder {f}") for f in data["feeder"].unique()]
    handles.append(Patch(color="0.85", label="spread between feeders = imbalance"))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=9)
    fig.suptitle(f"Feeder load rates, scenario {data['scenario'].iloc[0]}: {method_label(method)}", fontsize=12)
    return fig
