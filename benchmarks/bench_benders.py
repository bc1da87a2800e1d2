"""Benders' scenario subproblems in one thread and in two, side by side (issue 12, item 1).

Run: ``.venv/bin/python -m benchmarks.bench_benders [--method m3] [--plans 8]``.

Builds the :class:`lvbalance.model.recourse.RecoursePool` of the method on the default case
(imbalance weight 5000) and evaluates the same plans - no move, then the cheapest option of
each end node alone, up to ``--plans`` - with ``threads = 1`` and with ``threads = 2``, each on
a fresh pool (nothing cached), alternating the order plan by plan so that a change of the
machine's load hits both. Printed: time per plan of each, their ratio, and whether the
recourse values ``Q_s`` are the same (they must be: each subproblem is its own HiGHS
instance). Timings are printed, not asserted.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks.bench_model import default_inputs
from lvbalance.model.build import build_model
from lvbalance.model.data import model_data
from lvbalance.model.methods import METHODS
from lvbalance.model.recourse import RecoursePool


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="m3", choices=["m1", "m3"])
    ap.add_argument("--plans", type=int, default=8)
    a = ap.parse_args()
    case, scenarios, options = default_inputs(900.0)
    method = METHODS[a.method]
    built = build_model(model_data(case, scenarios, options[method.straight_line]), method)
    opts = built.options
    plans = [np.zeros(len(opts))]
    for _, rows in opts.reset_index().sort_values("cost", kind="stable").groupby("end_node", sort=True):
        u = np.zeros(len(opts))
        u[rows.index[0]] = 1.0
        plans.append(u)
    plans = plans[: a.plans]
    pools = {1: RecoursePool(), 2: RecoursePool()}
    for pool in pools.values():
        pool.attach(built, scenarios)
    times: dict[int, list[float]] = {1: [], 2: []}
    same = True
    for k, u in enumerate(plans):
        order = (1, 2) if k % 2 == 0 else (2, 1)
        values = {}
        for threads in order:
            t0 = time.perf_counter()
            values[threads] = pools[threads].evaluate(u, threads)
            times[threads].append(time.perf_counter() - t0)
        same &= bool(np.allclose(values[1], values[2], rtol=1e-9, atol=1e-9))
    one, two = np.array(times[1]), np.array(times[2])
    print(f"{a.method} on the default case: {len(scenarios.scenarios)} scenario subproblems, {len(opts)} options, {len(plans)} plans")
    print(f"  1 thread : {one.mean():.2f} s per plan (min {one.min():.2f}, max {one.max():.2f})")
    print(f"  2 threads: {two.mean():.2f} s per plan (min {two.min():.2f}, max {two.max():.2f})")
    print(f"  ratio 1 thread / 2 threads: {one.sum() / two.sum():.2f}; same Q_s: {same}")


if __name__ == "__main__":
    main()
