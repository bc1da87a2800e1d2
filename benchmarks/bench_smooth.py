"""The second stage (smoothest optimal EV schedules, MODEL.md §6) as one LP and scenario by
scenario, side by side in one run.

Run: ``.venv/bin/python -m benchmarks.bench_smooth [--methods v2g_only m1]``.

For each method the default case is planned once without smoothing; then two copies of the
model with that plan fixed are solved to the same optimum and each is smoothed, one as one LP,
the other block by block (:mod:`lvbalance.model.blocks`, ``solver.threads`` blocks at a time),
the order alternating between methods. Printed: time, total variation after, objective after.
Timings are printed, not asserted.
"""

from __future__ import annotations

import argparse
import time

from lvbalance.data import load_default_case
from lvbalance.model.methods import METHODS
from lvbalance.model.run import plan_method
from lvbalance.model.smooth import smooth_schedules, without_smoothing
from lvbalance.profiles import build_profiles


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", nargs="+", default=["v2g_only", "m1"])
    args = ap.parse_args(argv)
    case = without_smoothing(load_default_case())
    case = case.with_params(case.params.updated(solver={"benders_max_iterations": None, "time_limit_s": 900}))
    scenarios = build_profiles(case).scenarios
    print(f"{'method':<10} {'how':<12} {'time [s]':>9} {'TV after [kW]':>14} {'objective after':>18}")
    for k, mid in enumerate(args.methods):
        method = METHODS[mid]
        moves = None
        if method.moves:
            u = plan_method(case, scenarios, method).built.u
            moves = [] if u is None else [str(o) for o, v in u.solution.to_series().items() if v > 0.5]
        times = {}
        for by_scenario in (k % 2 == 0, k % 2 != 0):
            fixed = plan_method(case, scenarios, method, fixed_moves=moves)
            t0 = time.perf_counter()
            info = smooth_schedules(fixed.built, case.params.solver, by_scenario=by_scenario)
            how = "by scenario" if by_scenario else "one LP"
            times[how] = time.perf_counter() - t0
            ok = "" if info.applied else "  (failed)"
            print(f"{mid:<10} {how:<12} {times[how]:>9.2f} {info.total_variation_after_kw:>14.3f} {info.objective_after:>18.6f}{ok}")
        print(f"{mid:<10} {'ratio':<12} {times['one LP'] / times['by scenario']:>9.2f}")


if __name__ == "__main__":
    main()
