"""Evaluation that does not share the model's formulation (DESIGN.md, "evaluate").

* :mod:`~lvbalance.evaluate.metrics`: what a plan achieves, recomputed with
  :mod:`lvbalance.flows` (imbalance before and after, line loading, heavy-load runs);
* :mod:`~lvbalance.evaluate.recheck`: the independent re-check of written outputs.
"""

from lvbalance.evaluate.metrics import compute_metrics
from lvbalance.evaluate.recheck import CheckReport, check_outputs

__all__ = ["CheckReport", "check_outputs", "compute_metrics"]
