"""The project's corpus of bad input (issue 14): every faulty variant a clear answer.

Each variant starts from the hand-built Fig 3 case (written as a case directory) or the
embedded default case, breaks one thing the way a careless export or a typo would, and runs
the command line. Every faulty variant must: exit with code 2, show no traceback, name the
file and the element, leave the case directory byte for byte as it was, and write no output
(not even a temporary folder). The valid but unusual variants must be accepted.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lvbalance.cli import app
from lvbalance.data import default_case_path
from lvbalance.io import write_case
from tests.fixtures import fig3_case

Edit = Callable[[Path], None]


@dataclass(frozen=True)
class Variant:
    """A broken case: ``edit`` breaks the case directory; ``named`` must all be in the output."""

    id: str
    edit: Edit
    named: tuple[str, ...]
    base: str = "fig3"
    command: str = "validate"


# --------------------------------------------------------------------------- editing helpers


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def sub(name: str, old: str, new: str, count: int = 1) -> Edit:
    """Replace ``old`` by ``new`` in file ``name`` (``count`` times; -1: all)."""

    def edit(root: Path) -> None:
        t = text(root / name)
        assert old in t, f"{old!r} not in {name}"
        (root / name).write_text(t.replace(old, new, count), encoding="utf-8")

    return edit


def cell(name: str, row_key: str, column: str, value: str) -> Edit:
    """Set ``column`` of the row whose first cell is ``row_key`` to the raw text ``value``."""

    def edit(root: Path) -> None:
        lines = text(root / name).splitlines()
        head = lines[0].split(",")
        col = head.index(column)
        for i, line in enumerate(lines[1:], 1):
            cells = line.split(",")
            if cells[0] == row_key:
                cells[col] = value
                lines[i] = ",".join(cells)
                break
        else:
            raise AssertionError(f"no row {row_key} in {name}")
        (root / name).write_text("\n".join(lines) + "\n", encoding="utf-8")

    return edit


def reading(row: int, column: str, value: str) -> Edit:
    """Set ``column`` of data row ``row`` (file row ``row + 2``) of meter_readings.csv."""

    def edit(root: Path) -> None:
        lines = text(root / "meter_readings.csv").splitlines()
        head = lines[0].split(",")
        cells = lines[row + 1].split(",")
        cells[head.index(column)] = value
        lines[row + 1] = ",".join(cells)
        (root / "meter_readings.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    return edit


def all_readings(fn: Callable[[int, list[str]], list[str]]) -> Edit:
    """Rewrite every data row of meter_readings.csv with ``fn(position, cells)``."""

    def edit(root: Path) -> None:
        lines = text(root / "meter_readings.csv").splitlines()
        out = [lines[0]] + [",".join(fn(i, line.split(","))) for i, line in enumerate(lines[1:])]
        (root / "meter_readings.csv").write_text("\n".join(out) + "\n", encoding="utf-8")

    return edit


def write(name: str, data: bytes | str) -> Edit:
    def edit(root: Path) -> None:
        if isinstance(data, str):
            (root / name).write_text(data, encoding="utf-8")
        else:
            (root / name).write_bytes(data)

    return edit


def remove(name: str) -> Edit:
    def edit(root: Path) -> None:
        (root / name).unlink()

    return edit


def folder_instead(name: str) -> Edit:
    def edit(root: Path) -> None:
        (root / name).unlink()
        (root / name).mkdir()

    return edit


def drop_column(name: str, column: str) -> Edit:
    def edit(root: Path) -> None:
        rows = [line.split(",") for line in text(root / name).splitlines()]
        col = rows[0].index(column)
        (root / name).write_text("\n".join(",".join(r[:col] + r[col + 1 :]) for r in rows) + "\n", encoding="utf-8")

    return edit


def rename_column(name: str, old: str, new: str) -> Edit:
    def edit(root: Path) -> None:
        lines = text(root / name).splitlines()
        lines[0] = ",".join(new if c == old else c for c in lines[0].split(","))
        (root / name).write_text("\n".join(lines) + "\n", encoding="utf-8")

    return edit


def swap_header(name: str, a: str, b: str) -> Edit:
    """Swap two column names in the header only (the data stays: a careless column order)."""

    def edit(root: Path) -> None:
        lines = text(root / name).splitlines()
        lines[0] = ",".join({a: b, b: a}.get(c, c) for c in lines[0].split(","))
        (root / name).write_text("\n".join(lines) + "\n", encoding="utf-8")

    return edit


def semicolons(name: str) -> Edit:
    return lambda root: (root / name).write_text(text(root / name).replace(",", ";"), encoding="utf-8")


def truncate(name: str, keep: float = 0.5) -> Edit:
    def edit(root: Path) -> None:
        data = (root / name).read_bytes()
        (root / name).write_bytes(data[: int(len(data) * keep)])

    return edit


def duplicate_row(name: str, row: int = 1) -> Edit:
    def edit(root: Path) -> None:
        lines = text(root / name).splitlines()
        (root / name).write_text("\n".join([*lines, lines[row]]) + "\n", encoding="utf-8")

    return edit


def append_row(name: str, row: str) -> Edit:
    return lambda root: (root / name).write_text(text(root / name).rstrip("\n") + "\n" + row + "\n", encoding="utf-8")


def toml(old: str, new: str) -> Edit:
    return sub("case.toml", old, new)


def toml_append(extra: str) -> Edit:
    return lambda root: (root / "case.toml").write_text(text(root / "case.toml") + "\n" + extra + "\n", encoding="utf-8")


def toml_params(section: str, line: str) -> Edit:
    """Add ``line`` to ``[params.<section>]`` (the section exists in a written case)."""
    return sub("case.toml", f"[params.{section}]\n", f"[params.{section}]\n{line}\n")


def street(coords: list[list[float]], sid: str = "bad", cost: object = None) -> Edit:
    """Add a street feature with ``coords`` (offsets from the case's origin)."""

    def edit(root: Path) -> None:
        doc = json.loads(text(root / "streets.geojson"))
        x0, y0 = doc["features"][0]["geometry"]["coordinates"][0]
        geom = {"type": "LineString", "coordinates": [[x0 + dx, y0 + dy] for dx, dy in coords]}
        doc["features"].append({"type": "Feature", "properties": {"street_id": sid, "cost_per_m": cost}, "geometry": geom})
        (root / "streets.geojson").write_text(json.dumps(doc), encoding="utf-8")

    return edit


def street_props(fn: Callable[[list[dict]], None]) -> Edit:
    def edit(root: Path) -> None:
        doc = json.loads(text(root / "streets.geojson"))
        fn(doc["features"])
        (root / "streets.geojson").write_text(json.dumps(doc), encoding="utf-8")

    return edit


def gz_readings(fn: Callable[[bytes], bytes]) -> Edit:
    """meter_readings.csv replaced by meter_readings.csv.gz holding ``fn(csv bytes)``."""

    def edit(root: Path) -> None:
        data = (root / "meter_readings.csv").read_bytes()
        (root / "meter_readings.csv").unlink()
        (root / "meter_readings.csv.gz").write_bytes(fn(data))

    return edit


def gz_text_edit(edit_csv: Callable[[str], str]) -> Edit:
    """The default case's gzipped readings, decompressed, edited and compressed again."""

    def edit(root: Path) -> None:
        path = root / "meter_readings.csv.gz"
        path.write_bytes(gzip.compress(edit_csv(gzip.decompress(path.read_bytes()).decode()).encode(), mtime=0))

    return edit


def both(*edits: Edit) -> Edit:
    def edit(root: Path) -> None:
        for e in edits:
            e(root)

    return edit


def mixed_zones(readings_csv: str) -> str:
    lines = readings_csv.splitlines()
    out = [lines[0]]
    for i, line in enumerate(lines[1:]):
        cid, ts, p = line.split(",")
        out.append(f"{cid},{ts.replace(' ', 'T')}{'Z' if i % 2 else '+02:00'},{p}")
    return "\n".join(out) + "\n"


BINARY = bytes(range(256)) * 8


# --------------------------------------------------------------------------- the faulty variants

N, L, C, R, D, S = "nodes.csv", "lines.csv", "customers.csv", "meter_readings.csv", "days.csv", "streets.geojson"
FIG3: list[Variant] = [
    # nodes.csv
    Variant("node-x-inf", cell(N, "n2", "x", "inf"), (N, "node n2", "finite")),
    Variant("node-x-nan", cell(N, "n2", "x", "nan"), (N, "node n2", "not a number")),
    Variant("node-x-empty", cell(N, "n2", "x", ""), (N, "node n2", "missing")),
    Variant("node-x-text", cell(N, "n2", "x", "east"), (N, "node n2", "'east'")),
    Variant("node-x-decimal-comma", cell(N, "n2", "x", '"400100,5"'), (N, "node n2", "decimal comma")),
    Variant("node-x-far", cell(N, "n2", "x", "1e12"), (S, "node n2", "from the nearest street")),
    Variant("node-kind-unknown", cell(N, "n1", "kind", "pole"), (N, "node n1", "unknown kind")),
    Variant("node-two-busbars", cell(N, "n1", "kind", "busbar"), (N, "kind", "exactly one node must be the busbar")),
    Variant("node-no-busbar", cell(N, "B", "kind", "junction"), (N, "kind", "found 0")),
    Variant("node-duplicate-id", duplicate_row(N, 3), (N, "node n2", "duplicate id")),
    Variant("node-unconnected", append_row(N, "z9,400010.0,5370000.0,junction"), (N, "1 node(s)", "not connected", "z9")),
    Variant("nodes-semicolons", semicolons(N), (N, "header", "semicolons")),
    Variant("nodes-missing-column", drop_column(N, "kind"), (N, "header", "missing column(s) kind")),
    Variant("nodes-swapped-columns", swap_header(N, "x", "kind"), (N, "node n1", "unknown kind")),
    Variant("nodes-empty-file", write(N, b""), (N, "is empty")),
    Variant("nodes-header-only", write(N, "node_id,x,y,kind\n"), (N, "busbar")),
    Variant("nodes-binary", write(N, BINARY), (N, "not UTF-8")),
    Variant("nodes-latin1", write(N, "node_id,x,y,kind\nB\xe4,0,0,busbar\n".encode("latin-1")), (N, "line 2", "not UTF-8")),
    Variant("nodes-nul-bytes", write(N, b"node_id,x,y,kind\x00\x00\n"), (N, "NUL")),
    Variant("nodes-folder", folder_instead(N), (N, "folder")),
    Variant("nodes-missing-file", remove(N), (N, "file is missing")),
    Variant("nodes-extra-field", append_row(N, "z1,1,2,junction,oops"), (N, "line", "cannot be read as CSV")),
    Variant("nodes-extra-field-first-row", sub(N, "busbar\n", "busbar,oops\n"), (N, "line 2", "more fields than the header")),
    Variant("nodes-truncated", truncate(N, 0.6), (N,)),
    Variant("nodes-repeated-column", rename_column(N, "y", "x"), (N, "header", "repeated column")),
    # lines.csv
    Variant("line-length-inf", cell(L, "l2", "length_m", "inf"), (L, "line l2", "finite")),
    Variant("line-length-negative", cell(L, "l2", "length_m", "-50"), (L, "line l2", "positive")),
    Variant("line-length-zero", cell(L, "l2", "length_m", "0"), (L, "line l2", "positive")),
    Variant("line-length-huge", cell(L, "l2", "length_m", "1e12"), (L, "line l2", "longer than the whole area")),
    Variant("line-length-decimal-comma", cell(L, "l2", "length_m", '"50,0"'), (L, "line l2", "decimal comma")),
    Variant("line-rated-huge", cell(L, "l1", "rated_kw", "1e12"), (L, "line l1", "0.4 kV cable")),
    Variant("line-rated-in-watt", cell(L, "l1", "rated_kw", "150000"), (L, "line l1", "rated_kw is in kW")),
    Variant("line-rated-inf", cell(L, "l1", "rated_kw", "inf"), (L, "line l1", "finite")),
    Variant("line-rated-text", cell(L, "l1", "rated_kw", "150 kW"), (L, "line l1", "not a number")),
    Variant("line-rated-empty", cell(L, "l1", "rated_kw", ""), (L, "line l1", "missing")),
    Variant("line-r-inf", cell(L, "l3", "r_ohm_per_km", "inf"), (L, "line l3", "r_ohm_per_km", "finite")),
    Variant("line-x-text", cell(L, "l3", "x_ohm_per_km", "low"), (L, "line l3", "x_ohm_per_km")),
    Variant("line-unknown-node", cell(L, "l5", "to_node", "n99"), (L, "line l5", "n99", "not in nodes.csv")),
    Variant("line-self-loop", cell(L, "l5", "to_node", "n4"), (L, "line l5", "same node")),
    Variant("line-duplicate-id", duplicate_row(L, 2), (L, "line l2", "duplicate id")),
    Variant("line-loop", append_row(L, "l9,n5,m2,100.0,150.0,,,"), (L, "l9", "loop")),
    Variant("line-parallel", append_row(L, "l9,n4,n5,50.0,150.0,,,"), (L, "l5, l9", "parallel")),
    Variant("lines-missing-column", drop_column(L, "to_node"), (L, "header", "to_node")),
    Variant("lines-semicolons", semicolons(L), (L, "semicolons")),
    Variant("lines-truncated", truncate(L, 0.93), (L,)),
    Variant("lines-empty-file", write(L, ""), (L, "is empty")),
    # customers.csv
    Variant("customer-energy-huge", cell(C, "c3", "annual_kwh", "1e12"), (C, "customer c3", "1 GWh")),
    Variant("customer-energy-inf", cell(C, "c3", "annual_kwh", "inf"), (C, "customer c3", "finite")),
    Variant("customer-energy-negative", cell(C, "c3", "annual_kwh", "-4000"), (C, "customer c3", "annual_kwh > 0")),
    Variant("customer-energy-missing", cell(C, "c3", "annual_kwh", ""), (C, "customer c3", "billed energy")),
    Variant("customer-energy-comma", cell(C, "c3", "annual_kwh", '"4000,5"'), (C, "customer c3", "decimal comma")),
    Variant("customer-charge-inf", cell(C, "c2", "charge_kw", "inf"), (C, "customer c2", "charge_kw", "finite")),
    Variant("customer-charge-huge", cell(C, "c2", "charge_kw", "1e12"), (C, "customer c2", "charge_kw", "350")),
    Variant("customer-charge-500", cell(C, "c2", "charge_kw", "500"), (C, "customer c2", "largest chargers")),
    Variant("customer-discharge-huge", cell(C, "c2", "discharge_kw", "7000"), (C, "customer c2", "discharge_kw")),
    Variant("customer-charge-negative", cell(C, "c2", "charge_kw", "-7"), (C, "customer c2", "charge_kw >= 0")),
    Variant("customer-charge-zero", cell(C, "c2", "charge_kw", "0"), (C, "customer c2", "charge_kw > 0")),
    Variant("customer-far-from-node", cell(C, "c3", "x", "500200.0"), (C, "customer c3", "from its node")),
    Variant("customer-x-inf", cell(C, "c3", "x", "inf"), (C, "customer c3", "finite")),
    Variant("customer-x-nan", cell(C, "c3", "x", "NaN"), (C, "customer c3", "not a number")),
    Variant("customer-unknown-node", cell(C, "c3", "node_id", "n42"), (C, "customer c3", "n42")),
    Variant("customer-on-busbar", cell(C, "c3", "node_id", "B"), (C, "customer c3", "busbar")),
    Variant("customer-unknown-type", cell(C, "c3", "type", "Residential"), (C, "customer c3", "unknown type")),
    Variant("customer-metered-bad", cell(C, "c3", "metered", "maybe"), (C, "customer c3", "metered must be true or false")),
    Variant("customer-v2g-bad", cell(C, "c2", "v2g", "ja"), (C, "customer c2", "v2g")),
    Variant("customer-duplicate-id", duplicate_row(C, 3), (C, "customer c3", "duplicate id")),
    Variant("customer-metered-no-readings", cell(C, "c3", "metered", "True"), (C, "customer c3", "no readings")),
    Variant("customers-missing-column", drop_column(C, "v2g"), (C, "header", "v2g")),
    Variant("customers-swapped-columns", swap_header(C, "annual_kwh", "type"), (C, "customer c1", "unknown type")),
    Variant("customers-semicolons", semicolons(C), (C, "semicolons")),
    # meter_readings.csv
    Variant("reading-inf", reading(5, "p_kw", "inf"), (R, "row 7", "finite")),
    Variant("reading-nan", reading(5, "p_kw", "nan"), (R, "row 7", "finite")),
    Variant("reading-empty", reading(5, "p_kw", ""), (R, "row 7", "p_kw")),
    Variant("reading-text", reading(5, "p_kw", "n/a"), (R, "row 7", "'n/a'")),
    Variant("reading-decimal-comma", reading(5, "p_kw", '"0,35"'), (R, "row 7", "decimal comma")),
    Variant("reading-huge", reading(5, "p_kw", "1e12"), (R, "row 7", "p_kw is in kW")),
    Variant("readings-in-watt", all_readings(lambda i, c: [c[0], c[1], str(float(c[2]) * 1000)]), (R, "row", "p_kw is in kW")),
    Variant("reading-excel-serial", reading(3, "timestamp", "45355.0104"), (R, "row 5", "Excel serial")),
    Variant("reading-day-first", reading(3, "timestamp", "04.03.2024 00:45"), (R, "row 5", "day/month-first")),
    Variant("reading-bad-time", reading(3, "timestamp", "yesterday"), (R, "row 5", "not a date-time")),
    Variant("readings-mixed-zones", lambda root: (root / R).write_text(mixed_zones(text(root / R))), (R, "mixed time zones", "'Z'")),
    Variant(
        "readings-naive-and-offset",
        all_readings(lambda i, c: [c[0], c[1] + ("+01:00" if i % 3 == 0 else ""), c[2]]),
        (R, "mixed time zones", "without a time zone"),
    ),
    Variant("reading-unknown-customer", reading(0, "customer_id", "c99"), (R, "row 2", "unknown customer 'c99'")),
    Variant("reading-empty-customer", reading(0, "customer_id", ""), (R, "row 2", "customer_id is empty")),
    Variant("readings-all-zero", all_readings(lambda i, c: [c[0], c[1], "0"]), (R, "p_kw", "all")),
    Variant("readings-empty-file", write(R, b""), (R, "is empty")),
    Variant("readings-gzip-empty", gz_readings(lambda d: gzip.compress(b"")), ("meter_readings.csv.gz", "is empty")),
    Variant("readings-gzip-binary", gz_readings(lambda d: BINARY), ("meter_readings.csv.gz", "not gzip")),
    Variant("readings-gzip-truncated", gz_readings(lambda d: gzip.compress(d)[:2000]), ("meter_readings.csv.gz", "damaged gzip")),
    Variant("readings-gzip-of-binary", gz_readings(lambda d: gzip.compress(BINARY)), ("meter_readings.csv.gz", "not UTF-8")),
    Variant("readings-semicolons", semicolons(R), (R, "semicolons")),
    Variant("readings-missing-column", drop_column(R, "p_kw"), (R, "header", "p_kw")),
    Variant("readings-swapped-columns", swap_header(R, "timestamp", "p_kw"), (R, "row 2", "not a date-time")),
    Variant("readings-truncated", truncate(R, 0.5), (R, "row")),
    Variant("readings-parquet-corrupt", both(remove(R), write("meter_readings.parquet", BINARY)), ("meter_readings.parquet", "parquet")),
    Variant("readings-binary", write(R, BINARY), (R, "not UTF-8")),
    # days.csv
    Variant("day-type-unknown", cell(D, "2024-03-05", "day_type", "weekday"), (D, "date 2024-03-05", "day_type")),
    Variant("day-weather-unknown", cell(D, "2024-03-05", "weather", "foggy"), (D, "date 2024-03-05", "weather")),
    Variant("day-bad-date", cell(D, "2024-03-05", "date", "2024-13-05"), (D, "2024-13-05", "YYYY-MM-DD")),
    Variant("day-excel-date", cell(D, "2024-03-05", "date", "05.03.2024"), (D, "05.03.2024", "YYYY-MM-DD")),
    Variant("day-duplicate", duplicate_row(D, 2), (D, "date 2024-03-05", "duplicate")),
    Variant("days-no-known-type", both(sub(D, "non_working", "weekend", -1), sub(D, "working", "wd", -1)), (D, "day_type")),
    Variant("days-missing-file", remove(D), (D, "file is missing")),
    Variant("days-semicolons", semicolons(D), (D, "semicolons")),
    # streets.geojson
    Variant("street-zero-length", street([[10, 5], [10, 5]]), (S, "street bad", "zero length")),
    Variant("street-self-intersecting", street([[0, 5], [40, 5], [40, 30], [20, 30], [20, -10]]), (S, "street bad", "crosses itself")),
    Variant(
        "street-point",
        street_props(lambda fs: fs[0].update(geometry={"type": "Point", "coordinates": [1, 2]})),
        (S, "street s1", "LineString"),
    ),
    Variant("street-cost-negative", street_props(lambda fs: fs[0]["properties"].update(cost_per_m=-5)), (S, "street s1", "positive")),
    Variant("street-cost-text", street_props(lambda fs: fs[0]["properties"].update(cost_per_m="cheap")), (S, "street s1", "'cheap'")),
    Variant("street-duplicate-id", street_props(lambda fs: fs[1]["properties"].update(street_id="s1")), (S, "street s1", "duplicate")),
    Variant("streets-no-id", street_props(lambda fs: [f["properties"].pop("street_id") for f in fs]), (S, "street_id")),
    Variant("streets-none", street_props(lambda fs: fs.clear()), (S, "no usable street")),
    Variant("streets-truncated-json", truncate(S, 0.5), (S, "not valid JSON", "line 1")),
    Variant("streets-empty-file", write(S, ""), (S, "is empty")),
    Variant("streets-not-geojson", write(S, "[1, 2, 3]"), (S, "FeatureCollection")),
    Variant("streets-binary", write(S, BINARY), (S, "not UTF-8")),
    Variant("streets-missing-file", remove(S), (S, "file is missing")),
    # case.toml
    Variant("toml-binary", write("case.toml", BINARY), ("case.toml", "not UTF-8")),
    Variant("toml-invalid", toml_append("this is = = not toml"), ("case.toml", "not valid TOML")),
    Variant("toml-unknown-key", toml('name = "fig3"', 'name = "fig3"\ncolour = "red"'), ("case.toml", "colour", "unknown key")),
    Variant(
        "toml-unknown-solver", sub("case.toml", 'name = "highs"', 'name = "notasolver"'), ("case.toml", "params.solver.name", "notasolver")
    ),
    Variant("toml-negative-moves", toml("max_moved_customers = 10", "max_moved_customers = -1"), ("case.toml", "max_moved_customers")),
    Variant("toml-unknown-param", toml_params("planning", "max_moves = 3"), ("case.toml", "params.planning.max_moves")),
    Variant("toml-crs-missing", toml('crs = "EPSG:32632"\n', ""), ("case.toml", "crs", "missing")),
    Variant("toml-crs-unknown", toml('crs = "EPSG:32632"', 'crs = "EPSG:999999"'), ("case.toml", "crs", "EPSG:999999")),
    Variant("toml-crs-lonlat-but-metres", toml('crs = "EPSG:32632"', 'crs = "EPSG:4326"'), ("case.toml", "crs", "lon/lat")),
    Variant("toml-file-missing", toml('nodes = "nodes.csv"', 'nodes = "knots.csv"'), ("knots.csv", "file is missing")),
    Variant("toml-file-key-unknown", toml('nodes = "nodes.csv"', 'nodes = "nodes.csv"\nknots = "x.csv"'), ("case.toml", "files.knots")),
    Variant("toml-empty", write("case.toml", ""), ("case.toml", "crs", "missing")),
    Variant("toml-missing", remove("case.toml"), ("case.toml", "missing")),
    Variant("toml-country-unknown", toml_params("profiles", 'country = "Atlantis"'), ("case.toml", "params.profiles.country", "Atlantis")),
    # reaching plan: validation stops them before any work
    Variant("plan-line-length-inf", cell(L, "l2", "length_m", "inf"), (L, "line l2", "finite"), command="plan"),
    Variant("plan-unknown-solver", sub("case.toml", 'name = "highs"', 'name = "notasolver"'), ("params.solver.name",), command="plan"),
    Variant("plan-customer-100km", cell(C, "c3", "x", "500200.0"), (C, "customer c3", "from its node"), command="plan"),
    Variant("plan-charge-inf", cell(C, "c2", "charge_kw", "inf"), (C, "customer c2", "finite"), command="plan"),
]

AREA_LINE, AREA_HOUSE, AREA_EV = "line7171", "HH_w33082792", "EV_w33099019"
DEFAULT: list[Variant] = [
    Variant("default-line-length-inf", cell(L, AREA_LINE, "length_m", "inf"), (L, f"line {AREA_LINE}", "finite"), "default"),
    Variant("default-line-length-huge", cell(L, AREA_LINE, "length_m", "1e12"), (L, f"line {AREA_LINE}", "longer"), "default"),
    Variant("default-rated-huge", cell(L, AREA_LINE, "rated_kw", "1e12"), (L, f"line {AREA_LINE}", "0.4 kV"), "default"),
    Variant("default-energy-huge", cell(C, AREA_HOUSE, "annual_kwh", "1e12"), (C, f"customer {AREA_HOUSE}", "1 GWh"), "default"),
    Variant("default-charge-inf", cell(C, AREA_EV, "charge_kw", "inf"), (C, f"customer {AREA_EV}", "finite"), "default"),
    Variant("default-charge-huge", cell(C, AREA_EV, "charge_kw", "1e12"), (C, f"customer {AREA_EV}", "350"), "default"),
    Variant("default-customer-100km", cell(C, AREA_HOUSE, "y", "5467906.0"), (C, f"customer {AREA_HOUSE}", "from its node"), "default"),
    Variant("default-node-x-inf", cell(N, "AB_w33082812", "x", "inf"), (N, "node AB_w33082812", "finite"), "default"),
    Variant("default-readings-mixed-zones", gz_text_edit(mixed_zones), ("meter_readings.csv.gz", "mixed time zones"), "default"),
    Variant(
        "default-readings-all-zero",
        gz_text_edit(lambda t: "\n".join([t.splitlines()[0]] + [line.rsplit(",", 1)[0] + ",0" for line in t.splitlines()[1:]]) + "\n"),
        ("meter_readings.csv.gz", "p_kw", "all"),
        "default",
    ),
    Variant("default-readings-not-gzip", write("meter_readings.csv.gz", BINARY), ("meter_readings.csv.gz", "not gzip"), "default"),
    Variant(
        "default-readings-gzip-empty", write("meter_readings.csv.gz", gzip.compress(b"")), ("meter_readings.csv.gz", "is empty"), "default"
    ),
    Variant("default-readings-truncated", truncate("meter_readings.csv.gz", 0.3), ("meter_readings.csv.gz", "damaged gzip"), "default"),
    Variant("default-street-zero-length", street([[1, 1], [1, 1]]), (S, "street bad", "zero length"), "default"),
    Variant(
        "default-unknown-solver", sub("case.toml", 'name = "highs"', 'name = "gurobi_x"'), ("params.solver.name", "gurobi_x"), "default"
    ),
    Variant("default-toml-binary", write("case.toml", BINARY), ("case.toml", "not UTF-8"), "default"),
]


# --------------------------------------------------------------------------- running a variant

runner = CliRunner()


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The two valid cases every variant starts from (written once, copied per variant)."""
    root = tmp_path_factory.mktemp("bases")
    fig3 = write_case(fig3_case(), root / "fig3", readings_format="csv")
    default = Path(shutil.copytree(default_case_path(), root / "default"))
    return {"fig3": fig3, "default": default}


def digest(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (and the folders themselves), by relative path."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir" for p in sorted(folder.rglob("*"))
    }


def run(args: list[str]) -> tuple[int, str]:
    result = runner.invoke(app, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args}: {type(result.exception).__name__}: {result.exception}\n{result.output}")
    return result.exit_code, result.output


def assert_clear_refusal(code: int, output: str, named: tuple[str, ...]) -> None:
    flat = " ".join(output.split())  # rich wraps long lines
    assert code == 2, output
    assert "Traceback" not in output
    for word in named:
        assert " ".join(word.split()) in flat, f"{word!r} not in:\n{output}"


def prepare(variant: Variant, bases: dict[str, Path], tmp_path: Path) -> Path:
    case = Path(shutil.copytree(bases[variant.base], tmp_path / "case"))
    variant.edit(case)
    return case


@pytest.mark.parametrize("variant", FIG3 + DEFAULT, ids=lambda v: v.id)
def test_bad_input_is_a_clear_error(variant: Variant, bases: dict[str, Path], tmp_path: Path) -> None:
    case = prepare(variant, bases, tmp_path)
    before = digest(case)
    out = tmp_path / "out"
    args = ["validate", str(case)] if variant.command == "validate" else ["plan", str(case), "-m", "m1", "--no-evaluate", "-o", str(out)]
    code, output = run(args)
    assert_clear_refusal(code, output, variant.named)
    assert digest(case) == before, "the case directory was changed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case"], "output written"


# --------------------------------------------------------------------------- output folders

PLAN = ["plan", "-m", "baseline", "--no-evaluate"]


def _plan_into(case: Path, out: Path, *extra: str) -> tuple[int, str]:
    return run([*PLAN[:1], str(case), *PLAN[1:], "-o", str(out), *extra])


OUTPUTS: list[tuple[str, Callable[[Path, Path], Path], tuple[str, ...]]] = [
    ("out-inside-case", lambda case, tmp: case / "out", ("inside the case directory",)),
    ("out-equal-case", lambda case, tmp: case, ("inside the case directory",)),
    ("out-deep-inside-case", lambda case, tmp: case / "a" / "b", ("inside the case directory",)),
    ("out-holds-case", lambda case, tmp: tmp, ("holds the case directory",)),
    ("out-is-a-file", lambda case, tmp: _touch(tmp / "out.txt"), ("is a file",)),
    ("out-parent-is-a-file", lambda case, tmp: _touch(tmp / "parent") / "out", ("is a file, not a folder",)),
    ("out-not-empty", lambda case, tmp: _touch(tmp / "out" / "old.csv").parent, ("not empty", "--overwrite")),
]


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("old", encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "where", "named"), OUTPUTS, ids=[o[0] for o in OUTPUTS])
def test_bad_output_folder_is_refused(name: str, where: Callable[[Path, Path], Path], named: tuple[str, ...], bases, tmp_path) -> None:
    case = Path(shutil.copytree(bases["fig3"], tmp_path / "case"))
    out = where(case, tmp_path)
    before_case, before_all = digest(case), digest(tmp_path)
    code, output = _plan_into(case, out, "--overwrite") if name == "out-holds-case" else _plan_into(case, out)
    assert_clear_refusal(code, output, named)
    assert digest(case) == before_case and digest(tmp_path) == before_all, "something was written"


def test_unwritable_destination_is_exit_2(bases, tmp_path, monkeypatch) -> None:
    """A read-only file system (simulated: creating the temporary folder fails with EROFS)."""
    import tempfile

    def read_only(*args: object, **kwargs: object) -> str:
        raise OSError(errno.EROFS, "Read-only file system")

    case = Path(shutil.copytree(bases["fig3"], tmp_path / "case"))
    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    code, output = _plan_into(case, tmp_path / "out")
    assert_clear_refusal(code, output, ("out", "Read-only file system"))
    assert not (tmp_path / "out").exists()


def test_overwrite_replaces_the_folder_as_a_whole(bases, tmp_path) -> None:
    """--overwrite: the stale file of an earlier run is gone, the new outputs are there, no temporary folder left."""
    case = Path(shutil.copytree(bases["fig3"], tmp_path / "case"))
    out = tmp_path / "out"
    _touch(out / "stale.csv")
    code, output = _plan_into(case, out, "--overwrite")
    assert code == 0, output
    assert (out / "plan.json").is_file() and not (out / "stale.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case", "out"]


def test_a_failed_run_leaves_no_output(bases, tmp_path, monkeypatch) -> None:
    """A failure after validation (here: the solver) leaves neither the folder nor a temporary one."""
    import lvbalance.evaluate.tradeoff

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("solver stopped without a solution")

    case = Path(shutil.copytree(bases["fig3"], tmp_path / "case"))
    monkeypatch.setattr(lvbalance.evaluate.tradeoff, "plan_method", fail)  # the pipeline plans through plan_with_tradeoff
    code, output = _plan_into(case, tmp_path / "out")
    assert code == 1 and "solver stopped" in output and "Traceback" not in output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case"]


# --------------------------------------------------------------------------- warnings and --strict

WARNED: list[Variant] = [
    Variant("misspelled-optional-column", rename_column(L, "r_ohm_per_km", "r_ohm_km"), (L, "'r_ohm_km'", "did you mean 'r_ohm_per_km'")),
    Variant("unknown-customer-column", lambda root: sub(C, "v2g\n", "v2g,comment\n")(root), (C, "'comment'", "unknown column")),
    Variant(
        "no-moves-allowed", toml("max_moved_customers = 10", "max_moved_customers = 0"), ("case.toml", "max_moved_customers", "cannot move")
    ),
    Variant("one-day-of-readings", all_readings(lambda i, c: [c[0], "2024-03-04" + c[1][10:], c[2]]), (R, "1 day(s)")),
    Variant("rated-500-kw", cell(L, "l1", "rated_kw", "500"), (L, "line l1", "high for a 0.4 kV cable")),
    Variant("rated-in-mw", cell(L, "l1", "rated_kw", "0.15"), (L, "line l1", "MW")),
    Variant("charger-50-kw", cell(C, "c2", "charge_kw", "50"), (C, "customer c2", "home charger")),
    Variant("energy-in-mwh", cell(C, "c3", "annual_kwh", "4"), (C, "customer c3", "MWh given")),
    Variant(
        "customer-277-m-away",
        both(cell(C, "c3", "x", "399950.0"), cell(C, "c3", "y", "5369880.0")),
        (C, "customer c3", "277 m from its node"),
    ),
    Variant("reading-300-kw", reading(5, "p_kw", "300"), (R, "row 7", "unusually high")),
    Variant(
        "vacant-house", all_readings(lambda i, c: [c[0], c[1], "0" if c[0] == "c6" else c[2]]), (R, "customer c6", "every reading is 0")
    ),
    Variant("line-length-in-km", cell(L, "l2", "length_m", "0.05"), (L, "line l2", "km given")),
    Variant(
        "unknown-streets-property",
        street_props(lambda fs: fs[0]["properties"].update(cost_per_meter=10)),
        (S, "cost_per_meter", "cost_per_m"),
    ),
]


@pytest.mark.parametrize("variant", WARNED, ids=lambda v: v.id)
def test_warning_is_shown_and_strict_makes_it_an_error(variant: Variant, bases: dict[str, Path], tmp_path: Path) -> None:
    case = prepare(variant, bases, tmp_path)
    before = digest(case)
    code, output = run(["validate", str(case)])
    assert code == 0, output
    assert "warning" in output
    for word in variant.named:
        assert " ".join(word.split()) in " ".join(output.split()), f"{word!r} not in:\n{output}"
    code, output = run(["validate", "--strict", str(case)])
    assert_clear_refusal(code, output, (*variant.named, "--strict"))
    assert digest(case) == before


# --------------------------------------------------------------------------- imports


def test_import_of_a_corrupt_pandapower_json_is_exit_2(tmp_path: Path) -> None:
    net = tmp_path / "net.json"
    net.write_text('{"_module": "pandapower.auxiliary", "_class": "pandapowerNet", "_object": {"bus": {"_mod', encoding="utf-8")
    code, output = run(["import", "pandapower", str(net), "-o", str(tmp_path / "case")])
    assert_clear_refusal(code, output, ("net.json", "pandapower net"))
    assert not (tmp_path / "case").exists()


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (BINARY, "not UTF-8"),
        (b"", "is empty"),
        (b"{}", "not a pandapower net"),
        (b"[1, 2]", "pandapower"),
        (b"\xef\xbb\xbf{oops", "pandapower"),
    ],
    ids=["binary", "empty", "empty-object", "a-list", "bom-and-garbage"],
)
def test_import_of_a_bad_pandapower_file_is_exit_2(content: bytes, named: str, tmp_path: Path) -> None:
    net = tmp_path / "net.json"
    net.write_bytes(content)
    code, output = run(["import", "pandapower", str(net), "-o", str(tmp_path / "case")])
    assert_clear_refusal(code, output, ("net.json", named))
    assert not (tmp_path / "case").exists()


def test_import_of_a_missing_pandapower_file_is_exit_2(tmp_path: Path) -> None:
    code, output = run(["import", "pandapower", str(tmp_path / "nope.json"), "-o", str(tmp_path / "case")])
    assert_clear_refusal(code, output, ("nope.json", "does not exist"))


@pytest.mark.parametrize("code", ["NOT-A-CODE", "1-LV-rural9--0-sw", "1-MV-rural--0-sw", ""])
def test_import_simbench_with_a_bad_code_is_exit_2(code: str, tmp_path: Path) -> None:
    exit_code, output = run(["import", "simbench", code, "-o", str(tmp_path / "case")])
    assert_clear_refusal(exit_code, output, ("SimBench code", "1-LV-"))
    assert not (tmp_path / "case").exists()


def test_import_simbench_without_the_package_is_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "simbench", None)  # import simbench -> ImportError
    code, output = run(["import", "simbench", "1-LV-rural1--0-sw", "-o", str(tmp_path / "case")])
    assert_clear_refusal(code, output, ("simbench", 'pip install "lvbalance[simbench]"'))
    assert not (tmp_path / "case").exists()


# --------------------------------------------------------------------------- valid but unusual


def _every_text_file(fn: Callable[[bytes], bytes]) -> Edit:
    def edit(root: Path) -> None:
        for p in root.iterdir():
            if p.suffix in (".csv", ".toml", ".geojson"):
                p.write_bytes(fn(p.read_bytes()))

    return edit


def _reorder_columns(name: str) -> Edit:
    def edit(root: Path) -> None:
        rows = [line.split(",") for line in text(root / name).splitlines()]
        (root / name).write_text("\n".join(",".join(reversed(r)) for r in rows) + "\n", encoding="utf-8")

    return edit


UNUSUAL: list[tuple[str, Edit]] = [
    ("bom-everywhere", _every_text_file(lambda b: b"\xef\xbb\xbf" + b)),
    ("bom-case-toml", lambda root: (root / "case.toml").write_bytes(b"\xef\xbb\xbf" + (root / "case.toml").read_bytes())),
    ("crlf-everywhere", _every_text_file(lambda b: b.replace(b"\n", b"\r\n"))),
    ("utf16-csv", lambda root: (root / N).write_bytes(text(root / N).encode("utf-16"))),
    ("blanks-around-cells", lambda root: (root / C).write_text(text(root / C).replace(",", " , "), encoding="utf-8")),
    ("empty-lines", lambda root: (root / L).write_text(text(root / L).replace("\n", "\n\n"), encoding="utf-8")),
    ("no-final-newline", lambda root: (root / N).write_text(text(root / N).rstrip("\n"), encoding="utf-8")),
    (
        "quoted-cells",
        lambda root: (root / D).write_text("\n".join(",".join(f'"{c}"' for c in line.split(",")) for line in text(root / D).splitlines())),
    ),
    ("columns-reordered", _reorder_columns(N)),
    ("readings-gzipped", gz_readings(lambda d: gzip.compress(d))),
    ("readings-gzip-named-csv", lambda root: (root / R).write_bytes(gzip.compress((root / R).read_bytes()))),
    ("readings-iso-t-and-offset", all_readings(lambda i, c: [c[0], c[1].replace(" ", "T") + "+01:00", c[2]])),
    ("readings-utc-z", all_readings(lambda i, c: [c[0], c[1].replace(" ", "T") + "Z", c[2]])),
    ("readings-without-seconds", all_readings(lambda i, c: [c[0], c[1][:16], c[2]])),
    ("true-false-spellings", both(sub(C, "True", "yes", -1), sub(C, "False", "0", -1))),
]


@pytest.mark.parametrize(("name", "edit"), UNUSUAL, ids=[u[0] for u in UNUSUAL])
def test_valid_but_unusual_input_is_accepted(name: str, edit: Edit, bases: dict[str, Path], tmp_path: Path) -> None:
    case = Path(shutil.copytree(bases["fig3"], tmp_path / "case"))
    edit(case)
    code, output = run(["validate", "--strict", str(case)])
    assert code == 0, output
    assert "is a valid case" in output


def test_the_corpus_is_large_enough() -> None:
    """Issue 14 asks for at least 100 faulty variants: the case variants alone are more (150), besides
    the refused output folders, the warnings under --strict and the bad imports."""
    assert len({v.id for v in FIG3 + DEFAULT}) == len(FIG3 + DEFAULT) >= 100
