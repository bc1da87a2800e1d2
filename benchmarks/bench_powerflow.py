"""AC check on power-grid-model (one batch) against pandapower (``runpp`` per step), side by side.

Run: ``.venv/bin/python -m benchmarks.bench_powerflow``. On the default case (Schutterwald
area 1) it plans baseline and m2, then runs :func:`lvbalance.powerflow.ac_check` for the
"before" (as built, uncontrolled EVs) and "after" (the plan, scheduled EVs) powers of each,
once per backend, and prints the wall time of each backend, their ratio and the largest
absolute differences of the reported figures (summary and per-scenario). Timings are
printed, not asserted.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from lvbalance.case import Case
from lvbalance.powerflow import ac_check, method_power
from lvbalance.powerflow.ac import AcCheckResult

BACKENDS = ("power-grid-model", "pandapower")


def on(case: Case, backend: str) -> Case:
    return case.with_params(case.params.updated(powerflow={"backend": backend}))


def numbers(res: AcCheckResult) -> dict[str, float]:
    """Every numeric figure ac_check reports (summary and per scenario; not the runtime)."""
    out = {k: float(v) for k, v in res.summary().items() if v is not None}
    for s in res.scenarios:
        for f in dataclasses.fields(s):
            v = getattr(s, f.name)
            if isinstance(v, float | int) and not isinstance(v, bool):
                out[f"{f.name}[{s.scenario}]"] = float(v)
    return out


def labels(res: AcCheckResult) -> list[Any]:
    """Where the extremes are (nodes, lines) of each scenario."""
    return [(s.min_voltage_node, s.max_voltage_node, s.max_loading_line, s.max_flow_diff_line) for s in res.scenarios]


def main() -> None:
    from lvbalance.coupling import move_options
    from lvbalance.data import load_default_case
    from lvbalance.model.methods import METHODS
    from lvbalance.model.run import plan_method
    from lvbalance.profiles import build_profiles

    t0 = time.perf_counter()
    case = load_default_case()
    scen = build_profiles(case).scenarios
    options = move_options(case)
    results = {m: plan_method(case, scen, METHODS[m], options=options) for m in ("baseline", "m2")}
    print(f"setup (case, profiles, options, plans baseline + m2): {time.perf_counter() - t0:.1f} s")

    checks = []  # (label, plan, power, customers, scenarios, probability)
    step_h = case.params.profiles.step_minutes / 60.0
    for m, res in results.items():
        for when, scheduled, plan in (("before", False, []), ("after", True, res.plan)):
            power, customers, scen_ids, beta = method_power(res, scheduled=scheduled)
            checks.append((f"{m} {when}", plan, power, customers, scen_ids, beta))

    total = dict.fromkeys(BACKENDS, 0.0)
    print(f"\n{'check':<16} {'runs':>5} {'pgm [s]':>9} {'pp [s]':>9} {'ratio':>7} {'max |diff| (figure)':>40}  extremes equal")
    for label, plan, power, customers, scen_ids, beta in checks:
        out, wall = {}, {}
        for b in BACKENDS:
            t = time.perf_counter()
            out[b] = ac_check(on(case, b), plan, power, customers, scen_ids, probability=beta, step_hours=step_h)
            wall[b] = time.perf_counter() - t
            total[b] += wall[b]
        a, r = numbers(out["power-grid-model"]), numbers(out["pandapower"])
        diffs = {k: abs(a[k] - r[k]) for k in r}
        worst = max(diffs, key=lambda k: diffs[k])
        ratio = wall["pandapower"] / wall["power-grid-model"]
        same = labels(out["power-grid-model"]) == labels(out["pandapower"])
        times = f"{wall['power-grid-model']:>9.3f} {wall['pandapower']:>9.3f} {ratio:>6.1f}x"
        print(f"{label:<16} {out['pandapower'].runs:>5} {times} {diffs[worst]:>12.3g} ({worst})  {same}")
        for key in ("min_voltage_pu", "max_voltage_pu", "expected_losses_kwh_per_day", "max_line_loading_pct", "max_flow_diff_kw"):
            rel = diffs[key] / abs(r[key]) if r[key] else float("nan")
            print(f"{'':<16}   {key:<30} pgm {a[key]:.9g}  pp {r[key]:.9g}  |diff| {diffs[key]:.3g}  rel {rel:.3g}")
    g, p = total["power-grid-model"], total["pandapower"]
    print(f"\ntotal ({len(checks)} checks): power-grid-model {g:.2f} s, pandapower {p:.2f} s, ratio {p / g:.1f}x")


if __name__ == "__main__":
    main()
