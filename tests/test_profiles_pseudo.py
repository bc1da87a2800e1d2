"""Pattern assignment and pseudo profiles (lvbalance.profiles.pseudo, MODEL.md §3.4)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from lvbalance.profiles import build_profiles, prepare_days
from lvbalance.profiles.patterns import Patterns
from lvbalance.profiles.pseudo import (
    PseudoProfiles,
    assign_patterns,
    cap_power,
    daily_energy_kwh,
    largest_remainder,
    pseudo_profiles,
)
from tests.fixtures import T, two_cluster_case, unmetered


def test_largest_remainder_50_30_20():
    counts = largest_remainder([0.5, 0.3, 0.2], 100, np.random.default_rng(0))
    assert counts.tolist() == [50, 30, 20]
    labels = assign_patterns([f"c{i}" for i in range(100)], [0.5, 0.3, 0.2], np.random.default_rng(1))
    assert np.bincount(labels.to_numpy()).tolist() == [50, 30, 20]
    assert labels.index.name == "customer_id" and labels.name == "pattern"


def test_largest_remainder_by_hand():
    # quotas 7 x (0.5, 0.3, 0.2) = 3.5, 2.1, 1.4: floors 3, 2, 1; the one left goes to the largest remainder 0.5
    assert largest_remainder([0.5, 0.3, 0.2], 7, np.random.default_rng(0)).tolist() == [4, 2, 1]
    assert largest_remainder([0.7, 0.3], 10, np.random.default_rng(0)).tolist() == [7, 3]
    assert largest_remainder([2.0, 1.0, 1.0], 4, np.random.default_rng(0)).tolist() == [2, 1, 1]  # not normalised


def test_largest_remainder_ties_are_seeded():
    draws = {tuple(largest_remainder([1 / 3] * 3, 4, np.random.default_rng(s))) for s in range(20)}
    assert all(sorted(d) == [1, 1, 2] for d in draws)
    assert len(draws) > 1  # the tie goes to different patterns for different seeds


def test_cap_power_keeps_energy_and_spills_forward():
    kw = np.zeros((1, 8))
    kw[0, 6] = 20.0  # 20 kW for one step on a 7 kW charger
    out = cap_power(kw, 7.0)
    assert out[0].tolist() == [6.0, 0, 0, 0, 0, 0, 7.0, 7.0]  # charges on, wrapping round the day
    np.testing.assert_array_equal(kw[0, 6], 20.0)  # the input is left alone
    both = cap_power(np.array([[0.0, 9.0, 0.0], [1.0, 1.0, 1.0]]), np.array([5.0, 5.0]))
    assert both.tolist() == [[0.0, 5.0, 4.0], [1.0, 1.0, 1.0]]


def test_daily_energy_from_annual_energy():
    customers = pd.DataFrame({"annual_kwh": [3650.0, np.nan, "x"]}, index=["a", "b", "c"])
    e = daily_energy_kwh(customers)
    assert e["a"] == 10.0 and e[["b", "c"]].isna().all()


def test_unmetered_counts_follow_probabilities(case):
    extra = unmetered(case, [f"u{i}" for i in range(100)], "residential", 3000.0)
    result = build_profiles(two_cluster_case(case, extra_customers=extra, params={"holdout_share": 0.0}))
    a = result.assignment.xs("working", level="context")["pattern"]
    assert np.bincount(a.to_numpy()).tolist() == [70, 30]
    # each unmetered profile is exactly its pattern times its energy
    shapes, _ = result.patterns.of("residential", "working")
    p = result.scenarios.p_kw.sel(scenario="working-sunny", customer="u0").values
    ratio = result.patterns.energy_ratio[("residential", "working")]
    np.testing.assert_allclose(p, shapes[a["u0"]] * 3000.0 / 365 * ratio)


def _flat_patterns(types_contexts: dict[tuple[str, str], float]) -> Patterns:
    """One flat pattern (1/24 per h) per (type, context), with the given energy ratios."""
    keys = sorted(types_contexts)
    idx = pd.MultiIndex.from_tuples([(t, c, 0) for t, c in keys], names=["type", "context", "pattern"])
    two = pd.MultiIndex.from_tuples(keys, names=["type", "context"])
    return Patterns(
        shapes=pd.DataFrame(np.full((len(keys), T), 1 / 24), index=idx),
        probability=pd.Series(1.0, index=idx),
        energy_ratio=pd.Series([types_contexts[k] for k in keys], index=two),
        mean_daily_kwh=pd.Series(np.nan, index=two),
        source=pd.Series("standard", index=two),
    )


def test_pseudo_profiles_by_hand(case):
    """Flat patterns: an unmetered customer's power is its daily energy x ratio / 24 h; pv negative; ev capped."""
    ratios = {
        ("residential", "working"): 0.5,
        ("residential", "non_working"): 2.0,
        ("commercial", "working"): 1.0,
        ("commercial", "non_working"): 1.0,
        ("ev", "working"): 1.0,
        ("ev", "non_working"): 1.0,
        ("pv", "sunny"): 1.0,
        ("pv", "cloudy"): 1.0,
        ("pv", "rainy"): 1.0,
    }
    days = prepare_days(case)
    out = pseudo_profiles(case, _flat_patterns(ratios), days.daily_kw, days.context, days.train_days)
    assert isinstance(out, PseudoProfiles)
    p = out.p_kw
    assert p.dims == ("context", "step", "customer")
    # c3: 4000 kWh/a -> 4000/365 kWh/day; working x0.5 over 24 h
    np.testing.assert_allclose(p.sel(context="working", customer="c3").values, 4000 / 365 * 0.5 / 24)
    np.testing.assert_allclose(p.sel(context="non_working", customer="c3").values, 4000 / 365 * 2.0 / 24)
    np.testing.assert_allclose(p.sel(context="sunny", customer="c5").values, -5000 / 365 / 24)
    np.testing.assert_allclose(p.sel(context="working", customer="c2").values, 2500 / 365 / 24)  # below its 7 kW rating
    assert (p.sel(context="sunny", customer="c3").values == 0).all()  # residential has no weather profile
    # metered c1 keeps its own mean curve of the context
    tr = days.daily_kw.sel(day=days.train_days, customer="c1")
    working = days.context.reindex(days.train_days)["day_type"].to_numpy() == "working"
    np.testing.assert_allclose(p.sel(context="working", customer="c1").values, tr.values[working].mean(axis=0))
    assert out.assignment.loc[("c3", "working"), "pattern"] == 0
    assert "c1" not in out.assignment.index.get_level_values("customer_id")


def test_customer_without_energy_is_an_error(case):
    customers = case.customers.copy()
    customers.loc["c3", "annual_kwh"] = np.nan
    case = dataclasses.replace(case, customers=customers)
    with pytest.raises(ValueError, match=r"\['c3'\] have no usable meter days and no annual_kwh"):
        build_profiles(case)
