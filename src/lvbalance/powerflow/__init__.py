"""AC power-flow check of a plan with pandapower (MODEL.md §8).

* :mod:`lvbalance.powerflow.net` builds the pandapower net of a case after a plan (line
  types, impedances, cut lines, new lines sized for their load, optional transformer);
* :mod:`lvbalance.powerflow.ac` runs it for every scenario and step and summarises
  voltages, losses, loadings and the gap to the model's lossless flows;
* :mod:`lvbalance.powerflow.before_after` runs it for a planned method, before and after.

Settings: ``case.params.powerflow`` (:class:`lvbalance.params.PowerFlowParams`). The radial
lossless physics it compares against is :mod:`lvbalance.flows`.
"""

from __future__ import annotations

from lvbalance.powerflow.ac import AcCheckResult, ScenarioAc, ac_check
from lvbalance.powerflow.before_after import ac_before_after, method_power
from lvbalance.powerflow.net import EXTRA_STD_TYPES, build_pandapower_net, kw_to_ka, move_peak_kw, size_new_line

__all__ = [
    "EXTRA_STD_TYPES",
    "AcCheckResult",
    "ScenarioAc",
    "ac_before_after",
    "ac_check",
    "build_pandapower_net",
    "kw_to_ka",
    "method_power",
    "move_peak_kw",
    "size_new_line",
]
