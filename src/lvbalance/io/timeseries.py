"""Meter readings from the time series a pandapower net carries, and from meter export files.

A pandapower net can carry its loads' and sgens' power over time in two ways; both become
15-min (or ``step_minutes``) meter readings ``customer_id, timestamp, p_kw`` (pv negative):

* **controllers** (pandapower's time-series convention): ``net.controller`` rows whose object is a
  ``ConstControl`` on ``load`` / ``sgen`` ``p_mw`` (or ``scaling``) with a ``DFData`` data source:
  the value of element ``element_index[k]`` at time step ``t`` is ``df.loc[t, profile_name[k]] *
  scale_factor``. pandapower time steps are labels of the frame's index: integer labels become
  ``start + t * step`` (:class:`TimeAxis`); a ``DatetimeIndex`` is used as it is.
* a **SimBench-style profiles table**: ``net.profiles["load"]`` with ``<profile>_pload`` columns
  (and ``net.profiles["renewables"]`` with ``<profile>`` columns for sgens), normalised; an
  element with a ``profile`` draws ``p_mw * profile``. Row ``r`` is ``start + r * step``; without
  a given start, the first entry of the table's ``time`` column (``dd.mm.yyyy HH:MM``).

An element's power is ``1000 * p_mw * scaling`` [kW]. Where both exist, the controller wins (it
is what a pandapower time-series run applies).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lvbalance.case import READING_COLUMNS, CaseError, Problem
from lvbalance.case.timestamps import parse_timestamps
from lvbalance.io.reader import read_csv, read_parquet

logger = logging.getLogger(__name__)

#: First time stamp of integer time steps when the user gives none.
DEFAULT_START = pd.Timestamp("2024-01-01 00:00")
#: Columns of an element time series table.
SERIES_COLUMNS = ("element", "element_index", "timestamp", "p_kw")


@dataclass(frozen=True)
class TimeAxis:
    """Where pandapower's integer time steps lie in time.

    ``start``: time stamp of step 0 (local wall clock, interval start); None: the first time of
    a SimBench profiles table, else :data:`DEFAULT_START`. ``step_minutes``: length of a step [min].
    """

    start: pd.Timestamp | None = None
    step_minutes: int = 15

    @classmethod
    def parse(cls, start: str | None, step_minutes: int) -> TimeAxis:
        """The axis of a ``--start`` text (None: the default) and step; ValueError on bad input."""
        if step_minutes <= 0:
            raise ValueError(f"--step-minutes must be positive, got {step_minutes}")
        if start is None:
            return cls(None, step_minutes)
        ts = pd.to_datetime(start, errors="coerce")
        if pd.isna(ts):
            raise ValueError(f"--start: {start!r} is not a date-time (e.g. 2024-01-01 00:00)")
        return cls(pd.Timestamp(ts), step_minutes)

    def at(self, steps: np.ndarray, start: pd.Timestamp | None = None) -> pd.DatetimeIndex:
        """Time stamps of integer ``steps`` (``start``: used when the axis has none)."""
        origin = self.start if self.start is not None else (start if start is not None else DEFAULT_START)
        return pd.DatetimeIndex(origin + pd.to_timedelta(np.asarray(steps, dtype=np.int64) * self.step_minutes, unit="min"))


def empty_readings() -> pd.DataFrame:
    """A meter table without rows (customer_id, timestamp, p_kw)."""
    return pd.DataFrame(
        {
            "customer_id": pd.Series(dtype=str),
            "timestamp": pd.Series(dtype="datetime64[ns]"),
            "p_kw": pd.Series(dtype=float),
        }
    )


def readings_frame(series: dict[str, np.ndarray], index: pd.DatetimeIndex) -> pd.DataFrame:
    """Long meter table (customer_id, timestamp, p_kw) from one array per customer [kW]."""
    if not series:
        return empty_readings()
    ids = list(series)
    return pd.DataFrame(
        {
            "customer_id": np.repeat(np.array(ids, dtype=object), len(index)),
            "timestamp": np.tile(index.to_numpy(), len(ids)),
            "p_kw": np.concatenate([series[c] for c in ids]).astype(float),
        }
    )


def _empty_series() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "element": pd.Series(dtype=str),
            "element_index": pd.Series(dtype=np.int64),
            "timestamp": pd.Series(dtype="datetime64[ns]"),
            "p_kw": pd.Series(dtype=float),
        }
    )


def _element_kw(net: Any, element: str, index: np.ndarray) -> np.ndarray:
    """``1000 * scaling`` of each element [kW per MW], negative for sgens (generation)."""
    tab = net[element]
    scaling = tab["scaling"].astype(float).reindex(index).fillna(1.0).to_numpy() if "scaling" in tab else np.ones(len(index))
    return (-1000.0 if element == "sgen" else 1000.0) * scaling


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple, np.ndarray, pd.Index, pd.Series)):
        return list(value)
    return [value]


def _controller_timestamps(df: pd.DataFrame, axis: TimeAxis, where: str, problems: list[Problem]) -> pd.DatetimeIndex | None:
    if isinstance(df.index, pd.DatetimeIndex):
        idx = df.index.tz_localize(None) if df.index.tz is not None else df.index
        return pd.DatetimeIndex(idx)
    steps = pd.to_numeric(pd.Series(df.index), errors="coerce")
    if steps.isna().any() or not np.allclose(steps, np.round(steps)):
        bad = df.index[steps.isna().to_numpy()][:3].tolist() or df.index[:3].tolist()
        problems.append(Problem("pandapower net", where, f"time steps must be integers or date-times, got {bad}"))
        return None
    return axis.at(steps.to_numpy().round().astype(np.int64))


def series_from_controllers(net: Any, axis: TimeAxis) -> tuple[pd.DataFrame, list[Problem]]:
    """Power over time [kW] of every load / sgen a ``ConstControl`` with a ``DFData`` drives.

    Returns (table with :data:`SERIES_COLUMNS`, problems). Controllers on other variables or
    elements, without data source or out of service are skipped (logged).
    """
    problems: list[Problem] = []
    if "controller" not in net or not len(net.controller):
        return _empty_series(), problems
    frames: list[pd.DataFrame] = []
    skipped = 0
    for cidx, row in net.controller.iterrows():
        ctrl = row["object"]
        where = f"controller {cidx}"
        df = getattr(getattr(ctrl, "data_source", None), "df", None)
        element, variable = getattr(ctrl, "element", None), getattr(ctrl, "variable", None)
        if (
            not bool(row.get("in_service", True))
            or type(ctrl).__name__ != "ConstControl"
            or not isinstance(df, pd.DataFrame)
            or element not in ("load", "sgen")
            or variable not in ("p_mw", "scaling")
        ):
            skipped += 1
            continue
        elements = [int(e) for e in _as_list(ctrl.element_index)]
        profiles = _as_list(ctrl.profile_name)
        if len(profiles) != len(elements):
            problems.append(Problem("pandapower net", where, f"{len(elements)} elements but {len(profiles)} profile names"))
            continue
        missing_el = [e for e in elements if e not in net[element].index]
        missing_pr = [p for p in profiles if p not in df.columns and str(p) not in df.columns]
        if missing_el:
            problems.append(Problem("pandapower net", where, f"drives {element} {missing_el[:5]} that the net does not have"))
        if missing_pr:
            problems.append(Problem("pandapower net", where, f"profile(s) {missing_pr[:5]} are not columns of its data source"))
        ts = _controller_timestamps(df, axis, where, problems)
        if missing_el or missing_pr or ts is None:
            continue
        cols = [p if p in df.columns else str(p) for p in profiles]
        values = df[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float) * float(getattr(ctrl, "scale_factor", 1.0))
        idx = np.asarray(elements)
        if variable == "p_mw":
            kw = _element_kw(net, element, idx)
        else:  # the value is the scaling of p_mw
            kw = (-1000.0 if element == "sgen" else 1000.0) * net[element].loc[idx, "p_mw"].to_numpy(float)
        p = values * kw[None, :]
        frames.append(
            pd.DataFrame(
                {
                    "element": element,
                    "element_index": np.tile(idx, len(ts)),
                    "timestamp": np.repeat(ts.to_numpy(), len(idx)),
                    "p_kw": p.ravel(),
                }
            )
        )
    if skipped:
        logger.info("%d controller(s) skipped: not a ConstControl on load/sgen p_mw with a DFData source, or out of service", skipped)
    if not frames:
        return _empty_series(), problems
    out = pd.concat(frames, ignore_index=True)
    # one element driven by several controllers: the last one wins (pandapower applies them in order)
    out = out.drop_duplicates(["element", "element_index", "timestamp"], keep="last")
    return out.reset_index(drop=True), problems


def _profiles_start(table: pd.DataFrame) -> pd.Timestamp | None:
    if "time" not in table or not len(table):
        return None
    first = str(table["time"].iloc[0])
    ts = pd.to_datetime(first, format="%d.%m.%Y %H:%M", errors="coerce")
    if pd.isna(ts):
        ts = pd.to_datetime(first, errors="coerce")
    return None if pd.isna(ts) else pd.Timestamp(ts)


def series_from_profiles(net: Any, axis: TimeAxis) -> pd.DataFrame:
    """Power over time [kW] of every load / sgen with a ``profile`` in a SimBench-style ``net.profiles``."""
    tables = net.get("profiles")
    if not isinstance(tables, dict):
        return _empty_series()
    frames: list[pd.DataFrame] = []
    for element, key, suffix in (("load", "load", "_pload"), ("sgen", "renewables", "")):
        table = tables.get(key)
        tab = net.get(element)
        if not isinstance(table, pd.DataFrame) or tab is None or not len(tab) or "profile" not in tab:
            continue
        cols = tab["profile"].astype("string").fillna("") + suffix
        have = tab.index[cols.isin(table.columns).to_numpy()]
        if not len(have):
            continue
        ts = axis.at(np.arange(len(table)), _profiles_start(table))
        shapes = table[cols[have].to_numpy()].to_numpy(dtype=float)
        kw = _element_kw(net, element, have.to_numpy()) * tab.loc[have, "p_mw"].astype(float).to_numpy()
        frames.append(
            pd.DataFrame(
                {
                    "element": element,
                    "element_index": np.tile(have.to_numpy(dtype=np.int64), len(ts)),
                    "timestamp": np.repeat(ts.to_numpy(), len(have)),
                    "p_kw": (shapes * kw[None, :]).ravel(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else _empty_series()


def net_time_series(net: Any, axis: TimeAxis) -> pd.DataFrame:
    """Power over time of the net's loads and sgens (controllers, else the profiles table).

    Raises :class:`CaseError` listing every controller that cannot be read.
    """
    ctrl, problems = series_from_controllers(net, axis)
    if problems:
        raise CaseError(problems, source="pandapower net (time series)")
    prof = series_from_profiles(net, axis)
    if len(ctrl) and len(prof):
        driven = pd.MultiIndex.from_frame(ctrl[["element", "element_index"]].drop_duplicates())
        keep = ~pd.MultiIndex.from_frame(prof[["element", "element_index"]]).isin(driven)
        prof = prof[keep]
    out = pd.concat([ctrl, prof], ignore_index=True) if len(prof) else ctrl
    if len(out):
        n = out.groupby(["element", "element_index"]).ngroups
        logger.info(
            "time series of %d element(s) from the net (%d from controllers, the rest from net.profiles), %s to %s",
            n,
            ctrl.groupby(["element", "element_index"]).ngroups if len(ctrl) else 0,
            out["timestamp"].min(),
            out["timestamp"].max(),
        )
    return out


def readings_of(customers: pd.DataFrame, series: pd.DataFrame) -> pd.DataFrame:
    """Meter readings (customer_id, timestamp, p_kw) of the customers whose element has a series.

    ``customers``: imported table with ``element`` and ``element_index``.
    """
    if not len(series) or not len(customers):
        return empty_readings()
    key = pd.DataFrame(
        {
            "customer_id": customers.index.astype(str),
            "element": customers["element"].to_numpy(),
            "element_index": customers["element_index"].astype(np.int64).to_numpy(),
        }
    )
    out = series.merge(key, on=["element", "element_index"], how="inner")
    return out[list(READING_COLUMNS)].sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)


def read_meter_file(path: str | Path) -> pd.DataFrame:
    """A meter export (long CSV, .csv.gz or parquet: customer_id, timestamp, p_kw) as readings.

    Raises one :class:`CaseError` naming the file and every bad row (the first 20 of each kind).
    """
    path = Path(path)
    f = path.name
    if not path.is_file():
        raise CaseError([Problem(f, "", f"file {path} does not exist")], source=str(path))
    parquet = path.suffix.lower() in (".parquet", ".pq")
    df = read_parquet(path) if parquet else read_csv(path, required=READING_COLUMNS)
    missing = [c for c in READING_COLUMNS if c not in df.columns]
    if missing:
        raise CaseError(
            [Problem(f, "header", f"missing column(s) {', '.join(missing)} (found: {', '.join(map(str, df.columns))})")],
            source=str(path),
        )
    first_row = 1 if parquet else 2
    problems: list[Problem] = []
    cid = df["customer_id"].astype("string").str.strip()
    parsed = parse_timestamps(df["timestamp"])
    ts = parsed.wall
    if parsed.mixed:
        problems.append(Problem(f, "timestamp", parsed.mixed_message(first_row)))
    p = pd.to_numeric(df["p_kw"], errors="coerce")
    checks: Sequence[tuple[pd.Series, str]] = (
        (cid.isna() | (cid == ""), "customer_id is empty"),
        (ts.isna(), "timestamp is not a date-time: {timestamp!r}"),
        (p.isna() | ~np.isfinite(p.fillna(0.0)), "p_kw is not a finite number: {p_kw!r}"),
    )
    for bad, what in checks:
        rows = np.flatnonzero(bad.to_numpy())
        for i in rows[:20]:
            problems.append(Problem(f, f"row {i + first_row}", what.format(**df.iloc[i].to_dict())))
        if len(rows) > 20:
            problems.append(Problem(f, f"{len(rows) - 20} more row(s)", what.split(":")[0]))
    if problems:
        raise CaseError(problems, source=str(path))
    return pd.DataFrame({"customer_id": cid.astype(str).to_numpy(), "timestamp": ts.to_numpy(), "p_kw": p.astype(float).to_numpy()})
