"""``lvbalance import``: pandapower nets (whole or split by transformer area) and SimBench grids."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from lvbalance.case import CaseError
from lvbalance.cli.common import EXIT_BAD_INPUT, console, friendly_errors, import_app, print_case_summary

if TYPE_CHECKING:
    from lvbalance.io.areas import AreaResult


@import_app.command("pandapower")
@friendly_errors
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
    _write_area_table(results, out)
    failed = [r for r in results if not r.ok]
    console.print(f"{len(results) - len(failed)} of {len(results)} area(s) written to {out} in {time.perf_counter() - t0:.1f} s")
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


def _write_area_table(results: list[AreaResult], out: Path) -> None:
    """``OUT/areas.csv``: every area with its status and problems (``lvbalance batch`` lists the failed ones)."""
    from lvbalance.io.areas import area_table
    from lvbalance.results import write_csv

    write_csv(out / "areas.csv", area_table(results))


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
@friendly_errors
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
