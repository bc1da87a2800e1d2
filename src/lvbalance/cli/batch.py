"""``lvbalance batch``: many transformer areas at once on Dask, ``city.csv`` and ``city_report.html``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from lvbalance.cli.common import EXIT_BAD_INPUT, app, console, err_console, friendly_errors

if TYPE_CHECKING:
    from distributed import Client

    from lvbalance.batch.area import AreaJob, AreaOutcome

#: Exit code when an area failed for another reason than bad input.
EXIT_FAILED = 1


def exit_code(outcomes: list[AreaOutcome]) -> int:
    """0 if every area was planned (or is unchanged), 2 if some input was bad, 1 otherwise."""
    from lvbalance.batch.area import AreaStatus

    if all(o.done for o in outcomes):
        return 0
    return EXIT_BAD_INPUT if any(o.status == AreaStatus.BAD_INPUT for o in outcomes) else EXIT_FAILED


def _check_out(out: Path, case_dirs: list[Path]) -> Path:
    root = out.resolve()
    for case in case_dirs:
        if root == case or case in root.parents:
            raise ValueError(f"the output folder {out} is inside the case directory {case}; write outputs elsewhere")
    root.mkdir(parents=True, exist_ok=True)
    return root


@app.command()
@friendly_errors
def batch(
    case_dirs: Annotated[
        list[Path],
        typer.Argument(help="Case directories, or folders of them (from `import pandapower --split-areas`).", show_default=False),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output folder: OUT/<area>/ as `compare` writes it, city.csv, city_report.html.")
    ],
    methods: Annotated[str, typer.Option(help="Methods, comma-separated (baseline is always planned too).")] = "m1,m2",
    workers: Annotated[int | None, typer.Option(help="Worker processes of the local cluster (default: one per core).", min=1)] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of a running Dask scheduler, e.g. tcp://host:8786, instead of a local cluster.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Plan every area again, even those whose outputs are current.")] = False,
    evaluate: Annotated[bool, typer.Option(help="AC power-flow check and out-of-sample evaluation of every area.")] = True,
    budget: Annotated[
        float | None,
        typer.Option(
            "--budget",
            metavar="AMOUNT",
            help="Each method with moves: the least expected imbalance at a cost of at most AMOUNT (currency).",
        ),
    ] = None,
) -> None:
    """Plan many transformer areas at once on Dask, one task an area, and summarise the town.

    Inputs travel as paths: the case directories and OUT must be on a file system that this
    machine and every worker share. A rerun skips areas whose outputs are current (same inputs
    and options); --force plans them again. Exit code 0 if every area was planned, 2 if some
    input was bad, 1 if an area failed otherwise.
    """
    from lvbalance.batch.area import with_baseline
    from lvbalance.batch.city import city_table, write_city_csv
    from lvbalance.batch.city_report import write_city_report
    from lvbalance.batch.cluster import check_shared_folder, open_client, worker_count
    from lvbalance.batch.run import collect_areas, make_jobs
    from lvbalance.model.methods import get_method

    chosen = [m.strip() for m in methods.split(",") if m.strip()]
    for m in chosen:
        get_method(m)
    if workers is not None and scheduler is not None:
        raise ValueError("give --workers (a local cluster) or --scheduler (an existing cluster), not both")
    areas = collect_areas(case_dirs)
    if not areas.names:
        raise ValueError("no areas given")
    root = _check_out(out, list(areas.case_dirs.values()))
    if budget is not None:
        from lvbalance.evaluate.tradeoff import check_selection

        check_selection(budget, None)
    jobs = make_jobs(areas, root, chosen, evaluate=evaluate, force=force, budget=budget)
    console.print(
        f"{len(areas.names)} area(s) ({len(areas.known_bad)} failed at import), methods {', '.join(with_baseline(tuple(chosen)))}, "
        f"evaluation {'on' if evaluate else 'off'} -> {root}"
    )
    if not logging.getLogger().isEnabledFor(logging.INFO):  # without --verbose: Dask's own start/stop messages left out
        logging.getLogger("distributed").setLevel(logging.ERROR)
    try:
        with open_client(workers=workers, scheduler=scheduler) as client:
            check_shared_folder(client, root)
            address = client.scheduler_info().get("address", scheduler or "local")
            console.print(f"Dask: {worker_count(client)} worker(s) at {address}; dashboard: {client.dashboard_link}")
            outcomes = _run_with_progress(client, jobs)
    except ConnectionError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_FAILED) from None
    outcomes += areas.known_bad
    table = city_table(outcomes, root, chosen)
    city_csv = write_city_csv(table, root)
    report = write_city_report(table, root, [m for m in chosen if m != "baseline"])
    _print_summary(outcomes)
    console.print(f"city table: {city_csv}\ntown report: [bold]{report}[/]")
    code = exit_code(outcomes)
    if code:
        raise typer.Exit(code)


def _run_with_progress(client: Client, jobs: list[AreaJob]) -> list[AreaOutcome]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from lvbalance.batch.run import run_batch

    columns = (
        SpinnerColumn(),
        TextColumn("areas"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("done, [red]{task.fields[failed]} failed[/], {task.fields[running]} running"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("areas", total=len(jobs), failed=0, running=0)
        failed = 0

        def on_outcome(o: AreaOutcome) -> None:
            nonlocal failed
            if not o.done:
                failed += 1
                progress.console.print(f"  [red]{o.status}[/] {escape(o.area)}: {escape(o.error)}", highlight=False, soft_wrap=True)
            progress.update(task, advance=1, failed=failed)

        outcomes = run_batch(client, jobs, on_outcome=on_outcome, on_tick=lambda n: progress.update(task, running=n))
        progress.update(task, running=0)
        return outcomes


def _print_summary(outcomes: list[AreaOutcome]) -> None:
    from collections import Counter

    counts = Counter(str(o.status) for o in outcomes)
    console.print("areas: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    bad = [o for o in outcomes if not o.done]
    if not bad:
        return
    t = Table(title=f"Failed areas ({len(bad)})", title_justify="left")
    t.add_column("area")
    t.add_column("status")
    t.add_column("error", overflow="fold")
    for o in bad:
        t.add_row(escape(o.area), str(o.status), escape(o.error))
    console.print(t)
