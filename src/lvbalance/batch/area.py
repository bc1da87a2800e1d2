"""One area of a batch: the task a Dask worker runs (plan, evaluate, report) and its record.

A task gets *paths*, never the data: the case directory and the output folder must be on a
file system that the client and every worker share (NFS, a cluster's scratch, one machine's
disk). A worker that cannot see a case directory records the area as bad input and says so.

Each area is planned exactly as ``lvbalance compare`` plans a case
(:func:`lvbalance.pipeline.plan_and_write`, then :func:`lvbalance.pipeline.evaluate_and_report`)
into a staging folder beside ``OUT/<area>``, which is then renamed into place: a killed worker
leaves no half-written area. The folder's ``batch.json`` holds the content hash of the inputs
and options; a rerun with the same hash skips the area.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import lvbalance
from lvbalance.case import Case, CaseError

log = logging.getLogger(__name__)

#: The record of a planned area, written last into its folder.
RECORD_NAME = "batch.json"
#: Always planned first: the as-built state every other method is compared with.
BASELINE = "baseline"
#: Solver threads of one task: a worker runs one task at a time on one core.
TASK_SOLVER_THREADS = 1
#: Margin around an area's nodes and customers on the town map [m].
OUTLINE_MARGIN_M = 15.0
#: ``ratio`` of :func:`shapely.concave_hull` for the outline (1: the convex hull) [-].
OUTLINE_CONCAVITY = 0.3


class AreaStatus(StrEnum):
    """What became of an area (``city.csv`` ``status``)."""

    PLANNED = "planned"
    UNCHANGED = "unchanged"  # outputs exist and inputs and options are unchanged: skipped
    BAD_INPUT = "bad_input"  # the case directory is missing or invalid
    FAILED = "failed"  # anything else: solver trouble, a bug, a worker that died


#: Statuses whose area folder holds a complete plan.
DONE = frozenset({AreaStatus.PLANNED, AreaStatus.UNCHANGED})


@dataclass(frozen=True)
class AreaJob:
    """What travels to a worker: the area's name, absolute paths and the options."""

    area: str
    case_dir: str
    """case directory [absolute path on the shared file system]"""
    out_dir: str
    """the area's output folder ``OUT/<area>`` [absolute path on the shared file system]"""
    methods: tuple[str, ...]
    """method ids, ``baseline`` first"""
    evaluate: bool = True
    """AC power-flow check and out-of-sample evaluation, as ``compare --evaluate``"""
    force: bool = False
    """plan even when the outputs are current"""
    budget: float | None = None
    """each method with moves: the least expected imbalance at a cost of at most this (``--budget``) [currency]"""


@dataclass(frozen=True)
class AreaOutcome:
    """How one area ended: ``status``, the error (empty if none), wall time of the task [s],
    the worker's address and its peak resident memory so far [MiB]."""

    area: str
    status: AreaStatus
    error: str = ""
    time_s: float = math.nan
    worker: str = ""
    peak_rss_mib: float = math.nan

    @property
    def done(self) -> bool:
        return self.status in DONE


def with_baseline(methods: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """``baseline`` then the other methods in the given order, each once."""
    return tuple(dict.fromkeys([BASELINE, *methods]))


def input_hash(case_dir: str | Path, methods: tuple[str, ...], *, evaluate: bool, budget: float | None = None) -> str:
    """SHA-256 of every file of the case directory (relative path and bytes, hidden files left
    out), the methods, the evaluation switch and the lvbalance version."""
    root = Path(case_dir)
    h = hashlib.sha256()
    options = {"methods": list(methods), "evaluate": evaluate, "lvbalance": lvbalance.__version__}
    if budget is not None:  # without it: the hash of outputs planned before --budget existed
        options["budget"] = budget
    h.update(json.dumps(options).encode())
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def read_record(out_dir: str | Path) -> dict[str, Any] | None:
    """The area's ``batch.json``, or None if it has none (never planned, or not by batch)."""
    path = Path(out_dir) / RECORD_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def is_current(out_dir: str | Path, digest: str, methods: tuple[str, ...]) -> bool:
    """True if ``out_dir`` holds a complete plan of every method made from inputs with ``digest``."""
    record = read_record(out_dir)
    if record is None or record.get("input_hash") != digest:
        return False
    root = Path(out_dir)
    return all((root / m / "plan.json").is_file() and (root / m / "metrics.json").is_file() for m in methods)


def area_outline(case: Case) -> list[list[float]]:
    """The area on a map: concave hull (``OUTLINE_CONCAVITY``) of its nodes and customers,
    ``OUTLINE_MARGIN_M`` around, as a closed ring of [lon, lat] [degrees] (WGS84, 6 decimals).

    On the Schutterwald town the concave hulls of neighbouring areas overlap half as much as
    their convex hulls (6 % of their area instead of 13 %)."""
    import numpy as np
    import pyproj
    import shapely

    xy = np.vstack([case.network.nodes[["x", "y"]].to_numpy(float), case.customers[["x", "y"]].to_numpy(float)])
    hull = shapely.concave_hull(shapely.MultiPoint(xy), ratio=OUTLINE_CONCAVITY).buffer(OUTLINE_MARGIN_M, quad_segs=4)
    ring = np.asarray(hull.exterior.coords, float)
    lon, lat = pyproj.Transformer.from_crs(case.crs, "EPSG:4326", always_xy=True).transform(ring[:, 0], ring[:, 1])
    return [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lon, lat)]


def _plan_into(case: Case, job: AreaJob, folder: Path) -> None:
    """``compare``'s outputs of ``case`` in ``folder``: a sub-folder per method, comparison.csv, report.html."""
    from lvbalance.pipeline import evaluate_and_report, plan_and_write
    from lvbalance.profiles import build_profiles

    profiles = build_profiles(case)
    results = plan_and_write(case, job.methods, folder, profiles=profiles, subfolders=True, budget=job.budget)
    evaluate_and_report(case, results, profiles, folder, ac=job.evaluate, out_of_sample_days=job.evaluate)


def replace_dir(staging: Path, dest: Path) -> None:
    """Move ``staging`` to ``dest``, replacing an older ``dest`` (two renames on one file system)."""
    old = dest.with_name(f".{dest.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if dest.exists():
        dest.rename(old)
    staging.rename(dest)
    if old.exists():
        shutil.rmtree(old)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far [MiB]."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def plan_area(job: AreaJob) -> AreaOutcome:
    """Plan one area on a worker and write ``OUT/<area>/``; never raises.

    Skips the area when its folder is current (:func:`is_current`) unless ``job.force``. The
    case is read with one solver thread (``solver.threads``), planned with every method of
    ``job.methods`` into a staging folder beside ``job.out_dir``, recorded in ``batch.json``
    and renamed into place. Invalid input gives ``bad_input`` with every problem; any other
    exception ``failed`` with its type and message.
    """
    from lvbalance.io import read_case

    t0 = time.perf_counter()
    worker = _worker_address()

    def outcome(status: AreaStatus, error: str = "") -> AreaOutcome:
        return AreaOutcome(job.area, status, error, time.perf_counter() - t0, worker, peak_rss_mib())

    case_dir, dest = Path(job.case_dir), Path(job.out_dir)
    if not case_dir.is_dir():
        return outcome(
            AreaStatus.BAD_INPUT,
            f"{case_dir}: no such directory on worker {worker or os.uname().nodename}; batch sends paths, so the case "
            "directories and the output folder must be on a file system shared by the client and every worker",
        )
    try:
        digest = input_hash(case_dir, job.methods, evaluate=job.evaluate, budget=job.budget)
        if not job.force and is_current(dest, digest, job.methods):
            return outcome(AreaStatus.UNCHANGED)
        case = read_case(case_dir)
        case = case.with_params(case.params.updated(solver={"threads": TASK_SOLVER_THREADS}))
    except CaseError as exc:
        return outcome(AreaStatus.BAD_INPUT, "; ".join(map(str, exc.problems)))
    except (OSError, ValueError) as exc:
        return outcome(AreaStatus.BAD_INPUT, f"{case_dir}: {exc}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    os.chmod(staging, 0o755)  # mkdtemp makes 0700; outputs are ordinary readable folders
    try:
        _plan_into(case, job, staging)
        record = {
            "area": job.area,
            "case_dir": str(case_dir),
            "input_hash": digest,
            "methods": list(job.methods),
            "evaluate": job.evaluate,
            "lvbalance": lvbalance.__version__,
            "time_s": round(time.perf_counter() - t0, 3),
            "feeders": len(case.network.feeder_outlets),
            "customers": len(case.customers),
            "crs": case.crs,
            "worker_peak_rss_mib": round(peak_rss_mib(), 1),
            "outline_lonlat": area_outline(case),
        }
        (staging / RECORD_NAME).write_text(json.dumps(record, indent=2), encoding="utf-8")
        replace_dir(staging, dest)
    except CaseError as exc:
        return outcome(AreaStatus.BAD_INPUT, "; ".join(map(str, exc.problems)))
    except Exception as exc:  # isolate the area: record any failure, the others go on
        log.warning("area %s failed", job.area, exc_info=True)
        return outcome(AreaStatus.FAILED, f"{type(exc).__name__}: {exc}")
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return outcome(AreaStatus.PLANNED)


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return ""
