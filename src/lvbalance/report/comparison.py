"""Table 2 of the paper: the methods side by side, from ``comparison.csv`` or each ``metrics.json``.

:func:`comparison_data` reads the numbers, :func:`format_comparison` turns them into the
table's text cells (the report's HTML table) and :func:`plot_comparison_table` draws them
as a figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lvbalance.report.outputs import MethodOutputs
from lvbalance.report.style import method_label

#: Columns of the Table-2 figure: (comparison.csv column(s), header, format).
TABLE_COLUMNS = (
    ("method", "method", "{}"),
    (("expected_imbalance_before_pct", "expected_imbalance_after_pct"), "expected imbalance\nbefore → after [%]", "{:.2f} → {:.2f}"),
    (("peak_imbalance_before_pct", "peak_imbalance_after_pct"), "peak imbalance\nbefore → after [%]", "{:.2f} → {:.2f}"),
    ("moved_customers", "moved\ncustomers", "{:.0f}"),
    ("route_length_m", "new line\n[m]", "{:,.0f}"),
    ("cost", "cost\n[currency]", "{:,.0f}"),
    ("solve_time_s", "solve time\n[s]", "{:.1f}"),
    ("mip_gap", "MIP gap\n[%]", "{:.1%}"),
)


def comparison_data(runs: dict[str, MethodOutputs]) -> pd.DataFrame:
    """Table 2 from the files: ``comparison.csv`` beside the method folders, else each ``metrics.json``.

    Parameters
    ----------
    runs
        Every method's files, by method id (:func:`lvbalance.report.outputs.read_run`).

    Returns
    -------
    pandas.DataFrame
        Index ``id`` (method id, in the order of ``runs``); columns as in ``comparison.csv``:
        imbalances [%], ``moved_customers``, ``route_length_m`` [m], ``cost`` [currency],
        ``build_time_s``, ``solve_time_s`` [s], ``mip_gap`` (a share).
    """
    first = next(iter(runs.values())).folder
    path = first.parent / "comparison.csv"
    if len(runs) > 1 and path.is_file():
        df = pd.read_csv(path, dtype={"id": str}).set_index("id")
        return df.loc[[m for m in runs if m in df.index]]
    rows = {}
    for m, r in runs.items():
        mt = r.metrics
        rows[m] = {
            "method": method_label(m).split(": ", 1)[-1],
            **{
                k: mt[k]
                for k in (
                    "expected_imbalance_before_pct",
                    "expected_imbalance_after_pct",
                    "peak_imbalance_before_pct",
                    "peak_imbalance_after_pct",
                    "moved_customers",
                    "route_length_m",
                    "build_time_s",
                    "solve_time_s",
                    "mip_gap",
                )
            },
            "cost": mt["total_cost"],
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("id")


def format_comparison(data: pd.DataFrame) -> pd.DataFrame:
    """The Table-2 cells as text (headers with units); missing numbers shown as '–'.

    Parameters
    ----------
    data
        From :func:`comparison_data`.

    Returns
    -------
    pandas.DataFrame
        One column per :data:`TABLE_COLUMNS` entry whose source columns are in ``data``
        (header as column name), index ``id``.
    """
    cells = {}
    for spec, header, fmt in TABLE_COLUMNS:
        cols = (spec,) if isinstance(spec, str) else spec
        if not all(c in data.columns for c in cols):
            continue

        def cell(row, cols=cols, fmt=fmt) -> str:
            vals = [row[c] for c in cols]
            if any(isinstance(v, float) and not np.isfinite(v) for v in vals) or any(pd.isna(v) for v in vals):
                return "–"
            return fmt.format(*vals)

        cells[header] = data.apply(cell, axis=1)
    out = pd.DataFrame(cells, index=data.index)
    out.index.name = "id"
    return out


def plot_comparison_table(data: pd.DataFrame) -> Figure:
    """Table 2 as a figure: one row per method, numbers of ``comparison.csv``.

    Parameters
    ----------
    data
        From :func:`comparison_data`.

    Returns
    -------
    matplotlib.figure.Figure
        A table of the cells of :func:`format_comparison`.
    """
    cells = format_comparison(data)
    fig = Figure(figsize=(14, 0.55 * len(cells) + 1.4), layout="constrained")
    ax = fig.subplots()
    ax.axis("off")
    table = ax.table(cellText=cells.reset_index().to_numpy(), colLabels=["id", *cells.columns], loc="center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(10)
    table.auto_set_column_width(list(range(len(cells.columns) + 1)))
    for (row, _col), cell in table.get_celld().items():
        cell.set_height(0.8 / (len(cells) + 1.6) if row else 1.4 / (len(cells) + 1.6))
        if row == 0:
            cell.set_facecolor("#e8e8e8")
            cell.set_text_props(weight="bold")
    ax.set_title("Comparison of the methods (Table 2)", fontsize=12)
    return fig
