"""Colours, method names and the clock-time axis shared by the figures (lvbalance.report.style)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from lvbalance.report.style import clock_axis, feeder_colours, method_label, stairs_x
from tests.fixtures import fig3_case


def test_feeder_colours_are_tab10_in_feeder_order():
    assert feeder_colours(fig3_case()) == {"F1": "#1f77b4", "F2": "#ff7f0e"}


def test_method_label_names_known_methods_only():
    assert method_label("m1") == "m1: streets + V2G (the paper's method)"
    assert method_label("baseline") == "baseline: as built: no move, uncontrolled charging"
    assert method_label("my_method") == "my_method"


@pytest.mark.parametrize(
    ("start_hour", "step_minutes", "n_steps", "labels"),
    [
        (8, 15, 96, ["08:00", "12:00", "16:00", "20:00", "00:00", "04:00", "08:00"]),
        (22, 60, 24, ["22:00", "02:00", "06:00", "10:00", "14:00", "18:00", "22:00"]),
        (0, 30, 16, ["00:00", "04:00", "08:00"]),  # 8 h horizon
    ],
)
def test_clock_axis_labels_clock_time_every_4_h(start_hour, step_minutes, n_steps, labels):
    case = fig3_case()
    case = case.with_params(case.params.updated(profiles={"horizon_start_hour": start_hour, "step_minutes": step_minutes}))
    ax = Figure().subplots()
    clock_axis(ax, case, n_steps)
    assert [t.get_text() for t in ax.get_xticklabels()] == labels
    span_h = n_steps * step_minutes / 60
    assert ax.get_xlim() == (0.0, span_h)
    np.testing.assert_array_equal(ax.get_xticks(), np.arange(0, span_h + 1, 4))
    assert ax.get_xlabel() == "clock time [hh:mm]"


def test_stairs_x_adds_the_end_of_the_last_step():
    case = fig3_case()  # 15-minute steps
    np.testing.assert_array_equal(stairs_x(np.array([0.0, 0.25, 0.5]), case), [0.0, 0.25, 0.5, 0.75])
    assert len(stairs_x(np.array([]), case)) == 0
