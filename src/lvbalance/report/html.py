"""One self-contained ``report.html`` for a written output folder (DESIGN.md, "Outputs").

The report says the plan in words and numbers, shows the comparison table, the figures
of :mod:`lvbalance.report.figures` as embedded PNG, and an interactive Leaflet map
(folium) with the network by feeder before and after, the streets, the moves with their
routes and the customers. Everything is read back from the output files and the case.

The map needs no network at view time: Leaflet's script and style are inlined from the
``xstatic-leaflet`` package (or Debian's ``libjs-leaflet``) when one is installed, folium's
other CDN scripts (jQuery, Bootstrap, awesome-markers) are left out because the map uses
none of them, and there is no background tile layer by default (an OpenStreetMap layer
can be switched on; it loads only when online).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import logging
import re
from pathlib import Path
from typing import Any

import folium
import numpy as np
import pandas as pd
import pyproj
from folium.features import GeoJsonPopup, GeoJsonTooltip
from matplotlib.figure import Figure

from lvbalance.case import Case
from lvbalance.report import figures as F
from lvbalance.report.outputs import BASELINE, MethodOutputs, read_run
from lvbalance.results import write_atomic

log = logging.getLogger(__name__)

REPORT_NAME = "report.html"
LEAFLET_CDN_JS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
LEAFLET_CDN_CSS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"
_DEBIAN_LEAFLET = Path("/usr/share/javascript/leaflet")


# --------------------------------------------------------------------------- entry point


def write_report(case: Case, out_dir: str | Path, *, dpi: int = 100) -> Path:
    """Write ``out_dir/report.html`` for the outputs in ``out_dir`` and return its path.

    ``out_dir`` is a ``compare`` folder (one sub-folder per method, ``comparison.csv``) or a
    single method's folder. Written atomically.
    """
    out = Path(out_dir)
    runs = read_run(out)
    page = render_report(case, runs, dpi=dpi, out_dir=out)
    path = out / REPORT_NAME
    write_atomic(path, lambda p: p.write_text(page, encoding="utf-8"))
    log.info("report written to %s (%.1f MB)", path, len(page) / 1e6)
    return path


def _evaluation_sections(out_dir: Path | None) -> list[tuple[str, str]]:
    """Tables the pipeline's evaluation wrote next to the method folders, when present."""
    if out_dir is None:
        return []
    out = []
    texts = {
        "ac_check.csv": ("AC power-flow check (pandapower)",
                         "The MILP ignores losses and voltage; every scenario and step is run as an AC power flow "
                         "on the network as built (uncontrolled charging) and after each plan (scheduled EVs). "
                         "New lines get the smallest standard cable that carries their load."),
        "out_of_sample.csv": ("Out-of-sample evaluation on held-out days",
                              "Each method's moves are kept fixed and only the EV schedule is re-optimised on every "
                              "held-out day of real meter data; the daily imbalance is compared with the network as built."),
    }
    for name, (title, intro) in texts.items():
        path = out_dir / name
        if path.is_file():
            df = pd.read_csv(path, index_col=0)
            shown = df.map(lambda v: f"{v:,.3f}" if isinstance(v, float) else v)
            out.append((title, f"<p>{html.escape(intro)}</p>" + _table_html(shown)))
    return out


def render_report(case: Case, runs: dict[str, MethodOutputs], *, dpi: int = 100, out_dir: Path | None = None) -> str:
    """The report page as one HTML string."""
    comparison = F.comparison_data(runs)
    sections = [
        _section("Comparison of the methods (Table 2)", _table_html(F.format_comparison(comparison))),
        _section("The plans in words", _summary_html(case, runs)),
        _section("Map", _map_intro() + _iframe(build_map(case, runs))),
        _section("Figures", "".join(_figure_html(title, fig, dpi) for title, fig in report_figures(case, runs))),
    ]
    sections[2:2] = [_section(title, body) for title, body in _evaluation_sections(out_dir)]
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return _PAGE.format(
        title=html.escape(f"lvbalance report: {case.name}"), style=_STYLE, name=html.escape(case.name),
        meta=html.escape(f"{len(case.network.feeder_outlets)} feeders, {len(case.customers)} customers "
                         f"({len(case.ev_customers)} with an EV), CRS {case.crs}; generated {now}"),
        body="\n".join(sections), leaflet_note=html.escape(leaflet_source()[2]),
    )


# --------------------------------------------------------------------------- words and numbers


def plan_summary(runs: dict[str, MethodOutputs], method: str) -> str:
    """One paragraph saying what ``method`` does and achieves, in plain text."""
    r = runs[method]
    mt, plan = r.metrics, r.plan
    e0, e1 = mt["expected_imbalance_before_pct"], mt["expected_imbalance_after_pct"]
    p0, p1 = mt["peak_imbalance_before_pct"], mt["peak_imbalance_after_pct"]
    if plan.moves:
        moves = "; ".join(
            f"{len(mv.customers)} customer(s) of end node {mv.end_node} from {mv.from_feeder} to {mv.to_feeder} "
            f"({mv.route_length_m:.0f} m of new line, cost {mv.cost:,.0f})" for mv in plan.moves
        )
        what = (f"Moves {plan.moved_customers} customer(s) in {len(plan.moves)} move(s): {moves}. "
                f"Total cost {plan.total_cost:,.0f}, {mt['route_length_m']:.0f} m of new line along streets.")
    else:
        what = "No move."
    rel = 100 * (e1 - e0) / e0 if e0 else 0.0
    change = f" ({rel:+.0f} %)" if abs(rel) >= 0.5 else " (no change)"
    gap = mt.get("mip_gap")
    solver = f"solver status {mt['status']}" + (f", MIP gap {gap:.1%}" if isinstance(gap, float) else "") + f", solved in {mt['solve_time_s']:.1f} s"
    text = (f"{what} Expected imbalance {e0:.2f} % → {e1:.2f} %{change}; "
            f"peak imbalance {p0:.2f} % → {p1:.2f} %; max line loading {mt['max_line_loading_before']:.0%} → "
            f"{mt['max_line_loading_after']:.0%}; {solver}.")
    if mt.get("violations"):
        text += f" {len(mt['violations'])} line rule(s) met only with penalised slack."
    return text


def _summary_html(case: Case, runs: dict[str, MethodOutputs]) -> str:
    parts = ["<ul class='summary'>"]
    for m in runs:
        parts.append(f"<li><b>{html.escape(F.method_label(m))}.</b> {html.escape(plan_summary(runs, m))}</li>")
    parts.append("</ul>")
    moving = [m for m, r in runs.items() if r.plan.moves]
    for m in moving:
        rows = pd.DataFrame([{
            "move": k + 1, "customers": ", ".join(mv.customers), "from → to feeder": f"{mv.from_feeder} → {mv.to_feeder}",
            "end node": mv.end_node, "cut node": mv.cut_node, "connected at": mv.to_node,
            "route length [m]": f"{mv.route_length_m:.0f}", "cost [currency]": f"{mv.cost:,.0f}",
        } for k, mv in enumerate(runs[m].plan.moves)]).set_index("move")
        parts.append(f"<h3>Moves of {html.escape(F.method_label(m))}</h3>" + _table_html(rows))
    scen = _per_scenario_table(runs)
    if scen is not None:
        parts.append("<h3>Expected imbalance per scenario [%]</h3>" + _table_html(scen))
    return "\n".join(parts)


def _per_scenario_table(runs: dict[str, MethodOutputs]) -> pd.DataFrame | None:
    """Mean imbalance per scenario, as built and after each method [%] (``metrics.json`` per_scenario)."""
    rows: dict[str, dict[str, str]] = {}
    for m, r in runs.items():
        for s in r.metrics.get("per_scenario", []):
            row = rows.setdefault(s["scenario"], {"probability": f"{s['probability']:.3f}", "as built": f"{s['expected_imbalance_before_pct']:.2f}"})
            if m != BASELINE:
                row[m] = f"{s['expected_imbalance_after_pct']:.2f}"
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("scenario") if rows else None


def _table_html(df: pd.DataFrame) -> str:
    """A table with its index as the first column; numbers right-aligned, text left-aligned."""
    flat = df.reset_index()

    def cell(tag: str, v: Any) -> str:
        text = str(v)
        num = bool(re.fullmatch(r"[-+0-9.,%–→ ]+", text))
        return f"<{tag}{' class=num' if num else ''}>{html.escape(text).replace(chr(10), '<br>')}</{tag}>"

    head = "".join(f"<th>{html.escape(str(c)).replace(chr(10), '<br>')}</th>" for c in flat.columns)
    rows = "".join("<tr>" + "".join(cell("td", v) for v in row) + "</tr>" for row in flat.itertuples(index=False))
    return f"<table class='data'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _section(title: str, body: str) -> str:
    anchor = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return f"<section id='{anchor}'><h2>{html.escape(title)}</h2>\n{body}\n</section>"


# --------------------------------------------------------------------------- figures


def report_figures(case: Case, runs: dict[str, MethodOutputs]) -> list[tuple[str, Figure]]:
    """The report's figures with their titles, in order (Fig 9-10, 11, 12, load rates, Table 2)."""
    figs: list[tuple[str, Figure]] = []
    planned = [m for m in runs if m != BASELINE]
    for m in planned:
        if runs[m].plan.moves:
            figs.append((f"Plan on the map: {F.method_label(m)}", F.plot_plan_map(case, F.plan_map_data(case, runs[m]))))
    ev = _largest_ev_change(case, runs)
    if ev is not None:
        figs.append((f"EV schedule: {F.method_label(ev.method)}", F.plot_ev_schedule(case, ev)))
    if planned:
        figs.append(("Imbalance over the day, per scenario", F.plot_imbalance(case, F.imbalance_data(case, runs))))
    for m in planned:
        figs.append((f"Feeder load rates: {F.method_label(m)}", F.plot_feeder_load_rates(case, F.feeder_load_rate_data(case, runs, m), m)))
    figs.append(("Comparison table", F.plot_comparison_table(F.comparison_data(runs))))
    return figs


def _largest_ev_change(case: Case, runs: dict[str, MethodOutputs]) -> F.EvScheduleData | None:
    """Fig 11 for the method whose most-changed EV changes most (None when no EV is rescheduled)."""
    best = None
    for r in runs.values():
        d = F.ev_schedule_data(case, r)
        if d is not None and d.shifted_kwh > 1e-6 and (best is None or d.shifted_kwh > best.shifted_kwh):
            best = d
    return best


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _figure_html(title: str, fig: Figure, dpi: int) -> str:
    data = base64.b64encode(figure_png(fig, dpi)).decode("ascii")
    t = html.escape(title)
    return f"<figure><img alt='{t}' src='data:image/png;base64,{data}'><figcaption>{t}</figcaption></figure>"


# --------------------------------------------------------------------------- map


def map_layers(case: Case, runs: dict[str, MethodOutputs]) -> dict[str, dict[str, Any]]:
    """GeoJSON FeatureCollections of the map's layers, in WGS84 (lon, lat), by layer name.

    ``streets``; ``network as built``; ``network after <method>`` and ``moves <method>``
    for every method with moves; ``customers``. Feature properties carry the popups'
    fields and a ``colour``.
    """
    to_wgs = pyproj.Transformer.from_crs(case.crs, "EPSG:4326", always_xy=True)

    def ll(xy: np.ndarray) -> list[list[float]]:
        lon, lat = to_wgs.transform(np.asarray(xy, float)[:, 0], np.asarray(xy, float)[:, 1])
        return [[round(float(a), 7), round(float(b), 7)] for a, b in zip(lon, lat)]

    def line(xy, **props) -> dict[str, Any]:
        return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": ll(xy)}, "properties": props}

    def fc(features: list[dict[str, Any]]) -> dict[str, Any]:
        return {"type": "FeatureCollection", "features": features}

    colours = F.feeder_colours(case)
    seg = case.streets.segments
    layers = {"streets": fc([
        line(np.asarray(g.coords, float)[:, :2], street_id=str(sid), cost_per_m=_num(seg.at[sid, "cost_per_m"]), colour="#9e9e9e")
        for sid, g in zip(seg.index, seg.geometry)
    ])}
    moving = [m for m, r in runs.items() if r.plan.moves]
    base = F.plan_map_data(case, runs[moving[0]] if moving else next(iter(runs.values())))
    layers["network as built"] = fc([
        line(r["xy"], line_id=str(lid), feeder=r["feeder_before"], colour=colours.get(r["feeder_before"], "#000000"))
        for lid, r in base.lines.iterrows()
    ])
    after: dict[str, F.PlanMapData] = {}
    for m in moving:
        d = after[m] = F.plan_map_data(case, runs[m])
        feats = [line(r["xy"], line_id=str(lid), feeder=r["feeder_after"], colour=colours.get(r["feeder_after"], "#000000"))
                 for lid, r in d.lines[d.lines["in_service"]].iterrows()]
        feats += [line(r["xy"], line_id=f"new line {r['move']}", feeder=r["to_feeder"], colour=colours.get(r["to_feeder"], "#000000"))
                  for _, r in d.routes.iterrows()]
        layers[f"network after {m}"] = fc(feats)
        moves = [line(r["xy"], kind="new line", move=int(r["move"]), method=m, customers=", ".join(r["customers"]),
                      feeders=f"{r['from_feeder']} → {r['to_feeder']}", route_length_m=round(r["route_length_m"], 1),
                      cost=round(r["cost"], 0), colour=colours.get(r["to_feeder"], "#000000"))
                 for _, r in d.routes.iterrows()]
        moves += [line(r["xy"], kind="line cut", move=None, method=m, customers="", feeders=f"{r['feeder_before']} (out of service)",
                       route_length_m=None, cost=None, colour="#000000", line_id=str(lid))
                  for lid, r in d.lines[~d.lines["in_service"]].iterrows()]
        layers[f"moves {m}"] = fc(moves)
    cust = base.customers
    lon, lat = to_wgs.transform(cust["x"].to_numpy(float), cust["y"].to_numpy(float))
    feats = []
    for k, (cid, r) in enumerate(cust.iterrows()):
        props: dict[str, Any] = {"customer_id": str(cid), "type": r["type"], "feeder_as_built": r["feeder_before"],
                                 "colour": colours.get(r["feeder_before"], "#000000")}
        moved_by = [m for m in moving if after[m].customers.at[cid, "moved"]]
        props["moved_by"] = ", ".join(f"{m} (to {after[m].customers.at[cid, 'feeder_after']})" for m in moved_by) or "—"
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(float(lon[k]), 7), round(float(lat[k]), 7)]},
                      "properties": props})
    layers["customers"] = fc(feats)
    return layers


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


#: Popup fields of each kind of layer: (property, label).
_POPUPS = {
    "streets": (("street_id", "street"), ("cost_per_m", "cost per m")),
    "network": (("line_id", "line"), ("feeder", "feeder")),
    "moves": (("kind", "what"), ("move", "move"), ("customers", "customers"), ("feeders", "feeders"),
              ("route_length_m", "route length [m]"), ("cost", "cost")),
    "customers": (("customer_id", "customer"), ("type", "type"), ("feeder_as_built", "feeder as built (colour)"),
                  ("moved_by", "moved by (ringed)")),
}


def _customer_style(feature: dict[str, Any]) -> dict[str, Any]:
    """Fill: feeder as built; moved customers larger with a thick black ring."""
    p = feature["properties"]
    if p["moved_by"] == "—":
        return {"color": "#222222", "weight": 1, "fillColor": p["colour"], "fillOpacity": 0.9, "radius": 5}
    return {"color": "#000000", "weight": 3, "fillColor": p["colour"], "fillOpacity": 0.9, "radius": 8}


def build_map(case: Case, runs: dict[str, MethodOutputs]) -> folium.Map:
    """The interactive map: one overlay per layer of :func:`map_layers`, switchable, no tiles by default.

    Shown at start: streets, the network after the first method with moves (else as built),
    its moves and the customers.
    """
    layers = map_layers(case, runs)
    lons = [c[0] for f in layers["network as built"]["features"] for c in f["geometry"]["coordinates"]]
    lats = [c[1] for f in layers["network as built"]["features"] for c in f["geometry"]["coordinates"]]
    m = folium.Map(location=[float(np.mean(lats)), float(np.mean(lons))], tiles=None, zoom_start=17, max_zoom=22, control_scale=True)
    _inline_leaflet(m)
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap background (needs internet)", overlay=True, show=False, max_zoom=22,
                     max_native_zoom=19).add_to(m)
    first_after = next((n for n in layers if n.startswith("network after")), None)
    first_moves = next((n for n in layers if n.startswith("moves")), None)
    shown = {"streets", first_after or "network as built", first_moves, "customers"}
    for name, coll in layers.items():
        kind = name.split(" ")[0]
        fields = _POPUPS[kind]
        if kind == "customers":
            style = _customer_style
            marker = folium.CircleMarker(radius=5, fill=True)
        elif kind == "streets":
            style = lambda f: {"color": f["properties"]["colour"], "weight": 4, "opacity": 0.35}
            marker = None
        elif kind == "moves":
            style = lambda f: ({"color": f["properties"]["colour"], "weight": 7, "opacity": 0.95} if f["properties"]["kind"] == "new line"
                               else {"color": "#000000", "weight": 4, "dashArray": "4 6", "opacity": 0.9})
            marker = None
        else:
            style = lambda f: {"color": f["properties"]["colour"], "weight": 3, "opacity": 0.95}
            marker = None
        group = folium.FeatureGroup(name=name, show=name in shown)
        gj = folium.GeoJson(coll, name=name, style_function=style, marker=marker,
                            popup=GeoJsonPopup(fields=[f for f, _ in fields], aliases=[a for _, a in fields], localize=True),
                            tooltip=GeoJsonTooltip(fields=[fields[0][0]], aliases=[fields[0][1]]))
        gj.add_to(group)
        group.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    sw = [min(lats), min(lons)]
    ne = [max(lats), max(lons)]
    m.fit_bounds([sw, ne], padding_top_left=(20, 20), padding_bottom_right=(340, 20))  # room for the layer box
    return m


def leaflet_source() -> tuple[str | None, str | None, str]:
    """Leaflet's script and style to inline, and where they came from (None, None: CDN links)."""
    try:
        from xstatic.pkg import leaflet as xs  # type: ignore[import-not-found]

        root, note = Path(xs.BASE_DIR), f"Leaflet {xs.VERSION} inlined (xstatic-leaflet)"
    except ImportError:
        root, note = _DEBIAN_LEAFLET, "Leaflet inlined (Debian libjs-leaflet)"
    js, css = root / "leaflet.js", root / "leaflet.css"
    if js.is_file() and css.is_file():
        return js.read_text(encoding="utf-8"), _css_with_images(css), note
    return None, None, "Leaflet loaded from its CDN (install xstatic-leaflet to inline it): the map needs internet"


def _css_with_images(css_path: Path) -> str:
    """Leaflet's CSS with its ``url(images/...)`` replaced by data URIs."""
    css = css_path.read_text(encoding="utf-8")

    def data_uri(match: re.Match[str]) -> str:
        img = css_path.parent / match.group(1)
        if not img.is_file():
            return match.group(0)
        mime = "image/svg+xml" if img.suffix == ".svg" else f"image/{img.suffix.lstrip('.')}"
        return f"url(data:{mime};base64,{base64.b64encode(img.read_bytes()).decode('ascii')})"

    return re.sub(r"url\((images/[^)]+)\)", data_uri, css)


def _inline_leaflet(m: folium.Map) -> None:
    """Replace folium's CDN links by inline Leaflet; drop jQuery/Bootstrap/awesome-markers (unused here)."""
    js, css, _ = leaflet_source()
    if js is None:
        m.default_js = [("leaflet", LEAFLET_CDN_JS)]
        m.default_css = [("leaflet_css", LEAFLET_CDN_CSS)]
        return
    m.default_js = []
    m.default_css = []
    header = m.get_root().header
    header.add_child(folium.Element(f"<style>{css}</style>"), name="leaflet_css_inline", index=0)
    safe_js = js.replace("</script", "<\\/script")
    header.add_child(folium.Element(f"<script>{safe_js}</script>"), name="leaflet_js_inline", index=1)


def _map_intro() -> str:
    return ("<p class='note'>Switch layers on and off in the box at the top right; click a line, route or customer for "
            "its details. Colours are feeders (as in the figures); customers have the colour of their feeder as built, "
            "moved customers a thick black ring; new lines are drawn bold in the new feeder's colour, lines cut by a "
            "move dashed black. No background map is needed (an OpenStreetMap layer loads when online).</p>")


def _iframe(m: folium.Map) -> str:
    doc = m.get_root().render()
    return f"<iframe class='map' title='interactive map' srcdoc=\"{html.escape(doc, quote=True)}\"></iframe>"


_STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 0 auto; max-width: 1320px; padding: 1em 2em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.1em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
.meta, .note, footer { color: #555; font-size: 0.92em; }
ul.summary li { margin-bottom: 0.6em; }
table.data { border-collapse: collapse; font-size: 0.9em; margin: 0.6em 0 1.2em; }
table.data th, table.data td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
table.data td.num { text-align: right; white-space: nowrap; }
table.data thead th { background: #f0f0f0; }
table.data tbody tr:nth-child(even) { background: #fafafa; }
iframe.map { width: 100%; height: 640px; border: 1px solid #bbb; }
figure { margin: 1.4em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-weight: 600; color: #333; margin-top: 0.3em; }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<h1>{name}</h1>
<p class="meta">{meta}</p>
{body}
<footer><p>lvbalance report; every number and figure is read from the output files beside this report. {leaflet_note}.</p></footer>
</body>
</html>
"""

