"""``lvbalance.flows``: radial flows, load rates and imbalance counted on paper (Eq 14-15, 19-21).

The Fig 3 case (drawing in tests/fixtures.py)::

    B -l1- n1 -l2- n2 -l3- n3 -l4- n4 -l5- n5      F1: c4, c5 on n2; c3 on n4; c1, c2 on n5
                           n3 -l6- n6              c6 on n6
    B -l7- m1 -l8- m2                              F2: c7 on m1, c8 on m2
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lvbalance.coupling import move_options
from lvbalance.flows import (
    expected_imbalance_pct,
    feeder_imbalance_pct,
    feeder_loads,
    imbalance_pct,
    imbalance_table_pct,
    line_flows,
    load_rates,
    max_run,
    node_power,
    rewire,
)
from lvbalance.results import Move
from tests.fixtures import as_moves, fig3_case, with_line_ratings

CUSTOMERS = ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"]


def _move(cut: str, to: str, customers: list[str], end: str | None = None) -> Move:
    return Move(
        end_node=end or cut,
        cut_node=cut,
        to_node=to,
        customers=customers,
        from_feeder="",
        to_feeder="",
        route_length_m=0.0,
        cost=0.0,
        route=[],
    )


def _unit_power() -> np.ndarray:
    """(customer, 2): 1 kW each at index 0; at index 1 customer ck draws k kW."""
    return np.stack([np.ones(8), np.arange(1.0, 9.0)], axis=1)


def _flows(moves: list[Move]) -> dict[str, list[float]]:
    case = fig3_case()
    return {k: v.tolist() for k, v in line_flows(case, rewire(case, moves), _unit_power(), CUSTOMERS).items()}


def test_node_power_sums_customers_on_their_node() -> None:
    out = node_power(fig3_case(), _unit_power(), CUSTOMERS)
    assert {n: v.tolist() for n, v in out.items()} == {
        "n5": [2.0, 3.0],
        "n4": [1.0, 3.0],
        "n2": [2.0, 9.0],
        "n6": [1.0, 6.0],
        "m1": [1.0, 7.0],
        "m2": [1.0, 8.0],
    }


def test_line_flows_as_built() -> None:
    """Each line carries the customers below it: l1 c1..c6 (6 kW; 1+..+6 = 21 kW), l4 c1..c3, ..."""
    assert _flows([]) == {
        "l1": [6.0, 21.0],
        "l2": [6.0, 21.0],
        "l3": [4.0, 12.0],
        "l4": [3.0, 6.0],
        "l5": [2.0, 3.0],
        "l6": [1.0, 6.0],
        "l7": [2.0, 15.0],
        "l8": [1.0, 8.0],
    }


def test_rewire_with_an_option_moves_the_tail() -> None:
    """n5/3->m2: l4 (n3-n4) opens, new line m2-n4 carries c1, c2, c3; F1 loses them, F2 gains them."""
    case = fig3_case()
    options = move_options(case).loc[["n5/3->m2"]]
    topo = rewire(case, as_moves(options))
    assert topo.parent["n4"] == "m2" and topo.parent_line["n4"] == "new:n4"
    assert topo.parent["n5"] == "n4" and topo.parent_line["n5"] == "l5"
    assert {n: topo.feeder[n] for n in ("n4", "n5", "n3", "m2")} == {"n4": "F2", "n5": "F2", "n3": "F1", "m2": "F2"}
    assert topo.order.index("n5") < topo.order.index("n4") < topo.order.index("m2") < topo.order.index("m1")
    assert _flows(as_moves(options)) == {
        "l1": [3.0, 15.0],
        "l2": [3.0, 15.0],
        "l3": [1.0, 6.0],
        "new:n4": [3.0, 6.0],
        "l5": [2.0, 3.0],
        "l6": [1.0, 6.0],
        "l7": [5.0, 21.0],
        "l8": [4.0, 14.0],
    }


def test_rewire_with_a_hand_made_move() -> None:
    """c6 (n6) onto m1: l6 opens, new:n6 hangs on m1 and carries c6 only; l8 is untouched."""
    flows = _flows([_move("n6", "m1", ["c6"])])
    assert "l6" not in flows
    assert flows["new:n6"] == [1.0, 6.0]
    assert flows["l1"] == [5.0, 15.0] and flows["l3"] == [3.0, 6.0]
    assert flows["l7"] == [3.0, 21.0] and flows["l8"] == [1.0, 8.0]
    loads = feeder_loads(fig3_case(), line_flows(fig3_case(), rewire(fig3_case(), [_move("n6", "m1", ["c6"])]), _unit_power(), CUSTOMERS))
    assert {f: v.tolist() for f, v in loads.items()} == {"F1": [5.0, 15.0], "F2": [3.0, 21.0]}


def test_trailing_dimensions_are_kept() -> None:
    case = fig3_case()
    power = np.ones((8, 2, 3))
    power[:, 1, 2] = 2.0
    flows = line_flows(case, rewire(case, []), power, CUSTOMERS)
    assert flows["l1"].shape == (2, 3)
    np.testing.assert_array_equal(flows["l1"], [[6, 6, 6], [6, 6, 12]])


@pytest.mark.parametrize(
    "moves",
    [
        [_move("n5", "m2", ["c1", "c2"]), _move("m2", "n5", ["c8"])],  # each onto the other: n5 and m2 form an island
        [_move("n4", "n5", ["c1", "c2", "c3"], end="n5")],  # onto its own moving tail
    ],
    ids=["swap", "own_tail"],
)
def test_a_plan_that_is_not_radial_raises(moves: list[Move]) -> None:
    with pytest.raises(ValueError, match="radial"):
        rewire(fig3_case(), moves)


# --------------------------------------------------------------------------- load rate and imbalance


def test_load_rates_and_imbalance_two_feeders() -> None:
    """Eq 19 and 14 with F1 rated 150 kW, F2 (l7) 100 kW."""
    case = with_line_ratings(fig3_case(), {"l7": 100.0})
    loads = {"F2": np.array([10.0, 50.0, 0.0]), "F1": np.array([30.0, 15.0, -15.0])}
    rates = load_rates(case, loads)
    np.testing.assert_allclose(rates, [[0.2, 0.1, -0.1], [0.1, 0.5, 0.0]])  # F1 then F2
    np.testing.assert_allclose(imbalance_pct(rates), [10.0, 40.0, 10.0])
    np.testing.assert_allclose(feeder_imbalance_pct(case, loads), [10.0, 40.0, 10.0])


def test_imbalance_of_three_feeders_is_max_minus_min() -> None:
    rates = np.array([[0.2, 0.5], [0.1, 0.0], [0.4, 0.3]])
    np.testing.assert_allclose(imbalance_pct(rates), [30.0, 50.0])
    np.testing.assert_allclose(imbalance_pct(rates[:, :, None] * np.ones(4)), [[30.0] * 4, [50.0] * 4])


def test_expected_imbalance_eq15() -> None:
    imb = np.array([[10.0, 20.0, 30.0, 40.0], [0.0, 0.0, 0.0, 4.0]])
    assert expected_imbalance_pct(imb, np.array([0.7, 0.3])) == pytest.approx(0.7 * 25.0 + 0.3 * 1.0)


def test_imbalance_table_keeps_first_seen_order() -> None:
    table = pd.DataFrame(
        {
            "scenario": ["b", "b", "b", "b", "a", "a"],
            "step": [1, 1, 0, 0, 0, 0],
            "feeder": ["F1", "F2", "F1", "F2", "F2", "F1"],
            "load_rate": [0.5, 0.2, 0.1, 0.1, 0.3, -0.1],
        }
    )
    imb = imbalance_table_pct(table)
    assert list(imb.index) == [("b", 1), ("b", 0), ("a", 0)]
    np.testing.assert_allclose(imb.to_numpy(), [30.0, 0.0, 40.0])


# --------------------------------------------------------------------------- max_run


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([False, False, False], 0),
        ([True, True, True, True], 4),
        ([True, False, True, True], 2),
        ([[True, True, False, True, True, True, False], [False, True, True, True, True, False, False]], 4),
        ([[False, False, True, True], [True, True, False, False]], 2),  # runs do not join across rows
        ([[[True, False], [False, True]], [[True, True], [False, False]]], 2),  # (line, scenario, step)
        (np.ones((3, 5), dtype=bool), 5),
        (np.zeros((0, 5), dtype=bool), 0),
    ],
)
def test_max_run(flags, expected: int) -> None:
    assert max_run(np.asarray(flags)) == expected


def test_max_run_of_no_steps_is_zero() -> None:
    assert max_run(np.zeros((2, 0), dtype=bool)) == 0
