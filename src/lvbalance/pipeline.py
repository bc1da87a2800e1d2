"""The whole job on one case: profiles -> move options -> each method -> outputs.

Pure composition of the library's functions; the CLI adds progress and printing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lvbalance.case import Case
from lvbalance.evaluate.metrics import compute_metrics
from lvbalance.evaluate.tradeoff import TRADEOFF_NAME, TradeoffFront, check_selection, plan_with_tradeoff, wants_front, write_tradeoff
from lvbalance.evaluate.why import WHY_NAME, NoMoveReason, why_no_move
from lvbalance.io.plan_geojson import write_plan_geojson
from lvbalance.model.methods import METHODS, get_method
from lvbalance.model.run import MethodResult
from lvbalance.powerflow.export import write_net_after
from lvbalance.profiles import ProfileResult, build_profiles, write_profiles
from lvbalance.results import Metrics, Plan, write_csv, write_json, write_results

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class MethodRun:
    """One method's model result and what its plan achieves."""

    result: MethodResult
    metrics: Metrics
    why: NoMoveReason | None = None
    """why the plan moves nothing (methods with moves whose plan moves nothing)"""
    tradeoff: TradeoffFront | None = None
    """the cost-imbalance front, the plan marked on it (methods with moves)"""

    @property
    def plan(self) -> Plan:
        return self.result.plan


def plan_and_write(
    case: Case,
    method_ids: Iterable[str],
    out_dir: str | Path,
    *,
    profiles: ProfileResult | None = None,
    progress: Progress | None = None,
    subfolders: bool = True,
    budget: float | None = None,
    target_imbalance_pct: float | None = None,
) -> dict[str, MethodRun]:
    """Plan ``case`` with each method and write its outputs.

    With ``subfolders`` every method writes into ``out_dir/<method id>`` (``compare``),
    else the single method writes into ``out_dir`` (``plan``). A method with moves whose plan
    moves nothing also writes ``why_no_move.json`` (:func:`lvbalance.evaluate.why.why_no_move`).
    A method with moves writes its cost-imbalance front, ``tradeoff.csv``
    (:mod:`lvbalance.evaluate.tradeoff`; its points' gaps in ``metrics.json`` ``extra``);
    ``budget`` [currency] or ``target_imbalance_pct`` [%] pick its plan on the front instead
    of the case's weight. Every method writes ``plan.geojson``, ``plan_wgs84.geojson`` and
    ``net_after.json`` (the pandapower net after the plan).
    """
    from lvbalance.coupling import build_street_graph, move_options

    check_selection(budget, target_imbalance_pct)
    say = progress or (lambda _msg: None)
    out = Path(out_dir)
    methods = [get_method(m) for m in method_ids]
    if profiles is None:
        say("pseudo profiles and scenarios")
        profiles = build_profiles(case)
    options: dict[bool, pd.DataFrame] = {}
    if any(m.moves for m in methods):
        say("street graph, routes and move options")
        graph = build_street_graph(case)
        for straight in sorted({m.straight_line for m in methods if m.moves}):
            options[straight] = move_options(case, straight_line=straight, graph=graph)
    results: dict[str, MethodRun] = {}
    for m in methods:
        front_too = wants_front(case, m) or m.moves and (budget is not None or target_imbalance_pct is not None)
        say(f"{m.id}: build and solve" + (", cost-imbalance trade-off" if front_too else ""))
        opts = options.get(m.straight_line) if m.moves else None
        res, front = plan_with_tradeoff(case, profiles.scenarios, m, opts, budget=budget, target_pct=target_imbalance_pct)
        why = None
        if m.moves and not res.plan.moves:
            say(f"{m.id}: why no move")
            why = why_no_move(
                case, profiles.scenarios, m, options.get(m.straight_line), res, budget=budget, target_pct=target_imbalance_pct
            )
        metrics = compute_metrics(res)
        if front is not None:
            metrics = dataclasses.replace(metrics, extra={**metrics.extra, "tradeoff": front.to_json()})
        run = MethodRun(res, metrics, why, front)
        target = out / m.id if subfolders else out
        write_profiles(profiles, target)
        write_results(target, res.plan, res.schedules, res.feeder_loads, run.metrics)
        if why is not None:
            write_json(target / WHY_NAME, why.to_json())
        else:
            (target / WHY_NAME).unlink(missing_ok=True)
        if front is not None:
            write_tradeoff(target, front)
        else:
            (target / TRADEOFF_NAME).unlink(missing_ok=True)
        write_plan_geojson(target, case, res.plan)
        write_net_after(target, case, res)
        results[m.id] = run
    if subfolders and len(results) > 1:
        write_csv(out / "comparison.csv", comparison_table(results).reset_index())
    return results


def evaluate_and_report(
    case: Case,
    results: dict[str, MethodRun],
    profiles: ProfileResult,
    out_dir: str | Path,
    *,
    ac: bool = True,
    out_of_sample_days: bool = True,
    progress: Progress | None = None,
) -> Path:
    """AC power-flow check, out-of-sample evaluation, then ``report.html`` (MODEL.md §8).

    Writes ``ac_check.csv`` and ``out_of_sample.csv`` next to the method folders, adds their
    figures to each method's ``metrics.json`` (``extra``), and returns the report's path.
    """
    from lvbalance.evaluate.outofsample import out_of_sample
    from lvbalance.powerflow import ac_before_after
    from lvbalance.report.html import write_report

    say = progress or (lambda _msg: None)
    out = Path(out_dir)
    subfolders = len(results) > 1 or any((out / mid / "plan.json").is_file() for mid in results)  # as plan_and_write wrote them
    extra: dict[str, dict[str, object]] = {mid: dict(run.metrics.extra) for mid, run in results.items()}
    if ac:
        say(f"AC power-flow check ({case.params.powerflow.backend})")
        columns: dict[str, pd.Series] = {}
        before = None  # the network as built with uncontrolled EVs: the same for every method
        for mid, run in results.items():
            if mid == "baseline" and len(results) > 1:
                continue
            checked = ac_before_after(case, run.result, before=before)
            before = checked["before"]
            columns.setdefault("as built", checked["table"]["before"])
            columns[mid] = checked["table"]["after"]
            extra[mid]["ac"] = {"before": checked["before"].to_json(), "after": checked["after"].to_json()}
        write_csv(out / "ac_check.csv", pd.DataFrame(columns).rename_axis("figure").reset_index())
    if out_of_sample_days and len(profiles.heldout_days):
        say(f"out-of-sample: {len(profiles.heldout_days)} held-out days, stage 2 re-optimised")
        table = out_of_sample(case, profiles, {mid: run.result for mid, run in results.items()})
        write_csv(out / "out_of_sample.csv", table.reset_index())
        for mid, row in table.iterrows():
            extra[str(mid)]["out_of_sample"] = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
    for mid, run in results.items():
        metrics = dataclasses.replace(run.metrics, extra=extra[mid])
        write_json((out / mid if subfolders else out) / "metrics.json", metrics.to_json())
    say("report")
    return write_report(case, out)


def comparison_table(results: dict[str, MethodRun]) -> pd.DataFrame:
    """The paper's Table 2, extended: one row per method."""
    rows = {}
    for mid, r in results.items():
        mt = r.metrics
        rows[mid] = {
            "method": METHODS[mid].name,
            "expected_imbalance_before_pct": mt.expected_imbalance_before_pct,
            "expected_imbalance_after_pct": mt.expected_imbalance_after_pct,
            "peak_imbalance_before_pct": mt.peak_imbalance_before_pct,
            "peak_imbalance_after_pct": mt.peak_imbalance_after_pct,
            "cost": mt.total_cost,
            "moved_customers": mt.moved_customers,
            "route_length_m": mt.route_length_m,
            "build_time_s": mt.build_time_s,
            "solve_time_s": mt.solve_time_s,
            "mip_gap": mt.mip_gap,
            "variables": mt.model_size["variables"],
            "binaries": mt.model_size["binaries"],
            "constraints": mt.model_size["constraints"],
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("id")
