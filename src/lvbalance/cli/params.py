"""``lvbalance params``: every option of case.toml's [params] table."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from lvbalance.cli.common import EXIT_BAD_INPUT, app, console, err_console


@app.command("params")
def params_command(
    section: Annotated[str | None, typer.Argument(help="Only the options under this key, e.g. 'solver' or 'profiles.cleaning'.")] = None,
) -> None:
    """Every option of the params table of case.toml: key, type, default and meaning (with its unit)."""
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
