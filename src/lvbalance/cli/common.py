"""Shared pieces of the ``lvbalance`` command: the Typer apps, consoles, error handling, progress.

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
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from lvbalance.case import Case, CaseError, MissingPackageError, Problem

app = typer.Typer(help="Street-aware LV load rebalancing with V2G scheduling.", no_args_is_help=True, add_completion=False)
import_app = typer.Typer(help="Import a network as a case directory.", no_args_is_help=True)
app.add_typer(import_app, name="import")

console = Console(width=None if sys.stdout.isatty() else 150)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 150)

EXIT_BAD_INPUT = 2


def friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn input errors into a readable list and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CaseError as exc:
            err_console.print(f"[bold red]{escape(exc.source)}[/] has {len(exc.problems)} problem(s):")
            for p in exc.problems:
                err_console.print(f"  [red]-[/] {escape(str(p))}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except (FileExistsError, FileNotFoundError, ValueError) as exc:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except MissingPackageError as exc:  # an optional package: name the extra that installs it
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except (typer.Exit, typer.Abort):
            raise
        except OSError as exc:  # a file or folder that cannot be read or written (read-only file system, no space ...)
            where = f" {exc.filename}" if exc.filename else ""
            err_console.print(
                f"[bold red]error:[/] cannot read or write{escape(where)}: {escape(exc.strerror or str(exc))}", highlight=False
            )
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except RuntimeError as exc:  # solver trouble, explained by the model layer
            err_console.print(f"[bold red]could not plan:[/] {exc}")
            raise typer.Exit(1) from None

    return wrapper


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details.")] = False) -> None:
    level = logging.INFO if verbose else logging.WARNING
    handler = logging.StreamHandler()
    handler.setLevel(level)  # what a step's progress line listens to (Steps) is printed only with -v
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", handlers=[handler])


def load_case(case_dir: Path) -> Case:
    """Read and validate a case directory; its warnings are printed."""
    return load_case_strictly(case_dir, strict=False)


def load_case_strictly(case_dir: Path, *, strict: bool) -> Case:
    """Read and validate a case directory and print its warnings; with ``strict`` they are errors."""
    from lvbalance.io.casedir import read_case_checked

    with console.status(f"reading {case_dir}"):
        case, warnings = read_case_checked(case_dir)
    if strict and warnings:
        raise CaseError(
            [Problem(w.file, w.element, f"{w.message} [warning; an error with --strict]") for w in warnings], source=str(case_dir)
        )
    if warnings:
        err_console.print(f"[bold yellow]{escape(str(case_dir))}[/] has {len(warnings)} warning(s):")
        for w in warnings:
            err_console.print(f"  [yellow]-[/] {escape(str(w))}", highlight=False, soft_wrap=True)
    return case


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


PROGRESS_LOGGERS = ("lvbalance.model.benders",)
"""Loggers whose INFO messages show on the running step's line: one per Benders iteration, with
its bounds and gap (a solve can take a minute)."""


class Steps:
    """Progress of a long job: one line per step with its duration; while a step runs, its line
    shows the latest message of :data:`PROGRESS_LOGGERS`."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.current: str | None = None
        self.started = 0.0
        self.status = console.status("")
        self._listener = _Listener(self)
        self._levels: dict[str, int] = {}

    def __call__(self, message: str) -> None:
        self._close()
        self.current, self.started = message, time.perf_counter()
        self.status.update(f"{message} ...")
        self.status.start()
        for name in PROGRESS_LOGGERS:
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            logger.setLevel(min(logger.getEffectiveLevel(), logging.INFO))
            logger.addHandler(self._listener)

    def detail(self, text: str) -> None:
        """Show ``text`` after the running step's name."""
        if self.current is not None:
            self.status.update(f"{self.current} ... [dim]{escape(text)}[/]")

    def _close(self) -> None:
        for name, level in self._levels.items():
            logger = logging.getLogger(name)
            logger.removeHandler(self._listener)
            logger.setLevel(level)
        self._levels = {}
        if self.current is not None:
            self.status.stop()
            console.print(f"  [green]✓[/] {self.current} [dim]({time.perf_counter() - self.started:.1f} s)[/]")
            self.current = None

    def done(self) -> float:
        self._close()
        return time.perf_counter() - self.t0


class _Listener(logging.Handler):
    """Passes each message to the running step's line."""

    def __init__(self, steps: Steps) -> None:
        super().__init__(logging.INFO)
        self.steps = steps

    def emit(self, record: logging.LogRecord) -> None:
        self.steps.detail(record.getMessage())
