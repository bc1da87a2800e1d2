"""Benders with and without the coarse stage 2, Pareto cuts and the relaxed phase, side by side (issue 12, item 1).

Run: ``.venv/bin/python -m benchmarks.bench_cuts [--method m3] [--case DIR]``.

Solves one method's plan by Benders (no time or work limit) on the default case
(imbalance weight 5000) or on a case directory, in four ways one after the other in this one
run, each on a fresh :class:`lvbalance.model.recourse.RecoursePool` (nothing cached):

* ``plain``: a cut at each plan the integer master proposes (the subproblem's duals as they come),
  and nothing else in the master;
* ``plain + relaxed``: first cuts at the LP-relaxed master's optimum until its bound stalls;
* ``pareto``: each plan's cut and its Pareto cut (``benders.core_point``) a step
  ``benders.PARETO_STEP`` towards the core point;
* ``coarse H h``: the master holds the coarse stage 2 (``model/coarse.py``) with blocks of H hours,
  with plain or Pareto cuts (``coarse 3 h + pareto`` is the default).

Printed per way: iterations, time, objective, bound and gap, and whether it ends at the same
plan as the first. Timings are printed, not asserted.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.bench_model import default_inputs
from lvbalance.coupling import move_options
from lvbalance.io import read_case
from lvbalance.model.benders import PARETO_STEP, solve_benders
from lvbalance.model.build import build_model
from lvbalance.model.data import model_data
from lvbalance.model.methods import METHODS
from lvbalance.model.recourse import RecoursePool
from lvbalance.profiles import build_profiles

WAYS = {  # name: (Pareto step, most relaxed-phase iterations, coarse stage 2's blocks [h]; 0: none)
    "plain": (0.0, 0, 0.0),
    "plain + relaxed": (0.0, 50, 0.0),
    "pareto": (PARETO_STEP, 0, 0.0),
    "coarse 24 h + pareto": (PARETO_STEP, 0, 24.0),
    "coarse 3 h": (0.0, 0, 3.0),
    "coarse 3 h + pareto": (PARETO_STEP, 0, 3.0),
    "coarse 1 h + pareto": (PARETO_STEP, 0, 1.0),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="m3", choices=["m1", "m3"])
    ap.add_argument("--case", default=None, help="a case directory (default: the embedded default case)")
    a = ap.parse_args()
    method = METHODS[a.method]
    if a.case is None:
        case, scenarios, options = default_inputs(900.0)
        opts = options[method.straight_line]
    else:
        case = read_case(a.case)
        case = case.with_params(case.params.updated(solver={"time_limit_s": 900.0, "benders_max_iterations": None}))
        scenarios = build_profiles(case).scenarios
        opts = move_options(case, straight_line=method.straight_line)
    built = build_model(model_data(case, scenarios, opts), method)
    print(f"{a.method} on {a.case or 'the default case'}: {len(built.options)} options, {len(scenarios.scenarios)} scenarios")
    first = None
    for name, (step, relaxed, block_h) in WAYS.items():
        solver = case.params.solver.model_copy(update={"benders_relaxed_iterations": relaxed, "benders_coarse_block_h": block_h})
        t0 = time.perf_counter()
        r = solve_benders(built, solver, scenarios, RecoursePool(), pareto_step=step)
        took = time.perf_counter() - t0
        first = first if first is not None else r.chosen
        print(
            f"  {name:<21} {r.iterations:4d} iterations {took:7.1f} s  objective {r.upper_bound:.4f}  "
            f"bound {r.lower_bound:.4f}  gap {r.gap:.1e}  same plan as the first: {r.chosen == first}"
        )


if __name__ == "__main__":
    main()
