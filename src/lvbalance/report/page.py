"""The report page's frame: its style sheet (screen and print) and HTML template.

On screen the first screen holds the decision: text and figures on the left, the map with
its legend on the right (one column on narrow screens). In print (``@media print``, A4
landscape) the interactive map gives way to the static plan figure, every section but the
first starts a page, and figures and tables are not split across pages.
"""

from __future__ import annotations

STYLE = """
:root { --ink: #1d2330; --muted: #5b6270; --line: #d9dce1; --accent: #1f5fa8; --soft: #f4f6f9; }
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 0 auto; max-width: 1400px;
  padding: 0.6em 1.6em 2em; color: var(--ink); line-height: 1.45; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.3em 1.4em; border-bottom: 2px solid var(--line);
  padding-bottom: 0.3em; }
h1 { font-size: 1.5em; margin: 0.2em 0; }
header .meta { margin: 0; }
nav { font-size: 0.88em; margin-left: auto; } nav a { color: var(--accent); margin-left: 0.9em; text-decoration: none; }
h2 { font-size: 1.3em; border-bottom: 2px solid var(--line); padding-bottom: 0.2em; margin-top: 1.6em; }
h3 { font-size: 1.05em; margin-bottom: 0.3em; }
.meta, .note, footer { color: var(--muted); font-size: 0.9em; }
section#recommended-plan h2 { margin-top: 0.5em; }
.decision { display: grid; grid-template-columns: minmax(340px, 5fr) 8fr; gap: 1.4em; align-items: start; }
.decision p.method { margin: 0; color: var(--accent); font-weight: 600; font-size: 0.95em; }
.decision p.sentence { font-size: 1.22em; line-height: 1.4; margin: 0.3em 0 0.7em; font-weight: 500; }
.decision p.why { background: #fff6e0; border-left: 4px solid #e0a800; padding: 0.4em 0.7em; margin: 0 0 0.7em; }
.cards { display: grid; grid-template-columns: repeat(2, 1fr); gap: 0.5em; margin-bottom: 0.6em; }
.card { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 0.4em 0.7em; }
.card .label { font-size: 0.8em; color: var(--muted); text-transform: uppercase; letter-spacing: 0.03em; }
.card .value { font-size: 1.3em; font-weight: 650; white-space: nowrap; }
.card .detail { font-size: 0.82em; color: var(--muted); }
iframe.map { width: 100%; height: 560px; border: 1px solid #bbb; border-radius: 4px; display: block; }
ul.legend { list-style: none; padding: 0; margin: 0.4em 0 0; display: flex; flex-wrap: wrap; gap: 0.2em 1.2em; font-size: 0.88em; }
ul.legend .swatch { display: inline-block; width: 1.6em; height: 0.55em; border-radius: 2px; margin-right: 0.35em; vertical-align: middle; }
ul.legend .sym { display: inline-block; width: 1.6em; margin-right: 0.35em; vertical-align: middle; }
ul.legend .sym.newline { height: 0; border-top: 5px solid #555; }
ul.legend .sym.cut { height: 0; border-top: 3px dashed #000; }
ul.legend .sym.moved { width: 0.8em; height: 0.8em; border: 3px solid #000; border-radius: 50%; background: #bbb; }
ul.summary li { margin-bottom: 0.6em; }
table.data { border-collapse: collapse; font-size: 0.9em; margin: 0.6em 0 1.2em; }
table.data th, table.data td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
table.data td.num { text-align: right; white-space: nowrap; }
table.data thead th { background: #eef0f3; }
table.data tbody tr:nth-child(even) { background: #fafafa; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-weight: 600; color: #333; margin-top: 0.3em; }
.print-only { display: none; }
@media (max-width: 1000px) { .decision { grid-template-columns: 1fr; } }
@media print {
  @page { size: A4 landscape; margin: 11mm; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { max-width: none; padding: 0; font-size: 9.5pt; }
  nav, iframe.map, .screen-only { display: none !important; }
  .print-only { display: block; }
  .print-only img { max-height: 112mm; }
  .print-only figure { margin: 0; }
  section { break-before: page; }
  section#recommended-plan { break-before: avoid; }
  h2, h3 { break-after: avoid; }
  figure, table.data, .card, .cards, ul.legend, p.sentence { break-inside: avoid; }
  figure img { max-height: 125mm; width: auto; }  /* a figure fits on a page with its section's intro */
  .decision { grid-template-columns: 5fr 7fr; gap: 1em; }
  .decision p.sentence { font-size: 1.1em; }
  a { color: inherit; text-decoration: none; }
  table.data { font-size: 8.5pt; }
}
"""

#: Marks, once the page has loaded, every figure (``data-rendered="yes"`` when its image decoded)
#: and the map (``data-rendered`` = the number of features Leaflet drew), so a headless browser's
#: DOM dump shows whether the page rendered (``tests/test_report_html.py``).
RENDER_CHECK = """
window.addEventListener('load', function () {
  document.querySelectorAll('figure img').forEach(function (img) {
    img.setAttribute('data-rendered', img.complete && img.naturalWidth > 0 ? 'yes' : 'no');
  });
  document.querySelectorAll('iframe.map').forEach(function (f) {
    var n = 'no';
    try { n = String(f.contentDocument.querySelectorAll('.leaflet-interactive').length); } catch (e) { n = 'error'; }
    f.setAttribute('data-rendered', n);
  });
});
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<header><h1>{name}</h1><p class="meta">{meta}</p><nav>{nav}</nav></header>
{body}
<footer><p>lvbalance report; every number and figure is read from the output files beside this report. {leaflet_note}.</p></footer>
<script>{check}</script>
</body>
</html>
"""
