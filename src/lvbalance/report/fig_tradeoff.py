"""The cost-imbalance trade-off (issue 11, item 1): plan cost against expected imbalance.

Each method with moves may write ``tradeoff.csv`` into its folder: one row per plan of its
Pareto front, ``budget, cost, expected_imbalance_pct, peak_imbalance_pct, moved_customers,
moves, chosen`` (``chosen``: the point the run's plan is). :func:`tradeoff_data` reads them
and adds what each further point of imbalance costs (the slope to the next point);
:func:`plot_tradeoff` draws cost against ``E[I]``, each point labelled with its moves and
the chosen point ringed; :func:`marginal_cost_text` says it in words.
"""

from __future__ import annotations

import logging
import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lvbalance.report.outputs import MethodOutputs
from lvbalance.report.style import METHOD_COLOURS, method_label

log = logging.getLogger(__name__)

#: File of a method's Pareto front, in its output folder.
TRADEOFF_NAME = "tradeoff.csv"

#: Columns ``tradeoff.csv`` must hold (``chosen`` may be missing: then no point is marked).
TRADEOFF_COLUMNS = ("budget", "cost", "expected_imbalance_pct", "peak_imbalance_pct", "moved_customers", "moves")


def read_tradeoff(outputs: MethodOutputs) -> pd.DataFrame | None:
    """One method's ``tradeoff.csv``, by rising cost; None when absent or unreadable (logged).

    Parameters
    ----------
    outputs
        One method's files.

    Returns
    -------
    pandas.DataFrame or None
        Columns of :data:`TRADEOFF_COLUMNS` and ``chosen`` (bool); ``moves`` as text ('' for
        the plan without a move); sorted by ``cost`` [currency], then falling ``E[I]`` [%].
    """
    path = outputs.folder / TRADEOFF_NAME
    if not path.is_file():
        return None
    try:
        df = pd.read_csv(path, dtype={"moves": str}, keep_default_na=False, na_values={"budget": [""], "cost": [""]})
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        log.warning("could not read %s (%s): no trade-off curve for %s", path, exc, outputs.method)
        return None
    missing = [c for c in TRADEOFF_COLUMNS if c not in df.columns]
    if missing or df.empty:
        log.warning("%s: %s; no trade-off curve for %s", path, f"missing columns {missing}" if missing else "no rows", outputs.method)
        return None
    chosen = df["chosen"] if "chosen" in df.columns else pd.Series(False, index=df.index)
    df["chosen"] = chosen.map(lambda v: str(v).strip().lower() in ("true", "1", "yes"))
    df["moves"] = df["moves"].fillna("").astype(str).str.strip()
    for c in ("budget", "cost", "expected_imbalance_pct", "peak_imbalance_pct", "moved_customers"):
        df[c] = pd.to_numeric(df[c], errors="coerce")
    return df.sort_values(["cost", "expected_imbalance_pct"], ascending=[True, False], kind="stable").reset_index(drop=True)


def tradeoff_data(runs: dict[str, MethodOutputs]) -> pd.DataFrame:
    """Every method's ``tradeoff.csv`` in one table, with the cost of each further point of ``E[I]``.

    Parameters
    ----------
    runs
        Every method's files, by method id (:func:`lvbalance.report.outputs.read_run`).

    Returns
    -------
    pandas.DataFrame
        ``method``, the columns of :func:`read_tradeoff`, and ``cost_per_point_to_next``: from
        this point to the next cheaper-in-imbalance one of the same method, the extra cost per
        point of ``E[I]`` cut [currency/%] (NaN at the last point). Empty when no method wrote
        a curve.
    """
    frames = []
    for m, r in runs.items():
        df = read_tradeoff(r)
        if df is None:
            continue
        dcost = df["cost"].shift(-1) - df["cost"]
        dcut = df["expected_imbalance_pct"] - df["expected_imbalance_pct"].shift(-1)
        df["cost_per_point_to_next"] = (dcost / dcut).where(dcut > 0)
        df.insert(0, "method", m)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["method", *TRADEOFF_COLUMNS, "chosen", "cost_per_point_to_next"])
    return pd.concat(frames, ignore_index=True)


#: What separates the moves of a point in ``tradeoff.csv``'s ``moves`` text.
MOVE_SEPARATOR = ";"

#: ``moves`` text of the plan without moves.
NO_MOVE = "no move"


def point_label(row: pd.Series, width: int = 28) -> str:
    """A point's label: its moves (wrapped to ``width`` characters), or 'no move'."""
    moves = str(row["moves"]).strip()
    if not moves or moves == NO_MOVE:
        return NO_MOVE
    return "\n".join(textwrap.wrap(moves, width=width, max_lines=3, placeholder=" …"))


def move_items(moves: str) -> list[str]:
    """The moves of a ``moves`` text, one item each ('' and 'no move': none)."""
    text = str(moves).strip()
    if not text or text == NO_MOVE:
        return []
    return [m.strip() for m in text.split(MOVE_SEPARATOR) if m.strip()]


def delta_labels(moves: list[str], width: int = 34) -> list[str]:
    """Short labels along a curve: the first point's moves, then what each point adds (``+``) and drops (``−``).

    A point that shares nothing with the one before is labelled with all its moves.
    """
    out = []
    prev: list[str] = []
    for k, text in enumerate(moves):
        cur = move_items(text)
        if not cur:
            out.append(NO_MOVE)
        elif k == 0 or not set(prev) & set(cur):
            out.append("\n".join(cur))
        else:
            added = [f"+ {m}" for m in cur if m not in prev]
            dropped = [f"− {m}" for m in prev if m not in cur]
            out.append("\n".join(added + dropped) or "same moves")
        prev = cur
    return ["\n".join(textwrap.shorten(line, width=width, placeholder="…") for line in lab.split("\n")[:4]) for lab in out]


def plot_tradeoff(data: pd.DataFrame, *, currency: str = "currency") -> Figure:
    """Plan cost against expected imbalance: one panel per method on shared axes, each point labelled.

    Each point is labelled with its moves (after the first: the moves it adds, ``+``, and
    drops, ``−``, against the point before), each segment with what a further point of
    ``E[I]`` costs along it, and the chosen point is ringed.

    Parameters
    ----------
    data
        From :func:`tradeoff_data` (not empty).
    currency
        Unit of cost on the axis.

    Returns
    -------
    matplotlib.figure.Figure
        ``E[I]`` [%] on x (falling to the right: more cut), cost on y.
    """
    methods = list(dict.fromkeys(data["method"]))
    ncol = min(len(methods), 3)
    nrow = -(-len(methods) // ncol)
    panel_w = 4.4 if ncol > 1 else 6.4  # one method: a wider panel, room for its labels
    width = panel_w * ncol + 0.6
    fig = Figure(figsize=(width, 4.6 * nrow + 0.3), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrow, ncol, sharex=True, sharey=True, squeeze=False)).ravel()
    for ax in axes[len(methods) :]:
        ax.set_visible(False)
    for k, (ax, m) in enumerate(zip(axes, methods)):
        d = data[data["method"] == m].reset_index(drop=True)
        colour = METHOD_COLOURS.get(m, f"C{k}")
        x, y = d["expected_imbalance_pct"].to_numpy(float), d["cost"].to_numpy(float)
        ax.plot(x, y, "-o", color=colour, ms=5, lw=1.8)
        for j, lab in enumerate(delta_labels(list(d["moves"]))):
            ax.annotate(lab, (x[j], y[j]), xytext=(5, -5), textcoords="offset points", fontsize=7, color="#333", va="top", ha="left")
        for j in range(len(d) - 1):
            slope = d.at[j, "cost_per_point_to_next"]
            if np.isfinite(slope):
                ax.annotate(
                    f"{slope:,.0f}/pt",
                    ((x[j] + x[j + 1]) / 2, (y[j] + y[j + 1]) / 2),
                    xytext=(-4, 4),
                    textcoords="offset points",
                    fontsize=7,
                    color=colour,
                    ha="right",
                    va="bottom",
                    style="italic",
                )
        chosen = d[d["chosen"]]
        if len(chosen):
            ax.scatter(
                chosen["expected_imbalance_pct"], chosen["cost"], s=220, facecolors="none", edgecolors="black", linewidths=2, zorder=5
            )
            ax.annotate(
                "plan of this run",
                (chosen["expected_imbalance_pct"].iloc[0], chosen["cost"].iloc[0]),
                xytext=(-10, 12),
                textcoords="offset points",
                fontsize=8,
                ha="right",
                weight="bold",
            )
        ax.set_title(method_label(m), fontsize=10, color=colour)
        ax.grid(alpha=0.3)
        ax.set_xlabel("expected imbalance E[I] [%]")
    axes[0].invert_xaxis()
    for ax in axes[::ncol]:
        ax.set_ylabel(f"plan cost [{currency}]")
        ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
    lo, hi = float(np.nanmin(data["cost"])), float(np.nanmax(data["cost"]))
    xlo, xhi = float(np.nanmin(data["expected_imbalance_pct"])), float(np.nanmax(data["expected_imbalance_pct"]))
    axes[0].set_ylim(lo - 0.12 * (hi - lo + 1.0), hi + 0.1 * (hi - lo + 1.0))
    axes[0].set_xlim(xhi + 0.05 * (xhi - xlo + 0.1), xlo - 0.25 * (xhi - xlo + 0.1))  # room for labels on the right
    title = "Cost against expected imbalance (less imbalance to the right); italic: cost of each further point"
    fig.suptitle(textwrap.fill(title, width=int(width * 11)), fontsize=11)  # ~11 characters per inch at 11 pt
    return fig


def marginal_cost_text(data: pd.DataFrame, method: str) -> str:
    """What the next point of ``method``'s curve costs, from its chosen point, in words.

    Parameters
    ----------
    data
        From :func:`tradeoff_data`.
    method
        The method id.

    Returns
    -------
    str
        '' when the method has no curve; else a sentence on the chosen point (or the first
        point when none is marked) and the step to the next one [currency per point of E[I]].
    """
    d = data[data["method"] == method].reset_index(drop=True)
    if d.empty:
        return ""
    marked = d.index[d["chosen"]]
    k = int(marked[0]) if len(marked) else 0
    row = d.loc[k]
    where = "The plan of this run" if len(marked) else "The cheapest point"
    text = f"{where} ({point_label(row, 10_000)}) costs {row['cost']:,.0f} for E[I] {row['expected_imbalance_pct']:.2f} %."
    if k + 1 >= len(d) or not np.isfinite(row["cost_per_point_to_next"]):
        return text + " It is the last point of the curve: no plan cuts the expected imbalance further."
    nxt = d.loc[k + 1]
    cut = row["expected_imbalance_pct"] - nxt["expected_imbalance_pct"]
    return text + (
        f" The next point ({point_label(nxt, 10_000)}) cuts E[I] by a further {cut:.2f} points to "
        f"{nxt['expected_imbalance_pct']:.2f} % for {nxt['cost'] - row['cost']:,.0f} more: "
        f"{row['cost_per_point_to_next']:,.0f} per point of imbalance."
    )


def slope_table(data: pd.DataFrame, method: str) -> pd.DataFrame:
    """``method``'s points as text cells, with what each further point of ``E[I]`` costs.

    Parameters
    ----------
    data
        From :func:`tradeoff_data`.
    method
        The method id.

    Returns
    -------
    pandas.DataFrame
        Index ``point`` (from 1); columns with human headers and units.
    """
    d = data[data["method"] == method].reset_index(drop=True)
    rows = []
    for k, r in d.iterrows():
        slope = r["cost_per_point_to_next"]
        rows.append(
            {
                "point": int(k) + 1,
                "plan of this run": "◉" if r["chosen"] else "",
                "moves": r["moves"] or "no move",
                "customers moved": f"{r['moved_customers']:.0f}" if np.isfinite(r["moved_customers"]) else "–",
                "cost [currency]": f"{r['cost']:,.0f}",
                "expected imbalance [%]": f"{r['expected_imbalance_pct']:.2f}",
                "peak imbalance [%]": f"{r['peak_imbalance_pct']:.2f}" if np.isfinite(r["peak_imbalance_pct"]) else "–",
                "cost of each further point to the next [currency/%]": f"{slope:,.0f}" if np.isfinite(slope) else "–",
            }
        )
    return pd.DataFrame(rows).set_index("point") if rows else pd.DataFrame()
