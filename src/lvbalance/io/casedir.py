"""Case directory: read and write (DESIGN.md, "Case directory").

```
case.toml           name, crs, [metadata], [files], [params]
nodes.csv           node_id, x, y, kind
lines.csv           line_id, from_node, to_node, length_m, rated_kw [, r_ohm_per_km, x_ohm_per_km, std_type]
lines.geojson       optional line geometry (property line_id)
streets.geojson     LineStrings; properties street_id, cost_per_m (optional)
customers.csv       customer_id, node_id, x, y, type, metered, annual_kwh, charge_kw, discharge_kw, v2g
meter_readings.csv  customer_id, timestamp, p_kw   (also .csv.gz or .parquet)
days.csv            date, day_type, weather
```

Reading collects every problem (missing files or columns, unparsable values, and then the
consistency pass of :func:`lvbalance.case.validate_case`) and raises one
:class:`~lvbalance.case.CaseError`. Writing is atomic and never overwrites.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pydantic
import pyproj
import shapely
import tomli_w

from lvbalance.case import (
    CALENDAR_COLUMNS,
    CUSTOMER_COLUMNS,
    LINE_COLUMNS,
    NODE_COLUMNS,
    READING_COLUMNS,
    Case,
    CaseError,
    Network,
    Problem,
    Streets,
    case_warnings,
    validate_case,
)
from lvbalance.case.limits import unknown_columns
from lvbalance.case.timestamps import parse_timestamps
from lvbalance.io.reader import read_csv, read_geojson, read_parquet, read_toml
from lvbalance.params import Params

log = logging.getLogger(__name__)

DEFAULT_FILES = {
    "nodes": "nodes.csv",
    "lines": "lines.csv",
    "line_geometry": "lines.geojson",
    "streets": "streets.geojson",
    "customers": "customers.csv",
    "meter_readings": "meter_readings.csv",
    "days": "days.csv",
}
OPTIONAL_LINE_COLUMNS = ("r_ohm_per_km", "x_ohm_per_km", "std_type")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


# --------------------------------------------------------------------------- reading


def read_case(path: str | Path, *, strict: bool = False) -> Case:
    """Read and validate the case directory at ``path``.

    Coordinates in a geographic CRS (lon/lat) are projected to the local UTM zone.
    Raises :class:`CaseError` listing every problem found; with ``strict`` the warnings of
    :func:`read_case_checked` count as problems too, else they are logged.
    """
    case, warnings = read_case_checked(path)
    if strict and warnings:
        raise CaseError([Problem(w.file, w.element, f"{w.message} [warning, an error with --strict]") for w in warnings], source=str(path))
    for w in warnings:
        log.warning("%s", w)
    return case


def read_case_checked(path: str | Path) -> tuple[Case, list[Problem]]:
    """Read and validate the case directory at ``path``: the case and its warnings.

    Warnings: unknown columns (each naming the closest known one) and the implausible values
    of :func:`lvbalance.case.case_warnings`. Raises :class:`CaseError` listing every error.
    """
    root = Path(path)
    problems: list[Problem] = []
    warnings: list[Problem] = []
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is a file, not a case directory"
        raise CaseError([Problem(str(root), "", what)], source=str(root))
    if not (root / "case.toml").is_file():
        raise CaseError([Problem(str(root), "case.toml", "not a case directory: case.toml is missing")], source=str(root))
    try:
        meta = read_toml(root / "case.toml")
    except CaseError as exc:
        raise CaseError(exc.problems, source=str(root)) from None

    known_top = {"name", "crs", "metadata", "files", "params", "streets_source"}
    for key in sorted(set(meta) - known_top):
        problems.append(Problem("case.toml", key, f"unknown key (expected one of {', '.join(sorted(known_top))})"))
    files = _file_names(meta.get("files", {}), problems)
    params = _read_params(meta.get("params", {}), problems)
    crs_in = str(meta.get("crs", ""))
    if not crs_in:
        problems.append(Problem("case.toml", "crs", "missing: the coordinate reference system of all coordinates"))

    nodes = _read_table(root, files["nodes"], "node_id", NODE_COLUMNS, problems, warnings)
    lines = _read_table(root, files["lines"], "line_id", LINE_COLUMNS[:4], problems, warnings, optional=OPTIONAL_LINE_COLUMNS)
    customers = _read_table(root, files["customers"], "customer_id", CUSTOMER_COLUMNS, problems, warnings)
    readings = _read_readings(root, files["meter_readings"], problems, warnings)
    calendar = _read_table(root, files["days"], "date", CALENDAR_COLUMNS, problems, warnings)
    streets = _read_geojson(root, files["streets"], "street_id", problems, warnings, required=True)
    line_geo = _read_geojson(root, files["line_geometry"], "line_id", problems, warnings, required=False)
    if problems or streets is None:  # a missing streets file is one of the problems
        raise CaseError(problems, source=str(root))

    customers["metered"] = _parse_bool(customers["metered"], files["customers"], "metered", problems)
    customers["v2g"] = _parse_bool(customers["v2g"], files["customers"], "v2g", problems)
    calendar.index = _parse_dates(calendar.index, files["days"], problems)
    if "cost_per_m" not in streets:
        streets["cost_per_m"] = np.nan
    cost = pd.to_numeric(streets["cost_per_m"], errors="coerce")
    for sid in streets.index[cost.isna() & streets["cost_per_m"].notna()]:
        problems.append(Problem(files["streets"], f"street {sid}", f"cost_per_m is not a number ({streets.at[sid, 'cost_per_m']!r})"))
    streets["cost_per_m"] = cost

    crs, transform = _projection(crs_in, nodes, problems)
    if transform is not None:
        for df in (nodes, customers):
            df["x"], df["y"] = transform(pd.to_numeric(df["x"], errors="coerce"), pd.to_numeric(df["y"], errors="coerce"))
        streets = streets.to_crs(crs)
        if line_geo is not None:
            line_geo = line_geo.to_crs(crs)

    case = Case(
        name=str(meta.get("name", root.name)),
        crs=crs,
        network=Network(
            nodes=nodes,
            lines=lines,
            line_geometry={} if line_geo is None else dict(zip(line_geo.index, line_geo.geometry)),
        ),
        streets=Streets(segments=streets, source=str(meta.get("streets_source", "geojson"))),
        customers=customers,
        meter_readings=readings,
        calendar=calendar,
        params=params,
        metadata={str(k): str(v) for k, v in meta.get("metadata", {}).items()},
    )
    problems += _named(validate_case(case), files, root)
    if problems:
        raise CaseError(problems, source=str(root))
    return normalise_types(case), warnings + _named(case_warnings(case), files, root)


def normalise_types(case: Case) -> Case:
    """Cast every column of a validated case to its working dtype (floats, bools, strings)."""
    nodes = case.network.nodes.astype({"x": float, "y": float, "kind": str})
    lines = case.network.lines.copy()
    for c in ("length_m", "rated_kw", "r_ohm_per_km", "x_ohm_per_km"):
        lines[c] = pd.to_numeric(lines.get(c, np.nan), errors="coerce").astype(float)
    lines["std_type"] = lines.get("std_type", "").fillna("").astype(str)
    lines[["from_node", "to_node"]] = lines[["from_node", "to_node"]].astype(str)
    customers = case.customers.copy()
    for c in ("x", "y", "annual_kwh", "charge_kw", "discharge_kw"):
        customers[c] = pd.to_numeric(customers[c], errors="coerce").astype(float)
    customers[["node_id", "type"]] = customers[["node_id", "type"]].astype(str)
    customers[["metered", "v2g"]] = customers[["metered", "v2g"]].astype(bool)
    readings = pd.DataFrame(
        {
            "customer_id": case.meter_readings["customer_id"].astype(str).to_numpy(),
            "timestamp": parse_timestamps(case.meter_readings["timestamp"]).wall.to_numpy(),
            "p_kw": pd.to_numeric(case.meter_readings["p_kw"]).astype(float).to_numpy(),
        }
    )
    calendar = case.calendar.copy()
    calendar.index = pd.DatetimeIndex(calendar.index).normalize().rename("date")
    return Case(
        case.name,
        case.crs,
        Network(nodes[list(NODE_COLUMNS)], lines[list(LINE_COLUMNS)], dict(case.network.line_geometry)),
        case.streets,
        customers[list(CUSTOMER_COLUMNS)],
        readings,
        calendar[list(CALENDAR_COLUMNS)],
        case.params,
        dict(case.metadata),
    )


def _read_params(raw: dict[str, Any], problems: list[Problem]) -> Params:
    try:
        return Params.model_validate(raw)
    except pydantic.ValidationError as exc:
        for err in exc.errors():
            key = "params." + ".".join(str(x) for x in err["loc"])
            problems.append(Problem("case.toml", key, err["msg"]))
        return Params()


def _read_table(
    root: Path,
    name: str,
    index: str,
    required: tuple[str, ...],
    problems: list[Problem],
    warnings: list[Problem],
    optional: tuple[str, ...] = (),
) -> pd.DataFrame:
    path = root / name
    empty = pd.DataFrame(columns=list(required)).rename_axis(index)
    if not path.is_file():
        problems.append(Problem(name, "", "file is missing" if not path.exists() else "is a folder, not a file"))
        return empty
    try:
        df = read_csv(path, name=name, required=(index, *required))
    except CaseError as exc:
        problems.extend(exc.problems)
        return empty
    missing = [c for c in (index, *required) if c not in df.columns]
    if missing:
        problems.append(Problem(name, "header", f"missing column(s) {', '.join(missing)} (found: {', '.join(df.columns)})"))
        return empty
    warnings.extend(unknown_columns(df.columns, (index, *required, *optional), name))
    for c in optional:
        if c not in df:
            df[c] = np.nan
    return df.set_index(index)[list(required) + [c for c in optional]]


def _read_readings(root: Path, name: str, problems: list[Problem], warnings: list[Problem]) -> pd.DataFrame:
    candidates = [root / name, root / (name + ".gz"), root / Path(name).with_suffix(".parquet")]
    path = next((p for p in candidates if p.is_file()), None)
    empty = pd.DataFrame(columns=list(READING_COLUMNS))
    if path is None:
        problems.append(Problem(name, "", "file is missing (also looked for .csv.gz and .parquet)"))
        return empty
    try:
        if path.suffix == ".parquet":
            df = read_parquet(path)
            df["customer_id"] = df["customer_id"].astype(str) if "customer_id" in df else None
        else:
            df = read_csv(path, required=READING_COLUMNS)
    except CaseError as exc:
        problems.extend(exc.problems)
        return empty
    missing = [c for c in READING_COLUMNS if c not in df.columns]
    if missing:
        problems.append(Problem(path.name, "header", f"missing column(s) {', '.join(missing)} (found: {', '.join(map(str, df.columns))})"))
        return empty
    warnings.extend(unknown_columns(map(str, df.columns), READING_COLUMNS, path.name))
    df = df[list(READING_COLUMNS)].reset_index(drop=True)
    p_kw = pd.to_numeric(df["p_kw"], errors="coerce")
    if p_kw.notna().all():  # numbers from here on; a bad value stays text, for its message
        df["p_kw"] = p_kw.astype(float)
    return df


def _read_geojson(
    root: Path, name: str, index: str, problems: list[Problem], warnings: list[Problem], *, required: bool
) -> gpd.GeoDataFrame | None:
    path = root / name
    empty = gpd.GeoDataFrame({"cost_per_m": []}, geometry=[], index=pd.Index([], name=index))
    if not path.is_file():
        if required:
            problems.append(Problem(name, "", "file is missing" if not path.exists() else "is a folder, not a file"))
            return empty
        return None
    try:
        gdf = read_geojson(path, name=name)
    except CaseError as exc:
        problems.extend(exc.problems)
        return empty
    if gdf.empty:
        return empty if required else None
    if index not in gdf:
        problems.append(Problem(name, "properties", f"every feature needs the property {index}"))
        return gdf
    known = (index, "cost_per_m", "geometry") if required else (index, "geometry")
    warnings.extend(unknown_columns(map(str, gdf.columns), known, name))
    if gdf[index].isna().any():
        problems.append(Problem(name, "properties", f"{int(gdf[index].isna().sum())} feature(s) without the property {index}"))
    gdf[index] = gdf[index].astype(str)
    return gdf.set_index(index)


def _named(found: list[Problem], files: dict[str, str], root: Path) -> list[Problem]:
    """``found`` (from the consistency pass, which knows the default file names) with the names of
    this case's files: those of ``[files]`` and the readings file actually read (.csv.gz, .parquet)."""
    readings = files["meter_readings"]
    actual = next((n for n in (readings, readings + ".gz", str(Path(readings).with_suffix(".parquet"))) if (root / n).is_file()), readings)
    names = {DEFAULT_FILES[k]: v for k, v in files.items()} | {DEFAULT_FILES["meter_readings"]: actual}
    return [Problem(names.get(p.file, p.file), p.element, p.message) for p in found]


def _file_names(given: object, problems: list[Problem]) -> dict[str, str]:
    """``[files]`` of case.toml over the default names; unknown keys and non-text names are problems."""
    if not isinstance(given, dict):
        problems.append(Problem("case.toml", "files", "must be a table of file names"))
        return dict(DEFAULT_FILES)
    out = dict(DEFAULT_FILES)
    for key, value in given.items():
        if key not in DEFAULT_FILES:
            problems.append(Problem("case.toml", f"files.{key}", f"unknown file key (expected one of {', '.join(DEFAULT_FILES)})"))
        elif not isinstance(value, str) or not value.strip():
            problems.append(Problem("case.toml", f"files.{key}", f"must be a file name, got {value!r}"))
        else:
            out[key] = value
    return out


def _parse_bool(col: pd.Series, file: str, name: str, problems: list[Problem]) -> pd.Series:
    text = col.fillna("").astype(str).str.strip().str.lower()
    bad = ~text.isin(_TRUE | _FALSE)
    for idx in col.index[bad]:
        problems.append(Problem(file, f"customer {idx}", f"{name} must be true or false, got {col[idx]!r}"))
    return text.isin(_TRUE)


def _parse_dates(index: pd.Index, file: str, problems: list[Problem]) -> pd.DatetimeIndex:
    parsed = pd.to_datetime(pd.Series(index, dtype=object), errors="coerce", format="%Y-%m-%d")
    for raw in index[parsed.isna().to_numpy()]:
        problems.append(Problem(file, f"date {raw!r}", "not a date (expected YYYY-MM-DD)"))
    return pd.DatetimeIndex(parsed.fillna(pd.Timestamp("1900-01-01")), name="date")


def _projection(crs_in: str, nodes: pd.DataFrame, problems: list[Problem]) -> tuple[str, Callable[..., Any] | None]:
    """Projected CRS of the case and the transform from ``crs_in`` to it (None if already projected)."""
    try:
        src = pyproj.CRS.from_user_input(crs_in)
    except pyproj.exceptions.CRSError:
        return crs_in, None  # reported by the consistency pass
    if src.is_projected:
        return crs_in, None
    if not src.is_geographic:
        problems.append(Problem("case.toml", "crs", f"{crs_in!r} is neither projected nor geographic"))
        return crs_in, None
    lon = pd.to_numeric(nodes["x"], errors="coerce")
    lat = pd.to_numeric(nodes["y"], errors="coerce")
    if lon.dropna().empty or not lon.dropna().between(-180, 180).all() or not lat.dropna().between(-90, 90).all():
        problems.append(Problem("case.toml", "crs", f"{crs_in!r} is lon/lat but nodes.csv has coordinates outside it: cannot be projected"))
        return crs_in, None
    utm = gpd.GeoSeries(gpd.points_from_xy([lon.median()], [lat.median()]), crs=src).estimate_utm_crs()
    crs = f"EPSG:{utm.to_epsg()}"
    tf = pyproj.Transformer.from_crs(src, utm, always_xy=True)
    return crs, lambda x, y: tf.transform(x.to_numpy(), y.to_numpy())


# --------------------------------------------------------------------------- writing


def write_case(case: Case, path: str | Path, *, overwrite: bool = False, readings_format: str = "csv.gz") -> Path:
    """Write ``case`` as a case directory at ``path``, atomically.

    The directory is first written next to ``path`` and then renamed into place, so a
    failure leaves nothing half-written. An existing ``path`` is an error unless
    ``overwrite`` (then it is replaced as a whole). ``readings_format``: ``csv``,
    ``csv.gz`` or ``parquet``.
    """
    dest = Path(path)
    if dest.exists() and not overwrite:
        raise FileExistsError(f"{dest} exists; refusing to overwrite it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        _write_into(case, tmp, readings_format)
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old")
            dest.rename(old)
            tmp.rename(dest)
            shutil.rmtree(old)
        else:
            tmp.rename(dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return dest


def _write_into(case: Case, root: Path, readings_format: str) -> None:
    readings_name = {"csv": "meter_readings.csv", "csv.gz": "meter_readings.csv.gz", "parquet": "meter_readings.parquet"}[readings_format]
    files = {**DEFAULT_FILES, "meter_readings": readings_name}
    if not case.network.line_geometry:
        files.pop("line_geometry")
    meta: dict[str, Any] = {
        "name": case.name,
        "crs": case.crs,
        "streets_source": case.streets.source,
        "metadata": dict(case.metadata),
        "files": files,
        "params": case.params.to_dict(),
    }
    (root / "case.toml").write_text(tomli_w.dumps(meta), encoding="utf-8")
    net = case.network
    net.nodes[list(NODE_COLUMNS)].rename_axis("node_id").to_csv(root / files["nodes"])
    net.lines[list(LINE_COLUMNS)].rename_axis("line_id").to_csv(root / files["lines"])
    case.customers[list(CUSTOMER_COLUMNS)].rename_axis("customer_id").to_csv(root / files["customers"])
    cal = case.calendar[list(CALENDAR_COLUMNS)].copy()
    cal.index = pd.DatetimeIndex(cal.index).strftime("%Y-%m-%d")
    cal.rename_axis("date").to_csv(root / files["days"])
    readings = case.meter_readings[list(READING_COLUMNS)].copy()
    readings["timestamp"] = pd.to_datetime(readings["timestamp"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    if readings_format == "parquet":
        readings.to_parquet(root / files["meter_readings"], index=False)
    else:
        compression = {"method": "gzip", "mtime": 0} if readings_format == "csv.gz" else None  # reproducible bytes
        readings.to_csv(root / files["meter_readings"], index=False, float_format="%.4f", compression=compression)
    _write_geojson(
        case.streets.segments.geometry, {"cost_per_m": case.streets.segments["cost_per_m"]}, "street_id", case.crs, root / files["streets"]
    )
    if net.line_geometry:
        ids = list(net.line_geometry)
        _write_geojson(pd.Series([net.line_geometry[i] for i in ids], index=ids), {}, "line_id", case.crs, root / files["line_geometry"])


def _write_geojson(geoms: pd.Series, props: dict[str, pd.Series], id_name: str, crs: str, path: Path) -> None:
    """GeoJSON with coordinates in ``crs`` (named in the file), rounded to 1 mm."""
    features = []
    for i, (idx, geom) in enumerate(geoms.items()):
        properties: dict[str, Any] = {id_name: str(idx)}
        for name, values in props.items():
            v = values.iloc[i]
            properties[name] = None if pd.isna(v) else float(v)
        features.append(
            {"type": "Feature", "properties": properties, "geometry": json.loads(shapely.to_geojson(shapely.set_precision(geom, 0.001)))}
        )
    doc = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": crs}}, "features": features}
    path.write_text(json.dumps(doc), encoding="utf-8")
