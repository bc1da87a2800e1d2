"""Figures of the typical patterns and pseudo profiles (MODEL.md §3; the paper's Fig 7 and 8).

Functions return matplotlib Figures built without pyplot (no global state); the caller
saves or shows them. The time axis is clock time over one horizon day (08:00 to 08:00 by
default).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from lvbalance.case import CUSTOMER_TYPES, Case
from lvbalance.profiles import CONTEXT_KIND, ProfileResult, cap_power, contexts_of

#: One colour per context, the same in every figure.
CONTEXT_COLOURS = {
    "working": "#1f77b4",
    "non_working": "#d62728",
    "sunny": "#e6a800",
    "cloudy": "#7f7f7f",
    "rainy": "#17becf",
}
PATTERN_STYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 2)))
TYPE_TITLES = {
    "residential": "residential",
    "commercial": "commercial",
    "pv": "pv (generation)",
    "ev": "ev (uncontrolled charging)",
    "heat_pump": "heat pump",
}


def _time_axis(ax, start_hour: int) -> None:
    """Ticks every 4 h over the horizon day, labelled with clock time."""
    ticks = np.arange(0, 25, 4)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{(start_hour + t) % 24:02d}:00" for t in ticks])
    ax.set_xlim(0, 24)
    ax.set_xlabel("clock time")
    ax.grid(alpha=0.3)


def _legend_room(ax, share: float = 0.42) -> None:
    """Start the y axis at 0 and leave the top ``share`` of the panel free for the legend."""
    top = max(ax.dataLim.y1, 1e-6)
    ax.set_ylim(0, top / (1 - share))


def _n(count: int) -> str:
    return f"{count} customer" + ("" if count == 1 else "s")


def _hours(n_steps: int, step_hours: float) -> np.ndarray:
    """Step starts as hours since the horizon start, plus the end (for step plots)."""
    return np.arange(n_steps + 1) * step_hours


def _typical_daily_kwh(case: Case, result: ProfileResult, typ: str, ctx: str) -> float:
    """Daily energy of an average customer of ``typ`` in ``ctx`` [kWh] (metered mean, else billed)."""
    e = result.patterns.mean_daily_kwh.get((typ, ctx), np.nan)
    if np.isfinite(e):
        return float(e)
    billed = case.customers.loc[case.customers["type"] == typ, "annual_kwh"].astype(float).mean() / 365
    return float(billed * result.patterns.energy_ratio[(typ, ctx)])


def plot_patterns(case: Case, result: ProfileResult) -> Figure:
    """Fig 7: typical patterns per customer type (one panel each), coloured by context.

    Each pattern is drawn as the power of an average customer of the type in that context
    (pattern shape x mean daily energy) [kW]; the legend gives each pattern's probability.
    pv is drawn as generation (positive).
    """
    pat = result.patterns
    sc = result.scenarios
    types = [t for t in CUSTOMER_TYPES if (case.customers["type"] == t).any()]
    fig = Figure(figsize=(13, 3.6 * ((len(types) + 1) // 2)), layout="constrained")
    axes = fig.subplots((len(types) + 1) // 2, 2, squeeze=False).ravel()
    for ax in axes[len(types) :]:
        ax.set_visible(False)
    ev_cap = float(case.customers.loc[case.customers["type"] == "ev", "charge_kw"].astype(float).mean())
    for ax, typ in zip(axes, types):
        for ctx in contexts_of(typ):
            shapes, prob = pat.of(typ, ctx)
            energy = _typical_daily_kwh(case, result, typ, ctx)
            src = "" if pat.source[(typ, ctx)] == "metered" else " [standard shape]"
            for i, (shape, p) in enumerate(zip(shapes, prob)):
                kw = shape * energy
                if typ == "ev":
                    kw = cap_power(kw, ev_cap)
                ax.stairs(
                    kw,
                    _hours(len(kw), sc.step_hours),
                    color=CONTEXT_COLOURS[ctx],
                    baseline=None,
                    linestyle=PATTERN_STYLES[i % len(PATTERN_STYLES)],
                    linewidth=1.6,
                    label=f"{ctx.replace('_', '-')} #{i + 1}  p={p:.2f}{src}",
                )
        _time_axis(ax, sc.start_hour)
        ax.set_ylabel("generation [kW]" if typ == "pv" else "power [kW]")
        kind = "weather" if CONTEXT_KIND[typ] == "weather" else "day type"
        ax.set_title(f"{TYPE_TITLES[typ]}: patterns by {kind}", fontsize=11)
        _legend_room(ax)
        ax.legend(fontsize=8, ncol=2 if len(pat.probability.loc[typ]) > 5 else 1, loc="upper left", framealpha=0.85)
    fig.suptitle(f"{case.name}: typical daily patterns of an average customer (probability = share of metered days)", fontsize=12)
    return fig


def plot_scenario_profiles(case: Case, result: ProfileResult, scenario: str | None = None) -> Figure:
    """Fig 8: every customer's profile in one scenario, one panel per type.

    Unmetered customers (pseudo profiles) coloured by their assigned pattern; metered
    customers (their own mean curve) in grey; the bold black line is the type's total
    divided by the number of customers. Default scenario: the most probable one.
    """
    sc = result.scenarios
    if scenario is None:
        scenario = str(sc.scenarios["probability"].idxmax())
    row = sc.scenarios.loc[scenario]
    p = sc.p_kw.sel(scenario=scenario)
    hours = _hours(p.sizes["step"], sc.step_hours)
    metered = case.customers["metered"].astype(bool)
    types = [t for t in CUSTOMER_TYPES if (case.customers["type"] == t).any()]
    fig = Figure(figsize=(13, 3.6 * ((len(types) + 1) // 2)), layout="constrained")
    axes = fig.subplots((len(types) + 1) // 2, 2, squeeze=False).ravel()
    for ax in axes[len(types) :]:
        ax.set_visible(False)
    assignment = result.assignment if result.assignment is not None else None
    for ax, typ in zip(axes, types):
        ctx = row["weather"] if CONTEXT_KIND[typ] == "weather" else row["day_type"]
        ids = case.customers.index[case.customers["type"] == typ]
        sign = -1.0 if typ == "pv" else 1.0
        handles = []
        n_pattern: dict[int, int] = {}
        for cid in ids:
            kw = sign * p.sel(customer=cid).values
            if metered[cid] and (assignment is None or (cid, ctx) not in assignment.index):
                ax.stairs(kw, hours, baseline=None, color="0.6", linewidth=0.7, alpha=0.7, zorder=1)
                continue
            k = int(assignment.loc[(cid, ctx), "pattern"]) if assignment is not None else 0
            n_pattern[k] = n_pattern.get(k, 0) + 1
            ax.stairs(kw, hours, baseline=None, color=f"C{k % 10}", linewidth=0.8, alpha=0.8, zorder=2)
        for k in sorted(n_pattern):
            handles.append(Line2D([], [], color=f"C{k % 10}", label=f"pseudo, pattern #{k + 1} ({_n(n_pattern[k])})"))
        n_met = int(metered[ids].sum())
        if n_met:
            handles.append(Line2D([], [], color="0.6", label=f"metered, own mean curve ({_n(n_met)})"))
        mean = sign * p.sel(customer=list(ids)).values.mean(axis=1)
        ax.stairs(mean, hours, baseline=None, color="black", linewidth=2.0, zorder=3)
        handles.append(Line2D([], [], color="black", linewidth=2.0, label="mean of all customers"))
        _time_axis(ax, sc.start_hour)
        ax.set_ylabel("generation [kW]" if typ == "pv" else "power [kW]")
        ax.set_title(f"{TYPE_TITLES[typ]}: {len(ids)} customers, {ctx.replace('_', '-')}", fontsize=11)
        _legend_room(ax)
        ax.legend(handles=handles, fontsize=8, loc="upper left", framealpha=0.85)
    fig.suptitle(f"{case.name}: profiles of every customer in scenario {scenario} (probability {row['probability']:.3f})", fontsize=12)
    return fig


def write_profile_figures(case: Case, result: ProfileResult, out_dir: str | Path, *, dpi: int = 120) -> list[Path]:
    """Write ``patterns.png`` (Fig 7) and ``profiles_<scenario>.png`` (Fig 8, most probable scenario)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scenario = str(result.scenarios.scenarios["probability"].idxmax())
    paths = [out / "patterns.png", out / f"profiles_{scenario}.png"]
    for fig, path in zip((plot_patterns(case, result), plot_scenario_profiles(case, result, scenario)), paths):
        fig.savefig(path, dpi=dpi)
    return paths
