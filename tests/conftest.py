"""Small hand-built cases you can draw on paper.

``fig3_case()`` is shaped like Fig 3 of the paper: a feeder whose end carries an
unbranched tail with several loads, a side branch, and a second feeder close by.

```
            y=100  c5 (pv)
                    |
 B ── n1 ── n2 ── n3 ── n4 ── n5        feeder F1 (x = 0..250 m, y = 0)
 │          c4    │     c3    c1, c2(ev)
 │                n6  c6                 (n6 at x=150, y=-60)
 │
 └── m1 ── m2                           feeder F2 (y = -120)
     c7    c8
```
Each call builds a fresh case: no shared mutable fixtures.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from lvbalance.case import Case, Network, Streets
from lvbalance.params import Params

X0, Y0 = 400_000.0, 5_370_000.0
CRS = "EPSG:32632"


def _xy(x: float, y: float) -> tuple[float, float]:
    return X0 + x, Y0 + y


NODES = {
    "B": (0, 0, "busbar"),
    "n1": (50, 0, "junction"),
    "n2": (100, 0, "customer_access"),
    "n3": (150, 0, "junction"),
    "n4": (200, 0, "customer_access"),
    "n5": (250, 0, "customer_access"),
    "n6": (150, -60, "customer_access"),
    "m1": (50, -120, "customer_access"),
    "m2": (150, -120, "customer_access"),
}
LINES = [
    ("l1", "B", "n1"), ("l2", "n1", "n2"), ("l3", "n2", "n3"), ("l4", "n3", "n4"), ("l5", "n4", "n5"),
    ("l6", "n3", "n6"), ("l7", "B", "m1"), ("l8", "m1", "m2"),
]
CUSTOMERS = [
    # id, node, dx, dy, type, metered, annual_kwh, charge, discharge, v2g
    ("c1", "n5", 5, 10, "residential", True, 3500.0, np.nan, np.nan, False),
    ("c2", "n5", -5, 10, "ev", False, 2500.0, 7.0, 7.0, True),
    ("c3", "n4", 0, 10, "residential", False, 4000.0, np.nan, np.nan, False),
    ("c4", "n2", 0, 10, "commercial", False, 12000.0, np.nan, np.nan, False),
    ("c5", "n2", 0, 20, "pv", False, 5000.0, np.nan, np.nan, False),
    ("c6", "n6", 10, 0, "residential", True, 3000.0, np.nan, np.nan, False),
    ("c7", "m1", 0, -10, "residential", False, 3000.0, np.nan, np.nan, False),
    ("c8", "m2", 0, -10, "residential", False, 3000.0, np.nan, np.nan, False),
]


def fig3_case() -> Case:
    """A fresh, valid Fig-3-shaped case (two feeders, 8 customers, 14 days of readings)."""
    nodes = pd.DataFrame(
        [(n, *_xy(x, y), k) for n, (x, y, k) in NODES.items()], columns=["node_id", "x", "y", "kind"]
    ).set_index("node_id")
    lines = []
    for lid, a, b in LINES:
        (xa, ya), (xb, yb) = nodes.loc[a, ["x", "y"]], nodes.loc[b, ["x", "y"]]
        lines.append((lid, a, b, float(np.hypot(xb - xa, yb - ya)), 150.0, 0.206, 0.08, "NAYY 4x150 SE"))
    lines_df = pd.DataFrame(lines, columns=["line_id", "from_node", "to_node", "length_m", "rated_kw", "r_ohm_per_km", "x_ohm_per_km", "std_type"]).set_index("line_id")
    customers = []
    for cid, node, dx, dy, typ, metered, kwh, pc, pd_, v2g in CUSTOMERS:
        x, y = nodes.loc[node, ["x", "y"]]
        customers.append((cid, node, x + dx, y + dy, typ, metered, kwh, pc, pd_, v2g))
    customers_df = pd.DataFrame(customers, columns=["customer_id", "node_id", "x", "y", "type", "metered", "annual_kwh", "charge_kw", "discharge_kw", "v2g"]).set_index("customer_id")
    # streets: along the lines, plus a street linking the two feeders' ends (x = 250, a costly main road)
    street_pts = [
        ("s1", [(0, 0), (150, 0)], np.nan), ("s2", [(150, 0), (250, 0)], np.nan), ("s3", [(150, 0), (150, -60)], np.nan),
        ("s4", [(0, 0), (0, -120)], np.nan), ("s5", [(0, -120), (150, -120)], np.nan), ("s6", [(150, -60), (150, -120)], np.nan),
        ("s7", [(250, 0), (250, -120)], 120.0), ("s8", [(150, -120), (250, -120)], np.nan),
    ]
    streets = gpd.GeoDataFrame(
        {"cost_per_m": [c for *_, c in street_pts]},
        geometry=[shapely.LineString([_xy(*p) for p in pts]) for _, pts, _ in street_pts],
        index=pd.Index([s for s, *_ in street_pts], name="street_id"),
        crs=CRS,
    )
    days = pd.date_range("2024-03-04", periods=14, freq="D")
    ts = pd.date_range(days[0], periods=14 * 96, freq="15min")
    hours = ts.hour + ts.minute / 60
    readings = pd.concat([
        pd.DataFrame({"customer_id": cid, "timestamp": ts, "p_kw": (0.3 + scale * np.exp(-((hours - 19) ** 2) / 4)).round(4)})
        for cid, scale in (("c1", 1.2), ("c6", 0.9))
    ], ignore_index=True)
    calendar = pd.DataFrame(
        {"day_type": np.where(days.dayofweek < 5, "working", "non_working"), "weather": ["sunny", "cloudy", "rainy"] * 4 + ["sunny", "cloudy"]},
        index=pd.DatetimeIndex(days, name="date"),
    )
    return Case(
        name="fig3", crs=CRS,
        network=Network(nodes=nodes, lines=lines_df),
        streets=Streets(segments=streets, source="geojson"),
        customers=customers_df, meter_readings=readings, calendar=calendar,
        params=Params(), metadata={"description": "hand-built Fig 3 case"},
    )


@pytest.fixture
def case() -> Case:
    return fig3_case()
