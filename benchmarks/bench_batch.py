"""Areas per minute against workers: ``lvbalance batch`` on a local Dask cluster.

Run: ``.venv/bin/python -m benchmarks.bench_batch [AREAS_DIR] [--workers 1,2] [--methods m1]
[--limit N] [--evaluate]``. ``AREAS_DIR``: a folder of case directories (default: the
Schutterwald town split by ``scripts/demo_town.py``, built in a temporary folder if
missing). For each worker count the areas are planned from scratch (``force``) into a
temporary folder; printed: wall time, areas per minute, the speed-up over the first worker
count, the mean task time per area and the peak memory of each worker. Timings are printed,
not asserted.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from lvbalance.batch.cluster import open_client
from lvbalance.batch.run import collect_areas, make_jobs, run_batch


def town_areas(root: Path) -> Path:
    """The Schutterwald areas, split as ``make demo-town`` does (steps 1-2 of scripts/demo_town.py)."""
    areas = root / "areas"
    if not areas.is_dir():
        import pandapower as pp
        import pandapower.networks as pn

        net_file = root / "schutterwald.json"
        pp.to_json(pn.lv_schutterwald(separation_by_sub=False), str(net_file))
        cmd = [sys.executable, "-m", "lvbalance.cli", "import", "pandapower", str(net_file), "--split-areas", "-o", str(areas)]
        subprocess.run(cmd, check=False, capture_output=True)
    return areas


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("areas_dir", nargs="?", type=Path)
    ap.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    ap.add_argument("--methods", default="m1")
    ap.add_argument("--limit", type=int, default=0, help="plan only the N largest areas (0: all)")
    ap.add_argument("--evaluate", action="store_true", help="AC check and out-of-sample evaluation too")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_batch_") as tmp:
        areas = collect_areas([args.areas_dir or town_areas(Path(tmp))])
        print(f"{len(areas.case_dirs)} areas, methods baseline,{args.methods}, evaluation {'on' if args.evaluate else 'off'}")
        print(f"{'workers':>7} {'areas':>5} {'wall s':>8} {'areas/min':>9} {'speed-up':>8} {'mean task s':>11}  peak MiB per worker")
        first = None
        for n in (int(w) for w in args.workers.split(",")):
            out = Path(tmp) / f"out{n}"
            jobs = make_jobs(areas, out, args.methods.split(","), evaluate=args.evaluate, force=True)
            jobs = jobs[: args.limit] if args.limit else jobs
            with open_client(workers=n) as client:
                t0 = time.perf_counter()
                outcomes = run_batch(client, jobs)
                wall = time.perf_counter() - t0
            first = first or wall
            peak: dict[str, float] = defaultdict(float)
            for o in outcomes:
                peak[o.worker] = max(peak[o.worker], o.peak_rss_mib)
            done = [o for o in outcomes if o.done]
            mean_task = sum(o.time_s for o in done) / max(len(done), 1)
            peaks = ", ".join(f"{v:.0f}" for _, v in sorted(peak.items()))
            print(f"{n:>7} {len(done):>5} {wall:>8.1f} {60 * len(done) / wall:>9.2f} {first / wall:>8.2f} {mean_task:>11.1f}  {peaks}")
            for o in outcomes:
                if not o.done:
                    print(f"        {o.area}: {o.status} {o.error}")


if __name__ == "__main__":
    main()
