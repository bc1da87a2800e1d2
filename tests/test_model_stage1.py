"""``model.stage1``: the stage-1 rules (MODEL.md §4, Eq 4-5, 9-12) and the exact option reduction."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lvbalance.coupling import move_options
from lvbalance.model.build import build_model
from lvbalance.model.data import model_data
from lvbalance.model.methods import METHODS
from lvbalance.model.stage1 import undominated_options
from tests.fixtures import fig3_coarse, hand_scenarios


def _solve_forced(built, forced: list[str]) -> str:
    """Solve with ``u == 1`` for the ``forced`` options; the forcing is removed afterwards."""
    m = built.model
    assert set(forced) <= set(m.variables["u"].indexes["option"])
    names = []
    for k, o in enumerate(forced):
        names.append(f"force_{k}")
        m.add_constraints(m.variables["u"].sel(option=o) == 1, name=names[-1])
    _, condition = m.solve(solver_name="highs", io_api="direct", progress=False, output_flag=False)
    for n in names:
        m.remove_constraints(n)
    return condition


FORCED = [
    (["m2/1->n3"], True),
    (["m2/1->n3", "n6/1->m1"], True),  # two end nodes, target m1 stays put
    (["m2/1->n3", "m2/2->n1"], False),  # one move per end node (Eq 4, 9-12)
    (["n6/1->m2", "m2/1->n3"], False),  # target m2 moves with its own tail
    (["n6/1->m1", "m2/2->n1"], False),  # target m1 moves with m2's 2-customer tail
]


def test_stage1_rules_forced() -> None:
    """Forcing two moves of one end node, or a move onto a moving tail, is infeasible;
    a move beyond M_max (Eq 5) is infeasible."""
    case = fig3_coarse(planning={"max_moved_customers": 2})
    scen = hand_scenarios(case)
    options = move_options(case)
    union = list(dict.fromkeys(o for forced, _ in FORCED for o in forced))
    built = build_model(model_data(case, scen, options.loc[union]), METHODS["m1"])
    for forced, feasible in FORCED:
        condition = _solve_forced(built, forced)
        assert (condition == "optimal") is feasible, (forced, condition)
    built = build_model(model_data(case, scen, options.loc[["n5/2->m2", "n5/3->m2", *union]]), METHODS["m1"])
    assert _solve_forced(built, ["n5/2->m2"]) == "optimal"  # 2 customers
    assert _solve_forced(built, ["n5/3->m2"]) != "optimal"  # 3 customers > M_max = 2
    assert _solve_forced(built, ["n5/2->m2", "n6/1->m1"]) != "optimal"  # 3 customers in all


# --------------------------------------------------------------------------- undominated_options by hand

# end node a moves node a; end node b moves nodes z and t (so z and t are unsafe targets for a
# and c); end node c moves node c. Effect on two constrained lines: [1, 0] "onto line 1".
HAND_OPTIONS = [
    # id,       end, q, to,  moved,       cost, effect
    ("a/1->x", "a", 1, "x", ("a",), 10.0, (1, 0)),  # cheapest safe target of group (a, 1, [1, 0]): kept
    ("a/1->y", "a", 1, "y", ("a",), 20.0, (1, 0)),  # safe, dearer than x: dropped
    ("a/1->z", "a", 1, "z", ("a",), 5.0, (1, 0)),  # cheaper than x but z may move with b: kept
    ("a/1->t", "a", 1, "t", ("a",), 25.0, (1, 0)),  # may move with b and dearer than x: dropped
    ("a/1->w", "a", 1, "w", ("a",), 15.0, (0, 1)),  # other effect, alone in its group: kept
    ("a/2->x", "a", 2, "x", ("a", "a0"), 12.0, (1, 0)),  # other load combination: kept
    ("b/1->v", "b", 1, "v", ("z", "t"), 30.0, (0, 0)),  # cheapest safe of its group: kept
    ("b/1->u", "b", 1, "u", ("z", "t"), 40.0, (0, 0)),  # dropped
    ("c/1->z", "c", 1, "z", ("c",), 7.0, (0, 0)),  # no safe target in the group: both kept
    ("c/1->t", "c", 1, "t", ("c",), 9.0, (0, 0)),
]


def test_undominated_options_by_hand() -> None:
    options = pd.DataFrame([r[:6] for r in HAND_OPTIONS], columns=["option", "end_node", "q", "to_node", "moved_nodes", "cost"]).set_index(
        "option"
    )
    effect = np.array([r[6] for r in HAND_OPTIONS])
    kept = undominated_options(options, effect)
    assert list(kept.index) == ["a/1->x", "a/1->z", "a/1->w", "a/2->x", "b/1->v", "c/1->z", "c/1->t"]
    assert kept.columns.equals(options.columns)
    assert undominated_options(options.iloc[0:0], effect[:0]).empty


def test_undominated_options_on_fig3() -> None:
    """The reduction inside ``build_model`` on the Fig 3 options (listed in test_model_run.py).

    Only the feeder outlets are constrained, and every option of one end node and size moves
    its customers onto the same outlet: one group per (end node, size). Nodes that another
    end node may move: m2, m1 (end node m2), n5, n4 (n5), n6 (n6).

    * m2/1 (c8): safe targets n1 8800, n2 6800, n3 4800; the cheapest, n3, stays, and so does
      the unsafe n6 at 2400 (cheaper); n4 6800 and n5 8800 (unsafe, dearer) go;
    * m2/2: safe n1 and n3, both at 8800: the first, n1, stays, and the unsafe n6 at 6400;
    * n5/2, n5/3 and n6/1 only have unsafe targets (m2, m1 may move): all stay.
    """
    case = fig3_coarse()
    options = move_options(case)
    built = build_model(model_data(case, hand_scenarios(case), options), METHODS["m2"])
    assert built.constrained_lines == ["l1", "l7"]
    # in the order of the options (targets in the order of nodes.csv); of the tie, n1 comes first
    assert list(built.options.index) == ["m2/1->n3", "m2/1->n6", "m2/2->n1", "m2/2->n6", "n5/2->m2", "n5/3->m2", "n6/1->m1", "n6/1->m2"]
    assert len(build_model(model_data(case, hand_scenarios(case), options), METHODS["m2"], reduce_options=False).options) == 13


_KEPT_OPTIONS = """
from lvbalance.coupling import move_options
from lvbalance.model.build import build_model
from lvbalance.model.data import model_data
from lvbalance.model.methods import METHODS
from tests.fixtures import fig3_coarse, hand_scenarios
case = fig3_coarse()
built = build_model(model_data(case, hand_scenarios(case), move_options(case)), METHODS["m2"])
print(" ".join(built.options.index))
"""


@pytest.mark.slow
def test_kept_options_do_not_depend_on_the_hash_seed() -> None:
    """Regression: the options (and so the tie-break of the reduction, m2/2->n1 vs m2/2->n3, both
    8800) once followed the hash seed through a set in ``Network.feeder_of_node``."""
    root = Path(__file__).resolve().parents[1]
    kept = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}
        out = subprocess.run([sys.executable, "-c", _KEPT_OPTIONS], capture_output=True, text=True, env=env, cwd=root, check=True)
        kept.append(out.stdout.split())
    assert kept[0] == kept[1] == ["m2/1->n3", "m2/1->n6", "m2/2->n1", "m2/2->n6", "n5/2->m2", "n5/3->m2", "n6/1->m1", "n6/1->m2"]


@pytest.mark.parametrize(
    ("budget", "forced", "feasible"), [(5000.0, ["n6/1->m2"], True), (5000.0, ["n5/3->m2"], False), (6800.0, ["n5/3->m2"], True)]
)
def test_budget_limits_the_plan_cost(budget: float, forced: list[str], feasible: bool) -> None:
    """``planning.budget``: ``C_plan <= budget`` (n6/1->m2 costs 2400, n5/3->m2 6800, FIG3_OPTION_COST);
    a plan costing exactly the budget fits."""
    case = fig3_coarse(planning={"budget": budget})
    scen = hand_scenarios(case)
    options = move_options(case)
    built = build_model(model_data(case, scen, options.loc[["n6/1->m2", "n5/3->m2"]]), METHODS["m2"])
    assert "budget" in built.model.constraints
    assert (_solve_forced(built, forced) == "optimal") is feasible
