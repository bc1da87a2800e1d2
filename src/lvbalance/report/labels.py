"""Human labels and units for the evaluation tables (``ac_check.csv``, ``out_of_sample.csv``,
the smoothness figures of ``metrics.json``), shared by the report and the CLI summary.

The files keep their stable keys (DESIGN.md, "Outputs"); only what a reader sees is relabelled.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

#: ``ac_check.csv`` rows: key -> (label with unit, format of a value).
AC_CHECK_LABELS: dict[str, tuple[str, str]] = {
    "min_voltage_pu": ("lowest voltage [p.u.]", "{:.3f}"),
    "max_voltage_pu": ("highest voltage [p.u.]", "{:.3f}"),
    "expected_losses_kwh_per_day": ("expected losses [kWh/day]", "{:,.2f}"),
    "expected_losses_pct": ("expected losses [% of energy supplied]", "{:.2f}"),
    "max_line_loading_pct": ("highest line loading [% of rating]", "{:.1f}"),
    "max_flow_diff_kw": ("largest gap AC flow vs. model flow [kW]", "{:.2f}"),
    "max_flow_diff_pct": ("largest gap AC flow vs. model flow [%]", "{:.2f}"),
    "nonconverged_runs": ("power flows that did not converge", "{:,.0f}"),
}

#: ``out_of_sample.csv`` columns: key -> (label with unit, format of a value).
OUT_OF_SAMPLE_LABELS: dict[str, tuple[str, str]] = {
    "days": ("held-out days", "{:,.0f}"),
    "mean_pct": ("mean daily imbalance [%]", "{:.2f}"),
    "p95_pct": ("95th percentile [%]", "{:.2f}"),
    "worst_pct": ("worst day [%]", "{:.2f}"),
    "worst_day": ("worst day [date]", "{}"),
    "baseline_mean_pct": ("as built: mean [%]", "{:.2f}"),
    "baseline_p95_pct": ("as built: 95th percentile [%]", "{:.2f}"),
    "baseline_worst_pct": ("as built: worst day [%]", "{:.2f}"),
    "days_better_than_baseline": ("days better than as built", "{:,.0f}"),
}

#: Smoothness figures of ``metrics.json``: key -> (label with unit, format of a value).
SMOOTHNESS_LABELS: dict[str, tuple[str, str]] = {
    "ev_total_variation_ratio_median": ("EV set-point changes vs. uncontrolled charging, median over EV-days [×]", "{:.2f}"),
    "ev_days_with_pulse_after_pct": ("EV-days with a 0 → ≥3 kW → 0 pulse [%]", "{:.0f}"),
    "load_rate_variation_ratio": ("feeder load-rate variation vs. as built [×]", "{:.2f}"),
}


def format_value(value: Any, fmt: str) -> str:
    """``value`` in ``fmt``; '–' for a missing or non-finite number, text as it is."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, str):
        return value
    try:
        return fmt.format(value)
    except (TypeError, ValueError):
        return str(value)


def ac_check_table(df: pd.DataFrame) -> pd.DataFrame:
    """``ac_check.csv`` (index: figure key; one column per network state) with human row labels and formats.

    Unknown rows keep their key and get 3 decimals.
    """
    rows = {}
    for key, row in df.iterrows():
        label, fmt = AC_CHECK_LABELS.get(str(key), (str(key), "{:,.3f}"))
        rows[label] = {c: format_value(_py(v), fmt) for c, v in row.items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("AC power flow")


def out_of_sample_table(df: pd.DataFrame) -> pd.DataFrame:
    """``out_of_sample.csv`` (index: method) with human column labels and formats.

    The ``baseline_*`` columns repeat the as-built figures on every row: they are left out
    when the table has a ``baseline`` row (the network as built).
    """
    keep = [c for c in df.columns if not (str(c).startswith("baseline_") and "baseline" in df.index)]
    cols = {}
    for c in keep:
        label, fmt = OUT_OF_SAMPLE_LABELS.get(str(c), (str(c), "{:,.3f}"))
        cols[label] = [format_value(_py(v), fmt) for v in df[c]]
    out = pd.DataFrame(cols, index=[_method_name(m) for m in df.index])
    out.index.name = "method"
    return out


def _method_name(method: Any) -> str:
    return "as built" if str(method) == "baseline" else str(method)


def _py(v: Any) -> Any:
    """numpy scalars as Python values."""
    return v.item() if hasattr(v, "item") else v
