"""Many areas at once: which areas, one Dask task each, the outcomes as they come.

:func:`collect_areas` turns the command's paths into areas: a case directory is one area; a
folder of case directories (``lvbalance import pandapower --split-areas``) is each of them,
plus every area its ``areas.csv`` lists as failed (bad input, with the import's problems).
:func:`run_batch` submits one task per area (:func:`lvbalance.batch.area.plan_area`), the
largest inputs first, and reports each outcome and the number of running tasks.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from distributed import Client, Future, wait

from lvbalance.batch.area import AreaJob, AreaOutcome, AreaStatus, plan_area, with_baseline

log = logging.getLogger(__name__)

#: What ``lvbalance import pandapower --split-areas`` writes beside the areas.
AREAS_TABLE = "areas.csv"
#: Seconds between two looks at the running tasks.
TICK_S = 0.5


@dataclass(frozen=True)
class Areas:
    """The areas of a batch: their case directories by name, and the areas known bad already."""

    case_dirs: dict[str, Path] = field(default_factory=dict)
    known_bad: list[AreaOutcome] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return sorted([*self.case_dirs, *(o.area for o in self.known_bad)])


def _is_case(path: Path) -> bool:
    return (path / "case.toml").is_file()


def collect_areas(paths: Sequence[str | Path]) -> Areas:
    """The areas of ``paths`` (see the module's docstring); a path that is neither a case nor a
    folder of cases stays an area of its own, and its task reports why it is bad.

    Raises
    ------
    ValueError
        Two areas with one name (their output folders would collide).
    """
    case_dirs: dict[str, Path] = {}
    known_bad: list[AreaOutcome] = []
    seen: dict[str, Path] = {}

    def add(name: str, where: Path) -> None:
        if name in seen:
            raise ValueError(f"two areas are named {name!r} ({seen[name]} and {where}); each area needs its own name")
        seen[name] = where

    for raw in paths:
        path = Path(raw).resolve()
        subcases = sorted(p for p in path.iterdir() if p.is_dir() and _is_case(p)) if path.is_dir() and not _is_case(path) else []
        if not subcases:
            add(path.name, path)
            case_dirs[path.name] = path
            continue
        for sub in subcases:
            add(sub.name, sub)
            case_dirs[sub.name] = sub
        for name, problems in _failed_imports(path / AREAS_TABLE):
            if name not in seen:
                add(name, path)
                known_bad.append(AreaOutcome(name, AreaStatus.BAD_INPUT, f"import: {problems}"))
    return Areas(case_dirs, known_bad)


def _failed_imports(table: Path) -> list[tuple[str, str]]:
    """(area, problems) of the areas an ``areas.csv`` lists as failed."""
    if not table.is_file():
        return []
    df = pd.read_csv(table, dtype=str, keep_default_na=False)
    if not {"area", "status"} <= set(df.columns):
        return []
    bad = df[df["status"] != "written"]
    return [(str(r["area"]), str(r.get("problems", "")) or "failed") for _, r in bad.iterrows()]


def _input_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


def make_jobs(
    areas: Areas, out_root: Path, methods: Sequence[str], *, evaluate: bool, force: bool, budget: float | None = None
) -> list[AreaJob]:
    """One job per case directory, largest input first (so that the longest tasks start first)."""
    methods_all = with_baseline(tuple(methods))
    jobs = [
        AreaJob(name, str(path), str(out_root / name), methods_all, evaluate=evaluate, force=force, budget=budget)
        for name, path in areas.case_dirs.items()
    ]
    size = {j.area: _input_bytes(Path(j.case_dir)) for j in jobs}
    return sorted(jobs, key=lambda j: (-size[j.area], j.area))


def run_batch(
    client: Client,
    jobs: Sequence[AreaJob],
    *,
    on_outcome: Callable[[AreaOutcome], None] | None = None,
    on_tick: Callable[[int], None] | None = None,
) -> list[AreaOutcome]:
    """Run ``jobs`` on ``client``'s cluster, one task each; return every outcome, by area name.

    ``on_outcome`` gets each outcome when its task ends; ``on_tick`` the number of tasks running
    now, about every ``TICK_S`` seconds. A task whose worker died (memory limit, crash) or that
    could not run is a ``failed`` outcome; the others go on.
    """
    token = uuid.uuid4().hex[:8]
    futures: dict[Future, AreaJob] = {}
    for rank, job in enumerate(jobs):
        fut = client.submit(plan_area, job, key=f"lvbalance-area-{job.area}-{token}", pure=False, priority=len(jobs) - rank, retries=0)
        futures[fut] = job
    keys = {f.key for f in futures}
    outcomes: list[AreaOutcome] = []
    pending = set(futures)
    while pending:
        try:
            finished, pending = wait(pending, timeout=TICK_S, return_when="FIRST_COMPLETED")
        except FutureTimeout:
            finished = set()
        for fut in finished:
            outcome = _outcome_of(fut, futures[fut])
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
        if on_tick is not None and pending:
            on_tick(_running(client, keys))
    return sorted(outcomes, key=lambda o: o.area)


def _outcome_of(fut: Future, job: AreaJob) -> AreaOutcome:
    if fut.status == "finished":
        result = fut.result()
        assert isinstance(result, AreaOutcome)
        return result
    exc = fut.exception()
    name = type(exc).__name__
    if name == "KilledWorker":
        msg = f"worker died while planning this area (memory limit exceeded or a crash): {exc}"
    else:
        msg = f"{name}: {exc}"
    return AreaOutcome(job.area, AreaStatus.FAILED, msg)


def _running(client: Client, keys: set[Any]) -> int:
    """Tasks of this batch running now: those a worker holds, at most one per worker thread."""
    try:
        processing = client.processing()
        threads = {w: int(info.get("nthreads", 1)) for w, info in client.scheduler_info().get("workers", {}).items()}
    except (OSError, RuntimeError):  # pragma: no cover - a scheduler going away
        return 0
    return sum(min(threads.get(w, 1), sum(1 for k in tasks if k in keys)) for w, tasks in processing.items())
