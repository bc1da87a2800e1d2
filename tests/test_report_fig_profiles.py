"""Figures of patterns and pseudo profiles (lvbalance.report.fig_profiles)."""

from __future__ import annotations

from lvbalance.profiles import build_profiles
from lvbalance.report.fig_profiles import plot_patterns, plot_scenario_profiles, write_profile_figures


def test_figures_have_one_panel_per_type_with_units(case, tmp_path):
    result = build_profiles(case)
    fig7 = plot_patterns(case, result)
    visible = [ax for ax in fig7.axes if ax.get_visible()]
    assert [ax.get_title().split(":")[0] for ax in visible] == [
        "residential",
        "commercial",
        "pv (generation)",
        "ev (uncontrolled charging)",
    ]
    assert all("[kW]" in ax.get_ylabel() and ax.get_xlabel() == "clock time" for ax in visible)
    assert visible[0].get_xticklabels()[0].get_text() == "08:00"
    assert any("p=0.50" in t.get_text() for t in visible[0].get_legend().get_texts())
    fig8 = plot_scenario_profiles(case, result, "working-sunny")
    assert "working-sunny" in fig8.get_suptitle()
    paths = write_profile_figures(case, result, tmp_path)
    assert all(p.stat().st_size > 10_000 for p in paths)
