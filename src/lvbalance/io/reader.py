"""The one guarded reader: every input file is read here, and any failure names the file.

Bytes first (gzip-compressed when the file starts with gzip's magic number, or is named
``.gz``), then text: UTF-8, with or without a byte-order mark; UTF-16 with its byte-order
mark (spreadsheets' "Unicode text"). Then the format: CSV, TOML, JSON, GeoJSON, parquet.
Whatever goes wrong (not UTF-8, a damaged gzip stream, an empty file, invalid TOML or JSON,
a semicolon-separated CSV) is raised as one :class:`~lvbalance.case.CaseError` whose problem
names the file and, where known, the line.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import tomllib
import warnings
import zlib
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from lvbalance.case import CaseError, Problem

GZIP_MAGIC = b"\x1f\x8b"
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def _fail(path: Path, name: str | None, message: str, element: str = "") -> CaseError:
    return CaseError([Problem(name or path.name, element, message)], source=str(path))


def read_bytes(path: str | Path, *, name: str | None = None) -> bytes:
    """The file's bytes, gunzipped when it is gzip-compressed (by content or by its ``.gz`` name)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise _fail(path, name, "is a folder, not a file") from None
    except OSError as exc:
        raise _fail(path, name, f"cannot be read: {exc.strerror or exc}") from None
    if data.startswith(GZIP_MAGIC):
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise _fail(path, name, f"is a damaged gzip file (truncated or corrupt: {exc})") from None
    if path.suffix.lower() == ".gz":
        raise _fail(path, name, "is named .gz but is not gzip-compressed")
    return data


def decode(data: bytes, path: Path, name: str | None = None) -> str:
    """``data`` as text: UTF-8 (a byte-order mark is dropped) or UTF-16 with its byte-order mark."""
    encoding = "utf-8"
    for bom, enc in _BOMS:
        if data.startswith(bom):
            data, encoding = data[len(bom) :], enc
            break
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        msg = f"is not {encoding.upper()} text (byte {exc.start}: {data[exc.start : exc.start + 1]!r}): a binary file, or save it as UTF-8"
        raise _fail(path, name, msg, f"line {line}") from None
    if "\x00" in text:
        raise _fail(path, name, "is not text (it contains NUL bytes): a binary file?")
    return text


def read_text(path: str | Path, *, name: str | None = None, allow_empty: bool = False) -> str:
    """The file's text (see :func:`decode`); an empty file is an error unless ``allow_empty``."""
    path = Path(path)
    text = decode(read_bytes(path, name=name), path, name)
    if not allow_empty and not text.strip():
        raise _fail(path, name, "is empty")
    return text


def read_toml(path: str | Path, *, name: str | None = None) -> dict[str, Any]:
    """A TOML document (an empty file is an empty document)."""
    path = Path(path)
    try:
        return tomllib.loads(read_text(path, name=name, allow_empty=True))
    except tomllib.TOMLDecodeError as exc:
        raise _fail(path, name, f"is not valid TOML: {exc}") from None


def read_json(path: str | Path, *, name: str | None = None) -> Any:
    """A JSON document."""
    path = Path(path)
    text = read_text(path, name=name)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(path, name, f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", f"line {exc.lineno}") from None


def read_geojson(path: str | Path, *, name: str | None = None) -> gpd.GeoDataFrame:
    """A GeoJSON FeatureCollection as a GeoDataFrame (its ``crs`` member honoured)."""
    path = Path(path)
    doc = read_json(path, name=name)
    if not isinstance(doc, dict) or doc.get("type") not in ("FeatureCollection", "Feature"):
        raise _fail(path, name, "is not GeoJSON: expected a FeatureCollection")
    features = doc.get("features") if doc.get("type") == "FeatureCollection" else [doc]
    if not isinstance(features, list):
        raise _fail(path, name, "is not GeoJSON: 'features' must be a list")
    crs = (doc.get("crs") or {}).get("properties", {}).get("name", "EPSG:4326") if isinstance(doc.get("crs"), dict) else "EPSG:4326"
    if not features:
        return gpd.GeoDataFrame(geometry=[], crs=crs)
    try:
        return gpd.GeoDataFrame.from_features(features, crs=crs)
    except Exception as exc:  # shapely / pyproj errors vary: any failure is a problem of the file
        raise _fail(path, name, f"cannot be read as GeoJSON: {exc}") from None


def read_csv(path: str | Path, *, name: str | None = None, required: tuple[str, ...] = ()) -> pd.DataFrame:
    """A comma-separated table, every cell as text (stripped; empty cells NaN), header names stripped.

    ``required``: columns named in the message when the header is missing or uses another
    separator.
    """
    path = Path(path)
    text = read_text(path, name=name)
    header = text.lstrip().splitlines()[0]
    expected = f" (expected: {', '.join(required)})" if required else ""
    for sep, what in ((";", "semicolons"), ("\t", "tabs")):
        if sep in header and "," not in header:
            msg = f"columns are separated by {what}, not commas (a spreadsheet's local list separator?): save it comma-separated{expected}"
            raise _fail(path, name, msg, "header")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # more fields than the header: never a silent index column
            df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=True, index_col=False)
    except pd.errors.ParserWarning:
        raise _fail(path, name, "cannot be read as CSV: a row has more fields than the header", "line 2") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise _fail(path, name, f"cannot be read as CSV: {exc}", f"line {m[1]}" if m else "") from None
    df.columns = [str(c).strip() for c in df.columns]
    cols = list(df.columns)
    dup = sorted({m[1] for c in cols if (m := re.fullmatch(r"(.+)\.\d+", c)) and m[1] in cols})
    if dup:
        raise _fail(path, name, f"has repeated column(s) {', '.join(dup)}", "header")
    blanks = any(s in text for s in (" ,", "\t,", " \n", "\t\n", " \r")) or text.rstrip("\r\n") != text.rstrip()
    if len(df.columns) and blanks:  # trailing blanks in a cell (leading ones are skipped by the parser)
        df = df.apply(lambda s: s.str.strip())
    return df


def read_parquet(path: str | Path, *, name: str | None = None) -> pd.DataFrame:
    """A parquet table."""
    path = Path(path)
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow's errors have no common base: any failure is a problem of the file
        raise _fail(path, name, f"cannot be read as parquet: {exc}") from None
