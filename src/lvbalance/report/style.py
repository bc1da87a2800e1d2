"""What every figure and the map share: colours, method names and the clock-time axis.

Feeders have the same colour on every figure and on the map; the time axis is clock
time from the horizon start (``profiles.horizon_start_hour``).
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import to_hex

from lvbalance.case import Case
from lvbalance.report.outputs import feeder_order, step_hours

#: Colour of each method's line in the comparison figures.
METHOD_COLOURS = {"before": "black", "baseline": "black", "m1": "#1f77b4", "m2": "#ff7f0e", "m3": "#2ca02c", "v2g_only": "#9467bd"}


def feeder_colours(case: Case) -> dict[str, str]:
    """One colour per feeder (tab10 in feeder order), the same on every figure and the map.

    Parameters
    ----------
    case
        The case; its feeder outlets give the order.

    Returns
    -------
    dict of str to str
        Hex colour (``#rrggbb``) by feeder label.
    """
    cmap = colormaps["tab10"]
    return {f: to_hex(cmap(k % 10)) for k, f in enumerate(feeder_order(case))}


def method_label(method: str) -> str:
    """``m1: streets + V2G (the paper's method)`` for a known method id, else the id.

    Parameters
    ----------
    method
        Method id (a key of :data:`lvbalance.model.methods.METHODS` or any other).

    Returns
    -------
    str
        The id and the method's name, for titles and legends.
    """
    from lvbalance.model.methods import METHODS

    return f"{method}: {METHODS[method].name}" if method in METHODS else method


def clock_axis(ax: Axes, case: Case, n_steps: int) -> None:
    """Set the x axis to hours since the horizon start, labelled with clock time every 4 h.

    Parameters
    ----------
    ax
        Axes whose x data are hours since the horizon start [h].
    case
        The case (``profiles.horizon_start_hour``, ``profiles.step_minutes``).
    n_steps
        Number of steps drawn; the axis spans ``n_steps`` x step length [h].
    """
    start = case.params.profiles.horizon_start_hour
    span = n_steps * step_hours(case)
    ticks = np.arange(0, span + 1e-9, 4)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{int(start + t) % 24:02d}:{round((t % 1) * 60):02d}" for t in ticks])
    ax.set_xlim(0, span)
    ax.set_xlabel("clock time [hh:mm]")
    ax.grid(alpha=0.3)


def stairs_x(hours: np.ndarray, case: Case) -> np.ndarray:
    """Edges for :meth:`~matplotlib.axes.Axes.stairs`: each step's start and the last step's end [h].

    Parameters
    ----------
    hours
        Start of each step since the horizon start [h], ascending.
    case
        The case (``profiles.step_minutes``).

    Returns
    -------
    numpy.ndarray
        ``len(hours) + 1`` edges [h] (empty when ``hours`` is empty).
    """
    return np.append(hours, hours[-1] + step_hours(case)) if len(hours) else hours
