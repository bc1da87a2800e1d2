"""The second stage (smoothest optimal EV schedules, MODEL.md §6) solved four ways, side by
side in one run: scenario by scenario with the dual simplex and "max value" scaling (the
default), the same with HiGHS's default scaling (equilibration), scenario by scenario with the
interior point + crossover, and as one LP.

Run: ``.venv/bin/python -m benchmarks.bench_smooth [--methods v2g_only m1] [--case DIR]``.

For each method the case (default: the embedded one) is planned once without smoothing; then a
copy of the model with that plan fixed is solved to the same optimum and smoothed, once per way,
the order rotating between methods. Printed: time, total variation after, objective after, and
each way's time over the default's. Timings are printed, not asserted.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from lvbalance.data import load_default_case
from lvbalance.io import read_case
from lvbalance.model.blocks import LP_OPTIONS
from lvbalance.model.methods import METHODS
from lvbalance.model.run import plan_method
from lvbalance.model.smooth import SMOOTH_BLOCK_OPTIONS, smooth_schedules, without_smoothing
from lvbalance.profiles import build_profiles

WAYS = {
    "blocks, dual": SMOOTH_BLOCK_OPTIONS,
    "blocks, dual, equilibration": SMOOTH_BLOCK_OPTIONS | {"simplex_scale_strategy": 2},
    "blocks, ipm": LP_OPTIONS,
    "one LP": None,
}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", nargs="+", default=["v2g_only", "m1"])
    ap.add_argument("--case", type=Path, help="case directory (default: the embedded default case)")
    args = ap.parse_args(argv)
    case = without_smoothing(read_case(args.case) if args.case else load_default_case())
    case = case.with_params(case.params.updated(solver={"benders_max_iterations": None, "time_limit_s": 900}))
    scenarios = build_profiles(case).scenarios
    print(f"{'method':<10} {'how':<28} {'time [s]':>9} {'TV after [kW]':>14} {'objective after':>18} {'ratio':>6}")
    for k, mid in enumerate(args.methods):
        method = METHODS[mid]
        moves = None
        if method.moves:
            u = plan_method(case, scenarios, method).built.u
            moves = [] if u is None else [str(o) for o, v in u.solution.to_series().items() if v > 0.5]
        ways = list(WAYS)
        rows = {}
        for how in ways[k % len(ways) :] + ways[: k % len(ways)]:
            fixed = plan_method(case, scenarios, method, fixed_moves=moves)
            t0 = time.perf_counter()
            info = smooth_schedules(fixed.built, case.params.solver, block_options=WAYS[how])
            rows[how] = (time.perf_counter() - t0, info)
        for how in ways:
            elapsed, info = rows[how]
            ok = "" if info.applied else "  (failed)"
            print(
                f"{mid:<10} {how:<28} {elapsed:>9.2f} {info.total_variation_after_kw:>14.3f} "
                f"{info.objective_after:>18.6f} {elapsed / rows[ways[0]][0]:>6.2f}{ok}"
            )


if __name__ == "__main__":
    main()
