"""Pseudo profiles and scenarios on the default case (MODEL.md §3).

Run: ``.venv/bin/python -m benchmarks.bench_profiles [OUT_DIR]``. Prints, for the default
case (Schutterwald area 1; the fig3 test case if the default case is missing): the
cleaning summary, the patterns per type and context with their probabilities, the
scenario probabilities, the error of pseudo profiles against the held-out real days of
metered customers treated as unmetered (:func:`lvbalance.profiles.pseudo_profile_error`),
and the build time. Writes Fig 7 / Fig 8 style PNGs to OUT_DIR (default
``benchmarks/out/profiles``). Timings are printed, not asserted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from lvbalance.case import Case
from lvbalance.profiles import build_profiles, pseudo_profile_error
from lvbalance.report.fig_profiles import write_profile_figures


def default_case() -> Case:
    try:
        from lvbalance.data import load_default_case
    except ImportError:
        from tests.conftest import fig3_case

        return fig3_case()
    return load_default_case()


def main(out_dir: str | Path | None = None) -> None:
    case = default_case()
    out = Path(out_dir) if out_dir else Path(__file__).parent / "out" / "profiles"
    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.precision", 3):
        t0 = time.perf_counter()
        result = build_profiles(case)
        build_s = time.perf_counter() - t0
        c = case.customers
        print(
            f"case {case.name}: {len(c)} customers, {int(c['metered'].sum())} metered; "
            f"{len(result.train_days)} training and {len(result.heldout_days)} held-out days"
        )
        rep = result.cleaning_report
        print("\ncleaning (sums over customers):")
        print(rep.drop(columns=["type"]).sum().to_string())
        print("\npatterns per type and context (probability = share of metered days):")
        table = result.patterns.table()
        table["probability"] = table["probability"].round(3)
        print(table.set_index(["type", "context", "pattern"]).to_string())
        print("\nenergy ratio per context (mean daily energy / calendar-weighted mean):")
        print(result.patterns.energy_ratio.round(3).to_string())
        print("\nscenarios:")
        print(result.scenarios.scenarios.round(4).to_string())
        t1 = time.perf_counter()
        err = pseudo_profile_error(case)
        err_s = time.perf_counter() - t1
        print("\npseudo profiles vs held-out real days (metered customers treated as unmetered):")
        print(err.to_string())
        print(f"\nbuild_profiles: {build_s:.2f} s; pseudo_profile_error: {err_s:.2f} s")
        for p in write_profile_figures(case, result, out):
            print(f"figure: {p}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
