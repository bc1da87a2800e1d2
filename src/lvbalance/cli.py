"""The ``lvbalance`` command: a thin layer that passes data between the library's functions.

Bad input never gives a traceback: a :class:`~lvbalance.case.CaseError` is printed as a
list of problems and the command exits with code 2.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lvbalance.case import Case, CaseError, MissingPackageError

if TYPE_CHECKING:
    from lvbalance.io.areas import AreaResult

app = typer.Typer(help="Street-aware LV load rebalancing with V2G scheduling.", no_args_is_help=True, add_completion=False)
import_app = typer.Typer(help="Import a network as a case directory.", no_args_is_help=True)
app.add_typer(import_app, name="import")

console = Console(width=None if sys.stdout.isatty() else 150)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 150)

EXIT_BAD_INPUT = 2


def _friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn input errors into a readable list and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CaseError as exc:
            err_console.print(f"[bold red]{exc.source}[/] has {len(exc.problems)} problem(s):")
            for p in exc.problems:
                err_console.print(f"  [red]-[/] {p}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except (FileExistsError, FileNotFoundError, ValueError) as exc:
            err_console.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except MissingPackageError as exc:  # an optional package: name the extra that installs it
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except (typer.Exit, typer.Abort):
            raise
        except RuntimeError as exc:  # solver trouble, explained by the model layer
            err_console.print(f"[bold red]could not plan:[/] {exc}")
            raise typer.Exit(1) from None

    return wrapper


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details.")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def _load(case_dir: Path) -> Case:
    from lvbalance.io import read_case

    with console.status(f"reading {case_dir}"):
        return read_case(case_dir)


def print_case_summary(case: Case) -> None:
    """Areas, feeders with their customers and ratings, customer types, meter coverage."""
    from lvbalance.summary import case_overview, feeder_table, meter_coverage

    o = case_overview(case)
    console.print(
        f"[bold]{o['name']}[/]: 1 transformer area, {o['feeders']} feeders, {o['nodes']} nodes, {o['lines']} lines, "
        f"{o['customers']} customers ({o['metered_customers']} metered), {o['street_segments']} street segments "
        f"(from {o['streets_source']}), CRS {o['crs']}"
    )
    console.print(
        f"meter readings: {o['readings']:,} from {o['first_reading']} to {o['last_reading']}; calendar: {o['calendar_days']} days"
    )
    ft = feeder_table(case)
    t = Table(title="Feeders", title_justify="left")
    heads = {
        "outlet_line": "outlet",
        "rated_kw": "kW",
        "backbone_m": "length m",
        "residential": "res",
        "commercial": "com",
        "heat_pump": "hp",
        "customers": "total",
    }
    for col in ["feeder", *ft.columns]:
        t.add_column(heads.get(col, col), justify="left" if col in ("feeder", "outlet_line") else "right", no_wrap=True)
    for feeder, row in ft.iterrows():
        t.add_row(str(feeder), *(str(v) if isinstance(v, str) else f"{v:,.0f}" for v in row))
    console.print(t)
    mc = meter_coverage(case)
    t = Table(title="Customer types and meter coverage", title_justify="left")
    for col in ("type", "customers", "metered", "metered share", "days of data (mean)"):
        t.add_column(col, justify="left" if col == "type" else "right")
    for typ, row in mc.iterrows():
        t.add_row(str(typ), f"{row['customers']:.0f}", f"{row['metered']:.0f}", f"{row['metered_share']:.0%}", f"{row['mean_days']:.0f}")
    console.print(t)


@app.command()
@_friendly_errors
def validate(case_dir: Annotated[Path, typer.Argument(help="Case directory.")]) -> None:
    """Check a case directory and list every problem (exit code 2 if any)."""
    case = _load(case_dir)
    console.print(f"[green]ok[/]: {case_dir} is a valid case")
    print_case_summary(case)


class _Steps:
    """Progress of a long job: one line per step with its duration."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.current: str | None = None
        self.started = 0.0
        self.status = console.status("")

    def __call__(self, message: str) -> None:
        self._close()
        self.current, self.started = message, time.perf_counter()
        self.status.update(f"{message} ...")
        self.status.start()

    def _close(self) -> None:
        if self.current is not None:
            self.status.stop()
            console.print(f"  [green]✓[/] {self.current} [dim]({time.perf_counter() - self.started:.1f} s)[/]")
            self.current = None

    def done(self) -> float:
        self._close()
        return time.perf_counter() - self.t0


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
        gap = "-" if r["mip_gap"] != r["mip_gap"] else f"{r['mip_gap']:.1e}"
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


def _run_methods(case: Case, methods: list[str], out: Path, *, subfolders: bool, evaluate: bool = True) -> None:
    from lvbalance.pipeline import comparison_table, evaluate_and_report, plan_and_write
    from lvbalance.profiles import build_profiles

    steps = _Steps()
    steps("pseudo profiles and scenarios")
    profiles = build_profiles(case)
    results = plan_and_write(case, methods, out, profiles=profiles, progress=steps, subfolders=subfolders)
    report = evaluate_and_report(case, results, profiles, out, ac=evaluate, out_of_sample_days=evaluate, progress=steps)
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
        if r.why is not None:
            console.print(f"  {mid}: {r.why.text} [dim]({r.why.time_s:.1f} s)[/]", highlight=False)
    _print_evaluation(out)
    console.print(f"[green]done[/] in {elapsed:.1f} s; outputs in {out.resolve()}")
    console.print(f"report: [bold]{report.resolve()}[/]")


def _print_evaluation(out: Path) -> None:
    import pandas as pd

    for name, title in (("ac_check.csv", "AC power-flow check"), ("out_of_sample.csv", "Out-of-sample (held-out days)")):
        path = out / name
        if not path.is_file():
            continue
        df = pd.read_csv(path, index_col=0)
        t = Table(title=title, title_justify="left")
        t.add_column(df.index.name or "")
        for c in df.columns:
            t.add_column(str(c), justify="right")
        for idx, row in df.iterrows():
            t.add_row(str(idx), *(f"{v:,.3f}" if isinstance(v, float) else str(v) for v in row))
        console.print(t)


@app.command()
@_friendly_errors
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    evaluate: Annotated[bool, typer.Option(help="AC power-flow check and out-of-sample evaluation.")] = True,
) -> None:
    """Run the main job on the embedded default case (Schutterwald area 1): all methods, evaluation, report."""
    from lvbalance.data import default_case_path
    from lvbalance.model.methods import METHODS

    path = default_case_path()
    console.print(f"default case: {path}")
    case = _load(path)
    print_case_summary(case)
    _run_methods(case, list(METHODS), out, subfolders=True, evaluate=evaluate)


@app.command()
@_friendly_errors
def plan(
    case_dir: Annotated[Path, typer.Argument(help="Case directory.")],
    method: Annotated[str, typer.Option("--method", "-m", help="baseline, m1, m2, m3 or v2g_only.")] = "m1",
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
    evaluate: Annotated[bool, typer.Option(help="AC power-flow check and out-of-sample evaluation.")] = True,
) -> None:
    """Plan one case with one method."""
    from lvbalance.model.methods import get_method

    get_method(method)
    _run_methods(_load(case_dir), [method], out, subfolders=False, evaluate=evaluate)


@app.command()
@_friendly_errors
def compare(
    case_dir: Annotated[Path, typer.Argument(help="Case directory.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (one sub-folder per method).")] = Path("out"),
    evaluate: Annotated[bool, typer.Option(help="AC power-flow check and out-of-sample evaluation.")] = True,
) -> None:
    """Plan one case with every method and compare them (the paper's Table 2)."""
    from lvbalance.model.methods import METHODS

    _run_methods(_load(case_dir), list(METHODS), out, subfolders=True, evaluate=evaluate)


@app.command()
@_friendly_errors
def profiles(
    case_dir: Annotated[Path, typer.Argument(help="Case directory.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out"),
) -> None:
    """Pseudo profiles and scenarios only: scenarios.csv, profiles.csv and figures."""
    from lvbalance.profiles import build_profiles, write_profiles

    case = _load(case_dir)
    steps = _Steps()
    steps("pseudo profiles and scenarios")
    result = build_profiles(case)
    write_profiles(result, out)
    steps("figures")
    try:
        from lvbalance.report.fig_profiles import write_profile_figures

        write_profile_figures(case, result, out)
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
@_friendly_errors
def check(
    case_dir: Annotated[Path, typer.Argument(help="Case directory.")],
    out: Annotated[Path, typer.Argument(help="Output folder of a plan (plan.json, schedules.csv, ...).")],
) -> None:
    """Re-check a written plan independently of the model (exit 1 on any violation)."""
    from lvbalance.evaluate import check_outputs

    case = _load(case_dir)
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


@import_app.command("pandapower")
@_friendly_errors
def import_pandapower(
    net_file: Annotated[Path, typer.Argument(help="pandapower net (.json).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Case directory to create (--split-areas: folder of one per area).")],
    name: Annotated[str | None, typer.Option(help="Case name (default: file stem).")] = None,
    split_areas: Annotated[bool, typer.Option("--split-areas", help="One case per LV transformer area: OUT/<area>/.")] = False,
    streets: Annotated[
        Path | None, typer.Option(help="Streets: GeoJSON, OSM XML (.osm) or OSM PBF (.pbf, needs pyrosm); default: the net's line routes.")
    ] = None,
    customers: Annotated[
        Path | None,
        typer.Option(
            help="CSV overriding customers: customer_id or load, and any of type, annual_kwh, metered, charge_kw, discharge_kw, v2g."
        ),
    ] = None,
    meters: Annotated[Path | None, typer.Option(help="Meter export (CSV or parquet: customer_id, timestamp, p_kw).")] = None,
    start: Annotated[
        str | None,
        typer.Option(help="Time of pandapower time step 0 [default: 2024-01-01 00:00, or the first time of a SimBench profiles table]."),
    ] = None,
    step_minutes: Annotated[int, typer.Option(help="Length of a pandapower time step [min].")] = 15,
    crs: Annotated[
        str | None, typer.Option(help="Projected CRS of the case (default: local UTM zone; required if the net is not lon/lat).")
    ] = None,
) -> None:
    """Convert a radial LV pandapower net (or each of its transformer areas) into case directories."""
    from lvbalance.io import areas as ar
    from lvbalance.io.pp_net import read_pandapower_json

    t0 = time.perf_counter()
    net = read_pandapower_json(net_file)
    options = ar.import_options(net, crs=crs, streets=streets, customers=customers, meters=meters, start=start, step_minutes=step_minutes)
    with console.status(f"importing {net_file}"):
        results = ar.import_pandapower_net(net, name=name or net_file.stem, split=split_areas, options=options)
    if not split_areas:
        (result,) = results
        if not result.ok or result.case is None:
            raise CaseError(result.problems, source=str(net_file))
        from lvbalance.io import write_case

        write_case(result.case, out)
        console.print(f"[green]wrote[/] {out}")
        print_case_summary(result.case)
        return
    results = ar.write_areas(results, out)
    _print_areas(results, out)
    failed = [r for r in results if not r.ok]
    console.print(f"{len(results) - len(failed)} of {len(results)} area(s) written to {out} in {time.perf_counter() - t0:.1f} s")
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


def _print_areas(results: list[AreaResult], out: Path) -> None:
    """One row per area: written or failed, customers by type, feeders, problems."""
    import pandas as pd
    from rich.markup import escape

    from lvbalance.io.areas import area_table

    df = area_table(results)
    t = Table(title=f"Transformer areas -> {out}", title_justify="left")
    for col in df.columns:
        t.add_column(col, justify="right" if df[col].dtype.kind in "iu" else "left", overflow="fold")
    for _, row in df.iterrows():
        t.add_row(*("" if v is pd.NA else "[red]failed[/]" if v == "failed" else escape(str(v)) for v in row))
    console.print(t)


@import_app.command("simbench")
@_friendly_errors
def import_simbench(
    code: Annotated[str, typer.Argument(help="SimBench code, e.g. 1-LV-rural1--0-sw.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Case directory to create.")],
    meter_share: Annotated[float, typer.Option(help="Share of customers with a smart meter.")] = 0.4,
    seed: Annotated[int, typer.Option(help="Seed of the random choices.")] = 0,
    v2g_share: Annotated[float, typer.Option(help="Share of the charging points with V2G (seeded choice; 1: all).")] = 1.0,
) -> None:
    """Convert a SimBench LV grid (needs the optional `simbench` package) into a case directory.

    Charging points become ev customers, heat pumps heat_pump customers; storage units are
    not modelled (a warning names them).
    """
    from lvbalance.case import check_case
    from lvbalance.io import write_case
    from lvbalance.io.simbench import case_from_simbench

    with console.status(f"loading SimBench {code}"):
        case = check_case(case_from_simbench(code, meter_share=meter_share, seed=seed, v2g_share=v2g_share))
    write_case(case, out)
    console.print(f"[green]wrote[/] {out}")
    print_case_summary(case)


@app.command("params")
def params_command(
    section: Annotated[str | None, typer.Argument(help="Only the options under this key, e.g. 'solver' or 'profiles.cleaning'.")] = None,
) -> None:
    """Every option of case.toml's [params] table: key, type, default and meaning (with its unit)."""
    from rich.markup import escape

    from lvbalance.params import describe

    rows = [r for r in describe() if section is None or r["key"].startswith(section.rstrip(".") + ".")]
    if not rows:
        err_console.print(f"[bold red]error:[/] no option under {section!r}")
        raise typer.Exit(EXIT_BAD_INPUT)
    t = Table(title=escape("Parameters ([params] of case.toml; defaults of MODEL.md §9)"), title_justify="left")
    for col in ("key", "type", "default", "description [unit]"):
        t.add_column(escape(col), overflow="fold")
    for r in rows:
        t.add_row(*(escape(r[k]) for k in ("key", "type", "default", "description")))
    console.print(t)


if __name__ == "__main__":  # pragma: no cover
    app()
