"""Commands on one case: validate, demo, plan, compare, profiles, check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from lvbalance.case import Case
from lvbalance.cli.common import Steps, app, console, friendly_errors, load_case, load_case_strictly, print_case_summary


@app.command()
@friendly_errors
def validate(
    case_dir: Annotated[Path, typer.Argument(help="Case directory.")],
    strict: Annotated[bool, typer.Option("--strict", help="Warnings are errors too (exit code 2), for automated pipelines.")] = False,
) -> None:
    """Check a case directory and list every problem (exit code 2 if any) and every warning."""
    case = load_case_strictly(case_dir, strict=strict)
    console.print(f"[green]ok[/]: {case_dir} is a valid case")
    print_case_summary(case)


def print_comparison(table: Any) -> None:
    """The Table-2 style comparison, one row per method."""
    t = Table(title="Comparison of methods (Table 2)", title_justify="left")
    for head in (
        "id",
        "E[I] % before → after",
        "peak I % before → after",
        "cost",
        "moved",
        "route m",
        "build s",
        "solve s",
        "gap",
        "variables / binaries / constraints",
    ):
        t.add_column(head, justify="left" if head == "id" else "right")
    for mid, r in table.iterrows():
        gap = "-" if r["mip_gap"] != r["mip_gap"] else f"{r['mip_gap']:.1%}"
        t.add_row(
            str(mid),
            f"{r['expected_imbalance_before_pct']:.2f} → {r['expected_imbalance_after_pct']:.2f}",
            f"{r['peak_imbalance_before_pct']:.1f} → {r['peak_imbalance_after_pct']:.1f}",
            f"{r['cost']:,.0f}",
            str(int(r["moved_customers"])),
            f"{r['route_length_m']:,.0f}",
            f"{r['build_time_s']:.1f}",
            f"{r['solve_time_s']:.1f}",
            gap,
            f"{int(r['variables']):,} / {int(r['binaries']):,} / {int(r['constraints']):,}",
        )
    console.print(t)


OverwriteOption = Annotated[
    bool, typer.Option("--overwrite", help="Replace an existing output folder (atomically, when the run succeeds).")
]
BudgetOption = Annotated[
    float | None,
    typer.Option(
        "--budget",
        metavar="AMOUNT",
        help="Plan, for each method with moves, the least expected imbalance at a cost of at most AMOUNT (currency) "
        "(a point of its cost-imbalance front) instead of the case's imbalance_weight.",
    ),
]
TargetOption = Annotated[
    float | None,
    typer.Option(
        "--target-imbalance",
        metavar="PCT",
        help="Plan, for each method with moves, the cheapest plan whose expected imbalance is at most PCT [%] "
        "(a point of its front). Excludes --budget.",
    ),
]


def run_methods(
    case: Case,
    methods: list[str],
    out: Path,
    *,
    subfolders: bool,
    evaluate: bool = True,
    case_dir: Path | None = None,
    overwrite: bool = False,
    budget: float | None = None,
    target_imbalance_pct: float | None = None,
) -> None:
    """Plan, evaluate and report into ``out``: written into a temporary sibling folder that
    replaces ``out`` only when everything succeeded (:func:`lvbalance.io.outdir.staged_output`)."""
    from lvbalance.io.outdir import staged_output
    from lvbalance.pipeline import comparison_table, evaluate_and_report, plan_and_write
    from lvbalance.profiles import build_profiles

    with staged_output(out, case_dir=case_dir, overwrite=overwrite) as work:
        steps = Steps()
        steps("pseudo profiles and scenarios")
        profiles = build_profiles(case)
        results = plan_and_write(
            case,
            methods,
            work,
            profiles=profiles,
            progress=steps,
            subfolders=subfolders,
            budget=budget,
            target_imbalance_pct=target_imbalance_pct,
        )
        report = evaluate_and_report(case, results, profiles, work, ac=evaluate, out_of_sample_days=evaluate, progress=steps)
        report = out / report.relative_to(work)
    elapsed = steps.done()
    print_comparison(comparison_table(results))
    for mid, r in results.items():
        for mv in r.plan.moves:
            console.print(
                f"  {mid}: move {', '.join(mv.customers)} of end node {mv.end_node} from {mv.from_feeder} to {mv.to_feeder} "
                f"at {mv.to_node} ({mv.route_length_m:.0f} m, cost {mv.cost:,.0f})",
                highlight=False,
            )
        if r.metrics.violations:
            console.print(f"  [yellow]{mid}: {len(r.metrics.violations)} line-rule violation(s) the plan cannot avoid; see metrics.json[/]")
    for mid, r in results.items():
        front = r.tradeoff
        if front is not None and front.points:
            lo, hi, ch = front.points[0], front.points[-1], front.chosen
            chosen = f"; the plan: cost {ch.cost:,.0f}, E[I] {ch.expected_imbalance_pct:.2f} %" if ch is not None else ""
            console.print(
                f"  {mid}: trade-off front of {len(front.points)} plans{'' if front.complete else ' (from the top)'}, "
                f"cost {lo.cost:,.0f} → {hi.cost:,.0f}, E[I] {lo.expected_imbalance_pct:.2f} → {hi.expected_imbalance_pct:.2f} %"
                f"{chosen} [dim](tradeoff.csv, {front.sweep_time_s:.0f} s)[/]",
                highlight=False,
            )
    for mid, r in results.items():
        if r.why is not None:
            console.print(f"  {mid}: {r.why.text} [dim]({r.why.time_s:.1f} s)[/]", highlight=False)
    print_evaluation(out)
    print_decision(case, out)
    console.print(f"[green]done[/] in {elapsed:.1f} s; outputs in {out.resolve()}")
    console.print(f"report: [bold]{report.resolve()}[/]")


def print_evaluation(out: Path) -> None:
    """The AC check and out-of-sample tables, with the report's human labels and units."""
    import pandas as pd
    from rich.markup import escape

    from lvbalance.report.labels import ac_check_table, out_of_sample_table

    for name, title, relabel in (
        ("ac_check.csv", "AC power-flow check", ac_check_table),
        ("out_of_sample.csv", "Out-of-sample check on held-out days", out_of_sample_table),
    ):
        path = out / name
        if not path.is_file():
            continue
        df = relabel(pd.read_csv(path, index_col=0))
        t = Table(title=title, title_justify="left")
        t.add_column(escape(df.index.name or ""))
        for c in df.columns:
            t.add_column(escape(str(c)), justify="right")  # units in brackets are not rich markup
        for idx, row in df.iterrows():
            t.add_row(escape(str(idx)), *(escape(str(v)) for v in row))
        console.print(t)


def print_decision(case: Case, out: Path) -> None:
    """The plan the report recommends, in one sentence (:mod:`lvbalance.report.decision`)."""
    from rich.markup import escape

    from lvbalance.report.decision import decision_sentence, recommend
    from lvbalance.report.outputs import read_run

    runs = read_run(out)
    rec = recommend(case, runs)
    what = "recommended plan" if len(runs) > 1 else "plan"
    console.print(f"[bold]{what}[/] ({rec.method}): {escape(decision_sentence(runs, rec.method))}", highlight=False)


@app.command()
@friendly_errors
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    evaluate: Annotated[bool, typer.Option(help="AC power-flow check and out-of-sample evaluation.")] = True,
    overwrite: OverwriteOption = False,
) -> None:
    """Run the main job on the embedded default case (Schutterwald area 1): all methods, evaluation, report."""
    from lvbalance.data import default_case_path
    from lvbalance.model.methods import METHODS

    path = default_case_path()
    console.print(f"default case: {path}")
    case = load_case(path)
    print_case_summary(case)
    run_methods(case, list(METHODS), out, subfolders=True, evaluate=evaluate, case_dir=path, overwrite=overwrite)


@app.command()
@friendly_errors
def plan(
    case_dir: Annotated[Path, typer.Argument(help="Case directory.")],
    method: Annotated[str, typer.Option("--method", "-m", help="baseline, m1, m2, m3 or v2g_only.")] = "m1",
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    evaluate: Annotated[bool, typer.Option(help="AC power-flow check and out-of-sample evaluation.")] = True,
    overwrite: OverwriteOption = False,
    budget: BudgetOption = None,
    target_imbalance: TargetOption = None,
) -> None:
    """Plan one case with one method."""
    from lvbalance.model.methods import get_method

    get_method(method)
    _plan_case(case_dir, [method], out, subfolders=False, evaluate=evaluate, overwrite=overwrite, budget=budget, target=target_imbalance)


@app.command()
@friendly_errors
def compare(
    case_dir: Annotated[Path, typer.Argument(help="Case directory.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (one sub-folder per method).")] = Path("out"),
    evaluate: Annotated[bool, typer.Option(help="AC power-flow check and out-of-sample evaluation.")] = True,
    overwrite: OverwriteOption = False,
    budget: BudgetOption = None,
    target_imbalance: TargetOption = None,
) -> None:
    """Plan one case with every method and compare them (the paper's Table 2)."""
    from lvbalance.model.methods import METHODS

    _plan_case(
        case_dir, list(METHODS), out, subfolders=True, evaluate=evaluate, overwrite=overwrite, budget=budget, target=target_imbalance
    )


def _plan_case(
    case_dir: Path,
    methods: list[str],
    out: Path,
    *,
    subfolders: bool,
    evaluate: bool,
    overwrite: bool,
    budget: float | None,
    target: float | None,
) -> None:
    """``plan`` and ``compare``: options and output folder checked before the case is read
    (a clear refusal at once), then :func:`run_methods`."""
    from lvbalance.evaluate.tradeoff import check_selection
    from lvbalance.io.outdir import check_output_folder

    check_selection(budget, target)
    check_output_folder(out, case_dir=case_dir, overwrite=overwrite)
    run_methods(
        load_case(case_dir),
        methods,
        out,
        subfolders=subfolders,
        evaluate=evaluate,
        case_dir=case_dir,
        overwrite=overwrite,
        budget=budget,
        target_imbalance_pct=target,
    )


@app.command()
@friendly_errors
def profiles(
    case_dir: Annotated[Path, typer.Argument(help="Case directory.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    overwrite: OverwriteOption = False,
) -> None:
    """Pseudo profiles and scenarios only: scenarios.csv, profiles.csv and figures."""
    from lvbalance.io.outdir import check_output_folder, staged_output
    from lvbalance.profiles import build_profiles, write_profiles

    check_output_folder(out, case_dir=case_dir, overwrite=overwrite)
    case = load_case(case_dir)
    with staged_output(out, case_dir=case_dir, overwrite=overwrite) as work:
        steps = Steps()
        steps("pseudo profiles and scenarios")
        result = build_profiles(case)
        write_profiles(result, work)
        steps("figures")
        try:
            from lvbalance.report.fig_profiles import write_profile_figures

            write_profile_figures(case, result, work)
        except ImportError:  # pragma: no cover - figures are optional here
            pass
    elapsed = steps.done()
    t = Table(title="Scenarios", title_justify="left")
    for col in ("scenario", "probability", "day type", "weather"):
        t.add_column(col)
    for sid, row in result.scenarios.scenarios.iterrows():
        t.add_row(str(sid), f"{row['probability']:.3f}", str(row["day_type"]), str(row["weather"]))
    console.print(t)
    console.print(f"[green]done[/] in {elapsed:.1f} s; outputs in {out.resolve()}")


@app.command()
@friendly_errors
def check(
    case_dir: Annotated[Path, typer.Argument(help="Case directory.")],
    out: Annotated[Path, typer.Argument(help="Output folder of a plan (plan.json, schedules.csv, ...).")],
) -> None:
    """Re-check a written plan independently of the model (exit 1 on any violation)."""
    from lvbalance.evaluate import check_outputs

    case = load_case(case_dir)
    folders = [out] if (out / "plan.json").is_file() else sorted(p for p in out.iterdir() if (p / "plan.json").is_file())
    if not folders:
        raise FileNotFoundError(f"no plan.json in {out} or its sub-folders")
    failed = False
    for folder in folders:
        rep = check_outputs(case, folder)
        if rep.ok:
            console.print(
                f"[green]ok[/] {folder}: every rule holds; E[I] recomputed {rep.recomputed['expected_imbalance_after_pct']:.4f} %"
            )
        else:
            failed = True
            console.print(f"[red]FAILED[/] {folder}:")
            for v in rep.violations + rep.differences:
                console.print(f"  - {v}", highlight=False)
    if failed:
        raise typer.Exit(1)
