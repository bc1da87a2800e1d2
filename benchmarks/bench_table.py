"""The measures of issue 12 ("Exact, fast and lean") in one run, one row per measure and case.

Run: ``.venv/bin/python -m benchmarks.bench_table [--quick] [--areas 2,10] [--time-limit S]``.

Each case is planned by ``lvbalance compare CASE --no-evaluate`` in a child process under
``/usr/bin/time -v`` (its peak memory), with the solver's time limit raised to
``--time-limit`` so that the solve times are times to proven optimality (and no trade-off
front); per method the
build and solve times, status and gap come from the run's ``comparison.csv`` and
``metrics.json``. Then: the same compare once more, to check that the outputs are
identical except the ``*_time_s`` fields; the AC check on power-grid-model of 5 plans
(``benchmarks.bench_powerflow`` compares it with pandapower); and ``lvbalance demo``'s wall
time. ``--quick``: the default case only, without the second run and the demo.

Areas 2 and 10 are Schutterwald areas built like the default case by
``scripts/build_default_case.py --area N`` (needs the ``simbench`` extra). Timings are
printed, not asserted; they depend on the machine's load.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from lvbalance.data import default_case_path
from lvbalance.io import read_case, write_case
from lvbalance.results import outputs_without_times

ROOT = Path(__file__).resolve().parents[1]
GOALS = {
    "m3 proven optimal [s]": "<= 10 (areas: <= 60)",
    "all methods build + solve [s]": "<= 20",
    "peak memory, compare --no-evaluate [MiB]": "<= 1024 (areas: <= 1536)",
    "AC check, 5 plans x all steps [s]": "<= 2",
    "lvbalance demo [s]": "<= 45",
    "same input twice": "identical",
}


def with_time_limit(case_dir: Path, out: Path, time_limit_s: float) -> Path:
    """A copy of the case with ``solver.time_limit_s`` raised, no work limit and no trade-off front (each of
    its points is a solve of its own: ``benchmarks/bench_tradeoff.py`` measures them)."""
    case = read_case(case_dir)
    params = case.params.updated(solver={"time_limit_s": time_limit_s, "benders_max_iterations": None}, tradeoff={"max_points": 0})
    return write_case(case.with_params(params), out)


def timed_run(args: list[str]) -> tuple[float, float]:
    """Wall time [s] and peak resident memory [MiB] of ``lvbalance ARGS`` in a child process."""
    cmd = [sys.executable, "-m", "lvbalance.cli", *args]
    if Path("/usr/bin/time").exists():
        cmd = ["/usr/bin/time", "-v", *cmd]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"lvbalance {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return wall, (int(peak.group(1)) / 1024 if peak else float("nan"))


def method_rows(out: Path) -> pd.DataFrame:
    table = pd.read_csv(out / "comparison.csv", index_col="id")
    table["status"] = [json.loads((out / str(m) / "metrics.json").read_text())["status"] for m in table.index]
    return table[["build_time_s", "solve_time_s", "status", "mip_gap", "variables", "binaries", "constraints"]]


def measure_case(name: str, case_dir: Path, work: Path, time_limit_s: float, *, twice: bool) -> list[tuple[str, str, str]]:
    case = with_time_limit(case_dir, work / f"{name}-case", time_limit_s)
    out = work / f"{name}-out"
    wall, peak = timed_run(["compare", str(case), "-o", str(out), "--no-evaluate"])
    rows = method_rows(out)
    print(f"\n{name}: compare --no-evaluate in {wall:.1f} s, peak {peak:.0f} MiB")
    print(rows.to_string(float_format=lambda v: f"{v:.3g}"))
    m3 = rows.loc["m3"]
    result = [
        ("m3 proven optimal [s]", name, f"{m3['build_time_s'] + m3['solve_time_s']:.1f} ({m3['status']}, gap {m3['mip_gap']:.1e})"),
        ("all methods build + solve [s]", name, f"{(rows['build_time_s'] + rows['solve_time_s']).sum():.1f}"),
        ("peak memory, compare --no-evaluate [MiB]", name, f"{peak:.0f}"),
    ]
    if twice:
        again = work / f"{name}-again"
        timed_run(["compare", str(case), "-o", str(again), "--no-evaluate"])
        a, b = outputs_without_times(out), outputs_without_times(again)
        differ = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        result.append(("same input twice", name, "identical" if not differ else "differ: " + ", ".join(differ)))
    return result


def ac_seconds() -> str:
    from lvbalance.pipeline import plan_and_write
    from lvbalance.powerflow import ac_before_after

    case = read_case(default_case_path())
    with tempfile.TemporaryDirectory() as tmp:
        runs = plan_and_write(case, ["baseline", "m1", "m2", "m3", "v2g_only"], tmp)
    t0 = time.perf_counter()
    before = None
    for run in runs.values():
        before = ac_before_after(case, run.result, before=before)["before"]
    return f"{time.perf_counter() - t0:.1f} ({case.params.powerflow.backend}; the network as built once, each plan after)"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="default case only; no second run, no demo")
    ap.add_argument("--areas", default="2,10", help="Schutterwald areas built like the default case")
    ap.add_argument("--time-limit", type=float, default=600.0, help="solver time limit [s]")
    args = ap.parse_args(argv)
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows += measure_case("default", default_case_path(), work, args.time_limit, twice=not args.quick)
        if not args.quick:
            for area in [int(a) for a in args.areas.split(",") if a]:
                target = work / f"area{area}-source"
                script = [sys.executable, str(ROOT / "scripts" / "build_default_case.py"), "--area", str(area), "--out", str(target)]
                built = subprocess.run(script, capture_output=True, text=True, check=False)
                if built.returncode != 0:
                    print(f"area {area} not built (the simbench extra?): {built.stderr.strip()[-300:]}")
                    continue
                rows += measure_case(f"area {area}", target, work, args.time_limit, twice=False)
        rows.append(("AC check, 5 plans x all steps [s]", "default", ac_seconds()))
        if not args.quick:
            wall, peak = timed_run(["demo", "-o", str(work / "demo")])
            rows.append(("lvbalance demo [s]", "default", f"{wall:.1f} (peak {peak:.0f} MiB)"))
            shutil.rmtree(work / "demo", ignore_errors=True)
    table = pd.DataFrame(rows, columns=["measure", "case", "measured"])
    table["goal"] = table["measure"].map(GOALS)
    print("\n" + table.to_string(index=False))


if __name__ == "__main__":
    main()
