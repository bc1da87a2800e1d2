"""The town's table: ``city.csv``, one row per area, read back from the areas' folders.

Columns: ``area``, ``status`` (:class:`~lvbalance.batch.area.AreaStatus`), ``feeders``,
``customers``, ``expected_imbalance_before_pct`` [%] (Eq 15, as built), then for every method
``<m>_expected_imbalance_after_pct`` [%], ``<m>_cost`` [currency], ``<m>_moved_customers``,
``<m>_mip_gap`` [-], ``<m>_solve_time_s`` [s]; ``time_s`` (wall time of the area's task when it
was planned [s]), ``worker_peak_rss_mib`` (peak memory of the worker process that planned it,
up to then [MiB]) and ``error``. Rows sorted by area; numbers of failed areas empty.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from lvbalance.batch.area import BASELINE, AreaOutcome, AreaStatus, read_record
from lvbalance.results import write_csv

CITY_CSV = "city.csv"
#: A cut of expected imbalance up to this is no cut (rounding of the solver) [% points].
MIN_CUT_PCT = 1e-6
#: Per-method columns of ``city.csv``: (column suffix, ``metrics.json`` key).
METHOD_FIELDS = (
    ("expected_imbalance_after_pct", "expected_imbalance_after_pct"),
    ("cost", "total_cost"),
    ("moved_customers", "moved_customers"),
    ("mip_gap", "mip_gap"),
    ("solve_time_s", "solve_time_s"),
)


def _metrics(folder: Path) -> dict[str, Any]:
    path = folder / "metrics.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def city_row(outcome: AreaOutcome, out_root: Path, methods: Sequence[str]) -> dict[str, Any]:
    """One row of ``city.csv`` (see the module's docstring)."""
    row: dict[str, Any] = {"area": outcome.area, "status": str(outcome.status)}
    folder = out_root / outcome.area
    record = read_record(folder) if outcome.done else None
    if record is not None:
        row["feeders"] = record.get("feeders")
        row["customers"] = record.get("customers")
        row["expected_imbalance_before_pct"] = _metrics(folder / BASELINE).get("expected_imbalance_before_pct")
        for m in methods:
            mt = _metrics(folder / m)
            for col, key in METHOD_FIELDS:
                row[f"{m}_{col}"] = mt.get(key)
    if record is not None and outcome.status == AreaStatus.UNCHANGED:  # the figures of the run that planned it
        row["time_s"] = record.get("time_s")
        row["worker_peak_rss_mib"] = record.get("worker_peak_rss_mib", math.nan)
    else:
        row["time_s"] = outcome.time_s
        row["worker_peak_rss_mib"] = outcome.peak_rss_mib
    row["error"] = outcome.error
    return row


def city_columns(methods: Sequence[str]) -> list[str]:
    """The columns of ``city.csv`` in order."""
    per_method = [f"{m}_{col}" for m in methods for col, _ in METHOD_FIELDS]
    return [
        "area",
        "status",
        "feeders",
        "customers",
        "expected_imbalance_before_pct",
        *per_method,
        "time_s",
        "worker_peak_rss_mib",
        "error",
    ]


def city_table(outcomes: Sequence[AreaOutcome], out_root: str | Path, methods: Sequence[str]) -> pd.DataFrame:
    """``city.csv`` as a DataFrame; ``methods`` without ``baseline`` (its figures are the ``before``)."""
    methods = [m for m in methods if m != BASELINE]
    rows = [city_row(o, Path(out_root), methods) for o in sorted(outcomes, key=lambda o: o.area)]
    df = pd.DataFrame(rows, columns=city_columns(methods))
    for col in ("feeders", "customers", *(f"{m}_moved_customers" for m in methods)):
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    return df


def write_city_csv(table: pd.DataFrame, out_root: str | Path) -> Path:
    """Write ``city.csv`` into ``out_root`` atomically."""
    path = Path(out_root) / CITY_CSV
    write_csv(path, table)
    return path


def imbalance_cut_per_cost(before_pct: float, after_pct: float, cost: float) -> float:
    """Points of expected imbalance cut per 1,000 currency units spent [%/1000];
    ``inf`` for a cut that costs nothing, NaN when there is no cut (at most ``MIN_CUT_PCT``: solver noise)."""
    cut = before_pct - after_pct
    if not math.isfinite(cut) or cut <= MIN_CUT_PCT:
        return math.nan
    return math.inf if cost <= 0 else 1000.0 * cut / cost
