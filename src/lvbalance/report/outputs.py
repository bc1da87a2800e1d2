"""Read a written output folder back (DESIGN.md, "Outputs"), for figures and the report.

The report shows what the files say: everything it draws comes from these readers and
the case, never from the model objects of the run that wrote them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lvbalance.case import Case
from lvbalance.results import Plan, read_plan

#: Method id whose folder holds the as-built state (no move, uncontrolled charging).
BASELINE = "baseline"


@dataclass(frozen=True, eq=False)
class MethodOutputs:
    """The files one method wrote into ``folder``.

    ``feeder_loads``: ``scenario, step, feeder, p_kw`` [kW], ``load_rate`` [-];
    ``schedules``: ``scenario, step, customer_id, p_uncontrolled_kw, p_scheduled_kw`` [kW];
    ``scenarios``: index ``scenario``, ``probability, day_type, weather`` (file order);
    ``metrics``: the dict of ``metrics.json``.
    """

    method: str
    folder: Path
    plan: Plan
    metrics: dict[str, Any]
    feeder_loads: pd.DataFrame
    schedules: pd.DataFrame
    scenarios: pd.DataFrame

    def profiles(self) -> pd.DataFrame:
        """``profiles.csv``: ``scenario, step, customer_id, p_kw`` [kW] (read on demand: it is large)."""
        return pd.read_csv(self.folder / "profiles.csv", dtype={"customer_id": str, "scenario": str})


def read_method_outputs(folder: str | Path) -> MethodOutputs:
    """Read ``plan.json``, ``metrics.json``, ``feeder_loads.csv``, ``schedules.csv``, ``scenarios.csv``.

    Parameters
    ----------
    folder
        One method's output folder (DESIGN.md, "Outputs").

    Returns
    -------
    MethodOutputs
        The files' contents; the method id is ``plan.json``'s ``method``.
    """
    folder = Path(folder)
    plan = read_plan(folder)
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    loads = pd.read_csv(folder / "feeder_loads.csv", dtype={"scenario": str, "feeder": str})
    schedules = pd.read_csv(folder / "schedules.csv", dtype={"scenario": str, "customer_id": str})
    scenarios = pd.read_csv(folder / "scenarios.csv", dtype={"scenario": str}).set_index("scenario")
    return MethodOutputs(plan.method, folder, plan, metrics, loads, schedules, scenarios)


def read_run(out_dir: str | Path) -> dict[str, MethodOutputs]:
    """Every method written under ``out_dir``, by method id.

    ``out_dir`` is either one method's folder (``lvbalance plan``: ``plan.json`` directly in
    it) or a ``compare`` folder with one sub-folder per method.

    Parameters
    ----------
    out_dir
        The output folder.

    Returns
    -------
    dict of str to MethodOutputs
        By method id: baseline first, then the order of
        :data:`lvbalance.model.methods.METHODS`, then any other by id.

    Raises
    ------
    FileNotFoundError
        When neither ``out_dir`` nor a sub-folder holds a ``plan.json``.
    """
    from lvbalance.model.methods import METHODS

    out = Path(out_dir)
    if (out / "plan.json").is_file():
        folders = [out]
    else:
        folders = sorted(p for p in out.iterdir() if (p / "plan.json").is_file())
    if not folders:
        raise FileNotFoundError(f"no plan.json in {out} or its sub-folders: not an lvbalance output folder")
    runs = {r.method: r for r in map(read_method_outputs, folders)}
    rank = {m: k for k, m in enumerate(METHODS)}
    return dict(sorted(runs.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


def feeder_order(case: Case) -> list[str]:
    """Feeder labels in the case's order (F1, F2, ...).

    Parameters
    ----------
    case
        The case (its feeder outlets).

    Returns
    -------
    list of str
        Feeder labels.
    """
    return list(case.network.feeder_outlets.index)


def as_built_feeder_loads(case: Case, profiles: pd.DataFrame) -> pd.DataFrame:
    """Feeder loads before any move, with uncontrolled charging, from ``profiles.csv`` [kW].

    Sums each customer's ``p_kw`` (ev customers: uncontrolled power) onto its feeder as
    built; ``load_rate`` = ``p_kw`` / outlet rating. Same columns as ``feeder_loads.csv``.

    Parameters
    ----------
    case
        The case (customers' access nodes, feeders as built, outlet ratings [kW]).
    profiles
        ``profiles.csv``: ``scenario, step, customer_id, p_kw`` [kW].

    Returns
    -------
    pandas.DataFrame
        ``scenario, step, feeder, p_kw`` [kW], ``load_rate`` [-]; every (scenario, step,
        feeder), 0 kW where no customer has a value.
    """
    net = case.network
    feeder = case.customers["node_id"].map(net.feeder_of_node)
    p = profiles.assign(feeder=profiles["customer_id"].map(feeder))
    scen = list(dict.fromkeys(profiles["scenario"]))
    loads = p.groupby(["scenario", "step", "feeder"], sort=False)["p_kw"].sum()
    full = pd.MultiIndex.from_product([scen, sorted(p["step"].unique()), feeder_order(case)], names=["scenario", "step", "feeder"])
    out = loads.reindex(full, fill_value=0.0).reset_index()
    out["load_rate"] = out["p_kw"] / out["feeder"].map(net.feeder_rating_kw).to_numpy(float)
    return out


def before_feeder_loads(case: Case, runs: dict[str, MethodOutputs]) -> pd.DataFrame:
    """Feeder loads as built: the baseline folder's ``feeder_loads.csv`` if written, else from ``profiles.csv``.

    Parameters
    ----------
    case
        The case.
    runs
        Every method's files, by method id; without a baseline, the first method's
        ``profiles.csv`` is summed by :func:`as_built_feeder_loads`.

    Returns
    -------
    pandas.DataFrame
        Columns of ``feeder_loads.csv``: ``p_kw`` [kW], ``load_rate`` [-].
    """
    if BASELINE in runs:
        return runs[BASELINE].feeder_loads
    return as_built_feeder_loads(case, next(iter(runs.values())).profiles())


def step_hours(case: Case) -> float:
    """Length of one step [h] (``profiles.step_minutes``).

    Parameters
    ----------
    case
        The case.

    Returns
    -------
    float
        Step length [h].
    """
    return case.params.profiles.step_minutes / 60.0


def hours_since_start(case: Case, step: Any) -> np.ndarray:
    """Start of each step in hours since the horizon start (``profiles.horizon_start_hour``).

    Parameters
    ----------
    case
        The case (step length).
    step
        Step numbers (from 0).

    Returns
    -------
    numpy.ndarray
        Hours since the horizon start [h], float.
    """
    return np.asarray(step, dtype=float) * step_hours(case)
