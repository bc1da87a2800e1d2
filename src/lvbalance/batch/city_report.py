"""``city_report.html``: the whole town on one page.

One map of every planned area (its outline from ``batch.json``) coloured by expected imbalance
(Eq 15) as built and after each method, a click on an area opening its own ``report.html``;
the ranking of areas by imbalance cut per currency; the totals; the failed areas with their
errors. The map is the report's folium/Leaflet map style (Leaflet inlined, no tiles by
default; :mod:`lvbalance.report.map`). One file that links to the areas' reports beside it.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import folium
import pandas as pd
from folium.features import GeoJsonPopup, GeoJsonTooltip
from matplotlib import colormaps
from matplotlib.colors import Normalize, to_hex

from lvbalance.batch.area import DONE, read_record
from lvbalance.batch.city import imbalance_cut_per_cost
from lvbalance.report.map import inline_leaflet, stable_ids
from lvbalance.report.style import method_label
from lvbalance.results import write_atomic

CITY_REPORT = "city_report.html"
#: Colour map of expected imbalance [%] on the town map (low: pale, high: dark red).
IMBALANCE_CMAP = "YlOrRd"
NO_DATA_COLOUR = "#bdbdbd"


def town_layers(table: pd.DataFrame, out_root: Path, methods: Sequence[str]) -> dict[str, dict[str, Any]]:
    """GeoJSON of the map's layers by name: ``E[I] as built`` and ``E[I] after <m>`` for each
    method; one polygon per planned area with ``area``, ``expected_imbalance_pct`` [%],
    ``colour`` and ``report`` (the link to the area's report)."""
    vmax = float(pd.to_numeric(table["expected_imbalance_before_pct"], errors="coerce").max())
    norm = Normalize(vmin=0.0, vmax=vmax if math.isfinite(vmax) and vmax > 0 else 1.0)
    cmap = colormaps[IMBALANCE_CMAP]
    columns = {"E[I] as built": "expected_imbalance_before_pct"}
    columns.update({f"E[I] after {m}": f"{m}_expected_imbalance_after_pct" for m in methods})
    layers: dict[str, dict[str, Any]] = {name: {"type": "FeatureCollection", "features": []} for name in columns}
    for _, row in table.iterrows():
        if row["status"] not in DONE:
            continue
        record = read_record(out_root / str(row["area"]))
        if record is None or not record.get("outline_lonlat"):
            continue
        area = str(row["area"])
        link = f"<a href='{html.escape(area, quote=True)}/report.html' target='_top'>open the area's report</a>"
        for name, col in columns.items():
            value = pd.to_numeric(row.get(col), errors="coerce")
            ok = value is not None and math.isfinite(float(value))
            layers[name]["features"].append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Polygon", "coordinates": [record["outline_lonlat"]]},
                    "properties": {
                        "area": area,
                        "expected_imbalance_pct": round(float(value), 3) if ok else None,
                        "customers": None if pd.isna(row["customers"]) else int(row["customers"]),
                        "colour": to_hex(cmap(norm(float(value)))) if ok else NO_DATA_COLOUR,
                        "report": link,
                    },
                }
            )
    return layers


def _area_style(feature: dict[str, Any]) -> dict[str, Any]:
    colour = feature["properties"]["colour"]
    return {"color": "#424242", "weight": 1, "fillColor": colour, "fillOpacity": 0.8}


def town_map(layers: dict[str, dict[str, Any]]) -> folium.Map | None:
    """The folium map: the layers as base layers (one shown at a time, the first at start), no tiles by default."""
    coords = [c for coll in layers.values() for f in coll["features"] for c in f["geometry"]["coordinates"][0]]
    if not coords:
        return None
    lons, lats = [c[0] for c in coords], [c[1] for c in coords]
    m = folium.Map(location=[sum(lats) / len(lats), sum(lons) / len(lons)], tiles=None, zoom_start=15, max_zoom=22, control_scale=True)
    inline_leaflet(m)
    folium.TileLayer(
        "OpenStreetMap", name="OpenStreetMap background (needs internet)", overlay=True, show=False, max_zoom=22, max_native_zoom=19
    ).add_to(m)
    for k, (name, coll) in enumerate(layers.items()):
        group = folium.FeatureGroup(name=name, overlay=False, show=k == 0)  # base layers: one shown at a time
        folium.GeoJson(
            coll,
            name=name,
            style_function=_area_style,
            popup=GeoJsonPopup(
                fields=["area", "expected_imbalance_pct", "customers", "report"],
                aliases=["area", f"{name} [%]", "customers", ""],
                localize=True,
            ),
            tooltip=GeoJsonTooltip(fields=["area", "expected_imbalance_pct"], aliases=["area", "E[I] [%]"]),
        ).add_to(group)
        group.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], padding_top_left=(20, 20), padding_bottom_right=(260, 20))
    return m


def _iframe(m: folium.Map) -> str:
    doc = stable_ids(m.get_root().render())
    return f"<iframe class='map' title='town map' srcdoc=\"{html.escape(doc, quote=True)}\"></iframe>"


def _legend(vmax: float) -> str:
    cmap = colormaps[IMBALANCE_CMAP]
    stops = ", ".join(to_hex(cmap(x / 10)) for x in range(11))
    return (
        "<div class='legend'><span>0 %</span><span class='bar' style='background: linear-gradient(to right, "
        f"{stops})'></span><span>{vmax:.2f} %</span> expected imbalance E[I] (Eq 15); grey: no figure</div>"
    )


def ranking(table: pd.DataFrame, methods: Sequence[str]) -> pd.DataFrame:
    """Areas and methods ranked by expected-imbalance cut per 1,000 currency units (free cuts
    first, then the largest cut per cost); rows without a cut left out."""
    rows = []
    for _, r in table[table["status"].isin(list(DONE))].iterrows():
        before = float(r["expected_imbalance_before_pct"])
        for m in methods:
            after, cost = float(r[f"{m}_expected_imbalance_after_pct"]), float(r[f"{m}_cost"])
            per = imbalance_cut_per_cost(before, after, cost)
            if math.isnan(per):
                continue
            rows.append(
                {
                    "area": r["area"],
                    "method": m,
                    "E[I] before %": before,
                    "E[I] after %": after,
                    "cut [points]": before - after,
                    "cost": cost,
                    "moved customers": r[f"{m}_moved_customers"],
                    "cut per 1,000": per,
                }
            )
    df = pd.DataFrame(
        rows, columns=["area", "method", "E[I] before %", "E[I] after %", "cut [points]", "cost", "moved customers", "cut per 1,000"]
    )
    return df.sort_values(["cut per 1,000", "cut [points]", "area", "method"], ascending=[False, False, True, True]).reset_index(drop=True)


def totals(table: pd.DataFrame, methods: Sequence[str]) -> pd.DataFrame:
    """Per method over the planned areas: areas, customers, customer-weighted E[I] before and
    after [%], total cost, moved customers."""
    done = table[table["status"].isin(list(DONE))]
    w = pd.to_numeric(done["customers"]).astype(float)
    before = pd.to_numeric(done["expected_imbalance_before_pct"])
    rows = []
    for m in methods:
        after = pd.to_numeric(done[f"{m}_expected_imbalance_after_pct"])
        rows.append(
            {
                "method": m,
                "areas": len(done),
                "customers": int(w.sum()),
                "E[I] before % (customer-weighted)": float((before * w).sum() / w.sum()) if w.sum() else math.nan,
                "E[I] after % (customer-weighted)": float((after * w).sum() / w.sum()) if w.sum() else math.nan,
                "total cost": float(pd.to_numeric(done[f"{m}_cost"]).sum()),
                "moved customers": int(pd.to_numeric(done[f"{m}_moved_customers"]).sum()),
            }
        )
    return pd.DataFrame(rows)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if math.isinf(v):
            return "free"
        return "" if math.isnan(v) else f"{v:,.3f}" if abs(v) < 100 else f"{v:,.0f}"
    return "" if v is None or v is pd.NA else html.escape(str(v))


def _table(df: pd.DataFrame, *, link_area: bool = False) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for _, row in df.iterrows():
        cells = []
        for c, v in row.items():
            text = _fmt(v)
            if link_area and c == "area":
                text = f"<a href='{html.escape(str(v), quote=True)}/report.html'>{text}</a>"
            cells.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _ranking_html(df: pd.DataFrame) -> str:
    if df.empty:
        return (
            "<p>No method cuts the expected imbalance of any planned area with these parameters (moves cost more "
            "than they are worth at the case's <code>objective.imbalance_weight</code>, and no EV can be scheduled).</p>"
        )
    return _table(df, link_area=True)


_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #212121; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.5em; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border-bottom: 1px solid #e0e0e0; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child, td:nth-child(2) { text-align: left; }
iframe.map { width: 100%; height: 560px; border: 1px solid #bdbdbd; }
.legend { display: flex; gap: 0.5em; align-items: center; font-size: 0.9em; margin: 0.3em 0; }
.legend .bar { display: inline-block; width: 220px; height: 12px; }
.note { color: #616161; font-size: 0.9em; }
"""


def render_city_report(table: pd.DataFrame, out_root: str | Path, methods: Sequence[str]) -> str:
    """The page (see the module's docstring); ``methods`` without ``baseline``."""
    out = Path(out_root)
    counts = table["status"].value_counts()
    status_line = ", ".join(f"{int(n)} {html.escape(str(s))}" for s, n in counts.sort_index().items())
    vmax = float(pd.to_numeric(table["expected_imbalance_before_pct"], errors="coerce").max())
    m = town_map(town_layers(table, out, methods))
    parts = [
        f"<h1>Town: {len(table)} transformer areas</h1><p>{status_line}. Methods: "
        + "; ".join(html.escape(method_label(x)) for x in methods)
        + ". Every figure is in <a href='city.csv'>city.csv</a>.</p>",
        "<h2>Map</h2><p class='note'>Each area is the outline of its nodes and customers, coloured by its expected "
        "imbalance as built or after a method (choose the layer in the box at the top right). Click an area for its "
        "figures and a link to its own report.</p>",
        (_iframe(m) + _legend(vmax if math.isfinite(vmax) else 0.0)) if m is not None else "<p>No planned area to draw.</p>",
        "<h2>Totals (planned areas)</h2>" + _table(totals(table, methods)),
        "<h2>Ranking: expected-imbalance cut per 1,000 currency units</h2><p class='note'>Cut: points of E[I] "
        "before minus after; 'free': a cut without building anything (V2G schedules only).</p>" + _ranking_html(ranking(table, methods)),
    ]
    failed = table[~table["status"].isin(list(DONE))][["area", "status", "error"]]
    if len(failed):
        parts.append(f"<h2>Failed areas ({len(failed)})</h2>" + _table(failed))
    body = "\n".join(parts)
    head = f"<meta charset='utf-8'><title>lvbalance town report</title><style>{_CSS}</style>"
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


def write_city_report(table: pd.DataFrame, out_root: str | Path, methods: Sequence[str]) -> Path:
    """Write ``city_report.html`` into ``out_root`` atomically."""
    path = Path(out_root) / CITY_REPORT
    page = render_city_report(table, out_root, methods)
    write_atomic(path, lambda p: p.write_text(page, encoding="utf-8"))
    return path
