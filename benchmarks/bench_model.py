"""Size and speed of the two-stage MILP (MODEL.md §4-§7), and the paper's literal stage 1.

Run: ``.venv/bin/python -m benchmarks.bench_model [--quick] [--time-limit S]``.

Part 1, for the default case (imbalance weight 5000): per method (baseline, m1, m2, m3,
v2g_only) build time, solve time, model size (variables, binaries, constraints, move
options before/after the exact dominance reduction), objective, MIP gap. All methods
are solved one after the other in this one run, so their times compare; absolute times
depend on the machine's load.

Part 2, the paper's literal stage-1 encoding against ours (MODEL.md §4 "Variables"). Ours:
one binary ``u[h,q,i]`` per move option. The paper's: ``a[h,i]`` binary (end node ``h``
connects to target ``i``), ``b[h,q]`` binary (load-combination size ``q``), ``rho[j,i]``
(customer ``j`` ends up at ``i``) tied to them by big-M rows::

    rho[j,i] >= a[h,i] + sum_{q>=r(j)} b[h,q] - 1,  rho <= a,  rho <= sum_{q>=r(j)} b,
    sum_i a[h,i] <= 1,  sum_q b[h,q] <= 1,  sum_i a[h,i] = sum_q b[h,q],
    a[h,i] + b[h,q] <= 1 for (q, i) not admissible,  sum rho <= M_max (Eq 5).

The stage 2 of ``build_model`` is reused unchanged: ``u`` becomes a continuous variable
that is the McCormick product ``a * b`` (``u <= a``, ``u <= b``, ``u >= a + b - 1``),
exact at integral ``a, b``. Printed: LP-relaxation bound and time of both encodings
(integrality dropped in HiGHS), and the MILP solve time of both, on m2 and m1.
Timings are printed, not asserted.
"""

from __future__ import annotations

import argparse
import time

import highspy
import linopy
import numpy as np
import pandas as pd

from lvbalance.model.benders import stage2_is_continuous
from lvbalance.model.build import BuiltModel, build_model
from lvbalance.model.data import OPTION, model_data
from lvbalance.model.methods import METHODS
from lvbalance.model.run import _solve_by_benders
from lvbalance.model.solve import solve

IMBALANCE_WEIGHT = 5000.0
#: HiGHS options compared against the defaults (the root reduced-cost heuristic runs a
#: sub-MIP that re-solves the big stage-2 LP for a minute without improving anything here).
TUNED_HIGHS = {"mip_heuristic_run_root_reduced_cost": False}


def default_inputs(time_limit_s: float):
    """Default case (imbalance weight 5000), its scenarios and move options (street, straight line)."""
    from lvbalance.coupling import move_options
    from lvbalance.data import load_default_case
    from lvbalance.profiles import build_profiles

    case = load_default_case()
    case = case.with_params(
        case.params.updated(
            objective={"imbalance_weight": IMBALANCE_WEIGHT}, solver={"time_limit_s": time_limit_s, "benders_max_iterations": None}
        )
    )
    scenarios = build_profiles(case).scenarios
    options = {False: move_options(case), True: move_options(case, straight_line=True)}
    return case, scenarios, options


def build(case, scenarios, options, method_id: str) -> BuiltModel:
    method = METHODS[method_id]
    data = model_data(case, scenarios, options[method.straight_line] if method.moves else None)
    return build_model(data, method)


# --------------------------------------------------------------------------- part 1


def method_table(case, scenarios, options, methods: list[str]) -> pd.DataFrame:
    """Build and solve every method in turn: sizes, times, objective, gap."""
    rows = []
    for mid in methods:
        built = build(case, scenarios, options, mid)
        row = {"method": mid, **built.size, "build_s": round(built.build_time_s, 2)}
        t0 = time.perf_counter()
        try:
            info = solve(built, case.params.solver)
            row |= {
                "solve_s": round(info.solve_time_s, 2),
                "objective": round(info.objective, 4),
                "gap": f"{info.mip_gap:.1e}",
                "status": str(info.status),
            }
        except RuntimeError as err:  # time limit without a solution
            row |= {"solve_s": round(time.perf_counter() - t0, 2), "objective": np.nan, "gap": "-", "status": type(err).__name__}
        if built.size["binaries"]:  # same model, HiGHS without its root reduced-cost sub-MIP heuristic
            h = highs_of(
                built, relax=False, threads=case.params.solver.threads, time_limit_s=case.params.solver.time_limit_s, options=TUNED_HIGHS
            )
            t, obj = run_highs(h)
            row |= {"tuned_solve_s": round(t, 2), "tuned_objective": round(obj, 4), "tuned_gap": f"{h.getInfo().mip_gap:.1e}"}
        if built.size["binaries"] and stage2_is_continuous(built):  # same model by Benders (the 'auto' default with V2G)
            fresh = build(case, scenarios, options, mid)
            binfo = _solve_by_benders(fresh, case, scenarios)
            row |= {
                "benders_s": round(binfo.solve_time_s, 2),
                "benders_objective": round(binfo.objective, 4),
                "benders_gap": f"{binfo.mip_gap:.1e}",
                "extensive/benders time": round(row["solve_s"] / binfo.solve_time_s, 2),
            }
        rows.append(row)
        print(f"  {mid}: done", flush=True)
    return pd.DataFrame(rows).set_index("method")


# --------------------------------------------------------------------------- part 2


def add_literal_stage1(built: BuiltModel) -> None:
    """Re-express ``u`` through the paper's ``a``, ``b``, ``rho`` (big-M links), in place.

    ``u`` stays in the model (stage 2 reads it) but is meant to be made continuous by the
    caller; ``a`` and ``b`` are the binaries. ``one_move_per_end_node`` and
    ``moved_customer_limit`` are replaced by their paper forms; ``targets_stay_put`` is
    kept in terms of ``u`` (the paper has no such rule).
    """
    m, opts = built.model, built.options
    u = m.variables["u"]
    m.remove_constraints(["one_move_per_end_node", "moved_customer_limit"])
    hi_pairs = sorted(set(zip(opts["end_node"], opts["to_node"])))
    hq_pairs = sorted(set(zip(opts["end_node"], opts["q"].astype(int))))
    hi_names = pd.Index([f"{h}>{i}" for h, i in hi_pairs], name="hi")
    hq_names = pd.Index([f"{h}:{q}" for h, q in hq_pairs], name="hq")
    a = m.add_variables(binary=True, coords=[hi_names], name="a")
    b = m.add_variables(binary=True, coords=[hq_names], name="b")

    def one_hot(names: pd.Index, keys: list, rows: pd.Index) -> np.ndarray:
        pos = {k: n for n, k in enumerate(rows)}
        out = np.zeros((len(keys), len(names)))
        for r, k in enumerate(keys):
            out[r, pos[k]] = 1.0
        return out

    # McCormick: u[h,q,i] = a[h,i] * b[h,q]
    A = one_hot(hi_names, list(zip(opts["end_node"], opts["to_node"])), hi_pairs)  # (option, hi)
    B = one_hot(hq_names, list(zip(opts["end_node"], opts["q"].astype(int))), hq_pairs)  # (option, hq)
    import xarray as xr

    Ax = xr.DataArray(A, dims=(OPTION, "hi"), coords={OPTION: opts.index, "hi": hi_names})
    Bx = xr.DataArray(B, dims=(OPTION, "hq"), coords={OPTION: opts.index, "hq": hq_names})
    a_o, b_o = (a * Ax).sum("hi"), (b * Bx).sum("hq")
    m.add_constraints(u - a_o <= 0, name="mc_a")
    m.add_constraints(u - b_o <= 0, name="mc_b")
    m.add_constraints(u - a_o - b_o >= -1, name="mc_ab")

    ends = sorted(set(opts["end_node"]))
    for h in ends:  # Eq 9-12: one target, one size, both or neither
        ai = [n for n, (h2, _) in zip(hi_names, hi_pairs) if h2 == h]
        bq = [n for n, (h2, _) in zip(hq_names, hq_pairs) if h2 == h]
        m.add_constraints(a.sel(hi=ai).sum() <= 1, name=f"one_target_{h}")
        m.add_constraints(b.sel(hq=bq).sum() <= 1, name=f"one_size_{h}")
        m.add_constraints(a.sel(hi=ai).sum() - b.sel(hq=bq).sum() == 0, name=f"target_iff_size_{h}")
    admissible = set(zip(opts["end_node"], opts["q"].astype(int), opts["to_node"]))
    k = 0
    for (h, i), an in zip(hi_pairs, hi_names):
        for (h2, q), bn in zip(hq_pairs, hq_names):
            if h2 == h and (h, q, i) not in admissible:
                m.add_constraints(a.sel(hi=an) + b.sel(hq=bn) <= 1, name=f"inadmissible_{k}")
                k += 1

    # rho[j,i] per customer: customer j = LD[h,r] moves to i iff a[h,i] and some b[h,q>=r]
    rho_keys, rows_a, rows_b = [], [], []
    full = opts.loc[opts.groupby("end_node")["q"].idxmax()]
    for h, chain in zip(full["end_node"], full["customers"]):
        for r, j in enumerate(chain, start=1):
            qs = [n for n, (h2, q) in zip(hq_names, hq_pairs) if h2 == h and q >= r]
            for an, (h2, i) in zip(hi_names, hi_pairs):
                if h2 == h and qs:
                    rho_keys.append(f"{j}>{i}")
                    rows_a.append(an)
                    rows_b.append(qs)
    rho = m.add_variables(lower=0.0, upper=1.0, coords=[pd.Index(rho_keys, name="rho")], name="rho")
    for n, (key, an, qs) in enumerate(zip(rho_keys, rows_a, rows_b)):
        r1, sb = rho.sel(rho=key), b.sel(hq=qs).sum()
        m.add_constraints(r1 - a.sel(hi=an) - sb >= -1, name=f"rho_lo_{n}")
        m.add_constraints(r1 - a.sel(hi=an) <= 0, name=f"rho_a_{n}")
        m.add_constraints(r1 - sb <= 0, name=f"rho_b_{n}")
    m.add_constraints(rho.sum() <= built.data.case.params.planning.max_moved_customers, name="moved_customer_limit_rho")


def highs_of(
    built: BuiltModel, *, relax: bool, continuous: tuple[str, ...] = (), threads: int, time_limit_s: float, options: dict | None = None
) -> highspy.Highs:
    """The model as a ``highspy.Highs``; ``relax`` drops all integrality, ``continuous`` only that of the named variables."""
    m = built.model
    h = linopy.io.to_highspy(m)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", threads)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(built.data.case.params.solver.mip_gap))
    for k, v in (options or {}).items():
        h.setOptionValue(k, v)
    pos = {int(lab): k for k, lab in enumerate(m.matrices.vlabels)}
    names = list(m.binaries) if relax else list(continuous)
    cols = np.array([pos[int(lab)] for name in names for lab in np.ravel(m.variables[name].labels) if lab >= 0], dtype=np.int32)
    if len(cols):
        h.changeColsIntegrality(len(cols), cols, np.zeros(len(cols), dtype=np.uint8))
    return h


def run_highs(h: highspy.Highs) -> tuple[float, float]:
    t0 = time.perf_counter()
    h.run()
    return time.perf_counter() - t0, float(h.getInfo().objective_function_value)


def literal_comparison(case, scenarios, options, methods: list[str], time_limit_s: float, solve_milp: bool) -> pd.DataFrame:
    """LP bound and time, MILP time, of our ``u`` encoding and the paper's literal one."""
    threads = case.params.solver.threads
    rows = []
    for mid in methods:
        ours = build(case, scenarios, options, mid)
        lit = build(case, scenarios, options, mid)
        t0 = time.perf_counter()
        add_literal_stage1(lit)
        lit_build = lit.build_time_s + time.perf_counter() - t0
        row = {
            "method": mid,
            "binaries_ours": ours.size["binaries"],
            "binaries_literal": int(lit.model.variables["a"].size + lit.model.variables["b"].size),
            "rows_ours": ours.size["constraints"],
            "rows_literal": int(lit.model.ncons),
            "build_s_ours": round(ours.build_time_s, 2),
            "build_s_literal": round(lit_build, 2),
        }
        t_o, lp_o = run_highs(highs_of(ours, relax=True, threads=threads, time_limit_s=time_limit_s))
        t_l, lp_l = run_highs(highs_of(lit, relax=True, threads=threads, time_limit_s=time_limit_s))
        row |= {
            "lp_bound_ours": round(lp_o, 3),
            "lp_bound_literal": round(lp_l, 3),
            "lp_bound_ratio": round(lp_o / lp_l, 4),
            "lp_s_ours": round(t_o, 2),
            "lp_s_literal": round(t_l, 2),
        }
        if solve_milp:
            h_o = highs_of(ours, relax=False, threads=threads, time_limit_s=time_limit_s, options=TUNED_HIGHS)
            h_l = highs_of(lit, relax=False, continuous=("u",), threads=threads, time_limit_s=time_limit_s, options=TUNED_HIGHS)
            t_o, ob_o = run_highs(h_o)
            g_o = h_o.getInfo().mip_gap
            t_l, ob_l = run_highs(h_l)
            g_l = h_l.getInfo().mip_gap
            row |= {
                "milp_obj_ours": round(ob_o, 3),
                "milp_obj_literal": round(ob_l, 3),
                "gap_ours": f"{g_o:.1e}",
                "gap_literal": f"{g_l:.1e}",
                "milp_s_ours": round(t_o, 2),
                "milp_s_literal": round(t_l, 2),
                "milp_time_ratio_literal/ours": round(t_l / max(t_o, 1e-9), 2),
            }
        print(f"  {mid}: literal comparison done", flush=True)
        rows.append(row)
    return pd.DataFrame(rows).set_index("method").T


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="time limit 30 s, literal comparison on m2 only, default 60 s otherwise")
    ap.add_argument("--time-limit", type=float, default=None, help="per MILP solve [s] (default 60, quick 30)")
    args = ap.parse_args(argv)
    limit = args.time_limit or (30.0 if args.quick else 60.0)
    t0 = time.perf_counter()
    case, scenarios, options = default_inputs(limit)
    print(
        f"default case, imbalance weight {IMBALANCE_WEIGHT:g}, time limit {limit:g} s per solve; inputs in {time.perf_counter() - t0:.1f} s"
    )
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 30)
    print("\n== methods (one run, solved in turn) ==", flush=True)
    print(method_table(case, scenarios, options, ["baseline", "m1", "m2", "m3", "v2g_only"]).to_string())
    print("\n== stage-1 encoding: ours (u per option) vs the paper's literal a, b, rho (big-M) ==", flush=True)
    lit_methods = ["m2"] if args.quick else ["m2", "m1"]
    print(literal_comparison(case, scenarios, options, lit_methods, limit, solve_milp=True).to_string())
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
