"""The cost-imbalance front of m1, m2, m3 on the default case, every point re-checked (issue 11).

Run: ``.venv/bin/python -m benchmarks.bench_tradeoff [--methods m1 m2 m3] [--points N] [--time-limit S] [--out DIR]``.

Per method: the epsilon-constraint sweep of :func:`lvbalance.evaluate.tradeoff.tradeoff_front`
from the unlimited budget down (``--points`` budgets), each point's plan written as ``plan``
writes it (``DIR/<method>/point<k>/``) and re-checked independently of the model
(:func:`lvbalance.evaluate.recheck.check_outputs`); ``DIR/<method>/tradeoff.csv``. Printed:
each point's budget, cost, E[I], peak, moves, status, gap, solve time and re-check result,
and whether cost rises and E[I] falls strictly. Timings are printed, not asserted.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from lvbalance.coupling import build_street_graph, move_options
from lvbalance.data import default_case_path
from lvbalance.evaluate.metrics import compute_metrics
from lvbalance.evaluate.recheck import check_outputs
from lvbalance.evaluate.tradeoff import FrontPoint, tradeoff_front, write_tradeoff
from lvbalance.io import read_case
from lvbalance.model.methods import METHODS
from lvbalance.model.run import MethodResult
from lvbalance.profiles import build_profiles, write_profiles
from lvbalance.results import write_results


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--methods", nargs="+", default=["m2", "m1", "m3"])
    ap.add_argument("--points", type=int, default=6)
    ap.add_argument("--time-limit", type=float, default=None, help="solver time limit per point [s] (default: the case's)")
    ap.add_argument("--out", type=Path, default=Path("out_tradeoff"))
    a = ap.parse_args()
    case = read_case(default_case_path())
    if a.time_limit is not None:
        case = case.with_params(case.params.updated(solver={"time_limit_s": a.time_limit, "benders_max_iterations": None}))
    profiles = build_profiles(case)
    graph = build_street_graph(case)
    for mid in a.methods:
        method = METHODS[mid]
        options = move_options(case, straight_line=method.straight_line, graph=graph)
        folder = a.out / mid
        checks: list[str] = []

        def check(point: FrontPoint, res: MethodResult, mid: str = mid, folder: Path = folder, checks: list[str] = checks) -> None:
            target = folder / f"point{len(checks)}"
            write_profiles(profiles, target)
            write_results(target, res.plan, res.schedules, res.feeder_loads, compute_metrics(res))
            rep = check_outputs(case, target)
            checks.append("ok" if rep.ok else "FAILED: " + "; ".join(rep.violations + rep.differences))
            print(
                f"  {mid} point {len(checks)}: budget {point.budget:,.2f} cost {point.cost:,.2f} E[I] {point.expected_imbalance_pct:.4f} % "
                f"peak {point.peak_imbalance_pct:.2f} % moved {point.moved_customers} gap {point.mip_gap:.1e} {point.status} "
                f"{point.solve_time_s:.1f} s; re-check {checks[-1]} "
                f"(E[I] recomputed {rep.recomputed.get('expected_imbalance_after_pct', float('nan')):.4f}); {point.moves}",
                flush=True,
            )

        t0 = time.perf_counter()
        front = tradeoff_front(case, profiles.scenarios, method, options, max_points=a.points, on_point=check)
        elapsed = time.perf_counter() - t0
        write_tradeoff(folder, front)
        t = front.table()
        rising = bool(t["cost"].diff().dropna().gt(0).all())
        falling = bool(t["expected_imbalance_pct"].diff().dropna().lt(0).all())
        print(
            f"{mid}: {len(front.points)} points ({front.solved} solved, {front.dropped} dropped, "
            f"complete {front.complete}) in {elapsed:.0f} s; "
            f"cost strictly rising {rising}, E[I] strictly falling {falling}; re-checks ok {checks.count('ok')}/{len(checks)}",
            flush=True,
        )
        print(t.to_string(index=False), flush=True)


if __name__ == "__main__":
    main()
