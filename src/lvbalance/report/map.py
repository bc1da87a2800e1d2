"""The report's interactive map (folium/Leaflet): the network by feeder before and after,
the streets, the moves with their routes and the customers.

:func:`map_layers` gives the layers as GeoJSON (WGS84), :func:`build_map` the folium map
and :func:`map_html` the page's map section (an iframe holding the whole map document).

The map needs no network at view time: Leaflet's script and style are inlined from the
``xstatic-leaflet`` package (or Debian's ``libjs-leaflet``) when one is installed, folium's
other CDN scripts (jQuery, Bootstrap, awesome-markers) are left out because the map uses
none of them, and there is no background tile layer by default (an OpenStreetMap layer
can be switched on; it loads only when online).
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

import folium
import numpy as np
import pyproj
from folium.features import GeoJsonPopup, GeoJsonTooltip

from lvbalance.case import Case
from lvbalance.report.fig_plan import PlanMapData, plan_map_data
from lvbalance.report.outputs import MethodOutputs
from lvbalance.report.style import feeder_colours

LEAFLET_CDN_JS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
LEAFLET_CDN_CSS = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"
_DEBIAN_LEAFLET = Path("/usr/share/javascript/leaflet")


def map_layers(case: Case, runs: dict[str, MethodOutputs]) -> dict[str, dict[str, Any]]:
    """GeoJSON FeatureCollections of the map's layers, in WGS84 (lon, lat), by layer name.

    ``streets``; ``network as built``; ``network after <method>`` and ``moves <method>``
    for every method with moves; ``customers``. Feature properties carry the popups'
    fields and a ``colour``.

    Parameters
    ----------
    case
        The case (CRS, streets, network, customers).
    runs
        Every method's files, by method id (:func:`lvbalance.report.outputs.read_run`).

    Returns
    -------
    dict of str to dict
        GeoJSON ``FeatureCollection`` by layer name; coordinates [degrees], rounded to 7
        decimals; ``route_length_m`` [m], ``cost`` [currency], ``cost_per_m`` [currency/m].
    """
    to_wgs = pyproj.Transformer.from_crs(case.crs, "EPSG:4326", always_xy=True)

    def ll(xy: np.ndarray) -> list[list[float]]:
        lon, lat = to_wgs.transform(np.asarray(xy, float)[:, 0], np.asarray(xy, float)[:, 1])
        return [[round(float(a), 7), round(float(b), 7)] for a, b in zip(lon, lat)]

    def line(xy: np.ndarray, **props: Any) -> dict[str, Any]:
        return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": ll(xy)}, "properties": props}

    def fc(features: list[dict[str, Any]]) -> dict[str, Any]:
        return {"type": "FeatureCollection", "features": features}

    colours = feeder_colours(case)
    seg = case.streets.segments
    layers = {
        "streets": fc(
            [
                line(np.asarray(g.coords, float)[:, :2], street_id=str(sid), cost_per_m=_num(seg.at[sid, "cost_per_m"]), colour="#9e9e9e")
                for sid, g in zip(seg.index, seg.geometry)
            ]
        )
    }
    moving = [m for m, r in runs.items() if r.plan.moves]
    base = plan_map_data(case, runs[moving[0]] if moving else next(iter(runs.values())))
    layers["network as built"] = fc(
        [
            line(r["xy"], line_id=str(lid), feeder=r["feeder_before"], colour=colours.get(r["feeder_before"], "#000000"))
            for lid, r in base.lines.iterrows()
        ]
    )
    after: dict[str, PlanMapData] = {}
    for m in moving:
        d = after[m] = plan_map_data(case, runs[m])
        feats = [
            line(r["xy"], line_id=str(lid), feeder=r["feeder_after"], colour=colours.get(r["feeder_after"], "#000000"))
            for lid, r in d.lines[d.lines["in_service"]].iterrows()
        ]
        feats += [
            line(r["xy"], line_id=f"new line {r['move']}", feeder=r["to_feeder"], colour=colours.get(r["to_feeder"], "#000000"))
            for _, r in d.routes.iterrows()
        ]
        layers[f"network after {m}"] = fc(feats)
        moves = [
            line(
                r["xy"],
                kind="new line",
                move=int(r["move"]),
                method=m,
                customers=", ".join(r["customers"]),
                feeders=f"{r['from_feeder']} → {r['to_feeder']}",
                route_length_m=round(r["route_length_m"], 1),
                cost=round(r["cost"], 0),
                colour=colours.get(r["to_feeder"], "#000000"),
            )
            for _, r in d.routes.iterrows()
        ]
        moves += [
            line(
                r["xy"],
                kind="line cut",
                move=None,
                method=m,
                customers="",
                feeders=f"{r['feeder_before']} (out of service)",
                route_length_m=None,
                cost=None,
                colour="#000000",
                line_id=str(lid),
            )
            for lid, r in d.lines[~d.lines["in_service"]].iterrows()
        ]
        layers[f"moves {m}"] = fc(moves)
    cust = base.customers
    lon, lat = to_wgs.transform(cust["x"].to_numpy(float), cust["y"].to_numpy(float))
    feats = []
    for k, (cid, r) in enumerate(cust.iterrows()):
        props: dict[str, Any] = {
            "customer_id": str(cid),
            "type": r["type"],
            "feeder_as_built": r["feeder_before"],
            "colour": colours.get(r["feeder_before"], "#000000"),
        }
        moved_by = [m for m in moving if after[m].customers.at[cid, "moved"]]
        props["moved_by"] = ", ".join(f"{m} (to {after[m].customers.at[cid, 'feeder_after']})" for m in moved_by) or "—"
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(float(lon[k]), 7), round(float(lat[k]), 7)]},
                "properties": props,
            }
        )
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
    "moves": (
        ("kind", "what"),
        ("move", "move"),
        ("customers", "customers"),
        ("feeders", "feeders"),
        ("route_length_m", "route length [m]"),
        ("cost", "cost"),
    ),
    "customers": (
        ("customer_id", "customer"),
        ("type", "type"),
        ("feeder_as_built", "feeder as built (colour)"),
        ("moved_by", "moved by (ringed)"),
    ),
}


def _customer_style(feature: dict[str, Any]) -> dict[str, Any]:
    """Fill: feeder as built; moved customers larger with a thick black ring."""
    p = feature["properties"]
    if p["moved_by"] == "—":
        return {"color": "#222222", "weight": 1, "fillColor": p["colour"], "fillOpacity": 0.9, "radius": 5}
    return {"color": "#000000", "weight": 3, "fillColor": p["colour"], "fillOpacity": 0.9, "radius": 8}


def _street_style(feature: dict[str, Any]) -> dict[str, Any]:
    """Streets: wide and faint."""
    return {"color": feature["properties"]["colour"], "weight": 4, "opacity": 0.35}


def _move_style(feature: dict[str, Any]) -> dict[str, Any]:
    """New lines bold in the new feeder's colour; lines cut by a move dashed black."""
    if feature["properties"]["kind"] == "new line":
        return {"color": feature["properties"]["colour"], "weight": 7, "opacity": 0.95}
    return {"color": "#000000", "weight": 4, "dashArray": "4 6", "opacity": 0.9}


def _network_style(feature: dict[str, Any]) -> dict[str, Any]:
    """Network lines in their feeder's colour."""
    return {"color": feature["properties"]["colour"], "weight": 3, "opacity": 0.95}


#: Style of each kind of layer (the first word of its name).
_STYLES = {"streets": _street_style, "network": _network_style, "moves": _move_style, "customers": _customer_style}


def build_map(case: Case, runs: dict[str, MethodOutputs], *, focus: str | None = None) -> folium.Map:
    """The interactive map: one overlay per layer of :func:`map_layers`, switchable, no tiles by default.

    Shown at start: streets, the network after ``focus`` (else the first method with moves;
    as built when it moves nothing), its moves and the customers.

    Parameters
    ----------
    case
        The case.
    runs
        Every method's files, by method id.
    focus
        The method whose plan is shown at start (the report's recommended plan).

    Returns
    -------
    folium.Map
        With Leaflet inlined when available (:func:`leaflet_source`) and a layer control.
    """
    layers = map_layers(case, runs)
    lons = [c[0] for f in layers["network as built"]["features"] for c in f["geometry"]["coordinates"]]
    lats = [c[1] for f in layers["network as built"]["features"] for c in f["geometry"]["coordinates"]]
    m = folium.Map(location=[float(np.mean(lats)), float(np.mean(lons))], tiles=None, zoom_start=17, max_zoom=22, control_scale=True)
    inline_leaflet(m)
    folium.TileLayer(
        "OpenStreetMap", name="OpenStreetMap background (needs internet)", overlay=True, show=False, max_zoom=22, max_native_zoom=19
    ).add_to(m)
    if focus is not None:
        first_after = f"network after {focus}" if f"network after {focus}" in layers else None
        first_moves = f"moves {focus}" if first_after else None
    else:
        first_after = next((n for n in layers if n.startswith("network after")), None)
        first_moves = next((n for n in layers if n.startswith("moves")), None)
    shown = {"streets", first_after or "network as built", first_moves, "customers"}
    for name, coll in layers.items():
        kind = name.split(" ")[0]
        fields = _POPUPS[kind]
        marker = folium.CircleMarker(radius=5, fill=True) if kind == "customers" else None
        group = folium.FeatureGroup(name=name, show=name in shown)
        gj = folium.GeoJson(
            coll,
            name=name,
            style_function=_STYLES[kind],
            marker=marker,
            popup=GeoJsonPopup(fields=[f for f, _ in fields], aliases=[a for _, a in fields], localize=True),
            tooltip=GeoJsonTooltip(fields=[fields[0][0]], aliases=[fields[0][1]]),
        )
        gj.add_to(group)
        group.add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)  # a button: the map keeps its width for the network
    sw = [min(lats), min(lons)]
    ne = [max(lats), max(lons)]
    m.fit_bounds([sw, ne], padding_top_left=(20, 20), padding_bottom_right=(50, 20))  # room for the layer button
    return m


def leaflet_source() -> tuple[str | None, str | None, str]:
    """Leaflet's script and style to inline, and where they came from.

    Returns
    -------
    tuple of (str or None, str or None, str)
        The script, the style (its images as data URIs) and a note saying where they came
        from; (None, None, note) when no copy is installed and the map loads them from the CDN.
    """
    try:
        from xstatic.pkg import leaflet as xs

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


def inline_leaflet(m: folium.Map) -> None:
    """Replace folium's CDN links by inline Leaflet; drop jQuery/Bootstrap/awesome-markers (unused here)."""
    js, css, _ = leaflet_source()
    if js is None:
        m.default_js = [("leaflet", LEAFLET_CDN_JS)]
        m.default_css = [("leaflet_css", LEAFLET_CDN_CSS)]
        return
    m.default_js = []
    m.default_css = []
    root = m.get_root()
    assert isinstance(root, folium.Figure)  # a folium.Map's root is the HTML document
    header = root.header
    header.add_child(folium.Element(f"<style>{css}</style>"), name="leaflet_css_inline", index=0)
    safe_js = js.replace("</script", "<\\/script")
    header.add_child(folium.Element(f"<script>{safe_js}</script>"), name="leaflet_js_inline", index=1)


def map_html(case: Case, runs: dict[str, MethodOutputs], *, focus: str | None = None, intro: bool = True) -> str:
    """The report's map: a short how-to and the map of :func:`build_map` in an iframe.

    Parameters
    ----------
    case
        The case.
    runs
        Every method's files, by method id.
    focus
        The method whose plan is shown at start (:func:`build_map`).
    intro
        With the how-to paragraph above the map.

    Returns
    -------
    str
        HTML; the iframe's ``srcdoc`` holds the whole map document, so the page stays one file.
    """
    return (_map_intro() if intro else "") + _iframe(build_map(case, runs, focus=focus))


def _map_intro() -> str:
    return (
        "<p class='note'>Switch layers on and off with the layers button at the top right; click a line, route or customer for "
        "its details. Colours are feeders (as in the figures); customers have the colour of their feeder as built, "
        "moved customers a thick black ring; new lines are drawn bold in the new feeder's colour, lines cut by a "
        "move dashed black. No background map is needed (an OpenStreetMap layer loads when online).</p>"
    )


def stable_ids(doc: str) -> str:
    """folium's random element ids (``map_<32 hex>``) numbered in order of appearance, so that
    the same input gives the same page (byte for byte)."""
    ids: dict[str, str] = {}

    def number(match: re.Match[str]) -> str:
        return "_" + ids.setdefault(match.group(1), f"{len(ids):032x}")

    return re.sub(r"(?<=[A-Za-z])_([0-9a-f]{32})(?![0-9a-zA-Z])", number, doc)


def _iframe(m: folium.Map) -> str:
    doc = stable_ids(m.get_root().render())
    return f"<iframe class='map' title='interactive map' srcdoc=\"{html.escape(doc, quote=True)}\"></iframe>"
