"""Batch AC power flow of a pandapower net with power-grid-model (MODEL.md §8).

pandapower stays the network model (:func:`lvbalance.powerflow.net.build_pandapower_net`):
:func:`pgm_input` converts its buses, lines, loads and ext_grid into power-grid-model input
(converted by hand: the nets are radial LV nets with nothing else), and :func:`run_batch`
solves every (scenario, step) of the loads' powers in one batch calculation (Newton-Raphson).

Conversion:

* bus -> ``node`` at ``vn_kv``; ids 0..N-1 in the order of ``net.bus``, so node positions are
  bus positions;
* line -> ``line`` with ``r1 = r_ohm_per_km * length_km / parallel``, ``x1`` likewise,
  ``c1 = c_nf_per_km * 1e-9 * length_km * parallel`` [F], ``tan1 = g / (2 pi f c)`` and
  ``i_n = max_i_ka * df * parallel`` [A] (pandapower's ``loading_percent`` base); out of service:
  both ends open;
* load -> ``sym_load`` of constant power (``scaling`` applied);
* ext_grid -> ``source`` at ``u_ref = vm_pu`` with a short-circuit power of
  :data:`SOURCE_SK_VA`, so stiff that it holds the voltage like pandapower's ideal slack.

A transformer (``net.trafo``) is not converted: :class:`NotImplementedError`; the AC check runs
pandapower for that case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandapower as pp
from power_grid_model import CalculationMethod, ComponentType, DatasetType, LoadGenType, PowerGridModel, initialize_array
from power_grid_model.errors import PowerGridBatchError

#: Short-circuit power of the slack source [VA]: its internal impedance at 0.4 kV is 1.6e-10 ohm,
#: a voltage error below 1e-9 pu at LV currents (power-grid-model's default, 1e10 VA, gives ~1e-5 pu).
SOURCE_SK_VA = 1e15

#: Newton-Raphson stop of power-grid-model: largest voltage change in an iteration [pu].
ERROR_TOLERANCE_PU = 1e-10


@dataclass(frozen=True)
class BatchResult:
    """Raw results of a batch, one row per (scenario, step) in C order; NaN rows did not converge."""

    u_pu: np.ndarray
    """(run, bus) voltage magnitude [pu]"""
    p_from_mw: np.ndarray
    """(run, line) active power entering each line at its from bus [MW]"""
    loss_mw: np.ndarray
    """(run, line) active losses of each line [MW]"""
    loading_pct: np.ndarray
    """(run, line) max(i_from, i_to) / (max_i_ka * df * parallel) [%]"""
    slack_mw: np.ndarray
    """(run,) active power from the slack [MW]"""
    converged: np.ndarray
    """(run,) bool"""


def _ids(net: pp.pandapowerNet) -> dict[str, np.ndarray]:
    """power-grid-model ids: nodes 0..N-1 (bus positions), then lines, loads, sources."""
    n_bus, n_line, n_load, n_src = len(net.bus), len(net.line), len(net.load), len(net.ext_grid)
    start = np.cumsum([0, n_bus, n_line, n_load, n_src])
    return {k: np.arange(start[i], start[i + 1]) for i, k in enumerate(["node", "line", "load", "source"])}


def pgm_input(net: pp.pandapowerNet) -> dict[ComponentType, np.ndarray]:
    """power-grid-model input data of ``net`` (loads at their ``p_mw`` / ``q_mvar``).

    Raises
    ------
    NotImplementedError
        If ``net`` has a transformer, or elements other than buses, lines, loads and ext_grids.
    """
    if len(net.trafo):
        raise NotImplementedError("power-grid-model backend: transformers are not converted; use the pandapower backend")
    other = [
        e
        for e in ("trafo3w", "gen", "sgen", "shunt", "switch", "impedance", "ward", "xward", "storage", "dcline")
        if e in net and len(net[e])
    ]
    if other:
        raise NotImplementedError(f"power-grid-model backend: no conversion of {', '.join(other)}")
    ids = _ids(net)
    bus_pos = {int(b): k for k, b in enumerate(net.bus.index)}

    node = initialize_array(DatasetType.input, ComponentType.node, len(net.bus))
    node["id"] = ids["node"]
    node["u_rated"] = net.bus["vn_kv"].to_numpy(dtype=float) * 1e3

    ln = net.line
    line = initialize_array(DatasetType.input, ComponentType.line, len(ln))
    length = ln["length_km"].to_numpy(dtype=float)
    par = ln["parallel"].to_numpy(dtype=float) if "parallel" in ln else np.ones(len(ln))
    df = ln["df"].to_numpy(dtype=float) if "df" in ln else np.ones(len(ln))
    c_f = ln["c_nf_per_km"].to_numpy(dtype=float) * 1e-9 * length * par
    g_s = (ln["g_us_per_km"].to_numpy(dtype=float) if "g_us_per_km" in ln else np.zeros(len(ln))) * 1e-6 * length * par
    if np.any((g_s > 0) & (c_f <= 0)):
        raise NotImplementedError("power-grid-model backend: a line with shunt conductance but no capacitance")
    omega = 2 * math.pi * float(net.f_hz)
    status = ln["in_service"].to_numpy(dtype=bool).astype(np.int8)
    line["id"] = ids["line"]
    line["from_node"] = [bus_pos[int(b)] for b in ln["from_bus"]]
    line["to_node"] = [bus_pos[int(b)] for b in ln["to_bus"]]
    line["from_status"] = status
    line["to_status"] = status
    line["r1"] = ln["r_ohm_per_km"].to_numpy(dtype=float) * length / par
    line["x1"] = ln["x_ohm_per_km"].to_numpy(dtype=float) * length / par
    line["c1"] = c_f
    line["tan1"] = np.divide(g_s, omega * c_f, out=np.zeros(len(ln)), where=c_f > 0)
    line["i_n"] = ln["max_i_ka"].to_numpy(dtype=float) * 1e3 * df * par

    ld = net.load
    load = initialize_array(DatasetType.input, ComponentType.sym_load, len(ld))
    load["id"] = ids["load"]
    load["node"] = [bus_pos[int(b)] for b in ld["bus"]]
    load["status"] = ld["in_service"].to_numpy(dtype=bool).astype(np.int8)
    load["type"] = LoadGenType.const_power
    scaling = ld["scaling"].to_numpy(dtype=float) if "scaling" in ld else np.ones(len(ld))
    load["p_specified"] = ld["p_mw"].to_numpy(dtype=float) * 1e6 * scaling
    load["q_specified"] = ld["q_mvar"].to_numpy(dtype=float) * 1e6 * scaling

    eg = net.ext_grid
    if np.any(np.abs(eg["va_degree"].to_numpy(dtype=float)) > 0):
        raise NotImplementedError("power-grid-model backend: ext_grid with a voltage angle")
    source = initialize_array(DatasetType.input, ComponentType.source, len(eg))
    source["id"] = ids["source"]
    source["node"] = [bus_pos[int(b)] for b in eg["bus"]]
    source["status"] = eg["in_service"].to_numpy(dtype=bool).astype(np.int8)
    source["u_ref"] = eg["vm_pu"].to_numpy(dtype=float)
    source["sk"] = SOURCE_SK_VA
    return {
        ComponentType.node: node,
        ComponentType.line: line,
        ComponentType.sym_load: load,
        ComponentType.source: source,
    }


def run_batch(
    net: pp.pandapowerNet,
    p_mw: np.ndarray,
    q_mvar: np.ndarray,
    *,
    max_iterations: int = 20,
    error_tolerance: float = ERROR_TOLERANCE_PU,
    threading: int = -1,
) -> BatchResult:
    """AC power flow of ``net`` for every column of the load powers, in one batch.

    Parameters
    ----------
    net : pandapowerNet
        Buses, lines, loads, ext_grid (see :func:`pgm_input`); its load powers are not used.
    p_mw, q_mvar : ndarray
        (load, ...) active [MW] and reactive [Mvar] power of each load of ``net`` (before
        ``scaling``); the trailing axes are flattened in C order into the batch.
    max_iterations : int
        Newton-Raphson iterations before a run counts as not converged.
    error_tolerance : float
        Newton-Raphson stop on the voltage change [pu].
    threading : int
        power-grid-model threading (-1 sequential, 0 all hardware threads, n threads).

    Returns
    -------
    BatchResult
    """
    n_load = len(net.load)
    P = np.asarray(p_mw, dtype=float).reshape(n_load, -1).T  # (run, load)
    Q = np.asarray(q_mvar, dtype=float).reshape(n_load, -1).T
    n_run = P.shape[0]
    model = PowerGridModel(pgm_input(net), system_frequency=float(net.f_hz))
    scaling = net.load["scaling"].to_numpy(dtype=float) if "scaling" in net.load else np.ones(n_load)
    upd = initialize_array(DatasetType.update, ComponentType.sym_load, (n_run, n_load))
    upd["id"] = _ids(net)["load"][None, :]
    upd["p_specified"] = P * 1e6 * scaling
    upd["q_specified"] = Q * 1e6 * scaling
    converged = np.ones(n_run, dtype=bool)
    try:
        out = model.calculate_power_flow(
            symmetric=True,
            calculation_method=CalculationMethod.newton_raphson,
            error_tolerance=error_tolerance,
            max_iterations=max_iterations,
            update_data={ComponentType.sym_load: upd},
            threading=threading,
            output_component_types={
                ComponentType.node: ["u_pu"],
                ComponentType.line: ["p_from", "p_to", "loading"],
                ComponentType.source: ["p"],
            },
            continue_on_batch_error=True,
        )
    except PowerGridBatchError as err:  # pragma: no cover - continue_on_batch_error reports, not raises
        raise RuntimeError(f"power-grid-model batch failed: {err}") from err
    if model.batch_error is not None:
        converged[np.asarray(model.batch_error.failed_scenarios, dtype=int)] = False
    bad = ~converged
    u = out[ComponentType.node]["u_pu"].astype(float)
    p_from = out[ComponentType.line]["p_from"].astype(float) / 1e6
    p_to = out[ComponentType.line]["p_to"].astype(float) / 1e6
    loading = out[ComponentType.line]["loading"].astype(float) * 100.0
    slack = out[ComponentType.source]["p"].astype(float).sum(axis=1) / 1e6
    for a in (u, p_from, p_to, loading):
        a[bad] = np.nan
    slack[bad] = np.nan
    return BatchResult(u, p_from, p_from + p_to, loading, slack, converged)
