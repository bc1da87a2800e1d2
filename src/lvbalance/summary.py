"""Plain-data summaries of a case: what a planner wants to see first.

Pure functions returning DataFrames; the CLI renders them.
"""

from __future__ import annotations

import pandas as pd

from lvbalance.case import CUSTOMER_TYPES, Case


def feeder_table(case: Case) -> pd.DataFrame:
    """Per feeder: outlet line, rating [kW], length of backbone [m], customers of each type the case has."""
    net = case.network
    feeder = case.customers["node_id"].map(net.feeder_of_node)
    present = [t for t in CUSTOMER_TYPES if t in set(case.customers["type"])]  # types the case has, in the usual order
    counts = pd.crosstab(feeder, case.customers["type"]).reindex(columns=present, fill_value=0)
    line_feeder = net.lines["to_node"].map(net.feeder_of_node).fillna(net.lines["from_node"].map(net.feeder_of_node))
    out = pd.DataFrame(
        {
            "outlet_line": net.feeder_outlets,
            "rated_kw": net.feeder_rating_kw,
            "backbone_m": net.lines.groupby(line_feeder)["length_m"].sum(),
            "nodes": net.feeder_of_node.value_counts(),
        }
    )
    out = out.join(counts).fillna(0)
    out["customers"] = counts.sum(axis=1).reindex(out.index).fillna(0).astype(int)
    return out.rename_axis("feeder")


def meter_coverage(case: Case) -> pd.DataFrame:
    """Per customer type the case has: customers, metered customers, metered share, days of readings."""
    c = case.customers
    r = case.meter_readings
    days = pd.to_datetime(r["timestamp"]).dt.normalize()
    per_customer_days = days.groupby(r["customer_id"]).nunique()
    out = (
        pd.DataFrame(
            {
                "customers": c.groupby("type").size(),
                "metered": c.groupby("type")["metered"].sum().astype(int),
            }
        )
        .reindex([t for t in CUSTOMER_TYPES if t in set(c["type"])])
        .fillna(0)
        .astype(int)
    )
    out["metered_share"] = (out["metered"] / out["customers"].where(out["customers"] > 0)).fillna(0.0)
    out["mean_days"] = per_customer_days.groupby(c["type"].reindex(per_customer_days.index)).mean().reindex(out.index).fillna(0.0)
    return out.rename_axis("type")


def case_overview(case: Case) -> dict[str, object]:
    """Headline figures of a case."""
    r = case.meter_readings
    ts = pd.to_datetime(r["timestamp"])
    return {
        "name": case.name,
        "crs": case.crs,
        "feeders": len(case.network.feeder_outlets),
        "nodes": len(case.network.nodes),
        "lines": len(case.network.lines),
        "customers": len(case.customers),
        "metered_customers": int(case.customers["metered"].sum()),
        "readings": len(r),
        "first_reading": str(ts.min()) if len(r) else "",
        "last_reading": str(ts.max()) if len(r) else "",
        "calendar_days": len(case.calendar),
        "street_segments": len(case.streets.segments),
        "streets_source": case.streets.source,
    }
