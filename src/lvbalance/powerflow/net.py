"""The pandapower net of a case after a plan (MODEL.md §8).

* one bus per case node at ``params.powerflow.lv_kv``; the slack is an ``ext_grid`` at
  ``slack_vm_pu`` on the LV busbar (the transformer is not modelled), unless ``transformer``
  names a pandapower 20/0.4 kV (or 10/0.4 kV) std type: then the slack sits on an MV bus
  behind that transformer;
* every case line with its length; impedance from its ``std_type`` when pandapower knows it,
  else from ``r_ohm_per_km`` / ``x_ohm_per_km``, else from ``default_std_type``; ``max_i_ka``
  from ``rated_kw`` at ``lv_kv`` and cos phi = 1 (the convention of the case's ratings);
* the moves as in :func:`lvbalance.flows.rewire`: the line above each cut node out of
  service, a new line ``new:<cut node>`` from the target node to the cut node of the move's
  ``route_length_m``, the smallest of ``new_line_types`` whose ampacity covers the moved
  customers' peak power with ``sizing_margin`` (:func:`size_new_line`);
* one load per customer at its access node (pv negative), its power factor from
  ``power_factor`` by customer type in column ``cos_phi`` of ``net.load``.

In-service lines run from the node nearer the busbar to the node farther from it, so
``res_line.p_from_mw`` is the power entering each line at its sending end.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandapower as pp
import pandas as pd

from lvbalance.case import Case
from lvbalance.flows import NEW_LINE_PREFIX, rewire
from lvbalance.params import PowerFlowParams
from lvbalance.results import Move, Plan

#: Types pandapower 3 does not ship (data-sheet values of NAYY 0.6/1 kV, 4 cores, in ground).
EXTRA_STD_TYPES: dict[str, dict[str, float | str]] = {
    "NAYY 4x95 SE": {"r_ohm_per_km": 0.320, "x_ohm_per_km": 0.082, "c_nf_per_km": 250.0, "max_i_ka": 0.215, "type": "cs", "q_mm2": 95},
    "NAYY 4x240 SE": {"r_ohm_per_km": 0.125, "x_ohm_per_km": 0.080, "c_nf_per_km": 280.0, "max_i_ka": 0.364, "type": "cs", "q_mm2": 240},
}

_COLUMNS = ["name", "from_bus", "to_bus", "length_km", "r_ohm_per_km", "x_ohm_per_km", "c_nf_per_km", "max_i_ka", "std_type", "in_service"]


def kw_to_ka(p_kw: float | np.ndarray, *, v_kv: float, cos_phi: float = 1.0) -> float | np.ndarray:
    """Current [kA] of a three-phase power ``p_kw`` [kW] at line-to-line voltage ``v_kv`` [kV] and ``cos_phi`` [-]."""
    return np.asarray(p_kw) / (math.sqrt(3) * v_kv * cos_phi) / 1000.0


def line_types(net: pp.pandapowerNet) -> pd.DataFrame:
    """pandapower line std types known to ``net`` (index: type name; ``r_ohm_per_km``, ``max_i_ka``, ...)."""
    return pp.available_std_types(net, "line")


@functools.cache
def _empty_net_template() -> pp.pandapowerNet:
    net = pp.create_empty_network()
    _register_extra_types(net)
    return net


def empty_net(name: str = "") -> pp.pandapowerNet:
    """An empty pandapower net with the extra line types registered: a copy of one made once
    (``pp.create_empty_network`` takes ~0.2 s, most of an AC check of a whole day; a copy 0.02 s)."""
    net = copy.deepcopy(_empty_net_template())
    net.name = name
    return net


def _register_extra_types(net: pp.pandapowerNet) -> None:
    known = set(line_types(net).index)
    for name, data in EXTRA_STD_TYPES.items():
        if name not in known:
            pp.create_std_type(net, dict(data), name, element="line")


def _check_types(types: pd.DataFrame, params: PowerFlowParams) -> None:
    unknown = [t for t in [params.default_std_type, *params.new_line_types] if t not in types.index]
    if unknown:
        raise ValueError(f"params.powerflow names line types pandapower does not know: {', '.join(unknown)}")


def size_new_line(peak_kw: float, *, params: PowerFlowParams | None = None, net: pp.pandapowerNet | None = None) -> str:
    """Cable type of a new line carrying ``peak_kw`` [kW] at most.

    The first of ``params.new_line_types`` whose ``max_i_ka`` covers ``sizing_margin *
    |peak_kw|`` at ``sizing_cos_phi`` and ``lv_kv``; a peak beyond the largest type gets the
    last type (its loading then shows > 100 %). ``params``: default :class:`PowerFlowParams`
    defaults; ``net``: where to look the types up (default: a fresh net with
    :data:`EXTRA_STD_TYPES`).
    """
    params = params or PowerFlowParams()
    if net is None:
        net = empty_net()
    types = line_types(net)
    _check_types(types, params)
    need_ka = float(kw_to_ka(abs(peak_kw) * params.sizing_margin, v_kv=params.lv_kv, cos_phi=params.sizing_cos_phi))
    for name in params.new_line_types:
        if float(types.at[name, "max_i_ka"]) >= need_ka:
            return name
    return params.new_line_types[-1]


def move_peak_kw(moves: Sequence[Move], power_kw: np.ndarray, customers: Sequence[str]) -> dict[str, float]:
    """Peak |power| [kW] of each move's customers together, over all other axes of ``power_kw``.

    ``power_kw``: (customer, ...) [kW] in the order of ``customers``. Key: the move's cut node.
    """
    row = {c: k for k, c in enumerate(customers)}
    out = {}
    for mv in moves:
        rows = [row[c] for c in mv.customers if c in row]
        total = power_kw[rows].sum(axis=0) if rows else np.zeros(1)
        out[mv.cut_node] = float(np.abs(total).max())
    return out


def build_pandapower_net(
    case: Case,
    moves: Sequence[Move] | Plan = (),
    *,
    peak_kw: Mapping[str, float] | None = None,
    transformer: str | None = None,
) -> pp.pandapowerNet:
    """The case's LV network after ``moves`` as a pandapower net, loads at 0 MW.

    Buses are named by node id, lines by line id (new lines ``new:<cut node>``, as in
    :func:`lvbalance.flows.line_flows`), loads by customer id. Settings from
    ``case.params.powerflow``.

    Parameters
    ----------
    case : Case
        The network, its customers and ``params.powerflow``.
    moves : sequence of Move or Plan
        The plan's moves (default: none, the network as built).
    peak_kw : mapping of str to float, optional
        Peak power of each move's customers [kW] by cut node, to size its new line with
        :func:`size_new_line`. A move without one gets the type and rating of the line it replaces.
    transformer : str, optional
        A pandapower trafo std type (e.g. ``"0.63 MVA 20/0.4 kV"``) between an MV slack and
        the busbar; default None = slack on the LV busbar.

    Returns
    -------
    pandapowerNet
        Column ``cos_phi`` of ``net.load`` holds each customer's power factor [-].
    """
    params = case.params.powerflow
    moves = list(moves.moves if isinstance(moves, Plan) else moves)
    net = empty_net(case.name)
    types = line_types(net)
    _check_types(types, params)
    bus = _add_buses(net, case, params, transformer)
    rows = _existing_lines(case, moves, bus, types, params) + _new_lines(case, moves, bus, types, params, peak_kw, net)
    df = pd.DataFrame(rows, columns=_COLUMNS)
    pp.create_lines_from_parameters(
        net,
        df["from_bus"].to_numpy(),
        df["to_bus"].to_numpy(),
        df["length_km"].to_numpy(),
        df["r_ohm_per_km"].to_numpy(),
        df["x_ohm_per_km"].to_numpy(),
        df["c_nf_per_km"].to_numpy(),
        df["max_i_ka"].to_numpy(),
        name=df["name"].tolist(),
        in_service=df["in_service"].to_numpy(),
    )
    net.line["std_type"] = pd.Series([t or None for t in df["std_type"]], index=net.line.index, dtype=object)
    _add_loads(net, case, bus, params)
    return net


def _add_buses(net: pp.pandapowerNet, case: Case, params: PowerFlowParams, transformer: str | None) -> dict[str, int]:
    """One LV bus per node and the slack; node -> bus index."""
    nodes = list(case.network.nodes.index)
    bus_ids = pp.create_buses(net, len(nodes), vn_kv=params.lv_kv, name=nodes, type="b")
    bus = dict(zip(nodes, (int(b) for b in bus_ids)))
    busbar = case.network.busbar
    if transformer is None:
        pp.create_ext_grid(net, bus[busbar], vm_pu=params.slack_vm_pu, name="slack")
    else:
        hv_kv = float(pp.load_std_type(net, transformer, "trafo")["vn_hv_kv"])
        mv_bus = pp.create_bus(net, vn_kv=hv_kv, name="MV", type="b")
        pp.create_ext_grid(net, mv_bus, vm_pu=params.slack_vm_pu, name="slack")
        pp.create_transformer(net, mv_bus, bus[busbar], std_type=transformer, name="transformer")
    return bus


def _existing_lines(case: Case, moves: Sequence[Move], bus: Mapping[str, int], types: pd.DataFrame, params: PowerFlowParams) -> list[tuple]:
    """Rows of the case's lines, oriented away from the busbar; cut lines out of service.

    Impedance from the std type, else the case's r/x columns, else ``default_std_type``.
    """
    topo = rewire(case, moves)
    cut_lines = set(_cut_lines(case, moves))
    rows = []
    for line_id, r in case.network.lines.iterrows():
        a, b = str(r["from_node"]), str(r["to_node"])
        if topo.parent.get(a) == b:  # oriented child -> parent in the case: flip
            a, b = b, a
        std = str(r["std_type"]) if isinstance(r["std_type"], str) and r["std_type"] else ""
        if std in types.index:
            t = types.loc[std]
            rx = (float(t["r_ohm_per_km"]), float(t["x_ohm_per_km"]), float(t["c_nf_per_km"]))
        elif pd.notna(r["r_ohm_per_km"]) and pd.notna(r["x_ohm_per_km"]):
            rx = (float(r["r_ohm_per_km"]), float(r["x_ohm_per_km"]), 0.0)
            std = ""  # not a pandapower type: impedance from the case columns
        else:
            std = params.default_std_type
            t = types.loc[std]
            rx = (float(t["r_ohm_per_km"]), float(t["x_ohm_per_km"]), float(t["c_nf_per_km"]))
        rows.append(
            (
                str(line_id),
                bus[a],
                bus[b],
                float(r["length_m"]) / 1000.0,
                *rx,
                float(kw_to_ka(float(r["rated_kw"]), v_kv=params.lv_kv)),
                std,
                str(line_id) not in cut_lines,
            )
        )
    return rows


def _new_lines(
    case: Case,
    moves: Sequence[Move],
    bus: Mapping[str, int],
    types: pd.DataFrame,
    params: PowerFlowParams,
    peak_kw: Mapping[str, float] | None,
    net: pp.pandapowerNet,
) -> list[tuple]:
    """Rows of the moves' new lines: target node -> cut node, sized for the moved customers' peak."""
    lines = case.network.lines
    parent = case.network.parent
    rows = []
    for mv in moves:
        replaced = lines.loc[parent.at[mv.cut_node, "line_id"]]
        if peak_kw is not None and mv.cut_node in peak_kw:
            std = size_new_line(peak_kw[mv.cut_node], params=params, net=net)
            max_ka = float(types.at[std, "max_i_ka"])
        else:
            std = str(replaced["std_type"]) if replaced["std_type"] in types.index else params.default_std_type
            max_ka = float(kw_to_ka(float(replaced["rated_kw"]), v_kv=params.lv_kv))
        t = types.loc[std]
        length_km = max(float(mv.route_length_m), params.min_new_line_m) / 1000.0
        rows.append(
            (
                NEW_LINE_PREFIX + mv.cut_node,
                bus[mv.to_node],
                bus[mv.cut_node],
                length_km,
                float(t["r_ohm_per_km"]),
                float(t["x_ohm_per_km"]),
                float(t["c_nf_per_km"]),
                max_ka,
                std,
                True,
            )
        )
    return rows


def _add_loads(net: pp.pandapowerNet, case: Case, bus: Mapping[str, int], params: PowerFlowParams) -> None:
    """One load per customer at its access node, at 0 MW; its cos phi in column ``cos_phi``."""
    cust = case.customers
    cos_phi = np.array([float(params.power_factor.get(t, 1.0)) for t in cust["type"]])
    pp.create_loads(net, [bus[n] for n in cust["node_id"]], p_mw=0.0, q_mvar=0.0, name=list(cust.index))
    net.load["cos_phi"] = cos_phi


def _cut_lines(case: Case, moves: Sequence[Move]) -> list[str]:
    parent = case.network.parent
    return [str(parent.at[mv.cut_node, "line_id"]) for mv in moves]
