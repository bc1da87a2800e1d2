"""Meter timestamps: ISO 8601 text, local time, at most one kind of time zone in a file.

Readings are taken at their local wall-clock time (DESIGN.md, "Case directory"). A
timestamp may carry an offset (``+02:00``, ``Z``); it is then read as the wall-clock
time written before the offset. What cannot be read safely is a file that mixes
timestamps without an offset and with one, or UTC (``Z``, ``+00:00``) with local offsets:
the same wall-clock text would then mean different instants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

_WITH_OFFSET = re.compile(r"^(?P<wall>.*\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?P<offset>Z|[+-]\d{2}(?::?\d{2})?)$")
_EXCEL_SERIAL = re.compile(r"^\d{5}(?:[.,]\d+)?$")
EXPECTED = "expected ISO 8601 local time, e.g. 2024-03-04 00:15:00"


@dataclass(frozen=True)
class ParsedTimestamps:
    """``wall``: the wall-clock time of each row (NaT where unreadable); ``zones``: the rows
    (0-based positions) of each kind of time zone found: ``none``, ``UTC`` or an offset."""

    wall: pd.Series
    zones: dict[str, list[int]]

    @property
    def mixed(self) -> bool:
        """Timestamps without offset and with one, or UTC together with local offsets."""
        kinds = set(self.zones)
        return len(kinds) > 1 and ("none" in kinds or "UTC" in kinds)

    def mixed_message(self, first_row: int) -> str:
        """What is mixed, with the first file row of each kind (``first_row``: row of position 0)."""
        parts = []
        for zone, rows in sorted(self.zones.items(), key=lambda kv: kv[1][0]):
            what = {"none": "without a time zone", "UTC": "in UTC ('Z' or +00:00)"}.get(zone, f"with offset {zone}")
            parts.append(f"{len(rows)} row(s) {what} (first: row {rows[0] + first_row})")
        return (
            "mixed time zones: " + "; ".join(parts) + ". Give every timestamp in the same form (local time without an offset is simplest)"
        )


def _offset_name(offset: str) -> str:
    if offset == "Z" or offset.replace(":", "") in ("+00", "-00", "+0000", "-0000"):
        return "UTC"
    return offset if ":" in offset or len(offset) == 3 else f"{offset[:3]}:{offset[3:]}"


def parse_timestamps(values: pd.Series) -> ParsedTimestamps:
    """Wall-clock times of ``values`` (text or datetimes) and the time zones found in them."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        wall = values.dt.tz_localize(None) if isinstance(values.dtype, pd.DatetimeTZDtype) else values
        zones = {"none" if not isinstance(values.dtype, pd.DatetimeTZDtype) else str(values.dt.tz): list(range(min(len(values), 1)))}
        return ParsedTimestamps(pd.Series(wall.to_numpy(), index=values.index), zones if len(values) else {})
    codes, uniques = pd.factorize(values.astype("string"), use_na_sentinel=True)  # meter files repeat each time
    text = pd.Series(uniques, dtype="string").str.strip()
    parts = text.str.extract(_WITH_OFFSET)
    has_offset = parts["offset"].notna()
    wall_u = pd.to_datetime(text.where(~has_offset, parts["wall"]), errors="coerce", format="ISO8601")
    zone_u = parts["offset"].map(_offset_name, na_action="ignore").fillna("none").to_numpy(dtype=object)
    take = np.where(codes >= 0, codes, 0)
    wall = pd.Series(
        np.where(codes >= 0, wall_u.to_numpy()[take] if len(wall_u) else np.datetime64("NaT", "ns"), np.datetime64("NaT", "ns")),
        index=values.index,
    )
    zone = np.where(codes >= 0, zone_u[take] if len(zone_u) else "none", "none")
    ok = wall.notna().to_numpy()
    positions = np.flatnonzero(ok)
    zones = {str(z): list(positions[zone[ok] == z]) for z in pd.unique(zone[ok])}
    return ParsedTimestamps(wall.astype("datetime64[ns]"), zones)


def not_a_time_hint(raw: object) -> str:
    """Why ``raw`` is not read as a timestamp, with a hint at the usual export mistakes."""
    text = str(raw).strip()
    if _EXCEL_SERIAL.match(text):
        return f"timestamp {raw!r} looks like an Excel serial day number, not a date-time ({EXPECTED})"
    if re.match(r"^\d{1,2}[./]\d{1,2}[./]\d{2,4}", text):
        return f"timestamp {raw!r} is written day/month-first, not ISO 8601 ({EXPECTED})"
    return f"timestamp {raw!r} is not a date-time ({EXPECTED})"
