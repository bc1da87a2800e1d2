"""An LP that falls apart by scenario, solved scenario by scenario (side by side).

Once the plan is fixed (MODEL.md §5: stage 2 is per scenario), every variable without a
scenario dimension (``u`` and what the plan alone sets) is known, and what is left of the
model is one independent LP per scenario. :func:`solve_by_scenario` takes the linopy model's
matrices, fixes the columns without a scenario at the values the rows of the plan give them
(moving them to the right-hand side), checks that every remaining row lies within one scenario,
and solves the blocks as separate HiGHS models in ``threads`` Python threads (HiGHS releases the
interpreter lock; each block is its own instance and results are stored by scenario, so the
outcome does not depend on which finishes first). The solution is written back into the model's
variables. :func:`scenario_lps` cuts the same blocks out with the shared columns kept as columns:
the Benders subproblems (:mod:`lvbalance.model.benders`).

The interior-point method's work grows faster than linearly with the size of the LP it
factors, and its crossover with the degeneracy of the whole: blocks are cheaper to solve one by
one than all at once (``benchmarks/bench_smooth.py``: about 3 times on the default case).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import highspy
import linopy
import numpy as np
import pandas as pd
import scipy.sparse as sp
import xarray as xr

from lvbalance.dims import SCENARIO

HighsValue = bool | int | float | str
"""A HiGHS option's value."""


LP_OPTIONS: dict[str, HighsValue] = {"solver": "ipm", "run_crossover": "on", "random_seed": 0, "threads": 1}
"""HiGHS options of each block: stage 2 is highly degenerate; the interior point with crossover
(a basic solution) is several times faster on it than the dual simplex (``benchmarks/bench_model.py``)."""


def serial_highs() -> None:
    """Make HiGHS's process-wide thread scheduler serial before HiGHS instances run side by side in
    Python threads: a scheduler left with more workers by an earlier solve (``solver.threads``)
    competes with those threads for the cores (m3's Benders on the default case: 87 s after a
    serial start, 118 s after a 2-thread solve). Call it before the first of them runs; each of
    them sets ``threads = 1``."""
    highspy.Highs.resetGlobalScheduler(True)


class NotSeparableError(ValueError):
    """The model does not fall apart by scenario (a row spans two of them)."""


@dataclass(frozen=True)
class BlockSolve:
    """What :func:`solve_by_scenario` did."""

    blocks: int
    """scenarios solved"""
    rows: int
    """rows over all blocks (rows of the fixed columns only are left out)"""
    columns: int
    time_s: float


def column_positions(m: linopy.Model, labels: np.ndarray | xr.DataArray) -> np.ndarray:
    """Positions of variable ``labels`` among the model's columns: the order of
    ``m.matrices.vlabels`` and of ``linopy.io.to_highspy`` (without building the matrices,
    which linopy does afresh on every access of ``m.matrices``)."""
    vlabels = m.variables.label_index.vlabels
    return pd.Series(np.arange(len(vlabels)), index=vlabels).loc[np.ravel(labels)].to_numpy(dtype=np.int32)


def objective_constant(m: linopy.Model) -> float:
    """The constant term of the objective (linopy does not pass it to HiGHS)."""
    return float(np.sum(np.asarray(getattr(m.objective.expression, "const", 0.0))))


def scenario_of_labels(m: linopy.Model, scenarios: pd.Index) -> np.ndarray:
    """Position in ``scenarios`` of each variable label's scenario (-1: no scenario dimension)."""
    n_labels = max((int(v.labels.max()) for v in m.variables.data.values() if v.labels.size), default=-1) + 1
    scenario_of = np.full(n_labels, -1)
    for var in m.variables.data.values():
        if SCENARIO not in var.labels.dims:
            continue
        labels, pos = xr.broadcast(var.labels, xr.DataArray(np.arange(var.labels.sizes[SCENARIO]), dims=SCENARIO))
        keep = labels.values >= 0
        order = scenarios.get_indexer(var.labels.indexes[SCENARIO])
        scenario_of[labels.values[keep]] = order[pos.values[keep]]
    return scenario_of


class _Split:
    """The matrices of ``m`` with each column's and each row's scenario (-1: none)."""

    def __init__(self, m: linopy.Model, scenarios: pd.Index) -> None:
        M = m.matrices
        if not np.all(M.var_scaling == 1.0) or m.objective.scaling != 1 or M.indicator_A is not None and M.indicator_A.shape[0]:
            raise NotSeparableError("scaled or indicator constraints")
        if M.A is None:
            raise NotSeparableError("no constraints")
        self.M = M
        self.A = sp.csr_array(M.A)
        self.b = np.asarray(M.b, dtype=float)
        self.sense = np.asarray(M.sense)
        self.c = np.asarray(M.c, dtype=float)
        self.block = scenario_of_labels(m, scenarios)[M.vlabels]
        """each column's scenario"""
        self.shared = self.block < 0
        own = sp.csr_array(self.A[:, np.flatnonzero(~self.shared)])
        # a row's scenario: every entry of a row must lie in one (CSR: a row's entries are contiguous)
        nz = np.diff(own.indptr) > 0
        entry_block = self.block[~self.shared][own.indices]
        starts = own.indptr[:-1][nz]
        self.row_block = np.full(own.shape[0], -1)
        """each row's scenario (-1: a row of shared columns only)"""
        if len(starts):
            first, last = np.minimum.reduceat(entry_block, starts), np.maximum.reduceat(entry_block, starts)
            if np.any(first != last):
                raise NotSeparableError(f"{int(np.sum(first != last))} row(s) span two scenarios")
            self.row_block[nz] = first


@dataclass(frozen=True)
class ScenarioLp:
    """One scenario's LP: its own columns and rows, with the shared columns kept as columns."""

    lp: highspy.HighsLp
    columns: np.ndarray
    """positions (in the model's ``matrices.vlabels``) of the LP's columns, ascending"""


def scenario_lps(m: linopy.Model, scenarios: pd.Index, *, without: tuple[str, ...] = ()) -> list[ScenarioLp]:
    """One LP per scenario of ``m``: the scenario's columns and every column without a scenario,
    the rows of the scenario and the rows of shared columns alone, less the constraints named in
    ``without``; costs as in ``m`` (so a scenario's share of the objective, weighted as in ``m``).
    Integrality is dropped. Raises :class:`NotSeparableError` when a row spans two scenarios."""
    split = _Split(m, scenarios)
    M = split.M
    dropped = np.zeros(len(M.clabels), dtype=bool)
    for name in without:
        if name in m.constraints:
            labels = m.constraints[name].labels.values.ravel()
            dropped |= np.isin(M.clabels, labels[labels >= 0])
    common_rows = (split.row_block < 0) & ~dropped
    out = []
    for k in range(len(scenarios)):
        cols = np.flatnonzero(split.shared | (split.block == k))
        rows = np.flatnonzero(((split.row_block == k) & ~dropped) | common_rows)
        lp = _lp(split.A[rows][:, cols], split.b[rows], split.sense[rows], split.c[cols], M.lb[cols], M.ub[cols])
        out.append(ScenarioLp(lp, cols))
    return out


def solve_by_scenario(
    m: linopy.Model,
    scenarios: pd.Index,
    *,
    options: dict[str, HighsValue],
    threads: int,
    integers_fixed: bool = False,
    use_current: bool = False,
    fixed_tol: float = 1e-6,
) -> BlockSolve:
    """Solve ``m`` block by block (module docstring), write its solution and objective into ``m``.

    The columns without a scenario must be known: set by equality rows of such columns alone
    (``u == plan``, then what is defined from ``u``), found by propagation, or, with
    ``use_current``, the values ``m`` holds from its last solve. Columns of a block must be
    continuous unless ``integers_fixed`` (the caller has fixed them by rows). Raises
    :class:`NotSeparableError` when any of this fails, a row spans two scenarios or a row of the
    known columns alone is violated; :class:`RuntimeError` when a block does not end optimal.
    """
    t0 = time.perf_counter()
    split = _Split(m, scenarios)
    M, shared = split.M, split.shared
    if not integers_fixed and np.any(np.isin(M.vtypes[~shared], ["B", "I", "S"])):
        raise NotSeparableError("integer columns in a scenario")
    x = _current(m, M.vlabels) if use_current else np.full(len(M.vlabels), np.nan)
    x[shared] = _propagate(split.A, split.b, split.sense, shared, x)
    b = split.b - split.A[:, np.flatnonzero(shared)] @ x[shared]
    own_rows = split.row_block >= 0
    _check_fixed_rows(b[~own_rows], split.sense[~own_rows], fixed_tol)
    blocks = [(np.flatnonzero(split.block == k), np.flatnonzero(split.row_block == k)) for k in range(len(scenarios))]
    A, sense, c = split.A, split.sense, split.c

    def solve(k: int) -> np.ndarray:
        cols, rows = blocks[k]
        return _solve_lp(_lp(A[rows][:, cols], b[rows], sense[rows], c[cols], M.lb[cols], M.ub[cols]), options)

    serial_highs()
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(blocks)))) as pool:
        solutions = list(pool.map(solve, range(len(blocks))))
    for (cols, _), sol in zip(blocks, solutions, strict=True):
        x[cols] = sol
    write_solution(m, M.vlabels, x)
    m.objective.set_value(float(c @ x) + objective_constant(m))
    m.status, m.termination_condition = "ok", "optimal"
    return BlockSolve(len(blocks), int(sum(len(r) for _, r in blocks)), int(sum(len(c_) for c_, _ in blocks)), time.perf_counter() - t0)


def _current(m: linopy.Model, vlabels: np.ndarray) -> np.ndarray:
    """The model's current solution, in the order of ``vlabels`` (NaN where a variable has none)."""
    n_labels = int(vlabels.max()) + 1 if len(vlabels) else 0
    by_label = np.full(n_labels, np.nan)
    if m.status != "ok":  # not solved yet: nothing known
        return by_label[vlabels]
    for var in m.variables.data.values():
        if "solution" not in var.data:  # added after the solve
            continue
        labels = var.labels.values.ravel()
        keep = labels >= 0
        by_label[labels[keep]] = np.asarray(var.data["solution"].values, dtype=float).ravel()[keep]
    return by_label[vlabels]


def _propagate(A: sp.csr_array, b: np.ndarray, sense: np.ndarray, shared: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Values of the ``shared`` columns: those of ``x``, and the rest from equality rows of shared
    columns alone with one unknown left (repeated until nothing changes). Raises
    :class:`NotSeparableError` when some stay unknown."""
    cols = np.flatnonzero(shared)
    S = sp.csr_array(A[:, cols])
    value = x[cols].copy()
    only_shared = np.diff(S.indptr) == np.diff(A.indptr)
    rows = np.flatnonzero(only_shared & (sense == "=") & (np.diff(S.indptr) > 0))
    E = sp.csr_array(S[rows])
    while np.isnan(value).any():
        unknown = np.isnan(value)
        n_unknown = E @ unknown.astype(float) if E.nnz else np.zeros(len(rows))
        solvable = np.flatnonzero(n_unknown == 1)
        if not len(solvable):
            raise NotSeparableError(f"{int(unknown.sum())} column(s) without a scenario are not fixed")
        known = np.where(unknown, 0.0, value)
        rest = E @ known
        for r in solvable:  # one unknown each: a x_j = b - (known part)
            lo, hi = E.indptr[r], E.indptr[r + 1]
            j = E.indices[lo:hi][unknown[E.indices[lo:hi]]][0]
            a = E.data[lo:hi][E.indices[lo:hi] == j][0]
            value[j] = (b[rows[r]] - rest[r]) / a
    return value


def _check_fixed_rows(b: np.ndarray, sense: np.ndarray, tol: float) -> None:
    """Rows of fixed columns only (``0 <sense> b`` after moving them right): they must hold."""
    bad = ((sense == "<") & (b < -tol)) | ((sense == ">") & (b > tol)) | ((sense == "=") & (np.abs(b) > tol))
    if bad.any():
        raise NotSeparableError(f"{int(bad.sum())} row(s) of the fixed columns do not hold")


def _lp(A: sp.csr_array, b: np.ndarray, sense: np.ndarray, c: np.ndarray, lb: np.ndarray, ub: np.ndarray) -> highspy.HighsLp:
    """``min c x`` s.t. ``A x <sense> b``, ``lb <= x <= ub`` as a HiGHS LP."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = c, lb, ub
    lp.row_lower_ = np.where(sense == "<", -highspy.kHighsInf, b)
    lp.row_upper_ = np.where(sense == ">", highspy.kHighsInf, b)
    csc = sp.csc_array(A)
    csc.sort_indices()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = csc.indptr, csc.indices, csc.data
    return lp


def _solve_lp(lp: highspy.HighsLp, options: dict[str, HighsValue]) -> np.ndarray:
    """Solve ``lp`` in a HiGHS instance of its own; its primal solution."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for key, value in options.items():
        h.setOptionValue(key, value)
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"a scenario block ended with {h.modelStatusToString(status)}")
    return np.asarray(h.getSolution().col_value, dtype=float)


def expression_value(expr: linopy.LinearExpression | linopy.QuadraticExpression) -> float:
    """Value of a scalar expression at the model's current solution, its constant included."""
    return float(np.asarray(expr.solution).sum())


def write_solution(m: linopy.Model, vlabels: np.ndarray, x: np.ndarray) -> None:
    """Put the solution ``x`` (in the order of ``vlabels``) into the model's variables."""
    by_label = np.full(int(vlabels.max()) + 1 if len(vlabels) else 0, np.nan)
    by_label[vlabels] = x
    for var in m.variables.data.values():
        labels = var.labels.values
        values = np.where(labels >= 0, by_label[np.maximum(labels, 0)], np.nan)
        var.solution = xr.DataArray(values, coords=var.labels.coords, dims=var.labels.dims)
